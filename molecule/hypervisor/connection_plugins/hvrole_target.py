# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# Test-only: the connection of the hypervisor role's Molecule scenario (not part of the collection).

from __future__ import annotations

DOCUMENTATION = r"""
name: hvrole_target
short_description: Run tasks inside the hypervisor scenario's target (a Debian root in its own namespaces)
description:
  - Runs every command through a command prefix that enters the target, for example
    C(bash target.sh exec), which enters the target's network, mount, UTS and PID namespaces and
    chroots into its root. Files are copied in and out through the same prefix (C(cat)), so the
    plugin knows nothing about namespaces or paths.
  - Like a chroot connection, with the namespaces that let the target run its own libvirtd.
author:
  - converge.virt contributors (@converge-virt)
options:
  target_command:
    description: The command prefix that runs a command inside the target.
    type: list
    elements: str
    required: true
    vars:
      - name: hvrole_target_command
"""

import shlex
import subprocess

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

display = Display()


class Connection(ConnectionBase):
    """Commands and files go through the target's command prefix."""

    transport = "hvrole_target"
    has_pipelining = True
    default_user = "root"

    def _prefix(self):
        prefix = self.get_option("target_command")
        if not prefix:
            raise AnsibleConnectionFailure("hvrole_target: hvrole_target_command is not set")
        return [to_text(p) for p in prefix]

    def _connect(self):
        super()._connect()
        self._connected = True
        return self

    def _run(self, args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, in_data=None):
        argv = self._prefix() + args
        display.vvv("hvrole_target: %s" % " ".join(shlex.quote(a) for a in argv), host=self._play_context.remote_addr)
        with subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE) as proc:
            out, err = proc.communicate(in_data)
            return proc.returncode, out, err

    def exec_command(self, cmd, in_data=None, sudoable=False):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        stdin = subprocess.PIPE if in_data is not None else subprocess.DEVNULL
        return self._run(["/bin/sh", "-c", to_text(cmd)], stdin=stdin, in_data=in_data)

    def put_file(self, in_path, out_path):
        super().put_file(in_path, out_path)
        with open(to_bytes(in_path), "rb") as source:
            rc, dummy, err = self._run(["/bin/sh", "-c", "cat > %s" % shlex.quote(out_path)], stdin=source)
        if rc != 0:
            raise AnsibleError("hvrole_target: failed to copy %s to %s: %s" % (in_path, out_path, to_text(err)))

    def fetch_file(self, in_path, out_path):
        super().fetch_file(in_path, out_path)
        with open(to_bytes(out_path), "wb") as dest:
            rc, dummy, err = self._run(["/bin/sh", "-c", "cat %s" % shlex.quote(in_path)], stdout=dest)
        if rc != 0:
            raise AnsibleError("hvrole_target: failed to fetch %s to %s: %s" % (in_path, out_path, to_text(err)))

    def close(self):
        super().close()
        self._connected = False
