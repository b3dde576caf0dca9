# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenStack rules every driver relies on: lookup by ID or unique name, typed errors, retries,
waits.  Plain functions stand in for SDK calls; no cloud is contacted."""

from __future__ import annotations

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine import errors
from ansible_collections.converge.virt.plugins.module_utils.openstack import cloud as cloudmod

sdk_exc = pytest.importorskip("openstack.exceptions")

ID1 = "0b7f6a4e-3a0e-4c55-9d3c-6f1d2b8e9a01"
ID2 = "5c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"


class Res(object):
    def __init__(self, id, name, status=None):
        self.id, self.name, self.status = id, name, status


def _http(status):
    err = sdk_exc.HttpException("boom")
    err.status_code = status
    return err


@pytest.fixture
def cloud(monkeypatch):
    monkeypatch.setattr(cloudmod.time, "sleep", lambda s: None)
    return cloudmod.Cloud(conn=None)


def test_looks_like_id():
    assert cloudmod.looks_like_id(ID1)
    assert cloudmod.looks_like_id(ID1.replace("-", ""))
    assert not cloudmod.looks_like_id("web-1")
    assert not cloudmod.looks_like_id("")


def test_find_by_name_filters_server_side_and_matches_exactly(cloud):
    seen = {}

    def lister(**filters):
        seen.update(filters)
        return [Res(ID1, "net"), Res(ID2, "net-2")]  # a server doing prefix matching

    assert cloud.find_one("network", "net", lister, project_id="p").id == ID1
    assert seen == {"name": "net", "project_id": "p"}


def test_find_by_id_uses_get_and_falls_back_to_name(cloud):
    assert cloud.find_one("network", ID1, lambda **f: [], get_fn=lambda i: Res(i, "x")).name == "x"

    def missing(_id):
        raise sdk_exc.NotFoundException("gone")
    # a name that happens to look like an ID is still found by name
    assert cloud.find_one("network", ID1, lambda **f: [Res(ID2, ID1)], get_fn=missing).id == ID2


def test_a_name_matching_two_resources_is_an_error_never_a_guess(cloud):
    with pytest.raises(errors.Conflict, match="matches 2 resources .*use the ID"):
        cloud.find_one("network", "net", lambda **f: [Res(ID1, "net"), Res(ID2, "net")])


def test_require_one_names_the_field(cloud):
    with pytest.raises(errors.InvalidSpec) as err:
        cloud.require_one("flavor", "huge", lambda **f: [], field="flavor")
    assert err.value.problems == [("flavor", "flavor 'huge' does not exist")]
    assert cloud.find_one("flavor", None, lambda **f: 1 / 0) is None


def test_call_maps_errors(cloud):
    def fail(exc):
        def fn():
            raise exc
        return fn
    with pytest.raises(errors.NotFound):
        cloud.call("volume v", fail(sdk_exc.NotFoundException("x")))
    assert cloud.call("volume v", fail(sdk_exc.NotFoundException("x")), missing_ok=True) is None
    with pytest.raises(errors.Conflict, match="in use"):
        cloud.call("volume v", fail(sdk_exc.ConflictException("volume is in use")))
    with pytest.raises(errors.BackendError, match="admin"):
        cloud.call("project p", fail(sdk_exc.ForbiddenException("policy")))


def test_call_retries_conflicts_and_server_errors_only_when_asked(cloud):
    answers = [sdk_exc.ConflictException("in use"),
               _http(503), "done"]

    def flaky():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer
    assert cloud.call("delete", flaky, retry=True) == "done"
    answers[:] = [sdk_exc.ConflictException("in use"), "done"]
    with pytest.raises(errors.Conflict):
        cloud.call("delete", flaky)


def test_call_stops_retrying_at_the_deadline(cloud, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(cloudmod.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(cloudmod.time, "sleep", lambda s: clock.__setitem__(0, clock[0] + s))
    calls = []

    def busy():
        calls.append(clock[0])
        raise sdk_exc.ConflictException("in use")
    with pytest.raises(errors.Conflict):
        cloud.call("delete", busy, retry=True, retry_for=20)
    assert 3 <= len(calls) <= 6 and calls[-1] <= 20


def test_wait_reports_progress_and_times_out(cloud, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(cloudmod.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(cloudmod.time, "sleep", lambda s: clock.__setitem__(0, clock[0] + s))
    states = iter(["BUILD", "BUILD", "ACTIVE"])
    seen = []
    res = cloud.wait("server s", lambda: Res(ID1, "s", next(states)), lambda r: r.status == "ACTIVE",
                     progress=seen.append)
    assert res.status == "ACTIVE" and seen == ["server s: BUILD", "server s: ACTIVE"]
    with pytest.raises(errors.Timeout, match="still BUILD after 10 s"):
        cloud.wait("server s", lambda: Res(ID1, "s", "BUILD"), lambda r: False, timeout=10)


def test_wait_fails_on_error_status_with_the_fault(cloud):
    failed = Res(ID1, "s", "ERROR")
    failed.fault = {"message": "No valid host was found."}
    with pytest.raises(errors.BackendError, match="status ERROR: No valid host was found."):
        cloud.wait("server s", lambda: failed, lambda r: r.status == "ACTIVE")


def test_wait_for_deletion(cloud):
    assert cloud.wait("volume v", lambda: None, lambda r: r is None) is None
