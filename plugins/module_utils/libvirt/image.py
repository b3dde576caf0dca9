# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt driver for base images: a volume of a pool filled from a URL or a file.

Knowing what a volume holds without transferring anything rests on a small JSON record per
placed image in the cache directory (keyed by the hypervisor, the pool's UUID and the volume
name) with the content's sha256, the source's digests and HTTP validators, and a fingerprint
of the volume (key, capacity, allocation, mtime).  A record that matches the volume answers
"is the wanted content there?" with no transfer (a literal checksum), one small checksum file
(a checksum URL) or one HEAD request (no checksum).  Without a usable record the volume is
hashed once, and, only when the checksum cannot apply to the stored bytes (a compressed source,
no checksum), the source is downloaded once into the cache to learn its content's digest.

Placing content: the bytes are verified in the cache first; then a raw volume of the content's
length is created and the bytes streamed in (libvirt probes the format, qcow2 included, after
the upload).  The upload is hashed on the way and the volume deleted if anything fails, so
nothing half-written stays in the pool.
"""

from __future__ import annotations

import hashlib
import os
import time

from ansible_collections.converge.virt.plugins.module_utils import transfer
from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Driver
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import (
    BackendError,
    NotFound,
)
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import DELETE
from ansible_collections.converge.virt.plugins.module_utils.libvirt import storage
from ansible_collections.converge.virt.plugins.module_utils.libvirt.connection import (
    require_libvirt,
    translated,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.image import (
    DEFAULT_CACHE_DIR,
    KIND,
    ImageWorld,
    versioned_name,
)

RECORD_VERSION = 1


def fingerprint(vstate):
    """What identifies the volume's bytes cheaply: if any of it changed, the record is stale.

    Not the allocation: file systems with delayed allocation change it after the upload."""
    return {"key": vstate.get("key"), "capacity": vstate.get("capacity"),
            "physical": vstate.get("physical"), "mtime": vstate.get("mtime")}


class ImageDriver(Driver):

    def __init__(self, conn, run_command=None):
        self.conn = conn
        # Set only when the hypervisor is this host: the pool's files can then be read directly.
        self.run_command = run_command
        self.local = run_command is not None
        self.lv = require_libvirt()
        self.sleep = time.sleep
        self._desired = None
        self._target = None      # the volume the last apply placed (read back afterwards)
        self._expected = {}      # resolved checksums, by (checksum text, source name)
        self._fetched = None     # a transfer.Result learnt while observing, reused by apply
        self._host = None

    # ---- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _cache(desired):
        return transfer.Cache(os.path.expanduser((desired or {}).get("cache_dir") or DEFAULT_CACHE_DIR))

    def _record_key(self, pool, volume):
        if self._host is None:
            with translated("read the hypervisor's identity", KIND):
                self._host = (self.conn.getURI(), self.conn.getHostname())
        with translated("read pool %s" % pool.name(), KIND):
            uuid = pool.UUIDString()
        return transfer.Cache.record_key(self._host[0], self._host[1], uuid, volume)

    def _record(self, cache, pool, vstate):
        """The record of a volume if it still describes it (fingerprint unchanged), else None."""
        record = cache.read_record(self._record_key(pool, vstate["name"]))
        if not record or record.get("version") != RECORD_VERSION:
            return None
        if record.get("fingerprint") != fingerprint(vstate):
            return None
        return record

    def _write_record(self, cache, pool, vstate, source, sha256, digests, http=None, stat=None, fmt=None):
        cache.write_record(self._record_key(pool, vstate["name"]), {
            "version": RECORD_VERSION,
            "uri": self._host[0], "host": self._host[1], "pool": pool.name(), "volume": vstate["name"],
            "source": {"type": source["type"], "display": source["display"]},
            "sha256": sha256, "digests": dict(digests or {}), "http": dict(http or {}),
            "stat": stat, "format": fmt or vstate.get("format"),
            "fingerprint": fingerprint(vstate), "written": int(time.time()),
        })

    @staticmethod
    def _checksum_text(record, algo=None):
        digests = (record or {}).get("digests") or {}
        for name in ((algo,) if algo else ()) + ("sha256", "sha512"):
            if name and digests.get(name):
                return "%s:%s" % (name, digests[name])
        return None

    def _state(self, desired, pool, vstate, record, volumes, sha256=None):
        algo = ((desired or {}).get("checksum") or {}).get("algo")
        record = record or {}
        return {
            "name": (desired or {}).get("name") or vstate["name"],
            "pool": pool.name(),
            "volume": vstate["name"],
            "path": vstate.get("path"),
            "format": record.get("format") or vstate.get("format"),
            "capacity": vstate.get("capacity"),
            "allocation": vstate.get("allocation"),
            "sha256": record.get("sha256") or sha256,
            "checksum": self._checksum_text(record, algo),
            "source": (record.get("source") or {}).get("display"),
            "dependents": storage.backing_dependents(volumes, vstate["path"]) if vstate.get("path") else [],
        }

    def _progress(self, cache, pool_name, volume):
        path = cache.progress_path(pool_name, volume)
        return path, transfer.file_logger(path)

    # ---- reading ---------------------------------------------------------------------------
    def observe(self, name, desired=None):
        if desired is None:
            return self._read_back(name)
        self._desired = desired
        present = desired["state"] == "present"
        try:
            pool = storage.find_pool(self.conn, desired["pool"], KIND, name)
        except NotFound:
            if present:
                raise
            return ImageWorld()
        pinfo = storage.pool_info(pool)
        storage.require_active(pool, KIND, name)
        cache = self._cache(desired)
        vol = storage.find_volume(pool, name)
        vstate = storage.volume_state(vol, pool.name()) if vol else None
        volumes = storage.all_volumes(self.conn)
        disks = storage.domain_disks(self.conn)
        record = self._record(cache, pool, vstate) if vstate else None
        world = ImageWorld(pool=pinfo)
        if vstate:
            world.current = self._state(desired, pool, vstate, record, volumes)
            world.dependents = world.current["dependents"]
            world.users = [dict((k, d[k]) for k in ("domain", "target", "device", "running"))
                           for d in storage.disk_users(disks, vstate)]
        if not present:
            return world

        source = desired["source"]
        expected = self._expected_checksum(desired)
        world.wanted = self._wanted(desired, expected)
        if source["type"] == "path":
            self._require_file(desired["path"], name)
        if vstate is None:
            return world
        world.matches = self._holds(desired, expected, cache, pool, vol, vstate, record, world)
        if world.matches:
            world.current = self._state(desired, pool, vstate, self._record(cache, pool, vstate), volumes)
        elif desired["on_source_change"] == "new_version":
            digest = (expected.digest if expected else None) or (
                (world.wanted.get("checksum") or ":").split(":", 1)[1] or world.wanted.get("sha256"))
            if digest:
                vname = versioned_name(name, digest)
                vvol = storage.find_volume(pool, vname)
                if vvol is not None:
                    vvstate = storage.volume_state(vvol, pool.name())
                    vrecord = self._record(cache, pool, vvstate)
                    world.versioned_matches = self._holds(desired, expected, cache, pool, vvol, vvstate,
                                                          vrecord, world)
                    world.versioned = self._state(desired, pool, vvstate, self._record(cache, pool, vvstate),
                                                  volumes)
                    world.versioned["name"] = name
        return world

    def _read_back(self, name):
        desired = self._desired or {}
        target = self._target or name
        try:
            pool = storage.find_pool(self.conn, desired.get("pool"), KIND, name)
        except NotFound:
            return ImageWorld()
        vol = storage.find_volume(pool, target)
        if vol is None:
            return ImageWorld()
        vstate = storage.volume_state(vol, pool.name())
        record = self._record(self._cache(desired), pool, vstate)
        state = self._state(desired, pool, vstate, record, storage.all_volumes(self.conn))
        state["name"] = name
        return ImageWorld(current=state, pool=storage.pool_info(pool), matches=True)

    @staticmethod
    def _require_file(path, name):
        if not os.path.isfile(path):
            raise NotFound("the source file %s does not exist on the host the module runs on" % path,
                           kind=KIND, name=name, hint="path names a file on the hypervisor host; use src "
                                                      "for a file on the controller")

    def _source_name(self, desired):
        source = desired["source"]
        if source["type"] == "url":
            return transfer.source_file_name(source["location"])
        if source["type"] == "src":
            return os.path.basename(desired["src"])
        return os.path.basename(desired["path"])

    def _expected_checksum(self, desired):
        """The checksum as a transfer.Checksum with its digest (a checksum file is fetched once)."""
        spec = desired.get("checksum")
        if not spec:
            return None
        if spec["digest"]:
            return transfer.Checksum(spec["algo"], digest=spec["digest"])
        file_name = self._source_name(desired)
        key = (spec["url"], file_name)
        if key not in self._expected:
            with transfer.typed_errors(KIND, desired["name"], "placed"):
                text = transfer.fetch_text(spec["url"], desired["timeout"], desired["retries"],
                                           desired["validate_certs"], sleep=self.sleep)
                try:
                    digest = transfer.parse_sums(text, file_name, spec["algo"])
                except ValueError as err:
                    raise BackendError("checksum file %s: %s" % (transfer.public_url(spec["url"]), err),
                                       kind=KIND, name=desired["name"])
            self._expected[key] = transfer.Checksum(spec["algo"], digest=digest)
        return self._expected[key]

    @staticmethod
    def _wanted(desired, expected):
        wanted = {"sha256": None, "checksum": None, "format": None}
        if expected is not None:
            wanted["checksum"] = "%s:%s" % (expected.algo, expected.digest)
        controller = desired.get("controller_file")
        if desired["source"]["type"] == "src" and controller:
            if expected is not None and expected.algo == "sha256" and expected.digest != controller["sha256"]:
                raise BackendError("checksum mismatch for the controller file %s: expected sha256:%s, got "
                                   "sha256:%s" % (desired["src"], expected.digest, controller["sha256"]),
                                   kind=KIND, name=desired["name"], hint="nothing was transferred")
            if expected is None:
                wanted["checksum"] = "sha256:%s" % controller["sha256"]
            if not controller.get("compression") and desired["decompress"] in ("auto", "none"):
                wanted["sha256"] = controller["sha256"]
        return wanted

    def _holds(self, desired, expected, cache, pool, vol, vstate, record, world):
        """Whether the volume holds the wanted content: the record first, else its bytes."""
        verdict = self._by_record(desired, expected, record, world) if record else None
        if verdict is not None:
            return verdict
        return self._by_content(desired, expected, cache, pool, vol, vstate, world)

    def _by_record(self, desired, expected, record, world):
        source = desired["source"]
        digests = record.get("digests") or {}
        if expected is not None and digests.get(expected.algo):
            return digests[expected.algo] == expected.digest
        if source["type"] == "src":
            controller = desired.get("controller_file") or {}
            return digests.get("sha256") == controller.get("sha256") if digests.get("sha256") else None
        if source["type"] == "path":
            if (record["source"].get("display") == source["display"] and record.get("stat")
                    and record["stat"] == transfer.file_stat(desired["path"])):
                return True
            if digests.get("sha256"):
                with transfer.typed_errors(KIND, desired["name"], "placed"):
                    found = transfer.hash_file(desired["path"])[0]["sha256"]
                if not world.wanted.get("checksum"):
                    world.wanted["checksum"] = "sha256:%s" % found
                return found == digests["sha256"]
            return None
        # A URL without a checksum: the server's validators tell whether it still serves the same.
        old = record.get("http") or {}
        if record["source"].get("display") != source["display"] or not (old.get("etag") or old.get("last_modified")):
            return None
        with transfer.typed_errors(KIND, desired["name"], "placed"):
            new = transfer.head(source["location"], desired["timeout"], desired["retries"],
                                desired["validate_certs"], sleep=self.sleep)
        if old.get("etag") and new.get("etag"):
            same = old["etag"] == new["etag"]
        else:
            same = (old.get("last_modified") == new.get("last_modified")
                    and old.get("content_length") == new.get("content_length"))
        return True if same else None

    def _volume_digests(self, desired, cache, pool, vol, vstate, algos):
        """Hash the volume's bytes once: the file directly when local, else a libvirt download."""
        _path, emit = self._progress(cache, pool.name(), vstate["name"])
        path = vstate.get("path")
        with transfer.typed_errors(KIND, desired["name"], "placed"):
            if self.local and path and os.path.isfile(path) and os.access(path, os.R_OK):
                return transfer.hash_file(path, algos, emit, "verify volume %s" % vstate["name"])[0]
            hashers = dict((a, hashlib.new(a)) for a in set(algos))

            def sink(chunk):
                for hasher in hashers.values():
                    hasher.update(chunk)
            storage.download(self.conn, vol, sink)
            return dict((a, h.hexdigest()) for a, h in hashers.items())

    def _by_content(self, desired, expected, cache, pool, vol, vstate, world):
        source = desired["source"]
        algos = ("sha256",) + ((expected.algo,) if expected else ())
        compressed = transfer.compressed_by_name(desired["decompress"], self._source_name(desired))
        if source["type"] == "src":
            compressed = compressed or bool((desired.get("controller_file") or {}).get("compression"))
            if compressed and not desired.get("path"):
                return False  # only the file itself can tell; the action plugin sends it
        if source["type"] == "path" and not compressed:
            with open(desired["path"], "rb") as handle:
                compressed = transfer.compression_for(desired["decompress"], source["location"],
                                                      handle.read(8)) is not None
        have = self._volume_digests(desired, cache, pool, vol, vstate, algos)
        result = None
        if not compressed and expected is not None:
            same = have[expected.algo] == expected.digest
        elif not compressed and source["type"] == "src" and not desired.get("path"):
            same = have["sha256"] == desired["controller_file"]["sha256"]
        else:
            result = self._obtain(desired, expected, cache, pool.name(), vstate["name"])
            same = result.sha256 == have["sha256"]
            world.wanted.update(sha256=result.sha256, format=result.format)
            if not world.wanted.get("checksum"):
                world.wanted["checksum"] = ("sha256:%s" % result.digests["sha256"]
                                            if "sha256" in result.digests else None)
        if same:
            digests = result.digests if result is not None else have
            stat = transfer.file_stat(desired["path"]) if source["type"] == "path" else None
            self._write_record(cache, pool, vstate, source, have["sha256"], digests,
                               http=result.http if result is not None else None, stat=stat)
        return same

    # ---- obtaining content ----------------------------------------------------------------
    def _obtain(self, desired, expected, cache, pool_name, volume):
        """The wanted content, verified, as a transfer.Result (from the cache when possible)."""
        if self._fetched is not None:
            return self._fetched
        source = desired["source"]
        _path, emit = self._progress(cache, pool_name, volume)
        with transfer.typed_errors(KIND, desired["name"], "placed"):
            if expected is not None:
                sha256 = cache.lookup(expected.algo, expected.digest)
                if sha256:
                    self._fetched = self._from_blob(cache, sha256, expected, desired["format"])
                    if self._fetched is not None:
                        return self._fetched
            if source["type"] == "url":
                emit("start download %s" % source["display"])
                result = transfer.download(
                    source["location"], cache, expected=expected, decompress=desired["decompress"],
                    declared_format=desired["format"], timeout=desired["timeout"],
                    retries=desired["retries"], validate_certs=desired["validate_certs"],
                    progress=emit, sleep=self.sleep)
            else:
                if not desired.get("path"):
                    raise BackendError("the controller file has not been transferred", kind=KIND,
                                       name=desired["name"], hint="src works only through the action plugin")
                result = transfer.ingest(desired["path"], cache, expected=expected,
                                         decompress=desired["decompress"], declared_format=desired["format"],
                                         progress=emit, name=self._source_name(desired))
                controller = desired.get("controller_file")
                if source["type"] == "src" and controller and result.digests["sha256"] != controller["sha256"]:
                    raise BackendError("the copy of %s on the host does not match the controller file "
                                       "(sha256 %s, expected %s)" % (desired["src"], result.digests["sha256"],
                                                                     controller["sha256"]), kind=KIND,
                                       name=desired["name"])
        self._fetched = result
        return result

    @staticmethod
    def _from_blob(cache, sha256, expected, declared_format):
        path = cache.blob(sha256)
        with open(path, "rb") as handle:
            head = handle.read(transfer.HEAD_BYTES)
        fmt = transfer.detect_format(head)
        if transfer.format_conflict(declared_format, fmt):
            return None
        return transfer.Result(path, sha256, os.path.getsize(path), {expected.algo: expected.digest},
                               declared_format or fmt, None, 0)

    # ---- applying --------------------------------------------------------------------------
    def apply(self, plan):
        desired = plan.desired
        name = desired["name"]
        pool = storage.find_pool(self.conn, desired["pool"], KIND, name)
        cache = self._cache(desired)
        if plan.action == DELETE:
            vol = storage.find_volume(pool, name)
            if vol is not None:
                key = self._record_key(pool, name)
                with translated("delete volume %s of pool %s" % (name, pool.name()), KIND, name):
                    vol.delete(0)
                cache.remove_record(key)
            return {}
        source = desired["source"]
        if source["type"] == "src" and not desired.get("path"):
            return {"_needs_file": True}
        target = desired["target"]
        expected = self._expected_checksum(desired)
        progress_log, emit = self._progress(cache, pool.name(), target)
        result = self._obtain(desired, expected, cache, pool.name(), target)
        if desired["replace"]:
            old = storage.find_volume(pool, target)
            if old is not None:
                emit("replace volume %s: deleting the old content" % target)
                key = self._record_key(pool, target)
                with translated("delete volume %s of pool %s" % (target, pool.name()), KIND, name):
                    old.delete(0)
                cache.remove_record(key)
        vstate = self._place(pool, target, result, emit, name, cache)
        if not desired.get("keep_download", True) and result.path.startswith(cache.root + os.sep):
            cache.forget_blob(result.sha256)  # the volume holds it now; the record stays
        stat = transfer.file_stat(desired["path"]) if source["type"] == "path" else None
        self._write_record(cache, pool, vstate, source, result.sha256, result.digests, http=result.http,
                           stat=stat, fmt=result.format)
        self._target = target
        facts = result.transfer_facts(source["display"], progress_log)
        if source["type"] == "src":
            facts["bytes"] = (desired.get("controller_file") or {}).get("size", facts["bytes"])
        return {"transfer": facts}

    def _place(self, pool, volume, result, emit, name, cache):
        """Create ``volume`` and stream the content in; on any failure delete it again."""
        self._record_key(pool, volume)
        with translated("create volume %s in pool %s" % (volume, pool.name()), KIND, name):
            vol = pool.createXML(storage.volume_xml(volume, result.size, "raw"), 0)
        meter = transfer.Progress(emit, result.size, "upload to %s/%s" % (pool.name(), volume))
        try:
            with open(result.path, "rb") as handle:
                reader = transfer.HashingReader(handle)
                storage.upload(self.conn, vol, reader, result.size, progress=meter.update,
                               what="volume %s of pool %s" % (volume, pool.name()))
            meter.finished()
            if reader.sha256.hexdigest() != result.sha256:
                if result.path.startswith(cache.root):
                    cache.forget_blob(result.sha256)
                raise BackendError("the bytes uploaded to %s differ from the verified content (the "
                                   "source changed while it was read?); the volume was removed"
                                   % volume, kind=KIND, name=name)
            return self._settled(pool, volume, result.size, name)
        except BaseException:
            emit("upload to %s failed: removing the volume" % volume)
            try:
                vol.delete(0)
            except self.lv.libvirtError:
                pass
            raise

    def _settled(self, pool, volume, size, name, wait=5.0):
        """The volume's state once libvirt finished writing it (its helper may still be flushing
        after the stream ended): the same fingerprint twice in a row, with the full length."""
        deadline = time.monotonic() + wait
        last = None
        while True:
            with translated("read volume %s" % volume, KIND, name):
                vstate = storage.volume_state(pool.storageVolLookupByName(volume), pool.name())
            if last is not None and fingerprint(vstate) == fingerprint(last) and (
                    vstate.get("physical") in (None, size)):
                return vstate
            if time.monotonic() > deadline:
                return vstate
            last = vstate
            self.sleep(0.2)

    # ---- info ------------------------------------------------------------------------------
    def list(self, names=None, pool=None, cache_dir=None):
        """Images: the volumes that are not themselves linked clones, of one or all pools."""
        pools = [pool] if pool else None
        cache = transfer.Cache(os.path.expanduser(cache_dir or DEFAULT_CACHE_DIR))
        if pools:
            all_pools = [storage.find_pool(self.conn, p, "image_info") for p in pools]
        else:
            with translated("list storage pools", KIND):
                all_pools = self.conn.listAllStoragePools(0)
        volumes = storage.all_volumes(self.conn)
        result = []
        for pool in sorted(all_pools, key=lambda p: p.name()):
            if pools and pool.name() not in pools:
                continue
            for vstate in storage.pool_volumes(pool):
                if vstate.get("backing") or (names and vstate["name"] not in names):
                    continue
                record = self._record(cache, pool, vstate)
                result.append(self._state(None, pool, vstate, record, volumes))
        return result
