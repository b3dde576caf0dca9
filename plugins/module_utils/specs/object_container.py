# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the ``object_container`` module, shared with the stack, which validates each of its
``object_container`` resources against them."""

from __future__ import annotations

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    metadata=dict(type="dict"),
    purge_metadata=dict(type="bool", default=False),
    read_acl=dict(type="str"),
    write_acl=dict(type="str"),
    public=dict(type="bool"),
    delete_objects=dict(type="bool", default=False),
)

BACKEND_OPTIONS = {
    "openstack": {"only": ["metadata", "purge_metadata", "read_acl", "write_acl", "public", "delete_objects"]},
}

# Keyword arguments of AnsibleModule beyond the argument_spec.
MODULE_KWARGS = dict(mutually_exclusive=[("public", "read_acl")])
