# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Block Storage (Cinder) volumes: the OpenStack spec of the ``volume`` kind and its planner.

Normalized state (what ``current`` and ``after`` look like)::

    id, name, status, capacity (bytes, a whole number of GiB), volume_type, description,
    metadata (the user's keys; the collection's owner key is hidden), bootable,
    image (ID of the Glance image it was made from, or None), snapshot (ID of the volume
    snapshot it was made from, or None), availability_zone, multiattach, encrypted,
    attachments: [{server_id, device, attachment_id, host_name}], managed (bool)

Effects: ``capacity`` grows live (Cinder's extend, also while attached with Block Storage API
microversion 3.42 or later) and never shrinks; ``volume_type`` changes live by a retype (the
volume keeps its ID and data, Cinder may migrate the data when ``migration_policy`` allows);
``description``, ``metadata`` and ``bootable`` change live.  ``image``, ``snapshot`` and
``availability_zone`` are create-only: they change only by deleting the volume and creating it
again (``recreate``).
"""

from __future__ import annotations

import copy

from ansible_collections.converge.virt.plugins.module_utils.engine import validate
from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Planner
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, Problems
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, NONE, REPLACE, UPDATE,
    Change, Field, Plan, compare,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.os_common import (
    check_ref, spec_metadata, wait_timeout,
)

KIND = "volume"
GIB = 1024 ** 3
MIGRATION_POLICIES = ("never", "on-demand")
# Extending an attached (in-use) volume needs this Block Storage API microversion.
EXTEND_ATTACHED_MICROVERSION = "3.42"

SCHEMA = {
    "capacity": Field(LIVE),
    "volume_type": Field(LIVE),
    "description": Field(LIVE),
    "metadata": Field(LIVE),
    "bootable": Field(LIVE),
    "image": Field(REPLACE),
    "snapshot": Field(REPLACE),
    "availability_zone": Field(REPLACE),
}
CREATE_ONLY = ("image", "snapshot", "availability_zone")
_RECREATE_HINT = "set recreate: true to delete the volume and create it again (its data is lost)"
_DETACH_HINT = "detach it through the disks of the instance(s) first"


class OsVolumeWorld(object):
    """What the planner needs to know about the cloud, read by the driver."""

    def __init__(self, current=None, image=None, snapshot=None, volume_type=None, snapshots=None,
                 extend_attached=True):
        self.current = current          # normalized state, or None if absent
        self.image = image              # {id, name, size (bytes), min_disk (GiB), status} or None
        self.snapshot = snapshot        # {id, name, size (GiB), volume_id, volume_type, status} or None
        self.volume_type = volume_type  # {id, name} of the desired type, or None
        # [{id, name}] snapshots of the current volume; None when they were not read.
        self.snapshots = snapshots
        # Whether the cloud can extend an attached volume (microversion >= 3.42).
        self.extend_attached = extend_attached


def gib_ceiling(size):
    """Whole GiB holding ``size`` bytes (Cinder sizes are whole GiB)."""
    return -(-size // GIB)


class OsVolumePlanner(Planner):
    kind = KIND
    schema = SCHEMA

    # ---- desired state -------------------------------------------------------------------
    def normalize(self, params):
        problems = Problems()
        name = validate.resource_name(params.get("name"), "name", problems, max_length=255)
        size = validate.size(params.get("size"), "size", problems)
        capacity = gib_ceiling(size) * GIB if size is not None else None
        metadata = spec_metadata(params.get("metadata"), problems, "volumes", max_key_length=255)
        policy = params.get("migration_policy") or "never"
        if policy not in MIGRATION_POLICIES:
            problems.add("migration_policy", "must be one of %s" % ", ".join(MIGRATION_POLICIES))
        for field in ("image", "snapshot", "volume_type", "availability_zone"):
            check_ref(params.get(field), field, problems)
        if params.get("image") is not None and params.get("snapshot") is not None:
            problems.add("snapshot", "cannot be combined with image: a volume starts from an image, "
                                     "from a snapshot, or empty")
        timeout = wait_timeout(params, problems)
        desired = {
            "name": name,
            "state": params.get("state") or "present",
            "size": size,
            "capacity": capacity,
            "volume_type": params.get("volume_type"),
            "migration_policy": policy,
            "description": params.get("description"),
            "metadata": metadata,
            "bootable": params.get("bootable"),
            "image": params.get("image"),
            "snapshot": params.get("snapshot"),
            "availability_zone": params.get("availability_zone"),
            "recreate": bool(params.get("recreate")),
            "delete_snapshots": bool(params.get("delete_snapshots")),
            "wait_timeout": timeout,
        }
        problems.raise_if_any(KIND, params.get("name"))
        return desired

    # ---- plan ------------------------------------------------------------------------------
    def plan(self, desired, world):
        if desired["state"] == "absent":
            return self._plan_delete(desired, world)
        name, current = desired["name"], world.current
        want = self._wanted(desired, world)
        if current is None:
            after, notes = self._creation(desired, world, want)
            changes = [Change(field, "add", None, after[field], SCHEMA[field].effect)
                       for field in SCHEMA if after.get(field) is not None]
            return Plan(KIND, name, CREATE, changes, before=None, after=after,
                        desired=self._apply_spec(desired, after), notes=notes,
                        facts=_facts(attachments=[]))

        create_only = [c for c in compare(want, current, SCHEMA) if c.path in CREATE_ONLY]
        if create_only:
            return self._plan_replace(desired, world, want, create_only)

        changes, notes, facts = [], [], _facts(attachments=current.get("attachments") or [])
        capacity = self._capacity_change(desired, world)
        if capacity is not None:
            changes.append(capacity)
            facts["extend"] = {"from": capacity.before, "to": capacity.after}
            notes.append("volume %s grows from %s to %s in place%s; the file systems inside are not "
                         "grown" % (name, _size(capacity.before), _size(capacity.after),
                                    " while attached (the instance sees the new size)"
                                    if current.get("attachments") else ""))
        for change in compare(want, current, SCHEMA):
            if change.path == "capacity":
                continue
            changes.append(change)
            if change.path == "volume_type":
                facts["retype"] = {"from": change.before, "to": change.after,
                                   "migration_policy": desired["migration_policy"]}
                notes.append("volume %s is retyped in place from %s to %s (migration_policy %s%s)"
                             % (name, change.before, change.after, desired["migration_policy"],
                                ": the retype fails if the backend cannot do it without moving the data"
                                if desired["migration_policy"] == "never" else
                                ": Cinder may migrate the data to another backend, which takes time"))
        notes.extend(self._rounding_notes(desired))
        after = copy.deepcopy(current)
        for change in changes:
            after[change.path] = copy.deepcopy(change.after)
        action = UPDATE if changes else NONE
        spec = self._apply_spec(desired, after)
        spec["id"] = current.get("id")
        return Plan(KIND, name, action, changes, before=copy.deepcopy(current), after=after,
                    desired=spec, notes=notes if changes else [], facts=facts)

    # ---- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _wanted(desired, world):
        """The compared fields the spec asks for, references resolved to what the cloud calls them."""
        want = dict((field, desired.get(field)) for field in SCHEMA)
        want["image"] = world.image["id"] if desired["image"] is not None and world.image else None
        want["snapshot"] = (world.snapshot["id"] if desired["snapshot"] is not None and world.snapshot
                            else None)
        if desired["volume_type"] is not None and world.volume_type:
            want["volume_type"] = world.volume_type["name"]
        return want

    def _capacity_change(self, desired, world):
        current, name = world.current, desired["name"]
        want, have = desired["capacity"], current.get("capacity")
        if want is None or have is None or want == have:
            return None
        if want < have:
            raise Conflict(
                "cannot shrink the volume from %s to %s: Cinder has no shrink, and shrinking would "
                "cut off the end of the disk and the data there" % (_size(have), _size(desired["size"])),
                kind=KIND, name=name,
                hint="keep size at %s or more; to get a smaller volume, create a new one and copy the "
                     "data inside the guest" % _size(have))
        if current.get("attachments") and not world.extend_attached:
            raise Conflict(
                "cannot grow the volume while it is attached: this cloud's Block Storage API does not "
                "offer microversion %s, which extending an in-use volume needs" % EXTEND_ATTACHED_MICROVERSION,
                kind=KIND, name=name, hint=_DETACH_HINT + ", then grow it")
        return Change("capacity", "modify", have, want, LIVE)

    def _creation(self, desired, world, want, keep=None):
        """(predicted state, notes) of a volume created from ``desired``; validates against world.

        ``keep``: the current state when the volume is recreated; what the spec leaves unset is
        carried over from it (its size as the least size, its origin, type, zone, metadata)."""
        problems = Problems()
        name = desired["name"]
        keep = keep or {}
        image_id, snapshot_id = want["image"], want["snapshot"]
        if image_id is None and snapshot_id is None and desired["image"] is None \
                and desired["snapshot"] is None:
            image_id, snapshot_id = keep.get("image"), keep.get("snapshot")
            if image_id is not None and snapshot_id is not None:
                image_id = None  # made from a snapshot of a volume made from an image
        minimum, origin = None, None
        bootable = desired["bootable"]
        if image_id is not None:
            image = world.image if world.image and world.image["id"] == image_id else {}
            if image.get("status") not in (None, "active"):
                problems.add("image", "image %s is %s, not active: a volume can only be made from an "
                                      "active image" % (desired["image"], image.get("status")))
            if image:
                minimum = max(gib_ceiling(image.get("size") or 0), image.get("min_disk") or 0, 1) * GIB
            origin = "image %s" % (image.get("name") or image_id)
            if bootable is None:
                bootable = True  # Cinder marks a volume made from an image bootable
        elif snapshot_id is not None:
            snapshot = world.snapshot if world.snapshot and world.snapshot["id"] == snapshot_id else {}
            if snapshot.get("status") not in (None, "available"):
                problems.add("snapshot", "snapshot %s is %s, not available" % (
                    desired["snapshot"], snapshot.get("status")))
            if snapshot:
                minimum = (snapshot.get("size") or 1) * GIB
            origin = "snapshot %s" % (snapshot.get("name") or snapshot_id)
            # Cinder gives a volume made from a snapshot the type of the snapshot's volume, and
            # refuses most other types; an old volume's type is not carried over on a recreate.
            snap_type = snapshot.get("volume_type")
            if want["volume_type"] is not None and snap_type is not None and want["volume_type"] != snap_type:
                problems.add("volume_type", "a volume made from snapshot %s gets its volume's type %s; leave "
                                            "volume_type unset (or %s) and retype the volume afterwards"
                             % (snapshot.get("name") or snapshot_id, snap_type, snap_type))
            keep = dict(keep, volume_type=snap_type)
        if bootable is None:
            bootable = keep.get("bootable", False if snapshot_id is None else None)
        capacity = desired["capacity"]
        if capacity is None:
            capacity = max(minimum or 0, keep.get("capacity") or 0) or None
            if capacity is None:
                problems.add("size", "is required to create an empty volume")
        elif minimum is not None and capacity < minimum:
            problems.add("size", "%s is smaller than the %s it starts from (%s); a volume can only be as "
                                 "large or larger" % (_size(capacity), origin, _size(minimum)))
        problems.raise_if_any(KIND, name)

        def pick(field, value):
            return value if value is not None else keep.get(field)

        after = {
            "id": None, "name": name, "status": "available", "capacity": capacity,
            "volume_type": pick("volume_type", want["volume_type"]),
            "description": pick("description", desired["description"]) or "",
            "metadata": copy.deepcopy(pick("metadata", desired["metadata"]) or {}),
            "bootable": bootable, "image": image_id, "snapshot": snapshot_id,
            "availability_zone": pick("availability_zone", desired["availability_zone"]),
            "multiattach": False, "encrypted": False, "attachments": [], "managed": True,
        }
        notes = ["create volume %s of %s (%s)" % (name, _size(capacity), origin or "empty")]
        return after, notes + self._rounding_notes(desired)

    @staticmethod
    def _rounding_notes(desired):
        if desired["size"] is not None and desired["size"] != desired["capacity"]:
            return ["size %s is rounded up to %s: Cinder volumes are whole GiB"
                    % (_size(desired["size"]), _size(desired["capacity"]))]
        return []

    @staticmethod
    def _apply_spec(desired, after):
        """What the driver needs to carry out the plan (plan.desired)."""
        return {
            "name": desired["name"], "size_gib": after["capacity"] // GIB,
            "volume_type": after["volume_type"], "description": desired["description"],
            "metadata": desired["metadata"], "bootable": desired["bootable"],
            "image": after["image"], "snapshot": after["snapshot"],
            "availability_zone": desired["availability_zone"],
            "migration_policy": desired["migration_policy"],
            "delete_snapshots": desired["delete_snapshots"], "wait_timeout": desired["wait_timeout"],
        }

    def _plan_replace(self, desired, world, want, create_only):
        name, current = desired["name"], world.current
        if not desired["recreate"]:
            first = create_only[0]
            raise Conflict(
                "%s is create-only: the volume has %s, the spec asks for %s"
                % (first.path, _show(first.before), _show(first.after))
                + "".join("; %s also differs (%s, wanted %s)" % (c.path, _show(c.before), _show(c.after))
                          for c in create_only[1:]),
                kind=KIND, name=name, hint=_RECREATE_HINT)
        warnings = self._check_removable(desired, world, "recreate")
        after, notes = self._creation(desired, world, want, keep=current)
        changes = [Change(c.path, c.op, c.before, c.after, REPLACE) for c in compare(after, current, SCHEMA)]
        text = "volume %s is deleted and created again (%s): its data is lost" % (
            name, ", ".join("%s %s" % (c.path, _show(c.after)) for c in create_only))
        spec = self._apply_spec(dict(desired, description=after["description"], metadata=after["metadata"],
                                     bootable=after["bootable"],
                                     availability_zone=after["availability_zone"]), after)
        spec["id"] = current.get("id")
        spec["replace"] = True
        return Plan(KIND, name, UPDATE, changes, before=copy.deepcopy(current), after=after,
                    desired=spec, notes=[text] + notes[1:],
                    facts=_facts(replace=True, attachments=[], warnings=[text] + warnings))

    def _plan_delete(self, desired, world):
        name, current = desired["name"], world.current
        if current is None:
            return Plan(KIND, name, NONE, before=None, after=None, facts=_facts(attachments=[]))
        warnings = self._check_removable(desired, world, "delete")
        spec = {"id": current.get("id"), "name": name, "delete_snapshots": desired["delete_snapshots"],
                "wait_timeout": desired["wait_timeout"]}
        snapshots = world.snapshots or []
        return Plan(KIND, name, DELETE, [Change("volume", "remove", None, None, REPLACE)],
                    before=copy.deepcopy(current), after=None, desired=spec,
                    notes=["delete volume %s%s" % (name, " and its snapshots %s" % _names(snapshots)
                                                   if snapshots else "")],
                    facts=_facts(attachments=current.get("attachments") or [], warnings=warnings))

    @staticmethod
    def _check_removable(desired, world, verb):
        """Refuse to remove an attached volume, or one with snapshots unless delete_snapshots."""
        name, current = desired["name"], world.current
        attachments = current.get("attachments") or []
        if attachments:
            raise Conflict(
                "refusing to %s the volume: it is attached to server(s) %s" % (
                    verb, ", ".join("%s (%s)" % (a.get("server_id"), a.get("device") or "?")
                                    for a in attachments)),
                kind=KIND, name=name, hint=_DETACH_HINT)
        snapshots = world.snapshots or []
        warnings = []
        if snapshots:
            ids = set(s["id"] for s in snapshots)
            if desired.get("snapshot") is not None and world.snapshot and world.snapshot["id"] in ids:
                raise Conflict("cannot %s the volume from its own snapshot %s: the snapshot goes with the "
                               "volume" % (verb, desired["snapshot"]), kind=KIND, name=name,
                               hint="create a new volume from the snapshot under another name")
            if not desired["delete_snapshots"]:
                raise Conflict("refusing to %s the volume: it has snapshots %s" % (verb, _names(snapshots)),
                               kind=KIND, name=name,
                               hint="set delete_snapshots: true to delete them with it, or delete them "
                                    "first (converge.virt.volume_snapshot)")
            warnings.append("the snapshots %s of volume %s are deleted with it (delete_snapshots: true)"
                            % (_names(snapshots), name))
        return warnings


def _facts(replace=False, attachments=None, warnings=None):
    result = {"replace": replace, "extend": None, "retype": None,
              "attachments": copy.deepcopy(attachments or [])}
    if warnings:
        result["warnings"] = list(warnings)
    return result


def _names(items):
    return ", ".join(sorted(i.get("name") or i["id"] for i in items))


def _size(value):
    if value is None:
        return "unknown"
    return validate.human_size(value)


def _show(value):
    return "none" if value is None else repr(value) if isinstance(value, str) else str(value)
