# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stack marks on OpenStack resources are never the user's: hidden from what the planners compare,
kept when a module rewrites tags, refused in a spec."""

from __future__ import annotations

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Problems
from ansible_collections.converge.virt.plugins.module_utils.resources import os_common, os_object

MARK = "cvstack:lab"


def test_the_tag_is_valid_for_nova_for_the_longest_stack_name():
    tag = os_common.stack_tag("x" * 40)
    assert len(tag) <= 60 and "/" not in tag and "," not in tag


@pytest.mark.parametrize("tags, stack", [
    ([], None),
    (["a", MARK], "lab"),
    (["cvstack:b", "cvstack:a"], "a"),
    (["cvstackx"], None),
])
def test_stack_of_tags(tags, stack):
    assert os_common.stack_of_tags(tags) == stack


def test_user_tags_hide_the_owner_tag_and_stack_marks():
    assert os_common.user_tags(["b", MARK, os_common.OWNER_TAG, "a"]) == ["a", "b"]
    assert os_common.desired_tags(["b", MARK, "a", "a"]) == ["a", "b"]


@pytest.mark.parametrize("managed, current, expected", [
    (True, None, [os_common.OWNER_TAG, "x"]),
    (True, ["old", MARK, os_common.OWNER_TAG], [os_common.OWNER_TAG, MARK, "x"]),
    (False, [MARK], [MARK, "x"]),
])
def test_owner_tags_keep_the_stack_mark(managed, current, expected):
    assert os_common.owner_tags(["x"], managed, current=current) == expected


def test_user_metadata_hides_the_stack_key():
    metadata = {"a": "1", os_common.STACK_METADATA_KEY: "lab", os_common.OWNER_METADATA_KEY: "true"}
    assert os_common.user_metadata(metadata) == {"a": "1"}


def test_the_stack_key_is_reserved_in_a_spec():
    problems = Problems()
    os_common.spec_metadata({os_common.STACK_METADATA_KEY: "x"}, problems, "volumes")
    assert problems.items and "reserved" in problems.items[0][1]


def test_swift_metadata_hides_and_refuses_the_stack_key():
    assert os_object.user_metadata({"a": "1", os_object.STACK_KEY: "lab"}) == {"a": "1"}
    problems = Problems()
    os_object.normalize_metadata({os_object.STACK_KEY: "lab"}, "metadata", problems)
    assert problems.items


@pytest.mark.parametrize("module, params", [
    ("os_instance", {"tags": [MARK]}),
    ("os_image", {"tags": [MARK]}),
])
def test_planners_refuse_a_stack_mark_in_tags(module, params):
    import importlib

    mod = importlib.import_module("ansible_collections.converge.virt.plugins.module_utils.resources." + module)
    problems = Problems()
    planner_cls = [getattr(mod, n) for n in dir(mod) if n.startswith("Os") and n.endswith("Planner")][0]
    planner_cls._tags(params["tags"], problems)  # pylint: disable=protected-access
    assert any("stack" in msg for _f, msg in problems.items)
