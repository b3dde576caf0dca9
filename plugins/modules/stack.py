#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: stack
short_description: Converge a whole environment declared as one document - one plan, applied as a graph
version_added: 0.1.0
description:
  - Takes a B(stack) - a named list of resources of every kind the collection manages (pools, images, volumes,
    networks, instances; on OpenStack also volume snapshots, security groups, floating IPs, key pairs, object
    containers and objects, projects and users) - and converges all of them in one module run, on one
    connection.
  - Each resource takes exactly the options of the module of its kind (for example a C(kind=network) resource
    takes the options of M(converge.virt.network)), without the connection options, which are the stack's and
    apply to every resource. Every attribute keeps the effect its module documents (live, restart,
    create-only).
  - B(Plan.) All resources are validated first - their options, references between them, C(depends_on),
    duplicates and dependency cycles - and every problem is reported together, naming the resource and the
    field, before anything is read from or changed on the backend. Then the current state is read (on
    OpenStack one listing per resource type, not one lookup per resource) and each resource is planned by
    its kind's planner exactly as its module plans it. A resource that refers to one this run creates first
    is planned again right before it is applied; its plan says so (RV(plan[].pending_on)).
  - Check mode is the plan. RV(summary) lists what is created, updated in place, replaced (with the
    create-only fields that force it), deleted, adopted and unchanged; RV(plan) has the field-level changes
    of every resource; with C(--diff) each changed resource shows its own before/after diff. O(plan_file)
    writes the plan as JSON on the controller, for a pipeline's artifacts.
  - B(Apply.) Creations and updates run in dependency order, up to O(parallel) at a time, each resource
    planned again against what exists at that moment; deletions run afterwards, users first. An error that
    says a resource is in use or busy is retried (O(retries)). A resource that fails does not stop the
    others - resources that depend on it are not attempted (RV(not_attempted)), everything else is
    converged, and the task fails listing RV(failures). Nothing in flight is abandoned, and the next run
    continues from what exists.
  - B(Ownership.) What the stack creates is marked as the stack's. On libvirt an instance carries the mark
    in its domain's C(<metadata>) element (C(<cvstack:owner stack="NAME"/>) in the namespace
    C(https://converge-virt.github.io/xmlns/stack/1)), so it goes with the domain. libvirt 9 keeps no
    metadata for networks, pools and volumes, so for those the mark is a ledger - one JSON file per stack
    and hypervisor on the host the task runs on (C(/var/lib/converge-virt/stacks/), or under
    C($CONVERGE_VIRT_STATE_DIR)) - recording each object's UUID or key too, so an object removed by hand and
    made again is not the stack's. A stack must therefore be run from one host for a given hypervisor.
    On OpenStack the mark is a tag (Neutron, Nova, Glance, Keystone projects) or a metadata key (Cinder,
    Swift); key pairs and users can carry no mark.
  - A declared resource that already exists without the stack's mark is refused unless O(adopt=true) (on the
    stack, or C(adopt) on the resource), which marks it as the stack's. A resource marked by another stack is
    always refused. O(prune=true) deletes the resources marked as this stack's that the document no longer
    declares - never anything without the mark. Kinds that can carry no mark are never pruned and need
    C(adopt) whenever they exist.
  - B(Concurrency.) Two runs of the same stack against the same backend take turns - the second waits up to
    O(lock_timeout) seconds, then fails naming the run holding the lock. The lock is a C(flock) on the host
    the task runs on (released by the kernel if a run dies), so runs from different hosts do not see it.
  - B(Many libvirt hosts.) With O(hypervisors), one stack spans several hypervisors. Networks, pools, images
    and volumes go on every hypervisor, or on those their C(hosts) key lists (C(all) or a list of names).
    Each instance goes on its C(host), or where the scheduler places it (C(placement), as in
    M(converge.virt.instance)), among the hosts that have everything it refers to; instances are placed in
    dependency order and each counts as load for the next. An instance that exists stays where it is
    (placement is sticky); one whose C(host) changes, or whose host leaves C(placement.hosts), is migrated
    (C(migration)), never re-created. Each hypervisor is then planned and applied with its own connection,
    lock and ownership marks; every host's creations and updates run before any host's deletions. Keys in
    the result carry the host, C(network/lab@hv1), and RV(placement) explains each instance's host.
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.ATTRIBUTES
  - converge.virt.hypervisors
options:
  name:
    description:
      - The stack's name - 1 to 40 letters, digits, V(_), V(.) or V(-), not V(.) or V(..). It is part of every
        ownership mark, so renaming a stack makes it a different stack.
      - May also be given in the O(src) document; when both are given they must be the same.
    type: str
  resources:
    description:
      - The resources, each a dictionary with C(kind), the options of that kind's module (C(name) among them)
        and optionally C(depends_on) (a list of resource keys this one must wait for, beyond the references
        that are found in its options) and C(adopt) (take over this resource if it exists without the mark).
      - A resource's key is C(kind/name); libvirt volumes and images are C(volume/<pool>/<name>) and
        C(image/<pool>/<name>), Swift objects C(object/<container>/<name>). A floating IP is named by its
        C(address), else by its C(server).
      - References found in the options make the implicit dependencies, for example an instance's
        C(nics[].network), C(disks[].pool), C(disks[].volume), C(disks[].image); a volume's C(pool) and
        C(image); on OpenStack an instance's C(image), C(key_name) and C(security_groups), a floating IP's
        C(server), an object's C(container), a user's C(default_project). A reference to something the stack
        does not declare must exist already.
      - An image's C(src) (a file on the controller) cannot be used in a stack - use C(path) or C(url).
      - Secrets (cloud-init user-data, passwords) are masked in every result, as in the modules.
      - With O(hypervisors), a resource other than an instance may have C(hosts) (V(all), the default, or a
        list of hypervisor names), and an instance C(host), C(placement) and C(migration) (see
        M(converge.virt.instance)); without O(hypervisors) these keys are refused.
      - Added to the resources of O(src), if both are given.
    type: list
    elements: dict
  src:
    description:
      - A YAML file on the controller holding the stack - a dictionary with C(name) and C(resources) - read
        by the action plugin. Relative paths are looked up like other files of the play (C(files/)).
      - The file is not a template; to render one, pass O(resources) with
        C("{{ lookup('template', 'stack.yml.j2') | from_yaml }}").
    type: path
  state:
    description:
      - V(present) converges the declared resources. V(absent) deletes every resource marked as the stack's
        (declared or not), users first, and nothing else.
    type: str
    choices: [present, absent]
    default: present
  prune:
    description:
      - Delete the resources marked as this stack's that are no longer declared.
    type: bool
    default: false
  adopt:
    description:
      - Take over declared resources that exist without any stack's mark (they are marked as this stack's and
        then converged like the others). Without it such a resource is an error, before any change.
    type: bool
    default: false
  parallel:
    description:
      - How many resources are applied at the same time (their dependencies always first).
    type: int
    default: 4
  retries:
    description:
      - How many times a resource whose apply failed because something was in use or busy is tried again
        (after 2, 4, 8... seconds).
    type: int
    default: 3
  lock_timeout:
    description:
      - Seconds to wait for another run of the same stack to finish before failing. V(0) fails at once.
    type: int
    default: 300
  plan_file:
    description:
      - Write the plan (summary and per-resource plans, the same as RV(summary) and RV(plan)) as JSON to this
        path on the controller; written in check mode too, which is how a pipeline keeps the plan of a pull
        request.
    type: path
notes:
  - Runs on the host the task targets, like the other modules; O(src) and O(plan_file) are on the controller.
  - One connection serves the whole stack - one libvirt connection, or one OpenStack token - which is where
    most of the speed of a stack against a loop of tasks comes from.
seealso:
  - module: converge.virt.network
  - module: converge.virt.instance
"""

EXAMPLES = r"""
- name: One stack over the inventory group's hypervisors, instances placed by the scheduler
  converge.virt.stack:
    name: web
    hypervisors: hypervisors        # an inventory group; or host names, or {name, uri} dictionaries
    resources:
      - {kind: network, name: web-net, forward: isolated}    # on every hypervisor
      - {kind: pool, name: web, path: /var/lib/libvirt/web, hosts: [hv1, hv2]}
      - kind: instance
        name: web1
        memory: 1G
        pool: web                   # so only hv1 and hv2 are candidates
        disks: [{size: 10G}]
        nics: [{network: web-net}]
        placement: {strategy: spread, anti_affinity: web}
      - {kind: instance, name: db, memory: 4G, host: hv3, nics: [{network: web-net}]}
  register: web                     # web.placement.web1.explanation: why each host was or was not chosen

- name: Converge the lab
  converge.virt.stack:
    name: lab
    uri: qemu:///system
    prune: true
    resources:
      - kind: pool
        name: lab
        path: /var/lib/libvirt/images/lab
      - kind: network
        name: lab-net
        forward: isolated
        ipv4:
          address: 10.80.0.1/24
          dhcp:
            range: {start: 10.80.0.100, end: 10.80.0.200}
      - kind: volume
        name: web-data
        pool: lab
        size: 1G
      - kind: instance
        name: web
        state: stopped
        vcpus: 1
        memory: 256M
        virt_type: qemu
        disks:
          - volume: web-data
            pool: lab
        nics:
          - network: lab-net

- name: The plan of a stack file, as JSON for the pipeline (run with --check --diff)
  converge.virt.stack:
    src: stacks/lab.yml
    plan_file: "{{ playbook_dir }}/plan.json"

- name: Remove everything the stack made
  converge.virt.stack:
    name: lab
    state: absent
"""

RETURN = r"""
stack:
  description: The name of the stack.
  returned: always
  type: str
summary:
  description: What the plan does, by resource key.
  returned: always
  type: dict
  contains:
    create:
      description: Resources created.
      type: list
      elements: str
    update_in_place:
      description: Resources updated in place - live or with a restart, see RV(plan).
      type: list
      elements: str
    replace:
      description: Resources deleted and created again, each with the create-only fields that force it.
      type: list
      elements: dict
    delete:
      description: Resources deleted - declared absent, pruned, or the whole stack.
      type: list
      elements: str
    adopt:
      description: Existing resources marked as the stack's.
      type: list
      elements: str
    unchanged:
      description: Resources already as declared.
      type: list
      elements: str
  sample:
    create: [network/lab-net]
    update_in_place: [instance/web]
    replace: []
    delete: []
    adopt: []
    unchanged: [pool/lab]
placement:
  description:
    - With O(hypervisors), per instance name, where it goes and why - C(host), C(current_host), C(how)
      (V(pinned), V(sticky), V(scheduled)), C(notes), and when scheduled the scheduler's C(decision) (every
      candidate host's verdict, reasons, weight and figures) and its C(explanation), one line per host.
  returned: when O(hypervisors) is set
  type: dict
  sample:
    web1:
      host: hv2
      current_host: null
      how: scheduled
      notes: ["scheduled on hv2 (spread)"]
      explanation:
        - "hv1: eligible, weight 0.0 (RAM 1536 of 2048 MiB free after placement, vCPU 7 of 8 free, 0 instances)"
        - "hv2: chosen, weight 1.25 (RAM 3584 of 4096 MiB free after placement, vCPU 15 of 16 free, 0 instances)"
plan:
  description:
    - One entry per resource, in the order they are applied - the plan of its module (its C(changes), each
      with its effect) plus the stack's own keys.
  returned: always
  type: list
  elements: dict
  contains:
    resource:
      description: The resource key.
      type: str
    action:
      description: V(create), V(update), V(replace), V(delete), V(adopt) or V(none).
      type: str
    depends_on:
      description: Keys of the declared resources it waits for.
      type: list
      elements: str
    reason:
      description: For a replace, the create-only fields that force it.
      type: str
    pending_on:
      description: Dependencies this run creates first; the resource is planned again after them.
      type: list
      elements: str
    result:
      description: After applying - V(done), V(failed) or V(not_attempted).
      type: str
    error:
      description: Why it failed or was not attempted.
      type: str
    elapsed:
      description: Seconds spent applying it.
      type: float
resources:
  description: The state of every declared resource after the run (predicted in check mode), by key; secrets masked.
  returned: always
  type: dict
failures:
  description: Resources whose apply failed, each with its error (C(resource), C(msg)).
  returned: always
  type: list
  elements: dict
not_attempted:
  description: Resources not applied because something they depend on failed.
  returned: always
  type: list
  elements: str
plan_file:
  description: Where the plan was written on the controller.
  returned: when O(plan_file) is set
  type: str
"""

from ansible_collections.converge.virt.plugins.module_utils.stack.module import run_stack_module


def main():
    run_stack_module()


if __name__ == "__main__":
    main()
