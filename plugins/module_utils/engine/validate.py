# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reusable checks for user input.  Each takes the field path and a Problems collector, records
a readable problem instead of raising, and returns the normalized value (or None if invalid)."""

from __future__ import annotations

import ipaddress
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# \Z, not $: "$" also matches before a trailing newline, which must never reach libvirt/dnsmasq.
_MAC = re.compile(r"^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}\Z")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)\Z")
_IFNAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}\Z")


def resource_name(value, field, problems, max_length=200):
    """A name libvirt (and a file system) can hold: no '/', no control characters, not '.' or '..'."""
    if not isinstance(value, str) or not value:
        problems.add(field, "must be a non-empty string")
        return None
    if "/" in value:
        problems.add(field, "%r must not contain '/'" % value)
        return None
    if _CONTROL.search(value):
        problems.add(field, "%r must not contain control characters" % value)
        return None
    if value in (".", "..") or value != value.strip():
        problems.add(field, "%r is not a usable name (no '.', '..', or surrounding spaces)" % value)
        return None
    if len(value) > max_length:
        problems.add(field, "is %d characters long, at most %d are allowed" % (len(value), max_length))
        return None
    return value


def interface_name(value, field, problems):
    """A Linux network interface name (bridge): 1-15 of letters, digits, '_', '.', '-'."""
    if not _IFNAME.match(value or "") or value in (".", ".."):
        problems.add(field, "%r is not a valid interface name (1-15 characters of letters, digits, "
                            "'_', '.', '-')" % (value,))
        return None
    return value


def mac_address(value, field, problems):
    """A unicast MAC address, normalized to lower case with colons."""
    text = str(value).strip().lower()
    if not _MAC.match(text):
        problems.add(field, "%r is not a MAC address (expected six hex pairs like 52:54:00:12:34:56)"
                     % (value,))
        return None
    text = text.replace("-", ":")
    if int(text[:2], 16) & 1:
        problems.add(field, "%r is a multicast MAC address; a host needs a unicast one" % (value,))
        return None
    return text


def ip_address(value, field, problems, version=None):
    """An IP address (optionally of one family), normalized (IPv6 compressed)."""
    try:
        addr = ipaddress.ip_address(str(value).strip())
    except ValueError:
        problems.add(field, "%r is not an IP address" % (value,))
        return None
    if version and addr.version != version:
        problems.add(field, "%r is not an IPv%d address" % (value, version))
        return None
    return addr


def interface_address(value, field, problems, version):
    """An address with its prefix, e.g. 10.10.0.1/24: a usable host address inside its subnet."""
    text = str(value).strip()
    if "/" not in text:
        problems.add(field, "%r needs a prefix length, e.g. %s" % (
            value, "10.10.0.1/24" if version == 4 else "fd00:10::1/64"))
        return None
    try:
        iface = ipaddress.ip_interface(text)
    except ValueError:
        problems.add(field, "%r is not a valid address/prefix (CIDR)" % (value,))
        return None
    if iface.version != version:
        problems.add(field, "%r is not an IPv%d address" % (value, version))
        return None
    net = iface.network
    if version == 4 and net.prefixlen > 30:
        problems.add(field, "%r: a /%d leaves no room for guests (at most /30)" % (value, net.prefixlen))
        return None
    if version == 6 and net.prefixlen > 126:
        problems.add(field, "%r: a /%d leaves no room for guests (at most /126)" % (value, net.prefixlen))
        return None
    if iface.ip == net.network_address or (version == 4 and iface.ip == net.broadcast_address):
        problems.add(field, "%r is the subnet's %s address, not a host address" % (
            value, "network" if iface.ip == net.network_address else "broadcast"))
        return None
    return iface


def host_name(value, field, problems, allow_dots=True):
    """A DNS host name (labels of letters, digits, '-' and '_'), lower-cased."""
    text = str(value).strip().rstrip(".") if value is not None else ""
    labels = text.split(".") if allow_dots else [text]
    if not text or len(text) > 253 or not all(_LABEL.match(label) for label in labels):
        problems.add(field, "%r is not a valid %s" % (value, "DNS name" if allow_dots else "host name"))
        return None
    return text.lower()


def int_range(value, field, problems, low, high, unit=""):
    if value is None:
        return None
    if not low <= value <= high:
        problems.add(field, "%s%s is out of range (%d-%d%s)" % (value, unit, low, high, unit))
        return None
    return value


# Sizes: K/M/G/T/P and KiB..PiB are powers of 1024 (as qemu-img reads "10G"); KB..PB are powers
# of 1000; B or no unit is bytes.
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*\Z")
_SIZE_UNITS = {"": 1, "b": 1}
for _power, _letter in enumerate("kmgtp", start=1):
    _SIZE_UNITS[_letter] = 1024 ** _power
    _SIZE_UNITS[_letter + "ib"] = 1024 ** _power
    _SIZE_UNITS[_letter + "b"] = 1000 ** _power


def parse_size(value):
    """Bytes from ``10G``, ``512MiB``, ``1.5 GB``, ``1048576`` or an int; raises ValueError."""
    if isinstance(value, bool):
        raise ValueError("%r is not a size" % (value,))
    if isinstance(value, int):
        number, unit = value, ""
    else:
        match = _SIZE.match(str(value))
        if not match:
            raise ValueError("%r is not a size (use bytes, or a number with a unit such as 10G, "
                             "512MiB or 20GB)" % (value,))
        number, unit = match.group(1), match.group(2).lower()
        if unit not in _SIZE_UNITS:
            raise ValueError("%r has an unknown unit %r (use K, M, G, T, P or KiB..PiB for powers of "
                             "1024, KB..PB for powers of 1000)" % (value, match.group(2)))
    if isinstance(number, str) and "." in number:
        whole, frac = number.split(".")
        scale = 10 ** len(frac)
        total = (int(whole) * scale + int(frac)) * _SIZE_UNITS[unit]
        if total % scale:
            raise ValueError("%r is not a whole number of bytes" % (value,))
        result = total // scale
    else:
        result = int(number) * _SIZE_UNITS[unit]
    if result < 0:
        raise ValueError("%r is negative" % (value,))
    return result


def size(value, field, problems, minimum=1):
    """A size in bytes (see parse_size), at least ``minimum``."""
    if value is None:
        return None
    try:
        result = parse_size(value)
    except ValueError as err:
        problems.add(field, str(err))
        return None
    if result < minimum:
        problems.add(field, "%s is smaller than the minimum of %s" % (value, human_size(minimum)))
        return None
    return result


def human_size(value):
    """``10737418240`` -> ``10 GiB``; exact when it can be, else one decimal."""
    if value is None:
        return None
    for unit, factor in (("PiB", 1024 ** 5), ("TiB", 1024 ** 4), ("GiB", 1024 ** 3),
                         ("MiB", 1024 ** 2), ("KiB", 1024)):
        if abs(value) >= factor:
            if value % factor == 0:
                return "%d %s" % (value // factor, unit)
            return "%.1f %s" % (value / float(factor), unit)
    return "%d B" % value


def volume_name(value, field, problems):
    """A volume or image name inside a pool: a plain file name that cannot leave the pool's
    directory.  Names starting with '.' are reserved for the collection's partial uploads."""
    name = resource_name(value, field, problems, max_length=255)
    if name is None:
        return None
    if len(name.encode("utf-8")) > 255:
        problems.add(field, "%r is %d bytes long in UTF-8; a file name holds at most 255"
                     % (name, len(name.encode("utf-8"))))
        return None
    if name.startswith("."):
        problems.add(field, "%r must not start with '.' (hidden names are reserved for partial "
                            "transfers)" % name)
        return None
    if "\\" in name:
        problems.add(field, "%r must not contain '\\'" % name)
        return None
    return name


def absolute_path(value, field, problems):
    """An absolute, normalized path without '..' components."""
    if not isinstance(value, str) or not value.startswith("/"):
        problems.add(field, "%r must be an absolute path" % (value,))
        return None
    if _CONTROL.search(value):
        problems.add(field, "%r must not contain control characters" % (value,))
        return None
    parts = value.split("/")
    if ".." in parts:
        problems.add(field, "%r must not contain '..'" % (value,))
        return None
    normalized = "/" + "/".join(p for p in parts if p not in ("", "."))
    return normalized


def path_inside(directory, name):
    """Whether ``directory/name`` stays inside ``directory`` (a last defence after volume_name)."""
    import posixpath
    base = posixpath.normpath(directory)
    target = posixpath.normpath(posixpath.join(base, name))
    return posixpath.dirname(target) == base and posixpath.basename(target) == name
