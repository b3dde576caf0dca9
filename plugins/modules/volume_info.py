#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: volume_info
short_description: Read storage volumes (libvirt, or OpenStack Cinder) in the same normalized form the volume module returns
version_added: 0.1.0
description:
  - Lists the volumes of one storage pool, or of every running pool, with their format, sizes,
    backing chain and the instances using them.
  - On OpenStack (the O(cloud) or O(auth) option is set), lists the Cinder volumes of the project
    (all, or those named by O(name)) with their size, type, status, metadata and attachments.
  - Reads only; the connection is opened read-only.
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.INFO_ATTRIBUTES
options:
  pool:
    description:
      - B(libvirt only.) Only the volumes of this pool. A pool that does not exist is an error naming the pools
        that do.
      - When not set, the volumes of every running pool.
    type: str
  name:
    description:
      - Only these volumes. Names that do not exist are simply not returned.
      - On OpenStack, names or IDs; every volume with one of these names is returned (also when two
        share a name).
    type: list
    elements: str
seealso:
  - module: converge.virt.volume
"""

EXAMPLES = r"""
- name: Every volume of every running pool
  converge.virt.volume_info:
  register: all_volumes

- name: Two volumes of one pool
  converge.virt.volume_info:
    pool: default
    name: [web1.qcow2, db-data.qcow2]
  register: vols

- name: OpenStack - every Cinder volume of the project
  converge.virt.volume_info:
    cloud: mycloud
  register: cinder_volumes

- name: Show which instances use them
  ansible.builtin.debug:
    msg: "{{ vols.volumes | map(attribute='users') | list }}"
"""

RETURN = r"""
volumes:
  description: The volumes, sorted by pool and name (on OpenStack by name, then ID).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name.
      type: str
      sample: web1.qcow2
    pool:
      description: Pool.
      type: str
      sample: default
    path:
      description: Path of the volume on the hypervisor.
      type: str
    key:
      description: libvirt's key of the volume.
      type: str
    format:
      description: Disk format (V(qcow2), V(raw), ...).
      type: str
    capacity:
      description: Virtual size in bytes.
      type: int
    allocation:
      description: Bytes allocated on the host.
      type: int
    physical:
      description: Size of the file in bytes, when known.
      type: int
    backing:
      description: The immediate backing file (C(path), C(format)), or null.
      type: dict
    backing_chain:
      description: Backing files, nearest first, each with C(path) and C(format).
      type: list
      elements: dict
    users:
      description: B(libvirt.) Defined instances with the volume as a disk, each with C(instance),
        C(running) and C(target).
      type: list
      elements: dict
    id:
      description: B(OpenStack.) The Cinder volume's ID.
      type: str
    status:
      description: B(OpenStack.) Cinder's status (V(available), V(in-use), ...).
      type: str
    volume_type:
      description: B(OpenStack.) Name of the volume type.
      type: str
    description:
      description: B(OpenStack.) Description (an empty string when none).
      type: str
    metadata:
      description: B(OpenStack.) The user's metadata (without the collection's C(converge_virt_managed) key).
      type: dict
    bootable:
      description: B(OpenStack.) Whether the volume is marked bootable.
      type: bool
    image:
      description: B(OpenStack.) ID of the Glance image the volume was made from, or null.
      type: str
    snapshot:
      description: B(OpenStack.) ID of the volume snapshot the volume was made from, or null.
      type: str
    availability_zone:
      description: B(OpenStack.) Availability zone.
      type: str
    multiattach:
      description: B(OpenStack.) Whether the volume can be attached to several instances.
      type: bool
    encrypted:
      description: B(OpenStack.) Whether the volume is encrypted.
      type: bool
    attachments:
      description: B(OpenStack.) Where the volume is attached, each with C(server_id), C(device),
        C(attachment_id) and C(host_name).
      type: list
      elements: dict
    managed:
      description: B(OpenStack.) Whether the collection created the volume.
      type: bool
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_info_module

ARGUMENT_SPEC = dict(
    pool=dict(type="str"),
    name=dict(type="list", elements="str"),
)


BACKEND_OPTIONS = {"libvirt": {"only": ["pool"]}}


def main():
    run_info_module("volume", "volumes", ARGUMENT_SPEC, filters=("pool",), backend_options=BACKEND_OPTIONS)


if __name__ == "__main__":
    main()
