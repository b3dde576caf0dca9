# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the reusable input checks: each records a problem naming its field, or returns
the normalized value."""

from __future__ import annotations

import ipaddress

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine import validate
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Problems


def _check(func, value, *args, **kwargs):
    problems = Problems()
    result = func(value, "the.field", problems, *args, **kwargs)
    return result, problems.items


def _assert_ok(func, value, expected, *args, **kwargs):
    result, items = _check(func, value, *args, **kwargs)
    assert items == []
    assert result == expected


def _assert_problem(func, value, words, *args, **kwargs):
    result, items = _check(func, value, *args, **kwargs)
    assert result is None
    assert len(items) == 1, items
    field, message = items[0]
    assert field == "the.field"
    for word in words:
        assert word in message, (word, message)


# ---- resource_name -------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["default", "net-1", "a b", "a&b<c>\"'", "x" * 200, "ünïcode", ".hidden", "a..b"])
def test_resource_name_ok(value):
    _assert_ok(validate.resource_name, value, value)


@pytest.mark.parametrize("value, words", [
    pytest.param("a/b", ["'/'"], id="slash"),
    pytest.param("/", ["'/'"], id="only-slash"),
    pytest.param("a\x01b", ["control"], id="control"),
    pytest.param("a\nb", ["control"], id="newline"),
    pytest.param("tab\t", ["control"], id="tab"),
    pytest.param("del\x7f", ["control"], id="del"),
    pytest.param(".", ["usable"], id="dot"),
    pytest.param("..", ["usable"], id="dotdot"),
    pytest.param(" lead", ["usable"], id="leading-space"),
    pytest.param("trail ", ["usable"], id="trailing-space"),
    pytest.param("", ["non-empty"], id="empty"),
    pytest.param(None, ["non-empty"], id="none"),
    pytest.param(42, ["non-empty string"], id="not-a-string"),
    pytest.param("x" * 201, ["201", "200"], id="too-long"),
])
def test_resource_name_problems(value, words):
    _assert_problem(validate.resource_name, value, words)


def test_resource_name_max_length_is_configurable():
    _assert_problem(validate.resource_name, "abcd", ["at most 3"], max_length=3)


# ---- interface_name ------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["virbr0", "br-ext", "br_0", "vlan.10", "a", "x" * 15])
def test_interface_name_ok(value):
    _assert_ok(validate.interface_name, value, value)


@pytest.mark.parametrize("value", ["", None, "x" * 16, "br 0", "br/0", "br:0", "brü", ".", ".."])
def test_interface_name_problems(value):
    _assert_problem(validate.interface_name, value, ["not a valid interface name"])


@pytest.mark.parametrize("value", ["br0\n", "virbr1\n"])
def test_interface_name_rejects_trailing_newline(value):
    _assert_problem(validate.interface_name, value, ["not a valid interface name"])


# ---- mac_address ---------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [
    ("52:54:00:00:00:10", "52:54:00:00:00:10"),
    ("52:54:00:AB:cd:EF", "52:54:00:ab:cd:ef"),
    ("52-54-00-aa-bb-10", "52:54:00:aa:bb:10"),
    (" 52:54:00:00:00:10 ", "52:54:00:00:00:10"),
    ("02:00:00:00:00:00", "02:00:00:00:00:00"),
    ("fe:ff:ff:ff:ff:ff", "fe:ff:ff:ff:ff:ff"),
])
def test_mac_address_ok(value, expected):
    _assert_ok(validate.mac_address, value, expected)


@pytest.mark.parametrize("value, words", [
    pytest.param("zz:54:00:00:00:10", ["not a MAC address"], id="not-hex"),
    pytest.param("52:54:00:00:00", ["not a MAC address"], id="five-pairs"),
    pytest.param("52:54:00:00:00:10:11", ["not a MAC address"], id="seven-pairs"),
    pytest.param("52:54-00:00:00:10", ["not a MAC address"], id="mixed-separators"),
    pytest.param("525400000010", ["not a MAC address"], id="no-separators"),
    pytest.param("5:54:00:00:00:10", ["not a MAC address"], id="short-pair"),
    pytest.param("", ["not a MAC address"], id="empty"),
    pytest.param("01:00:5e:00:00:01", ["multicast"], id="multicast"),
    pytest.param("ff:ff:ff:ff:ff:ff", ["multicast"], id="broadcast"),
    pytest.param("53:54:00:00:00:10", ["multicast"], id="odd-first-octet"),
])
def test_mac_address_problems(value, words):
    _assert_problem(validate.mac_address, value, words)


# ---- ip_address ----------------------------------------------------------------------------
@pytest.mark.parametrize("value, version, expected", [
    ("10.0.0.1", None, "10.0.0.1"),
    (" 10.0.0.1 ", 4, "10.0.0.1"),
    ("fd00:0:0:0::1", None, "fd00::1"),
    ("FD00::A", 6, "fd00::a"),
])
def test_ip_address_ok(value, version, expected):
    result, items = _check(validate.ip_address, value, version)
    assert items == []
    assert str(result) == expected
    assert isinstance(result, (ipaddress.IPv4Address, ipaddress.IPv6Address))


@pytest.mark.parametrize("value, version, words", [
    ("10.0.0", None, ["not an IP address"]),
    ("10.0.0.256", 4, ["not an IP address"]),
    ("10.0.0.1/24", 4, ["not an IP address"]),
    (None, None, ["not an IP address"]),
    ("fd00::1", 4, ["not an IPv4 address"]),
    ("10.0.0.1", 6, ["not an IPv6 address"]),
])
def test_ip_address_problems(value, version, words):
    _assert_problem(validate.ip_address, value, words, version)


# ---- interface_address ---------------------------------------------------------------------
@pytest.mark.parametrize("value, version, expected", [
    ("10.10.0.1/24", 4, "10.10.0.1/24"),
    ("10.10.0.1/255.255.255.0", 4, "10.10.0.1/24"),
    (" 192.168.0.254/24 ", 4, "192.168.0.254/24"),
    ("10.0.0.1/30", 4, "10.0.0.1/30"),
    ("10.0.0.2/30", 4, "10.0.0.2/30"),
    ("fd00:10:0:0::1/64", 6, "fd00:10::1/64"),
    ("fd00::1/126", 6, "fd00::1/126"),
])
def test_interface_address_ok(value, version, expected):
    result, items = _check(validate.interface_address, value, version)
    assert items == []
    assert str(result) == expected


@pytest.mark.parametrize("value, version, words", [
    pytest.param("10.0.0.1", 4, ["needs a prefix length", "10.10.0.1/24"], id="v4-no-prefix"),
    pytest.param("fd00::1", 6, ["needs a prefix length", "fd00:10::1/64"], id="v6-no-prefix"),
    pytest.param("10.0.0.x/24", 4, ["not a valid address/prefix"], id="malformed"),
    pytest.param("10.0.0.1/33", 4, ["not a valid address/prefix"], id="prefix-too-long"),
    pytest.param("10.0.0.1/", 4, ["not a valid address/prefix"], id="empty-prefix"),
    pytest.param("fd00::1/64", 4, ["not an IPv4 address"], id="v6-for-v4"),
    pytest.param("10.0.0.1/24", 6, ["not an IPv6 address"], id="v4-for-v6"),
    pytest.param("10.0.0.1/31", 4, ["/31", "no room"], id="v4-31"),
    pytest.param("10.0.0.1/32", 4, ["/32", "no room"], id="v4-32"),
    pytest.param("fd00::1/127", 6, ["/127", "no room"], id="v6-127"),
    pytest.param("fd00::1/128", 6, ["/128", "no room"], id="v6-128"),
    pytest.param("10.0.0.0/24", 4, ["network address"], id="v4-network-address"),
    pytest.param("10.0.0.255/24", 4, ["broadcast address"], id="v4-broadcast-address"),
    pytest.param("fd00::/64", 6, ["network address"], id="v6-network-address"),
])
def test_interface_address_problems(value, version, words):
    _assert_problem(validate.interface_address, value, words, version)


# ---- host_name -----------------------------------------------------------------------------
@pytest.mark.parametrize("value, allow_dots, expected", [
    ("web", True, "web"),
    ("Web-1", False, "web-1"),
    ("my_host", False, "my_host"),
    ("Example.COM", True, "example.com"),
    ("example.com.", True, "example.com"),
    (" spaced.example ", True, "spaced.example"),
    ("a" * 63, False, "a" * 63),
])
def test_host_name_ok(value, allow_dots, expected):
    _assert_ok(validate.host_name, value, expected, allow_dots=allow_dots)


@pytest.mark.parametrize("value, allow_dots, words", [
    pytest.param("web.example", False, ["not a valid host name"], id="dots-not-allowed"),
    pytest.param("-web", True, ["not a valid DNS name"], id="leading-hyphen"),
    pytest.param("web-", True, ["not a valid DNS name"], id="trailing-hyphen"),
    pytest.param("a..b", True, ["not a valid DNS name"], id="empty-label"),
    pytest.param("a" * 64, True, ["not a valid DNS name"], id="label-too-long"),
    pytest.param(".".join(["a" * 60] * 5), True, ["not a valid DNS name"], id="name-too-long"),
    pytest.param("we b", True, ["not a valid DNS name"], id="space"),
    pytest.param("", True, ["not a valid DNS name"], id="empty"),
    pytest.param(".", True, ["not a valid DNS name"], id="dot"),
    pytest.param(None, True, ["not a valid DNS name"], id="none"),
])
def test_host_name_problems(value, allow_dots, words):
    _assert_problem(validate.host_name, value, words, allow_dots=allow_dots)


@pytest.mark.parametrize("value", ["web\n.example.com", "a.b\n.c"])
def test_host_name_rejects_embedded_newline(value):
    _assert_problem(validate.host_name, value, ["not a valid DNS name"])


# ---- int_range -----------------------------------------------------------------------------
@pytest.mark.parametrize("value", [68, 1500, 65535])
def test_int_range_ok(value):
    _assert_ok(validate.int_range, value, value, 68, 65535)


def test_int_range_none_is_unset():
    _assert_ok(validate.int_range, None, None, 68, 65535)


@pytest.mark.parametrize("value", [0, 67, 65536, -1])
def test_int_range_problems(value):
    _assert_problem(validate.int_range, value, [str(value), "out of range", "68-65535"], 68, 65535)


def test_int_range_unit_in_message():
    _assert_problem(validate.int_range, 5, ["5s", "10-20s"], 10, 20, unit="s")


# ---- every check records problems instead of raising ----------------------------------------
def test_problems_accumulate_across_checks():
    problems = Problems()
    validate.resource_name("a/b", "name", problems)
    validate.mac_address("nope", "mac", problems)
    validate.interface_address("10.0.0.1", "ipv4.address", problems, 4)
    assert [item[0] for item in problems.items] == ["name", "mac", "ipv4.address"]
