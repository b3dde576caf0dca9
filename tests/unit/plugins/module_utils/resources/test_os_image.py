# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the Glance image planner: pure, plain dict worlds (no openstacksdk)."""

from __future__ import annotations

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, NONE, REPLACE, UPDATE,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.os_image import (
    OsImagePlanner, OsImageWorld, is_user_property,
)

PLANNER = OsImagePlanner()
SHA_A = "a" * 64
SHA_B = "b" * 64
URL = "http://example.com/img.qcow2"

CURRENT = {
    "name": "img", "id": "1" * 32, "status": "active", "format": "qcow2", "container_format": "bare",
    "visibility": "shared", "protected": False, "min_disk": 0, "min_ram": 0, "tags": ["a"],
    "properties": {"os_distro": "debian", "keep": "me"}, "size": 10, "virtual_size": 100,
    "sha256": SHA_A, "checksum": "sha256:" + SHA_A, "os_hash": "sha512:00", "source": URL,
    "owner": "p", "managed": True,
}


def params(**kw):
    base = {"name": "img", "state": "present", "url": URL, "checksum": "sha256:" + SHA_A}
    base.update(kw)
    return base


_EXISTING = object()


def world(current=_EXISTING, matches=True, sha=SHA_A, admin=False, **kw):
    current = CURRENT if current is _EXISTING else current
    return OsImageWorld(current=dict(current) if current else None, matches=matches if current else None,
                        wanted={"sha256": sha, "checksum": "sha256:" + sha, "format": None},
                        is_admin=admin, **kw)


def plan_for(p, w):
    return PLANNER.plan(PLANNER.normalize(p), w)


def test_normalize_errors_are_collected():
    with pytest.raises(InvalidSpec) as err:
        PLANNER.normalize(params(url=None, checksum="md5:x", visibility="everyone", min_ram=-1,
                                 tags=["converge-virt"], properties={"min_ram": 1, "owner_specified.openstack.sha256": "x"}))
    fields = [f for f, _m in err.value.problems]
    for field in ("checksum", "visibility", "min_ram", "tags", "properties", "url"):
        assert field in fields


def test_properties_are_strings():
    desired = PLANNER.normalize(params(properties={"hw_qemu_guest_agent": True, "n": 2}))
    assert desired["properties"] == {"hw_qemu_guest_agent": "true", "n": "2"}


def test_user_properties_exclude_records():
    assert is_user_property("os_distro")
    assert not is_user_property("converge_virt_source")
    assert not is_user_property("owner_specified.openstack.sha256")
    assert not is_user_property("os_hash_value")


def test_create_plan():
    plan = plan_for(params(tags=["b", "a"], visibility="private"), world(current=None))
    assert plan.action == CREATE
    assert plan.after["tags"] == ["a", "b"]
    assert plan.after["visibility"] == "private"
    assert plan.after["sha256"] == SHA_A
    assert plan.desired["upload"]


def test_noop_when_content_matches_and_nothing_set():
    plan = plan_for(params(), world())
    assert plan.action == NONE and not plan.changes


def test_live_updates_manage_only_given_properties():
    plan = plan_for(params(visibility="community", tags=["a", "c"], min_disk=2,
                           properties={"os_distro": "ubuntu", "new": "x"}), world())
    assert plan.action == UPDATE
    assert plan.effect == LIVE
    paths = sorted(c.path for c in plan.changes)
    assert paths == ["min_disk", "properties.new", "properties.os_distro", "tags", "visibility"]
    assert plan.after["properties"] == {"os_distro": "ubuntu", "new": "x", "keep": "me"}
    assert not plan.desired["upload"]


def test_purge_properties_removes_others():
    plan = plan_for(params(properties={"os_distro": "debian"}, purge_properties=True), world())
    assert [(c.path, c.op) for c in plan.changes] == [("properties.keep", "remove")]


def test_content_change_is_refused_naming_the_opt_ins():
    with pytest.raises(Conflict) as err:
        plan_for(params(checksum="sha256:" + SHA_B), world(matches=False, sha=SHA_B))
    text = str(err.value)
    assert "checksum" in text and "create-only" in text and "recreate: true" in text
    assert "new_version" in text


def test_recreate_replaces():
    plan = plan_for(params(checksum="sha256:" + SHA_B, recreate=True), world(matches=False, sha=SHA_B))
    assert plan.action == UPDATE and plan.effect == REPLACE
    assert plan.changes[0].path == "checksum"
    assert plan.desired["replace"] == CURRENT["id"]
    # live attributes of the old image carry over
    assert plan.after["properties"] == CURRENT["properties"] and plan.after["tags"] == ["a"]


def test_new_version_names_the_image_after_the_digest():
    plan = plan_for(params(checksum="sha256:" + SHA_B, on_source_change="new_version"),
                    world(matches=False, sha=SHA_B))
    assert plan.desired["target"] == "img-" + SHA_B[:12]
    assert plan.after["name"] == "img-" + SHA_B[:12]
    assert plan.desired["replace"] is None


def test_new_version_in_place_is_noop():
    versioned = dict(CURRENT, name="img-" + SHA_B[:12], id="2" * 32, sha256=SHA_B)
    plan = plan_for(params(checksum="sha256:" + SHA_B, on_source_change="new_version"),
                    world(matches=False, sha=SHA_B, versioned=versioned, versioned_matches=True))
    assert plan.action == NONE
    assert plan.after["id"] == "2" * 32


def test_container_format_change_is_create_only():
    with pytest.raises(Conflict) as err:
        plan_for(params(container_format="ovf"), world())
    assert "container_format" in str(err.value)


def test_public_needs_admin():
    with pytest.raises(InvalidSpec) as err:
        plan_for(params(visibility="public"), world(current=None))
    assert "admin" in str(err.value)
    assert plan_for(params(visibility="public"), world(current=None, admin=True)).action == CREATE


def test_unknown_content_is_left_with_a_note():
    plan = plan_for(params(), world(matches=None, reason="cannot compare"))
    assert plan.action == NONE and plan.notes == ["cannot compare"]


def test_delete_protected_needs_force():
    with pytest.raises(Conflict) as err:
        plan_for({"name": "img", "state": "absent"}, world(current=dict(CURRENT, protected=True)))
    assert "force" in str(err.value)
    plan = plan_for({"name": "img", "state": "absent", "force": True}, world(current=dict(CURRENT, protected=True)))
    assert plan.action == DELETE and plan.desired["old_protected"]


def test_delete_absent_is_noop():
    assert plan_for({"name": "img", "state": "absent"}, world(current=None)).action == NONE


def test_owner_tag_never_in_user_tags():
    plan = plan_for(params(tags=["a"]), world())
    assert "converge-virt" not in plan.after["tags"]


def test_controller_file_keeps_its_compression():
    desired = PLANNER.normalize(params(url=None, src="x.qcow2.xz", path="/tmp/copy", _controller_file={
        "name": "x.qcow2.xz", "size": 5, "sha256": SHA_A, "compression": "xz"}))
    assert desired["controller_file"]["compression"] == "xz"
    assert desired["source"] == {"type": "src", "location": "/tmp/copy", "display": "controller:x.qcow2.xz"}


def test_new_version_of_a_file_needs_no_checksum():
    desired = PLANNER.normalize(params(url=None, path="/srv/x.qcow2", checksum=None, on_source_change="new_version"))
    assert desired["source"]["type"] == "path"
    with pytest.raises(InvalidSpec, match="new_version needs a checksum"):
        PLANNER.normalize(params(checksum=None, on_source_change="new_version"))
