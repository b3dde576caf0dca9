#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: project
short_description: Converge a Keystone project (OpenStack) to its declared state
version_added: 0.1.0
description:
  - B(OpenStack only.) Creates, updates in place, or deletes an OpenStack identity (Keystone) project.
    With the libvirt backend the module fails before connecting; every option of this module is an
    OpenStack option.
  - Needs an admin's credentials. With a non-admin's, Keystone refuses the first read and the module
    fails saying that an admin is needed, before anything changes.
  - A project is identified by its O(name) within its O(domain). Options that are not set are left
    alone on an existing project. Every option is updated live.
  - Deleting a project does B(not) delete what lives in it (servers, volumes, networks, images...);
    Keystone leaves them without a project. So the module refuses to delete a project that still has
    servers, volumes or networks unless O(force=true), and deleting needs an explicit O(state=absent).
  - A project the module creates carries the tag C(converge-virt) (shown as RV(project.managed), never
    in RV(project.tags)).
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.ATTRIBUTES
options:
  name:
    description:
      - Name of the project, unique within its domain. It identifies the project and cannot be changed.
    type: str
    required: true
  domain:
    description:
      - The domain of the project, by ID or by name. Keystone's default domain has the ID V(default)
        and the name V(Default); both work.
      - Part of the project's identity, so another domain means another project.
    type: str
    default: default
  state:
    description:
      - V(present) creates or updates the project, V(absent) deletes it (see the description for what
        deleting does not delete).
    type: str
    choices: [present, absent]
    default: present
  description:
    description:
      - Description of the project. When creating and not set, empty.
      - "Update: live."
    type: str
  enabled:
    description:
      - Whether the project is enabled. Tokens cannot be scoped to a disabled project.
      - When creating and not set, V(true).
      - "Update: live."
    type: bool
  tags:
    description:
      - The project's tags, the whole list (tags not listed are removed; V([]) removes them all).
        Order and duplicates do not matter. Each is 1 to 255 characters without V(/) or V(,).
      - The tag C(converge-virt) is the module's own and cannot be given here; it is kept on updates.
      - "Update: live."
    type: list
    elements: str
  force:
    description:
      - With O(state=absent), delete the project even though it still has servers, volumes or networks.
        They are not deleted; they stay, without a project, until an admin deletes them.
    type: bool
    default: false
notes:
  - Whether a project still holds resources is checked in Nova, Cinder and Neutron only (one small list
    call each, when deleting). Images, object storage, floating IPs on other networks, and so on are
    not checked, and are not deleted either.
seealso:
  - module: converge.virt.user
"""

EXAMPLES = r"""
- name: A project for the web team
  converge.virt.project:
    cloud: admin
    name: web
    description: The web team's servers
    tags: [team-web, production]
  register: web

- name: Disable it for a while
  converge.virt.project:
    cloud: admin
    name: web
    enabled: false

- name: A project in another domain, named by its name
  converge.virt.project:
    cloud: admin
    name: lab
    domain: Research

- name: Delete the project (its servers, volumes and networks must be gone first)
  converge.virt.project:
    cloud: admin
    name: web
    state: absent
"""

RETURN = r"""
project:
  description:
    - The project after the run (predicted in check mode, when RV(project.id) of a new project is null).
    - Null after a deletion.
  returned: always
  type: dict
  contains:
    name:
      description: Name.
      type: str
      sample: web
    id:
      description: Keystone's ID of the project.
      type: str
      sample: 3a8658a7d6904cdc9fa33e8f0e695d94
    domain_id:
      description: ID of the project's domain.
      type: str
      sample: default
    domain:
      description: Name of the project's domain.
      type: str
      sample: Default
    description:
      description: Description (empty when none).
      type: str
    enabled:
      description: Whether the project is enabled.
      type: bool
    tags:
      description: Tags, sorted, without the module's own C(converge-virt) tag.
      type: list
      elements: str
    managed:
      description: Whether the project carries the C(converge-virt) tag, that is, was created by this collection.
      type: bool
plan:
  description: What the run does (or would do in check mode), field by field.
  returned: always
  type: dict
  contains:
    action:
      description: V(create), V(update), V(delete) or V(none).
      type: str
    changes:
      description: Field-level changes, each with C(path), C(op), C(before), C(after) and C(effect) (always V(live)).
      type: list
      elements: dict
    notes:
      description: What happens, in words.
      type: list
      elements: str
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_resource_module
from ansible_collections.converge.virt.plugins.module_utils.specs.project import (
    ARGUMENT_SPEC,
    BACKEND_OPTIONS,
    MODULE_KWARGS,
)


def main():
    run_resource_module("project", ARGUMENT_SPEC, backend_options=BACKEND_OPTIONS, **MODULE_KWARGS)


if __name__ == "__main__":
    main()
