# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's side of a ``hypervisors`` option: inventory names become a hypervisor list.

``resolve_hypervisors(value, task_vars)`` takes what the user wrote and returns a list of
``{name, uri, migrate_uri, disks_uri}`` for the module:

* a string: an inventory group (every host of it), else one inventory host;
* a list: each item an inventory host name, or already a dictionary (kept as it is);
* for an inventory host ``h``: ``uri`` is ``hostvars[h].converge_virt_uri`` when set, else
  ``qemu+ssh://<ansible_user or root>@<ansible_host or h>/system``; ``migrate_uri`` and
  ``disks_uri`` come from ``converge_virt_migrate_uri`` and ``converge_virt_disks_uri``.

Host variables are read through ``hostvars``, which templates them in the host's own context, so
``converge_virt_uri: "qemu+ssh://{{ ansible_host }}/system"`` works.  Unknown groups and hosts
raise ``AnsibleActionFail`` naming what exists.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

URI_VAR = "converge_virt_uri"
MIGRATE_URI_VAR = "converge_virt_migrate_uri"
DISKS_URI_VAR = "converge_virt_disks_uri"


def resolve_hypervisors(value, task_vars, option="hypervisors"):
    """The hypervisor list for ``value`` (see the module docstring).  Dictionaries are passed
    through untouched: the module validates every entry (``check_hypervisors``)."""
    task_vars = task_vars or {}
    groups = task_vars.get("groups") or {}
    hostvars = task_vars.get("hostvars") or {}
    if value is None:
        return None
    if isinstance(value, str):
        return [_from_host(h, hostvars, option) for h in _group_or_host(value, groups, hostvars, option)]
    if not isinstance(value, (list, tuple)):
        raise AnsibleActionFail("%s must be an inventory group name, a list of inventory host names, or a list of "
                                "{name, uri} dictionaries; got %s" % (option, type(value).__name__))
    result = []
    for item in value:
        if isinstance(item, str):
            if not _is_host(item, hostvars):
                hint = (" (%s is a group: give the group name alone, not in a list)" % item) if item in groups else ""
                raise AnsibleActionFail("%s: %s is not a host of the inventory%s%s"
                                        % (option, item, hint, _known_hosts(hostvars)))
            result.append(_from_host(item, hostvars, option))
        else:
            result.append(item)
    return result


def _group_or_host(name, groups, hostvars, option):
    if name in groups:
        hosts = list(groups[name] or [])
        if not hosts:
            raise AnsibleActionFail("%s: the inventory group %s has no hosts" % (option, name))
        return hosts
    if _is_host(name, hostvars):
        return [name]
    known = sorted(g for g in groups if g not in ("all", "ungrouped"))
    raise AnsibleActionFail("%s: %s is neither an inventory group nor an inventory host (groups: %s)%s"
                            % (option, name, ", ".join(known) or "none", _known_hosts(hostvars)))


def _is_host(name, hostvars):
    try:
        return name in hostvars
    except Exception:  # pylint: disable=broad-exception-caught
        return False


def _known_hosts(hostvars):
    try:
        names = sorted(str(h) for h in hostvars)
    except Exception:  # pylint: disable=broad-exception-caught
        return ""
    if not names:
        return "; the inventory has no hosts"
    shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
    return "; inventory hosts: %s" % shown


def _var(hv, key):
    """The host's variable, templated by ``hostvars``; ``None`` when unset or empty."""
    if key not in hv:
        return None
    value = hv[key]
    if value is None:
        return None
    value = str(value)
    return value if value.strip() else None


def _from_host(host, hostvars, option):
    try:
        hv = hostvars[host]
    except KeyError:
        raise AnsibleActionFail("%s: %s is not a host of the inventory%s" % (option, host, _known_hosts(hostvars)))
    try:
        uri = _var(hv, URI_VAR)
        if uri is None:
            user = _var(hv, "ansible_user") or "root"
            address = _var(hv, "ansible_host") or str(host)
            if ":" in address and not address.startswith("["):  # an IPv6 address
                address = "[%s]" % address
            uri = "qemu+ssh://%s@%s/system" % (user, address)
        return {"name": str(host), "uri": uri, "migrate_uri": _var(hv, MIGRATE_URI_VAR),
                "disks_uri": _var(hv, DISKS_URI_VAR)}
    except AnsibleActionFail:
        raise
    except Exception as err:  # an undefined variable in a template, for example
        raise AnsibleActionFail("%s: cannot read the variables of inventory host %s: %s" % (option, host, err))


class HypervisorsAction(ActionBase):
    """An action plugin that resolves ``hypervisors`` on the controller, then runs ``MODULE``."""

    MODULE = None
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        try:
            if args.get("hypervisors") is not None:
                args["hypervisors"] = resolve_hypervisors(args["hypervisors"], task_vars or {})
            wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
            result.update(self._execute_module(module_name=self.MODULE, module_args=args, task_vars=task_vars,
                                               wrap_async=wrap_async))
        except AnsibleActionFail as err:
            result.update(failed=True, msg=to_text(err))
        return result
