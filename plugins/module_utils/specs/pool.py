# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the ``pool`` module, shared with the stack, which validates each of its
``pool`` resources against them."""

from __future__ import annotations

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    type=dict(type="str", choices=["dir", "logical", "netfs"]),
    path=dict(type="str"),
    owner=dict(type="raw"),
    group=dict(type="raw"),
    mode=dict(type="raw"),
    source=dict(type="dict", options=dict(
        host=dict(type="str"),
        dir=dict(type="str"),
        format=dict(type="str", choices=["auto", "nfs", "glusterfs", "cifs"]),
        name=dict(type="str"),
        devices=dict(type="list", elements="str"),
    )),
    build=dict(type="bool"),
    active=dict(type="bool", default=True),
    autostart=dict(type="bool", default=True),
    refresh=dict(type="bool", default=False),
    force=dict(type="bool", default=False),
    recreate=dict(type="bool", default=False),
)

BACKEND_OPTIONS = None

# Keyword arguments of AnsibleModule beyond the argument_spec.
MODULE_KWARGS = {}
