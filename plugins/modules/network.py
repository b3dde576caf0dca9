#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: network
short_description: Converge a virtual network (libvirt) to its declared state
version_added: 0.1.0
description:
  - Creates, updates in place, or deletes a libvirt virtual network so that it matches the options given.
  - Changes to an existing network are applied, not ignored. DHCP ranges, DHCP hosts and DNS hosts
    are added, changed and removed B(live) through C(virNetworkUpdate), on the running and the
    persistent definition, so the network and its guests stay up. Every other change redefines the
    network and, while it runs, B(restarts) it; the plan says so beforehand and names the instances
    attached to the network.
  - Options that are not set are left alone on an existing network; lists that are set (DHCP hosts,
    DNS hosts, forwarders) are exclusive, so entries not listed are removed.
  - Every option below states how a change reaches a running network. V(live) means applied
    without interruption; V(restart) means the network is redefined and restarted (or, with
    O(allow_restart=false), redefined and the restart left pending). Only O(name) identifies the
    network; there are no create-only options besides it.
  - Everything is validated before anything changes, including overlaps with the subnets and
    bridge names of the host's other libvirt networks.
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.ATTRIBUTES
options:
  name:
    description:
      - Name of the network. It identifies the network and cannot be changed.
      - Must not contain V(/) or control characters; any other character is safe (XML is escaped).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the network, V(absent) deletes it (stops and undefines).
      - Deleting a network that instances use is refused unless O(force=true).
    type: str
    choices: [present, absent]
    default: present
  forward:
    description:
      - How guests reach the outside. V(nat) masquerades through the host, V(route) routes
        without NAT, V(open) adds no firewall rules, V(isolated) lets guests talk only to each
        other and the host, V(bridge) connects guests to an existing host bridge named by O(bridge).
      - When creating and not set, the network is V(isolated), as libvirt does.
      - "Update: restart."
    type: str
    choices: [nat, route, open, isolated, bridge]
  bridge:
    description:
      - Name of the Linux bridge. For V(forward=bridge) the existing host bridge to use (required);
        otherwise the bridge libvirt creates (libvirt picks C(virbrN) when not set).
      - At most 15 characters of letters, digits, V(_), V(.), V(-); must not be used by another network.
      - "Update: restart."
    type: str
  domain:
    description:
      - DNS domain of the network's DHCP/DNS server (dnsmasq).
      - "Update: restart."
    type: str
  mtu:
    description:
      - MTU of the bridge libvirt creates (68-65535; at least 1280 with IPv6).
      - "Update: restart."
    type: int
  ipv4:
    description:
      - The IPv4 subnet the host serves on this network.
      - "Adding the subnet, or adding DHCP to it, needs a restart."
    type: dict
    suboptions:
      address:
        description:
          - The host's address on the network with its prefix, for example V(10.10.0.1/24).
          - Required when the network has no IPv4 subnet yet.
          - "Update: restart."
        type: str
      dhcp:
        description: DHCP service on the subnet.
        type: dict
        suboptions:
          range:
            description:
              - First and last address handed out dynamically, inside the subnet.
              - "Update: live."
            type: list
            elements: str
          hosts:
            description:
              - Static DHCP hosts, matched by O(ipv4.dhcp.hosts[].mac) (or by name when no MAC is given).
              - Exclusive when set; no MAC, name or IP may appear twice, IPs must be in the subnet.
              - "Update: live (added, changed and removed without restarting the network)."
            type: list
            elements: dict
            suboptions:
              mac:
                description: MAC address of the guest interface (unicast).
                type: str
              name:
                description: Host name given to the guest.
                type: str
              ip:
                description: The address the guest gets.
                type: str
                required: true
  ipv6:
    description:
      - The IPv6 subnet the host serves on this network. Same shape as O(ipv4).
      - "Adding the subnet, or adding DHCP to it, needs a restart."
    type: dict
    suboptions:
      address:
        description:
          - The host's address with its prefix, for example V(fd00:10::1/64).
          - "Update: restart."
        type: str
      dhcp:
        description: DHCPv6 service on the subnet.
        type: dict
        suboptions:
          range:
            description:
              - First and last address handed out dynamically.
              - "Update: live."
            type: list
            elements: str
          hosts:
            description:
              - Static DHCPv6 hosts, matched by name (IPv6 DHCP has no MAC matching).
              - "Update: live."
            type: list
            elements: dict
            suboptions:
              name:
                description: Host name of the guest.
                type: str
                required: true
              ip:
                description: The address the guest gets.
                type: str
                required: true
  dns:
    description: DNS served to the guests.
    type: dict
    suboptions:
      hosts:
        description:
          - Static DNS records, one entry per IP, matched by IP. Exclusive when set.
          - "Update: live."
        type: list
        elements: dict
        suboptions:
          ip:
            description: The address the names resolve to.
            type: str
            required: true
          names:
            description: Host names for the address.
            type: list
            elements: str
            required: true
      forwarders:
        description:
          - Upstream DNS servers, optionally only for one domain. Exclusive when set.
          - "Update: restart."
        type: list
        elements: dict
        suboptions:
          addr:
            description: Address of the upstream server.
            type: str
          domain:
            description: Forward only queries for this domain.
            type: str
  autostart:
    description:
      - Whether the network starts when libvirtd starts.
      - "Update: live."
    type: bool
    default: true
  active:
    description:
      - Whether the network is running.
      - "Update: live."
    type: bool
    default: true
  allow_restart:
    description:
      - Whether a running network may be restarted to apply changes that need it.
      - With V(false) the persistent definition is updated, the running network keeps its old
        configuration and RV(restart_pending) is V(true) (also on later runs, until a restart).
        Live changes are still applied to the running network.
    type: bool
    default: true
  force:
    description:
      - With O(state=absent), delete the network even though instances use it (they lose the network).
    type: bool
    default: false
notes:
  - Restarting a libvirt network cuts its running guests off and libvirt leaves their interfaces
    detached from the recreated bridge; this module re-plugs them (see RV(reconnected)). The plan
    lists those instances before anything happens.
seealso:
  - module: converge.virt.network_info
"""

EXAMPLES = r"""
- name: An isolated lab network with static DHCP hosts and DNS records
  converge.virt.network:
    name: lab
    forward: isolated
    bridge: virbr-lab
    domain: lab.test
    mtu: 1500
    ipv4:
      address: 10.10.0.1/24
      dhcp:
        range: [10.10.0.100, 10.10.0.200]
        hosts:
          - {mac: "52:54:00:00:00:10", name: web1, ip: 10.10.0.10}
    ipv6:
      address: "fd00:10::1/64"
    dns:
      hosts:
        - {ip: 10.10.0.10, names: [web1.lab.test]}
      forwarders:
        - {addr: 10.10.0.53}
  register: lab

- name: Show what was planned and done
  ansible.builtin.debug:
    msg: "{{ lab.plan.summary }}"

- name: Change the MTU but do not restart the running network yet
  converge.virt.network:
    name: lab
    mtu: 9000
    allow_restart: false

- name: Delete the network
  converge.virt.network:
    name: lab
    state: absent
"""

RETURN = r"""
network:
  description:
    - The network's normalized state after the run (in check mode, the predicted state).
    - Absent (V(null)) after a deletion.
  returned: always
  type: dict
  contains:
    name:
      description: Name.
      type: str
      sample: lab
    uuid:
      description: UUID libvirt assigned (not known in check mode before creation).
      type: str
    forward:
      description: Forward mode.
      type: str
      sample: nat
    bridge:
      description: Bridge name.
      type: str
      sample: virbr-lab
    domain:
      description: DNS domain.
      type: str
    mtu:
      description: MTU.
      type: int
    ipv4:
      description: IPv4 subnet with its DHCP range and hosts.
      type: dict
    ipv6:
      description: IPv6 subnet with its DHCP range and hosts.
      type: dict
    dns:
      description: DNS hosts and forwarders.
      type: dict
    autostart:
      description: Whether the network starts with libvirtd.
      type: bool
    active:
      description: Whether the network runs.
      type: bool
    persistent:
      description: Whether the network has a persistent definition.
      type: bool
plan:
  description: The plan this run carried out (or, in check mode, would carry out).
  returned: always
  type: dict
  contains:
    kind:
      description: Resource kind.
      type: str
      sample: network
    name:
      description: Resource name.
      type: str
    action:
      description: What happens to the network as a whole.
      type: str
      sample: update
      choices: [create, update, delete, none]
    effect:
      description: The most disruptive effect among the changes (V(null) when there are none).
      type: str
      sample: live
    summary:
      description: One line for humans.
      type: str
      sample: "network lab: update (add ipv4.dhcp.hosts[52:54:00:00:00:11] [live])"
    changes:
      description: Field-level changes, each with C(path), C(op) (add, remove, modify), C(before), C(after)
        and C(effect) (live, restart, replace).
      type: list
      elements: dict
    notes:
      description: Explanations, such as the restart and the instances it affects.
      type: list
      elements: str
    restart:
      description: Whether the run restarts the network.
      type: bool
    restart_pending:
      description: Whether the network needs a restart that O(allow_restart=false) held back.
      type: bool
    attached_instances:
      description: Names of the instances (libvirt domains) with an interface on the network.
      type: list
      elements: str
    warnings:
      description: The plan's notes about disruption (a restart and whom it affects), also shown as task warnings.
      type: list
      elements: str
restart_pending:
  description: The running network differs from its definition until it is restarted.
  returned: always
  type: bool
reconnected:
  description:
    - After a restart, the running instances' interfaces put back on the recreated bridge
      (libvirt itself leaves them detached). Each item has C(instance), C(tap) and C(reconnected).
    - Re-plugging works on the hypervisor's own network stack, so only for local URIs such as
      V(qemu:///system); for remote URIs the items say V(false) and the instances need their
      interfaces re-attached (or a restart of libvirtd on the hypervisor).
  returned: when the run restarted the network
  type: list
  elements: dict
  sample: [{"instance": "web1", "tap": "vnet0", "reconnected": true}]
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_resource_module

_DHCP_HOST_V4 = dict(mac=dict(type="str"), name=dict(type="str"), ip=dict(type="str", required=True))
_DHCP_HOST_V6 = dict(name=dict(type="str", required=True), ip=dict(type="str", required=True))


def _ip_options(host_options):
    return dict(
        address=dict(type="str"),
        dhcp=dict(type="dict", options=dict(
            range=dict(type="list", elements="str"),
            hosts=dict(type="list", elements="dict", options=host_options),
        )),
    )


ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    forward=dict(type="str", choices=["nat", "route", "open", "isolated", "bridge"]),
    bridge=dict(type="str"),
    domain=dict(type="str"),
    mtu=dict(type="int"),
    ipv4=dict(type="dict", options=_ip_options(_DHCP_HOST_V4)),
    ipv6=dict(type="dict", options=_ip_options(_DHCP_HOST_V6)),
    dns=dict(type="dict", options=dict(
        hosts=dict(type="list", elements="dict", options=dict(
            ip=dict(type="str", required=True),
            names=dict(type="list", elements="str", required=True),
        )),
        forwarders=dict(type="list", elements="dict", options=dict(
            addr=dict(type="str"),
            domain=dict(type="str"),
        )),
    )),
    autostart=dict(type="bool", default=True),
    active=dict(type="bool", default=True),
    allow_restart=dict(type="bool", default=True),
    force=dict(type="bool", default=False),
)


def main():
    run_resource_module("network", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
