# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenStack connection, and the few rules every OpenStack driver follows.

* Connection options follow openstacksdk's clouds.yaml conventions: ``cloud`` names an entry of
  clouds.yaml (found through OS_CLIENT_CONFIG_FILE, ``~/.config/openstack``, ``/etc/openstack``),
  ``auth`` gives the credentials inline, and without either openstacksdk's own defaults apply
  (OS_CLOUD, then the OS_* environment variables).
* A resource is found by ID, or by name within the project; a name that matches two resources is
  an error (``Conflict``), never a guess.
* SDK exceptions become the engine's typed errors; 409 "in use" and 5xx answers are retried with
  backoff where the caller says the call is safe to retry (create, delete, attach).
* Waits poll with a deadline, report progress, and end in ``Timeout`` naming the last status.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import (
    BackendError,
    Conflict,
    ConnectionFailed,
    InvalidSpec,
    MissingLibrary,
    NotFound,
    Timeout,
)
# The tag (Neutron, Nova, Glance) or metadata key (Cinder, Swift) on everything the collection
# creates, re-exported for the drivers; defined with the planners that hide them from the user.
from ansible_collections.converge.virt.plugins.module_utils.resources.os_common import (  # noqa: F401 pylint: disable=unused-import
    OWNER_METADATA_KEY,
    OWNER_TAG,
)

try:
    import openstack
    import openstack.config
    from openstack import exceptions as sdk_exc
    HAS_OPENSTACKSDK = True
    OPENSTACKSDK_IMPORT_ERROR = None
except ImportError:
    HAS_OPENSTACKSDK = False
    OPENSTACKSDK_IMPORT_ERROR = traceback.format_exc()


_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


def looks_like_id(ref):
    """Whether ``ref`` has the shape of an OpenStack ID (a UUID, dashed or not)."""
    return bool(ref) and bool(_UUID.match(str(ref)))


def _cloud_region(params):
    """openstacksdk's CloudRegion for the connection options (raises ConnectionFailed)."""
    kwargs = {}
    cloud = params.get("cloud") or None
    auth = dict((k, v) for k, v in (params.get("auth") or {}).items() if v is not None)
    if auth:
        kwargs["auth"] = auth
    for option in ("auth_type", "region_name", "interface", "api_timeout"):
        if params.get(option) is not None:
            kwargs[option] = params[option]
    if params.get("verify") is not None:
        kwargs["verify"] = params["verify"]
    for option, sdk_name in (("ca_cert", "cacert"), ("client_cert", "cert"), ("client_key", "key")):
        if params.get(option):
            kwargs[sdk_name] = params[option]
    try:
        # As the openstack CLI does: OS_CLIENT_CONFIG_FILE and OS_CLOUD are honoured, and without
        # any cloud named, the OS_* variables form the "envvars" cloud; options override both.
        config = openstack.config.OpenStackConfig()
        return config.get_one(cloud=cloud, **kwargs)
    except sdk_exc.ConfigException as err:
        raise ConnectionFailed("OpenStack configuration: %s" % err,
                               hint="check the cloud/auth options, clouds.yaml and OS_CLOUD")


def open_cloud(params, readonly=False):
    """Connect to the cloud the options name; authenticates at once so bad credentials fail early."""
    if not HAS_OPENSTACKSDK:
        raise MissingLibrary("openstacksdk", OPENSTACKSDK_IMPORT_ERROR,
                             reason="to manage OpenStack resources")
    region = _cloud_region(params)
    conn = openstack.connection.Connection(config=region, app_name="converge.virt")
    cloud = Cloud(conn, readonly=readonly)
    cloud.authenticate()
    return cloud


class Cloud(object):
    """One authenticated connection per module run, plus lookup, error, retry and wait rules.

    Drivers receive this object; ``conn`` is the openstacksdk Connection."""

    def __init__(self, conn, readonly=False):
        self.conn = conn
        self.readonly = readonly
        self.project_id = None
        self.user_id = None
        # Inside ``batch()``: the listings made so far, by (listing key, server-side query).
        self._listings = None
        self._listings_lock = threading.RLock()

    # -- session -------------------------------------------------------------------------------
    def authenticate(self):
        try:
            self.conn.authorize()
            self.project_id = self.conn.current_project_id
            self.user_id = self.conn.current_user_id
        except sdk_exc.SDKException as err:
            raise ConnectionFailed("cannot authenticate to OpenStack: %s" % _message(err))
        except Exception as err:  # keystoneauth's connection errors are not SDK exceptions
            raise ConnectionFailed("cannot reach OpenStack: %s" % err)

    def close(self):
        try:
            self.conn.close()
        except Exception:  # closing must not hide the real error
            pass

    def has_role(self, role):
        """Whether the current token carries ``role`` (e.g. "admin")."""
        try:
            access = self.conn.session.auth.get_access(self.conn.session)
            return role in (access.role_names or [])
        except Exception:  # pylint: disable=broad-exception-caught
            return False

    # -- calls ---------------------------------------------------------------------------------
    def call(self, what, fn, *args, **kwargs):
        """``fn(*args, **kwargs)`` with SDK errors turned into typed errors naming ``what``.

        Keyword-only controls (popped before the call):
          ``retry`` (bool, default False): retry 409 conflicts and 5xx answers with backoff;
          ``retry_for`` (seconds, default 60): how long to keep retrying;
          ``missing_ok`` (bool, default False): a 404 returns None instead of raising NotFound.
        """
        retry = kwargs.pop("retry", False)
        retry_for = kwargs.pop("retry_for", 60)
        missing_ok = kwargs.pop("missing_ok", False)
        deadline = time.monotonic() + retry_for
        delay = 1.0
        while True:
            try:
                return fn(*args, **kwargs)
            except sdk_exc.NotFoundException as err:
                if missing_ok:
                    return None
                raise NotFound("%s: not found (%s)" % (what, _message(err)))
            except sdk_exc.HttpException as err:
                status = _status(err)
                transient = status == 409 or status >= 500
                if retry and transient and time.monotonic() + delay < deadline:
                    time.sleep(delay)
                    delay = min(delay * 2, 10.0)
                    continue
                raise _typed(what, err, status)
            except sdk_exc.ResourceTimeout as err:
                raise Timeout("%s: %s" % (what, _message(err)))
            except sdk_exc.ResourceFailure as err:
                raise BackendError("%s: %s" % (what, _message(err)))
            except sdk_exc.SDKException as err:
                raise BackendError("%s: %s" % (what, _message(err)))

    # -- batched reads -------------------------------------------------------------------------
    @contextlib.contextmanager
    def batch(self):
        """Inside the block, the lookups that name a ``listing`` are answered from one full listing
        per listing key and server-side query, made on first use and kept until the block ends.

        Meant for a read-only pass (a stack's plan) that looks up many resources of a few kinds:
        it costs one request per kind instead of one per resource.  Any request that is not a read
        (GET/HEAD), made inside the block, drops every listing kept so far.  Nested blocks share
        the outer one's listings."""
        with self._listings_lock:
            if self._listings is not None:
                outer = True
            else:
                outer = False
                self._listings = {}
        session = getattr(self.conn, "session", None)
        hooked = False
        if not outer and session is not None and hasattr(session, "request"):
            session.request = self._forgetting_writes(session.request)
            hooked = True
        try:
            yield self
        finally:
            if not outer:
                if hooked:
                    try:
                        del session.request  # the class's own method again
                    except AttributeError:
                        pass
                with self._listings_lock:
                    self._listings = None

    def _forgetting_writes(self, request):
        def send(url, method, *args, **kwargs):
            if str(method).upper() not in ("GET", "HEAD"):
                self.forget_listings()
            return request(url, method, *args, **kwargs)
        return send

    @property
    def batching(self):
        return self._listings is not None

    def forget_listings(self):
        """Drop the listings kept by ``batch()`` (after a change, they may be stale)."""
        with self._listings_lock:
            if self._listings is not None:
                self._listings.clear()

    def listing(self, what, key, list_fn, **query):
        """``list(list_fn(**query))``; inside ``batch()`` made once per ``key`` and ``query``."""
        with self._listings_lock:
            if self._listings is None:
                return self.call(what, lambda: list(list_fn(**query)))
            cache_key = (key, tuple(sorted((k, repr(v)) for k, v in query.items())))
            if cache_key not in self._listings:
                self._listings[cache_key] = self.call(what, lambda: list(list_fn(**query)))
            return list(self._listings[cache_key])

    def prefetch(self, listings, workers=8):
        """Inside ``batch()``: make the listings not kept yet at the same time, ``listings`` being
        ``(what, key, list_fn, query)`` tuples (reads only; each service answers in parallel).  A
        listing that fails is left out: the lookup that needs it makes it again and reports the
        error.  Outside ``batch()`` nothing is read."""
        with self._listings_lock:
            if self._listings is None:
                return
            todo = []
            for what, key, list_fn, query in listings:
                cache_key = (key, tuple(sorted((k, repr(v)) for k, v in query.items())))
                if cache_key not in self._listings and cache_key not in [t[0] for t in todo]:
                    todo.append((cache_key, what, list_fn, query))
        if not todo:
            return

        def fetch(item):
            cache_key, what, list_fn, query = item
            try:
                return cache_key, self.call(what, lambda: list(list_fn(**query)))
            except Exception:  # pylint: disable=broad-exception-caught
                return cache_key, None
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(todo)))) as pool:
            results = list(pool.map(fetch, todo))
        with self._listings_lock:
            if self._listings is None:
                return
            for cache_key, items in results:
                if items is not None:
                    self._listings.setdefault(cache_key, items)

    def select(self, what, key, list_fn, match=None, **query):
        """The resources ``list_fn`` lists that have the attribute values of ``match`` (a list value:
        any of them).  Outside ``batch()`` ``match`` goes to the server with ``query``; inside it,
        the one listing of ``key`` and ``query`` is filtered here."""
        match = dict(match or {})
        if not self.batching:
            items = self.call(what, lambda: list(list_fn(**dict(query, **match))))
        else:
            items = self.listing(what, key, list_fn, **query)
        # Outside a batch too: a service that ignores a filter must not widen the answer.
        return [r for r in items if _matches(r, match)]

    # -- lookups -------------------------------------------------------------------------------
    def find_one(self, what, ref, list_fn, get_fn=None, name_key="name", listing=None, **filters):
        """The one resource ``ref`` (an ID or a name) names, or None.

        ``list_fn(**filters)`` lists candidates server-side filtered (``name=ref`` is added);
        ``get_fn(id)`` fetches by ID when ``ref`` looks like one.  Two resources with that name
        raise ``Conflict``: the user must use the ID.  With ``listing`` (a key naming what
        ``list_fn(**filters)`` lists), inside ``batch()`` the candidates come from that one listing."""
        if ref is None or ref == "":
            return None
        if listing is not None and self.batching:
            return self._find_listed(what, ref, list_fn, get_fn, name_key, listing, filters)
        if get_fn is not None and looks_like_id(ref):
            found = self.call(what, get_fn, ref, missing_ok=True)
            if found is not None:
                return found
        query = dict(filters)
        query[name_key] = ref
        matches = [r for r in self.call(what, lambda: list(list_fn(**query)))
                   if getattr(r, name_key, None) == ref or getattr(r, "id", None) == ref]
        if len(matches) > 1:
            raise Conflict("%s: the name %r matches %d resources (%s); use the ID"
                           % (what, ref, len(matches), ", ".join(sorted(r.id for r in matches))))
        return matches[0] if matches else None

    def _find_listed(self, what, ref, list_fn, get_fn, name_key, listing, filters):
        items = self.listing(what, listing, list_fn, **filters)
        if looks_like_id(ref):
            by_id = [r for r in items if getattr(r, "id", None) == ref]
            if by_id:
                return by_id[0]
            if get_fn is not None:
                # Not in the listing (another project's, shared with this one): ask for it.
                found = self.call(what, get_fn, ref, missing_ok=True)
                if found is not None:
                    return found
        matches = [r for r in items if getattr(r, name_key, None) == ref or getattr(r, "id", None) == ref]
        if len(matches) > 1:
            raise Conflict("%s: the name %r matches %d resources (%s); use the ID"
                           % (what, ref, len(matches), ", ".join(sorted(r.id for r in matches))))
        return matches[0] if matches else None

    def require_one(self, what, ref, list_fn, get_fn=None, field=None, **filters):
        """Like ``find_one`` but a missing resource is a spec error naming ``field``."""
        found = self.find_one(what, ref, list_fn, get_fn=get_fn, **filters)
        if found is None:
            raise InvalidSpec([(field or what, "%s %r does not exist" % (what, ref))])
        return found

    # -- waits ---------------------------------------------------------------------------------
    def wait(self, what, fetch, done, failed=None, timeout=300, interval=1.0, progress=None,
             status=lambda r: getattr(r, "status", None)):
        """Poll ``fetch()`` until ``done(resource)``; ``failed(resource)`` (or a resource in an
        ERROR status) ends the wait with BackendError.  ``fetch`` returning None counts as done
        only when ``done(None)`` says so (waits for deletion).  ``progress(msg)`` is told about
        each status change.  Returns the last resource fetched."""
        deadline = time.monotonic() + timeout
        last = object()
        while True:
            resource = fetch()
            current = status(resource) if resource is not None else "gone"
            if current != last and progress is not None:
                progress("%s: %s" % (what, current))
            last = current
            if done(resource):
                return resource
            if resource is not None and ((failed is not None and failed(resource))
                                         or str(current).lower() in ("error", "error_deleting")):
                fault = getattr(resource, "fault", None) or {}
                detail = fault.get("message") if isinstance(fault, dict) else None
                raise BackendError("%s: status %s%s" % (what, current, ": " + detail if detail else ""))
            if time.monotonic() >= deadline:
                raise Timeout("%s: still %s after %s s" % (what, current, timeout),
                              hint="raise the timeout, or look at the service's logs")
            time.sleep(interval)
            interval = min(interval * 1.5, 5.0)


def _matches(resource, match):
    """Whether ``resource`` has every attribute value of ``match`` (a list or tuple value: one of them)."""
    for attr, wanted in match.items():
        value = getattr(resource, attr, None)
        if isinstance(wanted, (list, tuple, set, frozenset)):
            if value not in wanted:
                return False
        elif value != wanted:
            return False
    return True


def _message(err):
    """The useful part of an SDK exception (the API's own message when there is one)."""
    details = getattr(err, "details", None)
    text = details if details else getattr(err, "message", None) or str(err)
    return str(text).strip()


def _status(err):
    """The HTTP status of an SDK HttpException (from the response, else from its class)."""
    status = getattr(err, "status_code", None)
    if status:
        return int(status)
    for cls, code in ((sdk_exc.ConflictException, 409), (sdk_exc.ForbiddenException, 403),
                      (sdk_exc.BadRequestException, 400), (sdk_exc.NotFoundException, 404)):
        if isinstance(err, cls):
            return code
    return 0


def _typed(what, err, status):
    text = "%s: %s" % (what, _message(err))
    if status == 404:
        return NotFound(text)
    if status == 409:
        return Conflict(text)
    if status in (401, 403):
        return BackendError(text, hint="the credentials lack the privilege; an admin may be needed")
    return BackendError(text)
