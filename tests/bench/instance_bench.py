#!/usr/bin/env python
"""Benchmark: N virtual machines from nothing to reachable through converge.virt.instance.

One playbook converges a directory pool, the tiny guest image (hack/guest-images.sh) placed in it,
an isolated network, and N instances (1 vCPU, 192 MiB, TCG) booted from linked clones of the image
with a cloud-init user-data script; it returns when every guest has an address (``wait_for: ip``).
The instances are started by one loop and waited for by a second loop over the same declaration,
so that the guests boot side by side while Ansible moves on (the second loop changes nothing; it
only reads).  The playbook then runs again (a no-op) and in check mode; afterwards everything is
deleted through the modules.

Prints wall time and changed count of each run, how many guests have a DHCP lease, answer an
ICMP echo from the host and logged that their user-data ran, and proves the no-op and check-mode
runs only read: no libvirt domain lifecycle event, no guest restarted, no file of the pool
written.  Times are printed, never asserted; the exit status is non-zero only when the no-op or
check-mode run changed something (or a playbook failed).

    python tests/bench/instance_bench.py --venv VENV --collections COLLECTIONS_ROOT [--count 10]
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

import libvirt

from benchlib import LifecycleEvents, register_event_loop, run_playbook

URI = "qemu:///system"
PREFIX = "cvt-bench-"
POOL = PREFIX + "pool"
POOL_DIR = "/var/tmp/cvt-bench-instances"  # made and removed by the pool module
IMAGE = PREFIX + "tiny.qcow2"
NETWORK = PREFIX + "net"
BRIDGE = "cvt-bench-br0"
SUBNET = "10.84.0"  # /24, used nowhere else in the repo's tests and examples
VM = PREFIX + "vm-"
LOG_DIR = "/var/log/libvirt/qemu"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

INSTANCE = """
            name: "%(vm)s{{ '%%02d' | format(item) }}"
            virt_type: qemu
            vcpus: 1
            memory: 192M
            pool: %(pool)s
            disks:
              - {image: %(image)s, size: 1G}
            nics:
              - network: %(network)s
            cloud_init:
              user_data: |
                #!/bin/sh
                echo "bench guest $(hostname) up" > /dev/console"""

PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  module_defaults:
    group/converge.virt.all:
      uri: %(uri)s
  tasks:
    - when: bench_state == 'present'
      block:
        - converge.virt.pool:
            name: %(pool)s
            path: %(pool_dir)s
          register: bench_pool
        - converge.virt.image:
            name: %(image)s
            pool: %(pool)s
            path: "{{ bench_image }}"
          register: bench_image_result
        - converge.virt.network:
            name: %(network)s
            forward: isolated
            bridge: %(bridge)s
            ipv4:
              address: %(subnet)s.1/24
              dhcp:
                range: [%(subnet)s.10, %(subnet)s.250]
          register: bench_net
        - converge.virt.instance:%(instance)s
          loop: "{{ range(%(count)d) | list }}"
          register: bench_vms
        - converge.virt.instance:%(instance)s
            wait_for: ip
            wait_timeout: 600
          loop: "{{ range(%(count)d) | list }}"
          register: bench_ready
        - debug:
            msg: "BENCH changed={{ ([bench_pool, bench_image_result, bench_net] + bench_vms.results
                  + bench_ready.results) | selectattr('changed') | list | length }}"

    - when: bench_state == 'absent'
      block:
        - converge.virt.instance:
            name: "%(vm)s{{ '%%02d' | format(item) }}"
            state: absent
          loop: "{{ range(%(count)d) | list }}"
          register: bench_vms_gone
        - converge.virt.network:
            name: %(network)s
            state: absent
          register: bench_net_gone
        - converge.virt.image:
            name: %(image)s
            pool: %(pool)s
            state: absent
          register: bench_image_gone
        - converge.virt.pool:
            name: %(pool)s
            state: absent
          register: bench_pool_gone
        - debug:
            msg: "BENCH changed={{ (bench_vms_gone.results + [bench_net_gone, bench_image_gone, bench_pool_gone])
                  | selectattr('changed') | list | length }}"
"""


def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def pings(address, timeout=2.0):
    """Whether ``address`` answers one ICMP echo (a raw socket: we run as root, ping may be missing)."""
    ident = os.getpid() & 0xFFFF
    header = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
    payload = b"converge.virt bench"
    packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, 1) + payload
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    try:
        sock.settimeout(timeout)
        sock.sendto(packet, (address, 0))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data, peer = sock.recvfrom(1024)
            except socket.timeout:
                return False
            ihl = (data[0] & 0x0F) * 4
            kind, _code, _sum, rid, _seq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
            if peer[0] == address and kind == 0 and rid == ident:
                return True
        return False
    finally:
        sock.close()


def leases(conn, count):
    """{name: first IPv4 address from the network's DHCP leases} of the bench's guests."""
    found = {}
    for i in range(count):
        name = "%s%02d" % (VM, i)
        try:
            dom = conn.lookupByName(name)
            ifaces = dom.interfaceAddresses(libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE, 0)
        except libvirt.libvirtError:
            continue
        for iface in (ifaces or {}).values():
            for addr in iface.get("addrs") or []:
                if addr.get("type") == libvirt.VIR_IP_ADDR_TYPE_IPV4:
                    found.setdefault(name, addr["addr"])
    return found


def ran_user_data(count):
    done = 0
    for i in range(count):
        try:
            with open(os.path.join(LOG_DIR, "%s%02d-console.log" % (VM, i)), "rb") as handle:
                log = handle.read()
        except OSError:
            continue
        if b"CVT-USERDATA rc=0" in log:
            done += 1
    return done


def domain_ids(conn, count):
    ids = {}
    for i in range(count):
        try:
            dom = conn.lookupByName("%s%02d" % (VM, i))
            ids[dom.name()] = (dom.ID(), dom.UUIDString())
        except libvirt.libvirtError:
            pass
    return ids


def mtimes():
    if not os.path.isdir(POOL_DIR):
        return {}
    return dict((name, os.stat(os.path.join(POOL_DIR, name)).st_mtime_ns) for name in os.listdir(POOL_DIR))


def remove_logs():
    for path in glob.glob(os.path.join(LOG_DIR, VM + "*.log")):
        os.unlink(path)


def teardown(conn):
    """Whatever an aborted run may have left, removed without the modules."""
    for dom in conn.listAllDomains(0):
        if not dom.name().startswith(PREFIX):
            continue
        if dom.isActive():
            dom.destroy()
        dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                          | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
    for lookup, name in ((conn.networkLookupByName, NETWORK), (conn.storagePoolLookupByName, POOL)):
        try:
            obj = lookup(name)
        except libvirt.libvirtError:
            continue
        if obj.isActive():
            obj.destroy()
        obj.undefine()
    shutil.rmtree(POOL_DIR, ignore_errors=True)
    remove_logs()


def guest_image(path):
    if path:
        return path
    out = subprocess.run(["bash", os.path.join(REPO, "hack", "guest-images.sh"), "tiny"], check=True,
                         stdout=subprocess.PIPE, text=True).stdout.strip()
    if not os.path.isfile(out):
        raise SystemExit("hack/guest-images.sh tiny did not print an image path: %r" % out)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", required=True)
    parser.add_argument("--collections", required=True, help="directory holding ansible_collections/")
    parser.add_argument("-n", "--count", type=int, default=10)
    parser.add_argument("--image", help="a bootable qcow2 like hack/guest-images.sh tiny's (built when not given)")
    parser.add_argument("--keep", action="store_true", help="leave the instances, network and pool")
    args = parser.parse_args()
    n = args.count
    if not 1 <= n <= 200:
        raise SystemExit("--count must be between 1 and 200 (the network's DHCP range)")
    start = time.monotonic()
    image = guest_image(args.image)
    image_time = time.monotonic() - start

    register_event_loop()  # before any connection, for the event counter
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)  # errors are reported by us
    conn = libvirt.open(URI)
    teardown(conn)  # start clean, also after an aborted earlier run
    os.makedirs(os.path.dirname(POOL_DIR), exist_ok=True)
    problems, warnings = [], []
    gone = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            playbook = os.path.join(tmp, "bench.yml")
            fields = {"uri": URI, "pool": POOL, "pool_dir": POOL_DIR, "image": IMAGE, "network": NETWORK,
                      "bridge": BRIDGE, "subnet": SUBNET, "vm": VM, "count": n}
            fields["instance"] = INSTANCE % fields
            with open(playbook, "w") as handle:
                handle.write(PLAYBOOK % fields)
            counter = LifecycleEvents(URI, PREFIX, domains=True)
            variables = {"bench_state": "present", "bench_image": image}
            first = run_playbook(args, playbook, variables)
            addresses = leases(conn, n)
            answered = sum(1 for address in addresses.values() if pings(address))
            user_data = ran_user_data(n)
            time.sleep(0.5)
            events_first = len(counter.events)
            ids, stamps = domain_ids(conn, n), mtimes()
            noop = run_playbook(args, playbook, variables)
            check = run_playbook(args, playbook, variables, ["--check"])
            time.sleep(0.5)
            noop_events = counter.events[events_first:]
            restarted = sorted(name for name, ident in domain_ids(conn, n).items() if ids.get(name) != ident)
            rewritten = sorted(name for name, stamp in mtimes().items() if stamps.get(name) != stamp)
            if not args.keep:
                gone = run_playbook(args, playbook, {"bench_state": "absent"})
    finally:
        if not args.keep:
            teardown(conn)
        conn.close()

    # The pool, the image, the network and N instances.
    if first[1] != n + 3:
        warnings.append("the first run changed %d resources, expected %d" % (first[1], n + 3))
    if len(addresses) != n or answered != n or user_data != n:
        warnings.append("not every guest is up: leases %d, ping %d, user-data %d of %d"
                        % (len(addresses), answered, user_data, n))
    if noop[1] or check[1]:
        problems.append("the no-op run reported changes (%d, check mode %d)" % (noop[1], check[1]))
    if noop_events or restarted or rewritten:
        problems.append("the no-op runs touched the guests: lifecycle events %s, restarted %s, files written %s"
                        % (noop_events, restarted, rewritten))

    print("instance benchmark: %d instances (1 vCPU, 192 MiB, TCG) on linked clones of the tiny image, an "
          "isolated network, cloud-init; from nothing to every guest with an IP (image ready in %.1f s)"
          % (n, image_time))
    print("  first run   : %6.1f s  (%.1f s/instance)  changed=%d (pool, image, network, %d instances)  "
          "leases=%d  ping=%d  user-data ran=%d  lifecycle events=%d"
          % (first[0], first[0] / n, first[1], n, len(addresses), answered, user_data, events_first))
    print("  no-op run   : %6.1f s  (%.2f s/instance)  changed=%d  lifecycle events=%d  guests restarted=%d  "
          "pool files written=%d" % (noop[0], noop[0] / n, noop[1], len(noop_events), len(restarted), len(rewritten)))
    print("  --check run : %6.1f s  changed=%d" % check)
    if gone:
        print("  teardown    : %6.1f s  changed=%d" % gone)
    for warning in warnings:
        print("WARNING: " + warning)
    if problems:
        print("FAIL: " + "; ".join(problems))
        return 1
    print("ok: the no-op and check-mode runs only read")
    return 0


if __name__ == "__main__":
    sys.exit(main())
