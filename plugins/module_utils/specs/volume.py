# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the ``volume`` module, shared with the stack, which validates each of its
``volume`` resources against them."""

from __future__ import annotations

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    pool=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    size=dict(type="str"),
    format=dict(type="str", choices=["qcow2", "raw"]),
    image=dict(type="str"),
    image_pool=dict(type="str"),
    linked=dict(type="bool"),
    content=dict(type="path"),
    wipe=dict(type="bool", default=False),
    force=dict(type="bool", default=False),
    recreate=dict(type="bool", default=False),
    volume_type=dict(type="str"),
    migration_policy=dict(type="str", choices=["never", "on-demand"], default="never"),
    description=dict(type="str"),
    metadata=dict(type="dict"),
    snapshot=dict(type="str"),
    bootable=dict(type="bool"),
    availability_zone=dict(type="str"),
    delete_snapshots=dict(type="bool", default=False),
    wait_timeout=dict(type="int", default=300),
)

BACKEND_OPTIONS = {
    "libvirt": {
        "only": ["pool", "format", "image_pool", "linked", "content", "wipe", "force"],
        "required": ["pool"],
    },
    "openstack": {
        "only": ["volume_type", "migration_policy", "description", "metadata", "snapshot", "bootable",
                 "availability_zone", "delete_snapshots", "wait_timeout"],
    },
}

# Keyword arguments of AnsibleModule beyond the argument_spec.
MODULE_KWARGS = {}
