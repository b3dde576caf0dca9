# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Block Storage (Cinder) volume snapshots: the spec of the ``volume_snapshot`` kind and its planner.

Normalized state::

    id, name, status, volume (ID of the volume it was taken of), capacity (bytes),
    description, metadata (the user's keys; the owner key hidden), managed (bool)

Effects: ``description`` and ``metadata`` change live; ``volume`` is create-only (a snapshot of
another volume is another snapshot: ``recreate`` deletes it and takes a new one).
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
from ansible_collections.converge.virt.plugins.module_utils.resources.os_volume import GIB

KIND = "volume_snapshot"

SCHEMA = {
    "volume": Field(REPLACE),
    "description": Field(LIVE),
    "metadata": Field(LIVE),
}
_RECREATE_HINT = "set recreate: true to delete the snapshot and take a new one"


class OsVolumeSnapshotWorld(object):
    """What the planner needs to know about the cloud, read by the driver."""

    def __init__(self, current=None, volume=None):
        self.current = current  # normalized state, or None if absent
        self.volume = volume    # {id, name, status, capacity, attachments} of the desired volume, or None


class OsVolumeSnapshotPlanner(Planner):
    kind = KIND
    schema = SCHEMA

    def normalize(self, params):
        problems = Problems()
        name = validate.resource_name(params.get("name"), "name", problems, max_length=255)
        metadata = spec_metadata(params.get("metadata"), problems, "snapshots")
        volume = params.get("volume")
        check_ref(volume, "volume", problems, " (a volume's name or ID)")
        timeout = wait_timeout(params, problems)
        desired = {
            "name": name,
            "state": params.get("state") or "present",
            "volume": volume,
            "description": params.get("description"),
            "metadata": metadata,
            "force": bool(params.get("force")),
            "recreate": bool(params.get("recreate")),
            "wait_timeout": timeout,
        }
        problems.raise_if_any(KIND, params.get("name"))
        return desired

    def plan(self, desired, world):
        name, current = desired["name"], world.current
        if desired["state"] == "absent":
            if current is None:
                return Plan(KIND, name, NONE, before=None, after=None, facts={"replace": False})
            return Plan(KIND, name, DELETE, [Change("volume_snapshot", "remove", None, None, REPLACE)],
                        before=copy.deepcopy(current), after=None,
                        desired={"id": current["id"], "name": name, "wait_timeout": desired["wait_timeout"]},
                        notes=["delete snapshot %s of volume %s" % (name, current.get("volume"))],
                        facts={"replace": False})
        want = {"volume": world.volume["id"] if world.volume else None,
                "description": desired["description"], "metadata": desired["metadata"]}
        if current is None:
            after = self._creation(desired, world)
            changes = [Change(f, "add", None, after[f], SCHEMA[f].effect) for f in SCHEMA if after.get(f) is not None]
            return Plan(KIND, name, CREATE, changes, before=None, after=after,
                        desired=self._spec(desired, after),
                        notes=["take snapshot %s of volume %s%s" % (
                            name, world.volume["name"] or world.volume["id"],
                            " while it is attached (force: true)" if world.volume.get("attachments") else "")],
                        facts={"replace": False})
        changes = compare(want, current, SCHEMA)
        replace = [c for c in changes if c.effect == REPLACE]
        if replace:
            if not desired["recreate"]:
                raise Conflict("volume is create-only: the snapshot was taken of volume %s, the spec names "
                               "volume %s (%s)" % (current.get("volume"), desired["volume"], want["volume"]),
                               kind=KIND, name=name, hint=_RECREATE_HINT)
            after = self._creation(desired, world, keep=current)
            spec = self._spec(dict(desired, description=after["description"], metadata=after["metadata"]), after)
            spec.update(id=current["id"], replace=True)
            text = "snapshot %s is deleted and taken again of volume %s" % (name, desired["volume"])
            return Plan(KIND, name, UPDATE,
                        [Change(c.path, c.op, c.before, c.after, REPLACE) for c in compare(after, current, SCHEMA)],
                        before=copy.deepcopy(current), after=after, desired=spec, notes=[text],
                        facts={"replace": True, "warnings": [text]})
        after = copy.deepcopy(current)
        for change in changes:
            after[change.path] = copy.deepcopy(change.after)
        spec = self._spec(desired, after)
        spec["id"] = current["id"]
        return Plan(KIND, name, UPDATE if changes else NONE, changes, before=copy.deepcopy(current),
                    after=after, desired=spec, facts={"replace": False})

    @staticmethod
    def _creation(desired, world, keep=None):
        keep = keep or {}
        name, volume = desired["name"], world.volume
        if volume is None:
            problems = Problems()
            problems.add("volume", "is required to take a snapshot (the name or ID of the volume)")
            problems.raise_if_any(KIND, name)
        if volume.get("attachments") and not desired["force"]:
            raise Conflict("volume %s is attached (%s): a snapshot of it holds whatever the guest had "
                           "written to disk at that moment, as after a power loss"
                           % (volume["name"] or volume["id"], volume.get("status")), kind=KIND, name=name,
                           hint="set force: true to take it anyway, or detach the volume first")
        if volume.get("status") not in ("available", "in-use"):
            raise Conflict("volume %s is %s: Cinder snapshots only available or in-use volumes"
                           % (volume["name"] or volume["id"], volume.get("status")), kind=KIND, name=name,
                           hint="wait until the volume has settled, or repair it")

        def pick(field, value):
            return value if value is not None else keep.get(field)

        return {
            "id": None, "name": name, "status": "available", "volume": volume["id"],
            "capacity": volume.get("capacity"),
            "description": pick("description", desired["description"]) or "",
            "metadata": copy.deepcopy(pick("metadata", desired["metadata"]) or {}),
            "managed": True,
        }

    @staticmethod
    def _spec(desired, after):
        return {"name": desired["name"], "volume": after["volume"], "description": desired["description"],
                "metadata": desired["metadata"], "force": desired["force"],
                "wait_timeout": desired["wait_timeout"], "capacity_gib": (after.get("capacity") or 0) // GIB}
