#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: network
short_description: Converge a virtual network (libvirt, or an OpenStack Neutron network) to its declared state
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
  - B(OpenStack) (selected by O(cloud) or O(auth)) converges a Neutron network, its O(subnets) and
    optionally a O(router). The same spec works on both backends where the concept is the same -
    O(name), O(mtu), and O(ipv4)/O(ipv6) with O(ipv4.address) and O(ipv4.dhcp.range). On OpenStack
    O(ipv4) is one subnet named C(<name>-ipv4) (C(<name>-ipv6) for O(ipv6)) - O(ipv4.address)
    V(10.10.0.1/24) gives the CIDR V(10.10.0.0/24) with gateway V(10.10.0.1), O(ipv4.dhcp) turns
    DHCP on (without it DHCP is off, as on libvirt), and O(ipv4.dhcp.range) is its allocation pool.
    O(subnets) gives the whole of Neutron's subnet options.
  - On OpenStack every change is applied in place (V(live)) except a subnet's CIDR (and so its IP
    version), which Neutron cannot change - that is refused unless O(recreate=true), which deletes
    and creates the subnet again (refused while ports other than router interfaces and DHCP use it).
  - On OpenStack the network, its subnets and the router this module creates carry the tag
    C(converge-virt) (shown as RV(network.managed), not in RV(network.tags)). Deleting the network
    removes its router interfaces, deletes the router only if this module created it and it has no
    other interfaces, and then deletes the network with its subnets. Ports of servers (or any port
    not owned by Neutron itself) make the deletion fail, naming them; they are never deleted.
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.ATTRIBUTES
options:
  name:
    description:
      - Name of the network. It identifies the network and cannot be changed.
      - On OpenStack the network is looked up by name in the project of the credentials; a name
        that matches two networks is an error.
      - Must not contain V(/) or control characters; any other character is safe (XML is escaped).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the network, V(absent) deletes it (stops and undefines).
      - Deleting a network that instances use is refused unless O(force=true) (libvirt). On
        OpenStack deleting a network that server ports use is always refused.
    type: str
    choices: [present, absent]
    default: present
  forward:
    description:
      - How guests reach the outside. V(nat) masquerades through the host, V(route) routes
        without NAT, V(open) adds no firewall rules, V(isolated) lets guests talk only to each
        other and the host, V(bridge) connects guests to an existing host bridge named by O(bridge).
      - B(libvirt), except V(isolated), which OpenStack accepts too. There it means a network without a
        router, so it cannot be combined with O(router); other values are refused on OpenStack.
      - When creating and not set, the network is V(isolated), as libvirt does.
      - "Update: restart."
    type: str
    choices: [nat, route, open, isolated, bridge]
  bridge:
    description:
      - Name of the Linux bridge. For V(forward=bridge) the existing host bridge to use (required);
        otherwise the bridge libvirt creates (libvirt picks C(virbrN) when not set).
      - At most 15 characters of letters, digits, V(_), V(.), V(-); must not be used by another network.
      - B(libvirt only.)
      - "Update: restart."
    type: str
  domain:
    description:
      - DNS domain of the network's DHCP/DNS server (dnsmasq).
      - B(libvirt only.) (The test cloud's Neutron has no C(dns-integration); set the domain in the
        guests or in Designate.)
      - "Update: restart."
    type: str
  mtu:
    description:
      - MTU of the bridge libvirt creates (68-65535; at least 1280 with IPv6), or of the Neutron network.
      - On OpenStack, when not set at creation Neutron picks the largest the underlying network allows.
      - "Update: restart (libvirt); live (OpenStack)."
    type: int
  ipv4:
    description:
      - The IPv4 subnet the host serves on this network.
      - "Adding the subnet, or adding DHCP to it, needs a restart (libvirt)."
      - On OpenStack, the subnet C(<name>-ipv4) (see the description above). Changing the address
        within the same CIDR moves the gateway (live); a different CIDR needs O(recreate=true).
    type: dict
    suboptions:
      address:
        description:
          - The host's address on the network with its prefix, for example V(10.10.0.1/24).
          - Required when the network has no IPv4 subnet yet (always on OpenStack).
          - On OpenStack the subnet's CIDR and gateway.
          - "Update: restart (libvirt); gateway live, CIDR create-only (OpenStack, see O(recreate))."
        type: str
      dhcp:
        description:
          - DHCP service on the subnet. On OpenStack, whether the subnet has DHCP enabled
            (present) or disabled (absent).
        type: dict
        suboptions:
          range:
            description:
              - First and last address handed out dynamically, inside the subnet.
              - On OpenStack the subnet's allocation pool.
              - "Update: live."
            type: list
            elements: str
          hosts:
            description:
              - Static DHCP hosts, matched by O(ipv4.dhcp.hosts[].mac) (or by name when no MAC is given).
              - B(libvirt only.) On OpenStack, give the instance's port a fixed IP instead.
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
      - "Adding the subnet, or adding DHCP to it, needs a restart (libvirt)."
      - On OpenStack, the subnet C(<name>-ipv6).
    type: dict
    suboptions:
      address:
        description:
          - The host's address with its prefix, for example V(fd00:10::1/64).
          - "Update: restart (libvirt); gateway live, CIDR create-only (OpenStack)."
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
              - B(libvirt only.)
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
    description:
      - DNS served to the guests.
      - B(libvirt only.) On OpenStack, see O(subnets[].dns_nameservers).
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
      - B(libvirt only.)
      - "Update: live."
    type: bool
    default: true
  active:
    description:
      - Whether the network is running.
      - B(libvirt only.)
      - "Update: live."
    type: bool
    default: true
  allow_restart:
    description:
      - Whether a running network may be restarted to apply changes that need it.
      - B(libvirt only.)
      - With V(false) the persistent definition is updated, the running network keeps its old
        configuration and RV(restart_pending) is V(true) (also on later runs, until a restart).
        Live changes are still applied to the running network.
    type: bool
    default: true
  force:
    description:
      - With O(state=absent), delete the network even though instances use it (they lose the network).
      - B(libvirt only.)
    type: bool
    default: false
  description:
    description:
      - B(OpenStack only.) Description of the network.
      - "Update: live."
    type: str
  port_security:
    description:
      - B(OpenStack only.) Whether ports on the network get port security (security groups,
        anti-spoofing) by default. Neutron's default is V(true).
      - "Update: live."
    type: bool
  shared:
    description:
      - B(OpenStack only.) Whether every project may use the network. Only an admin may set it; for
        other credentials a change is refused before anything happens.
      - "Update: live."
    type: bool
  external:
    description:
      - B(OpenStack only.) Whether the network is external (C(router:external)) - routers may use it as
        their gateway and floating IPs come from it. Admin only, like O(shared).
      - "Update: live."
    type: bool
  tags:
    description:
      - B(OpenStack only.) Tags of the network, exclusive when set. The tag C(converge-virt) that marks
        what this collection created is kept and never shown here.
      - "Update: live."
    type: list
    elements: str
  subnets:
    description:
      - B(OpenStack only.) The network's subnets, each identified by O(subnets[].name) (which
        defaults to its CIDR). Exclusive when set - subnets not listed (and not given by O(ipv4) or
        O(ipv6)) are deleted, which is refused while ports other than router interfaces and DHCP use them.
      - Subnets of one network must not overlap; this is checked before anything changes.
      - Options not set on an existing subnet are left alone.
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - Name of the subnet; defaults to its CIDR. A subnet given without a name also matches
            an existing subnet with the same CIDR.
          - "Update: live."
        type: str
      cidr:
        description:
          - The subnet, for example V(10.20.0.0/24) or V(fd00:20::/64). The IP version follows from it.
          - "Create-only: a different CIDR is refused unless O(recreate=true)."
        type: str
        required: true
      gateway:
        description:
          - Gateway address inside the subnet, or V(none) for a subnet without a gateway.
            Neutron's default is the first address.
          - "Update: live."
        type: str
      allocation_pools:
        description:
          - Ranges of addresses handed out to ports. Neutron's default is the whole subnet but the gateway.
          - "Update: live."
        type: list
        elements: dict
        suboptions:
          start:
            description: First address.
            type: str
            required: true
          end:
            description: Last address.
            type: str
            required: true
      dns_nameservers:
        description:
          - DNS servers handed out by DHCP, in this order.
          - "Update: live."
        type: list
        elements: str
      host_routes:
        description:
          - Static routes handed out by DHCP.
          - "Update: live."
        type: list
        elements: dict
        suboptions:
          destination:
            description: Destination CIDR.
            type: str
            required: true
          nexthop:
            description: Next hop address.
            type: str
            required: true
      enable_dhcp:
        description:
          - Whether Neutron serves DHCP on the subnet (its default is V(true)).
          - "Update: live."
        type: bool
  router:
    description:
      - B(OpenStack only.) A router for the network's subnets, found by name in the project.
      - Not set leaves any router alone.
    type: dict
    suboptions:
      name:
        description:
          - Name of the router; defaults to C(<network name>-router). An existing router of that name
            is used (and not deleted with the network unless this collection created it).
          - "Create-only (another name means another router)."
        type: str
      state:
        description:
          - V(absent) removes the router's interfaces on this network and deletes it if this
            collection created it.
        type: str
        choices: [present, absent]
        default: present
      external_network:
        description:
          - Name or ID of the external network for the router's gateway. An unknown network, or one
            that is not external, is refused before anything changes. Not set leaves the gateway alone.
          - "Update: live."
        type: str
      subnets:
        description:
          - The subnets (names or CIDRs) of this network the router has an interface on, exclusive.
            Default is every subnet with a gateway.
          - "Update: live."
        type: list
        elements: str
  wait_timeout:
    description:
      - B(OpenStack only.) Seconds to wait for Neutron to release the network's ports and remove the
        network when deleting it; each status change is reported in RV(progress).
    type: int
    default: 120
  recreate:
    description:
      - B(OpenStack only.) Allow changes Neutron cannot make in place - a subnet whose CIDR changes is
        deleted and created again. Refused anyway while ports other than router interfaces and DHCP
        use the subnet.
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
- name: One spec, converged on libvirt and on OpenStack (only the connection differs)
  converge.virt.network:
    name: lab
    mtu: 1450
    ipv4:
      address: 10.10.0.1/24
      dhcp:
        range: [10.10.0.100, 10.10.0.200]
    # "" is the local libvirt (qemu:///system); on OpenStack this is the subnet lab-ipv4,
    # 10.10.0.0/24 with gateway 10.10.0.1 and the DHCP pool .100-.200.
    cloud: "{{ item or omit }}"
  loop: ["", mycloud]

- name: A Neutron network with two subnets and a router to the external network
  converge.virt.network:
    cloud: mycloud
    name: app
    description: application tier
    subnets:
      - name: app-v4
        cidr: 10.20.0.0/24
        dns_nameservers: [192.0.2.53]
        allocation_pools:
          - {start: 10.20.0.10, end: 10.20.0.200}
      - cidr: 10.21.0.0/24
        gateway: none
        enable_dhcp: false
    router:
      external_network: public
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
    id:
      description: B(OpenStack.) ID of the network.
      type: str
    status:
      description: B(OpenStack.) Status of the network.
      type: str
    description:
      description: B(OpenStack.) Description.
      type: str
    port_security:
      description: B(OpenStack.) Port security default.
      type: bool
    shared:
      description: B(OpenStack.) Shared with every project.
      type: bool
    external:
      description: B(OpenStack.) External network.
      type: bool
    tags:
      description: B(OpenStack.) User tags (without the owner tag).
      type: list
      elements: str
    managed:
      description: B(OpenStack.) Whether this collection created the network.
      type: bool
    subnets:
      description: B(OpenStack.) Subnets, each with C(id), C(name), C(cidr), C(ip_version), C(gateway)
        (V(none) without one), C(allocation_pools), C(dns_nameservers), C(host_routes), C(enable_dhcp).
      type: list
      elements: dict
    router:
      description: B(OpenStack.) The router named in O(router) with C(id), C(name), C(external_network),
        C(subnets) (names of this network's subnets it has interfaces on) and C(managed).
      type: dict
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
      description: Whether the run restarts the network (libvirt).
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
progress:
  description: B(OpenStack.) What the deletion waited for, one line per status change.
  returned: when an OpenStack network was deleted
  type: list
  elements: str
  sample: ["network lab deletion: ACTIVE", "network lab deletion: gone"]
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
from ansible_collections.converge.virt.plugins.module_utils.specs.network import (
    ARGUMENT_SPEC,
    BACKEND_OPTIONS,
    MODULE_KWARGS,
)


def main():
    run_resource_module("network", ARGUMENT_SPEC, backend_options=BACKEND_OPTIONS, **MODULE_KWARGS)


if __name__ == "__main__":
    main()
