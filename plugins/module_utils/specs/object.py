# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the ``object`` module, shared with the stack, which validates each of its
``object`` resources against them."""

from __future__ import annotations

ARGUMENT_SPEC = dict(
    container=dict(type="str", required=True),
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    src=dict(type="path"),
    content=dict(type="str"),
    content_type=dict(type="str"),
    metadata=dict(type="dict"),
    purge_metadata=dict(type="bool", default=False),
)

BACKEND_OPTIONS = {
    "openstack": {"only": ["container", "src", "content", "content_type", "metadata", "purge_metadata"]},
}

# Keyword arguments of AnsibleModule beyond the argument_spec.
MODULE_KWARGS = dict(mutually_exclusive=[("src", "content")])
