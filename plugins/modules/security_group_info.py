#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: security_group_info
short_description: Read OpenStack security groups in the normalized form the security_group module uses
version_added: 0.1.0
description:
  - Lists the Neutron security groups of the project, or the ones named, with their rules normalized
    as M(converge.virt.security_group) compares them. B(OpenStack only.)
  - Reads only.
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.INFO_ATTRIBUTES
options:
  name:
    description:
      - Only these groups. Names that do not exist are simply not returned.
    type: list
    elements: str
seealso:
  - module: converge.virt.security_group
"""

EXAMPLES = r"""
- name: The project's security groups
  converge.virt.security_group_info:
    cloud: mycloud
  register: groups

- name: Rules of the web group
  converge.virt.security_group_info:
    cloud: mycloud
    name: web
  register: web
"""

RETURN = r"""
security_groups:
  description: The groups, sorted by name, in the normalized shape of M(converge.virt.security_group)'s options.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: ID.
      type: str
    name:
      description: Name.
      type: str
    description:
      description: Description.
      type: str
    tags:
      description: User tags (without the owner tag).
      type: list
      elements: str
    managed:
      description: Whether converge.virt created the group.
      type: bool
    rules:
      description: Rules, each with C(direction), C(ethertype), C(protocol), C(port_range_min), C(port_range_max),
        C(remote_ip_prefix) and C(remote_group) (a group name, or V(self)).
      type: list
      elements: dict
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_info_module

ARGUMENT_SPEC = dict(
    name=dict(type="list", elements="str"),
)


def main():
    run_info_module("security_group", "security_groups", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
