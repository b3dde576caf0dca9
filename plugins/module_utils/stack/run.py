# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan and apply a whole stack on one backend connection.

Plan (reads only, one pass in dependency order, inside ``backend.batch_reads()``): every declared
resource is planned by its kind's planner exactly as its module would plan it; a resource whose
dependency this run creates first cannot be checked against it yet, so its plan says so and it is
planned again, for real, right before it is applied.  Ownership marks decide what may be adopted,
what is refused and what ``prune`` deletes.  Every problem of every resource is collected; if
there is one, nothing is changed.

Apply: creations and updates in dependency order, up to ``parallel`` at a time, each resource
re-planned against what is there at that moment (so a later run continues from where reality is);
then deletions, users first.  A failed resource does not stop the others: what depends on it is
not attempted, everything else is converged, and the result says which is which.
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.converge.virt.plugins.module_utils.engine.converge import converge
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import ConvergeError, InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import CREATE, DELETE, NONE, REPLACE, UPDATE, Plan
from ansible_collections.converge.virt.plugins.module_utils.stack.document import SPECS, key_of
from ansible_collections.converge.virt.plugins.module_utils.stack.refs import DELETE_ORDER

ADOPT = "adopt"
_TRANSIENT = re.compile(r"in use|is busy|try again|temporar|is locked|still attached|being (deleted|detached)", re.I)


class Entry(object):
    """One resource of the run: what the plan says, and then what happened."""

    def __init__(self, key, kind, scope, name, params, declared, deps=()):
        self.key = key
        self.kind = kind
        self.scope = scope
        self.name = name
        self.params = params
        self.declared = declared
        self.deps = set(deps)
        self.plan = None
        self.action = NONE
        self.reason = None
        self.adopt = False       # mark it as the stack's (it exists, unowned, and adopt is set)
        self.pending = None      # the dependency this run creates first, when the plan must wait for it
        self.error = None
        self.result = None       # done | failed | not_attempted
        self.state = None
        self.elapsed = None
        self.changed = False     # whether applying it changed something

    @property
    def ident(self):
        return (self.kind, self.scope, self.name)

    def to_dict(self):
        data = self.plan.to_dict() if self.plan is not None else {"kind": self.kind, "name": self.name}
        data.update({"resource": self.key, "action": self.action, "depends_on": sorted(self.deps)})
        if self.reason:
            data["reason"] = self.reason
        if self.pending:
            data["pending_on"] = self.pending
        if self.result:
            data["result"] = self.result
        if self.elapsed is not None:
            data["elapsed"] = round(self.elapsed, 3)
        if self.error:
            data["error"] = self.error
        return data


class StackRun(object):
    """One run of one stack.  ``options``: state, prune, adopt, parallel, retries, check_mode."""

    def __init__(self, backend, stack, resources, graph, options, progress=None, units=None, keep=()):
        self.backend = backend
        # Instances of a multi-host stack: key -> hypervisors.cluster.ClusterInstance, which plans
        # and applies them (placement groups, migration from another host) in place of converge().
        self.units = dict(units or {})
        # Owned resources this run must not delete although undeclared here (they move to another host).
        self.keep = set(keep)
        self.stack = stack
        self.resources = resources
        self.graph = graph
        self.options = options
        self.progress = progress or (lambda msg: None)
        self.entries = []
        self.warnings = []
        self._mark_lock = threading.Lock()
        self.ownership = backend.ownership()
        self.markable = set(self.ownership.MARKABLE)

    # ---- plan ----------------------------------------------------------------------------------
    def plan(self):
        kinds = set(r.kind for r in self.resources)
        if self.options["prune"] or self.options["state"] == "absent":
            kinds |= self.markable
        problems = []
        with self.backend.batch_reads():
            marks = self.ownership.scan(sorted(kinds & self.markable))
            by_key = {}
            if self.options["state"] == "present":
                for key in self.graph.order():
                    entry = self._plan_declared(self.graph.resources[key], marks, by_key, problems)
                    by_key[key] = entry
                    self.entries.append(entry)
            owned = [ident for ident, owner in marks.items() if owner == self.stack and ident not in self.keep]
            if self.options["state"] == "absent":
                doomed = owned
            else:
                doomed = [i for i in owned if self.options["prune"] and key_of(*i) not in by_key]
            deleted = []
            declared = self.graph.order()
            for ident in sorted(doomed, key=lambda i: self._delete_rank(i, declared)):
                entry = self._plan_delete(ident, deleted, problems)
                if entry is not None:
                    self.entries.append(entry)
                    deleted.append(entry)
        if problems:
            raise InvalidSpec(problems)
        return self.entries

    @staticmethod
    def _delete_rank(ident, declared):
        """Sort key of a deletion; ``declared``: the declared keys in dependency order."""
        kind = ident[0]
        rank = DELETE_ORDER.index(kind) if kind in DELETE_ORDER else len(DELETE_ORDER)
        key = key_of(*ident)
        # Declared resources go users first (reverse dependency order), the others by kind.
        position = len(declared) - declared.index(key) if key in declared else 0
        return (rank, position, key)

    def _plan_declared(self, resource, marks, by_key, problems):
        entry = Entry(resource.key, resource.kind, resource.scope, resource.name, resource.params, True,
                      self.graph.deps[resource.key])
        planner = self.backend.planner(resource.kind)
        try:
            planner.normalize(resource.params)  # spec errors are never excused by a pending dependency
        except ConvergeError as err:
            problems.extend(_problems(resource.where(), err))
            return entry
        waiting = sorted(d for d in entry.deps if by_key.get(d) is not None
                         and (by_key[d].action in (CREATE, REPLACE) or by_key[d].pending))
        try:
            if resource.key in self.units:
                entry.plan = self.units[resource.key].make_plan()
            else:
                entry.plan = converge(planner, self.backend.driver(resource.kind), resource.params,
                                      check_mode=True).plan
        except ConvergeError as err:
            unexcused = _unexcused(resource.where(), err, waiting)
            if unexcused:
                problems.extend(unexcused)
                return entry
            entry.pending = waiting
            entry.plan = self._waiting_plan(resource, planner, waiting)
        owner = marks.get(resource.ident)
        exists = entry.plan.before is not None
        unit = self.units.get(resource.key)
        if unit is not None and unit.place.moves:
            owner = unit.owner  # its mark travels with it, read on the host it leaves
        if resource.absent:
            if owner not in (None, self.stack):
                problems.append((resource.where(), "belongs to the stack %s; this stack does not delete it" % owner))
        elif exists and owner not in (None, self.stack):
            problems.append((resource.where(), "exists and belongs to the stack %s; remove it from that stack first"
                             % owner))
        elif exists and owner is None:
            if resource.adopt or self.options["adopt"]:
                # A kind that can carry no mark records nothing: adopting it is not a change.
                entry.adopt = resource.kind in self.markable
            else:
                problems.append((resource.where(), "a %s named %s exists and this stack does not own it: set adopt: true "
                                 "(on the stack or on this resource) to take it over" % (resource.kind, resource.name)))
        self._classify(entry)
        return entry

    def _waiting_plan(self, resource, planner, waiting):
        """A plan that cannot be checked yet: a dependency does not exist before this run creates it."""
        unit = self.units.get(resource.key)
        exists = self._exists(resource) or bool(unit is not None and unit.place.moves)
        desired = planner.public(planner.normalize(resource.params))
        note = ("planned again once %s exist%s: options that refer to %s are checked then"
                % (", ".join(waiting), "s" if len(waiting) == 1 else "", "it" if len(waiting) == 1 else "them"))
        if unit is not None and unit.place.moves:
            note = "migrates from %s to %s; %s" % (unit.place.current, unit.place.host, note)
        if resource.absent:
            return Plan(resource.kind, resource.name, DELETE if exists else NONE, before={} if exists else None, notes=[note])
        return Plan(resource.kind, resource.name, UPDATE if exists else CREATE, before={} if exists else None,
                    after=desired, notes=[note])

    def _exists(self, resource):
        driver = self.backend.driver(resource.kind)
        try:
            if resource.scope is not None and resource.kind in ("volume", "image"):
                items = driver.list([resource.name], pool=resource.scope)
            else:
                items = driver.list([resource.name])
        except ConvergeError:
            return False
        return any(i.get("name") == resource.name for i in items or [])

    def _plan_delete(self, ident, deleted, problems):
        kind, scope, name = ident
        params = {"state": "absent"}
        params["address" if kind == "floating_ip" else "name"] = name
        if scope is not None:
            params["container" if kind == "object" else "pool"] = scope
        spec = SPECS[kind]
        result = ArgumentSpecValidator(spec.ARGUMENT_SPEC, **spec.MODULE_KWARGS).validate(params)
        entry = Entry(key_of(*ident), kind, scope, name, result.validated_parameters, False)
        try:
            entry.plan = converge(self.backend.planner(kind), self.backend.driver(kind), entry.params,
                                  check_mode=True).plan
        except ConvergeError as err:
            # Refused because something this run deletes first still uses it: checked again then.
            earlier = sorted(e.key for e in deleted if e.kind != kind)
            if not earlier:
                problems.extend(_problems("%s (owned by this stack, to delete)" % entry.key, err))
                return None
            entry.pending = earlier
            entry.plan = Plan(kind, name, DELETE, before={}, notes=[
                "planned again once %s %s deleted: %s" % (", ".join(earlier), "is" if len(earlier) == 1 else "are",
                                                          err.msg)])
        self._classify(entry)
        return entry if entry.action != NONE else None

    @staticmethod
    def _classify(entry):
        plan = entry.plan
        action = plan.action
        if action == UPDATE and not entry.pending:
            replaced = [c.path for c in plan.changes if c.effect == REPLACE]
            if replaced:
                action = REPLACE
                entry.reason = "create-only: %s" % ", ".join(replaced)
        if action == NONE and entry.adopt:
            action = ADOPT
        entry.action = action

    # ---- apply ---------------------------------------------------------------------------------
    def apply(self, phase=None):
        """Apply the plan: creations and updates (``phase`` "ups"), then deletions ("downs"); both
        when ``phase`` is None.  A multi-host stack runs every host's ups before any deletion."""
        todo = [e for e in self.entries if e.action != NONE]
        ups = [e for e in todo if e.action != DELETE]
        downs = [e for e in todo if e.action == DELETE]
        if phase in (None, "ups"):
            self._run_wave(ups, lambda e: set(d for d in e.deps if d in set(x.key for x in ups)))
        if phase == "ups":
            return self.entries
        # Deletions run after every creation and update (a resource moved off a network first), users
        # first: a deleted resource waits for the deletion of whatever comes before it in the order.
        order = [e.key for e in downs]
        self._run_wave(downs, lambda e: set(k for k in order[:order.index(e.key)]
                                            if self._blocks_delete(k, e, downs)))
        return self.entries

    def _blocks_delete(self, earlier_key, entry, downs):
        earlier = [d for d in downs if d.key == earlier_key][0]
        if earlier.declared and entry.declared:
            return earlier.key in self.graph.users(entry.key)
        rank = DELETE_ORDER.index
        return earlier.kind != entry.kind and rank(earlier.kind) < rank(entry.kind) if (
            earlier.kind in DELETE_ORDER and entry.kind in DELETE_ORDER) else False

    def _run_wave(self, entries, deps_of):
        waiting = dict((e.key, e) for e in entries)
        deps = dict((e.key, deps_of(e)) for e in entries)
        done, broken = set(), set()
        futures = {}
        with ThreadPoolExecutor(max_workers=max(1, self.options["parallel"])) as pool:
            while waiting or futures:
                for key in list(waiting):
                    if deps[key] & broken:
                        entry = waiting.pop(key)
                        entry.result = "not_attempted"
                        entry.error = "not attempted: %s failed" % ", ".join(sorted(deps[key] & broken))
                        broken.add(key)
                    elif deps[key] <= done:
                        entry = waiting.pop(key)
                        futures[pool.submit(self._apply_one, entry)] = entry
                if not futures:
                    if waiting:  # cannot happen with an acyclic graph; never spin
                        for entry in waiting.values():
                            entry.result, entry.error = "not_attempted", "not attempted: waits for itself"
                        waiting.clear()
                    break
                finished, _pending = wait(list(futures), return_when=FIRST_COMPLETED)
                for future in finished:
                    entry = futures.pop(future)
                    future.result()
                    (done if entry.result == "done" else broken).add(entry.key)

    def _apply_one(self, entry):
        start = time.monotonic()
        self.progress("%s: %s" % (entry.key, entry.action))
        attempts = max(1, self.options["retries"] + 1)
        delay = 2.0
        try:
            for attempt in range(attempts):
                try:
                    if entry.key in self.units:
                        outcome = self.units[entry.key].outcome()
                    else:
                        outcome = converge(self.backend.planner(entry.kind), self.backend.new_driver(entry.kind),
                                           entry.params, check_mode=False)
                    break
                except ConvergeError as err:
                    if attempt + 1 < attempts and _TRANSIENT.search(str(err)):
                        time.sleep(delay)
                        delay *= 2
                        continue
                    raise
            entry.plan = outcome.plan
            entry.changed = outcome.plan.changed or entry.adopt
            entry.state = outcome.state
            for note in outcome.facts.get("warnings", []):
                self.warnings.append("%s: %s" % (entry.key, note))
            if entry.action == DELETE:
                self._marking("unmark", entry)
            elif entry.declared:
                self._marking("mark", entry)
            entry.result = "done"
        except ConvergeError as err:
            entry.result, entry.error = "failed", str(err)
            if entry.declared and entry.action in (CREATE, REPLACE, ADOPT) or entry.adopt:
                try:  # whatever the failed run made is the stack's, so the next run can continue from it
                    self._marking("mark", entry)
                except ConvergeError:
                    pass
        except Exception as err:  # pylint: disable=broad-exception-caught
            entry.result, entry.error = "failed", "unexpected error: %s" % err
        entry.elapsed = time.monotonic() - start
        return entry

    def _marking(self, how, entry):
        if entry.kind not in self.markable:
            return
        with self._mark_lock:
            getattr(self.ownership, how)(entry.kind, entry.scope, entry.name, self.stack)

    # ---- result --------------------------------------------------------------------------------
    def summary(self):
        result = dict((k, []) for k in ("create", "update_in_place", "replace", "delete", "adopt", "unchanged"))
        for entry in self.entries:
            if entry.action == REPLACE:
                result["replace"].append({"resource": entry.key, "reason": entry.reason})
            elif entry.action == NONE:
                result["unchanged"].append(entry.key)
            elif entry.action == UPDATE:
                result["update_in_place"].append(entry.key)
            else:
                result[entry.action].append(entry.key)
            if entry.adopt and entry.action not in (ADOPT,):
                result["adopt"].append(entry.key)
        return result

    def changed(self, applied):
        if not applied:
            return any(e.action != NONE for e in self.entries)
        return any(e.changed for e in self.entries)


def _unexcused(where, err, waiting):
    """The problems of ``err`` that are not about a dependency this run creates first (each
    excused complaint names one of them; a reference to anything else missing stays an error)."""
    raw = err.problems if isinstance(err, InvalidSpec) else [("", err.msg + (" (%s)" % err.hint if err.hint else ""))]
    if waiting:
        named = re.compile(r"(?<![\w.-])(%s)(?![\w.-])" % "|".join(
            sorted(re.escape(key.rsplit("/", 1)[-1]) for key in waiting)))
        raw = [(field, message) for field, message in raw if not named.search("%s %s" % (field, message))]
    return [("%s.%s" % (where, field) if field else where, message) for field, message in raw]


def _problems(where, err):
    return _unexcused(where, err, ())
