# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backend selection from the connection options.  Modules never know which backend they use."""

from __future__ import annotations

import contextlib
import os

# Options every resource module accepts (documented by the converge.virt.connection doc fragment).
CONNECTION_ARGS = {
    "uri": {"type": "str"},
}

DEFAULT_LIBVIRT_URI = "qemu:///system"


def libvirt_uri(params):
    """The libvirt URI: the option, else LIBVIRT_DEFAULT_URI, else qemu:///system."""
    return params.get("uri") or os.environ.get("LIBVIRT_DEFAULT_URI") or DEFAULT_LIBVIRT_URI


@contextlib.contextmanager
def open_backend(params, readonly=False, run_command=None):
    """Open the backend the options select, once per module run, and close it afterwards.

    ``run_command`` (argv -> (rc, stdout, stderr)) lets a backend run commands on the host the
    task runs on, for the few things its API cannot do."""
    from ansible_collections.converge.virt.plugins.module_utils.libvirt.backend import LibvirtBackend

    backend = LibvirtBackend(libvirt_uri(params), readonly=readonly, run_command=run_command)
    try:
        yield backend
    finally:
        backend.close()
