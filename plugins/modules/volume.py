#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: volume
short_description: Converge a storage volume (libvirt) to its declared state
version_added: 0.1.0
description:
  - Creates, grows, or deletes a volume in a libvirt storage pool. A volume is created empty, as a
    B(linked clone) of an image (a qcow2 volume whose backing file is the image), as a B(full copy)
    of an image, or from a file uploaded once.
  - A volume only grows. Growing is B(live); while a running instance has the volume attached, it
    goes through the instance's block resize so the guest sees the new size at once. Shrinking is
    refused.
  - Every option below states how a change reaches an existing volume. V(live) means applied
    without interruption. V(create-only) means it is used when the volume is created; a different
    value for an existing volume fails with a message naming the field, unless O(recreate=true)
    allows deleting the volume and creating it again.
  - Options that are not set are left alone on an existing volume.
  - Names and paths are validated before anything changes; a volume or image name can never leave
    its pool's directory.
  - A run that changes nothing only reads.
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.ATTRIBUTES
options:
  name:
    description:
      - Name of the volume in its pool; for directory pools, the file name.
      - A plain file name; must not contain V(/) or V(\\), be V(.) or V(..), or start with V(.)
        (hidden names are reserved for partial transfers).
      - Identifies the volume; cannot be changed.
    type: str
    required: true
  pool:
    description:
      - Name of the storage pool holding the volume. The pool must exist and be running.
      - Identifies the volume; cannot be changed.
    type: str
    required: true
  state:
    description:
      - V(present) creates the volume or grows it; V(absent) deletes it.
      - Deleting a volume that a defined instance uses, or that other volumes use as their backing
        file, is refused unless O(force=true). A volume attached to a B(running) instance is never
        deleted (qemu keeps it open).
      - With V(absent), a missing volume or pool is not an error.
    type: str
    choices: [present, absent]
    default: present
  size:
    description:
      - Capacity (virtual size) of the volume. Bytes as an integer, or a number with a unit.
        V(K), V(M), V(G), V(T) and V(KiB) ... V(TiB) are powers of 1024 (as C(qemu-img) reads
        V(10G)); V(KB), V(MB), V(GB), V(TB) are powers of 1000.
      - Required to create an empty volume. For a clone or copy of O(image) it defaults to the
        image's capacity, and for O(content) to the file's virtual size; it must not be smaller.
      - qcow2 volumes hold whole 512-byte sectors, so the size is rounded up to a multiple of 512;
        the rounded size counts as the requested one (no change on the next run).
      - "Update: live (grow only). Growing a volume attached to a running instance goes through the
        instance's block resize, so the guest sees the new size; the file system inside is not
        grown. A smaller size than the current capacity is refused: shrinking would cut off data."
    type: str
  format:
    description:
      - Disk format of the volume.
      - When creating and not set, V(qcow2), or the format of the O(content) file.
      - A linked clone is always V(qcow2).
      - "Create-only."
    type: str
    choices: [qcow2, raw]
  image:
    description:
      - Name of the volume (image) to start from, in O(image_pool). A missing image is an error
        (naming the volumes that do exist), found before anything changes, also in check mode.
      - With O(linked=true) the volume is a linked clone whose backing file is the image; with
        O(linked=false) a full, independent copy of the image's data.
      - Not with O(content).
      - "Create-only (the backing file of an existing volume is compared; a full copy must have none)."
    type: str
  image_pool:
    description:
      - Pool of O(image). Defaults to O(pool).
      - "Create-only."
    type: str
  linked:
    description:
      - With O(image), V(true) makes a linked clone (copy-on-write, shares the image's data, needs
        the image to stay), V(false) a full copy.
      - Defaults to V(true).
      - "Create-only."
    type: bool
  content:
    description:
      - Path of a file on the host the task runs on, uploaded into the volume when it is created
        (streamed, never read whole). The file's bytes become the volume's bytes.
      - Its format is detected (qcow2 by its magic bytes, anything else is raw) and must match
        O(format); convert a raw file to qcow2 with C(qemu-img convert -O qcow2) first, or use
        O(format=raw). A qcow2 file with a backing file is refused.
      - Not with O(image).
      - "Create-only: a later, different file is not uploaded again (the module does not read the
        volume's data to compare it). Use O(recreate=true) with a changed O(format), or delete the
        volume, to upload again."
    type: path
  wipe:
    description:
      - When deleting (also for O(recreate)), overwrite the volume's data with zeros first
        (C(virStorageVolWipe)). Can take long for big volumes.
    type: bool
    default: false
  force:
    description:
      - Delete (or recreate) the volume even if defined but stopped instances use it as a disk, or
        other volumes use it as their backing file. Those instances then point at a missing disk and
        those volumes become unusable.
      - Never overrides the refusal for a volume attached to a running instance.
    type: bool
    default: false
  recreate:
    description:
      - Allow changes to create-only options (O(format), O(image), O(image_pool), O(linked)) by
        deleting the volume and creating it again. B(The volume's data is lost.)
      - Still refused while an instance uses the volume, unless O(force=true) (and never while it
        runs).
    type: bool
    default: false
notes:
  - The returned plan lists each change with its effect (V(live) or V(replace)).
  - Empty volumes are created sparse (allocation 0).
seealso:
  - module: converge.virt.volume_info
  - module: converge.virt.pool
  - module: converge.virt.image
"""

EXAMPLES = r"""
- name: An empty 20 GiB qcow2 data disk
  converge.virt.volume:
    name: db-data.qcow2
    pool: default
    size: 20G

- name: A linked clone of a base image, with a bigger disk than the image
  converge.virt.volume:
    name: web1.qcow2
    pool: default
    image: debian-12.qcow2
    image_pool: images
    size: 40G

- name: A full, independent copy of an image
  converge.virt.volume:
    name: web2.qcow2
    pool: default
    image: debian-12.qcow2
    linked: false

- name: A raw volume with initial content uploaded from a file on the host
  converge.virt.volume:
    name: seed.img
    pool: default
    format: raw
    content: /srv/seeds/web1.img

- name: Grow a disk, also while its instance runs
  converge.virt.volume:
    name: db-data.qcow2
    pool: default
    size: 30G

- name: Delete a volume, overwriting its data first
  converge.virt.volume:
    name: db-data.qcow2
    pool: default
    state: absent
    wipe: true
"""

RETURN = r"""
volume:
  description:
    - The volume after the run (predicted in check mode; C(allocation) and C(physical) are then
      unknown for a new volume).
    - Absent (V(null)) after a deletion.
  returned: always
  type: dict
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
      sample: /var/lib/libvirt/images/web1.qcow2
    key:
      description: libvirt's key of the volume (the path, for directory pools).
      type: str
    format:
      description: Disk format.
      type: str
      sample: qcow2
    capacity:
      description: Virtual size in bytes.
      type: int
      sample: 10737418240
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
      description: Backing files, nearest first, each with C(path) and C(format). Followed through
        the volumes libvirt knows; a backing file that is no known volume ends the chain.
      type: list
      elements: dict
    users:
      description: Defined instances that have the volume as a disk, each with C(instance),
        C(running) and C(target) (the disk's target device).
      type: list
      elements: dict
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
      description: What happens, in words (live resize through an instance, data loss on recreate).
      type: list
      elements: str
    replace:
      description: Whether the volume is deleted and created again (O(recreate=true)).
      type: bool
    resize:
      description: The growth, with C(capacity) and, when it goes through a running instance, its
        C(instance) and C(target); null when the volume does not grow.
      type: dict
    users:
      description: Instances using the volume, as in RV(volume.users).
      type: list
      elements: dict
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_resource_module

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    pool=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    size=dict(type="str"),
    format=dict(type="str", choices=["qcow2", "raw"]),
    image=dict(type="str"),
    image_pool=dict(type="str"),
    linked=dict(type="bool"),
    content=dict(type="path"),
    wipe=dict(type="bool", default=False),
    force=dict(type="bool", default=False),
    recreate=dict(type="bool", default=False),
)


def main():
    run_resource_module("volume", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
