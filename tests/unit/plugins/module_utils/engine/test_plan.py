# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the plan engine: schema walk (compare), merge, redact, Plan and Change."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, NONE, REPLACE, RESTART, SECRET_MASK, UPDATE,
    Change, Field, KeyedList, Plan, Section, compare, merge, redact, worst_effect,
)

# A small schema exercising every kind of node: plain, secret, nested sections and keyed lists.
SCHEMA = {
    "size": Field(RESTART),
    "label": Field(LIVE),
    "password": Field(LIVE, secret=True),
    "disk": Field(REPLACE),
    "net": Section(RESTART, {
        "address": Field(RESTART),
        "token": Field(LIVE, secret=True),
        "dhcp": Section(RESTART, {
            "range": Field(LIVE),
            "hosts": KeyedList(LIVE, key=lambda h: h.get("mac") or h.get("name")),
        }),
    }),
    "tags": KeyedList(LIVE, key=lambda t: t["k"]),
}


def _changes(changes):
    return [(c.path, c.op, c.before, c.after, c.effect) for c in changes]


# ---- worst_effect / schema nodes ---------------------------------------------------------
@pytest.mark.parametrize("effects, expected", [
    ([], None),
    ([LIVE], LIVE),
    ([LIVE, LIVE], LIVE),
    ([LIVE, RESTART], RESTART),
    ([RESTART, LIVE], RESTART),
    ([LIVE, REPLACE, RESTART], REPLACE),
    ([REPLACE], REPLACE),
])
def test_worst_effect(effects, expected):
    assert worst_effect(effects) == expected


@pytest.mark.parametrize("node", [
    lambda: Field("bogus"),
    lambda: Section("bogus", {}),
    lambda: KeyedList("bogus", key=lambda i: i),
])
def test_schema_nodes_reject_unknown_effect(node):
    with pytest.raises(ValueError, match="unknown effect 'bogus'"):
        node()


def test_keyed_list_index_stringifies_keys_and_accepts_none():
    spec = KeyedList(LIVE, key=lambda i: i["id"])
    assert spec.index(None) == {}
    assert spec.index([]) == {}
    assert spec.index([{"id": 1}, {"id": "b"}]) == {"1": {"id": 1}, "b": {"id": "b"}}


# ---- compare: scalars ----------------------------------------------------------------------
@pytest.mark.parametrize("desired, current, expected", [
    pytest.param({"size": 2}, {"size": 2}, [], id="equal"),
    pytest.param({"size": 4}, {"size": 2}, [("size", "modify", 2, 4, RESTART)], id="modify"),
    pytest.param({"size": 4}, {}, [("size", "add", None, 4, RESTART)], id="add-missing-key"),
    pytest.param({"size": 4}, {"size": None}, [("size", "add", None, 4, RESTART)], id="add-none"),
    pytest.param({"label": "x"}, {"label": "y"}, [("label", "modify", "y", "x", LIVE)], id="live"),
    pytest.param({"disk": 10}, {"disk": 20}, [("disk", "modify", 20, 10, REPLACE)], id="replace"),
    pytest.param({"label": ""}, {"label": "y"}, [("label", "modify", "y", "", LIVE)], id="empty-string-is-a-value"),
    pytest.param({"label": False}, {"label": True}, [("label", "modify", True, False, LIVE)], id="false-is-a-value"),
    pytest.param({"size": 0}, {"size": 1}, [("size", "modify", 1, 0, RESTART)], id="zero-is-a-value"),
    pytest.param({"label": ["a", "b"]}, {"label": ["b", "a"]},
                 [("label", "modify", ["b", "a"], ["a", "b"], LIVE)], id="list-compared-whole"),
])
def test_compare_fields(desired, current, expected):
    assert _changes(compare(desired, current, SCHEMA)) == expected


@pytest.mark.parametrize("desired", [
    {},
    {"size": None, "label": None, "password": None, "disk": None, "net": None, "tags": None},
    {"net": {"address": None, "token": None, "dhcp": None}},
    {"net": {"dhcp": {"range": None, "hosts": None}}},
])
def test_compare_none_means_leave_alone(desired):
    current = {"size": 2, "label": "x", "password": "pw", "disk": 9, "tags": [{"k": "a"}],
               "net": {"address": "10.0.0.1/24", "token": "t",
                       "dhcp": {"range": ["10.0.0.2", "10.0.0.9"], "hosts": [{"mac": "m1"}]}}}
    assert compare(desired, current, SCHEMA) == []


@pytest.mark.parametrize("desired, current", [(None, None), ({}, None), (None, {"size": 1})])
def test_compare_accepts_none_states(desired, current):
    assert compare(desired, current, SCHEMA) == []


def test_compare_ignores_keys_outside_the_schema():
    assert compare({"name": "a", "uuid": "1"}, {"name": "b", "uuid": "2"}, SCHEMA) == []


def test_compare_follows_schema_order():
    changes = compare({"tags": [{"k": "a"}], "label": "x", "size": 1}, {}, SCHEMA)
    assert [c.path for c in changes] == ["size", "label", "tags[a]"]


# ---- compare: sections ---------------------------------------------------------------------
def test_compare_section_add_is_one_change_with_the_section_effect():
    want = {"address": "10.0.0.1/24", "token": None, "dhcp": {"range": ["a", "b"], "hosts": []}}
    changes = compare({"net": want}, {"net": None}, SCHEMA)
    assert _changes(changes) == [("net", "add", None, want, RESTART)]


def test_compare_nested_section_add_uses_dotted_path():
    current = {"net": {"address": "10.0.0.1/24", "dhcp": None}}
    desired = {"net": {"dhcp": {"range": ["10.0.0.2", "10.0.0.3"], "hosts": None}}}
    assert _changes(compare(desired, current, SCHEMA)) == [
        ("net.dhcp", "add", None, {"range": ["10.0.0.2", "10.0.0.3"], "hosts": None}, RESTART)]


def test_compare_section_fields_are_compared_one_by_one():
    current = {"net": {"address": "10.0.0.1/24", "dhcp": {"range": ["10.0.0.2", "10.0.0.3"], "hosts": []}}}
    desired = {"net": {"address": "10.0.0.1/16", "dhcp": {"range": ["10.0.0.2", "10.0.0.9"]}}}
    assert _changes(compare(desired, current, SCHEMA)) == [
        ("net.address", "modify", "10.0.0.1/24", "10.0.0.1/16", RESTART),
        ("net.dhcp.range", "modify", ["10.0.0.2", "10.0.0.3"], ["10.0.0.2", "10.0.0.9"], LIVE),
    ]


def test_compare_prefixes_paths():
    changes = compare({"size": 1}, {}, SCHEMA, path="outer")
    assert [c.path for c in changes] == ["outer.size"]


# ---- compare: keyed lists ------------------------------------------------------------------
H1 = {"mac": "52:54:00:00:00:01", "ip": "10.0.0.11"}
H1_NEW_IP = {"mac": "52:54:00:00:00:01", "ip": "10.0.0.99"}
H2 = {"mac": "52:54:00:00:00:02", "ip": "10.0.0.12"}
H3 = {"name": "web", "ip": "10.0.0.13"}


@pytest.mark.parametrize("want, have, expected", [
    pytest.param([H1], [H1], [], id="same"),
    pytest.param([H2, H1], [H1, H2], [], id="order-does-not-matter"),
    pytest.param([H1, H2], [H1], [("h[52:54:00:00:00:02]", "add", None, H2, LIVE)], id="add"),
    pytest.param([H1], None, [("h[52:54:00:00:00:01]", "add", None, H1, LIVE)], id="add-to-missing-list"),
    pytest.param([H1], [H1, H2], [("h[52:54:00:00:00:02]", "remove", H2, None, LIVE)], id="remove"),
    pytest.param([], [H1, H2], [("h[52:54:00:00:00:01]", "remove", H1, None, LIVE),
                                ("h[52:54:00:00:00:02]", "remove", H2, None, LIVE)], id="empty-list-removes-all"),
    pytest.param([H1_NEW_IP], [H1], [("h[52:54:00:00:00:01]", "modify", H1, H1_NEW_IP, LIVE)], id="modify"),
    pytest.param([H3], [], [("h[web]", "add", None, H3, LIVE)], id="fallback-key"),
    pytest.param([H1_NEW_IP, H3], [H1, H2], [
        ("h[52:54:00:00:00:01]", "modify", H1, H1_NEW_IP, LIVE),
        ("h[52:54:00:00:00:02]", "remove", H2, None, LIVE),
        ("h[web]", "add", None, H3, LIVE),
    ], id="mixed-sorted-by-key"),
])
def test_compare_keyed_list(want, have, expected):
    schema = {"h": KeyedList(LIVE, key=lambda h: h.get("mac") or h.get("name"))}
    assert _changes(compare({"h": want}, {"h": have}, schema)) == expected


def test_compare_keyed_list_inside_sections_has_full_path():
    current = {"net": {"address": "a", "dhcp": {"range": None, "hosts": [H1]}}}
    desired = {"net": {"dhcp": {"hosts": [H1, H3]}}}
    assert _changes(compare(desired, current, SCHEMA)) == [("net.dhcp.hosts[web]", "add", None, H3, LIVE)]


def test_compare_keyed_list_none_leaves_items_alone():
    assert compare({"tags": None}, {"tags": [{"k": "a"}]}, SCHEMA) == []


# ---- compare: secrets ----------------------------------------------------------------------
@pytest.mark.parametrize("desired, current, expected", [
    pytest.param({"password": "new"}, {"password": "old"},
                 [("password", "modify", SECRET_MASK, SECRET_MASK, LIVE)], id="modify"),
    pytest.param({"password": "new"}, {},
                 [("password", "add", None, SECRET_MASK, LIVE)], id="add"),
    pytest.param({"password": "same"}, {"password": "same"}, [], id="unchanged"),
    pytest.param({"net": {"token": "t2"}}, {"net": {"token": "t1"}},
                 [("net.token", "modify", SECRET_MASK, SECRET_MASK, LIVE)], id="in-section"),
    pytest.param({"net": {"address": "a", "token": "t"}}, {},
                 [("net", "add", None, {"address": "a", "token": SECRET_MASK}, RESTART)], id="section-add"),
])
def test_compare_masks_secrets(desired, current, expected):
    changes = compare(desired, current, SCHEMA)
    assert _changes(changes) == expected
    text = repr(changes) + repr([c.to_dict() for c in changes])
    for secret in ("new", "old", "t1", "t2", "'t'"):
        assert secret not in text


def test_compare_section_add_does_not_mask_the_desired_state():
    desired = {"net": {"address": "a", "token": "t"}}
    compare(desired, {}, SCHEMA)
    assert desired == {"net": {"address": "a", "token": "t"}}


# ---- merge ---------------------------------------------------------------------------------
CURRENT = {
    "name": "r1", "uuid": "u-1", "size": 2, "label": "x", "password": "pw", "disk": 9,
    "net": {"address": "10.0.0.1/24", "token": "t",
            "dhcp": {"range": ["10.0.0.2", "10.0.0.9"], "hosts": [H1, H2]}},
    "tags": [{"k": "a"}],
}


@pytest.mark.parametrize("desired, expected_diff", [
    pytest.param({}, {}, id="nothing"),
    pytest.param({"size": None, "net": None, "tags": None}, {}, id="all-none"),
    pytest.param({"size": 4}, {"size": 4}, id="field"),
    pytest.param({"label": ""}, {"label": ""}, id="empty-string"),
    pytest.param({"tags": []}, {"tags": []}, id="keyed-list-replaced-whole"),
    pytest.param({"net": {"address": "10.0.0.1/16", "token": None, "dhcp": None}},
                 {"net": {"address": "10.0.0.1/16", "token": "t",
                          "dhcp": {"range": ["10.0.0.2", "10.0.0.9"], "hosts": [H1, H2]}}}, id="section-field"),
    pytest.param({"net": {"dhcp": {"range": None, "hosts": [H3]}}},
                 {"net": {"address": "10.0.0.1/24", "token": "t",
                          "dhcp": {"range": ["10.0.0.2", "10.0.0.9"], "hosts": [H3]}}}, id="nested-section"),
    pytest.param({"name": "other", "uuid": "u-2"}, {}, id="non-schema-keys-ignored"),
])
def test_merge_keeps_current_where_desired_is_none(desired, expected_diff):
    before = copy.deepcopy(CURRENT)
    result = merge(CURRENT, desired, SCHEMA)
    expected = copy.deepcopy(CURRENT)
    expected.update(expected_diff)
    assert result == expected
    assert CURRENT == before, "merge must not modify current"


def test_merge_into_missing_section_copies_desired():
    current = {"size": 1, "net": None}
    want = {"address": "10.0.0.1/24", "token": None, "dhcp": None}
    result = merge(current, {"net": want}, SCHEMA)
    assert result == {"size": 1, "net": want}
    result["net"]["address"] = "changed"
    assert want["address"] == "10.0.0.1/24", "merge must copy, not alias"


def test_merge_without_current_is_a_copy_of_desired():
    desired = {"size": 1, "net": {"address": "a"}}
    result = merge(None, desired, SCHEMA)
    assert result == desired
    assert result is not desired and result["net"] is not desired["net"]


def test_merge_result_does_not_alias_desired_lists():
    desired = {"tags": [{"k": "b"}]}
    result = merge(CURRENT, desired, SCHEMA)
    result["tags"].append({"k": "c"})
    assert desired == {"tags": [{"k": "b"}]}


def test_merge_then_compare_gives_only_the_requested_changes():
    desired = {"size": 3, "net": {"dhcp": {"hosts": [H1_NEW_IP, H2]}}}
    after = merge(CURRENT, desired, SCHEMA)
    assert _changes(compare(after, CURRENT, SCHEMA)) == [
        ("size", "modify", 2, 3, RESTART),
        ("net.dhcp.hosts[52:54:00:00:00:01]", "modify", H1, H1_NEW_IP, LIVE),
    ]


# ---- redact --------------------------------------------------------------------------------
def test_redact_masks_every_secret_and_copies():
    before = copy.deepcopy(CURRENT)
    result = redact(CURRENT, SCHEMA)
    assert result["password"] == SECRET_MASK
    assert result["net"]["token"] == SECRET_MASK
    expected = copy.deepcopy(CURRENT)
    expected["password"] = SECRET_MASK
    expected["net"]["token"] = SECRET_MASK
    assert result == expected
    assert CURRENT == before, "redact must not modify its input"


@pytest.mark.parametrize("state, expected", [
    pytest.param(None, None, id="none"),
    pytest.param({}, {}, id="empty"),
    pytest.param({"password": None}, {"password": None}, id="unset-secret-stays-none"),
    pytest.param({"net": None}, {"net": None}, id="unset-section"),
    pytest.param({"net": {"address": "a", "token": None}}, {"net": {"address": "a", "token": None}}, id="unset-nested"),
    pytest.param({"password": ""}, {"password": SECRET_MASK}, id="empty-secret-masked"),
    pytest.param({"label": "x", "extra": "kept"}, {"label": "x", "extra": "kept"}, id="non-secret"),
])
def test_redact_cases(state, expected):
    assert redact(state, SCHEMA) == expected


# ---- Change --------------------------------------------------------------------------------
def test_change_to_dict_copies_values():
    value = {"mac": "m", "ip": "1.2.3.4"}
    change = Change("h[m]", "add", None, value, LIVE)
    data = change.to_dict()
    assert data == {"path": "h[m]", "op": "add", "before": None, "after": value, "effect": LIVE}
    data["after"]["ip"] = "changed"
    assert value["ip"] == "1.2.3.4"


def test_change_repr_names_path_op_and_effect():
    text = repr(Change("mtu", "modify", 1500, 9000, RESTART))
    assert "modify" in text and "mtu" in text and "1500" in text and "9000" in text and RESTART in text


# ---- Plan ----------------------------------------------------------------------------------
def _plan(action, changes=(), **kwargs):
    return Plan("thing", "t1", action, list(changes), **kwargs)


@pytest.mark.parametrize("action, changed", [(CREATE, True), (UPDATE, True), (DELETE, True), (NONE, False)])
def test_plan_changed(action, changed):
    assert _plan(action).changed is changed


@pytest.mark.parametrize("action, effects, expected", [
    (UPDATE, [LIVE], LIVE),
    (UPDATE, [LIVE, RESTART, LIVE], RESTART),
    (UPDATE, [RESTART, REPLACE], REPLACE),
    (UPDATE, [], None),
    (CREATE, [LIVE, RESTART], None),
    (DELETE, [RESTART], None),
    (NONE, [], None),
])
def test_plan_effect(action, effects, expected):
    changes = [Change("f%d" % i, "modify", 1, 2, e) for i, e in enumerate(effects)]
    assert _plan(action, changes).effect == expected


def test_plan_changes_with():
    live, restart, replace = (Change("a", "modify", 1, 2, LIVE), Change("b", "add", None, 1, RESTART),
                              Change("c", "remove", 1, None, REPLACE))
    plan = _plan(UPDATE, [live, restart, replace])
    assert plan.changes_with(LIVE) == [live]
    assert plan.changes_with(RESTART, REPLACE) == [restart, replace]
    assert plan.changes_with() == []


@pytest.mark.parametrize("action, changes, expected", [
    (NONE, [], "thing t1: unchanged"),
    (CREATE, [Change("size", "add", None, 1, RESTART)], "thing t1: create"),
    (DELETE, [], "thing t1: delete"),
    (UPDATE, [Change("size", "modify", 1, 2, RESTART), Change("h[m]", "add", None, {}, LIVE)],
     "thing t1: update (modify size [restart], add h[m] [live])"),
])
def test_plan_summary(action, changes, expected):
    assert _plan(action, changes).summary() == expected


def test_plan_to_dict():
    change = Change("size", "modify", 1, 2, RESTART)
    facts = {"restart": True, "attached": ["vm1"]}
    plan = _plan(UPDATE, [change], before={"size": 1}, after={"size": 2}, desired={"size": 2, "password": "pw"},
                 notes=["a note"], facts=facts)
    data = plan.to_dict()
    assert data == {
        "kind": "thing", "name": "t1", "action": UPDATE, "effect": RESTART,
        "summary": "thing t1: update (modify size [restart])",
        "changes": [change.to_dict()], "notes": ["a note"],
        "restart": True, "attached": ["vm1"],
    }
    assert "desired" not in data and "pw" not in repr(data), "desired may hold secrets: never returned"
    data["attached"].append("vm2")
    data["notes"].append("more")
    assert plan.facts["attached"] == ["vm1"] and plan.notes == ["a note"]


def test_plan_copies_its_inputs():
    changes, notes, facts = [], ["n"], {"k": 1}
    plan = _plan(NONE, changes, notes=notes, facts=facts)
    changes.append(Change("x", "add", None, 1, LIVE))
    notes.append("m")
    facts["k"] = 2
    assert plan.changes == [] and plan.notes == ["n"] and plan.facts == {"k": 1}


def test_plan_defaults():
    plan = Plan("thing", "t1", NONE)
    assert (plan.changes, plan.notes, plan.facts, plan.before, plan.after, plan.desired) == ([], [], {}, None, None, None)


@pytest.mark.parametrize("action, before, after, after_header", [
    (UPDATE, {"size": 1}, {"size": 2}, "thing t1 (planned)"),
    (CREATE, None, {"size": 2}, "thing t1 (planned)"),
    (DELETE, {"size": 1}, None, "thing t1 (planned)"),
    (NONE, {"size": 1}, {"size": 1}, "thing t1 (unchanged)"),
    (NONE, None, None, "thing t1 (unchanged)"),
])
def test_plan_diff(action, before, after, after_header):
    plan = _plan(action, before=before, after=after)
    diff = plan.diff()
    assert diff == {"before": before or {}, "after": after or {},
                    "before_header": "thing t1 (current)", "after_header": after_header}
    if before:
        diff["before"]["size"] = 99
        assert plan.before == before, "diff must be a copy"
