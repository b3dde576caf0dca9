# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What several OpenStack drivers do alike with the cloud (``openstack.cloud.Cloud``): raw REST
requests, listing by names, syncing metadata, and the usual waits.  The pure helpers the planners
share too live in ``resources/os_common.py``."""

from __future__ import annotations

from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Driver
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import CREATE, DELETE

try:
    from openstack import exceptions as sdk_exc
except ImportError:  # open_cloud reports the missing library before a driver is made
    sdk_exc = None


class RawRequests(object):
    """For a driver that speaks a service's REST API directly: it has ``cloud`` and ``api`` (the
    openstacksdk proxy of the service, e.g. ``conn.compute``)."""

    cloud = None
    api = None

    def _request(self, what, method, url, missing_ok=False, retry=False, **kwargs):
        """``api.<method>(url)`` through ``cloud.call``: an error answer becomes a typed error naming ``what``."""
        def send():
            resp = getattr(self.api, method)(url, raise_exc=False, **kwargs)
            sdk_exc.raise_from_response(resp)
            return resp
        return self.cloud.call(what, send, missing_ok=missing_ok, retry=retry)


def list_states(cloud, what, list_fn, state, names=None, **query):
    """``state(resource)`` of what ``list_fn(**query)`` lists, sorted by name then ID.

    With ``names``: only the resources with one of those names or IDs (one filtered list a name)."""
    if names:
        found = {}
        for name in names:
            for item in cloud.call(what, lambda n=name: list(list_fn(name=n, **query))):
                if item.name == name or item.id == name:
                    found[item.id] = item
        items = list(found.values())
    else:
        items = cloud.call(what, lambda: list(list_fn(**query)))
    return sorted((state(i) for i in items), key=lambda s: (s["name"] or "", s["id"]))


def sync_metadata(cloud, what, resource_id, before, after, delete_fn, set_fn):
    """Make the metadata of ``what`` go from ``before`` to ``after``: delete the keys gone, set the
    keys new or changed (the owner key, never in either, is left alone)."""
    before, after = before or {}, after or {}
    gone = sorted(k for k in before if k not in after)
    if gone:
        cloud.call("delete metadata of %s" % what, delete_fn, resource_id, keys=gone)
    changed = dict((k, v) for k, v in after.items() if before.get(k) != v)
    if changed:
        cloud.call("set metadata of %s" % what, set_fn, resource_id, **changed)


def _errored(resource):
    return resource.status.startswith("error")


def wait_status(cloud, what, fetch, statuses, timeout, progress, ready=None):
    """Wait until ``fetch()`` has one of ``statuses`` (and ``ready(resource)`` when given); an
    ``error*`` status ends the wait with BackendError.  Returns the resource."""
    return cloud.wait(what, fetch,
                      done=lambda r: r is not None and r.status in statuses and (ready is None or ready(r)),
                      failed=_errored, timeout=timeout, progress=progress)


def wait_settled(cloud, what, fetch, busy, timeout, progress):
    """Wait until ``fetch()`` is gone or has no ``busy`` status (the service accepts actions again)."""
    return cloud.wait(what, fetch, done=lambda r: r is None or r.status not in busy, timeout=timeout,
                      progress=progress)


def wait_gone(cloud, what, fetch, timeout, progress):
    """Wait until ``fetch()`` returns None (the resource is deleted)."""
    return cloud.wait(what, fetch, done=lambda r: r is None, timeout=timeout, progress=progress)


class BlockStorageDriver(Driver):
    """A Cinder driver (volumes, volume snapshots): ``bs`` is the Block Storage proxy; ``apply``
    creates, deletes, replaces (delete, then create) or updates, and returns the waits' progress.

    Subclasses give ``_create(spec)``, ``_delete(spec)`` and ``_update(plan, spec)``."""

    def __init__(self, cloud):
        self.cloud = cloud
        self.bs = cloud.conn.block_storage
        self._progress = []

    def _note(self, line):
        self._progress.append(line)

    def apply(self, plan):
        self._progress = []
        spec = plan.desired
        if plan.action == CREATE:
            self._create(spec)
        elif plan.action == DELETE:
            self._delete(spec)
        elif spec.get("replace"):
            self._delete(spec)
            self._create(spec)
        else:
            self._update(plan, spec)
        return {"progress": list(self._progress)}

    def _update_description_metadata(self, what, resource_id, paths, update_fn, delete_metadata_fn,
                                     set_metadata_fn):
        """Apply the ``description`` and ``metadata`` changes among ``paths`` (change path -> Change)."""
        if "description" in paths:
            self.cloud.call("update %s" % what, update_fn, resource_id, description=paths["description"].after)
        if "metadata" in paths:
            sync_metadata(self.cloud, what, resource_id, paths["metadata"].before, paths["metadata"].after,
                          delete_metadata_fn, set_metadata_fn)

    def _create(self, spec):
        raise NotImplementedError

    def _delete(self, spec):
        raise NotImplementedError

    def _update(self, plan, spec):
        raise NotImplementedError
