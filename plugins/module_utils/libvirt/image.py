# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt images.  (Being written.)"""

from __future__ import annotations

from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Driver


class ImageDriver(Driver):
    def __init__(self, conn, run_command=None):
        self.conn = conn
        self.run_command = run_command
