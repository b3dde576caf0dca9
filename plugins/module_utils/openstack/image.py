# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Glance driver for ``image``: Images API v2 through the SDK's authenticated adapter.

Reads are one filtered list (``name=``, ``owner=<project>``, ``visibility=all``).  Content goes
through the same verified pipeline as the libvirt driver (``transfer``): a URL is streamed into
the cache and checked against the checksum *before* any image exists in Glance, then streamed
to Glance (``PUT /v2/images/<id>/file``) and awaited until ``active``.  If the upload fails the
new image is deleted again, so no queued, empty image is left behind.  Live updates are one JSON
patch.
"""

from __future__ import annotations

import os

from ansible_collections.converge.virt.plugins.module_utils import transfer
from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Driver
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import (
    BackendError,
    Conflict,
    InvalidSpec,
)
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import DELETE
from ansible_collections.converge.virt.plugins.module_utils.openstack.cloud import OWNER_TAG, looks_like_id
from ansible_collections.converge.virt.plugins.module_utils.resources.image import DEFAULT_CACHE_DIR
from ansible_collections.converge.virt.plugins.module_utils.resources.os_common import stack_tags, user_tags
from ansible_collections.converge.virt.plugins.module_utils.resources.os_image import (
    CHECKSUM_PROPERTY,
    KIND,
    SHA256_PROPERTY,
    SOURCE_PROPERTY,
    OsImageWorld,
    is_user_property,
    versioned_name,
)

try:
    from openstack import exceptions as sdk_exc
except ImportError:  # open_cloud reports the missing library before a driver is made
    sdk_exc = None

PATCH_TYPE = "application/openstack-images-v2.1-json-patch"
FAILED = ("killed", "deleted", "pending_delete", "deactivated")


class _Reader(object):
    """A file streamed to Glance: reports progress, and announces its length (Content-Length)."""

    def __init__(self, handle, size, meter):
        self.handle = handle
        self.size = size
        self.meter = meter
        self.done = 0

    def __len__(self):
        return self.size

    def read(self, size=-1):
        data = self.handle.read(size)
        self.done += len(data)
        if self.meter:
            self.meter.update(self.done)
        return data


def image_state(raw):
    """The normalized, user-facing state of a Glance image (its API JSON)."""
    tags = list(raw.get("tags") or [])
    algo, value = raw.get("os_hash_algo"), raw.get("os_hash_value")
    return {
        "name": raw.get("name"),
        "id": raw.get("id"),
        "status": raw.get("status"),
        "format": raw.get("disk_format"),
        "container_format": raw.get("container_format"),
        "visibility": raw.get("visibility"),
        "protected": bool(raw.get("protected")),
        "min_disk": raw.get("min_disk") or 0,
        "min_ram": raw.get("min_ram") or 0,
        "tags": user_tags(tags),
        "properties": dict((k, v) for k, v in raw.items() if is_user_property(k)),
        "size": raw.get("size"),
        "virtual_size": raw.get("virtual_size"),
        "sha256": raw.get(SHA256_PROPERTY),
        "checksum": raw.get(CHECKSUM_PROPERTY),
        "os_hash": "%s:%s" % (algo, value) if algo and value else None,
        "source": raw.get(SOURCE_PROPERTY),
        "owner": raw.get("owner"),
        "managed": OWNER_TAG in tags,
    }


class ImageDriver(Driver):

    def __init__(self, cloud):
        self.cloud = cloud
        self.api = cloud.conn.image
        self._target = None
        self._raw = {}          # name -> the image's JSON as last read
        self._expected = {}     # resolved checksum files

    # ---- REST helpers ------------------------------------------------------------------
    def _request(self, what, method, url, retry=False, missing_ok=False, **kwargs):
        def send():
            resp = getattr(self.api, method)(url, raise_exc=False, **kwargs)
            sdk_exc.raise_from_response(resp)
            return resp
        return self.cloud.call(what, send, retry=retry, missing_ok=missing_ok)

    def _find(self, ref):
        """The JSON of the image ``ref`` (ID, or name within the project), or None."""
        if looks_like_id(ref):
            resp = self._request("image %s" % ref, "get", "/images/%s" % ref, missing_ok=True)
            if resp is not None:
                return resp.json()
        found = self._query(name=ref)
        if len(found) > 1:
            raise Conflict("the name %r matches %d images of the project (%s); use the ID"
                           % (ref, len(found), ", ".join(sorted(i["id"] for i in found))), kind=KIND, name=ref)
        return found[0] if found else None

    def _query(self, **filters):
        params = dict(filters, owner=self.cloud.project_id, visibility="all", limit=200)
        url, images = "/images", []
        while url:
            resp = self._request("list images", "get", url, params=params)
            body = resp.json()
            images.extend(body.get("images") or [])
            url = body.get("next")
            if url:
                url, params = url[len("/v2"):] if url.startswith("/v2/") else url, None
        return images

    def _get(self, image_id):
        resp = self._request("image %s" % image_id, "get", "/images/%s" % image_id, missing_ok=True)
        return resp.json() if resp is not None else None

    # ---- reading -----------------------------------------------------------------------
    def observe(self, name, desired=None):
        if desired is None:
            raw = self._find(self._target or name)
            return OsImageWorld(current=image_state(raw) if raw else None)
        raw = self._find(name)
        current = image_state(raw) if raw else None
        world = OsImageWorld(current=current, is_admin=self.cloud.has_role("admin"))
        if desired["state"] == "absent":
            return world
        if desired["source"]["type"] == "path":
            self._require_file(desired["path"], name)
        expected = self._expected_checksum(desired)
        world.wanted = self._wanted(desired, expected)
        if current is None:
            return world
        world.matches, world.reason = self._holds(desired, expected, raw, world.wanted)
        if world.matches is False and desired["on_source_change"] == "new_version" and not desired["recreate"]:
            digest = (world.wanted.get("checksum") or ":").split(":", 1)[1] or world.wanted.get("sha256")
            if digest:
                vraw = self._find(versioned_name(name, digest))
                if vraw is not None:
                    world.versioned = image_state(vraw)
                    world.versioned_matches = self._holds(desired, expected, vraw, world.wanted)[0] is not False
        return world

    @staticmethod
    def _require_file(path, name):
        if not os.path.isfile(path):
            raise InvalidSpec([("path", "the source file %s does not exist on the host the module runs on "
                                        "(use src for a file on the controller)" % path)], kind=KIND, name=name)

    @staticmethod
    def _source_name(desired):
        source = desired["source"]
        if source["type"] == "url":
            return transfer.source_file_name(source["location"])
        if source["type"] == "src":
            return os.path.basename(desired["src"])
        return os.path.basename(desired["path"])

    def _expected_checksum(self, desired):
        """The checksum with its digest (a checksum file is fetched once); else, for a file source,
        the file's own sha256 (hashed where the module runs: a read, never an upload)."""
        spec = desired.get("checksum")
        source = desired["source"]
        if spec and spec["digest"]:
            return transfer.Checksum(spec["algo"], digest=spec["digest"])
        if spec:
            key = (spec["url"], self._source_name(desired))
            if key not in self._expected:
                with transfer.typed_errors(KIND, desired["name"], "uploaded", always=True):
                    text = transfer.fetch_text(spec["url"], desired["timeout"], desired["retries"],
                                               desired["validate_certs"])
                    try:
                        digest = transfer.parse_sums(text, key[1], spec["algo"])
                    except ValueError as err:
                        raise BackendError("checksum file %s: %s" % (transfer.public_url(spec["url"]), err),
                                           kind=KIND, name=desired["name"])
                self._expected[key] = transfer.Checksum(spec["algo"], digest=digest)
            return self._expected[key]
        if source["type"] == "src" and desired.get("controller_file"):
            return transfer.Checksum("sha256", digest=desired["controller_file"]["sha256"])
        if source["type"] == "path":
            with transfer.typed_errors(KIND, desired["name"], "uploaded", always=True):
                digests = transfer.hash_file(desired["path"])[0]
            return transfer.Checksum("sha256", digest=digests["sha256"])
        return None

    @staticmethod
    def _compressed(desired):
        controller = desired.get("controller_file") or {}
        if desired["source"]["type"] == "src":
            return bool(controller.get("compression")) or desired["decompress"] in ("xz", "gz")
        return transfer.compressed_by_name(desired["decompress"], desired["source"]["location"])

    def _wanted(self, desired, expected):
        controller = desired.get("controller_file")
        if (desired["source"]["type"] == "src" and controller and expected is not None
                and expected.algo == "sha256" and expected.digest != controller["sha256"]):
            raise BackendError("checksum mismatch for the controller file %s: expected sha256:%s, got "
                               "sha256:%s" % (desired["src"], expected.digest, controller["sha256"]),
                               kind=KIND, name=desired["name"], hint="nothing was uploaded")
        wanted = {"sha256": None, "checksum": None, "format": desired["format"]}
        if expected is not None:
            wanted["checksum"] = "%s:%s" % (expected.algo, expected.digest)
            if expected.algo == "sha256" and not self._compressed(desired):
                wanted["sha256"] = expected.digest
        return wanted

    def _holds(self, desired, expected, raw, wanted):
        """``(True|False|None, reason)``: whether the image holds the wanted content, judged by
        what it records (or Glance's own sha512); None when that cannot be told."""
        name = raw.get("name")
        if raw.get("status") != "active":
            return False, None
        recorded = raw.get(CHECKSUM_PROPERTY) or ""
        if expected is not None:
            if recorded.partition(":")[0] == expected.algo:
                return recorded == wanted["checksum"], None
            if wanted.get("sha256") and raw.get(SHA256_PROPERTY):
                return raw[SHA256_PROPERTY] == wanted["sha256"], None
            if (expected.algo == "sha512" and raw.get("os_hash_algo") == "sha512"
                    and not self._compressed(desired)):
                return raw.get("os_hash_value") == expected.digest, None
            return None, ("image %s records no %s digest of its content (Glance keeps only %s), so it "
                          "cannot be compared with %s without uploading again; left as is (recreate: "
                          "true does not help here: delete it to upload again)" % (
                              name, expected.algo, raw.get("os_hash_algo") or "none", wanted["checksum"]))
        if raw.get(SOURCE_PROPERTY):
            return raw[SOURCE_PROPERTY] == desired["source"]["display"], None
        return None, ("image %s records no source and no checksum was given, so its content cannot be "
                      "compared; left as is" % name)

    # ---- applying ----------------------------------------------------------------------
    def apply(self, plan):
        desired = plan.desired
        name = desired["name"]
        if plan.action == DELETE:
            self._delete(desired["image_id"], name, desired.get("old_protected"))
            return {}
        self._target = desired["target"]
        if not desired.get("upload"):
            self._patch(desired["image_id"], plan)
            return {}
        if desired["source"]["type"] == "src" and not desired.get("path"):
            return {"_needs_file": True}  # the action plugin copies the controller file, runs again
        facts = self._upload(desired)
        if desired.get("replace"):
            self._delete(desired["replace"], name, desired.get("old_protected"))
        return facts

    def _upload(self, desired):
        name, target = desired["name"], desired["target"]
        after = desired["after"]
        cache = transfer.Cache(os.path.expanduser(desired.get("cache_dir") or DEFAULT_CACHE_DIR))
        progress_log = cache.progress_path("openstack", target)
        emit = transfer.file_logger(progress_log)
        result = self._obtain(desired, cache, emit)
        body = {
            "name": target,
            "disk_format": desired["format"] or result.format,
            "container_format": desired["container_format"],
            "min_disk": after["min_disk"],
            "min_ram": after["min_ram"],
            "tags": [OWNER_TAG] + list(after["tags"]),
            SHA256_PROPERTY: result.sha256,
            CHECKSUM_PROPERTY: "%s:%s" % (self._digest_algo(desired), result.digests[self._digest_algo(desired)]),
            SOURCE_PROPERTY: desired["source"]["display"],
        }
        if desired["visibility"] is not None or after.get("visibility") not in (None, "shared"):
            body["visibility"] = after["visibility"]
        body.update(after.get("properties") or {})
        resp = self._request("create image %s" % target, "post", "/images", json=body, retry=True)
        image_id = resp.json()["id"]
        try:
            meter = transfer.Progress(emit, result.size, "upload to Glance image %s" % target)
            with open(result.path, "rb") as handle:
                self._request("upload image %s" % target, "put", "/images/%s/file" % image_id,
                              data=_Reader(handle, result.size, meter),
                              headers={"Content-Type": "application/octet-stream"})
            seconds = meter.finished()
            self.cloud.wait("image %s" % target, lambda: self._get(image_id),
                            done=lambda r: r is not None and r.get("status") == "active",
                            failed=lambda r: r.get("status") in FAILED,
                            status=lambda r: r.get("status"), timeout=desired["wait_timeout"], progress=emit)
            if after.get("protected"):
                self._send_patch(image_id, target, [{"op": "replace", "path": "/protected", "value": True}])
        except BaseException:
            self._request("delete the failed upload %s" % image_id, "delete", "/images/%s" % image_id,
                          missing_ok=True, retry=True)
            raise
        finally:
            if not desired.get("keep_download", True) and result.path.startswith(cache.root + os.sep):
                cache.forget_blob(result.sha256)
        facts = result.transfer_facts(desired["source"]["display"], progress_log)
        facts["seconds"] = round(facts["seconds"] + seconds, 3)
        if desired["source"]["type"] == "src":
            facts["bytes"] = (desired.get("controller_file") or {}).get("size", facts["bytes"])
        facts["uploaded"] = result.size
        return {"transfer": facts}

    @staticmethod
    def _digest_algo(desired):
        return (desired.get("checksum") or {}).get("algo") or "sha256"

    def _obtain(self, desired, cache, emit):
        """The verified content file (checksum checked before anything exists in Glance)."""
        expected = self._expected_checksum(desired) if desired.get("checksum") else None
        source = desired["source"]
        with transfer.typed_errors(KIND, desired["name"], "uploaded", always=True):
            if source["type"] == "url":
                return transfer.download(source["location"], cache, expected, desired["decompress"],
                                         desired["format"], desired["timeout"], desired["retries"],
                                         desired["validate_certs"], progress=emit)
            return transfer.ingest(desired["path"], cache, expected, desired["decompress"], desired["format"],
                                   progress=emit, name=self._source_name(desired))

    def _patch(self, image_id, plan):
        ops = []
        for change in plan.changes:
            if change.path.startswith("properties."):
                pointer = "/" + change.path[len("properties."):].replace("~", "~0").replace("/", "~1")
                if change.op == "remove":
                    ops.append({"op": "remove", "path": pointer})
                else:
                    ops.append({"op": "add" if change.op == "add" else "replace", "path": pointer,
                                "value": change.after})
            elif change.path == "tags":
                # The owner tag stays on what the collection created, and a stack's mark on what it owns.
                managed = bool((plan.before or {}).get("managed"))
                current = self._get(image_id) or {}
                ops.append({"op": "replace", "path": "/tags",
                            "value": ([OWNER_TAG] if managed else []) + stack_tags(current.get("tags"))
                            + list(change.after)})
            else:
                ops.append({"op": "replace", "path": "/" + change.path, "value": change.after})
        if ops:
            self._send_patch(image_id, plan.name, ops)

    def _send_patch(self, image_id, name, ops):
        self._request("update image %s" % name, "patch", "/images/%s" % image_id, json=ops,
                      headers={"Content-Type": PATCH_TYPE}, retry=True)

    def _delete(self, image_id, name, protected):
        if protected:
            self._send_patch(image_id, name, [{"op": "replace", "path": "/protected", "value": False}])
        self._request("delete image %s" % name, "delete", "/images/%s" % image_id, missing_ok=True, retry=True)

    # ---- listing -----------------------------------------------------------------------
    def list(self, names=None, **_filters):
        if names:
            found = {}
            for name in names:
                for raw in self._query(name=name):
                    found[raw["id"]] = raw
            images = list(found.values())
        else:
            images = self._query()
        return sorted((image_state(i) for i in images), key=lambda s: (s["name"] or "", s["id"]))
