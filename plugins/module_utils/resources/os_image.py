# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Glance images: the backend-neutral spec and planner of the OpenStack side of ``image``.

The content (source, checksum, disk and container format) is create-only: Glance never rewrites
an image's bytes.  A content change is refused, unless ``recreate`` (upload a new image, then
delete the old one) or ``on_source_change: new_version`` (a new image named after the digest,
the old one untouched) says otherwise.  Visibility, protection, minimums, tags and properties
are updated in place with one JSON patch.

What was uploaded is recorded on the image itself, in properties hidden from the user-visible
``properties``: ``owner_specified.openstack.sha256`` (the content's sha256, openstacksdk's own
convention), ``converge_virt_checksum`` (the source's digest, ``<algo>:<hex>``) and
``converge_virt_source`` (where it came from).  The driver answers "does the image hold the
wanted content?" from those (or Glance's own sha512), never by uploading again.
"""

from __future__ import annotations

import copy

from ansible_collections.converge.virt.plugins.module_utils.engine import validate
from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Planner
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, InvalidSpec, Problems
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, NONE, REPLACE, UPDATE, Change, Field, Plan, compare,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.image import (
    NO_TRANSFER,
    check_content_options,
    content_identity,
    content_options,
    parse_content,
    parse_source,
    versioned_name,
    wanted_digest,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.os_object import mapping_changes
from ansible_collections.converge.virt.plugins.module_utils.resources.os_common import OWNER_TAG, STACK_TAG_PREFIX, is_stack_tag

KIND = "image"
VISIBILITIES = ("private", "shared", "community", "public")
CONTAINER_FORMATS = ("bare", "ovf", "ova", "aki", "ari", "ami", "docker", "compressed")

# Properties the collection keeps on the images it uploads (never shown as user properties).
SHA256_PROPERTY = "owner_specified.openstack.sha256"
CHECKSUM_PROPERTY = "converge_virt_checksum"
SOURCE_PROPERTY = "converge_virt_source"
INTERNAL_PREFIXES = ("owner_specified.openstack.", "converge_virt_", "os_glance_")
# Image attributes of Glance's own schema: not properties, and never settable through them.
CORE_ATTRIBUTES = frozenset((
    "id", "name", "status", "visibility", "protected", "os_hidden", "checksum", "os_hash_algo",
    "os_hash_value", "owner", "size", "virtual_size", "min_ram", "min_disk", "created_at",
    "updated_at", "tags", "disk_format", "container_format", "direct_url", "locations", "self",
    "file", "schema", "stores", "member_status", "image_id",
))

SCHEMA = {
    "format": Field(REPLACE),
    "container_format": Field(REPLACE),
    "visibility": Field(LIVE),
    "protected": Field(LIVE),
    "min_disk": Field(LIVE),
    "min_ram": Field(LIVE),
    "tags": Field(LIVE),
}
LIVE_FIELDS = ("visibility", "protected", "min_disk", "min_ram", "tags")


def is_user_property(key):
    """Whether an image's extra property belongs to the user (not Glance's, not ours)."""
    return key not in CORE_ATTRIBUTES and not key.startswith(INTERNAL_PREFIXES)


def property_value(value):
    """Glance keeps properties as strings: booleans become ``true``/``false``, numbers text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class OsImageWorld(object):
    """What the driver read: the image (``current``), whether it holds the wanted content
    (``matches``: True, False, or None when that cannot be told without uploading), why
    (``reason``), the wanted content as far as known (``wanted``: sha256/checksum/format), the
    image a new version would be (``versioned``, ``versioned_matches``), and ``is_admin``."""

    def __init__(self, current=None, matches=None, reason=None, wanted=None, versioned=None,
                 versioned_matches=None, is_admin=False):
        self.current = current
        self.matches = matches
        self.reason = reason
        self.wanted = dict(wanted or {})
        self.versioned = versioned
        self.versioned_matches = versioned_matches
        self.is_admin = is_admin


class OsImagePlanner(Planner):
    kind = KIND
    schema = SCHEMA

    # ---- desired state -----------------------------------------------------------------
    def normalize(self, params):
        problems = Problems()
        name = validate.resource_name(params.get("name"), "name", problems, max_length=255)
        state = params.get("state") or "present"
        desired = {"name": name, "state": state}
        desired.update(content_options(params))
        desired.update({
            "container_format": params.get("container_format") or "bare",
            "recreate": bool(params.get("recreate")),
            "force": bool(params.get("force")),
            "wait_timeout": params.get("wait_timeout") if params.get("wait_timeout") is not None else 600,
            "visibility": params.get("visibility"),
            "protected": params.get("protected"),
            "min_disk": params.get("min_disk"),
            "min_ram": params.get("min_ram"),
            "tags": None,
            "properties": None,
            "purge_properties": bool(params.get("purge_properties")),
            "source": None,
        })
        check_content_options(desired, problems)
        if desired["container_format"] not in CONTAINER_FORMATS:
            problems.add("container_format", "must be one of %s" % ", ".join(CONTAINER_FORMATS))
        if desired["visibility"] is not None and desired["visibility"] not in VISIBILITIES:
            problems.add("visibility", "must be one of %s" % ", ".join(VISIBILITIES))
        validate.int_range(desired["wait_timeout"], "wait_timeout", problems, 1, 86400, " s")
        validate.int_range(desired["min_disk"], "min_disk", problems, 0, 1024 * 1024, " GiB")
        validate.int_range(desired["min_ram"], "min_ram", problems, 0, 1024 * 1024 * 1024, " MiB")
        if desired["protected"] is not None:
            desired["protected"] = bool(desired["protected"])
        if params.get("tags") is not None:
            desired["tags"] = self._tags(params["tags"], problems)
        if params.get("properties") is not None:
            desired["properties"] = self._properties(params["properties"], problems)
        parse_content(params, desired, problems)
        if desired["controller_file"] is not None:
            # Glance's side also learns whether the controller file is compressed.
            desired["controller_file"]["compression"] = params["_controller_file"].get("compression")
        if state == "present":
            # A file source is hashed by the driver, so its digest names a new version.
            parse_source(params, desired, problems, named_by_content=("src", "path"))
        problems.raise_if_any(KIND, params.get("name"))
        return desired

    @staticmethod
    def _tags(value, problems):
        tags = []
        for tag in value:
            text = str(tag)
            if not text or len(text) > 255:
                problems.add("tags", "%r: a tag is 1-255 characters" % (tag,))
            elif text == OWNER_TAG:
                problems.add("tags", "%r is the collection's own tag (set on every image it creates); "
                                     "leave it out" % OWNER_TAG)
            elif is_stack_tag(text):
                problems.add("tags", "%r: tags starting with %s mark what a stack owns" % (text, STACK_TAG_PREFIX))
            elif text not in tags:
                tags.append(text)
        return sorted(tags)

    @staticmethod
    def _properties(value, problems):
        if not isinstance(value, dict):
            problems.add("properties", "must be a dict of property names to values")
            return None
        result = {}
        for key, val in value.items():
            key = str(key)
            if not is_user_property(key):
                problems.add("properties", "%r is %s, not a property" % (
                    key, "an image attribute (use its own option)" if key in CORE_ATTRIBUTES
                    else "reserved (Glance's or the collection's own records)"))
            elif val is None or isinstance(val, (dict, list)):
                problems.add("properties", "%r: a property value is a string, number or boolean" % key)
            else:
                result[key] = property_value(val)
        return result

    # ---- plan ------------------------------------------------------------------------
    def plan(self, desired, world):
        name = desired["name"]
        if desired["state"] == "absent":
            return self._plan_delete(desired, world)
        self._check_privileges(desired, world)
        current = world.current
        if current is None:
            after = self._predicted(desired, world, name, None)
            return Plan(KIND, name, CREATE, compare(self._comparable(after), {}, SCHEMA),
                        before=None, after=after,
                        desired=dict(desired, target=name, replace=None, after=after, upload=True))
        notes = []
        if world.matches is None and world.reason:
            notes.append(world.reason)
        replace = []
        if world.matches is False:
            replace.append(Change(self._content_path(current, world.wanted), "modify",
                                  self._identity(current), self._identity(world.wanted) or "(new content)",
                                  REPLACE))
        for field in ("format", "container_format"):
            want = desired[field]
            if want is not None and current.get(field) is not None and want != current[field]:
                replace.append(Change(field, "modify", current[field], want, REPLACE))
        if replace:
            return self._plan_replace(desired, world, replace, notes)
        return self._plan_live(desired, current, name, target=name, replace=None, notes=notes)

    def _plan_live(self, desired, current, name, target, replace, notes):
        live = dict((f, desired.get(f)) for f in LIVE_FIELDS)
        changes = compare(live, current, SCHEMA)
        props_after, prop_changes = self._property_changes(desired, current)
        changes.extend(prop_changes)
        after = copy.deepcopy(current)
        for field in LIVE_FIELDS:
            if desired.get(field) is not None:
                after[field] = copy.deepcopy(desired[field])
        after["properties"] = props_after
        action = UPDATE if changes else NONE
        return Plan(KIND, name, action, changes, before=copy.deepcopy(current), after=after,
                    desired=dict(desired, target=target, replace=replace, after=after, upload=False,
                                 image_id=current.get("id")), notes=notes)

    def _plan_replace(self, desired, world, replace, notes):
        name, current = desired["name"], world.current
        content_changed = world.matches is False
        if content_changed and desired["on_source_change"] == "new_version" and not desired["recreate"]:
            vname = versioned_name(name, self._version_digest(desired, world))
            if world.versioned is not None:
                if not world.versioned_matches:
                    raise Conflict("the new version's image %s already exists with other content" % vname,
                                   kind=KIND, name=name, hint="delete it, or check the checksum")
                notes.append("image %s keeps the earlier content; the wanted content is in image %s"
                             % (name, vname))
                return self._plan_live(desired, world.versioned, name, target=vname, replace=None,
                                       notes=notes)
            after = self._predicted(desired, world, vname, current)
            notes.append("the source's content changed: the new content goes to a new image %s, "
                         "image %s stays untouched" % (vname, name))
            return Plan(KIND, name, UPDATE, replace + [Change("name", "modify", name, vname, REPLACE)],
                        before=copy.deepcopy(current), after=after, notes=notes,
                        desired=dict(desired, target=vname, replace=None, after=after, upload=True))
        if not desired["recreate"]:
            fields = ", ".join(c.path for c in replace)
            hint = "set recreate: true to upload a new image and delete this one"
            if content_changed:
                hint += ", or on_source_change: new_version to keep it and upload a new version"
            raise Conflict("%s create-only (%s); refusing to change image %s in place" % (
                fields + (" is" if len(replace) == 1 else " are"),
                "; ".join("%s: %s -> %s" % (c.path, c.before, c.after) for c in replace), current.get("id")),
                kind=KIND, name=name, hint=hint)
        after = self._predicted(desired, world, name, current)
        notes.append("image %s (%s) is replaced: a new image is uploaded, then the old one deleted"
                     % (name, current.get("id")))
        return Plan(KIND, name, UPDATE, replace, before=copy.deepcopy(current), after=after, notes=notes,
                    desired=dict(desired, target=name, replace=current.get("id"), after=after, upload=True,
                                 old_protected=bool(current.get("protected"))))

    @staticmethod
    def _check_privileges(desired, world):
        current_visibility = (world.current or {}).get("visibility")
        if desired["visibility"] == "public" and current_visibility != "public" and not world.is_admin:
            raise InvalidSpec([("visibility", "public images need the admin role (Glance's "
                                              "publicize_image policy); these credentials do not have it. "
                                              "Use community to share with every project")], kind=KIND,
                              name=desired["name"])

    @staticmethod
    def _comparable(state):
        return dict((f, state.get(f)) for f in SCHEMA)

    @staticmethod
    def _property_changes(desired, current):
        return mapping_changes("properties", dict(current.get("properties") or {}), desired.get("properties"),
                               desired.get("purge_properties"))

    @staticmethod
    def _version_digest(desired, world):
        return wanted_digest(world.wanted, desired["name"])

    @staticmethod
    def _identity(state):
        return content_identity(state) or state.get("source")

    @staticmethod
    def _content_path(current, wanted):
        if current.get("checksum") and wanted.get("checksum"):
            return "checksum"
        return "content" if wanted.get("checksum") or wanted.get("sha256") else "source"

    @staticmethod
    def _predicted(desired, world, name, base):
        """The image a create (or a replacement of ``base``) leaves: ``base``'s live attributes
        unless the spec sets them."""
        base = base or {}
        wanted = world.wanted

        def pick(field, default):
            if desired.get(field) is not None:
                return copy.deepcopy(desired[field])
            return copy.deepcopy(base[field]) if base.get(field) is not None else default

        props = dict(base.get("properties") or {})
        if desired.get("properties") is not None:
            props = dict(desired["properties"]) if desired["purge_properties"] else dict(props, **desired["properties"])
        return {
            "name": name,
            "id": None,
            "status": "active",
            "format": desired["format"] or wanted.get("format"),
            "container_format": desired["container_format"],
            "visibility": pick("visibility", "shared"),
            "protected": pick("protected", False),
            "min_disk": pick("min_disk", 0),
            "min_ram": pick("min_ram", 0),
            "tags": pick("tags", []),
            "properties": props,
            "size": None,
            "virtual_size": None,
            "sha256": wanted.get("sha256"),
            "checksum": wanted.get("checksum"),
            "os_hash": None,
            "source": desired["source"]["display"],
            "owner": base.get("owner"),
            "managed": True,
        }

    def _plan_delete(self, desired, world):
        name, current = desired["name"], world.current
        if current is None:
            return Plan(KIND, name, NONE, desired=dict(desired, target=name))
        if current.get("protected") and not desired["force"]:
            raise Conflict("image %s is protected; refusing to delete it" % current.get("id"), kind=KIND,
                           name=name, hint="set protected: false first, or force: true to lift the "
                                           "protection and delete it")
        notes = ["the protection is lifted first (force: true)"] if current.get("protected") else []
        return Plan(KIND, name, DELETE, [Change("id", "remove", current.get("id"), None, REPLACE)],
                    before=copy.deepcopy(current), after=None, notes=notes,
                    desired=dict(desired, target=name, image_id=current.get("id"),
                                 old_protected=bool(current.get("protected"))))

    def outputs(self, plan):
        # The apply step's own "transfer" fact replaces this when something was transferred.
        return {"transfer": dict(NO_TRANSFER)}
