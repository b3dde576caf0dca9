# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the cluster layer's pure parts: the host/placement/migration options, the
scheduler's request, placement decisions (pinned, sticky, scheduled, refused) over fake host
facts, and a multi-host stack's document checks (hosts of each resource, dependencies)."""

from __future__ import annotations

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.hypervisors.cluster import (
    Placer,
    check_cluster_options,
    current_host,
    request_of,
    split_params,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.instance import InstancePlanner
from ansible_collections.converge.virt.plugins.module_utils.stack import document
from ansible_collections.converge.virt.plugins.module_utils.stack.graph import Graph
from ansible_collections.converge.virt.plugins.module_utils.stack.multihost import MultiHostRun, check_single_host

NAMES = ["hv1", "hv2", "hv3"]
GIB = 1024 ** 3


def facts(name, memory_mib, cpus, committed_mib=0, groups=None):
    return {
        "name": name, "uri": "test:///%s" % name, "hostname": name, "host_uuid": name,
        "libvirt_version": "9.0.0", "hypervisor": "QEMU", "hypervisor_version": "7.2.0",
        "domain_types": {"advertised": ["kvm", "qemu"], "usable": ["qemu"]},
        "cpu": {"arch": "x86_64", "model": "qemu64", "count": cpus, "sockets": 1, "cores": cpus, "threads": 1,
                "mhz": 2000},
        "numa": [{"cell": 0, "memory_mib": memory_mib, "free_mib": memory_mib, "cpus": list(range(cpus))}],
        "memory": {"total_mib": memory_mib, "free_mib": memory_mib - committed_mib},
        "committed": {"vcpus": 0, "memory_mib": committed_mib, "running_vcpus": 0, "running_memory_mib": 0},
        "instances": {"total": 0, "running": 0, "paused": 0, "shut_off": 0, "other": 0},
        "placement_groups": groups or {"affinity": {}, "anti_affinity": {}},
        "pools": [{"name": "default", "type": "dir", "active": True, "capacity_bytes": 100 * GIB,
                   "allocation_bytes": 0, "available_bytes": 100 * GIB, "path": "/var/lib/libvirt/images"}],
    }


class FakeCluster(object):
    """What Placer needs of a Cluster: the names and the facts (counted, to prove reads are shared)."""

    def __init__(self, hosts):
        self.names = [h["name"] for h in hosts]
        self._facts = dict((h["name"], h) for h in hosts)
        self.reads = 0

    def facts(self, names, probe=True):
        self.reads += 1
        return [self._facts[n] for n in names]


def three():
    return FakeCluster([facts("hv1", 2048, 2), facts("hv2", 4096, 4), facts("hv3", 8192, 8)])


def desired(name="vm", memory="512M", **extra):
    params = dict(name=name, state="stopped", virt_type="qemu", memory=memory)
    params.update(extra)
    return InstancePlanner().normalize(params)


def placement(value=None):
    problems = []
    result = check_cluster_options({"placement": value}, NAMES, problems)
    assert problems == []
    return result


# ---- options -------------------------------------------------------------------------------------

def test_options_default_to_every_host_and_spread():
    result = placement()
    assert result["hosts"] == NAMES and result["strategy"] == "spread"


def test_host_and_placement_together_are_refused():
    problems = []
    check_cluster_options({"host": "hv1", "placement": {"strategy": "pack"}}, NAMES, problems, "resources[2]")
    assert [f for f, _m in problems] == ["resources[2].host"]
    assert "not both" in problems[0][1]


def test_unknown_host_and_bad_placement_are_named():
    problems = []
    check_cluster_options({"host": "hv9"}, NAMES, problems)
    check_cluster_options({"placement": {"hosts": ["hv1", "nope"], "strategy": "fill"}}, NAMES, problems)
    check_cluster_options({"host": "hv1", "migration": {"timeout": 0}}, NAMES, problems)
    fields = [f for f, _m in problems]
    assert "host" in fields and "migration.timeout" in fields
    assert any("nope" in m for _f, m in problems)
    assert any(f == "placement.strategy" for f in fields)


def test_request_counts_new_disks_per_pool_and_defaults():
    want = desired(memory=None, disks=[{"size": "1G", "pool": "fast"}, {"size": "2G"}, {"volume": "x", "pool": "p"}],
                   pool="slow", virt_type="auto")
    request = request_of(want, placement())
    assert request["vcpus"] == 1 and request["memory_mib"] == 512
    assert request["disks"] == {"fast": GIB, "slow": 2 * GIB}
    assert request["domain_type"] is None


def test_split_params_drops_cluster_options():
    assert split_params({"name": "a", "host": "hv1", "placement": {}, "hypervisors": [], "migration": {}}) == {"name": "a"}


def test_an_instance_on_two_hosts_is_an_error_not_a_guess():
    assert current_host("a", {"a": ["hv2"]}) == "hv2"
    assert current_host("b", {"a": ["hv2"]}) is None
    with pytest.raises(InvalidSpec) as err:
        current_host("a", {"a": ["hv1", "hv3"]})
    assert "hv1, hv3" in str(err.value)


# ---- placement -------------------------------------------------------------------------------

def test_spread_chooses_the_roomiest_host_and_pack_the_tightest():
    assert Placer(three()).place(desired(), {}, placement(), None).host == "hv3"
    assert Placer(three()).place(desired(), {}, placement({"strategy": "pack"}), None).host == "hv1"


def test_sticky_an_existing_instance_stays_even_if_another_host_weighs_more():
    cluster = three()
    place = Placer(cluster).place(desired(), {}, placement({"strategy": "spread"}), "hv1")
    assert (place.host, place.how, place.moves) == ("hv1", "sticky", False)
    assert cluster.reads == 0  # no facts needed to keep it where it is
    assert "never moves" in place.notes[0]


def test_removing_its_host_from_the_candidates_moves_it():
    place = Placer(three()).place(desired(), {}, placement({"hosts": ["hv2", "hv3"], "strategy": "pack"}), "hv1")
    assert (place.current, place.host, place.how, place.moves) == ("hv1", "hv2", "scheduled", True)
    assert any("no longer a candidate" in n for n in place.notes)


def test_pinned_host_wins_and_a_change_of_it_is_a_move():
    place = Placer(three()).place(desired(), {"host": "hv2"}, None, "hv1")
    assert (place.host, place.how, place.moves) == ("hv2", "pinned", True)


def test_absent_targets_where_it_lives():
    place = Placer(three()).place(desired(state="absent"), {}, placement(), "hv2")
    assert (place.host, place.how) == ("hv2", "absent")


def test_instances_of_one_run_count_as_load_and_group_members():
    cluster = three()
    placer = Placer(cluster)
    anti = placement({"anti_affinity": "web"})
    hosts = [placer.place(desired("web%d" % i, memory="128M"), {}, anti, None).host for i in range(3)]
    assert sorted(hosts) == NAMES
    with pytest.raises(InvalidSpec) as err:
        placer.place(desired("web3", memory="128M"), {}, anti, None)
    message = str(err.value)
    assert "no hypervisor can take instance 'web3'" in message
    for name in NAMES + ["web0", "web1", "web2"]:
        assert name in message
    assert err.value.details["placement"]["candidates"]


def test_existing_members_from_host_facts_count():
    cluster = FakeCluster([facts("hv1", 2048, 2, groups={"affinity": {}, "anti_affinity": {"db": ["db0"]}}),
                           facts("hv2", 4096, 4), facts("hv3", 8192, 8,
                                                        groups={"affinity": {}, "anti_affinity": {"db": ["db1"]}})])
    assert Placer(cluster).place(desired("db2"), {}, placement({"anti_affinity": "db"}), None).host == "hv2"


def test_too_big_for_every_host_names_the_memory_figures():
    with pytest.raises(InvalidSpec) as err:
        Placer(three()).place(desired(memory="12G"), {}, placement(), None)
    assert "MiB" in str(err.value)


# ---- a multi-host stack's document --------------------------------------------------------

def parse(resources):
    problems = []
    parsed, _secrets = document.parse(resources, "libvirt", ("network", "pool", "image", "volume", "instance"),
                                      problems)
    graph = Graph(parsed, "libvirt", problems, document.declared_keys(resources))
    return parsed, graph, problems


HYPERVISORS = [{"name": n, "uri": "test:///%s" % n} for n in NAMES]
OPTIONS = dict(state="present", prune=False, adopt=False, parallel=4, retries=0)


def test_resources_go_on_every_host_unless_hosts_says_otherwise():
    parsed, graph, problems = parse([
        {"kind": "network", "name": "lab", "forward": "isolated"},
        {"kind": "pool", "name": "p", "path": "/var/tmp/p", "hosts": ["hv2", "hv3"]},
        {"kind": "pool", "name": "q", "path": "/var/tmp/q", "hosts": "all"},
    ])
    assert problems == []
    multi = MultiHostRun("s", HYPERVISORS, parsed, graph, OPTIONS, problems)
    assert problems == []
    assert multi.hosts_of == {"network/lab": NAMES, "pool/p": ["hv2", "hv3"], "pool/q": NAMES}


def test_unknown_hosts_and_dependencies_missing_on_a_host_are_problems():
    parsed, graph, problems = parse([
        {"kind": "pool", "name": "p", "path": "/var/tmp/p", "hosts": ["hv1"]},
        {"kind": "volume", "name": "v", "pool": "p", "size": "1M", "hosts": ["hv1", "hv2"]},
        {"kind": "network", "name": "n", "forward": "isolated", "hosts": ["hv7"]},
        {"kind": "instance", "name": "i", "host": "hv9"},
    ])
    assert problems == []
    MultiHostRun("s", HYPERVISORS, parsed, graph, OPTIONS, problems)
    text = "\n".join("%s: %s" % p for p in problems)
    assert "hv7 is not among the hypervisors" in text
    assert "depends on pool/p, which is not on hv2" in text
    assert "'hv9' is not one of the hypervisors" in text


def test_instances_take_host_or_placement_not_hosts():
    _parsed, _graph, problems = parse([{"kind": "instance", "name": "i", "hosts": ["hv1"]},
                                       {"kind": "instance", "name": "j", "hypervisors": HYPERVISORS}])
    text = "\n".join("%s: %s" % p for p in problems)
    assert "an instance lives on one host" in text
    assert "the hypervisors belong to the stack" in text


def test_without_hypervisors_the_multi_host_keys_are_refused():
    parsed, _graph, problems = parse([{"kind": "pool", "name": "p", "path": "/var/tmp/p", "hosts": ["hv1"]},
                                      {"kind": "instance", "name": "i", "placement": {"strategy": "pack"}}])
    assert problems == []
    check_single_host(parsed, problems)
    assert sorted(f for f, _m in problems) == ["resources[0] (pool/p).hosts", "resources[1] (instance/i).placement"]
    assert all("needs the stack's hypervisors option" in m for _f, m in problems)
