#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only scaffolding for the os_instance target (openstacksdk straight): cleanup of everything
named with the target's prefix, fixtures the collection has no module for yet (security groups,
ports), two servers with one name (which the instance module must refuse), and independent reads."""

from __future__ import annotations

import time

from ansible.module_utils.basic import AnsibleModule

try:
    import openstack
    HAS_SDK = True
except ImportError:
    HAS_SDK = False


def _wait_gone(fetch, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if fetch() is None:
            return True
        time.sleep(1)
    return False


def cleanup(conn, prefix):
    done = []
    servers = [s for s in conn.compute.servers() if s.name.startswith(prefix)]
    for server in servers:
        conn.compute.delete_server(server, ignore_missing=True)
        done.append("server " + server.name)
    for server in servers:
        _wait_gone(lambda: conn.compute.find_server(server.id, ignore_missing=True))
    for port in conn.network.ports():
        if (port.name or "").startswith(prefix):
            conn.network.delete_port(port, ignore_missing=True)
            done.append("port " + port.name)
    for vol in conn.block_storage.volumes():
        if (vol.name or "").startswith(prefix):
            deadline = time.time() + 60
            while vol.status not in ("available", "error") and time.time() < deadline:
                time.sleep(1)
                vol = conn.block_storage.get_volume(vol.id)
            conn.block_storage.delete_volume(vol, ignore_missing=True)
            done.append("volume " + vol.name)
    for kp in conn.compute.keypairs():
        if kp.name.startswith(prefix):
            conn.compute.delete_keypair(kp, ignore_missing=True)
            done.append("keypair " + kp.name)
    for img in conn.image.images():
        if (img.name or "").startswith(prefix) and img.owner == conn.current_project_id:
            conn.image.delete_image(img, ignore_missing=True)
            done.append("image " + img.name)
    for net in conn.network.networks(project_id=conn.current_project_id):
        if (net.name or "").startswith(prefix):
            conn.network.delete_network(net, ignore_missing=True)
            done.append("network " + net.name)
    for sg in conn.network.security_groups(project_id=conn.current_project_id):
        if (sg.name or "").startswith(prefix):
            conn.network.delete_security_group(sg, ignore_missing=True)
            done.append("security group " + sg.name)
    return done


def main():
    module = AnsibleModule(argument_spec=dict(
        auth=dict(type="dict", required=True, no_log=True),
        region_name=dict(type="str"),
        action=dict(type="str", required=True,
                    choices=["cleanup", "setup", "read", "dup_servers"]),
        security_groups=dict(type="list", elements="str", default=[]),
        name=dict(type="str"),
        prefix=dict(type="str"),
        network=dict(type="str"),
        flavor=dict(type="str"),
        image=dict(type="str"),
    ))
    if not HAS_SDK:
        module.fail_json(msg="openstacksdk is required")
    p = module.params
    conn = openstack.connect(auth=p["auth"], region_name=p["region_name"])
    if p["action"] == "cleanup":
        if not p["prefix"] or not p["prefix"].startswith("cvt-os_instance-"):
            module.fail_json(msg="cleanup only removes names starting with cvt-os_instance-")
        done = cleanup(conn, p["prefix"])
        module.exit_json(changed=bool(done), removed=done)
    if p["action"] == "setup":
        for name in p["security_groups"]:
            if conn.network.find_security_group(name, project_id=conn.current_project_id) is None:
                conn.network.create_security_group(name=name)
        port = conn.network.find_port(p["name"])
        if port is None:
            net = conn.network.find_network(p["network"])
            port = conn.network.create_port(name=p["name"], network_id=net.id)
        module.exit_json(changed=True, id=port.id)
    if p["action"] == "read":
        port = conn.network.find_port(p["name"]) if p["name"] else None
        vols = dict((v.name, {"id": v.id, "status": v.status}) for v in conn.block_storage.volumes()
                    if (v.name or "").startswith(p["prefix"] or "cvt-os_instance-"))
        servers = [{"id": s.id, "name": s.name, "status": s.status} for s in conn.compute.servers()
                   if s.name.startswith(p["prefix"] or "cvt-os_instance-")]
        module.exit_json(changed=False, port=port.to_dict() if port else None, volumes=vols, servers=servers)
    if p["action"] == "dup_servers":
        flavor = conn.compute.find_flavor(p["flavor"])
        image = conn.image.find_image(p["image"])
        ids = []
        for dummy in range(2):
            ids.append(conn.compute.create_server(name=p["name"], flavor_id=flavor.id, image_id=image.id,
                                                  networks="none").id)
        module.exit_json(changed=True, ids=ids)
    module.exit_json(changed=False)


if __name__ == "__main__":
    main()
