#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pool
short_description: Converge a storage pool (libvirt) to its declared state
version_added: 0.1.0
description:
  - Creates, updates in place, or deletes a libvirt storage pool so that it matches the options given.
  - Directory pools (V(dir)) are managed fully, including the directory itself (its creation,
    owner, group and mode). Network file system pools (V(netfs)) and LVM volume groups
    (V(logical)) are described by the same options.
  - Every option below states how a change reaches an existing pool. V(live) means applied
    without stopping the pool; V(restart) means the pool is stopped and started again;
    V(create-only) means the pool must be undefined and defined again, which is refused unless
    O(recreate=true).
  - Options that are not set are left alone on an existing pool.
  - Everything is validated before anything changes, including the host's other pools (no two
    pools share a target path or a volume group) and, on a local hypervisor, what exists at
    the target path.
  - A transient pool (created with C(virsh pool-create)) of the same name is adopted, that is
    given a persistent definition.
  - Files are never deleted. Deleting a pool stops and undefines it; its directory is removed
    only when it is empty and this collection created it (see O(state)).
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.ATTRIBUTES
options:
  name:
    description:
      - Name of the pool. It identifies the pool and cannot be changed.
      - Must not contain V(/) or control characters.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the pool, V(absent) deletes it.
      - Deleting stops and undefines the pool. It is refused while the pool holds volumes, and
        while it is stopped on a remote hypervisor (its volumes cannot be listed then), unless
        O(force=true).
      - The files in the pool are never deleted, even with O(force=true). The pool's directory
        (or netfs mount point) is removed only when it is empty and converge.virt created it
        (when building a directory that did not exist, the module marks it with the extended
        attribute C(user.converge-virt.pool)). A directory someone else made is always kept,
        and so is everything on a remote hypervisor and on file systems without user extended
        attributes. Parent directories made while building are kept. A logical pool's volume
        group is never removed.
    type: str
    choices: [present, absent]
    default: present
  type:
    description:
      - The kind of pool. V(dir) keeps volumes as files in a directory, V(netfs) mounts a
        network share (NFS, GlusterFS, CIFS) on O(path), V(logical) uses an LVM volume group.
      - When creating and not set, V(dir); when not set on an existing pool, its type is kept.
      - Create-only.
    type: str
    choices: [dir, logical, netfs]
  path:
    description:
      - The target. For V(dir) the directory holding the volumes, for V(netfs) the local mount
        point (both required on creation), for V(logical) the volume group's device directory
        (default C(/dev/<source.name>)).
      - An absolute path without V(..). No other pool may use it. On a local hypervisor it must
        not be an existing file.
      - Create-only.
    type: str
  owner:
    description:
      - Owner of the pool's directory (dir and netfs pools), as a numeric uid, or a user name
        resolved on the hypervisor (only for local URIs such as V(qemu:///system); give a number
        for remote ones).
      - Stored in the definition's C(<target><permissions>) and applied to the directory when it
        is built, and on creation even when O(build=false).
      - "Update: live for dir pools on a local hypervisor (chown of the directory); restart on a
        remote one (the pool is stopped, built again, which only chowns an existing directory,
        and started). Create-only for netfs pools, whose mount point is hidden by the share."
    type: raw
  group:
    description:
      - Group of the pool's directory, as a numeric gid or a group name (names only for local
        URIs). Otherwise like O(owner).
      - "Update: like O(owner): live (local dir pool), restart (remote dir pool), create-only (netfs)."
    type: raw
  mode:
    description:
      - Permissions of the pool's directory as a quoted octal string, for example V('0755') or
        V('0711'). An unquoted number is refused, because YAML reads C(0755) as 493.
      - When not set on creation, libvirt builds the directory with mode C(0711).
      - "Update: like O(owner): live (local dir pool), restart (remote dir pool), create-only (netfs)."
    type: raw
  source:
    description:
      - Where the storage comes from, for V(netfs) and V(logical) pools. Not used by V(dir) pools.
      - Create-only.
    type: dict
    suboptions:
      host:
        description:
          - V(netfs) only. Name or address of the file server.
          - Required when creating a netfs pool.
        type: str
      dir:
        description:
          - V(netfs) only. The exported directory on the server (absolute), or the share name for
            V(cifs).
          - Required when creating a netfs pool.
        type: str
      format:
        description:
          - V(netfs) only. The network file system. V(auto) lets C(mount) find out.
          - When creating and not set, V(auto).
        type: str
        choices: [auto, nfs, glusterfs, cifs]
      name:
        description:
          - V(logical) only. Name of the LVM volume group.
          - When creating and not set, the pool's O(name).
        type: str
      devices:
        description:
          - V(logical) only. Absolute paths of the block devices (physical volumes) of the volume group.
          - Required with O(build=true), which runs C(vgcreate) on them.
        type: list
        elements: str
  build:
    description:
      - Whether to create the target when the pool is created, and later whether to create it again
        when it has gone missing (that rebuild is a change in the plan; it is detected only on a local
        hypervisor).
      - For V(dir) pools the directory is made (with its parents) and given O(owner), O(group) and
        O(mode); an existing directory is kept and only given those permissions. For V(netfs) the
        mount point is made.
      - For V(logical) pools B(this runs vgcreate on source.devices, which destroys what is on them).
        libvirt refuses devices that carry a file system or LVM signature, but do not point it at
        devices you need. That is why the default is V(false) for V(logical) pools, which then use
        an existing volume group.
      - When not set, V(true) for dir and netfs pools and V(false) for logical pools.
    type: bool
  active:
    description:
      - Whether the pool is running (started). Volumes can only be used and listed in a running pool.
      - "Update: live."
    type: bool
    default: true
  autostart:
    description:
      - Whether the pool starts when libvirtd starts.
      - "Update: live."
    type: bool
    default: true
  refresh:
    description:
      - Rescan the pool's volumes on this run, so that files added or removed behind libvirt's back
        show up (in RV(pool.volume_count) and for the volume modules).
      - Done on every run that asks for it, also when nothing else changes; it is not reported as a
        change. Skipped when the pool is not running, and in check mode.
    type: bool
    default: false
  force:
    description:
      - With O(state=absent), delete a pool that still holds volumes (or whose volumes cannot be
        listed). Only the pool's definition goes; the files stay.
      - With O(recreate=true), allow recreating a pool that holds volumes.
    type: bool
    default: false
  recreate:
    description:
      - Allow changes to create-only options (O(type), O(path), O(source), and the permissions of
        netfs pools) by undefining the pool and defining it again. The pool's files are kept, also
        at an old path.
      - Refused while the pool holds volumes, unless O(force=true) too. If defining the new pool
        fails, the old definition is restored.
    type: bool
    default: false
notes:
  - On a local hypervisor the module reads the target directory itself (its permissions, whether
    it exists, whether it is empty). On a remote one it relies on what libvirt reports, which for
    a running pool reflects the directory at the pool's last start or refresh.
  - Name resolution for O(owner) and O(group) uses the hypervisor's user and group databases and
    therefore needs a local URI.
seealso:
  - module: converge.virt.pool_info
"""

EXAMPLES = r"""
- name: A directory pool, owned by the QEMU user
  converge.virt.pool:
    name: images
    path: /var/lib/converge/images
    owner: libvirt-qemu
    group: kvm
    mode: "0750"
  register: images

- name: Show what was planned and done
  ansible.builtin.debug:
    msg: "{{ images.plan.summary }}"

- name: Pick up files copied into the directory by hand
  converge.virt.pool:
    name: images
    refresh: true

- name: An NFS export mounted as a pool
  converge.virt.pool:
    name: shared
    type: netfs
    path: /srv/pools/shared
    source:
      host: nfs.example.com
      dir: /export/vm
      format: nfs

- name: An existing LVM volume group as a pool (nothing is formatted)
  converge.virt.pool:
    name: vg_guests
    type: logical

- name: A new volume group on an empty disk (destroys what is on /dev/sdb)
  converge.virt.pool:
    name: fast
    type: logical
    source:
      name: vg_fast
      devices: [/dev/sdb]
    build: true

- name: Move a pool to another directory (the old files stay where they are)
  converge.virt.pool:
    name: images
    path: /srv/images
    recreate: true

- name: Delete the pool's definition even though it still holds volumes (files are kept)
  converge.virt.pool:
    name: images
    state: absent
    force: true
"""

RETURN = r"""
pool:
  description:
    - The pool's normalized state after the run (in check mode, the predicted state; values only
      libvirt knows, such as the UUID and sizes of a new pool, are V(null) then).
    - Absent (V(null)) after a deletion.
  returned: always
  type: dict
  contains:
    name:
      description: Name.
      type: str
      sample: images
    uuid:
      description: UUID libvirt assigned.
      type: str
    type:
      description: Pool type.
      type: str
      sample: dir
    path:
      description: Target path.
      type: str
      sample: /var/lib/converge/images
    owner:
      description: Owner uid of the directory (dir pools), or as defined (netfs).
      type: int
      sample: 64055
    group:
      description: Group gid of the directory (dir pools), or as defined (netfs).
      type: int
      sample: 994
    mode:
      description: Mode of the directory as a 4-digit octal string.
      type: str
      sample: "0750"
    source:
      description: For netfs C(host), C(dir), C(format); for logical C(name) and C(devices); V(null) for dir pools.
      type: dict
    active:
      description: Whether the pool runs.
      type: bool
    autostart:
      description: Whether the pool starts with libvirtd.
      type: bool
    persistent:
      description: Whether the pool has a persistent definition.
      type: bool
    capacity:
      description: Size of the underlying storage in bytes (V(null) while the pool is stopped).
      type: int
    allocation:
      description: Bytes used (V(null) while the pool is stopped).
      type: int
    available:
      description: Bytes free (V(null) while the pool is stopped).
      type: int
    volume_count:
      description: Number of volumes libvirt knows in the pool (V(null) while the pool is stopped).
      type: int
plan:
  description: The plan this run carried out (or, in check mode, would carry out).
  returned: always
  type: dict
  contains:
    kind:
      description: Resource kind.
      type: str
      sample: pool
    name:
      description: Resource name.
      type: str
    action:
      description: What happens to the pool as a whole.
      type: str
      sample: update
      choices: [create, update, delete, none]
    effect:
      description: The most disruptive effect among the changes of an update (V(null) otherwise).
      type: str
      sample: live
    summary:
      description: One line for humans.
      type: str
      sample: "pool images: update (modify mode [live])"
    changes:
      description:
        - Field-level changes, each with C(path), C(op) (add, remove, modify), C(before), C(after)
          and C(effect) (live, restart, replace).
        - A change with path C(build) means a missing target is built again.
      type: list
      elements: dict
    notes:
      description: Explanations, such as a planned build, a recreation, a refresh, what happens to the directory on delete.
      type: list
      elements: str
    build:
      description: Whether the run builds the target (state present).
      type: bool
    recreate:
      description: Whether the run undefines and defines the pool again (state present).
      type: bool
    refresh:
      description: Whether the run rescans the pool's volumes (state present).
      type: bool
    volumes:
      description: Number of volumes in the pool before the run (V(null) when they cannot be listed).
      type: int
    remove_directory:
      description: Whether deleting the pool removes its (empty, converge.virt-made) directory (state absent).
      type: bool
    warnings:
      description: Notes about lasting effects (force, recreate with volumes), also shown as task warnings.
      type: list
      elements: str
directory_removed:
  description: Whether deleting the pool removed its directory.
  returned: when the pool was deleted (not in check mode)
  type: bool
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_resource_module
from ansible_collections.converge.virt.plugins.module_utils.specs.pool import (
    ARGUMENT_SPEC,
    BACKEND_OPTIONS,
    MODULE_KWARGS,
)


def main():
    run_resource_module("pool", ARGUMENT_SPEC, backend_options=BACKEND_OPTIONS, **MODULE_KWARGS)


if __name__ == "__main__":
    main()
