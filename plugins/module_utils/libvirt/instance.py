# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt driver for instances (domains): read a domain and what its spec refers to, apply a
Plan (volumes, seed, definition, live device changes, power state), and wait for the guest.

A no-op converge reads only: the definition, the power state, the lease table, the hypervisor
type (Xen or not), and the pools, volumes and networks the spec names.  The definition is written only when the plan changes it.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
import xml.etree.ElementTree as ET

from ansible_collections.converge.virt.plugins.module_utils import cloudinit
from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Driver
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import (
    BackendError, NotFound, Problems, Timeout,
)
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import CREATE, DELETE
from ansible_collections.converge.virt.plugins.module_utils.libvirt import domain_xml, storage
from ansible_collections.converge.virt.plugins.module_utils.libvirt.connection import (
    remembered,
    require_libvirt,
    translated,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.volume import aligned_capacity
from ansible_collections.converge.virt.plugins.module_utils.resources.instance import (
    KIND, InstanceWorld, host_desired, is_xen_uri, resolve_pools, seed_volume_name,
)

_POLL = 0.5
_PRESS_EVERY = 5
_CONSOLE_TAIL = 25
PROBE_KERNEL_ENV = "CONVERGE_VIRT_PROBE_KERNEL"
_PROBE_SECONDS = 20


def _state_name(code, lv):
    if code in (lv.VIR_DOMAIN_RUNNING, lv.VIR_DOMAIN_BLOCKED, lv.VIR_DOMAIN_SHUTDOWN):
        return "running"
    if code in (lv.VIR_DOMAIN_PAUSED, lv.VIR_DOMAIN_PMSUSPENDED):
        return "paused"
    return "stopped"


class InstanceDriver(Driver):

    def __init__(self, conn, run_command=None):
        self.conn = conn
        self.run_command = run_command
        self.local = run_command is not None
        self.lv = require_libvirt()
        self._warnings = []
        self._stale = {}  # leases seen before this run started the guest (see _has_ip)

    # ---- reading ----------------------------------------------------------------------------
    def _lookup(self, name):
        try:
            return self.conn.lookupByName(name)
        except self.lv.libvirtError as err:
            if err.get_error_code() == self.lv.VIR_ERR_NO_DOMAIN:
                return None
            raise BackendError("failed to look up instance %s: %s" % (name, err.get_error_message()),
                               kind=KIND, name=name)

    def _read(self, dom):
        """The normalized state of a domain (see resources/instance.py) plus its XML texts."""
        name = dom.name()
        with translated("read instance %s" % name, KIND, name):
            code = dom.state()[0]
            persistent = bool(dom.isPersistent())
            inactive = dom.XMLDesc(self.lv.VIR_DOMAIN_XML_INACTIVE) if persistent else dom.XMLDesc(0)
            autostart = bool(dom.autostart()) if persistent else False
        state = domain_xml.parse(inactive)
        state["state"] = _state_name(code, self.lv)
        state["autostart"] = autostart
        state["persistent"] = persistent
        state["pending"] = []
        state["interfaces"] = []
        state["ips"] = []
        state["agent_connected"] = False
        live = None
        if state["state"] != "stopped":
            with translated("read the running definition of instance %s" % name, KIND, name):
                live = dom.XMLDesc(0)
            root = ET.fromstring(live)
            state["pending"] = domain_xml.read_pending(root)
            for chan in root.findall("devices/channel/target"):
                if chan.get("name") == domain_xml.AGENT_CHANNEL and chan.get("state") == "connected":
                    state["agent_connected"] = True
            live_state = domain_xml.parse(live)
            # With firmware autoselection libvirt fills in the nvram path when the guest starts.
            state["nvram"] = state["nvram"] or live_state["nvram"]
            state["interfaces"] = [{"mac": n["mac"], "network": n["network"], "ips": []}
                                   for n in live_state["nics"]]
            self._addresses(dom, state)
        for disk in state["disks"]:
            disk["owned"] = {"pool": disk.get("pool"), "volume": disk.get("volume")} in state["meta"]["owned"]
            disk["size"] = None
        self._disk_sizes(state)
        state["cloud_init"] = ({"sha256": state["meta"]["seed"]["sha256"]}
                               if state["meta"].get("seed") else None)
        state["xml_overrides"] = None
        state["_xml"] = inactive
        return state

    def _disk_sizes(self, state):
        pools = {}
        for disk in state["disks"]:
            if not disk.get("volume"):
                continue
            pool = pools.get(disk["pool"])
            if pool is None:
                try:
                    pool = pools[disk["pool"]] = storage.find_pool(self.conn, disk["pool"])
                except NotFound:
                    continue
            vol = storage.find_volume(pool, disk["volume"]) if pool.isActive() else None
            if vol is not None:
                info = storage.volume_state(vol, disk["pool"])
                disk["size"] = info.get("capacity")
                disk["path"] = info.get("path")
                disk["format"] = info.get("format") or disk.get("format")

    def _addresses(self, dom, state, agent=False):
        """IPs per interface, from the DHCP leases of libvirt networks (and the agent if asked)."""
        sources = [self.lv.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE]
        if agent or state.get("agent_connected"):
            sources.append(self.lv.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT)
        found = {}
        for source in sources:
            try:
                result = dom.interfaceAddresses(source, 0)
            except self.lv.libvirtError:
                continue  # no agent, or no lease table: no addresses from this source
            for _ifname, data in (result or {}).items():
                mac = (data.get("hwaddr") or "").lower()
                for addr in data.get("addrs") or []:
                    ip = addr.get("addr")
                    if ip and not ip.startswith("127.") and ip != "::1" and not ip.startswith("fe80:"):
                        found.setdefault(mac, [])
                        if ip not in found[mac]:
                            found[mac].append(ip)
        ips = []
        for iface in state["interfaces"]:
            iface["ips"] = sorted(found.get(iface["mac"], []), key=lambda a: (":" in a, a))
            ips.extend(iface["ips"])
        state["ips"] = sorted(set(ips), key=lambda a: (":" in a, a))

    def observe(self, name, desired=None):
        dom = self._lookup(name)
        current = self._read(dom) if dom is not None else None
        world = InstanceWorld(current=current)
        if desired is None or desired["state"] == "absent":
            return world
        world.hypervisor = self.hypervisor()
        # On a Xen host a spec normalized without knowing it (virt_type: auto) follows Xen's rules
        # (xvd disks, Xen NICs) before anything is looked up by the names those rules give.
        desired.update(host_desired(desired, world.hypervisor, current))
        resolve_pools(desired, current)

        def network_names():
            with translated("list networks", KIND, name):
                return [n.name() for n in self.conn.listAllNetworks(0)]
        world.networks = set(remembered(self.cache, "network names", network_names))
        wanted = set()
        for disk in desired.get("disks") or []:
            if disk["pool"] and disk["volume"]:
                wanted.add((disk["pool"], disk["volume"]))
            if disk.get("image"):
                wanted.add((disk["image_pool"], disk["image"]))
        cdrom = desired.get("cdrom") or {}
        if cdrom.get("volume"):
            wanted.add((cdrom["pool"], cdrom["volume"]))
        pool_names = set(p for p, _v in wanted)
        if desired.get("pool"):
            pool_names.add(desired["pool"])
        pools = {}
        for pool_name in sorted(pool_names):
            try:
                pool = storage.find_pool(self.conn, pool_name, KIND, name)
            except NotFound:
                world.pools[pool_name] = None
                continue
            storage.require_active(pool, KIND, name)
            pools[pool_name] = pool
            world.pools[pool_name] = storage.pool_info(pool)
        for pool_name, vol_name in sorted(wanted):
            pool = pools.get(pool_name)
            vol = storage.find_volume(pool, vol_name) if pool is not None else None
            world.volumes[(pool_name, vol_name)] = storage.volume_state(vol, pool_name) if vol is not None else None
        if any(n.get("mac") for n in desired.get("nics") or []):
            world.macs = self._other_macs(name)
        if desired.get("xml_overrides") and current is not None:
            root = ET.fromstring(current["_xml"])
            world.overrides = [domain_xml.override_satisfied(root, o) for o in desired["xml_overrides"]]
        if world.hypervisor == "xen":
            # Xen: the domain type is xen, whatever else the host advertises; no KVM probe.
            world.virt_type = "xen"
            if current is None or desired.get("recreate"):
                world.xen_loader = self._xen_loader()
        elif desired["virt_type"] == "auto" and (current is None or desired.get("recreate")):
            self._warnings = []
            world.virt_type = self.resolve_virt_type()
            world.warnings = list(self._warnings)
        return world

    def hypervisor(self):
        """``xen`` for libvirt's Xen (libxl) driver, else the driver's name in lower case (``qemu``)."""
        def read():
            with translated("read the hypervisor type", KIND):
                uri = self.conn.getURI()
                kind = (self.conn.getType() or "").lower()
            return "xen" if is_xen_uri(uri) or kind in ("xen", "xenlight", "libxl") else kind or None
        return remembered(self.cache, "hypervisor type", read)

    def _xen_loader(self):
        """The hvmloader of a Xen host, as its capabilities name it (None: libxl's default)."""
        with translated("read the host's capabilities", KIND):
            caps = ET.fromstring(self.conn.getCapabilities())
        for guest in caps.findall("guest"):
            loader = guest.find("arch/loader")
            if guest.findtext("os_type") == "hvm" and loader is not None and (loader.text or "").strip():
                return loader.text.strip()
        return None

    def _with_path(self, item):
        """A disk or drive of a volume, with the volume's path and whether it is a block device:
        libxl opens paths, it cannot resolve pool volumes itself."""
        if not item or not item.get("volume"):
            return item
        pool = self._pool(item["pool"])
        vol = storage.find_volume(pool, item["volume"])
        if vol is None:
            raise NotFound("volume %s/%s does not exist" % (item["pool"], item["volume"]), kind=KIND)
        info = storage.volume_state(vol, item["pool"])
        return dict(item, path=info["path"], source_type="block" if info.get("type") == "block" else "file")

    def _xen_paths(self, spec):
        """``spec`` (a build spec or the edits of a definition) with the paths of its volumes."""
        spec = dict(spec)
        if spec.get("disks") is not None:
            spec["disks"] = [self._with_path(d) for d in spec["disks"]]
        for key in ("cdrom", "seed"):
            if spec.get(key):
                spec[key] = self._with_path(spec[key])
        return spec

    def _other_macs(self, name):
        with translated("list instances", KIND, name):
            domains = self.conn.listAllDomains(0)
        macs = {}
        for dom in domains:
            if dom.name() == name:
                continue
            try:
                root = ET.fromstring(dom.XMLDesc(0))
            except self.lv.libvirtError:
                continue
            for mac in root.findall("devices/interface/mac"):
                macs[(mac.get("address") or "").lower()] = dom.name()
        return macs

    def list(self, names=None):
        with translated("list instances", KIND):
            domains = self.conn.listAllDomains(0)
        result = []
        for dom in domains:
            if names and dom.name() not in names:
                continue
            try:
                result.append(_visible(self._read(dom)))
            except (BackendError, NotFound):
                continue  # undefined while we listed
        return sorted(result, key=lambda s: s["name"])

    # ---- virt_type: auto -----------------------------------------------------------------------
    def resolve_virt_type(self):
        """kvm when the host advertises it *and* a test guest boots with it, else qemu (TCG).

        Advertised KVM is not enough: under broken nested virtualization a KVM guest starts and
        spins forever.  The probe direct-boots a Linux kernel (no disk, no root file system) under
        KVM: a working KVM panics it within seconds, and ``on_reboot=destroy`` ends the domain."""
        with translated("read the host's capabilities", KIND):
            caps = ET.fromstring(self.conn.getCapabilities())
        types = set(d.get("type") for d in caps.findall("guest/arch/domain"))
        if "xen" in types:  # libvirt's Xen driver: its guests are xen domains (PV, PVH and HVM alike)
            return "xen"
        kvm = "kvm" in types
        if not kvm:
            return "qemu"
        cache = self._probe_cache_path()
        cached = _read_json(cache) if cache else None
        if cached and cached.get("boot_id") == _boot_id():
            return cached["virt_type"]
        kernel = _probe_kernel() if self.local else os.environ.get(PROBE_KERNEL_ENV)
        if not kernel:
            self._warnings.append(
                "virt_type auto: the host advertises KVM, but no kernel was found to prove that KVM guests "
                "run (set %s to a kernel image, or keep /boot/vmlinuz-*); using qemu (TCG). Set "
                "virt_type: kvm to use KVM anyway" % PROBE_KERNEL_ENV)
            return "qemu"
        result = "kvm" if self._kvm_boots(kernel) else "qemu"
        if result == "qemu":
            self._warnings.append("virt_type auto: the host advertises KVM but a test guest did not boot "
                                  "with it within %d s; using qemu (TCG)" % _PROBE_SECONDS)
        if cache:
            _write_json(cache, {"boot_id": _boot_id(), "virt_type": result, "kernel": kernel})
        return result

    def _probe_cache_path(self):
        if not self.local:
            return None
        return os.path.join(tempfile.gettempdir(), "converge-virt-virt-type-%d.json" % os.getuid())

    def _kvm_boots(self, kernel):
        root = ET.Element("domain", {"type": "kvm"})
        ET.SubElement(root, "name").text = "converge-virt-kvm-probe-%d" % os.getpid()
        ET.SubElement(root, "memory", {"unit": "MiB"}).text = "128"
        ET.SubElement(root, "vcpu").text = "1"
        os_elem = ET.SubElement(root, "os")
        ET.SubElement(os_elem, "type", {"arch": "x86_64"}).text = "hvm"
        ET.SubElement(os_elem, "kernel").text = kernel
        ET.SubElement(os_elem, "cmdline").text = "console=ttyS0 panic=-1 quiet"
        ET.SubElement(root, "on_reboot").text = "destroy"
        ET.SubElement(root, "on_crash").text = "destroy"
        devices = ET.SubElement(root, "devices")
        ET.SubElement(devices, "memballoon", {"model": "none"})
        try:
            dom = self.conn.createXML(ET.tostring(root, encoding="unicode"), 0)
        except self.lv.libvirtError:
            return False
        deadline = time.time() + _PROBE_SECONDS
        try:
            while time.time() < deadline:
                if not dom.isActive():
                    return True
                time.sleep(_POLL)
            return False
        except self.lv.libvirtError:
            return True  # the transient domain ended and vanished: it booted and panicked
        finally:
            try:
                dom.destroy()
            except self.lv.libvirtError:
                pass

    # ---- applying -------------------------------------------------------------------------
    def apply(self, plan):
        self._warnings = []
        if plan.action == CREATE:
            self._create(plan)
        elif plan.action == DELETE:
            self._delete(plan)
        elif plan.facts.get("replace"):
            self._recreate(plan)
        else:
            self._update(plan)
        self._wait(plan)
        return {"warnings": self._warnings} if self._warnings else {}

    def settle(self, plan):
        """On an unchanged plan: wait for the guest when asked (never a change)."""
        if plan.facts.get("wait_for") in (None, "none"):
            return False
        self._warnings = []
        return self._wait(plan)

    # -- volumes
    def _pool(self, name):
        pool = storage.find_pool(self.conn, name, KIND)
        storage.require_active(pool, KIND)
        return pool

    def _create_volumes(self, volumes, created):
        for vol in volumes:
            pool = self._pool(vol["pool"])
            backing = None
            capacity = vol.get("size")
            if vol.get("image"):
                image = vol["image"]
                backing = {"path": image["path"], "format": image["format"]}
                capacity = max(capacity or 0, image.get("capacity") or 0)
            capacity = aligned_capacity(capacity, "qcow2")
            with translated("create volume %s in pool %s" % (vol["volume"], vol["pool"]), KIND):
                pool.createXML(storage.volume_xml(vol["volume"], capacity, vol.get("format") or "qcow2",
                                                  backing=backing), 0)
            created.append({"pool": vol["pool"], "volume": vol["volume"]})

    def _delete_volumes(self, volumes):
        for vol in volumes:
            try:
                pool = storage.find_pool(self.conn, vol["pool"], KIND)
            except NotFound:
                continue
            found = storage.find_volume(pool, vol["volume"]) if pool.isActive() else None
            if found is None:
                continue
            with translated("delete volume %s/%s" % (vol["pool"], vol["volume"]), KIND):
                found.delete(0)

    def _write_seed(self, spec, created=None):
        """(Re)write the NoCloud seed volume; returns its metadata record."""
        seed = spec["cloud_init"]
        pool = self._pool(spec["pool"])
        name = seed_volume_name(spec["name"])
        data = cloudinit.seed_iso(seed["files"])
        old = storage.find_volume(pool, name)
        if old is not None:
            with translated("replace the cloud-init seed %s" % name, KIND):
                old.delete(0)
        with translated("create the cloud-init seed %s" % name, KIND):
            vol = pool.createXML(storage.volume_xml(name, len(data), "raw"), 0)
        if created is not None:
            created.append({"pool": spec["pool"], "volume": name})
        storage.upload(self.conn, vol, io.BytesIO(data), len(data), what="the cloud-init seed %s" % name)
        return {"pool": spec["pool"], "volume": name, "sha256": seed["sha256"]}

    # -- create
    def _create(self, plan):
        after = plan.desired
        spec = after["spec"]
        created = []
        dom = None
        seed = None
        if spec.get("cloud_init"):
            seed = {"pool": spec["pool"], "volume": seed_volume_name(spec["name"]),
                    "sha256": spec["cloud_init"]["sha256"]}
        meta = {"machine": after["machine"], "virt_type": spec["virt_type"], "pool": spec.get("pool"),
                "owned": [{"pool": d["pool"], "volume": d["volume"]} for d in after["disks"] if d["owned"]],
                "seed": seed, "overrides": [o["xpath"] for o in after["xml_overrides"]]}
        build = dict(after, seed={"pool": seed["pool"], "volume": seed["volume"]} if seed else None,
                     meta=meta, hotplug_slots=spec["hotplug_slots"])
        xen = after.get("xen") is not None
        if not xen:
            xml = domain_xml.build(build)
            _check_overrides(xml, after["xml_overrides"], after["name"])
        try:
            self._create_volumes(plan.facts["create_volumes"], created)
            if seed:
                self._write_seed(spec, created)
            if xen:  # the paths of the volumes exist only now
                xml = domain_xml.build(self._xen_paths(build))
                _check_overrides(xml, after["xml_overrides"], after["name"])
            with translated("define instance %s" % after["name"], KIND, after["name"]):
                dom = self.conn.defineXML(xml)
            if after.get("autostart"):
                with translated("set autostart of instance %s" % after["name"], KIND, after["name"]):
                    dom.setAutostart(1)
            self._power(dom, "stopped", after["state"], plan.facts)
        except BaseException:
            # Leave nothing half-made behind: the next run would take it for a finished instance.
            if dom is not None:
                self._undefine(dom, plan.facts, force=True)
            self._delete_volumes(created)
            raise

    # -- delete
    def _delete(self, plan):
        dom = self._lookup(plan.name)
        if dom is None:
            return
        if dom.isActive():
            self._stop(dom, plan.facts["stop_timeout"])
        self._undefine(dom, plan.facts)
        self._delete_volumes(plan.facts["delete_volumes"])

    def _undefine(self, dom, facts, force=False):
        lv = self.lv
        name = dom.name()
        if force and dom.isActive():
            try:
                dom.destroy()
            except lv.libvirtError:
                pass
        xen = self.hypervisor() == "xen"
        with translated("remove the managed save and snapshots of instance %s" % name, KIND, name):
            if dom.isPersistent() and dom.hasManagedSaveImage(0):
                dom.managedSaveRemove(0)
            # libvirt's Xen driver has no snapshots (and no nvram files of its own to delete).
            for snap in dom.listAllSnapshots(0) if not xen else []:
                try:
                    snap.delete(lv.VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY)
                except lv.libvirtError:
                    pass
        if xen:  # the Xen driver refuses every other undefine flag
            flags = lv.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
        else:
            flags = (lv.VIR_DOMAIN_UNDEFINE_NVRAM | lv.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                     | lv.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
            flags |= getattr(lv, "VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA", 0)
        with translated("undefine instance %s" % name, KIND, name):
            if dom.isPersistent():
                dom.undefineFlags(flags)

    # -- recreate
    def _recreate(self, plan):
        after = plan.desired
        spec = after["spec"]
        dom = self._lookup(plan.name)
        old_xml = dom.XMLDesc(self.lv.VIR_DOMAIN_XML_INACTIVE)
        old = domain_xml.parse(old_xml)
        was = _state_name(dom.state()[0], self.lv)
        if dom.isActive():
            self._stop(dom, plan.facts["stop_timeout"])
        self._undefine(dom, plan.facts)
        created = []
        self._create_volumes(plan.facts["create_volumes"], created)
        seed = old["meta"].get("seed")
        if spec.get("cloud_init"):
            seed = self._write_seed(spec)
        owned = list(old["meta"]["owned"]) + created
        meta = {"machine": after["machine"], "virt_type": spec["virt_type"], "owned": owned, "seed": seed,
                "pool": spec.get("pool") or old["meta"].get("pool"),
                "overrides": [o["xpath"] for o in after.get("xml_overrides") or []]}
        build = dict(after, seed={"pool": seed["pool"], "volume": seed["volume"]} if seed else None,
                     meta=meta, hotplug_slots=spec.get("hotplug_slots", 4),
                     keep_metadata=domain_xml.foreign_metadata(old_xml))
        if after.get("xen") is not None:
            build = self._xen_paths(build)
        with translated("define instance %s" % plan.name, KIND, plan.name):
            dom = self.conn.defineXML(domain_xml.build(build))
        if after.get("autostart"):
            dom.setAutostart(1)
        self._power(dom, "stopped", after["state"] if spec["state"] else was, plan.facts)

    # -- update
    def _update(self, plan):
        after = plan.desired
        spec = after["spec"]
        facts = plan.facts
        name = plan.name
        dom = self._lookup(name)
        if dom is None:
            raise NotFound("instance %s vanished while converging" % name, kind=KIND, name=name)
        current = self._read(dom)
        created = []
        self._create_volumes(facts["create_volumes"], created)
        running = current["state"] != "stopped"
        live_ok = running and facts["apply"] in ("live", "restart") and not facts["restart"]
        meta = dict(current["meta"])
        meta["owned"] = [o for o in meta["owned"] if o not in facts["detach_owned"]] + [
            c for c in created if c not in meta["owned"]]
        seed = meta.get("seed")
        changed_paths = set(c.path.split("[")[0].split(".")[0] for c in plan.changes)
        if "cloud_init" in changed_paths and spec.get("cloud_init"):
            seed = meta["seed"] = self._write_seed(spec)
        if spec.get("xml_overrides") is not None:
            meta["overrides"] = [o["xpath"] for o in spec["xml_overrides"]]
        for grow in facts["grow"]:
            self._grow(dom, grow, running)
        if facts["define"]:
            edits = dict((k, after[k]) for k in ("vcpus", "max_vcpus", "memory", "max_memory", "boot", "graphics",
                                                 "guest_agent") if spec.get(k) is not None)
            if spec.get("virt_type") not in (None, "auto"):
                edits["virt_type"] = spec["virt_type"]
            if spec.get("cpu") is not None:
                edits["cpu"] = after["cpu"]
            if spec.get("disks") is not None:
                edits["disks"] = after["disks"]
            if spec.get("cdrom") is not None:
                edits["cdrom"] = after["cdrom"]
            if spec.get("nics") is not None:
                edits["nics"] = after["nics"]
            if spec.get("console_log") is not None:
                edits["console_log"] = after["console_log"]
            if seed and "cloud_init" in changed_paths:
                edits["seed"] = {"pool": seed["pool"], "volume": seed["volume"]}
            if spec.get("xml_overrides") is not None:
                edits["xml_overrides"] = spec["xml_overrides"]
            if current.get("xen") is not None:
                if "xen" in changed_paths:
                    edits["xen"] = after["xen"]
                edits = self._xen_paths(edits)
            with translated("update the definition of instance %s" % name, KIND, name):
                self.conn.defineXML(domain_xml.edit(current["_xml"], edits, meta))
        if "autostart" in changed_paths:
            with translated("set autostart of instance %s" % name, KIND, name):
                dom.setAutostart(1 if after["autostart"] else 0)
        if live_ok:
            # Hot-plugged NICs get the MACs libvirt just generated for the definition, so the
            # running guest and its definition agree (and a later unplug finds the device).
            with translated("read instance %s" % name, KIND, name):
                defined = domain_xml.parse(dom.XMLDesc(self.lv.VIR_DOMAIN_XML_INACTIVE))
            self._live_changes(dom, plan, current, defined)
        if running and not facts["restart"] and after["state"] != "stopped":
            self._mark_pending(dom, facts["pending_after"])
        if facts["restart"]:
            self._stop(dom, facts["stop_timeout"])
            self._power(dom, "stopped", after["state"], facts)
        else:
            self._power(dom, current["state"], after["state"], facts)
        self._delete_volumes(facts["detach_owned"])

    def _grow(self, dom, grow, running):
        capacity = grow["capacity"]
        if running:
            with translated("grow disk %s of instance %s" % (grow["target"], dom.name()), KIND, dom.name()):
                dom.blockResize(grow["target"], capacity, self.lv.VIR_DOMAIN_BLOCK_RESIZE_BYTES)
            return
        pool = self._pool(grow["pool"])
        vol = storage.find_volume(pool, grow["volume"])
        with translated("grow volume %s/%s" % (grow["pool"], grow["volume"]), KIND, dom.name()):
            vol.resize(capacity, 0)

    def _live_changes(self, dom, plan, current, defined):
        lv = self.lv
        live = lv.VIR_DOMAIN_AFFECT_LIVE
        name = dom.name()
        after = plan.desired
        root = ET.fromstring(dom.XMLDesc(0))
        xen_mode = domain_xml.xen_mode_of(root)
        for change in plan.changes:
            if change.effect != "live":
                continue
            path = change.path
            with translated("change %s of running instance %s" % (path, name), KIND, name):
                if path == "vcpus":
                    dom.setVcpusFlags(change.after, live)
                elif path == "memory":
                    dom.setMemoryFlags(change.after // 1024, live)
                elif path.startswith("disks[") and "." not in path:
                    target = path[len("disks["):-1]
                    if change.op == "add":
                        disk = [d for d in after["disks"] if d["target"] == target][0]
                        if xen_mode:
                            disk = self._with_path(disk)
                        dom.attachDeviceFlags(ET.tostring(domain_xml.disk_element(disk, xen_mode), encoding="unicode"),
                                              live)
                    elif change.op == "remove":
                        elem = _live_disk(root, target)
                        if elem is not None:
                            self._detach(dom, elem, "disk %s" % target)
                elif path.startswith("nics["):
                    self._live_nic(dom, root, change, after, defined, xen_mode)
                elif path == "cdrom":
                    bus = domain_xml.cdrom_bus(current["machine"], xen_mode)
                    media = self._with_path(after["cdrom"]) if xen_mode else after["cdrom"]
                    elem = domain_xml.cdrom_element(media, bus, domain_xml.drive_targets(bus, xen_mode)[0], xen_mode)
                    dom.updateDeviceFlags(ET.tostring(elem, encoding="unicode"), live)

    def _live_nic(self, dom, root, change, after, defined, xen_mode=None):
        live = self.lv.VIR_DOMAIN_AFFECT_LIVE
        index = int(change.path[len("nics["):-1])
        nic = dict(after["nics"][index]) if index < len(after["nics"]) else {}
        if not nic.get("mac") and index < len(defined["nics"]):
            nic["mac"] = defined["nics"][index]["mac"]
        if change.op == "add":
            dom.attachDeviceFlags(ET.tostring(domain_xml.interface_element(nic, xen_mode), encoding="unicode"), live)
            return
        mac = change.before["mac"]
        elem = None
        for iface in root.findall("devices/interface"):
            if iface.find("mac") is not None and iface.find("mac").get("address", "").lower() == mac:
                elem = iface
        if elem is None:
            return
        if change.op == "remove":
            self._detach(dom, elem, "NIC %s" % mac)
        else:
            nic["mac"] = mac
            dom.updateDeviceFlags(ET.tostring(domain_xml.interface_element(nic, xen_mode), encoding="unicode"), live)

    def _detach(self, dom, elem, what):
        """Unplug a device and wait (up to 20 s) for the guest to release it."""
        lv = self.lv
        dom.detachDeviceFlags(ET.tostring(elem, encoding="unicode"), lv.VIR_DOMAIN_AFFECT_LIVE)
        alias = elem.find("alias")
        deadline = time.time() + 20
        while alias is not None and time.time() < deadline:
            if alias.get("name") not in dom.XMLDesc(0):
                return
            time.sleep(_POLL)
        if alias is not None and alias.get("name") in dom.XMLDesc(0):
            self._warnings.append("instance %s: the guest has not released %s yet (no hot-unplug support "
                                  "in the guest?); it is gone at the next boot" % (dom.name(), what))

    def _mark_pending(self, dom, fields):
        lv = self.lv
        with translated("record pending changes of instance %s" % dom.name(), KIND, dom.name()):
            if fields:
                dom.setMetadata(lv.VIR_DOMAIN_METADATA_ELEMENT, domain_xml.pending_xml(fields), "cvp",
                                domain_xml.PENDING_NS, lv.VIR_DOMAIN_AFFECT_LIVE)
            else:
                dom.setMetadata(lv.VIR_DOMAIN_METADATA_ELEMENT, None, None, domain_xml.PENDING_NS,
                                lv.VIR_DOMAIN_AFFECT_LIVE)

    # -- power
    def _power(self, dom, have, want, facts):
        name = dom.name()
        lv = self.lv
        with translated("change the power state of instance %s from %s to %s" % (name, have, want), KIND, name):
            if have == want:
                return
            if want == "stopped":
                self._stop(dom, facts["stop_timeout"])
            elif have == "stopped":
                self._mark_leases(dom)
                dom.createWithFlags(lv.VIR_DOMAIN_START_PAUSED if want == "paused" else 0)
            elif want == "paused":
                dom.suspend()
            else:
                dom.resume()

    def _stop(self, dom, timeout):
        """Graceful ACPI shutdown, waiting ``timeout`` seconds, then power off."""
        name = dom.name()
        lv = self.lv
        if not dom.isActive():
            return
        if _state_name(dom.state()[0], lv) == "paused":
            with translated("resume instance %s to shut it down" % name, KIND, name):
                dom.resume()
        deadline = time.time() + timeout
        pressed = 0
        flags = self._shutdown_flags(dom)
        while time.time() < deadline:
            # The button is pressed again every few seconds: a guest still booting (or busy)
            # misses a press the way a real machine would.
            if time.time() - pressed >= _PRESS_EVERY:
                pressed = time.time()
                try:
                    dom.shutdownFlags(flags)
                except lv.libvirtError:
                    if not dom.isActive():
                        return
                    if not pressed:
                        break  # the guest cannot take ACPI requests: power it off
            try:
                if not dom.isActive():
                    return
            except lv.libvirtError:
                return
            time.sleep(_POLL)
        if dom.isActive():
            self._warnings.append("instance %s did not shut down within %d s of the ACPI request; it was "
                                  "powered off" % (name, timeout))
            with translated("power off instance %s" % name, KIND, name):
                try:
                    dom.destroy()
                except lv.libvirtError:
                    if dom.isActive():
                        raise

    def _shutdown_flags(self, dom):
        """The ACPI power button; on Xen the PV shutdown request (a PV/PVH guest has no ACPI
        button; an HVM guest with PV drivers takes the request, without them the button)."""
        lv = self.lv
        try:
            mode = domain_xml.xen_mode_of(ET.fromstring(dom.XMLDesc(0)))
        except lv.libvirtError:
            mode = None
        if mode in ("pv", "pvh"):
            return lv.VIR_DOMAIN_SHUTDOWN_PARAVIRT
        if mode == "hvm":
            return lv.VIR_DOMAIN_SHUTDOWN_PARAVIRT | lv.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN
        return lv.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN

    # -- waiting
    def _wait(self, plan):
        """Wait until the guest has an IP or its agent answers.  Returns whether it waited."""
        what = plan.facts.get("wait_for") or "none"
        if what == "none" or plan.action == DELETE:
            return False
        dom = self._lookup(plan.name)
        if dom is None or _state_name(dom.state()[0], self.lv) != "running":
            return False
        timeout = plan.facts["wait_timeout"]
        deadline = time.time() + timeout
        while True:
            if what == "ip" and self._has_ip(dom):
                return True
            if what == "agent" and self._agent_answers(dom):
                return True
            if time.time() >= deadline:
                break
            time.sleep(1)
        console = plan.desired.get("console_log") if plan.desired else None
        tail = self.console_tail(console)
        raise Timeout(
            "the guest did not %s within %d s" % (
                "get an IP address (DHCP lease or guest agent)" if what == "ip" else "answer through its guest agent",
                timeout),
            kind=KIND, name=plan.name,
            hint="check the guest's boot in its console log%s" % (
                ": last lines of %s:\n%s" % (console, tail) if tail else " (%s)" % (console or "no console log")),
            details={"console_tail": tail.splitlines() if tail else []})

    def _leases(self, dom):
        """{(mac, ip): expiry} of the DHCP leases of the instance's libvirt networks."""
        root = ET.fromstring(dom.XMLDesc(0))
        result = {}
        for iface in root.findall("devices/interface"):
            mac = iface.find("mac")
            source = iface.find("source")
            if mac is None or source is None or not source.get("network"):
                continue
            try:
                leases = self.conn.networkLookupByName(source.get("network")).DHCPLeases(mac.get("address"), 0)
            except self.lv.libvirtError:
                continue
            for lease in leases or []:
                if lease.get("type") == self.lv.VIR_IP_ADDR_TYPE_IPV4 and lease.get("ipaddr"):
                    result[(mac.get("address").lower(), lease["ipaddr"])] = lease.get("expirytime")
        return result

    def _mark_leases(self, dom):
        """Remember the leases before (re)starting the guest: only new or renewed ones prove it is up."""
        try:
            self._stale = self._leases(dom)
        except self.lv.libvirtError:
            self._stale = {}

    def _has_ip(self, dom):
        fresh = [key for key, expiry in self._leases(dom).items() if self._stale.get(key) != expiry]
        if fresh:
            return True
        state = {"interfaces": [], "agent_connected": False}
        root = ET.fromstring(dom.XMLDesc(0))
        for chan in root.findall("devices/channel/target"):
            if chan.get("name") == domain_xml.AGENT_CHANNEL and chan.get("state") == "connected":
                state["agent_connected"] = True
        if not state["agent_connected"]:
            return False
        for iface in root.findall("devices/interface/mac"):
            state["interfaces"].append({"mac": iface.get("address").lower(), "ips": []})
        self._addresses(dom, state, agent=True)
        return any(":" not in ip for ip in state["ips"])

    def _agent_answers(self, dom):
        try:
            import libvirt_qemu
        except ImportError:
            raise BackendError("waiting for the guest agent needs libvirt_qemu (part of libvirt-python)",
                               kind=KIND, name=dom.name())
        try:
            libvirt_qemu.qemuAgentCommand(dom, '{"execute": "guest-ping"}', 3, 0)
            return True
        except self.lv.libvirtError:
            return False

    def console_tail(self, path, lines=_CONSOLE_TAIL):
        """The last lines of the console log (local hypervisors only), or ''."""
        if not path or not self.local:
            return ""
        try:
            with open(path, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                handle.seek(max(0, size - 16384))
                data = handle.read().decode("utf-8", "replace")
        except (IOError, OSError):
            return ""
        text = "\n".join(data.replace("\r", "").splitlines()[-lines:])
        return "".join(c for c in text if c == "\n" or c.isprintable())


def _check_overrides(xml, overrides, name):
    """Refuse, before anything is created, overrides that select nothing they could change."""
    problems = Problems()
    for index, status in enumerate(domain_xml.overrides_satisfied(xml, overrides)):
        if status is None:
            problems.add("xml_overrides[%d].xpath" % index,
                         "%r matches nothing in the definition, and a path with predicates cannot be "
                         "created" % overrides[index]["xpath"])
    problems.raise_if_any(KIND, name)


def _live_disk(root, target):
    for disk in root.findall("devices/disk"):
        tgt = disk.find("target")
        if tgt is not None and tgt.get("dev") == target:
            return disk
    return None


def _visible(state):
    return dict((k, v) for k, v in state.items() if not k.startswith("_"))


def _boot_id():
    try:
        with open("/proc/sys/kernel/random/boot_id") as handle:
            return handle.read().strip()
    except (IOError, OSError):
        return None


def _probe_kernel():
    explicit = os.environ.get(PROBE_KERNEL_ENV)
    if explicit:
        return explicit if os.path.isfile(explicit) else None
    try:
        names = sorted(n for n in os.listdir("/boot") if n.startswith("vmlinuz-"))
    except OSError:
        return None
    return os.path.join("/boot", names[-1]) if names else None


def _read_json(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return None


def _write_json(path, data):
    try:
        tmp = path + ".%d" % os.getpid()
        with open(tmp, "w") as handle:
            json.dump(data, handle)
        os.rename(tmp, path)
    except (IOError, OSError):
        pass
