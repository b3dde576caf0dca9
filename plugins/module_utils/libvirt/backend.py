# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The libvirt backend: one connection per module run, and the driver for each resource kind."""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import ConvergeError
from ansible_collections.converge.virt.plugins.module_utils.libvirt.connection import open_connection
from ansible_collections.converge.virt.plugins.module_utils.libvirt.image import ImageDriver
from ansible_collections.converge.virt.plugins.module_utils.libvirt.instance import InstanceDriver
from ansible_collections.converge.virt.plugins.module_utils.libvirt.network import NetworkDriver
from ansible_collections.converge.virt.plugins.module_utils.libvirt.pool import PoolDriver
from ansible_collections.converge.virt.plugins.module_utils.libvirt.volume import VolumeDriver
from ansible_collections.converge.virt.plugins.module_utils.resources.image import ImagePlanner
from ansible_collections.converge.virt.plugins.module_utils.resources.instance import InstancePlanner
from ansible_collections.converge.virt.plugins.module_utils.resources.network import NetworkPlanner
from ansible_collections.converge.virt.plugins.module_utils.resources.pool import PoolPlanner
from ansible_collections.converge.virt.plugins.module_utils.resources.volume import VolumePlanner


def is_local_uri(uri):
    """Whether the hypervisor shares this process's host (and so its network namespace)."""
    parts = urlsplit(uri)
    scheme = parts.scheme.split("+")
    transport = scheme[1] if len(scheme) > 1 else None
    return not parts.hostname and transport in (None, "unix") and "socket=" not in parts.query


_KINDS = {
    "network": (NetworkPlanner, NetworkDriver),
    "pool": (PoolPlanner, PoolDriver),
    "image": (ImagePlanner, ImageDriver),
    "volume": (VolumePlanner, VolumeDriver),
    "instance": (InstancePlanner, InstanceDriver),
}


class LibvirtBackend(object):
    name = "libvirt"

    def __init__(self, uri, readonly=False, run_command=None):
        self.uri = uri
        # run_command(argv) -> (rc, out, err), e.g. AnsibleModule.run_command; None: no local commands.
        self.run_command = run_command
        self.local = is_local_uri(uri)
        self.conn = open_connection(uri, readonly=readonly)
        self._drivers = {}
        self._cache = None

    def _kind(self, kind):
        if kind not in _KINDS:
            raise ConvergeError("the libvirt backend does not manage %s resources" % kind,
                                hint="%s is an OpenStack resource: set cloud or auth, or backend: openstack"
                                % kind)
        return _KINDS[kind]

    def planner(self, kind):
        return self._kind(kind)[0]()

    def driver(self, kind):
        if kind not in self._drivers:
            self._drivers[kind] = self.new_driver(kind)
            self._drivers[kind].cache = self._cache
        return self._drivers[kind]

    def new_driver(self, kind):
        """A driver of its own (a stack converges resources in several threads)."""
        return self._kind(kind)[1](self.conn, run_command=self.run_command if self.local else None)

    @staticmethod
    def kinds():
        return sorted(_KINDS)

    def ownership(self):
        """Which stack owns what on this host (see ``libvirt/ownership.py``)."""
        from ansible_collections.converge.virt.plugins.module_utils.libvirt.ownership import Ownership

        return Ownership(self)

    @contextlib.contextmanager
    def batch_reads(self):
        """Inside it, drivers keep what they read (every network, pool, domain's NICs) for the
        other resources of the same read-only pass, so N resources cost one listing per kind,
        not N."""
        self._cache = {}
        for driver in self._drivers.values():
            driver.cache = self._cache
        try:
            yield
        finally:
            self._cache = None
            for driver in self._drivers.values():
                driver.cache = None

    def close(self):
        try:
            self.conn.close()
        except Exception:  # closing a broken connection must not hide the real error
            pass
