#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: volume_snapshot
short_description: Converge a Block Storage (Cinder) volume snapshot (OpenStack) to its declared state
version_added: 0.1.0
description:
  - B(OpenStack only.) Takes, describes or deletes a snapshot of a Cinder volume of the project. A new
    volume is made from a snapshot with the O(converge.virt.volume#module:snapshot) option of
    M(converge.virt.volume).
  - Every option below states how a change reaches an existing snapshot. V(live) means applied in
    place. V(create-only) means it is used when the snapshot is taken; a different value for an
    existing snapshot fails with a message naming the field, unless O(recreate=true) allows
    deleting the snapshot and taking a new one.
  - Options that are not set are left alone on an existing snapshot.
  - Snapshots the module takes carry the metadata key C(converge_virt_managed=true), which is never
    shown in RV(volume_snapshot.metadata) nor compared (RV(volume_snapshot.managed) tells it).
  - A run that changes nothing only reads.
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.ATTRIBUTES
options:
  name:
    description:
      - Name of the snapshot within the project, or the ID of an existing one. Two snapshots with this
        name are an error (use the ID).
      - Identifies the snapshot; cannot be changed.
    type: str
    required: true
  volume:
    description:
      - The volume (ID or name) to take the snapshot of. Required to take it. A missing volume, or a
        name matching two volumes, fails before anything changes.
      - "Create-only: the volume an existing snapshot was taken of is compared; another one needs
        O(recreate=true)."
    type: str
  state:
    description:
      - V(present) takes the snapshot or updates it; V(absent) deletes it. With V(absent), a missing
        snapshot is not an error.
    type: str
    choices: [present, absent]
    default: present
  description:
    description:
      - Free text describing the snapshot. V('') clears it.
      - "Update: live."
    type: str
  metadata:
    description:
      - Key/value metadata of the snapshot, the complete set (keys the snapshot has and this does not
        are removed); V({}) removes them all. Values are stored as strings.
      - The key C(converge_virt_managed) is reserved.
      - "Update: live."
    type: dict
  force:
    description:
      - Take the snapshot even though the volume is attached to an instance (C(in-use)). Such a
        snapshot holds what the guest had written to disk at that moment, as after a power loss;
        without O(force=true) taking it is refused.
      - Used only when the snapshot is taken.
    type: bool
    default: false
  recreate:
    description:
      - Allow a change of O(volume) by deleting the snapshot and taking a new one of the other volume.
        B(The old snapshot's data is lost.)
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds each wait may take (the snapshot becoming available, its deletion). On timeout the task
        fails naming the last status.
    type: int
    default: 300
notes:
  - The returned plan lists each change with its effect (V(live) or V(replace)).
  - The libvirt backend has no snapshots of this kind; with it the module fails saying so.
seealso:
  - module: converge.virt.volume
"""

EXAMPLES = r"""
- name: Snapshot a volume before an upgrade
  converge.virt.volume_snapshot:
    cloud: mycloud
    name: db-data-before-upgrade
    volume: db-data
    description: before the 2.0 upgrade
    metadata:
      reason: upgrade

- name: Snapshot a volume that an instance has attached
  converge.virt.volume_snapshot:
    cloud: mycloud
    name: web1-root-now
    volume: web1-root
    force: true

- name: Delete the snapshot
  converge.virt.volume_snapshot:
    cloud: mycloud
    name: db-data-before-upgrade
    state: absent
"""

RETURN = r"""
volume_snapshot:
  description:
    - The snapshot after the run (predicted in check mode). Absent (V(null)) after a deletion.
  returned: always
  type: dict
  contains:
    id:
      description: The snapshot's ID (null in check mode before it exists).
      type: str
    name:
      description: Name.
      type: str
      sample: db-data-before-upgrade
    status:
      description: Cinder's status (V(available), ...).
      type: str
      sample: available
    volume:
      description: ID of the volume the snapshot was taken of.
      type: str
    capacity:
      description: Size of the volume it was taken of, in bytes.
      type: int
      sample: 1073741824
    description:
      description: Description (an empty string when none).
      type: str
    metadata:
      description: The user's metadata (without the collection's C(converge_virt_managed) key).
      type: dict
    managed:
      description: Whether the collection took the snapshot.
      type: bool
plan:
  description: What the run does (or would do in check mode), field by field.
  returned: always
  type: dict
  contains:
    action:
      description: V(create), V(update), V(delete) or V(none).
      type: str
    changes:
      description: Field-level changes, each with C(path), C(op), C(before), C(after) and C(effect).
      type: list
      elements: dict
    notes:
      description: What happens, in words.
      type: list
      elements: str
    replace:
      description: Whether the snapshot is deleted and taken again (O(recreate=true)).
      type: bool
progress:
  description: The statuses the snapshot went through while the module waited.
  returned: when the snapshot was changed
  type: list
  elements: str
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_resource_module
from ansible_collections.converge.virt.plugins.module_utils.specs.volume_snapshot import (
    ARGUMENT_SPEC,
    BACKEND_OPTIONS,
    MODULE_KWARGS,
)


def main():
    run_resource_module("volume_snapshot", ARGUMENT_SPEC, backend_options=BACKEND_OPTIONS, **MODULE_KWARGS)


if __name__ == "__main__":
    main()
