# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Neutron security groups (openstacksdk).  A no-op run is one list call: the project's groups,
which carry their rules (and give the names of remote groups)."""

from __future__ import annotations

from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Driver
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import CREATE, DELETE
from ansible_collections.converge.virt.plugins.module_utils.openstack.cloud import looks_like_id
from ansible_collections.converge.virt.plugins.module_utils.resources.os_common import (
    OWNER_TAG, get_field, owner_tags, user_tags,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.os_security_group import (
    SELF,
    SecurityGroupWorld,
    canonical_prefix,
    canonical_protocol,
    rule_key,
)


def _rule_state(rule, group_id, names):
    """A Neutron rule (dict or SDK object) in the planner's normalized shape."""
    ethertype = get_field(rule, "ethertype") or get_field(rule, "ether_type")
    remote = get_field(rule, "remote_group_id")
    prefix = get_field(rule, "normalized_cidr") or get_field(rule, "remote_ip_prefix")
    return {"direction": get_field(rule, "direction"), "ethertype": ethertype,
            "protocol": canonical_protocol(get_field(rule, "protocol"), ethertype),
            "port_range_min": get_field(rule, "port_range_min"), "port_range_max": get_field(rule, "port_range_max"),
            "remote_ip_prefix": canonical_prefix(prefix) if prefix else None,
            "remote_group": None if not remote else (SELF if remote == group_id else names.get(remote, remote))}


def group_state(group, names):
    tags = list(group.tags or [])
    rules = [_rule_state(r, group.id, names) for r in group.security_group_rules or []]
    return {"id": group.id, "name": group.name, "description": group.description or "",
            "tags": user_tags(tags), "managed": OWNER_TAG in tags,
            "rules": sorted(rules, key=rule_key)}


class SecurityGroupDriver(Driver):

    def __init__(self, cloud):
        self.cloud = cloud
        self.net = cloud.conn.network
        self._groups = []

    def _read_groups(self):
        self._groups = self.cloud.listing("security groups", "security_groups", self.net.security_groups,
                                          project_id=self.cloud.project_id)
        return self._groups

    def _names(self):
        return dict((g.id, g.name) for g in self._groups)

    def _by_name(self, name):
        matches = [g for g in self._groups if g.name == name or g.id == name]
        if len(matches) > 1:
            raise Conflict("security group: the name %r matches %d groups (%s); use the ID"
                           % (name, len(matches), ", ".join(sorted(g.id for g in matches))))
        return matches[0] if matches else None

    def observe(self, name, desired=None):
        self._read_groups()
        group = self._by_name(name)
        world = SecurityGroupWorld(current=group_state(group, self._names()) if group else None)
        for rule in (desired or {}).get("rules") or []:
            ref = rule.get("remote_group")
            if ref and ref != SELF and ref != name:
                found = self._by_name(ref)
                if found is None and looks_like_id(ref):
                    found = self.cloud.call("security group %s" % ref, self.net.get_security_group, ref,
                                            missing_ok=True)
                world.remote_groups[ref] = found.name if found is not None else None
        if group is not None and (desired or {}).get("state") == "absent":
            if self.cloud.batching:
                ports = [p for p in self.cloud.listing("ports", "ports", self.net.ports)
                         if group.id in (p.security_group_ids or [])]
            else:
                ports = self.cloud.call("ports using security group %s" % name, self.net.ports,
                                        security_groups=[group.id])
            world.ports = ["%s (%s)" % (p.id, p.device_owner or "unattached") for p in ports]
        return world

    def list(self, names=None, **filters):
        self._read_groups()
        groups = [g for g in self._groups if not names or g.name in names]
        return [group_state(g, self._names()) for g in sorted(groups, key=lambda g: (g.name, g.id))]

    def apply(self, plan):
        if plan.action == DELETE:
            self.cloud.call("delete security group %s" % plan.name, self.net.delete_security_group,
                            plan.desired["id"], retry=True, missing_ok=True)
            return {}
        after = plan.desired["after"]
        if plan.action == CREATE:
            group = self.cloud.call("create security group %s" % plan.name, self.net.create_security_group,
                                    retry=True, name=plan.name, description=after.get("description") or "")
            self.cloud.call("tag security group %s" % plan.name, self.net.set_tags, group,
                            owner_tags(after.get("tags")), retry=True)
            if not plan.desired["exclusive"]:
                return {}
        else:
            group = self.cloud.call("security group %s" % plan.name, self.net.get_security_group,
                                    plan.desired["id"])
            paths = set(c.path for c in plan.changes)
            if "description" in paths:
                self.cloud.call("update security group %s" % plan.name, self.net.update_security_group, group,
                                description=after["description"])
            if "tags" in paths:
                tags = owner_tags(after["tags"], OWNER_TAG in (group.tags or []), current=group.tags)
                self.cloud.call("tag security group %s" % plan.name, self.net.set_tags, group, tags)
            if not any(p.startswith("rules[") for p in paths):
                return {}
        self._sync_rules(group, after["rules"])
        return {}

    def _sync_rules(self, group, wanted):
        """Add the missing rules first, then remove the others: the group never lets less through
        than both old and new rules agree on."""
        group = self.cloud.call("security group %s" % group.name, self.net.get_security_group, group.id)
        names = self._names()
        ids_by_name = dict((g.name, g.id) for g in self._groups)
        have = {}
        for rule in group.security_group_rules or []:
            have[rule_key(_rule_state(rule, group.id, names))] = rule["id"]
        want = dict((rule_key(r), r) for r in wanted)
        for key in sorted(set(want) - set(have)):
            rule = want[key]
            attrs = {"security_group_id": group.id, "direction": rule["direction"], "ethertype": rule["ethertype"]}
            for field in ("protocol", "port_range_min", "port_range_max", "remote_ip_prefix"):
                if rule.get(field) is not None:
                    attrs[field] = rule[field]
            if rule.get("remote_group"):
                attrs["remote_group_id"] = group.id if rule["remote_group"] == SELF else \
                    ids_by_name.get(rule["remote_group"], rule["remote_group"])
            self.cloud.call("add rule %s to security group %s" % (key, group.name),
                            self.net.create_security_group_rule, retry=True, **attrs)
        for key in sorted(set(have) - set(want)):
            self.cloud.call("remove rule %s from security group %s" % (key, group.name),
                            self.net.delete_security_group_rule, have[key], retry=True, missing_ok=True)
