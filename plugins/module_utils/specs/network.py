# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the ``network`` module, shared with the stack, which validates each of its
``network`` resources against them."""

from __future__ import annotations

_DHCP_HOST_V4 = dict(mac=dict(type="str"), name=dict(type="str"), ip=dict(type="str", required=True))
_DHCP_HOST_V6 = dict(name=dict(type="str", required=True), ip=dict(type="str", required=True))


def _ip_options(host_options):
    return dict(
        address=dict(type="str"),
        dhcp=dict(type="dict", options=dict(
            range=dict(type="list", elements="str"),
            hosts=dict(type="list", elements="dict", options=host_options),
        )),
    )


ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    forward=dict(type="str", choices=["nat", "route", "open", "isolated", "bridge"]),
    bridge=dict(type="str"),
    domain=dict(type="str"),
    mtu=dict(type="int"),
    ipv4=dict(type="dict", options=_ip_options(_DHCP_HOST_V4)),
    ipv6=dict(type="dict", options=_ip_options(_DHCP_HOST_V6)),
    dns=dict(type="dict", options=dict(
        hosts=dict(type="list", elements="dict", options=dict(
            ip=dict(type="str", required=True),
            names=dict(type="list", elements="str", required=True),
        )),
        forwarders=dict(type="list", elements="dict", options=dict(
            addr=dict(type="str"),
            domain=dict(type="str"),
        )),
    )),
    autostart=dict(type="bool", default=True),
    active=dict(type="bool", default=True),
    allow_restart=dict(type="bool", default=True),
    force=dict(type="bool", default=False),
    description=dict(type="str"),
    port_security=dict(type="bool"),
    shared=dict(type="bool"),
    external=dict(type="bool"),
    tags=dict(type="list", elements="str"),
    subnets=dict(type="list", elements="dict", options=dict(
        name=dict(type="str"),
        cidr=dict(type="str", required=True),
        gateway=dict(type="str"),
        allocation_pools=dict(type="list", elements="dict", options=dict(
            start=dict(type="str", required=True),
            end=dict(type="str", required=True),
        )),
        dns_nameservers=dict(type="list", elements="str"),
        host_routes=dict(type="list", elements="dict", options=dict(
            destination=dict(type="str", required=True),
            nexthop=dict(type="str", required=True),
        )),
        enable_dhcp=dict(type="bool"),
    )),
    router=dict(type="dict", options=dict(
        name=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        external_network=dict(type="str"),
        subnets=dict(type="list", elements="str"),
    )),
    recreate=dict(type="bool", default=False),
    wait_timeout=dict(type="int", default=120),
)

BACKEND_OPTIONS = {
    "libvirt": {"only": ["bridge", "domain", "dns", "autostart", "active", "allow_restart", "force"]},
    "openstack": {"only": ["description", "port_security", "shared", "external", "tags", "subnets", "router",
                           "recreate", "wait_timeout"]},
}

# Keyword arguments of AnsibleModule beyond the argument_spec.
MODULE_KWARGS = {}
