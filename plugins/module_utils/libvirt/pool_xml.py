# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt storage pool XML <-> the normalized pool state.  Pure; built with ElementTree, so
names and paths are escaped by construction.

Rendering edits the existing definition in place: what this collection does not model (uuid,
capacity, auth, adapter, source options of other pool types) is kept.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ansible_collections.converge.virt.plugins.module_utils.libvirt.xmlutil import child, text_child

# The <source> children this collection manages, per pool type.
_SOURCE_TAGS = ("host", "dir", "format", "name", "device")
_UNITS = {None: 1, "bytes": 1, "B": 1, "b": 1, "KiB": 1024, "K": 1024, "k": 1024, "KB": 1000,
          "MiB": 1024 ** 2, "M": 1024 ** 2, "MB": 1000 ** 2, "GiB": 1024 ** 3, "G": 1024 ** 3,
          "GB": 1000 ** 3, "TiB": 1024 ** 4, "T": 1024 ** 4, "TB": 1000 ** 4,
          "PiB": 1024 ** 5, "P": 1024 ** 5, "PB": 1000 ** 5}


# ---- parse ---------------------------------------------------------------------------------
def parse(xml_text):
    """Normalized state of a pool XML (without active/autostart/persistent, not in the XML).

    ``owner``/``group`` are ints (None when libvirt says -1 or nothing), ``mode`` a 4-digit
    octal string, sizes bytes (None when libvirt gives none)."""
    root = ET.fromstring(xml_text)
    pool_type = root.get("type")
    perms = root.find("target/permissions")
    state = {
        "name": root.findtext("name"),
        "uuid": (root.findtext("uuid") or "").strip() or None,
        "type": pool_type,
        "path": _clean_path(root.findtext("target/path")),
        "owner": _id(perms, "owner"),
        "group": _id(perms, "group"),
        "mode": _mode(perms),
        "source": _parse_source(root.find("source"), pool_type),
        "capacity": _size(root.find("capacity")),
        "allocation": _size(root.find("allocation")),
        "available": _size(root.find("available")),
    }
    return state


def _clean_path(text):
    text = (text or "").strip()
    if not text:
        return None
    if len(text) > 1:
        text = text.rstrip("/")
    return text


def _id(perms, tag):
    if perms is None:
        return None
    text = (perms.findtext(tag) or "").strip()
    if not text:
        return None
    value = int(text)
    return None if value < 0 else value


def _mode(perms):
    if perms is None:
        return None
    text = (perms.findtext("mode") or "").strip()
    if not text:
        return None
    return "%04o" % int(text, 8)


def _size(elem):
    if elem is None or elem.text is None or not elem.text.strip():
        return None
    return int(elem.text.strip()) * _UNITS.get(elem.get("unit"), 1)


def _parse_source(elem, pool_type):
    """Only the source fields of the types this collection manages; None for dir pools."""
    if pool_type == "netfs":
        elem = elem if elem is not None else ET.Element("source")
        host = elem.find("host")
        directory = elem.find("dir")
        fmt = elem.find("format")
        return {
            "host": host.get("name") if host is not None else None,
            "dir": directory.get("path") if directory is not None else None,
            "format": (fmt.get("type") if fmt is not None else None) or "auto",
        }
    if pool_type == "logical":
        elem = elem if elem is not None else ET.Element("source")
        return {
            "name": (elem.findtext("name") or "").strip() or None,
            "devices": sorted(d.get("path") for d in elem.findall("device") if d.get("path")),
        }
    return None


# ---- render --------------------------------------------------------------------------------
def render(state, base_xml=None):
    """The pool XML for ``state``, edited into ``base_xml`` (the current definition) if given.

    ``None`` values leave the current XML alone; ``type`` is only written to a new definition
    (it is create-only)."""
    if base_xml:
        root = ET.fromstring(base_xml)
    else:
        root = ET.Element("pool", {"type": state.get("type") or "dir"})
    text_child(root, "name", state["name"])
    pool_type = root.get("type")
    if state.get("source") is not None and pool_type in ("netfs", "logical"):
        _render_source(root, pool_type, state["source"])
    target = child(root, "target")
    if state.get("path"):
        text_child(target, "path", state["path"])
    if any(state.get(k) is not None for k in ("mode", "owner", "group")):
        perms = child(target, "permissions")
        for tag in ("mode", "owner", "group"):
            value = state.get(tag)
            if value is not None:
                text_child(perms, tag, value if tag == "mode" else str(value))
    return ET.tostring(root, encoding="unicode")


def _render_source(root, pool_type, source):
    elem = root.find("source")
    if elem is None:
        # libvirt expects <source> before <target>; keep that order in new definitions.
        elem = ET.Element("source")
        target = root.find("target")
        root.insert(list(root).index(target) if target is not None else len(root), elem)
    if pool_type == "netfs":
        if source.get("host") is not None:
            _replace(elem, "host", [{"name": source["host"]}])
        if source.get("dir") is not None:
            _replace(elem, "dir", [{"path": source["dir"]}])
        if source.get("format") is not None:
            _replace(elem, "format", [{"type": source["format"]}])
    else:
        if source.get("name") is not None:
            _replace(elem, "name", [], text=source["name"])
        if source.get("devices") is not None:
            _replace(elem, "device", [{"path": path} for path in source["devices"]])


def _replace(parent, tag, attr_list, text=None):
    """Replace every ``tag`` child of ``parent`` by one element per attrs dict (or one text element)."""
    old = parent.findall(tag)
    position = list(parent).index(old[0]) if old else len(parent)
    for elem in old:
        parent.remove(elem)
    new = [ET.Element(tag, attrs) for attrs in attr_list] if text is None else [ET.Element(tag)]
    if text is not None:
        new[0].text = text
    for offset, elem in enumerate(new):
        parent.insert(position + offset, elem)
