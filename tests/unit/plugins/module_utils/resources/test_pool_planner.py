# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the pool planner: normalize() and plan() are pure, so every case is a params
dict and a PoolWorld built by hand (no libvirt)."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, NONE, REPLACE, RESTART, UPDATE,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.pool import (
    KIND, SCHEMA, PoolPlanner, PoolWorld,
)

PLANNER = PoolPlanner()
NAME = "images"
PATH = "/var/lib/pools/images"

# What the libvirt driver observes for a running dir pool.
CURRENT = {
    "name": NAME, "uuid": "0d6c1f1e-0000-4000-8000-000000000001", "type": "dir", "path": PATH,
    "owner": 0, "group": 0, "mode": "0711", "source": None,
    "active": True, "autostart": True, "persistent": True,
    "capacity": 1000, "allocation": 100, "available": 900, "volume_count": 0,
}
NETFS = dict(CURRENT, name="share", type="netfs", path="/mnt/share",
             source={"host": "nfs.example.com", "dir": "/export", "format": "auto"})
LOGICAL = dict(CURRENT, name="vg", type="logical", path="/dev/vg", owner=None, group=None, mode=None,
               source={"name": "vg", "devices": ["/dev/sdb"]})
OTHER = dict(CURRENT, name="other", uuid="0d6c1f1e-0000-4000-8000-000000000002", path="/srv/other")


def current(**overrides):
    state = copy.deepcopy(CURRENT)
    state.update(overrides)
    return state


def world(cur=None, **kwargs):
    kwargs.setdefault("volumes", [] if cur is not None else None)
    kwargs.setdefault("local", True)
    return PoolWorld(current=cur, **kwargs)


def params_of(**params):
    base = {"name": NAME, "state": "present", "active": True, "autostart": True,
            "refresh": False, "force": False, "recreate": False}
    base.update(params)
    return base


def plan(params=None, cur=None, **world_kwargs):
    desired = PLANNER.normalize(params_of(**(params or {})))
    return PLANNER.plan(desired, world(cur, **world_kwargs))


def changes_of(p):
    return dict((c.path, (c.op, c.before, c.after, c.effect)) for c in p.changes)


def problems_of(params, cur=None, **world_kwargs):
    with pytest.raises(InvalidSpec) as info:
        plan(params, cur, **world_kwargs)
    return dict(info.value.problems)


# ---- schema and normalize ------------------------------------------------------------------
def test_schema_effects_are_as_documented():
    assert SCHEMA["type"].effect == REPLACE
    assert SCHEMA["path"].effect == REPLACE
    assert SCHEMA["source"].effect == REPLACE
    assert all(f.effect == REPLACE for f in SCHEMA["source"].fields.values())
    assert SCHEMA["active"].effect == LIVE and SCHEMA["autostart"].effect == LIVE


def test_normalize_minimal():
    desired = PLANNER.normalize({"name": NAME})
    assert desired["name"] == NAME
    assert desired["state"] == "present"
    assert desired["type"] is None and desired["path"] is None and desired["source"] is None
    assert desired["refresh"] is False and desired["force"] is False and desired["recreate"] is False


@pytest.mark.parametrize("value, expected", [
    ("0755", "0755"), ("755", "0755"), ("0711", "0711"), ("1777", "1777"), ("01777", "1777"), (" 0700 ", "0700"),
])
def test_normalize_mode(value, expected):
    assert PLANNER.normalize(params_of(mode=value))["mode"] == expected


@pytest.mark.parametrize("value, text", [
    ("0855", "not an octal mode"), ("75", "not an octal mode"), ("abc", "not an octal mode"),
    ("077777", "not an octal mode"), (493, "quoted octal string"), (True, "quoted octal string"),
])
def test_normalize_bad_mode(value, text):
    with pytest.raises(InvalidSpec) as info:
        PLANNER.normalize(params_of(mode=value))
    assert text in dict(info.value.problems)["mode"]


@pytest.mark.parametrize("value, expected", [
    (0, 0), (107, 107), ("107", 107), ("libvirt-qemu", "libvirt-qemu"), (" kvm ", "kvm"),
])
def test_normalize_owner(value, expected):
    assert PLANNER.normalize(params_of(owner=value, group=value))["owner"] == expected


@pytest.mark.parametrize("value", [-1, "-3", 2 ** 32, True, "", "a:b", "x\ny", "-name"])
def test_normalize_bad_owner(value):
    with pytest.raises(InvalidSpec) as info:
        PLANNER.normalize(params_of(owner=value))
    assert "owner" in dict(info.value.problems)


@pytest.mark.parametrize("path, text", [
    ("relative/dir", "must be an absolute path"),
    ("/var/tmp/../etc", "must not contain '..'"),
    ("/", "cannot be a pool's directory"),
])
def test_normalize_bad_path(path, text):
    with pytest.raises(InvalidSpec) as info:
        PLANNER.normalize(params_of(path=path))
    assert text in dict(info.value.problems)["path"]


def test_normalize_path_is_normalized():
    assert PLANNER.normalize(params_of(path="/var//lib/./pools/"))["path"] == "/var/lib/pools"


def test_normalize_source():
    desired = PLANNER.normalize(params_of(type="netfs", source={
        "host": "NFS.Example.com", "dir": "/export/", "format": "nfs", "name": None, "devices": None}))
    assert desired["source"] == {"host": "nfs.example.com", "dir": "/export", "format": "nfs",
                                 "name": None, "devices": None}
    desired = PLANNER.normalize(params_of(type="netfs", source={"host": "fd00::1"}))
    assert desired["source"]["host"] == "fd00::1"
    desired = PLANNER.normalize(params_of(type="logical", source={"devices": ["/dev/sdc", "/dev/sdb"]}))
    assert desired["source"]["devices"] == ["/dev/sdb", "/dev/sdc"]


def test_normalize_reports_every_problem_together():
    with pytest.raises(InvalidSpec) as info:
        PLANNER.normalize({"name": "a/b", "path": "rel", "mode": "999", "owner": -5, "type": "zfs",
                           "source": {"host": "not a host", "format": "ext4", "devices": ["sdb", "/dev/x", "/dev/x"]}})
    fields = set(dict(info.value.problems))
    assert fields == {"name", "path", "mode", "owner", "type", "source.host", "source.format",
                      "source.devices[0]", "source.devices"}
    assert str(info.value).startswith("pool 'a/b': invalid spec")


# ---- create ------------------------------------------------------------------------------
def test_create_dir_pool_with_defaults():
    p = plan({"path": PATH})
    assert p.action == CREATE and p.changed
    assert p.after["type"] == "dir" and p.after["path"] == PATH and p.after["source"] is None
    assert p.after["active"] is True and p.after["autostart"] is True and p.after["persistent"] is True
    assert p.after["uuid"] is None and p.after["volume_count"] == 0
    assert p.facts["build"] is True and p.desired["build"] is True
    assert set(changes_of(p)) == {"type", "path", "active", "autostart"}
    assert any("is created if missing" in n for n in p.notes)


def test_create_with_permissions_and_resolved_names():
    p = plan({"path": PATH, "owner": "qemu", "group": "kvm", "mode": "0750"},
             users={"qemu": 64055}, groups={"kvm": 994})
    assert (p.after["owner"], p.after["group"], p.after["mode"]) == (64055, 994, "0750")


def test_create_with_unknown_name_and_remote_name():
    problems = problems_of({"path": PATH, "owner": "nosuchuser", "group": "nosuchgroup"})
    assert "no user named 'nosuchuser'" in problems["owner"]
    assert "no group named 'nosuchgroup'" in problems["group"]
    problems = problems_of({"path": PATH, "owner": "qemu"}, local=False)
    assert "give the numeric id" in problems["owner"]


def test_create_stopped_pool_without_autostart():
    p = plan({"path": PATH, "active": False, "autostart": False})
    assert p.after["active"] is False and p.after["autostart"] is False
    assert any("not started" in n for n in p.notes)


def test_create_netfs_pool():
    p = plan({"type": "netfs", "path": "/mnt/share", "source": {"host": "10.0.0.5", "dir": "/export"}})
    assert p.after["source"] == {"host": "10.0.0.5", "dir": "/export", "format": "auto"}
    assert p.facts["build"] is True


def test_create_netfs_needs_host_dir_and_path():
    problems = problems_of({"type": "netfs"})
    assert set(problems) == {"path", "source.host", "source.dir"}


def test_create_netfs_cifs_takes_a_share_name():
    p = plan({"type": "netfs", "path": "/mnt/s", "source": {"host": "fs", "dir": "share", "format": "cifs"}})
    assert p.after["source"]["dir"] == "share"
    assert "absolute path" in problems_of({"type": "netfs", "path": "/mnt/s",
                                           "source": {"host": "fs", "dir": "share"}})["source.dir"]


def test_create_logical_pool_defaults():
    p = plan({"type": "logical"})
    assert p.after["source"] == {"name": NAME, "devices": []}
    assert p.after["path"] == "/dev/" + NAME
    assert p.facts["build"] is False  # vgcreate is destructive: never by default
    p = plan({"type": "logical", "source": {"name": "vg_fast", "devices": ["/dev/sdb"]}, "build": True})
    assert p.after["path"] == "/dev/vg_fast" and p.facts["build"] is True
    assert any("vgcreate" in n for n in p.notes)


def test_create_logical_build_needs_devices():
    assert "vgcreate" in problems_of({"type": "logical", "build": True})["source.devices"]


def test_create_dir_needs_path():
    assert "is required" in problems_of({})["path"]


@pytest.mark.parametrize("params, field", [
    ({"type": "logical", "source": {"host": "x"}}, "source.host"),
    ({"type": "logical", "source": {"dir": "/x"}}, "source.dir"),
    ({"type": "dir", "path": PATH, "source": {"name": "vg"}}, "source.name"),
    ({"type": "netfs", "path": "/m", "source": {"host": "h", "dir": "/e", "devices": ["/dev/sdb"]}},
     "source.devices"),
    ({"type": "logical", "mode": "0755"}, "mode"),
    ({"type": "logical", "owner": 0}, "owner"),
])
def test_create_options_of_other_types_are_refused(params, field):
    assert field in problems_of(params)


def test_create_checks_the_host():
    problems = problems_of({"path": "/srv/other"}, others=[OTHER])
    assert "already the target of pool 'other'" in problems["path"]
    problems = problems_of({"path": PATH}, paths={PATH: {"kind": "file", "marked": False, "entries": None}})
    assert "is not a directory" in problems["path"]
    problems = problems_of({"path": PATH, "build": False},
                           paths={PATH: {"kind": "missing", "marked": False, "entries": None}})
    assert "set build: true" in problems["path"]
    problems = problems_of({"type": "logical", "source": {"name": "vg"}}, others=[LOGICAL])
    assert "volume group vg is already used by pool 'vg'" in problems["source.name"]


def test_create_without_build_on_an_existing_directory():
    p = plan({"path": PATH, "build": False}, paths={PATH: {"kind": "dir", "marked": False, "entries": 3}})
    assert p.action == CREATE and p.facts["build"] is False


def test_create_does_not_modify_desired():
    desired = PLANNER.normalize(params_of(path=PATH, mode="0700"))
    snapshot = copy.deepcopy(desired)
    PLANNER.plan(desired, world())
    assert desired == snapshot


# ---- no-op and updates -------------------------------------------------------------------
@pytest.mark.parametrize("params", [
    {},
    {"path": PATH},
    {"path": PATH + "/", "type": "dir", "mode": "0711", "owner": 0, "group": "0"},
    {"owner": "root"},
])
def test_no_op_when_current_matches(params):
    p = plan(params, current(), users={"root": 0})
    assert p.action == NONE and not p.changed and p.changes == []
    assert p.after == p.before


def test_no_op_does_not_modify_current():
    cur = current()
    snapshot = copy.deepcopy(cur)
    plan({"mode": "0700"}, cur)
    assert cur == snapshot


@pytest.mark.parametrize("local, effect", [(True, LIVE), (False, RESTART)])
def test_permission_updates(local, effect):
    p = plan({"mode": "0750", "owner": 107}, current(), local=local)
    assert p.action == UPDATE and p.effect == effect
    assert changes_of(p) == {"mode": ("modify", "0711", "0750", effect), "owner": ("modify", 0, 107, effect)}
    assert p.after["mode"] == "0750" and p.after["owner"] == 107 and p.after["group"] == 0
    assert any("rebuilt" in n for n in p.notes) == (not local)


@pytest.mark.parametrize("params, expected", [
    ({"active": False}, {"active": ("modify", True, False, LIVE)}),
    ({"autostart": False}, {"autostart": ("modify", True, False, LIVE)}),
])
def test_live_toggles(params, expected):
    p = plan(params, current())
    assert changes_of(p) == expected and p.effect == LIVE


def test_start_a_stopped_pool():
    p = plan({}, current(active=False, volume_count=None, capacity=None), volumes=None)
    assert changes_of(p) == {"active": ("modify", False, True, LIVE)}


def test_transient_pool_is_adopted():
    p = plan({}, current(persistent=False, autostart=False))
    assert changes_of(p) == {"persistent": ("modify", False, True, LIVE),
                             "autostart": ("modify", False, True, LIVE)}
    assert p.after["persistent"] is True


def test_missing_directory_is_built_again():
    missing = {PATH: {"kind": "missing", "marked": False, "entries": None}}
    p = plan({}, current(active=False), paths=missing, volumes=[])
    assert changes_of(p)["build"] == ("add", None, PATH, LIVE)
    assert p.facts["build"] is True and p.desired["build"] is True
    p = plan({}, current(active=True), paths=missing)
    assert changes_of(p)["build"][3] == RESTART
    assert "set build: true" in problems_of({"build": False}, current(), paths=missing)["path"]
    # Stopped and meant to stay stopped: nothing to build without build: true.
    p = plan({"build": False, "active": False}, current(active=False), paths=missing)
    assert p.action == NONE


# ---- create-only changes ---------------------------------------------------------------------
@pytest.mark.parametrize("params, cur, path", [
    ({"path": "/srv/new"}, CURRENT, "path"),
    ({"type": "netfs", "path": "/mnt/share", "source": {"host": "h", "dir": "/e"}}, CURRENT, "type"),
    ({"source": {"host": "other.example.com"}}, NETFS, "source.host"),
    ({"source": {"format": "nfs"}}, NETFS, "source.format"),
    ({"source": {"devices": ["/dev/sdc"]}}, LOGICAL, "source.devices"),
    ({"mode": "0755"}, NETFS, "mode"),
])
def test_create_only_change_is_refused(params, cur, path):
    with pytest.raises(Conflict) as info:
        plan(dict(params, name=cur["name"]), copy.deepcopy(cur))
    text = str(info.value)
    assert "%s is create-only" % path in text
    assert "recreate: true" in text
    assert text.startswith("pool %r" % cur["name"])


def test_create_only_message_names_current_and_wanted_values():
    with pytest.raises(Conflict) as info:
        plan({"path": "/srv/new"}, current())
    assert "current '%s', wanted '/srv/new'" % PATH in str(info.value)


def test_recreate():
    p = plan({"path": "/srv/new", "recreate": True}, current())
    assert p.action == UPDATE and p.effect == REPLACE
    assert p.facts["recreate"] is True and p.facts["build"] is True
    assert p.after["path"] == "/srv/new" and p.after["uuid"] is None and p.after["persistent"] is True
    assert any("its files are kept" in n for n in p.notes)


def test_recreate_checks_the_new_path():
    problems = problems_of({"path": "/srv/other", "recreate": True}, current(), others=[OTHER])
    assert "already the target of pool 'other'" in problems["path"]


def test_recreate_refused_with_volumes_unless_force():
    with pytest.raises(Conflict) as info:
        plan({"path": "/srv/new", "recreate": True}, current(), volumes=["a.qcow2"])
    assert "1 volume: a.qcow2" in str(info.value) and "force: true" in str(info.value)
    p = plan({"path": "/srv/new", "recreate": True, "force": True}, current(), volumes=["a.qcow2"])
    assert p.facts["recreate"] is True and p.facts["warnings"]


def test_recreate_of_a_stopped_remote_pool_needs_force():
    with pytest.raises(Conflict) as info:
        plan({"path": "/srv/new", "recreate": True}, current(active=False), volumes=None, local=False)
    assert "cannot be listed" in str(info.value)


# ---- refresh ---------------------------------------------------------------------------------
def test_refresh_is_not_a_change():
    p = plan({"refresh": True}, current())
    assert p.action == NONE and p.facts["refresh"] is True and p.desired["refresh"] is True
    assert any("rescanned" in n for n in p.notes)


def test_refresh_of_a_stopped_pool_is_skipped():
    p = plan({"refresh": True, "active": False}, current(active=False), volumes=None)
    assert p.facts["refresh"] is False and any("refresh skipped" in n for n in p.notes)


# ---- delete ----------------------------------------------------------------------------------
def test_delete_absent_pool_is_a_no_op():
    p = plan({"state": "absent"})
    assert p.action == NONE and p.after is None


def test_delete_empty_pool_made_by_the_collection():
    info = {PATH: {"kind": "dir", "marked": True, "entries": 0}}
    p = plan({"state": "absent"}, current(), paths=info)
    assert p.action == DELETE and p.after is None and p.before["name"] == NAME
    assert p.facts["remove_directory"] is True
    assert any("is removed" in n for n in p.notes)


@pytest.mark.parametrize("info, reason", [
    ({PATH: {"kind": "dir", "marked": False, "entries": 0}}, "converge.virt did not create it"),
    ({}, "remote hypervisor"),
    ({PATH: {"kind": "missing", "marked": False, "entries": None}}, "does not exist"),
])
def test_delete_keeps_directories_it_did_not_make(info, reason):
    p = plan({"state": "absent"}, current(), paths=info)
    assert p.action == DELETE and p.facts["remove_directory"] is False
    assert any(reason in n for n in p.notes)


def test_delete_refused_while_the_pool_holds_volumes():
    volumes = ["vol%02d.qcow2" % i for i in range(12)]
    with pytest.raises(Conflict) as info:
        plan({"state": "absent"}, current(), volumes=volumes)
    text = str(info.value)
    assert "12 volumes: vol00.qcow2" in text and "vol09.qcow2" in text and "vol10.qcow2" not in text
    assert "(2 more)" in text and "force: true" in text


def test_force_delete_keeps_files_and_warns():
    info = {PATH: {"kind": "dir", "marked": True, "entries": 1}}
    p = plan({"state": "absent", "force": True}, current(), volumes=["a.img"], paths=info)
    assert p.action == DELETE and p.facts["remove_directory"] is False
    assert "files are kept" in p.facts["warnings"][0]
    assert any("not empty" in n for n in p.notes)


def test_delete_stopped_remote_pool_needs_force():
    with pytest.raises(Conflict):
        plan({"state": "absent"}, current(active=False), volumes=None, local=False)
    p = plan({"state": "absent", "force": True}, current(active=False), volumes=None, local=False)
    assert p.action == DELETE and p.facts["volumes"] is None


def test_delete_logical_pool_keeps_the_volume_group():
    p = plan({"name": "vg", "state": "absent"}, copy.deepcopy(LOGICAL))
    assert any("volume group vg" in n for n in p.notes)


def test_plan_dict_and_diff():
    p = plan({"mode": "0750"}, current())
    d = p.to_dict()
    assert d["kind"] == KIND and d["action"] == UPDATE and d["summary"] == (
        "pool images: update (modify mode [live])")
    diff = p.diff()
    assert diff["before"]["mode"] == "0711" and diff["after"]["mode"] == "0750"
