#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: volume_info
short_description: Read storage volumes (libvirt) in the same normalized form the volume module returns
version_added: 0.1.0
description:
  - Lists the volumes of one storage pool, or of every running pool, with their format, sizes,
    backing chain and the instances using them.
  - Reads only; the connection is opened read-only.
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.INFO_ATTRIBUTES
options:
  pool:
    description:
      - Only the volumes of this pool. A pool that does not exist is an error naming the pools
        that do.
      - When not set, the volumes of every running pool.
    type: str
  name:
    description:
      - Only these volumes. Names that do not exist are simply not returned.
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

- name: Show which instances use them
  ansible.builtin.debug:
    msg: "{{ vols.volumes | map(attribute='users') | list }}"
"""

RETURN = r"""
volumes:
  description: The volumes, sorted by pool and name.
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
      description: Defined instances with the volume as a disk, each with C(instance), C(running)
        and C(target).
      type: list
      elements: dict
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_info_module

ARGUMENT_SPEC = dict(
    pool=dict(type="str"),
    name=dict(type="list", elements="str"),
)


def main():
    run_info_module("volume", "volumes", ARGUMENT_SPEC, filters=("pool",))


if __name__ == "__main__":
    main()
