# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``Cloud.batch()``: inside it, lookups are answered from one listing per kind and query; outside
it nothing changes; a write drops what was kept.  Fakes stand in for the SDK."""

from __future__ import annotations

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine import errors
from ansible_collections.converge.virt.plugins.module_utils.openstack import cloud as cloudmod

pytest.importorskip("openstack")

ID1 = "0b7f6a4e-3a0e-4c55-9d3c-6f1d2b8e9a01"
ID2 = "5c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
ID3 = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"


class Res(object):
    def __init__(self, id, name, **attrs):
        self.id, self.name = id, name
        for key, value in attrs.items():
            setattr(self, key, value)


class Session(object):
    """What keystoneauth's Session looks like to the hook: ``request(url, method)``."""

    def __init__(self):
        self.sent = []

    def request(self, url, method, **kwargs):
        self.sent.append((method, url))
        return "response"


class Conn(object):
    def __init__(self):
        self.session = Session()


class Lister(object):
    def __init__(self, items):
        self.items = items
        self.calls = []

    def __call__(self, **query):
        self.calls.append(query)
        return iter(self.items)


@pytest.fixture
def cloud():
    return cloudmod.Cloud(conn=Conn())


def test_outside_a_batch_every_lookup_asks_the_server(cloud):
    lister = Lister([Res(ID1, "a")])
    assert cloud.find_one("network", "a", lister, listing="networks", project_id="p").id == ID1
    assert cloud.find_one("network", "a", lister, listing="networks", project_id="p").id == ID1
    assert lister.calls == [{"name": "a", "project_id": "p"}] * 2
    assert not cloud.batching


def test_inside_a_batch_one_listing_answers_every_name(cloud):
    lister = Lister([Res(ID1, "a"), Res(ID2, "b")])
    with cloud.batch():
        assert cloud.batching
        assert cloud.find_one("network", "a", lister, listing="networks", project_id="p").id == ID1
        assert cloud.find_one("network", "b", lister, listing="networks", project_id="p").id == ID2
        assert cloud.find_one("network", "c", lister, listing="networks", project_id="p") is None
        assert cloud.find_one("network", ID2, lister, listing="networks", project_id="p").name == "b"
    assert lister.calls == [{"project_id": "p"}]
    assert not cloud.batching


def test_a_different_query_is_a_different_listing(cloud):
    lister = Lister([Res(ID1, "a")])
    with cloud.batch():
        cloud.find_one("network", "a", lister, listing="networks", project_id="p")
        cloud.find_one("network", "a", lister, listing="networks")
        cloud.find_one("network", "a", lister, listing="networks", project_id="p")
    assert lister.calls == [{"project_id": "p"}, {}]


def test_a_name_matching_two_resources_is_still_a_conflict(cloud):
    lister = Lister([Res(ID1, "a"), Res(ID2, "a")])
    with cloud.batch():
        with pytest.raises(errors.Conflict, match="use the ID"):
            cloud.find_one("network", "a", lister, listing="networks")


def test_an_id_missing_from_the_listing_is_fetched(cloud):
    fetched = []

    def get(ref):
        fetched.append(ref)
        return Res(ref, "shared")
    with cloud.batch():
        assert cloud.find_one("network", ID3, Lister([Res(ID1, "a")]), get_fn=get, listing="networks").name == "shared"
    assert fetched == [ID3]


def test_select_filters_locally_inside_and_on_the_server_outside(cloud):
    ports = [Res(ID1, "p1", device_id="s1"), Res(ID2, "p2", device_id="s2"), Res(ID3, "p3", device_id="s1")]
    lister = Lister(ports)
    assert [p.name for p in cloud.select("ports", "ports", lister, match={"device_id": "s1"})] == ["p1", "p3"]
    assert lister.calls == [{"device_id": "s1"}]
    lister.calls = []
    with cloud.batch():
        assert [p.name for p in cloud.select("ports", "ports", lister, match={"device_id": "s1"})] == ["p1", "p3"]
        assert [p.name for p in cloud.select("ports", "ports", lister, match={"id": [ID2, ID3]})] == ["p2", "p3"]
    assert lister.calls == [{}]


def test_a_write_inside_the_batch_drops_the_listings(cloud):
    lister = Lister([Res(ID1, "a")])
    session = cloud.conn.session
    with cloud.batch():
        cloud.listing("networks", "networks", lister)
        session.request("/v2.0/networks", "GET")
        cloud.listing("networks", "networks", lister)
        assert len(lister.calls) == 1
        session.request("/v2.0/networks", "POST")
        cloud.listing("networks", "networks", lister)
        assert len(lister.calls) == 2
    assert session.sent == [("GET", "/v2.0/networks"), ("POST", "/v2.0/networks")]
    # The hook is gone with the block: the class's method answers again.
    assert "request" not in vars(session)


def test_nested_batches_share_the_outer_listings(cloud):
    lister = Lister([Res(ID1, "a")])
    with cloud.batch():
        cloud.listing("networks", "networks", lister)
        with cloud.batch():
            cloud.listing("networks", "networks", lister)
        assert cloud.batching
        cloud.listing("networks", "networks", lister)
    assert len(lister.calls) == 1


def test_listings_are_copies(cloud):
    with cloud.batch():
        first = cloud.listing("networks", "networks", Lister([Res(ID1, "a")]))
        first.append("junk")
        assert len(cloud.listing("networks", "networks", Lister([]))) == 1


def test_sdk_errors_in_a_listing_are_typed(cloud):
    from openstack import exceptions as sdk_exc

    def broken(**_query):
        err = sdk_exc.HttpException("denied")
        err.status_code = 403
        raise err
    with cloud.batch():
        with pytest.raises(errors.BackendError, match="networks"):
            cloud.find_one("networks", "a", broken, listing="networks")
