#!/usr/bin/env python
"""Benchmark: N isolated libvirt networks and N defined (not started) instances, converged once by
ONE converge.virt.stack task and once by community.libvirt ``loop:`` tasks, then again (a no-op).

The same shape on both sides: network ``<prefix>net-NN`` is isolated (no ``<forward>``), has bridge
``virbr-sbNN`` and the address 10.90.NN.1/24, is active and autostarted; instance ``<prefix>vm-NN``
is a ``qemu`` (TCG) domain with 64 MiB, 1 vCPU, no disk and one NIC on network NN, defined and
never started.  The tools run one after the other (each tears down before the next starts), so
both use the same bridges and subnets.

converge.virt: one ``converge.virt.stack`` task reads a stack file of 2N resources (the instances
depend on their networks through their NICs).  community.libvirt: ``virt_net`` define (XML), then
``state: active``, then ``autostart: true``, each looping over the networks, and ``virt``
``command: define`` (XML, ``mutate_flags: [ADD_UUID, ADD_MAC_ADDRESSES_FUZZY]`` so that libvirt's
generated MAC address is carried over and a second define changes nothing).

community.libvirt comes from the ``ansible`` package: the cached venv of the OpenStack benchmark
(``openstack_cloud_venv`` in openstack_bench.py) is reused for its collections only.  Its modules
need libvirt-python and lxml in the interpreter that runs them: a small venv with just those two,
made here once and cached (``${CONVERGE_VIRT_CACHE:-~/.cache/converge-virt}/bench-libvirt-modules-<hash>``).
ansible-core itself is always the one of ``--venv``.

Printed for each tool and run: the playbook's wall time, the time of its tasks (measured by a
small callback: from each task's start to the next one's), the number of changed task results
(loop items), the number of resources the run changed, and the libvirt lifecycle events
(define/undefine/start/stop of networks and domains) seen while it ran.  Then the speedup of the
no-op.  Times are printed, never asserted; the exit status is non-zero when a playbook fails or
when the converge.virt no-op run (or its --check run) reports a change.

    python tests/bench/stack_bench.py --venv VENV --collections COLLECTIONS_ROOT [-n 20] [--tools stack,cl]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import types

import libvirt

from benchlib import LifecycleEvents, cached_venv, run_playbook_output
from openstack_bench import openstack_cloud_venv

URI = "qemu:///system"
PREFIX = "cvt-sb-"
PREFIXES = {"stack": PREFIX + "st-", "cl": PREFIX + "cl-"}
LABELS = {"stack": "converge.virt.stack", "cl": "community.libvirt"}
LXML_PIN = "lxml==6.1.3"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TIMER_CALLBACK = '''
from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    """Writes [task name, seconds] for every task to $CVT_SB_TIMES at the end of the run."""
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "cvt_sb_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._times = []
        self._current = None

    def _close(self):
        if self._current is not None:
            self._times.append([self._current[0], time.monotonic() - self._current[1]])
            self._current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        self._current = (task.get_name(), time.monotonic())

    def v2_playbook_on_stats(self, stats):
        self._close()
        with open(os.environ["CVT_SB_TIMES"], "w") as handle:
            json.dump(self._times, handle)
'''

PLAY_HEAD = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ bench_python }}"
    bench_items: "{{ range(1, %(count)d + 1) | list }}"
  tasks:
"""

STACK_TASKS = """
    - name: Converge the stack
      converge.virt.stack:
        src: "%(stack_file)s"
        state: "{{ bench_state }}"
        uri: %(uri)s
      register: bench

    - name: Count
      ansible.builtin.debug:
        msg: "BENCH changed={{ bench.changed | ternary(1, 0) }} resources={{ bench.summary | default({}) | dict2items
          | rejectattr('key', 'eq', 'unchanged') | map(attribute='value') | flatten | length }}"
"""

CL_PRESENT_TASKS = """
    - name: Define the networks
      community.libvirt.virt_net:
        uri: %(uri)s
        command: define
        name: "%(prefix)snet-{{ '%%02d' | format(item) }}"
        xml: |
          <network>
            <name>%(prefix)snet-{{ '%%02d' | format(item) }}</name>
            <bridge name="virbr-sb{{ item }}"/>
            <ip address="10.90.{{ item }}.1" prefix="24"/>
          </network>
      loop: "{{ bench_items }}"
      register: defined

    - name: Start the networks
      community.libvirt.virt_net:
        uri: %(uri)s
        name: "%(prefix)snet-{{ '%%02d' | format(item) }}"
        state: active
      loop: "{{ bench_items }}"
      register: started

    - name: Autostart the networks
      community.libvirt.virt_net:
        uri: %(uri)s
        name: "%(prefix)snet-{{ '%%02d' | format(item) }}"
        autostart: true
      loop: "{{ bench_items }}"
      register: autostarted

    - name: Define the instances
      community.libvirt.virt:
        uri: %(uri)s
        command: define
        mutate_flags: [ADD_UUID, ADD_MAC_ADDRESSES_FUZZY]
        xml: |
          <domain type="qemu">
            <name>%(prefix)svm-{{ '%%02d' | format(item) }}</name>
            <memory unit="MiB">64</memory>
            <vcpu>1</vcpu>
            <os><type arch="x86_64">hvm</type></os>
            <devices>
              <interface type="network">
                <source network="%(prefix)snet-{{ '%%02d' | format(item) }}"/>
              </interface>
            </devices>
          </domain>
      loop: "{{ bench_items }}"
      register: domains

    - name: Count
      ansible.builtin.debug:
        msg: "BENCH changed={{ (defined.results + started.results + autostarted.results + domains.results)
          | select('changed') | list | length }} resources={{ (defined.results + domains.results) | select('changed') | list | length }}"
"""

CL_ABSENT_TASKS = """
    - name: Undefine the instances
      community.libvirt.virt:
        uri: %(uri)s
        name: "%(prefix)svm-{{ '%%02d' | format(item) }}"
        command: undefine
      loop: "{{ bench_items }}"
      register: domains

    - name: Remove the networks
      community.libvirt.virt_net:
        uri: %(uri)s
        name: "%(prefix)snet-{{ '%%02d' | format(item) }}"
        state: absent
      loop: "{{ bench_items }}"
      register: networks

    - name: Count
      ansible.builtin.debug:
        msg: "BENCH changed={{ (domains.results + networks.results) | select('changed') | list | length }} resources={{
          (domains.results + networks.results) | select('changed') | list | length }}"
"""


def stack_document(count):
    """The stack file: N networks and N instances, one NIC each (the reference orders them)."""
    resources = []
    for item in range(1, count + 1):
        resources.append({"kind": "network", "name": "%snet-%02d" % (PREFIXES["stack"], item),
                          "forward": "isolated", "bridge": "virbr-sb%d" % item,
                          "ipv4": {"address": "10.90.%d.1/24" % item}})
    for item in range(1, count + 1):
        resources.append({"kind": "instance", "name": "%svm-%02d" % (PREFIXES["stack"], item),
                          "state": "stopped", "virt_type": "qemu", "memory": "64M", "vcpus": 1,
                          "nics": [{"network": "%snet-%02d" % (PREFIXES["stack"], item)}]})
    # JSON is YAML: the stack file is written as JSON, one resource a line.
    return '{"name": "cvt-sb-bench", "resources": [\n  %s\n]}\n' % ",\n  ".join(
        json.dumps(r, sort_keys=True) for r in resources)


def cleanup(log=print):
    """Remove every domain and network named with the prefix (left by an earlier, failed run)."""
    conn = libvirt.open(URI)
    try:
        domains = [d for d in conn.listAllDomains() if d.name().startswith(PREFIX)]
        for dom in domains:
            if dom.isActive():
                dom.destroy()
            dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
        networks = [n for n in conn.listAllNetworks() if n.name().startswith(PREFIX)]
        for net in networks:
            if net.isActive():
                net.destroy()
            net.undefine()
    finally:
        conn.close()
    if domains or networks:
        log("cleanup: removed %d domains and %d networks left by an earlier run" % (len(domains), len(networks)))


def libvirt_modules_venv():
    """The cached venv whose Python runs community.libvirt's modules: libvirt-python and lxml."""
    with open(os.path.join(ROOT, "tests", "requirements", "common.txt")) as handle:
        libvirt_pin = re.search(r"^libvirt-python==\S+", handle.read(), re.M).group(0)
    return cached_venv("bench-libvirt-modules", [libvirt_pin, LXML_PIN])


def site_packages(venv):
    """The directory of ``venv`` that holds ``ansible_collections`` (the ansible package's)."""
    found = [os.path.join(venv, "lib", d, "site-packages") for d in os.listdir(os.path.join(venv, "lib"))]
    found = [d for d in found if os.path.isdir(os.path.join(d, "ansible_collections", "community", "libvirt"))]
    if not found:
        raise SystemExit("community.libvirt not found in %s" % venv)
    return found[0]


class Runner(object):
    """Runs one tool's playbooks with the timer callback; each run returns a dict of figures."""

    def __init__(self, args, tool, workdir, collections, python, counter):
        self.args = args
        self.tool = tool
        self.workdir = workdir
        self.counter = counter
        self.run_args = types.SimpleNamespace(venv=args.venv, collections=collections)
        self.python = python
        fields = {"count": args.count, "uri": URI, "prefix": PREFIXES[tool],
                  "stack_file": os.path.join(workdir, "stack.yml")}
        if tool == "stack":
            self.playbooks = {"present": self._write("stack-play.yml", PLAY_HEAD + STACK_TASKS, fields)}
            self.playbooks["absent"] = self.playbooks["present"]
        else:
            self.playbooks = {"present": self._write("cl-present.yml", PLAY_HEAD + CL_PRESENT_TASKS, fields),
                              "absent": self._write("cl-absent.yml", PLAY_HEAD + CL_ABSENT_TASKS, fields)}

    def _write(self, name, template, fields):
        path = os.path.join(self.workdir, name)
        with open(path, "w") as handle:
            handle.write(template % fields)
        return path

    def run(self, state, extra=()):
        times_file = os.path.join(self.workdir, "times.json")
        env = {"CVT_SB_TIMES": times_file, "ANSIBLE_CALLBACK_PLUGINS": os.path.join(self.workdir, "callbacks"),
               "ANSIBLE_CALLBACKS_ENABLED": "cvt_sb_timer"}
        events_before = len(self.counter.events)
        seconds, output = run_playbook_output(self.run_args, self.playbooks[state],
                                              {"bench_state": state, "bench_python": self.python}, extra, env)
        time.sleep(0.5)  # let the last events arrive
        with open(times_file) as handle:
            task_times = [(name, took) for name, took in json.load(handle) if name != "Count"]
        os.unlink(times_file)
        counts = re.search(r"BENCH changed=(\d+) resources=(\d+)", output)
        if counts is None:
            raise SystemExit("no BENCH line in the output of %s:\n%s" % (self.playbooks[state], output[-3000:]))
        return {"seconds": seconds, "changed": int(counts.group(1)), "resources": int(counts.group(2)),
                "tasks": sum(took for _name, took in task_times), "task_count": len(task_times),
                "events": self.counter.events[events_before:]}


def describe(result):
    kinds = {}
    for kind, _name, _event in result["events"]:
        kinds[kind] = kinds.get(kind, 0) + 1
    events = ", ".join("%s %d" % item for item in sorted(kinds.items())) or "none"
    return "%6.1f s playbook  %6.1f s in %d task(s)  changed results=%-3d resources changed=%-3d lifecycle events: %s" % (
        result["seconds"], result["tasks"], result["task_count"], result["changed"],
        result["resources"], events)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--venv", required=True, help="venv with ansible-core and libvirt-python (converge.virt's)")
    parser.add_argument("--collections", required=True, help="directory holding ansible_collections/")
    parser.add_argument("-n", "--count", type=int, default=20)
    parser.add_argument("--tools", default="stack,cl", help="stack (converge.virt.stack), cl (community.libvirt)")
    parser.add_argument("--keep", action="store_true", help="leave the last tool's resources defined")
    args = parser.parse_args()
    tools = [t for t in args.tools.split(",") if t]
    if args.count < 1 or args.count > 99:
        parser.error("--count must be between 1 and 99 (subnets 10.90.N.0/24, bridges virbr-sbN)")

    collections = {"stack": args.collections}
    python = {"stack": os.path.join(args.venv, "bin", "python")}
    if "cl" in tools:
        try:
            oc_venv, took = openstack_cloud_venv(sys.executable)
            print("ansible package venv (community.libvirt): %s%s" % (oc_venv, " (made in %.0f s)" % took if took else " (cached)"))
            modules_venv, took = libvirt_modules_venv()
            print("community.libvirt module interpreter: %s%s" % (modules_venv, " (made in %.0f s)" % took if took else " (cached)"))
        except subprocess.CalledProcessError as err:
            # The pinned ansible package needs a newer Python than some legs have (ansible-core 2.19 runs on 3.11).
            print("SKIPPED: community.libvirt side: its venv could not be made with Python %d.%d (%s)"
                  % (sys.version_info[0], sys.version_info[1], err))
            tools.remove("cl")
        else:
            collections["cl"] = site_packages(oc_venv)
            python["cl"] = os.path.join(modules_venv, "bin", "python")

    workdir = tempfile.mkdtemp(prefix="cvt-sb-")
    os.makedirs(os.path.join(workdir, "callbacks"))
    with open(os.path.join(workdir, "callbacks", "cvt_sb_timer.py"), "w") as handle:
        handle.write(TIMER_CALLBACK)
    with open(os.path.join(workdir, "stack.yml"), "w") as handle:
        handle.write(stack_document(args.count))
    results = {}
    failed = []
    counter = LifecycleEvents(URI, PREFIX, networks=True, domains=True)
    try:
        cleanup()
        for index, tool in enumerate(tools):
            runner = Runner(args, tool, workdir, collections[tool], python[tool], counter)
            labels = ["first", "no-op"] + (["check"] if tool == "stack" else [])
            try:
                for label in labels:
                    extra = ["--check"] if label == "check" else []
                    results[(tool, label)] = runner.run("present", extra)
                if not (args.keep and index == len(tools) - 1):
                    results[(tool, "teardown")] = runner.run("absent")
            except SystemExit as err:
                failed.append("%s: %s" % (LABELS[tool], err))
                cleanup()
    finally:
        if not args.keep:
            cleanup()
        shutil.rmtree(workdir, ignore_errors=True)

    n = args.count
    print("")
    print("stack benchmark: %d isolated networks (active, autostart) + %d defined instances (qemu, 64 MiB, "
          "1 vCPU, one NIC, no disk), libvirt %s" % (n, n, URI))
    for tool in tools:
        for label in ("first", "no-op", "check", "teardown"):
            if (tool, label) in results:
                print("  %-19s %-8s run: %s" % (LABELS[tool], label, describe(results[(tool, label)])))
    if len(tools) == 2:
        print("  converge.virt.stack: one task for all %d resources; community.libvirt: %d loop tasks "
              "(network define, start, autostart; domain define), one module call per item" % (2 * n, 4))
    cl_noop = results.get(("cl", "no-op"))
    if cl_noop and cl_noop["events"]:
        print("  community.libvirt's no-op run defined %d domains again (virt command=define writes the definition "
              "on every run; it reports no change because libvirt returns the same XML)"
              % len([e for e in cl_noop["events"] if e[0] == "domain" and e[2] == libvirt.VIR_DOMAIN_EVENT_DEFINED]))
    if ("stack", "no-op") in results and ("cl", "no-op") in results:
        stack, cl = results[("stack", "no-op")], results[("cl", "no-op")]
        print("  no-op: converge.virt.stack is %.1fx as fast as community.libvirt (playbook), %.1fx (tasks)" % (
            cl["seconds"] / stack["seconds"], cl["tasks"] / max(stack["tasks"], 0.001)))
    if ("stack", "first") in results and ("cl", "first") in results:
        stack, cl = results[("stack", "first")], results[("cl", "first")]
        print("  first run: converge.virt.stack is %.1fx as fast as community.libvirt (playbook), %.1fx (tasks)" % (
            cl["seconds"] / stack["seconds"], cl["tasks"] / max(stack["tasks"], 0.001)))

    problems = list(failed)
    for label in ("no-op", "check"):
        result = results.get(("stack", label))
        if result and (result["changed"] or result["resources"]):
            problems.append("the converge.virt.stack %s run reported changes (%s resources)" % (label, result["resources"]))
        if result and label == "no-op" and result["events"]:
            problems.append("the converge.virt.stack no-op run caused lifecycle events: %s" % result["events"][:6])
    first = results.get(("stack", "first"))
    if first and first["resources"] != 2 * n:
        problems.append("the converge.virt.stack first run changed %s of %d resources" % (first["resources"], 2 * n))
    if problems:
        for line in problems:
            print("FAIL: " + line)
        return 1
    if "stack" in tools:
        print("ok: the converge.virt.stack no-op run changed nothing and only read")
    return 0


if __name__ == "__main__":
    sys.exit(main())
