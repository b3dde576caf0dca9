# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers of the libvirt backend: which URIs are local, and which taps a guest has."""

from __future__ import annotations

import pytest

from ansible_collections.converge.virt.plugins.module_utils.libvirt.backend import is_local_uri
from ansible_collections.converge.virt.plugins.module_utils.libvirt import network_xml


@pytest.mark.parametrize("uri, local", [
    ("qemu:///system", True),
    ("qemu:///session", True),
    ("qemu+unix:///system", True),
    ("xen:///system", True),
    ("qemu+unix:///system?socket=/run/hv2/libvirt-sock", False),
    ("qemu+ssh://root@hv1/system", False),
    ("qemu+tcp://hv1/system", False),
    ("qemu+tls://hv1.example.com/system", False),
    ("qemu+ssh:///system", False),
])
def test_is_local_uri(uri, local):
    assert is_local_uri(uri) is local


DOMAIN = """
<domain type='qemu'>
  <name>web1</name>
  <devices>
    <interface type='network'>
      <source network='lab' bridge='virbr-lab'/>
      <target dev='vnet3'/>
    </interface>
    <interface type='network'>
      <source network='other'/>
      <target dev='vnet4'/>
    </interface>
    <interface type='network'>
      <source network='lab'/>
    </interface>
    <interface type='bridge'>
      <source bridge='br0'/>
      <target dev='vnet5'/>
    </interface>
  </devices>
</domain>
"""


def test_taps_on_network_only_lists_running_interfaces_of_that_network():
    assert network_xml.taps_on_network(DOMAIN, "lab") == ["vnet3"]
    assert network_xml.taps_on_network(DOMAIN, "other") == ["vnet4"]
    assert network_xml.taps_on_network(DOMAIN, "missing") == []


def test_attached_networks_ignores_bridge_interfaces():
    assert network_xml.attached_networks(DOMAIN) == {"lab", "other"}
