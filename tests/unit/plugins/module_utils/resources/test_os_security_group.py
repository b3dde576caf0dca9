# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the security group planner (pure)."""

from __future__ import annotations

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import CREATE, DELETE, LIVE, NONE, UPDATE
from ansible_collections.converge.virt.plugins.module_utils.resources.os_security_group import (
    OsSecurityGroupPlanner, SecurityGroupWorld, canonical_protocol, default_rules, rule_key,
)

PLANNER = OsSecurityGroupPlanner()


def rule(**kwargs):
    base = dict(direction="ingress", ethertype="IPv4", protocol=None, port_range_min=None, port_range_max=None,
                remote_ip_prefix=None, remote_group=None)
    base.update(kwargs)
    return base


def current(rules):
    return {"id": "g1", "name": "web", "description": "", "tags": [], "managed": True,
            "rules": sorted(rules, key=rule_key)}


def plan(spec, world):
    spec = dict({"name": "web", "state": "present"}, **spec)
    return PLANNER.plan(PLANNER.normalize(spec), world)


@pytest.mark.parametrize("given, expected", [
    ({"protocol": "6", "port": 22}, rule(protocol="tcp", port_range_min=22, port_range_max=22)),
    ({"protocol": "TCP", "ports": "8000-8100"}, rule(protocol="tcp", port_range_min=8000, port_range_max=8100)),
    ({"protocol": "tcp", "port_range_min": 80}, rule(protocol="tcp", port_range_min=80, port_range_max=80)),
    ({"protocol": "any", "remote_ip_prefix": "0.0.0.0/0"}, rule()),
    ({"remote_ip_prefix": "2001:db8::1/32"}, rule(ethertype="IPv6", remote_ip_prefix="2001:db8::/32")),
    ({"protocol": "icmp", "ethertype": "IPv6"}, rule(ethertype="IPv6", protocol="ipv6-icmp")),
    ({"protocol": "58", "ethertype": "IPv6"}, rule(ethertype="IPv6", protocol="ipv6-icmp")),
    ({"direction": "egress"}, rule(direction="egress")),
])
def test_rules_normalize_to_one_form(given, expected):
    assert PLANNER.normalize({"name": "web", "rules": [given]})["rules"] == [expected]


@pytest.mark.parametrize("given, field", [
    ({"protocol": "icmp", "ports": "80-90", "port": 3}, "rules[0]"),
    ({"protocol": "any", "port": 22}, "rules[0]"),
    ({"protocol": "tcp", "ports": "90-80"}, "rules[0]"),
    ({"ethertype": "IPv4", "remote_ip_prefix": "::/0"}, "rules[0].ethertype"),
    ({"remote_ip_prefix": "10.0.0.0/8", "remote_group": "x"}, "rules[0]"),
    ({"remote_ip_prefix": "nope"}, "rules[0].remote_ip_prefix"),
    ({"protocol": "300"}, "rules[0].protocol"),
])
def test_bad_rules(given, field):
    with pytest.raises(InvalidSpec) as err:
        PLANNER.normalize({"name": "web", "rules": [given]})
    assert field in [problem[0] for problem in err.value.problems]


def test_duplicate_rules_refused():
    with pytest.raises(InvalidSpec):
        PLANNER.normalize({"name": "web", "rules": [{"protocol": "tcp", "port": 22}, {"protocol": "6", "port": 22}]})


def test_create_without_rules_predicts_defaults():
    result = plan({}, SecurityGroupWorld())
    assert result.action == CREATE
    assert result.after["rules"] == sorted(default_rules(), key=rule_key)
    assert not result.desired["exclusive"]


def test_exclusive_rules_remove_defaults():
    world = SecurityGroupWorld(current=current(default_rules()))
    result = plan({"rules": [{"protocol": "tcp", "port": 22}]}, world)
    ops = sorted((c.op, c.path) for c in result.changes)
    assert ops == [("add", "rules[ingress IPv4 tcp 22-22 0.0.0.0/0]"), ("remove", "rules[egress IPv4 any 0.0.0.0/0]"),
                   ("remove", "rules[egress IPv6 any ::/0]")]
    assert result.effect == LIVE and result.action == UPDATE


def test_changed_rule_is_remove_plus_add():
    world = SecurityGroupWorld(current=current([rule(protocol="tcp", port_range_min=22, port_range_max=22)]))
    result = plan({"rules": [{"protocol": "tcp", "port": 2222}]}, world)
    assert sorted(c.op for c in result.changes) == ["add", "remove"]
    assert result.notes


def test_no_op_with_other_spelling():
    world = SecurityGroupWorld(current=current([rule(protocol="tcp", port_range_min=22, port_range_max=22)]))
    assert plan({"rules": [{"protocol": "6", "ports": "22", "remote_ip_prefix": "0.0.0.0/0"}]}, world).action == NONE


def test_remote_group_resolution():
    world = SecurityGroupWorld(current=current([]), remote_groups={"peer-id": "peer"})
    result = plan({"rules": [{"remote_group": "peer-id"}, {"remote_group": "self", "protocol": "tcp", "port": 1}]}, world)
    groups = sorted(r["remote_group"] for r in result.after["rules"])
    assert groups == ["peer", "self"]
    with pytest.raises(InvalidSpec):
        plan({"rules": [{"remote_group": "missing"}]}, SecurityGroupWorld(current=current([])))


def test_rules_unset_are_left_alone():
    world = SecurityGroupWorld(current=current(default_rules()))
    assert plan({"description": ""}, world).action == NONE


def test_owner_tag_is_not_a_user_tag():
    world = SecurityGroupWorld(current=current([]))
    result = plan({"tags": ["converge-virt", "b", "a"]}, world)
    assert result.after["tags"] == ["a", "b"]


def test_delete_refused_while_in_use():
    with pytest.raises(Conflict):
        plan({"state": "absent"}, SecurityGroupWorld(current=current([]), ports=["p1 (compute:nova)"]))
    assert plan({"state": "absent"}, SecurityGroupWorld(current=current([]))).action == DELETE
    assert plan({"state": "absent"}, SecurityGroupWorld()).action == NONE


def test_canonical_protocol():
    assert canonical_protocol("17") == "udp"
    assert canonical_protocol("icmpv6") == "ipv6-icmp"
    assert canonical_protocol(None) is None
