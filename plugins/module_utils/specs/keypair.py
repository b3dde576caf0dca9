# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the ``keypair`` module, shared with the stack, which validates each of its
``keypair`` resources against them."""

from __future__ import annotations

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    public_key=dict(type="str"),
    public_key_file=dict(type="path"),
    recreate=dict(type="bool", default=False),
)

BACKEND_OPTIONS = {
    "openstack": {"only": ["public_key", "public_key_file", "recreate"]},
}

# Keyword arguments of AnsibleModule beyond the argument_spec.
MODULE_KWARGS = dict(mutually_exclusive=[("public_key", "public_key_file")])
