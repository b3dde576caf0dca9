#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: network_info
short_description: Read virtual networks (libvirt or OpenStack Neutron) in the same normalized form the network module uses
version_added: 0.1.0
description:
  - Lists the networks of a hypervisor, or the ones named, with their configuration in the shape
    of M(converge.virt.network)'s options, plus the instances attached to each and the current
    DHCP leases.
  - Reads only; the connection is opened read-only.
  - B(OpenStack) (selected by O(cloud) or O(auth)) lists the Neutron networks the credentials can
    see (the project's own, shared and external ones), with their subnets, in the shape of
    M(converge.virt.network)'s OpenStack options. Routers are not listed.
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.INFO_ATTRIBUTES
options:
  name:
    description:
      - Only these networks. Names that do not exist are simply not returned.
      - On OpenStack, every visible network of each name (names are not unique there).
    type: list
    elements: str
seealso:
  - module: converge.virt.network
"""

EXAMPLES = r"""
- name: All networks of the local hypervisor
  converge.virt.network_info:
  register: nets

- name: One network, over ssh
  converge.virt.network_info:
    uri: qemu+ssh://root@hv1.example.com/system
    name: lab
  register: lab

- name: The Neutron networks the demo user can see
  converge.virt.network_info:
    cloud: demo
  register: os_nets

- name: Print its leases
  ansible.builtin.debug:
    var: lab.networks[0].dhcp_leases
"""

RETURN = r"""
networks:
  description: The networks, sorted by name, in the normalized shape of M(converge.virt.network)'s options.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name.
      type: str
    uuid:
      description: UUID.
      type: str
    forward:
      description: Forward mode (V(isolated) when the network has no forwarding).
      type: str
    bridge:
      description: Bridge name.
      type: str
    domain:
      description: DNS domain.
      type: str
    mtu:
      description: MTU, if set.
      type: int
    ipv4:
      description: IPv4 subnet, DHCP range and static hosts.
      type: dict
    ipv6:
      description: IPv6 subnet, DHCP range and static hosts.
      type: dict
    dns:
      description: DNS hosts and forwarders.
      type: dict
    autostart:
      description: Starts with libvirtd.
      type: bool
    active:
      description: Running.
      type: bool
    persistent:
      description: Has a persistent definition.
      type: bool
    attached_instances:
      description: Instances with an interface on the network.
      type: list
      elements: str
    dhcp_leases:
      description: Current DHCP leases (running networks only), each with C(mac), C(ip), C(prefix),
        C(hostname) and C(expires) (epoch seconds).
      type: list
      elements: dict
    id:
      description: B(OpenStack.) ID.
      type: str
    project_id:
      description: B(OpenStack.) Project owning the network.
      type: str
    status:
      description: B(OpenStack.) Status.
      type: str
    description:
      description: B(OpenStack.) Description.
      type: str
    port_security:
      description: B(OpenStack.) Port security default.
      type: bool
    shared:
      description: B(OpenStack.) Shared with every project.
      type: bool
    external:
      description: B(OpenStack.) External network (C(router:external)).
      type: bool
    tags:
      description: B(OpenStack.) User tags (without the owner tag C(converge-virt)).
      type: list
      elements: str
    managed:
      description: B(OpenStack.) Whether converge.virt created the network.
      type: bool
    subnets:
      description: B(OpenStack.) Subnets, each with C(id), C(name), C(cidr), C(ip_version), C(gateway)
        (V(none) without one), C(allocation_pools), C(dns_nameservers), C(host_routes) and C(enable_dhcp).
      type: list
      elements: dict
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_info_module

ARGUMENT_SPEC = dict(
    name=dict(type="list", elements="str"),
)


def main():
    run_info_module("network", "networks", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
