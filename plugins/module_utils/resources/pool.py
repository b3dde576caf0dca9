# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Storage pools: the backend-neutral spec, its validation, and the planner.

Normalized state (what ``current``, ``desired`` and ``after`` look like)::

    name, type (dir|logical|netfs), path, owner (uid), group (gid), mode ("0755"),
    source: netfs {host, dir, format} | logical {name, devices: [..]} | None (dir),
    active, autostart      (+ read-only: uuid, persistent, capacity, allocation, available,
                            volume_count)

Effects: type, path and source are create-only (changed only with ``recreate``); active and
autostart are live toggles; owner/group/mode of a dir pool are applied to the directory live
on a local hypervisor, and by stopping, rebuilding and starting the pool on a remote one.
"""

from __future__ import annotations

import copy
import ipaddress
import re

from ansible_collections.converge.virt.plugins.module_utils.engine import validate
from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Planner
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, Problems
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, NONE, REPLACE, RESTART, UPDATE,
    Change, Field, Plan, Section, compare, merge,
)

KIND = "pool"
TYPES = ("dir", "logical", "netfs")
NETFS_FORMATS = ("auto", "nfs", "glusterfs", "cifs")
PERMISSIONS = ("owner", "group", "mode")
SOURCE_FIELDS = {"netfs": ("host", "dir", "format"), "logical": ("name", "devices")}
# Read-only facts every state carries (unknown in a prediction until libvirt reports them).
READ_ONLY = ("uuid", "persistent", "capacity", "allocation", "available", "volume_count")
MAX_NAMED_VOLUMES = 10
_MODE = re.compile(r"^0?[0-7]{3,4}\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_ID = 2 ** 32 - 2

SCHEMA = {
    "type": Field(REPLACE),
    "path": Field(REPLACE),
    "source": Section(REPLACE, {
        "host": Field(REPLACE),
        "dir": Field(REPLACE),
        "format": Field(REPLACE),
        "name": Field(REPLACE),
        "devices": Field(REPLACE),
    }),
    "owner": Field(LIVE),   # see _permission_effect: live locally, restart on a remote host
    "group": Field(LIVE),
    "mode": Field(LIVE),
    "autostart": Field(LIVE),
    "active": Field(LIVE),
}


class PoolWorld(object):
    """What the planner needs to know about the host, read by a driver."""

    def __init__(self, current=None, others=None, volumes=None, local=False, paths=None,
                 users=None, groups=None):
        self.current = current              # normalized state, or None if absent
        self.others = list(others or [])    # normalized states of the host's other pools
        # Names of the pool's volumes; None when they cannot be known (stopped pool, remote host).
        self.volumes = None if volumes is None else list(volumes)
        self.local = local                  # whether the hypervisor is this host (files readable)
        # Local facts per path: {"kind": dir|file|missing|other, "marked": bool, "entries": int|None}.
        # A path that is not a key was not inspected (remote hypervisor).
        self.paths = dict(paths or {})
        self.users = dict(users or {})      # user names the spec uses -> uid (local only)
        self.groups = dict(groups or {})    # group names the spec uses -> gid (local only)


class PoolPlanner(Planner):
    kind = KIND
    schema = SCHEMA

    # ---- desired state -----------------------------------------------------------------
    def normalize(self, params):
        problems = Problems()
        name = validate.resource_name(params.get("name"), "name", problems)
        pool_type = params.get("type")
        if pool_type is not None and pool_type not in TYPES:
            problems.add("type", "must be one of %s" % ", ".join(TYPES))
            pool_type = None
        desired = {
            "name": name,
            "state": params.get("state") or "present",
            "type": pool_type,
            "path": None,
            "owner": _id(params.get("owner"), "owner", problems),
            "group": _id(params.get("group"), "group", problems),
            "mode": _mode(params.get("mode"), problems),
            "source": _source(params.get("source"), problems),
            "build": params.get("build"),
            "active": params.get("active"),
            "autostart": params.get("autostart"),
            "refresh": bool(params.get("refresh")),
            "force": bool(params.get("force")),
            "recreate": bool(params.get("recreate")),
        }
        if params.get("path") is not None:
            desired["path"] = validate.absolute_path(params["path"], "path", problems)
            if desired["path"] == "/":
                problems.add("path", "'/' cannot be a pool's directory")
                desired["path"] = None
        problems.raise_if_any(KIND, params.get("name"))
        return desired

    # ---- plan ------------------------------------------------------------------------
    def plan(self, desired, world):
        if desired["state"] == "absent":
            return self._plan_delete(desired, world)
        name, current = desired["name"], world.current
        problems = Problems()
        pool_type = desired["type"] or (current or {}).get("type") or "dir"
        fields = self._fields(desired, world, pool_type, problems)
        if current is None:
            return self._plan_create(desired, world, fields, pool_type, problems)

        self._check_type_rules(desired, pool_type, problems)
        after = merge(current, fields, SCHEMA)
        changes = compare(after, current, SCHEMA)
        effect = _permission_effect(world, pool_type)
        for change in changes:
            if change.path in PERMISSIONS:
                change.effect = effect
        if current.get("persistent") is False:
            # A transient pool (virsh pool-create) is adopted by giving it a persistent definition.
            after["persistent"] = True
            changes.append(Change("persistent", "modify", False, True, LIVE))
        build = self._build_missing_target(desired, world, after, pool_type, problems)
        if build:
            changes.append(build)
        replace = [c for c in changes if c.effect == REPLACE]
        self._check_host(after, world, name, problems, check_target=bool(replace))
        problems.raise_if_any(KIND, name)

        notes, warnings = [], []
        facts = {"recreate": False, "build": bool(build), "refresh": False,
                 "volumes": _count(world.volumes)}
        if replace:
            self._allow_replace(desired, world, replace, name)
            facts["recreate"] = True
            facts["build"] = _build_default(desired, pool_type)
            for key in READ_ONLY:
                after[key] = None if key != "persistent" else True
            text = ("pool %s is undefined and defined again to change %s; its files are kept"
                    % (name, ", ".join(c.path for c in replace)))
            notes.append(text)
            if world.volumes:
                warnings.append(text + " (force: true, %d volumes stay in %s)" % (
                    len(world.volumes), current.get("path")))
        if any(c.path in PERMISSIONS and c.effect == RESTART for c in changes) and current.get("active"):
            notes.append("pool %s is stopped, rebuilt and started to apply %s (remote hypervisor)" % (
                name, ", ".join(c.path for c in changes if c.path in PERMISSIONS)))
        if build:
            notes.append("the target %s is missing and is built (created)" % after["path"])
        self._refresh_facts(desired, world, after, facts, notes)
        action = UPDATE if changes else NONE
        return Plan(KIND, name, action, changes, before=copy.deepcopy(current), after=after,
                    desired=dict(after, build=facts["build"], refresh=desired["refresh"]),
                    notes=notes, facts=dict(facts, warnings=warnings))

    def _fields(self, desired, world, pool_type, problems):
        """The compared fields of ``desired``, owner/group names resolved through ``world``."""
        fields = dict((k, copy.deepcopy(desired.get(k))) for k in SCHEMA)
        for key, table, what in (("owner", world.users, "user"), ("group", world.groups, "group")):
            value = fields[key]
            if not isinstance(value, str):
                continue
            if not world.local:
                problems.add(key, "%r is a %s name, which can only be resolved on a local hypervisor; "
                                  "give the numeric id" % (value, what))
                fields[key] = None
            elif value not in table:
                problems.add(key, "no %s named %r on this host" % (what, value))
                fields[key] = None
            else:
                fields[key] = table[value]
        source = fields.get("source")
        if source is not None and pool_type == "logical" and source.get("name") is None and world.current is None:
            source["name"] = desired["name"]
        return fields

    def _plan_create(self, desired, world, fields, pool_type, problems):
        name = desired["name"]
        self._check_type_rules(desired, pool_type, problems)
        after = self._initial_state(name, fields, pool_type, problems)
        build = _build_default(desired, pool_type)
        self._check_host(after, world, name, problems, check_target=True)
        info = world.paths.get(after.get("path") or "")
        if (pool_type == "dir" and not build and after["active"] and info
                and info["kind"] == "missing"):
            problems.add("path", "%s does not exist; set build: true to create it" % after["path"])
        problems.raise_if_any(KIND, name)
        changes = compare(after, {}, SCHEMA)
        notes = []
        if build:
            notes.append({
                "dir": "the directory %s is created if missing, with the given owner/group/mode",
                "netfs": "the mount point %s is created if missing",
                "logical": "the volume group is created (vgcreate) on the source devices for %s",
            }[pool_type] % after["path"])
        if not after["active"]:
            notes.append("pool %s is defined but not started (active: false)" % name)
        facts = {"recreate": False, "build": build, "refresh": False, "volumes": 0}
        self._refresh_facts(desired, world, after, facts, notes)
        return Plan(KIND, name, CREATE, changes, before=None, after=after,
                    desired=dict(after, build=build, refresh=desired["refresh"]),
                    notes=notes, facts=dict(facts, warnings=[]))

    @staticmethod
    def _initial_state(name, fields, pool_type, problems):
        after = copy.deepcopy(fields)
        after["name"] = name
        after["type"] = pool_type
        source = after.get("source") or {}
        if pool_type == "dir":
            after["source"] = None
            if not after.get("path"):
                problems.add("path", "is required to create a dir pool (the directory that holds the volumes)")
        elif pool_type == "netfs":
            after["source"] = {"host": source.get("host"), "dir": source.get("dir"),
                               "format": source.get("format") or "auto"}
            if not after.get("path"):
                problems.add("path", "is required to create a netfs pool (the local mount point)")
            for key in ("host", "dir"):
                if not source.get(key):
                    problems.add("source." + key, "is required to create a netfs pool")
        else:
            after["source"] = {"name": source.get("name") or name,
                               "devices": source.get("devices") or []}
            if not after.get("path"):
                after["path"] = "/dev/" + after["source"]["name"]
        for key in ("active", "autostart"):
            if after.get(key) is None:
                after[key] = True
        for key in READ_ONLY:
            after[key] = None
        after["persistent"] = True
        after["volume_count"] = 0
        return after

    @staticmethod
    def _check_type_rules(desired, pool_type, problems):
        """Options that belong to another pool type, and what a logical pool's build needs."""
        source = desired.get("source") or {}
        allowed = SOURCE_FIELDS.get(pool_type, ())
        for key in ("host", "dir", "format", "name", "devices"):
            if source.get(key) is not None and key not in allowed:
                owners = [t for t, keys in SOURCE_FIELDS.items() if key in keys]
                problems.add("source." + key, "is only for type %s, not %s" % (" or ".join(owners), pool_type))
        if pool_type == "logical":
            for key in PERMISSIONS:
                if desired.get(key) is not None:
                    problems.add(key, "applies to dir and netfs pools only; a logical pool's volumes "
                                      "are block devices managed by LVM")
        if pool_type == "netfs" and source.get("format") != "cifs" and source.get("dir"):
            if not source["dir"].startswith("/"):
                problems.add("source.dir", "%r must be an absolute path on the server (only cifs takes "
                                           "a share name)" % source["dir"])
        if pool_type == "logical" and desired.get("build") and not source.get("devices"):
            problems.add("source.devices", "is required with build: true (the block devices vgcreate uses)")

    @staticmethod
    def _build_missing_target(desired, world, after, pool_type, problems):
        """A Change building the target of an existing pool when it is missing (local hosts only)."""
        info = world.paths.get(after.get("path") or "")
        if pool_type == "logical" or not info or info["kind"] != "missing":
            return None
        if after.get("path") != world.current.get("path"):
            return None  # a new path comes with recreate, which builds it anyway
        if not _build_default(desired, pool_type):
            if after.get("active"):
                problems.add("path", "%s does not exist; set build: true to create it" % after["path"])
            return None
        return Change("build", "add", None, after["path"], RESTART if world.current.get("active") else LIVE)

    @staticmethod
    def _check_host(after, world, name, problems, check_target):
        """Conflicts with the host's other pools, and what is at the target path (when known)."""
        path = after.get("path")
        for other in world.others:
            if path and other.get("path") == path:
                problems.add("path", "%s is already the target of pool %r" % (path, other["name"]))
            if (after.get("type") == "logical" and other.get("type") == "logical"
                    and (other.get("source") or {}).get("name") == (after.get("source") or {}).get("name")):
                problems.add("source.name", "volume group %s is already used by pool %r" % (
                    after["source"]["name"], other["name"]))
        info = world.paths.get(path or "")
        if check_target and info and after.get("type") in ("dir", "netfs") and info["kind"] in ("file", "other"):
            problems.add("path", "%s exists and is not a directory" % path)

    @staticmethod
    def _allow_replace(desired, world, replace, name):
        details = "; ".join("%s is create-only (current %r, wanted %r)" % (c.path, c.before, c.after)
                            for c in replace)
        if not desired["recreate"]:
            raise Conflict(details, kind=KIND, name=name,
                           hint="set recreate: true to undefine the pool and define it again; its files "
                                "are kept")
        if world.volumes is None and not desired["force"]:
            raise Conflict("%s; the pool is stopped, so its volumes cannot be listed" % details,
                           kind=KIND, name=name, hint="start it first, or set force: true as well")
        if world.volumes and not desired["force"]:
            raise Conflict("%s; recreate refused: the pool holds %s" % (details, _volume_list(world.volumes)),
                           kind=KIND, name=name,
                           hint="set force: true as well to redefine it anyway; the files are kept")

    @staticmethod
    def _refresh_facts(desired, world, after, facts, notes):
        if not desired["refresh"]:
            return
        if after.get("active"):
            facts["refresh"] = True
            notes.append("the pool's volumes are rescanned (refresh: true; not a change, not done in "
                         "check mode)")
        else:
            notes.append("refresh skipped: the pool is not running")

    def _plan_delete(self, desired, world):
        name, current = desired["name"], world.current
        if current is None:
            return Plan(KIND, name, NONE, before=None, after=None,
                        facts={"volumes": 0, "remove_directory": False, "warnings": []})
        volumes = world.volumes
        if volumes is None and not desired["force"]:
            raise Conflict("the pool is stopped and its volumes cannot be listed here, so it cannot be "
                           "shown to be empty; refusing to delete it", kind=KIND, name=name,
                           hint="start it first, or set force: true; the files are kept")
        if volumes and not desired["force"]:
            raise Conflict("still holds %s; refusing to delete it" % _volume_list(volumes),
                           kind=KIND, name=name,
                           hint="delete the volumes first, or set force: true to delete only the pool's "
                                "definition; the files are kept")
        notes, warnings = [], []
        info = world.paths.get(current.get("path") or "")
        remove_dir = bool(info and info.get("marked") and info["kind"] == "dir"
                          and (current.get("type") == "netfs" or info.get("entries") == 0))
        path = current.get("path")
        if current.get("type") == "logical":
            notes.append("the volume group %s and its logical volumes are kept" % (
                (current.get("source") or {}).get("name")))
        elif remove_dir:
            notes.append("the empty directory %s, which converge.virt created, is removed" % path)
        else:
            notes.append("the directory %s is kept (%s)" % (path, _kept_reason(info)))
        if volumes:
            warnings.append("deleting pool %s, which holds %s (force: true); the files are kept" % (
                name, _volume_list(volumes)))
        return Plan(KIND, name, DELETE, [Change("pool", "remove", None, None, REPLACE)],
                    before=copy.deepcopy(current), after=None, notes=notes,
                    facts={"volumes": _count(volumes), "remove_directory": remove_dir,
                           "warnings": warnings})


# ---- helpers ---------------------------------------------------------------------------------
def _id(value, field, problems):
    """A uid/gid: an int, a string of digits, or a name (resolved against the host later)."""
    if value is None:
        return None
    if isinstance(value, bool):
        problems.add(field, "must be a numeric id or a name, not a boolean")
        return None
    if isinstance(value, int) or (isinstance(value, str) and re.match(r"^\s*-?[0-9]+\s*\Z", value)):
        number = int(value)
        if not 0 <= number <= _MAX_ID:
            problems.add(field, "%s is out of range (0-%d)" % (value, _MAX_ID))
            return None
        return number
    if (isinstance(value, str) and value.strip() and not _CONTROL.search(value) and ":" not in value
            and not value.strip().startswith("-")):
        return value.strip()
    problems.add(field, "%r is neither a numeric id nor a valid name" % (value,))
    return None


def _mode(value, problems):
    if value is None:
        return None
    if isinstance(value, (bool, int, float)):
        problems.add("mode", "%r: give the mode as a quoted octal string such as '0755' (YAML reads an "
                             "unquoted 0755 as the number 493)" % (value,))
        return None
    text = str(value).strip()
    if not _MODE.match(text):
        problems.add("mode", "%r is not an octal mode (three or four digits 0-7, e.g. '0755')" % (value,))
        return None
    return "%04o" % int(text, 8)


def _source(spec, problems):
    if spec is None:
        return None
    result = dict.fromkeys(("host", "dir", "format", "name", "devices"))
    host = spec.get("host")
    if host is not None:
        addr = None
        try:
            addr = ipaddress.ip_address(str(host).strip())
        except ValueError:
            result["host"] = validate.host_name(host, "source.host", problems)
        if addr is not None:
            result["host"] = str(addr)
    directory = spec.get("dir")
    if directory is not None:
        if not isinstance(directory, str) or not directory.strip() or _CONTROL.search(directory) \
                or ".." in directory.split("/"):
            problems.add("source.dir", "%r is not a usable export path or share name" % (directory,))
        else:
            result["dir"] = directory.strip()
            if len(result["dir"]) > 1:
                result["dir"] = result["dir"].rstrip("/")
    fmt = spec.get("format")
    if fmt is not None:
        if fmt not in NETFS_FORMATS:
            problems.add("source.format", "must be one of %s" % ", ".join(NETFS_FORMATS))
        else:
            result["format"] = fmt
    if spec.get("name") is not None:
        result["name"] = validate.resource_name(spec["name"], "source.name", problems, max_length=127)
    devices = spec.get("devices")
    if devices is not None:
        paths = [validate.absolute_path(d, "source.devices[%d]" % i, problems) for i, d in enumerate(devices)]
        if len(set(paths)) != len(paths):
            problems.add("source.devices", "lists a device twice")
        result["devices"] = sorted(p for p in paths if p)
    return result


def _build_default(desired, pool_type):
    """``build`` as given, else true for dir and netfs, false for logical (vgcreate is destructive)."""
    if desired.get("build") is not None:
        return bool(desired["build"])
    return pool_type != "logical"


def _permission_effect(world, pool_type):
    if pool_type == "netfs":
        return REPLACE  # the mount point's own permissions are hidden by the mounted share
    return LIVE if world.local else RESTART


def _count(volumes):
    return None if volumes is None else len(volumes)


def _volume_list(volumes):
    names = sorted(volumes)
    shown = ", ".join(names[:MAX_NAMED_VOLUMES])
    if len(names) > MAX_NAMED_VOLUMES:
        shown += ", ... (%d more)" % (len(names) - MAX_NAMED_VOLUMES)
    return "%d volume%s: %s" % (len(names), "" if len(names) == 1 else "s", shown)


def _kept_reason(info):
    if not info:
        return "its contents cannot be inspected on a remote hypervisor"
    if info["kind"] != "dir":
        return "it does not exist" if info["kind"] == "missing" else "it is not a directory"
    if not info.get("marked"):
        return "converge.virt did not create it"
    return "it is not empty"
