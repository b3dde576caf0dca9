# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``converge.virt.stack`` module's run: parse, lock, plan, apply, report."""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.converge.virt.plugins.module_utils import backends
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import (
    ConvergeError,
    InvalidSpec,
    MissingLibrary,
)
from ansible_collections.converge.virt.plugins.module_utils.hypervisors.inventory import check_hypervisors
from ansible_collections.converge.virt.plugins.module_utils.hypervisors.options import HYPERVISORS_ARG
from ansible_collections.converge.virt.plugins.module_utils.stack import document
from ansible_collections.converge.virt.plugins.module_utils.stack.graph import Graph
from ansible_collections.converge.virt.plugins.module_utils.stack.lock import stack_lock
from ansible_collections.converge.virt.plugins.module_utils.stack.multihost import check_single_host, run_multi_host
from ansible_collections.converge.virt.plugins.module_utils.stack.run import StackRun

STACK_ARGS = dict(
    name=dict(type="str"),
    resources=dict(type="list", elements="dict"),
    src=dict(type="path"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    prune=dict(type="bool", default=False),
    adopt=dict(type="bool", default=False),
    parallel=dict(type="int", default=4),
    retries=dict(type="int", default=3),
    lock_timeout=dict(type="int", default=300),
    plan_file=dict(type="path"),
    hypervisors=HYPERVISORS_ARG,
)

# The kinds each backend manages (the backend classes say the same once connected).
_KINDS = {
    backends.LIBVIRT: ("network", "pool", "image", "volume", "instance"),
    backends.OPENSTACK: ("image", "volume", "volume_snapshot", "network", "security_group", "floating_ip",
                         "instance", "keypair", "object_container", "object", "project", "user"),
}


def _target(backend):
    """What the lock is about: the libvirt URI, or the OpenStack project."""
    if getattr(backend, "uri", None):  # the ledger's name for the hypervisor: transport and user do not matter
        from ansible_collections.converge.virt.plugins.module_utils.libvirt.ownership import hypervisor_slug

        return "libvirt:%s" % hypervisor_slug(backend.uri)
    cloud = backend.cloud
    return "openstack:%s:%s" % (cloud.conn.config.get_auth_args().get("auth_url"), cloud.project_id)


def run_stack_module():
    spec = dict(backends.CONNECTION_ARGS)
    spec.update(STACK_ARGS)
    # no_log: the invocation is not logged on the target, since resources may hold secrets; the
    # result masks them (their values join no_log_values once each resource is validated).
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True, no_log=True)
    params = module.params
    result = {"changed": False, "stack": params.get("name"), "summary": {}, "plan": [], "resources": {},
              "failures": [], "not_attempted": []}
    try:
        if params.get("src"):
            raise InvalidSpec([("src", "is read on the controller by the stack action plugin; run the module "
                                       "through it (as converge.virt.stack)")])
        problems = []
        document.check_stack_name(params.get("name"), problems)
        for option in ("parallel", "retries", "lock_timeout"):
            if params[option] < (1 if option == "parallel" else 0):
                problems.append((option, "must be at least %d" % (1 if option == "parallel" else 0)))
        backend_name = backends.selected_backend(params)
        # The whole document is checked before anything is read: options, duplicates, depends_on
        # and cycles, all reported together (references to what the host lacks: when planning).
        declared = params.get("resources") or []
        resources, secrets = document.parse(declared, backend_name, _KINDS[backend_name], problems)
        module.no_log_values.update(s for s in secrets if s)
        graph = Graph(resources, backend_name, problems, document.declared_keys(declared))
        options = dict(state=params["state"], prune=params["prune"], adopt=params["adopt"],
                       parallel=params["parallel"], retries=params["retries"])
        if params.get("hypervisors") is not None:
            hypervisors, found = check_hypervisors(params["hypervisors"])
            problems.extend(found)
            if backend_name != backends.LIBVIRT:
                problems.append(("hypervisors", "lists libvirt hosts: it cannot be used with the OpenStack backend"))
            if params.get("uri"):
                problems.append(("uri", "with hypervisors, each hypervisor has its own uri: leave uri out"))
            run = run_multi_host(module, params, resources, graph, hypervisors, options, problems)
            summary = run.summary()
            result["changed"] = run.changed(applied=not module.check_mode)
            result["placement"] = run.placement_report()
        else:
            check_single_host(resources, problems)
            if problems:
                raise InvalidSpec(problems)
            with backends.open_backend(params, run_command=module.run_command) as backend:
                with stack_lock(params["name"], _target(backend), params["lock_timeout"]):
                    run = StackRun(backend, params["name"], resources, graph, options=options)
                    run.plan()
                    summary = run.summary()
                    if not module.check_mode and run.changed(applied=False):
                        run.apply()
                        result["changed"] = run.changed(applied=True)
                    else:
                        result["changed"] = run.changed(applied=False)
    except MissingLibrary as err:
        module.fail_json(msg=missing_required_lib(err.library, reason=err.reason), exception=err.import_error, **result)
    except ConvergeError as err:
        module.fail_json(msg="stack %s: %s" % (params.get("name"), err), **dict(result, **err.details))
    except Exception as err:  # pylint: disable=broad-exception-caught
        module.fail_json(msg="stack %s: unexpected error: %s" % (params.get("name"), err),
                         exception=traceback.format_exc(), **result)
    result.update(_report(run, summary))
    if module._diff:
        result["diff"] = [e.plan.diff() for e in run.entries if e.plan is not None and e.action != "none"]
    for note in run.warnings:
        module.warn(note)
    if result["failures"]:
        module.fail_json(msg="stack %s: %d resource(s) failed (%s)%s; the others were converged"
                         % (params["name"], len(result["failures"]), ", ".join(f["resource"] for f in result["failures"]),
                            "; not attempted: %s" % ", ".join(result["not_attempted"]) if result["not_attempted"] else ""),
                         **result)
    module.exit_json(**result)


def _report(run, summary):
    states = {}
    for entry in run.entries:
        if entry.declared:
            states[entry.key] = entry.state if entry.state is not None else (
                entry.plan.after if entry.plan is not None else None)
    return {
        "summary": summary,
        "plan": [e.to_dict() for e in run.entries],
        "resources": states,
        "failures": [{"resource": e.key, "msg": e.error} for e in run.entries if e.result == "failed"],
        "not_attempted": [e.key for e in run.entries if e.result == "not_attempted"],
    }
