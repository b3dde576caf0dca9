# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Swift drivers for ``object_container`` and ``object``: one HEAD to read a container or an
object (its metadata, ACLs, counts, ETag), POST for metadata and ACLs, PUT to create or overwrite
(an object's upload is streamed and checked by Swift against the MD5 sent as ``ETag``)."""

from __future__ import annotations

import hashlib
import os
from urllib.parse import quote

from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Driver
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import DELETE
from ansible_collections.converge.virt.plugins.module_utils.openstack.common import RawRequests
from ansible_collections.converge.virt.plugins.module_utils.resources.os_object import (
    OWNER_KEY,
    STACK_KEY,
    ObjectWorld,
    user_metadata,
)

CHUNK = 256 * 1024


def _meta(headers, prefix):
    prefix = prefix.lower()
    return dict((k.lower()[len(prefix):], v) for k, v in headers.items() if k.lower().startswith(prefix))


def _path(container, obj=None):
    path = "/" + quote(container, safe="")
    if obj is not None:
        path += "/" + quote(obj, safe="/")
    return path


class _Swift(RawRequests, Driver):
    def __init__(self, cloud):
        self.cloud = cloud
        self.api = cloud.conn.object_store

    def _container_state(self, name):
        resp = self._request("container %s" % name, "head", _path(name), missing_ok=True)
        if resp is None:
            return None
        headers = resp.headers
        meta = _meta(headers, "X-Container-Meta-")
        read_acl = headers.get("X-Container-Read") or ""
        return {
            "name": name,
            "object_count": int(headers.get("X-Container-Object-Count") or 0),
            "bytes_used": int(headers.get("X-Container-Bytes-Used") or 0),
            "metadata": user_metadata(meta),
            "read_acl": read_acl,
            "write_acl": headers.get("X-Container-Write") or "",
            "public": ".r:*" in read_acl.split(","),
            "managed": meta.get(OWNER_KEY) == "true",
        }

    @staticmethod
    def _meta_headers(prefix, before, after):
        headers = dict(("%s%s" % (prefix, k), v) for k, v in (after or {}).items())
        for key in set(before or {}) - set(after or {}):
            headers["X-Remove-%s%s" % (prefix[2:], key)] = "x"
        return headers


class ObjectContainerDriver(_Swift):

    def observe(self, name, desired=None):
        return ObjectWorld(current=self._container_state(name))

    def apply(self, plan):
        name, desired = plan.name, plan.desired
        if plan.action == DELETE:
            if desired["delete_objects"]:
                self._delete_objects(name)
            self._request("delete container %s" % name, "delete", _path(name), missing_ok=True, retry=True)
            return {}
        after = desired["after"]
        headers = self._meta_headers("X-Container-Meta-", (plan.before or {}).get("metadata"), after["metadata"])
        for field, header in (("read_acl", "Read"), ("write_acl", "Write")):
            value = after.get(field)
            if plan.before is None and not value:
                continue
            if value:
                headers["X-Container-%s" % header] = value
            elif (plan.before or {}).get(field):
                headers["X-Remove-Container-%s" % header] = "x"
        if plan.before is None:
            headers["X-Container-Meta-%s" % OWNER_KEY] = "true"
            self._request("create container %s" % name, "put", _path(name), headers=headers, retry=True)
        elif headers:
            self._request("update container %s" % name, "post", _path(name), headers=headers, retry=True)
        return {}

    def _delete_objects(self, name):
        while True:
            resp = self._request("list container %s" % name, "get", _path(name), missing_ok=True,
                                 params={"format": "json", "limit": 1000})
            items = resp.json() if resp is not None else []
            if not items:
                return
            for item in items:
                self._request("delete object %s/%s" % (name, item["name"]), "delete", _path(name, item["name"]),
                              missing_ok=True, retry=True)

    def list(self, names=None, **_filters):
        if not names:
            resp = self._request("list containers", "get", "/", params={"format": "json"})
            names = [c["name"] for c in resp.json()]
        states = [self._container_state(n) for n in names]
        return sorted((s for s in states if s is not None), key=lambda s: s["name"])


class ObjectDriver(_Swift):

    def __init__(self, cloud):
        super().__init__(cloud)
        self._container = None

    def _object_state(self, container, name):
        resp = self._request("object %s/%s" % (container, name), "head", _path(container, name), missing_ok=True)
        if resp is None:
            return None
        headers = resp.headers
        meta = _meta(headers, "X-Object-Meta-")
        return {
            "container": container,
            "name": name,
            "etag": (headers.get("Etag") or "").strip('"'),
            "size": int(headers.get("Content-Length") or 0),
            "content_type": headers.get("Content-Type"),
            "metadata": user_metadata(meta),
            "managed": meta.get(OWNER_KEY) == "true",
        }

    def observe(self, name, desired=None):
        if desired is not None:
            self._container = desired["container"]
        container = self._container
        if desired is not None and self._container_state(container) is None:
            return ObjectWorld(current=None, container=False)
        world = ObjectWorld(current=self._object_state(container, name))
        if desired is not None and desired["state"] == "present" and desired.get("src") is not None:
            world.local = self._hash(desired["src"], name)
        return world

    @staticmethod
    def _hash(path, name):
        md5, size = hashlib.md5(), 0
        try:
            with open(os.path.expanduser(path), "rb") as handle:
                while True:
                    chunk = handle.read(CHUNK)
                    if not chunk:
                        break
                    md5.update(chunk)
                    size += len(chunk)
        except OSError as err:
            raise InvalidSpec([("src", "cannot read %s on the host the module runs on: %s"
                                % (path, err.strerror or err))], kind="object", name=name)
        return {"md5": md5.hexdigest(), "size": size}

    def apply(self, plan):
        desired = plan.desired
        container, name = desired["container"], plan.name
        url = _path(container, name)
        what = "object %s/%s" % (container, name)
        if plan.action == DELETE:
            self._request("delete " + what, "delete", url, missing_ok=True, retry=True)
            return {}
        after = desired["after"]
        # Swift's object POST and PUT both set the whole metadata: send all of it, marker included.
        headers = dict(("X-Object-Meta-%s" % k, v) for k, v in after["metadata"].items())
        if plan.before is None or desired.get("managed"):
            headers["X-Object-Meta-%s" % OWNER_KEY] = "true"
        if plan.before is not None:
            # The whole metadata is replaced: a stack's mark on the object is read and sent again.
            resp = self._request(what, "head", url, missing_ok=True)
            stack = _meta(resp.headers, "X-Object-Meta-").get(STACK_KEY) if resp is not None else None
            if stack:
                headers["X-Object-Meta-%s" % STACK_KEY] = stack
        if after.get("content_type"):
            headers["Content-Type"] = after["content_type"]
        if not desired.get("upload"):
            self._request("update " + what, "post", url, headers=headers, retry=True)
            return {}
        headers["ETag"] = after["etag"]  # Swift refuses the upload (422) if the bytes differ
        if desired.get("content") is not None:
            self._request("upload " + what, "put", url, data=desired["content"].encode("utf-8"), headers=headers)
        else:
            with open(os.path.expanduser(desired["src"]), "rb") as handle:
                self._request("upload " + what, "put", url, data=handle, headers=headers)
        return {"uploaded": after["size"]}

    def list(self, names=None, **_filters):
        raise NotImplementedError("objects are listed per container")
