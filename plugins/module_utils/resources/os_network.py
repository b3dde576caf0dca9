# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Neutron networks: the network, its subnets and (optionally) its router.  Pure, no I/O.

Normalized state::

    name, description, mtu, port_security, shared, external, tags (user tags, sorted; the owner
    tag is shown as ``managed``), subnets: [{name, cidr, ip_version, gateway, allocation_pools:
    [{start, end}], dns_nameservers: [..], host_routes: [{destination, nexthop}], enable_dhcp}],
    router: {name, external_network, subnets: [subnet names], managed} or None
    (+ read-only: id, status, project_id, managed; subnets and router carry their id)

The libvirt-style ``ipv4``/``ipv6`` options are one subnet each, named ``<network>-ipv4`` /
``<network>-ipv6``: ``address`` 10.10.0.1/24 is the CIDR 10.10.0.0/24 with gateway 10.10.0.1,
``dhcp`` turns DHCP on and its ``range`` is the allocation pool.  ``subnets`` gives Neutron's
full power; a subnet is identified by its name, which defaults to its CIDR.

Effects: everything Neutron updates in place is live; a subnet's CIDR (and so its IP version)
is create-only: a REPLACE refused unless ``recreate: true``.
"""

from __future__ import annotations

import copy
import ipaddress

from ansible_collections.converge.virt.plugins.module_utils.engine import validate
from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Planner
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, Problems
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, NONE, REPLACE, UPDATE,
    Change, Field, KeyedList, Plan, Section, compare,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.os_common import (
    check_external_network, desired_tags,
)

KIND = "network"

# Options of the libvirt network module that have no Neutron counterpart.
LIBVIRT_ONLY = ("bridge", "domain", "dns")

NETWORK_FIELDS = ("description", "mtu", "port_security", "shared", "external", "tags")
ADMIN_FIELDS = ("shared", "external")
SUBNET_FIELDS = ("name", "cidr", "ip_version", "gateway", "allocation_pools", "dns_nameservers",
                 "host_routes", "enable_dhcp")
SUBNET_CREATE_ONLY = ("cidr", "ip_version")
ROUTER_FIELDS = ("external_network", "subnets")

# Ports Neutron itself owns on a network: they go away with the subnet/network or the router
# interface; every other port belongs to someone (a server, a user) and blocks a delete.
INFRA_OWNERS = ("network:dhcp", "network:router_interface", "network:router_interface_distributed",
                "network:ha_router_replicated_interface", "network:router_ha_interface",
                "network:distributed")
ROUTER_INTERFACE_OWNERS = ("network:router_interface", "network:router_interface_distributed",
                           "network:ha_router_replicated_interface")


def subnet_key(subnet):
    """Subnets are matched by name; a subnet without a name by its CIDR."""
    return subnet.get("name") or subnet.get("cidr")


SCHEMA = {
    "description": Field(LIVE),
    "mtu": Field(LIVE),
    "port_security": Field(LIVE),
    "shared": Field(LIVE),
    "external": Field(LIVE),
    "tags": Field(LIVE),
    "subnets": KeyedList(LIVE, key=subnet_key),
    "router": Section(LIVE, {"external_network": Field(LIVE), "subnets": Field(LIVE)}),
}


class OsNetworkWorld(object):
    """What the planner needs to know, read by the driver.

    ``ports``: the network's ports as ``{id, device_owner, device_id, subnet_ids}``.
    ``external_network``: the router's desired gateway network resolved, ``{id, name, external}``.
    ``routers``: routers with an interface on the network, ``{id, name, managed, subnet_ids,
    other_interfaces}`` (other_interfaces: interfaces on other networks' subnets)."""

    def __init__(self, current=None, is_admin=False, ports=None, external_network=None, routers=None):
        self.current = current
        self.is_admin = is_admin
        self.ports = list(ports or [])
        self.external_network = external_network
        self.routers = list(routers or [])


def default_pools(cidr, gateway):
    """The allocation pools Neutron picks: every host address but the gateway (predicted for check mode)."""
    net = ipaddress.ip_network(cidr)
    first = net.network_address + 1
    last = net.broadcast_address - 1 if net.version == 4 else net.broadcast_address
    if net.num_addresses < 4:
        return []
    pools = []
    gw = ipaddress.ip_address(gateway) if gateway else None
    if gw is None or not first <= gw <= last:
        return [{"start": str(first), "end": str(last)}]
    if gw > first:
        pools.append({"start": str(first), "end": str(gw - 1)})
    if gw < last:
        pools.append({"start": str(gw + 1), "end": str(last)})
    return pools


class OsNetworkPlanner(Planner):
    kind = KIND
    schema = SCHEMA

    # ---- desired state -----------------------------------------------------------------
    def normalize(self, params):
        problems = Problems()
        name = validate.resource_name(params.get("name"), "name", problems, max_length=255)
        mtu = params.get("mtu")
        desired = {
            "name": name,
            "state": params.get("state") or "present",
            "recreate": bool(params.get("recreate")),
            "wait_timeout": validate.int_range(params.get("wait_timeout") or 120, "wait_timeout", problems, 1, 86400),
            "description": params.get("description"),
            "mtu": validate.int_range(mtu, "mtu", problems, 68, 65535),
            "port_security": params.get("port_security"),
            "shared": params.get("shared"),
            "external": params.get("external"),
            "tags": None,
            "subnets": None,
            "subnets_exclusive": params.get("subnets") is not None,
            "router": None,
        }
        for option in LIBVIRT_ONLY:
            if params.get(option) is not None:
                problems.add(option, "applies only to the libvirt backend (Neutron has no counterpart)")
        # forward: isolated is portable: a Neutron network without a router reaches nothing beyond it.
        if params.get("forward") not in (None, "isolated"):
            problems.add("forward", "only isolated has a Neutron counterpart (a network without a router); "
                                    "to reach outside, give router.external_network")
        elif params.get("forward") == "isolated" and (params.get("router") or {}).get("state") == "present":
            problems.add("forward", "isolated means no router, but router is set")
        if params.get("tags") is not None:
            tags = [str(t) for t in params["tags"]]
            for tag in tags:
                if not tag or "," in tag or len(tag) > 255:
                    problems.add("tags", "%r is not a valid Neutron tag (1-255 characters, no ',')" % tag)
            desired["tags"] = desired_tags(tags)
        subnets = []
        if params.get("subnets") is not None:
            for index, spec in enumerate(params["subnets"]):
                item = self._subnet(spec or {}, "subnets[%d]" % index, problems)
                if item is not None:
                    subnets.append(item)
        for family, version in (("ipv4", 4), ("ipv6", 6)):
            if params.get(family) is not None and name is not None:
                item = self._shorthand(params[family], family, version, name, problems)
                if item is not None:
                    subnets.append(item)
        if subnets or desired["subnets_exclusive"]:
            self._check_subnets(subnets, problems)
            desired["subnets"] = subnets
        if params.get("router") is not None:
            desired["router"] = self._router(params["router"], name, problems)
        problems.raise_if_any(KIND, params.get("name"))
        return desired

    @staticmethod
    def _cidr(value, field, problems):
        try:
            net = ipaddress.ip_network(str(value).strip(), strict=False)
        except ValueError:
            problems.add(field, "%r is not a CIDR (like 10.10.0.0/24 or fd00:10::/64)" % (value,))
            return None
        if str(net) != str(value).strip() and "/" in str(value):
            problems.add(field, "%r has host bits set; the subnet is %s" % (value, net))
            return None
        if "/" not in str(value):
            problems.add(field, "%r needs a prefix length, e.g. %s/24" % (value, value))
            return None
        if (net.version == 4 and net.prefixlen > 30) or (net.version == 6 and net.prefixlen > 126):
            problems.add(field, "%s leaves no room for ports" % net)
            return None
        return net

    def _subnet(self, spec, where, problems):
        net = None
        if spec.get("cidr") is None:
            problems.add(where + ".cidr", "is required")
        else:
            net = self._cidr(spec["cidr"], where + ".cidr", problems)
        if net is None:
            return None
        item = {"name": spec.get("name") or str(net), "cidr": str(net), "ip_version": net.version,
                "gateway": None, "allocation_pools": None, "dns_nameservers": None,
                "host_routes": None, "enable_dhcp": spec.get("enable_dhcp")}
        if spec.get("name") is not None:
            validate.resource_name(spec["name"], where + ".name", problems, max_length=255)
        gateway = spec.get("gateway")
        if gateway is not None:
            if str(gateway).lower() in ("none", "null", ""):
                item["gateway"] = "none"
            else:
                addr = validate.ip_address(gateway, where + ".gateway", problems, net.version)
                if addr is not None:
                    if addr not in net or addr == net.network_address:
                        problems.add(where + ".gateway", "%s is not a host address of %s" % (addr, net))
                    item["gateway"] = str(addr)
        if spec.get("allocation_pools") is not None:
            pools = []
            for index, pool in enumerate(spec["allocation_pools"]):
                pwhere = "%s.allocation_pools[%d]" % (where, index)
                start = validate.ip_address(pool.get("start"), pwhere + ".start", problems, net.version)
                end = validate.ip_address(pool.get("end"), pwhere + ".end", problems, net.version)
                if start is None or end is None:
                    continue
                if start > end:
                    problems.add(pwhere, "start %s is after end %s" % (start, end))
                elif start not in net or end not in net:
                    problems.add(pwhere, "%s-%s is not inside %s" % (start, end, net))
                pools.append({"start": str(start), "end": str(end)})
            item["allocation_pools"] = sorted(pools, key=lambda p: ipaddress.ip_address(p["start"]))
        if spec.get("dns_nameservers") is not None:
            servers = []
            for index, server in enumerate(spec["dns_nameservers"]):
                addr = validate.ip_address(server, "%s.dns_nameservers[%d]" % (where, index), problems)
                if addr is not None:
                    servers.append(str(addr))
            item["dns_nameservers"] = servers  # order matters: it is the resolver order
        if spec.get("host_routes") is not None:
            routes = []
            for index, route in enumerate(spec["host_routes"]):
                rwhere = "%s.host_routes[%d]" % (where, index)
                dest = self._cidr(route.get("destination"), rwhere + ".destination", problems) \
                    if route.get("destination") is not None else None
                hop = validate.ip_address(route.get("nexthop"), rwhere + ".nexthop", problems)
                if route.get("destination") is None:
                    problems.add(rwhere + ".destination", "is required")
                if dest is not None and hop is not None:
                    routes.append({"destination": str(dest), "nexthop": str(hop)})
            item["host_routes"] = sorted(routes, key=lambda r: (r["destination"], r["nexthop"]))
        return item

    @staticmethod
    def _shorthand(spec, family, version, network_name, problems):
        """libvirt's ``ipv4``/``ipv6`` as one Neutron subnet named ``<network>-<family>``."""
        if spec.get("address") is None:
            problems.add(family + ".address", "is required on OpenStack (the subnet and its gateway)")
            return None
        iface = validate.interface_address(spec["address"], family + ".address", problems, version)
        if iface is None:
            return None
        dhcp = spec.get("dhcp")
        item = {"name": "%s-%s" % (network_name, family), "cidr": str(iface.network), "ip_version": version,
                "gateway": str(iface.ip), "allocation_pools": None, "dns_nameservers": None,
                "host_routes": None, "enable_dhcp": dhcp is not None}
        if dhcp is not None:
            if dhcp.get("hosts"):
                problems.add(family + ".dhcp.hosts", "applies only to the libvirt backend (on OpenStack, "
                                                     "give a port its fixed IP instead)")
            rng = dhcp.get("range")
            if rng is not None:
                if not isinstance(rng, (list, tuple)) or len(rng) != 2:
                    problems.add(family + ".dhcp.range", "must be a list of two addresses: [first, last]")
                else:
                    start = validate.ip_address(rng[0], family + ".dhcp.range[0]", problems, version)
                    end = validate.ip_address(rng[1], family + ".dhcp.range[1]", problems, version)
                    if start is not None and end is not None:
                        if start > end or start not in iface.network or end not in iface.network:
                            problems.add(family + ".dhcp.range", "%s-%s is not a range inside %s"
                                         % (start, end, iface.network))
                        item["allocation_pools"] = [{"start": str(start), "end": str(end)}]
        return item

    @staticmethod
    def _check_subnets(subnets, problems):
        seen = {}
        for item in subnets:
            key = subnet_key(item)
            if key in seen:
                problems.add("subnets", "the subnet %r is given twice" % key)
            seen[key] = item
        nets = [(subnet_key(s), ipaddress.ip_network(s["cidr"])) for s in subnets]
        for index, (key, net) in enumerate(nets):
            for other_key, other in nets[index + 1:]:
                if net.version == other.version and net.overlaps(other):
                    problems.add("subnets", "subnet %r (%s) overlaps subnet %r (%s)" % (key, net, other_key, other))

    @staticmethod
    def _router(spec, network_name, problems):
        router = {"state": spec.get("state") or "present",
                  "name": spec.get("name") or "%s-router" % network_name,
                  "external_network": spec.get("external_network"),
                  "subnets": None}
        if spec.get("name") is not None:
            validate.resource_name(spec["name"], "router.name", problems, max_length=255)
        if spec.get("subnets") is not None:
            router["subnets"] = [str(s) for s in spec["subnets"]]
        return router

    def outputs(self, plan):
        return {"restart_pending": False}  # the libvirt module's key; Neutron never restarts a network

    # ---- plan ------------------------------------------------------------------------
    def plan(self, desired, world):
        name = desired["name"]
        current = world.current
        if desired["state"] == "absent":
            return self._plan_delete(desired, world)
        self._check_admin(desired, current, world)

        if current is None:
            after = self._initial(desired)
            _check_gateways(after["subnets"], name)
            ext = self._check_router(desired, after, world)
            changes = [Change(k, "add", None, after[k], LIVE) for k in NETWORK_FIELDS
                       if desired.get(k) not in (None, [])]
            changes += [Change("subnets[%s]" % subnet_key(s), "add", None, s, LIVE) for s in after["subnets"]]
            router_changes, router_ops = self._plan_router(desired, {"router": None}, after, ext, world)
            changes += router_changes
            ops = {"network": self._network_attrs(after, None),
                   "subnets": [{"op": "create", "key": subnet_key(s), "item": s} for s in after["subnets"]],
                   "router": router_ops}
            return Plan(KIND, name, CREATE, changes, before=None, after=after,
                        desired={"after": after, "ops": ops}, facts={})

        after = copy.deepcopy(current)
        fields = dict((k, desired.get(k)) for k in NETWORK_FIELDS)
        changes = compare(fields, current, dict((k, SCHEMA[k]) for k in NETWORK_FIELDS))
        for k in NETWORK_FIELDS:
            if fields.get(k) is not None:
                after[k] = copy.deepcopy(fields[k])
        subnet_changes, subnet_ops, notes = self._plan_subnets(desired, current, world, after)
        changes += subnet_changes
        ext = self._check_router(desired, after, world)
        router_changes, router_ops = self._plan_router(desired, current, after, ext, world)
        changes += router_changes
        network_changed = any(c.path in NETWORK_FIELDS for c in changes)
        ops = {"network": self._network_attrs(after, current) if network_changed else {},
               "subnets": subnet_ops, "router": router_ops}
        action = UPDATE if changes else NONE
        return Plan(KIND, name, action, changes, before=copy.deepcopy(current), after=after,
                    desired={"after": after, "ops": ops, "id": current.get("id")}, notes=notes)

    @staticmethod
    def _check_admin(desired, current, world):
        if world.is_admin:
            return
        problems = Problems()
        for field in ADMIN_FIELDS:
            want = desired.get(field)
            have = (current or {}).get(field) or False
            if want is not None and bool(want) != bool(have):
                problems.add(field, "only an OpenStack admin may change it (the credentials of this task "
                                    "lack the admin role); ask an admin, or leave it unset")
        problems.raise_if_any(KIND, desired["name"])

    @staticmethod
    def _initial(desired):
        after = {"name": desired["name"], "id": None, "status": None, "managed": True,
                 "description": desired.get("description") or "",
                 "mtu": desired.get("mtu"),
                 "port_security": True if desired.get("port_security") is None else desired["port_security"],
                 "shared": bool(desired.get("shared")),
                 "external": bool(desired.get("external")),
                 "tags": desired.get("tags") or [],
                 "subnets": [], "router": None}
        for item in desired.get("subnets") or []:
            after["subnets"].append(_subnet_initial(item))
        return after

    @staticmethod
    def _network_attrs(after, current):
        """The Neutron attributes to send (all on create, only the changed ones on update)."""
        attrs = {}
        for field in ("description", "mtu", "port_security", "shared", "external"):
            value = after.get(field)
            if value is None:
                continue
            if current is None:
                if field in ("shared", "external") and not value:
                    continue  # admin-only attributes are sent only when they mean something
                attrs[field] = value
            elif current.get(field) != value:
                attrs[field] = value
        if current is None or current.get("tags") != after.get("tags"):
            attrs["tags"] = after.get("tags") or []
        return attrs

    def _plan_subnets(self, desired, current, world, after):
        changes, ops, notes = [], [], []
        want = desired.get("subnets")
        if want is None:
            return changes, ops, notes
        have = dict((subnet_key(s), s) for s in current.get("subnets") or [])
        # A subnet given without a name matches an existing one of the same CIDR.
        by_cidr = dict((s["cidr"], subnet_key(s)) for s in current.get("subnets") or [])
        result = []
        matched = set()
        named = set(subnet_key(i) for i in want)
        for item in want:
            key = subnet_key(item)
            if key not in have and item["cidr"] in by_cidr and by_cidr[item["cidr"]] not in named:
                # Not found by name, but a subnet with this CIDR exists that no other item names:
                # the same subnet (renamed when a name is given).
                key = by_cidr[item["cidr"]]
                if item["name"] == item["cidr"]:
                    item = dict(item, name=have[key]["name"] or item["name"])
            if key not in have:
                new = _subnet_initial(item)
                changes.append(Change("subnets[%s]" % key, "add", None, new, LIVE))
                ops.append({"op": "create", "key": key, "item": new})
                result.append(new)
                continue
            matched.add(key)
            old = have[key]
            merged = copy.deepcopy(old)
            item_changes = []
            for field in SUBNET_FIELDS:
                value = item.get(field)
                if value is None:
                    continue
                if value != old.get(field):
                    effect = REPLACE if field in SUBNET_CREATE_ONLY else LIVE
                    item_changes.append(Change("subnets[%s].%s" % (key, field), "modify" if old.get(field) is not None
                                               else "add", old.get(field), value, effect))
                    merged[field] = copy.deepcopy(value)
            if any(c.effect == REPLACE for c in item_changes):
                if not desired.get("recreate"):
                    raise Conflict("subnet %r: %s cannot be changed in place (Neutron subnets keep their CIDR)"
                                   % (key, ", ".join(c.path.split(".")[-1] for c in item_changes if c.effect == REPLACE)),
                                   kind=KIND, name=desired["name"],
                                   hint="set recreate: true to delete and recreate the subnet; its ports lose "
                                        "their addresses")
                self._refuse_used(old, world, desired["name"], "recreate")
                fresh = _subnet_initial(dict(item, name=merged["name"]))
                for field in SUBNET_FIELDS:
                    if item.get(field) is None and field not in ("cidr", "ip_version", "gateway", "allocation_pools"):
                        fresh[field] = old.get(field)
                merged = fresh
                ops.append({"op": "replace", "key": key, "id": old.get("id"), "item": merged})
                notes.append("subnet %r is deleted and created again (recreate: true)" % key)
            elif item_changes:
                ops.append({"op": "update", "key": key, "id": old.get("id"),
                            "attrs": dict((c.path.split(".")[-1], c.after) for c in item_changes)})
            changes.extend(item_changes)
            result.append(merged)
        for key, old in sorted(have.items()):
            if key in matched:
                continue
            if desired.get("subnets_exclusive"):
                self._refuse_used(old, world, desired["name"], "remove")
                changes.append(Change("subnets[%s]" % key, "remove", old, None, LIVE))
                ops.append({"op": "delete", "key": key, "id": old.get("id")})
            else:
                result.append(old)
        after["subnets"] = sorted(result, key=subnet_key)
        _check_gateways(after["subnets"], desired["name"])
        return changes, ops, notes

    @staticmethod
    def _refuse_used(subnet, world, name, verb):
        users = [p for p in world.ports if subnet.get("id") in p.get("subnet_ids", ())
                 and p.get("device_owner") not in INFRA_OWNERS]
        if users:
            raise Conflict("cannot %s subnet %r: ports %s use it" % (verb, subnet_key(subnet), ", ".join(
                "%s (%s %s)" % (p["id"], p.get("device_owner") or "unattached", p.get("device_id") or "")
                for p in users)), kind=KIND, name=name,
                hint="delete or move those servers/ports first")

    def _check_router(self, desired, after, world):
        """Validate the router against the merged subnets; returns the resolved external network."""
        router = desired.get("router")
        if not router or router["state"] == "absent":
            return None
        problems = Problems()
        ext = world.external_network
        check_external_network(router.get("external_network"), ext, "router.external_network", problems)
        keys = dict((subnet_key(s), subnet_key(s)) for s in after["subnets"])
        keys.update((s["cidr"], subnet_key(s)) for s in after["subnets"])
        if router.get("subnets") is not None:
            resolved = []
            for ref in router["subnets"]:
                if ref not in keys:
                    problems.add("router.subnets", "%r is not a subnet of this network (known: %s)"
                                 % (ref, ", ".join(sorted(set(keys.values()))) or "none"))
                else:
                    resolved.append(keys[ref])
                    sub = [s for s in after["subnets"] if subnet_key(s) == keys[ref]][0]
                    if sub.get("gateway") in (None, "none"):
                        problems.add("router.subnets", "subnet %r has no gateway for the router" % ref)
            router["resolved_subnets"] = sorted(set(resolved))
        else:
            router["resolved_subnets"] = sorted(subnet_key(s) for s in after["subnets"]
                                                if s.get("gateway") not in (None, "none"))
        problems.raise_if_any(KIND, desired["name"])
        return ext

    def _plan_router(self, desired, current, after, ext, world):
        router = desired.get("router")
        have = current.get("router")
        if router is None:
            return [], None
        subnet_ids = dict((subnet_key(s), s.get("id")) for s in after.get("subnets") or [])
        for other in world.routers:
            if other["name"] == router["name"] or router["state"] == "absent":
                continue
            taken = sorted(k for k in router.get("resolved_subnets") or [] if subnet_ids.get(k) in other["subnet_ids"])
            if taken:
                raise Conflict("subnets %s already have an interface on router %r" % (", ".join(taken), other["name"]),
                               kind=KIND, name=desired["name"],
                               hint="name that router in router.name, or remove its interfaces first")
        if router["state"] == "absent":
            if have is None:
                return [], None
            after["router"] = None
            return ([Change("router", "remove", have, None, LIVE)],
                    {"op": "delete", "id": have.get("id"), "managed": have.get("managed"),
                     "remove": list(have.get("subnets") or [])})
        want = {"name": router["name"],
                "external_network": ext["name"] if ext else (have or {}).get("external_network"),
                "subnets": router["resolved_subnets"]}
        if have is None:
            state = dict(want, id=None, managed=True)
            after["router"] = state
            return [Change("router", "add", None, state, LIVE)], self._router_ops(state, None, ext, desired)
        changes = []
        for field in ROUTER_FIELDS:
            if want.get(field) is not None and want[field] != have.get(field):
                changes.append(Change("router.%s" % field, "modify", have.get(field), want[field], LIVE))
        state = dict(have, **dict((k, v) for k, v in want.items() if v is not None))
        after["router"] = state
        if not changes:
            return [], None
        return changes, self._router_ops(state, have, ext, desired)

    @staticmethod
    def _router_ops(state, have, ext, desired):
        if not state:
            return None
        ops = {"op": "create" if have is None else "update", "id": (have or {}).get("id"),
               "name": state["name"], "add": [], "remove": []}
        if ext is not None and (have is None or have.get("external_network") != ext["name"]):
            ops["gateway_network_id"] = ext["id"]
        before = set((have or {}).get("subnets") or [])
        ops["add"] = sorted(set(state["subnets"]) - before)
        ops["remove"] = sorted(before - set(state["subnets"]))
        return ops

    def _plan_delete(self, desired, world):
        name, current = desired["name"], world.current
        if current is None:
            return Plan(KIND, name, NONE, before=None, after=None)
        users = [p for p in world.ports if p.get("device_owner") not in INFRA_OWNERS]
        if users:
            described = ["%s (%s%s)" % (p["id"], p.get("device_owner") or "unattached",
                                        " " + p["device_id"] if p.get("device_id") else "") for p in users]
            raise Conflict("ports still use the network: %s" % ", ".join(described), kind=KIND, name=name,
                           hint="delete those servers or ports first; a server's port is never deleted by this module")
        notes = []
        routers = []
        for router in world.routers:
            delete = bool(router.get("managed")) and not router.get("other_interfaces")
            routers.append({"id": router["id"], "name": router["name"], "subnet_ids": router["subnet_ids"],
                            "delete": delete})
            notes.append("router %s: %s" % (router["name"], "deleted (created by converge.virt)" if delete
                                            else "interfaces on this network removed, router kept"))
        return Plan(KIND, name, DELETE, [Change("network", "remove", None, None, LIVE)],
                    before=copy.deepcopy(current), after=None, notes=notes,
                    desired={"id": current.get("id"), "routers": routers, "wait_timeout": desired["wait_timeout"]})


def _check_gateways(subnets, name):
    """Neutron refuses a gateway inside an allocation pool: say so before anything changes."""
    problems = Problems()
    for subnet in subnets:
        gateway = subnet.get("gateway")
        if gateway in (None, "none"):
            continue
        addr = ipaddress.ip_address(gateway)
        for pool in subnet.get("allocation_pools") or []:
            if ipaddress.ip_address(pool["start"]) <= addr <= ipaddress.ip_address(pool["end"]):
                problems.add("subnets[%s].gateway" % subnet_key(subnet),
                             "%s is inside the allocation pool %s-%s; give allocation_pools that leave it out"
                             % (gateway, pool["start"], pool["end"]))
    problems.raise_if_any(KIND, name)


def _subnet_initial(item):
    """A subnet's state right after creation, with Neutron's defaults predicted."""
    new = dict((k, copy.deepcopy(item.get(k))) for k in SUBNET_FIELDS)
    new["id"] = None
    if new["gateway"] is None:
        net = ipaddress.ip_network(new["cidr"])
        new["gateway"] = str(net.network_address + 1)
    if new["allocation_pools"] is None:
        new["allocation_pools"] = default_pools(new["cidr"], None if new["gateway"] == "none" else new["gateway"])
    if new["dns_nameservers"] is None:
        new["dns_nameservers"] = []
    if new["host_routes"] is None:
        new["host_routes"] = []
    if new["enable_dhcp"] is None:
        new["enable_dhcp"] = True
    return new
