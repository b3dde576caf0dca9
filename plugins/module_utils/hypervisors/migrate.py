# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Moving an existing libvirt instance from one hypervisor to another, never by delete-and-recreate.

Three parts:

* ``gather_inputs(src_conn, dst_conn, name)`` reads (never writes) what the decision needs: the
  domain's state and disks on the source, the pools, volumes and domains of the destination.
* ``plan_migration(source, state, destination, requested_mode, requested_storage)`` is pure: it
  decides *live* or *offline*, *shared* or *copy*, lists the volumes to copy and where they land,
  and gives human reasons, or the problems that forbid the move.
* ``migrate(src_conn, dst_conn, name, mode, storage, ...)`` carries the plan out and returns a
  report.

Decisions (and why)
-------------------
* **Mode.**  A running or paused guest moves *live* (``virDomainMigrate3`` with ``LIVE |
  PERSIST_DEST | UNDEFINE_SOURCE``); a paused guest stays paused.  A shut-off guest moves
  *offline*.  A guest in any other state (crashed, shutting down, suspended to RAM) is refused.
  Asking for ``offline`` on a running guest is refused rather than stopping it: stopping is the
  caller's decision.
* **Shared storage** is decided per disk, from facts that libvirt shows: network disks
  (``<disk type='network'>``) and volumes of pools whose type is shared by nature (netfs, gluster,
  rbd, sheepdog, iscsi, iscsi-direct, mpath, vstorage) stay where they are.  A local pool (dir,
  fs, logical, disk, zfs, scsi) is never taken for shared storage, *even when the destination has
  a file at the same path*: two hosts' ``/var/lib/libvirt/images/a.qcow2`` are, as far as libvirt
  can tell, different files, and copying onto oneself would destroy the disk.  A directory that
  really is shared (NFS mounted by hand and defined as a ``dir`` pool) is declared by the caller
  with ``requested_storage='shared'``; the plan then checks that every disk is visible on the
  destination at the same path.
* **Copy.**  Every other disk is copied into the pool *of the same name* on the destination, as a
  volume of the same name, format and capacity.  The plan refuses when that pool is missing,
  inactive, of a type that cannot create volumes, or already holds a volume of that name (the
  move never overwrites), or when a file-backed disk is not a volume of any pool on the source.
  Live: writable disks are mirrored by QEMU over NBD (``NON_SHARED_DISK``; ``NON_SHARED_INC`` when
  every backing file of the copied disks exists on the destination: only the top layer travels;
  otherwise the chain is flattened into the destination volume).  libvirt does not mirror
  read-only disks (the cloud-init seed, CD-ROM images): those are streamed before the migration.
  Offline: every volume is streamed (``virStorageVolDownload`` / ``virStorageVolUpload``, which
  work over remote connections); raw volumes travel as sparse streams (holes are not sent).
  An offline copy of a volume with a backing file needs that file on the destination (the copied
  image names it); without it the move is refused.
* **NVRAM (UEFI variables).**  Live: QEMU carries the flash contents in the migration stream (the
  destination's file ends up byte-identical, measured), so it is allowed; the source is then
  undefined with ``VIR_DOMAIN_UNDEFINE_NVRAM`` after success instead of by ``UNDEFINE_SOURCE``, which
  would leave the source's NVRAM file behind.  Offline: libvirt has no API that copies the NVRAM
  file between hosts, so the move is *refused* (start the guest and migrate it live, or copy the
  file yourself); it is never silently reset from the template.
* Snapshots (their metadata stays behind) and a managed-save image of a shut-off guest (its memory
  would be lost) are refused.
* **Metadata** (ownership and placement marks) lives in the domain's ``<metadata>``: live, it
  travels in the persistent definition; offline, the definition is copied verbatim (only disk
  paths that change are edited).  Autostart is set again on the destination.

Failure half-way leaves the source instance where it was and runnable: what was created on the
destination (volumes, the definition) is removed, and the error says which phase failed.  The
source volumes are deleted only after the destination runs or holds the instance, and only those
that were copied.
"""

from __future__ import annotations

import copy
import posixpath
import threading
import time
import xml.etree.ElementTree as ET

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import (
    BackendError,
    Conflict,
    ConvergeError,
    NotFound,
    Timeout,
)
from ansible_collections.converge.virt.plugins.module_utils.libvirt.connection import require_libvirt
from ansible_collections.converge.virt.plugins.module_utils.libvirt.storage import send_all, volume_xml

KIND = "instance"
MODES = ("auto", "live", "offline")
STORAGES = ("auto", "shared", "copy")
# Pool types whose volumes every host of a cluster sees as the same storage.
SHARED_POOL_TYPES = frozenset(["netfs", "gluster", "rbd", "sheepdog", "iscsi", "iscsi-direct", "mpath",
                               "vstorage"])
# Pool types in which libvirt can create a volume (the destination of a copy).
CREATABLE_POOL_TYPES = frozenset(["dir", "fs", "netfs", "logical", "disk", "zfs", "rbd", "gluster",
                                  "vstorage"])
# Pool types whose volumes are files named <pool path>/<volume name>.
_FILE_POOL_TYPES = frozenset(["dir", "fs", "netfs"])
_STATES = {0: "no state", 1: "running", 2: "running", 3: "paused", 4: "shutting down", 5: "shut off",
           6: "crashed", 7: "pmsuspended"}
_STATE_ALIASES = {"shutoff": "shut off", "shut_off": "shut off", "stopped": "shut off", "blocked": "running"}
_POLL = 0.5
# What a finished live migration reports (virDomainGetJobStats with VIR_DOMAIN_JOB_STATS_COMPLETED).
_JOB_KEYS = ("time_elapsed", "downtime", "setup_time", "data_total", "memory_total", "memory_transferred",
             "memory_iteration", "disk_total", "disk_processed", "disk_bps", "memory_bps")
_MiB = 1024 * 1024


def state_name(code):
    """libvirt's domain state code as the word ``virsh domstate`` prints."""
    return _STATES.get(code, "unknown")


def _norm_state(state):
    state = str(state or "").strip().lower()
    return _STATE_ALIASES.get(state, state)


# ---- the plan (pure) ---------------------------------------------------------------------------
def plan_migration(source, state, destination, requested_mode="auto", requested_storage="auto"):
    """Decide how the instance described by ``source`` moves to ``destination``.

    ``source`` (from gather_inputs): ``{name, uuid, host_uuid, persistent, nvram, managed_save,
    snapshots, disks: [{target, device, readonly, type, path, pool, volume, pool_type, pool_path,
    format, capacity, allocation, backing: {path, format}|None}]}``.
    ``state``: ``running``, ``paused``, ``shut off`` (libvirt's words; ``stopped`` is accepted).
    ``destination``: ``{host, host_uuid, pools: {name: {type, path, active, available_bytes,
    volumes: [names]}}, existing_paths: [paths of volumes the destination has], name_taken,
    uuid_taken}``.

    Returns ``{name, state, mode, storage, incremental, volumes, shared, reasons, problems}``:
    ``mode`` live|offline, ``storage`` copy (some volume is copied) or shared; ``volumes``: the
    copies, each ``{target, device, readonly, format, capacity, allocation, backing, transfer
    (mirror: QEMU copies it during a live migration | stream: libvirt streams, before a live
    migration or offline), flatten, source: {pool, volume, path}, destination: {pool, volume,
    path}}``; ``shared``: targets of disks left in place; ``problems``: non-empty when the move is
    refused (then mode/storage say what was asked or would have been chosen)."""
    name = source.get("name")
    state = _norm_state(state)
    reasons = []
    problems = []
    if requested_mode not in MODES:
        problems.append("unknown migration mode %r (choose one of %s)" % (requested_mode, ", ".join(MODES)))
        requested_mode = "auto"
    if requested_storage not in STORAGES:
        problems.append("unknown storage choice %r (choose one of %s)" % (requested_storage, ", ".join(STORAGES)))
        requested_storage = "auto"

    # -- mode
    if state in ("running", "paused"):
        mode = "live"
        if requested_mode == "offline":
            problems.append("the instance is %s: an offline migration needs it shut off (stop it first, "
                            "or migrate it live)" % state)
            mode = "offline"
        else:
            reasons.append("the instance is %s: it moves live and stays %s" % (state, state))
    elif state == "shut off":
        mode = "offline"
        if requested_mode == "live":
            problems.append("the instance is shut off: only a running or paused instance can move live")
            mode = "live"
        else:
            reasons.append("the instance is shut off: its definition and volumes move offline")
    else:
        mode = "live" if requested_mode == "live" else "offline"
        problems.append("the instance is in state %r: only a running, paused or shut-off instance can move"
                        % (state or "unknown"))

    # -- the instance as a whole
    if destination.get("host_uuid") and destination.get("host_uuid") == source.get("host_uuid"):
        problems.append("source and destination are the same host (host UUID %s)" % source.get("host_uuid"))
    if destination.get("name_taken"):
        problems.append("the destination already has an instance named %r" % name)
    elif destination.get("uuid_taken"):
        problems.append("the destination already has an instance with UUID %s" % source.get("uuid"))
    if source.get("snapshots"):
        problems.append("the instance has %d snapshot(s); libvirt keeps their metadata on the source host: "
                        "delete them before moving it" % source["snapshots"])
    if mode == "offline" and source.get("managed_save"):
        problems.append("the instance has a managed-save image (its memory saved to disk) that an offline "
                        "move would lose: start it and migrate it live, or remove the saved state")
    if mode == "offline" and source.get("persistent") is False:
        problems.append("a transient instance cannot move offline")
    if source.get("nvram"):
        if mode == "offline":
            problems.append("the instance has UEFI variables in %s, which libvirt cannot copy between hosts: "
                            "start it and migrate it live (the variables travel in the migration stream), "
                            "or copy that file to the destination yourself" % source["nvram"])
        else:
            reasons.append("its UEFI variables (NVRAM) travel in the live migration stream")

    # -- storage, disk by disk
    volumes = []
    shared = []
    dst_pools = destination.get("pools") or {}
    existing = set(destination.get("existing_paths") or [])
    for disk in source.get("disks") or []:
        what = "disk %s" % disk.get("target")
        where = _disk_where(disk)
        if disk.get("type") == "network":
            shared.append(disk.get("target"))
            reasons.append("%s (%s) is a network disk: it stays where it is" % (what, where))
            continue
        if disk.get("pool_type") in SHARED_POOL_TYPES:
            shared.append(disk.get("target"))
            reasons.append("%s (%s) is on a %s pool, shared storage: it stays where it is"
                           % (what, where, disk["pool_type"]))
            continue
        if requested_storage == "shared":
            shared.append(disk.get("target"))
            if disk.get("path") and disk["path"] in existing:
                reasons.append("%s (%s): the destination has it at the same path; declared shared, "
                               "it is not copied" % (what, where))
            else:
                problems.append("%s (%s) was declared shared storage, but the destination has no volume at %s"
                                % (what, where, disk.get("path") or "that path"))
            continue
        if requested_storage == "copy" or requested_storage == "auto":
            problems.extend(_copy_problems(disk, what, where, mode, dst_pools, existing))
            volumes.append(_copy_entry(disk, mode, dst_pools, existing))
    storage = "copy" if volumes else "shared"
    if requested_storage == "copy" and not volumes:
        reasons.append("no disk needs a copy: every disk is on shared storage")
    incremental = False
    mirrored = [v for v in volumes if v["transfer"] == "mirror"]
    if mirrored:
        backed = [v for v in mirrored if v["backing"]]
        incremental = bool(backed) and all(v["backing"]["path"] in existing for v in backed)
        if incremental:
            reasons.append("the backing files of the copied disks exist on the destination: only the top "
                           "layers are copied (incremental)")
        elif backed:
            for vol in backed:
                vol["flatten"] = True
            reasons.append("backing files missing on the destination (%s): the copied disks are flattened "
                           "(full copy)" % ", ".join(sorted(set(v["backing"]["path"] for v in backed))))
        reasons.append("QEMU copies %s over NBD while the guest runs" % _names(mirrored))
    streamed = [v for v in volumes if v["transfer"] == "stream"]
    if streamed:
        if mode == "live":
            reasons.append("read-only %s (libvirt does not mirror read-only disks) streamed before the "
                           "migration" % _names(streamed))
        else:
            reasons.append("%s streamed into the destination's pools" % _names(streamed))
    for vol in volumes:
        reasons.append("%s/%s lands in %s/%s on the destination" % (
            vol["source"]["pool"], vol["source"]["volume"], vol["destination"]["pool"],
            vol["destination"]["volume"]))
    if volumes:
        reasons.append("the copied source volumes are deleted once the destination has the instance")
    return {"name": name, "state": state, "mode": mode, "storage": storage, "incremental": incremental,
            "volumes": volumes, "shared": shared, "reasons": reasons, "problems": problems}


def _disk_where(disk):
    if disk.get("pool") and disk.get("volume"):
        return "%s/%s" % (disk["pool"], disk["volume"])
    return disk.get("path") or "no source"


def _names(vols):
    return ("volume " if len(vols) == 1 else "volumes ") + ", ".join(
        "%s/%s" % (v["source"]["pool"], v["source"]["volume"]) for v in vols)


def _copy_problems(disk, what, where, mode, dst_pools, existing):
    problems = []
    if not disk.get("pool") or not disk.get("volume"):
        return ["%s (%s) is not a volume of any storage pool on the source, so it cannot be copied: define a "
                "pool over its directory, or put it on shared storage" % (what, where)]
    pool = dst_pools.get(disk["pool"])
    if pool is None:
        return ["%s (%s) needs a storage pool named %r on the destination, which has none (pools there: %s)"
                % (what, where, disk["pool"], ", ".join(sorted(dst_pools)) or "none")]
    if not pool.get("active"):
        problems.append("%s: storage pool %r on the destination is not running" % (what, disk["pool"]))
    if pool.get("type") and pool["type"] not in CREATABLE_POOL_TYPES:
        problems.append("%s: storage pool %r on the destination is of type %s, in which libvirt cannot create "
                        "volumes" % (what, disk["pool"], pool["type"]))
    if disk["volume"] in (pool.get("volumes") or ()):
        problems.append("%s: the destination's pool %r already has a volume named %r; the move never "
                        "overwrites (remove it, or it may be a copy left by an earlier attempt)"
                        % (what, disk["pool"], disk["volume"]))
    need = disk.get("allocation") or 0
    available = pool.get("available_bytes")
    if available is not None and need > available:
        problems.append("%s: pool %r on the destination has %d MiB available, the volume uses %d MiB"
                        % (what, disk["pool"], available // _MiB, -(-need // _MiB)))
    backing = disk.get("backing")
    streamed = mode == "offline" or disk.get("readonly")
    if backing and streamed and backing.get("path") not in existing:
        problems.append("%s (%s) has the backing file %s, which the destination lacks: copy that image to the "
                        "destination first (an offline copy moves only the top layer)" % (what, where, backing.get("path")))
    return problems


def _copy_entry(disk, mode, dst_pools, existing):
    pool = dst_pools.get(disk.get("pool")) or {}
    transfer = "mirror" if mode == "live" and not disk.get("readonly") else "stream"
    dst_path = None
    if pool.get("path") and pool.get("type") in _FILE_POOL_TYPES and disk.get("volume"):
        dst_path = posixpath.join(pool["path"], disk["volume"])
    elif pool.get("path") and pool.get("type") == "logical" and disk.get("volume"):
        dst_path = posixpath.join(pool["path"], disk["volume"])
    backing = dict(disk["backing"]) if disk.get("backing") else None
    return {
        "target": disk.get("target"),
        "device": disk.get("device") or "disk",
        "readonly": bool(disk.get("readonly")),
        "disk_type": disk.get("type") or "volume",
        "format": disk.get("format") or "raw",
        "capacity": disk.get("capacity") or 0,
        "allocation": disk.get("allocation") or 0,
        "backing": backing,
        "flatten": False,
        "transfer": transfer,
        "source": {"pool": disk.get("pool"), "volume": disk.get("volume"), "path": disk.get("path")},
        "destination": {"pool": disk.get("pool"), "volume": disk.get("volume"), "path": dst_path},
    }


def require_feasible(plan, src_host=None, dst_host=None):
    """Raise Conflict listing every problem of ``plan``; return the plan when it has none."""
    if plan["problems"]:
        where = ""
        if src_host or dst_host:
            where = " from %s to %s" % (src_host or "?", dst_host or "?")
        raise Conflict("cannot migrate%s: %s" % (where, "; ".join(plan["problems"])), kind=KIND,
                       name=plan.get("name"), details={"plan": plan})
    return plan


# ---- XML helpers (pure) ------------------------------------------------------------------------
def domain_disks(xml_text):
    """Disks of a domain definition that have a source: ``[{target, device, readonly, type, path, pool,
    volume}]`` (empty CD-ROM drives are skipped)."""
    root = ET.fromstring(xml_text)
    disks = []
    for disk in root.findall("devices/disk"):
        src = disk.find("source")
        target = disk.find("target")
        if src is None:
            continue
        dtype = disk.get("type") or "file"
        entry = {"target": target.get("dev") if target is not None else None,
                 "device": disk.get("device") or "disk",
                 "readonly": disk.find("readonly") is not None,
                 "type": dtype, "path": None, "pool": None, "volume": None}
        if dtype == "volume":
            entry["pool"], entry["volume"] = src.get("pool"), src.get("volume")
        elif dtype in ("file", "block", "dir"):
            entry["path"] = src.get("file") or src.get("dev") or src.get("dir")
            if not entry["path"]:
                continue
        elif dtype == "network":
            entry["path"] = "%s:%s" % (src.get("protocol"), src.get("name"))
        disks.append(entry)
    return disks


def nvram_path(xml_text):
    node = ET.fromstring(xml_text).find("os/nvram")
    if node is None:
        return None
    return (node.text or "").strip() or node.get("template") or "(libvirt's default path)"


def rewrite_disk_paths(xml_text, mapping, volumes_as_files=None):
    """The domain XML with file/block disk sources moved per ``mapping`` {old path: new path}, and
    volume disks turned into file disks per ``volumes_as_files`` {(pool, volume): path} (block disks
    for paths under /dev); everything else, ``<metadata>`` included, is kept as it is."""
    volumes_as_files = volumes_as_files or {}
    if not mapping and not volumes_as_files:
        return xml_text
    root = ET.fromstring(xml_text)
    for disk in root.findall("devices/disk"):
        src = disk.find("source")
        if src is None:
            continue
        for attr in ("file", "dev"):
            if src.get(attr) in mapping:
                src.set(attr, mapping[src.get(attr)])
        key = (src.get("pool"), src.get("volume"))
        if disk.get("type") == "volume" and key in volumes_as_files:
            path = volumes_as_files[key]
            block = path.startswith("/dev/")
            disk.set("type", "block" if block else "file")
            for attr in ("pool", "volume", "mode"):
                src.attrib.pop(attr, None)
            src.set("dev" if block else "file", path)
    return ET.tostring(root, encoding="unicode")


def describe_job(name, stats, elapsed):
    """One progress line from ``virDomainGetJobStats`` (or jobInfo turned into the same keys)."""
    parts = []
    mem_total = stats.get("memory_total")
    if mem_total:
        parts.append("memory %d/%d MiB" % (stats.get("memory_processed", 0) // _MiB, mem_total // _MiB))
    disk_total = stats.get("disk_total")
    if disk_total:
        parts.append("disks %d/%d MiB" % (stats.get("disk_processed", 0) // _MiB, disk_total // _MiB))
    if not parts and stats.get("data_total"):
        parts.append("%d/%d MiB" % (stats.get("data_processed", 0) // _MiB, stats["data_total"] // _MiB))
    if stats.get("memory_iteration"):
        parts.append("pass %d" % stats["memory_iteration"])
    return "migrating %s: %s (%.1f s)" % (name, ", ".join(parts) or "starting", elapsed)


# ---- gathering the inputs (read-only) ----------------------------------------------------------
def _host_uuid(conn):
    try:
        return ET.fromstring(conn.getCapabilities()).findtext("host/uuid")
    except Exception:  # the decision does not depend on it; libvirt refuses the same host itself
        return None


def _host(conn):
    try:
        return conn.getHostname()
    except Exception:  # some drivers cannot say
        return conn.getURI()


def _pool_facts(pool):
    root = ET.fromstring(pool.XMLDesc(0))
    active = bool(pool.isActive())
    info = pool.info() if active else [0, 0, 0, 0]
    return {"type": root.get("type"), "path": (root.findtext("target/path") or "").strip() or None,
            "active": active, "available_bytes": info[3] if active else None}


def _volume_facts(vol):
    root = ET.fromstring(vol.XMLDesc(0))
    fmt = root.find("target/format")
    backing = None
    store = root.find("backingStore")
    if store is not None and (store.findtext("path") or "").strip():
        bfmt = store.find("format")
        backing = {"path": store.findtext("path").strip(), "format": bfmt.get("type") if bfmt is not None else None}
    info = vol.info()
    return {"format": fmt.get("type") if fmt is not None else None, "capacity": info[1], "allocation": info[2],
            "backing": backing, "path": vol.path()}


def gather_inputs(src_conn, dst_conn, name):
    """``(source, state, destination)`` for plan_migration, read from the two connections."""
    lv = require_libvirt()
    try:
        dom = src_conn.lookupByName(name)
    except lv.libvirtError as err:
        raise NotFound("no instance named %r on %s" % (name, _host(src_conn)), kind=KIND, name=name) from err
    try:
        state = state_name(dom.state()[0])
        persistent = bool(dom.isPersistent())
        text = dom.XMLDesc(lv.VIR_DOMAIN_XML_INACTIVE if persistent else 0)
        source = {"name": name, "uuid": dom.UUIDString(), "host_uuid": _host_uuid(src_conn),
                  "persistent": persistent, "autostart": bool(dom.autostart()) if persistent else False,
                  "nvram": nvram_path(text),
                  "managed_save": bool(persistent and dom.hasManagedSaveImage(0)),
                  "snapshots": dom.snapshotNum(0), "disks": []}
        pools = {}
        for disk in domain_disks(text):
            disk.update({"pool_type": None, "pool_path": None, "format": None, "capacity": None,
                         "allocation": None, "backing": None})
            vol = None
            if disk["type"] == "volume":
                pool = src_conn.storagePoolLookupByName(disk["pool"])
                vol = pool.storageVolLookupByName(disk["volume"])
            elif disk["type"] in ("file", "block"):
                try:
                    vol = src_conn.storageVolLookupByPath(disk["path"])
                except lv.libvirtError:
                    vol = None  # a file no pool knows: the plan says it cannot be copied
                if vol is not None:
                    pool = vol.storagePoolLookupByVolume()
                    disk["pool"], disk["volume"] = pool.name(), vol.name()
            if vol is not None:
                if disk["pool"] not in pools:
                    pools[disk["pool"]] = _pool_facts(src_conn.storagePoolLookupByName(disk["pool"]))
                disk["pool_type"] = pools[disk["pool"]]["type"]
                disk["pool_path"] = pools[disk["pool"]]["path"]
                facts = _volume_facts(vol)
                disk["path"] = disk["path"] or facts.pop("path")
                facts.pop("path", None)
                disk.update(facts)
            source["disks"].append(disk)
    except lv.libvirtError as err:
        raise BackendError("failed to read instance %s on %s: %s" % (name, _host(src_conn), err.get_error_message()),
                           kind=KIND, name=name) from err

    try:
        destination = {"host": _host(dst_conn), "host_uuid": _host_uuid(dst_conn), "pools": {},
                       "existing_paths": [], "name_taken": False, "uuid_taken": False}
        try:
            dst_conn.lookupByName(name)
            destination["name_taken"] = True
        except lv.libvirtError:
            pass
        try:
            dst_conn.lookupByUUIDString(source["uuid"])
            destination["uuid_taken"] = True
        except lv.libvirtError:
            pass
        wanted = set(d["pool"] for d in source["disks"] if d.get("pool"))
        for pool in dst_conn.listAllStoragePools(0):
            if pool.name() not in wanted:
                continue
            facts = _pool_facts(pool)
            facts["volumes"] = sorted(pool.listVolumes()) if facts["active"] else []
            destination["pools"][pool.name()] = facts
        paths = set()
        for disk in source["disks"]:
            for path in (disk.get("path"), (disk.get("backing") or {}).get("path")):
                if path and path not in paths and disk["type"] != "network":
                    paths.add(path)
                    try:
                        dst_conn.storageVolLookupByPath(path)
                        destination["existing_paths"].append(path)
                    except lv.libvirtError:
                        pass
    except lv.libvirtError as err:
        raise BackendError("failed to read the destination %s: %s" % (_host(dst_conn), err.get_error_message()),
                           kind=KIND, name=name) from err
    return source, state, destination


# ---- carrying it out ----------------------------------------------------------------------------
def migrate(src_conn, dst_conn, name, mode="auto", storage="auto", migrate_uri=None, disks_uri=None,
            timeout=600, progress=None, bandwidth=None):
    """Move instance ``name`` from ``src_conn`` to ``dst_conn`` (see the module doc).

    ``mode``: auto|live|offline; ``storage``: auto|shared|copy (``shared``: the caller declares the
    local pools shared).  ``migrate_uri`` (``VIR_MIGRATE_PARAM_URI``, e.g. ``tcp://hv2`` or
    ``unix:///path``) and ``disks_uri`` (``VIR_MIGRATE_PARAM_DISKS_URI``, the NBD server) are passed
    to libvirt as given.  ``timeout`` (seconds) bounds the live migration job (it is aborted) and the
    whole offline copy.  ``bandwidth``: MiB/s cap of a live migration.  ``progress(msg)`` gets
    human progress lines.

    Returns ``{name, mode, storage, incremental, source, destination, uuid, state, flags, volumes:
    [{target, source, destination, transfer, bytes, sparse}], job (live: libvirt's completed-job
    statistics), deleted_source_volumes, seconds: {plan, prepare, transfer, finish, total},
    reasons, warnings}``.  Raises Conflict (refused: nothing
    changed), Timeout or BackendError (the source instance is intact; what was made on the
    destination is removed)."""
    lv = require_libvirt()
    say = progress or (lambda _msg: None)
    started = time.monotonic()
    src_host, dst_host = _host(src_conn), _host(dst_conn)
    source, state, destination = gather_inputs(src_conn, dst_conn, name)
    plan = require_feasible(plan_migration(source, state, destination, mode, storage), src_host, dst_host)
    report = {"name": name, "mode": plan["mode"], "storage": plan["storage"], "incremental": plan["incremental"],
              "source": src_host, "destination": dst_host, "uuid": source["uuid"], "state": None, "flags": [],
              "job": {}, "volumes": [], "deleted_source_volumes": [], "seconds": {"plan": round(time.monotonic() - started, 3)},
              "reasons": plan["reasons"], "warnings": []}
    say("migrating %s from %s to %s: %s, storage %s" % (name, src_host, dst_host, plan["mode"], plan["storage"]))
    job = _Job(lv, src_conn, dst_conn, name, plan, report, say)
    try:
        if plan["mode"] == "live":
            job.live(source, migrate_uri, disks_uri, timeout, bandwidth)
        else:
            job.offline(source, timeout)
    except BaseException as err:
        job.rollback(err)
        raise
    job.finish(source)
    report["seconds"]["total"] = round(time.monotonic() - started, 3)
    say("migrated %s to %s (%s) in %.1f s" % (name, dst_host, report["state"], report["seconds"]["total"]))
    return report


class _Job(object):
    """One migration under way: what it created on the destination, so that a failure can undo it."""

    def __init__(self, lv, src_conn, dst_conn, name, plan, report, say):
        self.lv = lv
        self.src = src_conn
        self.dst = dst_conn
        self.name = name
        self.plan = plan
        self.report = report
        self.say = say
        self.created = []  # destination volumes made by this job
        self.defined = None  # the destination domain this job defined (offline)
        self.phase = "prepare"
        self.moved = False
        self.last_stats = {}

    # -- helpers
    def _fail(self, what, err, cls=BackendError):
        msg = err.get_error_message() if isinstance(err, self.lv.libvirtError) else str(err)
        return cls("migration from %s to %s failed while %s: %s" % (
            self.report["source"], self.report["destination"], what, msg), kind=KIND, name=self.name)

    def _tick(self, key, since):
        self.report["seconds"][key] = round(time.monotonic() - since, 3)

    def _create_volumes(self, vols):
        for vol in vols:
            dst = vol["destination"]
            backing = None if vol["flatten"] else vol["backing"]
            fmt = vol["format"]
            try:
                pool = self.dst.storagePoolLookupByName(dst["pool"])
                new = pool.createXML(volume_xml(dst["volume"], vol["capacity"], fmt, backing=backing), 0)
            except self.lv.libvirtError as err:
                raise self._fail("creating volume %s/%s on the destination" % (dst["pool"], dst["volume"]), err)
            self.created.append(new)
            dst["path"] = new.path()

    def _stream_volumes(self, vols, deadline):
        for vol in vols:
            src, dst = vol["source"], vol["destination"]
            what = "copying volume %s/%s" % (src["pool"], src["volume"])
            self.say("%s (%d MiB)" % (what, -(-vol["allocation"] // _MiB)))
            try:
                svol = self.src.storagePoolLookupByName(src["pool"]).storageVolLookupByName(src["volume"])
                dvol = self.dst.storagePoolLookupByName(dst["pool"]).storageVolLookupByName(dst["volume"])
                sparse = vol["format"] == "raw"
                sent = copy_volume(self.lv, self.src, svol, self.dst, dvol, sparse=sparse,
                                   deadline=deadline, progress=self.say, what="%s/%s" % (src["pool"], src["volume"]))
            except self.lv.libvirtError as err:
                raise self._fail(what, err)
            self._record(vol, sent, sparse)

    def _record(self, vol, sent, sparse=False):
        self.report["volumes"].append({"target": vol["target"], "source": dict(vol["source"]),
                                       "destination": dict(vol["destination"]), "transfer": vol["transfer"],
                                       "bytes": sent, "sparse": sparse})

    def _path_map(self):
        return dict((v["source"]["path"], v["destination"]["path"]) for v in self.plan["volumes"]
                    if v["disk_type"] in ("file", "block") and v["source"]["path"] and v["destination"]["path"]
                    and v["source"]["path"] != v["destination"]["path"])

    # -- live
    def live(self, source, migrate_uri, disks_uri, timeout, bandwidth):
        lv = self.lv
        since = time.monotonic()
        deadline = since + timeout
        self._create_volumes(self.plan["volumes"])
        self._stream_volumes([v for v in self.plan["volumes"] if v["transfer"] == "stream"], deadline)
        self._tick("prepare", since)
        mirrored = [v for v in self.plan["volumes"] if v["transfer"] == "mirror"]
        flags = lv.VIR_MIGRATE_LIVE | lv.VIR_MIGRATE_PERSIST_DEST
        names = ["VIR_MIGRATE_LIVE", "VIR_MIGRATE_PERSIST_DEST"]
        if not source.get("nvram"):
            flags |= lv.VIR_MIGRATE_UNDEFINE_SOURCE
            names.append("VIR_MIGRATE_UNDEFINE_SOURCE")
        # else UNDEFINE_SOURCE would leave the source's NVRAM file behind (measured, libvirt 9.0): finish()
        # undefines the source with VIR_DOMAIN_UNDEFINE_NVRAM instead.
        params = {}
        if mirrored:
            if self.plan["incremental"]:
                flags |= lv.VIR_MIGRATE_NON_SHARED_INC
                names.append("VIR_MIGRATE_NON_SHARED_INC")
            else:
                flags |= lv.VIR_MIGRATE_NON_SHARED_DISK
                names.append("VIR_MIGRATE_NON_SHARED_DISK")
            params[lv.VIR_MIGRATE_PARAM_MIGRATE_DISKS] = [v["target"] for v in mirrored]
            if disks_uri:
                params[lv.VIR_MIGRATE_PARAM_DISKS_URI] = disks_uri
        if migrate_uri:
            params[lv.VIR_MIGRATE_PARAM_URI] = migrate_uri
        if bandwidth:
            params[lv.VIR_MIGRATE_PARAM_BANDWIDTH] = int(bandwidth)
        try:
            dom = self.src.lookupByName(self.name)
            mapping = self._path_map()
            # libvirt refuses an incremental copy onto volume disks ("pre-creation of storage targets for
            # incremental storage migration is not supported": it cannot see that a <source pool volume>
            # exists): the destination's running definition names our pre-created files by path, while
            # its persistent definition keeps the volumes.
            as_files = {}
            if self.plan["incremental"]:
                as_files = dict(((v["source"]["pool"], v["source"]["volume"]), v["destination"]["path"])
                                for v in mirrored if v["disk_type"] == "volume" and v["destination"]["path"])
            if mapping or as_files:
                params[lv.VIR_MIGRATE_PARAM_DEST_XML] = rewrite_disk_paths(
                    dom.XMLDesc(lv.VIR_DOMAIN_XML_MIGRATABLE | lv.VIR_DOMAIN_XML_SECURE), mapping, as_files)
                params[lv.VIR_MIGRATE_PARAM_PERSIST_XML] = rewrite_disk_paths(
                    dom.XMLDesc(lv.VIR_DOMAIN_XML_MIGRATABLE | lv.VIR_DOMAIN_XML_SECURE
                                | lv.VIR_DOMAIN_XML_INACTIVE), mapping)
        except lv.libvirtError as err:
            raise self._fail("reading the instance's definition", err)
        self.report["flags"] = names
        self.phase = "transfer"
        since = time.monotonic()
        result = {}

        def run():
            try:
                result["dom"] = dom.migrate3(self.dst, params, flags)
            except BaseException as err:  # handed to the waiting thread
                result["error"] = err

        worker = threading.Thread(target=run, name="migrate-%s" % self.name)
        worker.daemon = True
        worker.start()
        aborted = None
        last = 0.0
        while worker.is_alive():
            worker.join(_POLL)
            now = time.monotonic()
            if not worker.is_alive():
                break
            if now >= deadline and aborted is None:
                aborted = now - since
                self.say("migrating %s: no end after %.0f s, aborting the job" % (self.name, aborted))
                try:
                    dom.abortJob()
                except lv.libvirtError:
                    pass  # the job ended between the check and the abort
            if now - last >= 1.0:
                last = now
                try:
                    self.last_stats = dom.jobStats(0)
                except lv.libvirtError:
                    continue  # no job yet, or it just ended
                self.say(describe_job(self.name, self.last_stats, now - since))
        self._tick("transfer", since)
        if "error" in result:
            err = result["error"]
            if aborted is not None:
                raise Timeout("migration from %s to %s did not finish within %d s and was aborted after %.1f s"
                              % (self.report["source"], self.report["destination"], timeout, aborted),
                              kind=KIND, name=self.name, hint="raise the timeout, or the bandwidth, or use a faster "
                              "migration network")
            if isinstance(err, lv.libvirtError):
                raise self._fail("migrating it live", err)
            raise err
        self.moved = True
        for vol in mirrored:
            self._record(vol, None)  # QEMU copies them; the totals are in report["job"]

    # -- offline
    def offline(self, source, timeout):
        lv = self.lv
        since = time.monotonic()
        deadline = since + timeout
        try:
            dom = self.src.lookupByName(self.name)
            flags = lv.VIR_DOMAIN_XML_INACTIVE | lv.VIR_DOMAIN_XML_SECURE | lv.VIR_DOMAIN_XML_MIGRATABLE
            text = dom.XMLDesc(flags)
        except lv.libvirtError as err:
            raise self._fail("reading the instance's definition", err)
        self._create_volumes(self.plan["volumes"])
        self._tick("prepare", since)
        self.phase = "transfer"
        since = time.monotonic()
        self._stream_volumes(self.plan["volumes"], deadline)
        self._tick("transfer", since)
        try:
            if dom.isActive():
                raise Conflict("the instance was started on %s while its volumes were copied; nothing moved"
                               % self.report["source"], kind=KIND, name=self.name)
            self.defined = self.dst.defineXML(rewrite_disk_paths(text, self._path_map()))
        except lv.libvirtError as err:
            raise self._fail("defining it on the destination", err)
        try:
            dom.undefineFlags(getattr(lv, "VIR_DOMAIN_UNDEFINE_KEEP_NVRAM", 0))
        except lv.libvirtError as err:
            raise self._fail("undefining it on the source", err)
        self.moved = True

    # -- after success
    def finish(self, source):
        lv = self.lv
        since = time.monotonic()
        self.phase = "finish"
        if self.plan["mode"] == "live" and source.get("nvram"):
            try:
                old = self.src.lookupByName(self.name)
                if not old.isActive():
                    old.undefineFlags(lv.VIR_DOMAIN_UNDEFINE_NVRAM)
                    self.report["flags"].append("VIR_DOMAIN_UNDEFINE_NVRAM")
            except lv.libvirtError as err:
                self.report["warnings"].append("the stale definition on the source (and its NVRAM file) could not "
                                               "be removed: %s; undefine it with --nvram by hand"
                                               % err.get_error_message())
        try:
            dom = self.dst.lookupByName(self.name)
            if source.get("autostart"):
                dom.setAutostart(1)
            self.report["state"] = state_name(dom.state()[0])
            if self.plan["mode"] == "live":
                stats = dom.jobStats(lv.VIR_DOMAIN_JOB_STATS_COMPLETED)
                self.report["job"] = dict((k, stats[k]) for k in _JOB_KEYS if k in stats)
                if not stats.get("disk_total") and self.last_stats.get("disk_total"):
                    # The destination's statistics leave the disks out: the source's last look at them.
                    for key in ("disk_total", "disk_processed"):
                        self.report["job"][key] = self.last_stats.get(key)
        except lv.libvirtError as err:
            self.report["warnings"].append("could not read the instance on the destination afterwards: %s"
                                           % err.get_error_message())
        for vol in self.plan["volumes"]:
            src = vol["source"]
            try:
                self.src.storagePoolLookupByName(src["pool"]).storageVolLookupByName(src["volume"]).delete(0)
                self.report["deleted_source_volumes"].append("%s/%s" % (src["pool"], src["volume"]))
            except lv.libvirtError as err:
                self.report["warnings"].append("the copied source volume %s/%s could not be deleted (%s): remove it "
                                               "by hand" % (src["pool"], src["volume"], err.get_error_message()))
        self._tick("finish", since)

    # -- after failure
    def rollback(self, err):
        """Undo what this job made on the destination, unless the instance already moved."""
        lv = self.lv
        if self.moved:
            return
        notes = []
        on_source = _state_on(lv, self.src, self.name)
        on_dest = _state_on(lv, self.dst, self.name) if self.defined is None else None
        if on_dest is not None and on_dest != "shut off":
            # libvirt reported an error, yet the guest runs on the destination (a failure after the
            # switch-over): its volumes there are in use, so nothing is removed.
            if isinstance(err, ConvergeError):
                err.msg = ("%s; the instance is %s on %s and %s on %s: check both hosts, nothing was removed"
                           % (err.msg, on_dest, self.report["destination"], on_source or "absent",
                              self.report["source"]))
                err.details.setdefault("report", copy.deepcopy(self.report))
            return
        if self.defined is not None:
            try:
                self.defined.undefineFlags(getattr(lv, "VIR_DOMAIN_UNDEFINE_KEEP_NVRAM", 0))
            except lv.libvirtError as exc:
                notes.append("the definition on the destination could not be removed: %s" % exc.get_error_message())
        for vol in reversed(self.created):
            # The destination's QEMU may still be letting go of the volume after an abort: retry a little.
            for attempt in range(10):
                try:
                    vol.delete(0)
                    break
                except lv.libvirtError as exc:
                    if exc.get_error_code() == lv.VIR_ERR_NO_STORAGE_VOL:
                        break
                    if attempt == 9:
                        notes.append("volume %s on the destination could not be removed: %s" % (
                            vol.name(), exc.get_error_message()))
                    else:
                        time.sleep(0.5)
        if isinstance(err, ConvergeError):
            if notes:
                err.msg = "%s; %s" % (err.msg, "; ".join(notes))
            elif on_source is None:
                err.msg = "%s; the instance is no longer on %s%s" % (
                    err.msg, self.report["source"],
                    ", and what was created on the destination was removed" if self.created else "")
            else:
                err.msg = "%s; the instance is still on %s (%s)%s" % (
                    err.msg, self.report["source"], on_source,
                    ", and what was created on the destination was removed" if self.created else "")
            err.details.setdefault("report", copy.deepcopy(self.report))


def _state_on(lv, conn, name):
    """The state of ``name`` on ``conn`` (state_name), or None when that host does not have it."""
    try:
        return state_name(conn.lookupByName(name).state()[0])
    except lv.libvirtError:
        return None


def copy_volume(lv, src_conn, src_vol, dst_conn, dst_vol, sparse=False, deadline=None, progress=None, what=None):
    """Stream the bytes of ``src_vol`` into ``dst_vol`` (both may be on remote connections).  Sparse
    streams skip holes (only for a destination that is all holes, such as a new raw volume).
    Returns the number of data bytes sent."""
    dflags = lv.VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM if sparse else 0
    uflags = lv.VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM if sparse else 0
    down = src_conn.newStream(0)
    up = dst_conn.newStream(0)
    done = {"data": 0, "holes": 0, "said": time.monotonic()}
    what = what or src_vol.name()

    def check():
        now = time.monotonic()
        if deadline is not None and now > deadline:
            raise Timeout("copying volume %s took longer than the timeout" % what, kind=KIND)
        if progress and now - done["said"] >= 1.0:
            done["said"] = now
            progress("copying %s: %d MiB sent, %d MiB of holes skipped" % (
                what, done["data"] // _MiB, done["holes"] // _MiB))

    def on_data(_stream, data, _opaque):
        send_all(up, data, "the destination stream refused data while copying %s" % what)
        done["data"] += len(data)
        check()
        return len(data)

    def on_hole(_stream, length, _opaque):
        up.sendHole(length, 0)
        done["holes"] += length
        check()
        return 0

    try:
        src_vol.download(down, 0, 0, dflags)
        dst_vol.upload(up, 0, 0, uflags)
        if sparse:
            down.sparseRecvAll(on_data, on_hole, None)
        else:
            down.recvAll(on_data, None)
        down.finish()
        up.finish()
    except BaseException:
        for stream in (down, up):
            try:
                stream.abort()
            except Exception:  # already closed; the first error is the one to report
                pass
        raise
    return done["data"]
