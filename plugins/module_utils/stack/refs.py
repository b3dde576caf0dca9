# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""References between resources, read from their options: what a resource needs to exist first.

Each reference is ``(field, (kind, scope, name))``, ``field`` being the option's path as the
planners name it in their messages (``nics[0].network``).  A reference to a resource that the
stack does not declare is not a dependency: it must exist already, which its planner checks.
"""

from __future__ import annotations


def _ref(field, kind, name, scope=None):
    return (field, (kind, scope, name)) if name not in (None, "") else None


def _libvirt(kind, params):
    refs = []
    if kind in ("volume", "image") and params.get("pool"):
        refs.append(_ref("pool", "pool", params["pool"]))
    if kind == "volume" and params.get("image"):
        image_pool = params.get("image_pool") or params.get("pool")
        refs.append(_ref("image_pool", "pool", image_pool))
        refs.append(_ref("image", "image", params["image"], image_pool))
        refs.append(_ref("image", "volume", params["image"], image_pool))
    if kind == "instance":
        default_pool = params.get("pool")
        refs.append(_ref("pool", "pool", default_pool))
        for index, disk in enumerate(params.get("disks") or []):
            field = "disks[%d]" % index
            disk_pool = disk.get("pool") or default_pool
            refs.append(_ref(field + ".pool", "pool", disk_pool))
            if disk.get("volume") and not disk.get("image"):
                refs.append(_ref(field + ".volume", "volume", disk["volume"], disk_pool))
            if disk.get("image"):
                image_pool = disk.get("image_pool") or disk_pool
                refs.append(_ref(field + ".image_pool", "pool", image_pool))
                # The image is a volume of that pool, placed by an image or a volume resource.
                refs.append(_ref(field + ".image", "image", disk["image"], image_pool))
                refs.append(_ref(field + ".image", "volume", disk["image"], image_pool))
        cdrom = params.get("cdrom") or {}
        if cdrom.get("volume"):
            cdrom_pool = cdrom.get("pool") or default_pool
            refs.append(_ref("cdrom.pool", "pool", cdrom_pool))
            refs.append(_ref("cdrom.volume", "volume", cdrom["volume"], cdrom_pool))
            refs.append(_ref("cdrom.volume", "image", cdrom["volume"], cdrom_pool))
        for index, nic in enumerate(params.get("nics") or []):
            refs.append(_ref("nics[%d].network" % index, "network", nic.get("network")))
    return refs


def _openstack(kind, params):
    refs = []
    if kind == "volume":
        refs.append(_ref("image", "image", params.get("image")))
        refs.append(_ref("snapshot", "volume_snapshot", params.get("snapshot")))
    elif kind == "volume_snapshot":
        refs.append(_ref("volume", "volume", params.get("volume")))
    elif kind == "instance":
        refs.append(_ref("image", "image", params.get("image")))
        refs.append(_ref("key_name", "keypair", params.get("key_name")))
        for index, group in enumerate(params.get("security_groups") or []):
            refs.append(_ref("security_groups[%d]" % index, "security_group", group))
        for index, nic in enumerate(params.get("nics") or []):
            refs.append(_ref("nics[%d].network" % index, "network", nic.get("network")))
        for index, disk in enumerate(params.get("disks") or []):
            refs.append(_ref("disks[%d].volume" % index, "volume", disk.get("volume")))
            refs.append(_ref("disks[%d].image" % index, "image", disk.get("image")))
    elif kind == "floating_ip":
        refs.append(_ref("server", "instance", params.get("server")))
        refs.append(_ref("network", "network", params.get("network")))
    elif kind == "network":
        router = params.get("router") or {}
        refs.append(_ref("router.external_network", "network", router.get("external_network")))
    elif kind == "object":
        refs.append(_ref("container", "object_container", params.get("container")))
    elif kind == "security_group":
        for index, rule in enumerate(params.get("rules") or []):
            if rule.get("remote_group") != params.get("name"):
                refs.append(_ref("rules[%d].remote_group" % index, "security_group", rule.get("remote_group")))
    elif kind == "user":
        refs.append(_ref("default_project", "project", params.get("default_project")))
        for index, role in enumerate(params.get("roles") or []):
            refs.append(_ref("roles[%d].project" % index, "project", role.get("project")))
    return refs


def references(backend_name, kind, params):
    """The references of one resource's validated ``params`` on ``backend_name``."""
    found = _openstack(kind, params) if backend_name == "openstack" else _libvirt(kind, params)
    return [r for r in found if r is not None]


# Deletion order of resources the stack no longer declares (their options are gone, so their
# references are too): users of a thing before the thing.
DELETE_ORDER = ("floating_ip", "instance", "volume_snapshot", "volume", "image", "keypair", "security_group",
                "network", "object", "object_container", "user", "project", "pool")
