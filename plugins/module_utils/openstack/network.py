# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Neutron networks with their subnets and router (openstacksdk).

A no-op run reads: the network (by name, in the project), its subnets, its ports, and, only when a
router is involved, the project's routers and the external network: five list calls at most."""

from __future__ import annotations

import ipaddress

from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Driver
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import CREATE, DELETE
from ansible_collections.converge.virt.plugins.module_utils.openstack.common import wait_gone
from ansible_collections.converge.virt.plugins.module_utils.resources.os_common import OWNER_TAG, owner_tags, user_tags
from ansible_collections.converge.virt.plugins.module_utils.resources.os_network import (
    ROUTER_INTERFACE_OWNERS,
    OsNetworkWorld,
    subnet_key,
)

# Normalized field -> openstacksdk attribute.
_NETWORK_ATTRS = {"description": "description", "mtu": "mtu", "port_security": "is_port_security_enabled",
                  "shared": "is_shared", "external": "is_router_external"}
_SUBNET_ATTRS = {"name": "name", "gateway": "gateway_ip", "allocation_pools": "allocation_pools",
                 "dns_nameservers": "dns_nameservers", "host_routes": "host_routes",
                 "enable_dhcp": "is_dhcp_enabled"}


def _tags(resource):
    return list(getattr(resource, "tags", None) or [])


def subnet_state(subnet):
    pools = sorted(({"start": p["start"], "end": p["end"]} for p in subnet.allocation_pools or []),
                   key=lambda p: ipaddress.ip_address(p["start"]))
    routes = sorted(({"destination": r["destination"], "nexthop": r["nexthop"]} for r in subnet.host_routes or []),
                    key=lambda r: (r["destination"], r["nexthop"]))
    return {"id": subnet.id, "name": subnet.name or "", "cidr": subnet.cidr, "ip_version": subnet.ip_version,
            "gateway": subnet.gateway_ip or "none", "allocation_pools": pools,
            "dns_nameservers": list(subnet.dns_nameservers or []), "host_routes": routes,
            "enable_dhcp": bool(subnet.is_dhcp_enabled)}


def network_state(net, subnets, router=None):
    tags = _tags(net)
    return {"id": net.id, "name": net.name, "status": net.status, "project_id": net.project_id,
            "description": net.description or "", "mtu": net.mtu,
            "port_security": bool(net.is_port_security_enabled), "shared": bool(net.is_shared),
            "external": bool(net.is_router_external),
            "tags": user_tags(tags), "managed": OWNER_TAG in tags,
            "subnets": sorted((subnet_state(s) for s in subnets), key=subnet_key),
            "router": router}


def _port(port):
    return {"id": port.id, "device_owner": port.device_owner or "", "device_id": port.device_id or "",
            "subnet_ids": [ip.get("subnet_id") for ip in port.fixed_ips or []]}


class NetworkDriver(Driver):

    def __init__(self, cloud):
        self.cloud = cloud
        self.net = cloud.conn.network

    # ---- reading ---------------------------------------------------------------------
    def _find(self, name):
        return self.cloud.find_one("network", name, self.net.networks, listing="networks",
                                   project_id=self.cloud.project_id)

    def observe(self, name, desired=None):
        # The re-read after apply gets no spec: it reads what the first read did (the router).
        if desired is None:
            desired = getattr(self, "_desired", None) or {}
        self._desired = desired
        net = self._find(name)
        world = OsNetworkWorld(is_admin=self.cloud.has_role("admin"))
        router_spec = desired.get("router")
        if router_spec and router_spec.get("external_network"):
            ext = self.cloud.find_one("external network", router_spec["external_network"], self.net.networks,
                                      get_fn=self.net.get_network, listing="networks")
            if ext is not None:
                world.external_network = {"id": ext.id, "name": ext.name, "external": bool(ext.is_router_external)}
        if net is None:
            return world
        subnets = self.cloud.select("subnets of network %s" % name, "subnets", self.net.subnets,
                                    match={"network_id": net.id})
        ports = [_port(p) for p in self.cloud.select("ports of network %s" % name, "ports", self.net.ports,
                                                     match={"network_id": net.id})]
        world.ports = ports
        router_ids = set(p["device_id"] for p in ports if p["device_owner"] in ROUTER_INTERFACE_OWNERS)
        routers = []
        if router_ids or router_spec:
            routers = self.cloud.listing("routers", "routers", self.net.routers, project_id=self.cloud.project_id)
        names = dict((s.id, s.name or s.cidr) for s in subnets)
        for router in routers:
            if router.id not in router_ids:
                continue
            ids = sorted(set(sid for p in ports if p["device_id"] == router.id
                             and p["device_owner"] in ROUTER_INTERFACE_OWNERS for sid in p["subnet_ids"]))
            world.routers.append({"id": router.id, "name": router.name, "managed": OWNER_TAG in _tags(router),
                                  "subnet_ids": ids, "other_interfaces": None})
        router_state = None
        if router_spec:
            wanted = router_spec.get("name")
            matches = [r for r in routers if r.name == wanted]
            if len(matches) > 1:
                raise Conflict("router: the name %r matches %d routers; rename one" % (wanted, len(matches)))
            if matches:
                router_state = self._router_state(matches[0], ports, names, world.external_network)
        world.current = network_state(net, subnets, router_state)
        return world

    def _router_state(self, router, ports, subnet_names, ext):
        gateway = (router.external_gateway_info or {}).get("network_id")
        ext_name = None
        if gateway:
            if ext is not None and ext["id"] == gateway:
                ext_name = ext["name"]
            else:
                found = self.cloud.call("network %s" % gateway, self.net.get_network, gateway, missing_ok=True)
                ext_name = found.name if found is not None else gateway
        subnets = sorted(set(subnet_names[sid] for p in ports if p["device_id"] == router.id
                             and p["device_owner"] in ROUTER_INTERFACE_OWNERS
                             for sid in p["subnet_ids"] if sid in subnet_names))
        return {"id": router.id, "name": router.name, "external_network": ext_name, "subnets": subnets,
                "managed": OWNER_TAG in _tags(router)}

    def list(self, names=None, **filters):
        if names:
            nets = []
            for name in names:
                nets.extend(self.cloud.call("networks", lambda n=name: list(self.net.networks(name=n))))
        else:
            nets = list(self.cloud.call("networks", self.net.networks))
        if not nets:
            return []
        by_net = {}
        for subnet in self.cloud.call("subnets", self.net.subnets):
            by_net.setdefault(subnet.network_id, []).append(subnet)
        result = []
        for net in sorted(nets, key=lambda n: (n.name, n.id)):
            state = network_state(net, by_net.get(net.id, []))
            state.pop("router")
            result.append(state)
        return result

    # ---- writing ---------------------------------------------------------------------
    def apply(self, plan):
        if plan.action == DELETE:
            return self._delete(plan)
        ops = plan.desired["ops"]
        if plan.action == CREATE:
            attrs = dict((_NETWORK_ATTRS[k], v) for k, v in ops["network"].items() if k != "tags")
            net = self.cloud.call("create network %s" % plan.name, self.net.create_network, retry=True,
                                  name=plan.name, **attrs)
            self.cloud.call("tag network %s" % plan.name, self.net.set_tags, net,
                            owner_tags(ops["network"].get("tags")), retry=True)
        else:
            net = self.cloud.call("network %s" % plan.name, self.net.get_network, plan.desired["id"])
            managed = OWNER_TAG in _tags(net)
            attrs = dict((_NETWORK_ATTRS[k], v) for k, v in ops["network"].items() if k != "tags")
            if attrs:
                net = self.cloud.call("update network %s" % plan.name, self.net.update_network, net, retry=True,
                                      **attrs)
            if "tags" in ops["network"]:
                tags = owner_tags(ops["network"]["tags"], managed, current=_tags(net))
                self.cloud.call("tag network %s" % plan.name, self.net.set_tags, net, tags, retry=True)
        subnet_ids = dict((subnet_key(s), s.get("id")) for s in (plan.before or {}).get("subnets") or [])
        router_ops = ops.get("router")
        router = None
        if router_ops and router_ops.get("id"):
            router = self.cloud.call("router %s" % router_ops["name"], self.net.get_router, router_ops["id"])
        # Interfaces go first: a subnet with a router interface cannot be deleted.
        if router is not None:
            for key in router_ops.get("remove", []):
                self._remove_interface(router, subnet_ids.get(key))
            if router_ops.get("op") == "delete":
                self._delete_router(router, router_ops.get("managed"))
                router = None
        reattach = {}
        for op in ops["subnets"]:
            if op["op"] in ("delete", "replace"):
                reattach[op["key"]] = self._detach_routers(net.id, op["id"])
                self.cloud.call("delete subnet %s" % op["key"], self.net.delete_subnet, op["id"], retry=True,
                                missing_ok=True)
        for op in ops["subnets"]:
            if op["op"] in ("create", "replace"):
                subnet_ids[op["key"]] = self._create_subnet(net.id, op["item"]).id
                for router_id in reattach.get(op["key"], []):
                    self.cloud.call("add router interface", self.net.add_interface_to_router, router_id,
                                    subnet_id=subnet_ids[op["key"]], retry=True)
            elif op["op"] == "update":
                attrs = dict((_SUBNET_ATTRS[k], None if k == "gateway" and v == "none" else v)
                             for k, v in op["attrs"].items())
                # A router interface holds the gateway address: Neutron moves the gateway only
                # without it, so the interface is taken off and put back on the new address.
                moved = self._detach_routers(net.id, op["id"]) if "gateway" in op["attrs"] else []
                self.cloud.call("update subnet %s" % op["key"], self.net.update_subnet, op["id"], **attrs)
                if op["attrs"].get("gateway") != "none":
                    for router_id in moved:
                        self.cloud.call("add router interface", self.net.add_interface_to_router, router_id,
                                        subnet_id=op["id"], retry=True)
        if router_ops and router_ops.get("op") in ("create", "update"):
            if router_ops.get("add"):  # subnets may have been created or renamed above
                subnet_ids = dict((s.name or s.cidr, s.id) for s in self.cloud.call(
                    "subnets of network %s" % plan.name, self.net.subnets, network_id=net.id))
            if router is None:
                attrs = {"name": router_ops["name"]}
                if router_ops.get("gateway_network_id"):
                    attrs["external_gateway_info"] = {"network_id": router_ops["gateway_network_id"]}
                router = self.cloud.call("create router %s" % router_ops["name"], self.net.create_router,
                                         retry=True, **attrs)
                self.cloud.call("tag router %s" % router_ops["name"], self.net.set_tags, router, [OWNER_TAG],
                                retry=True)
            elif router_ops.get("gateway_network_id"):
                self.cloud.call("set gateway of router %s" % router_ops["name"], self.net.update_router, router,
                                retry=True, external_gateway_info={"network_id": router_ops["gateway_network_id"]})
            for key in router_ops.get("add", []):
                self.cloud.call("add interface for subnet %s to router %s" % (key, router_ops["name"]),
                                self.net.add_interface_to_router, router, subnet_id=subnet_ids[key], retry=True)
        return {}

    def _create_subnet(self, network_id, item):
        attrs = {"network_id": network_id, "name": item["name"], "cidr": item["cidr"],
                 "ip_version": item["ip_version"]}
        for field, attr in _SUBNET_ATTRS.items():
            if field == "name" or item.get(field) is None:
                continue
            attrs[attr] = None if field == "gateway" and item[field] == "none" else item[field]
        subnet = self.cloud.call("create subnet %s" % item["name"], self.net.create_subnet, retry=True, **attrs)
        self.cloud.call("tag subnet %s" % item["name"], self.net.set_tags, subnet, [OWNER_TAG], retry=True)
        return subnet

    def _detach_routers(self, network_id, subnet_id):
        """Remove every router interface on a subnet about to go; return those routers' IDs."""
        routers = []
        for port in self.cloud.call("ports", self.net.ports, network_id=network_id):
            subnets = [ip.get("subnet_id") for ip in port.fixed_ips or []]
            if port.device_owner in ROUTER_INTERFACE_OWNERS and subnet_id in subnets:
                self._remove_interface(port.device_id, subnet_id)
                routers.append(port.device_id)
        return routers

    def _remove_interface(self, router, subnet_id):
        if subnet_id is None:
            return
        self.cloud.call("remove router interface", self.net.remove_interface_from_router, router,
                        subnet_id=subnet_id, retry=True, missing_ok=True)

    def _delete_router(self, router, managed):
        if not managed:
            return
        self.cloud.call("delete router %s" % router.name, self.net.delete_router, router, retry=True,
                        missing_ok=True)

    def _delete(self, plan):
        for router in plan.desired["routers"]:
            for subnet_id in router["subnet_ids"]:
                self._remove_interface(router["id"], subnet_id)
            if router["delete"]:
                rest = [p for p in self.cloud.call("ports", self.net.ports, device_id=router["id"])
                        if p.device_owner in ROUTER_INTERFACE_OWNERS]
                if not rest:
                    self.cloud.call("delete router %s" % router["name"], self.net.delete_router, router["id"],
                                    retry=True, missing_ok=True)
        net_id = plan.desired["id"]
        timeout = plan.desired.get("wait_timeout") or 120
        # 409 while Neutron still removes DHCP/router ports: retried until wait_timeout.
        self.cloud.call("delete network %s" % plan.name, self.net.delete_network, net_id, retry=True,
                        missing_ok=True, retry_for=timeout)
        progress = []
        wait_gone(self.cloud, "network %s deletion" % plan.name,
                  lambda: self.cloud.call("network", self.net.get_network, net_id, missing_ok=True),
                  timeout, progress.append)
        return {"progress": progress}
