#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: hypervisor_info
short_description: Read what libvirt hosts have and what is committed on them, many hosts in one task
version_added: 0.1.0
description:
  - For each libvirt host, its versions, the domain types that really work there (probed), its
    CPUs and NUMA cells, its memory, the vCPUs and memory committed to the instances defined on it,
    its instances by state, the affinity groups of its instances, and its storage pools.
  - These are the figures the placement of M(converge.virt.instance) and M(converge.virt.stack)
    decides by (O(converge.virt.instance#module:placement)).
  - All hosts are read in one task, side by side (one thread and one connection per host), from
    the machine the task runs on.
  - B(libvirt) only.
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection.INFO_ATTRIBUTES
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
    details: The action plugin turns inventory names in O(hypervisors) into URIs, on the controller.
  async:
    description: Supports being used with the C(async) keyword.
    support: none
options:
  hypervisors:
    description:
      - The hosts to read. An inventory group name (a string), a list of inventory host names, or
        a list of dictionaries with O(hypervisors[].name) and O(hypervisors[].uri), the same
        hypervisor list as O(converge.virt.instance#module:hypervisors) takes.
      - An inventory host's URI is its C(converge_virt_uri) variable, else
        V(qemu+ssh://<ansible_user or root>@<ansible_host or the host's name>/system); its
        C(converge_virt_migrate_uri) and C(converge_virt_disks_uri) variables fill the other keys.
        Names are resolved on the controller, variables templated in each host's context.
      - Mutually exclusive with O(uri). With neither, the one host of E(LIBVIRT_DEFAULT_URI), else
        V(qemu:///system), is read.
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - The host's name in the result (the inventory host name).
        type: str
        required: true
      uri:
        description:
          - Its libvirt connection URI.
        type: str
        required: true
      migrate_uri:
        description:
          - Accepted so that one hypervisor list serves every module; not used here.
        type: str
      disks_uri:
        description:
          - Accepted so that one hypervisor list serves every module; not used here.
        type: str
  uri:
    description:
      - The libvirt URI of a single host to read, for example V(qemu:///system) or
        V(qemu+ssh://root@hv1.example.com/system). Its RV(hypervisors[].name) is the host name
        libvirt reports.
      - When neither O(uri) nor O(hypervisors) is set, the E(LIBVIRT_DEFAULT_URI) environment
        variable, else V(qemu:///system).
    type: str
  probe:
    description:
      - Find out which domain types really work (RV(hypervisors[].domain_types.usable)) rather than
        trusting what libvirt advertises. On a QEMU host that advertises C(kvm), a short test guest
        is started under KVM, as O(converge.virt.instance#module:virt_type=auto) does (the
        answer is cached on the target until its next boot). This needs a read-write
        connection and a Linux kernel to boot (C(/boot/vmlinuz-*) on a local host, else the
        E(CONVERGE_VIRT_PROBE_KERNEL) environment variable); without one nothing is verified, the
        advertised types are reported as usable, RV(hypervisors[].domain_types.verified) is false, and
        a warning says so.
      - Xen hosts are not probed; their advertised types are reported as usable.
      - V(false) opens the connections read-only and reports the advertised types as usable, unverified.
    type: bool
    default: true
  fail_on_unreachable:
    description:
      - Fail the task when a host cannot be read. Every host is still read and reported; a host
        that could not be read is RV(hypervisors[].error) in RV(hypervisors), in the order given.
      - V(false) reports such hosts the same way without failing, for inventories where some hosts
        may be down.
    type: bool
    default: true
notes:
  - The connections are opened from the machine the task runs on (usually C(localhost) with
    C(qemu+ssh://) URIs), not on each hypervisor.
  - Free memory counts the kernel's free memory plus its buffers and page cache (which it gives
    back on demand), from C(virNodeGetMemoryStats).
  - Pool figures are libvirt's as of the pool's last refresh; this module does not refresh pools.
seealso:
  - module: converge.virt.instance
  - module: converge.virt.stack
"""

EXAMPLES = r"""
- name: Read every host of the inventory group hypervisors
  converge.virt.hypervisor_info:
    hypervisors: hypervisors
  register: hv

- name: Free memory per host
  ansible.builtin.debug:
    msg: "{{ hv.hypervisors | items2dict(key_name='name', value_name='memory') }}"

- name: Two hosts given by URI, without the KVM probe, tolerating a host that is down
  converge.virt.hypervisor_info:
    hypervisors:
      - name: hv1
        uri: qemu+ssh://root@hv1.example.com/system
      - name: hv2
        uri: qemu+ssh://root@hv2.example.com/system
    probe: false
    fail_on_unreachable: false
  register: hv

- name: The hosts that answered
  ansible.builtin.debug:
    msg: "{{ hv.hypervisors | rejectattr('error', 'defined') | map(attribute='name') | list }}"

- name: Just the local host
  converge.virt.hypervisor_info:
    uri: qemu:///system
  register: local
"""

RETURN = r"""
hypervisors:
  description:
    - One entry per host, in the order given. A host that could not be read has only
      RV(hypervisors[].name), RV(hypervisors[].uri) and RV(hypervisors[].error).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The host's name (from O(hypervisors), or the host name libvirt reports for O(uri)).
      type: str
      sample: hv1
    uri:
      description: Its libvirt URI.
      type: str
      sample: qemu+ssh://root@hv1.example.com/system
    error:
      description: Why the host could not be read. Only for such hosts.
      type: str
      returned: when the host could not be read
    hostname:
      description: The host name libvirt reports.
      type: str
    host_uuid:
      description: The host's UUID (libvirt's C(host_uuid)); unique per host, migration refuses two equal ones.
      type: str
    libvirt_version:
      description: Version of the libvirt daemon.
      type: str
      sample: 9.0.0
    hypervisor:
      description: The hypervisor driver, such as V(QEMU) or V(Xen).
      type: str
      sample: QEMU
    hypervisor_version:
      description: Its version (the QEMU or Xen version).
      type: str
      sample: 7.2.0
    domain_types:
      description: Domain types of the host's own architecture.
      type: dict
      contains:
        advertised:
          description: As libvirt's capabilities list them, sorted.
          type: list
          elements: str
          sample: [kvm, qemu]
        usable:
          description:
            - The ones a guest really runs with, probed (see O(probe)); the advertised ones when not probed.
          type: list
          elements: str
          sample: [qemu]
        verified:
          description:
            - Whether RV(hypervisors[].domain_types.usable) was verified by the probe (a host that
              advertises no C(kvm) needs none); false when it was not probed, or could not be.
          type: bool
          sample: true
    cpu:
      description: The host's CPUs.
      type: dict
      contains:
        arch:
          description: Architecture.
          type: str
          sample: x86_64
        model:
          description: The CPU model libvirt names the host CPU by.
          type: str
        count:
          description: Logical CPUs online.
          type: int
        sockets:
          description: Sockets (per NUMA cell, as libvirt counts them).
          type: int
        cores:
          description: Cores per socket.
          type: int
        threads:
          description: Threads per core.
          type: int
        mhz:
          description: Clock, in MHz.
          type: int
    numa:
      description: The NUMA cells, sorted by number; empty when libvirt reports none.
      type: list
      elements: dict
      contains:
        cell:
          description: Cell number.
          type: int
        memory_mib:
          description: Its memory, MiB.
          type: int
        free_mib:
          description: Its free memory, MiB.
          type: int
        cpus:
          description: The CPUs in it.
          type: list
          elements: int
    memory:
      description: The host's memory.
      type: dict
      contains:
        total_mib:
          description: Total, MiB.
          type: int
        free_mib:
          description: Free plus buffers and page cache, MiB.
          type: int
    committed:
      description: What the instances defined on the host are given.
      type: dict
      contains:
        vcpus:
          description: vCPUs of every instance, running or not.
          type: int
        memory_mib:
          description: Memory (each instance's maximum) of every instance, running or not, MiB.
          type: int
        running_vcpus:
          description: vCPUs of the running (and paused) instances.
          type: int
        running_memory_mib:
          description: Memory of the running (and paused) instances, MiB.
          type: int
    instances:
      description: Instances (libvirt domains, persistent or transient) by state.
      type: dict
      contains:
        total:
          description: All of them.
          type: int
        running:
          description: Running.
          type: int
        paused:
          description: Paused or suspended.
          type: int
        shut_off:
          description: Shut off.
          type: int
        other:
          description: Any other state (shutting down, crashed, ...).
          type: int
    placement_groups:
      description:
        - The affinity groups recorded on its instances by O(converge.virt.instance#module:placement),
          each group with the sorted names of its instances on this host.
      type: dict
      sample: {affinity: {db: [db1, db2]}, anti_affinity: {web: [web1]}}
      contains:
        affinity:
          description: Affinity group name to instance names.
          type: dict
        anti_affinity:
          description: Anti-affinity group name to instance names.
          type: dict
    pools:
      description: Storage pools, sorted by name.
      type: list
      elements: dict
      contains:
        name:
          description: Name.
          type: str
        type:
          description: Pool type (V(dir), V(logical), ...).
          type: str
        active:
          description: Running.
          type: bool
        capacity_bytes:
          description: Size, bytes (V(null) while stopped).
          type: int
        allocation_bytes:
          description: Used, bytes (V(null) while stopped).
          type: int
        available_bytes:
          description: Free, bytes (V(null) while stopped).
          type: int
        path:
          description: Target path.
          type: str
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.converge.virt.plugins.module_utils.backends import libvirt_uri
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import ConvergeError, MissingLibrary
from ansible_collections.converge.virt.plugins.module_utils.hypervisors.facts import gather_all
from ansible_collections.converge.virt.plugins.module_utils.hypervisors.inventory import check_hypervisors
from ansible_collections.converge.virt.plugins.module_utils.hypervisors.options import HYPERVISORS_ARG
from ansible_collections.converge.virt.plugins.module_utils.libvirt.connection import require_libvirt

ARGUMENT_SPEC = dict(
    hypervisors=HYPERVISORS_ARG,
    uri=dict(type="str"),
    probe=dict(type="bool", default=True),
    fail_on_unreachable=dict(type="bool", default=True),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           mutually_exclusive=[("hypervisors", "uri")])
    params = module.params
    try:
        require_libvirt()
        if params["hypervisors"] is not None:
            hypervisors, problems = check_hypervisors(params["hypervisors"])
            if problems:
                module.fail_json(msg="invalid hypervisors: " + "; ".join("%s: %s" % p for p in problems),
                                 problems=[{"field": f, "message": m} for f, m in problems])
        else:
            uri = libvirt_uri(params)
            hypervisors = [{"name": None, "uri": uri}]
        results, warnings = gather_all(hypervisors, probe=params["probe"], run_command=module.run_command)
    except MissingLibrary as err:
        module.fail_json(msg=missing_required_lib(err.library, reason=err.reason), exception=err.import_error)
    except ConvergeError as err:
        module.fail_json(msg=str(err), **err.details)
    except Exception as err:  # pylint: disable=broad-exception-caught
        module.fail_json(msg="hypervisor_info: unexpected error: %s" % err, exception=traceback.format_exc())
    if params["hypervisors"] is None:  # one host by URI: named as it names itself
        results[0]["name"] = results[0].get("hostname") or results[0]["uri"]
    for note in warnings:
        module.warn(note)
    failed = [r for r in results if "error" in r]
    if failed and params["fail_on_unreachable"]:
        module.fail_json(msg="cannot read %d of %d hypervisors (fail_on_unreachable=false reports them without "
                             "failing): %s" % (len(failed), len(results),
                                               "; ".join("%s: %s" % (r["name"], r["error"]) for r in failed)),
                         hypervisors=results)
    module.exit_json(changed=False, hypervisors=results)


if __name__ == "__main__":
    main()
