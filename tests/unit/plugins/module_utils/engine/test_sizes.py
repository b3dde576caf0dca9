# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the size and path checks used by the storage kinds."""

from __future__ import annotations

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine import validate
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Problems

K, M, G, T = 1024, 1024 ** 2, 1024 ** 3, 1024 ** 4


@pytest.mark.parametrize("value, expected", [
    (0, 0), (1, 1), (1048576, 1048576), ("1048576", 1048576), ("512", 512), ("512B", 512),
    ("10G", 10 * G), ("10g", 10 * G), ("10GiB", 10 * G), ("10 GiB", 10 * G), (" 10G ", 10 * G),
    ("1K", K), ("1KiB", K), ("1KB", 1000), ("512M", 512 * M), ("512MiB", 512 * M), ("512MB", 512 * 10 ** 6),
    ("2T", 2 * T), ("2TB", 2 * 10 ** 12), ("1P", 1024 ** 5), ("1PB", 10 ** 15),
    ("1.5G", 3 * G // 2), ("1.5GB", 1500 * 10 ** 6), ("0.5K", 512), ("20GB", 20 * 10 ** 9),
])
def test_parse_size(value, expected):
    assert validate.parse_size(value) == expected


@pytest.mark.parametrize("value, words", [
    ("ten", "is not a size"), ("", "is not a size"), ("-1G", "is not a size"), ("1.5", "whole number"),
    ("0.1K", "whole number"), ("10X", "unknown unit"), ("10 GiBs", "unknown unit"), (True, "is not a size"),
    ("1e9", "is not a size"), ("1G 2G", "is not a size"), ("1,5G", "is not a size"),
])
def test_parse_size_errors(value, words):
    with pytest.raises(ValueError) as err:
        validate.parse_size(value)
    assert words in str(err.value)


def test_size_records_problems_with_field():
    problems = Problems()
    assert validate.size("ten", "size", problems) is None
    assert validate.size("0", "size", problems) is None
    assert validate.size(None, "size", problems) is None
    assert [item[0] for item in problems.items] == ["size", "size"]
    assert "minimum of 1 B" in problems.items[1][1]
    ok = Problems()
    assert validate.size("1M", "size", ok, minimum=M) == M and not ok
    assert validate.size("1023K", "size", ok, minimum=M) is None and "1 MiB" in ok.items[0][1]


@pytest.mark.parametrize("value, expected", [
    (None, None), (0, "0 B"), (512, "512 B"), (1023, "1023 B"), (K, "1 KiB"), (1536, "1.5 KiB"),
    (10 * G, "10 GiB"), (G + 1, "1.0 GiB"), (3 * T, "3 TiB"), (1024 ** 5, "1 PiB"),
    (10 ** 9, "953.7 MiB"),
])
def test_human_size(value, expected):
    assert validate.human_size(value) == expected


@pytest.mark.parametrize("value", ["disk.qcow2", "a b", "a..b", "x" * 255, "ünï", "web-1_2.img"])
def test_volume_name_ok(value):
    problems = Problems()
    assert validate.volume_name(value, "name", problems) == value and not problems


@pytest.mark.parametrize("value, words", [
    ("../x", "'/'"), ("/abs", "'/'"), ("a/b", "'/'"), ("..", "not a usable name"), (".", "not a usable name"),
    (".hidden", "must not start with '.'"), ("a\\b", "contain '\\'"), ("", "non-empty"), (None, "non-empty"),
    ("x" * 256, "at most 255"), ("a\nb", "control"), (" a", "not a usable name"),
])
def test_volume_name_problems(value, words):
    problems = Problems()
    assert validate.volume_name(value, "name", problems) is None
    assert len(problems.items) == 1 and problems.items[0][0] == "name"
    assert words in problems.items[0][1], problems.items


@pytest.mark.parametrize("value, expected", [
    ("/", "/"), ("/var/tmp/x", "/var/tmp/x"), ("/var//tmp/./x/", "/var/tmp/x"), ("/a/b..c", "/a/b..c"),
])
def test_absolute_path_ok(value, expected):
    problems = Problems()
    assert validate.absolute_path(value, "content", problems) == expected and not problems


@pytest.mark.parametrize("value, words", [
    ("rel/path", "absolute"), ("", "absolute"), (None, "absolute"), ("/var/../etc", "'..'"),
    ("/a/..", "'..'"), ("/a\nb", "control"),
])
def test_absolute_path_problems(value, words):
    problems = Problems()
    assert validate.absolute_path(value, "content", problems) is None
    assert words in problems.items[0][1]


@pytest.mark.parametrize("directory, name, inside", [
    ("/var/lib/vms", "disk1", True), ("/var/lib/vms/", "disk1", True), ("/var/lib/vms", "a..b", True),
    ("/var/lib/vms", "../x", False), ("/var/lib/vms", "..", False), ("/var/lib/vms", ".", False),
    ("/var/lib/vms", "a/b", False), ("/var/lib/vms", "/etc/passwd", False), ("/var/lib/vms", "", False),
    ("/var/lib/vms", "sub/../x", False),
])
def test_path_inside(directory, name, inside):
    assert validate.path_inside(directory, name) is inside
