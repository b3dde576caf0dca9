# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the ``floating_ip`` module, shared with the stack, which validates each of its
``floating_ip`` resources against them."""

from __future__ import annotations

ARGUMENT_SPEC = dict(
    state=dict(type="str", choices=["present", "absent"], default="present"),
    network=dict(type="str"),
    address=dict(type="str"),
    server=dict(type="str"),
    nic=dict(type="str"),
    fixed_address=dict(type="str"),
    port=dict(type="str"),
    description=dict(type="str"),
    tags=dict(type="list", elements="str"),
)

BACKEND_OPTIONS = None

# Keyword arguments of AnsibleModule beyond the argument_spec.
MODULE_KWARGS = dict(mutually_exclusive=[("server", "port")])
