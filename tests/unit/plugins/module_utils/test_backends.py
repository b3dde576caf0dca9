# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backend selection and per-backend options: pure, no backend opened."""

from __future__ import annotations

import pytest

from ansible_collections.converge.virt.plugins.module_utils import backends
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import InvalidSpec


def params(**kw):
    base = dict((k, v.get("default")) for k, v in backends.CONNECTION_ARGS.items())
    base.update(kw)
    return base


@pytest.mark.parametrize("kw, expected", [
    ({}, "libvirt"),
    ({"uri": "qemu:///system"}, "libvirt"),
    ({"cloud": "demo"}, "openstack"),
    ({"auth": {"auth_url": None, "password": None}}, "libvirt"),  # suboptions all unset
    ({"auth": {"auth_url": "http://x"}}, "openstack"),
    ({"backend": "openstack"}, "openstack"),
    ({"backend": "libvirt"}, "libvirt"),
])
def test_selection(kw, expected):
    assert backends.selected_backend(params(**kw)) == expected


def test_other_backends_connection_options_are_refused():
    with pytest.raises(InvalidSpec) as err:
        backends.selected_backend(params(cloud="demo", uri="qemu:///system"))
    assert err.value.problems == [("uri", "is a libvirt connection option, but this task uses the openstack backend")]
    with pytest.raises(InvalidSpec) as err:
        backends.selected_backend(params(backend="libvirt", region_name="RegionOne", verify=False))
    assert [p[0] for p in err.value.problems] == ["region_name", "verify"]


def test_only_the_secrets_of_auth_are_no_log():
    options = backends.CONNECTION_ARGS["auth"]["options"]
    assert sorted(k for k, v in options.items() if v.get("no_log")) == [
        "application_credential_secret", "passcode", "password", "token"]
    assert "username" in options and "project_domain_name" in options


SPEC = {"pool": {"type": "str"}, "wipe": {"type": "bool", "default": False},
        "volume_type": {"type": "str"}}
RULES = {"libvirt": {"only": ["pool", "wipe"], "required": ["pool"]},
         "openstack": {"only": ["volume_type"]}}


def test_backend_options_required_and_foreign():
    backends.check_backend_options({"pool": "p", "wipe": True}, SPEC, "libvirt", RULES)
    backends.check_backend_options({"pool": None, "wipe": False, "volume_type": "ssd"}, SPEC, "openstack", RULES)
    with pytest.raises(InvalidSpec) as err:
        backends.check_backend_options({"pool": None, "volume_type": "ssd"}, SPEC, "libvirt", RULES)
    assert err.value.problems == [
        ("pool", "is required with the libvirt backend"),
        ("volume_type", "applies only to the openstack backend, and this task uses the libvirt backend")]
    with pytest.raises(InvalidSpec) as err:
        backends.check_backend_options({"pool": "p", "wipe": True}, SPEC, "openstack", RULES)
    assert [p[0] for p in err.value.problems] == ["pool", "wipe"]


def test_default_valued_foreign_option_counts_as_unset():
    backends.check_backend_options({"pool": None, "wipe": False}, SPEC, "openstack", RULES)
