# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the instance's libvirt domain XML: build, parse, edit, metadata and
xml_overrides.  Pure XML: no libvirt connection (the schema check runs virt-xml-validate when
the host has it, and is skipped otherwise)."""

from __future__ import annotations

import copy
import pathlib
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.converge.virt.plugins.module_utils.libvirt import domain_xml
from ansible_collections.converge.virt.plugins.module_utils.libvirt.domain_xml import (
    AGENT_CHANNEL, NS, PENDING_NS,
)
from ansible_collections.converge.virt.plugins.module_utils.resources import instance as spec_rules

GIB = 1024 ** 3
MIB = 1024 ** 2
SHA = "fb7481fa55b0d4369e1d01d559cba2db8aafc720d8eecd2b462c64c143dfe001"
MAC = "52:54:00:45:f0:6e"
FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "q35-domain.xml"

# `virsh dumpxml --inactive` of a q35 instance the collection defined (trimmed: fewer root ports),
# as libvirt 9.0 returns it: versioned machine, default CPU model, controllers, addresses, a
# generated MAC, the console log copied to <console>, input and audio devices, no vcpu current.
SMOKE_XML = FIXTURE.read_text()  # shared with the planner tests

# An i440fx (pc) instance in libvirt's expanded form: CD-ROM and seed on IDE (hdc, hdd), a
# referenced data disk with a serial, VNC graphics with libvirt's listen attribute and video.
PC_XML = """
<domain type='kvm'>
  <name>vm-pc</name>
  <uuid>eae5d2f3-8cb5-474f-9e77-8982280cb6af</uuid>
  <metadata>
    <cv:instance xmlns:cv="https://converge-virt.github.io/xmlns/instance/1">
      <cv:spec machine="pc" virt_type="kvm"/>
      <cv:owned pool="vms" volume="vm-pc-vda.qcow2"/>
      <cv:seed pool="vms" volume="vm-pc-cidata.iso" sha256="%(sha)s"/>
    </cv:instance>
  </metadata>
  <memory unit='KiB'>2097152</memory>
  <currentMemory unit='KiB'>1048576</currentMemory>
  <vcpu placement='static' current='2'>4</vcpu>
  <os>
    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>
    <boot dev='cdrom'/>
    <boot dev='hd'/>
    <bios useserial='yes'/>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <cpu mode='host-passthrough' check='none' migratable='on'/>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='volume' device='disk'>
      <driver name='qemu' type='qcow2' discard='unmap'/>
      <source pool='vms' volume='vm-pc-vda.qcow2'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>
    </disk>
    <disk type='volume' device='disk'>
      <driver name='qemu' type='raw' discard='unmap'/>
      <source pool='data' volume='shared.img'/>
      <target dev='vdb' bus='virtio'/>
      <serial>cvt-data</serial>
      <readonly/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/srv/iso/debian-12.iso'/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
      <address type='drive' controller='0' bus='1' target='0' unit='0'/>
    </disk>
    <disk type='volume' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source pool='vms' volume='vm-pc-cidata.iso'/>
      <target dev='hdd' bus='ide'/>
      <readonly/>
      <address type='drive' controller='0' bus='1' target='0' unit='1'/>
    </disk>
    <controller type='usb' index='0' model='piix3-uhci'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x2'/>
    </controller>
    <controller type='pci' index='0' model='pci-root'/>
    <controller type='ide' index='0'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x1'/>
    </controller>
    <interface type='network'>
      <mac address='52:54:00:F9:F7:BC'/>
      <source network='lab'/>
      <model type='e1000'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
    </interface>
    <serial type='pty'>
      <target type='isa-serial' port='0'>
        <model name='isa-serial'/>
      </target>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
    <input type='mouse' bus='ps2'/>
    <input type='keyboard' bus='ps2'/>
    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'>
      <listen type='address' address='127.0.0.1'/>
    </graphics>
    <audio id='1' type='none'/>
    <video>
      <model type='virtio' heads='1' primary='yes'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>
    </video>
    <memballoon model='virtio'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x06' function='0x0'/>
    </memballoon>
  </devices>
</domain>
""" % {"sha": SHA}

# UEFI with Secure Boot as libvirt fills it in (firmware auto-selection: loader and nvram paths).
UEFI_OS = """
  <os firmware='efi'>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <firmware>
      <feature enabled='yes' name='enrolled-keys'/>
      <feature enabled='%(secure)s' name='secure-boot'/>
    </firmware>
    <loader readonly='yes' secure='%(secure)s' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.ms.fd</loader>
    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.ms.fd'>/var/lib/libvirt/qemu/nvram/vm1_VARS.fd</nvram>
    <boot dev='hd'/>
    <bios useserial='yes'/>
  </os>
"""


def disk(**overrides):
    result = {"target": "vda", "bus": "virtio", "pool": "vms", "volume": "vm1-vda.qcow2", "path": None,
              "format": "qcow2", "serial": None, "readonly": False, "owned": True, "size": 10 * GIB}
    result.update(overrides)
    return result


def nic(**overrides):
    result = {"network": "lab", "mac": None, "model": "virtio"}
    result.update(overrides)
    return result


def meta(**overrides):
    result = {"machine": "q35", "virt_type": "kvm", "pool": "vms", "owned": [{"pool": "vms", "volume": "vm1-vda.qcow2"}],
              "seed": None, "overrides": []}
    result.update(overrides)
    return result


def spec(**overrides):
    """A full spec as the planner hands it to build(): defaults filled in, virt_type resolved."""
    result = {
        "name": "vm1", "state": "running", "virt_type": "kvm", "machine": "q35", "firmware": "bios",
        "secure_boot": False, "vcpus": 2, "max_vcpus": 4, "memory": GIB, "max_memory": 2 * GIB,
        "cpu": None, "boot": ["hd"], "disks": [disk()], "cdrom": None, "seed": None, "nics": [nic()],
        "console_log": "/var/log/libvirt/qemu/vm1-console.log", "graphics": {"type": "none", "listen": None},
        "guest_agent": True, "autostart": False, "xml_overrides": [], "hotplug_slots": 4, "meta": meta(),
    }
    result.update(overrides)
    return result


def roundtrip(**overrides):
    return domain_xml.parse(domain_xml.build(spec(**overrides)))


def devices(text, tag):
    return ET.fromstring(text).findall("devices/" + tag)


def by_target(text, target):
    for elem in ET.fromstring(text).findall("devices/disk"):
        if elem.find("target") is not None and elem.find("target").get("dev") == target:
            return elem
    return None


def address_of(elem):
    address = elem.find("address")
    return dict(address.attrib) if address is not None else None


def disk_view(state_disk):
    return dict((k, state_disk[k]) for k in ("target", "bus", "pool", "volume", "format", "serial", "readonly"))


def nic_view(state_nic):
    return dict((k, state_nic[k]) for k in ("network", "mac", "model"))


# ---- small helpers -----------------------------------------------------------------------
@pytest.mark.parametrize("machine, bus", [("q35", "sata"), ("pc-q35-7.2", "sata"), ("pc", "ide"),
                                          ("pc-i440fx-7.2", "ide"), (None, "sata")])
def test_cdrom_bus_follows_the_machine(machine, bus):
    assert domain_xml.cdrom_bus(machine) == bus


@pytest.mark.parametrize("bus, index, name", [("virtio", 0, "vda"), ("virtio", 25, "vdz"), ("virtio", 26, "vdaa"),
                                              ("virtio", 27, "vdab"), ("virtio", 701, "vdzz"),
                                              ("virtio", 702, "vdaaa"), ("sata", 1, "sdb"), ("scsi", 0, "sda"),
                                              ("usb", 2, "sdc"), ("ide", 3, "hdd"), ("other", 0, "vda")])
def test_target_names_follow_the_kernel(bus, index, name):
    assert spec_rules.target_name(bus, index) == name


@pytest.mark.parametrize("want, have, result", [
    ("q35", "pc-q35-7.2", True), ("q35", "q35", True), ("pc", "pc-i440fx-7.2", True),
    ("pc-q35-7.2", "pc-q35-7.2", True), (None, "pc-q35-7.2", True), (None, None, True),
    ("q35", "pc-i440fx-7.2", False), ("pc", "pc-q35-7.2", False), ("pc-q35-7.2", "pc-q35-8.0", False),
    ("q35", None, False), ("pc", "pc-q35-7.2", False),
])
def test_machine_aliases_match_libvirts_expansion(want, have, result):
    assert spec_rules.machine_matches(want, have) is result


# ---- build -> parse round trip -----------------------------------------------------------
def test_round_trip_of_the_basic_fields():
    state = roundtrip()
    assert state["name"] == "vm1" and state["uuid"] is None
    assert state["virt_type"] == "kvm" and state["machine"] == "q35"
    assert (state["vcpus"], state["max_vcpus"]) == (2, 4)
    assert (state["memory"], state["max_memory"]) == (GIB, 2 * GIB)
    assert state["firmware"] == "bios" and state["secure_boot"] is False and state["nvram"] is None
    assert state["cpu"] is None
    assert state["boot"] == ["hd"]
    assert state["cdrom"] is None and state["seed"] is None
    assert state["guest_agent"] is True
    assert state["graphics"] == {"type": "none", "listen": None}
    assert state["console_log"] == "/var/log/libvirt/qemu/vm1-console.log"


@pytest.mark.parametrize("firmware, secure", [("bios", False), ("uefi", False), ("uefi", True)])
def test_round_trip_of_the_firmware(firmware, secure):
    state = roundtrip(firmware=firmware, secure_boot=secure)
    assert state["firmware"] == firmware and state["secure_boot"] is secure


def test_secure_boot_asks_for_enrolled_keys_and_smm():
    root = ET.fromstring(domain_xml.build(spec(firmware="uefi", secure_boot=True)))
    assert root.find("os").get("firmware") == "efi"
    features = dict((f.get("name"), f.get("enabled")) for f in root.findall("os/firmware/feature"))
    assert features == {"secure-boot": "yes", "enrolled-keys": "yes"}
    assert root.find("features/smm").get("state") == "on"
    assert root.find("os/loader") is None  # libvirt picks the firmware files


def test_uefi_without_secure_boot_disables_it_explicitly():
    root = ET.fromstring(domain_xml.build(spec(firmware="uefi", secure_boot=False)))
    features = dict((f.get("name"), f.get("enabled")) for f in root.findall("os/firmware/feature"))
    assert features == {"secure-boot": "no"}
    assert root.find("features/smm") is None


def test_bios_has_no_firmware_elements():
    root = ET.fromstring(domain_xml.build(spec()))
    assert root.find("os").get("firmware") is None and root.find("os/firmware") is None


@pytest.mark.parametrize("secure, expected", [("yes", True), ("no", False)])
def test_parse_of_libvirts_expanded_uefi(secure, expected):
    text = SMOKE_XML.replace("""  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <boot dev='hd'/>
    <bios useserial='yes'/>
  </os>
""", UEFI_OS % {"secure": secure})
    assert "firmware='efi'" in text
    state = domain_xml.parse(text)
    assert state["firmware"] == "uefi" and state["secure_boot"] is expected
    assert state["nvram"] == "/var/lib/libvirt/qemu/nvram/vm1_VARS.fd"
    assert state["boot"] == ["hd"]


def test_parse_of_a_loader_without_the_firmware_attribute_is_uefi():
    text = SMOKE_XML.replace("<boot dev='hd'/>", "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd"
                                                 "</loader><boot dev='hd'/>")
    state = domain_xml.parse(text)
    assert state["firmware"] == "uefi" and state["secure_boot"] is False


def test_disks_are_volumes_of_pools_with_serial_and_readonly():
    disks = [disk(), disk(target="vdb", pool="data", volume="shared.img", format="raw", serial="cvt-data",
                          readonly=True, owned=False),
             disk(target="sda", bus="sata", volume="vm1-sda.qcow2")]
    text = domain_xml.build(spec(disks=disks))
    vdb = by_target(text, "vdb")
    assert vdb.get("type") == "volume" and vdb.get("device") == "disk"
    assert vdb.find("source").attrib == {"pool": "data", "volume": "shared.img"}
    assert vdb.find("driver").get("type") == "raw"
    assert vdb.find("serial").text == "cvt-data" and vdb.find("readonly") is not None
    assert by_target(text, "vda").find("serial") is None and by_target(text, "vda").find("readonly") is None
    state = domain_xml.parse(text)
    assert [disk_view(d) for d in state["disks"]] == [disk_view(d) for d in disks]
    assert all(d["path"] is None for d in state["disks"])


def test_disk_format_defaults_to_qcow2():
    text = domain_xml.build(spec(disks=[disk(format=None)]))
    assert by_target(text, "vda").find("driver").get("type") == "qcow2"


def test_no_disks():
    assert roundtrip(disks=[])["disks"] == []


def test_parse_reads_file_and_block_disks_it_did_not_write():
    text = SMOKE_XML.replace(
        "<source pool='cvt-smoke' volume='cvt-smoke-vm-vda.qcow2'/>", "<source file='/srv/vm/disk.qcow2'/>").replace(
        "<disk type='volume' device='disk'>", "<disk type='file' device='disk'>")
    vda = domain_xml.parse(text)["disks"][0]
    assert vda["path"] == "/srv/vm/disk.qcow2" and vda["pool"] is None and vda["volume"] is None


def test_cdrom_on_q35_is_sata_sde():
    text = domain_xml.build(spec(cdrom={"path": "/srv/iso/debian-12.iso"}))
    sde = by_target(text, "sde")
    assert sde.get("device") == "cdrom" and sde.find("target").get("bus") == "sata"
    assert sde.find("source").get("file") == "/srv/iso/debian-12.iso" and sde.find("readonly") is not None
    state = domain_xml.parse(text)
    assert state["cdrom"] == {"path": "/srv/iso/debian-12.iso"}
    assert state["disks"] == [] or all(d["target"] != "sde" for d in state["disks"])


def test_cdrom_on_pc_is_ide_hdc():
    text = domain_xml.build(spec(machine="pc", cdrom={"pool": "isos", "volume": "debian-12.iso"},
                                 meta=meta(machine="pc")))
    hdc = by_target(text, "hdc")
    assert hdc.get("type") == "volume" and hdc.find("target").get("bus") == "ide"
    assert hdc.find("source").attrib == {"pool": "isos", "volume": "debian-12.iso"}
    assert domain_xml.parse(text)["cdrom"] == {"pool": "isos", "volume": "debian-12.iso"}


def test_empty_cdrom_drive_and_no_drive():
    text = domain_xml.build(spec(cdrom={}))
    sde = by_target(text, "sde")
    assert sde is not None and sde.find("source") is None
    assert domain_xml.parse(text)["cdrom"] == {}
    assert by_target(domain_xml.build(spec(cdrom=None)), "sde") is None


@pytest.mark.parametrize("machine, cdrom_target, seed_target", [("q35", "sde", "sdf"), ("pc", "hdc", "hdd")])
def test_seed_drive_is_reported_apart_from_the_cdrom(machine, cdrom_target, seed_target):
    seed = {"pool": "vms", "volume": "vm1-cidata.iso"}
    text = domain_xml.build(spec(machine=machine, cdrom={"path": "/srv/iso/x.iso"}, seed=seed,
                                 meta=meta(machine=machine, seed=dict(seed, sha256=SHA))))
    assert by_target(text, seed_target).find("source").attrib == seed
    state = domain_xml.parse(text)
    assert state["cdrom"] == {"path": "/srv/iso/x.iso"}
    assert state["seed"] == dict(seed, target=seed_target)
    assert by_target(text, cdrom_target) is not None


def test_seed_without_a_cdrom_leaves_no_cdrom():
    seed = {"pool": "vms", "volume": "vm1-cidata.iso"}
    state = roundtrip(seed=seed, meta=meta(seed=dict(seed, sha256=SHA)))
    assert state["cdrom"] is None and state["seed"]["volume"] == "vm1-cidata.iso"


def test_a_cdrom_at_the_seed_target_without_seed_metadata_is_the_cdrom():
    text = domain_xml.build(spec(seed={"pool": "isos", "volume": "x.iso"}, meta=meta(seed=None)))
    state = domain_xml.parse(text)
    assert state["seed"] is None and state["cdrom"] == {"pool": "isos", "volume": "x.iso"}
    state = domain_xml.parse(text, seed_targets=["sdf"])
    assert state["seed"] == {"pool": "isos", "volume": "x.iso", "target": "sdf"} and state["cdrom"] is None


def test_nics_with_and_without_mac():
    nics = [nic(mac=MAC), nic(network="other", model="e1000")]
    text = domain_xml.build(spec(nics=nics))
    elems = devices(text, "interface")
    assert elems[0].find("mac").get("address") == MAC and elems[1].find("mac") is None
    assert [e.find("source").get("network") for e in elems] == ["lab", "other"]
    assert [e.find("model").get("type") for e in elems] == ["virtio", "e1000"]
    assert [nic_view(n) for n in domain_xml.parse(text)["nics"]] == nics


def test_nic_macs_are_read_in_lower_case():
    assert domain_xml.parse(PC_XML)["nics"][0]["mac"] == "52:54:00:f9:f7:bc"


def test_console_log():
    text = domain_xml.build(spec(console_log="/var/log/vm1.log"))
    serial = devices(text, "serial")[0]
    assert serial.find("log").attrib == {"file": "/var/log/vm1.log", "append": "off"}
    assert devices(text, "console")[0].find("target").get("type") == "serial"
    assert domain_xml.parse(text)["console_log"] == "/var/log/vm1.log"


def test_no_console_log_keeps_the_serial_console():
    text = domain_xml.build(spec(console_log=None))
    assert devices(text, "serial")[0].find("log") is None and len(devices(text, "console")) == 1
    assert domain_xml.parse(text)["console_log"] is None


@pytest.mark.parametrize("graphics, listen", [({"type": "vnc", "listen": None}, "127.0.0.1"),
                                              ({"type": "spice", "listen": "0.0.0.0"}, "0.0.0.0"),
                                              ({"type": "vnc", "listen": "::1"}, "::1")])
def test_graphics_listen_and_video(graphics, listen):
    text = domain_xml.build(spec(graphics=graphics))
    elem = devices(text, "graphics")[0]
    assert elem.get("type") == graphics["type"] and elem.get("autoport") == "yes"
    assert elem.find("listen").attrib == {"type": "address", "address": listen}
    assert len(devices(text, "video")) == 1
    assert domain_xml.parse(text)["graphics"] == {"type": graphics["type"], "listen": listen}


@pytest.mark.parametrize("graphics", [None, {"type": "none", "listen": None}, {"type": None}])
def test_no_graphics_means_no_video(graphics):
    text = domain_xml.build(spec(graphics=graphics))
    assert devices(text, "graphics") == [] and devices(text, "video") == []
    assert domain_xml.parse(text)["graphics"] == {"type": "none", "listen": None}


def test_graphics_as_libvirt_expands_them():
    assert domain_xml.parse(PC_XML)["graphics"] == {"type": "vnc", "listen": "127.0.0.1"}
    legacy = PC_XML.replace("<listen type='address' address='127.0.0.1'/>", "")
    assert domain_xml.parse(legacy)["graphics"] == {"type": "vnc", "listen": "127.0.0.1"}


@pytest.mark.parametrize("agent", [True, False])
def test_guest_agent_channel(agent):
    text = domain_xml.build(spec(guest_agent=agent))
    names = [c.find("target").get("name") for c in devices(text, "channel")]
    assert names == ([AGENT_CHANNEL] if agent else [])
    assert domain_xml.parse(text)["guest_agent"] is agent


def test_other_channels_are_not_the_agent():
    text = SMOKE_XML.replace("org.qemu.guest_agent.0", "com.redhat.spice.0")
    assert domain_xml.parse(text)["guest_agent"] is False


@pytest.mark.parametrize("boot", [["hd"], ["cdrom", "hd"], ["network", "cdrom", "hd"], []])
def test_boot_order_comes_before_bios(boot):
    text = domain_xml.build(spec(boot=boot))
    os_children = [e.tag for e in ET.fromstring(text).find("os")]
    assert os_children == ["type"] + ["boot"] * len(boot) + ["bios"]
    assert domain_xml.parse(text)["boot"] == boot


@pytest.mark.parametrize("cpu, expected", [
    (None, None),
    ({"mode": "host-passthrough", "model": None}, {"mode": "host-passthrough", "model": None}),
    ({"mode": "host-model", "model": None}, {"mode": "host-model", "model": None}),
    ({"mode": "maximum", "model": None}, {"mode": "maximum", "model": None}),
    ({"mode": "custom", "model": "Skylake-Server"}, {"mode": "custom", "model": "Skylake-Server"}),
])
def test_cpu_round_trip(cpu, expected):
    assert roundtrip(cpu=cpu)["cpu"] == expected


def test_cpu_follows_features():
    tags = [e.tag for e in ET.fromstring(domain_xml.build(spec(cpu={"mode": "maximum"})))]
    assert tags.index("cpu") == tags.index("features") + 1


def test_vcpus_and_memory_in_kib():
    root = ET.fromstring(domain_xml.build(spec(vcpus=3, max_vcpus=8, memory=768 * MIB, max_memory=4 * GIB)))
    assert root.find("vcpu").text == "8" and root.find("vcpu").get("current") == "3"
    assert root.find("memory").attrib == {"unit": "KiB"} and root.find("memory").text == str(4 * GIB // 1024)
    assert root.find("currentMemory").text == str(768 * 1024)


@pytest.mark.parametrize("unit, value, expected", [("KiB", "1048576", GIB), ("MiB", "1024", GIB), ("GiB", "1", GIB),
                                                   ("b", "1073741824", GIB), ("bytes", "1073741824", GIB),
                                                   ("G", "2", 2 * GIB), ("MB", "1000", 10 ** 9)])
def test_memory_units_libvirt_may_write(unit, value, expected):
    text = SMOKE_XML.replace("<currentMemory unit='KiB'>131072</currentMemory>", "").replace(
        "<memory unit='KiB'>131072</memory>", "<memory unit='%s'>%s</memory>" % (unit, value))
    state = domain_xml.parse(text)
    assert state["memory"] == expected and state["max_memory"] == expected


def test_vcpu_without_current_is_all_of_them():
    state = domain_xml.parse(SMOKE_XML)
    assert state["vcpus"] == 1 and state["max_vcpus"] == 1
    state = domain_xml.parse(PC_XML)
    assert state["vcpus"] == 2 and state["max_vcpus"] == 4


def root_ports(text):
    return len([c for c in devices(text, "controller") if c.get("model") == "pcie-root-port"])


def test_hotplug_root_ports_on_q35_only():
    text = domain_xml.build(spec(hotplug_slots=3))
    models = [c.get("model") for c in devices(text, "controller")]
    assert models[0] == "pcie-root" and set(models[1:]) == {"pcie-root-port"}
    # one per PCIe device the definition has (libvirt takes these first) plus the spare ones
    assert root_ports(text) >= 3 + len(spec()["disks"]) + len(spec()["nics"])
    assert root_ports(domain_xml.build(spec(hotplug_slots=5))) == root_ports(text) + 2
    more = domain_xml.build(spec(hotplug_slots=3, nics=[nic(), nic()], disks=[disk(), disk(target="vdb")]))
    assert root_ports(more) == root_ports(text) + 2
    text = domain_xml.build(spec(machine="pc", hotplug_slots=3, meta=meta(machine="pc")))
    assert devices(text, "controller") == []
    assert devices(domain_xml.build(spec(hotplug_slots=0)), "controller")[0].get("model") == "pcie-root"


def test_lifecycle_and_memballoon():
    root = ET.fromstring(domain_xml.build(spec()))
    assert [root.find(t).text for t in ("on_poweroff", "on_reboot", "on_crash")] == ["destroy", "restart", "destroy"]
    assert root.find("devices/memballoon").get("model") == "virtio"
    assert root.find("os/bios").get("useserial") == "yes"


# ---- metadata ------------------------------------------------------------------------------
def test_metadata_round_trip():
    seed = {"pool": "vms", "volume": "vm1-cidata.iso", "sha256": SHA}
    data = meta(owned=[{"pool": "vms", "volume": "vm1-vda.qcow2"}, {"pool": "fast", "volume": "vm1-vdb.qcow2"}],
                seed=seed, overrides=["./devices/watchdog"])
    text = domain_xml.build(spec(meta=data))
    holder = ET.fromstring(text).find("metadata/{%s}instance" % NS)
    assert holder is not None
    assert domain_xml.read_metadata(ET.fromstring(text)) == data
    state = domain_xml.parse(text)
    assert state["meta"] == data
    assert state["overrides_applied"] == ["./devices/watchdog"]


def test_machine_alias_is_kept_in_metadata():
    state = domain_xml.parse(SMOKE_XML)
    assert state["machine"] == "pc-q35-7.2"
    assert state["meta"]["machine"] == "q35" and state["meta"]["virt_type"] == "qemu"


def test_metadata_of_a_domain_the_collection_did_not_define():
    root = ET.fromstring("<domain><name>x</name></domain>")
    assert domain_xml.read_metadata(root) == {"machine": None, "virt_type": None, "pool": None, "owned": [],
                                              "seed": None, "overrides": []}


def test_metadata_without_a_recorded_pool_falls_back_to_the_pool_of_its_volumes():
    assert domain_xml.parse(SMOKE_XML)["meta"]["pool"] == "cvt-smoke"
    seed_only = SMOKE_XML.replace('<cv:owned pool="cvt-smoke" volume="cvt-smoke-vm-vda.qcow2"/>', "").replace(
        'cv:seed pool="cvt-smoke"', 'cv:seed pool="seeds"')
    assert domain_xml.parse(seed_only)["meta"]["pool"] == "seeds"
    recorded = SMOKE_XML.replace('virt_type="qemu"/>', 'virt_type="qemu" pool="main"/>')
    assert domain_xml.parse(recorded)["meta"]["pool"] == "main"
    nothing = SMOKE_XML.replace('<cv:owned pool="cvt-smoke" volume="cvt-smoke-vm-vda.qcow2"/>', "").replace(
        '<cv:seed pool="cvt-smoke" volume="cvt-smoke-vm-cidata.iso" sha256="%s"/>' % SHA, "")
    assert domain_xml.parse(nothing)["meta"]["pool"] is None


def test_set_metadata_replaces_the_collections_and_keeps_others():
    root = ET.fromstring(SMOKE_XML.replace("</metadata>", "<other xmlns='urn:x'><keep/></other></metadata>"))
    domain_xml.set_metadata(root, meta(owned=[], virt_type="kvm"))
    assert len(root.findall("metadata/{%s}instance" % NS)) == 1
    assert root.find("metadata/{urn:x}other/{urn:x}keep") is not None
    assert domain_xml.read_metadata(root)["owned"] == [] and domain_xml.read_metadata(root)["seed"] is None


def test_set_metadata_creates_the_metadata_element():
    root = ET.fromstring("<domain><name>x</name></domain>")
    domain_xml.set_metadata(root, meta())
    assert domain_xml.read_metadata(root)["owned"] == [{"pool": "vms", "volume": "vm1-vda.qcow2"}]


def test_pending_fields_round_trip():
    text = domain_xml.pending_xml(["max_memory", "cpu", "max_memory"])
    elem = ET.fromstring(text)
    assert elem.tag == "pending"  # virDomainSetMetadata refuses XML that declares its own namespace
    # libvirt returns it in the namespace given to setMetadata, children unqualified
    live = SMOKE_XML.replace("</metadata>", text.replace("<pending>", "<cvp:pending xmlns:cvp='%s'>" % PENDING_NS)
                             .replace("</pending>", "</cvp:pending>") + "</metadata>")
    assert domain_xml.read_pending(ET.fromstring(live)) == ["cpu", "max_memory"]
    assert domain_xml.read_pending(ET.fromstring(SMOKE_XML)) == []


def test_pending_as_libvirt_returns_it_with_a_prefix():
    live = SMOKE_XML.replace("</metadata>", "<cvp:pending xmlns:cvp='%s'><cvp:field name='boot'/></cvp:pending>"
                             "</metadata>" % PENDING_NS)
    assert domain_xml.read_pending(ET.fromstring(live)) == ["boot"]


# ---- parse of what libvirt returns ----------------------------------------------------------
def test_parse_of_libvirts_q35_definition():
    state = domain_xml.parse(SMOKE_XML)
    assert state["name"] == "cvt-smoke-vm" and state["uuid"] == "3e85ca70-e6ef-4462-ba5f-41d2f529eb30"
    assert state["virt_type"] == "qemu" and state["machine"] == "pc-q35-7.2"
    assert state["memory"] == 128 * MIB and state["max_memory"] == 128 * MIB
    assert state["cpu"] == {"mode": "custom", "model": "qemu64"}
    assert state["firmware"] == "bios" and state["boot"] == ["hd"]
    assert [disk_view(d) for d in state["disks"]] == [
        {"target": "vda", "bus": "virtio", "pool": "cvt-smoke", "volume": "cvt-smoke-vm-vda.qcow2",
         "format": "qcow2", "serial": None, "readonly": False}]
    assert state["cdrom"] is None
    assert state["seed"] == {"pool": "cvt-smoke", "volume": "cvt-smoke-vm-cidata.iso", "target": "sdf"}
    assert state["nics"] == [{"network": "cvt-smoke-net", "mac": MAC,
                              "model": "virtio"}]
    assert state["console_log"] == "/var/log/libvirt/qemu/cvt-smoke-vm-console.log"
    assert state["graphics"] == {"type": "none", "listen": None}
    assert state["guest_agent"] is True
    assert state["meta"]["owned"] == [{"pool": "cvt-smoke", "volume": "cvt-smoke-vm-vda.qcow2"}]
    assert state["meta"]["seed"]["sha256"] == SHA


def test_parse_of_libvirts_pc_definition():
    state = domain_xml.parse(PC_XML)
    assert state["machine"] == "pc-i440fx-7.2" and state["virt_type"] == "kvm"
    assert state["memory"] == GIB and state["max_memory"] == 2 * GIB
    assert state["cpu"] == {"mode": "host-passthrough", "model": None}
    assert state["boot"] == ["cdrom", "hd"]
    assert [d["target"] for d in state["disks"]] == ["vda", "vdb"]
    assert state["disks"][1]["serial"] == "cvt-data" and state["disks"][1]["readonly"] is True
    assert state["disks"][1]["format"] == "raw"
    assert state["cdrom"] == {"path": "/srv/iso/debian-12.iso"}
    assert state["seed"] == {"pool": "vms", "volume": "vm-pc-cidata.iso", "target": "hdd"}
    assert state["nics"][0]["model"] == "e1000"
    assert state["console_log"] is None
    assert state["guest_agent"] is False


def test_libvirts_additions_do_not_appear_in_the_state():
    state = domain_xml.parse(SMOKE_XML)
    text = repr(state)
    for extra in ("pcie-root-port", "qemu-xhci", "virtio-serial", "memballoon", "ps2", "0x04", "emulator"):
        assert extra not in text


# ---- build validates against libvirt's schema -----------------------------------------------
VALIDATOR = shutil.which("virt-xml-validate")


def _validate(text, tmp_path):
    path = tmp_path / "domain.xml"
    path.write_text(text)
    result = subprocess.run([VALIDATOR, str(path), "domain"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(VALIDATOR is None, reason="virt-xml-validate (libvirt-clients) is not installed")
@pytest.mark.parametrize("overrides", [
    {},
    {"firmware": "uefi", "secure_boot": True, "cpu": {"mode": "custom", "model": "Skylake-Server"},
     "graphics": {"type": "spice", "listen": "127.0.0.1"}, "boot": ["cdrom", "hd"], "cdrom": {"path": "/x.iso"},
     "seed": {"pool": "vms", "volume": "vm1-cidata.iso"}, "console_log": None,
     "xml_overrides": [{"xpath": "./devices/watchdog", "attributes": {"model": "i6300esb", "action": "reset"},
                        "text": None, "xml": None, "state": "present"}]},
    {"machine": "pc", "cdrom": {}, "graphics": {"type": "vnc", "listen": None}, "guest_agent": False, "disks": [],
     "nics": [], "hotplug_slots": 0},
])
def test_built_definitions_are_valid_libvirt_xml(overrides, tmp_path):
    if overrides.get("machine") == "pc":
        overrides["meta"] = meta(machine="pc")
    _validate(domain_xml.build(spec(**overrides)), tmp_path)


@pytest.mark.skipif(VALIDATOR is None, reason="virt-xml-validate (libvirt-clients) is not installed")
def test_edited_definitions_are_valid_libvirt_xml(tmp_path):
    after = {"vcpus": 1, "max_vcpus": 2, "memory": 64 * MIB, "max_memory": 128 * MIB, "boot": ["cdrom", "hd"],
             "cpu": {"mode": "host-model", "model": None},
             "disks": [disk(target="vda", pool="cvt-smoke", volume="cvt-smoke-vm-vda.qcow2"),
                       disk(target="vdb", volume="extra.qcow2")],
             "cdrom": {"path": "/x.iso"}, "nics": [nic(network="cvt-smoke-net"), nic()],
             "console_log": "/tmp/x.log", "graphics": {"type": "vnc", "listen": "127.0.0.1"}, "guest_agent": False}
    _validate(domain_xml.edit(SMOKE_XML, after, meta()), tmp_path)


# ---- edit --------------------------------------------------------------------------------
def smoke_after(**overrides):
    """The full state after converging the smoke instance (nothing changed unless overridden)."""
    state = domain_xml.parse(SMOKE_XML)
    after = {"vcpus": state["vcpus"], "max_vcpus": state["max_vcpus"], "memory": state["memory"],
             "max_memory": state["max_memory"], "boot": state["boot"], "disks": state["disks"],
             "nics": [nic_view(n) for n in state["nics"]], "console_log": state["console_log"],
             "graphics": state["graphics"], "guest_agent": state["guest_agent"]}
    after.update(overrides)
    return after


def test_edit_without_changes_keeps_what_libvirt_added():
    text = domain_xml.edit(SMOKE_XML, smoke_after(), domain_xml.parse(SMOKE_XML)["meta"])
    root = ET.fromstring(text)
    assert root.find("uuid").text == "3e85ca70-e6ef-4462-ba5f-41d2f529eb30"
    assert root.find("clock").get("offset") == "utc"
    assert root.find("cpu/model").text == "qemu64"
    assert root.find("devices/emulator").text == "/usr/bin/qemu-system-x86_64"
    controllers = ["pci", "pci", "pci", "usb", "sata", "virtio-serial"]
    assert [c.get("type") for c in root.findall("devices/controller")] == controllers
    assert len(root.findall("devices/input")) == 2 and root.find("devices/audio") is not None
    assert address_of(root.find("devices/memballoon"))["bus"] == "0x05"
    assert address_of(by_target(text, "vda")) == {"type": "pci", "domain": "0x0000", "bus": "0x04", "slot": "0x00",
                                                  "function": "0x0"}
    assert address_of(by_target(text, "sdf"))["unit"] == "5"
    assert address_of(root.find("devices/interface"))["bus"] == "0x01"
    assert address_of(root.find("devices/channel"))["type"] == "virtio-serial"
    before = domain_xml.parse(SMOKE_XML)
    after = domain_xml.parse(text)
    for key in ("vcpus", "max_vcpus", "memory", "max_memory", "boot", "disks", "cdrom", "seed", "nics",
                "console_log", "graphics", "guest_agent", "cpu", "machine", "meta"):
        assert after[key] == before[key], key


def test_edit_with_nothing_to_change_touches_only_metadata():
    text = domain_xml.edit(SMOKE_XML, {}, dict(domain_xml.parse(SMOKE_XML)["meta"], owned=[]))
    before, after = domain_xml.parse(SMOKE_XML), domain_xml.parse(text)
    assert after["meta"]["owned"] == []
    for key in ("vcpus", "memory", "disks", "seed", "nics", "console_log", "guest_agent", "cpu", "boot"):
        assert after[key] == before[key], key


def test_edit_keeps_addresses_of_unchanged_disks_and_gives_none_to_new_ones():
    vda = domain_xml.parse(SMOKE_XML)["disks"][0]
    text = domain_xml.edit(SMOKE_XML, smoke_after(disks=[vda, disk(target="vdb", volume="data.qcow2")]), meta())
    assert address_of(by_target(text, "vda"))["bus"] == "0x04"
    assert by_target(text, "vdb") is not None and address_of(by_target(text, "vdb")) is None
    assert [d["target"] for d in domain_xml.parse(text)["disks"]] == ["vda", "vdb"]


def test_edit_drops_the_address_of_a_disk_moved_to_another_bus():
    vda = domain_xml.parse(SMOKE_XML)["disks"][0]
    text = domain_xml.edit(SMOKE_XML, smoke_after(disks=[dict(vda, bus="scsi")]), meta())
    assert by_target(text, "vda").find("target").get("bus") == "scsi"
    assert address_of(by_target(text, "vda")) is None


def test_edit_keeps_the_address_of_a_disk_whose_serial_changes():
    vda = domain_xml.parse(SMOKE_XML)["disks"][0]
    text = domain_xml.edit(SMOKE_XML, smoke_after(disks=[dict(vda, serial="root", readonly=True)]), meta())
    assert by_target(text, "vda").find("serial").text == "root"
    assert address_of(by_target(text, "vda"))["bus"] == "0x04"


def test_edit_removes_disks():
    text = domain_xml.edit(SMOKE_XML, smoke_after(disks=[]), meta())
    assert domain_xml.parse(text)["disks"] == []
    assert by_target(text, "sdf") is not None  # the seed is not a disk


def test_edit_carries_over_generated_macs_and_nic_addresses():
    text = domain_xml.edit(SMOKE_XML, smoke_after(nics=[nic(network="cvt-smoke-net")]), meta())
    iface = devices(text, "interface")[0]
    assert iface.find("mac").get("address") == MAC
    assert address_of(iface)["bus"] == "0x01"


def test_edit_moves_a_nic_to_another_network_in_place():
    text = domain_xml.edit(SMOKE_XML, smoke_after(nics=[nic(network="other", mac=MAC)]), meta())
    iface = devices(text, "interface")[0]
    assert iface.find("source").get("network") == "other" and iface.find("mac").get("address") == MAC
    assert address_of(iface)["bus"] == "0x01"


def test_edit_nic_with_another_model_loses_its_address():
    text = domain_xml.edit(SMOKE_XML, smoke_after(nics=[nic(network="cvt-smoke-net", model="e1000")]), meta())
    iface = devices(text, "interface")[0]
    assert iface.find("model").get("type") == "e1000" and address_of(iface) is None
    assert iface.find("mac").get("address") == MAC


def test_edit_sets_a_new_mac():
    new = "52:54:00:00:00:99"
    text = domain_xml.edit(SMOKE_XML, smoke_after(nics=[nic(network="cvt-smoke-net", mac=new)]), meta())
    assert [m.get("address") for m in ET.fromstring(text).findall("devices/interface/mac")] == [new]


def test_edit_adds_and_removes_nics():
    text = domain_xml.edit(SMOKE_XML, smoke_after(nics=[nic(network="cvt-smoke-net"), nic(network="lab")]), meta())
    elems = devices(text, "interface")
    assert len(elems) == 2 and elems[1].find("mac") is None and address_of(elems[1]) is None
    assert address_of(elems[0])["bus"] == "0x01"
    assert devices(domain_xml.edit(SMOKE_XML, smoke_after(nics=[]), meta()), "interface") == []


def test_edit_vcpus_and_memory():
    text = domain_xml.edit(SMOKE_XML, smoke_after(vcpus=2, max_vcpus=4, memory=256 * MIB, max_memory=GIB), meta())
    state = domain_xml.parse(text)
    assert (state["vcpus"], state["max_vcpus"], state["memory"], state["max_memory"]) == (2, 4, 256 * MIB, GIB)
    root = ET.fromstring(text)
    assert root.find("vcpu").get("placement") == "static"


def test_edit_adds_current_memory_when_missing():
    text = SMOKE_XML.replace("<currentMemory unit='KiB'>131072</currentMemory>", "")
    root = ET.fromstring(domain_xml.edit(text, {"memory": 64 * MIB}, meta()))
    tags = [e.tag for e in root]
    assert tags.index("currentMemory") == tags.index("memory") + 1
    assert root.find("currentMemory").text == str(64 * 1024)


def test_edit_boot_order_stays_before_bios():
    text = domain_xml.edit(SMOKE_XML, {"boot": ["network", "hd"]}, meta())
    assert [e.tag for e in ET.fromstring(text).find("os")] == ["type", "boot", "boot", "bios"]
    assert domain_xml.parse(text)["boot"] == ["network", "hd"]


def test_edit_cpu():
    text = domain_xml.edit(SMOKE_XML, {"cpu": {"mode": "host-passthrough", "model": None}}, meta())
    assert domain_xml.parse(text)["cpu"] == {"mode": "host-passthrough", "model": None}
    assert len(ET.fromstring(text).findall("cpu")) == 1
    assert ET.fromstring(domain_xml.edit(SMOKE_XML, {"cpu": None}, meta())).find("cpu") is None


def test_edit_cdrom_media_keeps_the_drive_address():
    text = domain_xml.edit(PC_XML, {"cdrom": {"pool": "isos", "volume": "other.iso"}}, meta(machine="pc"))
    hdc = by_target(text, "hdc")
    assert hdc.find("source").attrib == {"pool": "isos", "volume": "other.iso"}
    assert address_of(hdc) == {"type": "drive", "controller": "0", "bus": "1", "target": "0", "unit": "0"}
    assert domain_xml.parse(text)["cdrom"] == {"pool": "isos", "volume": "other.iso"}


def test_edit_adds_and_removes_the_cdrom_drive():
    text = domain_xml.edit(SMOKE_XML, {"cdrom": {}}, domain_xml.parse(SMOKE_XML)["meta"])
    assert by_target(text, "sde").find("target").get("bus") == "sata"
    state = domain_xml.parse(text)
    assert state["cdrom"] == {} and state["seed"]["target"] == "sdf"
    text = domain_xml.edit(text, {"cdrom": None}, domain_xml.parse(SMOKE_XML)["meta"])
    assert by_target(text, "sde") is None and by_target(text, "sdf") is not None


def test_edit_replaces_the_seed_keeping_its_address():
    text = domain_xml.edit(SMOKE_XML, {"seed": {"pool": "cvt-smoke", "volume": "cvt-smoke-vm-cidata.iso"}},
                           domain_xml.parse(SMOKE_XML)["meta"])
    assert address_of(by_target(text, "sdf"))["unit"] == "5"
    assert len([d for d in devices(text, "disk") if d.get("device") == "cdrom"]) == 1


def test_edit_console_log():
    text = domain_xml.edit(SMOKE_XML, {"console_log": "/var/log/other.log"}, meta())
    assert domain_xml.parse(text)["console_log"] == "/var/log/other.log"
    assert len(devices(text, "serial")) == 1 and len(devices(text, "console")) == 1
    text = domain_xml.edit(SMOKE_XML, {"console_log": None}, meta())
    assert domain_xml.parse(text)["console_log"] is None


def test_edit_graphics_on_and_off():
    text = domain_xml.edit(SMOKE_XML, {"graphics": {"type": "vnc", "listen": "127.0.0.1"}}, meta())
    assert domain_xml.parse(text)["graphics"] == {"type": "vnc", "listen": "127.0.0.1"}
    assert len(devices(text, "video")) == 1
    text = domain_xml.edit(PC_XML, {"graphics": {"type": "none", "listen": None}}, meta(machine="pc"))
    assert devices(text, "graphics") == [] and devices(text, "video") == []
    text = domain_xml.edit(PC_XML, {"graphics": {"type": "spice", "listen": "127.0.0.1"}}, meta(machine="pc"))
    assert [g.get("type") for g in devices(text, "graphics")] == ["spice"]
    assert len(devices(text, "video")) == 1
    assert address_of(devices(text, "video")[0])["slot"] == "0x03"


def test_edit_guest_agent_on_and_off():
    text = domain_xml.edit(SMOKE_XML, {"guest_agent": False}, meta())
    assert devices(text, "channel") == [] and domain_xml.parse(text)["guest_agent"] is False
    text = domain_xml.edit(text, {"guest_agent": True}, meta())
    assert domain_xml.parse(text)["guest_agent"] is True
    again = domain_xml.edit(SMOKE_XML, {"guest_agent": True}, meta())
    assert len(devices(again, "channel")) == 1
    assert address_of(devices(again, "channel")[0])["type"] == "virtio-serial"


def test_edit_keeps_other_channels():
    text = SMOKE_XML.replace("</devices>", "<channel type='spicevmc'><target type='virtio' "
                                           "name='com.redhat.spice.0'/></channel></devices>")
    out = domain_xml.edit(text, {"guest_agent": False}, meta())
    assert [c.find("target").get("name") for c in devices(out, "channel")] == ["com.redhat.spice.0"]


def test_edit_keeps_unknown_elements():
    text = SMOKE_XML.replace("<clock offset='utc'/>", "<clock offset='utc'><timer name='rtc' tickpolicy='catchup'/>"
                                                      "</clock><pm><suspend-to-mem enabled='no'/></pm>").replace(
        "</devices>", "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"
                      "<watchdog model='i6300esb' action='reset'/></devices>")
    after = smoke_after(vcpus=1, nics=[nic(network="cvt-smoke-net")], disks=domain_xml.parse(SMOKE_XML)["disks"])
    out = ET.fromstring(domain_xml.edit(text, after, meta()))
    assert out.find("clock/timer").get("name") == "rtc"
    assert out.find("pm/suspend-to-mem").get("enabled") == "no"
    assert out.find("devices/rng/backend").text == "/dev/urandom"
    assert out.find("devices/watchdog").get("model") == "i6300esb"


def test_edit_sets_virt_type_only_to_a_real_one():
    assert ET.fromstring(domain_xml.edit(SMOKE_XML, {"virt_type": "kvm"}, meta())).get("type") == "kvm"
    assert ET.fromstring(domain_xml.edit(SMOKE_XML, {"virt_type": "auto"}, meta())).get("type") == "qemu"


def test_edit_does_not_change_its_input():
    original = copy.copy(SMOKE_XML)
    domain_xml.edit(SMOKE_XML, smoke_after(vcpus=1, disks=[], nics=[]), meta())
    assert SMOKE_XML == original


# ---- xml_overrides ------------------------------------------------------------------------
def ov(xpath, **kwargs):
    result = {"xpath": xpath, "attributes": {}, "text": None, "xml": None, "state": "present"}
    result.update(kwargs)
    return result


@pytest.mark.parametrize("xpath, path", [("./devices/watchdog", "./devices/watchdog"),
                                         ("/domain/devices/watchdog", "./devices/watchdog"),
                                         ("devices/watchdog", "./devices/watchdog"),
                                         ("/devices/watchdog", "./devices/watchdog"),
                                         ("  ./features/hyperv  ", "./features/hyperv")])
def test_override_path_is_relative_to_domain(xpath, path):
    assert spec_rules.override_path(xpath) == path


@pytest.mark.parametrize("xpath", ["./devices/[", "./devices/disk[@type='x'", "./a[b=", "@x"])
def test_unusable_xpaths_are_reported(xpath):
    reason = spec_rules.check_override({"xpath": xpath})
    assert reason and "XPath" in reason


@pytest.mark.parametrize("xpath", ["./devices/watchdog", "./features/hyperv/relaxed",
                                   "./devices/interface[@type='network']/driver", "./devices/disk[1]",
                                   "/domain/os/bootmenu"])
def test_usable_xpaths_pass(xpath):
    assert spec_rules.check_override({"xpath": xpath}) is None


def test_override_creates_a_plain_path_and_sets_attributes_and_text():
    overrides = [ov("./features/hyperv/relaxed", attributes={"state": "on"}),
                 ov("./devices/watchdog", attributes={"model": "i6300esb", "action": "reset"}),
                 ov("./description", text="managed by converge.virt")]
    text = domain_xml.build(spec(xml_overrides=overrides))
    root = ET.fromstring(text)
    assert root.find("features/hyperv/relaxed").get("state") == "on"
    assert root.find("devices/watchdog").attrib == {"model": "i6300esb", "action": "reset"}
    assert root.find("description").text == "managed by converge.virt"
    assert domain_xml.overrides_satisfied(text, overrides) == [True, True, True]
    assert domain_xml.overrides_satisfied(domain_xml.build(spec()), overrides) == [False, False, False]


def test_override_sets_attributes_on_an_existing_element():
    overrides = [ov("./devices/interface[@type='network']/model", attributes={"type": "e1000e"})]
    root = ET.fromstring(SMOKE_XML)
    assert domain_xml.override_satisfied(root, overrides[0]) is False
    domain_xml.apply_overrides(root, overrides)
    assert root.find("devices/interface/model").get("type") == "e1000e"
    assert domain_xml.override_satisfied(root, overrides[0]) is True


def test_override_attribute_values_are_compared_as_text():
    override = ov("./vcpu", attributes={"cpuset": 1})
    root = ET.fromstring(SMOKE_XML)
    domain_xml.apply_overrides(root, [override])
    assert root.find("vcpu").get("cpuset") == "1"
    assert domain_xml.override_satisfied(root, override) is True


def test_override_with_a_predicate_that_matches_nothing_is_unmatched():
    override = ov("./devices/interface[@type='bridge']/driver", attributes={"queues": "4"})
    root = ET.fromstring(SMOKE_XML)
    before = ET.tostring(root)
    assert domain_xml.override_satisfied(root, override) is None
    domain_xml.apply_overrides(root, [override])
    assert ET.tostring(root) == before


def test_override_with_a_matching_predicate():
    override = ov("./devices/interface[@type='network']/driver", attributes={"queues": "4"})
    root = ET.fromstring(SMOKE_XML.replace("<model type='virtio'/>", "<model type='virtio'/><driver name='vhost'/>"))
    assert domain_xml.override_satisfied(root, override) is False
    domain_xml.apply_overrides(root, [override])
    assert root.find("devices/interface/driver").attrib == {"name": "vhost", "queues": "4"}
    assert domain_xml.override_satisfied(root, override) is True


def test_override_absent_removes_every_match():
    override = ov("./devices/input", state="absent")
    root = ET.fromstring(SMOKE_XML)
    assert domain_xml.override_satisfied(root, override) is False
    domain_xml.apply_overrides(root, [override])
    assert root.findall("devices/input") == []
    assert root.find("devices/memballoon") is not None
    assert domain_xml.override_satisfied(root, override) is True
    assert domain_xml.override_satisfied(root, ov("./devices/watchdog", state="absent")) is True


def test_override_absent_with_a_predicate():
    override = ov("./devices/input[@type='mouse']", state="absent")
    root = ET.fromstring(SMOKE_XML)
    domain_xml.apply_overrides(root, [override])
    assert [i.get("type") for i in root.findall("devices/input")] == ["keyboard"]


def test_override_xml_is_appended_and_libvirts_extra_attributes_still_satisfy_it():
    override = ov("./devices", xml="<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>")
    text = domain_xml.build(spec(xml_overrides=[override]))
    assert ET.fromstring(text).find("devices/rng/backend").text == "/dev/urandom"
    assert domain_xml.overrides_satisfied(text, [override]) == [True]
    expanded = text.replace("<rng model=\"virtio\">", "<rng model=\"virtio\"><alias name='rng0'/>"
                                                      "<address type='pci' bus='0x07'/>")
    assert domain_xml.overrides_satisfied(expanded, [override]) == [True]
    other = ov("./devices", xml="<rng model='virtio'><backend model='random'>/dev/random</backend></rng>")
    assert domain_xml.overrides_satisfied(expanded, [other]) == [False]


def test_override_xml_is_not_appended_twice():
    override = ov("./devices", xml="<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>")
    text = domain_xml.build(spec(xml_overrides=[override]))
    edited = domain_xml.edit(text, {"vcpus": 1, "xml_overrides": [override]}, meta())
    assert len(ET.fromstring(edited).findall("devices/rng")) == 1


def test_override_text_is_compared_without_surrounding_space():
    override = ov("./description", text="hello")
    root = ET.fromstring(SMOKE_XML.replace("<memory", "<description>\n  hello\n</description><memory", 1))
    assert domain_xml.override_satisfied(root, override) is True
    assert domain_xml.override_satisfied(root, ov("./description", text="bye")) is False


def test_overrides_are_applied_after_the_collections_own_elements():
    override = ov("./devices/memballoon", attributes={"model": "none"})
    root = ET.fromstring(domain_xml.build(spec(xml_overrides=[override])))
    assert root.find("devices/memballoon").get("model") == "none"
    edited = ET.fromstring(domain_xml.edit(SMOKE_XML, {"xml_overrides": [override]}, meta()))
    assert edited.find("devices/memballoon").get("model") == "none"
    assert address_of(edited.find("devices/memballoon"))["bus"] == "0x05"
