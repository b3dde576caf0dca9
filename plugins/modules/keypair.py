#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: keypair
short_description: Import an SSH public key as a Nova keypair (OpenStack)
version_added: 0.2.0
description:
  - B(OpenStack only.) Imports an OpenSSH public key as a Nova keypair of the current user, so that
    instances can be created with it (M(converge.virt.instance)).
  - Keypairs belong to the user, not to the project, and are found by name. They carry no tags or
    metadata, so a keypair is not marked as created by the collection.
  - The key is create-only (Nova cannot change a keypair's key), so a different key is refused unless
    O(recreate=true). Keys are compared by their type and data; the comment does not count.
  - The module never generates keys and never handles private keys; create the key pair with
    C(ssh-keygen) or M(community.crypto.openssh_keypair) and give its public half.
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.ATTRIBUTES
options:
  name:
    description:
      - The keypair's name (1-255 of letters, digits, spaces, V(_), V(.), V(@), V(-)).
    type: str
    required: true
  state:
    description:
      - V(present) imports the key, V(absent) deletes the keypair (instances keep the key they got).
    type: str
    choices: [present, absent]
    default: present
  public_key:
    description:
      - The public key, one OpenSSH line (V(ssh-ed25519 AAAA... comment)). Its type and data are
        checked before anything changes.
      - One of O(public_key) and O(public_key_file) is needed with O(state=present).
      - "Create-only (see O(recreate))."
    type: str
  public_key_file:
    description:
      - A file holding the public key, on the host the module runs on (for example
        V(~/.ssh/id_ed25519.pub)). A missing or unreadable file fails before anything changes.
      - "Create-only (see O(recreate))."
    type: path
  recreate:
    description:
      - When the keypair holds another key, delete it and import the new key. Instances created with
        the old key keep it. Without it such a change fails.
    type: bool
    default: false
seealso:
  - module: converge.virt.instance
"""

EXAMPLES = r"""
- name: My key, for the instances of this project
  converge.virt.keypair:
    cloud: mycloud
    name: deploy
    public_key_file: ~/.ssh/id_ed25519.pub

- name: A key given inline, replacing the old one
  converge.virt.keypair:
    cloud: mycloud
    name: ci
    public_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBd0c8s0Z6uYwCuXl3YBoJmZ7Gz0Y0d4r9h1h2q3i4j5 ci@example"
    recreate: true

- name: Remove a keypair
  converge.virt.keypair:
    cloud: mycloud
    name: old
    state: absent
"""

RETURN = r"""
keypair:
  description: The keypair after the run (predicted in check mode; None when absent).
  returned: always
  type: dict
  contains:
    name:
      description: The keypair's name.
      type: str
    public_key:
      description: The public key as Nova keeps it.
      type: str
    fingerprint:
      description: Nova's fingerprint of the key (None when predicted).
      type: str
    type:
      description: The keypair type (V(ssh)).
      type: str
    user_id:
      description: The user the keypair belongs to (None when predicted or not reported).
      type: str
  sample:
    name: deploy
    public_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBd0c8s0Z6uYwCuXl3YBoJmZ7Gz0Y0d4r9h1h2q3i4j5 me@laptop
    fingerprint: "1e:9e:26:4e:1f:6c:0c:4b:7a:2d:1c:36:3d:1b:57:65"
    type: ssh
    user_id: 3a8658a7d6904cdc9fa33e8f0e695d94
plan:
  description: The plan (action V(create), V(update), V(delete) or V(none), and field-level changes,
    each with its effect); a new key has effect V(replace).
  returned: always
  type: dict
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_resource_module
from ansible_collections.converge.virt.plugins.module_utils.specs.keypair import (
    ARGUMENT_SPEC,
    BACKEND_OPTIONS,
    MODULE_KWARGS,
)


def main():
    run_resource_module("keypair", ARGUMENT_SPEC, backend_options=BACKEND_OPTIONS, **MODULE_KWARGS)


if __name__ == "__main__":
    main()
