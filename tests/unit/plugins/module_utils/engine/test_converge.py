# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the converge loop with an in-memory planner and driver (no backend at all)."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.converge import (
    Driver, Outcome, Planner, converge,
)
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import (
    BackendError, Conflict, ConvergeError, InvalidSpec, NotFound, Problems, Timeout,
)
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, NONE, RESTART, SECRET_MASK, UPDATE,
    Field, Plan, compare, merge, redact,
)

KIND = "widget"


class World(object):
    def __init__(self, current):
        self.current = current


class FakePlanner(Planner):
    """A minimal planner: size (restart), color (live) and a secret password (live)."""

    kind = KIND
    schema = {"size": Field(RESTART), "color": Field(LIVE), "password": Field(LIVE, secret=True)}

    def __init__(self, plan_error=None):
        self.plan_error = plan_error
        self.plans = []

    def normalize(self, params):
        problems = Problems()
        if not params.get("name"):
            problems.add("name", "is required")
        if params.get("size") is not None and params["size"] < 0:
            problems.add("size", "must not be negative")
        problems.raise_if_any(KIND, params.get("name"))
        desired = dict((k, params.get(k)) for k in ("name", "size", "color", "password"))
        desired["state"] = params.get("state", "present")
        return desired

    def plan(self, desired, world):
        if self.plan_error is not None:
            raise self.plan_error
        name, current = desired["name"], world.current
        fields = dict((k, desired[k]) for k in self.schema)
        if desired["state"] == "absent":
            plan = Plan(KIND, name, DELETE if current else NONE, before=self.public(current), after=None)
        elif current is None:
            after = dict(fields, name=name)
            plan = Plan(KIND, name, CREATE, compare(after, {}, self.schema), before=None,
                        after=self.public(after), desired=after)
        else:
            after = merge(current, fields, self.schema)
            changes = compare(after, current, self.schema)
            plan = Plan(KIND, name, UPDATE if changes else NONE, changes, before=self.public(current),
                        after=self.public(after), desired=after)
        self.plans.append(plan)
        return plan


class FakeDriver(Driver):
    """Resources kept in a dict; records every call."""

    def __init__(self, resources=None, apply_error=None, observe_error=None):
        self.resources = copy.deepcopy(resources or {})
        self.apply_error = apply_error
        self.observe_error = observe_error
        self.observed = []
        self.applied = []

    def observe(self, name, desired=None):
        self.observed.append(name)
        if self.observe_error is not None:
            raise self.observe_error
        return World(copy.deepcopy(self.resources.get(name)))

    def apply(self, plan):
        self.applied.append(plan)
        if self.apply_error is not None:
            raise self.apply_error
        if plan.action == DELETE:
            del self.resources[plan.name]
        else:
            self.resources[plan.name] = copy.deepcopy(plan.desired)

    def list(self, names=None):
        return [copy.deepcopy(v) for k, v in sorted(self.resources.items()) if not names or k in names]


EXISTING = {"w1": {"name": "w1", "size": 1, "color": "red", "password": "hunter2"}}


def _run(params, check_mode=False, **driver_kwargs):
    planner, driver = FakePlanner(), FakeDriver(EXISTING, **driver_kwargs)
    outcome = converge(planner, driver, params, check_mode=check_mode)
    return planner, driver, outcome


# Each case: params and the action the plan must have.
CHANGING = [
    pytest.param({"name": "w2", "size": 3}, CREATE, id="create"),
    pytest.param({"name": "w1", "size": 2}, UPDATE, id="update-restart"),
    pytest.param({"name": "w1", "color": "blue"}, UPDATE, id="update-live"),
    pytest.param({"name": "w1", "password": "new"}, UPDATE, id="update-secret"),
    pytest.param({"name": "w1", "state": "absent"}, DELETE, id="delete"),
]
UNCHANGED = [
    pytest.param({"name": "w1"}, id="nothing-set"),
    pytest.param({"name": "w1", "size": 1, "color": "red"}, id="same-values"),
    pytest.param({"name": "w1", "password": "hunter2"}, id="same-secret"),
    pytest.param({"name": "w9", "state": "absent"}, id="absent-and-missing"),
]


# ---- check mode ----------------------------------------------------------------------------
@pytest.mark.parametrize("params, action", CHANGING)
def test_check_mode_never_applies(params, action):
    planner, driver, outcome = _run(params, check_mode=True)
    assert driver.applied == []
    assert driver.resources == EXISTING
    assert outcome.applied is False
    assert outcome.plan.action == action and outcome.plan.changed
    assert outcome.plan is planner.plans[-1]
    assert outcome.state == outcome.plan.after, "check mode reports the predicted state"
    assert driver.observed == [params["name"]], "check mode only reads once"


@pytest.mark.parametrize("params, action", CHANGING)
def test_check_mode_predicts_what_a_real_run_does(params, action):
    predicted = _run(params, check_mode=True)[2]
    real = _run(params)[2]
    assert [c.to_dict() for c in predicted.plan.changes] == [c.to_dict() for c in real.plan.changes]
    assert predicted.plan.action == real.plan.action == action
    assert predicted.state == real.state


# ---- unchanged plans -----------------------------------------------------------------------
@pytest.mark.parametrize("check_mode", [False, True])
@pytest.mark.parametrize("params", UNCHANGED)
def test_unchanged_plan_never_applies(params, check_mode):
    dummy, driver, outcome = _run(params, check_mode=check_mode)
    assert outcome.plan.action == NONE and not outcome.plan.changed
    assert outcome.applied is False
    assert driver.applied == []
    assert driver.observed == [params["name"]]
    assert driver.resources == EXISTING


# ---- apply ---------------------------------------------------------------------------------
@pytest.mark.parametrize("params, action", CHANGING)
def test_apply_called_once_with_the_plan(params, action):
    planner, driver, outcome = _run(params)
    assert len(planner.plans) == 1
    assert driver.applied == [planner.plans[0]], "apply gets the very plan that was made"
    assert driver.applied[0] is outcome.plan
    assert outcome.applied is True
    assert outcome.plan.action == action
    assert driver.observed == [params["name"], params["name"]], "state is read back after apply"


def test_apply_result_is_the_re_observed_state_with_secrets_masked():
    dummy, driver, outcome = _run({"name": "w1", "password": "s3cret", "size": 5})
    assert driver.resources["w1"]["password"] == "s3cret"
    assert outcome.state == {"name": "w1", "size": 5, "color": "red", "password": SECRET_MASK}
    assert "s3cret" not in repr(outcome.plan.to_dict()) + repr(outcome.state) + repr(outcome.plan.diff())


def test_delete_result_state_is_none():
    dummy, driver, outcome = _run({"name": "w1", "state": "absent"})
    assert "w1" not in driver.resources
    assert outcome.state is None


def test_create_then_converge_again_is_a_no_op():
    planner, driver = FakePlanner(), FakeDriver({})
    first = converge(planner, driver, {"name": "w3", "size": 2, "color": "green"})
    second = converge(planner, driver, {"name": "w3", "size": 2, "color": "green"})
    assert first.plan.action == CREATE and first.applied
    assert second.plan.action == NONE and not second.applied
    assert len(driver.applied) == 1


def test_outcome_holds_its_parts():
    plan = Plan(KIND, "w", NONE)
    outcome = Outcome(plan, {"a": 1}, applied=False)
    assert (outcome.plan, outcome.state, outcome.applied) == (plan, {"a": 1}, False)


# ---- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize("error", [
    BackendError("libvirt said no"),
    Conflict("in use"),
    Timeout("took too long"),
    NotFound("missing"),
])
def test_apply_error_names_the_resource_and_carries_the_plan(error):
    planner = FakePlanner()
    driver = FakeDriver(EXISTING, apply_error=error)
    with pytest.raises(type(error)) as info:
        converge(planner, driver, {"name": "w1", "size": 7, "password": "topsecret"})
    err = info.value
    assert err is error
    assert (err.kind, err.name) == (KIND, "w1")
    assert str(err).startswith("widget 'w1': ")
    assert err.details["plan"] == planner.plans[0].to_dict()
    assert err.details["plan"]["action"] == UPDATE
    assert [c["path"] for c in err.details["plan"]["changes"]] == ["size", "password"]
    assert "topsecret" not in repr(err.details)
    assert len(driver.applied) == 1


@pytest.mark.parametrize("where", ["observe", "plan"])
def test_errors_before_a_plan_name_the_resource_without_a_plan(where):
    error = BackendError("cannot read")
    planner = FakePlanner(plan_error=error if where == "plan" else None)
    driver = FakeDriver(EXISTING, observe_error=error if where == "observe" else None)
    with pytest.raises(BackendError) as info:
        converge(planner, driver, {"name": "w1", "size": 2})
    assert (info.value.kind, info.value.name) == (KIND, "w1")
    assert "plan" not in info.value.details
    assert driver.applied == []


def test_error_that_already_names_a_resource_keeps_it():
    error = Conflict("blocked by", kind="instance", name="vm1", details={"plan": "kept"})
    driver = FakeDriver(EXISTING, apply_error=error)
    with pytest.raises(Conflict) as info:
        converge(FakePlanner(), driver, {"name": "w1", "size": 2})
    assert (info.value.kind, info.value.name) == ("instance", "vm1")
    assert info.value.details["plan"] == "kept", "an existing plan detail is not overwritten"


def test_invalid_spec_from_normalize_never_reaches_the_driver():
    driver = FakeDriver(EXISTING)
    with pytest.raises(InvalidSpec) as info:
        converge(FakePlanner(), driver, {"name": "w1", "size": -1})
    assert info.value.problems == [("size", "must not be negative")]
    assert (info.value.kind, info.value.name) == (KIND, "w1")
    assert driver.observed == [] and driver.applied == []


def test_unexpected_exceptions_propagate_unchanged():
    driver = FakeDriver(EXISTING, apply_error=KeyError("bug"))
    with pytest.raises(KeyError):
        converge(FakePlanner(), driver, {"name": "w1", "size": 2})


@pytest.mark.parametrize("check_mode", [False, True])
def test_converge_error_from_apply_is_a_converge_error(check_mode):
    driver = FakeDriver(EXISTING, apply_error=BackendError("x"))
    if check_mode:
        outcome = converge(FakePlanner(), driver, {"name": "w1", "size": 2}, check_mode=True)
        assert outcome.applied is False and driver.applied == []
    else:
        with pytest.raises(ConvergeError):
            converge(FakePlanner(), driver, {"name": "w1", "size": 2})


# ---- base classes --------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda: Planner().normalize({}),
    lambda: Planner().plan({}, World(None)),
    lambda: Driver().observe("x"),
    lambda: Driver().apply(Plan(KIND, "x", NONE)),
    lambda: Driver().list(),
])
def test_base_classes_are_abstract(call):
    with pytest.raises(NotImplementedError):
        call()


def test_planner_defaults():
    planner = FakePlanner()
    assert planner.outputs(Plan(KIND, "x", NONE)) == {}
    state = {"name": "w", "password": "pw", "size": 1}
    assert planner.public(state) == redact(state, FakePlanner.schema) == {"name": "w", "password": SECRET_MASK, "size": 1}
    assert planner.public(None) is None


class SettlingDriver(FakeDriver):
    """A driver with upkeep to do on unchanged plans (like a pool rescan)."""

    def __init__(self, resources, does_something):
        super().__init__(resources)
        self.does_something = does_something
        self.settled = []

    def settle(self, plan):
        self.settled.append(plan)
        if self.does_something:
            self.resources[plan.name]["color"] = "rescanned"
        return self.does_something


@pytest.mark.parametrize("does_something", [True, False])
def test_settle_runs_on_unchanged_plans_and_is_never_a_change(does_something):
    driver = SettlingDriver(EXISTING, does_something)
    outcome = converge(FakePlanner(), driver, {"name": "w1"})
    assert not outcome.plan.changed and not outcome.applied and driver.applied == []
    assert len(driver.settled) == 1
    # What the upkeep changed is read back; without upkeep nothing is read twice.
    assert outcome.state["color"] == ("rescanned" if does_something else "red")
    assert driver.observed == (["w1", "w1"] if does_something else ["w1"])


def test_settle_never_runs_in_check_mode():
    driver = SettlingDriver(EXISTING, True)
    converge(FakePlanner(), driver, {"name": "w1"}, check_mode=True)
    assert driver.settled == []


def test_settle_never_runs_on_a_changing_plan():
    driver = SettlingDriver(EXISTING, True)
    converge(FakePlanner(), driver, {"name": "w1", "color": "blue"})
    assert driver.settled == [] and len(driver.applied) == 1


def test_default_settle_does_nothing():
    assert Driver().settle(None) is False
