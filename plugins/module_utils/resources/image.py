# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base images: the backend-neutral spec, its validation, and the planner.

An image is a volume of a pool whose content comes from a source (an http(s) URL, a file on the
controller, or a file on the host the module runs on).  Normalized state::

    name, pool, volume, path, format, capacity, allocation,
    sha256     the sha256 of the content as stored (after decompression), when known
    checksum   the digest of the source's bytes as provided ("sha256:<hex>"), when known
    source     where the content came from (URL without credentials, path, or controller file)
    dependents volumes ("pool/volume") whose backing file the image is

The content is the only attribute, and it is create-only: a change of content replaces the
volume (effect ``replace``), which is refused while volumes depend on it unless the user asks
for a new version, a second volume named after the new digest.
"""

from __future__ import annotations

import copy
import posixpath

from ansible_collections.converge.virt.plugins.module_utils import transfer
from ansible_collections.converge.virt.plugins.module_utils.engine import validate
from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Planner
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, Problems
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, NONE, REPLACE, UPDATE,
    Change, Field, Plan, compare,
)

KIND = "image"
SOURCES = ("url", "src", "path")
ON_SOURCE_CHANGE = ("refuse", "new_version")
DEFAULT_CACHE_DIR = "~/.cache/converge-virt/images"
# Known image suffixes: a new version's digest goes in front of them.
EXTENSIONS = (".qcow2", ".qcow", ".img", ".raw", ".iso")

SCHEMA = {
    "volume": Field(REPLACE),
    "format": Field(REPLACE),
    "sha256": Field(REPLACE),
    "checksum": Field(REPLACE),
    "source": Field(REPLACE),
}

NO_TRANSFER = {"downloaded": False, "bytes": 0, "seconds": 0.0, "rate": None, "source": None,
               "progress_log": None}


def versioned_name(name, digest):
    """``debian.qcow2`` + digest -> ``debian-<12 hex>.qcow2`` (``name-<12 hex>`` without a known suffix)."""
    tag = digest[:12]
    lower = name.lower()
    for ext in EXTENSIONS:
        if lower.endswith(ext) and len(name) > len(ext):
            return "%s-%s%s" % (name[:-len(ext)], tag, name[-len(ext):])
    return "%s-%s" % (name, tag)


# ---- the content options every image backend shares (pure: the OpenStack planner uses them too) --
def content_options(params):
    """The content options of ``params`` with their defaults, not yet checked: ``path``,
    ``controller_file``, ``checksum`` and ``source`` are filled in by parse_content and
    parse_source."""
    return {
        "url": params.get("url"),
        "src": params.get("src"),
        "path": None,
        "controller_file": None,
        "checksum": None,
        "format": params.get("format"),
        "decompress": params.get("decompress") or "auto",
        "timeout": params.get("timeout") if params.get("timeout") is not None else 60,
        "retries": params.get("retries") if params.get("retries") is not None else 3,
        "validate_certs": params.get("validate_certs") is not False,
        "cache_dir": params.get("cache_dir") or DEFAULT_CACHE_DIR,
        "keep_download": params.get("keep_download") is not False,
        "on_source_change": params.get("on_source_change") or "refuse",
    }


def check_content_options(desired, problems):
    """Check the plain content options of ``desired`` (as content_options made them)."""
    if desired["format"] is not None and desired["format"] not in transfer.FORMATS:
        problems.add("format", "must be one of %s" % ", ".join(transfer.FORMATS))
    if desired["decompress"] not in transfer.DECOMPRESS:
        problems.add("decompress", "must be one of %s" % ", ".join(transfer.DECOMPRESS))
    if desired["on_source_change"] not in ON_SOURCE_CHANGE:
        problems.add("on_source_change", "must be one of %s" % ", ".join(ON_SOURCE_CHANGE))
    validate.int_range(desired["timeout"], "timeout", problems, 1, 86400, " s")
    validate.int_range(desired["retries"], "retries", problems, 0, 20)
    cache_dir = desired["cache_dir"]
    if not (cache_dir.startswith("/") or cache_dir == "~" or cache_dir.startswith("~/")):
        problems.add("cache_dir", "%r must be an absolute path (or start with ~/)" % cache_dir)


def parse_content(params, desired, problems):
    """Fill in ``path``, ``controller_file`` and ``checksum`` of ``desired`` from ``params``."""
    if params.get("path") is not None:
        desired["path"] = validate.absolute_path(params["path"], "path", problems)
    if params.get("_controller_file") is not None:
        desired["controller_file"] = controller_file(params["_controller_file"], problems)
    if params.get("checksum") is not None:
        try:
            desired["checksum"] = transfer.parse_checksum(params["checksum"]).to_dict()
        except ValueError as err:
            problems.add("checksum", str(err))


def controller_file(value, problems):
    """The action plugin's description of the controller file: ``{"name", "size", "sha256"}``."""
    if (not isinstance(value, dict) or not isinstance(value.get("sha256"), str)
            or len(value["sha256"]) != 64 or not isinstance(value.get("size"), int)):
        problems.add("_controller_file", "is internal to the action plugin (name, size, sha256)")
        return None
    return {"name": str(value.get("name") or ""), "size": value["size"], "sha256": value["sha256"]}


def parse_source(params, desired, problems, named_by_content=("src",)):
    """Set ``desired["source"]`` (``{"type", "location", "display"}``) from exactly one of url,
    src and path.  ``named_by_content``: the source types whose content the driver digests
    itself, so that on_source_change: new_version can name a version without a checksum."""
    given = [s for s in SOURCES if params.get(s) is not None]
    # The action plugin passes src (the label) and path (the controller file, copied) together.
    if given == ["src", "path"] and desired["controller_file"] is not None:
        given = ["src"]
    if len(given) != 1:
        problems.add("url" if not given else given[1],
                     "exactly one of url, src and path is needed with state: present (got %s)"
                     % (", ".join(given) or "none"))
        return
    kind = given[0]
    if kind == "url":
        try:
            transfer.check_url(params["url"])
        except ValueError as err:
            problems.add("url", str(err))
            return
        desired["source"] = {"type": "url", "location": params["url"],
                             "display": transfer.public_url(params["url"])}
    elif kind == "path":
        if desired["path"] is None:
            return
        desired["source"] = {"type": "path", "location": desired["path"], "display": desired["path"]}
    else:
        if params.get("_controller_file") is None:
            problems.add("src", "is handled by the converge.virt.image action plugin; call the "
                                "module through it (not with a bare module invocation)")
            return
        desired["source"] = {"type": "src", "location": desired["path"],
                             "display": "controller:%s" % params["src"]}
    if (desired["on_source_change"] == "new_version" and desired["checksum"] is None
            and kind not in named_by_content):
        problems.add("on_source_change", "new_version needs a checksum (sha256:<hex>, sha512:<hex> "
                                         "or <algo>:<URL of a checksum file>) to name the version")


def content_identity(state):
    """What names an image's content in a change: its checksum, else its sha256 (or None)."""
    return state.get("checksum") or ("sha256:%s" % state["sha256"] if state.get("sha256") else None)


def wanted_digest(wanted, name):
    """The digest a new version of the wanted content is named after (``wanted``: the world's)."""
    text = wanted.get("checksum") or ""
    if ":" in text:
        return text.split(":", 1)[1]
    if wanted.get("sha256"):
        return wanted["sha256"]
    raise Conflict("the new content's digest is unknown, so the new version cannot be named",
                   kind=KIND, name=name, hint="give a checksum")


class ImageWorld(object):
    """What the planner needs to know about the host and the source, read by a driver.

    ``matches`` says whether the volume ``current`` holds the wanted content (None: no volume).
    ``wanted`` describes the wanted content as far as it is known without placing it:
    ``{"sha256", "checksum", "format"}`` (values may be None).  ``versioned`` is the state of the
    volume a new version would use (or None), ``versioned_matches`` whether it holds the wanted
    content."""

    def __init__(self, current=None, pool=None, dependents=None, users=None, matches=None,
                 wanted=None, versioned=None, versioned_matches=None):
        self.current = current
        self.pool = dict(pool or {})               # {"name", "path", "type", "active"}
        self.dependents = list(dependents or [])   # "pool/volume" backed by the current volume
        self.users = list(users or [])             # [{"domain", "target", "device", "running"}]
        self.matches = matches
        self.wanted = dict(wanted or {})
        self.versioned = versioned
        self.versioned_matches = versioned_matches


class ImagePlanner(Planner):
    kind = KIND
    schema = SCHEMA

    # ---- desired state -----------------------------------------------------------------
    def normalize(self, params):
        problems = Problems()
        name = validate.volume_name(params.get("name"), "name", problems)
        pool = validate.resource_name(params.get("pool"), "pool", problems)
        state = params.get("state") or "present"
        desired = {"name": name, "pool": pool, "state": state}
        desired.update(content_options(params))
        desired.update(force=bool(params.get("force")), source=None)
        check_content_options(desired, problems)
        parse_content(params, desired, problems)
        if state == "present":
            parse_source(params, desired, problems)
        problems.raise_if_any(KIND, params.get("name"))
        return desired

    # ---- plan ------------------------------------------------------------------------
    def plan(self, desired, world):
        if desired["state"] == "absent":
            return self._plan_delete(desired, world)
        name = desired["name"]
        current = world.current
        wanted = world.wanted
        facts = {"dependents": list(world.dependents),
                 "instances": sorted(set(u["domain"] for u in world.users))}
        if current is None:
            after = self._predicted(desired, world, name)
            return Plan(KIND, name, CREATE, compare(after, {}, SCHEMA), before=None, after=after,
                        desired=dict(desired, target=name, replace=False), facts=facts)
        if world.matches:
            self._check_declared_format(desired, current)
            return Plan(KIND, name, NONE, before=copy.deepcopy(current), after=copy.deepcopy(current),
                        desired=dict(desired, target=name, replace=False), facts=facts)

        before = copy.deepcopy(current)
        new_version = desired["on_source_change"] == "new_version"
        if new_version and world.versioned is not None:
            vname = world.versioned["volume"]
            if world.versioned_matches:
                # The wanted content is already in place as a version; the old volume stays as is.
                return Plan(KIND, name, NONE, before=copy.deepcopy(world.versioned),
                            after=copy.deepcopy(world.versioned),
                            desired=dict(desired, target=vname, replace=False),
                            notes=["volume %s keeps the earlier content for its dependents; the wanted "
                                   "content is in %s" % (name, vname)], facts=facts)
            raise Conflict("the new version's volume %s already exists in pool %s with other content"
                           % (vname, desired["pool"]), kind=KIND, name=name,
                           hint="delete it, or check the checksum")

        change = Change(self._content_path(current, wanted), "modify",
                        content_identity(current), content_identity(wanted) or "(new content)", REPLACE)
        blockers = self._blockers(world)
        if not blockers:
            after = self._predicted(desired, world, name)
            return Plan(KIND, name, UPDATE, [change], before=before, after=after,
                        desired=dict(desired, target=name, replace=True),
                        notes=["the source's content changed: volume %s is replaced (nothing "
                               "depends on it)" % name], facts=facts)
        if not new_version:
            raise Conflict(
                "the source's content changed (%s -> %s) but %s; refusing to rewrite a base image "
                "under them" % (change.before, change.after, blockers), kind=KIND, name=name,
                hint="set on_source_change: new_version to place the new content in a new volume "
                     "and keep this one for its dependents",
                details={"dependents": world.dependents, "instances": facts["instances"]})
        vname = versioned_name(name, self._version_digest(desired, world))
        after = self._predicted(desired, world, vname)
        return Plan(KIND, name, UPDATE,
                    [change, Change("volume", "modify", name, vname, REPLACE)],
                    before=before, after=after, desired=dict(desired, target=vname, replace=False),
                    notes=["the source's content changed and %s: the new content goes to a new "
                           "volume %s, volume %s stays untouched" % (blockers, vname, name)],
                    facts=facts)

    @staticmethod
    def _version_digest(desired, world):
        checksum = desired.get("checksum") or {}
        if checksum.get("digest"):
            return checksum["digest"]
        return wanted_digest(world.wanted, desired["name"])

    @staticmethod
    def _blockers(world):
        parts = []
        if world.dependents:
            parts.append("volumes depend on it: %s" % ", ".join(world.dependents))
        if world.users:
            parts.append("instances use it: %s" % ", ".join(sorted(set(
                "%s (%s)" % (u["domain"], u.get("target") or u.get("device")) for u in world.users))))
        return "; ".join(parts)

    @staticmethod
    def _content_path(current, wanted):
        return "checksum" if current.get("checksum") and wanted.get("checksum") else "content"

    @staticmethod
    def _predicted(desired, world, volume):
        wanted = world.wanted
        pool_path = world.pool.get("path")
        return {
            "name": desired["name"],
            "pool": desired["pool"],
            "volume": volume,
            "path": posixpath.join(pool_path, volume) if pool_path else None,
            "format": desired["format"] or wanted.get("format"),
            "capacity": None,
            "allocation": None,
            "sha256": wanted.get("sha256"),
            "checksum": wanted.get("checksum"),
            "source": desired["source"]["display"],
            "dependents": [],
        }

    @staticmethod
    def _check_declared_format(desired, current):
        problem = transfer.format_conflict(desired["format"], current.get("format"))
        if problem and current.get("format") in transfer.FORMATS:
            raise Conflict("volume %s holds the wanted content, but %s" % (current["volume"], problem),
                           kind=KIND, name=desired["name"], hint="fix or drop the format option")

    def _plan_delete(self, desired, world):
        name, current = desired["name"], world.current
        facts = {"dependents": list(world.dependents),
                 "instances": sorted(set(u["domain"] for u in world.users))}
        if current is None:
            return Plan(KIND, name, NONE, before=None, after=None,
                        desired=dict(desired, target=name, replace=False), facts=facts)
        blockers = self._blockers(world)
        warnings = []
        if blockers:
            if not desired["force"]:
                raise Conflict("%s; refusing to delete it" % blockers, kind=KIND, name=name,
                               hint="delete them first, or set force: true (their disks then point at "
                                    "a missing file)", details={"dependents": world.dependents,
                                                                "instances": facts["instances"]})
            warnings.append("deleting image %s although %s (force: true)" % (name, blockers))
        facts["warnings"] = warnings
        return Plan(KIND, name, DELETE, [Change("volume", "remove", current.get("volume"), None, REPLACE)],
                    before=copy.deepcopy(current), after=None,
                    desired=dict(desired, target=name, replace=False), facts=facts)

    def outputs(self, plan):
        # The apply step's own "transfer" fact replaces this when something was transferred.
        return {"transfer": dict(NO_TRANSFER)}
