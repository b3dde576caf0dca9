# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the OpenStack instance planner (Nova servers): pure, with params filled the way
AnsibleModule fills the module's argument spec and worlds of plain dicts (no openstacksdk)."""

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, NONE, REPLACE, RESTART, UPDATE,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.os_common import user_tags
from ansible_collections.converge.virt.plugins.module_utils.resources.os_instance import (
    OsInstancePlanner, OsInstanceWorld, state_of, user_metadata,
)
from ansible_collections.converge.virt.tests.unit.plugins.module_utils.resources.module_params import module_params
from ansible_collections.converge.virt.plugins.module_utils.specs.instance import ARGUMENT_SPEC, BACKEND_OPTIONS

PLANNER = OsInstancePlanner()
MIB = 1024 ** 2
GIB = 1024 ** 3
SECRET = "s3cr3t-user-data-4711"

FLAVORS = [
    {"id": "1", "name": "m1.tiny", "vcpus": 1, "ram": 256, "disk": 1},
    {"id": "2", "name": "m1.small", "vcpus": 1, "ram": 1024, "disk": 10},
    {"id": "3", "name": "m1.medium", "vcpus": 2, "ram": 4096, "disk": 20},
    {"id": "4", "name": "m1.small-bigdisk", "vcpus": 1, "ram": 1024, "disk": 40},
]
SERVER_ID = "11111111-1111-1111-1111-111111111111"
NET1 = {"id": "net-1", "name": "net1"}
NET2 = {"id": "net-2", "name": "net2"}
REFS = {
    "flavor": {"m1.tiny": FLAVORS[0], "m1.small": FLAVORS[1], "m1.medium": FLAVORS[2]},
    "image": {"debian": {"id": "img-1", "name": "debian", "min_disk": 0},
              "debian-13": {"id": "img-2", "name": "debian-13", "min_disk": 2}},
    "network": {"net1": NET1, "net2": NET2},
    "port": {"myport": {"id": "port-9", "name": "myport", "network_id": "net-2", "network_name": "net2",
                        "device_id": None},
             "busy": {"id": "port-8", "name": "busy", "network_id": "net-2", "network_name": "net2",
                      "device_id": "other-server"}},
    "volume": {"data": {"id": "vol-1", "name": "data", "size": GIB, "attachments": []},
               "shared": {"id": "vol-2", "name": "shared", "size": 2 * GIB, "attachments": ["other-server"]}},
    "security_group": {"default": {"id": "sg-0", "name": "default"}, "web": {"id": "sg-1", "name": "web"}},
    "keypair": {"ops": {"name": "ops"}, "ops2": {"name": "ops2"}},
    "server_group": {},
}


def params(**given):
    return module_params(ARGUMENT_SPEC, given)


def normalize(**given):
    return PLANNER.normalize(params(**given))


def world(current=None, refs=None, **kwargs):
    kwargs.setdefault("flavors", FLAVORS)
    kwargs.setdefault("microversion", "2.96")
    return OsInstanceWorld(current=current, refs=copy.deepcopy(refs or REFS), **kwargs)


def plan(current=None, refs=None, world_kwargs=None, **given):
    return PLANNER.plan(normalize(**given), world(current, refs, **(world_kwargs or {})))


def server(**overrides):
    """A server as the driver reads it after a create from SPEC."""
    state = {
        "name": "web1", "id": SERVER_ID, "status": "ACTIVE", "state": "running", "fault": None,
        "flavor": "m1.tiny", "vcpus": 1, "memory": 256 * MIB,
        "image": {"id": "img-1", "name": "debian"}, "key_name": "ops", "availability_zone": "nova",
        "config_drive": False, "server_group": None,
        "security_groups": ["web"], "security_group_ids": ["sg-1"],
        "metadata": {"role": "web"}, "tags": ["t1"],
        "nics": [{"network": "net1", "network_id": "net-1", "port": "port-1", "mac": "fa:16:3e:00:00:01",
                  "fixed_ips": ["10.0.0.5"]}],
        "addresses": {"net1": ["10.0.0.5"]},
        "disks": [],
        "cloud_init": None, "managed": True,
    }
    state.update(overrides)
    return state


SPEC = {"name": "web1", "flavor": "m1.tiny", "image": "debian", "key_name": "ops",
        "nics": [{"network": "net1"}], "security_groups": ["web"], "metadata": {"role": "web"}, "tags": ["t1"]}


def spec(**overrides):
    result = copy.deepcopy(SPEC)
    result.update(overrides)
    return result


# ---- module options ------------------------------------------------------------------------
def test_backend_options_are_options_of_the_module():
    for rules in BACKEND_OPTIONS.values():
        assert set(rules["only"]) <= set(ARGUMENT_SPEC)
    assert not set(BACKEND_OPTIONS["libvirt"]["only"]) & set(BACKEND_OPTIONS["openstack"]["only"])


def test_libvirt_specific_sub_option_defaults_are_not_in_the_argspec():
    # A default would arrive on OpenStack as if the user had set it.
    assert ARGUMENT_SPEC["disks"]["options"]["bus"].get("default") is None
    assert ARGUMENT_SPEC["nics"]["options"]["model"].get("default") is None
    assert not ARGUMENT_SPEC["nics"]["options"]["network"].get("required")


# ---- normalize -----------------------------------------------------------------------------
def test_normalize_fills_defaults():
    desired = normalize(**SPEC)
    assert desired["state"] == "running"
    assert desired["timeouts"] == {"build": 600, "resize": 600, "delete": 300, "power": 300}
    assert desired["confirm_resize"] is True
    assert desired["nics"] == [{"network": "net1", "port": None, "fixed_ip": None}]
    assert desired["cloud_init"] is None


@pytest.mark.parametrize("given, field, text", [
    ({"flavor": "m1.tiny", "vcpus": 2}, "flavor", "not both"),
    ({"nics": [{"network": "a", "port": "b"}]}, "nics[0]", "one of them"),
    ({"nics": [{}]}, "nics[0]", "needs network or port"),
    ({"nics": [{"network": "a", "fixed_ip": "10.0.0.300"}]}, "nics[0].fixed_ip", "not an IP address"),
    ({"nics": [{"port": "p", "fixed_ip": "10.0.0.3"}]}, "nics[0].fixed_ip", "only with network"),
    ({"nics": [{"network": "a", "mac": "52:54:00:00:00:01"}]}, "nics[0].mac", "libvirt backend"),
    ({"nics": [{"network": "a", "model": "e1000"}]}, "nics[0].model", "libvirt backend"),
    ({"disks": [{"volume": "v", "bus": "scsi"}]}, "disks[0].bus", "libvirt backend"),
    ({"disks": [{"volume": "v", "readonly": True}]}, "disks[0].readonly", "libvirt backend"),
    ({"disks": [{"volume": "v", "image": "i", "size": "1G"}]}, "disks[0]", "not both"),
    ({"image": "debian", "disks": [{"image": "i", "size": "1G"}]}, "disks[0]", "only the boot disk"),
    ({"disks": [{"volume": "boot"}, {"size": "1G"}]}, "disks[1]", "only the boot disk"),
    ({"disks": [{"image": "i"}]}, "disks[0].size", "is required"),
    ({"disks": [{"size": "1500M"}]}, "disks[0].size", "whole number of GiB"),
    ({"disks": [{"volume": "v", "volume_type": "fast"}]}, "disks[0].volume_type", "new boot volume"),
    ({"disks": [{}]}, "disks[0]", "needs volume"),
    ({"cloud_init": {"user_data": "#!/bin/sh\n", "meta_data": {"a": 1}}}, "cloud_init.meta_data", "libvirt"),
    ({"cloud_init": {"user_data": "echo hi"}}, "cloud_init.user_data", "must start with"),
    ({"metadata": {"converge_virt_user_data_sha256": "x"}}, "metadata.converge_virt_user_data_sha256", "reserved"),
    ({"tags": ["converge-virt"]}, "tags[0]", "the collection's own tag"),
    ({"tags": ["a/b"]}, "tags[0]", "without '/'"),
    ({"security_groups": [""]}, "security_groups[0]", "non-empty"),
    ({"wait_for": "agent"}, "wait_for", "libvirt only"),
    ({"state": "stopped", "wait_for": "ip"}, "wait_for", "nothing to wait for"),
    ({"rebuild": True, "recreate": True}, "rebuild", "not both"),
    ({"memory": "100.5M"}, "memory", "whole number of MiB"),
    ({"timeouts": {"build": 0}}, "timeouts.build", "out of range"),
])
def test_normalize_errors(given, field, text):
    with pytest.raises(InvalidSpec) as err:
        normalize(name="web1", **given)
    messages = dict(err.value.problems)
    assert field in messages, err.value.problems
    assert text in messages[field]


def test_user_data_is_rendered_and_hashed():
    desired = normalize(**spec(cloud_init={"user_data": {"runcmd": [SECRET]}}))
    assert desired["cloud_init"]["user_data"].startswith(b"#cloud-config\n")
    assert len(desired["cloud_init"]["sha256"]) == 64


def test_absent_needs_nothing_else():
    desired = normalize(name="web1", state="absent")
    assert desired["state"] == "absent" and "flavor" not in desired


# ---- create --------------------------------------------------------------------------------
def test_create_plan():
    result = plan(**spec(cloud_init={"user_data": {"runcmd": [SECRET]}}))
    assert result.action == CREATE
    after = PLANNER.public(result.after)
    assert after["flavor"] == "m1.tiny" and after["memory"] == 256 * MIB
    assert after["image"] == {"id": "img-1", "name": "debian"}
    assert after["nics"][0]["network"] == "net1" and after["nics"][0]["network_id"] == "net-1"
    assert after["security_groups"] == ["web"]
    assert after["metadata"] == {"role": "web"} and after["tags"] == ["t1"]
    assert after["managed"] is True
    assert after["cloud_init"] == {"sha256": "********"}
    assert SECRET not in json.dumps(after) and SECRET not in json.dumps(result.to_dict())
    assert result.desired["resolved"]["flavor"]["id"] == "1"


def test_create_without_nics_has_no_nic_and_no_security_group():
    result = plan(name="web1", flavor="m1.tiny", image="debian")
    assert result.after["nics"] == [] and result.after["security_groups"] == []
    assert "no NIC" in result.notes[0]


def test_create_with_nics_and_no_security_groups_gets_default():
    result = plan(name="web1", flavor="m1.tiny", image="debian", nics=[{"network": "net1"}])
    assert result.after["security_groups"] == ["default"]


def test_create_needs_flavor_and_image():
    with pytest.raises(InvalidSpec) as err:
        plan(name="web1")
    fields = [field for field, dummy in err.value.problems]
    assert fields == ["flavor", "image"]


def test_every_missing_reference_is_reported_at_once():
    with pytest.raises(InvalidSpec) as err:
        plan(name="web1", flavor="nope", image="nope", key_name="nope", security_groups=["nope"],
             nics=[{"network": "nope"}, {"port": "nope"}], disks=[{"volume": "debian-boot"}, {"volume": "nope"}],
             server_group="nope")
    fields = [field for field, dummy in err.value.problems]
    assert fields == ["flavor", "image", "key_name", "server_group", "security_groups[0]", "nics[0].network",
                      "nics[1].port", "disks[0].volume", "disks[1].volume"]


def test_ports_and_volumes_used_elsewhere_are_refused():
    with pytest.raises(InvalidSpec) as err:
        plan(**spec(nics=[{"port": "busy"}], disks=[{"volume": "shared"}]))
    messages = dict(err.value.problems)
    assert "in use by another device" in messages["nics[0].port"]
    assert "attached to another server" in messages["disks[0].volume"]


@pytest.mark.parametrize("vcpus, memory, chosen", [
    (1, None, "m1.tiny"),
    (None, "512M", "m1.small"),
    (1, "1G", "m1.small"),          # m1.small-bigdisk has the same size but more disk
    (2, "1G", "m1.medium"),
])
def test_vcpus_and_memory_select_the_smallest_flavor(vcpus, memory, chosen):
    given = dict(name="web1", image="debian")
    if vcpus:
        given["vcpus"] = vcpus
    if memory:
        given["memory"] = memory
    result = plan(**given)
    assert result.after["flavor"] == chosen
    assert any("select flavor %s" % chosen in n for n in result.notes)


def test_no_flavor_fits():
    with pytest.raises(InvalidSpec) as err:
        plan(name="web1", image="debian", vcpus=8)
    assert "no flavor has 8 vCPU" in str(err.value)


def test_boot_from_a_new_volume():
    result = plan(name="web1", flavor="m1.tiny", disks=[{"image": "debian-13", "size": "3G"}, {"volume": "data"}])
    assert result.action == CREATE
    assert result.after["image"] is None
    assert result.after["disks"][0] == {"volume": None, "volume_id": None, "size": 3 * GIB, "boot": True,
                                        "delete_on_termination": True}
    assert result.after["disks"][1]["volume_id"] == "vol-1" and not result.after["disks"][1]["boot"]
    assert any("boot from a new 3 GiB volume of image debian-13" in n for n in result.notes)


def test_boot_volume_smaller_than_the_image_min_disk():
    with pytest.raises(InvalidSpec) as err:
        plan(name="web1", flavor="m1.tiny", disks=[{"image": "debian-13", "size": "1G"}])
    assert "min_disk" in dict(err.value.problems)["disks[0].size"]


# ---- no-op and live updates ----------------------------------------------------------------
def test_second_run_changes_nothing():
    result = plan(server(), **spec())
    assert result.action == NONE and result.changes == []


def test_unset_options_are_left_alone():
    result = plan(server(), name="web1")
    assert result.action == NONE


def test_user_data_with_the_same_digest_is_unchanged():
    desired = normalize(**spec(cloud_init={"user_data": {"runcmd": [SECRET]}}))
    current = server(cloud_init={"sha256": desired["cloud_init"]["sha256"]})
    assert PLANNER.plan(desired, world(current)).action == NONE


def test_live_updates():
    result = plan(server(), **spec(security_groups=["web", "default"], metadata={"role": "db", "env": "x"},
                                   tags=["t2"]))
    assert result.action == UPDATE and result.effect == LIVE
    by_path = dict((c.path, c) for c in result.changes)
    assert sorted(by_path) == ["metadata", "security_groups", "tags"]
    assert by_path["security_groups"].after == ["default", "web"]
    assert by_path["metadata"].before == {"role": "web"}
    assert result.after["tags"] == ["t2"]


def test_security_groups_compare_by_id():
    # same names, but the current one is another group with that name
    current = server(security_group_ids=["sg-other"])
    result = plan(current, **spec())
    assert [c.path for c in result.changes] == ["security_groups"]


def test_nic_attach_and_detach():
    result = plan(server(), **spec(nics=[{"network": "net2", "fixed_ip": "10.0.1.9"}, {"port": "myport"}]))
    assert result.effect == LIVE
    ops = sorted((c.op, c.path) for c in result.changes)
    assert ops == [("add", "nics[myport]"), ("add", "nics[net2]"), ("remove", "nics[port-1]")]
    assert result.desired["nic_plan"]["detach"] == ["port-1"]
    assert [n["network"] for n in result.after["nics"]] == ["net2", "net2"]
    assert "net1" not in result.after["addresses"]


def test_nics_match_by_network_fixed_ip_and_port_regardless_of_order():
    current = server(nics=[
        {"network": "net2", "network_id": "net-2", "port": "port-9", "mac": "m2", "fixed_ips": ["10.0.1.2"]},
        {"network": "net1", "network_id": "net-1", "port": "port-1", "mac": "m1", "fixed_ips": ["10.0.0.5"]},
    ])
    result = plan(current, **spec(nics=[{"network": "net1", "fixed_ip": "10.0.0.5"}, {"port": "myport"}]))
    assert result.action == NONE
    result = plan(current, **spec(nics=[{"network": "net1", "fixed_ip": "10.0.0.6"}, {"port": "myport"}]))
    assert sorted(c.op for c in result.changes) == ["add", "remove"]


def test_volume_attach_and_detach():
    result = plan(server(), **spec(disks=[{"volume": "data"}]))
    assert [(c.op, c.path, c.effect) for c in result.changes] == [("add", "disks[data]", LIVE)]
    current = server(disks=[{"volume": "data", "volume_id": "vol-1", "size": GIB, "boot": False,
                             "delete_on_termination": False}])
    assert plan(current, **spec(disks=[{"volume": "data"}])).action == NONE
    result = plan(current, **spec(disks=[]))
    assert [(c.op, c.path) for c in result.changes] == [("remove", "disks[data]")]
    assert any("the volume is kept" in n for n in result.notes)
    assert result.after["disks"] == []


@pytest.mark.parametrize("have, want", [
    ("running", "stopped"), ("stopped", "running"), ("running", "paused"), ("paused", "running"),
])
def test_power_state_is_live(have, want):
    status = {"running": "ACTIVE", "stopped": "SHUTOFF", "paused": "PAUSED"}
    result = plan(server(state=have, status=status[have]), name="web1", state=want)
    assert [(c.path, c.before, c.after, c.effect) for c in result.changes] == [("state", have, want, LIVE)]
    assert result.after["status"] == status[want]


def test_a_settling_server_is_not_touched():
    with pytest.raises(Conflict) as err:
        plan(server(state="build", status="BUILD"), name="web1", state="stopped")
    assert "wait until it settles" in str(err.value)


# ---- restart: resize ---------------------------------------------------------------------
def test_flavor_change_is_a_resize():
    result = plan(server(), **spec(flavor="m1.small"))
    assert result.effect == RESTART
    assert [(c.path, c.before, c.after) for c in result.changes] == [("flavor", "m1.tiny", "m1.small")]
    assert result.after["memory"] == GIB
    assert any("resize to flavor m1.small" in n for n in result.notes)


def test_vcpus_memory_keep_a_current_flavor_of_exactly_that_size():
    current = server(flavor="m1.small-bigdisk", vcpus=1, memory=GIB)
    assert plan(current, name="web1", memory="1G").action == NONE
    result = plan(current, name="web1", memory="4G")
    assert [(c.path, c.after) for c in result.changes] == [("flavor", "m1.medium")]


def test_vcpus_alone_keeps_the_current_memory():
    current = server(flavor="m1.small", vcpus=1, memory=GIB)
    result = plan(current, name="web1", vcpus=2)
    assert [(c.path, c.after) for c in result.changes] == [("flavor", "m1.medium")]


# ---- replace: rebuild / recreate ---------------------------------------------------------
@pytest.mark.parametrize("given, path", [
    ({"image": "debian-13"}, "image"),
    ({"key_name": "ops2"}, "key_name"),
    ({"cloud_init": {"user_data": "#!/bin/sh\necho %s\n" % SECRET}}, "cloud_init"),
])
def test_rebuild_fields_are_refused_without_opt_in(given, path):
    with pytest.raises(Conflict) as err:
        plan(server(), **spec(**given))
    text = str(err.value)
    assert text.startswith("instance 'web1': %s needs a rebuild" % path)
    assert "rebuild: true" in text and "recreate: true" in text
    assert SECRET not in text


@pytest.mark.parametrize("given, path", [
    ({"image": "debian-13"}, "image"),
    ({"key_name": "ops2"}, "key_name"),
    ({"cloud_init": {"user_data": "#!/bin/sh\necho %s\n" % SECRET}}, "cloud_init"),
])
def test_rebuild_in_place(given, path):
    result = plan(server(), rebuild=True, **spec(**given))
    assert result.effect == REPLACE and result.facts["mode"] == "rebuild"
    assert [c.path for c in result.changes] == [path]
    assert SECRET not in json.dumps(result.to_dict()) and SECRET not in json.dumps(PLANNER.public(result.after))


def test_rebuild_with_user_data_needs_microversion_2_57():
    with pytest.raises(Conflict) as err:
        plan(server(), rebuild=True, world_kwargs={"microversion": "2.56"},
             **spec(cloud_init={"user_data": "#!/bin/sh\n"}))
    assert "needs compute API microversion 2.57" in str(err.value)


def test_a_server_booted_from_a_volume_cannot_be_rebuilt():
    current = server(image=None, disks=[{"volume": "boot", "volume_id": "vol-b", "size": GIB, "boot": True,
                                         "delete_on_termination": False}])
    with pytest.raises(Conflict) as err:
        plan(current, rebuild=True, name="web1", key_name="ops2")
    assert "booted from a volume" in str(err.value)


@pytest.mark.parametrize("given, path", [
    ({"availability_zone": "az2"}, "availability_zone"),
    ({"config_drive": True}, "config_drive"),
])
def test_create_only_fields_need_recreate(given, path):
    with pytest.raises(Conflict) as err:
        plan(server(), rebuild=True, **spec(**given))
    assert "%s is create-only" % path in str(err.value)
    assert "recreate: true" in str(err.value)
    result = plan(server(), recreate=True, **spec(**given))
    assert result.facts["mode"] == "recreate"
    assert [c.path for c in result.changes] == [path]


def test_server_group_membership_is_create_only():
    refs = copy.deepcopy(REFS)
    refs["server_group"]["grp"] = {"id": "grp-1", "name": "grp", "members": []}
    with pytest.raises(Conflict) as err:
        plan(server(), refs=refs, world_kwargs={"server_group_members": []}, **spec(server_group="grp"))
    assert "server_group is create-only" in str(err.value)
    result = plan(server(), refs=refs, world_kwargs={"server_group_members": [SERVER_ID]}, **spec(server_group="grp"))
    assert result.action == NONE


def test_boot_disk_is_create_only():
    with pytest.raises(Conflict) as err:
        plan(server(image=None, disks=[]), name="web1", disks=[{"image": "debian", "size": "2G"}])
    assert "disks[0] is create-only" in str(err.value)


def test_a_server_in_error_needs_recreate():
    current = server(state="error", status="ERROR", fault="No valid host was found")
    with pytest.raises(Conflict) as err:
        plan(current, **spec())
    assert "the server is in ERROR: No valid host was found" in str(err.value)
    result = plan(current, recreate=True, **spec())
    assert result.facts["mode"] == "recreate"


# ---- delete --------------------------------------------------------------------------------
def test_delete_keeps_volumes_unless_purged():
    current = server(disks=[
        {"volume": "boot", "volume_id": "vol-b", "size": GIB, "boot": True, "delete_on_termination": True},
        {"volume": "data", "volume_id": "vol-1", "size": GIB, "boot": False, "delete_on_termination": False},
    ], image=None)
    result = plan(current, name="web1", state="absent")
    assert result.action == DELETE and result.desired["purge"] == []
    assert any("keep volume(s) data" in n for n in result.notes)
    assert any("Nova deletes volume boot" in n for n in result.notes)
    result = plan(current, name="web1", state="absent", purge_volumes=True)
    assert result.desired["purge"] == ["vol-1"]


def test_delete_of_a_missing_server_is_a_no_op():
    result = plan(None, name="web1", state="absent")
    assert result.action == NONE


# ---- helpers -------------------------------------------------------------------------------
def test_owner_tag_and_hidden_metadata_are_stripped():
    assert user_tags(["b", "converge-virt", "a"]) == ["a", "b"]
    assert user_metadata({"converge_virt_user_data_sha256": "x", "converge_virt_boot_volume": "v", "k": "v"}) == {"k": "v"}


def test_state_words():
    assert [state_of(s) for s in ("ACTIVE", "SHUTOFF", "PAUSED", "ERROR", "VERIFY_RESIZE")] == [
        "running", "stopped", "paused", "error", "verify_resize"]


def test_public_masks_user_data_digest_and_drops_internal_ids():
    public = PLANNER.public(server(cloud_init={"sha256": "ab" * 32}))
    assert public["cloud_init"] == {"sha256": "********"}
    assert "security_group_ids" not in public


def test_on_a_server_booted_from_an_image_every_volume_disk_is_attached():
    # disks[0] is the boot disk only where there is no image: an update that leaves image unset
    # must not read an attached volume as a new boot disk.
    result = plan(server(), name="web1", disks=[{"volume": "data"}])
    assert [(c.op, c.path, c.effect) for c in result.changes] == [("add", "disks[data]", LIVE)]
    assert result.after["disks"][0]["boot"] is False


def test_recreate_says_that_user_data_it_cannot_read_is_lost():
    current = server(cloud_init={"sha256": "ab" * 32})
    result = plan(current, recreate=True, **spec(availability_zone="az2"))
    assert any("gets no user-data" in n for n in result.notes)


def test_a_pending_resize_is_confirmed():
    result = plan(server(state="verify_resize", status="VERIFY_RESIZE"), name="web1")
    assert [(c.path, c.before, c.after) for c in result.changes] == [("state", "verify_resize", "running")]
    assert any("confirm the resize" in n for n in result.notes)


def test_a_pending_resize_is_left_alone_without_confirm_resize():
    current = server(state="verify_resize", status="VERIFY_RESIZE", flavor="m1.small", vcpus=1, memory=GIB)
    assert plan(current, name="web1", flavor="m1.small", confirm_resize=False).action == NONE
