# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the network planner: normalize() and plan() are pure, so every case is a
params dict and a NetworkWorld built by hand (no libvirt)."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, NONE, RESTART, UPDATE,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.network import (
    KIND, SCHEMA, NetworkPlanner, NetworkWorld, dhcp_host_key, version_mtu_conflict,
)

PLANNER = NetworkPlanner()
NAME = "net1"
MAC1, MAC2, MAC3 = "52:54:00:00:00:10", "52:54:00:00:00:11", "52:54:00:00:00:12"
EMPTY_DNS = {"hosts": [], "forwarders": []}

# What the libvirt driver observes for a running NAT network (parse() output + runtime flags).
CURRENT = {
    "name": NAME,
    "uuid": "8f5e0a4e-0000-4000-8000-000000000001",
    "forward": "nat",
    "bridge": "virbr10",
    "domain": None,
    "mtu": None,
    "ipv4": {"address": "10.10.0.1/24",
             "dhcp": {"range": ["10.10.0.100", "10.10.0.200"],
                      "hosts": [{"mac": MAC1, "name": "web", "ip": "10.10.0.10"}]}},
    "ipv6": None,
    "dns": {"hosts": [{"ip": "10.10.0.5", "names": ["db"]}], "forwarders": []},
    "persistent": True,
    "autostart": True,
    "active": True,
}

# A host-bridge network (forward: bridge), as observed.
CURRENT_HOST_BRIDGE = {
    "name": "lan", "uuid": "8f5e0a4e-0000-4000-8000-000000000002", "forward": "bridge", "bridge": "br0",
    "domain": None, "mtu": None, "ipv4": None, "ipv6": None, "dns": copy.deepcopy(EMPTY_DNS),
    "persistent": True, "autostart": True, "active": True,
}

OTHER = {
    "name": "other", "uuid": "8f5e0a4e-0000-4000-8000-000000000003", "forward": "nat", "bridge": "virbr20",
    "domain": None, "mtu": None,
    "ipv4": {"address": "10.20.0.1/24", "dhcp": None},
    "ipv6": {"address": "fd00:20::1/64", "dhcp": None},
    "dns": copy.deepcopy(EMPTY_DNS), "persistent": True, "autostart": True, "active": True,
}


def current(**overrides):
    state = copy.deepcopy(CURRENT)
    state.update(copy.deepcopy(overrides))
    return state


def world(cur=None, **kwargs):
    return NetworkWorld(current=copy.deepcopy(cur), **kwargs)


def normalize(**params):
    params.setdefault("name", NAME)
    return PLANNER.normalize(params)


def plan(params=None, cur=None, **world_kwargs):
    params = dict(params or {})
    params.setdefault("name", NAME)
    return PLANNER.plan(PLANNER.normalize(params), world(cur, **world_kwargs))


def changes_of(p):
    return [(c.path, c.op, c.before, c.after, c.effect) for c in p.changes]


def problems_of(params, cur=None, **world_kwargs):
    """The (field, message) problems of normalize + plan, which must raise one InvalidSpec."""
    with pytest.raises(InvalidSpec) as info:
        plan(params, cur, **world_kwargs)
    err = info.value
    assert err.kind == KIND
    for field, message in err.problems:
        assert "%s: %s" % (field, message) in str(err), "the message names each field"
    return err.problems


# ---- module-level helpers ------------------------------------------------------------------
@pytest.mark.parametrize("host, key", [
    ({"mac": MAC1, "name": "web", "ip": "10.0.0.2"}, MAC1),
    ({"name": "web", "ip": "10.0.0.2"}, "web"),
    ({"ip": "10.0.0.2"}, None),
])
def test_dhcp_host_key(host, key):
    assert dhcp_host_key(host) == key


@pytest.mark.parametrize("state, conflict", [
    ({"ipv6": {"address": "fd00::1/64"}, "mtu": 1279}, True),
    ({"ipv6": {"address": "fd00::1/64"}, "mtu": 1280}, False),
    ({"ipv6": {"address": "fd00::1/64"}, "mtu": None}, False),
    ({"ipv6": None, "mtu": 576}, False),
])
def test_version_mtu_conflict(state, conflict):
    assert version_mtu_conflict(state) is conflict


def _effects(schema, prefix=""):
    result = {}
    for name, spec in schema.items():
        path = prefix + name
        result[path] = spec.effect
        if hasattr(spec, "fields"):
            result.update(_effects(spec.fields, path + "."))
    return result


def test_schema_effects_are_as_documented():
    """DHCP ranges and hosts and DNS hosts change live; autostart/active are live toggles; the rest restarts."""
    live = {"ipv4.dhcp.range", "ipv4.dhcp.hosts", "ipv6.dhcp.range", "ipv6.dhcp.hosts", "dns.hosts",
            "autostart", "active"}
    effects = _effects(SCHEMA)
    assert set(effects) == live | {"forward", "bridge", "domain", "mtu", "ipv4", "ipv4.address", "ipv4.dhcp",
                                   "ipv6", "ipv6.address", "ipv6.dhcp", "dns", "dns.forwarders"}
    for path, effect in effects.items():
        assert effect == (LIVE if path in live else RESTART), path


# ---- normalize -----------------------------------------------------------------------------
def test_normalize_minimal():
    assert normalize() == {
        "name": NAME, "state": "present", "allow_restart": True, "force": False,
        "forward": None, "bridge": None, "domain": None, "mtu": None, "ipv4": None, "ipv6": None,
        "dns": None, "autostart": None, "active": None,
    }


def test_normalize_full_spec_is_normalized():
    desired = normalize(
        forward="nat", bridge="virbr10", domain="Example.COM.", mtu=9000, autostart=False, active=True,
        allow_restart=False, force=1,
        ipv4={"address": "10.10.0.1/255.255.255.0",
              "dhcp": {"range": [" 10.10.0.100", "10.10.0.200"],
                       "hosts": [{"mac": "52:54:00:00:00:11", "ip": "10.10.0.11"},
                                 {"mac": "52-54-00-00-00-10", "name": "Web", "ip": "10.10.0.10"},
                                 {"name": "NoMac", "ip": "10.10.0.12"}]}},
        ipv6={"address": "fd00:10:0:0::1/64",
              "dhcp": {"range": ["fd00:10::100", "fd00:10::1ff"],
                       "hosts": [{"name": "web", "ip": "FD00:10::10"}]}},
        dns={"hosts": [{"ip": "10.10.0.6", "names": ["B.example"]}, {"ip": "10.10.0.5", "names": ["a", "a2"]}],
             "forwarders": [{"addr": "8.8.8.8"}, {"domain": "corp.example", "addr": "10.0.0.53"},
                            {"domain": "Local."}]},
    )
    assert desired == {
        "name": NAME, "state": "present", "allow_restart": False, "force": True,
        "forward": "nat", "bridge": "virbr10", "domain": "example.com", "mtu": 9000,
        "ipv4": {"address": "10.10.0.1/24",
                 "dhcp": {"range": ["10.10.0.100", "10.10.0.200"],
                          "hosts": [{"mac": MAC1, "name": "web", "ip": "10.10.0.10"},
                                    {"mac": MAC2, "ip": "10.10.0.11"},
                                    {"name": "nomac", "ip": "10.10.0.12"}]}},
        "ipv6": {"address": "fd00:10::1/64",
                 "dhcp": {"range": ["fd00:10::100", "fd00:10::1ff"],
                          "hosts": [{"name": "web", "ip": "fd00:10::10"}]}},
        "dns": {"hosts": [{"ip": "10.10.0.5", "names": ["a", "a2"]}, {"ip": "10.10.0.6", "names": ["b.example"]}],
                "forwarders": [{"addr": "8.8.8.8"}, {"addr": "10.0.0.53", "domain": "corp.example"},
                               {"domain": "local"}]},
        "autostart": False, "active": True,
    }


@pytest.mark.parametrize("spec, expected", [
    ({}, {"address": None, "dhcp": None}),
    ({"address": None, "dhcp": None}, {"address": None, "dhcp": None}),
    ({"dhcp": {}}, {"address": None, "dhcp": {"range": None, "hosts": None}}),
    ({"dhcp": {"hosts": []}}, {"address": None, "dhcp": {"range": None, "hosts": []}}),
])
def test_normalize_partial_ip_spec_keeps_none(spec, expected):
    assert normalize(ipv4=spec)["ipv4"] == expected


@pytest.mark.parametrize("spec, expected", [
    ({}, {"hosts": None, "forwarders": None}),
    ({"hosts": []}, {"hosts": [], "forwarders": None}),
    ({"forwarders": []}, {"hosts": None, "forwarders": []}),
])
def test_normalize_partial_dns_spec_keeps_none(spec, expected):
    assert normalize(dns=spec)["dns"] == expected


@pytest.mark.parametrize("forward", ["nat", "route", "open", "isolated"])
def test_normalize_forward_modes(forward):
    assert normalize(forward=forward)["forward"] == forward


def test_normalize_host_bridge():
    desired = normalize(forward="bridge", bridge="br0")
    assert (desired["forward"], desired["bridge"]) == ("bridge", "br0")


# ---- create --------------------------------------------------------------------------------
def test_create_plan_with_defaults():
    p = plan({"ipv4": {"address": "10.10.0.1/24"}})
    assert p.kind == KIND and p.name == NAME
    assert p.action == CREATE and p.changed
    assert p.effect is None
    assert p.before is None
    assert p.after == {
        "name": NAME, "forward": "isolated", "bridge": None, "domain": None, "mtu": None,
        "ipv4": {"address": "10.10.0.1/24", "dhcp": None}, "ipv6": None,
        "dns": EMPTY_DNS, "autostart": True, "active": True,
    }
    assert p.desired == p.after
    assert p.facts == {"restart": False, "restart_pending": False, "attached_instances": []}
    assert PLANNER.outputs(p) == {"restart_pending": False}
    assert changes_of(p) == [
        ("forward", "add", None, "isolated", RESTART),
        ("ipv4", "add", None, {"address": "10.10.0.1/24", "dhcp": None}, RESTART),
        ("dns", "add", None, EMPTY_DNS, RESTART),
        ("autostart", "add", None, True, LIVE),
        ("active", "add", None, True, LIVE),
    ]
    assert p.summary() == "network net1: create"


def test_create_minimal_network_without_addressing():
    p = plan()
    assert p.action == CREATE
    assert (p.after["forward"], p.after["active"], p.after["autostart"], p.after["dns"]) == \
        ("isolated", True, True, EMPTY_DNS)
    assert p.after["ipv4"] is None and p.after["ipv6"] is None


@pytest.mark.parametrize("params, expected", [
    ({"forward": "nat"}, {"forward": "nat"}),
    ({"autostart": False, "active": False}, {"autostart": False, "active": False}),
    ({"mtu": 9000, "domain": "lab.example", "bridge": "virbr77"},
     {"mtu": 9000, "domain": "lab.example", "bridge": "virbr77"}),
    ({"forward": "bridge", "bridge": "br0"}, {"forward": "bridge", "bridge": "br0", "dns": EMPTY_DNS}),
    ({"dns": {"forwarders": [{"addr": "1.1.1.1"}]}}, {"dns": {"hosts": [], "forwarders": [{"addr": "1.1.1.1"}]}}),
    ({"ipv4": {"address": "10.10.0.1/24", "dhcp": {"range": ["10.10.0.2", "10.10.0.9"]}}},
     {"ipv4": {"address": "10.10.0.1/24", "dhcp": {"range": ["10.10.0.2", "10.10.0.9"], "hosts": []}}}),
    ({"ipv6": {"address": "fd00::1/64", "dhcp": {"hosts": [{"name": "h", "ip": "fd00::5"}]}}},
     {"ipv6": {"address": "fd00::1/64", "dhcp": {"range": None, "hosts": [{"name": "h", "ip": "fd00::5"}]}}}),
])
def test_create_respects_given_options(params, expected):
    p = plan(params)
    assert p.action == CREATE
    for key, value in expected.items():
        assert p.after[key] == value, key


def test_create_checks_other_networks():
    others = [dict(OTHER, name="o%d" % i, bridge="virbr%d" % (30 + i),
                   ipv4={"address": "10.%d.0.1/24" % (30 + i), "dhcp": None}, ipv6=None) for i in range(3)]
    p = plan({"ipv4": {"address": "10.10.0.1/24"}, "bridge": "virbr10"}, others=others)
    assert p.action == CREATE


def test_create_does_not_modify_desired():
    desired = normalize(ipv4={"address": "10.10.0.1/24", "dhcp": {"range": ["10.10.0.2", "10.10.0.3"]}})
    before = copy.deepcopy(desired)
    PLANNER.plan(desired, world())
    assert desired == before


# ---- no-op ---------------------------------------------------------------------------------
SAME_AS_CURRENT = [
    pytest.param({}, id="nothing-set"),
    pytest.param({"forward": "nat", "bridge": "virbr10", "autostart": True, "active": True}, id="scalars"),
    pytest.param({"ipv4": {"address": "10.10.0.1/24",
                           "dhcp": {"range": ["10.10.0.100", "10.10.0.200"],
                                    "hosts": [{"mac": "52:54:00:00:00:10", "name": "web", "ip": "10.10.0.10"}]}},
                  "dns": {"hosts": [{"ip": "10.10.0.5", "names": ["db"]}], "forwarders": []}}, id="everything"),
    pytest.param({"ipv4": {"address": "10.10.0.1/255.255.255.0",
                           "dhcp": {"hosts": [{"mac": "52:54:00:00:00:10".upper(), "name": "WEB",
                                               "ip": "10.10.0.10"}]}}}, id="equal-after-normalizing"),
    pytest.param({"dns": {"hosts": [{"ip": "10.10.0.5", "names": ["DB"]}]}}, id="dns-hosts"),
]


@pytest.mark.parametrize("params", SAME_AS_CURRENT)
def test_no_op_when_current_matches(params):
    p = plan(params, CURRENT)
    assert p.action == NONE and not p.changed
    assert p.changes == []
    assert p.effect is None
    assert p.notes == []
    assert p.facts["restart"] is False and p.facts["restart_pending"] is False
    assert p.facts["warnings"] == []
    assert p.before == CURRENT and p.after == CURRENT
    assert p.summary() == "network net1: unchanged"


def test_no_op_after_create():
    params = {"forward": "nat", "mtu": 1500, "domain": "lab.example",
              "ipv4": {"address": "10.10.0.1/24",
                       "dhcp": {"range": ["10.10.0.100", "10.10.0.200"], "hosts": [{"mac": MAC1, "ip": "10.10.0.10"}]}},
              "ipv6": {"address": "fd00:10::1/64"},
              "dns": {"hosts": [{"ip": "10.10.0.5", "names": ["db"]}], "forwarders": [{"addr": "9.9.9.9"}]},
              "autostart": True, "active": True}
    created = plan(params)
    observed = dict(created.after, uuid="u", persistent=True)
    assert plan(params, observed).action == NONE


def test_no_op_does_not_modify_current():
    cur = current()
    PLANNER.plan(normalize(mtu=9000, ipv4={"dhcp": {"hosts": []}}), NetworkWorld(current=cur))
    assert cur == CURRENT


# ---- None means "leave alone" --------------------------------------------------------------
@pytest.mark.parametrize("params", [
    pytest.param({"forward": None, "bridge": None, "domain": None, "mtu": None, "ipv4": None, "ipv6": None,
                  "dns": None, "autostart": None, "active": None}, id="all-none"),
    pytest.param({"ipv4": {"address": None, "dhcp": None}}, id="ipv4-subkeys-none"),
    pytest.param({"ipv4": {"dhcp": {"range": None, "hosts": None}}}, id="dhcp-subkeys-none"),
    pytest.param({"dns": {"hosts": None, "forwarders": None}}, id="dns-subkeys-none"),
    pytest.param({"ipv4": {"dhcp": {"hosts": None, "range": ["10.10.0.100", "10.10.0.200"]}}}, id="hosts-none"),
])
@pytest.mark.parametrize("cur", [
    pytest.param(CURRENT, id="running"),
    pytest.param(current(active=False, autostart=False), id="stopped"),
    pytest.param(current(mtu=9000, domain="lab.example",
                         ipv6={"address": "fd00:10::1/64", "dhcp": {"range": None, "hosts": []}},
                         dns={"hosts": [], "forwarders": [{"addr": "1.1.1.1"}]}), id="more-options"),
])
def test_unset_options_never_produce_changes(params, cur):
    p = plan(params, cur)
    assert p.action == NONE
    assert p.changes == []
    assert p.after == cur


@pytest.mark.parametrize("params", [{}, {"forward": None, "bridge": None}])
def test_unset_options_leave_a_host_bridge_alone(params):
    p = plan(dict(params, name="lan"), CURRENT_HOST_BRIDGE)
    assert p.action == NONE and p.changes == []


# ---- live changes: DHCP hosts, DNS hosts, range, toggles -----------------------------------
HOST1 = {"mac": MAC1, "name": "web", "ip": "10.10.0.10"}

LIVE_CASES = [
    pytest.param(
        {"ipv4": {"dhcp": {"hosts": [HOST1, {"mac": MAC2, "ip": "10.10.0.11"}]}}},
        [("ipv4.dhcp.hosts[52:54:00:00:00:11]", "add", None, {"mac": MAC2, "ip": "10.10.0.11"}, LIVE)],
        id="dhcp-host-add"),
    pytest.param(
        {"ipv4": {"dhcp": {"hosts": [{"mac": MAC1, "name": "web", "ip": "10.10.0.20"}]}}},
        [("ipv4.dhcp.hosts[52:54:00:00:00:10]", "modify", HOST1, {"mac": MAC1, "name": "web", "ip": "10.10.0.20"},
          LIVE)],
        id="dhcp-host-modify-same-mac-new-ip"),
    pytest.param(
        {"ipv4": {"dhcp": {"hosts": [{"mac": MAC1, "ip": "10.10.0.10"}]}}},
        [("ipv4.dhcp.hosts[52:54:00:00:00:10]", "modify", HOST1, {"mac": MAC1, "ip": "10.10.0.10"}, LIVE)],
        id="dhcp-host-modify-drop-name"),
    pytest.param(
        {"ipv4": {"dhcp": {"hosts": []}}},
        [("ipv4.dhcp.hosts[52:54:00:00:00:10]", "remove", HOST1, None, LIVE)],
        id="dhcp-host-remove-exclusive"),
    pytest.param(
        {"ipv4": {"dhcp": {"hosts": [{"mac": MAC2, "ip": "10.10.0.10"}]}}},
        [("ipv4.dhcp.hosts[52:54:00:00:00:10]", "remove", HOST1, None, LIVE),
         ("ipv4.dhcp.hosts[52:54:00:00:00:11]", "add", None, {"mac": MAC2, "ip": "10.10.0.10"}, LIVE)],
        id="dhcp-host-replace-mac"),
    pytest.param(
        {"dns": {"hosts": [{"ip": "10.10.0.5", "names": ["db"]}, {"ip": "10.10.0.6", "names": ["cache"]}]}},
        [("dns.hosts[10.10.0.6]", "add", None, {"ip": "10.10.0.6", "names": ["cache"]}, LIVE)],
        id="dns-host-add"),
    pytest.param(
        {"dns": {"hosts": []}},
        [("dns.hosts[10.10.0.5]", "remove", {"ip": "10.10.0.5", "names": ["db"]}, None, LIVE)],
        id="dns-host-remove"),
    pytest.param(
        {"dns": {"hosts": [{"ip": "10.10.0.5", "names": ["db", "pg"]}]}},
        [("dns.hosts[10.10.0.5]", "modify", {"ip": "10.10.0.5", "names": ["db"]},
          {"ip": "10.10.0.5", "names": ["db", "pg"]}, LIVE)],
        id="dns-host-modify"),
    pytest.param(
        {"ipv4": {"dhcp": {"range": ["10.10.0.50", "10.10.0.99"]}}},
        [("ipv4.dhcp.range", "modify", ["10.10.0.100", "10.10.0.200"], ["10.10.0.50", "10.10.0.99"], LIVE)],
        id="range-change"),
    pytest.param({"autostart": False}, [("autostart", "modify", True, False, LIVE)], id="autostart"),
]


@pytest.mark.parametrize("params, expected", LIVE_CASES)
@pytest.mark.parametrize("allow_restart", [True, False])
def test_live_changes(params, expected, allow_restart):
    attached = [{"name": "vm1", "running": True}]
    p = plan(dict(params, allow_restart=allow_restart), CURRENT, attached=attached)
    assert p.action == UPDATE
    assert changes_of(p) == expected
    assert p.effect == LIVE
    assert p.facts["restart"] is False and p.facts["restart_pending"] is False
    assert p.facts["warnings"] == [] and p.notes == []
    assert p.facts["attached_instances"] == ["vm1"]
    assert PLANNER.outputs(p) == {"restart_pending": False}


def test_ipv6_dhcp_hosts_are_keyed_by_name():
    cur = current(ipv6={"address": "fd00:10::1/64",
                        "dhcp": {"range": None, "hosts": [{"name": "web", "ip": "fd00:10::10"}]}})
    p = plan({"ipv6": {"dhcp": {"hosts": [{"name": "web", "ip": "fd00:10::11"}, {"name": "db", "ip": "fd00:10::12"}]}}},
             cur)
    assert changes_of(p) == [
        ("ipv6.dhcp.hosts[db]", "add", None, {"name": "db", "ip": "fd00:10::12"}, LIVE),
        ("ipv6.dhcp.hosts[web]", "modify", {"name": "web", "ip": "fd00:10::10"}, {"name": "web", "ip": "fd00:10::11"},
         LIVE),
    ]


def test_live_change_after_state_is_merged():
    p = plan({"ipv4": {"dhcp": {"hosts": []}}}, CURRENT)
    expected = current()
    expected["ipv4"]["dhcp"]["hosts"] = []
    assert p.after == expected == p.desired
    assert p.before == CURRENT


def test_stopping_a_running_network_is_live():
    p = plan({"active": False}, CURRENT)
    assert changes_of(p) == [("active", "modify", True, False, LIVE)]
    assert p.facts["restart"] is False


def test_starting_a_stopped_network_is_live():
    p = plan({"active": True}, current(active=False))
    assert changes_of(p) == [("active", "modify", False, True, LIVE)]
    assert p.facts["restart"] is False and p.notes == []


# ---- restart changes -----------------------------------------------------------------------
RESTART_CASES = [
    pytest.param({"mtu": 9000}, [("mtu", "add", None, 9000, RESTART)], id="mtu"),
    pytest.param({"domain": "lab.example"}, [("domain", "add", None, "lab.example", RESTART)], id="domain"),
    pytest.param({"bridge": "virbr11"}, [("bridge", "modify", "virbr10", "virbr11", RESTART)], id="bridge"),
    pytest.param({"forward": "route"}, [("forward", "modify", "nat", "route", RESTART)], id="forward-route"),
    pytest.param({"forward": "isolated"}, [("forward", "modify", "nat", "isolated", RESTART)], id="forward-isolated"),
    pytest.param({"dns": {"forwarders": [{"addr": "1.1.1.1"}]}},
                 [("dns.forwarders", "modify", [], [{"addr": "1.1.1.1"}], RESTART)], id="forwarders"),
    pytest.param({"ipv4": {"address": "10.10.0.254/24"}},
                 [("ipv4.address", "modify", "10.10.0.1/24", "10.10.0.254/24", RESTART)], id="ipv4-address"),
    pytest.param({"ipv6": {"address": "fd00:10::1/64"}},
                 [("ipv6", "add", None, {"address": "fd00:10::1/64", "dhcp": None}, RESTART)], id="ipv6-add"),
]


@pytest.mark.parametrize("params, expected", RESTART_CASES)
def test_restart_change_on_running_network_restarts(params, expected):
    p = plan(params, CURRENT)
    assert p.action == UPDATE
    assert changes_of(p) == expected
    assert p.effect == RESTART
    assert p.facts["restart"] is True
    assert p.facts["restart_pending"] is False
    assert PLANNER.outputs(p) == {"restart_pending": False}
    assert len(p.notes) == 1
    assert p.notes[0] == "network net1 restarts to apply: %s" % expected[0][0]
    assert p.facts["warnings"] == p.notes


@pytest.mark.parametrize("params, expected", RESTART_CASES)
def test_restart_change_without_allow_restart_is_pending(params, expected):
    p = plan(dict(params, allow_restart=False), CURRENT, attached=[{"name": "vm1", "running": True}])
    assert p.action == UPDATE
    assert changes_of(p) == expected
    assert p.effect == RESTART
    assert p.facts["restart"] is False
    assert p.facts["restart_pending"] is True
    assert PLANNER.outputs(p) == {"restart_pending": True}
    assert p.facts["warnings"] == []
    assert len(p.notes) == 1 and "allow_restart is false" in p.notes[0] and "net1" in p.notes[0]


@pytest.mark.parametrize("params, expected", RESTART_CASES)
@pytest.mark.parametrize("active", [None, True], ids=["stays-stopped", "gets-started"])
@pytest.mark.parametrize("allow_restart", [True, False])
def test_restart_change_on_stopped_network_does_not_restart(params, expected, active, allow_restart):
    cur = current(active=False)
    p = plan(dict(params, active=active, allow_restart=allow_restart), cur,
             attached=[{"name": "vm1", "running": False}])
    assert p.action == UPDATE
    assert [c for c in changes_of(p) if c[0] != "active"] == expected
    assert p.facts["restart"] is False
    assert p.facts["restart_pending"] is False
    assert p.facts["warnings"] == []
    assert p.notes == ["network net1 is not running: its new definition applies when it starts"]


@pytest.mark.parametrize("params, expected", RESTART_CASES)
def test_restart_change_while_stopping_the_network_does_not_restart(params, expected):
    p = plan(dict(params, active=False), CURRENT)
    assert changes_of(p) == expected + [("active", "modify", True, False, LIVE)]
    assert p.facts["restart"] is False and p.facts["restart_pending"] is False
    assert p.facts["warnings"] == []


def test_restart_note_lists_every_restart_change_but_not_live_ones():
    p = plan({"mtu": 9000, "domain": "lab.example", "ipv4": {"dhcp": {"hosts": []}}}, CURRENT)
    assert p.effect == RESTART
    assert p.notes == ["network net1 restarts to apply: domain, mtu"]
    assert {c.effect for c in p.changes} == {LIVE, RESTART}
    assert p.summary() == ("network net1: update (add domain [restart], add mtu [restart], "
                           "remove ipv4.dhcp.hosts[52:54:00:00:00:10] [live])")


# ---- the running definition lags the persistent one ---------------------------------------
def test_running_differs_restarts_an_otherwise_unchanged_network():
    p = plan({}, CURRENT, running_differs=True)
    assert p.action == UPDATE
    assert changes_of(p) == [("(running definition)", "modify", "outdated", "as defined", RESTART)]
    assert p.effect == RESTART
    assert p.facts["restart"] is True and p.facts["restart_pending"] is False
    assert p.notes == ["network net1 restarts to apply: (running definition)"]


def test_running_differs_with_other_restart_changes():
    p = plan({"mtu": 9000}, CURRENT, running_differs=True)
    assert [c.path for c in p.changes] == ["mtu", "(running definition)"]
    assert p.facts["restart"] is True


def test_running_differs_without_allow_restart_is_only_pending():
    p = plan({"allow_restart": False}, CURRENT, running_differs=True)
    assert p.action == NONE and p.changes == []
    assert p.facts["restart"] is False and p.facts["restart_pending"] is True
    assert PLANNER.outputs(p) == {"restart_pending": True}
    assert len(p.notes) == 1 and "allow_restart is false" in p.notes[0]


@pytest.mark.parametrize("cur, params", [
    pytest.param(current(active=False), {}, id="stopped"),
    pytest.param(CURRENT, {"active": False}, id="being-stopped"),
])
def test_running_differs_ignored_when_the_network_does_not_run(cur, params):
    p = plan(params, cur, running_differs=True)
    assert "(running definition)" not in [c.path for c in p.changes]
    assert p.facts["restart"] is False and p.facts["restart_pending"] is False


# ---- attached instances --------------------------------------------------------------------
def test_restart_warning_names_running_attached_instances():
    attached = [{"name": "vm-b", "running": True}, {"name": "vm-off", "running": False},
                {"name": "vm-a", "running": True}]
    p = plan({"mtu": 9000}, CURRENT, attached=attached)
    assert p.facts["attached_instances"] == ["vm-a", "vm-b", "vm-off"]
    assert p.facts["warnings"] == [
        "network net1 restarts to apply: mtu; running instances are cut off during the restart and their "
        "interfaces re-plugged after it: vm-a, vm-b"]
    assert p.notes == p.facts["warnings"]
    assert p.to_dict()["warnings"] == p.facts["warnings"]
    assert p.to_dict()["attached_instances"] == ["vm-a", "vm-b", "vm-off"]


def test_restart_warning_without_running_instances():
    p = plan({"mtu": 9000}, CURRENT, attached=[{"name": "vm-off", "running": False}])
    assert p.facts["warnings"] == ["network net1 restarts to apply: mtu"]


def test_attached_instances_reported_on_no_op():
    p = plan({}, CURRENT, attached=[{"name": "b", "running": True}, {"name": "a", "running": False}])
    assert p.action == NONE
    assert p.facts["attached_instances"] == ["a", "b"]
    assert p.facts["warnings"] == []


# ---- host bridge (forward: bridge) ---------------------------------------------------------
def test_switching_to_host_bridge_drops_the_addressing():
    p = plan({"forward": "bridge", "bridge": "br0"}, CURRENT)
    assert changes_of(p) == [
        ("forward", "modify", "nat", "bridge", RESTART),
        ("bridge", "modify", "virbr10", "br0", RESTART),
        ("ipv4", "remove", CURRENT["ipv4"], None, RESTART),
        ("dns", "remove", CURRENT["dns"], None, RESTART),
    ]
    assert p.after["ipv4"] is None and p.after["ipv6"] is None
    assert p.after["dns"] == EMPTY_DNS
    assert p.after["domain"] is None and p.after["mtu"] is None
    assert p.facts["restart"] is True


def test_two_host_bridge_networks_may_share_a_bridge():
    p = plan({"name": "lan2", "forward": "bridge", "bridge": "br0"}, None, others=[CURRENT_HOST_BRIDGE])
    assert p.action == CREATE


# ---- delete --------------------------------------------------------------------------------
def test_delete_missing_network_is_a_no_op():
    p = plan({"state": "absent"}, None)
    assert p.action == NONE and not p.changed
    assert p.changes == [] and p.before is None and p.after is None
    assert p.facts == {"restart": False, "restart_pending": False, "attached_instances": []}


@pytest.mark.parametrize("cur", [CURRENT, current(active=False), CURRENT_HOST_BRIDGE])
def test_delete_present_network(cur):
    p = plan({"name": cur["name"], "state": "absent"}, cur)
    assert p.action == DELETE and p.changed
    assert p.before == cur and p.after is None
    assert [(c.path, c.op) for c in p.changes] == [("network", "remove")]
    assert p.facts["attached_instances"] == [] and p.facts["warnings"] == []
    assert p.summary() == "network %s: delete" % cur["name"]


@pytest.mark.parametrize("running", [True, False])
def test_delete_with_attached_instances_is_a_conflict(running):
    attached = [{"name": "vm2", "running": running}, {"name": "vm1", "running": False}]
    with pytest.raises(Conflict) as info:
        plan({"state": "absent"}, CURRENT, attached=attached)
    err = info.value
    assert (err.kind, err.name) == (KIND, NAME)
    assert "vm1, vm2" in err.msg
    assert "force" in err.hint
    assert str(err).startswith("network 'net1': ")


def test_delete_with_attached_instances_and_force():
    attached = [{"name": "vm2", "running": True}, {"name": "vm1", "running": False}]
    p = plan({"state": "absent", "force": True}, CURRENT, attached=attached)
    assert p.action == DELETE
    assert p.facts["attached_instances"] == ["vm1", "vm2"]
    assert p.facts["warnings"] == ["deleting network net1 used by instances vm1, vm2 (force: true)"]


def test_delete_of_a_missing_network_ignores_force_and_attached():
    p = plan({"state": "absent", "force": False}, None, attached=[{"name": "vm1", "running": True}])
    assert p.action == NONE


# ---- validation: every problem raises InvalidSpec naming its field ----------------------------
V4 = "10.10.0.1/24"


def _v4(dhcp=None, address=V4):
    return {"ipv4": {"address": address, "dhcp": dhcp}}


def _hosts(*hosts):
    return _v4({"hosts": list(hosts)})


INVALID = [
    # name
    pytest.param({"name": "a/b"}, None, "name", "'/'", id="name-slash"),
    pytest.param({"name": "a\x01b"}, None, "name", "control characters", id="name-control"),
    pytest.param({"name": "bad\nname"}, None, "name", "control characters", id="name-newline"),
    pytest.param({"name": ".."}, None, "name", "not a usable name", id="name-dotdot"),
    pytest.param({"name": "."}, None, "name", "not a usable name", id="name-dot"),
    pytest.param({"name": ""}, None, "name", "non-empty", id="name-empty"),
    pytest.param({"name": None}, None, "name", "non-empty", id="name-none"),
    # addresses
    pytest.param(_v4(address="10.10.0.1"), None, "ipv4.address", "needs a prefix length", id="cidr-no-prefix"),
    pytest.param(_v4(address="10.10.0/24"), None, "ipv4.address", "not a valid address/prefix", id="cidr-malformed"),
    pytest.param(_v4(address="10.10.0.1/40"), None, "ipv4.address", "not a valid address/prefix", id="cidr-prefix-40"),
    pytest.param(_v4(address="10.10.0.0/24"), None, "ipv4.address", "network address", id="cidr-network-address"),
    pytest.param(_v4(address="10.10.0.255/24"), None, "ipv4.address", "broadcast address", id="cidr-broadcast"),
    pytest.param(_v4(address="10.10.0.1/31"), None, "ipv4.address", "/31", id="cidr-31"),
    pytest.param(_v4(address="fd00::1/64"), None, "ipv4.address", "not an IPv4 address", id="cidr-wrong-family"),
    pytest.param({"ipv6": {"address": "fd00::1"}}, None, "ipv6.address", "needs a prefix length", id="v6-no-prefix"),
    pytest.param({"ipv6": {"address": "fd00::1/127"}}, None, "ipv6.address", "/127", id="v6-127"),
    pytest.param({"ipv4": {"dhcp": {"range": ["10.10.0.2", "10.10.0.3"]}}}, None, "ipv4.address",
                 "is required", id="create-without-address"),
    # DHCP range
    pytest.param(_v4({"range": ["10.10.0.100", "10.10.1.5"]}), None, "ipv4.dhcp.range[1]", "outside the subnet",
                 id="range-end-outside"),
    pytest.param(_v4({"range": ["10.9.0.1", "10.10.0.5"]}), None, "ipv4.dhcp.range[0]", "outside the subnet",
                 id="range-start-outside"),
    pytest.param(_v4({"range": ["10.10.0.200", "10.10.0.100"]}), None, "ipv4.dhcp.range", "is after",
                 id="range-reversed"),
    pytest.param(_v4({"range": ["10.10.0.100"]}), None, "ipv4.dhcp.range", "two addresses", id="range-one-element"),
    pytest.param(_v4({"range": ["10.10.0.1", "10.10.0.2", "10.10.0.3"]}), None, "ipv4.dhcp.range",
                 "two addresses", id="range-three-elements"),
    pytest.param(_v4({"range": "10.10.0.2-10.10.0.9"}), None, "ipv4.dhcp.range", "two addresses",
                 id="range-string"),
    pytest.param(_v4({"range": ["10.10.0.x", "10.10.0.9"]}), None, "ipv4.dhcp.range[0]", "not an IP address",
                 id="range-bad-address"),
    pytest.param(_v4({"range": ["10.10.0.2", "fd00::9"]}), None, "ipv4.dhcp.range[1]", "not an IPv4 address",
                 id="range-wrong-family"),
    pytest.param(_v4({"range": ["10.10.0.0", "10.10.0.9"]}), None, "ipv4.dhcp.range[0]", "network or broadcast",
                 id="range-network-address"),
    pytest.param(_v4({"range": ["10.10.0.9", "10.10.0.255"]}), None, "ipv4.dhcp.range[1]", "network or broadcast",
                 id="range-broadcast"),
    pytest.param({"ipv6": {"address": "fd00::1/64", "dhcp": {"range": ["fd00::100", "fd01::1"]}}}, None,
                 "ipv6.dhcp.range[1]", "outside the subnet", id="v6-range-outside"),
    pytest.param({"ipv4": {"dhcp": {"range": ["10.10.1.100", "10.10.1.200"]}}}, CURRENT, "ipv4.dhcp.range[0]",
                 "outside the subnet", id="update-range-outside"),
    # DHCP hosts
    pytest.param(_hosts({"mac": MAC1, "ip": "10.10.1.10"}), None, "ipv4.dhcp.hosts[52:54:00:00:00:10].ip",
                 "outside the subnet", id="host-ip-outside"),
    pytest.param(_hosts({"mac": MAC1, "ip": "10.10.0.1"}), None, "ipv4.dhcp.hosts[52:54:00:00:00:10].ip",
                 "network's own address", id="host-ip-is-network-address"),
    pytest.param(_hosts({"mac": MAC1, "ip": "10.10.0.255"}), None, "ipv4.dhcp.hosts[52:54:00:00:00:10].ip",
                 "broadcast", id="host-ip-broadcast"),
    pytest.param(_hosts({"name": "web", "ip": "10.10.0.0"}), None, "ipv4.dhcp.hosts[web].ip",
                 "network or broadcast", id="host-ip-subnet-address"),
    pytest.param({"ipv6": {"address": "fd00::1/64", "dhcp": {"hosts": [{"name": "h", "ip": "fd00::1"}]}}}, None,
                 "ipv6.dhcp.hosts[h].ip", "network's own address", id="v6-host-ip-is-network-address"),
    pytest.param({"ipv4": {"dhcp": {"hosts": [{"mac": MAC1, "ip": "10.10.9.9"}]}}}, CURRENT,
                 "ipv4.dhcp.hosts[52:54:00:00:00:10].ip", "outside the subnet", id="update-host-outside"),
    pytest.param({"ipv4": {"address": "10.99.0.1/24"}}, CURRENT,
                 "ipv4.dhcp.hosts[52:54:00:00:00:10].ip", "outside the subnet", id="readdress-strands-hosts"),
    pytest.param(_hosts({"mac": "52:54:00:00:00", "ip": "10.10.0.10"}), None, "ipv4.dhcp.hosts[0].mac",
                 "not a MAC address", id="mac-invalid"),
    pytest.param(_hosts({"mac": "52:54:00:00:00:zz", "ip": "10.10.0.10"}), None, "ipv4.dhcp.hosts[0].mac",
                 "not a MAC address", id="mac-not-hex"),
    pytest.param(_hosts({"mac": "01:00:5e:00:00:10", "ip": "10.10.0.10"}), None, "ipv4.dhcp.hosts[0].mac",
                 "multicast", id="mac-multicast"),
    pytest.param(_hosts({"mac": MAC1, "ip": "10.10.0.10"}, {"mac": MAC1.upper(), "ip": "10.10.0.11"}), None,
                 "ipv4.dhcp.hosts[1].mac", "already used by ipv4.dhcp.hosts[0]", id="mac-duplicate"),
    pytest.param(_hosts({"mac": MAC1, "ip": "10.10.0.10"}, {"mac": MAC2, "ip": "10.10.0.10"}), None,
                 "ipv4.dhcp.hosts[1].ip", "already used by ipv4.dhcp.hosts[0]", id="ip-duplicate"),
    pytest.param(_hosts({"mac": MAC1, "name": "web", "ip": "10.10.0.10"}, {"mac": MAC2, "name": "Web", "ip": "10.10.0.11"}),
                 None, "ipv4.dhcp.hosts[1].name", "already used", id="name-duplicate"),
    pytest.param(_hosts({"mac": MAC1}), None, "ipv4.dhcp.hosts[0].ip", "is required", id="host-without-ip"),
    pytest.param(_hosts({"mac": MAC1, "ip": "fd00::5"}), None, "ipv4.dhcp.hosts[0].ip", "not an IPv4 address",
                 id="host-ip-wrong-family"),
    pytest.param(_hosts({"ip": "10.10.0.10"}), None, "ipv4.dhcp.hosts[0]", "needs a mac or a name",
                 id="host-without-mac-or-name"),
    pytest.param(_hosts({"name": "web.example", "ip": "10.10.0.10"}), None, "ipv4.dhcp.hosts[0].name",
                 "not a valid host name", id="host-name-with-dot"),
    pytest.param({"ipv6": {"address": "fd00::1/64", "dhcp": {"hosts": [{"mac": MAC1, "name": "h", "ip": "fd00::5"}]}}},
                 None, "ipv6.dhcp.hosts[0].mac", "matched by name", id="v6-host-with-mac"),
    pytest.param({"ipv6": {"address": "fd00::1/64", "dhcp": {"hosts": [{"ip": "fd00::5"}]}}},
                 None, "ipv6.dhcp.hosts[0].name", "is required", id="v6-host-without-name"),
    # other networks
    pytest.param(_v4(address="10.20.0.77/24"), None, "ipv4.address", "overlaps network 'other'", id="overlap-same"),
    pytest.param(_v4(address="10.20.0.1/16"), None, "ipv4.address", "overlaps network 'other'", id="overlap-supernet"),
    pytest.param(_v4(address="10.20.0.129/25"), None, "ipv4.address", "overlaps network 'other'", id="overlap-subnet"),
    pytest.param({"ipv6": {"address": "fd00:20::5/48"}}, None, "ipv6.address", "overlaps network 'other'",
                 id="overlap-v6"),
    pytest.param({"ipv4": {"address": "10.20.0.2/24"}}, CURRENT, "ipv4.address", "overlaps network 'other'",
                 id="update-into-overlap"),
    pytest.param({"bridge": "virbr20"}, None, "bridge", "already used by network 'other'", id="bridge-taken"),
    pytest.param({"bridge": "virbr20"}, CURRENT, "bridge", "already used by network 'other'", id="update-bridge-taken"),
    pytest.param({"bridge": "br0", "forward": "nat"}, None, "bridge", "already used by network 'lan'",
                 id="bridge-of-host-bridge-network"),
    # forward / bridge
    pytest.param({"forward": "bridge"}, None, "bridge", "is required with forward: bridge", id="host-bridge-no-bridge"),
    pytest.param({"forward": "bridge", "bridge": ""}, None, "bridge", "is required with forward: bridge",
                 id="host-bridge-empty-bridge"),
    pytest.param(dict(_v4(), forward="bridge", bridge="br0"), None, "ipv4", "cannot be set with forward: bridge",
                 id="host-bridge-with-ipv4"),
    pytest.param({"forward": "bridge", "bridge": "br0", "ipv6": {"address": "fd00::1/64"}}, None, "ipv6",
                 "cannot be set with forward: bridge", id="host-bridge-with-ipv6"),
    pytest.param({"forward": "bridge", "bridge": "br0", "dns": {"hosts": []}}, None, "dns",
                 "cannot be set with forward: bridge", id="host-bridge-with-dns"),
    pytest.param({"forward": "bridge", "bridge": "br0", "domain": "lab"}, None, "domain",
                 "cannot be set with forward: bridge", id="host-bridge-with-domain"),
    pytest.param({"forward": "bridge", "bridge": "br0", "mtu": 9000}, None, "mtu",
                 "cannot be set with forward: bridge", id="host-bridge-with-mtu"),
    pytest.param({"forward": "nope"}, None, "forward", "must be one of", id="forward-unknown"),
    pytest.param({"bridge": "a-very-long-bridge"}, None, "bridge", "not a valid interface name", id="bridge-too-long"),
    pytest.param({"bridge": "br 0"}, None, "bridge", "not a valid interface name", id="bridge-space"),
    # mtu, domain, dns
    pytest.param({"mtu": 67}, None, "mtu", "out of range", id="mtu-low"),
    pytest.param({"mtu": 65536}, None, "mtu", "out of range", id="mtu-high"),
    pytest.param({"mtu": 1200, "ipv6": {"address": "fd00::1/64"}}, None, "mtu", "at least 1280", id="mtu-ipv6"),
    pytest.param({"mtu": 1200, "ipv6": {"address": "fd00::1/64"}}, CURRENT, "mtu", "at least 1280",
                 id="update-mtu-ipv6"),
    pytest.param({"domain": "-bad-"}, None, "domain", "not a valid DNS name", id="domain-invalid"),
    pytest.param({"dns": {"hosts": [{"ip": "10.10.0.300", "names": ["a"]}]}}, None, "dns.hosts[0].ip",
                 "not an IP address", id="dns-host-bad-ip"),
    pytest.param({"dns": {"hosts": [{"ip": "10.10.0.3", "names": []}]}}, None, "dns.hosts[0].names",
                 "at least one name", id="dns-host-no-names"),
    pytest.param({"dns": {"hosts": [{"ip": "10.10.0.3", "names": ["a b"]}]}}, None, "dns.hosts[0].names[0]",
                 "not a valid DNS name", id="dns-host-bad-name"),
    pytest.param({"dns": {"hosts": [{"ip": "10.10.0.3", "names": ["a"]}, {"ip": "10.10.0.3", "names": ["b"]}]}}, None,
                 "dns.hosts[1].ip", "listed twice", id="dns-host-duplicate-ip"),
    pytest.param({"dns": {"forwarders": [{}]}}, None, "dns.forwarders[0]", "needs addr, domain or both",
                 id="forwarder-empty"),
    pytest.param({"dns": {"forwarders": [{"addr": "8.8.8"}]}}, None, "dns.forwarders[0].addr", "not an IP address",
                 id="forwarder-bad-addr"),
    pytest.param({"dns": {"forwarders": [{"domain": "bad domain"}]}}, None, "dns.forwarders[0].domain",
                 "not a valid DNS name", id="forwarder-bad-domain"),
]


@pytest.mark.parametrize("params, cur, field, words", INVALID)
def test_invalid_spec_names_the_field(params, cur, field, words):
    params = dict(params)
    others = [OTHER, CURRENT_HOST_BRIDGE]
    problems = problems_of(params, cur, others=others)
    assert field in [item[0] for item in problems], problems
    messages = [m for f, m in problems if f == field]
    assert any(words in m for m in messages), (words, messages)


def test_invalid_spec_carries_the_network_name():
    with pytest.raises(InvalidSpec) as info:
        plan({"mtu": 1}, CURRENT)
    assert (info.value.kind, info.value.name) == (KIND, NAME)
    assert str(info.value).startswith("network 'net1': invalid spec: mtu: ")
    assert info.value.details["problems"] == [{"field": "mtu", "message": "1 is out of range (68-65535)"}]


def test_multiple_spec_problems_are_reported_together():
    params = {
        "name": NAME, "mtu": 10, "forward": "nope", "bridge": "no such bridge",
        "ipv4": {"address": "10.10.0.1",
                 "dhcp": {"range": ["10.10.0.9"],
                          "hosts": [{"mac": "zz", "ip": "10.10.0.5"}, {"mac": MAC1, "ip": "10.10.0.5"}]}},
        "dns": {"forwarders": [{}]},
    }
    with pytest.raises(InvalidSpec) as info:
        normalize(**params)
    fields = [item[0] for item in info.value.problems]
    assert sorted(fields) == sorted([
        "mtu", "forward", "bridge", "ipv4.address", "ipv4.dhcp.range", "ipv4.dhcp.hosts[0].mac",
        "ipv4.dhcp.hosts[1].ip", "dns.forwarders[0]",
    ])
    for field in fields:
        assert field in str(info.value)


def test_multiple_host_problems_are_reported_together():
    params = {
        "ipv4": {"address": "10.20.0.2/24",
                 "dhcp": {"range": ["10.20.0.50", "10.21.0.1"],
                          "hosts": [{"mac": MAC1, "ip": "10.20.0.2"}, {"mac": MAC2, "ip": "10.99.0.2"}]}},
        "bridge": "virbr20",
    }
    problems = problems_of(params, None, others=[OTHER])
    assert [item[0] for item in problems] == [
        "ipv4.dhcp.range[1]",
        "ipv4.dhcp.hosts[52:54:00:00:00:10].ip",
        "ipv4.dhcp.hosts[52:54:00:00:00:11].ip",
        "ipv4.address",
        "bridge",
    ]


def test_validation_runs_for_state_absent_too():
    with pytest.raises(InvalidSpec):
        normalize(name="a/b", state="absent")


@pytest.mark.parametrize("others", [
    pytest.param([dict(OTHER, ipv4=None, ipv6=None, bridge="virbr99")], id="other-without-addresses"),
    pytest.param([dict(OTHER, ipv4={"address": "10.10.1.1/24", "dhcp": None})], id="adjacent-subnet"),
])
def test_non_overlapping_neighbours_are_fine(others):
    assert plan(_v4(), None, others=others).action == CREATE


@pytest.mark.parametrize("params, field", [
    pytest.param({"bridge": "virbr1\n"}, "bridge", id="bridge"),
    pytest.param({"domain": "lab\n.example"}, "domain", id="domain"),
    pytest.param({"dns": {"hosts": [{"ip": "10.10.0.5", "names": ["db\n.lab"]}]}}, "dns.hosts[0].names[0]",
                 id="dns-host-name"),
    pytest.param({"dns": {"forwarders": [{"domain": "corp\n.example"}]}}, "dns.forwarders[0].domain",
                 id="forwarder-domain"),
])
def test_newlines_are_rejected(params, field):
    assert field in [item[0] for item in problems_of(params)]


def test_leaving_host_bridge_mode_needs_a_new_bridge_name():
    with pytest.raises(InvalidSpec) as err:
        plan({"forward": "nat", "ipv4": {"address": "10.30.0.1/24"}}, CURRENT_HOST_BRIDGE)
    assert "bridge: br0 is the existing host bridge" in str(err.value)
    p = plan({"forward": "nat", "bridge": "virbr-lan", "ipv4": {"address": "10.30.0.1/24"}}, CURRENT_HOST_BRIDGE)
    assert sorted(c.path for c in p.changes) == ["bridge", "forward", "ipv4"]


def test_stopping_with_a_restart_change_says_it_applies_at_next_start():
    p = plan({"mtu": 9000, "active": False}, CURRENT)
    assert p.facts["restart"] is False
    assert p.notes == ["network net1 is not running after this run: its new definition applies when it starts"]


def test_host_bridge_must_exist_when_the_driver_read_the_interfaces():
    spec = {"name": "lan", "forward": "bridge", "bridge": "br9"}
    with pytest.raises(InvalidSpec) as err:
        PLANNER.plan(PLANNER.normalize(spec), world(None, host_interfaces=["eth0", "br0"]))
    assert "bridge: the host bridge br9 does not exist on the hypervisor" in str(err.value)
    assert PLANNER.plan(PLANNER.normalize(spec), world(None, host_interfaces=["br9"])).action == CREATE
    # Not read (interface driver unavailable): not checked.
    assert PLANNER.plan(PLANNER.normalize(spec), world(None)).action == CREATE


def test_a_transient_network_is_adopted_with_a_persistent_definition():
    transient = current(persistent=False, autostart=False)
    p = plan({"autostart": True}, transient)
    assert p.action == UPDATE
    assert [(c.path, c.effect) for c in p.changes] == [("autostart", LIVE), ("persistent", LIVE)]
    assert p.after["persistent"] is True
    assert p.facts["restart"] is False
