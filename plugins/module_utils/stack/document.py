# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stack document: its resources, each validated against the options of its kind's module.

Pure: no backend.  Every problem of every resource is collected, so that one failed run names
them all (resource, field, message) before anything is read or changed.
"""

from __future__ import annotations

import re

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.converge.virt.plugins.module_utils import backends
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.specs import (
    floating_ip,
    image,
    instance,
    keypair,
    network,
    object as object_spec,
    object_container,
    pool,
    project,
    security_group,
    user,
    volume,
    volume_snapshot,
)

# kind -> the module's option spec (ARGUMENT_SPEC, BACKEND_OPTIONS, MODULE_KWARGS)
SPECS = {
    "floating_ip": floating_ip, "image": image, "instance": instance, "keypair": keypair,
    "network": network, "object": object_spec, "object_container": object_container, "pool": pool,
    "project": project, "security_group": security_group, "user": user, "volume": volume,
    "volume_snapshot": volume_snapshot,
}

# Keys of a stack resource that are the stack's, not the module's.
META_KEYS = ("kind", "depends_on", "adopt", "hosts")
STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")

# Options a stack resource cannot use, with the reason.
_REFUSED = {
    ("image", "src"): "a controller file cannot be sent through a stack: use path (a file on the host the "
                      "task runs on) or url",
    ("image", "_controller_file"): "is internal to the image module",
    ("instance", "hypervisors"): "the hypervisors belong to the stack (its hypervisors option), not to one resource",
}


class Resource(object):
    """One declared resource: validated module parameters plus the stack's own keys."""

    def __init__(self, index, kind, params, depends_on, adopt, hosts=None):
        self.index = index
        self.hosts = hosts  # the hypervisors a multi-host stack puts it on, as written (None: all)
        self.kind = kind
        self.params = params
        self.name = identity_name(kind, params)
        self.scope = scope_of(kind, params)
        self.ident = (kind, self.scope, self.name)
        self.key = key_of(*self.ident)
        self.depends_on = list(depends_on)  # keys, as written
        self.adopt = adopt
        self.absent = params.get("state") == "absent"

    def where(self):
        return "resources[%d] (%s)" % (self.index, self.key)


def key_of(kind, scope, name):
    """The printable key: ``kind/name``, or ``kind/scope/name`` for pool- or container-scoped kinds."""
    return "/".join(str(p) for p in (kind, scope, name) if p is not None)


def identity_name(kind, params):
    if kind == "floating_ip":  # identified by its address, else by what it is attached to
        return params.get("address") or params.get("server") or params.get("port")
    return params.get("name")


def scope_of(kind, params):
    """The pool of a libvirt volume or image, the container of an object, else None."""
    if kind in ("volume", "image") and params.get("pool"):
        return params["pool"]
    if kind == "object":
        return params.get("container")
    return None


def check_stack_name(name, problems, field="name"):
    if not isinstance(name, str) or not STACK_NAME.match(name) or name in (".", ".."):  # it names ledger files
        problems.append((field, "the stack name must have 1 to 40 letters, digits, '_', '.' or '-', and not be . or .. "
                                "(got %r)" % (name,)))


def parse(resources, backend_name, kinds, problems=None):
    """Validate the declared resources for ``backend_name`` (whose resource kinds are ``kinds``).

    Returns ``(resources, no_log_values)``, the resources that are valid.  Every problem found is
    appended to ``problems`` when a list is given, else raised at the end as one InvalidSpec."""
    collect = problems is not None
    problems = problems if collect else []
    parsed = []
    secrets = set()
    if not isinstance(resources, list):
        raise InvalidSpec([("resources", "must be a list of resources")])
    for index, raw in enumerate(resources):
        where = "resources[%d]" % index
        if not isinstance(raw, dict):
            problems.append((where, "must be a dictionary with kind, name and the options of its module"))
            continue
        kind = raw.get("kind")
        if kind not in SPECS:
            problems.append((where + ".kind", "must be one of %s (got %r)" % (", ".join(sorted(kinds)), kind)))
            continue
        if kind not in kinds:
            problems.append((where + ".kind", "%s resources are not managed by the %s backend" % (kind, backend_name)))
            continue
        resource, found, values = _parse_one(index, kind, raw, backend_name)
        secrets.update(values)
        problems.extend(found)
        if resource is not None:
            parsed.append(resource)
    seen = {}
    for resource in parsed:
        if resource.name in (None, ""):
            continue
        if resource.key in seen:
            problems.append((resource.where(), "declared twice (also %s)" % seen[resource.key].where()))
        else:
            seen[resource.key] = resource
    if problems and not collect:
        raise InvalidSpec(problems)
    return [r for r in parsed if seen.get(r.key) is r], secrets


def declared_keys(resources):
    """The keys the document declares, valid or not (so that a depends_on naming an invalid
    resource is not reported as undeclared on top of that resource's own problems)."""
    keys = set()
    for raw in resources if isinstance(resources, list) else []:
        if isinstance(raw, dict) and raw.get("kind") in SPECS:
            params = dict((k, v) for k, v in raw.items() if k not in META_KEYS)
            name = identity_name(raw["kind"], params)
            if name not in (None, ""):
                keys.add(key_of(raw["kind"], scope_of(raw["kind"], params), name))
    return keys


def _parse_one(index, kind, raw, backend_name):
    spec = SPECS[kind]
    problems = []
    label = "resources[%d] (%s %s)" % (index, kind, raw.get("name") or raw.get("address") or raw.get("server") or "?")
    params = dict((k, v) for k, v in raw.items() if k not in META_KEYS)
    for option in sorted(params):
        if option in backends.CONNECTION_ARGS:
            problems.append(("%s.%s" % (label, option), "connection options belong to the stack, not to one resource"))
        elif (kind, option) in _REFUSED:
            problems.append(("%s.%s" % (label, option), _REFUSED[(kind, option)]))
    depends_on = raw.get("depends_on") or []
    if isinstance(depends_on, str):
        depends_on = [depends_on]
    if not isinstance(depends_on, list) or not all(isinstance(d, str) for d in depends_on):
        problems.append((label + ".depends_on", "must be a list of resource keys such as network/lab"))
        depends_on = []
    adopt = raw.get("adopt", False)
    if not isinstance(adopt, bool):
        problems.append((label + ".adopt", "must be true or false"))
    hosts = raw.get("hosts")
    if hosts is not None:
        if isinstance(hosts, str):
            hosts = [hosts]
        if kind == "instance":
            problems.append((label + ".hosts", "an instance lives on one host: give host (fixed) or placement "
                                               "(let the scheduler choose)"))
        elif not isinstance(hosts, list) or not hosts or not all(isinstance(h, str) for h in hosts):
            problems.append((label + ".hosts", "must be all or a list of hypervisor names"))
    if problems:
        return None, problems, ()
    validator = ArgumentSpecValidator(spec.ARGUMENT_SPEC, **spec.MODULE_KWARGS)
    try:
        result = validator.validate(params)
    except (TypeError, AttributeError) as err:  # ansible-core's validator trips over e.g. a bool given for a dict
        return None, [(label, "an option has a value of the wrong type (a dictionary expected where something "
                              "else was given?): %s" % err)], ()
    secrets = set(getattr(result, "_no_log_values", ()) or ())
    for message in result.error_messages:
        problems.append((label, message))
    if problems:
        return None, problems, secrets
    validated = result.validated_parameters
    try:
        backends.check_backend_options(validated, spec.ARGUMENT_SPEC, backend_name, spec.BACKEND_OPTIONS)
    except InvalidSpec as err:
        problems.extend(("%s.%s" % (label, f), m) for f, m in err.problems)
        return None, problems, secrets
    resource = Resource(index, kind, validated, depends_on, adopt, hosts)
    if resource.name in (None, ""):
        problems.append((label, "a %s in a stack needs %s" % (kind, "an address or a server" if kind == "floating_ip"
                                                              else "a name")))
        return None, problems, secrets
    return resource, problems, secrets
