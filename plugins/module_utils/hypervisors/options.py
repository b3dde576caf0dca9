# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options that spread instances over many libvirt hosts: ``hypervisors`` (the hosts),
``host`` (a fixed one), ``placement`` (let the scheduler choose) and ``migration`` (how an
instance moves when its host changes).  Shared by the instance module and the stack."""

from __future__ import annotations

HYPERVISOR_OPTIONS = dict(
    name=dict(type="str", required=True),
    uri=dict(type="str", required=True),
    migrate_uri=dict(type="str"),
    disks_uri=dict(type="str"),
)

HYPERVISORS_ARG = dict(type="list", elements="dict", options=HYPERVISOR_OPTIONS)

# Sub-options default to None here: the scheduler's normalize_placement fills in the defaults, so
# that a stack and the module read the same thing.
PLACEMENT_ARG = dict(type="dict", options=dict(
    hosts=dict(type="list", elements="str"),
    strategy=dict(type="str", choices=["spread", "pack"]),
    affinity=dict(type="str"),
    anti_affinity=dict(type="str"),
    soft=dict(type="bool"),
    cpu_allocation_ratio=dict(type="float"),
    ram_allocation_ratio=dict(type="float"),
    reserved_memory=dict(type="str"),
    domain_type=dict(type="str", choices=["kvm", "qemu", "xen"]),
    pool_free=dict(type="dict", options=dict(
        pool=dict(type="str", required=True),
        size=dict(type="str", required=True),
    )),
))

MIGRATION_ARG = dict(type="dict", options=dict(
    mode=dict(type="str", default="auto", choices=["auto", "live", "offline"]),
    timeout=dict(type="int", default=600),
))

INSTANCE_CLUSTER_ARGS = dict(
    hypervisors=HYPERVISORS_ARG,
    host=dict(type="str"),
    placement=PLACEMENT_ARG,
    migration=MIGRATION_ARG,
)

CLUSTER_OPTION_NAMES = tuple(INSTANCE_CLUSTER_ARGS)
