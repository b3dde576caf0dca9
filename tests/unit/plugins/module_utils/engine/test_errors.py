# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the typed errors and the Problems collector."""

from __future__ import annotations

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import (
    BackendError, Conflict, ConnectionFailed, ConvergeError, InvalidSpec, MissingLibrary, NotFound,
    Problems, Timeout,
)


@pytest.mark.parametrize("cls", [InvalidSpec, NotFound, Conflict, Timeout, BackendError, ConnectionFailed,
                                 MissingLibrary])
def test_every_error_is_a_converge_error(cls):
    assert issubclass(cls, ConvergeError)


def test_connection_failed_is_a_backend_error():
    assert issubclass(ConnectionFailed, BackendError)


@pytest.mark.parametrize("kwargs, expected", [
    ({}, "boom"),
    ({"kind": "network"}, "network: boom"),
    ({"kind": "network", "name": "n1"}, "network 'n1': boom"),
    ({"kind": "network", "name": ""}, "network '': boom"),
    ({"kind": "network", "name": "n1", "hint": "try again"}, "network 'n1': boom (try again)"),
    ({"hint": "try again"}, "boom (try again)"),
])
def test_str(kwargs, expected):
    assert str(ConvergeError("boom", **kwargs)) == expected


def test_details_are_copied():
    details = {"a": 1}
    err = ConvergeError("boom", details=details)
    err.details["b"] = 2
    assert details == {"a": 1}
    assert ConvergeError("boom").details == {}


@pytest.mark.parametrize("initial, expected", [
    ({}, ("network", "n1")),
    ({"kind": "instance"}, ("instance", "n1")),
    ({"name": "other"}, ("network", "other")),
    ({"kind": "instance", "name": "vm"}, ("instance", "vm")),
])
def test_about_fills_only_what_is_missing(initial, expected):
    err = Conflict("in use", **initial)
    assert err.about("network", "n1") is err
    assert (err.kind, err.name) == expected


def test_invalid_spec_lists_every_problem():
    err = InvalidSpec([("name", "bad"), ("ipv4.address", "worse"), ("", "general")], kind="network", name="n1")
    assert err.problems == [("name", "bad"), ("ipv4.address", "worse"), ("", "general")]
    assert str(err) == "network 'n1': invalid spec: name: bad; ipv4.address: worse; general"
    assert err.details == {"problems": [{"field": "name", "message": "bad"},
                                        {"field": "ipv4.address", "message": "worse"},
                                        {"field": "", "message": "general"}]}


def test_missing_library():
    err = MissingLibrary("libvirt-python", "Traceback...", reason="for the libvirt backend")
    assert (err.library, err.import_error, err.reason) == ("libvirt-python", "Traceback...", "for the libvirt backend")
    assert "libvirt-python" in str(err)


def test_problems_collect_and_raise_together():
    problems = Problems()
    assert not problems
    problems.raise_if_any("network", "n1")  # nothing to report: no exception
    problems.add("name", "bad")
    problems.add("mtu", "too small")
    assert problems
    with pytest.raises(InvalidSpec) as info:
        problems.raise_if_any("network", "n1")
    assert info.value.problems == [("name", "bad"), ("mtu", "too small")]
    assert (info.value.kind, info.value.name) == ("network", "n1")
