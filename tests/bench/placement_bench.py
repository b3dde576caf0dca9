#!/usr/bin/env python
"""Benchmark: placing and converging N small instances across three libvirt hosts with ONE
converge.virt.stack task, the hosts coming from an Ansible inventory group.

The hosts are the repo's simulated hypervisors (tests/hosts/start.sh: three libvirtd, each in its
own namespaces, sized 2 CPUs/2 GiB, 4/4 GiB and 8/8 GiB).  The inventory lists them in a group
``hypervisors`` with their ``converge_virt_uri``; the stack task says ``hypervisors: hypervisors``.
The hosts are stopped at the end.
The stack: one isolated network on every host and N instances (``qemu``/TCG, 1 vCPU, 128 MiB by
default, no disk, one NIC), each placed by the scheduler (``placement: {strategy: ...}``), started
unless ``--defined-only``.

For each strategy (spread, then pack): the first run, a ``--check`` run and a no-op run, each with
its wall time and changed count, the time the scheduler and the planning took (the task's), and the
number of instances per host; then the stack is removed (timed too: the instances declared absent
with ``stop_timeout: 0``, as their guests run no OS that would shut down, then the stack absent).  Times are printed, never
asserted; the exit status is non-zero when a playbook fails, when a no-op or check run after
converging reports a change, or when an instance is not where the plan said.

    python tests/bench/placement_bench.py --venv VENV --collections COLLECTIONS_ROOT [-n 30]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

from benchlib import run_playbook_output

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOSTS_DIR = "/var/tmp/cvtpb-hosts"
PREFIX = "cvtpb"
NAME = "cvt-pb-"

PLAYBOOK = """
- name: The placement benchmark's stack
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  environment:
    CONVERGE_VIRT_STATE_DIR: "{{ state_dir }}"
  tasks:
    - name: Converge the stack over the inventory group's hypervisors
      converge.virt.stack:
        name: cvt-pb
        hypervisors: hypervisors
        src: "{{ stack_file }}"
        state: "{{ stack_state | default('present') }}"
        parallel: 8
      register: r
    - name: Report
      check_mode: false
      ansible.builtin.copy:
        dest: "{{ result_file }}"
        content: "{{ {'changed': r.changed, 'placement': r.placement | default({}), 'summary': r.summary} | to_json }}"
        mode: "0600"
"""


def hosts(args):
    subprocess.run(["bash", os.path.join(ROOT, "tests", "hosts", "start.sh"), HOSTS_DIR, PREFIX], check=True,
                   stdout=sys.stderr)
    with open(os.path.join(HOSTS_DIR, "hosts.json")) as handle:
        return json.load(handle)


def inventory(hypervisors, path):
    lines = ["all:", "  children:", "    hypervisors:", "      hosts:"]
    for hv in hypervisors:
        lines.append("        %s:" % hv["name"])
        for key in ("uri", "migrate_uri", "disks_uri"):
            lines.append("          converge_virt_%s: %s" % (key, json.dumps(hv[key])))
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def stack(args, strategy, path, absent=False):
    resources = [{"kind": "network", "name": NAME + "net", "forward": "isolated", "bridge": "cvtpb-br0",
                  "ipv4": {"address": "10.84.0.1/24"}}]
    for index in range(args.n):
        resources.append({
            "kind": "instance", "name": "%svm-%02d" % (NAME, index), "virt_type": "qemu", "vcpus": 1,
            "memory": args.memory, "state": "stopped" if args.defined_only else "running",
            "nics": [{"network": NAME + "net"}], "guest_agent": False,
            "placement": {"strategy": strategy},
        })
        if absent:  # declared absent, the guests (which run no OS to shut down) are stopped at once
            resources[-1].update(state="absent", stop_timeout=0)
    with open(path, "w") as handle:
        json.dump({"name": "cvt-pb", "resources": resources}, handle)


def run(args, playbook, inv, stack_file, state_dir, extra=(), state="present"):
    result_file = os.path.join(os.path.dirname(playbook), "result.json")
    if os.path.exists(result_file):
        os.unlink(result_file)
    elapsed, _output = run_playbook_output(args, playbook, {"stack_file": stack_file, "state_dir": state_dir,
                                                            "stack_state": state, "result_file": result_file},
                                           extra=["-i", inv] + list(extra))
    with open(result_file) as handle:
        return elapsed, json.load(handle)


def where(hypervisors):
    """Instances of the benchmark per host, as libvirt lists them."""
    import libvirt  # pylint: disable=import-outside-toplevel

    counts = {}
    for hv in hypervisors:
        conn = libvirt.open(hv["uri"])
        try:
            counts[hv["name"]] = sorted(d.name() for d in conn.listAllDomains(0) if d.name().startswith(NAME))
        finally:
            conn.close()
    return counts


def clean(hypervisors):
    """Remove what an interrupted earlier run left (its ledger went with its temporary directory)."""
    import libvirt  # pylint: disable=import-outside-toplevel

    for hv in hypervisors:
        conn = libvirt.open(hv["uri"])
        try:
            for dom in conn.listAllDomains(0):
                if dom.name().startswith(NAME):
                    if dom.isActive():
                        dom.destroy()
                    dom.undefine()
            for net in conn.listAllNetworks(0):
                if net.name().startswith(NAME):
                    if net.isActive():
                        net.destroy()
                    net.undefine()
        finally:
            conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", required=True)
    parser.add_argument("--collections", required=True)
    parser.add_argument("-n", type=int, default=30)
    parser.add_argument("--memory", default="128M")
    parser.add_argument("--defined-only", action="store_true", help="define the instances, do not start them")
    args = parser.parse_args()
    hypervisors = hosts(args)
    clean(hypervisors)
    work = tempfile.mkdtemp(prefix="cvt-pb-")
    playbook = os.path.join(work, "bench.yml")
    with open(playbook, "w") as handle:
        handle.write(PLAYBOOK)
    inv = os.path.join(work, "inventory.yml")
    inventory(hypervisors, inv)
    state_dir = os.path.join(work, "state")
    failed = []
    sizes = ("2 CPUs/2 GiB", "4 CPUs/4 GiB", "8 CPUs/8 GiB")
    print("placement benchmark: %d instances (%s, 1 vCPU, %s) over %d hosts (%s), one converge.virt.stack task"
          % (args.n, "defined" if args.defined_only else "running", args.memory, len(hypervisors),
             ", ".join("%s %s" % (hv["name"], size) for hv, size in zip(hypervisors, sizes))))
    try:
        for strategy in ("spread", "pack"):
            stack_file = os.path.join(work, "stack-%s.json" % strategy)
            stack(args, strategy, stack_file)
            first, data = run(args, playbook, inv, stack_file, state_dir)
            planned = dict((name, p["host"]) for name, p in data["placement"].items())
            check, check_data = run(args, playbook, inv, stack_file, state_dir, extra=["--check"])
            noop, noop_data = run(args, playbook, inv, stack_file, state_dir)
            actual = where(hypervisors)
            per_host = dict((host, len(names)) for host, names in actual.items())
            misplaced = [n for host, names in actual.items() for n in names if planned.get(n) != host]
            if check_data["changed"] or noop_data["changed"]:
                failed.append("%s: a run after converging reported a change" % strategy)
            if misplaced or sum(per_host.values()) != args.n:
                failed.append("%s: instances not where the plan put them: %s" % (strategy, misplaced))
            print("  %-6s first run : %6.1f s, changed=%s, %d resources created" % (
                strategy, first, data["changed"], len(data["summary"].get("create", []))))
            print("  %-6s --check run: %6.1f s, changed=%s" % (strategy, check, check_data["changed"]))
            print("  %-6s no-op run  : %6.1f s, changed=%s" % (strategy, noop, noop_data["changed"]))
            print("  %-6s instances per host: %s" % (strategy, ", ".join(
                "%s %d" % (host, count) for host, count in sorted(per_host.items()))))
            absent_file = os.path.join(work, "stack-%s-absent.json" % strategy)
            stack(args, strategy, absent_file, absent=True)
            down, _data = run(args, playbook, inv, absent_file, state_dir)
            rest, _data = run(args, playbook, inv, stack_file, state_dir, state="absent")
            print("  %-6s teardown   : %6.1f s (instances declared absent, stop_timeout 0: %.1f s; then the stack "
                  "absent: %.1f s)" % (strategy, down + rest, down, rest))
    finally:
        leftovers = where(hypervisors)
        if any(leftovers.values()):
            failed.append("left behind: %s" % leftovers)
        subprocess.run(["bash", os.path.join(ROOT, "tests", "hosts", "stop.sh"), HOSTS_DIR], check=False,
                       stdout=sys.stderr)
    if failed:
        raise SystemExit("placement benchmark: " + "; ".join(failed))


if __name__ == "__main__":
    main()
