# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    # The hypervisor list (instance, stack).
    DOCUMENTATION = r"""
options:
  hypervisors:
    description:
      - B(libvirt.) Several libvirt hosts seen as one pool of capacity. With it, the instance is
        looked up on every one of them, placed by C(host) or C(placement), and moved (migrated)
        when its host changes. Without it, the task manages one host (O(uri)).
      - An inventory group name (a string), a list of inventory host names, or a list of
        dictionaries. An inventory host's URI is its C(converge_virt_uri) variable, else
        V(qemu+ssh://<ansible_user or root>@<ansible_host or the host's name>/system); its
        C(converge_virt_migrate_uri) and C(converge_virt_disks_uri) variables fill the other keys.
        The names are resolved on the controller.
      - Cannot be used with O(uri), nor with the OpenStack backend (which has its own scheduler).
      - Reads are done on every hypervisor side by side; one that cannot be reached fails the task
        before anything changes (an instance could live there).
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - The hypervisor's name in plans, results and an instance's C(host) (the inventory host name).
        type: str
        required: true
      uri:
        description:
          - Its libvirt connection URI.
        type: str
        required: true
      migrate_uri:
        description:
          - Where QEMU sends a live migration's data when an instance moves B(to) this host
            (libvirt's C(migrate_uri)), for example V(tcp://hv2.lan) for a dedicated network.
            Default, libvirt's choice (the host's name).
        type: str
      disks_uri:
        description:
          - Where the disks of a live migration to this host are copied (libvirt's C(disks_uri),
            an NBD URI). Default, libvirt's choice.
        type: str
"""

    # host, placement and migration (the instance module and a stack's instances).
    PLACEMENT = r"""
options:
  host:
    description:
      - B(libvirt), with O(hypervisors). The hypervisor the instance lives on, fixed.
      - When the instance exists on another of the O(hypervisors), changing O(host) B(migrates) it
        (see O(migration)); it is never deleted and created again. Updatable (migration).
      - Mutually exclusive with O(placement). With neither, the scheduler places the instance
        among all O(hypervisors).
    type: str
  placement:
    description:
      - B(libvirt), with O(hypervisors). Let the scheduler choose the host, as Nova's filter
        scheduler does, filters then weighers. The hosts that can take the instance (listed in
        O(placement.hosts), reachable, the domain type usable, enough memory under
        O(placement.ram_allocation_ratio), enough vCPUs under
        O(placement.cpu_allocation_ratio), the pools of its new disks active with room,
        the affinity rules) are weighed by free memory, free vCPUs and instance count, in the
        direction of O(placement.strategy). Ties go to the host whose name sorts first, so the
        decision is the same for the same inputs.
      - The memory and vCPUs committed on a host count every defined instance, running or not.
        Instances placed earlier in the same stack count too.
      - B(Sticky.) An instance that exists on one of O(placement.hosts) stays there, whatever the
        weights say now; re-planning never moves an instance. Removing its host from
        O(placement.hosts) moves it (a migration, see O(migration)).
      - The result's RV(placement) and the plan explain the decision, every candidate host with its
        verdict, its figures, and each reason it was rejected. When no host qualifies, the task
        fails before any change, with one line per host saying why.
    type: dict
    suboptions:
      hosts:
        description:
          - The candidate hypervisors (names from O(hypervisors)). Default, all of them.
        type: list
        elements: str
      strategy:
        description:
          - V(spread) prefers the host with the most free memory (and vCPUs, and the fewest
            instances); V(pack) the one with the least that still fits. Default V(spread).
        type: str
        choices: [spread, pack]
      affinity:
        description:
          - A group name. The instances of this group go on one host (the host of the members
            that exist or were placed already). Recorded in the domain's metadata. Updatable live
            (the record).
        type: str
      anti_affinity:
        description:
          - A group name. The instances of this group go on different hosts; with no host left, the
            placement is refused, naming the members on each host. Recorded in the domain's
            metadata. Updatable live (the record).
        type: str
      soft:
        description:
          - Turn O(placement.affinity) and O(placement.anti_affinity) into preferences (weighers)
            instead of requirements (filters). Default V(false).
        type: bool
      cpu_allocation_ratio:
        description:
          - vCPU over-commit allowed on a host, as Nova's C(cpu_allocation_ratio); the committed
            vCPUs plus the instance's must stay within the host's CPUs times this. Default V(4.0).
        type: float
      ram_allocation_ratio:
        description:
          - Memory over-commit allowed on a host, as Nova's C(ram_allocation_ratio). Default V(1.0).
        type: float
      reserved_memory:
        description:
          - Memory kept for the host itself on every hypervisor, a size such as V(1G). Default V(0).
        type: str
      domain_type:
        description:
          - Require a domain type that the host can really run (probed, not just advertised), V(kvm),
            V(qemu) or V(xen). The instance's own O(virt_type), when not V(auto), is required too.
        type: str
        choices: [kvm, qemu, xen]
      pool_free:
        description:
          - Require room in a storage pool on the host, beyond the instance's new disks.
        type: dict
        suboptions:
          pool:
            description: The pool's name.
            type: str
            required: true
          size:
            description: The space that must stay available, such as V(20G).
            type: str
            required: true
  migration:
    description:
      - B(libvirt), with O(hypervisors). How an existing instance moves when its host changes.
        A migration keeps the domain (UUID, definition, metadata, the stack's ownership mark); it
        is never a delete-and-create. The plan says which kind it will be.
      - A running or paused guest moves B(live) (it keeps running); its disks are copied to the
        destination when the storage is not shared (a directory pool on each host), into the pool
        of the same name there, and the copies it leaves behind are deleted once it has moved.
        A shut-off guest moves B(offline); its volumes are copied through libvirt, its definition
        moves with them.
    type: dict
    suboptions:
      mode:
        description:
          - V(auto) live when the guest runs, offline when it is shut off. V(live) or V(offline) make
            the plan fail when that mode is not possible for the guest as it is.
        type: str
        choices: [auto, live, offline]
        default: auto
      timeout:
        description:
          - Seconds a migration may take before it is aborted (the guest stays on its source host).
        type: int
        default: 600
"""
