#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test scaffolding only (not part of the collection): a Neutron port to hang floating IPs on."""

from __future__ import annotations

DOCUMENTATION = r"""
module: cvt_os_port
short_description: Test-only - create or delete a Neutron port by name
description: Test scaffolding for the os_floating_ip target.
author: converge.virt contributors (@converge-virt)
options:
  name: {description: Port name., type: str, required: true}
  network: {description: Network name (for creation)., type: str}
  state: {description: present or absent., type: str, default: present, choices: [present, absent]}
  auth: {description: Credentials., type: dict, required: true}
  region_name: {description: Region., type: str}
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(
        name=dict(type="str", required=True), network=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        auth=dict(type="dict", required=True, no_log=True), region_name=dict(type="str")))
    import openstack
    conn = openstack.connect(auth=module.params["auth"], region_name=module.params["region_name"],
                             load_yaml_config=False, load_envvars=False)
    ports = list(conn.network.ports(name=module.params["name"], project_id=conn.current_project_id))
    if module.params["state"] == "absent":
        for port in ports:
            conn.network.delete_port(port)
        module.exit_json(changed=bool(ports))
    if ports:
        port = ports[0]
        changed = False
    else:
        net = conn.network.find_network(module.params["network"], ignore_missing=False)
        port = conn.network.create_port(name=module.params["name"], network_id=net.id)
        changed = True
    module.exit_json(changed=changed, id=port.id, fixed_ips=[i["ip_address"] for i in port.fixed_ips])


if __name__ == "__main__":
    main()
