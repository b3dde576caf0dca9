#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: security_group
short_description: Converge an OpenStack security group and its rules to their declared state
version_added: 0.1.0
description:
  - Creates, updates in place, or deletes a Neutron security group. B(OpenStack only); libvirt has
    no security groups.
  - "O(rules) is B(exclusive) when set - rules of the group that are not listed are removed,
    B(including the two egress rules Neutron adds to every new group) (allow all outgoing IPv4 and
    IPv6). List them (C({direction: egress, ethertype: IPv4}) and C({direction: egress, ethertype: IPv6}))
    to keep outgoing traffic open. Without O(rules) the rules are left alone (a new group keeps
    Neutron's defaults)."
  - Rules are immutable in Neutron. A rule is identified by all its fields, so a changed rule is the
    old rule removed and the new one added - live, on every port using the group; new rules are
    added before old ones are removed.
  - Rules are normalized before they are compared, so the second run is a no-op - protocol numbers
    and names are the same (V(6) is V(tcp), V(icmp) on IPv6 is V(ipv6-icmp)), V(any) is no
    protocol, a remote prefix of V(0.0.0.0/0) or V(::/0) is no prefix, the ether type follows the
    remote prefix.
  - The group this module creates carries the tag C(converge-virt) (RV(security_group.managed)).
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.ATTRIBUTES
options:
  name:
    description:
      - Name of the security group, unique in the project (a name matching two groups is an error).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the group, V(absent) deletes it. Deleting a group that ports
        use is refused, naming the ports.
    type: str
    choices: [present, absent]
    default: present
  description:
    description:
      - Description of the group.
      - "Update: live."
    type: str
  tags:
    description:
      - Tags of the group, exclusive when set (the owner tag C(converge-virt) is kept, never shown).
      - "Update: live."
    type: list
    elements: str
  rules:
    description:
      - The group's rules, exclusive (see above). Each rule is allowed traffic.
      - "Update: live (a changed rule is removed and added)."
    type: list
    elements: dict
    suboptions:
      direction:
        description: Traffic direction.
        type: str
        choices: [ingress, egress]
        default: ingress
      ethertype:
        description:
          - IP version. Derived from O(rules[].remote_ip_prefix) when that is given; otherwise V(IPv4)
            when not set.
        type: str
        choices: [IPv4, IPv6]
      protocol:
        description:
          - Protocol name (V(tcp), V(udp), V(icmp), V(ipv6-icmp), ...) or number (0-255); V(any)
            or not set is every protocol.
        type: str
      port:
        description:
          - A single port; shorthand for O(rules[].port_range_min) = O(rules[].port_range_max).
        type: int
      ports:
        description:
          - A port or an inclusive range V(8000-8100); shorthand for the range options.
        type: str
      port_range_min:
        description:
          - First port (for ICMP, the ICMP type). Needs a protocol with ports (tcp, udp, dccp, sctp) or icmp.
        type: int
      port_range_max:
        description:
          - Last port (for ICMP, the ICMP code). Defaults to O(rules[].port_range_min).
        type: int
      remote_ip_prefix:
        description:
          - The remote addresses (CIDR). Not set, V(0.0.0.0/0) and V(::/0) all mean every address.
          - Mutually exclusive with O(rules[].remote_group).
        type: str
      remote_group:
        description:
          - Allow traffic from the ports of this security group (name or ID in the project), or
            V(self) for this group itself.
        type: str
notes:
  - The module identifies the group by name in the project of the credentials.
seealso:
  - module: converge.virt.instance
  - module: converge.virt.floating_ip
"""

EXAMPLES = r"""
- name: Web servers - SSH from the office, HTTP(S) from anywhere, everything between members
  converge.virt.security_group:
    cloud: mycloud
    name: web
    description: web tier
    rules:
      - {protocol: tcp, port: 22, remote_ip_prefix: 192.0.2.0/24}
      - {protocol: tcp, port: 80}
      - {protocol: tcp, port: 443}
      - {protocol: tcp, ports: "8000-8100", remote_group: self}
      - {protocol: icmp}
      # Neutron's default egress rules are removed unless listed:
      - {direction: egress, ethertype: IPv4}
      - {direction: egress, ethertype: IPv6}

- name: Delete it
  converge.virt.security_group:
    cloud: mycloud
    name: web
    state: absent
"""

RETURN = r"""
security_group:
  description:
    - The group's normalized state after the run (in check mode, the predicted state); V(null) after a deletion.
  returned: always
  type: dict
  contains:
    id:
      description: ID (V(null) in check mode before creation).
      type: str
    name:
      description: Name.
      type: str
    description:
      description: Description.
      type: str
    tags:
      description: User tags (without the owner tag).
      type: list
      elements: str
    managed:
      description: Whether this collection created the group.
      type: bool
    rules:
      description: Rules, normalized, each with C(direction), C(ethertype), C(protocol), C(port_range_min),
        C(port_range_max), C(remote_ip_prefix) and C(remote_group) (a group name, or V(self)).
      type: list
      elements: dict
plan:
  description: The plan this run carried out (or, in check mode, would carry out).
  returned: always
  type: dict
  contains:
    kind:
      description: Resource kind.
      type: str
      sample: security_group
    name:
      description: Resource name.
      type: str
    action:
      description: What happens to the group as a whole.
      type: str
      choices: [create, update, delete, none]
    effect:
      description: The most disruptive effect among the changes (V(null) when there are none).
      type: str
    summary:
      description: One line for humans.
      type: str
      sample: "security_group web: update (add rules[ingress IPv4 tcp 22-22 0.0.0.0/0] [live])"
    changes:
      description: Field-level changes, each with C(path) (a rule as C(rules[<direction> <ethertype> <protocol>
        <ports> <remote>])), C(op), C(before), C(after) and C(effect).
      type: list
      elements: dict
    notes:
      description: Explanations.
      type: list
      elements: str
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_resource_module
from ansible_collections.converge.virt.plugins.module_utils.specs.security_group import (
    ARGUMENT_SPEC,
    BACKEND_OPTIONS,
    MODULE_KWARGS,
)


def main():
    run_resource_module("security_group", ARGUMENT_SPEC, backend_options=BACKEND_OPTIONS, **MODULE_KWARGS)


if __name__ == "__main__":
    main()
