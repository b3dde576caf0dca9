# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenStack driver for volumes (Cinder): read a volume and what its spec refers to (image,
snapshot, volume type), and apply a Plan (create, extend, retype, description, metadata, bootable,
recreate, delete).  A no-op converge only reads: one filtered volume list, plus one lookup per
reference the spec names.
"""

from __future__ import annotations

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import BackendError, Conflict, InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.openstack.common import (
    BlockStorageDriver, list_states, wait_gone, wait_settled, wait_status,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.os_common import (
    metadata_managed, user_metadata, with_owner_metadata,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.os_volume import (
    EXTEND_ATTACHED_MICROVERSION, GIB, OsVolumeWorld,
)

try:
    from openstack import utils as sdk_utils
except ImportError:  # reported by open_cloud() before any driver is built
    sdk_utils = None

# Statuses during which Cinder refuses other actions: wait for them to end before acting.
BUSY = ("creating", "attaching", "detaching", "extending", "retyping", "deleting", "downloading",
        "uploading", "backing-up", "restoring-backup", "maintenance", "awaiting-transfer", "reserved")
SETTLED = ("available", "in-use")


def volume_state(vol):
    """The normalized state of an openstacksdk Volume (see resources/os_volume.py)."""
    metadata = dict(vol.metadata or {})
    image_meta = getattr(vol, "volume_image_metadata", None) or {}
    attachments = sorted(
        ({"server_id": a.get("server_id"), "device": a.get("device"),
          "attachment_id": a.get("attachment_id"), "host_name": a.get("host_name")}
         for a in vol.attachments or []),
        key=lambda a: (a["server_id"] or "", a["device"] or ""))
    return {
        "id": vol.id,
        "name": vol.name,
        "status": vol.status,
        "capacity": (vol.size or 0) * GIB,
        "volume_type": vol.volume_type,
        "description": vol.description or "",
        "metadata": user_metadata(metadata),
        "bootable": bool(vol.is_bootable),
        "image": image_meta.get("image_id"),
        "snapshot": vol.snapshot_id,
        "availability_zone": vol.availability_zone,
        "multiattach": bool(vol.is_multiattach),
        "encrypted": bool(vol.is_encrypted),
        "attachments": attachments,
        "managed": metadata_managed(metadata),
    }


class VolumeDriver(BlockStorageDriver):

    # ---- reading ----------------------------------------------------------------------------
    def _list_volumes(self, **query):
        return self.bs.volumes(details=True, **query)

    def _list_snapshots(self, **query):
        return self.bs.snapshots(details=True, **query)

    def find(self, ref):
        """The openstacksdk Volume ``ref`` (ID or name) names in the project, or None."""
        return self.cloud.find_one("volume", ref, self._list_volumes, self.bs.get_volume, listing="volumes")

    def observe(self, name, desired=None):
        desired = desired or {}
        vol = self.find(name)
        world = OsVolumeWorld(current=volume_state(vol) if vol is not None else None)
        if desired.get("state", "present") == "absent" or desired.get("recreate"):
            if vol is not None:
                world.snapshots = [{"id": s.id, "name": s.name} for s in self.cloud.select(
                    "list the snapshots of volume %s" % name, "snapshots", self._list_snapshots,
                    match={"volume_id": vol.id})]
            if desired.get("state") == "absent":
                return world
        if desired.get("image") is not None:
            image = self.cloud.require_one("image", desired["image"], self.cloud.conn.image.images,
                                           self.cloud.conn.image.get_image, field="image", listing="images")
            world.image = {"id": image.id, "name": image.name, "size": image.size or 0,
                           "min_disk": image.min_disk or 0, "status": image.status}
        if desired.get("snapshot") is not None:
            snap = self.cloud.require_one(
                "volume snapshot", desired["snapshot"],
                self._list_snapshots, self.bs.get_snapshot, field="snapshot", listing="snapshots")
            source = self.cloud.call("read volume %s" % snap.volume_id, self.bs.get_volume, snap.volume_id,
                                     missing_ok=True)
            world.snapshot = {"id": snap.id, "name": snap.name, "size": snap.size,
                              "volume_id": snap.volume_id, "status": snap.status,
                              "volume_type": source.volume_type if source is not None else None}
        if desired.get("volume_type") is not None:
            # Cinder filters volume types by name only from microversion 3.52 on (and only as
            # extra specs); the list of types a project sees is short, so it is read whole.
            vtype = self.cloud.require_one("volume type", desired["volume_type"],
                                           lambda **q: self.bs.types(), self.bs.get_type,
                                           field="volume_type", listing="volume_types")
            world.volume_type = {"id": vtype.id, "name": vtype.name}
        zone = desired.get("availability_zone")
        if zone is not None and (world.current is None or world.current.get("availability_zone") != zone):
            zones = [z.name for z in self.cloud.call("list availability zones",
                                                     lambda: list(self.bs.availability_zones()))]
            if zone not in zones:
                raise InvalidSpec([("availability_zone", "zone %r does not exist (zones: %s)"
                                    % (zone, ", ".join(sorted(zones)) or "none"))])
        if world.current is not None and world.current["attachments"] and sdk_utils is not None:
            world.extend_attached = sdk_utils.supports_microversion(self.bs, EXTEND_ATTACHED_MICROVERSION)
        return world

    def list(self, names=None, **filters):
        return list_states(self.cloud, "list volumes", self._list_volumes, volume_state, names)

    # ---- applying ---------------------------------------------------------------------------
    def _get(self, vol_id):
        return self.cloud.call("read volume %s" % vol_id, self.bs.get_volume, vol_id, missing_ok=True)

    def _settled(self, vol_id, spec, what):
        """Wait until Cinder accepts actions on the volume again (no busy status)."""
        return wait_settled(self.cloud, "volume %s (%s)" % (spec["name"], what), lambda: self._get(vol_id),
                            BUSY, spec["wait_timeout"], self._note)

    def _create(self, spec):
        attrs = {"name": spec["name"], "size": spec["size_gib"], "metadata": with_owner_metadata(spec.get("metadata"))}
        for key, attr in (("volume_type", "volume_type"), ("description", "description"),
                          ("image", "image_id"), ("snapshot", "snapshot_id"),
                          ("availability_zone", "availability_zone")):
            if spec.get(key) is not None:
                attrs[attr] = spec[key]
        vol = self.cloud.call("create volume %s" % spec["name"], self.bs.create_volume, retry=True, **attrs)
        try:
            vol = wait_status(self.cloud, "volume %s" % spec["name"], lambda: self._get(vol.id), ("available",),
                              spec["wait_timeout"], self._note)
        except BackendError as err:
            # A volume that failed to build is of no use and ours: remove it so the next run starts
            # clean, then report the failure.
            self.cloud.call("delete failed volume %s" % spec["name"], self.bs.delete_volume, vol.id,
                            retry=True, missing_ok=True)
            raise BackendError("%s; the failed volume %s was deleted again" % (err.msg, vol.id),
                               hint="Cinder keeps the reason: openstack volume message list shows it; "
                                    "the cinder-volume log has the details")
        if spec.get("bootable") is not None and bool(vol.is_bootable) != spec["bootable"]:
            self.cloud.call("set volume %s bootable" % spec["name"], self.bs.set_volume_bootable_status,
                            vol.id, spec["bootable"])

    def _delete(self, spec):
        vol_id = spec["id"]
        vol = self._settled(vol_id, spec, "before deletion")
        if vol is None:
            return
        if vol.attachments:
            raise Conflict("refusing to delete the volume: it was attached to server(s) %s meanwhile"
                           % ", ".join(a.get("server_id") or "?" for a in vol.attachments))
        self.cloud.call("delete volume %s" % spec["name"], self.bs.delete_volume, vol_id,
                        cascade=bool(spec.get("delete_snapshots")), retry=True, missing_ok=True)
        wait_gone(self.cloud, "volume %s (deletion)" % spec["name"], lambda: self._get(vol_id),
                  spec["wait_timeout"], self._note)

    def _update(self, plan, spec):
        vol_id, name = spec["id"], spec["name"]
        paths = dict((c.path, c) for c in plan.changes)
        self._settled(vol_id, spec, "before the update")
        if "capacity" in paths:
            size = paths["capacity"].after // GIB
            self.cloud.call("extend volume %s" % name, self.bs.extend_volume, vol_id, size)
            vol = wait_status(self.cloud, "volume %s (extend)" % name, lambda: self._get(vol_id), SETTLED,
                              spec["wait_timeout"], self._note)
            if vol.size != size:
                raise BackendError("extending volume %s to %d GiB did not take: it has %s GiB"
                                   % (name, size, vol.size), hint="look at the cinder-volume log")
        if "volume_type" in paths:
            new = paths["volume_type"].after
            self.cloud.call("retype volume %s" % name, self.bs.retype_volume, vol_id, self._type_id(new),
                            migration_policy=spec["migration_policy"])
            vol = wait_status(self.cloud, "volume %s (retype)" % name, lambda: self._get(vol_id), SETTLED,
                              spec["wait_timeout"], self._note, ready=lambda v: not _migrating(v))
            if vol.volume_type != new:
                raise BackendError(
                    "Cinder did not retype volume %s to %s (it is still %s)" % (name, new, vol.volume_type),
                    hint="with migration_policy: never the backend must retype in place; "
                         "migration_policy: on-demand lets Cinder move the data"
                    if spec["migration_policy"] == "never" else "look at the cinder-volume log")
        self._update_description_metadata("volume %s" % name, vol_id, paths, self.bs.update_volume,
                                          self.bs.delete_volume_metadata, self.bs.set_volume_metadata)
        if "bootable" in paths:
            self.cloud.call("set volume %s bootable" % name, self.bs.set_volume_bootable_status,
                            vol_id, bool(paths["bootable"].after))

    def _type_id(self, name):
        vtype = self.cloud.require_one("volume type", name, lambda **q: self.bs.types(), self.bs.get_type,
                                       field="volume_type")
        return vtype.id


def _migrating(vol):
    status = getattr(vol, "migration_status", None)
    return status not in (None, "", "success", "error") and not str(status).startswith("target:")
