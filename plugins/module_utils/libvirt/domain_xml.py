# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The libvirt domain XML of an instance: build it from a spec, read it back into the normalized
state, and edit an existing definition in place.

Pure (no libvirt calls), so it is unit-tested without a hypervisor.  Reading keeps only what the
spec describes: libvirt's own additions (MACs it generated, PCI addresses, the UUID, default
controllers, USB tablets, memballoon, aliases) never appear in the state, so they never count as
changes.  Editing starts from the current definition and replaces only what the spec sets,
carrying over each device's ``<address>`` so guests keep their PCI layout.

Xen (domain type ``xen``, libvirt's libxl driver) gets its own shapes: ``<os>`` per guest mode
(``pv``: a kernel or a bootloader such as pygrub, ``pvh``: a kernel, ``hvm``: hvmloader or OVMF),
disks by path (libxl cannot resolve ``type="volume"`` sources: the pool and volume are remembered
in the metadata instead), ``xen`` bus targets (xvda…), the PV console, no virtio devices.
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET

from ansible_collections.converge.virt.plugins.module_utils.libvirt.xmlutil import child
from ansible_collections.converge.virt.plugins.module_utils.resources.instance import override_path

NS = "https://converge-virt.github.io/xmlns/instance/1"
PENDING_NS = "https://converge-virt.github.io/xmlns/instance-pending/1"
ET.register_namespace("cv", NS)
ET.register_namespace("cvp", PENDING_NS)

AGENT_CHANNEL = "org.qemu.guest_agent.0"
# Drives the collection manages on the SATA (q35) or IDE (pc) controller; user disks on those
# buses take the other units.
CDROM_TARGET = {"sata": "sde", "ide": "hdc"}
SEED_TARGET = {"sata": "sdf", "ide": "hdd"}
# Xen: an HVM guest's drives sit on its emulated IDE controller; a PV/PVH guest has no emulated
# controller, so they are (read-only, removable) xen block devices at the end of the xvd range.
XEN_CDROM_TARGET = {"ide": "hdc", "xen": "xvdy"}
XEN_SEED_TARGET = {"ide": "hdd", "xen": "xvdz"}
XEN_MACHINE = {"pv": "xenpv", "pvh": "xenpvh", "hvm": "xenfv"}
XEN_OS_TYPE = {"pv": "linux", "pvh": "xenpvh", "hvm": "hvm"}
HVMLOADER = "/usr/lib/xen/boot/hvmloader"
XEN_OVMF = "/usr/lib/xen/boot/ovmf.bin"
_KIB = 1024


def q(tag):
    return "{%s}%s" % (NS, tag)


def cdrom_bus(machine, xen_mode=None):
    """The bus a CD-ROM sits on: SATA on q35, IDE on the i440fx ``pc`` machines; on Xen IDE for
    HVM guests and the xen bus for PV/PVH guests."""
    if xen_mode:
        return "ide" if xen_mode == "hvm" else "xen"
    return "ide" if machine and (machine == "pc" or machine.startswith("pc-i440fx")) else "sata"


def drive_targets(bus, xen_mode=None):
    """(CD-ROM target, seed target) on ``bus``."""
    if xen_mode:
        return XEN_CDROM_TARGET[bus], XEN_SEED_TARGET[bus]
    return CDROM_TARGET[bus], SEED_TARGET[bus]


def xen_mode_of(root):
    """pv, pvh or hvm for a Xen domain definition (an Element), else None."""
    if root.get("type") != "xen":
        return None
    type_elem = root.find("os/type")
    text = (type_elem.text or "").strip() if type_elem is not None else ""
    machine = type_elem.get("machine") if type_elem is not None else None
    if text == "hvm":
        return "hvm"
    if text == "xenpvh" or machine == "xenpvh":
        return "pvh"
    return "pv"


# ---- building ----------------------------------------------------------------------------------
def _xen_disk_element(disk):
    """A Xen <disk> by path: ``phy`` for block devices (raw), ``qemu`` (qdisk) for files."""
    if not disk.get("path"):
        raise ValueError("disk %s: a Xen disk needs the volume's path (resolved by the driver)" % disk["target"])
    block = disk.get("source_type") == "block"
    elem = ET.Element("disk", {"type": "block" if block else "file", "device": "disk"})
    ET.SubElement(elem, "driver", {"name": "phy" if block else "qemu",
                                   "type": "raw" if block else (disk.get("format") or "qcow2"), "discard": "unmap"})
    ET.SubElement(elem, "source", {"dev" if block else "file": disk["path"]})
    ET.SubElement(elem, "target", {"dev": disk["target"], "bus": disk["bus"]})
    if disk.get("readonly"):
        ET.SubElement(elem, "readonly")
    return elem


def disk_element(disk, xen_mode=None):
    """A <disk> for one spec disk: a volume of a pool (libvirt resolves the path); on Xen the
    volume's path."""
    if xen_mode:
        return _xen_disk_element(disk)
    elem = ET.Element("disk", {"type": "volume", "device": "disk"})
    ET.SubElement(elem, "driver", {"name": "qemu", "type": disk.get("format") or "qcow2",
                                   "discard": "unmap"})
    ET.SubElement(elem, "source", {"pool": disk["pool"], "volume": disk["volume"]})
    ET.SubElement(elem, "target", {"dev": disk["target"], "bus": disk["bus"]})
    if disk.get("serial"):
        ET.SubElement(elem, "serial").text = disk["serial"]
    if disk.get("readonly"):
        ET.SubElement(elem, "readonly")
    return elem


def cdrom_element(media, bus, target, xen_mode=None):
    """A CD-ROM drive with ``media`` ({path} or {pool, volume}) inserted, or empty (``{}``).
    On Xen a volume is given by its path (``media["path"]``, resolved by the driver)."""
    media = media or {}
    if xen_mode and media.get("volume") and not media.get("path"):
        raise ValueError("drive %s: a Xen drive needs the volume's path (resolved by the driver)" % target)
    if media.get("volume") and not xen_mode:
        elem = ET.Element("disk", {"type": "volume", "device": "cdrom"})
        ET.SubElement(elem, "driver", {"name": "qemu", "type": "raw"})
        ET.SubElement(elem, "source", {"pool": media["pool"], "volume": media["volume"]})
    else:
        elem = ET.Element("disk", {"type": "file", "device": "cdrom"})
        ET.SubElement(elem, "driver", {"name": "qemu", "type": "raw"})
        if media.get("path"):
            ET.SubElement(elem, "source", {"file": media["path"]})
    ET.SubElement(elem, "target", {"dev": target, "bus": bus})
    ET.SubElement(elem, "readonly")
    return elem


def interface_element(nic, xen_mode=None):
    elem = ET.Element("interface", {"type": "network"})
    if nic.get("mac"):
        ET.SubElement(elem, "mac", {"address": nic["mac"]})
    ET.SubElement(elem, "source", {"network": nic["network"]})
    default = ("netfront" if xen_mode in ("pv", "pvh") else "rtl8139") if xen_mode else "virtio"
    ET.SubElement(elem, "model", {"type": nic.get("model") or default})
    return elem


def _serial_elements(console_log, xen_mode=None):
    if xen_mode in ("pv", "pvh"):  # no emulated UART: the PV console (hvc0 in the guest)
        console = ET.Element("console", {"type": "pty"})
        ET.SubElement(console, "target", {"type": "xen", "port": "0"})
        return [console]
    serial = ET.Element("serial", {"type": "pty"})
    if console_log and not xen_mode:  # libxl writes no console log (xenconsoled does)
        ET.SubElement(serial, "log", {"file": console_log, "append": "off"})
    ET.SubElement(serial, "target", {"port": "0"})
    console = ET.Element("console", {"type": "pty"})
    ET.SubElement(console, "target", {"type": "serial", "port": "0"})
    return [serial, console]


def _graphics_element(graphics):
    if not graphics or graphics.get("type") in (None, "none"):
        return None
    elem = ET.Element("graphics", {"type": graphics["type"], "autoport": "yes"})
    ET.SubElement(elem, "listen", {"type": "address", "address": graphics.get("listen") or "127.0.0.1"})
    return elem


def _video_element(xen_mode=None):
    video = ET.Element("video")
    # Xen: an HVM guest gets QEMU's Cirrus card (libxl's default), a PV/PVH guest the xen framebuffer.
    model = {"hvm": "cirrus", "pv": "xen", "pvh": "xen"}.get(xen_mode, "virtio")
    ET.SubElement(video, "model", {"type": model})
    return video


def _agent_element():
    elem = ET.Element("channel", {"type": "unix"})
    ET.SubElement(elem, "target", {"type": "virtio", "name": AGENT_CHANNEL})
    return elem


def build(spec):
    """A new domain definition.  ``spec`` is the full desired state (defaults filled in) plus
    ``virt_type`` resolved to kvm, qemu or xen, ``seed`` ({pool, volume} or None), ``owned`` and the
    metadata to record.  A Xen spec carries ``xen`` ({mode, kernel, initrd, cmdline, bootloader,
    bootloader_args}), optionally ``loader`` (the host's hvmloader), and the paths of its volumes."""
    if spec["virt_type"] == "xen":
        return _build_xen(spec)
    root = ET.Element("domain", {"type": spec["virt_type"]})
    ET.SubElement(root, "name").text = spec["name"]
    ET.SubElement(root, "metadata")
    _set_size(root, spec)
    os_elem = ET.SubElement(root, "os")
    ET.SubElement(os_elem, "type", {"arch": "x86_64", "machine": spec["machine"]}).text = "hvm"
    features = ET.SubElement(root, "features")
    ET.SubElement(features, "acpi")
    ET.SubElement(features, "apic")
    if spec["firmware"] == "uefi":
        os_elem.set("firmware", "efi")
        fw = ET.SubElement(os_elem, "firmware")
        ET.SubElement(fw, "feature", {"enabled": "yes" if spec.get("secure_boot") else "no",
                                      "name": "secure-boot"})
        if spec.get("secure_boot"):
            ET.SubElement(fw, "feature", {"enabled": "yes", "name": "enrolled-keys"})
            ET.SubElement(features, "smm", {"state": "on"})
    _set_boot(os_elem, spec["boot"])
    if spec["firmware"] != "uefi":  # SeaBIOS prints nothing without graphics unless told to
        ET.SubElement(os_elem, "bios", {"useserial": "yes"})
    _set_cpu(root, spec.get("cpu"))
    _set_lifecycle(root)
    devices = ET.SubElement(root, "devices")
    for disk in spec["disks"]:
        devices.append(disk_element(disk))
    bus = cdrom_bus(spec["machine"])
    if spec.get("cdrom") is not None:
        devices.append(cdrom_element(spec["cdrom"], bus, CDROM_TARGET[bus]))
    if spec.get("seed"):
        devices.append(cdrom_element(spec["seed"], bus, SEED_TARGET[bus]))
    for nic in spec["nics"]:
        devices.append(interface_element(nic))
    for elem in _serial_elements(spec.get("console_log")):
        devices.append(elem)
    if spec.get("guest_agent"):
        devices.append(_agent_element())
    graphics = _graphics_element(spec.get("graphics"))
    if graphics is not None:
        devices.append(graphics)
        devices.append(_video_element())
    ET.SubElement(devices, "memballoon", {"model": "virtio"})
    if bus == "sata":
        # q35 hot-plugs into free PCIe root ports only. libvirt gives each PCIe device a root
        # port, taking the ones defined here first and adding none spare: define one per device
        # (disks, NICs, and up to 4 of its own: balloon, virtio-serial, USB, video) plus the spares.
        ET.SubElement(devices, "controller", {"type": "pci", "index": "0", "model": "pcie-root"})
        used = len(spec["disks"]) + len(spec["nics"]) + 4
        for _port in range(used + spec.get("hotplug_slots", 0)):
            ET.SubElement(devices, "controller", {"type": "pci", "model": "pcie-root-port"})
    return _finish(root, spec)


def _set_size(root, spec):
    ET.SubElement(root, "memory", {"unit": "KiB"}).text = str(spec["max_memory"] // _KIB)
    ET.SubElement(root, "currentMemory", {"unit": "KiB"}).text = str(spec["memory"] // _KIB)
    ET.SubElement(root, "vcpu", {"placement": "static", "current": str(spec["vcpus"])}).text = \
        str(spec["max_vcpus"])


def _set_lifecycle(root):
    ET.SubElement(root, "on_poweroff").text = "destroy"
    ET.SubElement(root, "on_reboot").text = "restart"
    ET.SubElement(root, "on_crash").text = "destroy"


def _finish(root, spec):
    set_metadata(root, spec["meta"])
    holder = root.find("metadata")
    for elem in spec.get("keep_metadata") or []:
        holder.append(copy.deepcopy(elem))
    apply_overrides(root, spec.get("xml_overrides") or [])
    return ET.tostring(root, encoding="unicode")


def _build_xen(spec):
    xen = spec["xen"]
    mode = xen["mode"]
    root = ET.Element("domain", {"type": "xen"})
    ET.SubElement(root, "name").text = spec["name"]
    ET.SubElement(root, "metadata")
    _set_size(root, spec)
    _set_xen_os(root, xen, spec.get("firmware"), spec.get("loader"), spec.get("boot"))
    if mode == "hvm":
        features = ET.SubElement(root, "features")
        for name in ("pae", "acpi", "apic"):
            ET.SubElement(features, name)
    _set_cpu(root, spec.get("cpu"))
    _set_lifecycle(root)
    devices = ET.SubElement(root, "devices")
    sources = []
    for disk in spec["disks"]:
        devices.append(disk_element(disk, mode))
        sources.append((disk["target"], disk.get("pool"), disk.get("volume")))
    bus = cdrom_bus(None, mode)
    cdrom_target, seed_target = drive_targets(bus, mode)
    if spec.get("cdrom") is not None:
        devices.append(cdrom_element(spec["cdrom"], bus, cdrom_target, mode))
        sources.append((cdrom_target, spec["cdrom"].get("pool"), spec["cdrom"].get("volume")))
    if spec.get("seed"):
        devices.append(cdrom_element(spec["seed"], bus, seed_target, mode))
        sources.append((seed_target, spec["seed"].get("pool"), spec["seed"].get("volume")))
    for nic in spec["nics"]:
        devices.append(interface_element(nic, mode))
    for elem in _serial_elements(None, mode):
        devices.append(elem)
    graphics = _graphics_element(spec.get("graphics"))
    if graphics is not None:
        devices.append(graphics)
        devices.append(_video_element(mode))
    ET.SubElement(devices, "memballoon", {"model": "xen"})
    spec = dict(spec, meta=dict(spec["meta"], sources=[
        {"target": t, "pool": p, "volume": v} for t, p, v in sources if v]))
    return _finish(root, spec)


def _set_xen_os(root, xen, firmware=None, loader=None, boot=None):
    """The ``<os>`` (and ``<bootloader>``) of a Xen guest: replaced whole."""
    mode = xen["mode"]
    for tag in ("bootloader", "bootloader_args"):
        for elem in root.findall(tag):
            root.remove(elem)
    old = root.find("os")
    position = list(root).index(old) if old is not None else len(root)
    if old is not None:
        root.remove(old)
    else:  # after name/uuid/metadata/memory/vcpu, where libvirt writes it
        anchors = [i for i, e in enumerate(root) if e.tag in ("name", "uuid", "metadata", "memory",
                                                              "currentMemory", "vcpu")]
        position = anchors[-1] + 1 if anchors else len(root)
    os_elem = ET.Element("os")
    ET.SubElement(os_elem, "type", {"arch": "x86_64", "machine": XEN_MACHINE[mode]}).text = XEN_OS_TYPE[mode]
    if mode == "hvm":
        # libxl picks the firmware by the loader's type: rom is hvmloader with SeaBIOS, pflash OVMF.
        if firmware == "uefi":
            ET.SubElement(os_elem, "loader", {"type": "pflash", "readonly": "yes"}).text = XEN_OVMF
        else:
            ET.SubElement(os_elem, "loader", {"type": "rom"}).text = loader or HVMLOADER
    for tag in ("kernel", "initrd", "cmdline"):
        if xen.get(tag):
            ET.SubElement(os_elem, tag).text = xen[tag]
    if mode == "hvm":
        for dev in boot or []:
            ET.SubElement(os_elem, "boot", {"dev": dev})
    inserted = [os_elem]
    if mode == "pv" and xen.get("bootloader"):
        bootloader = ET.Element("bootloader")
        bootloader.text = xen["bootloader"]
        inserted = [bootloader]
        if xen.get("bootloader_args"):
            args = ET.Element("bootloader_args")
            args.text = xen["bootloader_args"]
            inserted.append(args)
        inserted.append(os_elem)
    for offset, elem in enumerate(inserted):
        root.insert(position + offset, elem)


def _set_boot(os_elem, boot):
    for elem in os_elem.findall("boot"):
        os_elem.remove(elem)
    # <boot> elements must precede <bios> in the schema's order.
    bios = os_elem.find("bios")
    position = list(os_elem).index(bios) if bios is not None else len(os_elem)
    for offset, dev in enumerate(boot or []):
        os_elem.insert(position + offset, ET.Element("boot", {"dev": dev}))


def _set_cpu(root, cpu):
    old = root.find("cpu")
    if old is not None:
        root.remove(old)
    if not cpu or not cpu.get("mode"):
        return
    elem = ET.Element("cpu", {"mode": cpu["mode"]})
    if cpu["mode"] == "custom":
        elem.set("match", "exact")
        ET.SubElement(elem, "model", {"fallback": "forbid"}).text = cpu.get("model")
    # <cpu> follows <os>/<features> in the schema.
    anchor = root.find("features")
    if anchor is None:
        anchor = root.find("os")
    root.insert(list(root).index(anchor) + 1, elem)


# ---- metadata ----------------------------------------------------------------------------------
def set_metadata(root, meta):
    """Record what the collection needs to remember in ``<metadata><cv:instance>``."""
    holder = child(root, "metadata")
    for old in holder.findall(q("instance")):
        holder.remove(old)
    holder.append(metadata_element(meta))


def foreign_metadata(text):
    """The ``<metadata>`` children written by others (a stack's owner mark, other tools' notes):
    a redefinition from scratch must carry them over."""
    holder = ET.fromstring(text).find("metadata")
    ours = (q("instance"), "{%s}pending" % PENDING_NS)
    return [elem for elem in holder if elem.tag not in ours] if holder is not None else []


def metadata_element(meta):
    elem = ET.Element(q("instance"))
    spec = ET.SubElement(elem, q("spec"))
    for key in ("machine", "virt_type", "pool"):
        if meta.get(key):
            spec.set(key, meta[key])
    for vol in meta.get("owned") or []:
        ET.SubElement(elem, q("owned"), {"pool": vol["pool"], "volume": vol["volume"]})
    if meta.get("seed"):
        seed = meta["seed"]
        ET.SubElement(elem, q("seed"), {"pool": seed["pool"], "volume": seed["volume"], "sha256": seed["sha256"]})
    for override in meta.get("overrides") or []:
        ET.SubElement(elem, q("override"), {"xpath": override})
    for source in meta.get("sources") or []:  # Xen: which volume each drive's path is
        ET.SubElement(elem, q("source"), {"target": source["target"], "pool": source["pool"] or "",
                                          "volume": source["volume"]})
    return elem


def read_metadata(root):
    meta = {"machine": None, "virt_type": None, "pool": None, "owned": [], "seed": None, "overrides": []}
    elem = root.find("metadata/" + q("instance"))
    if elem is None:
        return meta
    spec = elem.find(q("spec"))
    if spec is not None:
        meta["machine"] = spec.get("machine")
        meta["virt_type"] = spec.get("virt_type")
        meta["pool"] = spec.get("pool")
    meta["owned"] = [{"pool": o.get("pool"), "volume": o.get("volume")} for o in elem.findall(q("owned"))]
    seed = elem.find(q("seed"))
    if seed is not None:
        meta["seed"] = {"pool": seed.get("pool"), "volume": seed.get("volume"), "sha256": seed.get("sha256")}
    if meta["pool"] is None:  # defined before the pool was recorded: the pool of its own volumes
        mine = meta["owned"] + ([meta["seed"]] if meta["seed"] else [])
        meta["pool"] = mine[0]["pool"] if mine else None
    meta["overrides"] = [o.get("xpath") for o in elem.findall(q("override"))]
    sources = [{"target": s.get("target"), "pool": s.get("pool") or None, "volume": s.get("volume")}
               for s in elem.findall(q("source"))]
    if sources:  # Xen guests only
        meta["sources"] = sources
    return meta


def pending_xml(fields):
    """The live-only metadata that remembers changes waiting for the next boot.  Written without a
    namespace: virDomainSetMetadata puts it into PENDING_NS itself."""
    elem = ET.Element("pending")
    for field in sorted(set(fields)):
        ET.SubElement(elem, "field", {"name": field})
    return ET.tostring(elem, encoding="unicode")


def read_pending(root):
    elem = root.find("metadata/{%s}pending" % PENDING_NS)
    if elem is None:
        return []
    fields = elem.findall("{%s}field" % PENDING_NS) + elem.findall("field")
    return sorted(set(f.get("name") for f in fields))


# ---- reading -----------------------------------------------------------------------------------
def _mem(root, tag):
    elem = root.find(tag)
    if elem is None or not elem.text:
        return None
    unit = elem.get("unit") or "KiB"
    factor = {"b": 1, "bytes": 1, "KiB": 1024, "k": 1024, "KB": 1000, "MiB": 1024 ** 2, "M": 1024 ** 2,
              "MB": 1000 ** 2, "GiB": 1024 ** 3, "G": 1024 ** 3, "GB": 1000 ** 3}.get(unit, 1024)
    return int(elem.text.strip()) * factor


def _source(disk):
    source = disk.find("source")
    if source is None:
        return {}
    if source.get("volume"):
        return {"pool": source.get("pool"), "volume": source.get("volume")}
    path = source.get("file") or source.get("dev")
    return {"path": path} if path else {}


def parse(text, seed_targets=None):
    """The normalized state of a domain definition (see resources/instance.py).

    Disks are those of device ``disk``; the CD-ROM is the drive at the collection's CD-ROM
    target (or the only CD-ROM that is not the seed); the seed drive is reported apart."""
    root = ET.fromstring(text)
    meta = read_metadata(root)
    os_elem = root.find("os")
    type_elem = os_elem.find("type") if os_elem is not None else None
    machine = type_elem.get("machine") if type_elem is not None else None
    xen_mode = xen_mode_of(root)
    bus = cdrom_bus(machine, xen_mode)
    seed_targets_here = XEN_SEED_TARGET if xen_mode else SEED_TARGET
    cdrom_target = drive_targets(bus, xen_mode)[0]
    by_path = dict((s["target"], {"pool": s["pool"], "volume": s["volume"]}) for s in meta.get("sources") or [])
    vcpu = root.find("vcpu")
    max_vcpus = int(vcpu.text.strip()) if vcpu is not None and vcpu.text else 1
    loader = os_elem.find("loader") if os_elem is not None else None
    firmware = "bios"
    secure = False
    if os_elem is not None and (os_elem.get("firmware") == "efi" or loader is not None):
        firmware = "uefi"
        for feature in os_elem.findall("firmware/feature"):
            if feature.get("name") == "secure-boot" and feature.get("enabled") == "yes":
                secure = True
        if loader is not None and loader.get("secure") == "yes":
            secure = True
    if xen_mode:  # hvmloader is a rom loader; PV/PVH guests have no firmware at all
        firmware = None if xen_mode != "hvm" else (
            "uefi" if loader is not None and loader.get("type") == "pflash" else "bios")
        secure = False
    cpu = None
    cpu_elem = root.find("cpu")
    if cpu_elem is not None and cpu_elem.get("mode"):
        cpu = {"mode": cpu_elem.get("mode"), "model": None}
        if cpu_elem.get("mode") == "custom":
            model = cpu_elem.find("model")
            cpu["model"] = model.text.strip() if model is not None and model.text else None
    elif cpu_elem is not None and cpu_elem.find("model") is not None:
        model = cpu_elem.find("model")
        cpu = {"mode": "custom", "model": model.text.strip() if model.text else None}
    disks, cdrom, seed = [], None, None
    seed_meta = meta.get("seed") or {}
    for disk in root.findall("devices/disk"):
        target = disk.find("target")
        dev = target.get("dev") if target is not None else None
        source = _source(disk)
        if source.get("path") and dev in by_path:  # a Xen drive: the volume behind the path
            source = dict(by_path[dev], path=source["path"])
        if disk.get("device") == "cdrom":
            if source.get("volume"):
                source.pop("path", None)
            is_seed = (dev == seed_targets_here.get(target.get("bus") if target is not None else bus)
                       and (not seed_meta or source.get("volume") in (None, seed_meta.get("volume"))))
            if is_seed and (seed_meta or (seed_targets and dev in seed_targets)):
                seed = dict(source, target=dev)
            elif cdrom is None or dev == cdrom_target:
                cdrom = dict(source)
            continue
        if disk.get("device") not in (None, "disk"):
            continue
        serial = disk.find("serial")
        driver = disk.find("driver")
        disks.append({
            "target": dev,
            "bus": target.get("bus") if target is not None else None,
            "pool": source.get("pool"),
            "volume": source.get("volume"),
            "path": source.get("path"),
            "format": driver.get("type") if driver is not None else None,
            "serial": serial.text.strip() if serial is not None and serial.text else None,
            "readonly": disk.find("readonly") is not None,
        })
    nics = []
    for iface in root.findall("devices/interface"):
        mac = iface.find("mac")
        source = iface.find("source")
        model = iface.find("model")
        nics.append({
            "network": source.get("network") if source is not None else None,
            "mac": mac.get("address").lower() if mac is not None and mac.get("address") else None,
            "model": model.get("type") if model is not None else None,
        })
    console_log = None
    serial = root.find("devices/serial")
    if serial is not None and not xen_mode:
        log = serial.find("log")
        if log is not None:
            console_log = log.get("file")
        elif serial.get("type") == "file":
            src = serial.find("source")
            console_log = src.get("path") if src is not None else None
    graphics = {"type": "none", "listen": None}
    gelem = root.find("devices/graphics")
    if gelem is not None:
        listen = gelem.find("listen")
        address = listen.get("address") if listen is not None else None
        graphics = {"type": gelem.get("type"), "listen": address or gelem.get("listen")}
    agent = any(c.find("target") is not None and c.find("target").get("name") == AGENT_CHANNEL
                for c in root.findall("devices/channel"))
    uuid = root.find("uuid")
    return {
        "name": root.find("name").text,
        "uuid": uuid.text if uuid is not None else None,
        "virt_type": root.get("type"),
        "machine": machine,
        "vcpus": int(vcpu.get("current")) if vcpu is not None and vcpu.get("current") else max_vcpus,
        "max_vcpus": max_vcpus,
        "memory": _mem(root, "currentMemory") or _mem(root, "memory"),
        "max_memory": _mem(root, "memory"),
        "cpu": cpu,
        "firmware": firmware,
        "secure_boot": secure,
        "boot": [b.get("dev") for b in os_elem.findall("boot")] if os_elem is not None else [],
        "disks": disks,
        "cdrom": cdrom,
        "seed": seed,
        "nics": nics,
        "console_log": console_log,
        "graphics": graphics,
        "guest_agent": agent,
        "nvram": (os_elem.find("nvram").text if os_elem is not None and os_elem.find("nvram") is not None
                  else None),
        "meta": meta,
        "overrides_applied": list(meta.get("overrides") or []),
        "xen": _parse_xen(root, os_elem, xen_mode),
    }


def _parse_xen(root, os_elem, mode):
    if not mode:
        return None
    result = {"mode": mode}
    for tag in ("kernel", "initrd", "cmdline"):
        elem = os_elem.find(tag) if os_elem is not None else None
        result[tag] = elem.text.strip() if elem is not None and elem.text and elem.text.strip() else None
    for tag in ("bootloader", "bootloader_args"):
        elem = root.find(tag)
        result[tag] = elem.text.strip() if elem is not None and elem.text and elem.text.strip() else None
    return result


# ---- editing -----------------------------------------------------------------------------------
def _address(elem):
    address = elem.find("address")
    return copy.deepcopy(address) if address is not None else None


def _insert_device(devices, elem, address=None):
    """Append ``elem`` after the last device of its tag (libvirt's order), keeping ``address``."""
    if address is not None:
        elem.append(address)
    same = [i for i, e in enumerate(devices) if e.tag == elem.tag]
    if same:
        devices.insert(same[-1] + 1, elem)
    else:
        devices.append(elem)


def edit(text, after, meta):
    """A copy of the definition ``text`` changed to ``after`` (the full normalized state after
    converging; None fields are left alone).  Devices keep their addresses; unknown elements stay."""
    root = ET.fromstring(text)
    devices = child(root, "devices")
    xen_mode = xen_mode_of(root)
    sources = dict((s["target"], s) for s in meta.get("sources") or []) if xen_mode else {}
    if after.get("virt_type") in ("kvm", "qemu") and not xen_mode:
        root.set("type", after["virt_type"])
    if after.get("max_memory") is not None:
        child(root, "memory").attrib = {"unit": "KiB"}
        child(root, "memory").text = str(after["max_memory"] // _KIB)
    if after.get("memory") is not None:
        elem = root.find("currentMemory")
        if elem is None:
            elem = ET.Element("currentMemory")
            root.insert(list(root).index(root.find("memory")) + 1, elem)
        elem.attrib = {"unit": "KiB"}
        elem.text = str(after["memory"] // _KIB)
    vcpu = child(root, "vcpu")
    if after.get("max_vcpus") is not None:
        vcpu.text = str(after["max_vcpus"])
    if after.get("vcpus") is not None:
        vcpu.set("current", str(after["vcpus"]))
    os_elem = child(root, "os")
    if after.get("boot") is not None and xen_mode in (None, "hvm"):
        _set_boot(os_elem, after["boot"])
    if xen_mode and after.get("xen") is not None:
        _edit_xen_boot(root, os_elem, after["xen"])
    if "cpu" in after:
        _set_cpu(root, after["cpu"])
    machine = os_elem.find("type").get("machine") if os_elem.find("type") is not None else None
    bus = cdrom_bus(machine, xen_mode)
    cdrom_target, seed_target = drive_targets(bus, xen_mode)
    if after.get("disks") is not None:
        old = dict((d.find("target").get("dev"), d) for d in devices.findall("disk")
                   if d.get("device") in (None, "disk") and d.find("target") is not None)
        for elem in old.values():
            devices.remove(elem)
        for target in old:
            sources.pop(target, None)
        for disk in after["disks"]:
            prev = old.get(disk["target"])
            keep = prev is not None and prev.find("target").get("bus") == disk["bus"]
            _insert_device(devices, disk_element(disk, xen_mode), _address(prev) if keep else None)
            if xen_mode and disk.get("volume"):
                sources[disk["target"]] = {"target": disk["target"], "pool": disk.get("pool"),
                                           "volume": disk["volume"]}
    for key, target in (("cdrom", cdrom_target), ("seed", seed_target)):
        if key not in after:
            continue
        _replace_drive(devices, target, after[key], bus, xen_mode)
        sources.pop(target, None)
        if xen_mode and (after[key] or {}).get("volume"):
            sources[target] = {"target": target, "pool": after[key].get("pool"), "volume": after[key]["volume"]}
    if after.get("nics") is not None:
        old = devices.findall("interface")
        for elem in old:
            devices.remove(elem)
        for index, nic in enumerate(after["nics"]):
            prev = old[index] if index < len(old) else None
            elem = interface_element(nic, xen_mode)
            if prev is not None and nic.get("mac") is None and prev.find("mac") is not None:
                elem.insert(0, copy.deepcopy(prev.find("mac")))
            same_model = prev is not None and prev.find("model") is not None and \
                prev.find("model").get("type") == elem.find("model").get("type")
            _insert_device(devices, elem, _address(prev) if same_model else None)
    if "console_log" in after and not xen_mode:
        for tag in ("serial", "console"):
            for elem in devices.findall(tag):
                devices.remove(elem)
        for elem in _serial_elements(after["console_log"]):
            _insert_device(devices, elem)
    if after.get("graphics") is not None:
        for elem in devices.findall("graphics"):
            devices.remove(elem)
        graphics = _graphics_element(after["graphics"])
        if graphics is not None:
            _insert_device(devices, graphics)
            if devices.find("video") is None:
                devices.append(_video_element(xen_mode))
        else:
            for elem in devices.findall("video"):
                devices.remove(elem)
    if after.get("guest_agent") is not None and not xen_mode:
        agents = [c for c in devices.findall("channel")
                  if c.find("target") is not None and c.find("target").get("name") == AGENT_CHANNEL]
        if after["guest_agent"] and not agents:
            _insert_device(devices, _agent_element())
        if not after["guest_agent"]:
            for elem in agents:
                devices.remove(elem)
    if xen_mode:
        present = set(t.get("dev") for t in devices.findall("disk/target"))
        meta = dict(meta, sources=[sources[t] for t in sorted(sources) if t in present])
    set_metadata(root, meta)
    apply_overrides(root, after.get("xml_overrides") or [])
    return ET.tostring(root, encoding="unicode")


def _edit_xen_boot(root, os_elem, xen):
    """Set a Xen guest's kernel, initrd, cmdline and bootloader in place (the mode never changes
    here: that is a new definition)."""
    for tag in ("kernel", "initrd", "cmdline"):
        elem = os_elem.find(tag)
        if xen.get(tag):
            if elem is None:
                elem = ET.SubElement(os_elem, tag)
            elem.text = xen[tag]
        elif elem is not None:
            os_elem.remove(elem)
    for tag in ("bootloader", "bootloader_args"):
        for elem in root.findall(tag):
            root.remove(elem)
    if xen.get("bootloader"):
        position = list(root).index(os_elem)
        elem = ET.Element("bootloader")
        elem.text = xen["bootloader"]
        root.insert(position, elem)
        if xen.get("bootloader_args"):
            args = ET.Element("bootloader_args")
            args.text = xen["bootloader_args"]
            root.insert(position + 1, args)


def _replace_drive(devices, target, media, bus, xen_mode=None):
    old = None
    for elem in devices.findall("disk"):
        tgt = elem.find("target")
        if elem.get("device") == "cdrom" and tgt is not None and tgt.get("dev") == target:
            old = elem
            devices.remove(elem)
    if media is None:
        return
    _insert_device(devices, cdrom_element(media, bus, target, xen_mode), _address(old) if old is not None else None)


# ---- xml_overrides -----------------------------------------------------------------------------
_STEP = re.compile(r"^[A-Za-z_][\w.-]*(:[A-Za-z_][\w.-]*)?$")


def _creatable(path):
    steps = path[2:].split("/")
    return all(_STEP.match(step) for step in steps)


def apply_overrides(root, overrides):
    for override in overrides:
        path = override_path(override["xpath"])
        if override.get("state") == "absent":
            doomed = root.findall(path)
            for parent in list(root.iter()):
                for elem in list(parent):
                    if any(elem is d for d in doomed):
                        parent.remove(elem)
            continue
        elem = root.find(path)
        if elem is None:
            if not _creatable(path):
                continue  # nothing matches a predicate path: there is nothing to set
            elem = root
            for step in path[2:].split("/"):
                found = elem.find(step)
                elem = found if found is not None else ET.SubElement(elem, step)
        for key, value in (override.get("attributes") or {}).items():
            elem.set(key, str(value))
        if override.get("text") is not None:
            elem.text = str(override["text"])
        if override.get("xml"):
            want = ET.fromstring(override["xml"])
            if not any(_same_tree(want, c) for c in elem):
                elem.append(want)


def override_satisfied(root, override):
    """Whether the definition already looks as the override asks: True, False, or None when
    nothing matches an XPath with predicates (so there is nothing the override could change)."""
    path = override_path(override["xpath"])
    found = root.findall(path)
    if override.get("state") == "absent":
        return not found
    if not found:
        return False if _creatable(path) else None
    elem = found[0]
    for key, value in (override.get("attributes") or {}).items():
        if elem.get(key) != str(value):
            return False
    if override.get("text") is not None and (elem.text or "").strip() != str(override["text"]).strip():
        return False
    if override.get("xml"):
        want = ET.fromstring(override["xml"])
        if not any(_same_tree(want, c) for c in elem):
            return False
    return True


def _same_tree(want, have):
    """``have`` has every attribute, text and child ``want`` has (libvirt may add more)."""
    if want.tag != have.tag:
        return False
    if any(have.get(k) != v for k, v in want.attrib.items()):
        return False
    if (want.text or "").strip() and (want.text or "").strip() != (have.text or "").strip():
        return False
    return all(any(_same_tree(w, h) for h in have) for w in want)


def overrides_satisfied(text, overrides):
    root = ET.fromstring(text)
    return [override_satisfied(root, o) for o in overrides]
