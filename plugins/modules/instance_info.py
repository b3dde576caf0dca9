#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: instance_info
short_description: Read virtual machines (libvirt domains, or OpenStack Nova servers) in the same form the instance module returns
version_added: 0.1.0
description:
  - Lists instances with their power state, vCPUs, memory, disks, CD-ROM, NICs, and for running
    instances their IP addresses (DHCP leases of libvirt networks, and the guest agent when it is
    connected).
  - Reads only; the connection is opened read-only.
  - On OpenStack (O(cloud) or O(auth) set), lists the Nova servers of the project with their status,
    flavor, image, NICs (ports, MACs, IPs), addresses, volumes, security groups, metadata and tags,
    from one detailed server list and one list each of ports, networks, security groups, volumes and
    images (not one read per server).
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.INFO_ATTRIBUTES
options:
  name:
    description:
      - Only these instances. Names that do not exist are simply not returned.
      - On OpenStack, names or IDs of servers; every server with a listed name is returned.
    type: list
    elements: str
seealso:
  - module: converge.virt.instance
"""

EXAMPLES = r"""
- name: Every instance of the host
  converge.virt.instance_info:
  register: all_instances

- name: The addresses of two instances
  converge.virt.instance_info:
    name: [web1, web2]
  register: found

- name: The servers of an OpenStack project
  converge.virt.instance_info:
    cloud: mycloud
  register: servers

- name: Show them
  ansible.builtin.debug:
    msg: "{{ found.instances | items2dict(key_name='name', value_name='ips') }}"
"""

RETURN = r"""
instances:
  description:
    - The instances, sorted by name, each as RV(converge.virt.instance#module:instance) describes
      it (C(name), C(uuid), C(state), C(vcpus), C(memory), C(disks), C(nics), C(interfaces),
      C(ips), C(console_log), C(pending)...).
    - On OpenStack, sorted by name then ID, each with C(name), C(id), C(status), C(state), C(flavor),
      C(vcpus), C(memory), C(image), C(key_name), C(availability_zone), C(security_groups),
      C(metadata), C(tags), C(nics), C(addresses), C(disks), C(cloud_init) (masked) and C(managed).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_info_module

ARGUMENT_SPEC = dict(
    name=dict(type="list", elements="str"),
)


def main():
    run_info_module("instance", "instances", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
