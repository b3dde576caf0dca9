# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the placement scheduler: the placement option, each filter and its message,
the weighers (spread vs pack, soft groups), ``planned`` accumulation and determinism."""

from __future__ import annotations

import copy
import json
import random

import pytest

from ansible_collections.converge.virt.plugins.module_utils.hypervisors import scheduler
from ansible_collections.converge.virt.plugins.module_utils.hypervisors.scheduler import (
    DEFAULTS, normalize_placement, schedule)

GIB = 1024 ** 3
NAMES = ["hv1", "hv2", "hv3"]


def host(name, memory_mib=2048, cpus=2, committed_mib=0, committed_vcpus=0, instances=0, usable=("qemu",),
         advertised=("kvm", "qemu"), pools=None, affinity=None, anti_affinity=None):
    """A facts dict shaped like facts.gather() returns."""
    if pools is None:
        pools = [{"name": "default", "type": "dir", "active": True, "capacity_bytes": 100 * GIB,
                  "allocation_bytes": 0, "available_bytes": 100 * GIB, "path": "/var/lib/libvirt/images"}]
    return {
        "name": name, "uri": "qemu+unix:///system?socket=/run/%s/libvirt-sock" % name, "hostname": name,
        "host_uuid": "00000000-0000-0000-0000-%012d" % (sum(map(ord, name))), "libvirt_version": "9.0.0",
        "hypervisor": "QEMU", "hypervisor_version": "7.2.0",
        "domain_types": {"advertised": list(advertised), "usable": list(usable)},
        "cpu": {"arch": "x86_64", "model": "qemu64", "count": cpus, "sockets": 1, "cores": cpus, "threads": 1,
                "mhz": 2000},
        "numa": [{"cell": 0, "memory_mib": memory_mib, "free_mib": memory_mib, "cpus": list(range(cpus))}],
        "memory": {"total_mib": memory_mib, "free_mib": memory_mib - committed_mib},
        "committed": {"vcpus": committed_vcpus, "memory_mib": committed_mib, "running_vcpus": committed_vcpus,
                      "running_memory_mib": committed_mib},
        "instances": {"total": instances, "running": instances, "paused": 0, "shut_off": 0, "other": 0},
        "placement_groups": {"affinity": dict(affinity or {}), "anti_affinity": dict(anti_affinity or {})},
        "pools": pools,
    }


def placement(**options):
    normalized, problems = normalize_placement(options, NAMES)
    assert problems == []
    return normalized


def request(name="vm", memory_mib=128, vcpus=1, domain_type=None, disks=None, **options):
    return {"name": name, "vcpus": vcpus, "memory_mib": memory_mib, "domain_type": domain_type,
            "disks": {"default": GIB} if disks is None else disks, "placement": placement(**options)}


def three_sizes(cpus=(2, 2, 2)):
    """Three empty hosts of 1, 2 and 4 GiB."""
    return [host("hv1", 1024, cpus[0]), host("hv2", 2048, cpus[1]), host("hv3", 4096, cpus[2])]


def place_many(hosts, count, **options):
    """Place ``count`` instances one after another, each seeing the ones before as planned."""
    planned, order = [], []
    for index in range(count):
        req = request("vm%02d" % index, **options)
        decision = schedule(req, hosts, planned)
        order.append(decision.host)
        if decision.host is None:
            return order, decision
        planned.append((decision.host, req))
    return order, None


def by_host(decision):
    return {c["host"]: c for c in decision.candidates}


# ---- normalize_placement ---------------------------------------------------------------------------
def test_normalize_none_means_no_placement():
    assert normalize_placement(None, NAMES) == (None, [])


def test_normalize_empty_dict_gives_defaults():
    normalized, problems = normalize_placement({}, NAMES)
    assert problems == []
    assert normalized == DEFAULTS
    assert normalized["strategy"] == "spread" and normalized["cpu_allocation_ratio"] == 4.0
    assert normalized["ram_allocation_ratio"] == 1.0 and normalized["reserved_memory"] == 0


def test_normalize_full_value():
    normalized, problems = normalize_placement({
        "hosts": ["hv2", "hv1", "hv2"], "strategy": "pack", "affinity": "db", "anti_affinity": "web",
        "soft": "yes", "cpu_allocation_ratio": "8", "ram_allocation_ratio": 1.5, "reserved_memory": "512M",
        "domain_type": "qemu", "pool_free": {"pool": "default", "size": "1GiB"}}, NAMES)
    assert problems == []
    assert normalized == {
        "hosts": ["hv2", "hv1"], "strategy": "pack", "affinity": "db", "anti_affinity": "web", "soft": True,
        "cpu_allocation_ratio": 8.0, "ram_allocation_ratio": 1.5, "reserved_memory": 512 * 1024 ** 2,
        "domain_type": "qemu", "pool_free": {"pool": "default", "size": GIB}}


@pytest.mark.parametrize("size, expected", [("512M", 512 * 1024 ** 2), ("2G", 2 * GIB), ("1GiB", GIB),
                                            ("0", 0), (1048576, 1048576), ("1.5G", 3 * GIB // 2)])
def test_normalize_reserved_memory_sizes(size, expected):
    normalized, problems = normalize_placement({"reserved_memory": size}, NAMES)
    assert problems == []
    assert normalized["reserved_memory"] == expected


def test_normalize_single_host_string_and_no_name_check():
    normalized, problems = normalize_placement({"hosts": "elsewhere"}, None)
    assert problems == [] and normalized["hosts"] == ["elsewhere"]


@pytest.mark.parametrize("value, field, words", [
    pytest.param({"hosts": ["hv1", "hv9"]}, "placement.hosts",
                 ["'hv9'", "not in the hypervisor list", "known: hv1, hv2, hv3"], id="unknown-host"),
    pytest.param({"hosts": ["hv8", "hv9"]}, "placement.hosts", ["'hv8', 'hv9' are not"], id="unknown-hosts"),
    pytest.param({"hosts": []}, "placement.hosts", ["empty"], id="empty-hosts"),
    pytest.param({"hosts": {"a": 1}}, "placement.hosts", ["list"], id="hosts-not-list"),
    pytest.param({"hosts": ["hv1", 3]}, "placement.hosts[1]", ["not a hypervisor name"], id="host-not-str"),
    pytest.param({"strategy": "balanced"}, "placement.strategy", ["'balanced'", "spread or pack"], id="strategy"),
    pytest.param({"reserved_memory": "lots"}, "placement.reserved_memory", ["not a size"], id="size"),
    pytest.param({"reserved_memory": "5X"}, "placement.reserved_memory", ["unknown unit"], id="size-unit"),
    pytest.param({"cpu_allocation_ratio": 0}, "placement.cpu_allocation_ratio", ["greater than 0"], id="ratio-0"),
    pytest.param({"ram_allocation_ratio": -1.0}, "placement.ram_allocation_ratio", ["greater than 0"],
                 id="ratio-negative"),
    pytest.param({"ram_allocation_ratio": "many"}, "placement.ram_allocation_ratio", ["not a number"],
                 id="ratio-text"),
    pytest.param({"ram_allocation_ratio": True}, "placement.ram_allocation_ratio", ["not a number"],
                 id="ratio-bool"),
    pytest.param({"cpu_allocation_ratio": float("inf")}, "placement.cpu_allocation_ratio", ["greater than 0"],
                 id="ratio-inf"),
    pytest.param({"domain_type": "lxc"}, "placement.domain_type", ["'lxc'", "kvm, qemu, xen"], id="domain-type"),
    pytest.param({"soft": "maybe"}, "placement.soft", ["not a boolean"], id="soft"),
    pytest.param({"affinity": "a b"}, "placement.affinity", ["not a group name"], id="group-name"),
    pytest.param({"anti_affinity": ""}, "placement.anti_affinity", ["not a group name"], id="group-empty"),
    pytest.param({"affinity": "g", "anti_affinity": "g"}, "placement", ["both affinity and anti_affinity"],
                 id="contradiction"),
    pytest.param({"pool_free": "10G"}, "placement.pool_free", ["{pool, size}"], id="pool-free-type"),
    pytest.param({"pool_free": {"pool": "default"}}, "placement.pool_free.size", ["required"],
                 id="pool-free-no-size"),
    pytest.param({"pool_free": {"size": "1G"}}, "placement.pool_free.pool", ["required"], id="pool-free-no-pool"),
    pytest.param({"pool_free": {"pool": "default", "size": "big"}}, "placement.pool_free.size", ["not a size"],
                 id="pool-free-bad-size"),
    pytest.param({"pool_free": {"pool": "default", "size": "1G", "x": 1}}, "placement.pool_free",
                 ["unknown key(s) x"], id="pool-free-unknown"),
    pytest.param({"stratgy": "pack"}, "placement", ["unknown key(s) stratgy", "known: hosts"], id="unknown-key"),
    pytest.param(["hv1"], "placement", ["must be a dict", "list"], id="not-a-dict"),
])
def test_normalize_problems(value, field, words):
    normalized, problems = normalize_placement(value, NAMES)
    assert len(problems) == 1, problems
    assert problems[0][0] == field
    for word in words:
        assert word in problems[0][1], (word, problems[0][1])


def test_normalize_reports_every_problem_at_once():
    _normalized, problems = normalize_placement({"hosts": ["hv9"], "strategy": "x", "reserved_memory": "y",
                                                 "ram_allocation_ratio": 0}, NAMES)
    assert sorted(field for field, _message in problems) == [
        "placement.hosts", "placement.ram_allocation_ratio", "placement.reserved_memory", "placement.strategy"]


# ---- spread and pack -------------------------------------------------------------------------------
def test_spread_picks_the_emptiest_and_pack_the_fullest_host():
    assert schedule(request(strategy="spread"), three_sizes()).host == "hv3"
    assert schedule(request(strategy="pack"), three_sizes()).host == "hv1"


def test_spread_prefers_the_less_loaded_host_in_proportion():
    hosts = [host("hv1", 4096, committed_mib=3072, instances=3), host("hv2", 1024)]
    assert schedule(request(strategy="spread"), hosts).host == "hv2"
    assert schedule(request(strategy="pack"), hosts).host == "hv1"


@pytest.mark.parametrize("cpus", [(2, 2, 2), (1, 2, 4), (8, 8, 8)])
def test_thirty_instances_spread_in_proportion_to_host_size(cpus):
    order, failure = place_many(three_sizes(cpus), 30, strategy="spread", cpu_allocation_ratio=16)
    assert failure is None
    counts = {name: order.count(name) for name in NAMES}
    assert sum(counts.values()) == 30
    # 1 : 2 : 4 GiB -> about 4.3 : 8.6 : 17.1 instances; every host takes part, none is full.
    assert 3 <= counts["hv1"] <= 6 and 7 <= counts["hv2"] <= 10 and 15 <= counts["hv3"] <= 19, counts
    assert counts["hv1"] < counts["hv2"] < counts["hv3"]
    assert counts["hv1"] * 128 < 1024
    # Spread interleaves: the small host is used early, not only once the big ones are full.
    assert "hv1" in order[:10]


def test_thirty_instances_spread_evenly_on_equal_hosts():
    hosts = [host("hv1", 4096, 4), host("hv2", 4096, 4), host("hv3", 4096, 4)]
    order, failure = place_many(hosts, 30, strategy="spread")
    assert failure is None
    assert {name: order.count(name) for name in NAMES} == {"hv1": 10, "hv2": 10, "hv3": 10}
    # Round robin from the first name, since equal weights go to the smallest name.
    assert order[:3] == ["hv1", "hv2", "hv3"]


def test_thirty_instances_pack_fill_one_host_before_the_next():
    order, failure = place_many(three_sizes(), 30, strategy="pack", cpu_allocation_ratio=16)
    assert failure is None
    # hv1 holds 8 x 128 MiB, hv2 16; the rest goes to hv3, and each host is full before the next starts.
    assert order == ["hv1"] * 8 + ["hv2"] * 16 + ["hv3"] * 6


def test_pack_fills_to_the_vcpu_limit_too():
    hosts = [host("hv1", 4096, cpus=1), host("hv2", 8192, cpus=4)]
    order, failure = place_many(hosts, 6, strategy="pack", cpu_allocation_ratio=2)
    assert failure is None
    assert order == ["hv1", "hv1", "hv2", "hv2", "hv2", "hv2"]


def test_running_out_of_room_everywhere_explains_each_host():
    order, failure = place_many(three_sizes(), 40, strategy="spread", cpu_allocation_ratio=4)
    assert order[-1] is None and len(order) == 25  # 3 hosts x 2 CPUs x 4 = 24 vCPUs
    lines = failure.explain()
    assert lines == [
        "hv1: rejected: RAM: needs 128 MiB, 1024 of 1024 MiB committed (ratio 1.0; 1024 MiB of it planned in "
        "this run); vCPU: needs 1, 8 of 8 committed (2 CPUs x ratio 4.0; 8 of them planned in this run)",
        "hv2: rejected: vCPU: needs 1, 8 of 8 committed (2 CPUs x ratio 4.0; 8 of them planned in this run)",
        "hv3: rejected: vCPU: needs 1, 8 of 8 committed (2 CPUs x ratio 4.0; 8 of them planned in this run)",
    ]
    message = failure.message()
    assert message.startswith("no hypervisor can take instance 'vm24' (128 MiB RAM, 1 vCPU, 1.0 GiB in pool "
                              "default; strategy spread):\n  hv1: rejected: RAM")


# ---- RAM, vCPU, ratios, reserved memory -------------------------------------------------------------
def test_ram_filter_message_matches_the_example():
    hosts = [host("hv1", 2048, committed_mib=1800, anti_affinity={"web": ["web1"]})]
    decision = schedule(request("web2", memory_mib=512, anti_affinity="web"), hosts)
    assert decision.host is None
    assert decision.explain() == ["hv1: rejected: anti-affinity group web already has web1 here; "
                                  "RAM: needs 512 MiB, 1800 of 2048 MiB committed (ratio 1.0)"]


def test_ram_fits_exactly_at_the_limit():
    hosts = [host("hv1", 2048, committed_mib=1536)]
    decision = schedule(request(memory_mib=512), hosts)
    assert decision.host == "hv1"
    assert by_host(decision)["hv1"]["figures"]["memory_mib"]["free_after"] == 0
    assert schedule(request(memory_mib=513), hosts).host is None


def test_ram_allocation_ratio_allows_overcommit():
    hosts = [host("hv1", 2048, committed_mib=1800)]
    assert schedule(request(memory_mib=512), hosts).host is None
    decision = schedule(request(memory_mib=512, ram_allocation_ratio=1.5), hosts)
    assert decision.host == "hv1"
    assert by_host(decision)["hv1"]["figures"]["memory_mib"]["limit"] == 3072
    decision = schedule(request(memory_mib=1400, ram_allocation_ratio=1.5), hosts)
    assert decision.explain() == ["hv1: rejected: RAM: needs 1400 MiB, 1800 of 3072 MiB committed "
                                  "(2048 MiB x ratio 1.5)"]


def test_reserved_memory_is_kept_free():
    hosts = [host("hv1", 2048, committed_mib=1200)]
    assert schedule(request(memory_mib=512), hosts).host == "hv1"
    decision = schedule(request(memory_mib=512, reserved_memory="512M"), hosts)
    assert decision.host is None
    assert decision.explain() == ["hv1: rejected: RAM: needs 512 MiB, 1200 of 1536 MiB committed "
                                  "(2048 MiB x ratio 1.0 - 512 MiB reserved)"]
    figures = by_host(decision)["hv1"]["figures"]["memory_mib"]
    assert figures == {"total": 2048, "ratio": 1.0, "reserved": 512, "limit": 1536, "committed": 1200,
                       "planned": 0, "request": 512, "free_after": -176}


def test_vcpu_filter_and_cpu_allocation_ratio():
    hosts = [host("hv1", 8192, cpus=2, committed_vcpus=2)]
    decision = schedule(request(vcpus=1, cpu_allocation_ratio=1.0), hosts)
    assert decision.explain() == ["hv1: rejected: vCPU: needs 1, 2 of 2 committed (2 CPUs x ratio 1.0)"]
    assert schedule(request(vcpus=6, cpu_allocation_ratio=4.0), hosts).host == "hv1"
    decision = schedule(request(vcpus=7, cpu_allocation_ratio=4.0), hosts)
    assert decision.explain() == ["hv1: rejected: vCPU: needs 7, 2 of 8 committed (2 CPUs x ratio 4.0)"]
    decision = schedule(request(vcpus=2, cpu_allocation_ratio=1.5), [host("hv1", 8192, cpus=1)])
    assert decision.explain() == ["hv1: rejected: vCPU: needs 2, 0 of 1.5 committed (1 CPU x ratio 1.5)"]


def test_planned_instances_add_to_the_load():
    hosts = [host("hv1", 1024)]
    first = request("a", memory_mib=768)
    assert schedule(first, hosts).host == "hv1"
    decision = schedule(request("b", memory_mib=512), hosts, planned=[("hv1", first)])
    assert decision.host is None
    assert "768 MiB of it planned in this run" in decision.explain()[0]
    # Planned on a host that is not a candidate does not matter here.
    assert schedule(request("b", memory_mib=512), hosts, planned=[("elsewhere", first)]).host == "hv1"


# ---- every failing filter is reported ---------------------------------------------------------------
def test_every_failing_filter_is_listed():
    hosts = [host("hv1", 1024, cpus=1, committed_vcpus=4, usable=("qemu",),
                  pools=[{"name": "default", "active": True, "available_bytes": GIB // 2}]),
             host("hv2", 4096, cpus=4, usable=("kvm", "qemu"))]
    decision = schedule(request(memory_mib=2048, vcpus=2, domain_type="kvm", disks={"default": GIB},
                                hosts=["hv2"]), hosts)
    assert decision.host == "hv2"
    assert by_host(decision)["hv1"]["reasons"] == [
        "not in placement.hosts (hv2)",
        "domain type kvm is not usable here (advertised, but the probe failed); usable: qemu",
        "RAM: needs 2048 MiB, 0 of 1024 MiB committed (ratio 1.0)",
        "vCPU: needs 2, 4 of 4 committed (1 CPU x ratio 4.0)",
        "pool default: needs 1.0 GiB, 0.5 GiB available",
    ]


def test_host_without_facts_is_rejected_with_the_error():
    hosts = [{"name": "hv1", "error": "cannot connect to qemu+ssh://root@hv1/system: Connection refused"},
             host("hv2")]
    decision = schedule(request(), hosts)
    assert decision.host == "hv2"
    assert decision.explain()[0] == ("hv1: rejected: host facts unavailable: cannot connect to "
                                     "qemu+ssh://root@hv1/system: Connection refused")
    assert by_host(decision)["hv1"]["figures"] == {}


def test_hosts_option_limits_the_candidates():
    decision = schedule(request(hosts=["hv1", "hv2"]), three_sizes())
    assert decision.host == "hv2"
    assert by_host(decision)["hv3"]["reasons"] == ["not in placement.hosts (hv1, hv2)"]


# ---- domain type -----------------------------------------------------------------------------------
def test_domain_type_filter():
    hosts = [host("hv1", usable=("qemu",)), host("hv2", usable=("kvm", "qemu")),
             host("hv3", usable=("xen",), advertised=("xen",))]
    assert schedule(request(domain_type="kvm"), hosts).host == "hv2"
    decision = schedule(request(domain_type="qemu"), hosts)
    assert decision.host == "hv1"
    assert by_host(decision)["hv2"]["verdict"] == "eligible"
    decision = schedule(dict(request(), placement=placement(domain_type="xen")), hosts)
    assert decision.host == "hv3"
    assert by_host(decision)["hv1"]["reasons"] == ["domain type xen is not usable here; usable: qemu"]
    decision = schedule(request(domain_type="kvm"), [host("hv1", usable=("qemu",))])
    assert decision.explain() == ["hv1: rejected: domain type kvm is not usable here (advertised, but the probe "
                                  "failed); usable: qemu"]


def test_host_with_no_usable_domain_type_is_rejected():
    decision = schedule(request(), [host("hv1", usable=())])
    assert decision.explain() == ["hv1: rejected: no usable domain type (advertised: kvm, qemu, none works)"]


def test_instance_and_placement_domain_types_must_both_be_usable():
    hosts = [host("hv1", usable=("kvm", "qemu"))]
    decision = schedule(dict(request(domain_type="kvm"), placement=placement(domain_type="qemu")), hosts)
    assert decision.host == "hv1"
    assert by_host(decision)["hv1"]["figures"]["domain_types"]["required"] == ["kvm", "qemu"]
    decision = schedule(dict(request(domain_type="qemu"), placement=placement(domain_type="xen")), hosts)
    assert decision.host is None


# ---- pools -----------------------------------------------------------------------------------------
def _pools(available_gib=10.0, active=True, name="default"):
    return [{"name": name, "type": "dir", "active": active, "available_bytes": int(available_gib * GIB)}]


def test_pool_filter_missing_inactive_and_full():
    hosts = [host("hv1", pools=_pools(name="other")), host("hv2", pools=_pools(active=False)),
             host("hv3", pools=_pools(2.5)), host("hv4", pools=_pools(10))]
    decision = schedule(request(disks={"default": 5 * GIB}), hosts)
    assert decision.host == "hv4"
    assert decision.explain()[:3] == [
        "hv1: rejected: pool default does not exist here",
        "hv2: rejected: pool default is not active",
        "hv3: rejected: pool default: needs 5.0 GiB, 2.5 GiB available",
    ]
    assert by_host(decision)["hv4"]["figures"]["pools"]["default"]["free_after_bytes"] == 5 * GIB


def test_pool_free_keeps_space_beyond_the_new_disks():
    hosts = [host("hv1", pools=_pools(7.5))]
    assert schedule(request(disks={"default": 5 * GIB}), hosts).host == "hv1"
    decision = schedule(request(disks={"default": 5 * GIB}, pool_free={"pool": "default", "size": "5G"}), hosts)
    assert decision.explain() == ["hv1: rejected: pool default: needs 5.0 GiB + 5.0 GiB to keep free, "
                                  "7.5 GiB available"]


def test_pool_free_applies_to_a_pool_without_new_disks():
    hosts = [host("hv1", pools=_pools(10) + _pools(1, name="backup")), host("hv2", pools=_pools(10))]
    decision = schedule(request(pool_free={"pool": "backup", "size": "2G"}), hosts)
    assert decision.host is None
    assert decision.explain() == ["hv1: rejected: pool backup: needs 0.0 GiB + 2.0 GiB to keep free, "
                                  "1.0 GiB available",
                                  "hv2: rejected: pool backup does not exist here"]


def test_planned_disks_use_up_the_pool():
    hosts = [host("hv1", 8192, pools=_pools(10))]
    first = request("a", disks={"default": 6 * GIB})
    decision = schedule(request("b", disks={"default": 6 * GIB}), hosts, planned=[("hv1", first)])
    assert decision.explain() == ["hv1: rejected: pool default: needs 6.0 GiB, 4.0 GiB available "
                                  "(6.0 GiB of 10.0 GiB taken by disks planned in this run)"]


# ---- anti-affinity and affinity (hard) ------------------------------------------------------------
def test_anti_affinity_four_members_on_three_hosts():
    hosts = three_sizes()
    order, failure = place_many(hosts, 4, anti_affinity="web", strategy="spread")
    assert sorted(order[:3]) == NAMES and order[3] is None
    by_name = dict(zip(order[:3], ("vm00", "vm01", "vm02")))
    assert failure.explain() == [
        "%s: rejected: anti-affinity group web already has %s (planned in this run) here" % (name, by_name[name])
        for name in NAMES]
    assert all(c["verdict"] == "rejected" for c in failure.candidates)


def test_anti_affinity_counts_existing_members():
    hosts = [host("hv1", anti_affinity={"web": ["web1"]}), host("hv2", anti_affinity={"web": ["web2", "web3"]}),
             host("hv3", 1024, anti_affinity={"db": ["db1"]})]
    decision = schedule(request("web4", anti_affinity="web"), hosts)
    assert decision.host == "hv3"
    assert decision.explain()[:2] == ["hv1: rejected: anti-affinity group web already has web1 here",
                                      "hv2: rejected: anti-affinity group web already has web2, web3 here"]


def test_own_name_is_not_a_member():
    hosts = [host("hv1", anti_affinity={"web": ["web1"]})]
    assert schedule(request("web1", anti_affinity="web"), hosts).host == "hv1"


def test_affinity_follows_the_existing_members():
    hosts = [host("hv1", 1024), host("hv2", 2048, affinity={"db": ["db1", "db2"]}), host("hv3", 4096)]
    decision = schedule(request("db3", affinity="db"), hosts)
    assert decision.host == "hv2"
    assert by_host(decision)["hv3"]["reasons"] == ["affinity group db lives on hv2 (db1, db2)"]
    assert decision.notes == []


def test_affinity_first_member_goes_where_the_weighers_say_and_the_rest_follow():
    order, failure = place_many(three_sizes(), 5, affinity="db", strategy="spread")
    assert failure is None and order == ["hv3"] * 5


def test_affinity_host_full_means_no_host():
    hosts = [host("hv1", 1024, committed_mib=1000, affinity={"db": ["db1"]}), host("hv2", 4096)]
    decision = schedule(request("db2", affinity="db"), hosts)
    assert decision.host is None
    assert decision.explain() == [
        "hv1: rejected: RAM: needs 128 MiB, 1000 of 1024 MiB committed (ratio 1.0)",
        "hv2: rejected: affinity group db lives on hv1 (db1)",
    ]


def test_affinity_split_group_is_named():
    hosts = [host("hv1", affinity={"db": ["db1"]}), host("hv2", affinity={"db": ["db2"]}), host("hv3")]
    decision = schedule(request("db3", affinity="db"), hosts)
    assert decision.host in ("hv1", "hv2")
    assert by_host(decision)["hv3"]["reasons"] == [
        "affinity group db is split across hv1 (db1), hv2 (db2); this host holds none of it"]
    assert decision.notes == ["affinity group db is already split across hv1 (db1), hv2 (db2); "
                              "only those hosts qualify"]
    assert decision.to_dict()["notes"] == decision.notes


def test_group_members_on_hosts_outside_placement_hosts_still_count():
    hosts = [host("hv1", affinity={"db": ["db1"]}), host("hv2")]
    decision = schedule(request("db2", affinity="db", hosts=["hv2"]), hosts)
    assert decision.host is None
    assert by_host(decision)["hv2"]["reasons"] == ["affinity group db lives on hv1 (db1)"]


# ---- soft groups ----------------------------------------------------------------------------------
def test_soft_anti_affinity_places_the_fourth_member_on_the_least_crowded_host():
    order, failure = place_many(three_sizes(), 4, anti_affinity="web", soft=True)
    assert failure is None
    assert sorted(order[:3]) == NAMES
    assert order[3] == "hv3"  # every host has one; the weighers decide by load


def test_soft_anti_affinity_outweighs_spread():
    hosts = [host("hv1", 1024), host("hv2", 8192, anti_affinity={"web": ["web1"]})]
    decision = schedule(request("web2", anti_affinity="web", soft=True), hosts)
    assert decision.host == "hv1"
    assert by_host(decision)["hv2"]["verdict"] == "eligible"
    assert by_host(decision)["hv2"]["reasons"] == []


def test_soft_affinity_prefers_the_members_host_but_does_not_fail():
    hosts = [host("hv1", 1024, affinity={"db": ["db1"]}), host("hv2", 8192)]
    assert schedule(request("db2", affinity="db", soft=True), hosts).host == "hv1"
    assert schedule(request("db2", affinity="db", soft=False), hosts).host == "hv1"
    hosts[0] = host("hv1", 1024, committed_mib=1000, affinity={"db": ["db1"]})
    assert schedule(request("db2", affinity="db", soft=False), hosts).host is None
    decision = schedule(request("db2", affinity="db", soft=True), hosts)
    assert decision.host == "hv2"
    assert decision.notes == []


def test_soft_split_affinity_gives_no_note():
    hosts = [host("hv1", affinity={"db": ["db1"]}), host("hv2", affinity={"db": ["db2"]}), host("hv3")]
    decision = schedule(request("db3", affinity="db", soft=True), hosts)
    assert decision.host in ("hv1", "hv2") and decision.notes == []


# ---- determinism, ties, shape -----------------------------------------------------------------------
def test_same_result_whatever_the_host_order():
    hosts = [host("hv1", 1024, committed_mib=100, anti_affinity={"web": ["web1"]}),
             host("hv2", 2048, committed_mib=700, instances=2), host("hv3", 4096, committed_mib=2900, instances=5),
             host("hv4", 3072, usable=("kvm",)), {"name": "hv5", "error": "unreachable"}]
    req = request("web2", memory_mib=256, anti_affinity="web")
    planned = [("hv2", request("web3", anti_affinity="web"))]
    expected = schedule(req, hosts, planned).to_dict()
    rng = random.Random(8)
    for _attempt in range(20):
        shuffled = list(hosts)
        rng.shuffle(shuffled)
        assert schedule(req, shuffled, planned).to_dict() == expected
    assert [c["host"] for c in expected["candidates"]] == ["hv1", "hv2", "hv3", "hv4", "hv5"]


def test_thirty_instances_same_sequence_whatever_the_host_order():
    reference, _failure = place_many(three_sizes(), 30, cpu_allocation_ratio=16)
    for seed in range(5):
        hosts = three_sizes()
        random.Random(seed).shuffle(hosts)
        assert place_many(hosts, 30, cpu_allocation_ratio=16)[0] == reference


def test_ties_go_to_the_first_name():
    hosts = [host("hv-b"), host("hv-c"), host("hv-a")]
    decision = schedule(request(), hosts)
    assert decision.host == "hv-a"
    assert [c["weight"] for c in decision.candidates] == [0.0, 0.0, 0.0]
    assert [c["verdict"] for c in decision.candidates] == ["chosen", "eligible", "eligible"]


def test_inputs_are_not_modified():
    hosts = three_sizes()
    req = request(anti_affinity="web")
    planned = [("hv1", request("x", anti_affinity="web"))]
    before = copy.deepcopy((hosts, req, planned))
    schedule(req, hosts, planned)
    assert (hosts, req, planned) == before


def test_decision_shape():
    hosts = [host("hv2", 4096), host("hv1", 1024, cpus=1), host("hv0", 384)]
    decision = schedule(request("vm1", memory_mib=512, vcpus=2), hosts)
    data = decision.to_dict()
    json.dumps(data)
    assert set(data) == {"host", "strategy", "request", "candidates", "notes"}
    assert data["host"] == "hv2" and data["strategy"] == "spread"
    assert data["request"] == {"name": "vm1", "vcpus": 2, "memory_mib": 512, "domain_type": None,
                               "disks": {"default": GIB}, "affinity": None, "anti_affinity": None}
    assert [c["host"] for c in data["candidates"]] == ["hv0", "hv1", "hv2"]
    hv0, hv1, hv2 = data["candidates"]
    assert hv0["verdict"] == "rejected" and hv0["weight"] is None
    assert hv1["verdict"] == "eligible" and hv2["verdict"] == "chosen"
    assert hv2["weight"] > hv1["weight"]
    assert set(hv2) == {"host", "verdict", "reasons", "weight", "figures"}
    assert set(hv2["figures"]) == {"domain_types", "memory_mib", "vcpus", "pools", "instances", "groups", "weights"}
    assert hv2["figures"]["vcpus"] == {"count": 2, "ratio": 4.0, "limit": 8, "committed": 0, "planned": 0,
                                       "request": 2, "free_after": 6}
    assert isinstance(hv2["figures"]["vcpus"]["limit"], int) and isinstance(hv2["figures"]["memory_mib"]["limit"], int)
    for cand in (hv1, hv2):
        for weigher in cand["figures"]["weights"].values():
            assert 0.0 <= weigher["normalized"] <= 1.0
        total = sum(w["multiplier"] * w["normalized"] for w in cand["figures"]["weights"].values())
        assert cand["weight"] == pytest.approx(total)
    assert set(hv2["figures"]["weights"]) == {"ram", "vcpu", "instances"}
    lines = decision.explain()
    assert lines[0] == "hv0: rejected: RAM: needs 512 MiB, 0 of 384 MiB committed (ratio 1.0)"
    assert lines[2].startswith("hv2: chosen, weight 1.25 (RAM 3584 of 4096 MiB free after placement, "
                               "vCPU 6 of 8 free, 0 instances)")
    assert decision.message().startswith("instance 'vm1' goes to hv2 (strategy spread):\n  hv0: rejected")


def test_soft_weights_appear_only_with_soft():
    hosts = [host("hv1", anti_affinity={"web": ["w1"]}), host("hv2")]
    soft = schedule(request(anti_affinity="web", soft=True), hosts)
    assert "soft_anti_affinity" in by_host(soft)["hv1"]["figures"]["weights"]
    assert by_host(soft)["hv1"]["figures"]["weights"]["soft_anti_affinity"]["multiplier"] == -10.0
    hard = schedule(request(anti_affinity="web"), hosts)
    assert "soft_anti_affinity" not in by_host(hard)["hv2"]["figures"]["weights"]


def test_single_eligible_host_has_weight_zero():
    decision = schedule(request(), [host("hv1")])
    assert decision.host == "hv1" and decision.candidates[0]["weight"] == 0.0


def test_no_hosts_at_all():
    decision = schedule(request("vm1"), [])
    assert decision.host is None and decision.candidates == [] and decision.explain() == []
    assert "the hypervisor list is empty" in decision.message()


def test_placement_none_uses_defaults():
    req = dict(request(), placement=None)
    assert schedule(req, three_sizes()).host == "hv3"


def test_duplicate_host_names_are_a_programming_error():
    with pytest.raises(ValueError, match="listed twice"):
        schedule(request(), [host("hv1"), host("hv1")])


def test_weighers_table_is_consistent():
    # pack flips the sign of the load weighers only; soft group weighers keep theirs.
    for name in ("ram", "vcpu", "instances"):
        spread, pack = scheduler.WEIGHERS[name]
        assert spread == -pack != 0
    assert abs(scheduler.WEIGHERS["vcpu"][0]) < scheduler.WEIGHERS["ram"][0]
