# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  uri:
    description:
      - The libvirt connection URI of the hypervisor to manage, for example V(qemu:///system),
        V(qemu+ssh://root@host/system) or V(xen:///system). Any URI libvirt accepts is passed through.
      - The connection is opened once per task, on the host the task runs on.
      - When not set, the E(LIBVIRT_DEFAULT_URI) environment variable is used, and without it
        V(qemu:///system).
    type: str
requirements:
  - libvirt-python (C(pip install libvirt-python) or the C(python3-libvirt) package) on the host the
    task runs on, and a libvirt daemon reachable through O(uri).
"""

    ATTRIBUTES = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Check mode returns the very plan a real run would carry out, and the predicted state.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The diff is field-level, built from normalized states, never raw XML.
"""

    INFO_ATTRIBUTES = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: This module only reads.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: N/A
    details: This module only reads.
"""
