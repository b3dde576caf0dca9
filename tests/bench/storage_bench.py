#!/usr/bin/env python
"""Benchmark: N linked clones vs. N full copies of a base image through converge.virt.volume.

Makes a directory pool with a qcow2 base image full of real data (not holes), then converges N
linked clones and N full copies of it, one module call each, and runs each set again (a no-op)
and in check mode.  Prints wall time and disk used (``du`` of the pool directory and the sum of
the volumes' allocation) for each.  Times are printed, never asserted; the exit status is
non-zero only when something is wrong: a first run that did not create every volume, a no-op or
check-mode run that reported changes or wrote to any file of the pool, a clone that does not
share its base, or a copy that does.

    python tests/bench/storage_bench.py --venv VENV --collections COLLECTIONS_ROOT [--count 20] [--base-size 1G]

The full-copy half needs about N x the base's size of free disk; without it, it is skipped with
a message (the linked half still runs).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import libvirt

from benchlib import collection_validate, run_playbook

VALIDATE = None  # the collection's engine.validate, loaded from --collections in main()

URI = "qemu:///system"
POOL = "cvt-vol-bench"
ROOT = "/var/tmp/cvt-vol-bench"
POOL_DIR = os.path.join(ROOT, "pool")
BASE = "cvt-vol-bench-base.qcow2"
PREFIX = "cvt-vol-bench-"
MARGIN = 1024 ** 3  # free space left over after the copies

PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - converge.virt.volume:
        uri: %(uri)s
        name: "%(prefix)s{{ bench_mode }}-{{ '%%02d' | format(item) }}.qcow2"
        pool: %(pool)s
        state: "{{ bench_state }}"
        image: %(base)s
        linked: "{{ bench_mode == 'link' }}"
      loop: "{{ range(%(count)d) | list }}"
      register: bench
    - debug:
        msg: "BENCH changed={{ bench.results | selectattr('changed') | list | length }}"
"""


def human(value):
    return VALIDATE.human_size(value)


def sh(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def du(path):
    out = subprocess.run(["du", "-s", "-B1", path], check=True, stdout=subprocess.PIPE, text=True).stdout
    return int(out.split()[0])


def teardown(conn):
    try:
        pool = conn.storagePoolLookupByName(POOL)
    except libvirt.libvirtError:
        pool = None
    if pool is not None:
        if pool.isActive():
            pool.destroy()
        pool.undefine()
    shutil.rmtree(ROOT, ignore_errors=True)


def setup(conn, base_size):
    os.makedirs(POOL_DIR)
    xml = ("<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>" % (POOL, POOL_DIR))
    pool = conn.storagePoolDefineXML(xml, 0)
    pool.create(0)
    path = os.path.join(POOL_DIR, BASE)
    start = time.monotonic()
    sh("qemu-img", "create", "-q", "-f", "qcow2", path, str(base_size))
    # Real data in every cluster (a pattern, not zeroes), so a full copy has to copy all of it.
    sh("qemu-io", "-f", "qcow2", "-c", "write -P 0xab 0 %d" % base_size, path)
    pool.refresh(0)
    return pool, time.monotonic() - start


def allocation(pool, mode):
    pool.refresh(0)
    total = 0
    for vol in pool.listAllVolumes(0):
        if vol.name().startswith(PREFIX + mode + "-"):
            total += vol.info()[2]
    return total


def run(args, playbook, mode, state, extra=()):
    return run_playbook(args, playbook, {"bench_state": state, "bench_mode": mode}, extra)


def mtimes():
    return dict((name, os.stat(os.path.join(POOL_DIR, name)).st_mtime_ns) for name in os.listdir(POOL_DIR))


def measure(args, playbook, pool, mode, problems, with_check=True):
    n = args.count
    before = du(POOL_DIR)
    first = run(args, playbook, mode, "present")
    used = du(POOL_DIR) - before
    alloc = allocation(pool, mode)
    stamps = mtimes()
    noop = run(args, playbook, mode, "present")
    rewritten = sorted(name for name, stamp in mtimes().items() if stamps.get(name) != stamp)
    check = run(args, playbook, mode, "present", ["--check"]) if with_check else None
    if first[1] != n:
        problems.append("%s: the first run changed %d of %d volumes" % (mode, first[1], n))
    if noop[1] or (check and check[1]):
        problems.append("%s: the no-op run reported changes (%d, check mode %s)"
                        % (mode, noop[1], check[1] if check else "-"))
    if rewritten:
        problems.append("%s: the no-op run wrote to %s" % (mode, ", ".join(rewritten)))
    return {"first": first, "noop": noop, "check": check, "du": used, "alloc": alloc,
            "rewritten": len(rewritten)}


def backing_of(path):
    out = subprocess.run(["qemu-img", "info", "-U", "--output=json", path], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out).get("backing-filename")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", required=True)
    parser.add_argument("--collections", required=True, help="directory holding ansible_collections/")
    parser.add_argument("-n", "--count", type=int, default=20)
    parser.add_argument("--base-size", default="1G", help="virtual size of the base, all of it written")
    parser.add_argument("--keep", action="store_true", help="leave the pool and its volumes")
    args = parser.parse_args()
    global VALIDATE  # pylint: disable=global-statement
    VALIDATE = collection_validate(args.collections)
    try:
        base_size = VALIDATE.parse_size(args.base_size)
    except ValueError as err:
        raise SystemExit("--base-size: %s" % err)
    n = args.count

    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)  # errors are reported by us
    conn = libvirt.open(URI)
    teardown(conn)  # start clean, also after an aborted earlier run
    os.makedirs(os.path.dirname(ROOT), exist_ok=True)
    problems, results = [], {}
    try:
        pool, base_time = setup(conn, base_size)
        base_used = du(POOL_DIR)
        with tempfile.TemporaryDirectory() as tmp:
            playbook = os.path.join(tmp, "bench.yml")
            with open(playbook, "w") as handle:
                handle.write(PLAYBOOK % {"uri": URI, "prefix": PREFIX, "pool": POOL, "base": BASE, "count": n})
            results["link"] = measure(args, playbook, pool, "link", problems)
            base_path = os.path.join(POOL_DIR, BASE)
            if backing_of(os.path.join(POOL_DIR, "%slink-00.qcow2" % PREFIX)) != base_path:
                problems.append("link: the first clone does not have the base as its backing file")
            need = n * base_used + MARGIN
            free = shutil.disk_usage(POOL_DIR).free
            if free < need:
                print("SKIPPED full copies: they need about %s free under %s, only %s is"
                      % (human(need), ROOT, human(free)))
            else:
                # Check mode and the module's delete are measured on the clones only, to keep the
                # whole benchmark near two minutes; the copies go with the pool.
                results["copy"] = measure(args, playbook, pool, "copy", problems, with_check=False)
                if backing_of(os.path.join(POOL_DIR, "%scopy-00.qcow2" % PREFIX)) is not None:
                    problems.append("copy: the first copy has a backing file")
            teardown_times = {}
            if not args.keep:
                teardown_times["link"] = run(args, playbook, "link", "absent")
    finally:
        if not args.keep:
            teardown(conn)
        conn.close()

    print("storage benchmark: %d volumes from a %s qcow2 base (%s written, made in %.1f s), one module "
          "call each" % (n, human(base_size), human(base_used), base_time))
    for mode, label in (("link", "linked clones"), ("copy", "full copies")):
        if mode not in results:
            continue
        res = results[mode]
        print("  %-13s: first run %6.1f s (%.2f s/volume) changed=%d; disk used: du %s, allocation %s"
              % (label, res["first"][0], res["first"][0] / n, res["first"][1], human(res["du"]), human(res["alloc"])))
        print("  %-13s  no-op run %6.1f s changed=%d, files written=%d%s%s"
              % ("", res["noop"][0], res["noop"][1], res["rewritten"],
                 "; --check run %.1f s changed=%d" % res["check"] if res["check"] else "",
                 "; delete %.1f s changed=%d" % teardown_times[mode] if mode in teardown_times else ""))
    if "link" in results and "copy" in results:
        link, copy = results["link"], results["copy"]
        print("  linked clones took %.1fx less time and %.0fx less disk than full copies"
              % (copy["first"][0] / max(link["first"][0], 0.001), copy["du"] / float(max(link["du"], 1))))
    if problems:
        print("FAIL: " + "; ".join(problems))
        return 1
    print("ok: every volume created once; the no-op and check-mode runs changed nothing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
