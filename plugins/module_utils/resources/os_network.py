# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PLACEHOLDER: being written (issue 6)."""

from __future__ import annotations

from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Driver, Planner


class OsNetworkPlanner(Planner):
    """Placeholder."""
