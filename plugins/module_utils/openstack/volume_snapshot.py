# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenStack driver for volume snapshots (Cinder): read a snapshot and the volume its spec names,
apply a Plan (take, describe, set metadata, retake, delete).  A no-op converge only reads."""

from __future__ import annotations

from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Driver
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import BackendError
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import CREATE, DELETE
from ansible_collections.converge.virt.plugins.module_utils.openstack.cloud import OWNER_METADATA_KEY
from ansible_collections.converge.virt.plugins.module_utils.resources.os_volume import GIB, user_metadata
from ansible_collections.converge.virt.plugins.module_utils.resources.os_volume_snapshot import (
    OsVolumeSnapshotWorld,
)


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
        "managed": metadata.get(OWNER_METADATA_KEY) == "true",
    }


class VolumeSnapshotDriver(Driver):

    def __init__(self, cloud):
        self.cloud = cloud
        self.bs = cloud.conn.block_storage
        self._progress = []

    def _list(self, **query):
        return self.bs.snapshots(details=True, **query)

    def observe(self, name, desired=None):
        desired = desired or {}
        snap = self.cloud.find_one("volume snapshot", name, self._list, self.bs.get_snapshot)
        world = OsVolumeSnapshotWorld(current=snapshot_state(snap) if snap is not None else None)
        if desired.get("state", "present") == "present" and desired.get("volume") is not None:
            vol = self.cloud.require_one("volume", desired["volume"],
                                         lambda **q: self.bs.volumes(details=True, **q),
                                         self.bs.get_volume, field="volume")
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
        if names:
            found = {}
            for name in names:
                for snap in self.cloud.call("list volume snapshots",
                                            lambda n=name: list(self._list(name=n, **query))):
                    if snap.name == name or snap.id == name:
                        found[snap.id] = snap
            snaps = list(found.values())
        else:
            snaps = self.cloud.call("list volume snapshots", lambda: list(self._list(**query)))
        return sorted((snapshot_state(s) for s in snaps), key=lambda s: (s["name"] or "", s["id"]))

    # ---- applying ---------------------------------------------------------------------------
    def apply(self, plan):
        self._progress = []
        spec = plan.desired
        if plan.action == CREATE:
            self._create(spec)
        elif plan.action == DELETE:
            self._delete(spec)
        elif spec.get("replace"):
            self._delete(spec)
            self._create(spec)
        else:
            self._update(plan, spec)
        return {"progress": list(self._progress)}

    def _get(self, snap_id):
        return self.cloud.call("read volume snapshot %s" % snap_id, self.bs.get_snapshot, snap_id,
                               missing_ok=True)

    def _create(self, spec):
        metadata = dict(spec.get("metadata") or {})
        metadata[OWNER_METADATA_KEY] = "true"
        attrs = {"name": spec["name"], "volume_id": spec["volume"], "metadata": metadata,
                 "is_forced": bool(spec.get("force"))}
        if spec.get("description") is not None:
            attrs["description"] = spec["description"]
        snap = self.cloud.call("create volume snapshot %s" % spec["name"], self.bs.create_snapshot,
                               retry=True, **attrs)
        try:
            self.cloud.wait("volume snapshot %s" % spec["name"], lambda: self._get(snap.id),
                            done=lambda s: s is not None and s.status == "available",
                            failed=lambda s: s.status.startswith("error"),
                            timeout=spec["wait_timeout"], progress=self._progress.append)
        except BackendError:
            self.cloud.call("delete failed volume snapshot %s" % spec["name"], self.bs.delete_snapshot,
                            snap.id, retry=True)
            raise

    def _delete(self, spec):
        snap_id = spec["id"]
        self.cloud.wait("volume snapshot %s (before deletion)" % spec["name"], lambda: self._get(snap_id),
                        done=lambda s: s is None or s.status not in ("creating", "deleting", "backing-up",
                                                                     "restoring", "unmanaging"),
                        timeout=spec["wait_timeout"], progress=self._progress.append)
        self.cloud.call("delete volume snapshot %s" % spec["name"], self.bs.delete_snapshot, snap_id,
                        retry=True, missing_ok=True)
        self.cloud.wait("volume snapshot %s (deletion)" % spec["name"], lambda: self._get(snap_id),
                        done=lambda s: s is None, timeout=spec["wait_timeout"], progress=self._progress.append)

    def _update(self, plan, spec):
        snap_id, name = spec["id"], spec["name"]
        paths = dict((c.path, c) for c in plan.changes)
        if "description" in paths:
            self.cloud.call("update volume snapshot %s" % name, self.bs.update_snapshot, snap_id,
                            description=paths["description"].after)
        if "metadata" in paths:
            before = paths["metadata"].before or {}
            after = paths["metadata"].after or {}
            gone = sorted(k for k in before if k not in after)
            if gone:
                self.cloud.call("delete metadata of volume snapshot %s" % name,
                                self.bs.delete_snapshot_metadata, snap_id, keys=gone)
            changed = dict((k, v) for k, v in after.items() if before.get(k) != v)
            if changed:
                self.cloud.call("set metadata of volume snapshot %s" % name, self.bs.set_snapshot_metadata,
                                snap_id, **changed)
