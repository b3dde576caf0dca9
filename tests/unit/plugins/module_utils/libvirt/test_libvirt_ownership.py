# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the libvirt stack marks: the ledger files (in a temporary directory), the
domain's metadata mark, and Ownership against a fake connection (no libvirtd)."""

from __future__ import annotations

import json
import os
import pathlib
import stat
import threading
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import (
    BackendError, ConvergeError, InvalidSpec, NotFound,
)
from ansible_collections.converge.virt.plugins.module_utils.libvirt import domain_xml, ownership
from ansible_collections.converge.virt.plugins.module_utils.libvirt.ownership import (
    NAMESPACE, Ledger, Ownership, hypervisor_slug, mark_in_domain_xml, mark_xml, parse_mark, state_dir,
)

libvirt = pytest.importorskip("libvirt")

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "q35-domain.xml"
OWNER = '<cvstack:owner xmlns:cvstack="%s" stack="lab"/>' % NAMESPACE


# ---- where the ledger lives ------------------------------------------------------------------
@pytest.mark.parametrize("one, other", [
    ("qemu:///system", "qemu+unix:///system"),
    ("qemu:///system", "qemu:///system/"),
    ("qemu+ssh://root@host/system", "qemu+tls://host/system"),
    ("qemu+ssh://host/system?keyfile=/k", "qemu+ssh://HOST/system"),
])
def test_uris_of_one_hypervisor_share_a_directory(one, other):
    assert hypervisor_slug(one) == hypervisor_slug(other)


@pytest.mark.parametrize("one, other", [
    ("qemu:///system", "qemu:///session"),
    ("qemu+ssh://a/system", "qemu+ssh://b/system"),
    ("qemu+ssh://a/system", "qemu+ssh://a:2222/system"),
    ("qemu:///system", "test:///system"),
    # one libvirtd per namespace on one machine, each reached by its own socket
    ("qemu+unix:///system?socket=/var/tmp/h/hv1/libvirt-sock", "qemu+unix:///system?socket=/var/tmp/h/hv2/libvirt-sock"),
    ("qemu:///system", "qemu+unix:///system?socket=/var/tmp/h/hv1/libvirt-sock"),
])
def test_different_hypervisors_get_different_directories(one, other):
    assert hypervisor_slug(one) != hypervisor_slug(other)


@pytest.mark.parametrize("uri", ["qemu:///system", "qemu+ssh://root@h.example:22/system?no_verify=1", "", "test:///default",
                                 "qemu+unix:///system?socket=/var/tmp/h/hv1/libvirt-sock"])
def test_slug_is_one_safe_path_component(uri):
    slug = hypervisor_slug(uri)
    assert slug and "/" not in slug and not slug.startswith(".")
    assert all(c.isalnum() or c in "._-" for c in slug)


def test_state_dir_env_root_and_user(tmp_path):
    assert state_dir({ownership.STATE_DIR_ENV: str(tmp_path)}, euid=1000) == str(tmp_path)
    assert state_dir({}, euid=0) == "/var/lib/converge-virt"
    assert state_dir({"XDG_STATE_HOME": "/x"}, euid=1000) == "/x/converge-virt"


# ---- the ledger ---------------------------------------------------------------------------
@pytest.fixture
def ledger(tmp_path):
    return Ledger(str(tmp_path / "state" / "stacks" / "qemu_system-0"), uri="qemu:///system")


def test_empty_ledger_reads_nothing_and_creates_nothing(ledger):
    assert ledger.read("lab") == []
    assert ledger.claims({"network"}) == {}
    assert not ledger.remove("lab", "network", None, "n")
    assert not os.path.exists(ledger.directory)


def test_add_creates_private_directories_and_an_atomic_file(ledger, tmp_path):
    assert ledger.add("lab", "network", None, "lab-net", "uuid-1")
    for path in (tmp_path / "state", tmp_path / "state" / "stacks", pathlib.Path(ledger.directory)):
        assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o700
    data = json.loads(pathlib.Path(ledger.path("lab")).read_text())
    assert data == {"version": 1, "stack": "lab", "uri": "qemu:///system",
                    "resources": [["network", None, "lab-net", "uuid-1"]]}
    assert stat.S_IMODE(os.stat(ledger.path("lab")).st_mode) & 0o077 == 0
    assert sorted(os.listdir(ledger.directory)) == [".lock", "lab.json"]  # no temporary file left


def test_add_is_idempotent_and_updates_the_identity(ledger):
    assert ledger.add("lab", "pool", None, "p", "u1")
    assert not ledger.add("lab", "pool", None, "p", "u1")
    assert ledger.add("lab", "pool", None, "p", "u2")
    assert ledger.read("lab") == [("pool", None, "p", "u2")]


def test_scope_is_part_of_the_key(ledger):
    ledger.add("lab", "volume", "a", "disk", "/a/disk")
    ledger.add("lab", "volume", "b", "disk", "/b/disk")
    ledger.add("lab", "image", "a", "disk", "/a/disk")
    assert len(ledger.read("lab")) == 3
    assert set(ledger.claims({"volume"})) == {("volume", "a", "disk"), ("volume", "b", "disk")}


def test_an_object_has_one_owner(ledger):
    ledger.add("one", "network", None, "n", "u")
    ledger.add("one", "network", None, "keep", "k")
    ledger.add("two", "network", None, "n", "u")
    assert ledger.read("one") == [("network", None, "keep", "k")]
    assert ledger.claims({"network"})[("network", None, "n")] == [("two", "u")]


def test_remove_and_the_last_entry_removes_the_file(ledger):
    ledger.add("lab", "network", None, "a", "1")
    ledger.add("lab", "network", None, "b", "2")
    assert ledger.remove("lab", "network", None, "a")
    assert not ledger.remove("lab", "network", None, "a")
    assert ledger.read("lab") == [("network", None, "b", "2")]
    assert ledger.remove("lab", "network", None, "b")
    assert not os.path.exists(ledger.path("lab"))


def test_remove_only_touches_its_own_stack(ledger):
    ledger.add("one", "network", None, "a", "1")
    assert not ledger.remove("two", "network", None, "a")
    assert ledger.read("one") == [("network", None, "a", "1")]


def test_claims_filters_kinds_and_reads_every_stack(ledger):
    ledger.add("one", "network", None, "a", "1")
    ledger.add("two", "pool", None, "p", "2")
    assert ledger.claims({"network", "pool"}) == {("network", None, "a"): [("one", "1")],
                                                  ("pool", None, "p"): [("two", "2")]}
    assert ledger.claims({"volume"}) == {}


def write_ledger(ledger, stack, entries, mtime):
    os.makedirs(ledger.directory, exist_ok=True)
    with open(ledger.path(stack), "w") as handle:
        json.dump({"version": 1, "stack": stack, "resources": entries}, handle)
    os.utime(ledger.path(stack), (mtime, mtime))


def test_claims_written_by_hand_are_listed_newest_first(ledger):
    write_ledger(ledger, "old", [["network", None, "n", "u1"]], 1000)
    write_ledger(ledger, "new", [["network", None, "n", "u2"]], 2000)
    assert ledger.claims({"network"})[("network", None, "n")] == [("new", "u2"), ("old", "u1")]


def test_entries_without_identity_and_junk_are_tolerated(ledger):
    os.makedirs(ledger.directory)
    with open(ledger.path("lab"), "w") as handle:
        json.dump({"resources": [["pool", None, "p"], ["bad"], "junk", ["network", None, "", "x"]]}, handle)
    with open(os.path.join(ledger.directory, "notes.txt"), "w") as handle:
        handle.write("not a ledger")
    assert ledger.read("lab") == [("pool", None, "p", None)]
    assert list(ledger.read_all()) == ["lab"]


def test_a_broken_ledger_is_an_error_naming_the_file(ledger):
    os.makedirs(ledger.directory)
    with open(ledger.path("lab"), "w") as handle:
        handle.write("{not json")
    with pytest.raises(ConvergeError, match="lab.json is not valid JSON"):
        ledger.read("lab")


@pytest.mark.parametrize("stack", ["", "a/b", "..", "x" * 41, "sp ace", None])
def test_stack_names_are_checked(ledger, stack):
    with pytest.raises(InvalidSpec):
        ledger.path(stack)


def test_concurrent_adds_lose_nothing(ledger):
    def worker(index):
        for item in range(10):
            ledger.add("lab", "volume", "p", "v%d-%d" % (index, item), "k")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ledger.read("lab")) == 80


# ---- the domain's mark ---------------------------------------------------------------------
def test_mark_xml_round_trip():
    assert parse_mark(mark_xml("lab-1.x_y")) == "lab-1.x_y"
    with pytest.raises(InvalidSpec):
        mark_xml('a"b')


@pytest.mark.parametrize("text, stack", [
    (OWNER, "lab"),
    ('<owner stack="lab"/>', "lab"),
    ('<owner/>', None),
    ('<other stack="lab"/>', None),
    ('<owner stack="a b"/>', None),
    ("<owner", None),
    ("", None),
    (None, None),
])
def test_parse_mark(text, stack):
    assert parse_mark(text) == stack


def with_mark(text):
    root = ET.fromstring(text)
    root.find("metadata").append(ET.fromstring(OWNER))
    return ET.tostring(root, encoding="unicode")


def test_the_mark_is_found_in_a_domain_definition():
    text = FIXTURE.read_text()
    assert mark_in_domain_xml(text) is None
    assert mark_in_domain_xml(with_mark(text)) == "lab"


def test_the_instance_planner_does_not_see_the_mark():
    text = FIXTURE.read_text()
    assert domain_xml.parse(with_mark(text)) == domain_xml.parse(text)


def test_an_edited_definition_keeps_the_mark():
    text = with_mark(FIXTURE.read_text())
    state = domain_xml.parse(text)
    edited = domain_xml.edit(text, {"memory": state["memory"] * 2}, state["meta"])
    assert mark_in_domain_xml(edited) == "lab"


def test_a_rebuilt_definition_keeps_foreign_metadata_only():
    text = with_mark(FIXTURE.read_text())
    kept = domain_xml.foreign_metadata(text)
    assert [e.tag for e in kept] == ["{%s}owner" % NAMESPACE]
    state = domain_xml.parse(text)
    spec = dict(state, virt_type="qemu", seed=None, hotplug_slots=0, xml_overrides=[], keep_metadata=kept,
                graphics={"type": "none", "listen": None}, nics=[dict(n, mac=None) for n in state["nics"]])
    rebuilt = domain_xml.build(spec)
    assert mark_in_domain_xml(rebuilt) == "lab"
    assert len(ET.fromstring(rebuilt).findall("metadata/{%s}instance" % domain_xml.NS)) == 1


# ---- Ownership against a fake connection ------------------------------------------------------
def lv_error(code):
    err = libvirt.libvirtError("fake")
    err.err = (code, 0, "fake error %d" % code, 0, None, None, None, 0, 0)
    return err


class FakeDomain(object):
    def __init__(self, name, marks=None, active=False, persistent=True, fail=None):
        self._name = name
        self.marks = dict(marks or {})  # flags -> text ("config"/"live")
        self.active = active
        self.persistent = persistent
        self.fail = fail
        self.calls = []

    def name(self):
        return self._name

    def isActive(self):
        return self.active

    def isPersistent(self):
        return self.persistent

    def metadata(self, typ, uri, flags):
        assert typ == libvirt.VIR_DOMAIN_METADATA_ELEMENT and uri == NAMESPACE
        where = "live" if (flags & libvirt.VIR_DOMAIN_AFFECT_LIVE or (flags == 0 and self.active)) else "config"
        if where not in self.marks:
            raise lv_error(libvirt.VIR_ERR_NO_DOMAIN_METADATA)
        return self.marks[where]

    def setMetadata(self, typ, text, key, uri, flags):
        self.calls.append((text, key, flags))
        if self.fail:
            raise lv_error(self.fail)
        for bit, where in ((libvirt.VIR_DOMAIN_AFFECT_CONFIG, "config"), (libvirt.VIR_DOMAIN_AFFECT_LIVE, "live")):
            if flags & bit:
                if text is None:
                    self.marks.pop(where, None)
                else:
                    self.marks[where] = text


class Named(object):
    def __init__(self, name, uuid):
        self._name, self._uuid = name, uuid

    def name(self):
        return self._name

    def UUIDString(self):
        return self._uuid

    def key(self):
        return self._uuid


class FakePool(Named):
    def __init__(self, name, uuid, volumes=(), active=True):
        super().__init__(name, uuid)
        self.volumes = [Named(v, "/%s/%s" % (name, v)) for v in volumes]
        self.active = active
        self.listed = 0

    def isActive(self):
        return self.active

    def listAllVolumes(self, flags):
        self.listed += 1
        return list(self.volumes)

    def storageVolLookupByName(self, name):
        for vol in self.volumes:
            if vol.name() == name:
                return vol
        raise lv_error(libvirt.VIR_ERR_NO_STORAGE_VOL)


class FakeConn(object):
    def __init__(self, domains=(), networks=(), pools=()):
        self.domains = list(domains)
        self.networks = list(networks)
        self.pools = list(pools)
        self.calls = []

    def getURI(self):
        return "qemu:///system"

    def listAllDomains(self, flags):
        self.calls.append("domains")
        return list(self.domains)

    def listAllNetworks(self, flags):
        self.calls.append("networks")
        return list(self.networks)

    def listAllStoragePools(self, flags):
        self.calls.append("pools")
        return list(self.pools)

    def lookupByName(self, name):
        for dom in self.domains:
            if dom.name() == name:
                return dom
        raise lv_error(libvirt.VIR_ERR_NO_DOMAIN)

    def networkLookupByName(self, name):
        for net in self.networks:
            if net.name() == name:
                return net
        raise lv_error(libvirt.VIR_ERR_NO_NETWORK)

    def storagePoolLookupByName(self, name):
        for pool in self.pools:
            if pool.name() == name:
                return pool
        raise lv_error(libvirt.VIR_ERR_NO_STORAGE_POOL)


class FakeBackend(object):
    def __init__(self, conn):
        self.conn = conn
        self.uri = "qemu:///system"
        self.local = True
        self.run_command = None


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv(ownership.STATE_DIR_ENV, str(tmp_path))
    return tmp_path


def test_marks_of_every_kind_round_trip(state):
    dom = FakeDomain("web")
    conn = FakeConn(domains=[dom, FakeDomain("other")], networks=[Named("net", "n-1")],
                    pools=[FakePool("lab", "p-1", volumes=["root", "base"])])
    owner = Ownership(FakeBackend(conn))
    assert owner.scan(Ownership.MARKABLE) == {}
    for key in [("instance", None, "web"), ("network", None, "net"), ("pool", None, "lab"),
                ("volume", "lab", "root"), ("image", "lab", "base")]:
        assert owner.mark(key[0], key[1], key[2], "lab")
        assert not owner.mark(key[0], key[1], key[2], "lab")
    assert dom.calls == [(mark_xml("lab"), "cvstack", libvirt.VIR_DOMAIN_AFFECT_CONFIG)]
    assert owner.scan(Ownership.MARKABLE) == {
        ("instance", None, "web"): "lab", ("network", None, "net"): "lab", ("pool", None, "lab"): "lab",
        ("volume", "lab", "root"): "lab", ("image", "lab", "base"): "lab"}
    assert owner.scan(["network"]) == {("network", None, "net"): "lab"}
    assert owner.unmark("instance", None, "web", "lab")
    assert owner.unmark("network", None, "net", "lab")
    assert set(owner.scan(Ownership.MARKABLE)) == {("pool", None, "lab"), ("volume", "lab", "root"),
                                                   ("image", "lab", "base")}
    assert os.listdir(str(state / "stacks")) == [hypervisor_slug("qemu:///system")]


def test_a_running_instance_is_marked_in_both_definitions(state):
    dom = FakeDomain("web", active=True)
    Ownership(FakeBackend(FakeConn(domains=[dom]))).mark("instance", None, "web", "lab")
    assert dom.calls[0][2] == libvirt.VIR_DOMAIN_AFFECT_CONFIG | libvirt.VIR_DOMAIN_AFFECT_LIVE
    assert set(dom.marks) == {"config", "live"}


def test_an_instance_that_refuses_the_mark_is_a_clear_error(state):
    dom = FakeDomain("web", fail=libvirt.VIR_ERR_OPERATION_INVALID)
    with pytest.raises(BackendError, match="cannot record in the definition of instance web that stack lab owns it"):
        Ownership(FakeBackend(FakeConn(domains=[dom]))).mark("instance", None, "web", "lab")


def test_marking_what_does_not_exist_is_not_found(state):
    owner = Ownership(FakeBackend(FakeConn(pools=[FakePool("lab", "p")])))
    for kind, scope, name in [("instance", None, "x"), ("network", None, "x"), ("pool", None, "x"),
                              ("volume", "lab", "x"), ("volume", "nopool", "x")]:
        with pytest.raises(NotFound, match="does not exist"):
            owner.mark(kind, scope, name, "lab")


def test_unmark_of_a_deleted_resource_is_a_no_op(state):
    owner = Ownership(FakeBackend(FakeConn()))
    assert not owner.unmark("instance", None, "gone", "lab")
    assert not owner.unmark("network", None, "gone", "lab")


def test_unmark_leaves_another_stacks_instance_mark(state):
    dom = FakeDomain("web", marks={"config": mark_xml("other")})
    assert not Ownership(FakeBackend(FakeConn(domains=[dom]))).unmark("instance", None, "web", "lab")
    assert dom.calls == []


def test_resources_deleted_or_recreated_by_hand_are_not_owned(state):
    net = Named("net", "n-1")
    pool = FakePool("lab", "p-1", volumes=["root"])
    conn = FakeConn(networks=[net], pools=[pool])
    owner = Ownership(FakeBackend(conn))
    owner.mark("network", None, "net", "lab")
    owner.mark("pool", None, "lab", "lab")
    owner.mark("volume", "lab", "root", "lab")
    conn.networks = []  # deleted by hand
    pool.volumes = [Named("root", "/elsewhere/root")]  # same name, another volume
    assert owner.scan(["network", "pool", "volume"]) == {("pool", None, "lab"): "lab"}
    conn.networks = [Named("net", "n-2")]  # a new network, same name
    assert owner.scan(["network"]) == {}
    owner.mark("network", None, "net", "lab")  # the stack created it again
    assert owner.scan(["network"]) == {("network", None, "net"): "lab"}


def test_scan_lists_each_kind_once_and_only_what_the_ledgers_name(state):
    pools = [FakePool("lab", "p-1", volumes=["a", "b"]), FakePool("other", "p-2", volumes=["c"]),
             FakePool("down", "p-3", active=False)]
    conn = FakeConn(networks=[Named("net", "n")], pools=pools)
    owner = Ownership(FakeBackend(conn))
    owner.mark("volume", "lab", "a", "one")
    owner.mark("volume", "lab", "b", "two")
    conn.calls = []
    assert owner.scan(["volume", "network", "instance"]) == {("volume", "lab", "a"): "one",
                                                             ("volume", "lab", "b"): "two"}
    assert conn.calls == ["domains", "pools"]
    assert [p.listed for p in pools] == [1, 0, 0]


def test_of_two_claims_the_one_naming_this_very_object_wins(state):
    conn = FakeConn(networks=[Named("n", "u1")])
    owner = Ownership(FakeBackend(conn))
    write_ledger(owner.ledger, "old", [["network", None, "n", "u1"]], 1000)
    write_ledger(owner.ledger, "new", [["network", None, "n", "u2"]], 2000)
    assert owner.scan(["network"]) == {("network", None, "n"): "old"}
    conn.networks = [Named("n", "u2")]
    assert owner.scan(["network"]) == {("network", None, "n"): "new"}


def test_scan_without_ledgers_makes_no_listing(state):
    conn = FakeConn(networks=[Named("net", "n")])
    assert Ownership(FakeBackend(conn)).scan(["network", "pool", "volume", "image"]) == {}
    assert conn.calls == []


def test_scan_reads_the_running_guests_mark(state):
    running = FakeDomain("a", marks={"live": mark_xml("lab"), "config": mark_xml("lab")}, active=True)
    transient = FakeDomain("b", marks={"live": mark_xml("lab")}, active=True, persistent=False)
    foreign = FakeDomain("c", marks={"config": "<owner/>"})
    owner = Ownership(FakeBackend(FakeConn(domains=[running, transient, foreign])))
    assert owner.scan(["instance"]) == {("instance", None, "a"): "lab", ("instance", None, "b"): "lab"}


def test_scope_rules(state):
    owner = Ownership(FakeBackend(FakeConn()))
    with pytest.raises(ConvergeError, match="named within its pool"):
        owner.mark("volume", None, "v", "lab")
    with pytest.raises(ConvergeError, match="not scoped"):
        owner.mark("network", "p", "n", "lab")
    with pytest.raises(ConvergeError, match="cannot mark keypair"):
        owner.mark("keypair", None, "k", "lab")
