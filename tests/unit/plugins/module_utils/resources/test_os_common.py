# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure helpers the OpenStack planners and drivers share (resources/os_common.py)."""

from __future__ import annotations

import types

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Problems
from ansible_collections.converge.virt.plugins.module_utils.resources import os_common
from ansible_collections.converge.virt.plugins.module_utils.resources.os_common import (
    OWNER_METADATA_KEY, OWNER_TAG,
)


def test_owner_marks_keep_their_published_values():
    # Stacks (and users' own tooling) find what the collection owns by these exact strings.
    assert (OWNER_TAG, OWNER_METADATA_KEY) == ("converge-virt", "converge_virt_managed")


def test_user_tags_hide_the_owner_tag_and_sort():
    assert os_common.user_tags(["b", OWNER_TAG, "a"]) == ["a", "b"]
    assert os_common.user_tags(None) == []


def test_desired_tags_are_strings_once_each_without_the_owner_tag():
    assert os_common.desired_tags(["web", 1, "web", OWNER_TAG]) == ["1", "web"]
    assert os_common.desired_tags([]) == []


def test_owner_tags_put_the_owner_tag_first_when_managed():
    assert os_common.owner_tags(["a"]) == [OWNER_TAG, "a"]
    assert os_common.owner_tags(["a"], managed=False) == ["a"]
    assert os_common.owner_tags(None, managed=True) == [OWNER_TAG]


def test_metadata_values_and_owner_key():
    assert os_common.metadata_value(True) == "true"
    assert os_common.metadata_value(False) == "false"
    assert os_common.metadata_value(None) == ""
    assert os_common.metadata_value(3) == "3"
    meta = {OWNER_METADATA_KEY: "true", "team": "qa"}
    assert os_common.user_metadata(meta) == {"team": "qa"}
    assert os_common.user_metadata(None) == {}
    assert os_common.metadata_managed(meta)
    assert not os_common.metadata_managed({"team": "qa"})
    assert not os_common.metadata_managed(None)
    created = os_common.with_owner_metadata({"team": "qa"})
    assert created == meta
    assert os_common.with_owner_metadata(None) == {OWNER_METADATA_KEY: "true"}


def test_spec_metadata():
    problems = Problems()
    assert os_common.spec_metadata(None, problems, "volumes") is None
    assert os_common.spec_metadata({"a": True, 1: None}, problems, "volumes") == {"a": "true", "1": ""}
    assert not problems
    assert os_common.spec_metadata(["a"], problems, "volumes") is None
    assert problems.items == [("metadata", "must be a dictionary of strings")]


def test_spec_metadata_reserves_the_owner_key_and_checks_key_length():
    problems = Problems()
    os_common.spec_metadata({OWNER_METADATA_KEY: "x", "": "y"}, problems, "snapshots")
    assert problems.items == [("metadata", "the key %s is reserved: the collection marks the snapshots it "
                                           "creates with it" % OWNER_METADATA_KEY)]
    problems = Problems()
    os_common.spec_metadata({"k" * 256: "x", "": "y"}, problems, "volumes", max_key_length=255)
    assert [m for _f, m in problems.items] == ["key %r must have 1 to 255 characters" % ("k" * 256),
                                               "key '' must have 1 to 255 characters"]


def test_check_ref():
    problems = Problems()
    os_common.check_ref(None, "image", problems)
    os_common.check_ref("debian", "image", problems)
    assert not problems
    os_common.check_ref("  ", "image", problems)
    os_common.check_ref(5, "volume", problems, " (a volume's name or ID)")
    assert problems.items == [("image", "must be a non-empty string"),
                              ("volume", "must be a non-empty string (a volume's name or ID)")]


def test_wait_timeout():
    problems = Problems()
    assert os_common.wait_timeout({}, problems) == 300
    assert os_common.wait_timeout({"wait_timeout": 30}, problems, default=120) == 30
    assert not problems
    os_common.wait_timeout({"wait_timeout": 0}, problems)
    assert [f for f, _m in problems.items] == ["wait_timeout"]


def test_check_external_network():
    problems = Problems()
    os_common.check_external_network(None, None, "network", problems)
    os_common.check_external_network("public", {"external": True}, "network", problems)
    assert not problems
    os_common.check_external_network("nope", None, "network", problems)
    os_common.check_external_network("private", {"external": False}, "router.external_network", problems)
    os_common.check_external_network("lan", {"external": False}, "network", problems, "; why")
    assert problems.items == [
        ("network", "network 'nope' does not exist"),
        ("router.external_network", "network 'private' is not an external network (router:external)"),
        ("network", "network 'lan' is not an external network (router:external); why"),
    ]


class _Resource(object):
    """Like an openstacksdk resource: attributes, and item access that may fail."""

    def __init__(self, **attrs):
        self.__dict__.update(attrs)

    def __getitem__(self, key):
        if key == "by_item":
            return "item"
        raise KeyError(key)


def test_get_field_reads_dicts_and_resources():
    assert os_common.get_field(None, "a", 1) == 1
    assert os_common.get_field({"a": 2}, "a", 1) == 2
    assert os_common.get_field({}, "a", 1) == 1
    res = _Resource(a=3, none=None)
    assert os_common.get_field(res, "a") == 3
    assert os_common.get_field(res, "by_item") == "item"
    assert os_common.get_field(res, "none", "dflt") == "dflt"
    assert os_common.get_field(res, "missing", "dflt") == "dflt"
    assert os_common.get_field(types.SimpleNamespace(a=4), "a") == 4
