# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Many libvirt hosts seen as one: where each instance lives, where a new one goes, and how an
existing one moves.

* ``Cluster`` opens one libvirt connection per hypervisor (lazily, reads done side by side).
* ``Placer`` decides each instance's host: a fixed ``host``; else the host it already lives on
  when that is still a candidate (placement is *sticky*: re-planning never moves an instance);
  else the scheduler's choice (filters, then weighers; ``scheduler.py``).  Instances placed
  earlier in the same run count as load and as group members.
* ``converge_instance`` converges one instance of a cluster: a normal plan on its host, or, when
  its host changes, a *migration* (live when the guest runs, offline when it is shut off; never
  delete-and-create) followed by the field-level changes of the spec.
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Outcome, converge
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import (
    BackendError,
    ConvergeError,
    InvalidSpec,
)
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    DELETE,
    LIVE,
    NONE,
    UPDATE,
    Change,
    Plan,
)
from ansible_collections.converge.virt.plugins.module_utils.hypervisors import facts as hv_facts
from ansible_collections.converge.virt.plugins.module_utils.hypervisors import migrate as hv_migrate
from ansible_collections.converge.virt.plugins.module_utils.hypervisors import scheduler
from ansible_collections.converge.virt.plugins.module_utils.hypervisors.inventory import check_hypervisors
from ansible_collections.converge.virt.plugins.module_utils.resources.instance import DEFAULTS

MIB = 1024 ** 2
# The room of a pool a stack creates in the same run: unknown when placing, so it does not limit.
_UNKNOWN_ROOM = 1024 ** 5
_GROUP_FIELDS = ("affinity", "anti_affinity")


class Cluster(object):
    """One connection per hypervisor, opened when first needed."""

    def __init__(self, hypervisors, run_command=None, readonly=False, opener=None):
        self.hypervisors = dict((h["name"], h) for h in hypervisors)
        self.names = [h["name"] for h in hypervisors]
        self.run_command = run_command
        self.readonly = readonly
        self._opener = opener
        self._backends = {}
        self._lock = threading.Lock()
        self._facts = {}
        self._migrations = {}

    def migration_lock(self, host):
        with self._lock:
            return self._migrations.setdefault(host, threading.Lock())

    def backend(self, name):
        with self._lock:
            if name not in self._backends:
                self._backends[name] = self._open(self.hypervisors[name])
            return self._backends[name]

    def _open(self, hypervisor):
        if self._opener is not None:
            return self._opener(hypervisor)
        from ansible_collections.converge.virt.plugins.module_utils.libvirt.backend import LibvirtBackend

        try:
            return LibvirtBackend(hypervisor["uri"], readonly=self.readonly, run_command=self.run_command)
        except ConvergeError as err:
            raise BackendError("hypervisor %s (%s): %s" % (hypervisor["name"], hypervisor["uri"], err.msg))

    def each(self, names, func):
        """``func(name)`` on every host of ``names`` side by side: ``{name: (value, error)}``."""
        names = list(names)
        results = {}
        if not names:
            return results

        def call(name):
            try:
                return name, func(name), None
            except ConvergeError as err:
                return name, None, err.msg
            except Exception as err:  # pylint: disable=broad-exception-caught
                return name, None, "%s: %s" % (type(err).__name__, err)

        with ThreadPoolExecutor(max_workers=min(8, len(names))) as pool:
            for name, value, error in pool.map(call, names):
                results[name] = (value, error)
        return results

    def locate(self, names=None):
        """``{instance name: [hosts defining it]}`` (every domain when ``names`` is None); a host
        that cannot be read is an error: an instance could hide there."""
        wanted = set(names) if names is not None else None

        def domains(host):
            return [d.name() for d in self.backend(host).conn.listAllDomains(0)]

        where = {}
        failed = []
        for host, (found, error) in sorted(self.each(self.names, domains).items()):
            if error is not None:
                failed.append("%s: %s" % (host, error))
                continue
            for dom in found:
                if wanted is None or dom in wanted:
                    where.setdefault(dom, []).append(host)
        if failed:
            raise BackendError("cannot list the instances of every hypervisor (an instance could live on the "
                               "missing ones): %s" % "; ".join(failed))
        return where

    def facts(self, names, probe=True):
        """Host facts for the scheduler, read once per host per run; a host that cannot be read
        is ``{name, error}`` (the scheduler rejects it, saying why)."""
        todo = [n for n in names if n not in self._facts]

        def gather(host):
            backend = self.backend(host)
            return hv_facts.gather(backend.conn, host, self.hypervisors[host]["uri"], probe=probe,
                                   run_command=self.run_command if backend.local else None)

        for host, (value, error) in self.each(todo, gather).items():
            self._facts[host] = value if error is None else {"name": host, "error": error}
        return [self._facts[n] for n in names]

    def close(self):
        for backend in self._backends.values():
            backend.close()
        self._backends = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---- placement -------------------------------------------------------------------------------

def check_cluster_options(params, names, problems, where=""):
    """The pure checks of ``host``/``placement``/``migration``; returns the normalized placement
    (None for a fixed host)."""
    prefix = where + "." if where else ""
    host = params.get("host")
    placement = params.get("placement")
    migration = params.get("migration") or {}
    if migration.get("timeout") is not None and migration["timeout"] < 1:
        problems.append((prefix + "migration.timeout", "must be at least 1 second"))
    if host is not None and placement is not None:
        problems.append((prefix + "host", "give host (a fixed hypervisor) or placement (let the scheduler "
                                          "choose), not both"))
        return None
    if host is not None:
        if host not in names:
            problems.append((prefix + "host", "%r is not one of the hypervisors (%s)" % (host, ", ".join(names))))
        return None
    normalized, found = scheduler.normalize_placement(placement or {}, names)
    problems.extend((prefix + f, m) for f, m in found)
    if normalized is not None and normalized["hosts"] is None:
        normalized["hosts"] = list(names)
    virt_type = params.get("virt_type")
    if normalized and normalized["domain_type"] and virt_type not in (None, "auto") \
            and virt_type != normalized["domain_type"]:
        problems.append((prefix + "placement.domain_type", "%s contradicts virt_type %s: no host could qualify"
                         % (normalized["domain_type"], virt_type)))
    return normalized


def request_of(desired, placement):
    """What the scheduler must fit: from the instance's normalized spec."""
    disks = {}
    for disk in desired.get("disks") or []:
        if disk.get("owned") and disk.get("size"):
            pool = disk.get("pool") or desired.get("pool") or "default"
            disks[pool] = disks.get(pool, 0) + disk["size"]
    virt_type = desired.get("virt_type")
    return {
        "name": desired["name"],
        "vcpus": desired.get("vcpus") or DEFAULTS["vcpus"],
        "memory_mib": (desired.get("memory") or DEFAULTS["memory"]) // MIB,
        "domain_type": virt_type if virt_type not in (None, "auto") else None,
        "disks": disks,
        "placement": placement,
    }


class Placement(object):
    """Where one instance goes, and why."""

    def __init__(self, name, host, current, how, decision=None, notes=()):
        self.name = name
        self.host = host          # the target host
        self.current = current    # where it lives now (None: nowhere)
        self.how = how            # pinned | sticky | scheduled | absent
        self.decision = decision  # scheduler.Decision when scheduled
        self.notes = list(notes)

    @property
    def moves(self):
        return self.current is not None and self.host is not None and self.current != self.host

    def to_dict(self):
        data = {"host": self.host, "current_host": self.current, "how": self.how, "notes": list(self.notes)}
        if self.decision is not None:
            data["decision"] = self.decision.to_dict()
            data["explanation"] = self.decision.explain()
        return data


class Placer(object):
    """Places instances one after another; earlier ones of the same run count as load."""

    def __init__(self, cluster, probe=True, declared_pools=None):
        self.cluster = cluster
        self.probe = probe
        self.planned = []  # (host, request) of the instances this run creates or moves
        # host -> pools this run creates there (a stack): a candidate, their room unknown yet
        self.declared_pools = declared_pools or {}

    def _with_declared_pools(self, facts):
        if "error" in facts:
            return facts
        return _room_unknown(facts, self.declared_pools.get(facts["name"], ()))

    def place(self, desired, params, placement, current):
        name = desired["name"]
        host = params.get("host")
        if desired.get("state") == "absent":
            return Placement(name, current, current, "absent")
        if host is not None:
            result = Placement(name, host, current, "pinned",
                               notes=["host: %s is fixed by the spec" % host])
        elif current is not None and current in placement["hosts"]:
            result = Placement(name, current, current, "sticky", notes=[
                "stays on %s, where it lives: placement never moves an existing instance (change host "
                "or placement.hosts to move it)" % current])
        else:
            request = request_of(desired, placement)
            hosts = [self._with_declared_pools(f) for f in self.cluster.facts(placement["hosts"], probe=self.probe)]
            decision = scheduler.schedule(request, hosts, planned=list(self.planned))
            if decision.host is None:
                err = InvalidSpec([("placement", decision.message())])
                err.details["placement"] = decision.to_dict()
                raise err
            notes = ["scheduled on %s (%s)" % (decision.host, placement["strategy"])]
            if current is not None:
                notes.append("its host %s is no longer a candidate: it moves" % current)
            result = Placement(name, decision.host, current, "scheduled", decision, notes)
        if result.how == "scheduled":
            made = sorted(set(request_of(desired, placement)["disks"]) & set(self.declared_pools.get(result.host, ())))
            if made:
                result.notes.append("pool%s %s: created by this run on %s, so its room is checked when the disks "
                                    "are made" % ("s" if len(made) > 1 else "", ", ".join(made), result.host))
        if result.current != result.host:
            self.planned.append((result.host, request_of(desired, placement or _default_placement(self.cluster.names))))
        return result


def _room_unknown(facts, pools):
    """``facts`` with the pools a run creates added (active, their room unknown: not limiting)."""
    have = set(p.get("name") for p in facts.get("pools") or [])
    extra = [{"name": p, "type": "to be created", "active": True, "capacity_bytes": None, "allocation_bytes": None,
              "available_bytes": _UNKNOWN_ROOM, "path": None} for p in sorted(pools) if p not in have]
    return dict(facts, pools=list(facts.get("pools") or []) + extra) if extra else facts


def _default_placement(names):
    placement = scheduler.normalize_placement({}, names)[0]
    placement["hosts"] = list(names)
    return placement


# ---- placement groups, kept in the domain's metadata ------------------------------------------

def wanted_groups(placement):
    if not placement:
        return {}
    return dict((f, placement[f]) for f in _GROUP_FIELDS if placement.get(f))


def read_groups(dom):
    import libvirt  # pylint: disable=import-outside-toplevel

    try:
        text = dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, hv_facts.PLACEMENT_NS,
                            libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    except libvirt.libvirtError:
        return {}
    root = ET.fromstring(text)
    return dict((f, root.get(f)) for f in _GROUP_FIELDS if root.get(f))


def write_groups(dom, groups):
    import libvirt  # pylint: disable=import-outside-toplevel

    flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG | (libvirt.VIR_DOMAIN_AFFECT_LIVE if dom.isActive() else 0)
    if not groups:
        dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, None, None, hv_facts.PLACEMENT_NS, flags)
        return
    elem = ET.Element("placement", dict((f, groups[f]) for f in _GROUP_FIELDS if groups.get(f)))
    dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, ET.tostring(elem, encoding="unicode"), "cvplace",
                    hv_facts.PLACEMENT_NS, flags)


# ---- one instance of a cluster ------------------------------------------------------------------

def split_params(params):
    """The instance planner's parameters (without the cluster options)."""
    return dict((k, v) for k, v in params.items() if k not in ("hypervisors", "host", "placement", "migration"))


class ClusterInstance(object):
    """Plan and apply one instance across the cluster: the unit both the module and the stack use.

    ``place``: its Placement (``Placer.place``)."""

    def __init__(self, cluster, planner, params, placement, place, progress=None, owner=None):
        self.cluster = cluster
        self.planner = planner
        self.params = params
        self.inner = split_params(params)
        self.placement_spec = placement
        self.desired = planner.normalize(self.inner)
        self.name = self.desired["name"]
        self.place = place
        self.owner = owner  # the stack that owns it, as marked on the host it lives on (stacks only)
        self.progress = progress or (lambda msg: None)
        self.migration = None
        self.plan = None

    @property
    def host(self):
        return self.place.host

    def _groups_change(self, backend, exists):
        want = wanted_groups(self.placement_spec)
        have = {}
        if exists:
            try:
                have = read_groups(backend.conn.lookupByName(self.name))
            except Exception:  # pylint: disable=broad-exception-caught
                have = {}
        if want == have or (not want and not exists):
            return None
        return Change("placement_groups", "update" if have else "add", have or None, want or None, LIVE)

    def make_plan(self, own_driver=False):
        """The plan, read-only.  ``own_driver``: read through drivers of its own (apply runs several
        instances of a stack in threads; the backend's shared drivers serve the planning pass)."""
        def driver(backend):
            return backend.new_driver("instance") if own_driver else backend.driver("instance")

        if self.place.host is None:  # absent and nowhere
            self.plan = Plan("instance", self.name, NONE, notes=["instance %s exists on no hypervisor" % self.name])
            return self.plan
        if not self.place.moves:
            backend = self.cluster.backend(self.place.host)
            plan = converge(self.planner, driver(backend), self.inner, check_mode=True).plan
            change = self._groups_change(backend, plan.before is not None) if plan.action != DELETE else None
            if change is not None:
                plan.changes.append(change)
                if plan.action == NONE:
                    plan.action = UPDATE
            self.plan = self._decorate(plan)
            return self.plan
        # It moves: the field-level changes are those of the spec against the instance as it is on
        # its current host; the migration itself comes first.
        source = self.cluster.backend(self.place.current)
        target = self.cluster.backend(self.place.host)
        plan = converge(self.planner, driver(source), self.inner, check_mode=True).plan
        requested = (self.params.get("migration") or {}).get("mode") or "auto"
        self.migration = hv_migrate.plan_migration(*hv_migrate.gather_inputs(source.conn, target.conn, self.name),
                                                   requested_mode=requested)
        if self.migration["problems"]:
            raise InvalidSpec([("host" if self.place.how == "pinned" else "placement",
                                "instance %s cannot move from %s to %s: %s" % (
                                    self.name, self.place.current, self.place.host,
                                    "; ".join(self.migration["problems"])))])
        move = Change("host", "update", self.place.current, self.place.host, LIVE)
        changes = [move] + list(plan.changes)
        change = self._groups_change(source, True)
        if change is not None:
            changes.append(change)
        notes = ["migrate %s from %s to %s: %s, storage %s" % (
            self.name, self.place.current, self.place.host, self.migration["mode"], self.migration["storage"])]
        notes += list(self.migration.get("reasons") or [])
        notes += list(plan.notes)
        after = dict(plan.after or {}, host=self.place.host)
        before = dict(plan.before or {}, host=self.place.current)
        self.plan = self._decorate(Plan("instance", self.name, UPDATE, changes, before=before, after=after,
                                        desired=plan.desired, notes=notes, facts=dict(plan.facts)))
        self.plan.facts["migration"] = dict((k, v) for k, v in self.migration.items() if k != "problems")
        return self.plan

    def _decorate(self, plan):
        plan.facts["host"] = self.place.host
        plan.facts["placement"] = self.place.to_dict()
        plan.notes = list(self.place.notes) + list(plan.notes)
        if plan.before is not None and "host" not in plan.before:
            plan.before = dict(plan.before, host=self.place.current)
        if plan.after is not None and "host" not in plan.after:
            plan.after = dict(plan.after, host=self.place.host)
        return plan

    def apply(self, check_mode):
        """Converge for real (``make_plan`` first).  Returns (plan, state, facts)."""
        if self.plan is None:
            self.make_plan(own_driver=True)
        if check_mode or self.plan.action == NONE:
            return self.plan, self.plan.after, {}
        facts = {}
        if self.place.moves:
            source = self.cluster.backend(self.place.current)
            target = self.cluster.backend(self.place.host)
            hypervisor = self.cluster.hypervisors[self.place.host]
            migration = self.params.get("migration") or {}
            self.progress("migrating %s from %s to %s (%s)" % (self.name, self.place.current, self.place.host,
                                                               self.migration["mode"]))
            # One migration at a time into a host: its migrate_uri (a socket, a port) takes one stream.
            with self.cluster.migration_lock(self.place.host):
                report = hv_migrate.migrate(source.conn, target.conn, self.name, migration.get("mode") or "auto",
                                            "auto", migrate_uri=hypervisor.get("migrate_uri"),
                                            disks_uri=hypervisor.get("disks_uri"),
                                            timeout=migration.get("timeout") or 600, progress=self.progress)
            facts["migration"] = report
        backend = self.cluster.backend(self.place.host)
        outcome = converge(self.planner, backend.new_driver("instance"), self.inner, check_mode=False)
        facts.update(outcome.facts)
        state = outcome.state
        if self.desired.get("state") != "absent":
            dom = backend.conn.lookupByName(self.name)
            want = wanted_groups(self.placement_spec)
            if read_groups(dom) != want:
                write_groups(dom, want)
        if isinstance(state, dict):
            state = dict(state, host=self.place.host)
        return self.plan, state, facts

    def outcome(self):
        """Apply for real, as an engine Outcome (what the stack's apply step expects)."""
        self.plan = None  # planned again against what is there now
        plan, state, facts = self.apply(check_mode=False)
        return Outcome(plan, state, applied=plan.changed, facts=facts)


def current_host(name, located):
    """The one host defining ``name`` (None: none); several is an error, never a guess."""
    hosts = located.get(name) or []
    if len(hosts) > 1:
        raise InvalidSpec([("name", "instance %s is defined on several hypervisors (%s): converge.virt will "
                                    "not guess which one is the instance; undefine the others"
                            % (name, ", ".join(sorted(hosts))))])
    return hosts[0] if hosts else None


def run_clustered_instance(module):
    """The instance module's run when ``hypervisors`` is given."""
    from ansible_collections.converge.virt.plugins.module_utils.resources.instance import InstancePlanner

    params = module.params
    hypervisors, problems = check_hypervisors(params.get("hypervisors"))
    if params.get("uri"):
        problems.append(("uri", "with hypervisors, each hypervisor has its own uri: leave uri out"))
    names = [h["name"] for h in hypervisors]
    placement = check_cluster_options(params, names, problems)
    if problems:
        raise InvalidSpec(problems)
    planner = InstancePlanner()
    planner.normalize(split_params(params))  # spec errors before any connection
    with Cluster(hypervisors, run_command=module.run_command) as cluster:
        desired = planner.normalize(split_params(params))
        current = current_host(desired["name"], cluster.locate([desired["name"]]))
        place = Placer(cluster).place(desired, params, placement, current)
        unit = ClusterInstance(cluster, planner, params, placement, place)
        unit.make_plan()
        plan, state, facts = unit.apply(module.check_mode)
    return plan, state, facts, unit
