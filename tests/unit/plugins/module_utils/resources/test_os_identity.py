# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Keystone project and user planners, with plain dict worlds."""

from __future__ import annotations

import json

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import CREATE, DELETE, LIVE, NONE, UPDATE
from ansible_collections.converge.virt.plugins.module_utils.resources.os_identity import (
    IdentityWorld,
    OsProjectPlanner,
    OsUserPlanner,
)

DOMAIN = {"id": "default", "name": "Default"}
WEB = {"id": "a" * 32, "name": "web", "domain_id": "default"}
LAB = {"id": "b" * 32, "name": "lab", "domain_id": "default"}


def project_state(**overrides):
    state = {"name": "web", "id": WEB["id"], "domain_id": "default", "domain": "Default",
             "description": "", "enabled": True, "tags": ["prod"], "managed": True}
    state.update(overrides)
    return state


def user_state(**overrides):
    state = {"name": "alice", "id": "c" * 32, "domain_id": "default", "domain": "Default",
             "description": "", "email": None, "enabled": True, "default_project": None,
             "default_project_id": None,
             "roles": [{"project": "web", "project_id": WEB["id"], "role": "member"}]}
    state.update(overrides)
    return state


def project_plan(params, current=None, blockers=None):
    planner = OsProjectPlanner()
    desired = planner.normalize(dict({"name": "web"}, **params))
    return planner.plan(desired, IdentityWorld(current=current, domain=DOMAIN, blockers=blockers))


def user_plan(params, current=None, default_project=None, roles=None):
    planner = OsUserPlanner()
    desired = planner.normalize(dict({"name": "alice"}, **params))
    plan = planner.plan(desired, IdentityWorld(current=current, domain=DOMAIN, default_project=default_project,
                                               roles=roles))
    plan.before, plan.after = planner.public(plan.before), planner.public(plan.after)
    return plan


def paths(plan):
    return sorted(c.path for c in plan.changes)


# ---- project ---------------------------------------------------------------------------------
@pytest.mark.parametrize("params, field", [
    ({"name": ""}, "name"),
    ({"name": "x" * 65}, "name"),
    ({"domain": " "}, "domain"),
    ({"tags": ["a/b"]}, "tags"),
    ({"tags": ["a,b"]}, "tags"),
    ({"tags": [""]}, "tags"),
    ({"tags": ["converge-virt"]}, "tags"),
])
def test_project_normalize_errors(params, field):
    with pytest.raises(InvalidSpec) as err:
        OsProjectPlanner().normalize(dict({"name": "web"}, **params))
    assert field in [problem[0] for problem in err.value.problems]


def test_project_defaults():
    desired = OsProjectPlanner().normalize({"name": "web", "tags": ["b", "a", "b"]})
    assert desired["domain"] == "default"
    assert desired["state"] == "present"
    assert desired["tags"] == ["a", "b"]
    assert desired["enabled"] is None and desired["description"] is None


def test_project_create_tags_owner_but_hides_it():
    plan = project_plan({"tags": ["prod"], "description": "d"})
    assert plan.action == CREATE
    assert plan.after["tags"] == ["prod"]
    assert plan.after["managed"] is True and plan.after["enabled"] is True
    assert plan.after["domain"] == "Default" and plan.after["id"] is None
    assert plan.desired["tags"] == ["prod", "converge-virt"]
    assert paths(plan) == ["description", "enabled", "tags"]


def test_project_noop_and_unset_options_left_alone():
    plan = project_plan({"tags": ["prod"]}, current=project_state(description="kept"))
    assert plan.action == NONE and not plan.changes
    assert plan.after["description"] == "kept"


def test_project_updates_are_live_and_keep_owner_tag():
    plan = project_plan({"description": "new", "enabled": False, "tags": []}, current=project_state())
    assert plan.action == UPDATE
    assert paths(plan) == ["description", "enabled", "tags"]
    assert set(c.effect for c in plan.changes) == {LIVE}
    assert plan.after["tags"] == [] and plan.after["enabled"] is False
    assert plan.desired["owner_tag"] is True


def test_project_update_of_unmanaged_adds_no_owner_tag():
    plan = project_plan({"tags": ["x"]}, current=project_state(managed=False))
    assert "owner_tag" not in plan.desired


def test_project_delete_and_delete_again():
    plan = project_plan({"state": "absent"}, current=project_state())
    assert plan.action == DELETE and plan.desired == {"id": WEB["id"]} and plan.after is None
    assert "not deleted" in plan.notes[0]
    assert project_plan({"state": "absent"}).action == NONE


def test_project_delete_refused_while_it_holds_resources():
    with pytest.raises(Conflict) as err:
        project_plan({"state": "absent"}, current=project_state(), blockers=["servers", "networks"])
    assert "servers, networks" in str(err.value) and "force: true" in str(err.value)
    plan = project_plan({"state": "absent", "force": True}, current=project_state(), blockers=["servers"])
    assert plan.action == DELETE and any("servers" in n for n in plan.notes)


# ---- user ------------------------------------------------------------------------------------
@pytest.mark.parametrize("params, field", [
    ({"password": ""}, "password"),
    ({"update_password": "always"}, "update_password"),
    ({"update_password": "sometimes", "password": "x"}, "update_password"),
    ({"default_project": ""}, "default_project"),
    ({"roles": [{"role": "member"}]}, "roles[0]"),
    ({"roles": [{"role": "member", "project": "web", "domain": "Default"}]}, "roles[0]"),
    ({"roles": [{"project": "web"}]}, "roles[0].role"),
    ({"roles": [{"role": "member", "project": "web", "extra": 1}]}, "roles[0]"),
    ({"roles": [{"role": "member", "project": "web"}, {"role": "member", "project": "web"}]}, "roles[1]"),
    ({"roles": ["member"]}, "roles[0]"),
])
def test_user_normalize_errors(params, field):
    with pytest.raises(InvalidSpec) as err:
        OsUserPlanner().normalize(dict({"name": "alice"}, **params))
    assert field in [problem[0] for problem in err.value.problems]


def test_user_create_masks_password_and_grants_roles():
    roles = [{"project": "web", "project_id": WEB["id"], "role": "member"},
             {"domain": "Default", "domain_id": "default", "role": "reader"}]
    plan = user_plan({"password": "s3cret", "default_project": "web",
                      "roles": [{"project": "web", "role": "member"}, {"domain": "Default", "role": "reader"}]},
                     default_project=WEB, roles=roles)
    assert plan.action == CREATE
    assert plan.desired["password"] == "s3cret"
    assert [r["role"] for r in plan.desired["grant"]] == ["reader", "member"]  # sorted by key: domain= first
    assert plan.after["default_project"] == "web" and plan.after["default_project_id"] == WEB["id"]
    assert "password" not in plan.after
    public = json.dumps([c.to_dict() for c in plan.changes] + [plan.after, plan.diff()])
    assert "s3cret" not in public and "********" in public


def test_user_without_password_is_noted():
    plan = user_plan({})
    assert plan.action == CREATE and any("no password" in n for n in plan.notes)


def test_user_password_on_create_is_not_compared():
    plan = user_plan({"password": "other"}, current=user_state())
    assert plan.action == NONE


def test_user_password_always_is_a_masked_change_every_run():
    plan = user_plan({"password": "other", "update_password": "always"}, current=user_state())
    assert plan.action == UPDATE
    (change,) = plan.changes
    assert (change.path, change.op, change.before, change.after) == ("password", "modify", "********", "********")
    assert plan.desired["password"] == "other"
    assert "password" not in plan.after
    assert "other" not in json.dumps([change.to_dict(), plan.diff()])


def test_user_updates_fields_live():
    plan = user_plan({"email": "a@b.c", "description": "d", "enabled": False, "default_project": "lab"},
                     current=user_state(), default_project=LAB)
    assert paths(plan) == ["default_project", "description", "email", "enabled"]
    assert set(c.effect for c in plan.changes) == {LIVE}
    assert plan.desired["default_project_id"] == LAB["id"]
    assert plan.after["default_project_id"] == LAB["id"] and plan.after["default_project"] == "lab"
    assert plan.desired["grant"] == [] and plan.desired["revoke"] == []


def test_user_roles_exclusive_adds_and_removes_one_by_one():
    want = [{"project": "lab", "project_id": LAB["id"], "role": "member"}]
    plan = user_plan({"roles": [{"project": "lab", "role": "member"}]}, current=user_state(), roles=want)
    assert [(c.path, c.op) for c in plan.changes] == [("roles[project=lab/role=member]", "add"),
                                                      ("roles[project=web/role=member]", "remove")]
    assert plan.desired["grant"] == want
    assert [r["project"] for r in plan.desired["revoke"]] == ["web"]
    assert plan.after["roles"] == want


def test_user_roles_not_purged_only_adds():
    want = [{"project": "lab", "project_id": LAB["id"], "role": "member"}]
    plan = user_plan({"roles": [{"project": "lab", "role": "member"}], "purge_roles": False},
                     current=user_state(), roles=want)
    assert [(c.path, c.op) for c in plan.changes] == [("roles[project=lab/role=member]", "add")]
    assert plan.desired["revoke"] == []
    assert [r["project"] for r in plan.after["roles"]] == ["lab", "web"]


def test_user_roles_empty_list_removes_all_and_unset_leaves_alone():
    plan = user_plan({"roles": []}, current=user_state(), roles=[])
    assert [c.op for c in plan.changes] == ["remove"] and plan.after["roles"] == []
    assert user_plan({}, current=user_state()).action == NONE


def test_user_same_roles_is_noop():
    current = user_state()
    plan = user_plan({"roles": [{"project": WEB["id"], "role": "member"}]}, current=current,
                     roles=current["roles"])
    assert plan.action == NONE


def test_user_delete():
    plan = user_plan({"state": "absent"}, current=user_state())
    assert plan.action == DELETE and plan.desired == {"id": "c" * 32}
    assert user_plan({"state": "absent"}).action == NONE
