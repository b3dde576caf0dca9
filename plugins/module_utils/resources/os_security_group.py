# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Neutron security groups and their rules.  Pure, no I/O.

Normalized state::

    name, description, tags (user tags, sorted), rules: [{direction, ethertype, protocol,
    port_range_min, port_range_max, remote_ip_prefix, remote_group}]   (+ read-only: id, managed)

Rules are immutable in Neutron, so a rule is identified by all of its fields: a changed rule is
the old one removed and the new one added (both live).  ``rules`` is exclusive when set: rules not
listed are removed, Neutron's default egress rules included.  Normalization makes equal rules
compare equal: protocol numbers become names (6 -> tcp), ``any`` is no protocol, a remote prefix
of 0.0.0.0/0 or ::/0 is no prefix, the ether type follows the prefix.
"""

from __future__ import annotations

import copy
import ipaddress

from ansible_collections.converge.virt.plugins.module_utils.engine import validate
from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Planner
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, Problems
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, NONE, UPDATE,
    Change, Field, KeyedList, Plan, compare,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.os_common import desired_tags

KIND = "security_group"
RULE_FIELDS = ("direction", "ethertype", "protocol", "port_range_min", "port_range_max",
               "remote_ip_prefix", "remote_group")
# Protocol numbers Neutron also knows by name: the name is the canonical form.
PROTOCOL_NAMES = {"1": "icmp", "2": "igmp", "4": "ipip", "6": "tcp", "17": "udp", "33": "dccp",
                  "41": "ipv6-encap", "43": "ipv6-route", "44": "ipv6-frag", "47": "gre", "50": "esp",
                  "51": "ah", "58": "ipv6-icmp", "59": "ipv6-nonxt", "60": "ipv6-opts", "89": "ospf",
                  "103": "pim", "112": "vrrp", "132": "sctp", "icmpv6": "ipv6-icmp"}
PORTED = ("tcp", "udp", "dccp", "sctp", "udplite")
ICMP = ("icmp", "ipv6-icmp")
SELF = "self"


def canonical_protocol(value, ethertype=None):
    """``6`` -> ``tcp``; ``any``/None -> None; IPv6 ``icmp`` -> ``ipv6-icmp`` (as Neutron stores it)."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in ("", "any", "-1", "all"):
        return None
    text = PROTOCOL_NAMES.get(text, text)
    if text == "icmp" and ethertype == "IPv6":
        text = "ipv6-icmp"
    return text


def canonical_prefix(value):
    """A remote prefix normalized; the whole address space is the same as no prefix."""
    if value is None:
        return None
    net = ipaddress.ip_network(str(value).strip(), strict=False)
    if net.prefixlen == 0:
        return None
    return str(net)


def rule_key(rule):
    """A readable identity of a rule made of all its fields, e.g. ``ingress IPv4 tcp 22-22 0.0.0.0/0``."""
    ports = ""
    if rule.get("port_range_min") is not None or rule.get("port_range_max") is not None:
        ports = " %s-%s" % (rule.get("port_range_min"), rule.get("port_range_max"))
    remote = rule.get("remote_ip_prefix") or ("group:%s" % rule["remote_group"] if rule.get("remote_group")
                                              else ("0.0.0.0/0" if rule.get("ethertype") == "IPv4" else "::/0"))
    return "%s %s %s%s %s" % (rule["direction"], rule["ethertype"], rule.get("protocol") or "any", ports, remote)


SCHEMA = {
    "description": Field(LIVE),
    "tags": Field(LIVE),
    "rules": KeyedList(LIVE, key=rule_key),
}


def default_rules():
    """What Neutron puts in a new group: allow every egress, IPv4 and IPv6."""
    return [dict(direction="egress", ethertype=eth, protocol=None, port_range_min=None, port_range_max=None,
                 remote_ip_prefix=None, remote_group=None) for eth in ("IPv4", "IPv6")]


class SecurityGroupWorld(object):
    """``groups``: id -> name of the project's security groups (to resolve and show remote groups);
    ``remote_groups``: each reference of the spec (name or ID) -> resolved name, or None if unknown;
    ``ports``: IDs of ports that use the group (read for deletion only)."""

    def __init__(self, current=None, remote_groups=None, ports=None):
        self.current = current
        self.remote_groups = dict(remote_groups or {})
        self.ports = list(ports or [])


class OsSecurityGroupPlanner(Planner):
    kind = KIND
    schema = SCHEMA

    def normalize(self, params):
        problems = Problems()
        name = validate.resource_name(params.get("name"), "name", problems, max_length=255)
        desired = {"name": name, "state": params.get("state") or "present",
                   "description": params.get("description"), "tags": None, "rules": None}
        if params.get("tags") is not None:
            desired["tags"] = desired_tags(params["tags"])
        if params.get("rules") is not None:
            rules, seen = [], {}
            for index, spec in enumerate(params["rules"]):
                rule = self._rule(spec or {}, "rules[%d]" % index, problems)
                if rule is None:
                    continue
                key = rule_key(rule)
                if key in seen:
                    problems.add("rules[%d]" % index, "is the same rule as rules[%d] (%s)" % (seen[key], key))
                    continue
                seen[key] = index
                rules.append(rule)
            desired["rules"] = rules
        problems.raise_if_any(KIND, params.get("name"))
        return desired

    @staticmethod
    def _rule(spec, where, problems):
        direction = spec.get("direction") or "ingress"
        if direction not in ("ingress", "egress"):
            problems.add(where + ".direction", "must be ingress or egress")
            return None
        prefix = None
        if spec.get("remote_ip_prefix") is not None:
            try:
                net = ipaddress.ip_network(str(spec["remote_ip_prefix"]).strip(), strict=False)
            except ValueError:
                problems.add(where + ".remote_ip_prefix", "%r is not a CIDR" % spec["remote_ip_prefix"])
                return None
            prefix = net
        ethertype = spec.get("ethertype")
        if ethertype is not None and ethertype not in ("IPv4", "IPv6"):
            problems.add(where + ".ethertype", "must be IPv4 or IPv6")
            return None
        if prefix is not None:
            derived = "IPv%d" % prefix.version
            if ethertype is not None and ethertype != derived:
                problems.add(where + ".ethertype", "%s contradicts remote_ip_prefix %s" % (ethertype, prefix))
                return None
            ethertype = derived
        ethertype = ethertype or "IPv4"
        if spec.get("remote_ip_prefix") is not None and spec.get("remote_group") is not None:
            problems.add(where, "remote_ip_prefix and remote_group are mutually exclusive")
            return None
        protocol = canonical_protocol(spec.get("protocol"), ethertype)
        if protocol is not None and protocol.isdigit() and not 0 <= int(protocol) <= 255:
            problems.add(where + ".protocol", "%s is not an IP protocol number (0-255)" % protocol)
            return None
        low, high = spec.get("port_range_min"), spec.get("port_range_max")
        shorthand = [o for o in ("port", "ports") if spec.get(o) is not None]
        if len(shorthand) > 1 or (shorthand and (low is not None or high is not None)):
            problems.add(where, "give one of port, ports, or port_range_min/port_range_max")
            return None
        if spec.get("port") is not None:
            low = high = spec["port"]
        if spec.get("ports") is not None:
            text = str(spec["ports"]).strip()
            parts = text.split("-")
            if len(parts) == 1:
                parts = [parts[0], parts[0]]
            try:
                low, high = int(parts[0]), int(parts[1])
                if len(parts) != 2:
                    raise ValueError
            except ValueError:
                problems.add(where + ".ports", "%r is not a port or a range like 8000-8100" % spec["ports"])
                return None
        if low is not None and high is None:
            high = low
        if (low is not None or high is not None):
            if protocol in ICMP:
                for value, field in ((low, "type"), (high, "code")):
                    if value is not None and not 0 <= int(value) <= 255:
                        problems.add(where, "ICMP %s %s is out of range (0-255)" % (field, value))
                        return None
            elif protocol not in PORTED:
                problems.add(where, "ports need protocol tcp, udp, dccp or sctp (or icmp type/code), not %s"
                             % (protocol or "any"))
                return None
            elif low is None or not 1 <= int(low) <= int(high) <= 65535:
                problems.add(where, "port range %s-%s is not within 1-65535 and ascending" % (low, high))
                return None
        return {"direction": direction, "ethertype": ethertype, "protocol": protocol,
                "port_range_min": None if low is None else int(low),
                "port_range_max": None if high is None else int(high),
                "remote_ip_prefix": canonical_prefix(prefix) if prefix is not None else None,
                "remote_group": None if spec.get("remote_group") is None else str(spec["remote_group"])}

    def plan(self, desired, world):
        name = desired["name"]
        current = world.current
        if desired["state"] == "absent":
            if current is None:
                return Plan(KIND, name, NONE)
            if world.ports:
                raise Conflict("is used by ports %s" % ", ".join(sorted(world.ports)), kind=KIND, name=name,
                               hint="remove the group from those servers/ports first")
            return Plan(KIND, name, DELETE, [Change("security_group", "remove", None, None, LIVE)],
                        before=copy.deepcopy(current), after=None, desired={"id": current["id"]})
        desired = self._resolve(desired, world, current)
        fields = dict((k, desired.get(k)) for k in SCHEMA)
        if current is None:
            after = {"name": name, "id": None, "managed": True,
                     "description": desired.get("description") or "", "tags": desired.get("tags") or [],
                     "rules": sorted(desired["rules"] if desired.get("rules") is not None else default_rules(),
                                     key=rule_key)}
            changes = [Change(k, "add", None, after[k], LIVE) for k in ("description", "tags")
                       if desired.get(k) not in (None, [], "")]
            changes += [Change("rules[%s]" % rule_key(r), "add", None, r, LIVE) for r in after["rules"]]
            return Plan(KIND, name, CREATE, changes, before=None, after=after,
                        desired={"after": after, "exclusive": desired.get("rules") is not None})
        changes = compare(fields, current, SCHEMA)
        after = copy.deepcopy(current)
        for key, value in fields.items():
            if value is not None:
                after[key] = sorted(value, key=rule_key) if key == "rules" else copy.deepcopy(value)
        notes = []
        if any(c.path.startswith("rules[") for c in changes):
            notes.append("rules are immutable in Neutron: a changed rule is removed and added again")
        return Plan(KIND, name, UPDATE if changes else NONE, changes, before=copy.deepcopy(current),
                    after=after, notes=notes,
                    desired={"after": after, "id": current["id"], "exclusive": desired.get("rules") is not None})

    @staticmethod
    def _resolve(desired, world, current):
        """Remote groups as the names they resolve to (``self`` for the group itself)."""
        if not desired.get("rules"):
            return desired
        problems = Problems()
        result = copy.deepcopy(desired)
        for index, rule in enumerate(result["rules"]):
            ref = rule.get("remote_group")
            if ref is None:
                continue
            if ref in (SELF, desired["name"]) or (current and ref == current.get("id")):
                rule["remote_group"] = SELF
                continue
            resolved = world.remote_groups.get(ref)
            if resolved is None:
                problems.add("rules[%d].remote_group" % index, "security group %r does not exist" % ref)
            else:
                rule["remote_group"] = resolved
        problems.raise_if_any(KIND, desired["name"])
        return result
