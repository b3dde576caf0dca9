# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of converge.virt.image: a ``src`` file on the controller, and live progress.

The controller file is hashed here (streamed) and described to the module, which answers from
its records whether the image is already in place.  Only if it is not (and never in check mode)
is the file copied to the remote temporary directory and the module run again with ``path``
pointing at the copy.  Without ``src`` the module simply runs.

Live progress: the run that may transfer is started with Ansible's async machinery
(``wrap_async``).  It is polled with one small shell command on the target, which tells whether
the job still runs and prints the last line of the module's progress log
(``<cache_dir>/progress/<pool>-<volume>.log``), shown on the controller when it is new.  The log
is appended to across runs, so only a log modified after the job's results file was written
(``test -nt``, on the target's clock) counts.  When the job ends, its result is taken from
``async_status`` and returned exactly as the synchronous run returns it, and the results file is
removed.  Before that, a run without ``src`` plans in check mode (one synchronous call that only
reads): when nothing is to change, that is the result, so a no-op costs what it costs without
live progress.  Check mode, ``state=absent``, ``no_log``, ``progress=false`` and a task with its
own ``async`` run the module synchronously.
"""

from __future__ import annotations

import os
import re
import shlex
import time

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.converge.virt.plugins.module_utils.resources.image import (
    DEFAULT_CACHE_DIR,
    versioned_name,
)
from ansible_collections.converge.virt.plugins.module_utils.transfer import compression_for, hash_file

MODULE = "converge.virt.image"
ASYNC_STATUS = "ansible.legacy.async_status"
# Seconds between polls of the background job (each poll is one small shell command): quick at
# first, as a run that transfers nothing ends within a second, then backing off.
POLL_DELAYS = (0.1, 0.1, 0.1, 0.1, 0.2, 0.2, 0.3, 0.5, 1.0, 1.5)
POLL_MAX = 2.0
# Every so many polls async_status is asked even while the job seems to run.
STATUS_EVERY = 15
# The background job's time limit (async_wrapper kills the module after it; 0 would mean 5 s).
# A transfer has its own inactivity timeouts, so this is only a last resort.
ASYNC_LIMIT = 7 * 24 * 3600
# Keys async_status adds to the module's result.
ASYNC_KEYS = ("ansible_job_id", "started", "finished", "results_file", "erased", "stderr", "stderr_lines")
# Progress is shown only once the work (the module's run, hashing a src file on the controller)
# has taken this long: a quick placement stays as quiet as without live progress.
QUIET_SECONDS = 2.0
# Copying a src file this large from the controller is announced before it starts.
COPY_NOTICE_BYTES = 64 * 1024 * 1024

_SAFE = re.compile(r"[^A-Za-z0-9_.+-]")
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d ")
_TILDE = re.compile(r"^(~[A-Za-z0-9_][A-Za-z0-9_.-]*|~)(/|$)")

display = Display()


# ---- pure helpers (unit-tested) -------------------------------------------------------------
def safe_name(name):
    """A pool or volume name as the module's cache puts it in a progress log's file name."""
    return _SAFE.sub("_", name)


def shell_path(path):
    """``path`` as a POSIX shell word: quoted, but a leading ``~`` or ``~user`` left for the
    target's shell to expand (the module expands it the same way, on the same host)."""
    match = _TILDE.match(path)
    if not match:
        return shlex.quote(path)
    # The tilde-prefix ends at the first unquoted slash: keep that slash outside the quotes.
    rest = path[match.end():]
    return path[:match.end()] + (shlex.quote(rest) if rest else "")


def progress_logs(args):
    """Shell words naming the progress logs the module may write for these arguments: the
    image's own, and with ``on_source_change=new_version`` also a glob for its new versions."""
    cache_dir = args.get("cache_dir") or DEFAULT_CACHE_DIR
    directory = shell_path(cache_dir.rstrip("/") or "/") + "/progress/"
    prefix = safe_name(args["pool"]) + "-"
    words = [directory + shlex.quote(prefix + safe_name(args["name"]) + ".log")]
    if args.get("on_source_change") == "new_version":
        marker = "\x00" * 12
        head, tail = versioned_name(args["name"], marker).split(marker)
        words.append(directory + shlex.quote(prefix + safe_name(head)) + "[0-9a-f]" * 12
                     + shlex.quote(safe_name(tail) + ".log"))
    return words


def poll_command(results_file, logs):
    """A POSIX shell command telling whether the job still runs and, if it does, printing
    ``<log>\t<last line>`` for each log modified after the job started.

    While the module runs, async_wrapper's results file holds ``{"started": ..., "finished":
    ...}`` (async_status answers "not finished" for it); the module's result replaces it at the
    end.  It is written before the module starts, so a log newer than it was written to by this
    job (``-nt`` compares the target's own timestamps: no clock skew)."""
    return ("s=%s; case \"$(head -c 11 \"$s\" 2>/dev/null)\" in '{\"started\":'*) echo running; "
            "for f in %s; do if [ -f \"$f\" ] && [ \"$f\" -nt \"$s\" ]; then printf '%%s\\t' \"$f\"; "
            "tail -n 1 \"$f\"; fi; done;; *) echo done;; esac" % (shlex.quote(results_file), " ".join(logs)))


def parse_poll(output):
    """``(running, tails)`` from ``poll_command``'s output (``running`` False when unsure)."""
    lines = to_text(output or "").splitlines()
    if not lines or lines[0].strip() != "running":
        return False, ""
    return True, "\n".join(lines[1:])


def new_lines(output, shown):
    """The progress lines in ``poll_command``'s log output not shown yet (``shown`` maps each
    log to its last shown line and is updated), without their timestamps."""
    lines = []
    for row in to_text(output or "").splitlines():
        path, sep, line = row.partition("\t")
        line = line.strip()
        if not sep or not line or shown.get(path) == line:
            continue
        shown[path] = line
        lines.append(_TIMESTAMP.sub("", line))
    return lines


def module_result(status):
    """The module's own result from an ``async_status`` answer, as a synchronous run returns it."""
    result = dict(status)
    for key in ASYNC_KEYS:
        result.pop(key, None)
    return result


def poll_delays():
    """Seconds to wait before each poll: quick at first, then every POLL_MAX seconds."""
    yield from POLL_DELAYS
    while True:
        yield POLL_MAX


class ActionModule(ActionBase):

    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        self._host_name = task_vars.get("inventory_hostname") or "localhost"
        result = super().run(tmp, task_vars)
        del tmp  # no longer has any effect
        args = dict(self._task.args)
        args.pop("_controller_file", None)  # internal: only this plugin sets it
        try:
            src = args.get("src")
            if src is None or args.get("state", "present") == "absent":
                result.update(self._run_module(args, task_vars, plan_first=True))
                return result
            if args.get("path") is not None:
                raise AnsibleActionFail("src and path are mutually exclusive (src is a file on the "
                                        "controller, path a file on the host the module runs on)")
            local = self._controller_file(src)
            digests, head, size = hash_file(local, ("sha256",), self._controller_progress(args),
                                            "hash %s on the controller" % src)
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
            started = time.monotonic()
            if self._shows_progress(args) and size >= COPY_NOTICE_BYTES:
                self._show(args, "copy %s (%s) from the controller" % (src, _human(size)))
            self._transfer_file(local, remote)
            if self._shows_progress(args) and time.monotonic() - started >= QUIET_SECONDS:
                self._show(args, "copied %s in %.1f s" % (src, time.monotonic() - started))
            self._fixup_perms2((self._connection._shell.tmpdir, remote))
            args["path"] = remote
            second = self._run_module(args, task_vars)
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

    # ---- live progress ---------------------------------------------------------------------
    def _shows_progress(self, args):
        """Whether this run shows live progress (else the module runs synchronously)."""
        try:
            wanted = boolean(args.get("progress", True), strict=True)
        except TypeError:
            return False  # the module reports the invalid value
        return bool(wanted and args.get("state", "present") == "present" and not self._task.check_mode
                    and not self._task.async_val and not self._task.no_log
                    and not getattr(self._connection._shell, "_IS_WINDOWS", False)
                    and all(isinstance(args.get(key), str) for key in ("name", "pool"))
                    and isinstance(args.get("cache_dir") or "", str))

    def _show(self, args, line):
        display.display("[image %s on %s] %s" % (args["name"], self._host_name, line))

    def _controller_progress(self, args):
        """An ``emit(line)`` for controller-side work: silent during its first QUIET_SECONDS."""
        if not self._shows_progress(args):
            return None
        started = time.monotonic()

        def emit(line):
            if time.monotonic() - started >= QUIET_SECONDS:
                self._show(args, line)
        return emit

    def _run_module(self, args, task_vars, plan_first=False):
        """The module's result; run in the background and polled when it shows progress.

        With ``plan_first``, a run that would change nothing stays as cheap as without live
        progress: the module first plans in check mode (reads only, the same plan a real run
        makes) and only a plan that changes something, or fails, goes on."""
        if not self._shows_progress(args):
            return self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
        if plan_first:
            planned = self._plan(args, task_vars)
            if planned.get("failed") or not planned.get("changed"):
                return planned
        saved = self._task.async_val
        self._task.async_val = ASYNC_LIMIT  # the time limit _execute_module gives async_wrapper
        try:
            job = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars,
                                       wrap_async=True)
        finally:
            self._task.async_val = saved
        jid, results_file = job.get("ansible_job_id"), job.get("results_file")
        if job.get("failed") or not jid or not results_file:
            # async_wrapper could not start the job (so the module did not run): run it directly.
            display.vvv("converge.virt.image: no background job (%s); running synchronously"
                        % job.get("msg", "no job id"))
            return self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
        status_args = {"jid": jid, "_async_dir": os.path.dirname(results_file)}
        command = poll_command(results_file, progress_logs(args))
        shown = {}
        delays = poll_delays()
        polls = 0
        started = time.monotonic()
        while True:
            time.sleep(next(delays))
            polls += 1
            quiet = time.monotonic() - started < QUIET_SECONDS
            # async_status has the last word; ask it too now and then, in case the cheap look
            # misjudges a finished job.
            if self._still_running(args, command, None if quiet else shown) and polls % STATUS_EVERY:
                continue
            status = self._execute_module(module_name=ASYNC_STATUS, module_args=dict(status_args),
                                          task_vars=task_vars)
            if status.get("failed") or status.get("finished", True):
                break
        # What async_status's cleanup mode does (os.unlink of the results file), without the cost
        # of running a module for it.
        try:
            self._low_level_execute_command("rm -f %s" % shlex.quote(results_file))
        except AnsibleError as err:
            display.vvv("converge.virt.image: async job %s not cleaned up: %s" % (jid, to_text(err)))
        result = module_result(status)
        if job.get("ansible_facts") and "ansible_facts" not in result:
            result["ansible_facts"] = job["ansible_facts"]  # e.g. the interpreter discovered at the start
        return result

    def _plan(self, args, task_vars):
        """The module's result in check mode (its plan), run synchronously."""
        saved = self._task.check_mode
        self._task.check_mode = True
        try:
            return self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
        finally:
            self._task.check_mode = saved

    def _still_running(self, args, command, shown):
        """One cheap look at the target: True while the job runs (new progress lines shown unless
        ``shown`` is None), False when it finished or the look failed (async_status decides)."""
        try:
            res = self._low_level_execute_command(command)
        except AnsibleError as err:  # progress is a courtesy: never fail the task for it
            display.vvv("converge.virt.image: polling the job failed: %s" % to_text(err))
            return False
        running, tails = parse_poll(res.get("stdout"))
        if shown is not None:
            for line in new_lines(tails, shown):
                self._show(args, line)
        return running


def _human(value):
    value = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return ("%d %s" % (value, unit)) if unit == "B" else ("%.1f %s" % (value, unit))
        value /= 1024.0
    return "%.1f TiB" % value
