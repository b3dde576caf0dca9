# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stack's pure parts: document validation, references, the graph, and a run (plan, apply,
ownership, prune, failures) against an in-memory backend whose planners follow the engine's rules."""

from __future__ import annotations

import contextlib
import threading

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Driver, Planner
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import BackendError, Conflict, InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, NONE, REPLACE, UPDATE, Field, Plan, compare, merge,
)
from ansible_collections.converge.virt.plugins.module_utils.stack import document
from ansible_collections.converge.virt.plugins.module_utils.stack.graph import Graph
from ansible_collections.converge.virt.plugins.module_utils.stack.refs import references
from ansible_collections.converge.virt.plugins.module_utils.stack.run import StackRun

LIBVIRT_KINDS = ("network", "pool", "image", "volume", "instance")


def parse(resources, backend="libvirt", kinds=LIBVIRT_KINDS):
    return document.parse(resources, backend, kinds)[0]


def problems_of(excinfo):
    return dict(excinfo.value.problems)


# ---- document ------------------------------------------------------------------------------------
def test_parse_gives_keys_defaults_and_scopes():
    resources = parse([
        {"kind": "pool", "name": "lab", "path": "/var/tmp/lab"},
        {"kind": "volume", "name": "disk", "pool": "lab", "size": "1G"},
        {"kind": "network", "name": "net", "depends_on": "pool/lab"},
    ])
    assert [r.key for r in resources] == ["pool/lab", "volume/lab/disk", "network/net"]
    assert resources[1].ident == ("volume", "lab", "disk")
    assert resources[2].params["autostart"] is True  # the module's default
    assert resources[2].depends_on == ["pool/lab"]
    assert "kind" not in resources[2].params and "depends_on" not in resources[2].params


def test_parse_reports_every_problem_at_once():
    with pytest.raises(InvalidSpec) as excinfo:
        parse([
            {"kind": "router", "name": "r"},
            {"kind": "keypair", "name": "k"},
            {"kind": "network", "name": "n", "uri": "qemu:///system"},
            {"kind": "image", "name": "i", "pool": "p", "src": "/x"},
            {"kind": "network", "name": "m", "mtu": "big"},
            {"kind": "network", "name": "n2"},
            {"kind": "network", "name": "n2"},
            {"kind": "network", "name": "n3", "subnets": [{"cidr": "10.0.0.0/24"}]},
            "not a dict",
            {"kind": "network", "name": "n4", "ipv4": {"dhcp": False}},
        ])
    found = problems_of(excinfo)
    assert "must be one of" in found["resources[0].kind"]
    assert "not managed by the libvirt backend" in found["resources[1].kind"]
    assert "belong to the stack" in found["resources[2] (network n).uri"]
    assert "controller file" in found["resources[3] (image i).src"]
    assert "mtu" in found["resources[4] (network m)"]
    assert "declared twice" in found["resources[6] (network/n2)"]
    assert "openstack backend" in found["resources[7] (network n3).subnets"]
    assert "must be a dictionary" in found["resources[8]"]
    assert "wrong type" in found["resources[9] (network n4)"]


def test_parse_collects_secrets_for_masking():
    _resources, secrets = document.parse([
        {"kind": "instance", "name": "vm", "cloud_init": {"user_data": "#cloud-config\npassword: hunter2"}},
    ], "libvirt", LIBVIRT_KINDS)
    assert any("hunter2" in str(s) for s in secrets)


def test_stack_name_rules():
    problems = []
    document.check_stack_name("ok-name_1.2", problems)
    document.check_stack_name("no/slash", problems)
    document.check_stack_name("x" * 41, problems)
    document.check_stack_name(None, problems)
    document.check_stack_name("..", problems)
    assert len(problems) == 4


def test_floating_ip_is_named_by_address_or_server():
    resources = parse([{"kind": "floating_ip", "server": "web", "network": "public"}], "openstack", ("floating_ip",))
    assert resources[0].key == "floating_ip/web"


# ---- references and graph -------------------------------------------------------------------------
def test_instance_references_on_libvirt():
    (vm,) = parse([{"kind": "instance", "name": "vm", "pool": "lab",
                    "disks": [{"volume": "root"}, {"image": "base.qcow2", "size": "2G", "image_pool": "images"}],
                    "nics": [{"network": "net"}]}])
    refs = dict((field, ident) for field, ident in references("libvirt", "instance", vm.params)
                if ident[0] != "volume" or field != "disks[1].image")
    assert refs["disks[0].volume"] == ("volume", "lab", "root")
    assert refs["disks[1].image"] == ("image", "images", "base.qcow2")
    assert refs["nics[0].network"] == ("network", None, "net")


def test_instance_references_on_openstack():
    (vm,) = parse([{"kind": "instance", "name": "vm", "image": "cirros", "key_name": "me",
                    "security_groups": ["web"], "nics": [{"network": "net"}]}], "openstack", ("instance",))
    kinds = sorted(ident[0] for _f, ident in references("openstack", "instance", vm.params))
    assert kinds == ["image", "keypair", "network", "security_group"]


def test_graph_orders_dependencies_first_and_keeps_document_order():
    resources = parse([
        {"kind": "instance", "name": "vm", "disks": [{"volume": "root", "pool": "lab"}], "nics": [{"network": "net"}]},
        {"kind": "network", "name": "net"},
        {"kind": "volume", "name": "root", "pool": "lab", "size": "1G"},
        {"kind": "pool", "name": "lab", "path": "/var/tmp/lab"},
        {"kind": "network", "name": "other"},
    ])
    graph = Graph(resources, "libvirt")
    order = graph.order()
    assert order.index("pool/lab") < order.index("volume/lab/root") < order.index("instance/vm")
    assert order.index("network/net") < order.index("instance/vm")
    assert graph.deps["instance/vm"] == {"network/net", "volume/lab/root", "pool/lab"}
    assert graph.users("pool/lab") == {"volume/lab/root", "instance/vm"}


def test_graph_refuses_cycles_and_undeclared_depends_on():
    resources = parse([
        {"kind": "network", "name": "a", "depends_on": ["network/b"]},
        {"kind": "network", "name": "b", "depends_on": ["network/c"]},
        {"kind": "network", "name": "c", "depends_on": ["network/a"]},
        {"kind": "network", "name": "d", "depends_on": ["network/nowhere", "network/d"]},
    ])
    with pytest.raises(InvalidSpec) as excinfo:
        Graph(resources, "libvirt")
    text = str(excinfo.value)
    assert "dependency cycle: network/a (depends_on) -> network/b (depends_on) -> network/c (depends_on) -> network/a" in text
    assert "'network/nowhere' is not declared" in text
    assert "cannot depend on itself" in text


# ---- a run against an in-memory backend ----------------------------------------------------------
class MemPlanner(Planner):
    """Networks have an mtu (live); instances a memory and networks (live) and a machine (create-only)."""

    def __init__(self, kind):
        self.kind = kind
        self.schema = {"mtu": Field(LIVE), "machine": Field(REPLACE), "memory": Field(LIVE),
                       "nets": Field(LIVE)}

    def normalize(self, params):
        if params.get("mtu") == 1:
            raise InvalidSpec([("mtu", "too small")])
        desired = {"name": params["name"], "state": params.get("state")}
        if self.kind == "network":
            desired.update(mtu=params.get("mtu"))
        else:
            desired.update(memory=params.get("memory"), nets=[n["network"] for n in params.get("nics") or []] or None,
                           machine=params.get("machine"), recreate=bool(params.get("recreate")))
        return desired

    def plan(self, desired, world):
        current = world.current
        if desired["state"] == "absent":
            return Plan(self.kind, desired["name"], DELETE if current else NONE, before=current)
        for net in desired.get("nets") or []:
            if net not in world.store["network"]:
                raise InvalidSpec([("nics[0].network", "network %r does not exist" % net)])
        if current is None:
            return Plan(self.kind, desired["name"], CREATE, after=dict(desired), desired=desired)
        changes = compare(desired, current, self.schema)
        if any(c.effect == REPLACE for c in changes) and not desired.get("recreate"):
            raise Conflict("machine is create-only: set recreate")
        return Plan(self.kind, desired["name"], UPDATE if changes else NONE, changes, before=current,
                    after=merge(current, desired, self.schema), desired=desired)


class World(object):
    def __init__(self, current, store):
        self.current = current
        self.store = store


class MemDriver(Driver):
    def __init__(self, backend, kind):
        self.backend = backend
        self.kind = kind

    def observe(self, name, desired=None):
        self.backend.reads += 1
        return World(self.backend.store[self.kind].get(name), self.backend.store)

    def apply(self, plan):
        with self.backend.lock:
            self.backend.applied.append((self.kind, plan.name, plan.action))
        if plan.name in self.backend.fail:
            raise BackendError("boom")
        if self.backend.busy.get(plan.name):
            self.backend.busy[plan.name] -= 1
            raise Conflict("is in use")
        if plan.action == DELETE:
            del self.backend.store[self.kind][plan.name]
        else:
            state = dict(plan.desired)
            state.pop("recreate", None)
            self.backend.store[self.kind][plan.name] = state
        return {}

    def list(self, names=None):
        return [v for k, v in self.backend.store[self.kind].items() if names is None or k in names]


class MemOwnership(object):
    MARKABLE = frozenset(["network", "instance"])

    def __init__(self, backend):
        self.backend = backend

    def scan(self, kinds):
        return dict((i, s) for i, s in self.backend.marks.items() if i[0] in kinds and i[2] in self.backend.store[i[0]])

    def mark(self, kind, scope, name, stack):
        self.backend.marks[(kind, scope, name)] = stack

    def unmark(self, kind, scope, name, stack):
        self.backend.marks.pop((kind, scope, name), None)


class MemBackend(object):
    def __init__(self):
        self.store = {"network": {}, "instance": {}}
        self.marks = {}
        self.applied = []
        self.fail = set()
        self.busy = {}
        self.reads = 0
        self.batched = 0
        self.lock = threading.Lock()

    def planner(self, kind):
        return MemPlanner(kind)

    def driver(self, kind):
        return MemDriver(self, kind)

    new_driver = driver

    def ownership(self):
        return MemOwnership(self)

    @contextlib.contextmanager
    def batch_reads(self):
        self.batched += 1
        yield


def run(backend, resources, check=False, **options):
    opts = dict(state="present", prune=False, adopt=False, parallel=4, retries=3)
    opts.update(options)
    parsed = parse(resources)
    stack = StackRun(backend, "lab", parsed, Graph(parsed, "libvirt"), opts)
    stack.plan()
    if not check and stack.changed(applied=False):
        stack.apply()
    return stack


LAB = [
    {"kind": "instance", "name": "vm", "memory": "128M", "nics": [{"network": "net"}]},
    {"kind": "network", "name": "net", "mtu": 1400},
]


def test_first_run_plans_dependents_of_new_resources_and_applies_in_order():
    backend = MemBackend()
    planned = run(backend, LAB, check=True)
    summary = planned.summary()
    assert summary["create"] == ["network/net", "instance/vm"]
    vm = [e for e in planned.entries if e.key == "instance/vm"][0]
    assert vm.pending == ["network/net"] and "planned again once network/net exists" in vm.plan.notes[0]
    assert backend.applied == [] and backend.batched == 1
    applied = run(backend, LAB)
    assert applied.changed(applied=True)
    assert [a[:2] for a in backend.applied] == [("network", "net"), ("instance", "vm")]
    assert backend.marks == {("network", None, "net"): "lab", ("instance", None, "vm"): "lab"}
    again = run(backend, LAB, check=True)
    assert not again.changed(applied=False) and again.summary()["unchanged"] == ["network/net", "instance/vm"]


def test_a_change_touches_only_its_resource_and_replace_needs_recreate():
    backend = MemBackend()
    run(backend, LAB)
    changed = [dict(LAB[0]), dict(LAB[1], mtu=9000)]
    summary = run(backend, changed, check=True).summary()
    assert summary["update_in_place"] == ["network/net"] and summary["unchanged"] == ["instance/vm"]
    with pytest.raises(InvalidSpec) as excinfo:
        run(backend, [dict(LAB[0], machine="pc"), LAB[1]], check=True)
    assert "create-only" in str(excinfo.value)
    summary = run(backend, [dict(LAB[0], machine="pc", recreate=True), LAB[1]], check=True).summary()
    assert summary["replace"] == [{"resource": "instance/vm", "reason": "create-only: machine"}]


def test_unowned_resources_are_refused_then_adopted():
    backend = MemBackend()
    backend.store["network"]["net"] = {"name": "net", "state": "present", "mtu": 1400, "domain": None}
    with pytest.raises(InvalidSpec) as excinfo:
        run(backend, LAB)
    assert "this stack does not own it: set adopt: true" in str(excinfo.value)
    assert backend.applied == []
    backend.marks[("network", None, "net")] = "other"
    with pytest.raises(InvalidSpec) as excinfo:
        run(backend, LAB, adopt=True)
    assert "belongs to the stack other" in str(excinfo.value)
    del backend.marks[("network", None, "net")]
    adopted = run(backend, LAB, adopt=True)
    assert adopted.summary()["adopt"] == ["network/net"]
    assert backend.marks[("network", None, "net")] == "lab"
    assert not run(backend, LAB, check=True).changed(applied=False)


def test_prune_deletes_only_owned_undeclared_resources_users_first():
    backend = MemBackend()
    run(backend, LAB + [{"kind": "network", "name": "extra"}])
    backend.store["network"]["handmade"] = {"name": "handmade"}
    pruned = run(backend, [LAB[1]], prune=True)
    assert pruned.summary()["delete"] == ["instance/vm", "network/extra"]
    assert set(backend.store["network"]) == {"net", "handmade"}
    assert ("network", None, "extra") not in backend.marks
    run(backend, [LAB[1], {"kind": "network", "name": "extra"}])
    kept = run(backend, [LAB[1]], check=True)
    assert kept.summary()["delete"] == []  # without prune nothing undeclared is touched


def test_state_absent_deletes_everything_owned_and_nothing_else():
    backend = MemBackend()
    run(backend, LAB)
    backend.store["network"]["handmade"] = {"name": "handmade"}
    gone = run(backend, LAB, state="absent")
    assert [a[:2] for a in backend.applied[-2:]] == [("instance", "vm"), ("network", "net")]
    assert gone.summary()["delete"] == ["instance/vm", "network/net"]
    assert list(backend.store["network"]) == ["handmade"] and backend.marks == {}
    assert not run(backend, LAB, state="absent", check=True).changed(applied=False)


def test_a_failure_leaves_the_rest_converged_and_skips_its_dependents():
    backend = MemBackend()
    backend.fail.add("net")
    resources = LAB + [{"kind": "network", "name": "side"}]
    failed = run(backend, resources)
    results = dict((e.key, e.result) for e in failed.entries)
    assert results == {"network/net": "failed", "instance/vm": "not_attempted", "network/side": "done"}
    assert "side" in backend.store["network"] and "vm" not in backend.store["instance"]
    backend.fail.clear()
    resumed = run(backend, resources)
    assert resumed.summary()["create"] == ["network/net", "instance/vm"]
    assert resumed.summary()["unchanged"] == ["network/side"]


def test_in_use_errors_are_retried(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda _s: None)
    backend = MemBackend()
    backend.busy["net"] = 2
    done = run(backend, [LAB[1]])
    assert [e.result for e in done.entries] == ["done"]
    backend.busy["other"] = 5
    failed = run(backend, [LAB[1], {"kind": "network", "name": "other"}], retries=1)
    assert [e.result for e in failed.entries] == [None, "failed"]  # the first was unchanged


def test_a_missing_reference_is_excused_only_when_it_is_a_dependency_this_run_creates():
    class Strict(MemPlanner):
        def plan(self, desired, world):
            missing = [n for n in desired.get("nets") or [] if n not in world.store["network"]]
            if missing:
                raise InvalidSpec([("nics[%d].network" % i, "network %r does not exist" % n) for i, n in enumerate(missing)])
            return MemPlanner.plan(self, desired, world)

    backend = MemBackend()
    backend.planner = Strict
    with pytest.raises(InvalidSpec) as excinfo:
        run(backend, [dict(LAB[0], nics=[{"network": "net"}, {"network": "elsewhere"}]), LAB[1]], check=True)
    assert "'elsewhere' does not exist" in str(excinfo.value) and "'net'" not in str(excinfo.value)


def test_spec_errors_are_never_excused_by_a_pending_dependency():
    backend = MemBackend()
    with pytest.raises(InvalidSpec) as excinfo:
        run(backend, [LAB[0], dict(LAB[1], mtu=1), {"kind": "instance", "name": "lost", "nics": [{"network": "nowhere"}]}],
            check=True)
    text = str(excinfo.value)
    assert "too small" in text and "'nowhere' does not exist" in text


def test_document_problems_and_cycles_are_reported_together():
    raw = [
        {"kind": "network", "name": "a", "depends_on": ["network/b"]},
        {"kind": "network", "name": "b", "depends_on": ["network/a", "network/bad"]},
        {"kind": "network", "name": "bad", "mtu": "huge"},
    ]
    problems = []
    resources, _secrets = document.parse(raw, "libvirt", LIBVIRT_KINDS, problems)
    Graph(resources, "libvirt", problems, document.declared_keys(raw))
    text = "; ".join("%s: %s" % p for p in problems)
    assert "resources[2] (network bad)" in text and "mtu" in text
    assert "dependency cycle" in text
    assert "not declared" not in text  # network/bad is declared, only invalid
