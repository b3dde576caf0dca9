# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the Nova keypair planner: pure, plain dict worlds."""

from __future__ import annotations

import base64
import struct

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import CREATE, DELETE, NONE, REPLACE, UPDATE
from ansible_collections.converge.virt.plugins.module_utils.resources.os_keypair import (
    KeypairWorld, OsKeypairPlanner, key_identity,
)

PLANNER = OsKeypairPlanner()


def key(kind="ssh-ed25519", body=b"\x01" * 32, comment="me"):
    blob = struct.pack(">I", len(kind)) + kind.encode() + struct.pack(">I", len(body)) + body
    return ("%s %s %s" % (kind, base64.b64encode(blob).decode(), comment)).strip()


K1, K2 = key(), key(body=b"\x02" * 32)
CURRENT = {"name": "k", "public_key": K1, "fingerprint": "aa", "type": "ssh", "user_id": "u"}


def plan_for(p, current=None, file_key=None):
    return PLANNER.plan(PLANNER.normalize(p), KeypairWorld(current=current, file_key=file_key))


@pytest.mark.parametrize("bad", ["", "ssh-ed25519", "ssh-ed25519 !!!", "ssh-foo AAAA", key().replace("ssh-ed25519", "ssh-rsa", 1)])
def test_bad_keys(bad):
    with pytest.raises(InvalidSpec):
        PLANNER.normalize({"name": "k", "public_key": bad})


def test_needs_a_key_and_generates_none():
    with pytest.raises(InvalidSpec) as err:
        PLANNER.normalize({"name": "k"})
    assert "does not generate" in str(err.value)


def test_create_noop_and_comment_ignored():
    assert plan_for({"name": "k", "public_key": K1}).action == CREATE
    assert plan_for({"name": "k", "public_key": key(comment="other")}, CURRENT).action == NONE
    assert key_identity(K1) == key_identity(key(comment=""))


def test_other_key_refused_then_recreated():
    with pytest.raises(Conflict) as err:
        plan_for({"name": "k", "public_key": K2}, CURRENT)
    assert "recreate: true" in str(err.value)
    plan = plan_for({"name": "k", "public_key": K2, "recreate": True}, CURRENT)
    assert plan.action == UPDATE and plan.effect == REPLACE


def test_key_file_is_validated_in_plan():
    assert plan_for({"name": "k", "public_key_file": "/x.pub"}, file_key=K1 + "\n").action == CREATE
    with pytest.raises(InvalidSpec) as err:
        plan_for({"name": "k", "public_key_file": "/x.pub"}, file_key="-----BEGIN OPENSSH PRIVATE KEY-----")
    assert "public_key_file" in str(err.value)


def test_delete():
    assert plan_for({"name": "k", "state": "absent"}, CURRENT).action == DELETE
    assert plan_for({"name": "k", "state": "absent"}).action == NONE
