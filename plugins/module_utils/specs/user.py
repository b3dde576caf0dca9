# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the ``user`` module, shared with the stack, which validates each of its
``user`` resources against them."""

from __future__ import annotations

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    domain=dict(type="str", default="default"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    password=dict(type="str", no_log=True),
    update_password=dict(type="str", choices=["on_create", "always"], default="on_create", no_log=False),
    email=dict(type="str"),
    description=dict(type="str"),
    enabled=dict(type="bool"),
    default_project=dict(type="str"),
    roles=dict(type="list", elements="dict", options=dict(
        role=dict(type="str", required=True),
        project=dict(type="str"),
        domain=dict(type="str"),
    ), mutually_exclusive=[("project", "domain")], required_one_of=[("project", "domain")]),
    purge_roles=dict(type="bool", default=True),
)

# Every option is OpenStack's: with the libvirt backend, the required name alone is refused,
# before any connection is opened.
BACKEND_OPTIONS = {"openstack": {"only": list(ARGUMENT_SPEC)}}

# Keyword arguments of AnsibleModule beyond the argument_spec.
MODULE_KWARGS = {}
