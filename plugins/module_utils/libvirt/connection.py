# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Opening libvirt, and turning libvirt errors into the engine's typed errors."""

from __future__ import annotations

import copy

import contextlib
import traceback

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import (
    BackendError,
    Conflict,
    ConnectionFailed,
    MissingLibrary,
    NotFound,
)

try:
    import libvirt
except ImportError:
    libvirt = None
    LIBVIRT_IMPORT_ERROR = traceback.format_exc()
else:
    LIBVIRT_IMPORT_ERROR = None


def require_libvirt():
    if libvirt is None:
        raise MissingLibrary("libvirt-python", LIBVIRT_IMPORT_ERROR,
                             reason="to manage libvirt resources (pip install libvirt-python, or the "
                                    "python3-libvirt package)")
    return libvirt


def _silence(_ctx, _err):
    """libvirt prints every error to stderr by default; we report them ourselves."""


def open_connection(uri, readonly=False):
    lv = require_libvirt()
    lv.registerErrorHandler(_silence, None)
    try:
        return lv.openReadOnly(uri) if readonly else lv.open(uri)
    except lv.libvirtError as err:
        raise ConnectionFailed(
            "cannot connect to libvirt at %s: %s" % (uri, err.get_error_message() or err),
            hint="is libvirtd running and reachable? Without systemd start it with "
                 "'virtlogd -d; libvirtd -d'; for remote hosts check the URI and ssh access")


def is_no_such(err, *codes):
    return err.get_error_code() in codes


@contextlib.contextmanager
def translated(verb, kind=None, name=None):
    """Run a libvirt call, turning libvirtError into 'Failed to <verb>: <libvirt's message>'."""
    lv = require_libvirt()
    try:
        yield
    except lv.libvirtError as err:
        code = err.get_error_code()
        text = "failed to %s: %s" % (verb, err.get_error_message() or err)
        if code in (lv.VIR_ERR_NO_NETWORK, lv.VIR_ERR_NO_DOMAIN, lv.VIR_ERR_NO_STORAGE_POOL,
                    lv.VIR_ERR_NO_STORAGE_VOL):
            raise NotFound(text, kind=kind, name=name)
        if code in (lv.VIR_ERR_OPERATION_INVALID, getattr(lv, "VIR_ERR_RESOURCE_BUSY", -1)):
            raise Conflict(text, kind=kind, name=name)
        raise BackendError(text, kind=kind, name=name)


def remembered(cache, key, compute):
    """``compute()``, kept in ``cache`` (a dict, or None: not kept) under ``key`` for later calls.
    Callers get their own copy of lists and dicts, which planners may change."""
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    value = cache[key]
    return list(value) if isinstance(value, list) else copy.deepcopy(value)
