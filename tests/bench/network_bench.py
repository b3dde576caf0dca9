#!/usr/bin/env python
"""Benchmark: converge N libvirt networks through converge.virt.network, then again (a no-op).

Prints wall times and changed counts of the first run and of the no-op run, and proves the no-op
run only read: no libvirt lifecycle event (define/undefine/start/stop) and no rewritten network
configuration file while it ran.  Times are printed, never asserted; the exit status is non-zero
only when the no-op run changed or redefined something.

    python tests/bench/network_bench.py --venv VENV --collections COLLECTIONS_ROOT [-n 20]
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import tempfile
import time

from benchlib import LifecycleEvents, run_playbook

URI = "qemu:///system"
PREFIX = "cvbench-"
CONFIG_DIR = "/etc/libvirt/qemu/networks"

PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - converge.virt.network:
        name: "%(prefix)s{{ '%%02d' | format(item) }}"
        state: "{{ bench_state }}"
        forward: isolated
        ipv4:
          address: "10.232.{{ item }}.1/24"
          dhcp:
            range: ["10.232.{{ item }}.100", "10.232.{{ item }}.199"]
            hosts:
              - {mac: "52:54:00:32:{{ '%%02x' | format(item) }}:10", name: web, ip: "10.232.{{ item }}.10"}
      loop: "{{ range(%(count)d) | list }}"
      register: bench
    - debug:
        msg: "BENCH changed={{ bench.results | selectattr('changed') | list | length }}"
"""


def config_mtimes():
    return dict((path, os.stat(path).st_mtime_ns) for path in glob.glob(os.path.join(CONFIG_DIR, PREFIX + "*.xml")))


def run(args, playbook, state, extra=()):
    return run_playbook(args, playbook, {"bench_state": state}, extra)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", required=True)
    parser.add_argument("--collections", required=True, help="directory holding ansible_collections/")
    parser.add_argument("-n", "--count", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="leave the networks defined")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        playbook = os.path.join(tmp, "bench.yml")
        with open(playbook, "w") as handle:
            handle.write(PLAYBOOK % {"prefix": PREFIX, "count": args.count})
        run(args, playbook, "absent")  # start clean
        counter = LifecycleEvents(URI, networks=True)
        first_time, first_changed = run(args, playbook, "present")
        time.sleep(0.5)
        events_first = len(counter.events)
        mtimes = config_mtimes()
        noop_time, noop_changed = run(args, playbook, "present")
        check_time, check_changed = run(args, playbook, "present", ["--check"])
        time.sleep(0.5)
        noop_events = counter.events[events_first:]
        rewritten = [p for p, m in config_mtimes().items() if mtimes.get(p) != m]
        teardown = None
        if not args.keep:
            teardown = run(args, playbook, "absent")

    n = args.count
    print("network benchmark: %d isolated networks with DHCP range and one static host, one module call each" % n)
    print("  first run   : %6.1f s  (%.2f s/network)  changed=%d  lifecycle events=%d"
          % (first_time, first_time / n, first_changed, events_first))
    print("  no-op run   : %6.1f s  (%.2f s/network)  changed=%d  lifecycle events=%d  config files rewritten=%d"
          % (noop_time, noop_time / n, noop_changed, len(noop_events), len(rewritten)))
    print("  --check run : %6.1f s  changed=%d" % (check_time, check_changed))
    if teardown:
        print("  teardown    : %6.1f s  changed=%d" % teardown)
    problems = []
    if first_changed != n:
        problems.append("first run changed %d of %d networks" % (first_changed, n))
    if noop_changed or check_changed:
        problems.append("the no-op run reported changes (%d, check mode %d)" % (noop_changed, check_changed))
    if noop_events or rewritten:
        problems.append("the no-op run redefined networks: events %s, files %s" % (noop_events, rewritten))
    if problems:
        print("FAIL: " + "; ".join(problems))
        return 1
    print("ok: the no-op run only read")
    return 0


if __name__ == "__main__":
    sys.exit(main())
