#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: floating_ip
short_description: Converge an OpenStack floating IP and its association to their declared state
version_added: 0.1.0
description:
  - Allocates a Neutron floating IP on an external network, associates it with an instance or a port,
    moves it to another one in place, or releases it. B(OpenStack only.)
  - "B(How the floating IP is identified) (it has no name): with O(address), the floating IP with that
    address in the project; without O(address), the floating IP associated with the target port - the
    O(port), or the port of O(server) (chosen by O(nic) or O(fixed_address) when the server has several).
    When none is found, one is allocated on O(network) and associated in the same API call, so a
    failed association allocates nothing. A second run finds it again and changes nothing."
  - So a floating IP can be moved to another server or port in place only when it is named by
    O(address); without O(address), a new O(server) means another floating IP.
  - The floating IPs this module allocates carry the tag C(converge-virt) (RV(floating_ip.managed)).
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.ATTRIBUTES
options:
  state:
    description:
      - V(present) allocates and associates, V(absent) releases.
      - With O(state=absent) and O(address), that floating IP is released. Without O(address), the
        floating IP on the target port is released only if this collection allocated it (else the
        task fails - name it by O(address)). Nothing found is not an error.
    type: str
    choices: [present, absent]
    default: present
  network:
    description:
      - Name or ID of the external network to allocate from. Needed to allocate; when given for an
        existing floating IP it must be the network the floating IP belongs to.
      - An unknown network, or one that is not external, is refused before anything changes.
      - "Create-only."
    type: str
  address:
    description:
      - The floating IP address. Identifies the floating IP; when it does not exist it is allocated
        with this address, which Neutron allows only admins (refused before any change otherwise).
      - "Create-only."
    type: str
  server:
    description:
      - Name or ID of the instance (Nova server) to associate with. Mutually exclusive with O(port).
      - "Update: live (with O(address): the floating IP moves)."
    type: str
  nic:
    description:
      - Name or ID of the network of the O(server)'s port to use, when the server has several ports.
      - "Update: live."
    type: str
  fixed_address:
    description:
      - The fixed address of the port to map to (default - the floating IP's current fixed address,
        else the port's first IPv4 address).
      - "Update: live."
    type: str
  port:
    description:
      - Name or ID of a port to associate with, instead of a O(server).
      - "Update: live."
    type: str
  description:
    description:
      - Description of the floating IP.
      - "Update: live."
    type: str
  tags:
    description:
      - Tags, exclusive when set (the owner tag C(converge-virt) is kept, never shown).
      - "Update: live."
    type: list
    elements: str
notes:
  - The target port's network needs a router with a gateway on O(network); Neutron refuses the
    association otherwise (and then nothing is allocated).
seealso:
  - module: converge.virt.network
  - module: converge.virt.instance
"""

EXAMPLES = r"""
- name: A floating IP for web1 (found again on later runs by its association)
  converge.virt.floating_ip:
    cloud: mycloud
    network: public
    server: web1
  register: fip

- name: Its address
  ansible.builtin.debug:
    msg: "{{ fip.floating_ip.address }}"

- name: Move a known address to another server, in place
  converge.virt.floating_ip:
    cloud: mycloud
    address: 203.0.113.10
    server: web2
    nic: app

- name: Release web1's floating IP
  converge.virt.floating_ip:
    cloud: mycloud
    server: web1
    state: absent
"""

RETURN = r"""
floating_ip:
  description:
    - The floating IP's normalized state after the run (in check mode, the predicted state; the
      address of a new floating IP is not known in check mode). V(null) after a release.
  returned: always
  type: dict
  contains:
    id:
      description: ID.
      type: str
    address:
      description: The floating address.
      type: str
      sample: 203.0.113.10
    network:
      description: Name of the external network.
      type: str
    network_id:
      description: ID of the external network.
      type: str
    port:
      description: ID of the associated port (V(null) when not associated).
      type: str
    fixed_address:
      description: The fixed address it maps to.
      type: str
    server:
      description: ID of the device (server) owning the port.
      type: str
    description:
      description: Description.
      type: str
    status:
      description: Neutron's status (V(ACTIVE), V(DOWN)).
      type: str
    tags:
      description: User tags.
      type: list
      elements: str
    managed:
      description: Whether this collection allocated it.
      type: bool
plan:
  description: The plan this run carried out (or, in check mode, would carry out).
  returned: always
  type: dict
  contains:
    kind:
      description: Resource kind.
      type: str
      sample: floating_ip
    name:
      description: How the floating IP was identified (its address, or the server or port).
      type: str
    action:
      description: What happens to the floating IP as a whole.
      type: str
      choices: [create, update, delete, none]
    effect:
      description: The most disruptive effect among the changes (V(null) when there are none).
      type: str
    summary:
      description: One line for humans.
      type: str
    changes:
      description: Field-level changes, each with C(path), C(op), C(before), C(after) and C(effect).
      type: list
      elements: dict
    notes:
      description: Explanations (such as a floating IP moving to another port).
      type: list
      elements: str
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_resource_module
from ansible_collections.converge.virt.plugins.module_utils.specs.floating_ip import (
    ARGUMENT_SPEC,
    BACKEND_OPTIONS,
    MODULE_KWARGS,
)


def main():
    run_resource_module("floating_ip", ARGUMENT_SPEC, backend_options=BACKEND_OPTIONS, **MODULE_KWARGS)


if __name__ == "__main__":
    main()
