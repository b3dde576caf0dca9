# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The only place where engine errors become ``fail_json``.  Modules are thin: they declare
their argument_spec and kind, then hand off to ``run_resource_module`` / ``run_info_module``."""

from __future__ import annotations

import contextlib
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.converge.virt.plugins.module_utils.engine.converge import converge
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import (
    ConvergeError,
    InvalidSpec,
    MissingLibrary,
)
from ansible_collections.converge.virt.plugins.module_utils import backends


@contextlib.contextmanager
def _failing_clearly(module, kind):
    """Typed engine errors become a clear fail_json; anything else is a bug and keeps its traceback."""
    try:
        yield
    except MissingLibrary as err:
        module.fail_json(msg=missing_required_lib(err.library, reason=err.reason),
                         exception=err.import_error)
    except ConvergeError as err:  # InvalidSpec's details carry its "problems", field by field
        module.fail_json(msg=str(err), **err.details)
    except Exception as err:  # pylint: disable=broad-exception-caught
        module.fail_json(msg="%s: unexpected error: %s" % (kind, err), exception=traceback.format_exc())


def _checked_backend(module, argument_spec, backend_options):
    """The backend the connection options select, after refusing the other backend's options."""
    backend = backends.selected_backend(module.params)
    backends.check_backend_options(module.params, argument_spec, backend, backend_options)
    return backend


def run_resource_module(kind, argument_spec, backend_options=None, **module_kwargs):
    """Converge one resource of ``kind`` as described by the module's parameters.

    ``backend_options``: see ``backends.check_backend_options``."""
    spec = dict(backends.CONNECTION_ARGS)
    spec.update(argument_spec)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True, **module_kwargs)
    if module.params.get("hypervisors") is not None:  # an instance on one of many hosts
        _run_clustered(module, kind, argument_spec, backend_options)
        return
    with _failing_clearly(module, kind):
        _checked_backend(module, argument_spec, backend_options)
        lone = [o for o in ("host", "placement", "migration") if module.params.get(o) is not None]
        if lone:
            raise InvalidSpec([(o, "needs hypervisors (the hosts to choose from, or an inventory group of them)")
                               for o in lone])
        with backends.open_backend(module.params, run_command=module.run_command) as backend:
            planner = backend.planner(kind)
            outcome = converge(planner, backend.driver(kind), module.params,
                               check_mode=module.check_mode)
    _exit(module, kind, planner, outcome.plan, outcome.state, dict(outcome.facts))


def _run_clustered(module, kind, argument_spec, backend_options):
    from ansible_collections.converge.virt.plugins.module_utils.hypervisors.cluster import run_clustered_instance

    with _failing_clearly(module, kind):
        if _checked_backend(module, argument_spec, backend_options) != backends.LIBVIRT:
            module.fail_json(msg="hypervisors lists libvirt hosts: it cannot be used with the OpenStack backend")
        plan, state, facts, unit = run_clustered_instance(module)
    facts["host"] = unit.host
    facts["placement"] = unit.place.to_dict()
    _exit(module, kind, unit.planner, plan, state, facts)


def _exit(module, kind, planner, plan, state, facts):
    for note in plan.facts.get("warnings", []) + facts.pop("warnings", []):
        module.warn(note)
    result = {"changed": plan.changed, "plan": plan.to_dict(), kind: state}
    result.update(planner.outputs(plan))
    result.update(facts)
    if module._diff:
        result["diff"] = plan.diff()
    module.exit_json(**result)


def run_info_module(kind, result_key, argument_spec, filters=(), backend_options=None, **module_kwargs):
    """List resources of ``kind`` (all, or those named by the ``name`` option).

    ``filters`` names further options handed to the driver's ``list()`` as keyword arguments."""
    spec = dict(backends.CONNECTION_ARGS)
    spec.update(argument_spec)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True, **module_kwargs)
    names = module.params.get("name")
    if isinstance(names, str):
        names = [names]
    with _failing_clearly(module, kind):
        backend_name = _checked_backend(module, argument_spec, backend_options)
        # A filter of the other backend is never set here (refused above), so it is not passed on.
        foreign = set()
        for other, rules in (backend_options or {}).items():
            if other != backend_name:
                foreign.update(rules.get("only", ()))
        with backends.open_backend(module.params, readonly=True) as backend:
            items = backend.driver(kind).list(
                names or None, **dict((f, module.params.get(f)) for f in filters if f not in foreign))
            planner = backend.planner(kind)
    module.exit_json(changed=False, **{result_key: [planner.public(i) for i in items]})
