# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of converge.virt.image: a ``src`` file on the controller.

The controller file is hashed here (streamed) and described to the module, which answers from
its records whether the image is already in place.  Only if it is not (and never in check mode)
is the file copied to the remote temporary directory and the module run again with ``path``
pointing at the copy.  Without ``src`` the module simply runs.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.converge.virt.plugins.module_utils.transfer import compression_for, hash_file

MODULE = "converge.virt.image"


class ActionModule(ActionBase):

    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp  # no longer has any effect
        args = dict(self._task.args)
        args.pop("_controller_file", None)  # internal: only this plugin sets it
        try:
            src = args.get("src")
            if src is None or args.get("state", "present") == "absent":
                result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
                return result
            if args.get("path") is not None:
                raise AnsibleActionFail("src and path are mutually exclusive (src is a file on the "
                                        "controller, path a file on the host the module runs on)")
            local = self._controller_file(src)
            digests, head, size = hash_file(local, ("sha256",))
            args["_controller_file"] = {
                "name": os.path.basename(src), "size": size, "sha256": digests["sha256"],
                "compression": compression_for(args.get("decompress") or "auto", src, head),
            }
            first = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
            if first.get("failed") or not first.pop("_needs_file", False):
                result.update(first)
                return result
            # The image is not in place: copy the file over and run the module on the copy.
            remote = self._connection._shell.join_path(self._connection._shell.tmpdir, "image-source")
            self._transfer_file(local, remote)
            self._fixup_perms2((self._connection._shell.tmpdir, remote))
            args["path"] = remote
            second = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
            second.pop("_needs_file", None)
            result.update(second)
            return result
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)

    def _controller_file(self, src):
        try:
            found = self._find_needle("files", os.path.expanduser(src))
            return self._loader.get_real_file(found, decrypt=True)
        except AnsibleError as err:
            raise AnsibleActionFail("src %s: %s" % (src, to_text(err)))
