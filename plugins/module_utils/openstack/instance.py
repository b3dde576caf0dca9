# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova servers: reads the cloud for the planner (``resources/os_instance.py``) and carries out its plans.

A no-op run reads only: the server (one filtered list), its ports (one list by device), and only
the references the spec names.  Every wait has a deadline (the ``timeouts`` option) and reports
its status changes, which come back in the result's ``progress``.
"""

from __future__ import annotations

import base64

from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Driver
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import BackendError, Conflict
from ansible_collections.converge.virt.plugins.module_utils.openstack.common import wait_gone
from ansible_collections.converge.virt.plugins.module_utils.resources.os_common import (
    OWNER_TAG,
    get_field as _get,
    stack_tags,
    user_tags,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.os_instance import (
    BOOT_VOLUME_KEY,
    USER_DATA_KEY,
    OsInstanceWorld,
    state_of,
    user_metadata,
)


def _flavor(f):
    return {"id": f.id, "name": f.name, "vcpus": f.vcpus, "ram": f.ram, "disk": f.disk}


def _fault(server):
    fault = _get(server, "fault")
    if isinstance(fault, dict):
        return fault.get("message")
    return _get(fault, "message") if fault else None


class InstanceDriver(Driver):
    def __init__(self, cloud):
        self.cloud = cloud
        self.conn = cloud.conn
        self._progress = []

    # ---- reading -----------------------------------------------------------------------------
    def _find_server(self, name):
        return self.cloud.find_one("server", name, self._servers, get_fn=self.conn.compute.get_server,
                                   listing="servers")

    def _servers(self, **query):
        return self.conn.compute.servers(details=True, **query)

    def _flavors(self, **_query):
        return self.conn.compute.flavors(details=True)

    def _volumes(self, **query):
        return self.conn.block_storage.volumes(details=True, **query)

    def observe(self, name, desired=None):
        desired = desired or {}
        server = self._find_server(name)
        current = self._state(server) if server is not None else None
        refs = {}
        flavors = None
        microversion = "2.1"
        group_members = None
        if desired.get("state") not in (None, "absent"):
            refs, flavors = self._resolve_refs(desired, current)
            if desired.get("rebuild"):
                microversion = self._max_microversion()
            if desired.get("server_group") and refs["server_group"].get(desired["server_group"]):
                group_members = refs["server_group"][desired["server_group"]]["members"]
        return OsInstanceWorld(current=current, refs=refs, flavors=flavors, microversion=microversion,
                               server_group_members=group_members)

    def _max_microversion(self):
        try:
            data = self.conn.compute.get_endpoint_data()
            version = data.max_microversion
            return "%d.%d" % (version[0], version[1]) if isinstance(version, tuple) else str(version)
        except Exception:  # pylint: disable=broad-exception-caught
            return "2.1"

    def _resolve_refs(self, desired, current):
        cloud, conn = self.cloud, self.conn
        refs = dict((k, {}) for k in ("flavor", "image", "network", "port", "volume", "security_group",
                                      "keypair", "server_group"))
        flavors = None
        if desired.get("flavor"):
            found = cloud.find_one("flavor", desired["flavor"], self._flavors, get_fn=conn.compute.get_flavor,
                                   listing="flavors")
            refs["flavor"][desired["flavor"]] = _flavor(found) if found else None
        elif desired.get("vcpus") is not None or desired.get("memory") is not None:
            flavors = [_flavor(f) for f in cloud.listing("flavors", "flavors", self._flavors)]
        images = [desired.get("image")] + [d["image"] for d in desired.get("disks") or [] if d.get("image")]
        for ref in [i for i in images if i]:
            found = cloud.find_one("image", ref, conn.image.images, get_fn=conn.image.get_image, listing="images")
            refs["image"][ref] = {"id": found.id, "name": found.name, "min_disk": found.min_disk or 0,
                                  "status": found.status} if found else None
        networks = {}
        for nic in desired.get("nics") or []:
            if nic.get("network"):
                found = cloud.find_one("network", nic["network"], conn.network.networks,
                                       get_fn=conn.network.get_network, listing="networks")
                refs["network"][nic["network"]] = {"id": found.id, "name": found.name} if found else None
            if nic.get("port"):
                found = cloud.find_one("port", nic["port"], conn.network.ports, get_fn=conn.network.get_port,
                                       listing="ports")
                refs["port"][nic["port"]] = {"id": found.id, "name": found.name, "network_id": found.network_id,
                                             "device_id": found.device_id or None} if found else None
                if found is not None:
                    networks[found.network_id] = None
        if networks:
            for net in cloud.select("networks", "networks", conn.network.networks, match={"id": sorted(networks)}):
                networks[net.id] = net.name
            for port in refs["port"].values():
                if port:
                    port["network_name"] = networks.get(port["network_id"])
        for disk in desired.get("disks") or []:
            if disk.get("volume"):
                found = cloud.find_one("volume", disk["volume"], self._volumes,
                                       get_fn=conn.block_storage.get_volume, listing="volumes")
                refs["volume"][disk["volume"]] = {
                    "id": found.id, "name": found.name, "size": (found.size or 0) * 1024 ** 3,
                    "multiattach": bool(found.is_multiattach),
                    "attachments": sorted(set(a.get("server_id") for a in found.attachments or [] if a.get("server_id")))
                } if found else None
        for ref in desired.get("security_groups") or []:
            found = cloud.find_one("security group", ref, conn.network.security_groups,
                                   get_fn=conn.network.get_security_group, listing="security_groups",
                                   project_id=cloud.project_id)
            refs["security_group"][ref] = {"id": found.id, "name": found.name} if found else None
        if desired.get("key_name"):
            if cloud.batching:
                found = ([k for k in cloud.listing("keypairs", "keypairs", conn.compute.keypairs)
                          if k.name == desired["key_name"]] or [None])[0]
            else:
                found = cloud.call("keypair", conn.compute.get_keypair, desired["key_name"], missing_ok=True)
            refs["keypair"][desired["key_name"]] = {"name": found.name} if found else None
        if desired.get("server_group"):
            ref = desired["server_group"]
            groups = [g for g in cloud.call("server groups", lambda: list(conn.compute.server_groups()))
                      if ref in (g.id, g.name)]
            if len(groups) > 1:
                raise Conflict("server group: the name %r matches %d server groups; use the ID" % (ref, len(groups)))
            refs["server_group"][ref] = {"id": groups[0].id, "name": groups[0].name,
                                         "members": list(groups[0].member_ids or [])} if groups else None
        if desired.get("recreate") and current is not None and not desired.get("flavor") \
                and desired.get("vcpus") is None and desired.get("memory") is None:
            found = cloud.find_one("flavor", current["flavor"], self._flavors, listing="flavors")
            refs["flavor"][current["flavor"]] = _flavor(found) if found else None
        return refs, flavors

    def _state(self, server, ports=None, networks=None, sgs=None, volumes=None, image_name=None):
        """The normalized state of a server.  The optional maps come from batched lists (instance_info);
        without them the reads are per server (ports by device, names of what they point to)."""
        cloud, conn = self.cloud, self.conn
        if ports is None:
            ports = cloud.select("ports", "ports", conn.network.ports, match={"device_id": server.id})
        if networks is None:
            ids = sorted(set(p.network_id for p in ports))
            networks = dict((n.id, n.name) for n in cloud.select(
                "networks", "networks", conn.network.networks, match={"id": ids})) if ids else {}
        sg_ids = sorted(set(sg for p in ports for sg in p.security_group_ids or []))
        if sgs is None:
            sgs = dict((s.id, s.name) for s in cloud.select(
                "security groups", "security_groups", conn.network.security_groups,
                match={"id": sg_ids})) if sg_ids else {}
        attached = list(_get(server, "attached_volumes", []) or [])
        if volumes is None and attached:
            volumes = {}
            if cloud.batching:
                wanted = set(_get(item, "id") for item in attached)
                volumes = dict((v.id, v) for v in cloud.listing("volumes", "volumes", self._volumes) if v.id in wanted)
            for item in attached:
                if _get(item, "id") in volumes:
                    continue
                vol = cloud.call("volume", conn.block_storage.get_volume, _get(item, "id"), missing_ok=True)
                if vol is not None:
                    volumes[vol.id] = vol
        volumes = volumes or {}
        metadata = dict(_get(server, "metadata", {}) or {})
        image = _get(server, "image")
        image_id = _get(image, "id") if image else None
        if image_id and image_name is None and cloud.batching:
            image_name = ([i.name for i in cloud.listing("images", "images", conn.image.images) if i.id == image_id]
                          or [None])[0]
        if image_id and image_name is None:
            found = cloud.call("image", conn.image.get_image, image_id, missing_ok=True)
            image_name = found.name if found is not None else None
        flavor = _get(server, "flavor") or {}
        boot_id = metadata.get(BOOT_VOLUME_KEY)
        disks = []
        for item in attached:
            vid = _get(item, "id")
            vol = volumes.get(vid)
            device = None
            for att in (_get(vol, "attachments", []) or []) if vol is not None else []:
                if att.get("server_id") == server.id:
                    device = att.get("device")
            boot = not image_id and (vid == boot_id if boot_id else bool(device) and device.endswith("da"))
            disks.append({"volume": (vol.name or None) if vol is not None else None, "volume_id": vid,
                          "size": (vol.size or 0) * 1024 ** 3 if vol is not None else None, "boot": boot,
                          "delete_on_termination": bool(_get(item, "delete_on_termination", False))})
        disks.sort(key=lambda d: (not d["boot"], d["volume"] or "", d["volume_id"]))
        nics = []
        for port in ports:
            nics.append({"network": networks.get(port.network_id, port.network_id), "network_id": port.network_id,
                         "port": port.id, "mac": port.mac_address,
                         "security_group_ids": sorted(port.security_group_ids or []),
                         "fixed_ips": [ip.get("ip_address") for ip in port.fixed_ips or []]})
        nics.sort(key=lambda n: (n["network"], n["port"]))
        addresses = {}
        for net, items in (_get(server, "addresses", {}) or {}).items():
            addresses[net] = [i.get("addr") for i in items]
        # Every address, IPv4 first, as the libvirt backend reports them.
        ips = sorted(set(a for items in addresses.values() for a in items if a), key=lambda a: (":" in a, a))
        tags = list(_get(server, "tags", []) or [])
        sha = metadata.get(USER_DATA_KEY)
        return {
            "name": server.name, "id": server.id, "status": server.status, "state": state_of(server.status),
            "fault": _fault(server) if server.status == "ERROR" else None,
            "flavor": _get(flavor, "original_name") or _get(flavor, "name"),
            "vcpus": _get(flavor, "vcpus"), "memory": (_get(flavor, "ram") or 0) * 1024 ** 2,
            "image": {"id": image_id, "name": image_name} if image_id else None,
            "key_name": _get(server, "key_name"), "availability_zone": _get(server, "availability_zone"),
            "config_drive": str(_get(server, "has_config_drive", "") or "").lower() in ("true", "1"),
            "server_group": None,
            "security_groups": sorted(set(sgs.get(i, i) for i in sg_ids)), "security_group_ids": sg_ids,
            "metadata": user_metadata(metadata), "tags": user_tags(tags),
            "nics": nics, "addresses": addresses, "ips": ips, "disks": disks,
            "cloud_init": {"sha256": sha} if sha else None,
            "managed": OWNER_TAG in tags,
        }

    def list(self, names=None, **filters):
        """Every server of the project (or those named), from one detailed list plus one list each
        of ports, networks, security groups and volumes (not a read per server)."""
        cloud, conn = self.cloud, self.conn
        servers = cloud.listing("servers", "servers", self._servers)
        if names:
            servers = [s for s in servers if s.name in names or s.id in names]
        if not servers:
            return []
        ids = set(s.id for s in servers)
        ports = [p for p in cloud.listing("ports", "ports", conn.network.ports, project_id=cloud.project_id)
                 if p.device_id in ids]
        net_ids = sorted(set(p.network_id for p in ports))
        networks = dict((n.id, n.name) for n in cloud.select(
            "networks", "networks", conn.network.networks, match={"id": net_ids})) if net_ids else {}
        sgs = dict((s.id, s.name) for s in cloud.listing("security groups", "security_groups", conn.network.security_groups))
        volumes = {}
        if any(_get(s, "attached_volumes") for s in servers):
            volumes = dict((v.id, v) for v in cloud.listing("volumes", "volumes", self._volumes))
        image_ids = sorted(set(_get(_get(s, "image"), "id") for s in servers if _get(s, "image")))
        image_names = {}
        if image_ids:
            image_names = dict((i.id, i.name) for i in cloud.listing("images", "images", conn.image.images)
                               if i.id in image_ids)
        result = []
        for server in sorted(servers, key=lambda s: (s.name, s.id)):
            image_id = _get(_get(server, "image"), "id")
            result.append(self._state(server, ports=[p for p in ports if p.device_id == server.id],
                                      networks=networks, sgs=sgs, volumes=volumes,
                                      image_name=image_names.get(image_id, "") if image_id else None))
        return result

    # ---- waiting ------------------------------------------------------------------------------
    def _note(self, line):
        self._progress.append(line)

    def _get_server(self, server_id):
        return self.cloud.call("server", self.conn.compute.get_server, server_id, missing_ok=True)

    def _wait_status(self, server_id, statuses, timeout, what):
        def done(server):
            return server is not None and server.status in statuses and not _get(server, "task_state")

        def failed(server):
            return server.status == "ERROR"

        return self.cloud.wait(what, lambda: self._get_server(server_id), done, failed=failed, timeout=timeout,
                               progress=self._note,
                               status=lambda s: "%s%s" % (s.status, "/" + s.task_state if _get(s, "task_state") else ""))

    def _wait_gone(self, server_id, timeout):
        wait_gone(self.cloud, "server %s deletion" % server_id, lambda: self._get_server(server_id), timeout,
                  self._note)

    def _wait_volume(self, volume_id, statuses, timeout, what):
        self.cloud.wait(what, lambda: self.cloud.call("volume", self.conn.block_storage.get_volume, volume_id,
                                                      missing_ok=True),
                        lambda v: v is None or v.status in statuses, timeout=timeout, progress=self._note)

    def _wait_ports(self, server_id, present, absent, timeout):
        def fetch():
            return set(p.id for p in self.cloud.call("ports", lambda: list(self.conn.network.ports(device_id=server_id))))

        self.cloud.wait("interfaces of server %s" % server_id, fetch,
                        lambda ids: present <= ids and not (absent & ids), timeout=timeout,
                        status=lambda ids: "%d port(s)" % len(ids), progress=self._note)

    def settle(self, plan):
        """``wait_for: ip`` on a run that changes nothing: reads until every NIC has an address."""
        desired = plan.desired or {}
        current = desired.get("current")
        if desired.get("wait_for") != "ip" or desired.get("state") != "running" or current is None:
            return False
        if self._has_ips(current):
            return False
        self._wait_for_ip(current["id"], desired["wait_timeout"])
        return True

    @staticmethod
    def _has_ips(state):
        macs = set(n["mac"] for n in state["nics"] if n["fixed_ips"])
        return all(n["mac"] in macs for n in state["nics"]) and bool(state["addresses"]) == bool(state["nics"])

    def _wait_for_ip(self, server_id, timeout):
        def fetch():
            server = self._get_server(server_id)
            return server

        def done(server):
            if server is None:
                return False
            seen = set()
            for items in (_get(server, "addresses", {}) or {}).values():
                for item in items:
                    if item.get("OS-EXT-IPS:type", "fixed") == "fixed":
                        seen.add(item.get("OS-EXT-IPS-MAC:mac_addr"))
            ports = self.cloud.call("ports", lambda: list(self.conn.network.ports(device_id=server_id)))
            return all(p.mac_address in seen for p in ports)

        self.cloud.wait("addresses of server %s" % server_id, fetch, done, timeout=timeout, progress=self._note,
                        status=lambda s: "%d network(s) with addresses" % len(_get(s, "addresses", {}) or {}))

    # ---- applying ----------------------------------------------------------------------------
    def apply(self, plan):
        self._progress = []
        desired = plan.desired
        if plan.action == "delete":
            self._delete(desired["server_id"], desired["timeouts"]["delete"])
            for volume_id in desired.get("purge") or []:
                self._wait_volume(volume_id, ("available", "error"), desired["timeouts"]["delete"],
                                  "volume %s detaching" % volume_id)
                self.cloud.call("volume %s" % volume_id, self.conn.block_storage.delete_volume, volume_id,
                                retry=True, missing_ok=True)
                self._note("deleted volume %s (purge_volumes)" % volume_id)
        elif plan.action == "create":
            self._create(desired, desired["resolved"])
        elif desired["mode"] == "recreate":
            self._recreate(plan, desired)
        else:
            self._update(plan, desired)
        return {"progress": list(self._progress)}

    def _delete(self, server_id, timeout):
        self.cloud.call("delete server %s" % server_id, self.conn.compute.delete_server, server_id,
                        retry=True, missing_ok=True)
        self._wait_gone(server_id, timeout)

    def _create(self, desired, res, nics=None, attach=None, extra_metadata=None):
        conn, cloud = self.conn, self.cloud
        timeouts = desired["timeouts"]
        metadata = dict(desired["metadata"] or {})
        metadata.update(extra_metadata or {})
        kwargs = {"name": desired["name"], "flavor_id": res["flavor"]["id"], "metadata": metadata,
                  "tags": sorted(set([OWNER_TAG] + list(desired["tags"] or [])))}
        nic_list = nics if nics is not None else res["nics"]
        if nic_list:
            kwargs["networks"] = [{"port": n["port"]} if n["port"] else
                                  dict({"uuid": n["network_id"]}, **({"fixed_ip": n["fixed_ip"]} if n["fixed_ip"] else {}))
                                  for n in nic_list]
        else:
            kwargs["networks"] = "none"
        disks = res["disks"] or []
        boot = disks[0] if disks and disks[0]["boot"] else None
        if res["image"] is not None:
            kwargs["image_id"] = res["image"]["id"]
        if boot is not None:
            if boot.get("volume_id"):
                bdm = {"boot_index": 0, "uuid": boot["volume_id"], "source_type": "volume",
                       "destination_type": "volume", "delete_on_termination": False}
                metadata[BOOT_VOLUME_KEY] = boot["volume_id"]
            else:
                bdm = {"boot_index": 0, "source_type": "image" if boot.get("image_id") else "blank",
                       "destination_type": "volume", "volume_size": boot["size"] // 1024 ** 3,
                       "delete_on_termination": bool(boot["delete_on_termination"])}
                if boot.get("image_id"):
                    bdm["uuid"] = boot["image_id"]
                if boot.get("volume_type"):
                    bdm["volume_type"] = boot["volume_type"]
            kwargs["block_device_mapping"] = [bdm]
        if desired["key_name"]:
            kwargs["key_name"] = desired["key_name"]
        if res["security_groups"] is not None and nic_list:
            kwargs["security_groups"] = [{"name": sg["id"]} for sg in res["security_groups"]]
        if desired["availability_zone"]:
            kwargs["availability_zone"] = desired["availability_zone"]
        if desired["config_drive"]:
            kwargs["config_drive"] = True
        if res["server_group"]:
            kwargs["scheduler_hints"] = {"group": res["server_group"]["id"]}
        if desired["cloud_init"]:
            kwargs["user_data"] = base64.b64encode(desired["cloud_init"]["user_data"]).decode("ascii")
            metadata[USER_DATA_KEY] = desired["cloud_init"]["sha256"]
        server = cloud.call("create server %s" % desired["name"], conn.compute.create_server, **kwargs)
        self._note("server %s created (%s)" % (desired["name"], server.id))
        server = self._wait_status(server.id, ("ACTIVE",), timeouts["build"], "server %s build" % desired["name"])
        if boot is not None and not boot.get("volume_id"):
            attached = [_get(a, "id") for a in _get(server, "attached_volumes", []) or []]
            if attached:
                cloud.call("server metadata", conn.compute.set_server_metadata, server.id, **{BOOT_VOLUME_KEY: attached[0]})
        for disk in attach if attach is not None else [d for d in disks if not d["boot"]]:
            self._attach_volume(server.id, disk["volume_id"], timeouts["build"])
        self._power(server.id, "running", desired["state"], timeouts["power"])
        if desired["wait_for"] == "ip" and desired["state"] == "running":
            self._wait_for_ip(server.id, desired["wait_timeout"])
        return server

    def _recreate(self, plan, desired):
        """Delete, then create from the spec with what it leaves unset taken from the old server."""
        current, res = desired["current"], dict(desired["resolved"])
        full = dict(desired)
        for field in ("key_name", "availability_zone", "metadata", "tags"):
            if full[field] is None:
                full[field] = current[field]
        if full["config_drive"] is None:
            full["config_drive"] = current["config_drive"]
        if res["flavor"] is None:
            res["flavor"] = {"id": None, "name": current["flavor"]}
            found = self.cloud.find_one("flavor", current["flavor"], lambda **q: self.conn.compute.flavors(details=True))
            if found is None:
                raise BackendError("cannot recreate: flavor %s of the server no longer exists; set flavor"
                                   % current["flavor"])
            res["flavor"] = {"id": found.id, "name": found.name}
        if res["image"] is None and current["image"] and not (res["disks"] and res["disks"][0]["boot"]):
            res["image"] = dict(current["image"])
        if res["security_groups"] is None:
            res["security_groups"] = [{"id": i, "name": None} for i in current["security_group_ids"]]
        if res["disks"] is None:
            boot = [d for d in current["disks"] if d["boot"]]
            if boot and boot[0]["delete_on_termination"]:
                raise Conflict("cannot recreate: the boot volume is deleted with the server; set disks",
                               kind="instance", name=desired["name"])
            res["disks"] = [dict(d, image=None) for d in boot] + [d for d in current["disks"] if not d["boot"]]
        nics = res["nics"]
        old_ports = [n["port"] for n in current["nics"]]
        self._delete(current["id"], desired["timeouts"]["delete"])
        if nics is None:
            # Ports Nova created went with the server; ports that were given to it are still there.
            nics = []
            for nic in current["nics"]:
                port = self.cloud.call("port", self.conn.network.get_port, nic["port"], missing_ok=True)
                nics.append({"port": port.id if port is not None else None, "network_id": nic["network_id"],
                             "network": nic["network"], "fixed_ip": None})
        for disk in res["disks"]:
            if disk.get("volume_id"):
                self._wait_volume(disk["volume_id"], ("available",), desired["timeouts"]["delete"],
                                  "volume %s detaching" % disk["volume_id"])
        self._note("recreating server %s (old ports: %s)" % (desired["name"], ", ".join(old_ports) or "none"))
        self._create(full, res, nics=nics)

    def _update(self, plan, desired):
        cloud, conn = self.cloud, self.conn
        current, res, server_id = desired["current"], desired["resolved"], desired["server_id"]
        timeouts = desired["timeouts"]
        paths = set(c.path for c in plan.changes)
        if current["status"] == "VERIFY_RESIZE" and desired["confirm_resize"]:
            cloud.call("confirm resize", conn.compute.confirm_server_resize, server_id)
            self._wait_status(server_id, ("ACTIVE", "SHUTOFF"), timeouts["resize"], "resize confirmation")
        if "metadata" in paths:
            want, have = desired["metadata"], current["metadata"]
            gone = sorted(k for k in have if k not in want)
            if gone:
                cloud.call("server metadata", conn.compute.delete_server_metadata, server_id, gone)
            changed = dict((k, v) for k, v in want.items() if have.get(k) != v)
            if changed:
                cloud.call("server metadata", conn.compute.set_server_metadata, server_id, **changed)
        if "tags" in paths:
            tags = list(desired["tags"]) + ([OWNER_TAG] if current["managed"] else [])
            server = cloud.call("server", conn.compute.get_server, server_id)
            tags += stack_tags(_get(server, "tags", []))  # a stack's mark stays
            cloud.call("server tags", server.set_tags, conn.compute, sorted(set(tags)))
        if "security_groups" in paths:
            want = [s["id"] for s in res["security_groups"]]
            have = current["security_group_ids"]
            for sg in want:
                if sg not in have:
                    cloud.call("add security group %s" % sg, conn.compute.add_security_group_to_server, server_id, sg,
                               retry=True)
            for sg in have:
                if sg not in want:
                    cloud.call("remove security group %s" % sg, conn.compute.remove_security_group_from_server,
                               server_id, sg, retry=True)
        nic_plan = desired["nic_plan"]
        if nic_plan["detach"] or nic_plan["attach"]:
            for port_id in nic_plan["detach"]:
                cloud.call("detach interface %s" % port_id, conn.compute.delete_server_interface, port_id,
                           server=server_id, retry=True)
            present = set()
            for nic in nic_plan["attach"]:
                if nic["port"]:
                    cloud.call("attach port %s" % nic["port"], conn.compute.create_server_interface, server_id,
                               port_id=nic["port"], retry=True)
                    present.add(nic["port"])
                else:
                    kwargs = {"net_id": nic["network_id"]}
                    if nic["fixed_ip"]:
                        kwargs["fixed_ips"] = [{"ip_address": nic["fixed_ip"]}]
                    made = cloud.call("attach interface on %s" % nic["network"], conn.compute.create_server_interface,
                                      server_id, retry=True, **kwargs)
                    present.add(made.port_id)
                    # Nova gives an attached port the project's default group, not the server's:
                    # the port gets the server's groups, as the ports made at create time have.
                    groups = self._groups_for_new_port(res, current, nic_plan)
                    if groups:
                        cloud.call("security groups of port %s" % made.port_id, conn.network.update_port,
                                   made.port_id, security_group_ids=groups)
                self._note("attached an interface on %s" % nic["network"])
            self._wait_ports(server_id, present, set(nic_plan["detach"]), timeouts["build"])
        for change in plan.changes:
            if change.path.startswith("disks[") and change.effect == "live":
                if change.op == "remove":
                    vid = change.before["volume_id"]
                    cloud.call("detach volume %s" % vid, conn.compute.delete_volume_attachment, server_id, vid, retry=True)
                    self._wait_volume(vid, ("available",), timeouts["build"], "volume %s detaching" % vid)
        for change in plan.changes:
            if change.path.startswith("disks[") and change.effect == "live" and change.op == "add":
                self._attach_volume(server_id, change.after["volume_id"], timeouts["build"])
        if desired["mode"] == "rebuild":
            self._rebuild(desired, current, res, paths, server_id)
        if "flavor" in paths:
            self._resize(server_id, current, res["flavor"], desired["confirm_resize"], timeouts["resize"])
        state_now = self._get_server(server_id)
        self._power(server_id, state_of(state_now.status), desired["state"], timeouts["power"])
        if desired["wait_for"] == "ip" and desired["state"] == "running":
            self._wait_for_ip(server_id, desired["wait_timeout"])

    @staticmethod
    def _groups_for_new_port(res, current, nic_plan):
        """The spec's security groups, else those of a port the server keeps that Nova made for a
        network NIC (a port given to the server may carry groups of its own)."""
        if res["security_groups"] is not None:
            return [g["id"] for g in res["security_groups"]]
        given = set(n["port"] for n in res["nics"] or [] if n["port"])
        kept = [n for n in current["nics"] if n["port"] not in nic_plan["detach"] and n["port"] not in given]
        return kept[0]["security_group_ids"] if kept else current["security_group_ids"]

    def _attach_volume(self, server_id, volume_id, timeout):
        self.cloud.call("attach volume %s" % volume_id, self.conn.compute.create_volume_attachment, server_id,
                        volume_id=volume_id, retry=True)
        self._wait_volume(volume_id, ("in-use",), timeout, "volume %s attaching" % volume_id)

    def _rebuild(self, desired, current, res, paths, server_id):
        image_id = res["image"]["id"] if res["image"] else current["image"]["id"]
        kwargs = {}
        if "key_name" in paths:
            kwargs["key_name"] = desired["key_name"]
        if "cloud_init" in paths:
            kwargs["user_data"] = base64.b64encode(desired["cloud_init"]["user_data"]).decode("ascii")
        self.cloud.call("rebuild server", self.conn.compute.rebuild_server, server_id, image_id, **kwargs)
        self._wait_status(server_id, ("ACTIVE", "SHUTOFF"), desired["timeouts"]["build"], "server rebuild")
        if "cloud_init" in paths:
            self.cloud.call("server metadata", self.conn.compute.set_server_metadata, server_id,
                            **{USER_DATA_KEY: desired["cloud_init"]["sha256"]})

    def _resize(self, server_id, current, flavor, confirm, timeout):
        cloud, conn = self.cloud, self.conn
        cloud.call("resize server to %s" % flavor["name"], conn.compute.resize_server, server_id, flavor["id"])
        old_flavor = current["flavor"]
        polls = []

        def done(server):
            # Right after the request the server may still look settled on its old flavor: that
            # counts as an answer only once the resize was seen running, or after a few polls.
            polls.append(server.status if server is not None else None)
            if server is None or server.status == "RESIZE" or _get(server, "task_state"):
                polls.append("busy")
                return False
            if server.status == "VERIFY_RESIZE":
                return True
            now = _get(server.flavor, "original_name") or _get(server.flavor, "name")
            settled = server.status in ("ACTIVE", "SHUTOFF")
            return settled and (now != old_flavor or "busy" in polls or len(polls) >= 4)

        server = cloud.wait("server resize", lambda: self._get_server(server_id), done, timeout=timeout,
                            progress=self._note,
                            status=lambda s: "%s%s" % (s.status, "/" + s.task_state if _get(s, "task_state") else ""))
        now = _get(server.flavor, "original_name") or _get(server.flavor, "name")
        if server.status != "VERIFY_RESIZE" and now == old_flavor:
            raise BackendError("Nova did not resize the server to %s: %s" % (flavor["name"], self._last_action_error(server_id)),
                               hint="on a single-host cloud a resize needs allow_resize_to_same_host = True in nova.conf")
        if server.status == "VERIFY_RESIZE" and confirm:
            cloud.call("confirm resize", conn.compute.confirm_server_resize, server_id)
            self._wait_status(server_id, ("ACTIVE", "SHUTOFF"), timeout, "resize confirmation")

    def _last_action_error(self, server_id):
        try:
            actions = list(self.conn.compute.server_actions(server_id))
            for action in actions:
                if action.action == "resize":
                    return "instance action resize: %s" % (action.message or "no message")
        except Exception:  # pylint: disable=broad-exception-caught
            pass
        return "the server went back to its old flavor"

    def _power(self, server_id, have, want, timeout):
        compute = self.conn.compute
        steps = []
        if have == want:
            return
        if have == "paused":
            steps.append(("unpause", compute.unpause_server, ("ACTIVE",)))
            have = "running"
        if have == "stopped" and want in ("running", "paused"):
            steps.append(("start", compute.start_server, ("ACTIVE",)))
            have = "running"
        if have == "running" and want == "stopped":
            steps.append(("stop", compute.stop_server, ("SHUTOFF",)))
        if have == "running" and want == "paused":
            steps.append(("pause", compute.pause_server, ("PAUSED",)))
        for verb, fn, statuses in steps:
            self.cloud.call("%s server" % verb, fn, server_id, retry=True)
            self._wait_status(server_id, statuses, timeout, "server %s" % verb)
