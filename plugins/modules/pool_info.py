#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pool_info
short_description: Read storage pools (libvirt) in the same normalized form the pool module uses
version_added: 0.1.0
description:
  - Lists the storage pools of a hypervisor, or the ones named, in the shape of
    M(converge.virt.pool)'s options, with their sizes and the volumes of each running pool.
  - Reads only; the connection is opened read-only. It does not rescan pools; use
    M(converge.virt.pool) with O(converge.virt.pool#module:refresh=true) for that.
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.INFO_ATTRIBUTES
options:
  name:
    description:
      - Only these pools. Names that do not exist are simply not returned.
    type: list
    elements: str
seealso:
  - module: converge.virt.pool
"""

EXAMPLES = r"""
- name: All pools of the local hypervisor
  converge.virt.pool_info:
  register: pools

- name: One pool, over ssh
  converge.virt.pool_info:
    uri: qemu+ssh://root@hv1.example.com/system
    name: images
  register: images

- name: Print the names of its volumes
  ansible.builtin.debug:
    msg: "{{ images.pools[0].volumes | map(attribute='name') | list }}"
"""

RETURN = r"""
pools:
  description: The pools, sorted by name, in the normalized shape of M(converge.virt.pool)'s options.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name.
      type: str
      sample: images
    uuid:
      description: UUID.
      type: str
    type:
      description: Pool type (V(dir), V(netfs), V(logical), or another type libvirt supports).
      type: str
      sample: dir
    path:
      description: Target path.
      type: str
    owner:
      description: Owner uid of the target, as libvirt reports it (for a running pool, as of its last start or refresh).
      type: int
    group:
      description: Group gid of the target, like RV(pools[].owner).
      type: int
    mode:
      description: Mode of the target as a 4-digit octal string.
      type: str
      sample: "0711"
    source:
      description: For netfs C(host), C(dir), C(format); for logical C(name) and C(devices); V(null) otherwise.
      type: dict
    active:
      description: Running.
      type: bool
    autostart:
      description: Starts with libvirtd.
      type: bool
    persistent:
      description: Has a persistent definition.
      type: bool
    capacity:
      description: Size of the underlying storage in bytes (V(null) while stopped).
      type: int
    allocation:
      description: Bytes used (V(null) while stopped).
      type: int
    available:
      description: Bytes free (V(null) while stopped).
      type: int
    volume_count:
      description: Number of volumes (V(null) while stopped).
      type: int
    volumes:
      description: The volumes of a running pool (empty while stopped), sorted by name.
      type: list
      elements: dict
      contains:
        name:
          description: Volume name.
          type: str
        path:
          description: Path of the volume on the hypervisor.
          type: str
        format:
          description: Format libvirt detected (V(raw), V(qcow2), ...).
          type: str
        capacity:
          description: Virtual size in bytes.
          type: int
        allocation:
          description: Bytes allocated on the storage.
          type: int
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_info_module

ARGUMENT_SPEC = dict(
    name=dict(type="list", elements="str"),
)


def main():
    run_info_module("pool", "pools", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
