# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Neutron floating IPs.  Pure, no I/O.

A floating IP has no name, so the spec must say which one it means, or every run would allocate
a new one:

* with ``address``: the floating IP with that address in the project (allocated with exactly
  that address when missing, which Neutron allows admins only); its association (``server`` /
  ``port``) is then updated in place;
* without ``address``: the floating IP associated with the target port (the ``port``, or the
  port of ``server`` on ``nic`` / holding ``fixed_address``); when there is none, one is
  allocated on ``network`` and associated in the same call.

Normalized state::

    address, network (name), port (ID or None), fixed_address, server (ID of the port's device
    or None), description, tags        (+ read-only: id, status, managed)
"""

from __future__ import annotations

import copy

from ansible_collections.converge.virt.plugins.module_utils.engine import validate
from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Planner
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, Problems
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, NONE, UPDATE,
    Change, Field, Plan, compare,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.os_common import (
    check_external_network, desired_tags,
)

KIND = "floating_ip"

SCHEMA = {
    "port": Field(LIVE),
    "fixed_address": Field(LIVE),
    "description": Field(LIVE),
    "tags": Field(LIVE),
}


class FloatingIpWorld(object):
    """``network``: the spec's network resolved ``{id, name, external}`` (None if unknown);
    ``target``: the port the spec associates with ``{id, fixed_address, server}`` (None without one);
    ``problems``: lookup failures of the spec's references, as (field, message)."""

    def __init__(self, current=None, network=None, target=None, is_admin=False, problems=None):
        self.current = current
        self.network = network
        self.target = target
        self.is_admin = is_admin
        self.problems = list(problems or [])


class OsFloatingIpPlanner(Planner):
    kind = KIND
    schema = SCHEMA

    def normalize(self, params):
        problems = Problems()
        state = params.get("state") or "present"
        address = None
        if params.get("address") is not None:
            addr = validate.ip_address(params["address"], "address", problems)
            address = str(addr) if addr is not None else None
        fixed = None
        if params.get("fixed_address") is not None:
            addr = validate.ip_address(params["fixed_address"], "fixed_address", problems)
            fixed = str(addr) if addr is not None else None
        if params.get("server") and params.get("port"):
            problems.add("port", "give server or port, not both")
        if params.get("nic") and not params.get("server"):
            problems.add("nic", "selects a port of server; give server too")
        if fixed and not (params.get("server") or params.get("port")):
            problems.add("fixed_address", "needs server or port")
        if not (address or params.get("server") or params.get("port")):
            problems.add("address", "give address, server or port: a floating IP has no name, so without one "
                                    "of them it cannot be found again and every run would allocate a new one")
        tags = None
        if params.get("tags") is not None:
            tags = desired_tags(params["tags"])
        if address:
            label = address
        elif params.get("server"):
            label = "server %s" % params["server"]
        elif params.get("port"):
            label = "port %s" % params["port"]
        else:
            label = "(no address, server or port)"
        desired = {"name": label, "state": state, "address": address, "network": params.get("network"),
                   "server": params.get("server"), "port": params.get("port"), "nic": params.get("nic"),
                   "fixed_address": fixed, "description": params.get("description"), "tags": tags}
        problems.raise_if_any(KIND, label)
        return desired

    def plan(self, desired, world):
        name = desired["name"]
        current = world.current
        problems = Problems()
        if desired["state"] == "absent" and current is None:
            return Plan(KIND, name, NONE)  # also when the server or port it was on is gone
        for field, message in world.problems:
            problems.add(field, message)
        problems.raise_if_any(KIND, name)
        if desired["state"] == "absent":
            if desired["address"] is None and not current.get("managed"):
                raise Conflict("floating IP %s on %s was not allocated by converge.virt; refusing to release it"
                               % (current["address"], name), kind=KIND, name=name,
                               hint="name it by address to release it")
            return Plan(KIND, name, DELETE, [Change("floating_ip", "remove", None, None, LIVE)],
                        before=copy.deepcopy(current), after=None, desired={"id": current["id"]})

        network = world.network
        check_external_network(desired.get("network"), network, "network", problems,
                               "; floating IPs come from external networks")
        problems.raise_if_any(KIND, name)
        target = world.target
        want = {"port": target["id"] if target else None,
                "fixed_address": target["fixed_address"] if target else None,
                "description": desired.get("description"), "tags": desired.get("tags")}
        if current is None:
            if desired.get("network") is None:
                raise Conflict("does not exist and network is not given", kind=KIND, name=name,
                               hint="set network to the external network to allocate it from")
            if desired.get("address") and not world.is_admin:
                raise Conflict("allocating the specific address %s needs an OpenStack admin (Neutron's policy); "
                               "these credentials lack the admin role" % desired["address"], kind=KIND, name=name,
                               hint="leave address out and identify the floating IP by server or port")
            after = {"id": None, "address": desired.get("address"), "network": network["name"],
                     "port": want["port"], "fixed_address": want["fixed_address"],
                     "server": target.get("server") if target else None,
                     "description": want["description"] or "", "tags": want["tags"] or [],
                     "status": None, "managed": True}
            changes = [Change(k, "add", None, after[k], LIVE) for k in ("address", "network", "port", "fixed_address")
                       if after[k] is not None]
            return Plan(KIND, name, CREATE, changes, before=None, after=after,
                        desired={"after": after, "network_id": network["id"]})
        if network is not None and current.get("network_id") not in (None, network["id"]):
            raise Conflict("floating IP %s belongs to network %r, not %r; a floating IP cannot move between "
                           "networks" % (current["address"], current["network"], network["name"]),
                           kind=KIND, name=name, hint="release it (state: absent) and allocate a new one")
        fields = dict(want) if target else {"description": want["description"], "tags": want["tags"]}
        changes = compare(fields, current, SCHEMA)
        after = copy.deepcopy(current)
        for key, value in fields.items():
            if value is not None:
                after[key] = value
        if target:
            after["server"] = target.get("server")
        notes = []
        if any(c.path == "port" for c in changes) and current.get("port"):
            notes.append("floating IP %s moves from port %s to port %s"
                         % (current["address"], current["port"], want["port"]))
        return Plan(KIND, name, UPDATE if changes else NONE, changes, before=copy.deepcopy(current), after=after,
                    notes=notes, desired={"after": after, "id": current["id"]})
