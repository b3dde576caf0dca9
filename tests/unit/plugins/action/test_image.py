# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the image action plugin's helpers for live progress: where the progress logs
are, the shell command that polls the job (run here with /bin/sh on real files), which lines
are new, and the result cleanup."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from ansible_collections.converge.virt.plugins.action import image as action
from ansible_collections.converge.virt.plugins.module_utils.transfer import Cache, file_logger


def run_sh(command, home):
    env = dict(os.environ, HOME=str(home))
    return subprocess.run(["/bin/sh", "-c", command], env=env, capture_output=True, text=True,
                          check=True).stdout


def touch_later(path, seconds):
    """Give ``path`` a modification time ``seconds`` after now (no sleeping needed)."""
    moment = time.time() + seconds
    os.utime(path, (moment, moment))


# ---- names and paths ------------------------------------------------------------------------
def test_safe_name_against_a_real_cache(tmp_path):
    path = Cache(str(tmp_path)).progress_path("my pool", "a b?.qcow2")
    assert os.path.basename(path) == action.safe_name("my pool") + "-" + action.safe_name("a b?.qcow2") + ".log"


@pytest.mark.parametrize("path, word", [
    ("/var/tmp/cache", "/var/tmp/cache"),
    ("/var/tmp/my cache", "'/var/tmp/my cache'"),
    ("~", "~"),
    ("~/.cache/x", "~/.cache/x"),
    ("~/with space/$HOME", "~/'with space/$HOME'"),
    ("~/", "~/"),
    ("~root/c", "~root/c"),
    ("~`id`/c", "'~`id`/c'"),
    ("/a;rm -rf /", "'/a;rm -rf /'"),
])
def test_shell_path(path, word):
    assert action.shell_path(path) == word


def test_shell_path_expands_tilde_on_the_target(tmp_path):
    assert run_sh("printf %s " + action.shell_path("~/a b/c"), tmp_path) == str(tmp_path) + "/a b/c"
    assert run_sh("printf %s " + action.shell_path("~/"), tmp_path) == str(tmp_path) + "/"
    assert run_sh("printf %s " + action.shell_path("/x/~/y"), tmp_path) == "/x/~/y"


def test_progress_logs_default_and_versions(tmp_path):
    words = action.progress_logs({"name": "debian.qcow2", "pool": "images"})
    assert words == ["~/.cache/converge-virt/images/progress/images-debian.qcow2.log"]
    words = action.progress_logs({"name": "debian.qcow2", "pool": "images", "cache_dir": "/c/",
                                  "on_source_change": "new_version"})
    assert words[0] == "/c/progress/images-debian.qcow2.log"
    assert words[1] == "/c/progress/images-debian-" + "[0-9a-f]" * 12 + ".qcow2.log"
    # The glob finds a versioned log the module writes, and nothing else.
    progress = tmp_path / "progress"
    progress.mkdir()
    for name in ("images-debian-0123456789ab.qcow2.log", "images-debian-XYZ.qcow2.log", "other.log"):
        (progress / name).write_text("x\n")
    found = run_sh("for f in %s; do [ -f \"$f\" ] && echo \"$f\"; done; true" % action.progress_logs(
        {"name": "debian.qcow2", "pool": "images", "cache_dir": str(tmp_path),
         "on_source_change": "new_version"})[1], tmp_path)
    assert found.splitlines() == [str(progress / "images-debian-0123456789ab.qcow2.log")]


# ---- polling the job ------------------------------------------------------------------------
@pytest.fixture
def job(tmp_path):
    """A results file as async_wrapper writes it while the module runs, and a progress log with
    lines of an earlier run (the log is appended to, never truncated)."""
    results = tmp_path / "async" / "j123.456"
    results.parent.mkdir()
    log = tmp_path / "cache" / "progress" / "pool-img.qcow2.log"
    emit = file_logger(str(log))
    emit("download http://h/img.qcow2: 1.0 MiB of 10.0 MiB (10%) at 1.0 MiB/s, ETA 9 s")
    emit("download http://h/img.qcow2: done: 10.0 MiB in 10.0 s (1.0 MiB/s)")
    touch_later(str(log), -60)
    results.write_text(json.dumps({"started": True, "finished": False, "ansible_job_id": "j123.456"}))
    command = action.poll_command(str(results), action.progress_logs(
        {"name": "img.qcow2", "pool": "pool", "cache_dir": str(tmp_path / "cache")}))
    return results, log, emit, command


def test_poll_ignores_old_runs_lines(job, tmp_path):
    results, log, emit, command = job
    running, tails = action.parse_poll(run_sh(command, tmp_path))
    assert running and tails == ""


def test_poll_shows_the_last_new_line(job, tmp_path):
    results, log, emit, command = job
    emit("start download http://h/img.qcow2")
    emit("download http://h/img.qcow2: 2.0 MiB of 10.0 MiB (20%) at 2.0 MiB/s, ETA 4 s")
    touch_later(str(log), 1)
    running, tails = action.parse_poll(run_sh(command, tmp_path))
    assert running
    shown = {}
    assert action.new_lines(tails, shown) == [
        "download http://h/img.qcow2: 2.0 MiB of 10.0 MiB (20%) at 2.0 MiB/s, ETA 4 s"]
    # The same line again is not shown twice.
    assert action.new_lines(action.parse_poll(run_sh(command, tmp_path))[1], shown) == []


def test_poll_sees_the_end(job, tmp_path):
    results, log, emit, command = job
    emit("download: 3 of 10 (30%)")
    touch_later(str(log), 1)
    results.write_text(json.dumps({"changed": True, "image": {"format": "qcow2"}, "started_note": "started"}))
    assert action.parse_poll(run_sh(command, tmp_path)) == (False, "")
    results.unlink()
    assert action.parse_poll(run_sh(command, tmp_path)) == (False, "")


def test_poll_without_a_log_yet(tmp_path):
    results = tmp_path / "j1"
    results.write_text('{"started": 1, "finished": 0, "ansible_job_id": "j1"}')
    command = action.poll_command(str(results), action.progress_logs(
        {"name": "x", "pool": "p", "cache_dir": str(tmp_path / "missing dir")}))
    assert action.parse_poll(run_sh(command, tmp_path)) == (True, "")


@pytest.mark.parametrize("output, expected", [
    ("", (False, "")),
    (None, (False, "")),
    ("done\n", (False, "")),
    ("garbage\nrunning\n", (False, "")),
    ("running\n", (True, "")),
    ("running\n/l.log\tline\n", (True, "/l.log\tline")),
])
def test_parse_poll(output, expected):
    assert action.parse_poll(output) == expected


def test_new_lines_per_log_without_timestamps():
    shown = {}
    out = ("/p/a.log\t2024-05-01T10:00:00 download x: 1 of 4 (25%)\n"
           "/p/b.log\t2024-05-01T10:00:01 verify volume b: 5 MiB\n"
           "no tab here\n/p/c.log\t\n")
    assert action.new_lines(out, shown) == ["download x: 1 of 4 (25%)", "verify volume b: 5 MiB"]
    out = "/p/a.log\t2024-05-01T10:00:00 download x: 1 of 4 (25%)\n/p/b.log\t2024-05-01T10:00:03 more\n"
    assert action.new_lines(out, shown) == ["more"]
    assert action.new_lines(b"/p/a.log\t2024-05-01T10:00:05 d\xc3\xa9j\xc3\xa0\n", shown) == [u"d\xe9j\xe0"]


# ---- the result -----------------------------------------------------------------------------
def test_module_result_drops_async_keys_only():
    status = {"changed": True, "failed": False, "plan": {"action": "create"}, "image": {"format": "qcow2"},
              "transfer": {"downloaded": True}, "diff": {"before": {}, "after": {}},
              "ansible_job_id": "j1.2", "started": True, "finished": True, "results_file": "/r/j1.2",
              "stderr": "", "stderr_lines": []}
    assert action.module_result(status) == {
        "changed": True, "failed": False, "plan": {"action": "create"}, "image": {"format": "qcow2"},
        "transfer": {"downloaded": True}, "diff": {"before": {}, "after": {}}}
    failed = {"failed": True, "msg": "HTTP 404", "problems": [], "plan": {}, "ansible_job_id": "j", "finished": True}
    assert action.module_result(failed) == {"failed": True, "msg": "HTTP 404", "problems": [], "plan": {}}
    assert "ansible_job_id" in status  # the answer itself is left alone


def test_poll_delays_back_off_to_the_maximum():
    delays = action.poll_delays()
    first = [next(delays) for dummy in range(30)]
    assert first[0] <= 0.2 and sum(first[:5]) < 1.0
    assert first == sorted(first)
    assert first[-1] == action.POLL_MAX == 2.0
