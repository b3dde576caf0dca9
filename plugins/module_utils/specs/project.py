# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the ``project`` module, shared with the stack, which validates each of its
``project`` resources against them."""

from __future__ import annotations

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    domain=dict(type="str", default="default"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    description=dict(type="str"),
    enabled=dict(type="bool"),
    tags=dict(type="list", elements="str"),
    force=dict(type="bool", default=False),
)

# Every option is OpenStack's: with the libvirt backend, the required name alone is refused,
# before any connection is opened.
BACKEND_OPTIONS = {"openstack": {"only": list(ARGUMENT_SPEC)}}

# Keyword arguments of AnsibleModule beyond the argument_spec.
MODULE_KWARGS = {}
