# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt driver for storage pools: read the host in a few batched calls, apply a Plan.

Facts measured on libvirt 9 (Debian 12) that shaped this driver:

* ``virStoragePoolBuild`` of a dir pool is ``mkdir -p`` plus chown/chmod to the definition's
  permissions, also on an existing directory; it is refused while the pool runs.  Starting a
  pool never changes the directory's permissions.  So on a local hypervisor an owner/group/mode
  update is made with chown/chmod on the directory (live); on a remote one the pool is stopped,
  built and started again.
* The running pool's XML reports the directory's real permissions (as of its last start or
  refresh); the inactive XML reports the definition.
* A dir pool lists every file of its directory as a volume, dot-files included, so the mark
  that says "converge.virt created this directory" cannot be a file in it: it is an extended
  attribute (``user.converge-virt.pool`` = the pool name) on the directory itself, set only
  when the directory did not exist before this collection built it.  Without the mark (remote
  hypervisor, a file system without user xattrs, a directory the user made) a directory is never
  removed.
"""

from __future__ import annotations

import errno
import os

from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Driver
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import BackendError, NotFound
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import CREATE, DELETE
from ansible_collections.converge.virt.plugins.module_utils.libvirt import pool_xml
from ansible_collections.converge.virt.plugins.module_utils.libvirt.connection import (
    remembered,
    require_libvirt,
    translated,
)
from ansible_collections.converge.virt.plugins.module_utils.libvirt.storage import pool_volumes
from ansible_collections.converge.virt.plugins.module_utils.resources.pool import (
    KIND, PERMISSIONS, PoolWorld,
)

MARKER = "user.converge-virt.pool"


class PoolDriver(Driver):

    def __init__(self, conn, run_command=None):
        self.conn = conn
        # Set only when the hypervisor is this host: then its files can be inspected directly.
        self.run_command = run_command
        self.local = run_command is not None
        self.lv = require_libvirt()

    # ---- reading -------------------------------------------------------------------------
    def _all(self):
        def listing():
            with translated("list storage pools", KIND):
                return self.conn.listAllStoragePools(0)
        return remembered(self.cache, "pools", listing)

    def _read(self, pool):
        """Normalized state of one virStoragePool."""
        return remembered(self.cache, ("pool", pool.name()), lambda: self._read_now(pool))

    def _read_now(self, pool):
        lv = self.lv
        name = pool.name()
        with translated("read pool %s" % name, KIND, name):
            persistent = bool(pool.isPersistent())
            active = bool(pool.isActive())
            state = pool_xml.parse(pool.XMLDesc(lv.VIR_STORAGE_XML_INACTIVE if persistent else 0))
            live = state
            if active and persistent:
                live = pool_xml.parse(pool.XMLDesc(0))
            state["autostart"] = bool(pool.autostart()) if persistent else False
            state["volume_count"] = pool.numOfVolumes() if active else None
        state["persistent"] = persistent
        state["active"] = active
        for key in ("capacity", "allocation", "available"):
            state[key] = live[key] if active else None
        if state["type"] == "dir":
            # The directory's real permissions: read directly when local, else as libvirt last saw them.
            real = self._stat(state["path"]) if self.local else None
            if real is not None:
                state.update(real)
            elif active:
                state.update((k, live[k]) for k in PERMISSIONS)
        return state

    def _stat(self, path):
        try:
            st = os.stat(path)
        except OSError:
            return None
        return {"owner": st.st_uid, "group": st.st_gid, "mode": "%04o" % (st.st_mode & 0o7777)}

    def _lookup(self, name):
        with translated("look up pool %s" % name, KIND, name):
            return self.conn.storagePoolLookupByName(name)

    def _volume_names(self, pool, state):
        """Names of the pool's volumes, or None when they cannot be known."""
        if state["active"]:
            with translated("list the volumes of pool %s" % state["name"], KIND, state["name"]):
                return sorted(v.name() for v in pool.listAllVolumes(0))
        if self.local and state["type"] == "dir" and state["path"]:
            try:
                return sorted(os.listdir(state["path"]))  # what libvirt lists once it starts
            except OSError as err:
                return [] if err.errno == errno.ENOENT else None
        return None

    def _inspect(self, path, name):
        """Local facts about a target path (see PoolWorld.paths)."""
        try:
            os.stat(path)
        except OSError as err:
            if err.errno == errno.ENOENT:
                return {"kind": "missing", "marked": False, "entries": None}
            return {"kind": "other", "marked": False, "entries": None}
        if not os.path.isdir(path):
            return {"kind": "file" if os.path.isfile(path) else "other", "marked": False, "entries": None}
        try:
            entries = len(os.listdir(path))
        except OSError:
            entries = None
        return {"kind": "dir", "marked": _marked(path, name), "entries": entries}

    def observe(self, name, desired=None):
        desired = desired or {}
        current, others, handle = None, [], None
        for pool in self._all():
            if pool.name() == name:
                handle = pool
                continue
            try:
                others.append(self._read(pool))
            except NotFound:
                continue  # deleted (by another task or thread) between the listing and the read
        if handle is not None:
            current = self._read(handle)
        volumes = self._volume_names(handle, current) if current else None
        paths, users, groups = {}, {}, {}
        if self.local:
            for path in set(p for p in (desired.get("path"), (current or {}).get("path")) if p):
                paths[path] = self._inspect(path, name)
            users = _resolve(desired.get("owner"), "pwd")
            groups = _resolve(desired.get("group"), "grp")
        return PoolWorld(current=current, others=others, volumes=volumes, local=self.local,
                         paths=paths, users=users, groups=groups)

    def list(self, names=None):
        result = []
        for pool in self._all():
            if names and pool.name() not in names:
                continue
            try:
                state = self._read(pool)
                state["volumes"] = [dict((k, v.get(k)) for k in ("name", "path", "format", "capacity", "allocation"))
                                    for v in pool_volumes(pool)]
            except NotFound:
                continue  # deleted between the listing and the read
            result.append(state)
        return sorted(result, key=lambda s: s["name"])

    # ---- applying ------------------------------------------------------------------------
    def apply(self, plan):
        if plan.action == CREATE:
            facts = self._create(plan.desired)
        elif plan.action == DELETE:
            facts = self._delete(plan)
        elif plan.facts.get("recreate"):
            facts = self._recreate(plan)
        else:
            facts = self._update(plan)
        if plan.action != DELETE and plan.desired.get("refresh"):
            self._refresh(plan.name)
        return facts

    def settle(self, plan):
        """Upkeep of a real (not check mode) run whose plan changes nothing: the requested rescan.

        Returns whether anything was done (the engine then reads the state again)."""
        if plan.desired and plan.desired.get("refresh") and plan.facts.get("refresh"):
            return self._refresh(plan.name)
        return False

    def _refresh(self, name):
        pool = self._lookup(name)
        with translated("refresh pool %s" % name, KIND, name):
            if not pool.isActive():
                return False
            pool.refresh(0)
        return True

    def _create(self, after):
        lv = self.lv
        name, path, pool_type = after["name"], after["path"], after["type"]
        facts, warnings = {}, []
        existed = os.path.lexists(path) if self.local and pool_type != "logical" else None
        with translated("define pool %s" % name, KIND, name):
            pool = self.conn.storagePoolDefineXML(pool_xml.render(after), 0)
        try:
            if after.get("build"):
                flags = lv.VIR_STORAGE_POOL_BUILD_NO_OVERWRITE if pool_type == "logical" else 0
                with translated("build pool %s" % name, KIND, name):
                    pool.build(flags)
                if existed is False and os.path.isdir(path):
                    warning = _mark(path, name)
                    if warning:
                        warnings.append(warning)
            if pool_type == "dir" and self.local and os.path.isdir(path):
                self._set_permissions(path, after)
            with translated("configure pool %s" % name, KIND, name):
                pool.setAutostart(1 if after["autostart"] else 0)
                if after["active"]:
                    pool.create(0)
        except Exception:
            # Leave the host as it was: a half-created pool would be adopted by the next run.
            try:
                if pool.isActive():
                    pool.destroy()
                pool.undefine()
            except self.lv.libvirtError:
                pass
            if existed is False:
                _remove_if_ours(path, name)
            raise
        if warnings:
            facts["warnings"] = warnings
        return facts

    def _delete(self, plan):
        name, before = plan.name, plan.before
        pool = self._lookup(name)
        with translated("delete pool %s" % name, KIND, name):
            if pool.isActive():
                pool.destroy()
            if pool.isPersistent():
                pool.undefine()
        removed = False
        if self.local and before.get("type") in ("dir", "netfs") and before.get("path"):
            removed = _remove_if_ours(before["path"], name)
        return {"directory_removed": removed}

    def _recreate(self, plan):
        """Undefine and define again (create-only changes); the old definition comes back on failure."""
        lv = self.lv
        name = plan.name
        pool = self._lookup(name)
        with translated("read pool %s" % name, KIND, name):
            was_active = bool(pool.isActive())
            was_autostart = bool(pool.isPersistent() and pool.autostart())
            old_xml = pool.XMLDesc(lv.VIR_STORAGE_XML_INACTIVE if pool.isPersistent() else 0)
        with translated("undefine pool %s" % name, KIND, name):
            if was_active:
                pool.destroy()
            if pool.isPersistent():
                pool.undefine()
        try:
            return self._create(plan.desired)
        except Exception:
            try:
                old = self.conn.storagePoolDefineXML(old_xml, 0)
                old.setAutostart(1 if was_autostart else 0)
                if was_active:
                    old.create(0)
            except self.lv.libvirtError:
                pass
            raise

    def _update(self, plan):
        lv = self.lv
        name, before, after = plan.name, plan.before, plan.desired
        pool = self._lookup(name)
        paths = set(c.path for c in plan.changes)
        permissions = paths.intersection(PERMISSIONS)
        facts, warnings = {}, []
        if permissions or "persistent" in paths:
            with translated("read pool %s" % name, KIND, name):
                base = pool.XMLDesc(lv.VIR_STORAGE_XML_INACTIVE if before["persistent"] else 0)
            with translated("redefine pool %s" % name, KIND, name):
                pool = self.conn.storagePoolDefineXML(pool_xml.render(after, base_xml=base), 0)
        if "build" in paths:
            with translated("build pool %s" % name, KIND, name):
                if pool.isActive():
                    pool.destroy()
                pool.build(0)
            if os.path.isdir(after["path"]):
                warning = _mark(after["path"], name)
                if warning:
                    warnings.append(warning)
        if permissions:
            if self.local:
                self._set_permissions(after["path"], after)
                if pool.isActive():
                    with translated("refresh pool %s" % name, KIND, name):
                        pool.refresh(0)  # so that libvirt reports the new permissions
            else:
                with translated("rebuild pool %s" % name, KIND, name):
                    running = pool.isActive()
                    if running:
                        pool.destroy()
                    pool.build(0)
                    if running:
                        pool.create(0)
        with translated("configure pool %s" % name, KIND, name):
            running = bool(pool.isActive())
            if after["active"] and not running:
                pool.create(0)
            elif not after["active"] and running:
                pool.destroy()
            if before["autostart"] != after["autostart"] or "persistent" in paths:
                pool.setAutostart(1 if after["autostart"] else 0)
        if warnings:
            facts["warnings"] = warnings
        return facts

    def _set_permissions(self, path, state):
        """chown/chmod the directory to the state's owner/group/mode (only what differs)."""
        try:
            st = os.stat(path)
            uid = state["owner"] if state.get("owner") is not None else -1
            gid = state["group"] if state.get("group") is not None else -1
            if (uid != -1 and st.st_uid != uid) or (gid != -1 and st.st_gid != gid):
                os.chown(path, uid, gid)
            if state.get("mode") is not None and (st.st_mode & 0o7777) != int(state["mode"], 8):
                os.chmod(path, int(state["mode"], 8))
        except OSError as err:
            raise BackendError("failed to set the owner/group/mode of %s: %s" % (path, err.strerror),
                               kind=KIND, name=state.get("name"))


# ---- local helpers -----------------------------------------------------------------------------
def _resolve(value, module):
    """{name: id} for a user/group name (empty when ``value`` is not a name or does not exist)."""
    if not isinstance(value, str):
        return {}
    try:
        if module == "pwd":
            import pwd
            return {value: pwd.getpwnam(value).pw_uid}
        import grp
        return {value: grp.getgrnam(value).gr_gid}
    except KeyError:
        return {}


def _marked(path, name):
    try:
        return os.getxattr(path, MARKER) == name.encode("utf-8")
    except (OSError, AttributeError):
        return False


def _mark(path, name):
    """Mark a directory this collection created; a warning (not an error) when that is impossible."""
    try:
        os.setxattr(path, MARKER, name.encode("utf-8"))
    except (OSError, AttributeError) as err:
        return ("could not mark %s as created by converge.virt (%s); it will be kept when the pool is "
                "deleted" % (path, getattr(err, "strerror", None) or err))
    return None


def _remove_if_ours(path, name):
    """Remove ``path`` only if it is an empty directory that converge.virt created for this pool."""
    try:
        if (os.path.isdir(path) and not os.path.islink(path) and not os.path.ismount(path)
                and _marked(path, name) and not os.listdir(path)):
            os.rmdir(path)
            return True
    except OSError:
        pass
    return False
