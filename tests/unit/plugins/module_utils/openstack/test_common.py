# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What several OpenStack drivers share (openstack/common.py).  A recording stand-in plays the
cloud; no cloud is contacted."""

from __future__ import annotations

import types

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine import errors
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import CREATE, DELETE, UPDATE
from ansible_collections.converge.virt.plugins.module_utils.openstack import cloud as cloudmod
from ansible_collections.converge.virt.plugins.module_utils.openstack import common


class Res(object):
    def __init__(self, id, name, status=None):
        self.id, self.name, self.status = id, name, status


class FakeCloud(cloudmod.Cloud):
    """A Cloud whose calls are recorded and whose waits do not sleep."""

    def __init__(self):
        super().__init__(conn=None)
        self.calls = []

    def call(self, what, fn, *args, **kwargs):
        self.calls.append(what)
        kwargs.pop("retry", None)
        kwargs.pop("missing_ok", None)
        return fn(*args, **kwargs)


@pytest.fixture
def cloud(monkeypatch):
    monkeypatch.setattr(cloudmod.time, "sleep", lambda s: None)
    return FakeCloud()


def test_list_states_all_and_by_names(cloud):
    items = [Res("2", "b"), Res("1", "a"), Res("3", None)]

    def lister(**query):
        name = query.get("name")
        assert query.get("volume_id") == "v"
        return [i for i in items if name is None or i.name == name or i.name == "b"]  # a sloppy filter

    def state(item):
        return {"id": item.id, "name": item.name}

    assert [s["id"] for s in common.list_states(cloud, "list x", lister, state, volume_id="v")] == ["3", "1", "2"]
    found = common.list_states(cloud, "list x", lister, state, ["a", "3"], volume_id="v")
    assert [s["id"] for s in found] == ["1"]
    assert cloud.calls == ["list x"] * 3


def test_sync_metadata_deletes_gone_and_sets_changed(cloud):
    seen = []
    common.sync_metadata(cloud, "volume v", "id1", {"a": "1", "b": "2", "c": "3"}, {"a": "1", "b": "9", "d": "4"},
                         lambda rid, keys: seen.append(("delete", rid, keys)),
                         lambda rid, **kv: seen.append(("set", rid, kv)))
    assert seen == [("delete", "id1", ["c"]), ("set", "id1", {"b": "9", "d": "4"})]
    assert cloud.calls == ["delete metadata of volume v", "set metadata of volume v"]
    seen[:] = []
    common.sync_metadata(cloud, "volume v", "id1", None, None, None, None)
    assert seen == []


def _fetcher(*answers):
    answers = list(answers)
    return lambda: answers.pop(0) if len(answers) > 1 else answers[0]


def test_wait_status(cloud):
    progress = []
    got = common.wait_status(cloud, "volume v", _fetcher(Res("1", "v", "creating"), Res("1", "v", "available")),
                             ("available",), 10, progress.append)
    assert got.status == "available"
    assert progress == ["volume v: creating", "volume v: available"]
    with pytest.raises(errors.BackendError, match="status error_extending"):
        common.wait_status(cloud, "volume v", _fetcher(Res("1", "v", "error_extending")), ("available",), 10,
                           progress.append)
    ready = iter([False, True])
    got = common.wait_status(cloud, "volume v", _fetcher(Res("1", "v", "available")), ("available",), 10,
                             progress.append, ready=lambda r: next(ready))
    assert got.status == "available"


def test_wait_settled_and_gone(cloud):
    progress = []
    busy = ("deleting",)
    got = common.wait_settled(cloud, "s", _fetcher(Res("1", "s", "deleting"), Res("1", "s", "available")), busy, 10,
                              progress.append)
    assert got.status == "available"
    assert common.wait_settled(cloud, "s", _fetcher(None), busy, 10, progress.append) is None
    assert common.wait_gone(cloud, "s", _fetcher(Res("1", "s", "deleting"), None), 10, progress.append) is None
    assert progress[-1] == "s: gone"


def test_raw_requests_turn_error_answers_into_typed_errors(cloud):
    sdk_exc = pytest.importorskip("openstack.exceptions")

    class Answer(object):
        def __init__(self, status):
            self.status_code = status
            self.headers = {}
            self.reason = "x"
            self.text = ""
            self.content = b""
            self.url = "/"

        def json(self):
            return {}

    class Api(object):
        def get(self, url, raise_exc=True, **kwargs):
            assert raise_exc is False
            return Answer(200 if url == "/ok" else 404)

    class Raw(common.RawRequests):
        def __init__(self):
            self.cloud = cloudmod.Cloud(conn=None)
            self.api = Api()

    raw = Raw()
    assert raw._request("thing", "get", "/ok").status_code == 200
    assert raw._request("thing", "get", "/missing", missing_ok=True) is None
    with pytest.raises(errors.NotFound):
        raw._request("thing", "get", "/missing")
    assert sdk_exc is not None


class Cinder(common.BlockStorageDriver):
    def __init__(self, cloud):
        super().__init__(cloud)
        self.done = []

    def _create(self, spec):
        self._note("created")
        self.done.append("create")

    def _delete(self, spec):
        self.done.append("delete %s" % spec["id"])

    def _update(self, plan, spec):
        self.done.append("update")


def test_block_storage_driver_dispatches_and_reports_progress(cloud):
    cloud.conn = types.SimpleNamespace(block_storage="bs")
    driver = Cinder(cloud)
    assert driver.bs == "bs"

    def plan(action, **spec):
        return types.SimpleNamespace(action=action, desired=dict(spec, id="i"), changes=[])

    assert driver.apply(plan(CREATE)) == {"progress": ["created"]}
    assert driver.apply(plan(DELETE)) == {"progress": []}
    driver.apply(plan(UPDATE, replace=True))
    driver.apply(plan(UPDATE))
    assert driver.done == ["create", "delete i", "delete i", "create", "update"]


def test_block_storage_driver_updates_description_and_metadata(cloud):
    cloud.conn = types.SimpleNamespace(block_storage=None)
    driver = Cinder(cloud)
    seen = []
    paths = {"description": types.SimpleNamespace(after="new"),
             "metadata": types.SimpleNamespace(before={"a": "1"}, after={"b": "2"})}

    def update(rid, **kw):
        seen.append(("update", kw))

    def delete(rid, keys):
        seen.append(("delete", keys))

    def put(rid, **kv):
        seen.append(("set", kv))

    driver._update_description_metadata("volume v", "i", paths, update, delete, put)
    assert seen == [("update", {"description": "new"}), ("delete", ["a"]), ("set", {"b": "2"})]
    assert cloud.calls == ["update volume v", "delete metadata of volume v", "set metadata of volume v"]
