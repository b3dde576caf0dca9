# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt driver for networks: read the host in a few batched calls, apply a Plan.

DHCP ranges/hosts and DNS hosts go through virNetworkUpdate on the running and the persistent
definition; every other change redefines the network and, when the plan says so, restarts it.
A no-op converge only reads.
"""

from __future__ import annotations

import os

from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Driver
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import NotFound
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, RESTART,
)
from ansible_collections.converge.virt.plugins.module_utils.libvirt import network_xml
from ansible_collections.converge.virt.plugins.module_utils.libvirt.connection import (
    remembered,
    require_libvirt,
    translated,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.network import KIND, NetworkWorld

# Fields whose difference between the running and the persistent definition only a restart fixes.
_RESTART_ONLY = ("forward", "bridge", "domain", "mtu")


class NetworkDriver(Driver):

    def __init__(self, conn, run_command=None):
        self.conn = conn
        # Runs commands in the hypervisor's network namespace; None when the hypervisor is remote.
        self.run_command = run_command
        self.lv = require_libvirt()

    # ---- reading -------------------------------------------------------------------------
    def _read(self, net, with_live=False):
        """(normalized state, running definition's state or None) of one virNetwork."""
        if with_live:
            return self._read_now(net, with_live)
        return remembered(self.cache, ("network", net.name()), lambda: self._read_now(net))

    def _read_now(self, net, with_live=False):
        lv = self.lv
        name = net.name()
        with translated("read network %s" % name, KIND, name):
            persistent = bool(net.isPersistent())
            active = bool(net.isActive())
            flags = lv.VIR_NETWORK_XML_INACTIVE if persistent else 0
            state = network_xml.parse(net.XMLDesc(flags))
            state["persistent"] = persistent
            state["active"] = active
            state["autostart"] = bool(net.autostart()) if persistent else False
            running = None
            if with_live and active and persistent:
                running = network_xml.parse(net.XMLDesc(0))
        return state, running

    def _all(self):
        def listing():
            with translated("list networks", KIND):
                return self.conn.listAllNetworks(0)
        return remembered(self.cache, "networks", listing)

    def _attached(self):
        """{network name: [{"name": domain, "running": bool}]} for every defined domain."""
        return remembered(self.cache, "attached", self._attached_now)

    def _attached_now(self):
        result = {}
        with translated("list instances", "instance"):
            domains = self.conn.listAllDomains(0)
        for dom in domains:
            try:
                xml = dom.XMLDesc(0)
                running = bool(dom.isActive())
            except self.lv.libvirtError:
                continue  # the domain vanished while we looked
            for net in network_xml.attached_networks(xml):
                result.setdefault(net, []).append({"name": dom.name(), "running": running})
        return result

    def _host_interfaces(self):
        """Names of the hypervisor's interfaces, or None if libvirt's interface driver is missing."""
        try:
            return [iface.name() for iface in self.conn.listAllInterfaces(0)]
        except self.lv.libvirtError:
            return None

    def observe(self, name, desired=None):
        current, others, running_differs = None, [], False
        for net in self._all():
            try:
                if net.name() == name:
                    current, running = self._read(net, with_live=True)
                    running_differs = running is not None and _restart_view(running) != _restart_view(current)
                else:
                    others.append(self._read(net)[0])
            except NotFound:
                continue  # deleted (by another task or thread) between the listing and the read
        attached = self._attached().get(name, [])
        host_bridge = bool(desired) and (desired.get("forward") == "bridge" or (
            desired.get("forward") is None and current is not None and current.get("forward") == "bridge"))
        return NetworkWorld(current=current, others=others, attached=attached,
                            running_differs=running_differs,
                            host_interfaces=self._host_interfaces() if host_bridge else None)

    def list(self, names=None):
        attached = self._attached()
        result = []
        for net in self._all():
            if names and net.name() not in names:
                continue
            try:
                state = self._read(net)[0]
                state["dhcp_leases"] = self._leases(net) if state["active"] else []
            except NotFound:
                continue  # deleted between the listing and the read
            state["attached_instances"] = sorted(d["name"] for d in attached.get(net.name(), []))
            result.append(state)
        return sorted(result, key=lambda s: s["name"])

    def _leases(self, net):
        leases = []
        with translated("read DHCP leases of network %s" % net.name(), KIND, net.name()):
            for lease in net.DHCPLeases():
                leases.append({"mac": lease.get("mac"), "ip": lease.get("ipaddr"),
                               "prefix": lease.get("prefix"), "hostname": lease.get("hostname"),
                               "expires": lease.get("expirytime")})
        return leases

    # ---- applying ------------------------------------------------------------------------
    def apply(self, plan):
        if plan.action == CREATE:
            self._create(plan)
        elif plan.action == DELETE:
            self._delete(plan)
        else:
            return self._update(plan)
        return {}

    def _lookup(self, name):
        with translated("look up network %s" % name, KIND, name):
            return self.conn.networkLookupByName(name)

    def _create(self, plan):
        after = plan.desired
        with translated("define network %s" % plan.name, KIND, plan.name):
            net = self.conn.networkDefineXML(network_xml.render(after))
        try:
            with translated("configure network %s" % plan.name, KIND, plan.name):
                net.setAutostart(1 if after["autostart"] else 0)
                if after["active"]:
                    net.create()
        except Exception:
            # Leave the host as it was: a half-created network would be adopted next run.
            try:
                net.undefine()
            except self.lv.libvirtError:
                pass
            raise

    def _delete(self, plan):
        net = self._lookup(plan.name)
        with translated("delete network %s" % plan.name, KIND, plan.name):
            if net.isActive():
                net.destroy()
            if net.isPersistent():
                net.undefine()

    def _update(self, plan):
        lv = self.lv
        name, after, before = plan.name, plan.desired, plan.before
        net = self._lookup(name)
        redefine = [c for c in plan.changes if (c.effect == RESTART and not c.path.startswith("("))
                    or c.path == "persistent"]
        live = [c for c in plan.changes if c.effect == LIVE and _through_network_update(c.path)]
        running = before["active"]
        reconnected = []

        if redefine:
            with translated("read network %s" % name, KIND, name):
                base = net.XMLDesc(lv.VIR_NETWORK_XML_INACTIVE) if before["persistent"] else net.XMLDesc(0)
            with translated("redefine network %s" % name, KIND, name):
                net = self.conn.networkDefineXML(network_xml.render(after, base_xml=base))
            if running and not plan.facts.get("restart"):
                self._update_live(net, live, lv.VIR_NETWORK_UPDATE_AFFECT_LIVE)
        elif live:
            flags = 0
            if before["persistent"]:
                flags |= lv.VIR_NETWORK_UPDATE_AFFECT_CONFIG
            if running:
                flags |= lv.VIR_NETWORK_UPDATE_AFFECT_LIVE
            self._update_live(net, live, flags)

        with translated("configure network %s" % name, KIND, name):
            if running and plan.facts.get("restart"):
                net.destroy()
                if after.get("active", True):
                    net.create()
                    reconnected = self._reconnect_guests(net)
            elif running and not after["active"]:
                net.destroy()
            elif not running and after["active"]:
                net.create()
            if before["autostart"] != after["autostart"]:
                net.setAutostart(1 if after["autostart"] else 0)
        if not plan.facts.get("restart"):
            return {}
        lost = ["%s (%s)" % (r["instance"], r["tap"]) for r in reconnected if not r["reconnected"]]
        warnings = ["could not re-plug into network %s after its restart: %s; re-attach those interfaces "
                    "or restart libvirtd on the hypervisor" % (name, ", ".join(lost))] if lost else []
        return {"reconnected": reconnected, "warnings": warnings}

    def _reconnect_guests(self, net):
        """Put running guests' tap devices back on the bridge a restart recreated.

        libvirt re-plugs them only when libvirtd itself restarts; a network restart leaves them
        detached.  Done on the hypervisor's own network stack, so only for local connections.
        """
        bridge = net.bridgeName()
        name = net.name()
        result = []
        for dom in self.conn.listAllDomains(self.lv.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
            try:
                taps = network_xml.taps_on_network(dom.XMLDesc(0), name)
            except self.lv.libvirtError:
                continue
            for tap in taps:
                if self.run_command is None or not os.path.exists("/sys/class/net/%s" % tap):
                    result.append({"instance": dom.name(), "tap": tap, "reconnected": False})
                    continue
                mtu = _read("/sys/class/net/%s/mtu" % bridge)
                cmd = ["ip", "link", "set", "dev", tap] + (["mtu", mtu] if mtu else []) + ["master", bridge]
                ok = self.run_command(cmd)[0] == 0
                result.append({"instance": dom.name(), "tap": tap, "reconnected": ok})
        return result

    def _update_live(self, net, changes, flags):
        """DHCP hosts/range and DNS hosts through virNetworkUpdate: removals first, then additions,
        so that an address moving from one host to another never collides."""
        lv = self.lv
        removals, additions = [], []
        with translated("read network %s" % net.name(), KIND, net.name()):
            families = network_xml.ip_families(net.XMLDesc(0))  # read once, not per change
        for change in changes:
            section, parent = self._section(families, change.path)
            if change.before is not None:
                removals.append((section, parent, change.before, change.path))
            if change.after is not None:
                additions.append((section, parent, change.after, change.path))
        for command, items in ((lv.VIR_NETWORK_UPDATE_COMMAND_DELETE, removals),
                               (lv.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST, additions)):
            for section, parent, value, path in items:
                xml = self._fragment(section, value)
                with translated("update %s of network %s" % (path, net.name()), KIND, net.name()):
                    net.update(command, section, parent, xml, flags)

    def _section(self, families, path):
        """(virNetworkUpdate section, parentIndex) of a change; ``families`` lists the <ip> elements'."""
        lv = self.lv
        if path.startswith("dns.hosts["):
            return lv.VIR_NETWORK_SECTION_DNS_HOST, -1
        family = path.split(".", 1)[0]
        # parentIndex: the position of this family's <ip> element among all <ip> elements.
        parent = families.index(family) if family in families else -1
        if ".dhcp.hosts[" in path:
            return lv.VIR_NETWORK_SECTION_IP_DHCP_HOST, parent
        if path.endswith(".dhcp.range"):
            return lv.VIR_NETWORK_SECTION_IP_DHCP_RANGE, parent
        raise AssertionError("not a live-updatable network field: %s" % path)

    def _fragment(self, section, value):
        lv = self.lv
        if section == lv.VIR_NETWORK_SECTION_DNS_HOST:
            return network_xml.fragment(network_xml.dns_host_element(value))
        if section == lv.VIR_NETWORK_SECTION_IP_DHCP_RANGE:
            return network_xml.fragment(network_xml.dhcp_range_element(value))
        return network_xml.fragment(network_xml.dhcp_host_element(value))


def _through_network_update(path):
    """Whether a change is made with virNetworkUpdate (rather than a toggle or a redefinition)."""
    return path.startswith("dns.hosts[") or ".dhcp.hosts[" in path or path.endswith(".dhcp.range")


def _read(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except (IOError, OSError):
        return None


def _restart_view(state):
    """The parts of a definition that only a restart brings into the running network."""
    view = dict((k, state.get(k)) for k in _RESTART_ONLY)
    for family in ("ipv4", "ipv6"):
        spec = state.get(family) or {}
        view[family] = (spec.get("address"), spec.get("dhcp") is not None)
    view["forwarders"] = (state.get("dns") or {}).get("forwarders")
    return view
