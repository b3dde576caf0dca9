# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backend selection from the connection options.  Modules never know which backend they use."""

from __future__ import annotations

import contextlib
import os

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import InvalidSpec

LIBVIRT = "libvirt"
OPENSTACK = "openstack"

AUTH_KEYS = ("auth_url", "username", "user_id", "project_name", "project_id", "project_domain_name",
             "project_domain_id", "user_domain_name", "user_domain_id", "domain_name", "domain_id",
             "default_domain_name", "default_domain_id", "system_scope", "trust_id",
             "application_credential_id", "application_credential_name", "endpoint")
AUTH_SECRET_KEYS = ("password", "application_credential_secret", "token", "passcode")

# Options every resource module accepts (documented by the converge.virt.connection doc fragment).
CONNECTION_ARGS = {
    "backend": {"type": "str", "choices": ["auto", LIBVIRT, OPENSTACK], "default": "auto"},
    "uri": {"type": "str"},
    "cloud": {"type": "str"},
    # The keystoneauth keys, each declared so that only the secrets are masked: a dict-wide no_log
    # would make Ansible mask every result value equal to a user, project or domain name.
    "auth": {"type": "dict", "options": dict(
        [(key, {"type": "str"}) for key in AUTH_KEYS]
        + [(key, {"type": "str", "no_log": True}) for key in AUTH_SECRET_KEYS])},
    "auth_type": {"type": "str"},
    "region_name": {"type": "str"},
    "interface": {"type": "str", "choices": ["public", "internal", "admin"]},
    "api_timeout": {"type": "int"},
    "verify": {"type": "bool"},
    "ca_cert": {"type": "path"},
    "client_cert": {"type": "path"},
    "client_key": {"type": "path", "no_log": False},
}

_OPENSTACK_ONLY = ("cloud", "auth", "auth_type", "region_name", "interface", "api_timeout",
                   "verify", "ca_cert", "client_cert", "client_key")
_LIBVIRT_ONLY = ("uri",)

DEFAULT_LIBVIRT_URI = "qemu:///system"


def libvirt_uri(params):
    """The libvirt URI: the option, else LIBVIRT_DEFAULT_URI, else qemu:///system."""
    return params.get("uri") or os.environ.get("LIBVIRT_DEFAULT_URI") or DEFAULT_LIBVIRT_URI


def selected_backend(params):
    """``libvirt`` or ``openstack``: ``backend`` when set, else OpenStack exactly when ``cloud`` or
    ``auth`` is given.  Connection options of the other backend are an error, not ignored."""
    choice = params.get("backend") or "auto"
    if choice == "auto":
        has_auth = params.get("auth") and not _all_unset(params.get("auth"))
        choice = OPENSTACK if (params.get("cloud") or has_auth) else LIBVIRT
    foreign = _LIBVIRT_ONLY if choice == OPENSTACK else _OPENSTACK_ONLY
    wrong = [o for o in foreign if params.get(o) not in (None, "", {}) and not _all_unset(params.get(o))]
    if wrong:
        raise InvalidSpec([(o, "is a %s connection option, but this task uses the %s backend"
                            % (LIBVIRT if choice == OPENSTACK else OPENSTACK, choice))
                           for o in wrong])
    return choice


def _all_unset(value):
    return isinstance(value, dict) and all(v is None for v in value.values())


def check_backend_options(params, argument_spec, backend, backend_options):
    """Refuse options that belong to the other backend, and require the backend's own.

    ``backend_options`` maps a backend name to ``{"only": [...], "required": [...]}``: options
    meaningful only on that backend, and options that backend needs.  An option counts as set
    when it differs from its argument_spec default."""
    problems = []
    for other, rules in (backend_options or {}).items():
        if other == backend:
            for option in rules.get("required", ()):
                if params.get(option) in (None, ""):
                    problems.append((option, "is required with the %s backend" % backend))
            continue
        for option in rules.get("only", ()):
            default = argument_spec.get(option, {}).get("default")
            if params.get(option) is not None and params.get(option) != default:
                problems.append((option, "applies only to the %s backend, and this task uses the %s "
                                         "backend" % (other, backend)))
    if problems:
        raise InvalidSpec(problems)


@contextlib.contextmanager
def open_backend(params, readonly=False, run_command=None):
    """Open the backend the options select, once per module run, and close it afterwards.

    ``run_command`` (argv -> (rc, stdout, stderr)) lets a backend run commands on the host the
    task runs on, for the few things its API cannot do."""
    if selected_backend(params) == OPENSTACK:
        from ansible_collections.converge.virt.plugins.module_utils.openstack.backend import OpenStackBackend

        backend = OpenStackBackend(params, readonly=readonly)
    else:
        from ansible_collections.converge.virt.plugins.module_utils.libvirt.backend import LibvirtBackend

        backend = LibvirtBackend(libvirt_uri(params), readonly=readonly, run_command=run_command)
    try:
        yield backend
    finally:
        backend.close()
