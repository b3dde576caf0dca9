# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of converge.virt.hypervisor_info: ``hypervisors`` may name inventory hosts.

An inventory group name or a list of inventory host names becomes ``{name, uri, migrate_uri,
disks_uri}`` per host from its variables (``converge_virt_uri``, else
``qemu+ssh://<ansible_user>@<ansible_host>/system``), here on the controller where the inventory
is (``plugin_utils/hypervisors.py``).  The module then reads every host side by side.
"""

from __future__ import annotations

from ansible_collections.converge.virt.plugins.plugin_utils.hypervisors import HypervisorsAction


class ActionModule(HypervisorsAction):

    MODULE = "converge.virt.hypervisor_info"
    _supports_async = False
