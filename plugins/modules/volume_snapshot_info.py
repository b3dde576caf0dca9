#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: volume_snapshot_info
short_description: Read Block Storage (Cinder) volume snapshots (OpenStack) in the form the volume_snapshot module returns
version_added: 0.1.0
description:
  - B(OpenStack only.) Lists the volume snapshots of the project (all, those named by O(name), or
    those of one O(volume)).
  - Reads only.
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.INFO_ATTRIBUTES
options:
  name:
    description:
      - Only these snapshots (names or IDs). Names that do not exist are simply not returned; every
        snapshot with one of these names is returned (also when two share a name).
    type: list
    elements: str
  volume:
    description:
      - Only the snapshots of this volume (ID or name). A missing volume, or a name matching two
        volumes, is an error.
    type: str
seealso:
  - module: converge.virt.volume_snapshot
"""

EXAMPLES = r"""
- name: The snapshots of one volume
  converge.virt.volume_snapshot_info:
    cloud: mycloud
    volume: db-data
  register: snaps
"""

RETURN = r"""
volume_snapshots:
  description: The snapshots, sorted by name, then ID.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The snapshot's ID.
      type: str
    name:
      description: Name.
      type: str
    status:
      description: Cinder's status.
      type: str
    volume:
      description: ID of the volume the snapshot was taken of.
      type: str
    capacity:
      description: Size in bytes.
      type: int
    description:
      description: Description (an empty string when none).
      type: str
    metadata:
      description: The user's metadata (without the collection's C(converge_virt_managed) key).
      type: dict
    managed:
      description: Whether the collection took the snapshot.
      type: bool
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_info_module

ARGUMENT_SPEC = dict(
    name=dict(type="list", elements="str"),
    volume=dict(type="str"),
)


def main():
    run_info_module("volume_snapshot", "volume_snapshots", ARGUMENT_SPEC, filters=("volume",))


if __name__ == "__main__":
    main()
