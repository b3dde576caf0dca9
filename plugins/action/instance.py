# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of converge.virt.instance: ``hypervisors`` may name inventory hosts.

When ``hypervisors`` is an inventory group name or a list of inventory host names, each becomes
``{name, uri, migrate_uri, disks_uri}`` from the host's variables (``converge_virt_uri``, else
``qemu+ssh://<ansible_user>@<ansible_host>/system``), here on the controller where the inventory
is.  Everything else is the module's.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.converge.virt.plugins.plugin_utils.hypervisors import resolve_hypervisors


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        try:
            if args.get("hypervisors") is not None:
                args["hypervisors"] = resolve_hypervisors(args["hypervisors"], task_vars or {})
            wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
            result.update(self._execute_module(module_name="converge.virt.instance", module_args=args,
                                               task_vars=task_vars, wrap_async=wrap_async))
        except AnsibleActionFail as err:
            result.update(failed=True, msg=to_text(err))
        return result
