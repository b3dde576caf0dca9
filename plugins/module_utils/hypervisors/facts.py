# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a libvirt host has and what is committed on it: the facts the scheduler places by and
``hypervisor_info`` returns.

``gather(conn, name, uri, probe=True, run_command=None)`` reads one host with few calls: the
capabilities, node info and memory stats, *one* ``listAllDomains`` (then each domain's XML and
state) and *one* ``listAllStoragePools`` (then each pool's XML and info).  The parsing is pure
(``parse_capabilities``, ``parse_domain``, ``parse_pool``, ``summarize_domains``) and unit-tested.

Usable domain types are *probed*, not taken from the capabilities: on QEMU hosts the instance
driver's KVM probe decides between ``kvm`` and ``qemu`` (``InstanceDriver.resolve_virt_type``, a
short test guest); on Xen hosts (``xen://`` URIs, or a Xen driver) the capabilities are all there
is.  With ``probe=False`` the advertised types are reported as usable, unverified.
"""

from __future__ import annotations

import os

import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from ansible_collections.converge.virt.plugins.module_utils.libvirt.connection import (
    require_libvirt,
    translated,
)

PLACEMENT_NS = "https://converge-virt.github.io/xmlns/placement/1"
PLACEMENT_TAG = "{%s}placement" % PLACEMENT_NS
PLACEMENT_ATTRS = ("affinity", "anti_affinity")

KIND = "hypervisor"
KIB_PER_MIB = 1024
STATE_KEYS = ("running", "paused", "shut_off", "other")


# ---- pure parsing ------------------------------------------------------------------------------

def version_text(number):
    """libvirt's packed version number (major * 1,000,000 + minor * 1,000 + micro) as "9.0.0"."""
    if number is None:
        return None
    number = int(number)
    return "%d.%d.%d" % (number // 1000000, (number // 1000) % 1000, number % 1000)


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _kib_to_mib(value, unit="KiB"):
    """A libvirt memory figure in MiB (libvirt XML: ``unit`` defaults to KiB)."""
    scale = {"b": 1.0 / 1024, "bytes": 1.0 / 1024, "k": 1, "kib": 1, "kb": 1000.0 / 1024,
             "m": 1024, "mib": 1024, "mb": 1000.0 ** 2 / 1024, "g": 1024 ** 2, "gib": 1024 ** 2,
             "gb": 1000.0 ** 3 / 1024, "t": 1024 ** 3, "tib": 1024 ** 3}.get((unit or "KiB").lower(), 1)
    return int(round(_int(value, 0) * scale / KIB_PER_MIB))


def parse_capabilities(xml_text):
    """``{host_uuid, arch, model, sockets, cores, threads, advertised, numa}`` from
    ``virConnectGetCapabilities``: ``advertised`` are the domain types of the host's own
    architecture, ``numa`` the cells ``[{cell, memory_mib, cpus}]`` (free memory comes later)."""
    root = ET.fromstring(xml_text)
    host = root.find("host")
    cpu = host.find("cpu") if host is not None else None
    arch = cpu.findtext("arch") if cpu is not None else None
    topo = cpu.find("topology") if cpu is not None else None
    advertised = []
    for guest in root.findall("guest"):
        guest_arch = guest.find("arch")
        if guest_arch is None or (arch and guest_arch.get("name") != arch):
            continue
        for domain in guest_arch.findall("domain"):
            kind = domain.get("type")
            if kind and kind not in advertised:
                advertised.append(kind)
    numa = []
    for cell in root.findall("host/topology/cells/cell"):
        memory = cell.find("memory")
        numa.append({
            "cell": _int(cell.get("id"), len(numa)),
            "memory_mib": _kib_to_mib(memory.text, memory.get("unit")) if memory is not None else None,
            "free_mib": None,
            "cpus": sorted(_int(c.get("id")) for c in cell.findall("cpus/cpu") if _int(c.get("id")) is not None),
        })
    return {
        "host_uuid": host.findtext("uuid") if host is not None else None,
        "arch": arch,
        "model": cpu.findtext("model") if cpu is not None else None,
        "sockets": _int(topo.get("sockets")) if topo is not None else None,
        "cores": _int(topo.get("cores")) if topo is not None else None,
        "threads": _int(topo.get("threads")) if topo is not None else None,
        "advertised": sorted(advertised),
        "numa": sorted(numa, key=lambda c: c["cell"]),
    }


def parse_domain(xml_text):
    """``{name, vcpus, memory_mib, active, placement}`` of a domain's XML: ``vcpus`` the current
    count (``<vcpu current=...>``), ``memory_mib`` the maximum (``<memory>``, what the guest may
    use), ``active`` whether the XML is a running one (it has an ``id``), ``placement`` the
    affinity groups recorded in its metadata."""
    root = ET.fromstring(xml_text)
    vcpu = root.find("vcpu")
    vcpus = 1
    if vcpu is not None:
        vcpus = _int(vcpu.get("current"), None) or _int(vcpu.text, 1)
    memory = root.find("memory")
    memory_mib = _kib_to_mib(memory.text, memory.get("unit")) if memory is not None else 0
    placement = {}
    mark = root.find("metadata/" + PLACEMENT_TAG)
    if mark is not None:
        for attr in PLACEMENT_ATTRS:
            if mark.get(attr):
                placement[attr] = mark.get(attr)
    return {"name": root.findtext("name"), "vcpus": vcpus, "memory_mib": memory_mib,
            "active": root.get("id") not in (None, "-1"), "placement": placement}


def summarize_domains(domains):
    """``(committed, instances, placement_groups)`` over parsed domains, each with ``state`` (one
    of ``STATE_KEYS``) and ``active`` set."""
    committed = {"vcpus": 0, "memory_mib": 0, "running_vcpus": 0, "running_memory_mib": 0}
    instances = dict((key, 0) for key in ("total",) + STATE_KEYS)
    groups = {"affinity": {}, "anti_affinity": {}}
    for dom in domains:
        committed["vcpus"] += dom["vcpus"]
        committed["memory_mib"] += dom["memory_mib"]
        if dom["active"]:
            committed["running_vcpus"] += dom["vcpus"]
            committed["running_memory_mib"] += dom["memory_mib"]
        instances["total"] += 1
        instances[dom["state"] if dom["state"] in STATE_KEYS else "other"] += 1
        for attr in PLACEMENT_ATTRS:
            group = (dom.get("placement") or {}).get(attr)
            if group:
                groups[attr].setdefault(group, []).append(dom["name"])
    for kind in groups.values():
        for members in kind.values():
            members.sort()
    return committed, instances, groups


def parse_pool(xml_text, info):
    """A pool's facts from its XML and ``virStoragePool.info()`` (``[state, capacity,
    allocation, available]``); the sizes are ``None`` while it is stopped."""
    root = ET.fromstring(xml_text)
    active = bool(info) and _int(info[0]) in (2, 4)  # VIR_STORAGE_POOL_RUNNING, _DEGRADED
    return {
        "name": root.findtext("name"),
        "type": root.get("type"),
        "active": active,
        "capacity_bytes": _int(info[1]) if active else None,
        "allocation_bytes": _int(info[2]) if active else None,
        "available_bytes": _int(info[3]) if active else None,
        "path": root.findtext("target/path"),
    }


def is_xen(uri, hypervisor):
    scheme = urlsplit(uri or "").scheme.split("+")[0].lower()
    return scheme in ("xen", "libxl") or (hypervisor or "").lower() in ("xen", "libxl", "xenlight")


def usable_types(advertised, probed):
    """Domain types a guest can really use: ``probed`` is the KVM probe's answer (``kvm`` or
    ``qemu``), or ``None`` when nothing was probed (then the advertised ones, unverified)."""
    if probed is None:
        return list(advertised)
    usable = []
    if probed == "kvm" and "kvm" in advertised:
        usable.append("kvm")
    if "qemu" in advertised:
        usable.append("qemu")
    return usable


# ---- reading a host ----------------------------------------------------------------------------

def _state_key(code, lv):
    if code == lv.VIR_DOMAIN_RUNNING:
        return "running"
    if code in (lv.VIR_DOMAIN_PAUSED, lv.VIR_DOMAIN_PMSUSPENDED):
        return "paused"
    if code == lv.VIR_DOMAIN_SHUTOFF:
        return "shut_off"
    return "other"


def read_domains(conn, lv):
    """Every defined domain (persistent or transient, running or not), parsed, with its state.
    A domain that goes away while being read is skipped."""
    with translated("list the instances", KIND):
        listed = conn.listAllDomains(0)
    domains = []
    for dom in listed:
        try:
            code = dom.state()[0]
            parsed = parse_domain(dom.XMLDesc(0))
        except lv.libvirtError as err:
            if err.get_error_code() == lv.VIR_ERR_NO_DOMAIN:
                continue
            raise
        parsed["state"] = _state_key(code, lv)
        parsed["active"] = parsed["active"] or parsed["state"] in ("running", "paused")
        domains.append(parsed)
    return domains


def read_pools(conn, lv):
    with translated("list the storage pools", KIND):
        listed = conn.listAllStoragePools(0)
    pools = []
    for pool in listed:
        try:
            pools.append(parse_pool(pool.XMLDesc(0), pool.info()))
        except lv.libvirtError as err:
            if err.get_error_code() == lv.VIR_ERR_NO_STORAGE_POOL:
                continue
            raise
    return sorted(pools, key=lambda p: p["name"] or "")


def probe_domain_type(conn, run_command=None, warnings=None, name=None):
    """The instance driver's KVM probe: ``kvm`` when a KVM test guest really runs, else ``qemu``;
    None when it cannot run (no kernel to boot on that host): then nothing is verified."""
    from ansible_collections.converge.virt.plugins.module_utils.libvirt import instance

    driver = instance.InstanceDriver(conn, run_command=run_command)
    if driver.local:
        kernel = instance._probe_kernel()  # pylint: disable=protected-access
    else:
        kernel = os.environ.get(instance.PROBE_KERNEL_ENV)
    cached = driver._probe_cache_path()  # pylint: disable=protected-access
    if not kernel and not (cached and os.path.exists(cached)):
        if warnings is not None:
            warnings.append("%sthe domain types could not be verified (no kernel to boot a test guest: set %s to "
                            "a kernel image on the host the task runs on); the advertised ones are reported as "
                            "usable" % ("%s: " % name if name else "", instance.PROBE_KERNEL_ENV))
        return None
    result = driver.resolve_virt_type()
    if warnings is not None:
        warnings.extend(getattr(driver, "_warnings", []))
    return result


def gather(conn, name, uri, probe=True, run_command=None, warnings=None):
    """The facts of one host (see the module docstring; keys documented in ``hypervisor_info``).

    ``run_command`` (an ``AnsibleModule.run_command``) only when the host is this machine: the KVM
    probe then finds a kernel under /boot.  ``warnings``, a list, receives the probe's notes."""
    lv = require_libvirt()
    with translated("read the host's capabilities and node info", KIND, name):
        caps = parse_capabilities(conn.getCapabilities())
        hostname = conn.getHostname()
        info = conn.getInfo()  # [arch, memory MiB, cpus, mhz, nodes, sockets, cores, threads]
        hypervisor = conn.getType()
        hypervisor_version = version_text(conn.getVersion())
        libvirt_version = version_text(conn.getLibVersion())
        stats = conn.getMemoryStats(lv.VIR_NODE_MEMORY_STATS_ALL_CELLS, 0)
        numa = caps["numa"]
        if numa:
            free = conn.getCellsFreeMemory(0, max(c["cell"] for c in numa) + 1)
            for cell in numa:
                cell["free_mib"] = int(free[cell["cell"]] // (1024 * 1024)) if cell["cell"] < len(free) else None
    with translated("read the instances", KIND, name):
        domains = read_domains(conn, lv)
    with translated("read the storage pools", KIND, name):
        pools = read_pools(conn, lv)
    committed, instances, groups = summarize_domains(domains)

    advertised = caps["advertised"]
    probed = None
    needs_probe = not is_xen(uri, hypervisor) and "kvm" in advertised
    if probe and needs_probe:
        with translated("probe the usable domain types", KIND, name):
            probed = probe_domain_type(conn, run_command, warnings, name)
    # Xen, no KVM advertised, or no probe: the capabilities are all there is
    usable = usable_types(advertised, probed)

    # "free" as the kernel counts it leaves out the page cache the kernel gives back on demand.
    total_kib = _int(stats.get("total"), _int(info[1], 0) * 1024)
    free_kib = sum(_int(stats.get(k), 0) for k in ("free", "buffers", "cached"))
    return {
        "name": name,
        "uri": uri,
        "hostname": hostname,
        "host_uuid": caps["host_uuid"],
        "libvirt_version": libvirt_version,
        "hypervisor": hypervisor,
        "hypervisor_version": hypervisor_version,
        "domain_types": {"advertised": advertised, "usable": usable, "verified": probed is not None or not needs_probe},
        "cpu": {
            "arch": caps["arch"] or info[0],
            "model": caps["model"],
            "count": _int(info[2]),
            "sockets": caps["sockets"] if caps["sockets"] is not None else _int(info[5]),
            "cores": caps["cores"] if caps["cores"] is not None else _int(info[6]),
            "threads": caps["threads"] if caps["threads"] is not None else _int(info[7]),
            "mhz": _int(info[3]),
        },
        "numa": numa,
        "memory": {"total_mib": total_kib // KIB_PER_MIB, "free_mib": free_kib // KIB_PER_MIB},
        "committed": committed,
        "instances": instances,
        "placement_groups": groups,
        "pools": pools,
    }


# ---- many hosts at once ------------------------------------------------------------------------

def gather_all(hypervisors, probe=True, run_command=None, opener=None, max_workers=16):
    """Facts of every hypervisor of a (checked) hypervisor list, read side by side, in the
    list's order: ``(results, warnings)``.  A host that cannot be read is ``{name, uri, error}``.

    ``opener(uri, readonly)`` opens a connection (default: the collection's ``open_connection``);
    the connection is read-write only when probing, which starts a short test guest."""
    from concurrent.futures import ThreadPoolExecutor

    from ansible_collections.converge.virt.plugins.module_utils.engine.errors import ConvergeError
    from ansible_collections.converge.virt.plugins.module_utils.libvirt.backend import is_local_uri
    from ansible_collections.converge.virt.plugins.module_utils.libvirt.connection import open_connection

    opener = opener or (lambda uri, readonly: open_connection(uri, readonly=readonly))

    def one(hypervisor):
        notes = []
        name, uri = hypervisor["name"], hypervisor["uri"]
        conn = None
        try:
            conn = opener(uri, not probe)
            facts = gather(conn, name, uri, probe=probe,
                           run_command=run_command if is_local_uri(uri) else None, warnings=notes)
        except ConvergeError as err:
            facts = {"name": name, "uri": uri, "error": str(err)}
        finally:
            if conn is not None:
                try:
                    conn.close()
                except Exception:  # pylint: disable=broad-exception-caught
                    pass
        return facts, ["%s: %s" % (name, note) for note in notes]

    hypervisors = list(hypervisors)
    if not hypervisors:
        return [], []
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(hypervisors)))) as pool:
        done = list(pool.map(one, hypervisors))
    return [facts for facts, _notes in done], [note for _facts, notes in done for note in notes]
