# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenStack driver for volume snapshots (Cinder): read a snapshot and the volume its spec names,
apply a Plan (take, describe, set metadata, retake, delete).  A no-op converge only reads."""

from __future__ import annotations

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import BackendError
from ansible_collections.converge.virt.plugins.module_utils.openstack.common import (
    BlockStorageDriver, list_states, wait_gone, wait_settled, wait_status,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.os_common import (
    metadata_managed, user_metadata, with_owner_metadata,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.os_volume import GIB
from ansible_collections.converge.virt.plugins.module_utils.resources.os_volume_snapshot import (
    OsVolumeSnapshotWorld,
)

# Statuses during which Cinder refuses to delete a snapshot: wait for them to end first.
BUSY = ("creating", "deleting", "backing-up", "restoring", "unmanaging")


def snapshot_state(snap):
    """The normalized state of an openstacksdk Snapshot (see resources/os_volume_snapshot.py)."""
    metadata = dict(snap.metadata or {})
    return {
        "id": snap.id,
        "name": snap.name,
        "status": snap.status,
        "volume": snap.volume_id,
        "capacity": (snap.size or 0) * GIB,
        "description": snap.description or "",
        "metadata": user_metadata(metadata),
        "managed": metadata_managed(metadata),
    }


class VolumeSnapshotDriver(BlockStorageDriver):

    def _list(self, **query):
        return self.bs.snapshots(details=True, **query)

    def observe(self, name, desired=None):
        desired = desired or {}
        snap = self.cloud.find_one("volume snapshot", name, self._list, self.bs.get_snapshot, listing="snapshots")
        world = OsVolumeSnapshotWorld(current=snapshot_state(snap) if snap is not None else None)
        if desired.get("state", "present") == "present" and desired.get("volume") is not None:
            vol = self.cloud.require_one("volume", desired["volume"],
                                         lambda **q: self.bs.volumes(details=True, **q),
                                         self.bs.get_volume, field="volume", listing="volumes")
            world.volume = {"id": vol.id, "name": vol.name, "status": vol.status,
                            "capacity": (vol.size or 0) * GIB,
                            "attachments": [a.get("server_id") for a in vol.attachments or []]}
        return world

    def list(self, names=None, volume=None, **filters):
        query = {}
        if volume:
            vol = self.cloud.require_one("volume", volume, lambda **q: self.bs.volumes(details=True, **q),
                                         self.bs.get_volume, field="volume")
            query["volume_id"] = vol.id
        return list_states(self.cloud, "list volume snapshots", self._list, snapshot_state, names, **query)

    # ---- applying ---------------------------------------------------------------------------
    def _get(self, snap_id):
        return self.cloud.call("read volume snapshot %s" % snap_id, self.bs.get_snapshot, snap_id,
                               missing_ok=True)

    def _create(self, spec):
        attrs = {"name": spec["name"], "volume_id": spec["volume"], "metadata": with_owner_metadata(spec.get("metadata")),
                 "is_forced": bool(spec.get("force"))}
        if spec.get("description") is not None:
            attrs["description"] = spec["description"]
        snap = self.cloud.call("create volume snapshot %s" % spec["name"], self.bs.create_snapshot,
                               retry=True, **attrs)
        try:
            wait_status(self.cloud, "volume snapshot %s" % spec["name"], lambda: self._get(snap.id), ("available",),
                        spec["wait_timeout"], self._note)
        except BackendError:
            self.cloud.call("delete failed volume snapshot %s" % spec["name"], self.bs.delete_snapshot,
                            snap.id, retry=True)
            raise

    def _delete(self, spec):
        snap_id = spec["id"]
        wait_settled(self.cloud, "volume snapshot %s (before deletion)" % spec["name"], lambda: self._get(snap_id),
                     BUSY, spec["wait_timeout"], self._note)
        self.cloud.call("delete volume snapshot %s" % spec["name"], self.bs.delete_snapshot, snap_id,
                        retry=True, missing_ok=True)
        wait_gone(self.cloud, "volume snapshot %s (deletion)" % spec["name"], lambda: self._get(snap_id),
                  spec["wait_timeout"], self._note)

    def _update(self, plan, spec):
        snap_id, name = spec["id"], spec["name"]
        paths = dict((c.path, c) for c in plan.changes)
        self._update_description_metadata("volume snapshot %s" % name, snap_id, paths, self.bs.update_snapshot,
                                          self.bs.delete_snapshot_metadata, self.bs.set_snapshot_metadata)
