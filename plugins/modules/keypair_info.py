#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: keypair_info
short_description: List the Nova keypairs of the current user (OpenStack)
version_added: 0.2.0
description:
  - B(OpenStack only.) Lists the current user's Nova keypairs, in the shape M(converge.virt.keypair)
    returns. One request; reads only.
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.INFO_ATTRIBUTES
options:
  name:
    description:
      - Only these keypairs. Names that do not exist are simply not returned.
    type: list
    elements: str
seealso:
  - module: converge.virt.keypair
"""

EXAMPLES = r"""
- name: Every keypair of the user
  converge.virt.keypair_info:
    cloud: mycloud
  register: keys
"""

RETURN = r"""
keypairs:
  description: The keypairs, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The keypair's name.
      type: str
    public_key:
      description: The public key.
      type: str
    fingerprint:
      description: Nova's fingerprint of the key.
      type: str
    type:
      description: The keypair type.
      type: str
    user_id:
      description: The user (when Nova reports it).
      type: str
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_info_module

ARGUMENT_SPEC = dict(
    name=dict(type="list", elements="str"),
)


def main():
    run_info_module("keypair", "keypairs", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
