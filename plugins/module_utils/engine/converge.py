# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The converge loop for one resource: spec -> desired -> current -> plan -> apply.

No AnsibleModule here and no module-level state: a stack can call ``converge()`` for many
resources of many kinds in one process, each with the planner and driver of its kind.
"""

from __future__ import annotations

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import ConvergeError
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import redact


class Planner(object):
    """Backend-neutral knowledge of one resource kind.  Pure: never talks to a backend.

    Subclasses set ``kind`` and ``schema`` and implement ``normalize`` and ``plan``.
    """

    kind = None
    schema = None

    def normalize(self, params):
        """Validate user options and return the normalized desired state (raise InvalidSpec)."""
        raise NotImplementedError

    def plan(self, desired, world):
        """Return the Plan turning ``world.current`` into ``desired``; validate against ``world``."""
        raise NotImplementedError

    def outputs(self, plan):
        """Extra top-level result keys derived from the plan (e.g. ``restart_required``)."""
        return {}

    def public(self, state):
        """``state`` as it may be shown to the user: secrets masked."""
        return redact(state, self.schema)


class Driver(object):
    """One backend's implementation of one resource kind."""

    # Set by the backend while a stack plans (``batch_reads``): a dict in which a driver may keep
    # what it read for the other resources of the same pass.  None: read afresh every time.
    cache = None

    def observe(self, name, desired=None):
        """Read what the planner needs: an object with at least ``current`` (None if absent).

        ``desired`` (when given) lets a driver skip reads the spec cannot need."""
        raise NotImplementedError

    def apply(self, plan):
        """Carry out ``plan`` (never called for an unchanged plan or in check mode).

        May return a dict of facts learnt while applying (merged into the module result)."""
        raise NotImplementedError

    def list(self, names=None):
        """Normalized states of every resource of this kind (or only ``names``), batched."""
        raise NotImplementedError

    def settle(self, plan):
        """Upkeep a real (not check mode) run does even when ``plan`` changes nothing, such as a
        pool's volume rescan.  Never a change.  Returns whether it did anything."""
        return False


class Outcome(object):
    """The result of converging one resource."""

    def __init__(self, plan, state, applied, facts=None):
        self.plan = plan
        self.state = state      # the state after the run (predicted in check mode)
        self.applied = applied  # whether the apply step ran
        self.facts = dict(facts or {})  # what the apply step reported


def converge(planner, driver, params, check_mode=False):
    """Converge one resource.  Raises ConvergeError subclasses; never calls fail_json."""
    desired = planner.normalize(params)
    name = desired.get("name")
    plan = None
    try:
        world = driver.observe(name, desired)
        plan = planner.plan(desired, world)
        # What leaves the engine is secret-free; only plan.desired (for the driver) keeps secrets.
        plan.before, plan.after = planner.public(plan.before), planner.public(plan.after)
        if check_mode:
            return Outcome(plan, plan.after, applied=False)
        if not plan.changed:
            if not driver.settle(plan):
                return Outcome(plan, plan.after, applied=False)
            return Outcome(plan, planner.public(driver.observe(name).current), applied=False)
        facts = driver.apply(plan)
        return Outcome(plan, planner.public(driver.observe(name).current), applied=True, facts=facts)
    except ConvergeError as err:
        err.about(planner.kind, name)
        if plan is not None:
            err.details.setdefault("plan", plan.to_dict())
        raise
