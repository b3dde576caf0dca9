# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Instances (virtual machines): the backend-neutral spec, its validation, and the planner.

Normalized state (``current`` and ``after``)::

    name, uuid, state (running | stopped | paused), autostart, virt_type (kvm | qemu | xen), machine,
    vcpus, max_vcpus, memory, max_memory (bytes), cpu {mode, model} or None,
    firmware (bios | uefi), secure_boot, boot [hd | cdrom | network, ...],
    disks [{target, bus, pool, volume, path, format, serial, readonly, owned, size}],
    cdrom {path} | {pool, volume} | {} (an empty drive) | None (no drive),
    nics [{network, mac, model}], cloud_init {sha256} or None (shown masked),
    console_log, graphics {type, listen}, guest_agent, xml_overrides [...],
    xen {mode, kernel, initrd, cmdline, bootloader, bootloader_args} (Xen guests only)
    and read-only facts: interfaces [{mac, network, ips}], ips, pending, nvram

Each change has an effect: ``live`` (reaches the running guest now), ``restart`` (written to
the definition, seen by the guest at its next boot) or ``replace`` (create-only: the instance is
defined again, only with ``recreate``).  The ``apply`` policy chooses what happens to a running
guest: ``live`` applies live changes now and leaves restart changes pending, ``next_boot`` leaves
everything for the next boot, ``restart`` applies live changes and then restarts the guest when
anything is pending.  ``reboot_required`` says whether the running guest lags its definition.

Xen: an instance is a Xen guest when ``virt_type`` is ``xen``, or ``auto`` on a Xen host (a
``xen://`` or ``libxl://`` URI, or a host whose driver says Xen).  Its options are normalized with
Xen's rules (``host_desired``): xen bus disks (xvda…), Xen NIC models, the ``xen`` boot settings;
options Xen cannot honour are refused, naming the field, before anything changes.
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET

from ansible_collections.converge.virt.plugins.module_utils import cloudinit
from ansible_collections.converge.virt.plugins.module_utils.engine import validate
from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Planner
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import (
    Conflict, InvalidSpec, Problems,
)
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, NONE, REPLACE, RESTART, SECRET_MASK, UPDATE,
    Change, Plan,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.volume import aligned_capacity

KIND = "instance"
STATES = ("running", "stopped", "paused", "absent")
VIRT_TYPES = ("auto", "kvm", "qemu", "xen")
FIRMWARES = ("bios", "uefi")
CPU_MODES = ("host-passthrough", "host-model", "maximum", "custom")
BUSES = ("virtio", "sata", "scsi", "ide", "usb", "xen")
HOTPLUG_BUSES = ("virtio", "scsi", "usb", "xen")  # xen: libxl hot-plugs PV block devices
NIC_MODELS = ("virtio", "e1000", "e1000e", "rtl8139", "netfront")
XEN_MODES = ("hvm", "pv", "pvh")
XEN_MACHINES = {"hvm": "xenfv", "pv": "xenpv", "pvh": "xenpvh"}
XEN_NIC_MODELS = {"hvm": ("rtl8139", "e1000", "netfront"), "pv": ("netfront",), "pvh": ("netfront",)}
# The drives the collection manages on a Xen guest (CD-ROM, cloud-init seed).
XEN_RESERVED_TARGETS = ("xvdy", "xvdz", "hdc", "hdd")
XEN_URI_SCHEMES = ("xen", "libxl")
BOOT_DEVICES = ("hd", "cdrom", "network")
GRAPHICS = ("none", "vnc", "spice")
APPLY = ("live", "next_boot", "restart")
WAIT_FOR = ("none", "ip", "agent")
MIN_MEMORY = 64 * 1024 ** 2
MAX_VCPUS = 1024
DEFAULTS = {
    "vcpus": 1, "memory": 512 * 1024 ** 2, "machine": "q35", "firmware": "bios", "secure_boot": False,
    "boot": ["hd"], "graphics": {"type": "none", "listen": None}, "guest_agent": True, "autostart": False,
    "cpu": None,
}
_RECREATE_HINT = ("set recreate: true to undefine the instance and define it again (its disks are "
                  "kept; the guest is stopped and started again)")
# Fields whose change only a new definition makes (the hint above).
CREATE_ONLY = ("machine", "firmware", "secure_boot")
RESTART_FIELDS = ("max_vcpus", "max_memory", "cpu", "boot", "console_log", "graphics", "guest_agent",
                  "virt_type", "xml_overrides", "cloud_init", "xen")


_TARGET_PREFIX = {"virtio": "vd", "scsi": "sd", "sata": "sd", "ide": "hd", "usb": "sd", "xen": "xvd"}


def is_xen_uri(uri):
    """Whether a libvirt URI names a Xen host (``xen:///system``, ``xen+ssh://h/system``, ``libxl://``)."""
    if not uri or "://" not in str(uri):
        return False
    return str(uri).split("://", 1)[0].split("+", 1)[0].lower() in XEN_URI_SCHEMES


def host_desired(desired, hypervisor, current=None):
    """``desired`` as the host ``hypervisor`` (``xen``, ``qemu``, … or None: unknown) runs it.

    A spec normalized without knowing the host was Xen (``virt_type: auto`` on a host whose URI
    does not say so, such as a stack's) is normalized again with Xen's rules; a Xen spec on a
    host that is not Xen, or kvm/qemu on a Xen host, is refused.  Raises InvalidSpec."""
    if desired.get("state") == "absent" or hypervisor is None:
        return desired
    problems = Problems()
    if hypervisor == "xen" and desired.get("xen") is None:
        if desired.get("virt_type") in ("kvm", "qemu"):
            problems.add("virt_type", "%s cannot run on this Xen host: use xen or auto" % desired["virt_type"])
            problems.raise_if_any(KIND, desired.get("name"))
        again = InstancePlanner().normalize_for(desired.get("_params") or {}, xen_host=True)
        return resolve_pools(again, current)
    if hypervisor != "xen" and desired.get("xen") is not None:
        field = "virt_type" if desired.get("virt_type") == "xen" else "xen"
        problems.add(field, "a Xen guest needs a Xen host (a xen:// URI such as xen:///system); this "
                            "host's hypervisor is %s" % hypervisor)
        problems.raise_if_any(KIND, desired.get("name"))
    return desired


def target_name(bus, index):
    """vda, vdb, … vdz, vdaa … (the kernel's disk naming) for the ``index``-th disk of a bus."""
    prefix = _TARGET_PREFIX.get(bus, "vd")
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("a") + rem) + letters
    return prefix + letters


def machine_matches(want, have):
    """Whether the machine ``have`` (as libvirt expanded it) is what the spec ``want`` names."""
    if want is None or want == have:
        return True
    if have is None:
        return False
    if want == "q35":
        return have.startswith("pc-q35-")
    if want == "pc":
        return have.startswith("pc-i440fx-")
    return False


def override_path(xpath):
    """The ElementTree path of an override, relative to <domain> (``/domain/…`` and ``./…`` work)."""
    path = xpath.strip()
    if path.startswith("/domain/"):
        path = "./" + path[len("/domain/"):]
    elif not path.startswith("./"):
        path = "./" + path.lstrip("/")
    return path


def check_override(override):
    """A reason the override's XPath cannot be used, or None."""
    if "//" in override["xpath"]:
        return "must name a path from <domain> (no '//')"
    path = override_path(override["xpath"])
    try:
        ET.Element("domain").findall(path)
    except (SyntaxError, KeyError, TypeError) as err:
        return "is not a usable XPath (the ElementTree subset: steps, [@attr='value'], [n]): %s" % (
            err if str(err) and "NoneType" not in str(err) else "unbalanced or unsupported predicate")
    return None


class InstanceWorld(object):
    """What the planner needs to know about the host, read by a driver."""

    def __init__(self, current=None, networks=None, pools=None, volumes=None, macs=None,
                 virt_type=None, overrides=None, seed_volume=None, console_dir=None, warnings=None,
                 hypervisor=None, xen_loader=None):
        self.current = current              # normalized state, or None if absent
        self.networks = networks            # names of defined networks, or None if not read
        self.pools = dict(pools or {})      # pool name -> {name, type, path, active} (None: missing)
        self.volumes = dict(volumes or {})  # (pool, volume) -> volume state or None if missing
        self.macs = dict(macs or {})        # MAC -> instance using it (other instances only)
        self.virt_type = virt_type          # what virt_type: auto resolves to on this host
        self.overrides = list(overrides or [])  # per override: True / False / None (unmatched)
        self.seed_volume = seed_volume      # the seed volume's state, if it exists
        self.console_dir = console_dir or "/var/log/libvirt/qemu"
        self.warnings = list(warnings or [])  # what the driver learnt reading (e.g. the KVM probe)
        self.hypervisor = hypervisor        # xen, qemu, … (the connection's driver), or None: unknown
        self.xen_loader = xen_loader        # a Xen host's hvmloader (from its capabilities), or None


def _choice(value, field, choices, problems):
    if value is not None and value not in choices:
        problems.add(field, "%r is not one of %s" % (value, ", ".join(choices)))
        return None
    return value


def seed_volume_name(name):
    return "%s-cidata.iso" % name


def owned_volume_name(name, target):
    return "%s-%s.qcow2" % (name, target)


def resolve_pools(desired, current):
    """Fill in the pools the spec leaves to the instance: the instance's ``pool`` defaults to the
    one recorded when it was created, and each disk's (and image's) pool to the instance's."""
    if desired.get("state") == "absent":
        return desired
    if desired.get("pool") is None and current is not None:
        desired["pool"] = current["meta"].get("pool")
    for disk in desired.get("disks") or []:
        if disk["pool"] is None:
            old = [d for d in (current or {}).get("disks") or [] if d["target"] == disk["target"]]
            disk["pool"] = desired["pool"] or (old[0]["pool"] if old else None)
        if disk["image_pool"] is None:
            disk["image_pool"] = disk["pool"]
    return desired


class InstancePlanner(Planner):
    kind = KIND
    schema = {}  # compared by hand below: effects depend on the running guest and the maxima

    # ---- desired state -------------------------------------------------------------------
    def normalize(self, params):
        return self.normalize_for(params)

    def normalize_for(self, params, xen_host=False):
        """The normalized desired state; ``xen_host``: the host is known to be Xen."""
        problems = Problems()
        name = validate.resource_name(params.get("name"), "name", problems)
        state = _choice(params.get("state") or "running", "state", STATES, problems)
        desired = {
            "name": name,
            "state": state,
            "apply": _choice(params.get("apply") or "live", "apply", APPLY, problems),
            "recreate": bool(params.get("recreate")),
            "purge_volumes": bool(params.get("purge_volumes")),
            "stop_timeout": validate.int_range(params.get("stop_timeout") if params.get("stop_timeout")
                                               is not None else 60, "stop_timeout", problems, 0, 3600, " s"),
            "wait_for": _choice(params.get("wait_for") or "none", "wait_for", WAIT_FOR, problems),
            "wait_timeout": validate.int_range(params.get("wait_timeout") if params.get("wait_timeout")
                                               is not None else 300, "wait_timeout", problems, 1, 86400, " s"),
            "pool": None,
            "xen": None,
            "_params": dict(params),  # to normalize again once the host turns out to be Xen
        }
        if params.get("pool") is not None:
            desired["pool"] = validate.resource_name(params["pool"], "pool", problems)
        if state == "absent":
            problems.raise_if_any(KIND, params.get("name"))
            return desired
        desired["vcpus"] = validate.int_range(params.get("vcpus"), "vcpus", problems, 1, MAX_VCPUS)
        desired["max_vcpus"] = validate.int_range(params.get("max_vcpus"), "max_vcpus", problems, 1, MAX_VCPUS)
        desired["memory"] = self._memory(params.get("memory"), "memory", problems)
        desired["max_memory"] = self._memory(params.get("max_memory"), "max_memory", problems)
        if desired["vcpus"] and desired["max_vcpus"] and desired["vcpus"] > desired["max_vcpus"]:
            problems.add("vcpus", "%d is more than max_vcpus (%d)" % (desired["vcpus"], desired["max_vcpus"]))
        if desired["memory"] and desired["max_memory"] and desired["memory"] > desired["max_memory"]:
            problems.add("memory", "%s is more than max_memory (%s)" % (
                validate.human_size(desired["memory"]), validate.human_size(desired["max_memory"])))
        virt_type = params.get("virt_type") or "auto"
        xen = virt_type == "xen" or (virt_type == "auto" and (
            xen_host or is_xen_uri(params.get("uri")) or params.get("xen") is not None))
        if virt_type in ("kvm", "qemu") and is_xen_uri(params.get("uri")):
            problems.add("virt_type", "%s cannot run on the Xen URI %s: use xen or auto" % (virt_type, params["uri"]))
        if virt_type in ("kvm", "qemu") and params.get("xen") is not None:
            problems.add("xen", "is for Xen guests only (virt_type: xen, or auto on a xen:// URI); virt_type "
                                "is %s" % virt_type)
        mode = None
        if xen:
            desired["xen"] = _xen(params.get("xen"), problems)
            mode = desired["xen"]["mode"]
        machine = params.get("machine")
        if machine is not None and xen:
            problems.add("machine", "is chosen by xen.mode on Xen (xenfv for hvm, xenpv for pv, xenpvh for "
                                    "pvh): leave it unset")
            machine = None
        elif machine is not None and not _machine_ok(machine):
            problems.add("machine", "%r is not a machine type (use q35, pc, or a versioned name such "
                                    "as pc-q35-7.2)" % machine)
        desired["machine"] = machine
        desired["virt_type"] = _choice(params.get("virt_type") or "auto", "virt_type", VIRT_TYPES, problems)
        desired["firmware"] = _choice(params.get("firmware"), "firmware", FIRMWARES, problems)
        desired["secure_boot"] = params.get("secure_boot")
        if xen:
            _xen_refusals(params, desired, mode, problems)
        if desired["secure_boot"] and desired["firmware"] == "bios":
            problems.add("secure_boot", "needs firmware: uefi")
        if desired["secure_boot"] and machine is not None and not _is_q35(machine):
            problems.add("secure_boot", "needs a q35 machine (secure boot needs SMM)")
        desired["cpu"] = self._cpu(params.get("cpu"), problems)
        desired["boot"] = self._boot(params.get("boot"), problems)
        desired["disks"] = self._disks(params.get("disks"), name, desired["pool"], problems, mode)
        desired["cdrom"] = self._cdrom(params.get("cdrom"), problems)
        desired["nics"] = self._nics(params.get("nics"), problems, mode)
        desired["cloud_init"] = None
        if params.get("cloud_init"):
            desired["cloud_init"] = cloudinit.normalize(params["cloud_init"], name or "instance", problems)
        console_log = params.get("console_log")
        if console_log not in (None, "") and xen:
            problems.add("console_log", "libxl writes no console log: xenconsoled does (XENCONSOLED_TRACE=guest "
                                        "logs to /var/log/xen/console/guest-<name>.log on the Xen host)")
        elif console_log not in (None, ""):
            console_log = validate.absolute_path(console_log, "console_log", problems)
        desired["console_log"] = "" if xen else console_log
        desired["graphics"] = self._graphics(params.get("graphics"), problems)
        if xen and mode != "hvm" and (desired["graphics"] or {}).get("type") == "spice":
            problems.add("graphics.type", "spice needs an HVM guest on Xen (xen.mode: hvm); a %s guest has "
                                          "vnc (the xen framebuffer)" % mode.upper())
        desired["autostart"] = params.get("autostart")
        desired["guest_agent"] = params.get("guest_agent")
        if xen:
            if desired["guest_agent"]:
                problems.add("guest_agent", "the QEMU guest agent channel (virtio-serial) does not exist on Xen, "
                                            "and libvirt talks to guest agents through QEMU only")
            desired["guest_agent"] = False
            if desired["wait_for"] == "agent":
                problems.add("wait_for", "agent: there is no guest agent on Xen (use ip: the DHCP lease)")
        desired["xml_overrides"] = self._overrides(params.get("xml_overrides"), problems)
        desired["hotplug_slots"] = validate.int_range(
            params.get("hotplug_slots") if params.get("hotplug_slots") is not None else 4,
            "hotplug_slots", problems, 0, 16)
        if desired["wait_for"] == "agent" and desired["guest_agent"] is False and not xen:
            problems.add("wait_for", "agent needs guest_agent: true (the channel the agent talks on)")
        if state == "stopped" and desired["wait_for"] != "none":
            problems.add("wait_for", "a stopped instance has nothing to wait for")
        problems.raise_if_any(KIND, params.get("name"))
        return desired

    @staticmethod
    def _memory(value, field, problems):
        if value is None:
            return None
        result = validate.size(value, field, problems, minimum=MIN_MEMORY)
        if result is not None and result % (1024 ** 2):
            problems.add(field, "%s is not a whole number of MiB" % value)
            return None
        return result

    @staticmethod
    def _cpu(value, problems):
        if value is None:
            return None
        if isinstance(value, str):
            value = {"mode": value}
        mode = _choice(value.get("mode"), "cpu.mode", CPU_MODES, problems)
        model = value.get("model")
        if mode == "custom" and not model:
            problems.add("cpu.model", "is required with mode: custom")
        if mode != "custom" and model:
            problems.add("cpu.model", "is only used with mode: custom")
        unknown = sorted(set(value) - {"mode", "model"})
        if unknown:
            problems.add("cpu", "unknown key(s) %s (known: mode, model)" % ", ".join(unknown))
        return {"mode": mode, "model": model if mode == "custom" else None}

    @staticmethod
    def _boot(value, problems):
        if value is None:
            return None
        result = []
        for index, dev in enumerate(value):
            if _choice(dev, "boot[%d]" % index, BOOT_DEVICES, problems) is not None:
                if dev in result:
                    problems.add("boot[%d]" % index, "%s is listed twice" % dev)
                result.append(dev)
        return result

    def _disks(self, value, name, pool, problems, xen_mode=None):
        if value is None:
            return None
        result = []
        counters = {}
        targets = set()
        for index, item in enumerate(value):
            field = "disks[%d]" % index
            if not isinstance(item, dict):
                problems.add(field, "must be a dict (volume/pool, or image/size for a disk the "
                                    "instance owns)")
                continue
            # The module's OpenStack-only sub-options arrive as None: only set keys count.
            unknown = sorted(k for k in set(item) - {"volume", "pool", "image", "image_pool", "size", "format",
                                                     "target", "bus", "serial", "readonly"} if item[k] is not None)
            if unknown:
                problems.add(field, "unknown key(s) %s (not used by the libvirt backend)" % ", ".join(unknown))
            bus = _choice(item.get("bus") or ("xen" if xen_mode else "virtio"), field + ".bus", BUSES,
                          problems) or "virtio"
            if xen_mode and bus not in ("xen", "ide"):
                problems.add(field + ".bus", "%s does not exist on Xen: use xen (xvd*, the PV block device)%s"
                             % (bus, ", or ide on an HVM guest" if xen_mode == "hvm" else ""))
            elif xen_mode and bus == "ide" and xen_mode != "hvm":
                problems.add(field + ".bus", "ide needs an HVM guest; a %s guest has xen (xvd*) disks only"
                             % xen_mode.upper())
            elif not xen_mode and bus == "xen":
                problems.add(field + ".bus", "xen is the bus of Xen guests (virt_type: xen)")
            if xen_mode and item.get("serial") is not None:
                problems.add(field + ".serial", "Xen block devices have no serial number (blkfront does not "
                                                "carry one): leave it unset")
            target = item.get("target")
            if xen_mode and target is not None and bus in _TARGET_PREFIX and _target_ok(target) \
                    and not _target_on_bus(target, bus):
                problems.add(field + ".target", "%s is not a %s target (like %sa)" % (
                    target, bus, _TARGET_PREFIX[bus]))
            if target is None:
                prefix = "sd" if bus in ("sata", "scsi", "usb") else (
                    "hd" if bus == "ide" else ("xvd" if bus == "xen" else "vd"))
                counters.setdefault(prefix, 0)
                target = _next_target(prefix, counters, targets)
            elif not _target_ok(target):
                problems.add(field + ".target", "%r is not a disk target name (like vda, sdb)" % target)
            if target in targets:
                problems.add(field + ".target", "%s is used by two disks" % target)
            targets.add(target)
            if target in (XEN_RESERVED_TARGETS if xen_mode else ("sde", "sdf", "hdc", "hdd")):
                problems.add(field + ".target", "%s is reserved for the CD-ROM and the cloud-init seed" % target)
            owned = item.get("image") is not None or item.get("size") is not None
            disk_pool = item.get("pool") or pool
            if disk_pool is not None:  # else the instance's pool (resolved against the host)
                disk_pool = validate.resource_name(disk_pool, field + ".pool", problems)
            volume = item.get("volume")
            if volume is None:
                if not owned:
                    problems.add(field, "needs volume (an existing volume), or image and/or size "
                                        "(a disk the instance creates and owns)")
                elif name is not None:
                    volume = owned_volume_name(name, target)
            if volume is not None:
                volume = validate.volume_name(volume, field + ".volume", problems)
            fmt = _choice(item.get("format"), field + ".format", ("qcow2", "raw"), problems)
            if owned and fmt == "raw" and item.get("image") is not None:
                problems.add(field + ".format", "a disk made from an image is a qcow2 linked clone")
            image = item.get("image")
            if image is not None:
                image = validate.volume_name(image, field + ".image", problems)
            if item.get("image_pool") is not None and image is None:
                problems.add(field + ".image_pool", "is only used with image")
            serial = item.get("serial")
            if serial is not None and (len(str(serial)) > 20 or not str(serial).isprintable()):
                problems.add(field + ".serial", "%r must be at most 20 printable characters" % serial)
            result.append({
                "target": target, "bus": bus, "pool": disk_pool, "volume": volume, "owned": owned,
                "image": image, "image_pool": item.get("image_pool"),
                "size": validate.size(item.get("size"), field + ".size", problems),
                "format": fmt or ("qcow2" if owned else None),
                "serial": str(serial) if serial is not None else None,
                "readonly": bool(item.get("readonly")),
            })
        return result

    @staticmethod
    def _cdrom(value, problems):
        if value is None:
            return None
        if not isinstance(value, dict):
            problems.add("cdrom", "must be a dict: {path: ...}, {volume: ..., pool: ...}, {} for an "
                                  "empty drive, or {drive: false} for no drive")
            return None
        unknown = sorted(set(value) - {"path", "volume", "pool", "drive"})
        if unknown:
            problems.add("cdrom", "unknown key(s) %s" % ", ".join(unknown))
        if value.get("drive") is False:
            if value.get("path") or value.get("volume"):
                problems.add("cdrom", "drive: false (no drive) cannot hold media")
            return {"drive": False}
        if value.get("path") and value.get("volume"):
            problems.add("cdrom", "set path or volume, not both")
        if value.get("path"):
            return {"path": validate.absolute_path(value["path"], "cdrom.path", problems)}
        if value.get("volume"):
            if not value.get("pool"):
                problems.add("cdrom.pool", "is required with cdrom.volume")
            return {"pool": value.get("pool"), "volume": validate.volume_name(value["volume"], "cdrom.volume",
                                                                              problems)}
        return {}

    @staticmethod
    def _nics(value, problems, xen_mode=None):
        if value is None:
            return None
        result = []
        seen = {}
        for index, item in enumerate(value):
            field = "nics[%d]" % index
            if isinstance(item, str):
                item = {"network": item}
            if not isinstance(item, dict):
                problems.add(field, "must be a dict with network (and mac, model)")
                continue
            unknown = sorted(k for k in set(item) - {"network", "mac", "model"} if item[k] is not None)
            if unknown:
                problems.add(field, "unknown key(s) %s (not used by the libvirt backend)" % ", ".join(unknown))
            network = item.get("network")
            if not network:
                problems.add(field + ".network", "is required")
            else:
                network = validate.resource_name(network, field + ".network", problems)
            mac = item.get("mac")
            if mac is not None:
                mac = validate.mac_address(mac, field + ".mac", problems)
                if mac in seen:
                    problems.add(field + ".mac", "%s is also the MAC of nics[%d]" % (mac, seen[mac]))
                elif mac:
                    seen[mac] = index
            default = ("netfront" if xen_mode != "hvm" else "rtl8139") if xen_mode else "virtio"
            model = _choice(item.get("model") or default, field + ".model", NIC_MODELS, problems)
            if xen_mode and model is not None and model not in XEN_NIC_MODELS[xen_mode]:
                problems.add(field + ".model", "%s does not exist on a Xen %s guest (use %s)" % (
                    model, xen_mode.upper(), " or ".join(XEN_NIC_MODELS[xen_mode])))
            elif not xen_mode and model == "netfront":
                problems.add(field + ".model", "netfront is the Xen PV NIC (virt_type: xen)")
            result.append({"network": network, "mac": mac, "model": model})
        return result

    @staticmethod
    def _graphics(value, problems):
        if value is None:
            return None
        if isinstance(value, str):
            value = {"type": value}
        kind = _choice(value.get("type") or "none", "graphics.type", GRAPHICS, problems)
        listen = value.get("listen")
        if kind == "none":
            return {"type": "none", "listen": None}
        if listen is not None:
            listen = validate.ip_address(listen, "graphics.listen", problems)
        return {"type": kind, "listen": str(listen) if listen else "127.0.0.1"}

    @staticmethod
    def _overrides(value, problems):
        if value is None:
            return None
        result = []
        for index, item in enumerate(value):
            field = "xml_overrides[%d]" % index
            if not isinstance(item, dict) or not item.get("xpath"):
                problems.add(field, "must be a dict with xpath (and attributes, text, xml or state)")
                continue
            unknown = sorted(set(item) - {"xpath", "attributes", "text", "xml", "state"})
            if unknown:
                problems.add(field, "unknown key(s) %s" % ", ".join(unknown))
            state = _choice(item.get("state") or "present", field + ".state", ("present", "absent"), problems)
            override = {"xpath": str(item["xpath"]), "attributes": dict(
                (str(k), str(v)) for k, v in (item.get("attributes") or {}).items()),
                "text": None if item.get("text") is None else str(item["text"]),
                "xml": item.get("xml"), "state": state}
            reason = check_override(override)
            if reason:
                problems.add(field + ".xpath", "%r %s" % (item["xpath"], reason))
            if override["xml"]:
                try:
                    ET.fromstring(override["xml"])
                except ET.ParseError as err:
                    problems.add(field + ".xml", "is not well-formed XML: %s" % err)
            result.append(override)
        return result

    # ---- plan ------------------------------------------------------------------------------
    def plan(self, desired, world):
        if desired["state"] == "absent":
            return self._plan_delete(desired, world)
        desired = host_desired(desired, _host_hypervisor(world), world.current)
        self._validate_against(desired, world)
        if world.current is None:
            return self._plan_create(desired, world)
        replace = self._create_only_changes(desired, world.current)
        if replace:
            if not desired["recreate"]:
                first = replace[0]
                raise Conflict(
                    "%s is create-only: the instance has %s, the spec asks for %s%s" % (
                        first.path, first.before, first.after,
                        "".join("; %s also differs (%s, wanted %s)" % (c.path, c.before, c.after)
                                for c in replace[1:])),
                    kind=KIND, name=desired["name"], hint=_RECREATE_HINT)
            return self._plan_recreate(desired, world, replace)
        return self._plan_update(desired, world)

    # -- validation against the host
    def _validate_against(self, desired, world):
        problems = Problems()
        name = desired["name"]
        if world.networks is not None:
            for index, nic in enumerate(desired.get("nics") or []):
                if nic["network"] and nic["network"] not in world.networks:
                    problems.add("nics[%d].network" % index, "network %r does not exist (networks here: %s)"
                                 % (nic["network"], ", ".join(sorted(world.networks)) or "none"))
        for index, nic in enumerate(desired.get("nics") or []):
            other = world.macs.get(nic["mac"]) if nic["mac"] else None
            if other:
                problems.add("nics[%d].mac" % index, "%s is already used by instance %s" % (nic["mac"], other))
        current_owned = set()
        if world.current is not None:
            current_owned = set((o["pool"], o["volume"]) for o in world.current["meta"]["owned"])
        if desired.get("cloud_init") is not None and desired["pool"] is None:
            problems.add("pool", "is required with cloud_init: the seed ISO is a volume of this pool")
        for index, disk in enumerate(desired.get("disks") or []):
            field = "disks[%d]" % index
            if disk["pool"] is None:
                problems.add(field + ".pool", "is required (or set the instance's pool)")
                continue
            if disk["volume"] is None:
                continue
            if world.pools.get(disk["pool"]) is None:
                problems.add(field + ".pool", "storage pool %r does not exist" % disk["pool"])
                continue
            vol = world.volumes.get((disk["pool"], disk["volume"]))
            key = (disk["pool"], disk["volume"])
            if not disk["owned"]:
                if vol is None:
                    problems.add(field + ".volume", "volume %r does not exist in pool %s" % (disk["volume"], disk["pool"]))
                continue
            if vol is not None and key not in current_owned:
                problems.add(field + ".volume", "volume %s/%s exists and this instance did not create it; "
                                                "refer to it with volume: (without image/size) to use it "
                                                "as it is, or delete it first" % key)
                continue
            if vol is None:
                if disk["image"] is not None:
                    if world.pools.get(disk["image_pool"]) is None:
                        problems.add(field + ".image_pool", "storage pool %r does not exist" % disk["image_pool"])
                    elif world.volumes.get((disk["image_pool"], disk["image"])) is None:
                        problems.add(field + ".image", "image %r does not exist in pool %s"
                                     % (disk["image"], disk["image_pool"]))
                    else:
                        image = world.volumes[(disk["image_pool"], disk["image"])]
                        if disk["size"] is not None and image.get("capacity") and disk["size"] < image["capacity"]:
                            problems.add(field + ".size", "%s is smaller than image %s (%s)" % (
                                validate.human_size(disk["size"]), disk["image"],
                                validate.human_size(image["capacity"])))
                elif disk["size"] is None:
                    problems.add(field + ".size", "is required for an empty disk")
            elif disk["size"] is not None and vol.get("capacity") and disk["size"] < vol["capacity"] \
                    and _aligned(disk["size"]) < vol["capacity"]:
                problems.add(field + ".size", "cannot shrink disk %s from %s to %s" % (
                    disk["target"], validate.human_size(vol["capacity"]), validate.human_size(disk["size"])))
        cdrom = desired.get("cdrom")
        if cdrom and cdrom.get("volume"):
            if world.pools.get(cdrom["pool"]) is None:
                problems.add("cdrom.pool", "storage pool %r does not exist" % cdrom["pool"])
            elif world.volumes.get((cdrom["pool"], cdrom["volume"])) is None:
                problems.add("cdrom.volume", "volume %r does not exist in pool %s" % (cdrom["volume"], cdrom["pool"]))
        if desired.get("cloud_init") is not None and desired["pool"] is not None \
                and world.pools.get(desired["pool"]) is None:
            problems.add("pool", "storage pool %r does not exist" % desired["pool"])
        for index, status in enumerate(world.overrides):
            if status is None:
                problems.add("xml_overrides[%d].xpath" % index,
                             "%r matches nothing in the definition, and a path with predicates cannot be "
                             "created" % desired["xml_overrides"][index]["xpath"])
        if desired.get("secure_boot") and world.current is None and desired.get("firmware") != "uefi":
            problems.add("secure_boot", "needs firmware: uefi")
        machine = desired.get("machine") or (world.current or {}).get("machine") or "q35"
        for index, disk in enumerate(desired.get("disks") or []):
            if disk["bus"] != "ide":
                continue
            if desired.get("xen") is not None:  # Xen HVM: the emulated PIIX IDE controller
                if disk["target"] not in ("hda", "hdb"):
                    problems.add("disks[%d].target" % index, "%s: an HVM guest's IDE disks are hda and hdb (hdc "
                                                             "and hdd hold the CD-ROM and the seed)" % disk["target"])
                continue
            if _is_q35(machine):
                problems.add("disks[%d].bus" % index, "ide does not exist on a q35 machine (use sata, or "
                                                      "machine: pc)")
            elif disk["target"] not in ("hda", "hdb"):
                problems.add("disks[%d].target" % index, "%s: the pc machine's one IDE controller takes hda "
                                                         "and hdb (hdc and hdd hold the CD-ROM and the seed)"
                             % disk["target"])
        memory = desired.get("memory")
        max_memory = desired.get("max_memory")
        if world.current is not None:
            if max_memory and memory is None and max_memory < world.current["memory"]:
                problems.add("max_memory", "%s is less than the instance's memory (%s); lower memory too"
                             % (validate.human_size(max_memory), validate.human_size(world.current["memory"])))
            if desired.get("max_vcpus") and desired.get("vcpus") is None \
                    and desired["max_vcpus"] < world.current["vcpus"]:
                problems.add("max_vcpus", "%d is less than the instance's vcpus (%d); lower vcpus too"
                             % (desired["max_vcpus"], world.current["vcpus"]))
            if memory and max_memory is None and memory > world.current["max_memory"]:
                problems.add("memory", "%s is more than the instance's max_memory (%s); raise max_memory "
                                       "too (takes effect at the next boot)" % (
                                           validate.human_size(memory), validate.human_size(world.current["max_memory"])))
            if desired.get("vcpus") and desired.get("max_vcpus") is None \
                    and desired["vcpus"] > world.current["max_vcpus"]:
                problems.add("vcpus", "%d is more than the instance's max_vcpus (%d); raise max_vcpus too "
                                      "(takes effect at the next boot)" % (desired["vcpus"], world.current["max_vcpus"]))
        problems.raise_if_any(KIND, name)

    # -- create
    def _full_spec(self, desired, world):
        """The complete state of a new instance: defaults filled in where the spec is silent."""
        spec = {}
        for key, value in DEFAULTS.items():
            spec[key] = copy.deepcopy(value) if desired.get(key) is None else copy.deepcopy(desired[key])
        spec["name"] = desired["name"]
        spec["vcpus"] = desired["vcpus"] or 1
        spec["max_vcpus"] = desired["max_vcpus"] or spec["vcpus"]
        spec["memory"] = desired["memory"] or min(DEFAULTS["memory"], desired["max_memory"] or DEFAULTS["memory"])
        spec["max_memory"] = desired["max_memory"] or spec["memory"]
        spec["virt_type"] = world.virt_type if desired["virt_type"] == "auto" else desired["virt_type"]
        spec["disks"] = [_disk_state(d, world) for d in desired.get("disks") or []]
        spec["cdrom"] = None if desired.get("cdrom") in (None, {"drive": False}) else desired["cdrom"]
        spec["nics"] = copy.deepcopy(desired.get("nics") or [])
        spec["cloud_init"] = ({"sha256": desired["cloud_init"]["sha256"]}
                              if desired.get("cloud_init") else None)
        if desired.get("console_log") is None:
            spec["console_log"] = "%s/%s-console.log" % (world.console_dir, desired["name"])
        else:
            spec["console_log"] = desired["console_log"] or None
        spec["xml_overrides"] = copy.deepcopy(desired.get("xml_overrides") or [])
        spec["state"] = desired["state"]
        spec["xen"] = copy.deepcopy(desired.get("xen"))
        if spec["xen"] is not None:
            mode = spec["xen"]["mode"]
            spec["virt_type"] = "xen"
            spec["machine"] = XEN_MACHINES[mode]
            spec["firmware"] = (desired.get("firmware") or "bios") if mode == "hvm" else None
            spec["secure_boot"] = False
            spec["boot"] = spec["boot"] if mode == "hvm" else None
            spec["guest_agent"] = False
            spec["console_log"] = None
            spec["loader"] = getattr(world, "xen_loader", None)
        return spec

    def _plan_create(self, desired, world):
        after = self._full_spec(desired, world)
        changes = [Change(field, "add", None, SECRET_MASK if field == "cloud_init" else after[field], LIVE)
                   for field in ("state", "virt_type", "xen", "machine", "firmware", "vcpus", "memory", "disks",
                                 "cdrom", "nics", "cloud_init")
                   if after.get(field) not in (None, [], False)]
        notes = ["define instance %s (%s, %s, %d vCPU, %s)" % (
            desired["name"], after["virt_type"], after["machine"], after["vcpus"],
            validate.human_size(after["memory"]))]
        if desired["virt_type"] == "auto":
            notes.append("virt_type auto chose %s on this host" % after["virt_type"])
        volumes = self._owned_to_create(desired, world, after)
        for vol in volumes:
            notes.append("create volume %s/%s (%s)" % (vol["pool"], vol["volume"], _describe_volume(vol)))
        if desired.get("cloud_init"):
            notes.append("write the cloud-init seed %s/%s" % (desired["pool"], seed_volume_name(desired["name"])))
        if after["state"] != "stopped":
            notes.append("start it" + (" paused" if after["state"] == "paused" else ""))
        facts = self._facts(desired, after, running_before=False)
        facts["create_volumes"] = volumes
        facts["warnings"] = list(world.warnings)
        return Plan(KIND, desired["name"], CREATE, changes, before=None, after=_public_after(after),
                    desired=dict(after, spec=desired), notes=notes, facts=facts)

    @staticmethod
    def _owned_to_create(desired, world, after):
        volumes = []
        for disk in desired.get("disks") or []:
            if disk["owned"] and world.volumes.get((disk["pool"], disk["volume"])) is None:
                vol = {"pool": disk["pool"], "volume": disk["volume"], "format": disk["format"],
                       "size": disk["size"], "image": None}
                if disk["image"] is not None:
                    image = world.volumes[(disk["image_pool"], disk["image"])]
                    vol["image"] = {"pool": disk["image_pool"], "volume": disk["image"],
                                    "path": image.get("path"), "format": image.get("format") or "raw",
                                    "capacity": image.get("capacity")}
                volumes.append(vol)
        return volumes

    # -- update
    @staticmethod
    def _create_only_changes(desired, current):
        changes = []
        if desired.get("machine") is not None and not machine_matches(desired["machine"], current["machine"]):
            changes.append(Change("machine", "modify", current["machine"], desired["machine"], REPLACE))
        if desired.get("firmware") is not None and desired["firmware"] != current["firmware"]:
            changes.append(Change("firmware", "modify", current["firmware"], desired["firmware"], REPLACE))
        if desired.get("secure_boot") is not None and bool(desired["secure_boot"]) != current["secure_boot"]:
            changes.append(Change("secure_boot", "modify", current["secure_boot"], bool(desired["secure_boot"]),
                                  REPLACE))
        want_xen, have_xen = desired.get("xen"), current.get("xen")
        if want_xen is not None and have_xen is not None and want_xen["mode"] != have_xen["mode"]:
            changes.append(Change("xen.mode", "modify", have_xen["mode"], want_xen["mode"], REPLACE))
        return changes

    def _plan_recreate(self, desired, world, replace):
        current = world.current
        merged = dict(desired)
        for key in ("vcpus", "max_vcpus", "memory", "max_memory", "cpu", "boot", "graphics", "autostart",
                    "guest_agent", "firmware", "secure_boot"):
            if merged.get(key) is None:
                merged[key] = current.get(key)
        if merged.get("machine") is None:
            merged["machine"] = current["meta"].get("machine") or current["machine"]
        owned_now = set((o["pool"], o["volume"]) for o in current["meta"]["owned"])
        if merged.get("disks") is None:
            merged["disks"] = [dict(d, owned=False, image=None, size=None, image_pool=None) for d in current["disks"]]
        # Disks the instance owns already exist: they are kept as they are, not created again.
        merged["disks"] = [dict(d, owned=(d["pool"], d["volume"]) in owned_now or (
            d["owned"] and world.volumes.get((d["pool"], d["volume"])) is None)) for d in merged["disks"]]
        if merged.get("nics") is None:
            merged["nics"] = copy.deepcopy(current["nics"])
        for index, nic in enumerate(merged["nics"]):
            if nic.get("mac") is None and index < len(current["nics"]):
                nic["mac"] = current["nics"][index]["mac"]
        if merged.get("cdrom") is None and current.get("cdrom") is not None:
            merged["cdrom"] = current["cdrom"]
        world_vt = world.virt_type or current["virt_type"]
        after = self._full_spec(merged, _WorldView(world, virt_type=world_vt if desired["virt_type"] == "auto"
                                                   else desired["virt_type"]))
        if desired["virt_type"] == "auto":
            after["virt_type"] = current["virt_type"]
        if merged.get("console_log") is None:
            after["console_log"] = current.get("console_log")
        owned = [dict(o) for o in current["meta"]["owned"]]
        text = ("instance %s is undefined and defined again (%s): the guest is stopped and started; its "
                "disks are kept" % (desired["name"], ", ".join(c.path for c in replace)))
        facts = self._facts(desired, after, running_before=current["state"] != "stopped")
        to_create = [v for v in self._owned_to_create(merged, world, after)
                     if (v["pool"], v["volume"]) not in owned_now]
        facts.update({"replace": True, "create_volumes": to_create,
                      "keep_owned": owned, "warnings": [text] + list(world.warnings)})
        return Plan(KIND, desired["name"], UPDATE, replace, before=_public_state(current),
                    after=_public_after(after), desired=dict(after, spec=merged), notes=[text], facts=facts)

    def _plan_update(self, desired, world):
        current = world.current
        after = copy.deepcopy(current)
        changes = []
        running = current["state"] in ("running", "paused")

        def scalar(field, effect):
            want = desired.get(field)
            if want is None or want == current.get(field):
                return
            changes.append(Change(field, "modify", current.get(field), want, effect))
            after[field] = want

        scalar("max_vcpus", RESTART)
        scalar("vcpus", LIVE if (desired.get("vcpus") or 0) <= current["max_vcpus"] else RESTART)
        scalar("max_memory", RESTART)
        scalar("memory", LIVE if (desired.get("memory") or 0) <= current["max_memory"] else RESTART)
        if desired["virt_type"] != "auto":
            scalar("virt_type", RESTART)
        if desired.get("cpu") is not None and desired["cpu"] != current.get("cpu"):
            changes.append(Change("cpu", "modify", current.get("cpu"), desired["cpu"], RESTART))
            after["cpu"] = desired["cpu"]
        scalar("boot", RESTART)
        if desired.get("xen") is not None and current.get("xen") is not None and desired["xen"] != current["xen"]:
            changes.append(Change("xen", "modify", current["xen"], desired["xen"], RESTART))
            after["xen"] = desired["xen"]
        scalar("graphics", RESTART)
        scalar("guest_agent", RESTART)
        scalar("autostart", LIVE)
        if desired.get("console_log") is not None and (desired["console_log"] or None) != current.get("console_log"):
            changes.append(Change("console_log", "modify", current.get("console_log"),
                                  desired["console_log"] or None, RESTART))
            after["console_log"] = desired["console_log"] or None
        grow, detach_owned = [], []
        if desired.get("disks") is not None:
            grow, detach_owned = self._disk_changes(desired, world, after, changes)
        if desired.get("cdrom") is not None:
            self._cdrom_change(desired["cdrom"], current, after, changes, (current.get("xen") or {}).get("mode"))
        if desired.get("nics") is not None:
            self._nic_changes(desired["nics"], current, after, changes, (current.get("xen") or {}).get("mode"))
        seed_sha = (current["meta"].get("seed") or {}).get("sha256")
        if desired.get("cloud_init") is not None and desired["cloud_init"]["sha256"] != seed_sha:
            changes.append(Change("cloud_init", "modify" if seed_sha else "add",
                                  SECRET_MASK if seed_sha else None, SECRET_MASK, RESTART))
            after["cloud_init"] = {"sha256": desired["cloud_init"]["sha256"]}
        if desired.get("xml_overrides") is not None:
            for index, (override, ok) in enumerate(zip(desired["xml_overrides"], world.overrides)):
                if not ok:
                    changes.append(Change("xml_overrides[%s]" % override["xpath"], "modify", None,
                                          _show_override(override), RESTART))
            after["xml_overrides"] = desired["xml_overrides"]
        config_changes = list(changes)
        # The state the guest should be in.
        want_state = desired["state"]
        if want_state != current["state"]:
            changes.append(Change("state", "modify", current["state"], want_state, LIVE))
            after["state"] = want_state
        pending = list(current.get("pending") or [])
        facts = self._facts(desired, after, running_before=running)
        facts.update({"grow": grow, "detach_owned": detach_owned,
                      "create_volumes": self._owned_to_create(desired, world, after),
                      "define": bool(config_changes and any(c.path != "autostart" for c in config_changes))})
        restart_now, newly_pending = self._policy(desired, current, config_changes, pending)
        if restart_now and not any(c.path == "state" for c in changes):
            changes.append(Change("restart", "modify", "pending: %s" % ", ".join(
                sorted(set(pending + newly_pending))), "restarted", RESTART))
        facts["restart"] = restart_now
        facts["pending_after"] = [] if restart_now or want_state == "stopped" else sorted(set(pending + newly_pending))
        facts["newly_pending"] = newly_pending
        facts["reboot_required"] = bool(facts["pending_after"]) and want_state != "stopped"
        after["pending"] = facts["pending_after"] if want_state != "stopped" else []
        notes = [self._note(c) for c in changes]
        if facts["reboot_required"]:
            notes.append("the running guest sees %s at its next boot (reboot_required); apply: restart "
                         "restarts it" % ", ".join(facts["pending_after"]))
        action = UPDATE if changes else NONE
        return Plan(KIND, desired["name"], action, changes, before=_public_state(current),
                    after=_public_state(after), desired=dict(after, spec=desired), notes=notes, facts=facts)

    @staticmethod
    def _policy(desired, current, config_changes, pending):
        """(restart the guest now?, fields the running guest will lag behind after this run)."""
        running = current["state"] in ("running", "paused") and desired["state"] != "stopped"
        if not running:
            return False, []
        live_ok = desired["apply"] in ("live", "restart")
        newly = []
        for change in config_changes:
            if change.path == "autostart":
                continue
            if change.effect != LIVE or not live_ok:
                newly.append(change.path.split("[")[0])
        if desired["apply"] == "restart" and (newly or pending):
            return True, newly
        return False, newly

    def _disk_changes(self, desired, world, after, changes):
        current = world.current
        have = dict((d["target"], d) for d in current["disks"])
        want = dict((d["target"], d) for d in desired["disks"])
        owned = set((o["pool"], o["volume"]) for o in current["meta"]["owned"])
        grow, detach_owned = [], []
        new_disks = []
        for disk in desired["disks"]:
            state = _disk_state(disk, world)
            old = have.get(disk["target"])
            path = "disks[%s]" % disk["target"]
            if old is None:
                effect = LIVE if disk["bus"] in HOTPLUG_BUSES else RESTART
                changes.append(Change(path, "add", None, _show_disk(state), effect))
            else:
                before_view = _show_disk(old)
                after_view = _show_disk(dict(state, size=old.get("size")))
                if before_view != after_view:
                    changes.append(Change(path, "modify", before_view, after_view, RESTART))
                elif disk["owned"] and disk["size"] is not None and old.get("size") is not None \
                        and _aligned(disk["size"]) > old["size"]:
                    if current.get("xen") is not None and current["state"] != "stopped":
                        raise InvalidSpec([(path + ".size", "libvirt's Xen driver cannot resize the disk of a "
                                                            "running guest: stop the instance (state: stopped) to "
                                                            "grow it")], kind=KIND, name=desired["name"])
                    changes.append(Change(path + ".size", "modify", old["size"], _aligned(disk["size"]), LIVE))
                    state["size"] = _aligned(disk["size"])
                    grow.append({"pool": disk["pool"], "volume": disk["volume"], "target": disk["target"],
                                 "capacity": _aligned(disk["size"])})
                else:
                    state["size"] = old.get("size")
            new_disks.append(state)
        for target, old in sorted(have.items()):
            if target in want:
                continue
            effect = LIVE if old["bus"] in HOTPLUG_BUSES else RESTART
            changes.append(Change("disks[%s]" % target, "remove", _show_disk(old), None, effect))
            if (old.get("pool"), old.get("volume")) in owned:
                detach_owned.append({"pool": old["pool"], "volume": old["volume"]})
        after["disks"] = new_disks
        return grow, detach_owned

    @staticmethod
    def _cdrom_change(want, current, after, changes, xen_mode=None):
        have = current.get("cdrom")
        if want == {"drive": False}:
            if have is not None:
                changes.append(Change("cdrom", "remove", have, None, RESTART))
                after["cdrom"] = None
            return
        if have is None:
            changes.append(Change("cdrom", "add", None, want, RESTART))
        elif have != want:
            # libxl changes media in an HVM guest's emulated drive only (cdrom-insert needs HVM).
            changes.append(Change("cdrom", "modify", have, want, RESTART if xen_mode in ("pv", "pvh") else LIVE))
        after["cdrom"] = want

    @staticmethod
    def _nic_changes(want, current, after, changes, xen_mode=None):
        have = current["nics"]
        result = []

        def plug(nic):
            # libxl hot-plugs PV NICs only: an HVM guest's emulated NIC comes and goes with a restart.
            return RESTART if xen_mode == "hvm" and nic.get("model") != "netfront" else LIVE
        for index, nic in enumerate(want):
            path = "nics[%d]" % index
            if index >= len(have):
                changes.append(Change(path, "add", None, nic, plug(nic)))
                result.append(dict(nic))
                continue
            old = have[index]
            new = dict(nic, mac=nic["mac"] or old["mac"])
            old_view = {"network": old["network"], "mac": old["mac"], "model": old["model"]}
            if new != old_view:
                effect = LIVE if (new["mac"] == old["mac"] and new["model"] == old["model"]) else RESTART
                changes.append(Change(path, "modify", old_view, new, effect))
            result.append(new)
        for index in range(len(want), len(have)):
            old = have[index]
            changes.append(Change("nics[%d]" % index, "remove",
                                  {"network": old["network"], "mac": old["mac"], "model": old["model"]}, None,
                                  plug(old)))
        after["nics"] = result

    @staticmethod
    def _note(change):
        if change.path == "state":
            return "%s -> %s" % (change.before, change.after)
        if change.path == "restart":
            return "restart the guest (graceful shutdown, then start) for %s" % change.before[len("pending: "):]
        return "%s %s (%s)" % (change.op, change.path, change.effect)

    @staticmethod
    def _facts(desired, after, running_before):
        return {
            "apply": desired["apply"], "running_before": running_before, "replace": False,
            "reboot_required": False, "restart": False, "grow": [], "detach_owned": [],
            "create_volumes": [], "pending_after": [], "newly_pending": [], "define": True,
            "wait_for": desired["wait_for"], "wait_timeout": desired["wait_timeout"],
            "stop_timeout": desired["stop_timeout"],
        }

    # ---- deleting --------------------------------------------------------------------------
    def _plan_delete(self, desired, world):
        name, current = desired["name"], world.current
        base = {"apply": desired["apply"], "reboot_required": False, "stop_timeout": desired["stop_timeout"],
                "wait_for": "none", "delete_volumes": []}
        if current is None:
            return Plan(KIND, name, NONE, before=None, after=None, facts=base)
        volumes = [dict(o, why="owned") for o in current["meta"]["owned"]]
        seed = current["meta"].get("seed")
        if seed:
            volumes.append({"pool": seed["pool"], "volume": seed["volume"], "why": "cloud-init seed"})
        kept = []
        owned = set((o["pool"], o["volume"]) for o in current["meta"]["owned"])
        for disk in current["disks"]:
            key = (disk.get("pool"), disk.get("volume"))
            if key in owned or disk.get("volume") is None:
                continue
            if desired["purge_volumes"]:
                volumes.append({"pool": disk["pool"], "volume": disk["volume"], "why": "purge_volumes"})
            else:
                kept.append("%s/%s" % key)
        notes = ["%sundefine instance %s (with its nvram, managed save and snapshot metadata)" % (
            "stop and " if current["state"] != "stopped" else "", name)]
        notes.extend("delete volume %s/%s (%s)" % (v["pool"], v["volume"], v["why"]) for v in volumes)
        if kept:
            notes.append("keep referenced volume(s) %s (purge_volumes: true deletes them)" % ", ".join(kept))
        facts = dict(base, delete_volumes=volumes, running_before=current["state"] != "stopped")
        return Plan(KIND, name, DELETE, [Change("instance", "remove", None, None, REPLACE)],
                    before=_public_state(current), after=None, desired={"name": name}, notes=notes, facts=facts)

    def outputs(self, plan):
        return {"reboot_required": bool(plan.facts.get("reboot_required"))}

    def public(self, state):
        return _public_state(state)


def _host_hypervisor(world):
    """xen when the world says the host (or the instance) is Xen, the driver's word otherwise."""
    hypervisor = getattr(world, "hypervisor", None)
    if hypervisor:
        return hypervisor
    if world.virt_type == "xen" or (world.current or {}).get("virt_type") == "xen":
        return "xen"
    return None


class _WorldView(object):
    """A world with another virt_type (for recreating with the current hypervisor type)."""

    def __init__(self, world, virt_type):
        self.__dict__.update(world.__dict__)
        self.virt_type = virt_type


def _machine_ok(machine):
    return bool(re.match(r"^[a-z0-9][a-z0-9._-]{0,62}\Z", machine or ""))


def _is_q35(machine):
    return machine == "q35" or machine.startswith("pc-q35")


def _next_target(prefix, counters, taken):
    bus = {"vd": "virtio", "sd": "sata", "hd": "ide", "xvd": "xen"}[prefix]
    while True:
        name = target_name(bus, counters[prefix])
        counters[prefix] += 1
        if name not in taken and name not in ("sde", "sdf", "hdc", "hdd") + XEN_RESERVED_TARGETS:
            return name


def _target_on_bus(target, bus):
    prefix = _TARGET_PREFIX[bus]
    return target.startswith(prefix) and (prefix != "vd" or not target.startswith("xvd"))


def _xen(value, problems):
    """The normalized ``xen`` option: {mode, kernel, initrd, cmdline, bootloader, bootloader_args}."""
    value = value or {}
    if not isinstance(value, dict):
        problems.add("xen", "must be a dict (mode, kernel, initrd, cmdline, bootloader, bootloader_args)")
        value = {}
    keys = ("mode", "kernel", "initrd", "cmdline", "bootloader", "bootloader_args")
    unknown = sorted(k for k in set(value) - set(keys) if value[k] is not None)
    if unknown:
        problems.add("xen", "unknown key(s) %s (known: %s)" % (", ".join(unknown), ", ".join(keys)))
    mode = _choice(value.get("mode") or "hvm", "xen.mode", XEN_MODES, problems) or "hvm"
    result = {"mode": mode}
    for key in ("kernel", "initrd", "bootloader"):
        path = value.get(key)
        result[key] = validate.absolute_path(path, "xen." + key, problems) if path not in (None, "") else None
    for key in ("cmdline", "bootloader_args"):
        text = value.get(key)
        if text not in (None, "") and not str(text).isprintable():
            problems.add("xen." + key, "must be printable text on one line")
        result[key] = str(text) if text not in (None, "") else None
    if mode == "pv" and not (result["kernel"] or result["bootloader"]):
        problems.add("xen", "a PV guest boots xen.kernel (a kernel on the Xen host) or xen.bootloader (such "
                            "as /usr/lib/xen/bin/pygrub, which boots the kernel of the guest's own disk): set one")
    if result["kernel"] and result["bootloader"]:
        problems.add("xen.bootloader", "set xen.kernel or xen.bootloader, not both")
    if mode == "pvh" and not result["kernel"]:
        problems.add("xen.kernel", "is required with mode: pvh (libvirt boots a PVH guest's kernel directly)")
    if mode != "pv" and result["bootloader"]:
        problems.add("xen.bootloader", "is for PV guests (mode: pv); an HVM guest boots from its disks like a "
                                       "PC, a PVH guest from xen.kernel")
    for key in ("initrd", "cmdline"):
        if result[key] and not result["kernel"]:
            problems.add("xen." + key, "is only used with xen.kernel")
    if result["bootloader_args"] and not result["bootloader"]:
        problems.add("xen.bootloader_args", "is only used with xen.bootloader")
    return result


def _xen_refusals(params, desired, mode, problems):
    """Options a Xen guest cannot have (libvirt's libxl driver has no equivalent)."""
    cpu = params.get("cpu")
    cpu_mode = cpu.get("mode") if isinstance(cpu, dict) else cpu
    if cpu_mode not in (None, "host-passthrough"):
        problems.add("cpu.mode", "%s: libvirt's Xen driver implements only host-passthrough (or leave cpu "
                                 "unset for Xen's default CPU policy)" % cpu_mode)
    if desired.get("secure_boot"):
        problems.add("secure_boot", "libvirt's Xen driver has no secure boot (Xen's OVMF runs without it)")
    if mode != "hvm":
        if desired.get("firmware") is not None:
            problems.add("firmware", "a %s guest has no firmware: it boots xen.kernel%s (firmware is for "
                                     "mode: hvm)" % (mode.upper(), " or xen.bootloader" if mode == "pv" else ""))
            desired["firmware"] = None
        if params.get("boot") is not None:
            problems.add("boot", "a %s guest has no boot device order: it boots xen.kernel%s (boot is for "
                                 "mode: hvm)" % (mode.upper(), " or xen.bootloader" if mode == "pv" else ""))


def _target_ok(target):
    return bool(re.match(r"^(vd|sd|hd|xvd)[a-z]{1,3}\Z", str(target)))


def _aligned(size):
    return aligned_capacity(size, "qcow2")  # the sizes libvirt gives the instance's own disks


def _disk_state(disk, world):
    vol = world.volumes.get((disk["pool"], disk["volume"])) or {}
    size = vol.get("capacity")
    if size is None and disk["owned"]:
        image = world.volumes.get((disk["image_pool"], disk["image"])) or {} if disk["image"] else {}
        size = _aligned(disk["size"]) if disk["size"] is not None else image.get("capacity")
    return {"target": disk["target"], "bus": disk["bus"], "pool": disk["pool"], "volume": disk["volume"],
            "path": vol.get("path"), "format": vol.get("format") or disk.get("format") or "qcow2",
            "serial": disk["serial"], "readonly": disk["readonly"], "owned": disk["owned"], "size": size}


def _show_disk(disk):
    return {"pool": disk.get("pool"), "volume": disk.get("volume"), "bus": disk.get("bus"),
            "serial": disk.get("serial"), "readonly": bool(disk.get("readonly"))}


def _show_override(override):
    shown = {"state": override["state"]}
    for key in ("attributes", "text", "xml"):
        if override.get(key):
            shown[key] = override[key]
    return shown


def _describe_volume(vol):
    size = validate.human_size(vol["size"]) if vol.get("size") else None
    if vol.get("image"):
        return "linked clone of %s/%s%s" % (vol["image"]["pool"], vol["image"]["volume"],
                                            ", %s" % size if size else "")
    return "empty, %s" % size


_HIDDEN = ("meta", "seed", "spec", "persistent", "agent_connected", "overrides_applied", "loader")


def _public_state(state):
    if state is None:
        return None
    result = dict((k, copy.deepcopy(v)) for k, v in state.items()
                  if k not in _HIDDEN and not k.startswith("_") and not (k == "xen" and v is None))
    if result.get("cloud_init"):
        result["cloud_init"] = {"sha256": SECRET_MASK}
    return result


def _public_after(after):
    result = _public_state(after)
    result.setdefault("uuid", None)
    result.setdefault("interfaces", [])
    result.setdefault("ips", [])
    result.setdefault("pending", [])
    result.setdefault("autostart", after.get("autostart"))
    return result
