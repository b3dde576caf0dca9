# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Storage volumes: the backend-neutral spec, its validation, and the planner.

Normalized state (what ``current`` and ``after`` look like)::

    name, pool, path, key, format, capacity, allocation, physical (bytes),
    backing: {path, format} or None            (the immediate backing file)
    backing_chain: [{path, format}, ...]       (backing files, nearest first)
    users: [{instance, running, target}]       (defined instances with the volume as a disk)

Effects: ``capacity`` grows live (through the instance's block resize when a running instance
has the volume attached); ``format`` and ``backing`` (how the volume was made: empty, linked
clone, full copy) are create-only and change only by deleting and creating the volume again
(``recreate``).  ``content`` is uploaded once, when the volume is created.
"""

from __future__ import annotations

import copy
import struct

from ansible_collections.converge.virt.plugins.module_utils.engine import validate
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import (
    Conflict, NotFound, Problems,
)
from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Planner
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, NONE, REPLACE, UPDATE,
    Change, Field, Plan,
)

KIND = "volume"
FORMATS = ("qcow2", "raw")
QCOW2_MAGIC = b"QFI\xfb"
# qcow2 stores its virtual size in whole 512-byte sectors: libvirt/qemu round a requested
# capacity up to the next multiple, so the request is rounded the same way before comparing.
QCOW2_ALIGN = 512

# Fields shown in the diff and compared.  Everything else in the state is read-only.
SCHEMA = {
    "format": Field(REPLACE),
    "backing": Field(REPLACE),
    "capacity": Field(LIVE),
}
_RECREATE_HINT = "set recreate: true to delete the volume and create it again (its data is lost)"


def aligned_capacity(size, fmt):
    """The capacity libvirt gives a volume of ``fmt`` asked for ``size`` bytes."""
    if size is None:
        return None
    if fmt == "qcow2":
        return -(-size // QCOW2_ALIGN) * QCOW2_ALIGN
    return size


def parse_image_header(head, length):
    """Format facts of a file from its first bytes: {format, virtual_size, backing}.

    A qcow2 file is recognised by its magic ``QFI\\xfb``; its virtual size is the big-endian
    64-bit number at offset 24 and a non-zero backing file offset (offset 8) means it has a
    backing file.  Anything else is raw: its virtual size is its length."""
    if len(head) >= 32 and head[:4] == QCOW2_MAGIC:
        backing_offset = struct.unpack(">Q", head[8:16])[0]
        virtual_size = struct.unpack(">Q", head[24:32])[0]
        return {"format": "qcow2", "virtual_size": virtual_size, "backing": backing_offset != 0,
                "length": length}
    return {"format": "raw", "virtual_size": length, "backing": False, "length": length}


class VolumeWorld(object):
    """What the planner needs to know about the host, read by a driver."""

    def __init__(self, current=None, pool=None, image=None, image_pool=None, image_candidates=None,
                 content=None, dependents=None):
        self.current = current              # normalized state, or None if absent
        self.pool = pool                    # {name, type, path, active}, or None if the pool is missing
        self.image = image                  # normalized state of the image (base volume), or None
        self.image_pool = image_pool        # pool_info of the image's pool (when an image is named)
        self.image_candidates = list(image_candidates or [])  # volume names in the image's pool
        # Facts of the content file ({format, virtual_size, backing, length} or {error}), or None.
        self.content = content
        self.dependents = list(dependents or [])  # "pool/name" of volumes backed by this one


class VolumePlanner(Planner):
    kind = KIND
    schema = SCHEMA

    # ---- desired state -------------------------------------------------------------------
    def normalize(self, params):
        problems = Problems()
        name = validate.volume_name(params.get("name"), "name", problems)
        pool = validate.resource_name(params.get("pool"), "pool", problems)
        fmt = params.get("format")
        if fmt is not None and fmt not in FORMATS:
            problems.add("format", "must be one of %s" % ", ".join(FORMATS))
        image = params.get("image")
        if image is not None:
            image = validate.volume_name(image, "image", problems)
        image_pool = params.get("image_pool")
        if image_pool is not None:
            image_pool = validate.resource_name(image_pool, "image_pool", problems)
        linked = params.get("linked")
        content = params.get("content")
        if content is not None:
            content = validate.absolute_path(content, "content", problems)
        desired = {
            "name": name,
            "pool": pool,
            "state": params.get("state") or "present",
            "size": validate.size(params.get("size"), "size", problems),
            "format": fmt,
            "image": image,
            "image_pool": image_pool or pool,
            "linked": True if linked is None else bool(linked),
            "content": content,
            "wipe": bool(params.get("wipe")),
            "force": bool(params.get("force")),
            "recreate": bool(params.get("recreate")),
        }
        if params.get("image") is not None and params.get("content") is not None:
            problems.add("content", "cannot be combined with image: a volume starts either from an "
                                    "image or from uploaded content")
        if params.get("image") is None:
            if params.get("image_pool") is not None:
                problems.add("image_pool", "is only used with image")
            if linked is not None:
                problems.add("linked", "is only used with image")
        elif desired["linked"] and fmt == "raw":
            problems.add("format", "a linked clone is a qcow2 volume (the backing file is recorded "
                                   "in its qcow2 header); use format: qcow2, or linked: false for a "
                                   "raw full copy")
        if (image is not None and name is not None and desired["image_pool"] == pool
                and image == name):
            problems.add("image", "a volume cannot be a clone of itself")
        problems.raise_if_any(KIND, params.get("name"))
        return desired

    # ---- plan ------------------------------------------------------------------------------
    def plan(self, desired, world):
        if desired["state"] == "absent":
            return self._plan_delete(desired, world)
        name, current = desired["name"], world.current
        if current is None:
            after, source = self._creation(desired, world)
            changes = [Change(field, "add", None, after[field], SCHEMA[field].effect)
                       for field in SCHEMA if after.get(field) is not None]
            return Plan(KIND, name, CREATE, changes, before=None, after=after,
                        desired=dict(after, source=source, wipe=desired["wipe"]),
                        notes=["create volume %s in pool %s (%s)" % (name, desired["pool"],
                                                                     _describe(source))],
                        facts={"replace": False, "resize": None, "users": []})

        replace = self._create_only_changes(desired, world)
        if replace:
            return self._plan_replace(desired, world, replace)

        before = copy.deepcopy(current)
        after = copy.deepcopy(current)
        changes, notes, resize = [], [], None
        want = aligned_capacity(desired["size"], current.get("format"))
        have = current.get("capacity")
        if want is not None and have is not None and want != have:
            # A capacity within libvirt's rounding of the request is the request.
            if desired["size"] <= have < want:
                pass
            elif want < have:
                raise Conflict(
                    "cannot shrink the volume from %s to %s: shrinking cuts off the end of the disk, "
                    "and with it whatever the guest's partitions and file systems keep there"
                    % (_size(have), _size(desired["size"])),
                    kind=KIND, name=name,
                    hint="keep size at %s or more; to get a smaller disk, create a new volume and "
                         "copy the data inside the guest" % _size(have))
            else:
                after["capacity"] = want
                changes.append(Change("capacity", "modify", have, want, LIVE))
                running = [u for u in current.get("users") or [] if u.get("running")]
                if running:
                    resize = {"instance": running[0]["instance"], "target": running[0]["target"],
                              "capacity": want}
                    notes.append("volume %s grows to %s live through instance %s (disk %s): the "
                                 "guest sees the new size" % (name, _size(want), resize["instance"],
                                                              resize["target"]))
                else:
                    resize = {"instance": None, "target": None, "capacity": want}
                    notes.append("volume %s grows to %s" % (name, _size(want)))
        action = UPDATE if changes else NONE
        return Plan(KIND, name, action, changes, before=before, after=after,
                    desired=dict(after, wipe=desired["wipe"]), notes=notes,
                    facts={"replace": False, "resize": resize, "users": current.get("users") or []})

    # ---- creating --------------------------------------------------------------------------
    def _creation(self, desired, world, default_size=None):
        """(predicted state, source) of a volume created from ``desired``; validates against world.

        ``default_size``: the size of an empty volume when the spec has none (a recreation keeps
        the old capacity)."""
        name = desired["name"]
        problems = Problems()
        pool = world.pool or {}
        path = None
        if pool.get("path"):
            if not validate.path_inside(pool["path"], name):
                problems.add("name", "%r would leave the directory of pool %s" % (name, pool.get("name")))
            else:
                path = pool["path"].rstrip("/") + "/" + name
        fmt = desired["format"]
        backing, chain = None, []
        minimum = None
        if desired["image"] is not None:
            image = self._image(desired, world)
            minimum = image.get("capacity")
            if desired["linked"]:
                fmt = fmt or "qcow2"
                backing = {"path": image["path"], "format": image.get("format") or "raw"}
                chain = [dict(backing)] + copy.deepcopy(image.get("backing_chain") or [])
                source = {"type": "clone", "image": image["name"], "image_pool": image["pool"],
                          "image_path": image["path"], "image_format": backing["format"]}
            else:
                fmt = fmt or "qcow2"
                source = {"type": "copy", "image": image["name"], "image_pool": image["pool"],
                          "image_path": image["path"], "image_capacity": image.get("capacity")}
        elif desired["content"] is not None:
            content = world.content or {"error": "was not read"}
            if content.get("error"):
                problems.add("content", "%s: %s" % (desired["content"], content["error"]))
                problems.raise_if_any(KIND, name)
            fmt = fmt or content["format"]
            if content.get("backing"):
                problems.add("content", "%s is a qcow2 image with a backing file; upload a "
                                        "self-contained image (qemu-img convert -O qcow2 it first)"
                             % desired["content"])
            if content["format"] != fmt:
                problems.add("content", "%s is a %s file but the volume's format is %s; the file's "
                                        "bytes become the volume's bytes, so set format: %s (or "
                                        "convert the file with qemu-img convert -O %s first)"
                             % (desired["content"], content["format"], fmt, content["format"], fmt))
            minimum = content["virtual_size"]
            source = {"type": "upload", "content": desired["content"], "length": content["length"],
                      "format": content["format"]}
        else:
            fmt = fmt or "qcow2"
            source = {"type": "empty"}
            if desired["size"] is None and default_size is None:
                problems.add("size", "is required to create an empty volume")
        size = desired["size"] if desired["size"] is not None else minimum
        if size is None:
            size = default_size
        if minimum is not None and desired["size"] is not None and desired["size"] < minimum:
            problems.add("size", "%s is smaller than the %s it starts from (%s); a volume can only "
                                 "be as large or larger" % (_size(desired["size"]), _origin(source),
                                                            _size(minimum)))
        problems.raise_if_any(KIND, name)
        capacity = aligned_capacity(size, fmt)
        source["capacity"] = capacity
        after = {
            "name": name, "pool": desired["pool"], "path": path, "key": path, "format": fmt,
            "capacity": capacity, "allocation": None, "physical": None,
            "backing": backing, "backing_chain": chain, "users": [],
        }
        return after, source

    def _image(self, desired, world):
        image = world.image
        if image is None:
            others = [n for n in world.image_candidates if n != desired["name"]]
            raise NotFound(
                "image %r does not exist in pool %s (volumes there: %s)"
                % (desired["image"], desired["image_pool"], ", ".join(sorted(others)) or "none"),
                kind=KIND, name=desired["name"],
                hint="create or download it first (converge.virt.image), or fix image/image_pool")
        if not image.get("path"):
            raise Conflict("image %r of pool %s has no file path to use as a base"
                           % (desired["image"], desired["image_pool"]), kind=KIND, name=desired["name"])
        return image

    def _create_only_changes(self, desired, world):
        """Changes to create-only fields the spec asks for on an existing volume."""
        current = world.current
        changes = []
        if desired["format"] is not None and desired["format"] != current.get("format"):
            changes.append(Change("format", "modify", current.get("format"), desired["format"], REPLACE))
        have = current.get("backing")
        if desired["image"] is not None:
            if desired["linked"]:
                image = self._image(desired, world)
                if have is None or have.get("path") != image["path"]:
                    want = {"path": image["path"], "format": image.get("format") or "raw"}
                    changes.append(Change("backing", "add" if have is None else "modify", have, want,
                                          REPLACE))
            elif have is not None:
                # A full copy stands alone; a volume with a backing file is not one.
                changes.append(Change("backing", "remove", have, None, REPLACE))
        return changes

    def _plan_replace(self, desired, world, changes):
        name, current = desired["name"], world.current
        if not desired["recreate"]:
            first = changes[0]
            raise Conflict(
                "%s is create-only: the volume has %s, the spec asks for %s"
                % (first.path, _show(first.path, first.before), _show(first.path, first.after))
                + "".join("; %s also differs (%s, wanted %s)" % (
                    c.path, _show(c.path, c.before), _show(c.path, c.after)) for c in changes[1:]),
                kind=KIND, name=name, hint=_RECREATE_HINT)
        warnings = self._check_removable(desired, world, "recreate")
        after, source = self._creation(desired, world, default_size=current.get("capacity"))
        if after["capacity"] != current.get("capacity"):
            changes.append(Change("capacity", "modify", current.get("capacity"), after["capacity"], REPLACE))
        text = ("volume %s is deleted and created again (%s): its data is lost"
                % (name, _describe(source)))
        return Plan(KIND, name, UPDATE, changes, before=copy.deepcopy(current), after=after,
                    desired=dict(after, source=source, wipe=desired["wipe"]),
                    notes=[text], facts={"replace": True, "resize": None,
                                         "users": current.get("users") or [],
                                         "warnings": [text] + warnings})

    # ---- deleting --------------------------------------------------------------------------
    def _plan_delete(self, desired, world):
        name, current = desired["name"], world.current
        if current is None:
            return Plan(KIND, name, NONE, before=None, after=None,
                        facts={"replace": False, "resize": None, "users": []})
        warnings = self._check_removable(desired, world, "delete")
        return Plan(KIND, name, DELETE, [Change("volume", "remove", None, None, REPLACE)],
                    before=copy.deepcopy(current), after=None,
                    desired={"name": name, "pool": desired["pool"], "wipe": desired["wipe"]},
                    notes=["delete volume %s of pool %s%s" % (
                        name, desired["pool"], " after wiping it" if desired["wipe"] else "")],
                    facts={"replace": False, "resize": None, "users": current.get("users") or [],
                           "warnings": warnings})

    @staticmethod
    def _check_removable(desired, world, verb):
        """Refuse to remove a volume in use; with force, the warnings to give instead."""
        name, current = desired["name"], world.current
        users = current.get("users") or []
        running = [u for u in users if u.get("running")]
        if running:
            raise Conflict(
                "refusing to %s the volume: it is attached to running instance(s) %s, and qemu keeps "
                "it open (force does not override this)" % (verb, _users(running)),
                kind=KIND, name=name, hint="stop the instance(s) or detach the disk first")
        warnings = []
        if users:
            if not desired["force"]:
                raise Conflict("refusing to %s the volume: it is a disk of defined instance(s) %s"
                               % (verb, _users(users)), kind=KIND, name=name,
                               hint="remove the disk from those instances, or set force: true "
                                    "(they then point at a missing disk)")
            warnings.append("volume %s was a disk of instance(s) %s (force: true); they now point at "
                            "a missing disk" % (name, _users(users)))
        if world.dependents:
            if not desired["force"]:
                raise Conflict("refusing to %s the volume: it is the backing file of %s"
                               % (verb, ", ".join(world.dependents)), kind=KIND, name=name,
                               hint="delete those volumes first, or set force: true (they become "
                                    "unusable)")
            warnings.append("volume %s was the backing file of %s (force: true); they are unusable "
                            "now" % (name, ", ".join(world.dependents)))
        return warnings

    def outputs(self, plan):
        return {}


def _users(users):
    return ", ".join("%s (%s, disk %s)" % (
        u["instance"], "running" if u.get("running") else "stopped", u.get("target") or "?") for u in users)


def _size(value):
    if value is None:
        return "unknown"
    text = validate.human_size(value)
    return text if text.endswith(" B") else "%s (%d bytes)" % (text, value)


def _show(field, value):
    if field == "backing":
        return "backing file %s" % value["path"] if value else "no backing file"
    return "%s %s" % (field, "none" if value is None else value)


def _origin(source):
    if source["type"] in ("clone", "copy"):
        return "image %s" % source["image"]
    return "content %s" % source.get("content")


def _describe(source):
    kind = source["type"]
    if kind == "clone":
        return "linked clone of %s/%s" % (source["image_pool"], source["image"])
    if kind == "copy":
        return "full copy of %s/%s" % (source["image_pool"], source["image"])
    if kind == "upload":
        return "uploading %s" % source["content"]
    return "empty"
