# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stack over many libvirt hosts (the stack's ``hypervisors`` option).

* Networks, pools, images and volumes go on every hypervisor, or on those their ``hosts`` lists.
* Each instance goes on its ``host``, or where the scheduler places it (``placement``), among the
  hosts that have everything it refers to.  Placement is sticky: an instance that exists stays.
  Instances are placed in dependency order, each counting as load for the next.
* An instance whose host changes is migrated (``hypervisors/cluster.py``), never re-created.
* Then each host is planned and applied by its own ``StackRun`` (its connection, its lock, its
  ownership marks); every host's creations and updates run before any host's deletions, so an
  instance has left a host before that host's networks are pruned.

Resource keys in the result carry the host: ``network/lab@hv1``.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.hypervisors.cluster import (
    Cluster,
    ClusterInstance,
    Placer,
    check_cluster_options,
    current_host,
    split_params,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.instance import InstancePlanner
from ansible_collections.converge.virt.plugins.module_utils.stack.graph import Graph
from ansible_collections.converge.virt.plugins.module_utils.stack.lock import stack_lock
from ansible_collections.converge.virt.plugins.module_utils.stack.run import StackRun

CLUSTER_ONLY = ("host", "placement", "migration")


def check_single_host(resources, problems):
    """Without hypervisors, the multi-host keys mean nothing: say so rather than ignore them."""
    for resource in resources:
        if resource.hosts is not None:
            problems.append((resource.where() + ".hosts", "needs the stack's hypervisors option"))
        if resource.kind == "instance":
            for option in CLUSTER_ONLY:
                if resource.params.get(option) is not None:
                    problems.append((resource.where() + "." + option, "needs the stack's hypervisors option"))


class MultiHostRun(object):
    """Plan and apply one stack over the hypervisors of a Cluster."""

    def __init__(self, stack, hypervisors, resources, graph, options, problems):
        self.stack = stack
        self.hypervisors = hypervisors
        self.names = [h["name"] for h in hypervisors]
        self.resources = resources
        self.graph = graph
        self.options = options
        self.runs = []          # (host, StackRun)
        self.placements = {}    # instance name -> Placement
        self.hosts_of = {}      # key -> hosts of a non-instance resource
        self.placement_of = {}  # key -> normalized placement of an instance (None: pinned)
        for resource in resources:
            if resource.kind == "instance":
                self.placement_of[resource.key] = check_cluster_options(resource.params, self.names, problems,
                                                                        resource.where())
                continue
            hosts = resource.hosts
            if hosts is None or hosts == ["all"]:
                hosts = list(self.names)
            unknown = [h for h in hosts if h not in self.names]
            if unknown:
                problems.append((resource.where() + ".hosts", "%s %s not among the hypervisors (%s)" % (
                    ", ".join(unknown), "is" if len(unknown) == 1 else "are", ", ".join(self.names))))
            self.hosts_of[resource.key] = [h for h in self.names if h in hosts]
        for resource in resources:  # a resource needs its dependencies on each of its hosts
            if resource.kind == "instance":
                continue
            for dep in sorted(graph.deps.get(resource.key, ())):
                missing = [h for h in self.hosts_of[resource.key] if h not in self.hosts_of.get(dep, self.names)]
                if dep in self.hosts_of and missing:
                    problems.append((resource.where(), "depends on %s, which is not on %s" % (dep, ", ".join(missing))))

    # ---- plan ----------------------------------------------------------------------------------
    def _candidates(self, resource, placement):
        deps = [d for d in self.graph.deps.get(resource.key, ()) if d in self.hosts_of]
        hosts = [h for h in placement["hosts"] if all(h in self.hosts_of[d] for d in deps)]
        left_out = [h for h in placement["hosts"] if h not in hosts]
        return hosts, left_out, deps

    def plan(self, cluster, problems):
        present = self.options["state"] == "present"
        instances = [self.graph.resources[k] for k in self.graph.order()
                     if self.graph.resources[k].kind == "instance"]
        located = cluster.locate([r.name for r in instances]) if instances else {}
        pools = dict((h, set(r.name for r in self.resources if r.kind == "pool" and h in self.hosts_of[r.key]))
                     for h in self.names)
        placer = Placer(cluster, declared_pools=pools)
        planner = InstancePlanner()
        per_host = dict((h, []) for h in self.names)
        units = dict((h, {}) for h in self.names)
        keep = dict((h, set()) for h in self.names)
        owners = {}
        for resource in self.resources:
            if resource.kind != "instance":
                for host in self.hosts_of[resource.key]:
                    per_host[host].append(resource)
        for resource in instances if present else []:
            where = resource.where()
            try:
                desired = planner.normalize(split_params(resource.params))
                current = current_host(resource.name, located)
            except InvalidSpec as err:
                problems.extend(("%s.%s" % (where, f), m) for f, m in err.problems)
                continue
            placement = self.placement_of[resource.key]
            pinned = resource.params.get("host")
            notes = []
            if placement is not None:
                hosts, left_out, deps = self._candidates(resource, placement)
                if left_out:
                    notes.append("not a candidate: %s (lack%s %s, declared on other hosts only)" % (
                        ", ".join(left_out), "s" if len(left_out) == 1 else "", ", ".join(sorted(deps))))
                if not hosts:
                    problems.append((where + ".placement", "no candidate hypervisor has everything the instance "
                                                           "refers to (%s)" % ", ".join(sorted(deps))))
                    continue
                placement = dict(placement, hosts=hosts)
            try:
                place = placer.place(desired, resource.params, placement, current)
            except InvalidSpec as err:
                problems.extend(("%s.%s" % (where, f), m) for f, m in err.problems)
                continue
            place.notes = notes + place.notes
            missing = [d for d in self.graph.deps.get(resource.key, ())
                       if d in self.hosts_of and place.host not in self.hosts_of[d]]
            if pinned and missing:
                problems.append((where + ".host", "%s lacks %s (declared on other hosts only)"
                                 % (pinned, ", ".join(sorted(missing)))))
                continue
            self.placements[resource.name] = place
            if place.host is None:  # declared absent and defined nowhere: nothing to do
                units.setdefault(None, {})[resource.key] = None
                continue
            if place.moves:
                owners.setdefault(place.current, set()).add(resource.name)
                keep[place.current].add(("instance", None, resource.name))
            per_host[place.host].append(resource)
            units[place.host][resource.key] = (resource, placement, place)
        placed = set(k for u in units.values() for k in u)
        units.pop(None, None)
        for other in [r for r in instances if r.key not in placed] if present else []:
            if not any(p[0] == other.where() or p[0].startswith(other.where() + ".") for p in problems):
                problems.append((other.where(), "could not be placed"))
        if problems:
            return
        marks = {}
        for host, names in owners.items():
            scanned = cluster.backend(host).ownership().scan(["instance"])
            marks.update(((n, host), scanned.get(("instance", None, n))) for n in names)
        for host in self.names:
            sub = per_host[host]
            graph = Graph(sub, "libvirt", problems, set(r.key for r in sub))
            host_units = {}
            for key, (resource, placement, place) in units[host].items():
                host_units[key] = ClusterInstance(cluster, planner, resource.params, placement, place,
                                                  owner=marks.get((resource.name, place.current)))
            run = StackRun(cluster.backend(host), self.stack, sub, graph, self.options, units=host_units,
                           keep=keep[host])
            try:
                run.plan()
            except InvalidSpec as err:
                problems.extend(("%s: %s" % (host, f), m) for f, m in err.problems)
            self.runs.append((host, run))

    # ---- apply ---------------------------------------------------------------------------------
    def apply(self):
        todo = [(h, r) for h, r in self.runs if r.changed(applied=False)]
        if not todo:
            return
        with ThreadPoolExecutor(max_workers=len(todo)) as pool:
            list(pool.map(lambda item: item[1].apply("ups"), todo))
            list(pool.map(lambda item: item[1].apply("downs"), todo))

    # ---- result --------------------------------------------------------------------------------
    @property
    def entries(self):
        """Every host's entries, their keys suffixed with the host (after planning or applying)."""
        result = []
        for host, run in self.runs:
            for entry in run.entries:
                if not entry.key.endswith("@" + host):
                    entry.key = "%s@%s" % (entry.key, host)
                    entry.deps = set("%s@%s" % (d, host) for d in entry.deps)
                    if entry.pending:
                        entry.pending = ["%s@%s" % (d, host) for d in entry.pending]
                result.append(entry)
        return result

    def summary(self):
        merged = {}
        for host, run in self.runs:
            for key, values in run.summary().items():
                for value in values:
                    if isinstance(value, dict):
                        value = dict(value, resource=_on(value["resource"], host))
                    else:
                        value = _on(value, host)
                    merged.setdefault(key, []).append(value)
        return merged

    @property
    def warnings(self):
        return ["%s: %s" % (host, note) for host, run in self.runs for note in run.warnings]

    def changed(self, applied):
        return any(run.changed(applied) for _h, run in self.runs)

    def placement_report(self):
        return dict((name, place.to_dict()) for name, place in sorted(self.placements.items()))


@contextlib.contextmanager
def host_locks(stack, hypervisors, timeout):
    """The stack's lock on every hypervisor, taken in a fixed order (no deadlock between two runs)."""
    from ansible_collections.converge.virt.plugins.module_utils.libvirt.ownership import hypervisor_slug

    with contextlib.ExitStack() as locks:
        for target in sorted(set("libvirt:%s" % hypervisor_slug(h["uri"]) for h in hypervisors)):
            locks.enter_context(stack_lock(stack, target, timeout))
        yield


def run_multi_host(module, params, resources, graph, hypervisors, options, problems):
    """Plan, then (unless check mode) apply; returns the MultiHostRun."""
    multi = MultiHostRun(params["name"], hypervisors, resources, graph, options, problems)
    if problems:
        raise InvalidSpec(problems)
    with Cluster(hypervisors, run_command=module.run_command) as cluster:
        with host_locks(params["name"], hypervisors, params["lock_timeout"]):
            multi.plan(cluster, problems)
            if problems:
                raise InvalidSpec(problems)
            if not module.check_mode and multi.changed(applied=False):
                multi.apply()
    return multi


def _on(key, host):
    return key if key.endswith("@" + host) else "%s@%s" % (key, host)
