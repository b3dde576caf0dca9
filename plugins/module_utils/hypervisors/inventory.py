# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of a hypervisor list: ``[{name, uri, migrate_uri, disks_uri}]``.

Pure: no libvirt, no Ansible inventory.  The inventory forms (a group name, host names) are turned
into this list on the controller first (``plugin_utils/hypervisors.py``)."""

from __future__ import annotations

import re

NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,63}$")
KEYS = ("name", "uri", "migrate_uri", "disks_uri")
OPTIONAL_KEYS = ("migrate_uri", "disks_uri")


def check_hypervisors(value, field="hypervisors"):
    """``(hypervisors, problems)``: the list normalized (every key present, ``None`` when unset, in
    the given order) and the problems found, each ``(field, message)`` as ``InvalidSpec`` takes them.

    Names must be unique and usable in results and plans (``[A-Za-z0-9_.-]``, up to 63
    characters); URIs must be unique too, or one host would be counted twice."""
    problems = []
    if isinstance(value, str):
        return [], [(field, "names %r, which is not a list of hypervisors: an inventory group or inventory host "
                            "names are resolved on the controller by the action plugin; here give a list of "
                            "{name, uri} dictionaries" % value)]
    if not isinstance(value, (list, tuple)):
        return [], [(field, "must be a list of {name, uri} dictionaries, got %s" % type(value).__name__)]
    if not value:
        return [], [(field, "lists no hypervisor")]
    result = []
    names = {}
    uris = {}
    for index, item in enumerate(value):
        where = "%s[%d]" % (field, index)
        if not isinstance(item, dict):
            problems.append((where, "must be a dictionary with name and uri, got %s %r"
                             % (type(item).__name__, item)))
            continue
        unknown = sorted(str(k) for k in item if k not in KEYS)
        if unknown:
            problems.append((where, "unknown keys %s (a hypervisor has %s)" % (", ".join(unknown), ", ".join(KEYS))))
        name = item.get("name")
        uri = item.get("uri")
        if not isinstance(name, str) or not NAME_RE.match(name):
            problems.append((where + ".name", "must be 1 to 63 letters, digits, '_', '.' or '-', got %r" % (name,)))
        elif name in names:
            problems.append((where + ".name", "%s is listed twice (also %s[%d])" % (name, field, names[name])))
        else:
            names[name] = index
        if not isinstance(uri, str) or not uri.strip():
            problems.append((where + ".uri", "is required: the hypervisor's libvirt URI, such as "
                                             "qemu+ssh://root@%s/system" % (name if isinstance(name, str) else "host")))
        elif uri in uris:
            problems.append((where + ".uri", "%s is also the URI of %s: one host would count twice"
                             % (uri, uris[uri])))
        else:
            uris[uri] = name
        entry = {"name": name, "uri": uri}
        for key in OPTIONAL_KEYS:
            extra = item.get(key)
            if extra is not None and (not isinstance(extra, str) or not extra.strip()):
                problems.append((where + "." + key, "must be a non-empty string (a URI such as tcp://host or "
                                                    "unix:///path), got %r" % (extra,)))
                extra = None
            entry[key] = extra
        result.append(entry)
    return result, problems
