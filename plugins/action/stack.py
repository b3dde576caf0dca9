# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of converge.virt.stack: the controller's side.

Reads the ``src`` stack document on the controller (a YAML dictionary with ``name`` and
``resources``), hands the resources to the module on the target, and writes ``plan_file`` (the
summary and the per-resource plans as JSON) on the controller, in check mode too.
"""

from __future__ import annotations

import json
import os

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.converge.virt.plugins.plugin_utils.hypervisors import resolve_hypervisors

_DOCUMENT_KEYS = ("name", "resources")


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        src = args.pop("src", None)
        plan_file = args.pop("plan_file", None)
        try:
            if src:
                doc = self._read_document(src)
                if args.get("name") and doc.get("name") and args["name"] != doc["name"]:
                    raise AnsibleActionFail("the task names the stack %r but %s names it %r"
                                            % (args["name"], src, doc["name"]))
                args["name"] = args.get("name") or doc.get("name")
                args["resources"] = list(doc.get("resources") or []) + list(args.get("resources") or [])
            if args.get("hypervisors") is not None:  # an inventory group or inventory hosts, resolved here
                args["hypervisors"] = resolve_hypervisors(args["hypervisors"], task_vars or {})
            if plan_file and self._task.async_val:
                raise AnsibleActionFail("plan_file cannot be used with async: the plan is not known when the task returns")
            wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
            result.update(self._execute_module(module_name="converge.virt.stack", module_args=args,
                                               task_vars=task_vars, wrap_async=wrap_async))
            if plan_file and "summary" in result:
                self._write_plan(plan_file, result)
        except AnsibleActionFail as err:
            result.update(failed=True, msg=to_text(err))
        return result

    def _read_document(self, src):
        try:
            path = self._find_needle("files", src)
        except AnsibleError as err:
            raise AnsibleActionFail("stack document %s: %s" % (src, to_text(err)))
        try:
            doc = self._loader.load_from_file(path)
        except AnsibleError as err:
            raise AnsibleActionFail("stack document %s is not valid YAML: %s" % (path, to_text(err)))
        if not isinstance(doc, dict) or not isinstance(doc.get("resources", []), list):
            raise AnsibleActionFail("stack document %s must be a dictionary with name and a resources list" % path)
        unknown = sorted(set(doc) - set(_DOCUMENT_KEYS))
        if unknown:
            raise AnsibleActionFail("stack document %s: unknown keys %s (a document has %s; the other options are "
                                    "the task's)" % (path, ", ".join(unknown), " and ".join(_DOCUMENT_KEYS)))
        return doc

    def _write_plan(self, plan_file, result):
        plan = {
            "stack": result.get("stack"),
            "check_mode": bool(self._task.check_mode or self._play_context.check_mode),
            "changed": result.get("changed", False),
            "summary": result.get("summary"),
            "plan": result.get("plan"),
            "failures": result.get("failures", []),
            "not_attempted": result.get("not_attempted", []),
        }
        if "placement" in result:
            plan["placement"] = result["placement"]
        if result.get("failed"):  # a refused plan is a result too: the pipeline shows why
            plan["error"] = result.get("msg")
            plan["problems"] = result.get("problems", [])
        path = os.path.abspath(os.path.expanduser(plan_file))
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp_path = path + ".tmp"
            with open(tmp_path, "w") as handle:
                json.dump(plan, handle, indent=2, sort_keys=True, default=str)
                handle.write("\n")
            os.replace(tmp_path, path)
        except OSError as err:
            raise AnsibleActionFail("cannot write the plan to %s: %s" % (path, err))
        result["plan_file"] = path
