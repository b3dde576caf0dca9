# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the OpenStack volume planner: normalize() and plan() are pure, so every case is a
params dict and an OsVolumeWorld built by hand (no cloud)."""

from __future__ import annotations

import types

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, NONE, REPLACE, UPDATE,
)
from ansible_collections.converge.virt.plugins.module_utils.openstack.volume import volume_state
from ansible_collections.converge.virt.plugins.module_utils.resources.os_common import OWNER_METADATA_KEY
from ansible_collections.converge.virt.plugins.module_utils.resources.os_volume import (
    GIB, OsVolumePlanner, OsVolumeWorld, gib_ceiling,
)

PLANNER = OsVolumePlanner()
VOL_ID = "0b6f7e0c-0000-4000-8000-000000000001"
IMAGE = {"id": "11111111-2222-4333-8444-555555555555", "name": "debian", "size": 700 * 1024 ** 2,
         "min_disk": 3, "status": "active"}
SNAP = {"id": "99999999-2222-4333-8444-555555555555", "name": "snap1", "size": 4,
        "volume_id": "88888888-2222-4333-8444-555555555555", "volume_type": "fast", "status": "available"}


def vol(**overrides):
    state = {
        "id": VOL_ID, "name": "data", "status": "available", "capacity": 2 * GIB, "volume_type": "fast",
        "description": "", "metadata": {"team": "qa"}, "bootable": False, "image": None, "snapshot": None,
        "availability_zone": "nova", "multiattach": False, "encrypted": False, "attachments": [],
        "managed": True,
    }
    state.update(overrides)
    return state


def params(**overrides):
    result = {"name": "data", "state": "present", "size": None, "volume_type": None,
              "migration_policy": "never", "description": None, "metadata": None, "bootable": None,
              "image": None, "snapshot": None, "availability_zone": None, "recreate": False,
              "delete_snapshots": False, "wait_timeout": 300}
    result.update(overrides)
    return result


def plan(world, **overrides):
    return PLANNER.plan(PLANNER.normalize(params(**overrides)), world)


ATTACHED = [{"server_id": "srv-1", "device": "/dev/vdb", "attachment_id": "att-1", "host_name": None}]


# ---- normalize -------------------------------------------------------------------------------
@pytest.mark.parametrize("size, capacity", [
    ("1G", GIB), ("1GiB", GIB), ("1500M", 2 * GIB), ("1", GIB), (str(GIB + 1), 2 * GIB), ("10G", 10 * GIB),
])
def test_size_rounds_up_to_whole_gib(size, capacity):
    assert PLANNER.normalize(params(size=size))["capacity"] == capacity


def test_gib_ceiling():
    assert [gib_ceiling(n) for n in (1, GIB, GIB + 1, 3 * GIB)] == [1, 1, 2, 3]


@pytest.mark.parametrize("overrides, field, text", [
    ({"size": "12X"}, "size", "unknown unit"),
    ({"metadata": {OWNER_METADATA_KEY: "x"}}, "metadata", "reserved"),
    ({"image": "a", "snapshot": "b"}, "snapshot", "cannot be combined with image"),
    ({"migration_policy": "always"}, "migration_policy", "must be one of"),
    ({"name": "a/b"}, "name", "must not contain '/'"),
    ({"volume_type": " "}, "volume_type", "non-empty"),
    ({"wait_timeout": 0}, "wait_timeout", "out of range"),
])
def test_normalize_errors_name_the_field(overrides, field, text):
    with pytest.raises(InvalidSpec) as err:
        PLANNER.normalize(params(**overrides))
    assert any(f == field and text in m for f, m in err.value.problems), err.value.problems


def test_metadata_values_become_strings():
    desired = PLANNER.normalize(params(metadata={"tier": 1, "on": True, "off": False, "x": "y"}))
    assert desired["metadata"] == {"tier": "1", "on": "true", "off": "false", "x": "y"}


# ---- create ----------------------------------------------------------------------------------
def test_create_empty():
    result = plan(OsVolumeWorld(), size="1500M", metadata={"team": "qa"}, description="d")
    assert result.action == CREATE
    assert result.after["capacity"] == 2 * GIB
    assert result.after["metadata"] == {"team": "qa"}
    assert result.after["managed"] is True and result.after["bootable"] is False
    assert result.desired["size_gib"] == 2
    assert any("rounded up to 2 GiB" in n for n in result.notes)
    assert {c.path for c in result.changes} >= {"capacity", "metadata", "description"}


def test_create_empty_needs_a_size():
    with pytest.raises(InvalidSpec) as err:
        plan(OsVolumeWorld())
    assert err.value.problems == [("size", "is required to create an empty volume")]


def test_create_from_image_defaults_to_the_image_size_and_is_bootable():
    result = plan(OsVolumeWorld(image=IMAGE), image="debian")
    assert result.after["capacity"] == 3 * GIB  # min_disk beats the 700 MiB of data
    assert result.after["image"] == IMAGE["id"] and result.after["bootable"] is True
    assert result.desired["image"] == IMAGE["id"]


def test_create_from_image_smaller_than_the_image_is_refused():
    with pytest.raises(InvalidSpec) as err:
        plan(OsVolumeWorld(image=IMAGE), image="debian", size="1G")
    assert "smaller than the image debian" in err.value.problems[0][1]


def test_create_from_inactive_image_is_refused():
    with pytest.raises(InvalidSpec, match="not active"):
        plan(OsVolumeWorld(image=dict(IMAGE, status="queued")), image="debian")


def test_create_from_snapshot_takes_its_size_and_type():
    result = plan(OsVolumeWorld(snapshot=SNAP), snapshot="snap1")
    assert result.after["capacity"] == 4 * GIB
    assert result.after["snapshot"] == SNAP["id"] and result.after["volume_type"] == "fast"


def test_create_from_snapshot_with_another_type_is_refused_before_anything():
    world = OsVolumeWorld(snapshot=SNAP, volume_type={"id": "t2", "name": "slow"})
    with pytest.raises(InvalidSpec) as err:
        plan(world, snapshot="snap1", volume_type="slow")
    assert err.value.problems[0][0] == "volume_type"


# ---- update ----------------------------------------------------------------------------------
def test_no_op():
    result = plan(OsVolumeWorld(current=vol()), size="2G", volume_type="fast", metadata={"team": "qa"},
                  description="", bootable=False)
    assert result.action == NONE and result.changes == [] and result.notes == []


def test_unset_options_are_left_alone():
    assert plan(OsVolumeWorld(current=vol(metadata={"a": "b"}, description="x"))).action == NONE


def test_a_size_within_the_rounding_is_no_change():
    assert plan(OsVolumeWorld(current=vol()), size="1500M").action == NONE


def test_grow_is_live():
    result = plan(OsVolumeWorld(current=vol()), size="5G")
    assert result.action == UPDATE and result.effect == LIVE
    assert [(c.path, c.before, c.after) for c in result.changes] == [("capacity", 2 * GIB, 5 * GIB)]
    assert result.facts["extend"] == {"from": 2 * GIB, "to": 5 * GIB}
    assert result.after["capacity"] == 5 * GIB and result.desired["id"] == VOL_ID


def test_shrink_is_refused():
    with pytest.raises(Conflict, match="cannot shrink the volume from 2 GiB to 1 GiB"):
        plan(OsVolumeWorld(current=vol()), size="1G")


def test_grow_attached_needs_microversion_342():
    world = OsVolumeWorld(current=vol(attachments=ATTACHED, status="in-use"), extend_attached=False)
    with pytest.raises(Conflict, match="3.42"):
        plan(world, size="3G")
    world.extend_attached = True
    result = plan(world, size="3G")
    assert result.effect == LIVE and "while attached" in result.notes[0]
    assert result.facts["attachments"] == ATTACHED


def test_retype_is_live_and_resolved_by_name():
    world = OsVolumeWorld(current=vol(), volume_type={"id": "t2", "name": "slow"})
    result = plan(world, volume_type="t2", migration_policy="on-demand")
    assert [(c.path, c.before, c.after, c.effect) for c in result.changes] == [("volume_type", "fast", "slow", LIVE)]
    assert result.facts["retype"] == {"from": "fast", "to": "slow", "migration_policy": "on-demand"}
    same = plan(OsVolumeWorld(current=vol(), volume_type={"id": "t1", "name": "fast"}), volume_type="t1")
    assert same.action == NONE


def test_description_metadata_bootable_are_live():
    result = plan(OsVolumeWorld(current=vol()), description="new", metadata={}, bootable=True)
    assert sorted((c.path, c.effect) for c in result.changes) == [
        ("bootable", LIVE), ("description", LIVE), ("metadata", LIVE)]
    assert result.after["metadata"] == {} and result.after["bootable"] is True


# ---- create-only and recreate ----------------------------------------------------------------
def test_create_only_change_is_refused_naming_the_field():
    with pytest.raises(Conflict) as err:
        plan(OsVolumeWorld(current=vol(), image=IMAGE), image="debian")
    assert "image is create-only" in str(err.value) and "recreate: true" in str(err.value)


def test_availability_zone_is_create_only():
    with pytest.raises(Conflict, match="availability_zone is create-only"):
        plan(OsVolumeWorld(current=vol()), availability_zone="other")


def test_recreate_keeps_what_the_spec_leaves_unset():
    current = vol(capacity=5 * GIB, description="keep", metadata={"a": "b"}, bootable=True)
    result = plan(OsVolumeWorld(current=current, image=IMAGE, snapshots=[]), image="debian", recreate=True)
    assert result.action == UPDATE and result.effect == REPLACE and result.facts["replace"]
    assert {c.effect for c in result.changes} == {REPLACE}
    assert result.after["capacity"] == 5 * GIB  # the old size is larger than the image's
    assert result.after["description"] == "keep" and result.after["metadata"] == {"a": "b"}
    assert result.after["image"] == IMAGE["id"] and result.desired["replace"] is True
    assert any("data is lost" in w for w in result.facts["warnings"])


def test_recreate_of_an_attached_volume_is_refused():
    world = OsVolumeWorld(current=vol(attachments=ATTACHED), image=IMAGE, snapshots=[])
    with pytest.raises(Conflict, match="detach it through the disks"):
        plan(world, image="debian", recreate=True)


def test_recreate_from_its_own_snapshot_is_refused():
    own = dict(SNAP, volume_id=VOL_ID, volume_type="fast")
    world = OsVolumeWorld(current=vol(), snapshot=own, snapshots=[{"id": own["id"], "name": "snap1"}])
    with pytest.raises(Conflict, match="its own snapshot"):
        plan(world, snapshot="snap1", recreate=True, delete_snapshots=True)


# ---- delete ----------------------------------------------------------------------------------
def test_delete_missing_is_no_op():
    assert plan(OsVolumeWorld(), state="absent").action == NONE


def test_delete():
    result = plan(OsVolumeWorld(current=vol(), snapshots=[]), state="absent")
    assert result.action == DELETE and result.after is None and result.desired["id"] == VOL_ID


def test_delete_attached_is_refused():
    with pytest.raises(Conflict) as err:
        plan(OsVolumeWorld(current=vol(attachments=ATTACHED), snapshots=[]), state="absent")
    assert "srv-1 (/dev/vdb)" in str(err.value) and "detach it through the disks" in str(err.value)


def test_delete_with_snapshots_needs_delete_snapshots():
    world = OsVolumeWorld(current=vol(), snapshots=[{"id": "s1", "name": "nightly"}])
    with pytest.raises(Conflict, match="it has snapshots nightly"):
        plan(world, state="absent")
    result = plan(world, state="absent", delete_snapshots=True)
    assert result.action == DELETE and result.desired["delete_snapshots"] is True
    assert "nightly" in result.facts["warnings"][0] and "nightly" in result.notes[0]


# ---- state from the SDK object ---------------------------------------------------------------
def test_volume_state_hides_the_owner_key():
    sdk = types.SimpleNamespace(
        id=VOL_ID, name="data", status="in-use", size=2, volume_type="fast", description=None,
        metadata={OWNER_METADATA_KEY: "true", "team": "qa"}, is_bootable=False,
        volume_image_metadata={"image_id": IMAGE["id"]}, snapshot_id=None, availability_zone="nova",
        is_multiattach=False, is_encrypted=False,
        attachments=[{"server_id": "srv-1", "device": "/dev/vdb", "attachment_id": "att-1", "id": VOL_ID}])
    state = volume_state(sdk)
    assert state["metadata"] == {"team": "qa"} and state["managed"] is True
    assert state["capacity"] == 2 * GIB and state["description"] == "" and state["image"] == IMAGE["id"]
    assert state["attachments"] == [{"server_id": "srv-1", "device": "/dev/vdb", "attachment_id": "att-1",
                                     "host_name": None}]
    foreign = volume_state(types.SimpleNamespace(**dict(vars(sdk), metadata={"team": "qa"})))
    assert foreign["managed"] is False
    assert PLANNER.public(state) == state  # nothing secret in a volume
