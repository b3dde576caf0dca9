# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Virtual networks: the backend-neutral spec, its validation, and the planner.

Normalized state (what ``current``, ``desired`` and ``after`` look like)::

    name, forward (nat|route|open|isolated|bridge), bridge, domain, mtu,
    ipv4: {address: "10.10.0.1/24", dhcp: {range: [start, end], hosts: [{mac, name, ip}]}},
    ipv6: {address: "fd00::1/64", dhcp: {range: [start, end], hosts: [{name, ip}]}},
    dns: {hosts: [{ip, names: [..]}], forwarders: [{addr, domain}]},
    autostart, active            (+ read-only: uuid, persistent)

Effects: DHCP ranges and hosts and DNS hosts change live; autostart and active are live
toggles; everything else needs the network redefined and, while it runs, restarted.
"""

from __future__ import annotations

import copy
import ipaddress

from ansible_collections.converge.virt.plugins.module_utils.engine import validate
from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Planner
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, Problems
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, NONE, RESTART, UPDATE,
    Change, Field, KeyedList, Plan, Section, compare, merge,
)

KIND = "network"
FORWARD_MODES = ("nat", "route", "open", "isolated", "bridge")
# Options that make no sense on a network that only points at an existing host bridge.
NOT_FOR_HOST_BRIDGE = ("ipv4", "ipv6", "dns", "domain", "mtu")


def dhcp_host_key(host):
    """DHCP hosts are matched by MAC (IPv4) or, without one, by name (IPv6 hosts have no MAC)."""
    return host.get("mac") or host.get("name")


def _ip_schema():
    return Section(RESTART, {
        "address": Field(RESTART),
        "dhcp": Section(RESTART, {
            "range": Field(LIVE),
            "hosts": KeyedList(LIVE, key=dhcp_host_key),
        }),
    })


SCHEMA = {
    "forward": Field(RESTART),
    "bridge": Field(RESTART),
    "domain": Field(RESTART),
    "mtu": Field(RESTART),
    "ipv4": _ip_schema(),
    "ipv6": _ip_schema(),
    "dns": Section(RESTART, {
        "hosts": KeyedList(LIVE, key=lambda host: host["ip"]),
        "forwarders": Field(RESTART),
    }),
    "autostart": Field(LIVE),
    "active": Field(LIVE),
}


class NetworkWorld(object):
    """What the planner needs to know about the host, read by a driver."""

    def __init__(self, current=None, others=None, attached=None, running_differs=False,
                 host_interfaces=None):
        self.current = current                  # normalized state, or None if absent
        self.others = list(others or [])        # normalized states of the host's other networks
        self.attached = list(attached or [])    # [{"name": domain, "running": bool}] using it
        self.running_differs = running_differs  # running definition lags the persistent one
        # Names of the hypervisor's network interfaces, or None when they were not read.
        self.host_interfaces = None if host_interfaces is None else set(host_interfaces)


class NetworkPlanner(Planner):
    kind = KIND
    schema = SCHEMA

    # ---- desired state -----------------------------------------------------------------
    def normalize(self, params):
        problems = Problems()
        name = validate.resource_name(params.get("name"), "name", problems)
        desired = {
            "name": name,
            "state": params.get("state") or "present",
            "allow_restart": params.get("allow_restart", True),
            "force": bool(params.get("force")),
            "forward": params.get("forward"),
            "bridge": None,
            "domain": None,
            "mtu": validate.int_range(params.get("mtu"), "mtu", problems, 68, 65535),
            "ipv4": self._ip(params.get("ipv4"), "ipv4", 4, problems),
            "ipv6": self._ip(params.get("ipv6"), "ipv6", 6, problems),
            "dns": self._dns(params.get("dns"), problems),
            "autostart": params.get("autostart"),
            "active": params.get("active"),
        }
        if desired["forward"] is not None and desired["forward"] not in FORWARD_MODES:
            problems.add("forward", "must be one of %s" % ", ".join(FORWARD_MODES))
        if params.get("bridge") is not None:
            desired["bridge"] = validate.interface_name(params["bridge"], "bridge", problems)
        if params.get("domain") is not None:
            desired["domain"] = validate.host_name(params["domain"], "domain", problems)
        if desired["forward"] == "bridge":
            if not params.get("bridge"):
                problems.add("bridge", "is required with forward: bridge (the existing host bridge)")
            for option in NOT_FOR_HOST_BRIDGE:
                if params.get(option) is not None:
                    problems.add(option, "cannot be set with forward: bridge; the host bridge's own "
                                         "configuration applies (use nat, route, open or isolated)")
        problems.raise_if_any(KIND, params.get("name"))
        return desired

    def _ip(self, spec, field, version, problems):
        if spec is None:
            return None
        result = {"address": None, "dhcp": None}
        if spec.get("address") is not None:
            iface = validate.interface_address(spec["address"], field + ".address", problems, version)
            result["address"] = str(iface) if iface else None
        dhcp = spec.get("dhcp")
        if dhcp is not None:
            result["dhcp"] = {"range": None, "hosts": None}
            if dhcp.get("range") is not None:
                result["dhcp"]["range"] = self._range(dhcp["range"], field + ".dhcp.range", version, problems)
            if dhcp.get("hosts") is not None:
                result["dhcp"]["hosts"] = self._dhcp_hosts(dhcp["hosts"], field + ".dhcp.hosts",
                                                           version, problems)
        return result

    @staticmethod
    def _range(value, field, version, problems):
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            problems.add(field, "must be a list of two addresses: [first, last]")
            return None
        start = validate.ip_address(value[0], field + "[0]", problems, version)
        end = validate.ip_address(value[1], field + "[1]", problems, version)
        if start is None or end is None:
            return None
        if start > end:
            problems.add(field, "first address %s is after last address %s" % (start, end))
            return None
        return [str(start), str(end)]

    @staticmethod
    def _dhcp_hosts(hosts, field, version, problems):
        result = []
        seen = {"mac": {}, "name": {}, "ip": {}}
        for index, host in enumerate(hosts):
            where = "%s[%d]" % (field, index)
            entry = {}
            if host.get("mac") is not None:
                if version == 6:
                    problems.add(where + ".mac", "IPv6 DHCP hosts are matched by name, not MAC")
                else:
                    entry["mac"] = validate.mac_address(host["mac"], where + ".mac", problems)
            if host.get("name") is not None:
                entry["name"] = validate.host_name(host["name"], where + ".name", problems, allow_dots=False)
            if host.get("ip") is None:
                problems.add(where + ".ip", "is required")
            else:
                addr = validate.ip_address(host["ip"], where + ".ip", problems, version)
                entry["ip"] = str(addr) if addr else None
            if version == 4 and not host.get("mac") and not host.get("name"):
                problems.add(where, "needs a mac or a name to identify the guest")
            if version == 6 and not host.get("name"):
                problems.add(where + ".name", "is required for IPv6 DHCP hosts")
            for attr in ("mac", "name", "ip"):
                value = entry.get(attr)
                if value is None:
                    continue
                if value in seen[attr]:
                    problems.add(where + "." + attr, "%s %s is already used by %s[%d]" % (
                        attr, value, field, seen[attr][value]))
                seen[attr][value] = index
            result.append(dict((k, v) for k, v in entry.items() if v is not None))
        return sorted(result, key=lambda h: str(dhcp_host_key(h)))

    @staticmethod
    def _dns(spec, problems):
        if spec is None:
            return None
        result = {"hosts": None, "forwarders": None}
        if spec.get("hosts") is not None:
            hosts, seen = [], set()
            for index, host in enumerate(spec["hosts"]):
                where = "dns.hosts[%d]" % index
                addr = validate.ip_address(host.get("ip"), where + ".ip", problems)
                names = [validate.host_name(n, "%s.names[%d]" % (where, i), problems)
                         for i, n in enumerate(host.get("names") or [])]
                if not names:
                    problems.add(where + ".names", "needs at least one name")
                if addr is not None and str(addr) in seen:
                    problems.add(where + ".ip", "%s is listed twice; give one entry with several names"
                                 % addr)
                if addr is not None:
                    seen.add(str(addr))
                    hosts.append({"ip": str(addr), "names": names})
            result["hosts"] = sorted(hosts, key=lambda h: h["ip"])
        if spec.get("forwarders") is not None:
            forwarders = []
            for index, fwd in enumerate(spec["forwarders"]):
                where = "dns.forwarders[%d]" % index
                entry = {}
                if fwd.get("addr") is not None:
                    addr = validate.ip_address(fwd["addr"], where + ".addr", problems)
                    entry["addr"] = str(addr) if addr else None
                if fwd.get("domain") is not None:
                    entry["domain"] = validate.host_name(fwd["domain"], where + ".domain", problems)
                if not entry:
                    problems.add(where, "needs addr, domain or both")
                forwarders.append(entry)
            result["forwarders"] = forwarders
        return result

    # ---- plan ------------------------------------------------------------------------
    def plan(self, desired, world):
        name = desired["name"]
        current = world.current
        if desired["state"] == "absent":
            return self._plan_delete(desired, world)

        fields = dict((k, desired.get(k)) for k in SCHEMA)
        if current is None:
            after = self._initial_state(name, fields)
            self._check_consistency(after, world, name)
            changes = compare(after, {}, SCHEMA)
            return Plan(KIND, name, CREATE, changes, before=None, after=after, desired=after,
                        facts={"restart": False, "restart_pending": False,
                               "attached_instances": []})

        after = merge(current, fields, SCHEMA)
        changes = compare(after, current, SCHEMA)
        if current.get("persistent") is False:
            # A transient network (virsh net-create) is adopted by giving it a persistent definition.
            after["persistent"] = True
            changes.append(Change("persistent", "modify", False, True, LIVE))
        if after.get("forward") == "bridge":
            # A network over an existing host bridge carries no addressing of its own.
            for option in NOT_FOR_HOST_BRIDGE:
                if current.get(option) not in (None, {"hosts": [], "forwarders": []}):
                    changes.append(Change(option, "remove", current[option], None, RESTART))
                after[option] = None if option != "dns" else {"hosts": [], "forwarders": []}
        self._check_consistency(after, world, name)

        running = bool(current.get("active"))
        stays_running = running and after.get("active", True)
        restart_paths = [c.path for c in changes if c.effect == RESTART]
        needs_restart = stays_running and bool(restart_paths or world.running_differs)
        restart = needs_restart and desired["allow_restart"]
        pending = needs_restart and not desired["allow_restart"]
        if world.running_differs and restart:
            changes.append(Change("(running definition)", "modify", "outdated", "as defined", RESTART))
            restart_paths.append("(running definition)")

        notes, warnings = [], []
        running_guests = sorted(d["name"] for d in world.attached if d.get("running"))
        if restart:
            text = "network %s restarts to apply: %s" % (name, ", ".join(restart_paths))
            if running_guests:
                text += ("; running instances are cut off during the restart and their interfaces "
                         "re-plugged after it: %s" % ", ".join(running_guests))
            notes.append(text)
            warnings.append(text)
        if pending:
            notes.append("network %s needs a restart to apply its definition (allow_restart is "
                         "false): the running network keeps its old configuration" % name)
        if not stays_running and restart_paths:
            notes.append("network %s is not running%s: its new definition applies when it starts" % (
                name, " after this run" if running else ""))
        action = UPDATE if changes else NONE
        return Plan(KIND, name, action, changes, before=copy.deepcopy(current), after=after,
                    desired=after, notes=notes,
                    facts={"restart": restart, "restart_pending": pending,
                           "attached_instances": sorted(d["name"] for d in world.attached),
                           "warnings": warnings})

    @staticmethod
    def _initial_state(name, fields):
        after = copy.deepcopy(fields)
        after["name"] = name
        if after.get("forward") is None:
            after["forward"] = "isolated"   # libvirt's own meaning of a network without <forward>
        dns = after.get("dns") or {}
        after["dns"] = {"hosts": dns.get("hosts") or [], "forwarders": dns.get("forwarders") or []}
        for family in ("ipv4", "ipv6"):
            spec = after.get(family)
            if spec and spec.get("dhcp"):
                spec["dhcp"]["hosts"] = spec["dhcp"].get("hosts") or []
        if after.get("active") is None:
            after["active"] = True
        if after.get("autostart") is None:
            after["autostart"] = True
        return after

    def _plan_delete(self, desired, world):
        name, current = desired["name"], world.current
        if current is None:
            return Plan(KIND, name, NONE, before=None, after=None,
                        facts={"restart": False, "restart_pending": False, "attached_instances": []})
        attached = sorted(d["name"] for d in world.attached)
        if attached and not desired["force"]:
            raise Conflict("is used by instances %s; refusing to delete it" % ", ".join(attached),
                           kind=KIND, name=name,
                           hint="detach or delete those instances first, or set force: true")
        return Plan(KIND, name, DELETE, [Change("network", "remove", None, None, RESTART)],
                    before=copy.deepcopy(current), after=None,
                    facts={"restart": False, "restart_pending": False, "attached_instances": attached,
                           "warnings": (["deleting network %s used by instances %s (force: true)"
                                         % (name, ", ".join(attached))] if attached else [])})

    # ---- validation against the merged state and the rest of the host ----------------------
    @staticmethod
    def _check_consistency(after, world, name):
        problems = Problems()
        for family, version in (("ipv4", 4), ("ipv6", 6)):
            spec = after.get(family)
            if not spec:
                continue
            if not spec.get("address"):
                problems.add(family + ".address", "is required to create the %s subnet" % family)
                continue
            iface = ipaddress.ip_interface(spec["address"])
            net = iface.network
            dhcp = spec.get("dhcp") or {}
            rng = dhcp.get("range")
            if rng:
                for index, value in enumerate(rng):
                    addr = ipaddress.ip_address(value)
                    if addr not in net:
                        problems.add("%s.dhcp.range[%d]" % (family, index),
                                     "%s is outside the subnet %s" % (value, net))
                    elif addr == net.network_address or (version == 4 and addr == net.broadcast_address):
                        problems.add("%s.dhcp.range[%d]" % (family, index),
                                     "%s is the subnet's network or broadcast address" % value)
            for index, host in enumerate(dhcp.get("hosts") or []):
                addr = ipaddress.ip_address(host["ip"])
                where = "%s.dhcp.hosts[%s].ip" % (family, dhcp_host_key(host))
                if addr not in net:
                    problems.add(where, "%s is outside the subnet %s" % (addr, net))
                elif addr == iface.ip:
                    problems.add(where, "%s is the network's own address" % addr)
                elif addr == net.network_address or (version == 4 and addr == net.broadcast_address):
                    problems.add(where, "%s is the subnet's network or broadcast address" % addr)
            for other in world.others:
                theirs = (other.get(family) or {}).get("address")
                if theirs and ipaddress.ip_interface(theirs).network.overlaps(net):
                    problems.add(family + ".address", "%s overlaps network %r (%s)" % (
                        net, other["name"], theirs))
        if version_mtu_conflict(after):
            problems.add("mtu", "IPv6 needs an MTU of at least 1280")
        bridge = after.get("bridge")
        current = world.current or {}
        if (after.get("forward") == "bridge" and bridge and world.host_interfaces is not None
                and bridge not in world.host_interfaces):
            problems.add("bridge", "the host bridge %s does not exist on the hypervisor; create it first "
                                   "(forward: bridge attaches guests to an existing bridge)" % bridge)
        if (current.get("forward") == "bridge" and after.get("forward") != "bridge"
                and bridge == current.get("bridge")):
            problems.add("bridge", "%s is the existing host bridge the network used; leaving forward: "
                                   "bridge needs a new bridge name for libvirt to create" % bridge)
        if bridge and after.get("forward") != "bridge":
            for other in world.others:
                if other.get("bridge") == bridge:
                    problems.add("bridge", "%s is already used by network %r" % (bridge, other["name"]))
        problems.raise_if_any(KIND, name)

    def outputs(self, plan):
        return {"restart_pending": bool(plan.facts.get("restart_pending"))}


def version_mtu_conflict(state):
    return bool(state.get("ipv6") and state.get("mtu") and state["mtu"] < 1280)
