#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: user
short_description: Converge a Keystone user (OpenStack) and its role assignments to their declared state
version_added: 0.1.0
description:
  - B(OpenStack only.) Creates, updates in place, or deletes an OpenStack identity (Keystone) user, and
    manages its role assignments on projects and domains. With the libvirt backend the module fails
    before connecting; every option of this module is an OpenStack option.
  - Needs an admin's credentials. With a non-admin's, Keystone refuses the first read and the module
    fails saying that an admin is needed, before anything changes.
  - A user is identified by its O(name) within its O(domain). Options that are not set are left alone
    on an existing user. Every option is updated live.
  - Every reference (O(default_project), the projects, domains and roles in O(roles)) is looked up
    before anything changes; an unknown one fails the task with nothing changed.
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.ATTRIBUTES
options:
  name:
    description:
      - Name of the user, unique within its domain. It identifies the user and cannot be changed.
    type: str
    required: true
  domain:
    description:
      - The domain of the user, by ID or by name. Keystone's default domain has the ID V(default) and
        the name V(Default); both work.
      - Part of the user's identity, so another domain means another user.
      - Project names in O(default_project) and O(roles) are looked up in this domain (give an ID for a
        project of another domain).
    type: str
    default: default
  state:
    description:
      - V(present) creates or updates the user, V(absent) deletes it (with its role assignments; the
        projects stay).
    type: str
    choices: [present, absent]
    default: present
  password:
    description:
      - The user's password. Never logged, never shown in results or diffs.
      - Keystone never returns a password, so it cannot be compared. See O(update_password).
      - "Update: live (only with O(update_password=always))."
    type: str
  update_password:
    description:
      - When to set O(password). V(on_create) sets it only when the user is created; a later change of
        O(password) is not applied (and not reported).
      - V(always) sets it on every run, and the run reports a change of C(password) every time (with the
        value masked), since whether it differs cannot be known.
    type: str
    choices: [on_create, always]
    default: on_create
  email:
    description:
      - The user's e-mail address (stored by Keystone as given, not checked).
      - "Update: live."
    type: str
  description:
    description:
      - Description of the user. When creating and not set, empty.
      - "Update: live."
    type: str
  enabled:
    description:
      - Whether the user is enabled. A disabled user cannot log in.
      - When creating and not set, V(true).
      - "Update: live."
    type: bool
  default_project:
    description:
      - The project the user's tokens are scoped to when no project is asked for, by ID or by name in
        O(domain). It gives no role; list the role in O(roles).
      - "Update: live."
    type: str
  roles:
    description:
      - The user's role assignments, each a role on a project or on a domain.
      - With O(purge_roles=true) (the default) this is the whole list of the user's direct project and
        domain role assignments; those not listed are removed, V([]) removes them all. With
        O(purge_roles=false) the listed ones are added and the others kept.
      - Only direct assignments are managed. Inherited ones, system-scope ones and those the user has
        through a group are neither listed nor removed.
      - Roles are the global (not domain-specific) roles, by name or ID.
      - "Update: live (each assignment is added or removed on its own)."
    type: list
    elements: dict
    suboptions:
      role:
        description: The role, by name (for example V(member), V(reader), V(admin)) or ID.
        type: str
        required: true
      project:
        description: The project, by ID or by name in O(domain). Exactly one of O(roles[].project) and O(roles[].domain).
        type: str
      domain:
        description: The domain, by ID or by name. Exactly one of O(roles[].project) and O(roles[].domain).
        type: str
  purge_roles:
    description:
      - Whether O(roles) is exclusive, that is, assignments of the user that it does not list are removed.
      - Has no effect when O(roles) is not set (the assignments are then left alone).
    type: bool
    default: true
notes:
  - Keystone users have no tags, so unlike the other kinds a user does not say whether this collection
    created it.
  - When a project named in O(roles) is deleted, Keystone removes the assignment with it.
seealso:
  - module: converge.virt.project
"""

EXAMPLES = r"""
- name: A user who can work in the web project
  converge.virt.user:
    cloud: admin
    name: alice
    password: "{{ alice_password }}"
    email: alice@example.com
    default_project: web
    roles:
      - project: web
        role: member
      - project: web
        role: reader

- name: Reset the password on every run (reported as changed each time, the value is masked)
  converge.virt.user:
    cloud: admin
    name: alice
    password: "{{ alice_password }}"
    update_password: always

- name: Add a role without touching the others
  converge.virt.user:
    cloud: admin
    name: alice
    roles:
      - domain: Default
        role: reader
    purge_roles: false

- name: Remove every direct role assignment of the user
  converge.virt.user:
    cloud: admin
    name: alice
    roles: []

- name: Delete the user
  converge.virt.user:
    cloud: admin
    name: alice
    state: absent
"""

RETURN = r"""
user:
  description:
    - The user after the run (predicted in check mode, when RV(user.id) of a new user is null).
      The password is never part of it.
    - Null after a deletion.
  returned: always
  type: dict
  contains:
    name:
      description: Name.
      type: str
      sample: alice
    id:
      description: Keystone's ID of the user.
      type: str
    domain_id:
      description: ID of the user's domain.
      type: str
      sample: default
    domain:
      description: Name of the user's domain.
      type: str
      sample: Default
    description:
      description: Description (empty when none).
      type: str
    email:
      description: E-mail address, or null.
      type: str
    enabled:
      description: Whether the user is enabled.
      type: bool
    default_project:
      description: Name of the default project, or null.
      type: str
    default_project_id:
      description: ID of the default project, or null.
      type: str
    roles:
      description:
        - The direct role assignments, each with C(role) and either C(project) and C(project_id), or
          C(domain) and C(domain_id).
      type: list
      elements: dict
      sample: [{project: web, project_id: 3a8658a7d6904cdc9fa33e8f0e695d94, role: member}]
plan:
  description: What the run does (or would do in check mode), field by field.
  returned: always
  type: dict
  contains:
    action:
      description: V(create), V(update), V(delete) or V(none).
      type: str
    changes:
      description:
        - Field-level changes, each with C(path), C(op), C(before), C(after) and C(effect) (always V(live)).
        - A role assignment's path is C(roles[project=<name>/role=<name>]) or C(roles[domain=<name>/role=<name>]).
        - A password change shows C(********) on both sides.
      type: list
      elements: dict
    notes:
      description: What happens, in words.
      type: list
      elements: str
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_resource_module
from ansible_collections.converge.virt.plugins.module_utils.specs.user import (
    ARGUMENT_SPEC,
    BACKEND_OPTIONS,
    MODULE_KWARGS,
)


def main():
    run_resource_module("user", ARGUMENT_SPEC, backend_options=BACKEND_OPTIONS, **MODULE_KWARGS)


if __name__ == "__main__":
    main()
