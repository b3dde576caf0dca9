# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run per stack and target at a time: an advisory lock (``flock``) on the host the task runs on.

The lock file is ``<state dir>/locks/<stack>-<target hash>.lock`` (``state_dir()`` below; the
temporary directory when that cannot be created).  The kernel releases the lock when the process ends, so a
killed run never leaves a stale lock behind.  The holder's PID and start time are written into the
file for the message a waiting run gives when it times out.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import tempfile
import time

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict

STATE_DIR_ENV = "CONVERGE_VIRT_STATE_DIR"
SYSTEM_STATE_DIR = "/var/lib/converge-virt"


def state_dir(environ=None, euid=None):
    """Where stacks keep their state on this host (libvirt ledgers, locks): ``$CONVERGE_VIRT_STATE_DIR``,
    else ``/var/lib/converge-virt`` for root, else ``$XDG_STATE_HOME`` (``~/.local/state``)/converge-virt."""
    environ = os.environ if environ is None else environ
    if environ.get(STATE_DIR_ENV):
        return environ[STATE_DIR_ENV]
    if (os.geteuid() if euid is None else euid) == 0:
        return SYSTEM_STATE_DIR
    base = environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "converge-virt")


def _lock_dir():
    for base in (state_dir(), os.path.join(tempfile.gettempdir(), "converge-virt")):
        path = os.path.join(base, "locks")
        try:
            os.makedirs(path, mode=0o755, exist_ok=True)
            if os.access(path, os.W_OK):
                return path
        except OSError:
            continue
    raise Conflict("no writable directory for the stack lock (tried %s and the temporary directory)" % state_dir())


def lock_path(stack, target):
    digest = hashlib.sha256(target.encode("utf-8")).hexdigest()[:12]
    return os.path.join(_lock_dir(), "%s-%s.lock" % (stack, digest))


@contextlib.contextmanager
def stack_lock(stack, target, timeout, progress=None):
    """Hold the stack's lock for the block; wait up to ``timeout`` seconds for another run to end."""
    path = lock_path(stack, target)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(timeout, 0)
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as err:
                if err.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if time.monotonic() >= deadline:
                raise Conflict("stack %s is locked by another run (%s) and stayed locked for %s s"
                               % (stack, _holder(path), timeout),
                               hint="wait for that run to finish, or raise lock_timeout")
            if progress is not None and not told:
                progress("stack %s: waiting for another run (%s)" % (stack, _holder(path)))
                told = True
            time.sleep(0.5)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                 "target": target}).encode("utf-8"))
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _holder(path):
    try:
        with open(path) as handle:
            info = json.load(handle)
        return "PID %s since %s" % (info.get("pid"), info.get("since"))
    except (OSError, ValueError):
        return "holder unknown"
