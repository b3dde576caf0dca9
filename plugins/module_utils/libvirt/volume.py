# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt driver for storage volumes: read a pool's volume, the instances using it and the
image it starts from; apply a Plan (create empty / linked clone / full copy / upload, grow,
recreate, wipe and delete).  A no-op converge only reads.
"""

from __future__ import annotations

import os

from ansible_collections.converge.virt.plugins.module_utils.engine import validate
from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Driver
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import BackendError, NotFound
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import CREATE, DELETE
from ansible_collections.converge.virt.plugins.module_utils.libvirt import storage
from ansible_collections.converge.virt.plugins.module_utils.libvirt.connection import (
    require_libvirt,
    translated,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.volume import (
    KIND, VolumeWorld, parse_image_header,
)

_HEADER_BYTES = 512
_MAX_CHAIN = 16  # a longer backing chain is a loop or a mistake; stop following it


def probe_content(path):
    """Facts of the file to upload ({format, virtual_size, backing, length}) or {"error": why}."""
    try:
        if not os.path.isfile(path):
            return {"error": "does not exist or is not a regular file" if not os.path.exists(path)
                    else "is not a regular file"}
        length = os.path.getsize(path)
        with open(path, "rb") as handle:
            head = handle.read(_HEADER_BYTES)
    except (IOError, OSError) as err:
        return {"error": "cannot be read (%s)" % (err.strerror or err)}
    if length == 0:
        return {"error": "is empty"}
    return parse_image_header(head, length)


class VolumeDriver(Driver):

    def __init__(self, conn, run_command=None):
        self.conn = conn
        self.run_command = run_command
        self.lv = require_libvirt()
        self._pool_name = None  # the pool of the last observe(), for the re-read after apply

    # ---- reading ----------------------------------------------------------------------------
    def _state(self, vol, pool_name, disks):
        """The normalized state of one volume (see resources/volume.py)."""
        state = storage.volume_state(vol, pool_name)
        state.pop("mtime", None)
        state.pop("type", None)
        state["backing_chain"] = self._chain(state.get("backing"))
        state["users"] = sorted(
            ({"instance": d["domain"], "running": d["running"], "target": d["target"]}
             for d in storage.disk_users(disks, state)),
            key=lambda u: (u["instance"], u["target"] or ""))
        return state

    def _chain(self, backing):
        """Backing files, nearest first, followed through the volumes libvirt knows.

        Stops cleanly at a path that is no known volume (it is still listed) or at a loop."""
        chain, seen = [], set()
        while backing and backing.get("path") and len(chain) < _MAX_CHAIN:
            path = backing["path"]
            if path in seen:
                break
            seen.add(path)
            chain.append({"path": path, "format": backing.get("format")})
            try:
                vol = self.conn.storageVolLookupByPath(path)
                backing = storage.parse_volume_xml(vol.XMLDesc(0)).get("backing")
            except self.lv.libvirtError:
                break
        return chain

    def _pool(self, name, owner):
        pool = storage.find_pool(self.conn, name, KIND, owner)
        storage.require_active(pool, KIND, owner)
        return pool

    def observe(self, name, desired=None):
        if desired is not None:
            self._pool_name = desired["pool"]
        desired = desired or {"state": "present", "pool": self._pool_name}
        absent = desired["state"] == "absent"
        try:
            pool = storage.find_pool(self.conn, desired["pool"], KIND, name)
        except NotFound:
            if absent:
                return VolumeWorld(current=None)  # no pool, so no volume: already gone
            raise
        storage.require_active(pool, KIND, name)
        pinfo = storage.pool_info(pool)
        vol = storage.find_volume(pool, name)
        disks = storage.domain_disks(self.conn)
        current = self._state(vol, pool.name(), disks) if vol is not None else None
        world = VolumeWorld(current=current, pool=pinfo)
        if current is not None and (absent or desired.get("recreate")):
            world.dependents = storage.backing_dependents(storage.all_volumes(self.conn), current["path"])
        if absent:
            return world
        if desired.get("image") is not None:
            image_pool = self._pool(desired["image_pool"], name)
            world.image_pool = storage.pool_info(image_pool)
            image = storage.find_volume(image_pool, desired["image"])
            if image is not None:
                world.image = self._state(image, image_pool.name(), [])
            else:
                with translated("list the volumes of pool %s" % image_pool.name(), KIND, name):
                    world.image_candidates = sorted(v.name() for v in image_pool.listAllVolumes(0))
        if desired.get("content") is not None and (current is None or desired.get("recreate")):
            world.content = probe_content(desired["content"])
        return world

    def list(self, names=None, pool=None):
        """Volumes of one pool (or of every active pool), optionally only those named."""
        disks = storage.domain_disks(self.conn)
        if pool is not None:
            pools = [storage.find_pool(self.conn, pool, KIND)]
        else:
            with translated("list storage pools", KIND):
                pools = self.conn.listAllStoragePools(0)
        result = []
        for lv_pool in pools:
            if not lv_pool.isActive():
                continue
            with translated("list the volumes of pool %s" % lv_pool.name(), KIND):
                vols = lv_pool.listAllVolumes(0)
            for vol in vols:
                if names and vol.name() not in names:
                    continue
                try:
                    result.append(self._state(vol, lv_pool.name(), disks))
                except (BackendError, NotFound):
                    continue  # deleted while we listed
        return sorted(result, key=lambda v: (v["pool"], v["name"]))

    # ---- applying ---------------------------------------------------------------------------
    def apply(self, plan):
        if plan.action == CREATE:
            self._create(plan.desired)
        elif plan.action == DELETE:
            self._delete(plan.desired)
        elif plan.facts.get("replace"):
            self._delete(plan.desired)
            self._create(plan.desired)
        elif plan.facts.get("resize"):
            self._grow(plan.desired, plan.facts["resize"])
        return {}

    def _lookup(self, pool_name, name):
        pool = self._pool(pool_name, name)
        vol = storage.find_volume(pool, name)
        if vol is None:
            raise NotFound("volume %s vanished from pool %s" % (name, pool_name), kind=KIND, name=name)
        return pool, vol

    def _create(self, desired):
        name, source = desired["name"], desired["source"]
        pool = self._pool(desired["pool"], name)
        pinfo = storage.pool_info(pool)
        if pinfo.get("path") and not validate.path_inside(pinfo["path"], name):
            raise BackendError("volume name %r would leave the directory of pool %s" % (name, pool.name()),
                               kind=KIND, name=name)
        capacity = source["capacity"]
        kind = source["type"]
        where = "create volume %s in pool %s" % (name, pool.name())
        if kind == "copy":
            image_pool, image = self._lookup(source["image_pool"], source["image"])
            xml = storage.volume_xml(name, source.get("image_capacity") or capacity, desired["format"],
                                     allocation=None)
            with translated(where, KIND, name):
                vol = pool.createXMLFrom(xml, image, 0)
        elif kind == "upload":
            # Created raw and exactly as long as the file, so the file's bytes become the whole
            # volume (no stale tail); libvirt probes the uploaded image's format afterwards.
            with translated(where, KIND, name):
                vol = pool.createXML(storage.volume_xml(name, source["length"], "raw"), 0)
        else:
            backing = None
            if kind == "clone":
                backing = {"path": source["image_path"], "format": source["image_format"]}
            with translated(where, KIND, name):
                vol = pool.createXML(storage.volume_xml(name, capacity, desired["format"], backing=backing), 0)
        try:
            if kind == "upload":
                with open(source["content"], "rb") as handle:
                    storage.upload(self.conn, vol, handle, source["length"],
                                   what="%s into volume %s" % (source["content"], name))
                vol = self._refreshed(pool, name, source["format"])
            state = storage.volume_state(vol, pool.name())
            if state["capacity"] is not None and state["capacity"] < capacity:
                with translated("grow volume %s to %d bytes" % (name, capacity), KIND, name):
                    vol.resize(capacity, 0)
        except BaseException:
            # Leave no half-made volume behind: the next run would take it for a finished one.
            try:
                vol.delete(0)
            except self.lv.libvirtError:
                pass
            raise

    def _refreshed(self, pool, name, fmt):
        """The uploaded volume, once libvirt sees the file's real format."""
        vol = storage.find_volume(pool, name)
        if storage.volume_state(vol).get("format") != fmt:
            with translated("refresh pool %s" % pool.name(), KIND, name):
                pool.refresh(0)
            vol = storage.find_volume(pool, name)
        found = storage.volume_state(vol).get("format")
        if found != fmt:
            raise BackendError("libvirt sees the uploaded volume as %s, not %s" % (found, fmt),
                               kind=KIND, name=name,
                               hint="pools of type %s may not detect image formats; use a dir pool"
                                    % storage.pool_info(pool).get("type"))
        return vol

    def _grow(self, desired, resize):
        name = desired["name"]
        capacity = resize["capacity"]
        if resize.get("instance"):
            with translated("grow volume %s through instance %s (disk %s)"
                            % (name, resize["instance"], resize["target"]), KIND, name):
                dom = self.conn.lookupByName(resize["instance"])
                dom.blockResize(resize["target"], capacity, self.lv.VIR_DOMAIN_BLOCK_RESIZE_BYTES)
            return
        _pool, vol = self._lookup(desired["pool"], name)
        with translated("grow volume %s to %d bytes" % (name, capacity), KIND, name):
            vol.resize(capacity, 0)

    def _delete(self, desired):
        name = desired["name"]
        pool = self._pool(desired["pool"], name)
        vol = storage.find_volume(pool, name)
        if vol is None:
            return  # already gone
        with translated("delete volume %s of pool %s" % (name, pool.name()), KIND, name):
            if desired.get("wipe"):
                vol.wipe(0)
            vol.delete(0)
