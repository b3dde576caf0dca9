# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small ElementTree helpers shared by the XML mappings: they edit an existing definition in
place, so that what libvirt keeps there (UUIDs, addresses, unknown elements) survives."""

from __future__ import annotations

import xml.etree.ElementTree as ET


def child(parent, tag):
    """The first ``tag`` child of ``parent``, created at the end when there is none."""
    elem = parent.find(tag)
    if elem is None:
        elem = ET.SubElement(parent, tag)
    return elem


def text_child(parent, tag, text):
    """Set the text of the ``tag`` child (created when missing)."""
    child(parent, tag).text = text
