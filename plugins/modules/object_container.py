#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: object_container
short_description: Manage a Swift container, its metadata and ACLs (OpenStack)
version_added: 0.2.0
description:
  - B(OpenStack only.) Creates, updates and deletes a Swift object storage container of the project.
  - A run that changes nothing is one C(HEAD) request. Metadata and ACLs are updated in place.
  - Containers the module creates carry the metadata key C(converge-virt-managed) (not shown in
    RV(object_container.metadata); RV(object_container.managed) tells).
  - Deleting a container that holds objects is refused unless O(delete_objects=true).
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.ATTRIBUTES
options:
  name:
    description:
      - The container's name (no V(/), at most 256 bytes).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the container, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  metadata:
    description:
      - Container metadata (C(X-Container-Meta-*)). Keys are lower-cased; V(_) in a key is refused
        because Swift drops such headers (use V(-)). Only the keys given are managed, unless
        O(purge_metadata=true).
      - "Update: live."
    type: dict
  purge_metadata:
    description:
      - Remove the metadata keys O(metadata) does not list (never the collection's marker).
    type: bool
    default: false
  read_acl:
    description:
      - Swift's read ACL (C(X-Container-Read)), for example V(.r:*,.rlistings) or V(project:user).
        An empty string removes it. Mutually exclusive with O(public).
      - "Update: live."
    type: str
  write_acl:
    description:
      - Swift's write ACL (C(X-Container-Write)). An empty string removes it.
      - "Update: live."
    type: str
  public:
    description:
      - V(true) lets anyone read and list the container (O(read_acl=.r:*,.rlistings)); V(false)
        removes the read ACL. Not set, the read ACL is left alone.
      - "Update: live."
    type: bool
  delete_objects:
    description:
      - With O(state=absent), delete the container's objects too. Without it, deleting a container
        that holds objects fails.
    type: bool
    default: false
seealso:
  - module: converge.virt.object
"""

EXAMPLES = r"""
- name: A container for build artefacts, readable by anyone
  converge.virt.object_container:
    cloud: mycloud
    name: artefacts
    public: true
    metadata:
      team: platform

- name: Delete it with everything in it
  converge.virt.object_container:
    cloud: mycloud
    name: artefacts
    state: absent
    delete_objects: true
"""

RETURN = r"""
object_container:
  description: The container after the run (predicted in check mode; None when absent).
  returned: always
  type: dict
  contains:
    name:
      description: The container's name.
      type: str
    object_count:
      description: Objects in the container.
      type: int
    bytes_used:
      description: Bytes the objects use.
      type: int
    metadata:
      description: The user's metadata (without the collection's marker).
      type: dict
    read_acl:
      description: The read ACL (empty when none).
      type: str
    write_acl:
      description: The write ACL (empty when none).
      type: str
    public:
      description: Whether the read ACL lets anyone read (V(.r:*)).
      type: bool
    managed:
      description: Whether the collection created the container.
      type: bool
  sample:
    name: artefacts
    object_count: 2
    bytes_used: 4096
    metadata: {team: platform}
    read_acl: ".r:*,.rlistings"
    write_acl: ""
    public: true
    managed: true
plan:
  description: The plan (action V(create), V(update), V(delete) or V(none), and field-level changes,
    each with its effect).
  returned: always
  type: dict
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_resource_module
from ansible_collections.converge.virt.plugins.module_utils.specs.object_container import (
    ARGUMENT_SPEC,
    BACKEND_OPTIONS,
    MODULE_KWARGS,
)


def main():
    run_resource_module("object_container", ARGUMENT_SPEC, backend_options=BACKEND_OPTIONS, **MODULE_KWARGS)


if __name__ == "__main__":
    main()
