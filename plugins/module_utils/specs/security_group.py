# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the ``security_group`` module, shared with the stack, which validates each of its
``security_group`` resources against them."""

from __future__ import annotations

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    description=dict(type="str"),
    tags=dict(type="list", elements="str"),
    rules=dict(type="list", elements="dict", options=dict(
        direction=dict(type="str", choices=["ingress", "egress"], default="ingress"),
        ethertype=dict(type="str", choices=["IPv4", "IPv6"]),
        protocol=dict(type="str"),
        port=dict(type="int"),
        ports=dict(type="str"),
        port_range_min=dict(type="int"),
        port_range_max=dict(type="int"),
        remote_ip_prefix=dict(type="str"),
        remote_group=dict(type="str"),
    )),
)

BACKEND_OPTIONS = None

# Keyword arguments of AnsibleModule beyond the argument_spec.
MODULE_KWARGS = {}
