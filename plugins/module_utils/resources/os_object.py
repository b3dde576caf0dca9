# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Swift containers and objects: the specs and planners of ``object_container`` and ``object``.

Metadata keys are Swift header names: lower-cased, and ``_`` is refused because Swift drops
header names with underscores without a word.  The collection marks what it creates with the
metadata key ``converge-virt-managed: true`` (OWNER_METADATA_KEY spelled as Swift keeps it),
never shown in ``metadata``.  An object is identified by its MD5 (Swift's ETag): the local
file or content is hashed where the module runs, the object is never downloaded or uploaded to
find out.  New content overwrites the object atomically, so it is a live change.
"""

from __future__ import annotations

import copy
import hashlib
import re

from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Planner
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, Problems
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, NONE, REPLACE, UPDATE, Change, Field, Plan, compare,
)

OWNER_KEY = "converge-virt-managed"  # OWNER_METADATA_KEY with Swift's '-' (it drops '_' headers)
STACK_KEY = "converge-virt-stack"  # the stack that owns the container or object (openstack/ownership.py)
PUBLIC_READ_ACL = ".r:*,.rlistings"
_META_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,127}\Z")

CONTAINER_SCHEMA = {
    "read_acl": Field(LIVE),
    "write_acl": Field(LIVE),
}
OBJECT_SCHEMA = {
    "etag": Field(LIVE),
    "content_type": Field(LIVE),
}


def user_metadata(metadata):
    """Metadata as the user sees it: without the owner marker."""
    return dict((k, v) for k, v in (metadata or {}).items() if k not in (OWNER_KEY, STACK_KEY, "converge_virt_managed"))


def normalize_metadata(value, field, problems):
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.add(field, "must be a dict of keys to values")
        return None
    result = {}
    for key, val in value.items():
        text = str(key).strip().lower()
        if "_" in text:
            problems.add(field, "%r: Swift drops metadata keys with '_' (they travel as HTTP header "
                                "names); use '-'" % (key,))
        elif not _META_KEY.match(text):
            problems.add(field, "%r is not a metadata key (letters, digits and '-', at most 128)" % (key,))
        elif text in (OWNER_KEY, STACK_KEY):
            problems.add(field, "%r is the collection's own marker; leave it out" % (key,))
        elif val is None or isinstance(val, (dict, list)):
            problems.add(field, "%r: a value is a string, number or boolean" % (key,))
        else:
            result[text] = ("true" if val else "false") if isinstance(val, bool) else str(val)
    return result


def metadata_changes(desired, current, purge):
    """``(after, changes)`` for metadata: only the keys given are managed unless ``purge``."""
    return mapping_changes("metadata", user_metadata(current), desired, purge)


def mapping_changes(field, have, want, purge):
    """``(after, changes)`` for a dict of live key/value pairs ``field`` (Swift metadata, Glance
    properties): ``have`` as it is, ``want`` as given (None: not managed); only the keys given are
    managed unless ``purge``.  Changes are named ``<field>.<key>``."""
    if want is None:
        return have, []
    after = dict(want) if purge else dict(have, **want)
    changes = []
    for key in sorted(set(have) | set(after)):
        path = "%s.%s" % (field, key)
        if key not in have:
            changes.append(Change(path, "add", None, after[key], LIVE))
        elif key not in after:
            changes.append(Change(path, "remove", have[key], None, LIVE))
        elif have[key] != after[key]:
            changes.append(Change(path, "modify", have[key], after[key], LIVE))
    return after, changes


def _name(value, field, problems, what, allow_slash):
    if not isinstance(value, str) or not value:
        problems.add(field, "must be a non-empty string")
        return None
    if re.search(r"[\x00-\x1f\x7f]", value):
        problems.add(field, "%r must not contain control characters" % value)
        return None
    if not allow_slash and "/" in value:
        problems.add(field, "%r: a %s name must not contain '/'" % (value, what))
        return None
    limit = 1024 if allow_slash else 256
    if len(value.encode("utf-8")) > limit:
        problems.add(field, "is longer than %d bytes" % limit)
        return None
    return value


class OsObjectContainerPlanner(Planner):
    kind = "object_container"
    schema = CONTAINER_SCHEMA

    def normalize(self, params):
        problems = Problems()
        name = _name(params.get("name"), "name", problems, "container", False)
        desired = {
            "name": name,
            "state": params.get("state") or "present",
            "metadata": normalize_metadata(params.get("metadata"), "metadata", problems),
            "purge_metadata": bool(params.get("purge_metadata")),
            "read_acl": params.get("read_acl"),
            "write_acl": params.get("write_acl"),
            "delete_objects": bool(params.get("delete_objects")),
        }
        public = params.get("public")
        if public is not None:
            if desired["read_acl"] is not None:
                problems.add("public", "public and read_acl are mutually exclusive (public: true is "
                                       "read_acl: '%s')" % PUBLIC_READ_ACL)
            else:
                desired["read_acl"] = PUBLIC_READ_ACL if public else ""
        for field in ("read_acl", "write_acl"):
            if desired[field] is not None:
                desired[field] = ",".join(p.strip() for p in str(desired[field]).split(",") if p.strip())
        problems.raise_if_any(self.kind, name)
        return desired

    def plan(self, desired, world):
        name, current = desired["name"], world.current
        if desired["state"] == "absent":
            if current is None:
                return Plan(self.kind, name, NONE, desired=desired)
            count = current.get("object_count") or 0
            if count and not desired["delete_objects"]:
                raise Conflict("the container holds %d object(s); refusing to delete it" % count,
                               kind=self.kind, name=name,
                               hint="delete the objects first, or set delete_objects: true to delete them too")
            notes = ["its %d object(s) are deleted too (delete_objects: true)" % count] if count else []
            return Plan(self.kind, name, DELETE, [Change("name", "remove", name, None, REPLACE)],
                        before=copy.deepcopy(current), after=None, desired=desired, notes=notes)
        live = {"read_acl": desired["read_acl"], "write_acl": desired["write_acl"]}
        if current is None:
            meta = dict(desired["metadata"] or {})
            after = {"name": name, "object_count": 0, "bytes_used": 0, "metadata": meta,
                     "read_acl": desired["read_acl"] or "", "write_acl": desired["write_acl"] or "",
                     "public": _is_public(desired["read_acl"]), "managed": True}
            return Plan(self.kind, name, CREATE, compare(live, {}, CONTAINER_SCHEMA),
                        before=None, after=after, desired=dict(desired, after=after))
        changes = compare(live, current, CONTAINER_SCHEMA)
        meta_after, meta_changes = metadata_changes(desired["metadata"], current.get("metadata"),
                                                    desired["purge_metadata"])
        changes.extend(meta_changes)
        after = copy.deepcopy(current)
        for field, value in live.items():
            if value is not None:
                after[field] = value
        after["public"] = _is_public(after["read_acl"])
        after["metadata"] = meta_after
        return Plan(self.kind, name, UPDATE if changes else NONE, changes, before=copy.deepcopy(current),
                    after=after, desired=dict(desired, after=after))


def _is_public(read_acl):
    return ".r:*" in (read_acl or "").split(",")


class ObjectWorld(object):
    """``current``: the object's state or None; ``container``: whether the container exists;
    ``local``: ``{"md5", "size"}`` of the file ``src`` names, hashed where the module runs."""

    def __init__(self, current=None, container=True, local=None):
        self.current = current
        self.container = container
        self.local = local


class OsObjectPlanner(Planner):
    kind = "object"
    schema = OBJECT_SCHEMA

    def normalize(self, params):
        problems = Problems()
        container = _name(params.get("container"), "container", problems, "container", False)
        name = _name(params.get("name"), "name", problems, "object", True)
        state = params.get("state") or "present"
        desired = {
            "container": container,
            "name": name,
            "state": state,
            "src": params.get("src"),
            "content": None,
            "content_md5": None,
            "content_type": params.get("content_type"),
            "metadata": normalize_metadata(params.get("metadata"), "metadata", problems),
            "purge_metadata": bool(params.get("purge_metadata")),
        }
        if params.get("content") is not None:
            if desired["src"] is not None:
                problems.add("content", "content and src are mutually exclusive")
            data = params["content"].encode("utf-8")
            desired["content"] = params["content"]
            desired["content_md5"] = hashlib.md5(data).hexdigest()
            desired["content_size"] = len(data)
        elif state == "present" and desired["src"] is None:
            problems.add("src", "one of src and content is needed with state: present")
        problems.raise_if_any(self.kind, name)
        return desired

    def plan(self, desired, world):
        name, current = desired["name"], world.current
        if not world.container:
            raise Conflict("the container %r does not exist" % desired["container"], kind=self.kind, name=name,
                           hint="create it first with converge.virt.object_container")
        if desired["state"] == "absent":
            if current is None:
                return Plan(self.kind, name, NONE, desired=desired)
            return Plan(self.kind, name, DELETE, [Change("etag", "remove", current["etag"], None, REPLACE)],
                        before=copy.deepcopy(current), after=None, desired=desired)
        if desired["content_md5"] is not None:
            md5, size = desired["content_md5"], desired["content_size"]
        else:
            md5, size = world.local["md5"], world.local["size"]
        want = {"etag": md5, "content_type": desired["content_type"]}
        if current is None:
            meta = dict(desired["metadata"] or {})
            after = {"container": desired["container"], "name": name, "etag": md5, "size": size,
                     "content_type": desired["content_type"],
                     "metadata": meta, "managed": True}
            return Plan(self.kind, name, CREATE, compare(want, {}, OBJECT_SCHEMA), before=None, after=after,
                        desired=dict(desired, after=after, upload=True))
        changes = compare(want, current, OBJECT_SCHEMA)
        meta_after, meta_changes = metadata_changes(desired["metadata"], current.get("metadata"),
                                                    desired["purge_metadata"])
        changes.extend(meta_changes)
        after = copy.deepcopy(current)
        after["metadata"] = meta_after
        after["etag"], after["size"] = md5, size
        if desired["content_type"] is not None:
            after["content_type"] = desired["content_type"]
        upload = current["etag"] != md5
        notes = ["new content: the object is overwritten (atomically)"] if upload else []
        return Plan(self.kind, name, UPDATE if changes else NONE, changes, before=copy.deepcopy(current),
                    after=after, notes=notes,
                    desired=dict(desired, after=after, upload=upload, managed=current.get("managed")))
