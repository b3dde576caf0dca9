# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the hypervisor list: its validation (``check_hypervisors``) and the controller's
resolution of inventory groups and hosts (``resolve_hypervisors``) with fake hostvars."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.converge.virt.plugins.module_utils.hypervisors.inventory import check_hypervisors
from ansible_collections.converge.virt.plugins.plugin_utils.hypervisors import resolve_hypervisors

U1 = "qemu+ssh://root@hv1/system"
U2 = "qemu+ssh://root@hv2/system"


# ---- check_hypervisors ---------------------------------------------------------------------------

def test_valid_list_is_normalized_in_order():
    hvs, problems = check_hypervisors([{"name": "hv2", "uri": U2, "migrate_uri": "tcp://hv2.lan"},
                                       {"name": "hv1", "uri": U1, "disks_uri": None}])
    assert problems == []
    assert hvs == [{"name": "hv2", "uri": U2, "migrate_uri": "tcp://hv2.lan", "disks_uri": None},
                   {"name": "hv1", "uri": U1, "migrate_uri": None, "disks_uri": None}]


@pytest.mark.parametrize("value, field, words", [
    ("hypervisors", "hypervisors", "inventory group"),
    ({"name": "hv1"}, "hypervisors", "list"),
    ([], "hypervisors", "no hypervisor"),
    (["hv1"], "hypervisors[0]", "dictionary"),
    ([{"name": "hv 1", "uri": U1}], "hypervisors[0].name", "letters"),
    ([{"name": "x" * 64, "uri": U1}], "hypervisors[0].name", "63"),
    ([{"uri": U1}], "hypervisors[0].name", "letters"),
    ([{"name": "hv1"}], "hypervisors[0].uri", "required"),
    ([{"name": "hv1", "uri": "  "}], "hypervisors[0].uri", "required"),
    ([{"name": "hv1", "uri": U1}, {"name": "hv1", "uri": U2}], "hypervisors[1].name", "twice"),
    ([{"name": "hv1", "uri": U1}, {"name": "hv2", "uri": U1}], "hypervisors[1].uri", "count twice"),
    ([{"name": "hv1", "uri": U1, "host": "x"}], "hypervisors[0]", "unknown keys host"),
    ([{"name": "hv1", "uri": U1, "migrate_uri": ""}], "hypervisors[0].migrate_uri", "non-empty"),
    ([{"name": "hv1", "uri": U1, "disks_uri": 5}], "hypervisors[0].disks_uri", "non-empty"),
])
def test_problems_name_their_field(value, field, words):
    _hvs, problems = check_hypervisors(value)
    assert any(f == field and words in m for f, m in problems), problems


def test_every_problem_is_reported_at_once():
    _hvs, problems = check_hypervisors([{"name": "a b"}, {"name": "ok", "uri": U1}, 3])
    assert [f for f, _m in problems] == ["hypervisors[0].name", "hypervisors[0].uri", "hypervisors[2]"]


# ---- resolve_hypervisors -------------------------------------------------------------------------

class LazyVars(dict):
    """Like ansible's HostVarsVars: templates on item access (here: str.format with the host's vars)."""

    def __getitem__(self, key):
        value = dict.__getitem__(self, key)
        return value.format(**dict(self)) if isinstance(value, str) else value


def task_vars(**hosts):
    groups = {"all": sorted(hosts), "ungrouped": [], "hvs": ["hv1", "hv2"], "empty": []}
    return {"groups": groups, "hostvars": dict((h, LazyVars(v)) for h, v in hosts.items())}


VARS = task_vars(
    hv1={"converge_virt_uri": "qemu+unix:///system?socket=/run/{inventory_hostname}.sock",
         "inventory_hostname": "hv1", "converge_virt_migrate_uri": "unix:///run/hv1-migrate.sock",
         "converge_virt_disks_uri": "unix:///run/hv1-nbd.sock"},
    hv2={"ansible_host": "192.0.2.2", "ansible_user": "admin"},
    hv3={},
    hv6={"ansible_host": "2001:db8::6"},
)


def test_group_resolves_to_its_hosts_with_templated_vars():
    assert resolve_hypervisors("hvs", VARS) == [
        {"name": "hv1", "uri": "qemu+unix:///system?socket=/run/hv1.sock",
         "migrate_uri": "unix:///run/hv1-migrate.sock", "disks_uri": "unix:///run/hv1-nbd.sock"},
        {"name": "hv2", "uri": "qemu+ssh://admin@192.0.2.2/system", "migrate_uri": None, "disks_uri": None},
    ]


def test_host_names_default_to_ssh_as_root_to_the_host():
    assert resolve_hypervisors(["hv3", "hv6"], VARS) == [
        {"name": "hv3", "uri": "qemu+ssh://root@hv3/system", "migrate_uri": None, "disks_uri": None},
        {"name": "hv6", "uri": "qemu+ssh://root@[2001:db8::6]/system", "migrate_uri": None, "disks_uri": None},
    ]


def test_a_single_host_name_as_string():
    assert [h["name"] for h in resolve_hypervisors("hv3", VARS)] == ["hv3"]


def test_dictionaries_pass_through_and_mix_with_hosts():
    given = {"name": "x", "uri": "qemu:///system", "extra": 1}
    assert resolve_hypervisors([given, "hv3"], VARS)[0] is given
    assert resolve_hypervisors(None, VARS) is None


@pytest.mark.parametrize("value, words", [
    ("nosuch", "neither an inventory group nor an inventory host (groups: empty, hvs); inventory hosts: hv1"),
    ("empty", "group empty has no hosts"),
    (["hv1", "nosuch"], "nosuch is not a host of the inventory"),
    (["hvs"], "hvs is a group: give the group name alone"),
    (7, "must be an inventory group name"),
])
def test_unknown_names_fail_clearly(value, words):
    with pytest.raises(AnsibleActionFail) as err:
        resolve_hypervisors(value, VARS)
    assert words in str(err.value)


def test_a_failing_template_names_the_host():
    broken = task_vars(hv1={"converge_virt_uri": "{undefined}"}, hv2={})
    with pytest.raises(AnsibleActionFail) as err:
        resolve_hypervisors(["hv1"], broken)
    assert "cannot read the variables of inventory host hv1" in str(err.value)
