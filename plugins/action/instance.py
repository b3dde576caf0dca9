# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of converge.virt.instance: ``hypervisors`` may name inventory hosts.

When ``hypervisors`` is an inventory group name or a list of inventory host names, each becomes
``{name, uri, migrate_uri, disks_uri}`` from the host's variables (``converge_virt_uri``, else
``qemu+ssh://<ansible_user>@<ansible_host>/system``), here on the controller where the inventory
is (``plugin_utils/hypervisors.py``).  Everything else is the module's.
"""

from __future__ import annotations

from ansible_collections.converge.virt.plugins.plugin_utils.hypervisors import HypervisorsAction


class ActionModule(HypervisorsAction):

    MODULE = "converge.virt.instance"
