# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which stack owns which libvirt object: the marks ``converge.virt.stack`` reads to prune, to
refuse unowned same-named objects, and to destroy a stack.

Where the mark lives, and why
-----------------------------
* **Instances** carry it themselves: one ``<metadata>`` element of the domain, in the namespace
  ``https://converge-virt.github.io/xmlns/stack/1`` (``<cvstack:owner stack="NAME"/>``), written
  with ``virDomainSetMetadata`` into the persistent definition (and the running guest's, when it
  runs).  The mark therefore travels with the domain: it is gone when the domain is undefined,
  whoever undefines it, and it cannot point at a different domain of the same name.  The instance
  driver edits definitions in place and copies foreign metadata into a redefinition, so its
  updates keep the mark; the instance planner reads only its own metadata, so the mark is never a
  planned change.
* **Networks, pools, volumes and images** have no place for it: libvirt 9.0 keeps ``<metadata>``
  only for domains (networks gained it in 9.7; pools and volumes have none, and a volume's XML is
  not stored at all).  Their marks live in a *ledger*, one JSON file per stack, on the host the
  module runs on: ``/var/lib/converge-virt/stacks/<hypervisor>/<stack>.json`` (root; other users:
  ``~/.local/state/converge-virt/stacks``; ``CONVERGE_VIRT_STATE_DIR`` overrides the base).  Each
  entry records the object's identity as well as its name (the UUID of a network or pool, the key
  of a volume), so an object removed by hand is not owned any more, not even when someone later
  makes another one with the same name.  Consequences: a stack must be driven from one host for a
  given hypervisor (a second controller managing the same remote libvirt would not see the
  ledger), and a network or pool the stack *replaces* (new UUID) must be marked again, which the
  stack does after every create, replace and adopt.

Ledger files are written atomically (a temporary file renamed over the old one) under an
exclusive lock of their directory, because the stack applies resources in several threads and
other stacks may run at the same time.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import tempfile
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, urlsplit

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import (
    BackendError, ConvergeError, InvalidSpec, NotFound,
)
from ansible_collections.converge.virt.plugins.module_utils.libvirt.connection import require_libvirt
from ansible_collections.converge.virt.plugins.module_utils.stack.document import STACK_NAME
# Where the stack keeps its state (the ledgers here, the locks), re-exported for the tests.
from ansible_collections.converge.virt.plugins.module_utils.stack.lock import (  # noqa: F401 pylint: disable=unused-import
    STATE_DIR_ENV,
    SYSTEM_STATE_DIR,
    state_dir,
)

NAMESPACE = "https://converge-virt.github.io/xmlns/stack/1"
PREFIX = "cvstack"
LEDGER_KINDS = frozenset(["network", "pool", "volume", "image"])
POOL_SCOPED = frozenset(["volume", "image"])
_STACK_NAME = STACK_NAME
_LEDGER_VERSION = 1

ET.register_namespace(PREFIX, NAMESPACE)


def check_stack_name(stack):
    if not isinstance(stack, str) or not _STACK_NAME.match(stack) or stack in (".", ".."):
        raise InvalidSpec([("name", "%r is not a stack name: 1 to 40 characters of A-Z a-z 0-9 _ . -" % (stack,))])
    return stack


# ---- the domain's own mark ---------------------------------------------------------------------
def mark_xml(stack):
    """The metadata element for ``virDomainSetMetadata`` (libvirt puts it into NAMESPACE)."""
    return ET.tostring(ET.Element("owner", {"stack": check_stack_name(stack)}), encoding="unicode")


def parse_mark(text):
    """The stack named by a metadata element (as ``virDomainGetMetadata`` returns it), or None."""
    if not text:
        return None
    try:
        elem = ET.fromstring(text)
    except ET.ParseError:
        return None
    if elem.tag not in ("owner", "{%s}owner" % NAMESPACE):
        return None
    stack = elem.get("stack")
    return stack if stack and _STACK_NAME.match(stack) else None


def mark_in_domain_xml(text):
    """The stack mark found in a whole domain definition, or None."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    elem = root.find("metadata/{%s}owner" % NAMESPACE)
    return parse_mark(ET.tostring(elem, encoding="unicode")) if elem is not None else None


# ---- where the ledger lives ---------------------------------------------------------------------
def hypervisor_slug(uri):
    """A directory name for one hypervisor.  The transport and the user do not change which
    hypervisor a URI names (``qemu:///system`` = ``qemu+unix:///system``, ``qemu+ssh://root@h/system``
    = ``qemu+tls://h/system``), so they are left out."""
    parts = urlsplit(uri or "")
    driver = parts.scheme.split("+")[0].lower()
    host = (parts.hostname or "").lower()
    if parts.port:
        host = "%s:%d" % (host, parts.port)
    canonical = "%s://%s%s" % (driver, host, parts.path.rstrip("/") or "/")
    # A daemon reached through its own socket is another hypervisor on the same machine (one
    # libvirtd per namespace, or per user): the socket names it.
    socket = dict(parse_qsl(parts.query)).get("socket")
    if socket:
        canonical += "?socket=" + socket
        host = host or os.path.basename(os.path.dirname(socket.rstrip("/"))) or "socket"
    readable = re.sub(r"[^A-Za-z0-9.-]+", "_", "%s_%s_%s" % (driver, host, parts.path)).strip("_")
    readable = re.sub(r"_+", "_", readable)[:60] or "default"
    return "%s-%s" % (readable, hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:8])


def _makedirs(path):
    """Create ``path`` and its missing parents, each 0700 (the ledger says what a stack may delete)."""
    missing = []
    while path and not os.path.isdir(path):
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except OSError as err:
            if err.errno != errno.EEXIST:
                raise


class Ledger(object):
    """The stack ledgers of one hypervisor: ``<directory>/<stack>.json``, each
    ``{"version": 1, "stack": NAME, "uri": URI, "resources": [[kind, scope, name, identity], ...]}``.
    Pure file handling: which entries still point at live objects is ``Ownership``'s job."""

    def __init__(self, directory, uri=None):
        self.directory = directory
        self.uri = uri

    def path(self, stack):
        return os.path.join(self.directory, check_stack_name(stack) + ".json")

    def _stacks(self):
        try:
            names = os.listdir(self.directory)
        except OSError as err:
            if err.errno == errno.ENOENT:
                return []
            raise
        return sorted(n[:-len(".json")] for n in names
                      if n.endswith(".json") and not n.startswith(".") and _STACK_NAME.match(n[:-len(".json")]))

    def read(self, stack):
        """The entries of one stack: a list of ``(kind, scope, name, identity)``."""
        path = self.path(stack)
        try:
            with open(path) as handle:
                data = json.load(handle)
        except (IOError, OSError) as err:
            if err.errno == errno.ENOENT:
                return []
            raise
        except ValueError as err:
            raise ConvergeError("the stack ledger %s is not valid JSON: %s" % (path, err),
                                hint="repair or remove it; it lists what stack %s owns on this hypervisor" % stack)
        entries = []
        items = data.get("resources") if isinstance(data, dict) else None
        for item in items or []:
            if isinstance(item, list) and len(item) in (3, 4) and item[0] and item[2]:
                entries.append((item[0], item[1], item[2], item[3] if len(item) == 4 else None))
        return entries

    def read_all(self):
        """``{stack: (mtime, entries)}`` of every ledger in the directory."""
        result = {}
        for stack in self._stacks():
            try:
                mtime = os.stat(self.path(stack)).st_mtime
            except OSError:
                continue  # removed since we listed
            result[stack] = (mtime, self.read(stack))
        return result

    def _write(self, stack, entries):
        path = self.path(stack)
        if not entries:
            try:
                os.unlink(path)
            except OSError as err:
                if err.errno != errno.ENOENT:
                    raise
            return
        data = {"version": _LEDGER_VERSION, "stack": stack, "uri": self.uri,
                "resources": [list(e) for e in sorted(entries, key=lambda e: tuple(str(x) for x in e))]}
        fd, tmp = tempfile.mkstemp(prefix="." + stack + ".", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle, indent=1, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.rename(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    @contextlib.contextmanager
    def locked(self):
        """Exclusive use of the directory (threads and processes alike: each open takes its own lock)."""
        _makedirs(self.directory)
        with open(os.path.join(self.directory, ".lock"), "a") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def add(self, stack, kind, scope, name, identity):
        """Record the entry for ``stack`` (replacing an older identity), and drop it from every other
        stack's ledger: an object has one owner."""
        key = (kind, scope, name)
        with self.locked():
            for other in self._stacks():
                if other == stack:
                    continue
                entries = self.read(other)
                kept = [e for e in entries if e[:3] != key]
                if len(kept) != len(entries):
                    self._write(other, kept)
            entries = self.read(stack)
            wanted = key + (identity,)
            if wanted in entries and len([e for e in entries if e[:3] == key]) == 1:
                return False
            self._write(stack, [e for e in entries if e[:3] != key] + [wanted])
            return True

    def remove(self, stack, kind, scope, name):
        key = (kind, scope, name)
        if not os.path.isdir(self.directory):
            return False
        with self.locked():
            entries = self.read(stack)
            kept = [e for e in entries if e[:3] != key]
            if len(kept) == len(entries):
                return False
            self._write(stack, kept)
            return True

    def claims(self, kinds):
        """``{(kind, scope, name): [(stack, identity), ...]}`` of the entries of ``kinds``.  One object
        has one claim, unless ledgers were edited by hand: then the most recently written comes first."""
        result = {}
        ordered = sorted(self.read_all().items(), key=lambda item: (-item[1][0], item[0]))
        for stack, (_mtime, entries) in ordered:
            for kind, scope, name, identity in entries:
                if kind in kinds:
                    result.setdefault((kind, scope, name), []).append((stack, identity))
        return result


# ---- the backend's view ----------------------------------------------------------------------
class Ownership(object):
    """Stack marks on one libvirt hypervisor (see the module docstring)."""

    MARKABLE = frozenset(["instance"]) | LEDGER_KINDS

    def __init__(self, backend):
        self.backend = backend
        self.conn = backend.conn
        self.lv = require_libvirt()
        uri = backend.uri
        try:
            uri = self.conn.getURI() or uri
        except self.lv.libvirtError:
            pass
        self.ledger = Ledger(os.path.join(state_dir(), "stacks", hypervisor_slug(uri)), uri=uri)

    # -- reading
    def scan(self, kinds):
        kinds = set(kinds) & self.MARKABLE
        owners = {}
        if "instance" in kinds:
            owners.update(self._scan_domains())
        wanted = kinds & LEDGER_KINDS
        if wanted:
            claims = self.ledger.claims(wanted)
            if claims:
                live = self._identities(claims)
                for key, candidates in claims.items():
                    if key not in live:
                        continue  # deleted behind the stack's back: nobody's any more
                    for stack, identity in candidates:
                        if identity is None or identity == live[key]:
                            owners[key] = stack
                            break
        return owners

    def _scan_domains(self):
        lv = self.lv
        owners = {}
        try:
            domains = self.conn.listAllDomains(0)
        except lv.libvirtError as err:
            raise BackendError("failed to list instances: %s" % err.get_error_message(), kind="instance")
        for dom in domains:
            stack = self._domain_mark(dom)
            if stack:
                owners[("instance", None, dom.name())] = stack
        return owners

    def _domain_mark(self, dom):
        lv = self.lv
        try:
            # Flags 0: the running guest's metadata if it runs, else the definition's (mark()
            # writes both).
            return parse_mark(dom.metadata(lv.VIR_DOMAIN_METADATA_ELEMENT, NAMESPACE, 0))
        except lv.libvirtError as err:
            if err.get_error_code() in (lv.VIR_ERR_NO_DOMAIN_METADATA, lv.VIR_ERR_NO_DOMAIN):
                return None
            raise BackendError("failed to read the stack mark of instance %s: %s"
                               % (dom.name(), err.get_error_message()), kind="instance", name=dom.name())

    def _identities(self, claims):
        """``{(kind, scope, name): identity}`` of the claimed objects that exist: one listing of
        networks, one of pools, one of volumes per claimed (and active) pool."""
        lv = self.lv
        kinds = set(k for k, _s, _n in claims)
        found = {}
        if "network" in kinds:
            with _listing("networks", lv):
                networks = self.conn.listAllNetworks(0)
            for net in networks:
                found[("network", None, net.name())] = net.UUIDString()
        if kinds & (POOL_SCOPED | set(["pool"])):
            with _listing("storage pools", lv):
                pools = dict((p.name(), p) for p in self.conn.listAllStoragePools(0))
            for name, pool in pools.items():
                found[("pool", None, name)] = pool.UUIDString()
            scopes = set(s for k, s, _n in claims if k in POOL_SCOPED)
            for scope in sorted(scopes):
                pool = pools.get(scope)
                if pool is None:
                    continue
                try:
                    if not pool.isActive():
                        continue  # its volumes cannot be listed: none of them counts as owned now
                    volumes = pool.listAllVolumes(0)
                except lv.libvirtError as err:
                    if err.get_error_code() in (lv.VIR_ERR_NO_STORAGE_POOL, lv.VIR_ERR_OPERATION_INVALID):
                        continue
                    raise BackendError("failed to list the volumes of pool %s: %s" % (scope, err.get_error_message()),
                                       kind="pool", name=scope)
                for vol in volumes:
                    for kind in POOL_SCOPED:
                        found[(kind, scope, vol.name())] = vol.key()
        return found

    # -- writing
    def mark(self, kind, scope, name, stack):
        check_stack_name(stack)
        self._check_kind(kind, scope)
        if kind == "instance":
            return self._mark_domain(name, stack)
        return self.ledger.add(stack, kind, scope, name, self._identity(kind, scope, name))

    def unmark(self, kind, scope, name, stack):
        check_stack_name(stack)
        self._check_kind(kind, scope)
        if kind == "instance":
            return self._unmark_domain(name, stack)
        return self.ledger.remove(stack, kind, scope, name)

    def _check_kind(self, kind, scope):
        if kind not in self.MARKABLE:
            raise ConvergeError("the libvirt backend cannot mark %s resources as owned by a stack" % kind)
        if (kind in POOL_SCOPED) != bool(scope):
            raise ConvergeError("a %s is %s" % (kind, "named within its pool" if kind in POOL_SCOPED
                                                else "not scoped by a pool"), kind=kind)

    def _identity(self, kind, scope, name):
        lv = self.lv
        try:
            if kind == "network":
                return self.conn.networkLookupByName(name).UUIDString()
            if kind == "pool":
                return self.conn.storagePoolLookupByName(name).UUIDString()
            return self.conn.storagePoolLookupByName(scope).storageVolLookupByName(name).key()
        except lv.libvirtError as err:
            what = "%s %s" % (kind, name if scope is None else "%s/%s" % (scope, name))
            if err.get_error_code() in (lv.VIR_ERR_NO_NETWORK, lv.VIR_ERR_NO_STORAGE_POOL, lv.VIR_ERR_NO_STORAGE_VOL):
                raise NotFound("cannot mark %s as owned by the stack: it does not exist" % what, kind=kind, name=name)
            raise BackendError("failed to read %s: %s" % (what, err.get_error_message()), kind=kind, name=name)

    def _domain(self, name):
        lv = self.lv
        try:
            return self.conn.lookupByName(name)
        except lv.libvirtError as err:
            if err.get_error_code() == lv.VIR_ERR_NO_DOMAIN:
                return None
            raise BackendError("failed to look up instance %s: %s" % (name, err.get_error_message()),
                               kind="instance", name=name)

    def _flags(self, dom):
        lv = self.lv
        flags = 0
        if dom.isPersistent():
            flags |= lv.VIR_DOMAIN_AFFECT_CONFIG
        if dom.isActive():
            flags |= lv.VIR_DOMAIN_AFFECT_LIVE
        return flags

    def _mark_domain(self, name, stack):
        lv = self.lv
        dom = self._domain(name)
        if dom is None:
            raise NotFound("cannot mark instance %s as owned by the stack: it does not exist" % name,
                           kind="instance", name=name)
        try:
            flags = self._flags(dom)
            if dom.isPersistent() and parse_mark(self._read_mark(dom, lv.VIR_DOMAIN_AFFECT_CONFIG)) == stack and (
                    not dom.isActive() or parse_mark(self._read_mark(dom, lv.VIR_DOMAIN_AFFECT_LIVE)) == stack):
                return False
            dom.setMetadata(lv.VIR_DOMAIN_METADATA_ELEMENT, mark_xml(stack), PREFIX, NAMESPACE, flags)
        except lv.libvirtError as err:
            raise BackendError("cannot record in the definition of instance %s that stack %s owns it: %s"
                               % (name, stack, err.get_error_message()), kind="instance", name=name,
                               hint="the stack keeps an instance's owner in its <metadata>; without it the "
                                    "instance is not pruned or destroyed with the stack")
        return True

    def _read_mark(self, dom, flags):
        lv = self.lv
        try:
            return dom.metadata(lv.VIR_DOMAIN_METADATA_ELEMENT, NAMESPACE, flags)
        except lv.libvirtError as err:
            if err.get_error_code() == lv.VIR_ERR_NO_DOMAIN_METADATA:
                return None
            raise

    def _unmark_domain(self, name, stack):
        lv = self.lv
        dom = self._domain(name)
        if dom is None:
            return False  # the mark went away with the domain
        try:
            if parse_mark(self._read_mark(dom, 0)) != stack:
                return False  # not ours to remove
            dom.setMetadata(lv.VIR_DOMAIN_METADATA_ELEMENT, None, None, NAMESPACE, self._flags(dom))
        except lv.libvirtError as err:
            if err.get_error_code() == lv.VIR_ERR_NO_DOMAIN:
                return False
            raise BackendError("cannot remove the stack mark of instance %s: %s" % (name, err.get_error_message()),
                               kind="instance", name=name)
        return True


@contextlib.contextmanager
def _listing(what, lv):
    try:
        yield
    except lv.libvirtError as err:
        raise BackendError("failed to list %s: %s" % (what, err.get_error_message()))
