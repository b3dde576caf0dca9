#!/usr/bin/env python
"""Benchmark: a stack of N networks (each with a subnet), N volumes and N servers on the local
OpenStack, converged once with converge.virt's modules, once with converge.virt.stack (one task
for the whole set) and once with openstack.cloud's modules, then converged again (a no-op).

Both tools run the same shape of playbook in the demo project: one task per kind, a loop of N
items, servers from the same Glance image (a real 1 MiB qcow2 made here) with flavor m1.tiny,
each server on its own network, waiting until ACTIVE (both tools wait by default).  Volumes are
1 GiB and not attached.  openstack.cloud needs a task for the network and another for its subnet;
converge.virt's network module converges the subnet with the network (``ipv4``).  The stack tool
(``st``) declares the same 3N resources in one ``converge.virt.stack`` task: one module process
plans them all from one listing per kind (``Cloud.batch``), then applies what changed in parallel.

openstack.cloud comes from the ``ansible`` package (pinned below), installed with openstacksdk
into its own venv, made here and reused from the cache
(``${CONVERGE_VIRT_CACHE:-~/.cache/converge-virt}/bench-openstack-cloud-<hash>``).  It is used by
this benchmark only.

HTTP requests are counted on the client, in every module process of both tools: a
``sitecustomize`` on PYTHONPATH wraps ``requests.adapters.HTTPAdapter.send`` (openstacksdk and
keystoneauth send every request through it, token requests and version discovery included) and
appends one line per request (method, status, URL, request ID) to a file per run.  So the count
is exact and only ever includes this benchmark's requests, whatever other tests do on the cloud
at the same time.  Keystone, Neutron and Glance run under gunicorn without an access log, so the
server side cannot be counted for every service; Nova and Cinder log each request with its
request ID, and the benchmark checks that those services logged every request ID the client saw
(printed as "server-confirmed").

Before: the admin raises the demo project's quotas (instances, cores, RAM, volumes, gigabytes,
networks, subnets, ports) so that N servers fit beside what other tests hold; they stay raised.
After: everything the benchmark made (names ``cvb-cv-*``, ``cvb-st-*``, ``cvb-oc-*`` and the image
``cvb-image``) is deleted, also when a run failed.

Times are printed, never asserted.  Exit status non-zero when a playbook fails or when the
converge.virt (modules or stack) no-op run changes anything.

    python tests/bench/openstack_bench.py --venv VENV --collections COLLECTIONS_ROOT \
        --cloud-state /var/tmp/converge-virt-cloud [--count 10] [--tools cv,oc,st] [--http-log-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import types

import openstack

from benchlib import cached_venv, run_playbook

ANSIBLE_PIN = "ansible==14.5.0"          # ships openstack.cloud
OPENSTACKSDK_PIN = "openstacksdk==4.22.0"
IMAGE = "cvb-image"
FLAVOR = "m1.tiny"
PREFIXES = {"cv": "cvb-cv-", "oc": "cvb-oc-", "st": "cvb-st-"}
LABELS = {"cv": "converge.virt", "oc": "openstack.cloud", "st": "cv stack"}
QUOTAS = {
    "compute": {"instances": 100, "cores": 200, "ram": 204800},
    "volume": {"volumes": 100, "gigabytes": 1000},
    "network": {"networks": 100, "subnets": 100, "ports": 500},
}

PLAY_HEAD = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    count: %(count)d
    cvb_items: "{{ range(1, count + 1) | list }}"
  module_defaults:
    %(group)s:
      cloud: demo
  tasks:
"""

CV_TASKS = """
    - name: Networks, each with its subnet
      converge.virt.network:
        name: "%(prefix)snet-{{ '%%02d' | format(item) }}"
        ipv4:
          address: "10.197.{{ item }}.1/24"
      loop: "{{ cvb_items }}"
      register: networks

    - name: Volumes
      converge.virt.volume:
        name: "%(prefix)svol-{{ '%%02d' | format(item) }}"
        size: 1G
      loop: "{{ cvb_items }}"
      register: volumes

    - name: Servers
      converge.virt.instance:
        name: "%(prefix)svm-{{ '%%02d' | format(item) }}"
        flavor: %(flavor)s
        image: %(image)s
        nics:
          - network: "%(prefix)snet-{{ '%%02d' | format(item) }}"
      loop: "{{ cvb_items }}"
      register: servers

    - name: Count
      ansible.builtin.debug:
        msg: "BENCH changed={{ (networks.results + volumes.results + servers.results) | select('changed') | list | length }}"
"""

OC_TASKS = """
    - name: Networks
      openstack.cloud.network:
        name: "%(prefix)snet-{{ '%%02d' | format(item) }}"
      loop: "{{ cvb_items }}"
      register: networks

    - name: Subnets
      openstack.cloud.subnet:
        name: "%(prefix)snet-{{ '%%02d' | format(item) }}-ipv4"
        network: "%(prefix)snet-{{ '%%02d' | format(item) }}"
        cidr: "10.198.{{ item }}.0/24"
        gateway_ip: "10.198.{{ item }}.1"
      loop: "{{ cvb_items }}"
      register: subnets

    - name: Volumes
      openstack.cloud.volume:
        name: "%(prefix)svol-{{ '%%02d' | format(item) }}"
        size: 1
      loop: "{{ cvb_items }}"
      register: volumes

    - name: Servers
      openstack.cloud.server:
        name: "%(prefix)svm-{{ '%%02d' | format(item) }}"
        flavor: %(flavor)s
        image: %(image)s
        network: "%(prefix)snet-{{ '%%02d' | format(item) }}"
        auto_ip: false
      loop: "{{ cvb_items }}"
      register: servers

    - name: Count
      ansible.builtin.debug:
        msg: "BENCH changed={{ (networks.results + subnets.results + volumes.results + servers.results) | select('changed') | list | length }}"
"""

ST_TASK = """
    - name: The whole set as one stack
      converge.virt.stack:
        name: cvb-st
        parallel: 10
        resources:
%(resources)s
      register: stack

    - name: Count
      ansible.builtin.debug:
        msg: "BENCH changed={{ (stack.summary.create + stack.summary.update_in_place + stack.summary.replace
          + stack.summary.delete + stack.summary.adopt) | length }}"
"""


def stack_resources(prefix, count, flavor, image):
    """The stack's resource list (YAML lines): the same networks, volumes and servers as CV_TASKS."""
    lines = []
    for item in range(1, count + 1):
        net = "%snet-%02d" % (prefix, item)
        lines += ["          - kind: network", "            name: %s" % net,
                  "            ipv4: {address: 10.199.%d.1/24}" % item]
        lines += ["          - kind: volume", "            name: %svol-%02d" % (prefix, item), "            size: 1G"]
        lines += ["          - kind: instance", "            name: %svm-%02d" % (prefix, item),
                  "            flavor: %s" % flavor, "            image: %s" % image,
                  "            nics: [{network: %s}]" % net]
    return "\n".join(lines)


# Loaded by every Python process started with this directory on PYTHONPATH; hooks only Ansible's
# module processes (AnsiballZ_*), where the OpenStack API calls are made.
SITECUSTOMIZE = r'''
import os, sys
_log = os.environ.get("CVB_HTTP_LOG")
if _log and "AnsiballZ_" in (sys.argv[0] if sys.argv else ""):
    try:
        import requests.adapters as _adapters
        _send = _adapters.HTTPAdapter.send

        def _counting_send(self, request, *args, **kwargs):
            status, rid = "ERR", "-"
            try:
                response = _send(self, request, *args, **kwargs)
                status = response.status_code
                rid = (response.headers.get("x-openstack-request-id")
                       or response.headers.get("x-compute-request-id") or "-")
                return response
            finally:
                with open(_log, "a") as handle:
                    handle.write("%s %s %s %s\n" % (request.method, status, rid, request.url))

        _adapters.HTTPAdapter.send = _counting_send
    except Exception:
        pass
'''

# Service of a request, by the local cloud's fixed ports.
PORTS = {"5000": "keystone", "9292": "glance", "8774": "nova", "9696": "neutron", "8776": "cinder",
         "8778": "placement", "8080": "swift"}
SERVER_LOGS = {"nova": "nova-api.log", "cinder": "cinder-api.log"}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--venv", required=True, help="venv with ansible-core and openstacksdk (converge.virt's)")
    parser.add_argument("--collections", required=True, help="root holding ansible_collections/converge/virt")
    parser.add_argument("--cloud-state", default=os.environ.get("CONVERGE_CLOUD_STATE", "/var/tmp/converge-virt-cloud"))
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--tools", default="cv,oc,st",
                        help="which tools to run: cv (converge.virt's modules), oc (openstack.cloud), "
                             "st (converge.virt.stack)")
    parser.add_argument("--http-log-dir", help="keep each run's request log (method, status, request ID, URL) here")
    return parser.parse_args()


def connect(args, cloud):
    config = openstack.config.OpenStackConfig(config_files=[os.path.join(args.cloud_state, "clouds.yaml")])
    return openstack.connection.Connection(config=config.get_one(cloud=cloud))


# ---- setup -------------------------------------------------------------------------------------
def openstack_cloud_venv(python):
    """The cached venv with the pinned ansible package (openstack.cloud) and openstacksdk."""
    return cached_venv("bench-openstack-cloud", [ANSIBLE_PIN, OPENSTACKSDK_PIN], python)


def raise_quotas(admin, project_id):
    admin.set_compute_quotas(project_id, **QUOTAS["compute"])
    admin.set_volume_quotas(project_id, **QUOTAS["volume"])
    admin.set_network_quotas(project_id, **QUOTAS["network"])


def make_image(demo, workdir):
    existing = list(demo.image.images(name=IMAGE))
    if existing:
        return existing[0]
    path = os.path.join(workdir, "cvb.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", path, "1M"], check=True)
    return demo.image.create_image(name=IMAGE, filename=path, disk_format="qcow2", container_format="bare",
                                   wait=True, allow_duplicates=True)


def cleanup(demo, log=print):
    """Delete what the benchmark made (both prefixes, and the image).  Servers first."""
    prefixes = tuple(PREFIXES.values())
    servers = [s for s in demo.compute.servers() if s.name.startswith(prefixes)]
    for server in servers:
        demo.compute.delete_server(server, ignore_missing=True)
    for server in servers:
        demo.compute.wait_for_delete(server, wait=300)
    volumes = [v for v in demo.block_storage.volumes() if (v.name or "").startswith(prefixes)]
    for volume in volumes:
        demo.block_storage.delete_volume(volume, ignore_missing=True)
    for volume in volumes:
        demo.block_storage.wait_for_delete(volume, wait=300)
    networks = [n for n in demo.network.networks(project_id=demo.current_project_id)
                if n.name.startswith(prefixes)]
    for network in networks:
        for attempt in range(30):
            try:
                demo.network.delete_network(network, ignore_missing=True)
                break
            except openstack.exceptions.ConflictException:  # ports of deleted servers still going
                time.sleep(2)
    images = list(demo.image.images(name=IMAGE))
    for image in images:
        demo.image.delete_image(image, ignore_missing=True)
    if servers or volumes or networks or images:
        log("cleanup: deleted %d servers, %d volumes, %d networks, %d images"
            % (len(servers), len(volumes), len(networks), len(images)))


# ---- runs --------------------------------------------------------------------------------------
def playbook(workdir, tool, count):
    text = PLAY_HEAD % {"count": count, "group": "group/openstack.cloud.openstack" if tool == "oc"
                        else "group/converge.virt.all"}
    if tool == "st":
        text += ST_TASK % {"resources": stack_resources(PREFIXES[tool], count, FLAVOR, IMAGE)}
    else:
        text += (CV_TASKS if tool == "cv" else OC_TASKS) % {"prefix": PREFIXES[tool], "flavor": FLAVOR,
                                                            "image": IMAGE}
    path = os.path.join(workdir, "%s.yml" % tool)
    with open(path, "w") as handle:
        handle.write(text)
    return path


def measured_run(args, venv, tool, path, hookdir, workdir, label, cloud_state):
    """One playbook run: (seconds, changed, requests by service, server-confirmed/checked)."""
    log = os.path.join(workdir, "%s-%s.http" % (tool, label))
    open(log, "w").close()
    saved = dict(os.environ)
    os.environ.update({"CVB_HTTP_LOG": log, "PYTHONPATH": hookdir,
                       "OS_CLIENT_CONFIG_FILE": os.path.join(cloud_state, "clouds.yaml")})
    try:
        run_args = types.SimpleNamespace(venv=venv, collections=args.collections)
        seconds, changed = run_playbook(run_args, path, {})
    finally:
        os.environ.clear()
        os.environ.update(saved)
    with open(log) as handle:
        lines = [line.split() for line in handle if line.strip()]
    by_service = {}
    ids = {}
    for method, _status, rid, url in lines:
        port = re.match(r"https?://[^/:]+:(\d+)", url)
        service = PORTS.get(port.group(1) if port else "", "other")
        by_service[service] = by_service.get(service, 0) + 1
        if service in SERVER_LOGS and rid != "-":
            ids.setdefault(service, set()).add(rid)
    confirmed = checked = 0
    unconfirmed = set()
    for service, rids in ids.items():
        with open(os.path.join(cloud_state, "log", SERVER_LOGS[service]), errors="replace") as handle:
            seen = set(re.findall(r"(req-[0-9a-f-]{36})", handle.read()))
        checked += len(rids)
        confirmed += len(rids & seen)
        unconfirmed.update("%s %s" % (method, re.sub(r"^https?://[^/]+", "", url).split("?")[0])
                           for method, _status, rid, url in lines if rid in rids - seen)
    if args.http_log_dir:
        os.makedirs(args.http_log_dir, exist_ok=True)
        shutil.copy(log, args.http_log_dir)
    return {"seconds": seconds, "changed": changed, "requests": len(lines), "by_service": by_service,
            "confirmed": confirmed, "checked": checked, "unconfirmed": sorted(unconfirmed)}


def describe(result):
    services = ", ".join("%s %d" % (s, n) for s, n in sorted(result["by_service"].items()))
    return "%7.1f s  changed=%-3d requests=%-4d (%s; nova+cinder server-confirmed %d/%d)" % (
        result["seconds"], result["changed"], result["requests"], services, result["confirmed"], result["checked"])


def main():
    args = parse_args()
    tools = [t for t in args.tools.split(",") if t]
    admin, demo = connect(args, "admin"), connect(args, "demo")
    workdir = tempfile.mkdtemp(prefix="cvb-")
    hookdir = os.path.join(workdir, "hook")
    os.makedirs(hookdir)
    with open(os.path.join(hookdir, "sitecustomize.py"), "w") as handle:
        handle.write(SITECUSTOMIZE)
    venvs = {"cv": args.venv, "st": args.venv}
    results = {}
    failed = []
    try:
        if "oc" in tools:
            venvs["oc"], took = openstack_cloud_venv(sys.executable)
            print("openstack.cloud venv: %s%s" % (venvs["oc"], " (made in %.0f s)" % took if took else " (cached)"))
        cleanup(demo)
        raise_quotas(admin, demo.current_project_id)
        make_image(demo, workdir)
        print("setup: demo project quotas raised (%s), image %s, flavor %s" % (
            ", ".join("%s=%s" % kv for q in QUOTAS.values() for kv in q.items()), IMAGE, FLAVOR))
        for tool in tools:
            path = playbook(workdir, tool, args.count)
            for label in ("first", "no-op"):
                try:
                    results[(tool, label)] = measured_run(args, venvs[tool], tool, path, hookdir, workdir, label,
                                                          args.cloud_state)
                except SystemExit as err:
                    failed.append("%s %s run: %s" % (LABELS[tool], label, err))
                    break
    finally:
        cleanup(demo)
        shutil.rmtree(workdir, ignore_errors=True)

    print("")
    print("openstack benchmark: %d networks with a subnet, %d volumes (1 GiB), %d servers (%s, image %s), "
          "demo project" % (args.count, args.count, args.count, FLAVOR, IMAGE))
    for tool in tools:
        for label in ("first", "no-op"):
            result = results.get((tool, label))
            print("  %-15s %-5s run: %s" % (LABELS[tool], label, describe(result) if result else "not run"))
            if result and result["unconfirmed"]:
                print("  %21s not in the service's log: %s" % ("", ", ".join(result["unconfirmed"][:4])))
    print("")
    print("  %-15s | %-30s | %-30s" % ("tool", "first run", "no-op run"))
    for tool in tools:
        cells = []
        for label in ("first", "no-op"):
            result = results.get((tool, label))
            cells.append("%6.1f s  changed=%-3d req=%-4d" % (result["seconds"], result["changed"], result["requests"])
                         if result else "not run")
        print("  %-15s | %-30s | %-30s" % (LABELS[tool], cells[0], cells[1]))
    for tool in ("cv", "st"):
        mine, theirs = results.get((tool, "no-op")), results.get(("oc", "no-op"))
        if mine and theirs and mine["seconds"]:
            print("  no-op: %s is %.1fx faster than openstack.cloud, with %.1fx fewer requests"
                  % (LABELS[tool], theirs["seconds"] / mine["seconds"], theirs["requests"] / max(1, mine["requests"])))
    print("  changed counts tasks' items (the stack: its resources); openstack.cloud needs a network task and a "
          "subnet task per network")
    print("  requests: every HTTP request of the modules' processes, counted client-side (token and discovery")
    print("  included); only this benchmark's requests, whatever else runs on the cloud")
    for line in failed:
        print("FAILED: " + line)
    if failed:
        return 1
    status = 0
    for tool in ("cv", "st"):
        noop = results.get((tool, "no-op"))
        if noop is not None and noop["changed"]:
            print("FAILED: the %s no-op run changed %d resources" % (LABELS[tool], noop["changed"]))
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
