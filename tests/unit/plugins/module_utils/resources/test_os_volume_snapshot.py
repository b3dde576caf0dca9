# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the OpenStack volume snapshot planner (pure; worlds are plain data)."""

from __future__ import annotations

import types

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, NONE, REPLACE, UPDATE,
)
from ansible_collections.converge.virt.plugins.module_utils.openstack.volume_snapshot import snapshot_state
from ansible_collections.converge.virt.plugins.module_utils.resources.os_common import OWNER_METADATA_KEY
from ansible_collections.converge.virt.plugins.module_utils.resources.os_volume import GIB
from ansible_collections.converge.virt.plugins.module_utils.resources.os_volume_snapshot import (
    OsVolumeSnapshotPlanner, OsVolumeSnapshotWorld,
)

PLANNER = OsVolumeSnapshotPlanner()
VOLUME = {"id": "vol-1", "name": "data", "status": "available", "capacity": 2 * GIB, "attachments": []}
OTHER = {"id": "vol-2", "name": "other", "status": "available", "capacity": GIB, "attachments": []}


def snap(**overrides):
    state = {"id": "snap-1", "name": "nightly", "status": "available", "volume": "vol-1",
             "capacity": 2 * GIB, "description": "", "metadata": {"a": "b"}, "managed": True}
    state.update(overrides)
    return state


def plan(world, **overrides):
    params = {"name": "nightly", "state": "present", "volume": None, "description": None, "metadata": None,
              "force": False, "recreate": False, "wait_timeout": 300}
    params.update(overrides)
    return PLANNER.plan(PLANNER.normalize(params), world)


def test_create():
    result = plan(OsVolumeSnapshotWorld(volume=VOLUME), volume="data", metadata={"n": 1})
    assert result.action == CREATE
    assert result.after["volume"] == "vol-1" and result.after["capacity"] == 2 * GIB
    assert result.after["metadata"] == {"n": "1"} and result.after["managed"] is True
    assert result.desired["volume"] == "vol-1" and result.desired["force"] is False


def test_create_needs_a_volume():
    with pytest.raises(InvalidSpec) as err:
        plan(OsVolumeSnapshotWorld())
    assert err.value.problems[0][0] == "volume"


def test_reserved_metadata_key():
    with pytest.raises(InvalidSpec, match="reserved"):
        plan(OsVolumeSnapshotWorld(volume=VOLUME), volume="data", metadata={OWNER_METADATA_KEY: "x"})


def test_attached_volume_needs_force():
    world = OsVolumeSnapshotWorld(volume=dict(VOLUME, status="in-use", attachments=["srv-1"]))
    with pytest.raises(Conflict, match="force: true"):
        plan(world, volume="data")
    result = plan(world, volume="data", force=True)
    assert result.action == CREATE and result.desired["force"] is True and "attached" in result.notes[0]


def test_busy_volume_is_refused():
    with pytest.raises(Conflict, match="is extending"):
        plan(OsVolumeSnapshotWorld(volume=dict(VOLUME, status="extending")), volume="data")


def test_no_op_and_unset_options_left_alone():
    world = OsVolumeSnapshotWorld(current=snap(), volume=VOLUME)
    assert plan(world, volume="data", metadata={"a": "b"}, description="").action == NONE
    assert plan(OsVolumeSnapshotWorld(current=snap())).action == NONE


def test_description_and_metadata_are_live():
    result = plan(OsVolumeSnapshotWorld(current=snap()), description="x", metadata={})
    assert result.action == UPDATE and result.effect == LIVE
    assert sorted(c.path for c in result.changes) == ["description", "metadata"]
    assert result.desired["id"] == "snap-1"


def test_another_volume_is_create_only():
    world = OsVolumeSnapshotWorld(current=snap(), volume=OTHER)
    with pytest.raises(Conflict) as err:
        plan(world, volume="other")
    assert "volume is create-only" in str(err.value) and "recreate: true" in str(err.value)
    result = plan(world, volume="other", recreate=True)
    assert result.action == UPDATE and result.effect == REPLACE and result.facts["replace"]
    assert result.after["volume"] == "vol-2" and result.after["metadata"] == {"a": "b"}
    assert result.desired["replace"] is True and result.desired["id"] == "snap-1"


def test_delete():
    assert plan(OsVolumeSnapshotWorld(), state="absent").action == NONE
    result = plan(OsVolumeSnapshotWorld(current=snap()), state="absent")
    assert result.action == DELETE and result.desired["id"] == "snap-1" and result.after is None


def test_snapshot_state_hides_the_owner_key():
    sdk = types.SimpleNamespace(id="snap-1", name="nightly", status="available", volume_id="vol-1", size=2,
                                description=None, metadata={OWNER_METADATA_KEY: "true", "a": "b"})
    assert snapshot_state(sdk) == snap()
