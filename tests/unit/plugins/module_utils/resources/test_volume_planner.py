# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the volume planner: normalize() and plan() are pure, so every case is a params
dict and a VolumeWorld built by hand (no libvirt)."""

from __future__ import annotations

import copy
import struct

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import (
    Conflict, InvalidSpec, NotFound,
)
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, NONE, REPLACE, UPDATE,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.volume import (
    QCOW2_MAGIC, VolumePlanner, VolumeWorld, aligned_capacity, parse_image_header,
)

PLANNER = VolumePlanner()
POOL = {"name": "vms", "type": "dir", "path": "/var/lib/vms", "active": True}
IMAGES = {"name": "images", "type": "dir", "path": "/var/lib/images", "active": True}
GIB = 1024 ** 3

IMAGE = {
    "name": "base.qcow2", "pool": "images", "path": "/var/lib/images/base.qcow2",
    "key": "/var/lib/images/base.qcow2", "format": "qcow2", "capacity": 2 * GIB,
    "allocation": 500 * 1024 ** 2, "physical": 500 * 1024 ** 2,
    "backing": {"path": "/var/lib/images/root.qcow2", "format": "qcow2"},
    "backing_chain": [{"path": "/var/lib/images/root.qcow2", "format": "qcow2"}], "users": [],
}


def vol(**overrides):
    state = {
        "name": "disk1", "pool": "vms", "path": "/var/lib/vms/disk1", "key": "/var/lib/vms/disk1",
        "format": "qcow2", "capacity": GIB, "allocation": 200704, "physical": 196616,
        "backing": None, "backing_chain": [], "users": [],
    }
    state.update(overrides)
    return state


def params(**overrides):
    result = {"name": "disk1", "pool": "vms", "state": "present", "size": None, "format": None,
              "image": None, "image_pool": None, "linked": None, "content": None,
              "wipe": False, "force": False, "recreate": False}
    result.update(overrides)
    return result


def world(current=None, **kwargs):
    kwargs.setdefault("pool", POOL)
    return VolumeWorld(current=current, **kwargs)


def plan(current=None, w=None, **overrides):
    desired = PLANNER.normalize(params(**overrides))
    return PLANNER.plan(desired, w if w is not None else world(current))


def problems(**overrides):
    with pytest.raises(InvalidSpec) as err:
        plan(**overrides)
    return dict(err.value.problems)


# ---- normalize -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../x", "/abs", "a/b", ".hidden", "..", ".", "a\\b", "", "x\ny"])
def test_names_that_could_escape_or_hide_are_refused(name):
    assert "name" in problems(name=name, size="1G")


@pytest.mark.parametrize("image", ["../base", "/var/lib/images/base.qcow2", "sub/base", ".base"])
def test_image_names_are_checked_like_volume_names(image):
    assert "image" in problems(image=image)


def test_every_problem_is_reported_at_once():
    found = problems(name="a/b", pool="p/q", size="ten", image="x", content="rel/path", format="vmdk")
    assert set(found) >= {"name", "pool", "size", "format", "content"}


@pytest.mark.parametrize("size, expected", [("10G", 10 * GIB), ("512MiB", 512 * 1024 ** 2),
                                            ("2GB", 2 * 10 ** 9), (1048576, 1048576), ("1048576", 1048576)])
def test_sizes_with_units(size, expected):
    result = plan(size=size)
    assert result.after["capacity"] == aligned_capacity(expected, "qcow2")


def test_image_and_content_exclude_each_other():
    assert "content" in problems(image="base.qcow2", content="/tmp/x")


def test_raw_linked_clone_is_refused():
    assert "qcow2" in problems(image="base.qcow2", format="raw")["format"]


def test_image_options_without_image_are_refused():
    found = problems(size="1G", image_pool="images", linked=False)
    assert set(found) == {"image_pool", "linked"}


def test_clone_of_itself_is_refused():
    assert "itself" in problems(image="disk1")["image"]


# ---- create -------------------------------------------------------------------------------
def test_create_empty_defaults_to_qcow2():
    result = plan(size="1G")
    assert result.action == CREATE
    assert result.after["format"] == "qcow2"
    assert result.after["path"] == "/var/lib/vms/disk1"
    assert result.after["backing"] is None and result.after["backing_chain"] == []
    assert result.desired["source"] == {"type": "empty", "capacity": GIB}
    assert {c.path for c in result.changes} == {"format", "capacity"}


def test_create_empty_needs_a_size():
    assert "required" in problems()["size"]


def test_create_raw():
    result = plan(size="1000001", format="raw")
    assert result.after["format"] == "raw" and result.after["capacity"] == 1000001


def test_qcow2_size_is_rounded_like_libvirt():
    assert plan(size="1000001").after["capacity"] == 1000448


def test_linked_clone_defaults_to_image_size_and_records_the_chain():
    w = world(image=IMAGE, image_pool=IMAGES)
    result = plan(w=w, image="base.qcow2", image_pool="images")
    assert result.action == CREATE
    assert result.after["capacity"] == 2 * GIB
    assert result.after["backing"] == {"path": IMAGE["path"], "format": "qcow2"}
    assert [b["path"] for b in result.after["backing_chain"]] == [IMAGE["path"], "/var/lib/images/root.qcow2"]
    assert result.desired["source"]["type"] == "clone"
    assert result.desired["source"]["image_path"] == IMAGE["path"]


def test_clone_can_be_bigger_but_not_smaller_than_the_image():
    w = world(image=IMAGE, image_pool=IMAGES)
    assert plan(w=w, image="base.qcow2", image_pool="images", size="10G").after["capacity"] == 10 * GIB
    with pytest.raises(InvalidSpec) as err:
        plan(w=w, image="base.qcow2", image_pool="images", size="1G")
    assert "smaller than the image base.qcow2" in str(err.value)


def test_full_copy_has_no_backing_file():
    w = world(image=IMAGE, image_pool=IMAGES)
    result = plan(w=w, image="base.qcow2", image_pool="images", linked=False, size="3G")
    assert result.after["backing"] is None and result.after["backing_chain"] == []
    source = result.desired["source"]
    assert source["type"] == "copy" and source["capacity"] == 3 * GIB and source["image_capacity"] == 2 * GIB


def test_missing_image_names_the_pool_and_what_is_there():
    w = world(image=None, image_pool=IMAGES, image_candidates=["debian.qcow2", "alpine.qcow2"])
    with pytest.raises(NotFound) as err:
        plan(w=w, image="base.qcow2", image_pool="images")
    text = str(err.value)
    assert "'base.qcow2'" in text and "pool images" in text and "alpine.qcow2, debian.qcow2" in text


def test_name_escaping_the_pool_directory_is_refused_as_last_defence():
    # volume_name already refuses these; the planner checks the joined path again.
    desired = PLANNER.normalize(params(size="1G"))
    desired["name"] = "../escape"
    with pytest.raises(InvalidSpec) as err:
        PLANNER.plan(desired, world())
    assert "leave the directory" in str(err.value)


# ---- content ------------------------------------------------------------------------------
QCOW2_FACTS = {"format": "qcow2", "virtual_size": 64 * 1024 ** 2, "backing": False, "length": 393216}
RAW_FACTS = {"format": "raw", "virtual_size": 4096, "backing": False, "length": 4096}


def test_upload_takes_the_files_format_and_size():
    result = plan(w=world(content=QCOW2_FACTS), content="/srv/seed.qcow2")
    assert result.after["format"] == "qcow2" and result.after["capacity"] == 64 * 1024 ** 2
    assert result.desired["source"] == {"type": "upload", "content": "/srv/seed.qcow2", "length": 393216,
                                        "format": "qcow2", "capacity": 64 * 1024 ** 2}


def test_raw_file_into_qcow2_volume_is_refused():
    found = problems(w=world(content=RAW_FACTS), content="/srv/seed.img", format="qcow2")
    assert "raw file" in found["content"] and "qemu-img convert" in found["content"]


def test_content_with_backing_file_is_refused():
    facts = dict(QCOW2_FACTS, backing=True)
    assert "backing file" in problems(w=world(content=facts), content="/srv/seed.qcow2")["content"]


def test_unreadable_content_is_an_input_error():
    found = problems(w=world(content={"error": "does not exist or is not a regular file"}), content="/nope")
    assert "/nope" in found["content"] and "does not exist" in found["content"]


def test_content_smaller_size_is_refused():
    assert "smaller" in problems(w=world(content=QCOW2_FACTS), content="/srv/s.qcow2", size="1M")["size"]


def test_content_is_not_compared_on_an_existing_volume():
    result = plan(current=vol(), content="/srv/other.qcow2")
    assert result.action == NONE


def test_parse_image_header():
    head = QCOW2_MAGIC + struct.pack(">IQIIQ", 3, 0, 0, 16, 10 * GIB)
    expected = {"format": "qcow2", "virtual_size": 10 * GIB, "backing": False, "length": 200000}
    assert parse_image_header(head, 200000) == expected
    with_backing = QCOW2_MAGIC + struct.pack(">IQIIQ", 3, 512, 20, 16, GIB)
    assert parse_image_header(with_backing, 1000)["backing"] is True
    expected = {"format": "raw", "virtual_size": 4096, "backing": False, "length": 4096}
    assert parse_image_header(b"\0" * 512, 4096) == expected
    assert parse_image_header(QCOW2_MAGIC, 4)["format"] == "raw"  # too short to be qcow2


# ---- update -------------------------------------------------------------------------------
def test_same_spec_is_a_no_op():
    result = plan(current=vol(), size="1G", format="qcow2")
    assert result.action == NONE and result.changes == []
    assert result.after == result.before == vol()


@pytest.mark.parametrize("size, fmt, capacity", [
    ("1000001", "qcow2", 1000448),     # qcow2 rounds up to 512 bytes
    ("1000448", "qcow2", 1000448),
    ("1000001", "raw", 1000001),
    ("1G", "qcow2", GIB),
])
def test_rounded_sizes_are_idempotent(size, fmt, capacity):
    assert plan(current=vol(format=fmt, capacity=capacity), size=size).action == NONE


def test_grow_is_live():
    result = plan(current=vol(), size="2G")
    assert result.action == UPDATE and result.effect == LIVE
    [change] = result.changes
    assert (change.path, change.before, change.after) == ("capacity", GIB, 2 * GIB)
    assert result.facts["resize"] == {"instance": None, "target": None, "capacity": 2 * GIB}
    assert result.after["capacity"] == 2 * GIB


def test_grow_goes_through_a_running_instance():
    users = [{"instance": "off", "running": False, "target": "vdc"},
             {"instance": "web", "running": True, "target": "vdb"}]
    result = plan(current=vol(users=users), size="2G")
    assert result.facts["resize"] == {"instance": "web", "target": "vdb", "capacity": 2 * GIB}
    assert "web" in result.notes[0]


def test_grow_rounds_the_target_for_qcow2():
    assert plan(current=vol(capacity=1000448), size="2000001").facts["resize"]["capacity"] == 2000384


def test_shrink_is_refused_with_reason():
    with pytest.raises(Conflict) as err:
        plan(current=vol(capacity=2 * GIB), size="1G")
    text = str(err.value)
    assert "cannot shrink" in text and "2 GiB" in text and "1 GiB" in text and "copy the data" in text


def test_size_left_alone_when_not_set():
    assert plan(current=vol(capacity=5 * GIB)).action == NONE


def test_format_is_create_only():
    with pytest.raises(Conflict) as err:
        plan(current=vol(), format="raw")
    text = str(err.value)
    assert "format is create-only" in text and "qcow2" in text and "raw" in text and "recreate" in text


def test_linked_clone_of_another_image_is_create_only():
    w = world(current=vol(backing={"path": "/var/lib/images/old.qcow2", "format": "qcow2"}),
              image=IMAGE, image_pool=IMAGES)
    with pytest.raises(Conflict) as err:
        plan(w=w, image="base.qcow2", image_pool="images")
    assert "backing is create-only" in str(err.value) and "old.qcow2" in str(err.value)


def test_existing_linked_clone_matches():
    current = vol(backing={"path": IMAGE["path"], "format": "qcow2"}, capacity=2 * GIB)
    w = world(current=current, image=IMAGE, image_pool=IMAGES)
    assert plan(w=w, image="base.qcow2", image_pool="images").action == NONE


def test_full_copy_wanted_but_volume_is_a_clone():
    current = vol(backing={"path": IMAGE["path"], "format": "qcow2"})
    w = world(current=current, image=IMAGE, image_pool=IMAGES)
    with pytest.raises(Conflict):
        plan(w=w, image="base.qcow2", image_pool="images", linked=False)


def test_existing_full_copy_needs_no_image():
    assert plan(w=world(current=vol()), image="gone.qcow2", linked=False).action == NONE


def test_recreate_replaces():
    result = plan(current=vol(), format="raw", recreate=True)
    assert result.action == UPDATE and result.effect == REPLACE
    assert result.facts["replace"] is True
    assert result.after["format"] == "raw" and result.after["capacity"] == GIB
    assert result.desired["source"]["type"] == "empty"
    assert any("data is lost" in w for w in result.facts["warnings"])


def test_recreate_may_choose_a_smaller_size():
    result = plan(current=vol(capacity=2 * GIB), format="raw", size="1G", recreate=True)
    assert result.after["capacity"] == GIB
    assert [c.path for c in result.changes] == ["format", "capacity"]


def test_recreate_refused_while_used_unless_forced():
    users = [{"instance": "db", "running": False, "target": "vdb"}]
    with pytest.raises(Conflict) as err:
        plan(current=vol(users=users), format="raw", recreate=True)
    assert "db (stopped, disk vdb)" in str(err.value)
    assert plan(current=vol(users=users), format="raw", recreate=True, force=True).facts["replace"]


# ---- delete -------------------------------------------------------------------------------
def test_delete_missing_is_a_no_op():
    assert plan(state="absent").action == NONE


def test_delete():
    result = plan(current=vol(), state="absent", wipe=True)
    assert result.action == DELETE and result.after is None
    assert result.desired == {"name": "disk1", "pool": "vms", "wipe": True}


def test_delete_used_by_defined_instance_names_it():
    users = [{"instance": "db", "running": False, "target": "vdb"}]
    with pytest.raises(Conflict) as err:
        plan(current=vol(users=users), state="absent")
    assert "db (stopped, disk vdb)" in str(err.value) and "force" in str(err.value)
    result = plan(current=vol(users=users), state="absent", force=True)
    assert result.action == DELETE and "db" in result.facts["warnings"][0]


def test_delete_attached_to_running_instance_is_refused_even_with_force():
    users = [{"instance": "web", "running": True, "target": "vda"}]
    with pytest.raises(Conflict) as err:
        plan(current=vol(users=users), state="absent", force=True)
    assert "web (running, disk vda)" in str(err.value)


def test_delete_backing_file_names_dependents():
    w = world(current=vol(), dependents=["vms/c1", "vms/c2"])
    with pytest.raises(Conflict) as err:
        plan(w=w, state="absent")
    assert "vms/c1, vms/c2" in str(err.value)
    w = world(current=vol(), dependents=["vms/c1"])
    assert plan(w=w, state="absent", force=True).action == DELETE


def test_plan_is_not_changed_by_planning():
    current = vol()
    frozen = copy.deepcopy(current)
    plan(current=current, size="2G")
    assert current == frozen


# ---- the driver's pure helpers (no libvirt needed) ----------------------------------------------
def test_volume_xml_is_built_not_templated():
    import xml.etree.ElementTree as ET
    from ansible_collections.converge.virt.plugins.module_utils.libvirt.storage import volume_xml
    root = ET.fromstring(volume_xml("a<b>&'c", 1000448, "qcow2",
                                    backing={"path": "/img/base.qcow2", "format": "qcow2"}))
    assert root.findtext("name") == "a<b>&'c"
    assert root.find("capacity").get("unit") == "bytes" and root.findtext("capacity") == "1000448"
    assert root.findtext("allocation") == "0"
    assert root.find("target/format").get("type") == "qcow2"
    assert root.findtext("backingStore/path") == "/img/base.qcow2"
    plain = ET.fromstring(volume_xml("v", 1, "raw", allocation=None))
    assert plain.find("allocation") is None and plain.find("backingStore") is None


def test_probe_content(tmp_path):
    from ansible_collections.converge.virt.plugins.module_utils.libvirt.volume import probe_content
    qcow2 = tmp_path / "a.qcow2"
    qcow2.write_bytes(QCOW2_MAGIC + struct.pack(">IQIIQ", 3, 0, 0, 16, GIB) + b"\0" * 1000)
    raw = tmp_path / "a.img"
    raw.write_bytes(b"\x17" * 3000)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert probe_content(str(qcow2)) == {"format": "qcow2", "virtual_size": GIB, "backing": False,
                                         "length": 1032}
    assert probe_content(str(raw))["format"] == "raw" and probe_content(str(raw))["virtual_size"] == 3000
    assert "does not exist" in probe_content(str(tmp_path / "missing"))["error"]
    assert "not a regular file" in probe_content(str(tmp_path))["error"]
    assert "empty" in probe_content(str(empty))["error"]
