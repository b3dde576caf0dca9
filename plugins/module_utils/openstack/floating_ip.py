# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Neutron floating IPs (openstacksdk).  See resources/os_floating_ip.py for how one is identified."""

from __future__ import annotations

import ipaddress

from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Driver
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import CREATE, DELETE
from ansible_collections.converge.virt.plugins.module_utils.resources.os_common import OWNER_TAG, owner_tags, user_tags
from ansible_collections.converge.virt.plugins.module_utils.resources.os_floating_ip import FloatingIpWorld


def _first_v4(fixed_ips):
    for item in fixed_ips or []:
        if ipaddress.ip_address(item["ip_address"]).version == 4:
            return item["ip_address"]
    return None


class FloatingIpDriver(Driver):

    def __init__(self, cloud):
        self.cloud = cloud
        self.net = cloud.conn.network
        self._desired = None
        self._network_names = {}

    def _network_name(self, network_id):
        if network_id not in self._network_names:
            found = self.cloud.call("network %s" % network_id, self.net.get_network, network_id, missing_ok=True)
            self._network_names[network_id] = found.name if found is not None else network_id
        return self._network_names[network_id]

    def _state(self, fip, server=None):
        tags = list(fip.tags or [])
        return {"id": fip.id, "address": fip.floating_ip_address, "network_id": fip.floating_network_id,
                "network": self._network_name(fip.floating_network_id), "port": fip.port_id or None,
                "fixed_address": fip.fixed_ip_address or None,
                "server": server if fip.port_id else None,
                "description": fip.description or "", "status": fip.status,
                "tags": user_tags(tags), "managed": OWNER_TAG in tags}

    def observe(self, name, desired=None):
        if desired is None:
            desired = self._desired or {}
        self._desired = desired
        world = FloatingIpWorld(is_admin=self.cloud.has_role("admin"))
        if desired.get("network"):
            found = self.cloud.find_one("network", desired["network"], self.net.networks,
                                        get_fn=self.net.get_network, listing="networks")
            if found is not None:
                world.network = {"id": found.id, "name": found.name, "external": bool(found.is_router_external)}
                self._network_names[found.id] = found.name
        port, server_id = self._target_port(desired, world)
        current = None
        if desired.get("address"):
            found = self.cloud.select("floating IPs", "floating_ips", self.net.ips,
                                      match={"floating_ip_address": desired["address"]},
                                      project_id=self.cloud.project_id)
            current = found[0] if found else None
        elif port is not None:
            found = self.cloud.select("floating IPs", "floating_ips", self.net.ips, match={"port_id": port.id},
                                      project_id=self.cloud.project_id)
            if desired.get("fixed_address"):
                found = [f for f in found if f.fixed_ip_address == desired["fixed_address"]]
            if len(found) > 1:
                raise Conflict("port %s has %d floating IPs (%s); give address or fixed_address"
                               % (port.id, len(found), ", ".join(sorted(f.floating_ip_address for f in found))))
            current = found[0] if found else None
        if port is not None:
            fixed = desired.get("fixed_address")
            if fixed is None and current is not None and current.port_id == port.id:
                fixed = current.fixed_ip_address
            if fixed is None:
                fixed = _first_v4(port.fixed_ips)
            if fixed is None:
                world.problems.append(("server" if desired.get("server") else "port",
                                       "port %s has no IPv4 address for a floating IP" % port.id))
            elif fixed not in [i["ip_address"] for i in port.fixed_ips or []]:
                world.problems.append(("fixed_address", "%s is not an address of port %s" % (fixed, port.id)))
            world.target = {"id": port.id, "fixed_address": fixed, "server": server_id}
        if current is not None:
            server = server_id if port is not None and current.port_id == port.id else None
            if current.port_id and server is None:
                other = self.cloud.call("port %s" % current.port_id, self.net.get_port, current.port_id,
                                        missing_ok=True)
                server = (other.device_id or None) if other is not None else None
            world.current = self._state(current, server)
        return world

    def _target_port(self, desired, world):
        """The port the spec associates the floating IP with, and its server's ID."""
        if desired.get("port"):
            port = self.cloud.find_one("port", desired["port"], self.net.ports, get_fn=self.net.get_port,
                                       listing="ports")
            if port is None:
                world.problems.append(("port", "port %r does not exist" % desired["port"]))
                return None, None
            return port, port.device_id or None
        if not desired.get("server"):
            return None, None
        compute = self.cloud.conn.compute
        server = self.cloud.find_one("server", desired["server"], lambda **q: compute.servers(details=True, **q),
                                     get_fn=compute.get_server, listing="servers")
        if server is None:
            world.problems.append(("server", "server %r does not exist" % desired["server"]))
            return None, None
        ports = self.cloud.select("ports of server %s" % desired["server"], "ports", self.net.ports,
                                  match={"device_id": server.id})
        if desired.get("nic"):
            nic = self.cloud.find_one("network", desired["nic"], self.net.networks, get_fn=self.net.get_network,
                                      listing="networks")
            ports = [p for p in ports if nic is not None and p.network_id == nic.id]
        if desired.get("fixed_address"):
            ports = [p for p in ports if desired["fixed_address"] in [i["ip_address"] for i in p.fixed_ips or []]]
        if not ports:
            world.problems.append(("nic" if desired.get("nic") else "server",
                                   "server %r has no port%s" % (desired["server"], " matching nic/fixed_address"
                                                                if desired.get("nic") or desired.get("fixed_address")
                                                                else "")))
            return None, server.id
        if len(ports) > 1:
            world.problems.append(("nic", "server %r has %d ports; say which with nic or fixed_address"
                                   % (desired["server"], len(ports))))
            return None, server.id
        return ports[0], server.id

    def list(self, names=None, **filters):
        ips = list(self.cloud.call("floating IPs", self.net.ips, project_id=self.cloud.project_id))
        return [self._state(f) for f in sorted(ips, key=lambda f: f.floating_ip_address)
                if not names or f.floating_ip_address in names]

    def apply(self, plan):
        if plan.action == DELETE:
            self.cloud.call("release floating IP %s" % plan.name, self.net.delete_ip, plan.desired["id"],
                            retry=True, missing_ok=True)
            return {}
        after = plan.desired["after"]
        if plan.action == CREATE:
            attrs = {"floating_network_id": plan.desired["network_id"]}
            if after.get("address"):
                attrs["floating_ip_address"] = after["address"]
            if after.get("port"):
                attrs["port_id"] = after["port"]
                attrs["fixed_ip_address"] = after["fixed_address"]
            if after.get("description"):
                attrs["description"] = after["description"]
            fip = self.cloud.call("allocate floating IP", self.net.create_ip, retry=True, **attrs)
            self.cloud.call("tag floating IP %s" % fip.floating_ip_address, self.net.set_tags, fip,
                            owner_tags(after.get("tags")), retry=True)
            return {}
        fip = self.cloud.call("floating IP %s" % plan.name, self.net.get_ip, plan.desired["id"])
        paths = set(c.path for c in plan.changes)
        attrs = {}
        if paths & {"port", "fixed_address"}:
            attrs["port_id"] = after["port"]
            attrs["fixed_ip_address"] = after["fixed_address"]
        if "description" in paths:
            attrs["description"] = after["description"]
        if attrs:
            self.cloud.call("update floating IP %s" % plan.name, self.net.update_ip, fip, retry=True, **attrs)
        if "tags" in paths:
            tags = owner_tags(after["tags"], OWNER_TAG in (fip.tags or []), current=fip.tags)
            self.cloud.call("tag floating IP %s" % plan.name, self.net.set_tags, fip, tags)
        return {}
