# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the ``volume_snapshot`` module, shared with the stack, which validates each of its
``volume_snapshot`` resources against them."""

from __future__ import annotations

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    volume=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    description=dict(type="str"),
    metadata=dict(type="dict"),
    force=dict(type="bool", default=False),
    recreate=dict(type="bool", default=False),
    wait_timeout=dict(type="int", default=300),
)

BACKEND_OPTIONS = None

# Keyword arguments of AnsibleModule beyond the argument_spec.
MODULE_KWARGS = {}
