# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the Swift container and object planners: pure, plain dict worlds."""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import CREATE, DELETE, LIVE, NONE, UPDATE
from ansible_collections.converge.virt.plugins.module_utils.resources.os_object import (
    PUBLIC_READ_ACL, ObjectWorld, OsObjectContainerPlanner, OsObjectPlanner, mapping_changes, user_metadata,
)

CONTAINERS = OsObjectContainerPlanner()
OBJECTS = OsObjectPlanner()
CONTAINER = {"name": "c", "object_count": 0, "bytes_used": 0, "metadata": {"team": "x", "keep": "y"},
             "read_acl": "", "write_acl": "", "public": False, "managed": True}
MD5 = hashlib.md5(b"hello").hexdigest()
OBJECT = {"container": "c", "name": "o", "etag": MD5, "size": 5, "content_type": "text/plain",
          "metadata": {"a": "1"}, "managed": True}


def cplan(p, current=None):
    return CONTAINERS.plan(CONTAINERS.normalize(p), ObjectWorld(current=current))


def oplan(p, current=None, container=True, local=None):
    return OBJECTS.plan(OBJECTS.normalize(p), ObjectWorld(current=current, container=container, local=local))


def test_metadata_keys():
    with pytest.raises(InvalidSpec) as err:
        CONTAINERS.normalize({"name": "c", "metadata": {"a_b": 1}})
    assert "'_'" in str(err.value)
    with pytest.raises(InvalidSpec):
        CONTAINERS.normalize({"name": "c", "metadata": {"converge-virt-managed": "true"}})
    assert CONTAINERS.normalize({"name": "c", "metadata": {"Team": True}})["metadata"] == {"team": "true"}


def test_owner_marker_is_hidden():
    assert user_metadata({"converge-virt-managed": "true", "a": "1"}) == {"a": "1"}


def test_container_create_noop_update():
    assert cplan({"name": "c", "public": True}).action == CREATE
    assert cplan({"name": "c", "metadata": {"team": "x"}}, CONTAINER).action == NONE
    plan = cplan({"name": "c", "public": True, "metadata": {"team": "z"}}, CONTAINER)
    assert plan.action == UPDATE and plan.effect == LIVE
    assert sorted(c.path for c in plan.changes) == ["metadata.team", "read_acl"]
    assert plan.after["read_acl"] == PUBLIC_READ_ACL and plan.after["public"]
    assert plan.after["metadata"] == {"team": "z", "keep": "y"}


def test_container_purge():
    plan = cplan({"name": "c", "metadata": {"team": "x"}, "purge_metadata": True}, CONTAINER)
    assert [(c.path, c.op) for c in plan.changes] == [("metadata.keep", "remove")]


def test_container_delete_refuses_non_empty():
    full = dict(CONTAINER, object_count=3)
    with pytest.raises(Conflict) as err:
        cplan({"name": "c", "state": "absent"}, full)
    assert "delete_objects" in str(err.value)
    assert cplan({"name": "c", "state": "absent", "delete_objects": True}, full).action == DELETE
    assert cplan({"name": "c", "state": "absent"}).action == NONE


def test_public_and_read_acl_exclusive():
    with pytest.raises(InvalidSpec):
        CONTAINERS.normalize({"name": "c", "public": True, "read_acl": "x"})


def test_object_needs_container():
    with pytest.raises(Conflict) as err:
        oplan({"container": "c", "name": "o", "content": "hello"}, container=False)
    assert "does not exist" in str(err.value)


def test_object_by_md5():
    assert oplan({"container": "c", "name": "o", "content": "hello"}).action == CREATE
    assert oplan({"container": "c", "name": "o", "content": "hello"}, OBJECT).action == NONE
    plan = oplan({"container": "c", "name": "o", "content": "bye"}, OBJECT)
    assert plan.action == UPDATE and plan.effect == LIVE and plan.desired["upload"]
    assert [c.path for c in plan.changes] == ["etag"]


def test_object_src_metadata_only():
    plan = oplan({"container": "c", "name": "o", "src": "/f", "metadata": {"b": "2"}}, OBJECT,
                 local={"md5": MD5, "size": 5})
    assert plan.action == UPDATE and not plan.desired["upload"]
    assert plan.after["metadata"] == {"a": "1", "b": "2"}


def test_object_needs_a_source():
    with pytest.raises(InvalidSpec):
        OBJECTS.normalize({"container": "c", "name": "o"})
    assert oplan({"container": "c", "name": "o", "state": "absent"}, OBJECT).action == DELETE


def test_mapping_changes_manage_only_given_keys_unless_purged():
    have = {"a": "1", "b": "2"}
    assert mapping_changes("properties", have, None, True) == (have, [])
    after, changes = mapping_changes("properties", have, {"b": "3", "c": "4"}, False)
    assert after == {"a": "1", "b": "3", "c": "4"}
    assert [(c.path, c.op, c.before, c.after, c.effect) for c in changes] == [
        ("properties.b", "modify", "2", "3", LIVE), ("properties.c", "add", None, "4", LIVE)]
    after, changes = mapping_changes("metadata", have, {"b": "2"}, True)
    assert after == {"b": "2"} and [(c.path, c.op) for c in changes] == [("metadata.a", "remove")]
