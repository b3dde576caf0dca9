# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Storage reads shared by the pool, image and volume drivers.

Everything here reads (or builds a definition); the drivers of each kind own their writes.
Reads are batched where libvirt allows it: one ``listAllStoragePools`` / ``listAllVolumes`` / ``listAllDomains`` call,
then one XML read per object.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import BackendError, NotFound
from ansible_collections.converge.virt.plugins.module_utils.libvirt.connection import (
    require_libvirt,
    translated,
)

# Chunk size of stream transfers.  libvirt streams cap one message at 256 KiB.
CHUNK = 256 * 1024


def _int(elem, path):
    node = elem.find(path)
    if node is None or node.text is None:
        return None
    return int(node.text.strip()) * _unit(node.get("unit"))


def _unit(unit):
    return {None: 1, "bytes": 1, "B": 1, "KiB": 1024, "K": 1024, "MiB": 1024 ** 2, "M": 1024 ** 2,
            "GiB": 1024 ** 3, "G": 1024 ** 3, "TiB": 1024 ** 4, "T": 1024 ** 4}.get(unit, 1)


# ---- pools -------------------------------------------------------------------------------
def find_pool(conn, name, kind=None, owner=None):
    """The libvirt pool named ``name``; NotFound names the pools that do exist."""
    lv = require_libvirt()
    try:
        return conn.storagePoolLookupByName(name)
    except lv.libvirtError as err:
        if err.get_error_code() != lv.VIR_ERR_NO_STORAGE_POOL:
            raise BackendError("failed to look up pool %s: %s" % (name, err.get_error_message()),
                               kind=kind, name=owner)
    with translated("list storage pools", kind, owner):
        names = sorted(p.name() for p in conn.listAllStoragePools())
    raise NotFound("storage pool %r does not exist (pools here: %s)" % (name, ", ".join(names) or "none"),
                   kind=kind, name=owner, hint="create it first with converge.virt.pool")


def pool_info(pool):
    """Type, target path and activity of a pool, from one XML read."""
    with translated("read pool %s" % pool.name()):
        root = ET.fromstring(pool.XMLDesc(0))
        active = bool(pool.isActive())
    target = root.find("target/path")
    return {
        "name": pool.name(),
        "type": root.get("type"),
        "path": target.text.strip() if target is not None and target.text else None,
        "active": active,
    }


def require_active(pool, kind=None, owner=None):
    if not pool.isActive():
        raise BackendError("storage pool %r is not running" % pool.name(), kind=kind, name=owner,
                           hint="start it (converge.virt.pool with active: true)")


# ---- volumes -----------------------------------------------------------------------------
def parse_volume_xml(text, pool_name=None):
    """Normalized facts of a volume from its XML (see volume_state)."""
    root = ET.fromstring(text)
    fmt = root.find("target/format")
    backing = None
    store = root.find("backingStore")
    if store is not None and store.find("path") is not None and store.findtext("path"):
        bfmt = store.find("format")
        backing = {"path": store.findtext("path").strip(),
                   "format": bfmt.get("type") if bfmt is not None else None}
    mtime = root.findtext("target/timestamps/mtime")
    return {
        "name": root.findtext("name"),
        "pool": pool_name,
        "type": root.get("type") or "file",
        "key": (root.findtext("key") or "").strip() or None,
        "path": (root.findtext("target/path") or "").strip() or None,
        "format": fmt.get("type") if fmt is not None else None,
        "capacity": _int(root, "capacity"),
        "allocation": _int(root, "allocation"),
        "physical": _int(root, "physical"),
        "backing": backing,
        "mtime": mtime.strip() if mtime else None,
    }


def volume_state(vol, pool_name=None):
    with translated("read volume %s" % vol.name()):
        return parse_volume_xml(vol.XMLDesc(0), pool_name)


def find_volume(pool, name):
    """The volume ``name`` of ``pool``, or None."""
    lv = require_libvirt()
    try:
        return pool.storageVolLookupByName(name)
    except lv.libvirtError as err:
        if err.get_error_code() == lv.VIR_ERR_NO_STORAGE_VOL:
            return None
        raise BackendError("failed to look up volume %s in pool %s: %s" % (
            name, pool.name(), err.get_error_message()))


def pool_volumes(pool):
    """Normalized states of every volume of an active pool (one list call, one XML read each)."""
    if not pool.isActive():
        return []
    with translated("list the volumes of pool %s" % pool.name()):
        vols = pool.listAllVolumes(0)
    result = []
    for vol in vols:
        try:
            result.append(volume_state(vol, pool.name()))
        except (BackendError, NotFound):
            continue  # deleted while we listed
    return sorted(result, key=lambda v: v["name"])


def all_volumes(conn):
    """Volumes of every active pool of the host."""
    with translated("list storage pools"):
        pools = conn.listAllStoragePools(0)
    lv = require_libvirt()
    result = []
    for pool in pools:
        try:
            result.extend(pool_volumes(pool))
        except NotFound:
            continue  # the pool was removed while we listed
        except lv.libvirtError as err:
            if err.get_error_code() != lv.VIR_ERR_NO_STORAGE_POOL:
                raise
    return result


def backing_dependents(volumes, path):
    """``pool/name`` of the volumes whose backing file is ``path``."""
    return sorted("%s/%s" % (v["pool"], v["name"]) for v in volumes
                  if v.get("backing") and os.path.normpath(v["backing"]["path"]) == os.path.normpath(path))


# ---- domains ----------------------------------------------------------------------------
def domain_disks(conn):
    """Every disk of every defined domain: [{domain, running, target, path, pool, volume, device}].

    A disk is named by file/block path, or by pool + volume (``<source pool= volume=>``)."""
    lv = require_libvirt()
    with translated("list instances"):
        domains = conn.listAllDomains(0)
    result = []
    for dom in domains:
        try:
            text = dom.XMLDesc(lv.VIR_DOMAIN_XML_INACTIVE)
            running = bool(dom.isActive())
        except lv.libvirtError:
            continue  # undefined while we listed
        root = ET.fromstring(text)
        for disk in root.findall("devices/disk"):
            source = disk.find("source")
            target = disk.find("target")
            if source is None:
                continue
            result.append({
                "domain": dom.name(),
                "running": running,
                "device": disk.get("device") or "disk",
                "target": target.get("dev") if target is not None else None,
                "path": source.get("file") or source.get("dev"),
                "pool": source.get("pool"),
                "volume": source.get("volume"),
            })
    return result


def disk_users(disks, volume):
    """Disks (from domain_disks) that use ``volume`` (a volume_state), by path or pool/volume."""
    path = volume.get("path")
    return [d for d in disks
            if (path and d["path"] and os.path.normpath(d["path"]) == os.path.normpath(path))
            or (d["pool"] and d["pool"] == volume.get("pool") and d["volume"] == volume.get("name"))]


def volume_xml(name, capacity, fmt, backing=None, allocation=0):
    """The <volume> definition libvirt creates a volume from (built with ElementTree)."""
    root = ET.Element("volume")
    ET.SubElement(root, "name").text = name
    ET.SubElement(root, "capacity", unit="bytes").text = str(int(capacity))
    if allocation is not None:
        ET.SubElement(root, "allocation", unit="bytes").text = str(int(allocation))
    target = ET.SubElement(root, "target")
    ET.SubElement(target, "format", type=fmt)
    if backing:
        store = ET.SubElement(root, "backingStore")
        ET.SubElement(store, "path").text = backing["path"]
        ET.SubElement(store, "format", type=backing["format"])
    return ET.tostring(root, encoding="unicode")


# ---- transfers ---------------------------------------------------------------------------
def send_all(stream, data, refused):
    """Send every byte of ``data`` on a libvirt stream (``send`` may take part of it);
    ``refused``: the BackendError message when the stream takes none."""
    view = memoryview(data)
    while view:
        sent = stream.send(view.tobytes())
        if sent < 0:
            raise BackendError(refused)
        view = view[sent:]


def upload(conn, vol, fileobj, length, progress=None, what=None):
    """Stream ``length`` bytes of ``fileobj`` into ``vol`` (never holding it whole in memory).

    ``progress(done, total)`` is called after every chunk.  On failure the stream is aborted and
    BackendError raised; the caller deletes the half-written volume."""
    lv = require_libvirt()
    what = what or "volume %s" % vol.name()
    stream = conn.newStream(0)
    done = 0
    try:
        vol.upload(stream, 0, length, 0)
        while done < length:
            chunk = fileobj.read(min(CHUNK, length - done))
            if not chunk:
                raise BackendError("failed to upload %s: the source ended after %d of %d bytes"
                                   % (what, done, length))
            send_all(stream, chunk, "failed to upload %s: the stream refused data" % what)
            done += len(chunk)
            if progress:
                progress(done, length)
        stream.finish()
    except lv.libvirtError as err:
        _abort(stream)
        raise BackendError("failed to upload %s: %s" % (what, err.get_error_message() or err))
    except BaseException:
        _abort(stream)
        raise
    return done


def download(conn, vol, sink, progress=None, what=None):
    """Stream a volume's bytes to ``sink(chunk)``; returns the number of bytes."""
    lv = require_libvirt()
    what = what or "volume %s" % vol.name()
    stream = conn.newStream(0)
    done = [0]

    def handler(_stream, data, _opaque):
        sink(data)
        done[0] += len(data)
        if progress:
            progress(done[0], None)
        return len(data)

    try:
        vol.download(stream, 0, 0, 0)
        stream.recvAll(handler, None)
        stream.finish()
    except lv.libvirtError as err:
        _abort(stream)
        raise BackendError("failed to read %s: %s" % (what, err.get_error_message() or err))
    except BaseException:
        _abort(stream)
        raise
    return done[0]


def _abort(stream):
    try:
        stream.abort()
    except Exception:  # the stream may already be closed; the original error matters
        pass
