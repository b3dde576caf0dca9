# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Xen guests (libvirt's libxl driver, domain type ``xen``): the planner's Xen rules and the
domain XML built for PV, PVH and HVM guests.

There is no Xen host on the machines these tests run on, so every generated document is checked
against libvirt's own schema with ``virt-xml-validate`` (libvirt-clients), and the elements libxl
reads are asserted one by one.  A deliberately broken document must fail the same check, so the
validation is shown to bite.  Specs go the way a run takes them: module parameters -> normalize()
-> plan() -> the driver's build step (volume paths filled in as the driver reads them from the
pools) -> domain_xml.build(); the definition is read back with domain_xml.parse() and planned
again, which must change nothing."""

from __future__ import annotations

import copy
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import CREATE, LIVE, NONE, REPLACE, RESTART
from ansible_collections.converge.virt.plugins.module_utils.libvirt import domain_xml
from ansible_collections.converge.virt.plugins.module_utils.resources.instance import (
    InstancePlanner, InstanceWorld, host_desired, is_xen_uri, resolve_pools,
)
from ansible_collections.converge.virt.plugins.module_utils.specs.instance import ARGUMENT_SPEC
from ansible_collections.converge.virt.tests.unit.plugins.module_utils.resources.module_params import module_params

VALIDATOR = shutil.which("virt-xml-validate")
needs_validator = pytest.mark.skipif(
    VALIDATOR is None, reason="virt-xml-validate (Debian package libvirt-clients) is not installed: the Xen "
                              "domain XML cannot be checked against libvirt's schema")

PLANNER = InstancePlanner()
GIB = 1024 ** 3
MIB = 1024 ** 2
XEN_URI = "xen:///system"
HVMLOADER = "/usr/lib/xen-4.17/boot/hvmloader"

POOLS = {
    "vms": {"name": "vms", "type": "dir", "path": "/var/lib/vms", "active": True},
    "images": {"name": "images", "type": "dir", "path": "/var/lib/images", "active": True},
    "isos": {"name": "isos", "type": "dir", "path": "/var/lib/isos", "active": True},
    "vg0": {"name": "vg0", "type": "logical", "path": "/dev/vg0", "active": True},
}
VOLUMES = {
    ("images", "debian.qcow2"): {"name": "debian.qcow2", "pool": "images", "type": "file",
                                 "path": "/var/lib/images/debian.qcow2", "format": "qcow2", "capacity": 2 * GIB},
    ("isos", "debian-12.iso"): {"name": "debian-12.iso", "pool": "isos", "type": "file",
                                "path": "/var/lib/isos/debian-12.iso", "format": "raw", "capacity": 600 * MIB},
    ("vg0", "data"): {"name": "data", "pool": "vg0", "type": "block", "path": "/dev/vg0/data", "format": "raw",
                      "capacity": 8 * GIB},
}
KERNEL = {"kernel": "/var/lib/xen/boot/vmlinuz", "initrd": "/var/lib/xen/boot/initrd.img",
          "cmdline": "root=/dev/xvda1 console=hvc0"}
USER_DATA = {"users": [{"name": "admin"}]}


# ---- helpers -------------------------------------------------------------------------------
def params(uri=XEN_URI, **given):
    """Module parameters as AnsibleModule hands them over, plus the connection's URI."""
    result = module_params(ARGUMENT_SPEC, given)
    result["uri"] = uri
    return result


def base(**overrides):
    result = {"name": "xv1", "vcpus": 2, "memory": "1G", "pool": "vms",
              "disks": [{"image": "debian.qcow2", "image_pool": "images", "size": "10G"},
                        {"volume": "data", "pool": "vg0"}],
              "nics": [{"network": "lab"}], "cloud_init": {"user_data": USER_DATA},
              "graphics": {"type": "vnc"}}
    result.update(overrides)
    return result


def world(current=None, **kwargs):
    kwargs.setdefault("networks", {"lab"})
    kwargs.setdefault("pools", POOLS)
    kwargs.setdefault("volumes", VOLUMES)
    kwargs.setdefault("hypervisor", "xen")
    kwargs.setdefault("virt_type", "xen")
    kwargs.setdefault("xen_loader", HVMLOADER)
    return InstanceWorld(current=current, **kwargs)


def plan_of(desired, w):
    resolve_pools(desired, w.current)
    return PLANNER.plan(desired, w)


def create_plan(uri=XEN_URI, w=None, **given):
    return plan_of(PLANNER.normalize(params(uri=uri, **base(**given))), w or world())


def with_path(item, created=()):
    """What the driver's _with_path does: the volume's path (a new volume lands in its pool's dir)."""
    if not item or not item.get("volume"):
        return item
    vol = VOLUMES.get((item["pool"], item["volume"]))
    if vol is None:
        assert (item["pool"], item["volume"]) in created, item
        vol = {"type": "file", "path": "%s/%s" % (POOLS[item["pool"]]["path"], item["volume"])}
    return dict(item, path=vol["path"], source_type="block" if vol["type"] == "block" else "file")


def built(plan):
    """The definition the driver's _create writes for a create plan."""
    after = plan.desired
    spec = after["spec"]
    created = [(v["pool"], v["volume"]) for v in plan.facts["create_volumes"]]
    seed = None
    if spec.get("cloud_init"):
        seed = {"pool": spec["pool"], "volume": "%s-cidata.iso" % spec["name"], "sha256": spec["cloud_init"]["sha256"]}
        created.append((seed["pool"], seed["volume"]))
    meta = {"machine": after["machine"], "virt_type": spec["virt_type"], "pool": spec.get("pool"),
            "owned": [{"pool": d["pool"], "volume": d["volume"]} for d in after["disks"] if d["owned"]],
            "seed": seed, "overrides": [o["xpath"] for o in after["xml_overrides"]]}
    build = dict(after, seed={"pool": seed["pool"], "volume": seed["volume"]} if seed else None, meta=meta,
                 hotplug_slots=spec["hotplug_slots"])
    build["disks"] = [with_path(d, created) for d in build["disks"]]
    build["cdrom"] = with_path(build["cdrom"], created)
    build["seed"] = with_path(build["seed"], created)
    return domain_xml.build(build)


def read(text, state="running"):
    """The normalized current state of a definition, put together the way the driver reads it."""
    current = domain_xml.parse(text)
    current.update({"state": state, "autostart": False, "persistent": True, "interfaces": [], "ips": [],
                    "agent_connected": False, "pending": []})
    for disk in current["disks"]:
        disk["owned"] = {"pool": disk.get("pool"), "volume": disk.get("volume")} in current["meta"]["owned"]
        vol = VOLUMES.get((disk["pool"], disk["volume"]))
        disk["size"] = vol["capacity"] if vol else 10 * GIB
    current["cloud_init"] = {"sha256": current["meta"]["seed"]["sha256"]} if current["meta"]["seed"] else None
    current["xml_overrides"] = None
    current["_xml"] = text
    return current


def existing_world(text):
    volumes = dict(VOLUMES)
    current = read(text)
    for disk in current["disks"]:
        volumes.setdefault((disk["pool"], disk["volume"]), {"capacity": disk["size"], "path": disk["path"],
                                                            "format": disk["format"], "type": "file"})
    return world(current=current, volumes=volumes, virt_type=None, xen_loader=None)


def validate(text, tmp_path, name="domain.xml"):
    """virt-xml-validate's verdict on ``text``: (exit status, its output)."""
    path = tmp_path / name
    path.write_text(text)
    result = subprocess.run([VALIDATOR, str(path), "domain"], capture_output=True, text=True, check=False)
    return result.returncode, result.stdout + result.stderr


def assert_valid(text, tmp_path):
    status, output = validate(text, tmp_path)
    assert status == 0, output + "\n" + text


def problems(uri=XEN_URI, w=None, **given):
    """The problems of a spec, found by normalize() or, failing that, by plan()."""
    with pytest.raises(InvalidSpec) as err:
        plan_of(PLANNER.normalize(params(uri=uri, **given)), w or world())
    return dict(err.value.problems)


def drive(root, target):
    for disk in root.findall("devices/disk"):
        if disk.find("target").get("dev") == target:
            return disk
    raise AssertionError("no drive %s" % target)


# ---- every mode builds a valid definition, and a second run changes nothing -----------------
MODES = {
    "pv-kernel": {"xen": dict(KERNEL, mode="pv")},
    "pv-pygrub": {"xen": {"mode": "pv", "bootloader": "/usr/lib/xen/bin/pygrub", "bootloader_args": "--entry=0"}},
    "pvh": {"xen": dict(KERNEL, mode="pvh")},
    "hvm-bios": {"cdrom": {"volume": "debian-12.iso", "pool": "isos"}, "boot": ["cdrom", "hd"],
                 "nics": [{"network": "lab"}, {"network": "lab", "model": "e1000"}, {"network": "lab", "model": "netfront"}],
                 "disks": [{"image": "debian.qcow2", "image_pool": "images", "size": "10G"},
                           {"size": "10G", "bus": "ide", "format": "raw"}],
                 "graphics": {"type": "spice"}, "cpu": {"mode": "host-passthrough"}},
    "hvm-uefi": {"firmware": "uefi", "xen": {"mode": "hvm"}, "virt_type": "xen"},
}


@needs_validator
@pytest.mark.parametrize("case", sorted(MODES))
def test_each_mode_builds_valid_xen_xml_that_reads_back_unchanged(case, tmp_path):
    plan = create_plan(**MODES[case])
    assert plan.action == CREATE and plan.desired["virt_type"] == "xen"
    text = built(plan)
    assert_valid(text, tmp_path)
    again = plan_of(PLANNER.normalize(params(**base(**MODES[case]))), existing_world(text))
    assert again.action == NONE, [c.to_dict() for c in again.changes]


@needs_validator
def test_pv_with_a_kernel(tmp_path):
    text = built(create_plan(xen=dict(KERNEL, mode="pv")))
    assert_valid(text, tmp_path)
    root = ET.fromstring(text)
    assert root.get("type") == "xen"
    os_type = root.find("os/type")
    assert (os_type.text, os_type.get("machine"), os_type.get("arch")) == ("linux", "xenpv", "x86_64")
    assert [root.findtext("os/" + t) for t in ("kernel", "initrd", "cmdline")] == [
        KERNEL["kernel"], KERNEL["initrd"], KERNEL["cmdline"]]
    for absent in ("os/loader", "os/boot", "os/bios", "bootloader", "features", "cpu", "devices/serial",
                   "devices/channel", "devices/controller"):
        assert root.find(absent) is None, absent
    # the PV console, nothing that only QEMU has
    console = root.find("devices/console")
    assert console.get("type") == "pty" and console.find("target").get("type") == "xen"
    assert root.find("devices/memballoon").get("model") == "xen"
    assert root.find("devices/video/model").get("type") == "xen"
    assert "virtio" not in text


@needs_validator
def test_pv_with_pygrub(tmp_path):
    text = built(create_plan(xen={"mode": "pv", "bootloader": "/usr/lib/xen/bin/pygrub",
                                  "bootloader_args": "--entry=0"}))
    assert_valid(text, tmp_path)
    root = ET.fromstring(text)
    assert root.findtext("bootloader") == "/usr/lib/xen/bin/pygrub"
    assert root.findtext("bootloader_args") == "--entry=0"
    tags = [e.tag for e in root]
    assert tags.index("bootloader") < tags.index("bootloader_args") < tags.index("os")
    assert root.find("os/kernel") is None and root.find("os/type").text == "linux"


@needs_validator
def test_pv_disks_drives_and_nics(tmp_path):
    text = built(create_plan(xen=dict(KERNEL, mode="pv"), cdrom={"volume": "debian-12.iso", "pool": "isos"}))
    assert_valid(text, tmp_path)
    root = ET.fromstring(text)
    # an owned qcow2 clone: a file through qdisk; a logical volume: a block device through blkback
    xvda, xvdb = drive(root, "xvda"), drive(root, "xvdb")
    assert (xvda.get("type"), xvda.find("driver").attrib, xvda.find("source").get("file")) == (
        "file", {"name": "qemu", "type": "qcow2", "discard": "unmap"}, "/var/lib/vms/xv1-xvda.qcow2")
    assert xvda.find("target").attrib == {"dev": "xvda", "bus": "xen"}
    assert (xvdb.get("type"), xvdb.find("driver").get("name"), xvdb.find("driver").get("type"),
            xvdb.find("source").get("dev")) == ("block", "phy", "raw", "/dev/vg0/data")
    # no disk is a pool volume reference: libxl opens paths
    assert not [d for d in root.findall("devices/disk") if d.get("type") == "volume"]
    # the CD-ROM and the cloud-init seed are read-only xen drives at the end of the xvd range
    for target, path in (("xvdy", "/var/lib/isos/debian-12.iso"), ("xvdz", "/var/lib/vms/xv1-cidata.iso")):
        elem = drive(root, target)
        assert elem.get("device") == "cdrom" and elem.find("target").get("bus") == "xen"
        assert elem.find("source").get("file") == path and elem.find("readonly") is not None
    assert [i.find("model").get("type") for i in root.findall("devices/interface")] == ["netfront"]
    assert root.find("devices/interface/source").get("network") == "lab"
    # the volumes behind the paths are remembered, so the state reads back in pool/volume terms
    state = domain_xml.parse(text)
    assert [(d["target"], d["pool"], d["volume"]) for d in state["disks"]] == [
        ("xvda", "vms", "xv1-xvda.qcow2"), ("xvdb", "vg0", "data")]
    assert state["cdrom"] == {"pool": "isos", "volume": "debian-12.iso"}
    assert state["seed"] == {"pool": "vms", "volume": "xv1-cidata.iso", "target": "xvdz"}
    assert state["xen"] == dict(KERNEL, mode="pv", bootloader=None, bootloader_args=None)
    assert state["console_log"] is None and state["guest_agent"] is False and state["firmware"] is None


@needs_validator
def test_pvh(tmp_path):
    text = built(create_plan(xen=dict(KERNEL, mode="pvh")))
    assert_valid(text, tmp_path)
    root = ET.fromstring(text)
    os_type = root.find("os/type")
    assert (os_type.text, os_type.get("machine")) == ("xenpvh", "xenpvh")
    assert root.findtext("os/kernel") == KERNEL["kernel"] and root.find("os/loader") is None
    assert root.find("devices/console/target").get("type") == "xen"
    assert domain_xml.parse(text)["xen"]["mode"] == "pvh"


@needs_validator
def test_hvm_with_hvmloader(tmp_path):
    text = built(create_plan(**MODES["hvm-bios"]))
    assert_valid(text, tmp_path)
    root = ET.fromstring(text)
    os_type = root.find("os/type")
    assert (os_type.text, os_type.get("machine")) == ("hvm", "xenfv")
    loader = root.find("os/loader")
    assert (loader.get("type"), loader.text) == ("rom", HVMLOADER)  # the host's, from its capabilities
    assert [b.get("dev") for b in root.findall("os/boot")] == ["cdrom", "hd"]
    assert sorted(f.tag for f in root.find("features")) == ["acpi", "apic", "pae"]
    assert root.find("os/bios") is None  # SeaBIOS's useserial is QEMU's
    assert root.find("cpu").attrib == {"mode": "host-passthrough"}
    # PV disk, emulated IDE disk, and the drives on the emulated IDE controller
    assert drive(root, "xvda").find("target").get("bus") == "xen"
    assert drive(root, "hda").find("target").get("bus") == "ide"
    assert drive(root, "hda").find("driver").attrib == {"name": "qemu", "type": "raw", "discard": "unmap"}
    for target in ("hdc", "hdd"):
        assert drive(root, target).get("device") == "cdrom" and drive(root, target).find("target").get("bus") == "ide"
    # serial console on the emulated UART, without a log file (libxl writes none)
    assert root.find("devices/serial") is not None and root.find("devices/serial/log") is None
    assert root.find("devices/console/target").get("type") == "serial"
    assert [i.find("model").get("type") for i in root.findall("devices/interface")] == [
        "rtl8139", "e1000", "netfront"]
    assert root.find("devices/graphics").get("type") == "spice"
    assert root.find("devices/video/model").get("type") == "cirrus"
    assert root.find("devices/channel") is None and root.find("devices/controller") is None
    state = domain_xml.parse(text)
    assert state["firmware"] == "bios" and state["machine"] == "xenfv" and state["xen"]["mode"] == "hvm"


@needs_validator
def test_hvm_with_ovmf(tmp_path):
    text = built(create_plan(firmware="uefi"))
    assert_valid(text, tmp_path)
    loader = ET.fromstring(text).find("os/loader")
    assert loader.get("type") == "pflash" and loader.get("readonly") == "yes"
    assert domain_xml.parse(text)["firmware"] == "uefi"


@needs_validator
def test_hvm_without_a_loader_from_the_host_uses_libxls_default_path(tmp_path):
    text = built(create_plan(w=world(xen_loader=None)))
    assert_valid(text, tmp_path)
    assert ET.fromstring(text).findtext("os/loader") == domain_xml.HVMLOADER


# ---- the validation bites --------------------------------------------------------------------
@needs_validator
@pytest.mark.parametrize("breakage", ["os type", "disk bus", "console target", "bootloader after os"])
def test_a_broken_xen_document_fails_validation(breakage, tmp_path):
    text = built(create_plan(xen={"mode": "pv", "bootloader": "/usr/lib/xen/bin/pygrub"}))
    assert validate(text, tmp_path, "good.xml")[0] == 0
    root = ET.fromstring(text)
    if breakage == "os type":
        root.find("os/type").text = "pv"  # not a Xen OS type (xen, linux, xenpvh)
    elif breakage == "disk bus":
        drive(root, "xvda").find("target").set("bus", "xenbus")
    elif breakage == "console target":
        root.find("devices/console/target").set("type", "hvc")
    else:
        bootloader = root.find("bootloader")
        root.remove(bootloader)
        root.insert(list(root).index(root.find("os")) + 1, bootloader)
    status, output = validate(ET.tostring(root, encoding="unicode"), tmp_path, "broken.xml")
    assert status != 0, output
    assert "fails to validate" in output or "error" in output.lower()


# ---- editing an existing Xen guest ----------------------------------------------------------
@needs_validator
def test_edits_keep_a_valid_xen_definition(tmp_path):
    text = built(create_plan(xen=dict(KERNEL, mode="pv")))
    after = {"xen": {"mode": "pv", "kernel": "/boot/vmlinuz-new", "initrd": None, "cmdline": "console=hvc0",
                     "bootloader": None, "bootloader_args": None},
             "disks": domain_xml.parse(text)["disks"] + [
                 {"target": "xvdc", "bus": "xen", "pool": "vms", "volume": "xv1-xvdc.qcow2",
                  "path": "/var/lib/vms/xv1-xvdc.qcow2", "format": "qcow2", "serial": None, "readonly": False}],
             "cdrom": {"pool": "isos", "volume": "debian-12.iso", "path": "/var/lib/isos/debian-12.iso"},
             "nics": [{"network": "lab", "mac": None, "model": "netfront"}] * 2,
             "console_log": None, "graphics": {"type": "none", "listen": None}, "guest_agent": False}
    after["disks"][1] = dict(after["disks"][1], source_type="block")
    edited = domain_xml.edit(text, after, domain_xml.parse(text)["meta"])
    assert_valid(edited, tmp_path)
    root = ET.fromstring(edited)
    assert root.findtext("os/kernel") == "/boot/vmlinuz-new" and root.find("os/initrd") is None
    assert root.findtext("os/cmdline") == "console=hvc0"
    assert drive(root, "xvdc").find("source").get("file") == "/var/lib/vms/xv1-xvdc.qcow2"
    assert root.find("devices/graphics") is None and root.find("devices/serial") is None
    assert len(root.findall("devices/console")) == 1
    state = domain_xml.parse(edited)
    assert [(d["target"], d["volume"]) for d in state["disks"]] == [
        ("xvda", "xv1-xvda.qcow2"), ("xvdb", "data"), ("xvdc", "xv1-xvdc.qcow2")]
    assert state["cdrom"] == {"pool": "isos", "volume": "debian-12.iso"}
    assert state["seed"]["volume"] == "xv1-cidata.iso"  # untouched, still known by its volume


@needs_validator
def test_switching_a_pv_guest_to_pygrub_in_place(tmp_path):
    text = built(create_plan(xen=dict(KERNEL, mode="pv")))
    xen = {"mode": "pv", "kernel": None, "initrd": None, "cmdline": None, "bootloader": "/usr/bin/pygrub",
           "bootloader_args": None}
    edited = domain_xml.edit(text, {"xen": xen}, domain_xml.parse(text)["meta"])
    assert_valid(edited, tmp_path)
    assert domain_xml.parse(edited)["xen"] == xen


def test_boot_settings_are_a_restart_change_and_the_mode_is_create_only():
    text = built(create_plan(xen=dict(KERNEL, mode="pv")))
    plan = plan_of(PLANNER.normalize(params(**base(xen=dict(KERNEL, mode="pv", cmdline="console=hvc0 quiet")))),
                   existing_world(text))
    assert [(c.path, c.effect) for c in plan.changes] == [("xen", RESTART)]
    assert plan.facts["reboot_required"]
    with pytest.raises(Conflict) as err:
        plan_of(PLANNER.normalize(params(**base(xen=dict(KERNEL, mode="pvh")))), existing_world(text))
    assert "xen.mode is create-only" in str(err.value)
    plan = plan_of(PLANNER.normalize(params(**base(xen=dict(KERNEL, mode="pvh"), recreate=True))),
                   existing_world(text))
    assert [(c.path, c.effect) for c in plan.changes] == [("xen.mode", REPLACE)]
    assert plan.desired["machine"] == "xenpvh"


def test_nic_hot_plug_on_xen_is_pv_only():
    text = built(create_plan())  # HVM
    more = [{"network": "lab"}, {"network": "lab", "model": "netfront"}, {"network": "lab", "model": "e1000"}]
    plan = plan_of(PLANNER.normalize(params(**base(nics=more))), existing_world(text))
    assert [(c.path, c.op, c.effect) for c in plan.changes] == [
        ("nics[1]", "add", LIVE), ("nics[2]", "add", RESTART)]


def test_xen_disks_hot_plug_and_ide_disks_wait_for_a_boot():
    text = built(create_plan())  # HVM: xvda, xvdb
    disks = base()["disks"] + [{"size": "1G"}, {"size": "10G", "bus": "ide"}]
    plan = plan_of(PLANNER.normalize(params(**base(disks=disks))), existing_world(text))
    assert [(c.path, c.op, c.effect) for c in plan.changes] == [
        ("disks[xvdc]", "add", LIVE), ("disks[hda]", "add", RESTART)]
    plan = plan_of(PLANNER.normalize(params(**base(disks=base()["disks"][:1]))), existing_world(text))
    assert [(c.path, c.op, c.effect) for c in plan.changes] == [("disks[xvdb]", "remove", LIVE)]


def test_growing_a_disk_needs_a_stopped_xen_guest():
    text = built(create_plan())
    bigger = [{"image": "debian.qcow2", "image_pool": "images", "size": "20G"}, {"volume": "data", "pool": "vg0"}]
    with pytest.raises(InvalidSpec) as err:
        plan_of(PLANNER.normalize(params(**base(disks=bigger))), existing_world(text))
    assert "running guest" in dict(err.value.problems)["disks[xvda].size"]
    stopped = existing_world(text)
    stopped.current["state"] = "stopped"
    plan = plan_of(PLANNER.normalize(params(**base(disks=bigger, state="stopped"))), stopped)
    assert [(c.path, c.effect) for c in plan.changes] == [("disks[xvda].size", LIVE)]


def test_cd_changes_are_live_on_hvm_only():
    for mode, effect in (("hvm", LIVE), ("pv", RESTART)):
        xen = {"mode": "hvm"} if mode == "hvm" else dict(KERNEL, mode="pv")
        text = built(create_plan(xen=xen, cdrom={}))
        plan = plan_of(PLANNER.normalize(params(**base(xen=xen, cdrom={"path": "/srv/x.iso"}))), existing_world(text))
        assert [(c.path, c.effect) for c in plan.changes] == [("cdrom", effect)], mode


# ---- choosing Xen ----------------------------------------------------------------------------
@pytest.mark.parametrize("uri, xen", [
    ("xen:///system", True), ("xen+ssh://root@hv1/system", True), ("xen+tls://hv1/system", True),
    ("libxl:///system", True), ("XEN:///system", True), ("qemu:///system", False),
    ("qemu+ssh://hv1/system", False), ("xenapi://hv1", False), (None, False), ("", False),
])
def test_xen_uris(uri, xen):
    assert is_xen_uri(uri) is xen


@pytest.mark.parametrize("uri", ["xen:///system", "xen+ssh://root@hv1/system", "libxl:///system"])
def test_auto_on_a_xen_uri_is_xen_before_the_host_is_asked(uri):
    desired = PLANNER.normalize(params(uri=uri, **base()))
    assert desired["xen"]["mode"] == "hvm"
    assert [d["target"] for d in desired["disks"]] == ["xvda", "xvdb"]
    assert [d["bus"] for d in desired["disks"]] == ["xen", "xen"]
    assert desired["nics"][0]["model"] == "rtl8139" and desired["guest_agent"] is False


def test_auto_on_a_host_found_to_be_xen_is_normalized_again_with_xens_rules():
    # a stack's resources (or LIBVIRT_DEFAULT_URI) do not name the URI: the driver finds Xen
    desired = PLANNER.normalize(params(uri=None, **base()))
    assert desired["xen"] is None and desired["disks"][0]["target"] == "vda"
    again = host_desired(desired, "xen")
    assert again["xen"]["mode"] == "hvm" and [d["target"] for d in again["disks"]] == ["xvda", "xvdb"]
    assert again["disks"][0]["volume"] == "xv1-xvda.qcow2"
    plan = plan_of(desired, world())
    assert plan.desired["virt_type"] == "xen" and plan.desired["machine"] == "xenfv"
    assert "virtio" not in built(plan)
    assert host_desired(desired, "qemu") is desired


def test_the_kvm_probe_is_not_asked_on_xen_and_plans_say_xen():
    plan = create_plan(uri=None, w=world(virt_type="xen", hypervisor=None))
    assert plan.desired["virt_type"] == "xen"
    assert "define instance xv1 (xen, xenfv" in plan.notes[0]


def test_kvm_or_qemu_on_xen_and_xen_elsewhere_are_refused():
    assert "Xen URI" in problems(**base(virt_type="kvm"))["virt_type"]
    assert "this Xen host" in problems(uri=None, **base(virt_type="qemu"))["virt_type"]
    qemu_host = world(hypervisor="qemu", virt_type="kvm")
    found = problems(uri="qemu:///system", w=qemu_host, **base(virt_type="xen"))
    assert "needs a Xen host" in found["virt_type"] and "hypervisor is qemu" in found["virt_type"]
    found = problems(uri="qemu:///system", w=qemu_host, **base(xen={"mode": "pv", "bootloader": "/usr/bin/pygrub"}))
    assert "needs a Xen host" in found["xen"]
    found = problems(uri="qemu:///system", **base(virt_type="kvm", xen={"mode": "hvm"}))
    assert "Xen guests only" in found["xen"]


# ---- what Xen cannot do is refused before anything changes, naming the field ---------------
REFUSED = [
    ({"guest_agent": True}, "guest_agent", "virtio-serial"),
    ({"wait_for": "agent"}, "wait_for", "no guest agent"),
    ({"cpu": {"mode": "host-model"}}, "cpu.mode", "host-passthrough"),
    ({"cpu": {"mode": "custom", "model": "Skylake-Server"}}, "cpu.mode", "host-passthrough"),
    ({"firmware": "uefi", "secure_boot": True}, "secure_boot", "no secure boot"),
    ({"machine": "q35"}, "machine", "xen.mode"),
    ({"console_log": "/var/log/xv1.log"}, "console_log", "xenconsoled"),
    ({"disks": [{"size": "1G", "bus": "virtio"}]}, "disks[0].bus", "does not exist on Xen"),
    ({"disks": [{"size": "1G", "bus": "sata"}]}, "disks[0].bus", "does not exist on Xen"),
    ({"disks": [{"size": "1G", "serial": "abc"}]}, "disks[0].serial", "no serial"),
    ({"disks": [{"size": "1G", "target": "vda"}]}, "disks[0].target", "not a xen target"),
    ({"disks": [{"size": "1G", "target": "xvdy"}]}, "disks[0].target", "reserved"),
    ({"disks": [{"size": "1G", "bus": "ide", "target": "hdc"}]}, "disks[0].target", "reserved"),
    ({"nics": [{"network": "lab", "model": "virtio"}]}, "nics[0].model", "rtl8139 or e1000 or netfront"),
    ({"nics": [{"network": "lab", "model": "e1000e"}]}, "nics[0].model", "does not exist"),
    # PV and PVH
    ({"xen": {"mode": "pv"}}, "xen", "pygrub"),
    ({"xen": {"mode": "pvh"}}, "xen.kernel", "required with mode: pvh"),
    ({"xen": {"mode": "pvh", "kernel": "/k", "bootloader": "/usr/bin/pygrub"}}, "xen.bootloader", "PV guests"),
    ({"xen": {"mode": "hvm", "bootloader": "/usr/bin/pygrub"}}, "xen.bootloader", "PV guests"),
    ({"xen": {"mode": "pv", "kernel": "/k", "bootloader": "/usr/bin/pygrub"}}, "xen.bootloader", "not both"),
    ({"xen": {"mode": "pv", "bootloader": "/usr/bin/pygrub", "cmdline": "quiet"}}, "xen.cmdline", "xen.kernel"),
    ({"xen": {"mode": "pv", "kernel": "/k", "bootloader_args": "-q"}}, "xen.bootloader_args", "xen.bootloader"),
    ({"xen": {"mode": "pv", "kernel": "vmlinuz"}}, "xen.kernel", "absolute path"),
    ({"xen": {"mode": "pv", "kernel": "/k"}, "firmware": "bios"}, "firmware", "no firmware"),
    ({"xen": {"mode": "pvh", "kernel": "/k"}, "boot": ["hd"]}, "boot", "no boot device order"),
    ({"xen": {"mode": "pv", "kernel": "/k"}, "graphics": {"type": "spice"}}, "graphics.type", "HVM"),
    ({"xen": {"mode": "pv", "kernel": "/k"}, "disks": [{"size": "1G", "bus": "ide"}]}, "disks[0].bus", "HVM"),
    ({"xen": {"mode": "pv", "kernel": "/k"}, "nics": [{"network": "lab", "model": "e1000"}]},
     "nics[0].model", "use netfront"),
    ({"disks": [{"size": "1G", "bus": "ide", "target": "hdb"}, {"size": "1G", "bus": "ide", "target": "hde"}]},
     "disks[1].target", "hda and hdb"),
]


@pytest.mark.parametrize("given, field, text", REFUSED, ids=["%s-%d" % (r[1], i) for i, r in enumerate(REFUSED)])
def test_what_xen_cannot_do_is_refused_naming_the_field(given, field, text):
    found = problems(**base(**given))
    assert field in found, found
    assert text in found[field], found[field]


def test_non_xen_guests_refuse_xen_devices():
    found = problems(uri="qemu:///system", w=world(hypervisor="qemu", virt_type="kvm"), name="vm1",
                     disks=[{"size": "1G", "bus": "xen"}], nics=[{"network": "lab", "model": "netfront"}])
    assert "Xen guests" in found["disks[0].bus"] and "Xen PV NIC" in found["nics[0].model"]


def test_xen_results_show_the_boot_settings_and_kvm_results_do_not():
    plan = create_plan(xen=dict(KERNEL, mode="pv"))
    assert plan.after["xen"]["mode"] == "pv" and plan.after["virt_type"] == "xen"
    assert ("xen", {"mode": "pv", **KERNEL, "bootloader": None, "bootloader_args": None}) in [
        (c.path, c.after) for c in plan.changes]
    kvm = plan_of(PLANNER.normalize(params(uri="qemu:///system", **base(name="vm1", graphics=None))),
                  world(hypervisor="qemu", virt_type="kvm", volumes=dict(VOLUMES)))
    assert "xen" not in kvm.after and "_params" not in kvm.after


def test_params_kept_for_renormalizing_never_reach_results():
    desired = PLANNER.normalize(params(**base()))
    assert "_params" in desired
    assert "_params" not in PLANNER.public(copy.deepcopy(desired))


# ---- the driver's Xen reads, with a stand-in connection ---------------------------------------
XEN_CAPS = """<capabilities><host><cpu><arch>x86_64</arch></cpu></host>
  <guest><os_type>xen</os_type><arch name="x86_64"><machine>xenpv</machine><domain type="xen"/></arch></guest>
  <guest><os_type>xenpvh</os_type><arch name="x86_64"><machine>xenpvh</machine><domain type="xen"/></arch></guest>
  <guest><os_type>hvm</os_type><arch name="x86_64"><loader>%s</loader><machine>xenfv</machine>
    <domain type="xen"/></arch></guest>
</capabilities>""" % HVMLOADER


class FakeConn(object):
    def __init__(self, uri="xen:///system", kind="Xen", caps=XEN_CAPS):
        self.uri, self.kind, self.caps = uri, kind, caps

    def getURI(self):
        return self.uri

    def getType(self):
        return self.kind

    def getCapabilities(self):
        return self.caps


def driver(**kwargs):
    pytest.importorskip("libvirt")
    from ansible_collections.converge.virt.plugins.module_utils.libvirt.instance import InstanceDriver
    return InstanceDriver(FakeConn(**kwargs))


@pytest.mark.parametrize("uri, kind, expected", [
    ("xen:///system", "Xen", "xen"), ("xen+ssh://root@hv1/system", "Xen", "xen"),
    ("qemu+unix:///system?socket=/x", "Xen", "xen"), ("qemu:///system", "QEMU", "qemu"),
])
def test_the_driver_tells_a_xen_host(uri, kind, expected):
    assert driver(uri=uri, kind=kind).hypervisor() == expected


def test_virt_type_auto_on_xen_capabilities_is_xen_without_a_kvm_probe():
    drv = driver()
    drv._kvm_boots = lambda kernel: pytest.fail("no KVM probe on Xen")
    assert drv.resolve_virt_type() == "xen"
    assert drv._xen_loader() == HVMLOADER
    assert driver(caps=XEN_CAPS.replace("<loader>%s</loader>" % HVMLOADER, ""))._xen_loader() is None


class FakeDom(object):
    def __init__(self, xml):
        self.xml, self.undefined, self.shutdown = xml, None, None

    def name(self):
        return "xv1"

    def isActive(self):
        return False

    def isPersistent(self):
        return True

    def hasManagedSaveImage(self, flags):
        return False

    def listAllSnapshots(self, flags):
        pytest.fail("libvirt's Xen driver has no snapshots")

    def undefineFlags(self, flags):
        self.undefined = flags

    def XMLDesc(self, flags):
        return self.xml


def test_deleting_a_xen_guest_uses_only_the_undefine_flags_the_xen_driver_takes():
    import libvirt  # pylint: disable=import-outside-toplevel
    drv = driver()
    dom = FakeDom(built(create_plan()))
    drv._undefine(dom, {})
    assert dom.undefined == libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE


@pytest.mark.parametrize("xen, flags", [
    ({"mode": "pv", "bootloader": "/usr/bin/pygrub"}, ("PARAVIRT",)),
    ({"mode": "pvh", "kernel": "/k"}, ("PARAVIRT",)),
    ({"mode": "hvm"}, ("PARAVIRT", "ACPI_POWER_BTN")),
])
def test_xen_guests_are_asked_to_shut_down_the_xen_way(xen, flags):
    import libvirt  # pylint: disable=import-outside-toplevel
    expected = 0
    for flag in flags:
        expected |= getattr(libvirt, "VIR_DOMAIN_SHUTDOWN_" + flag)
    assert driver()._shutdown_flags(FakeDom(built(create_plan(xen=xen)))) == expected
