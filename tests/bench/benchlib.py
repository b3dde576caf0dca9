"""What the benchmarks share: running a playbook against the installed collection, and the
collection's own helpers (sizes) imported from the collections root given on the command line."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import threading
import time


def run_playbook(args, playbook, extra_vars, extra=()):
    """Run ``playbook`` with ``-e k=v`` for each of ``extra_vars``; returns (seconds, changed) where
    ``changed`` is the number the playbook prints as ``BENCH changed=N``."""
    elapsed, output = run_playbook_output(args, playbook, extra_vars, extra)
    return elapsed, int(re.search(r"BENCH changed=(\d+)", output).group(1))


def run_playbook_output(args, playbook, extra_vars, extra=(), env_extra=None):
    """Run ``playbook`` as ``run_playbook`` does, with ``env_extra`` added to the environment; returns
    (seconds, the playbook's output).  Exits with the output's tail when the playbook fails."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=args.collections, ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_FORCE_COLOR="0")
    env.update(env_extra or {})
    cmd = [os.path.join(args.venv, "bin", "ansible-playbook"), "-i", "localhost,", playbook]
    for key, value in sorted(extra_vars.items()):
        cmd += ["-e", "%s=%s" % (key, value)]
    cmd += list(extra)
    start = time.monotonic()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:])
        raise SystemExit("ansible-playbook failed (%s)" % ", ".join(
            "%s=%s" % item for item in sorted(extra_vars.items())))
    return elapsed, proc.stdout


def collection_validate(collections_root):
    """The collection's ``engine.validate`` (parse_size, human_size…), from ``collections_root``."""
    if collections_root not in sys.path:
        sys.path.insert(0, collections_root)
    from ansible_collections.converge.virt.plugins.module_utils.engine import validate
    return validate


def cached_venv(prefix, packages, python=None):
    """A venv with ``packages`` (pinned requirement strings) under the cache directory
    (``$CONVERGE_VIRT_CACHE`` or ``~/.cache/converge-virt``), made once per set of pins and Python
    version; returns (path, seconds spent making it, 0 when cached).  A failed install leaves
    nothing behind."""
    pins = "%s %s" % (" ".join(packages), sys.version_info[:2])
    cache = os.environ.get("CONVERGE_VIRT_CACHE") or os.path.expanduser("~/.cache/converge-virt")
    venv = os.path.join(cache, "%s-%s" % (prefix, hashlib.sha256(pins.encode()).hexdigest()[:12]))
    marker = os.path.join(venv, ".complete")
    if os.path.exists(marker):
        return venv, 0.0
    start = time.monotonic()
    shutil.rmtree(venv, ignore_errors=True)
    try:
        subprocess.run([python or sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", "--disable-pip-version-check"]
                       + list(packages), check=True)
    except (OSError, subprocess.CalledProcessError):
        shutil.rmtree(venv, ignore_errors=True)
        raise
    with open(marker, "w") as handle:
        handle.write(pins + "\n")
    return venv, time.monotonic() - start


_EVENT_LOOP = []


def register_event_loop():
    """libvirt's default event loop, registered once per process, before any connection is opened
    (a connection opened earlier delivers no events)."""
    import libvirt  # pylint: disable=import-outside-toplevel

    if not _EVENT_LOOP:
        libvirt.virEventRegisterDefaultImpl()
        thread = threading.Thread(target=_run_events, args=(libvirt,), daemon=True)
        thread.start()
        _EVENT_LOOP.append(thread)


def _run_events(libvirt):
    while True:
        libvirt.virEventRunDefaultImpl()


class LifecycleEvents(object):
    """Records libvirt lifecycle events (define, undefine, start, stop...) of the networks and/or
    domains whose names start with ``prefix``, as ``(kind, name, event)``; the benchmarks use it to
    prove that a no-op run redefined and restarted nothing."""

    def __init__(self, uri, prefix="", networks=False, domains=False):
        import libvirt  # pylint: disable=import-outside-toplevel

        register_event_loop()
        self.prefix = prefix
        self.events = []
        self.conn = libvirt.openReadOnly(uri)
        if networks:
            self.conn.networkEventRegisterAny(None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, self._on_event, "network")
        if domains:
            self.conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._on_event, "domain")

    def _on_event(self, _conn, obj, event, _detail, kind):
        if obj.name().startswith(self.prefix):
            self.events.append((kind, obj.name(), event))
