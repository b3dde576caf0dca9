# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keystone projects and users (OpenStack only): the spec, its validation, and the planners.

A project or a user is identified by its name within a domain; the domain is part of the
identity, so "another domain" means another resource, never a move.

Normalized project state::

    name, id, domain_id, domain, description, enabled, tags (sorted, without the owner tag),
    managed (whether converge.virt created it: the owner tag is on it)

Normalized user state::

    name, id, domain_id, domain, description, email, enabled, default_project (name),
    default_project_id, roles: [{project, project_id, role} | {domain, domain_id, role}], password

``password`` is never read (Keystone does not return it): it is in the desired state only, and
compared only when the spec asks for it to be set (creation, or ``update_password: always``).
Every field is updated live.
"""

from __future__ import annotations

import copy

from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Planner
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, Problems
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, NONE, SECRET_MASK, UPDATE,
    Change, Field, KeyedList, Plan, compare, merge,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.os_common import OWNER_TAG, STACK_TAG_PREFIX, is_stack_tag

DEFAULT_DOMAIN = "default"   # Keystone's default domain: ID "default", name "Default"
UPDATE_PASSWORD = ("on_create", "always")


def role_key(item):
    """``project=<name>/role=<name>`` or ``domain=<name>/role=<name>``: the change path's key."""
    scope = "project" if item.get("project") is not None else "domain"
    return "%s=%s/role=%s" % (scope, item.get(scope), item.get("role"))


PROJECT_SCHEMA = {
    "description": Field(LIVE),
    "enabled": Field(LIVE),
    "tags": Field(LIVE),
}

USER_SCHEMA = {
    "description": Field(LIVE),
    "email": Field(LIVE),
    "enabled": Field(LIVE),
    "default_project": Field(LIVE),
    "password": Field(LIVE, secret=True),
    "roles": KeyedList(LIVE, role_key),
}


class IdentityWorld(object):
    """What a driver read for the planner.

    ``current``: normalized state or None.  ``domain``: {id, name} of the domain the spec names.
    ``default_project``: {id, name} the spec's default_project resolves to.  ``roles``: the spec's
    role assignments resolved to normalized items (same shape as ``current["roles"]``).
    ``blockers``: for a project to delete, what still lives in it ("servers", "networks"...).
    """

    def __init__(self, current=None, domain=None, default_project=None, roles=None, blockers=None):
        self.current = current
        self.domain = domain
        self.default_project = default_project
        self.roles = roles
        self.blockers = list(blockers or [])


def _text(params, option, problems, allow_empty=True):
    value = params.get(option)
    if value is None:
        return None
    value = str(value)
    if not allow_empty and not value.strip():
        problems.add(option, "must not be empty")
    return value


def _common(params, problems):
    name = params.get("name")
    if name is None or not str(name).strip():
        problems.add("name", "is required and must not be empty")
    elif len(str(name)) > 64:
        problems.add("name", "is longer than Keystone's 64 characters")
    domain = params.get("domain")
    if domain is None:
        domain = DEFAULT_DOMAIN
    if not str(domain).strip():
        problems.add("domain", "must not be empty")
    enabled = params.get("enabled")
    return {
        "name": None if name is None else str(name),
        "domain": str(domain),
        "state": params.get("state") or "present",
        "description": _text(params, "description", problems),
        "enabled": None if enabled is None else bool(enabled),
    }


class _IdentityPlanner(Planner):
    schema = None

    def normalize(self, params):
        problems = Problems()
        desired = _common(params, problems)
        self._normalize(params, desired, problems)
        problems.raise_if_any(self.kind, params.get("name"))
        return desired

    def _normalize(self, params, desired, problems):
        """Add the kind's own fields to ``desired`` (the common ones are there)."""
        raise NotImplementedError

    def _delete(self, desired, world, notes):
        current = world.current
        if current is None:
            return Plan(self.kind, desired["name"], NONE, before=None, after=None,
                        notes=["%s %s does not exist" % (self.kind, desired["name"])])
        return Plan(self.kind, desired["name"], DELETE, before=copy.deepcopy(current), after=None,
                    desired={"id": current["id"]}, notes=notes)

    def _update(self, desired, world, comparable, desired_extra=None, notes=None):
        current = world.current
        # A password is never read back: compared against a stand-in, it is a "modify" (masked).
        changes = compare(comparable, dict(current, password=SECRET_MASK + "?"), self.schema)
        after = merge(current, comparable, self.schema)
        after.pop("password", None)
        plan_desired = dict(comparable, id=current["id"])
        plan_desired.update(desired_extra or {})
        return Plan(self.kind, desired["name"], UPDATE if changes else NONE, changes,
                    before=copy.deepcopy(current), after=after, desired=plan_desired,
                    notes=list(notes or []))


class OsProjectPlanner(_IdentityPlanner):
    kind = "project"
    schema = PROJECT_SCHEMA

    def _normalize(self, params, desired, problems):
        tags = params.get("tags")
        if tags is not None:
            tags = [str(t) for t in tags]
            for tag in tags:
                if not tag or "/" in tag or "," in tag or len(tag) > 255:
                    problems.add("tags", "%r: Keystone tags are 1 to 255 characters without '/' or ','" % tag)
            if OWNER_TAG in tags:
                problems.add("tags", "%r is the collection's owner tag; it is managed by the module" % OWNER_TAG)
            for tag in tags:
                if is_stack_tag(tag):
                    problems.add("tags", "%r: tags starting with %s mark what a stack owns" % (tag, STACK_TAG_PREFIX))
            tags = sorted(set(tags))
        desired["tags"] = tags
        desired["force"] = bool(params.get("force"))

    def plan(self, desired, world):
        name = desired["name"]
        if desired["state"] == "absent":
            if world.current is not None and world.blockers and not desired["force"]:
                raise Conflict(
                    "refusing to delete the project: it still holds %s, which Keystone would not delete "
                    "(they would be left without a project)" % ", ".join(world.blockers),
                    kind=self.kind, name=name,
                    hint="delete them first, or set force: true to delete the project anyway")
            notes = ["delete project %s (its servers, volumes, networks and other resources are not "
                     "deleted)" % name]
            if world.blockers:
                notes.append("project %s still holds %s" % (name, ", ".join(world.blockers)))
            return self._delete(desired, world, notes)
        comparable = dict((k, desired[k]) for k in PROJECT_SCHEMA)
        if world.current is None:
            after = {
                "name": name, "id": None,
                "domain_id": world.domain["id"], "domain": world.domain["name"],
                "description": desired["description"] if desired["description"] is not None else "",
                "enabled": True if desired["enabled"] is None else desired["enabled"],
                "tags": desired["tags"] or [],
                "managed": True,
            }
            changes = [Change(f, "add", None, after[f], LIVE) for f in PROJECT_SCHEMA
                       if after[f] not in (None, "", [])]
            return Plan(self.kind, name, CREATE, changes, before=None, after=after,
                        desired=dict(after, tags=after["tags"] + [OWNER_TAG]),
                        notes=["create project %s in domain %s" % (name, world.domain["name"])])
        plan = self._update(desired, world, comparable)
        # Keep the owner tag on updates: Keystone replaces the whole tag list.
        if world.current.get("managed"):
            plan.desired["owner_tag"] = True
        return plan


class OsUserPlanner(_IdentityPlanner):
    kind = "user"
    schema = USER_SCHEMA

    def _normalize(self, params, desired, problems):
        desired["email"] = _text(params, "email", problems)
        desired["password"] = params.get("password")
        if desired["password"] is not None and desired["password"] == "":
            problems.add("password", "must not be empty")
        update_password = params.get("update_password") or "on_create"
        if update_password not in UPDATE_PASSWORD:
            problems.add("update_password", "must be one of %s" % ", ".join(UPDATE_PASSWORD))
        if update_password == "always" and desired["password"] is None:
            problems.add("update_password", "always needs password")
        desired["update_password"] = update_password
        desired["default_project"] = _text(params, "default_project", problems, allow_empty=False)
        purge = params.get("purge_roles")
        desired["purge_roles"] = True if purge is None else bool(purge)
        roles = params.get("roles")
        if roles is not None:
            roles = self._roles(roles, problems)
        desired["roles"] = roles

    @staticmethod
    def _roles(roles, problems):
        """The spec's assignments as [{role, project} | {role, domain}] (references, not yet resolved)."""
        result = []
        seen = set()
        for index, item in enumerate(roles):
            where = "roles[%d]" % index
            if not isinstance(item, dict):
                problems.add(where, "must be a dict with role and project (or domain)")
                continue
            unknown = sorted(set(item) - {"role", "project", "domain"})
            if unknown:
                problems.add(where, "unknown keys %s (expected role, and project or domain)" % ", ".join(unknown))
            role = item.get("role")
            project, domain = item.get("project"), item.get("domain")
            if role is None or not str(role).strip():
                problems.add(where + ".role", "is required")
            if (project is None) == (domain is None):
                problems.add(where, "needs exactly one of project and domain")
                continue
            entry = {"role": str(role)}
            if project is not None:
                entry["project"] = str(project)
            else:
                entry["domain"] = str(domain)
            key = tuple(sorted(entry.items()))
            if key in seen:
                problems.add(where, "is listed twice")
            seen.add(key)
            result.append(entry)
        return result

    def plan(self, desired, world):
        name = desired["name"]
        if desired["state"] == "absent":
            return self._delete(desired, world, ["delete user %s (the projects it has roles on are kept)" % name])
        default_project = world.default_project
        roles = _sorted_roles(world.roles) if world.roles is not None else None
        if world.current is None:
            after = {
                "name": name, "id": None,
                "domain_id": world.domain["id"], "domain": world.domain["name"],
                "description": desired["description"] if desired["description"] is not None else "",
                "email": desired["email"],
                "enabled": True if desired["enabled"] is None else desired["enabled"],
                "default_project": default_project["name"] if default_project else None,
                "default_project_id": default_project["id"] if default_project else None,
                "roles": roles or [],
            }
            changes = [Change(f, "add", None, after[f], LIVE) for f in USER_SCHEMA
                       if f != "password" and after.get(f) not in (None, "", [])]
            if desired["password"] is not None:
                changes.append(Change("password", "add", None, SECRET_MASK, LIVE))
            plan_desired = dict(after, password=desired["password"], grant=roles or [], revoke=[])
            notes = ["create user %s in domain %s" % (name, world.domain["name"])]
            if desired["password"] is None:
                notes.append("user %s has no password: it cannot log in with one" % name)
            return Plan(self.kind, name, CREATE, changes, before=None, after=after,
                        desired=plan_desired, notes=notes)

        current = world.current
        comparable = {
            "description": desired["description"],
            "email": desired["email"],
            "enabled": desired["enabled"],
            "default_project": default_project["name"] if default_project else None,
        }
        if roles is not None:
            have = current.get("roles") or []
            if not desired["purge_roles"]:
                # Only add: what the user has beyond the spec stays.
                wanted = set(role_key(r) for r in roles)
                roles = _sorted_roles(roles + [r for r in have if role_key(r) not in wanted])
            comparable["roles"] = roles
        extra = {"default_project_id": default_project["id"] if default_project else None}
        notes = []
        if desired["update_password"] == "always" and desired["password"] is not None:
            # Keystone never returns a password: "always" sets it on every run, and says so.
            comparable["password"] = desired["password"]
            notes.append("update_password is always: the password is set again on every run "
                         "(Keystone cannot tell whether it differs)")
        plan = self._update(desired, world, comparable, extra, notes)
        if default_project is not None:
            plan.after["default_project_id"] = default_project["id"]
        if roles is not None:
            have_keys = dict((role_key(r), r) for r in current.get("roles") or [])
            want_keys = dict((role_key(r), r) for r in roles)
            plan.desired["grant"] = [want_keys[k] for k in sorted(want_keys) if k not in have_keys]
            plan.desired["revoke"] = [have_keys[k] for k in sorted(have_keys) if k not in want_keys]
        else:
            plan.desired["grant"], plan.desired["revoke"] = [], []
        return plan


def _sorted_roles(roles):
    return sorted((dict(r) for r in roles or []), key=role_key)
