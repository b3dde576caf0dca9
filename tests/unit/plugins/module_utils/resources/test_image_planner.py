# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the image planner: normalize() and plan() are pure, so every case is a params
dict and an ImageWorld built by hand (no libvirt, no network)."""

from __future__ import annotations

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, NONE, REPLACE, UPDATE,
)
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Problems
from ansible_collections.converge.virt.plugins.module_utils.resources.image import (
    ImagePlanner, ImageWorld, content_identity, content_options, parse_content, parse_source, versioned_name,
    wanted_digest,
)

PLANNER = ImagePlanner()
OLD = "a" * 64
NEW = "b" * 64
URL = "https://images.example.com/debian.qcow2"
POOL = {"name": "images", "path": "/var/lib/libvirt/images", "type": "dir", "active": True}
CURRENT = {"name": "debian.qcow2", "pool": "images", "volume": "debian.qcow2",
           "path": "/var/lib/libvirt/images/debian.qcow2", "format": "qcow2", "capacity": 2 ** 30,
           "allocation": 2 ** 28, "sha256": OLD, "checksum": "sha256:" + OLD, "source": URL,
           "dependents": []}
DEPENDENT = "images/web1.qcow2"


def params(**over):
    base = {"name": "debian.qcow2", "pool": "images", "state": "present", "url": URL,
            "checksum": "sha256:" + NEW}
    base.update(over)
    return base


def world(current="default", matches=False, dependents=(), users=(), **kw):
    current = CURRENT if current == "default" else current
    wanted = kw.pop("wanted", {"checksum": "sha256:" + NEW, "sha256": None, "format": None})
    return ImageWorld(current=dict(current, dependents=list(dependents)) if current else None,
                      pool=POOL, dependents=list(dependents), users=list(users), matches=matches,
                      wanted=wanted, **kw)


def plan(p, w):
    return PLANNER.plan(PLANNER.normalize(p), w)


# ---- normalize ------------------------------------------------------------------------------
def test_defaults():
    desired = PLANNER.normalize(params())
    assert desired["source"] == {"type": "url", "location": URL, "display": URL}
    assert desired["checksum"] == {"algo": "sha256", "digest": NEW, "url": None}
    assert (desired["timeout"], desired["retries"], desired["decompress"]) == (60, 3, "auto")
    assert desired["on_source_change"] == "refuse" and desired["validate_certs"]


@pytest.mark.parametrize("name", ["../x", "a/b", "/abs", ".hidden", "", "x\n", ".."])
def test_names_that_leave_the_pool_are_refused(name):
    with pytest.raises(InvalidSpec) as err:
        PLANNER.normalize(params(name=name))
    assert err.value.problems[0][0] == "name"


def test_every_problem_is_reported_together():
    with pytest.raises(InvalidSpec) as err:
        PLANNER.normalize(params(name="../x", url="ftp://host/x", checksum="md5:abc", timeout=0,
                                 cache_dir="relative", format="vmdk"))
    fields = [problem[0] for problem in err.value.problems]
    assert set(fields) >= {"name", "url", "checksum", "timeout", "cache_dir", "format"}


@pytest.mark.parametrize("extra,field", [
    ({"path": "/srv/x.qcow2"}, "path"),
    ({"url": None}, "url"),
    ({"src": "x.qcow2"}, "src"),
])
def test_exactly_one_source(extra, field):
    with pytest.raises(InvalidSpec) as err:
        PLANNER.normalize(params(**extra))
    assert err.value.problems[0][0] == field


def test_bare_src_needs_the_action_plugin():
    with pytest.raises(InvalidSpec, match="action plugin"):
        PLANNER.normalize(params(url=None, src="files/x.qcow2"))


def test_src_with_the_controller_file_and_its_copy():
    desired = PLANNER.normalize(params(url=None, src="x.qcow2", path="/tmp/ansible-tmp/image-source",
                                       _controller_file={"name": "x.qcow2", "size": 5, "sha256": NEW}))
    assert desired["source"] == {"type": "src", "location": "/tmp/ansible-tmp/image-source",
                                 "display": "controller:x.qcow2"}


def test_credentials_never_reach_the_state():
    desired = PLANNER.normalize(params(url="https://user:secret@host/x.qcow2"))
    assert "secret" not in desired["source"]["display"]
    result = plan(params(url="https://user:secret@host/x.qcow2"), world(current=None))
    assert "secret" not in str(result.to_dict()) and "secret" not in str(result.diff())


def test_new_version_needs_a_checksum():
    with pytest.raises(InvalidSpec) as err:
        PLANNER.normalize(params(checksum=None, on_source_change="new_version"))
    assert err.value.problems[0][0] == "on_source_change"


def test_absent_needs_no_source():
    desired = PLANNER.normalize({"name": "debian.qcow2", "pool": "images", "state": "absent"})
    assert desired["source"] is None


# ---- plan -----------------------------------------------------------------------------------
def test_create():
    result = plan(params(), world(current=None))
    assert result.action == CREATE
    assert result.after["volume"] == "debian.qcow2"
    assert result.after["path"] == "/var/lib/libvirt/images/debian.qcow2"
    assert result.after["checksum"] == "sha256:" + NEW
    assert result.desired["target"] == "debian.qcow2" and not result.desired["replace"]


def test_no_op_when_the_volume_holds_the_content():
    result = plan(params(), world(matches=True))
    assert result.action == NONE and result.changes == []
    assert result.after == result.before


def test_declared_format_contradicting_the_content():
    with pytest.raises(Conflict, match="not raw"):
        plan(params(format="raw"), world(matches=True))


def test_source_change_without_dependents_replaces_in_place():
    result = plan(params(), world())
    assert result.action == UPDATE
    assert [(c.path, c.before, c.after, c.effect) for c in result.changes] == [
        ("checksum", "sha256:" + OLD, "sha256:" + NEW, REPLACE)]
    assert result.desired["replace"] and result.desired["target"] == "debian.qcow2"


def test_source_change_with_unknown_new_digest_says_so():
    result = plan(params(checksum=None), world(wanted={"checksum": None, "sha256": None}))
    assert result.changes[0].path == "content" and result.changes[0].after == "(new content)"


@pytest.mark.parametrize("option", ["refuse", None])
def test_source_change_with_dependents_is_refused_naming_them(option):
    with pytest.raises(Conflict) as err:
        plan(params(on_source_change=option), world(dependents=[DEPENDENT]))
    assert DEPENDENT in str(err.value) and "new_version" in str(err.value)
    assert err.value.details["dependents"] == [DEPENDENT]


def test_source_change_with_an_instance_using_it_is_refused():
    users = [{"domain": "installer", "target": "sda", "device": "cdrom", "running": True}]
    with pytest.raises(Conflict, match="installer"):
        plan(params(), world(users=users))


def test_new_version_goes_to_a_new_volume():
    result = plan(params(on_source_change="new_version"), world(dependents=[DEPENDENT]))
    vname = "debian-%s.qcow2" % NEW[:12]
    assert result.action == UPDATE
    assert [c.path for c in result.changes] == ["checksum", "volume"]
    assert all(c.effect == REPLACE for c in result.changes)
    assert result.after["volume"] == vname and result.before["volume"] == "debian.qcow2"
    assert result.desired["target"] == vname and not result.desired["replace"]


def test_new_version_already_in_place_is_a_no_op():
    versioned = dict(CURRENT, volume="debian-%s.qcow2" % NEW[:12], sha256=NEW, checksum="sha256:" + NEW)
    result = plan(params(on_source_change="new_version"),
                  world(dependents=[DEPENDENT], versioned=versioned, versioned_matches=True))
    assert result.action == NONE
    assert result.after["volume"] == versioned["volume"]
    assert result.desired["target"] == versioned["volume"]


def test_new_version_volume_with_other_content_is_a_conflict():
    versioned = dict(CURRENT, volume="debian-%s.qcow2" % NEW[:12])
    with pytest.raises(Conflict, match="other content"):
        plan(params(on_source_change="new_version"),
             world(dependents=[DEPENDENT], versioned=versioned, versioned_matches=False))


def test_check_mode_sees_the_same_plan():
    # The planner does not know about check mode: the refusal happens while planning, so a
    # check-mode run fails exactly like a real one.
    w = world(dependents=[DEPENDENT])
    for _attempt in range(2):
        with pytest.raises(Conflict):
            plan(params(), w)


@pytest.mark.parametrize("name,expected", [
    ("debian.qcow2", "debian-0123456789ab.qcow2"),
    ("Debian.QCOW2", "Debian-0123456789ab.QCOW2"),
    ("installer.iso", "installer-0123456789ab.iso"),
    ("disk.img", "disk-0123456789ab.img"),
    ("appliance", "appliance-0123456789ab"),
    ("archive.tar", "archive.tar-0123456789ab"),
    (".qcow2", ".qcow2-0123456789ab"),
])
def test_versioned_name(name, expected):
    assert versioned_name(name, "0123456789abcdef" * 4) == expected


# ---- delete ---------------------------------------------------------------------------------
def absent(**over):
    return dict({"name": "debian.qcow2", "pool": "images", "state": "absent"}, **over)


def test_delete():
    result = plan(absent(), world())
    assert result.action == DELETE and result.after is None


def test_delete_missing_is_a_no_op():
    assert plan(absent(), world(current=None)).action == NONE


def test_delete_with_dependents_is_refused_naming_them():
    with pytest.raises(Conflict) as err:
        plan(absent(), world(dependents=[DEPENDENT]))
    assert DEPENDENT in str(err.value) and "force" in str(err.value)


def test_delete_with_instances_is_refused():
    users = [{"domain": "vm1", "target": "vda", "device": "disk", "running": False}]
    with pytest.raises(Conflict, match="vm1"):
        plan(absent(), world(users=users))


def test_forced_delete_warns():
    result = plan(absent(force=True), world(dependents=[DEPENDENT]))
    assert result.action == DELETE
    assert DEPENDENT in result.facts["warnings"][0]


def test_outputs_report_no_transfer_by_default():
    out = PLANNER.outputs(plan(params(), world(matches=True)))
    assert out["transfer"]["downloaded"] is False and out["transfer"]["bytes"] == 0


# ---- the shared content spec (used by the OpenStack planner too) ----------------------------------
def _content(p, **kw):
    problems = Problems()
    desired = content_options(p)
    parse_content(p, desired, problems)
    parse_source(p, desired, problems, **kw)
    return desired, problems.items


def test_new_version_of_a_file_needs_a_checksum_unless_the_driver_digests_it():
    p = params(url=None, path="/srv/x.qcow2", checksum=None, on_source_change="new_version")
    _desired, problems = _content(p)
    assert [f for f, _m in problems] == ["on_source_change"]
    desired, problems = _content(p, named_by_content=("src", "path"))
    assert problems == [] and desired["source"]["type"] == "path"


def test_controller_file_is_checked():
    p = params(url=None, src="x.qcow2", _controller_file={"name": "x.qcow2", "size": "5"})
    desired, problems = _content(p)
    assert [f for f, _m in problems] == ["_controller_file"] and desired["controller_file"] is None
    p["_controller_file"] = {"name": "x.qcow2", "size": 5, "sha256": NEW, "compression": "xz"}
    desired, problems = _content(p)
    assert problems == [] and desired["controller_file"] == {"name": "x.qcow2", "size": 5, "sha256": NEW}


def test_content_identity_and_wanted_digest():
    assert content_identity({"checksum": "sha512:ab", "sha256": OLD}) == "sha512:ab"
    assert content_identity({"checksum": None, "sha256": OLD}) == "sha256:" + OLD
    assert content_identity({}) is None
    assert wanted_digest({"checksum": "sha512:ab"}, "x") == "ab"
    assert wanted_digest({"checksum": None, "sha256": OLD}, "x") == OLD
    with pytest.raises(Conflict, match="digest is unknown"):
        wanted_digest({}, "x")
