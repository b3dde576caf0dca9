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
