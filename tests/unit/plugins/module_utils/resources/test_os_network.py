# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the Neutron network planner: plain params and hand-built worlds, no openstacksdk."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, NONE, REPLACE, UPDATE,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.os_network import (
    OsNetworkPlanner, OsNetworkWorld, default_pools,
)

PLANNER = OsNetworkPlanner()
EXT = {"id": "ext-id", "name": "external", "external": True}


def params(**kwargs):
    base = {"name": "net", "state": "present"}
    base.update(kwargs)
    return base


def subnet(name="net-ipv4", cidr="10.0.0.0/24", gateway="10.0.0.1", sid="s1", **kwargs):
    item = {"id": sid, "name": name, "cidr": cidr, "ip_version": 4, "gateway": gateway,
            "allocation_pools": [{"start": "10.0.0.2", "end": "10.0.0.254"}], "dns_nameservers": [],
            "host_routes": [], "enable_dhcp": True}
    item.update(kwargs)
    return item


def current(**kwargs):
    state = {"id": "n1", "name": "net", "status": "ACTIVE", "project_id": "p", "description": "",
             "mtu": 1450, "port_security": True, "shared": False, "external": False, "tags": [],
             "managed": True, "subnets": [subnet()], "router": None}
    state.update(kwargs)
    return state


def plan(spec, world):
    return PLANNER.plan(PLANNER.normalize(spec), world)


def test_ipv4_shorthand_is_one_subnet():
    desired = PLANNER.normalize(params(ipv4={"address": "10.0.0.1/24", "dhcp": {"range": ["10.0.0.10", "10.0.0.20"]}}))
    assert desired["subnets"] == [{"name": "net-ipv4", "cidr": "10.0.0.0/24", "ip_version": 4, "gateway": "10.0.0.1",
                                   "allocation_pools": [{"start": "10.0.0.10", "end": "10.0.0.20"}],
                                   "dns_nameservers": None, "host_routes": None, "enable_dhcp": True}]
    assert not desired["subnets_exclusive"]


def test_ipv4_without_dhcp_turns_dhcp_off():
    desired = PLANNER.normalize(params(ipv4={"address": "10.0.0.1/24"}))
    assert desired["subnets"][0]["enable_dhcp"] is False


@pytest.mark.parametrize("spec, field", [
    (params(subnets=[{"cidr": "10.0.0.0/24"}, {"cidr": "10.0.0.0/23"}]), "subnets"),
    (params(subnets=[{"cidr": "10.0.0.5/24"}]), "subnets[0].cidr"),
    (params(subnets=[{"cidr": "banana"}]), "subnets[0].cidr"),
    (params(subnets=[{"cidr": "10.0.0.0/24", "gateway": "10.1.0.1"}]), "subnets[0].gateway"),
    (params(subnets=[{"cidr": "10.0.0.0/24", "allocation_pools": [{"start": "10.0.0.9", "end": "10.0.0.2"}]}]),
     "subnets[0].allocation_pools[0]"),
    (params(ipv4={"address": "10.0.0.1/24", "dhcp": {"hosts": [{"mac": "52:54:00:00:00:01", "ip": "10.0.0.5"}]}}),
     "ipv4.dhcp.hosts"),
    (params(forward="nat"), "forward"),
    (params(mtu=10), "mtu"),
])
def test_bad_specs_are_refused(spec, field):
    with pytest.raises(InvalidSpec) as err:
        PLANNER.normalize(spec)
    assert field in [problem[0] for problem in err.value.problems]


def test_create_predicts_neutron_defaults():
    result = plan(params(subnets=[{"cidr": "10.0.0.0/24"}]), OsNetworkWorld())
    assert result.action == CREATE
    sub = result.after["subnets"][0]
    assert sub["name"] == "10.0.0.0/24" and sub["gateway"] == "10.0.0.1"
    assert sub["allocation_pools"] == [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    assert result.desired["ops"]["subnets"][0]["op"] == "create"


def test_default_pools_split_around_gateway():
    expected = [{"start": "10.0.0.1", "end": "10.0.0.2"}, {"start": "10.0.0.4", "end": "10.0.0.6"}]
    assert default_pools("10.0.0.0/29", "10.0.0.3") == expected
    assert default_pools("fd00::/126", None) == [{"start": "fd00::1", "end": "fd00::3"}]


def test_no_op():
    world = OsNetworkWorld(current=current())
    result = plan(params(mtu=1450, ipv4={"address": "10.0.0.1/24", "dhcp": {}}), world)
    assert result.action == NONE and result.changes == []


def test_live_updates_field_by_field():
    world = OsNetworkWorld(current=current())
    result = plan(params(mtu=1400, description="d", tags=["a", "converge-virt"],
                         ipv4={"address": "10.0.0.254/24", "dhcp": {"range": ["10.0.0.10", "10.0.0.20"]}}), world)
    assert result.action == UPDATE and result.effect == LIVE
    paths = sorted(c.path for c in result.changes)
    assert paths == ["description", "mtu", "subnets[net-ipv4].allocation_pools", "subnets[net-ipv4].gateway", "tags"]
    assert result.after["tags"] == ["a"]  # the owner tag is never a user tag
    op = result.desired["ops"]["subnets"][0]
    assert op["op"] == "update" and op["attrs"]["gateway"] == "10.0.0.254"


def test_gateway_inside_pool_refused():
    world = OsNetworkWorld(current=current())
    with pytest.raises(InvalidSpec) as err:
        plan(params(ipv4={"address": "10.0.0.9/24", "dhcp": {}}), world)
    assert "inside the allocation pool" in str(err.value)


def test_cidr_change_needs_recreate():
    world = OsNetworkWorld(current=current())
    with pytest.raises(Conflict) as err:
        plan(params(ipv4={"address": "10.1.0.1/24"}), world)
    assert "recreate: true" in str(err.value) and "cidr" in str(err.value)
    result = plan(params(ipv4={"address": "10.1.0.1/24"}, recreate=True), world)
    assert result.effect == REPLACE
    assert result.desired["ops"]["subnets"][0]["op"] == "replace"
    assert result.after["subnets"][0]["cidr"] == "10.1.0.0/24"


def test_recreate_refused_while_a_server_uses_the_subnet():
    world = OsNetworkWorld(current=current(), ports=[
        {"id": "p1", "device_owner": "compute:nova", "device_id": "srv", "subnet_ids": ["s1"]},
        {"id": "p2", "device_owner": "network:router_interface", "device_id": "r", "subnet_ids": ["s1"]}])
    with pytest.raises(Conflict) as err:
        plan(params(ipv4={"address": "10.1.0.1/24"}, recreate=True), world)
    assert "p1" in str(err.value) and "p2" not in str(err.value)


def test_subnets_are_exclusive_and_renamed_by_cidr():
    second = subnet(name="10.0.1.0/24", cidr="10.0.1.0/24", sid="s2", gateway="10.0.1.1")
    world = OsNetworkWorld(current=current(subnets=[subnet(), second]))
    result = plan(params(subnets=[{"name": "second", "cidr": "10.0.1.0/24"}]), world)
    paths = sorted((c.path, c.op) for c in result.changes)
    assert paths == [("subnets[10.0.1.0/24].name", "modify"), ("subnets[net-ipv4]", "remove")]
    ops = dict((o["op"], o) for o in result.desired["ops"]["subnets"])
    assert ops["delete"]["id"] == "s1" and ops["update"]["attrs"] == {"name": "second"}


def test_router_defaults_and_external_network():
    world = OsNetworkWorld(external_network=EXT)
    result = plan(params(ipv4={"address": "10.0.0.1/24"}, router={"external_network": "external"}), world)
    assert result.after["router"] == {"name": "net-router", "external_network": "external", "subnets": ["net-ipv4"],
                                      "id": None, "managed": True}
    assert result.desired["ops"]["router"]["gateway_network_id"] == "ext-id"


@pytest.mark.parametrize("ext, text", [(None, "does not exist"), (dict(EXT, external=False), "not an external")])
def test_router_external_network_checked_before_change(ext, text):
    with pytest.raises(InvalidSpec) as err:
        plan(params(ipv4={"address": "10.0.0.1/24"}, router={"external_network": "x"}),
             OsNetworkWorld(external_network=ext))
    assert text in str(err.value)


def test_router_interface_change_is_live():
    have = current(router={"id": "r1", "name": "net-router", "external_network": "external", "subnets": [],
                           "managed": True})
    result = plan(params(router={}), OsNetworkWorld(current=have, external_network=None))
    assert [(c.path, c.effect) for c in result.changes] == [("router.subnets", LIVE)]
    assert result.desired["ops"]["router"]["add"] == ["net-ipv4"]


def test_non_admin_cannot_share():
    with pytest.raises(InvalidSpec) as err:
        plan(params(shared=True), OsNetworkWorld(current=current()))
    assert "admin" in str(err.value)
    assert plan(params(shared=True), OsNetworkWorld(current=current(), is_admin=True)).changes[0].path == "shared"
    assert plan(params(shared=False), OsNetworkWorld(current=current())).action == NONE


def test_delete_refuses_server_ports_and_keeps_foreign_routers():
    ports = [{"id": "p1", "device_owner": "compute:nova", "device_id": "srv", "subnet_ids": ["s1"]}]
    with pytest.raises(Conflict) as err:
        plan(params(state="absent"), OsNetworkWorld(current=current(), ports=ports))
    assert "p1" in str(err.value)
    routers = [{"id": "r1", "name": "mine", "managed": True, "subnet_ids": ["s1"]},
               {"id": "r2", "name": "theirs", "managed": False, "subnet_ids": ["s1"]}]
    result = plan(params(state="absent"), OsNetworkWorld(current=current(), routers=routers))
    assert result.action == DELETE
    assert [(r["name"], r["delete"]) for r in result.desired["routers"]] == [("mine", True), ("theirs", False)]


def test_delete_absent_is_noop():
    assert plan(params(state="absent"), OsNetworkWorld()).action == NONE


def test_planner_does_not_modify_world():
    world = OsNetworkWorld(current=current())
    before = copy.deepcopy(world.current)
    plan(params(ipv4={"address": "10.0.0.254/24", "dhcp": {"range": ["10.0.0.10", "10.0.0.20"]}}), world)
    assert world.current == before


def test_forward_isolated_is_portable_and_other_modes_are_refused():
    assert PLANNER.normalize(params(forward="isolated"))["router"] is None
    with pytest.raises(InvalidSpec, match="forward: only isolated has a Neutron counterpart"):
        PLANNER.normalize(params(forward="nat"))
    with pytest.raises(InvalidSpec, match="forward: isolated means no router"):
        PLANNER.normalize(params(forward="isolated", router={"state": "present", "external_network": "ext"}))
