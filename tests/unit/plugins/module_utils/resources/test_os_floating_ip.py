# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the floating IP planner (pure)."""

from __future__ import annotations

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import CREATE, DELETE, LIVE, NONE, UPDATE
from ansible_collections.converge.virt.plugins.module_utils.resources.os_floating_ip import (
    FloatingIpWorld, OsFloatingIpPlanner,
)

PLANNER = OsFloatingIpPlanner()
EXT = {"id": "ext", "name": "external", "external": True}
PORT1 = {"id": "p1", "fixed_address": "10.0.0.5", "server": "srv1"}
PORT2 = {"id": "p2", "fixed_address": "10.0.0.6", "server": "srv2"}


def fip(**kwargs):
    state = {"id": "f1", "address": "203.0.113.5", "network_id": "ext", "network": "external", "port": "p1",
             "fixed_address": "10.0.0.5", "server": "srv1", "description": "", "status": "ACTIVE", "tags": [],
             "managed": True}
    state.update(kwargs)
    return state


def plan(spec, world):
    return PLANNER.plan(PLANNER.normalize(dict({"state": "present"}, **spec)), world)


def test_identity_is_required():
    with pytest.raises(InvalidSpec) as err:
        PLANNER.normalize({"network": "external"})
    assert "every run would allocate a new one" in str(err.value)


@pytest.mark.parametrize("spec, field", [
    ({"server": "a", "port": "b"}, "port"),
    ({"port": "b", "nic": "n"}, "nic"),
    ({"address": "nope"}, "address"),
    ({"address": "203.0.113.5", "fixed_address": "10.0.0.1"}, "fixed_address"),
])
def test_bad_specs(spec, field):
    with pytest.raises(InvalidSpec) as err:
        PLANNER.normalize(spec)
    assert field in [problem[0] for problem in err.value.problems]


def test_allocate_and_associate_in_one_step():
    result = plan({"network": "external", "server": "web1"}, FloatingIpWorld(network=EXT, target=PORT1))
    assert result.action == CREATE
    assert result.after["port"] == "p1" and result.after["fixed_address"] == "10.0.0.5"
    assert result.desired["network_id"] == "ext"


def test_found_by_association_is_a_no_op():
    result = plan({"network": "external", "server": "web1"}, FloatingIpWorld(current=fip(), network=EXT, target=PORT1))
    assert result.action == NONE


def test_move_by_address_is_live():
    result = plan({"address": "203.0.113.5", "server": "web2"}, FloatingIpWorld(current=fip(), target=PORT2))
    assert result.action == UPDATE and result.effect == LIVE
    assert sorted(c.path for c in result.changes) == ["fixed_address", "port"]
    assert result.notes


def test_address_without_target_leaves_association_alone():
    assert plan({"address": "203.0.113.5"}, FloatingIpWorld(current=fip())).action == NONE


@pytest.mark.parametrize("world, text", [
    (FloatingIpWorld(network=None, target=PORT1), "does not exist"),
    (FloatingIpWorld(network=dict(EXT, external=False), target=PORT1), "not an external network"),
])
def test_network_checked_before_change(world, text):
    with pytest.raises(InvalidSpec) as err:
        plan({"network": "x", "port": "p"}, world)
    assert text in str(err.value)


def test_network_needed_to_allocate():
    with pytest.raises(Conflict):
        plan({"port": "p"}, FloatingIpWorld(target=PORT1))


def test_specific_address_needs_admin():
    with pytest.raises(Conflict) as err:
        plan({"network": "external", "address": "203.0.113.9"}, FloatingIpWorld(network=EXT))
    assert "admin" in str(err.value)
    result = plan({"network": "external", "address": "203.0.113.9"}, FloatingIpWorld(network=EXT, is_admin=True))
    assert result.action == CREATE and result.after["address"] == "203.0.113.9"


def test_cannot_move_between_networks():
    other = {"id": "ext2", "name": "other", "external": True}
    with pytest.raises(Conflict):
        plan({"address": "203.0.113.5", "network": "other"}, FloatingIpWorld(current=fip(), network=other))


def test_lookup_problems_fail_present_but_not_absent():
    world = FloatingIpWorld(problems=[("server", "server 'x' does not exist")])
    with pytest.raises(InvalidSpec):
        plan({"server": "x", "network": "external"}, world)
    assert plan({"server": "x", "state": "absent"}, world).action == NONE


def test_release_only_what_we_allocated_unless_named_by_address():
    foreign = fip(managed=False)
    with pytest.raises(Conflict):
        plan({"server": "web1", "state": "absent"}, FloatingIpWorld(current=foreign, target=PORT1))
    assert plan({"address": "203.0.113.5", "state": "absent"}, FloatingIpWorld(current=foreign)).action == DELETE
    assert plan({"server": "web1", "state": "absent"}, FloatingIpWorld(current=fip(), target=PORT1)).action == DELETE
