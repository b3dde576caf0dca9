# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which ``converge.virt.stack`` owns what, in the project of the credentials.

The mark travels with the resource, so every run (from any controller) sees it:

* Neutron networks, security groups and floating IPs, Nova servers, Glance images and Keystone
  projects carry the tag ``cvstack:<stack>`` (valid for all four services: no ``/`` or ``,``, at
  most 48 characters, under Nova's limit of 60).
* Cinder volumes and snapshots carry the metadata key ``converge_virt_stack`` and Swift
  containers and objects ``converge-virt-stack`` (Swift drops ``_`` in header names); the value
  is the stack's name.
* Key pairs and users have neither tags nor metadata: they are not markable, so a stack never
  prunes them and adopts them (again) whenever they exist.

The planners hide these marks (``resources/os_common.py``, ``resources/os_object.py``) and the
drivers keep them when they rewrite tags or metadata, so a mark is never a change of the resource.
A floating IP is named by its address; an object's scope is its container.
"""

from __future__ import annotations

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import BackendError, NotFound
from ansible_collections.converge.virt.plugins.module_utils.openstack.object import _meta, _path
from ansible_collections.converge.virt.plugins.module_utils.resources.os_common import (
    STACK_METADATA_KEY,
    stack_of_tags,
    stack_tag,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.os_object import STACK_KEY as SWIFT_STACK_KEY

TAGGED_KINDS = frozenset(["network", "security_group", "floating_ip", "instance", "image", "project"])
METADATA_KINDS = frozenset(["volume", "volume_snapshot"])
SWIFT_KINDS = frozenset(["object_container", "object"])

_WHAT = {"network": "network", "security_group": "security group", "floating_ip": "floating IP",
         "instance": "server", "image": "image", "project": "project", "volume": "volume",
         "volume_snapshot": "volume snapshot", "object_container": "container", "object": "object"}


def _tags(resource):
    return list(getattr(resource, "tags", None) or [])


def stack_of_metadata(metadata, key=STACK_METADATA_KEY):
    """The stack a metadata mapping names as owner, or None."""
    value = (metadata or {}).get(key)
    return str(value) if value else None


class Ownership(object):
    """Stack marks in one OpenStack project (see the module docstring)."""

    MARKABLE = TAGGED_KINDS | METADATA_KINDS | SWIFT_KINDS

    def __init__(self, backend):
        self.backend = backend
        self.cloud = backend.cloud
        self.conn = self.cloud.conn

    # ---- listings (the same listing keys and queries as the drivers: a stack's plan shares them)
    def _spec(self, key):
        """``(what, listing key, list_fn, query)`` of one listing, as the drivers make it."""
        conn, project = self.conn, self.cloud.project_id
        compute, network, bs, image = None, None, None, None
        if key in ("servers", "flavors"):
            compute = conn.compute
        elif key in ("networks", "project_networks", "security_groups", "floating_ips", "subnets", "ports"):
            network = conn.network
        elif key in ("volumes", "snapshots"):
            bs = conn.block_storage
        elif key in ("images", "own_images"):
            image = conn.image
        specs = {
            "servers": lambda: ("servers", "servers", lambda **q: compute.servers(details=True, **q), {}),
            "flavors": lambda: ("flavors", "flavors", lambda **q: compute.flavors(details=True), {}),
            "project_networks": lambda: ("networks", "networks", network.networks, {"project_id": project}),
            "networks": lambda: ("networks", "networks", network.networks, {}),
            "subnets": lambda: ("subnets", "subnets", network.subnets, {}),
            "ports": lambda: ("ports", "ports", network.ports, {}),
            "security_groups": lambda: ("security groups", "security_groups", network.security_groups,
                                        {"project_id": project}),
            "floating_ips": lambda: ("floating IPs", "floating_ips", network.ips, {"project_id": project}),
            "volumes": lambda: ("volumes", "volumes", lambda **q: bs.volumes(details=True, **q), {}),
            "snapshots": lambda: ("volume snapshots", "snapshots", lambda **q: bs.snapshots(details=True, **q), {}),
            "own_images": lambda: ("images", "images", image.images, {"owner": project}),
            "images": lambda: ("images", "images", image.images, {}),
            "projects": lambda: ("projects", "projects", conn.identity.projects, {}),
        }
        return specs[key]()

    # The listing that holds a kind's marks, and the ones its driver reads to plan it (made at the
    # same time by ``scan``, each service answering in parallel).
    _MARKS = {"network": "project_networks", "security_group": "security_groups", "floating_ip": "floating_ips",
              "instance": "servers", "image": "own_images", "project": "projects", "volume": "volumes",
              "volume_snapshot": "snapshots"}
    _COMPANIONS = {"network": ("subnets", "ports"),
                   "instance": ("flavors", "images", "networks", "ports"),
                   "floating_ip": ("networks", "ports")}

    def _list(self, kind):
        what, key, list_fn, query = self._spec(self._MARKS[kind])
        return self.cloud.listing(what, key, list_fn, **query)

    @staticmethod
    def _name(kind, resource):
        if kind == "floating_ip":
            return resource.floating_ip_address
        return resource.name

    # ---- scan ----------------------------------------------------------------------------------
    def scan(self, kinds):
        owners = {}
        if self.cloud.batching:
            wanted = sorted(set(kinds) & (TAGGED_KINDS | METADATA_KINDS) - set(["project"]))
            keys = [self._MARKS[k] for k in wanted] + [c for k in wanted for c in self._COMPANIONS.get(k, ())]
            self.cloud.prefetch([self._spec(k) for k in sorted(set(keys))])
        for kind in sorted(set(kinds) & self.MARKABLE):
            if kind in SWIFT_KINDS:
                continue
            try:
                items = self._list(kind)
            except BackendError:
                if kind == "project":
                    continue  # listing projects needs an admin; without it there is nothing to own
                raise
            for item in items:
                if kind in TAGGED_KINDS:
                    stack = stack_of_tags(_tags(item))
                else:
                    stack = stack_of_metadata(getattr(item, "metadata", None))
                name = self._name(kind, item)
                if stack and name:
                    owners.setdefault((kind, None, name), stack)
        wanted = set(kinds) & SWIFT_KINDS
        if wanted and self._has_swift():
            owners.update(self._scan_swift(wanted))
        return owners

    def _has_swift(self):
        try:
            return bool(self.conn.has_service("object-store"))
        except Exception:  # pylint: disable=broad-exception-caught
            return False

    def _swift(self, what, method, url, missing_ok=False, **kwargs):
        from openstack import exceptions as sdk_exc

        api = self.conn.object_store

        def send():
            resp = getattr(api, method)(url, raise_exc=False, **kwargs)
            sdk_exc.raise_from_response(resp)
            return resp
        return self.cloud.call(what, send, missing_ok=missing_ok, retry=method != "get" and method != "head")

    def _swift_names(self, url):
        """Every name of a Swift listing (the account's containers, a container's objects)."""
        names, marker = [], None
        while True:
            params = {"format": "json", "limit": 1000}
            if marker:
                params["marker"] = marker
            resp = self._swift("list %s" % (url.strip("/") or "containers"), "get", url, missing_ok=True,
                               params=params)
            items = resp.json() if resp is not None else []
            if not items:
                return names
            names.extend(i["name"] for i in items)
            marker = items[-1]["name"]

    def _scan_swift(self, kinds):
        """Swift lists no metadata: one HEAD per container (and per object when objects are asked)."""
        owners = {}
        for container in self._swift_names("/"):
            resp = self._swift("container %s" % container, "head", _path(container), missing_ok=True)
            if resp is None:
                continue
            stack = _meta(resp.headers, "X-Container-Meta-").get(SWIFT_STACK_KEY)
            if stack and "object_container" in kinds:
                owners[("object_container", None, container)] = stack
            if "object" not in kinds:
                continue
            for name in self._swift_names(_path(container)):
                head = self._swift("object %s/%s" % (container, name), "head", _path(container, name), missing_ok=True)
                mark = _meta(head.headers, "X-Object-Meta-").get(SWIFT_STACK_KEY) if head is not None else None
                if mark:
                    owners[("object", container, name)] = mark
        return owners

    # ---- mark / unmark -------------------------------------------------------------------------
    def _find(self, kind, name):
        """The resource ``name`` of ``kind`` in the project, read now (a mark follows a change):
        one request filtered by name, as the drivers' lookups outside a batch."""
        self.cloud.forget_listings()
        what, key, list_fn, query = self._spec(self._MARKS[kind])
        name_key = "floating_ip_address" if kind == "floating_ip" else "name"
        return self.cloud.find_one(_WHAT[kind], name, list_fn, name_key=name_key, listing=key, **query)

    def mark(self, kind, scope, name, stack):
        self._set(kind, scope, name, stack, add=True)

    def unmark(self, kind, scope, name, stack):
        self._set(kind, scope, name, stack, add=False)

    def _set(self, kind, scope, name, stack, add):
        if kind not in self.MARKABLE:
            return
        if kind in SWIFT_KINDS:
            self._set_swift(kind, scope, name, stack, add)
            return
        what = "%s %s" % ("mark" if add else "unmark", "%s %s" % (_WHAT[kind], name))
        resource = self._find(kind, name)
        if resource is None:
            if add:
                raise NotFound("%s: it does not exist" % what, kind=kind, name=name)
            return  # the mark went away with the resource
        if kind in TAGGED_KINDS:
            self._set_tag(what, kind, resource, stack_tag(stack), add)
        else:
            self._set_metadata(what, kind, resource, stack, add)

    def _set_tag(self, what, kind, resource, tag, add):
        tags = _tags(resource)
        if (tag in tags) == add:
            return
        conn = self.conn
        if kind in ("network", "security_group", "floating_ip"):
            fn = conn.network.add_tag if add else conn.network.remove_tag
            self.cloud.call(what, fn, resource, tag, retry=True)
        elif kind == "image":
            fn = conn.image.add_tag if add else conn.image.remove_tag
            self.cloud.call(what, fn, resource, tag, retry=True)
        else:
            service = conn.compute if kind == "instance" else conn.identity
            fn = resource.add_tag if add else resource.remove_tag
            self.cloud.call(what, fn, service, tag, retry=True)

    def _set_metadata(self, what, kind, resource, stack, add):
        bs = self.conn.block_storage
        current = stack_of_metadata(getattr(resource, "metadata", None))
        if add and current == stack:
            return
        if not add and current != stack:
            return
        if kind == "volume":
            setter, deleter = bs.set_volume_metadata, bs.delete_volume_metadata
        else:
            setter, deleter = bs.set_snapshot_metadata, bs.delete_snapshot_metadata
        if add:
            self.cloud.call(what, setter, resource, retry=True, **{STACK_METADATA_KEY: stack})
        else:
            self.cloud.call(what, deleter, resource, keys=[STACK_METADATA_KEY], retry=True, missing_ok=True)

    def _set_swift(self, kind, scope, name, stack, add):
        header_prefix = "X-Container-Meta-" if kind == "object_container" else "X-Object-Meta-"
        url = _path(name) if kind == "object_container" else _path(scope, name)
        label = name if kind == "object_container" else "%s/%s" % (scope, name)
        what = "%s %s %s" % ("mark" if add else "unmark", _WHAT[kind], label)
        head = self._swift(what, "head", url, missing_ok=True)
        if head is None:
            if add:
                raise NotFound("%s: it does not exist" % what, kind=kind, name=name)
            return
        meta = _meta(head.headers, header_prefix)
        if (meta.get(SWIFT_STACK_KEY) == stack) == add:
            return
        if kind == "object_container":
            # A container POST changes only the headers it sends.
            headers = ({header_prefix + SWIFT_STACK_KEY: stack} if add
                       else {"X-Remove-Container-Meta-" + SWIFT_STACK_KEY: "x"})
        else:
            # An object POST replaces the whole metadata: send the rest of it again.
            headers = dict((header_prefix + k, v) for k, v in meta.items() if k != SWIFT_STACK_KEY)
            if add:
                headers[header_prefix + SWIFT_STACK_KEY] = stack
        self._swift(what, "post", url, headers=headers)
