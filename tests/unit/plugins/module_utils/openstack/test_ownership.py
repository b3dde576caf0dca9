# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenStack stack marks: ``scan`` reads one listing per kind, ``mark``/``unmark`` add or remove
only the mark.  A fake connection records the calls; no cloud is contacted."""

from __future__ import annotations

import pytest

from ansible_collections.converge.virt.plugins.module_utils.openstack import cloud as cloudmod
from ansible_collections.converge.virt.plugins.module_utils.openstack.ownership import Ownership

pytest.importorskip("openstack")


class Res(object):
    def __init__(self, id, name, tags=None, metadata=None, **attrs):
        self.id, self.name, self.tags, self.metadata = id, name, tags, metadata
        for key, value in attrs.items():
            setattr(self, key, value)


class Lister(object):
    def __init__(self, items, log, name):
        self.items, self.log, self.name = items, log, name

    def __call__(self, **query):
        self.log.append((self.name, query))
        return iter(self.items)


class Network(object):
    def __init__(self, log, nets, groups, ips):
        self.log = log
        self.networks = Lister(nets, log, "networks")
        self.security_groups = Lister(groups, log, "security_groups")
        self.ips = Lister(ips, log, "ips")
        self.subnets = Lister([], log, "subnets")
        self.ports = Lister([], log, "ports")

    def add_tag(self, resource, tag):
        self.log.append(("add_tag", resource.name, tag))

    def remove_tag(self, resource, tag):
        self.log.append(("remove_tag", resource.name, tag))


class Compute(object):
    def __init__(self, log, servers):
        self._servers = Lister(servers, log, "servers")

    def servers(self, **query):
        return self._servers(**query)


class BlockStorage(object):
    def __init__(self, log, volumes):
        self.log = log
        self._volumes = Lister(volumes, log, "volumes")

    def volumes(self, **query):
        return self._volumes(**query)

    def snapshots(self, **_query):
        return iter([])

    def set_volume_metadata(self, volume, **metadata):
        self.log.append(("set_volume_metadata", volume.name, metadata))

    def delete_volume_metadata(self, volume, keys=None):
        self.log.append(("delete_volume_metadata", volume.name, keys))


class Conn(object):
    def __init__(self, log, nets=(), groups=(), ips=(), servers=(), volumes=()):
        self.network = Network(log, list(nets), list(groups), list(ips))
        self.compute = Compute(log, list(servers))
        self.block_storage = BlockStorage(log, list(volumes))


class Backend(object):
    def __init__(self, conn):
        self.cloud = cloudmod.Cloud(conn)
        self.cloud.project_id = "proj"


def _ownership(**resources):
    log = []
    return Ownership(Backend(Conn(log, **resources))), log


def test_keypairs_and_users_are_not_markable():
    assert "keypair" not in Ownership.MARKABLE and "user" not in Ownership.MARKABLE
    assert set(["network", "instance", "volume", "volume_snapshot", "object", "object_container"]) <= Ownership.MARKABLE


def test_scan_reads_one_listing_per_kind_in_the_project():
    owner, log = _ownership(
        nets=[Res("n1", "web-net", tags=["cvstack:lab", "x"]), Res("n2", "other", tags=["x"])],
        ips=[Res("f1", None, tags=["cvstack:ops"], floating_ip_address="172.24.4.10")],
        servers=[Res("s1", "web", tags=["converge-virt", "cvstack:lab"])],
        volumes=[Res("v1", "data", metadata={"converge_virt_stack": "lab"}), Res("v2", "free", metadata={})])
    marks = owner.scan(["network", "floating_ip", "instance", "volume", "keypair"])
    assert marks == {("network", None, "web-net"): "lab", ("floating_ip", None, "172.24.4.10"): "ops",
                     ("instance", None, "web"): "lab", ("volume", None, "data"): "lab"}
    assert sorted(name for name, _q in log) == ["ips", "networks", "servers", "volumes"]
    assert ("networks", {"project_id": "proj"}) in log


def test_scan_inside_a_batch_shares_the_drivers_listings():
    owner, log = _ownership(nets=[Res("n1", "web-net", tags=["cvstack:lab"])])
    with owner.cloud.batch():
        assert owner.scan(["network"]) == {("network", None, "web-net"): "lab"}
        owner.cloud.find_one("network", "web-net", owner.conn.network.networks, listing="networks", project_id="proj")
        owner.cloud.select("ports", "ports", owner.conn.network.ports, match={"network_id": "n1"})
    # The marks' listing and what the network driver reads next, made once each (in parallel).
    assert sorted(name for name, _q in log) == ["networks", "ports", "subnets"]
    assert ("networks", {"project_id": "proj"}) in log


def test_mark_adds_only_the_tag_and_is_idempotent():
    owner, log = _ownership(nets=[Res("n1", "web-net", tags=["x"]), Res("n2", "db-net", tags=["cvstack:lab"])])
    owner.mark("network", None, "web-net", "lab")
    owner.mark("network", None, "db-net", "lab")
    assert [e for e in log if e[0] != "networks"] == [("add_tag", "web-net", "cvstack:lab")]


def test_unmark_removes_the_tag_and_ignores_what_is_gone():
    owner, log = _ownership(nets=[Res("n1", "web-net", tags=["cvstack:lab"])])
    owner.unmark("network", None, "web-net", "lab")
    owner.unmark("network", None, "gone", "lab")
    assert [e for e in log if e[0] != "networks"] == [("remove_tag", "web-net", "cvstack:lab")]


def test_volume_marks_are_one_metadata_key():
    owner, log = _ownership(volumes=[Res("v1", "data", metadata={"a": "1"}),
                                     Res("v2", "logs", metadata={"converge_virt_stack": "lab"})])
    owner.mark("volume", None, "data", "lab")
    owner.unmark("volume", None, "logs", "lab")
    owner.unmark("volume", None, "data", "other")  # another stack's mark is not this one's to remove
    writes = [e for e in log if e[0] != "volumes"]
    assert writes == [("set_volume_metadata", "data", {"converge_virt_stack": "lab"}),
                      ("delete_volume_metadata", "logs", ["converge_virt_stack"])]


def test_marking_what_does_not_exist_fails():
    from ansible_collections.converge.virt.plugins.module_utils.engine.errors import NotFound

    owner, _log = _ownership()
    with pytest.raises(NotFound, match="web-net"):
        owner.mark("network", None, "web-net", "lab")


def test_unmarkable_kinds_are_ignored():
    owner, log = _ownership()
    owner.mark("keypair", None, "k", "lab")
    assert not log
