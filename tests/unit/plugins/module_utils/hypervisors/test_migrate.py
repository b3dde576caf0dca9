# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure parts of migration: the plan (mode, storage, volumes, refusals) and the XML helpers."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, Timeout
from ansible_collections.converge.virt.plugins.module_utils.hypervisors import migrate

MiB = 1024 * 1024


def disk(target="vda", pool="default", volume="web1-root.qcow2", fmt="qcow2", pool_type="dir",
         capacity=1024 * MiB, allocation=20 * MiB, backing=None, readonly=False, device="disk", dtype="volume",
         path=None):
    return {"target": target, "device": device, "readonly": readonly, "type": dtype,
            "path": path or "/var/lib/libvirt/images/%s" % volume, "pool": pool, "volume": volume,
            "pool_type": pool_type, "pool_path": "/var/lib/libvirt/images", "format": fmt,
            "capacity": capacity, "allocation": allocation, "backing": backing}


def source(*disks, **extra):
    src = {"name": "web1", "uuid": "8e0c5f4e-1111-2222-3333-444455556666", "host_uuid": "aaaa",
           "persistent": True, "autostart": False, "nvram": None, "managed_save": False, "snapshots": 0,
           "disks": list(disks) if disks else [disk()]}
    src.update(extra)
    return src


def destination(pools=None, existing=(), **extra):
    dst = {"host": "hv2", "host_uuid": "bbbb", "existing_paths": list(existing), "name_taken": False,
           "uuid_taken": False,
           "pools": pools if pools is not None else {
               "default": {"type": "dir", "path": "/var/lib/libvirt/images", "active": True,
                           "available_bytes": 10 * 1024 * MiB, "volumes": ["other.qcow2"]}}}
    dst.update(extra)
    return dst


# ---- mode ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("state, requested, mode, problem", [
    ("running", "auto", "live", None),
    ("paused", "auto", "live", None),
    ("blocked", "auto", "live", None),
    ("running", "live", "live", None),
    ("shut off", "auto", "offline", None),
    ("shutoff", "offline", "offline", None),
    ("stopped", "auto", "offline", None),
    ("running", "offline", "offline", "needs it shut off"),
    ("shut off", "live", "live", "only a running or paused instance can move live"),
    ("crashed", "auto", "offline", "state 'crashed'"),
    ("pmsuspended", "auto", "offline", "state 'pmsuspended'"),
    ("running", "fast", "live", "unknown migration mode 'fast'"),
])
def test_mode_follows_the_state(state, requested, mode, problem):
    plan = migrate.plan_migration(source(), state, destination(), requested)
    assert plan["mode"] == mode
    if problem:
        assert any(problem in p for p in plan["problems"]), plan["problems"]
    else:
        assert plan["problems"] == []


def test_live_copy_plan_lists_the_volume_and_where_it_lands():
    plan = migrate.plan_migration(source(), "running", destination())
    assert plan["problems"] == []
    assert (plan["mode"], plan["storage"], plan["incremental"]) == ("live", "copy", False)
    assert plan["shared"] == []
    [vol] = plan["volumes"]
    assert vol["transfer"] == "mirror"
    assert vol["source"] == {"pool": "default", "volume": "web1-root.qcow2",
                             "path": "/var/lib/libvirt/images/web1-root.qcow2"}
    assert vol["destination"] == {"pool": "default", "volume": "web1-root.qcow2",
                                  "path": "/var/lib/libvirt/images/web1-root.qcow2"}
    assert (vol["format"], vol["capacity"]) == ("qcow2", 1024 * MiB)
    text = "\n".join(plan["reasons"])
    assert "moves live" in text and "over NBD" in text and "lands in default/web1-root.qcow2" in text


def test_destination_pool_path_may_differ():
    pools = {"default": {"type": "dir", "path": "/srv/images", "active": True, "available_bytes": None,
                         "volumes": []}}
    plan = migrate.plan_migration(source(), "shut off", destination(pools))
    assert plan["volumes"][0]["destination"]["path"] == "/srv/images/web1-root.qcow2"
    assert plan["volumes"][0]["transfer"] == "stream"


def test_read_only_disks_are_streamed_before_a_live_migration():
    seed = disk("sda", volume="web1-seed.iso", fmt="raw", readonly=True, device="cdrom", allocation=MiB)
    plan = migrate.plan_migration(source(disk(), seed), "running", destination())
    assert [(v["target"], v["transfer"]) for v in plan["volumes"]] == [("vda", "mirror"), ("sda", "stream")]
    assert any("read-only" in r for r in plan["reasons"])


# ---- shared storage --------------------------------------------------------------------------------
@pytest.mark.parametrize("pool_type", sorted(migrate.SHARED_POOL_TYPES))
def test_shared_pool_types_are_not_copied(pool_type):
    plan = migrate.plan_migration(source(disk(pool_type=pool_type)), "running", destination(pools={}))
    assert plan["problems"] == []
    assert (plan["storage"], plan["volumes"], plan["shared"]) == ("shared", [], ["vda"])


def test_network_disks_stay():
    net = disk(dtype="network", pool=None, volume=None, path="rbd:pool/img", pool_type=None)
    plan = migrate.plan_migration(source(net), "running", destination(pools={}))
    assert plan["problems"] == [] and plan["shared"] == ["vda"]


def test_same_path_on_a_local_pool_is_not_taken_for_shared_storage():
    path = "/var/lib/libvirt/images/web1-root.qcow2"
    dst = destination(existing=[path])
    dst["pools"]["default"]["volumes"].append("web1-root.qcow2")
    plan = migrate.plan_migration(source(), "running", dst)
    assert plan["storage"] == "copy"
    assert any("already has a volume named 'web1-root.qcow2'" in p for p in plan["problems"])


def test_declared_shared_needs_the_same_path_on_the_destination():
    path = "/var/lib/libvirt/images/web1-root.qcow2"
    ok = migrate.plan_migration(source(), "running", destination(existing=[path]), "auto", "shared")
    assert ok["problems"] == [] and ok["storage"] == "shared" and ok["volumes"] == []
    bad = migrate.plan_migration(source(), "running", destination(), "auto", "shared")
    assert "declared shared storage, but the destination has no volume at " + path in bad["problems"][0]


# ---- refusals ----------------------------------------------------------------------------------
def test_missing_pool_is_refused_naming_the_pools_there():
    pools = {"fast": {"type": "dir", "path": "/fast", "active": True, "available_bytes": None, "volumes": []}}
    plan = migrate.plan_migration(source(), "running", destination(pools))
    assert plan["problems"] == ["disk vda (default/web1-root.qcow2) needs a storage pool named 'default' on the "
                                "destination, which has none (pools there: fast)"]
    with pytest.raises(Conflict) as info:
        migrate.require_feasible(plan, "hv1", "hv2")
    assert "cannot migrate from hv1 to hv2: disk vda" in str(info.value)
    assert str(info.value).startswith("instance 'web1': ")
    assert info.value.details["plan"]["mode"] == "live"


@pytest.mark.parametrize("change, problem", [
    ({"active": False}, "is not running"),
    ({"type": "scsi"}, "cannot create volumes"),
    ({"available_bytes": 5 * MiB}, "has 5 MiB available, the volume uses 20 MiB"),
])
def test_destination_pool_problems(change, problem):
    dst = destination()
    dst["pools"]["default"].update(change)
    plan = migrate.plan_migration(source(), "running", dst)
    assert any(problem in p for p in plan["problems"]), plan["problems"]


def test_file_outside_any_pool_cannot_be_copied():
    loose = disk(dtype="file", pool=None, volume=None, pool_type=None, path="/root/disk.img")
    plan = migrate.plan_migration(source(loose), "running", destination())
    assert "is not a volume of any storage pool on the source" in plan["problems"][0]


@pytest.mark.parametrize("extra, state, problem", [
    ({"snapshots": 2}, "running", "2 snapshot(s)"),
    ({"managed_save": True}, "shut off", "managed-save image"),
    ({"persistent": False}, "shut off", "transient"),
    ({"nvram": "/var/lib/libvirt/qemu/nvram/web1_VARS.fd"}, "shut off", "UEFI variables in"),
])
def test_instance_level_refusals(extra, state, problem):
    plan = migrate.plan_migration(source(**extra), state, destination())
    assert any(problem in p for p in plan["problems"]), plan["problems"]


def test_nvram_moves_live():
    plan = migrate.plan_migration(source(nvram="/x_VARS.fd"), "running", destination())
    assert plan["problems"] == []
    assert any("NVRAM" in r for r in plan["reasons"])


@pytest.mark.parametrize("extra, problem", [
    ({"name_taken": True}, "already has an instance named 'web1'"),
    ({"uuid_taken": True}, "already has an instance with UUID"),
    ({"host_uuid": "aaaa"}, "same host"),
])
def test_destination_conflicts(extra, problem):
    plan = migrate.plan_migration(source(), "running", destination(**extra))
    assert any(problem in p for p in plan["problems"]), plan["problems"]


def test_unknown_storage_choice():
    plan = migrate.plan_migration(source(), "running", destination(), "auto", "nfs")
    assert "unknown storage choice 'nfs'" in plan["problems"][0]


# ---- backing chains ------------------------------------------------------------------------------
BASE = {"path": "/var/lib/libvirt/images/debian.qcow2", "format": "qcow2"}


def test_backing_on_the_destination_means_incremental():
    plan = migrate.plan_migration(source(disk(backing=dict(BASE))), "running", destination(existing=[BASE["path"]]))
    assert plan["problems"] == [] and plan["incremental"] is True
    assert plan["volumes"][0]["flatten"] is False


def test_missing_backing_is_flattened_live_and_refused_offline():
    live = migrate.plan_migration(source(disk(backing=dict(BASE))), "running", destination())
    assert live["problems"] == [] and live["incremental"] is False and live["volumes"][0]["flatten"] is True
    assert any("flattened" in r for r in live["reasons"])
    offline = migrate.plan_migration(source(disk(backing=dict(BASE))), "shut off", destination())
    assert any("backing file /var/lib/libvirt/images/debian.qcow2, which the destination lacks" in p
               for p in offline["problems"])


def test_one_missing_backing_flattens_every_backed_disk():
    other = {"path": "/var/lib/libvirt/images/other.qcow2", "format": "qcow2"}
    disks = [disk(backing=dict(BASE)), disk("vdb", volume="web1-data.qcow2", backing=other)]
    plan = migrate.plan_migration(source(*disks), "running", destination(existing=[BASE["path"]]))
    assert plan["incremental"] is False
    assert [v["flatten"] for v in plan["volumes"]] == [True, True]


def test_plan_does_not_change_its_inputs():
    src, dst = source(disk(backing=dict(BASE))), destination()
    before = copy.deepcopy((src, dst))
    migrate.plan_migration(src, "running", dst)
    assert (src, dst) == before


# ---- XML helpers ----------------------------------------------------------------------------------
DOMAIN = """<domain type='qemu'>
  <name>web1</name>
  <metadata><cvstack:owner xmlns:cvstack="https://converge-virt.github.io/xmlns/stack/1" stack="lab"/></metadata>
  <os><type>hvm</type><nvram template='/usr/share/OVMF/OVMF_VARS.fd'>/var/lib/libvirt/qemu/nvram/web1_VARS.fd</nvram></os>
  <devices>
    <disk type='volume' device='disk'><source pool='default' volume='web1-root.qcow2'/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='disk'><source file='/var/lib/libvirt/images/data.raw'/><target dev='vdb' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><target dev='sda' bus='sata'/><readonly/></disk>
    <disk type='file' device='cdrom'><source file='/iso/seed.iso'/><target dev='sdb' bus='sata'/><readonly/></disk>
    <disk type='network' device='disk'><source protocol='rbd' name='pool/img'/><target dev='vdc' bus='virtio'/></disk>
  </devices>
</domain>"""


def test_domain_disks_skips_empty_drives():
    disks = migrate.domain_disks(DOMAIN)
    assert [(d["target"], d["type"], d["readonly"], d["pool"], d["volume"], d["path"]) for d in disks] == [
        ("vda", "volume", False, "default", "web1-root.qcow2", None),
        ("vdb", "file", False, None, None, "/var/lib/libvirt/images/data.raw"),
        ("sdb", "file", True, None, None, "/iso/seed.iso"),
        ("vdc", "network", False, None, None, "rbd:pool/img"),
    ]


def test_nvram_path():
    assert migrate.nvram_path(DOMAIN) == "/var/lib/libvirt/qemu/nvram/web1_VARS.fd"
    assert migrate.nvram_path("<domain><os><type>hvm</type></os></domain>") is None


def test_rewrite_disk_paths_keeps_metadata():
    text = migrate.rewrite_disk_paths(DOMAIN, {"/var/lib/libvirt/images/data.raw": "/srv/images/data.raw"})
    root = ET.fromstring(text)
    assert root.find("devices/disk[2]/source").get("file") == "/srv/images/data.raw"
    assert root.find("devices/disk[4]/source").get("file") == "/iso/seed.iso"
    owner = root.find("metadata/{https://converge-virt.github.io/xmlns/stack/1}owner")
    assert owner is not None and owner.get("stack") == "lab"
    assert migrate.rewrite_disk_paths(DOMAIN, {}) is DOMAIN


def test_rewrite_volume_disks_as_files_or_blocks():
    text = migrate.rewrite_disk_paths(DOMAIN, {}, {("default", "web1-root.qcow2"): "/srv/web1-root.qcow2"})
    first = ET.fromstring(text).find("devices/disk[1]")
    assert first.get("type") == "file"
    assert first.find("source").attrib == {"file": "/srv/web1-root.qcow2"}
    text = migrate.rewrite_disk_paths(DOMAIN, {}, {("default", "web1-root.qcow2"): "/dev/vg0/web1-root"})
    first = ET.fromstring(text).find("devices/disk[1]")
    assert (first.get("type"), first.find("source").attrib) == ("block", {"dev": "/dev/vg0/web1-root"})


def test_path_mapping_of_file_disks_to_a_differently_placed_pool():
    data = disk("vdb", volume="data.raw", fmt="raw", dtype="file")
    pools = {"default": {"type": "dir", "path": "/srv/images", "active": True, "available_bytes": None,
                         "volumes": []}}
    plan = migrate.plan_migration(source(data), "shut off", destination(pools))
    job = migrate._Job(None, None, None, "web1", plan, {}, None)
    assert job._path_map() == {"/var/lib/libvirt/images/data.raw": "/srv/images/data.raw"}


def test_describe_job():
    stats = {"memory_total": 64 * MiB, "memory_processed": 16 * MiB, "disk_total": 100 * MiB,
             "disk_processed": 50 * MiB, "memory_iteration": 2}
    assert migrate.describe_job("web1", stats, 1.25) == \
        "migrating web1: memory 16/64 MiB, disks 50/100 MiB, pass 2 (1.2 s)"
    assert migrate.describe_job("web1", {}, 0) == "migrating web1: starting (0.0 s)"


def test_state_names():
    assert [migrate.state_name(c) for c in (1, 2, 3, 5, 6, 99)] == [
        "running", "running", "paused", "shut off", "crashed", "unknown"]


# ---- the stream copy, with fake libvirt streams ----------------------------------------------------
class FakeLv(object):
    VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM = 1
    VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM = 1


class FakeStream(object):
    def __init__(self, chunks=()):
        self.chunks = list(chunks)
        self.sent = []
        self.state = "open"

    def recvAll(self, handler, opaque):
        for chunk in self.chunks:
            if isinstance(chunk, bytes):
                handler(self, chunk, opaque)

    def sparseRecvAll(self, handler, hole_handler, opaque):
        for chunk in self.chunks:
            if isinstance(chunk, bytes):
                handler(self, chunk, opaque)
            else:
                hole_handler(self, chunk, opaque)

    def send(self, data):
        self.sent.append(data)
        return len(data)

    def sendHole(self, length, _flags):
        self.sent.append(length)

    def finish(self):
        self.state = "finished"

    def abort(self):
        self.state = "aborted"


class FakeConn(object):
    def __init__(self, stream):
        self.stream = stream

    def newStream(self, _flags):
        return self.stream


class FakeVol(object):
    def __init__(self):
        self.calls = []

    def name(self):
        return "v"

    def download(self, _stream, offset, length, flags):
        self.calls.append(("download", offset, length, flags))

    def upload(self, _stream, offset, length, flags):
        self.calls.append(("upload", offset, length, flags))


@pytest.mark.parametrize("sparse", [True, False])
def test_copy_volume_pipes_data_and_holes(sparse):
    down, up = FakeStream([b"abc", 4096, b"de"]), FakeStream()
    svol, dvol = FakeVol(), FakeVol()
    sent = migrate.copy_volume(FakeLv, FakeConn(down), svol, FakeConn(up), dvol, sparse=sparse)
    assert sent == 5
    assert up.sent == ([b"abc", 4096, b"de"] if sparse else [b"abc", b"de"])
    assert svol.calls == [("download", 0, 0, int(sparse))] and dvol.calls == [("upload", 0, 0, int(sparse))]
    assert (down.state, up.state) == ("finished", "finished")


def test_copy_volume_times_out_and_aborts_both_streams():
    down, up = FakeStream([b"abc"]), FakeStream()
    with pytest.raises(Timeout):
        migrate.copy_volume(FakeLv, FakeConn(down), FakeVol(), FakeConn(up), FakeVol(), deadline=0)
    assert (down.state, up.state) == ("aborted", "aborted")
