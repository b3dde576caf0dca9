# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenStack backend: one authenticated connection per module run, and the planner and driver
of each resource kind.  Planners (``resources/os_*.py``) are pure; drivers talk to openstacksdk."""

from __future__ import annotations

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import ConvergeError
from ansible_collections.converge.virt.plugins.module_utils.openstack.cloud import open_cloud
from ansible_collections.converge.virt.plugins.module_utils.openstack.floating_ip import FloatingIpDriver
from ansible_collections.converge.virt.plugins.module_utils.openstack.identity import ProjectDriver, UserDriver
from ansible_collections.converge.virt.plugins.module_utils.openstack.image import ImageDriver
from ansible_collections.converge.virt.plugins.module_utils.openstack.instance import InstanceDriver
from ansible_collections.converge.virt.plugins.module_utils.openstack.keypair import KeypairDriver
from ansible_collections.converge.virt.plugins.module_utils.openstack.network import NetworkDriver
from ansible_collections.converge.virt.plugins.module_utils.openstack.object import ObjectContainerDriver, ObjectDriver
from ansible_collections.converge.virt.plugins.module_utils.openstack.security_group import SecurityGroupDriver
from ansible_collections.converge.virt.plugins.module_utils.openstack.volume import VolumeDriver
from ansible_collections.converge.virt.plugins.module_utils.openstack.volume_snapshot import VolumeSnapshotDriver
from ansible_collections.converge.virt.plugins.module_utils.resources.os_floating_ip import OsFloatingIpPlanner
from ansible_collections.converge.virt.plugins.module_utils.resources.os_identity import OsProjectPlanner, OsUserPlanner
from ansible_collections.converge.virt.plugins.module_utils.resources.os_image import OsImagePlanner
from ansible_collections.converge.virt.plugins.module_utils.resources.os_instance import OsInstancePlanner
from ansible_collections.converge.virt.plugins.module_utils.resources.os_keypair import OsKeypairPlanner
from ansible_collections.converge.virt.plugins.module_utils.resources.os_network import OsNetworkPlanner
from ansible_collections.converge.virt.plugins.module_utils.resources.os_object import (
    OsObjectContainerPlanner,
    OsObjectPlanner,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.os_security_group import OsSecurityGroupPlanner
from ansible_collections.converge.virt.plugins.module_utils.resources.os_volume import OsVolumePlanner
from ansible_collections.converge.virt.plugins.module_utils.resources.os_volume_snapshot import OsVolumeSnapshotPlanner

_KINDS = {
    "image": (OsImagePlanner, ImageDriver),
    "volume": (OsVolumePlanner, VolumeDriver),
    "volume_snapshot": (OsVolumeSnapshotPlanner, VolumeSnapshotDriver),
    "network": (OsNetworkPlanner, NetworkDriver),
    "security_group": (OsSecurityGroupPlanner, SecurityGroupDriver),
    "floating_ip": (OsFloatingIpPlanner, FloatingIpDriver),
    "instance": (OsInstancePlanner, InstanceDriver),
    "keypair": (OsKeypairPlanner, KeypairDriver),
    "object_container": (OsObjectContainerPlanner, ObjectContainerDriver),
    "object": (OsObjectPlanner, ObjectDriver),
    "project": (OsProjectPlanner, ProjectDriver),
    "user": (OsUserPlanner, UserDriver),
}


class OpenStackBackend(object):
    name = "openstack"

    def __init__(self, params, readonly=False):
        self.cloud = open_cloud(params, readonly=readonly)
        self._drivers = {}

    @staticmethod
    def _kind(kind):
        if kind not in _KINDS:
            raise ConvergeError("the OpenStack backend does not manage %s resources" % kind,
                                hint="libvirt storage pools have no OpenStack counterpart"
                                if kind == "pool" else None)
        return _KINDS[kind]

    def planner(self, kind):
        return self._kind(kind)[0]()

    def driver(self, kind):
        if kind not in self._drivers:
            self._drivers[kind] = self.new_driver(kind)
        return self._drivers[kind]

    def new_driver(self, kind):
        """A driver of its own (a stack converges resources in several threads)."""
        return self._kind(kind)[1](self.cloud)

    @staticmethod
    def kinds():
        return sorted(_KINDS)

    def ownership(self):
        """Which stack owns what in this project (see ``openstack/ownership.py``)."""
        from ansible_collections.converge.virt.plugins.module_utils.openstack.ownership import Ownership

        return Ownership(self)

    def batch_reads(self):
        """Inside it, lookups are answered from one listing per resource type (``Cloud.batch``)."""
        return self.cloud.batch()

    def close(self):
        self.cloud.close()
