#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: volume
short_description: Converge a storage volume (libvirt, or OpenStack Cinder) to its declared state
version_added: 0.1.0
description:
  - Creates, grows, or deletes a volume in a libvirt storage pool. A volume is created empty, as a
    B(linked clone) of an image (a qcow2 volume whose backing file is the image), as a B(full copy)
    of an image, or from a file uploaded once.
  - On OpenStack (the O(cloud) or O(auth) option is set), converges a Block Storage (Cinder) volume
    of the project instead; it is created empty, from a Glance O(image) or from a volume O(snapshot); grown,
    retyped, described, tagged with metadata and marked bootable in place; deleted. Volumes the module
    creates carry the metadata key C(converge_virt_managed=true), which is never shown in
    RV(volume.metadata) nor compared (RV(volume.managed) tells it).
  - A volume only grows. Growing is B(live); while a running instance has the volume attached, it
    goes through the instance's block resize so the guest sees the new size at once (on OpenStack,
    Cinder extends an attached volume and tells Nova, with Block Storage API microversion 3.42 or
    later). Shrinking is refused.
  - Attaching a volume to an instance and detaching it are done through the instance's disks
    (M(converge.virt.instance)); RV(volume.attachments) (OpenStack) and RV(volume.users) (libvirt)
    show where a volume is attached.
  - Every option below states how a change reaches an existing volume. V(live) means applied
    without interruption. V(create-only) means it is used when the volume is created; a different
    value for an existing volume fails with a message naming the field, unless O(recreate=true)
    allows deleting the volume and creating it again.
  - Options that are not set are left alone on an existing volume.
  - Names and paths are validated before anything changes; a volume or image name can never leave
    its pool's directory. On OpenStack the image, snapshot and volume type are looked up (by ID or by
    name) before anything changes; a name matching two of them is an error, never a guess.
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
      - On OpenStack, the name of the Cinder volume within the project, or the ID of an existing one.
        Two volumes with this name are an error (use the ID).
      - Identifies the volume; cannot be changed.
    type: str
    required: true
  pool:
    description:
      - B(libvirt only.) Name of the storage pool holding the volume. The pool must exist and be
        running. Required with libvirt.
      - Identifies the volume; cannot be changed.
    type: str
  state:
    description:
      - V(present) creates the volume or updates it; V(absent) deletes it.
      - Deleting a volume that a defined instance uses, or that other volumes use as their backing
        file, is refused unless O(force=true). A volume attached to a B(running) instance is never
        deleted (qemu keeps it open).
      - On OpenStack, deleting an attached (C(in-use)) volume is always refused (detach it through the
        instance's disks first). A volume with snapshots is deleted only with O(delete_snapshots=true).
      - With V(absent), a missing volume or pool is not an error.
    type: str
    choices: [present, absent]
    default: present
  size:
    description:
      - Capacity (virtual size) of the volume. Bytes as an integer, or a number with a unit.
        V(K), V(M), V(G), V(T) and V(KiB) ... V(TiB) are powers of 1024 (as C(qemu-img) reads
        V(10G)); V(KB), V(MB), V(GB), V(TB) are powers of 1000.
      - On OpenStack, Cinder sizes are whole GiB, so the size is B(rounded up) to the next whole GiB
        (V(1500M) gives 2 GiB); the plan notes the rounding, and the rounded size counts as the
        requested one (no change on the next run). Required to create an empty volume; from an
        O(image) or O(snapshot) it defaults to the size of the source, and must not be smaller.
      - Required to create an empty volume. For a clone or copy of O(image) it defaults to the
        image's capacity, and for O(content) to the file's virtual size; it must not be smaller.
      - qcow2 volumes hold whole 512-byte sectors, so the size is rounded up to a multiple of 512;
        the rounded size counts as the requested one (no change on the next run).
      - "Update: live (grow only). Growing a volume attached to a running instance goes through the
        instance's block resize, so the guest sees the new size; the file system inside is not
        grown. A smaller size than the current capacity is refused: shrinking would cut off data."
      - "Update on OpenStack: live (grow only), by Cinder's extend; the volume keeps its ID and data.
        An attached volume is extended only when the cloud offers Block Storage API microversion 3.42
        or later (otherwise the task fails before changing anything and says to detach it first).
        Shrinking is refused: Cinder has no shrink."
    type: str
  format:
    description:
      - B(libvirt only.) Disk format of the volume.
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
      - On OpenStack, the Glance image (ID or name) the volume is created from; Cinder marks such a
        volume bootable. A missing image fails before anything changes. Not with O(snapshot).
      - "Create-only on OpenStack too: the image an existing volume was made from is compared; a
        different one needs O(recreate=true)."
    type: str
  image_pool:
    description:
      - B(libvirt only.) Pool of O(image). Defaults to O(pool).
      - "Create-only."
    type: str
  linked:
    description:
      - B(libvirt only.) With O(image), V(true) makes a linked clone (copy-on-write, shares the image's data, needs
        the image to stay), V(false) a full copy.
      - Defaults to V(true).
      - "Create-only."
    type: bool
  content:
    description:
      - B(libvirt only.) Path of a file on the host the task runs on, uploaded into the volume when it is created
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
      - B(libvirt only.) When deleting (also for O(recreate)), overwrite the volume's data with zeros first
        (C(virStorageVolWipe)). Can take long for big volumes.
    type: bool
    default: false
  force:
    description:
      - B(libvirt only.) Delete (or recreate) the volume even if defined but stopped instances use it as a disk, or
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
      - On OpenStack the create-only options are O(image), O(snapshot) and O(availability_zone).
        What the spec leaves unset is carried over to the new volume (size, type, description,
        metadata, bootable, and its image or snapshot). Refused while the volume is attached, and
        while it has snapshots unless O(delete_snapshots=true).
    type: bool
    default: false
  volume_type:
    description:
      - B(OpenStack only.) The Cinder volume type (ID or name). An unknown type fails before anything
        changes. When creating and not set, the cloud's default type.
      - "Update: live, by a Cinder retype: the volume keeps its ID, data and attachments. Whether
        the data moves is O(migration_policy)'s choice."
    type: str
  migration_policy:
    description:
      - B(OpenStack only.) Whether Cinder may migrate the volume's data to another backend to retype it.
      - V(never) fails the retype when the volume's backend cannot change the type in place (the volume
        is then unchanged, and the task says so); V(on-demand) lets Cinder copy the data, which takes
        time (and, for an attached volume, a swap of the instance's disk by Nova).
      - Used only when O(volume_type) changes.
    type: str
    choices: [never, on-demand]
    default: never
  description:
    description:
      - B(OpenStack only.) Free text describing the volume. V('') clears it.
      - "Update: live."
    type: str
  metadata:
    description:
      - B(OpenStack only.) Key/value metadata of the volume, the complete set (keys the volume has
        and this does not are removed); V({}) removes them all. Values are stored as strings
        (V(true)/V(false) for booleans).
      - The key C(converge_virt_managed) is reserved (the collection marks its volumes with it) and
        is kept on every update.
      - "Update: live."
    type: dict
  snapshot:
    description:
      - B(OpenStack only.) The volume snapshot (ID or name, see M(converge.virt.volume_snapshot)) the
        volume is created from. A missing snapshot fails before anything changes. Not with O(image).
      - "Create-only: a different snapshot needs O(recreate=true)."
    type: str
  bootable:
    description:
      - B(OpenStack only.) Whether the volume is marked bootable (an instance can boot from it).
      - When creating and not set, Cinder decides (volumes made from an image are bootable).
      - "Update: live."
    type: bool
  availability_zone:
    description:
      - B(OpenStack only.) The Cinder availability zone to create the volume in. When creating and not
        set, the cloud's default zone.
      - "Create-only: a different zone needs O(recreate=true)."
    type: str
  delete_snapshots:
    description:
      - B(OpenStack only.) With O(state=absent) (or O(recreate=true)), also delete the volume's
        snapshots (Cinder's cascade). Without it a volume with snapshots is not deleted, and the task
        names the snapshots.
    type: bool
    default: false
  wait_timeout:
    description:
      - B(OpenStack only.) Seconds each wait may take (for the volume to become available after it is
        created, for an extend, a retype and a deletion to finish); each wait has the whole time.
      - On timeout the task fails naming the volume's last status.
    type: int
    default: 300
notes:
  - The returned plan lists each change with its effect (V(live) or V(replace)).
  - Empty volumes are created sparse (allocation 0).
  - On OpenStack, a create or delete answered with 409 or 5xx is retried with backoff; a volume that
    ends up in an C(error) status after its creation is deleted again (it is of no use), and the task
    fails naming the status.
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

- name: OpenStack - a 20 GiB Cinder volume of type fast-ssd, with metadata
  converge.virt.volume:
    cloud: mycloud
    name: db-data
    size: 20G
    volume_type: fast-ssd
    description: database files
    metadata:
      team: db

- name: OpenStack - a bootable volume made from a Glance image
  converge.virt.volume:
    cloud: mycloud
    name: web1-root
    image: debian-12
    size: 10G

- name: OpenStack - grow it in place, also while attached
  converge.virt.volume:
    cloud: mycloud
    name: db-data
    size: 40G

- name: OpenStack - a new volume from a snapshot
  converge.virt.volume:
    cloud: mycloud
    name: db-data-copy
    snapshot: db-data-before-upgrade

- name: OpenStack - delete a volume and its snapshots
  converge.virt.volume:
    cloud: mycloud
    name: db-data
    state: absent
    delete_snapshots: true
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
      description: B(libvirt.) Defined instances that have the volume as a disk, each with C(instance),
        C(running) and C(target) (the disk's target device).
      type: list
      elements: dict
    id:
      description: B(OpenStack.) The Cinder volume's ID (null in check mode before it exists).
      type: str
    status:
      description: B(OpenStack.) Cinder's status (V(available), V(in-use), ...).
      type: str
      sample: available
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
        C(attachment_id) and C(host_name), sorted by server.
      type: list
      elements: dict
    managed:
      description: B(OpenStack.) Whether the collection created the volume (it carries the metadata
        key C(converge_virt_managed=true)).
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
      description: What happens, in words (live resize through an instance, data loss on recreate).
      type: list
      elements: str
    replace:
      description: Whether the volume is deleted and created again (O(recreate=true)).
      type: bool
    resize:
      description: B(libvirt.) The growth, with C(capacity) and, when it goes through a running instance, its
        C(instance) and C(target); null when the volume does not grow.
      type: dict
    users:
      description: B(libvirt.) Instances using the volume, as in RV(volume.users).
      type: list
      elements: dict
    extend:
      description: B(OpenStack.) The growth, with C(from) and C(to) in bytes; null when the volume does
        not grow.
      type: dict
    retype:
      description: B(OpenStack.) The retype, with C(from), C(to) and C(migration_policy); null when the
        type does not change.
      type: dict
    attachments:
      description: B(OpenStack.) Where the volume is attached, as in RV(volume.attachments).
      type: list
      elements: dict
progress:
  description: B(OpenStack.) The statuses the volume went through while the module waited.
  returned: when the volume was changed on OpenStack
  type: list
  elements: str
  sample: ["volume db-data: creating", "volume db-data: available"]
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_resource_module
from ansible_collections.converge.virt.plugins.module_utils.specs.volume import (
    ARGUMENT_SPEC,
    BACKEND_OPTIONS,
    MODULE_KWARGS,
)


def main():
    run_resource_module("volume", ARGUMENT_SPEC, backend_options=BACKEND_OPTIONS, **MODULE_KWARGS)


if __name__ == "__main__":
    main()
