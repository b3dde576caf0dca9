# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keystone projects and users through openstacksdk (``conn.identity``).

Reads per run: the domain (one GET by ID, else a list by name), the project or user (one list
filtered by name and domain), and for a user with ``roles`` the role list, the user's direct
role assignments (one call, with names) and each project or domain the spec names.  Keystone
answers 403 to these reads for a non-admin, which is turned into an error saying so before
anything changes.
"""

from __future__ import annotations

from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Driver
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import BackendError, InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import CREATE, DELETE
from ansible_collections.converge.virt.plugins.module_utils.openstack.cloud import looks_like_id
from ansible_collections.converge.virt.plugins.module_utils.resources.os_common import OWNER_TAG, owner_tags, user_tags
from ansible_collections.converge.virt.plugins.module_utils.resources.os_identity import IdentityWorld, role_key

try:
    from openstack import exceptions as sdk_exc
except ImportError:  # open_cloud() reports the missing library before a driver is made
    sdk_exc = None


def _identity_state(resource, domain, **fields):
    """The normalized state of a project or user: what both have, then ``fields`` (in their order)."""
    state = {
        "name": resource.name,
        "id": resource.id,
        "domain_id": resource.domain_id,
        "domain": domain["name"] if domain["id"] == resource.domain_id else resource.domain_id,
        "description": resource.description or "",
    }
    state.update(fields)
    return state


def _changed(plan, attributes):
    """``{openstacksdk attribute: value}`` of the fields ``plan`` changes; ``attributes``: field -> (attribute, value)."""
    return dict(attributes[c.path] for c in plan.changes if c.path in attributes)


class _IdentityDriver(Driver):
    kind = None

    def __init__(self, cloud):
        self.cloud = cloud
        self.conn = cloud.conn
        self._domains = {}

    # -- calls -----------------------------------------------------------------------------
    def _call(self, what, fn, *args, **kwargs):
        """``cloud.call`` with Keystone's 403 turned into "an admin is needed"."""
        def guarded(*a, **kw):
            try:
                result = fn(*a, **kw)
                return list(result) if hasattr(result, "__next__") else result
            except sdk_exc.ForbiddenException:
                raise BackendError(
                    "Keystone refused (403) to read or change %s: managing %ss needs an admin's credentials, "
                    "and these (user %s, project %s) lack the privilege" % (what, self.kind, self.cloud.user_id,
                                                                            self.cloud.project_id),
                    hint="use a cloud or auth with the admin role")
        return self.cloud.call(what, guarded, *args, **kwargs)

    # -- references ------------------------------------------------------------------------
    def domain(self, ref, field="domain"):
        """{id, name} of the domain ``ref`` (an ID such as "default", or a name such as "Default")."""
        if ref in self._domains:
            return self._domains[ref]
        found = self._call("domain %s" % ref, self.conn.identity.get_domain, ref, missing_ok=True)
        if found is None:
            matches = self._call("domain %s" % ref, self.conn.identity.domains, name=ref)
            found = matches[0] if matches else None
        if found is None:
            raise InvalidSpec([(field, "domain %r does not exist" % ref)], kind=self.kind)
        self._domains[ref] = {"id": found.id, "name": found.name}
        return self._domains[ref]

    def project_ref(self, ref, domain_id, field):
        """{id, name, domain_id} of the project ``ref``: an ID, or a name in ``domain_id``."""
        found = None
        if looks_like_id(ref):
            found = self._call("project %s" % ref, self.conn.identity.get_project, ref, missing_ok=True)
        if found is None:
            matches = self._call("project %s" % ref, self.conn.identity.projects, name=ref, domain_id=domain_id)
            found = matches[0] if matches else None
        if found is None:
            raise InvalidSpec([(field, "project %r does not exist in domain %s" % (ref, domain_id))],
                              kind=self.kind)
        return {"id": found.id, "name": found.name, "domain_id": found.domain_id}

    def _one(self, what, list_fn, name, domain_id):
        """The project or user ``name`` in the domain (names are unique within a domain)."""
        matches = self._call(what, list_fn, name=name, domain_id=domain_id)
        matches = [m for m in matches if m.name == name]
        return matches[0] if matches else None


class ProjectDriver(_IdentityDriver):
    kind = "project"

    def observe(self, name, desired=None):
        domain = self.domain((desired or {}).get("domain") or self._last_domain)
        self._last_domain = domain["id"]
        project = self._one("project %s" % name, self.conn.identity.projects, name, domain["id"])
        current = self._normalize(project, domain) if project is not None else None
        blockers = []
        if current is not None and desired is not None and desired.get("state") == "absent":
            blockers = self._contents(current["id"])
        return IdentityWorld(current=current, domain=domain, blockers=blockers)

    _last_domain = "default"

    @staticmethod
    def _normalize(project, domain):
        tags = list(project.tags or [])
        return _identity_state(project, domain, enabled=bool(project.is_enabled), tags=user_tags(tags),
                               managed=OWNER_TAG in tags)

    def _contents(self, project_id):
        """What still lives in the project (Keystone deletes none of it): one small list per service."""
        found = []
        probes = (
            ("servers", "compute", lambda: self.conn.compute.servers(all_projects=True, project_id=project_id, limit=1)),
            ("volumes", "block-storage", lambda: self.conn.block_storage.volumes(all_projects=True, project_id=project_id,
                                                                                 limit=1)),
            ("networks", "network", lambda: self.conn.network.networks(project_id=project_id, limit=1)),
        )
        for label, service, probe in probes:
            if not self.conn.has_service(service):
                continue
            first = self._call("%s of project %s" % (label, project_id), lambda p=probe: next(iter(p()), None))
            if first is not None:
                found.append(label)
        return found

    def apply(self, plan):
        want = plan.desired
        if plan.action == DELETE:
            self._call("project %s" % plan.name, self.conn.identity.delete_project, want["id"],
                       retry=True, missing_ok=True)
            return {}
        if plan.action == CREATE:
            self._call("project %s" % plan.name, self.conn.identity.create_project,
                       name=plan.name, domain_id=want["domain_id"], description=want["description"],
                       is_enabled=want["enabled"], tags=want["tags"], retry=True)
            return {}
        marks = []
        if any(c.path == "tags" for c in plan.changes):
            # Keystone replaces the whole list: a stack's mark on the project is read and kept.
            project = self._call("project %s" % plan.name, self.conn.identity.get_project, want["id"])
            marks = list(project.tags or [])
        attrs = _changed(plan, {"description": ("description", want["description"]),
                                "enabled": ("is_enabled", want["enabled"]),
                                "tags": ("tags", sorted(owner_tags(want["tags"], want.get("owner_tag"), current=marks)))})
        self._call("project %s" % plan.name, self.conn.identity.update_project, want["id"], **attrs)
        return {}


class UserDriver(_IdentityDriver):
    kind = "user"
    _last_domain = "default"

    def __init__(self, cloud):
        super().__init__(cloud)
        self._role_ids = {}

    def observe(self, name, desired=None):
        desired = desired or {}
        domain = self.domain(desired.get("domain") or self._last_domain)
        self._last_domain = domain["id"]
        user = self._one("user %s" % name, self.conn.identity.users, name, domain["id"])
        present = desired.get("state", "present") == "present"
        default_project = roles = None
        if present and desired.get("default_project") is not None:
            default_project = self.project_ref(desired["default_project"], domain["id"], "default_project")
        if present and desired.get("roles") is not None:
            roles = self._resolve_roles(desired["roles"], domain["id"])
        current = self._normalize(user, domain, default_project) if user is not None else None
        return IdentityWorld(current=current, domain=domain, default_project=default_project, roles=roles)

    def _normalize(self, user, domain, default_project):
        project_id = user.default_project_id
        project_name = None
        if project_id:
            if default_project and default_project["id"] == project_id:
                project_name = default_project["name"]
            else:
                found = self._call("project %s" % project_id, self.conn.identity.get_project, project_id,
                                   missing_ok=True)
                project_name = found.name if found is not None else None
        return _identity_state(user, domain, email=user.email, enabled=bool(user.is_enabled),
                               default_project=project_name, default_project_id=project_id or None,
                               roles=self._assignments(user.id))

    def _assignments(self, user_id):
        """The user's direct project and domain role assignments (not inherited, system or group ones)."""
        items = []
        found = self._call("role assignments of user %s" % user_id, self.conn.identity.role_assignments,
                           user_id=user_id, include_names=True)
        for assignment in found:
            scope, role = assignment.scope or {}, assignment.role or {}
            if "OS-INHERIT:inherited_to" in scope or not role.get("id"):
                continue
            self._role_ids[role.get("name")] = role["id"]
            if "project" in scope:
                items.append({"project": scope["project"].get("name"), "project_id": scope["project"]["id"],
                              "role": role.get("name")})
            elif "domain" in scope:
                items.append({"domain": scope["domain"].get("name"), "domain_id": scope["domain"]["id"],
                              "role": role.get("name")})
        return sorted(items, key=role_key)

    def _resolve_roles(self, wanted, domain_id):
        """The spec's assignments with their projects, domains and roles looked up (all before any change)."""
        roles = self._call("roles", self.conn.identity.roles)
        by_name = dict((r.name, r) for r in roles if not getattr(r, "domain_id", None))
        by_id = dict((r.id, r) for r in roles)
        problems, resolved, projects = [], [], {}
        for index, item in enumerate(wanted):
            role = by_id.get(item["role"]) or by_name.get(item["role"])
            if role is None:
                problems.append(("roles[%d].role" % index, "role %r does not exist" % item["role"]))
                continue
            self._role_ids[role.name] = role.id
            try:
                if "project" in item:
                    ref = item["project"]
                    if ref not in projects:
                        projects[ref] = self.project_ref(ref, domain_id, "roles[%d].project" % index)
                    resolved.append({"project": projects[ref]["name"], "project_id": projects[ref]["id"],
                                     "role": role.name})
                else:
                    scope = self.domain(item["domain"], field="roles[%d].domain" % index)
                    resolved.append({"domain": scope["name"], "domain_id": scope["id"], "role": role.name})
            except InvalidSpec as err:
                problems.extend(err.problems)
        if problems:
            raise InvalidSpec(problems, kind=self.kind)
        return resolved

    def apply(self, plan):
        want = plan.desired
        what = "user %s" % plan.name
        identity = self.conn.identity
        if plan.action == DELETE:
            self._call(what, identity.delete_user, want["id"], retry=True, missing_ok=True)
            return {}
        if plan.action == CREATE:
            attrs = {"name": plan.name, "domain_id": want["domain_id"], "is_enabled": want["enabled"]}
            for key in ("password", "email", "description", "default_project_id"):
                if want.get(key) is not None:
                    attrs[key] = want[key]
            user_id = self._call(what, identity.create_user, retry=True, **attrs).id
        else:
            user_id = want["id"]
            attrs = _changed(plan, {"enabled": ("is_enabled", want["enabled"]),
                                    "default_project": ("default_project_id", want["default_project_id"]),
                                    "description": ("description", want["description"]),
                                    "email": ("email", want["email"]),
                                    "password": ("password", want.get("password"))})
            if attrs:
                self._call(what, identity.update_user, user_id, **attrs)
        for item in want.get("revoke") or []:
            role_id = self._role_ids[item["role"]]
            if "project_id" in item:
                self._call(what, identity.unassign_project_role_from_user, item["project_id"], user_id, role_id,
                           missing_ok=True)
            else:
                self._call(what, identity.unassign_domain_role_from_user, item["domain_id"], user_id, role_id,
                           missing_ok=True)
        for item in want.get("grant") or []:
            role_id = self._role_ids[item["role"]]
            if "project_id" in item:
                self._call(what, identity.assign_project_role_to_user, item["project_id"], user_id, role_id)
            else:
                self._call(what, identity.assign_domain_role_to_user, item["domain_id"], user_id, role_id)
        return {}
