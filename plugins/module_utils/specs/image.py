# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the ``image`` module, shared with the stack, which validates each of its
``image`` resources against them."""

from __future__ import annotations

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    pool=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    url=dict(type="str"),
    src=dict(type="path"),
    path=dict(type="path"),
    checksum=dict(type="str"),
    format=dict(type="str", choices=["qcow2", "raw", "iso"]),
    decompress=dict(type="str", choices=["auto", "none", "xz", "gz"], default="auto"),
    timeout=dict(type="int", default=60),
    retries=dict(type="int", default=3),
    validate_certs=dict(type="bool", default=True),
    cache_dir=dict(type="path"),
    keep_download=dict(type="bool", default=True),
    on_source_change=dict(type="str", choices=["refuse", "new_version"], default="refuse"),
    force=dict(type="bool", default=False),
    progress=dict(type="bool", default=True),
    container_format=dict(type="str", choices=["bare", "ovf", "ova", "aki", "ari", "ami", "docker", "compressed"],
                          default="bare"),
    visibility=dict(type="str", choices=["private", "shared", "community", "public"]),
    protected=dict(type="bool"),
    min_disk=dict(type="int"),
    min_ram=dict(type="int"),
    tags=dict(type="list", elements="str"),
    properties=dict(type="dict"),
    purge_properties=dict(type="bool", default=False),
    recreate=dict(type="bool", default=False),
    wait_timeout=dict(type="int", default=600),
    # Internal: the controller file (name, size, sha256, compression) described by the action plugin.
    _controller_file=dict(type="dict"),
)


BACKEND_OPTIONS = {
    "libvirt": {"only": ["pool", "progress"], "required": ["pool"]},
    "openstack": {"only": ["container_format", "visibility", "protected", "min_disk", "min_ram", "tags",
                           "properties", "purge_properties", "recreate", "wait_timeout"]},
}

# Keyword arguments of AnsibleModule beyond the argument_spec.
MODULE_KWARGS = {}
