# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of converge.virt.hypervisor_info: ``hypervisors`` may name inventory hosts.

An inventory group name or a list of inventory host names becomes ``{name, uri, migrate_uri,
disks_uri}`` per host from its variables (``converge_virt_uri``, else
``qemu+ssh://<ansible_user>@<ansible_host>/system``), here on the controller where the inventory
is.  The module then reads every host side by side.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.converge.virt.plugins.plugin_utils.hypervisors import resolve_hypervisors


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        try:
            if args.get("hypervisors") is not None:
                args["hypervisors"] = resolve_hypervisors(args["hypervisors"], task_vars or {})
            result.update(self._execute_module(module_name="converge.virt.hypervisor_info", module_args=args,
                                               task_vars=task_vars))
        except AnsibleActionFail as err:
            result.update(failed=True, msg=to_text(err))
        return result
