# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of libvirt network XML <-> normalized state.  Pure XML: no libvirt connection."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.converge.virt.plugins.module_utils.libvirt import network_xml
from ansible_collections.converge.virt.plugins.module_utils.resources.network import NetworkPlanner, NetworkWorld

EMPTY_DNS = {"hosts": [], "forwarders": []}
UUID = "3e3fce45-4f53-4fa7-bb32-11f34168b82b"

# libvirt's own default network, as `virsh net-dumpxml --inactive default` prints it (netmask form).
DEFAULT_XML = """
<network>
  <name>default</name>
  <uuid>3e3fce45-4f53-4fa7-bb32-11f34168b82b</uuid>
  <forward mode='nat'>
    <nat>
      <port start='1024' end='65535'/>
    </nat>
  </forward>
  <bridge name='virbr0' stp='on' delay='0'/>
  <mac address='52:54:00:0a:0b:0c'/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/>
    </dhcp>
  </ip>
</network>
"""

# Prefix form, <forward> without mode (means nat), hosts, DNS, domain, MTU, dual stack.
FULL_XML = """
<network connections='2'>
  <name>lab</name>
  <uuid>0b7c62a4-8e43-4b8e-9d2a-7a5cf1f0a001</uuid>
  <forward/>
  <bridge name='virbr7' stp='on' delay='0'/>
  <mtu size='9000'/>
  <mac address='52:54:00:aa:bb:cc'/>
  <domain name='Lab.Example' localOnly='yes'/>
  <dns>
    <forwarder addr='8.8.8.8'/>
    <forwarder domain='Corp.Example' addr='10.0.0.53'/>
    <forwarder domain='local.example'/>
    <host ip='10.7.0.6'>
      <hostname>Cache</hostname>
    </host>
    <host ip='10.7.0.5'>
      <hostname>db</hostname>
      <hostname>PG.lab.example</hostname>
    </host>
    <txt name='example' value='kept'/>
  </dns>
  <ip address='10.7.0.1' prefix='24'>
    <dhcp>
      <range start='10.7.0.100' end='10.7.0.200'/>
      <host mac='52:54:00:00:00:11' ip='10.7.0.11'/>
      <host mac='52:54:00:00:00:0A' name='Web' ip='10.7.0.10'/>
      <host name='nomac' ip='10.7.0.12'/>
    </dhcp>
  </ip>
  <ip family='ipv6' address='FD00:7:0:0::1' prefix='64'>
    <dhcp>
      <range start='fd00:7::100' end='fd00:7::1ff'/>
      <host name='web' ip='fd00:7:0::10'/>
    </dhcp>
  </ip>
</network>
"""

ISOLATED_XML = """
<network>
  <name>iso</name>
  <bridge name='virbr9'/>
  <ip address='10.9.0.1' prefix='24'/>
</network>
"""

HOST_BRIDGE_XML = """
<network>
  <name>lan</name>
  <forward mode='bridge'/>
  <bridge name='br0'/>
</network>
"""


def _state(**overrides):
    """A normalized state as parse() returns it."""
    state = {"name": "n", "uuid": None, "forward": "isolated", "bridge": None, "domain": None, "mtu": None,
             "ipv4": None, "ipv6": None, "dns": copy.deepcopy(EMPTY_DNS)}
    state.update(copy.deepcopy(overrides))
    return state


# ---- parse ---------------------------------------------------------------------------------
def test_parse_default_network_netmask_form():
    assert network_xml.parse(DEFAULT_XML) == {
        "name": "default", "uuid": UUID, "forward": "nat", "bridge": "virbr0", "domain": None, "mtu": None,
        "ipv4": {"address": "192.168.122.1/24",
                 "dhcp": {"range": ["192.168.122.2", "192.168.122.254"], "hosts": []}},
        "ipv6": None, "dns": EMPTY_DNS,
    }


def test_parse_full_network_prefix_form():
    assert network_xml.parse(FULL_XML) == {
        "name": "lab", "uuid": "0b7c62a4-8e43-4b8e-9d2a-7a5cf1f0a001",
        "forward": "nat",  # <forward/> without a mode is NAT
        "bridge": "virbr7", "domain": "lab.example", "mtu": 9000,
        "ipv4": {"address": "10.7.0.1/24",
                 "dhcp": {"range": ["10.7.0.100", "10.7.0.200"],
                          "hosts": [{"mac": "52:54:00:00:00:0a", "name": "web", "ip": "10.7.0.10"},
                                    {"mac": "52:54:00:00:00:11", "ip": "10.7.0.11"},
                                    {"name": "nomac", "ip": "10.7.0.12"}]}},
        "ipv6": {"address": "fd00:7::1/64",
                 "dhcp": {"range": ["fd00:7::100", "fd00:7::1ff"], "hosts": [{"name": "web", "ip": "fd00:7::10"}]}},
        "dns": {"hosts": [{"ip": "10.7.0.5", "names": ["db", "pg.lab.example"]},
                          {"ip": "10.7.0.6", "names": ["cache"]}],
                "forwarders": [{"addr": "8.8.8.8"}, {"addr": "10.0.0.53", "domain": "corp.example"},
                               {"domain": "local.example"}]},
    }


def test_parse_without_forward_is_isolated():
    state = network_xml.parse(ISOLATED_XML)
    assert state == _state(name="iso", bridge="virbr9", ipv4={"address": "10.9.0.1/24", "dhcp": None})


def test_parse_host_bridge():
    assert network_xml.parse(HOST_BRIDGE_XML) == _state(name="lan", forward="bridge", bridge="br0")


@pytest.mark.parametrize("mode", ["nat", "route", "open", "bridge"])
def test_parse_forward_modes(mode):
    xml = "<network><name>n</name><forward mode='%s'/></network>" % mode
    assert network_xml.parse(xml)["forward"] == mode


@pytest.mark.parametrize("ip_xml, expected", [
    ("<ip address='10.0.0.1' netmask='255.255.0.0'/>", "10.0.0.1/16"),
    ("<ip address='10.0.0.1' netmask='255.255.255.252'/>", "10.0.0.1/30"),
    ("<ip address='10.0.0.1' prefix='20'/>", "10.0.0.1/20"),
    ("<ip family='ipv4' address='10.0.0.1' prefix='8'/>", "10.0.0.1/8"),
    ("<ip address='10.0.0.1'/>", "10.0.0.1/24"),
])
def test_parse_ipv4_address_forms(ip_xml, expected):
    xml = "<network><name>n</name>%s</network>" % ip_xml
    assert network_xml.parse(xml)["ipv4"] == {"address": expected, "dhcp": None}


@pytest.mark.parametrize("ip_xml, expected", [
    ("<ip family='ipv6' address='fd00::1' prefix='64'/>", "fd00::1/64"),
    ("<ip family='ipv6' address='FD00:0:0:0:0:0:0:1' prefix='56'/>", "fd00::1/56"),
    ("<ip family='ipv6' address='fd00::1'/>", "fd00::1/64"),
])
def test_parse_ipv6_address_forms(ip_xml, expected):
    state = network_xml.parse("<network><name>n</name>%s</network>" % ip_xml)
    assert state["ipv6"] == {"address": expected, "dhcp": None}
    assert state["ipv4"] is None


def test_parse_dhcp_without_range():
    xml = ("<network><name>n</name><ip address='10.0.0.1' prefix='24'><dhcp>"
           "<host mac='52:54:00:00:00:01' ip='10.0.0.5'/></dhcp></ip></network>")
    assert network_xml.parse(xml)["ipv4"]["dhcp"] == {"range": None,
                                                      "hosts": [{"mac": "52:54:00:00:00:01", "ip": "10.0.0.5"}]}


def test_parse_empty_dns_element():
    assert network_xml.parse("<network><name>n</name><dns/></network>")["dns"] == EMPTY_DNS


def test_parse_matches_the_planner_normalization():
    """A spec equal to what libvirt holds must plan as a no-op: parse() and normalize() agree."""
    params = {
        "name": "lab", "forward": "nat", "bridge": "virbr7", "domain": "Lab.Example", "mtu": 9000,
        "ipv4": {"address": "10.7.0.1/255.255.255.0",
                 "dhcp": {"range": ["10.7.0.100", "10.7.0.200"],
                          "hosts": [{"mac": "52:54:00:00:00:11", "ip": "10.7.0.11"},
                                    {"name": "NoMac", "ip": "10.7.0.12"},
                                    {"mac": "52:54:00:00:00:0A", "name": "web", "ip": "10.7.0.10"}]}},
        "ipv6": {"address": "fd00:7::1/64",
                 "dhcp": {"range": ["fd00:7::100", "fd00:7::1ff"], "hosts": [{"name": "web", "ip": "fd00:7::10"}]}},
        "dns": {"hosts": [{"ip": "10.7.0.6", "names": ["cache"]}, {"ip": "10.7.0.5", "names": ["db", "pg.lab.example"]}],
                "forwarders": [{"addr": "8.8.8.8"}, {"domain": "corp.example", "addr": "10.0.0.53"},
                               {"domain": "local.example"}]},
        "autostart": True, "active": True,
    }
    current = dict(network_xml.parse(FULL_XML), active=True, autostart=True, persistent=True)
    planner = NetworkPlanner()
    plan = planner.plan(planner.normalize(params), NetworkWorld(current=current))
    assert plan.changes == []


# ---- render / round trip -------------------------------------------------------------------
ROUND_TRIP = [
    pytest.param(_state(), id="minimal-isolated"),
    pytest.param(_state(forward="nat", bridge="virbr1", ipv4={"address": "10.1.0.1/24", "dhcp": None}), id="nat"),
    pytest.param(_state(forward="route", ipv4={"address": "10.2.0.1/16",
                                               "dhcp": {"range": ["10.2.0.2", "10.2.255.254"], "hosts": []}}),
                 id="route-with-range"),
    pytest.param(_state(forward="open", ipv4={"address": "10.3.0.1/24", "dhcp": {"range": None, "hosts": []}}),
                 id="open-empty-dhcp"),
    pytest.param(_state(forward="nat", bridge="virbr4", domain="lab.example", mtu=9000,
                        ipv4={"address": "10.4.0.1/24",
                              "dhcp": {"range": ["10.4.0.100", "10.4.0.200"],
                                       "hosts": [{"mac": "52:54:00:00:00:01", "name": "a", "ip": "10.4.0.11"},
                                                 {"mac": "52:54:00:00:00:02", "ip": "10.4.0.12"},
                                                 {"name": "c", "ip": "10.4.0.13"}]}},
                        dns={"hosts": [{"ip": "10.4.0.5", "names": ["db", "pg.lab.example"]},
                                       {"ip": "10.4.0.6", "names": ["cache"]}],
                             "forwarders": [{"addr": "8.8.8.8"}, {"domain": "corp.example", "addr": "10.0.0.53"},
                                            {"domain": "local.example"}]}),
                 id="nat-everything"),
    pytest.param(_state(forward="nat", ipv6={"address": "fd00:5::1/64",
                                             "dhcp": {"range": ["fd00:5::100", "fd00:5::1ff"],
                                                      "hosts": [{"name": "web", "ip": "fd00:5::10"}]}}),
                 id="ipv6-only"),
    pytest.param(_state(forward="nat", mtu=1500,
                        ipv4={"address": "10.6.0.1/24", "dhcp": {"range": ["10.6.0.2", "10.6.0.9"], "hosts": []}},
                        ipv6={"address": "fd00:6::1/64", "dhcp": None},
                        dns={"hosts": [{"ip": "fd00:6::5", "names": ["v6host"]}], "forwarders": []}),
                 id="dual-stack"),
    pytest.param(_state(forward="bridge", bridge="br0"), id="host-bridge"),
    pytest.param(_state(name="a&b<c>\"'", forward="nat", ipv4={"address": "10.8.0.1/24", "dhcp": None}),
                 id="xml-special-characters"),
    pytest.param(_state(name="ünïcode net"), id="unicode-name"),
]


@pytest.mark.parametrize("state", ROUND_TRIP)
def test_round_trip(state):
    xml = network_xml.render(state)
    assert network_xml.parse(xml) == state
    assert network_xml.render(network_xml.parse(xml)) == xml, "rendering is stable"


@pytest.mark.parametrize("state", ROUND_TRIP)
def test_round_trip_through_a_base_definition(state):
    xml = network_xml.render(state, base_xml=DEFAULT_XML)
    expected = dict(state, uuid=UUID)
    if state["bridge"] is None and state["forward"] != "bridge":
        expected["bridge"] = "virbr0"  # not modeled in the state: the base's bridge is kept
    base_ipv4 = network_xml.parse(DEFAULT_XML)["ipv4"]
    if state["forward"] != "bridge":
        # None leaves the base's part alone: <ip>, its <dhcp>, the <range>.
        if state["ipv4"] is None:
            expected["ipv4"] = base_ipv4
        elif state["ipv4"]["dhcp"] is None:
            expected["ipv4"] = dict(state["ipv4"], dhcp=base_ipv4["dhcp"])
        elif state["ipv4"]["dhcp"]["range"] is None:
            expected["ipv4"] = dict(state["ipv4"], dhcp=dict(state["ipv4"]["dhcp"], range=base_ipv4["dhcp"]["range"]))
    assert network_xml.parse(xml) == expected


@pytest.mark.parametrize("state", ROUND_TRIP)
def test_render_of_planner_after_state_parses_back(state):
    """What the driver defines from a plan reads back as the plan's ``after``."""
    after = dict(state, autostart=True, active=True)
    parsed = network_xml.parse(network_xml.render(after))
    assert dict(parsed, autostart=True, active=True) == after


def test_render_new_network_layout():
    state = _state(name="n1", forward="nat", bridge="virbr1", domain="lab.example", mtu=1400,
                   ipv4={"address": "10.1.0.1/24",
                         "dhcp": {"range": ["10.1.0.100", "10.1.0.200"],
                                  "hosts": [{"mac": "52:54:00:00:00:01", "name": "a", "ip": "10.1.0.11"}]}},
                   dns={"hosts": [{"ip": "10.1.0.5", "names": ["db"]}], "forwarders": [{"addr": "1.1.1.1"}]})
    root = ET.fromstring(network_xml.render(state))
    assert root.tag == "network"
    assert root.findtext("name") == "n1"
    assert root.find("uuid") is None, "libvirt generates the UUID"
    assert root.find("forward").attrib == {"mode": "nat"}
    assert root.find("bridge").attrib == {"name": "virbr1", "stp": "on", "delay": "0"}
    assert root.find("domain").attrib == {"name": "lab.example"}
    assert root.find("mtu").attrib == {"size": "1400"}
    ip = root.find("ip")
    assert ip.attrib == {"address": "10.1.0.1", "prefix": "24"}
    dhcp = ip.find("dhcp")
    assert [child.tag for child in dhcp] == ["range", "host"]
    assert dhcp.find("range").attrib == {"start": "10.1.0.100", "end": "10.1.0.200"}
    assert dhcp.find("host").attrib == {"mac": "52:54:00:00:00:01", "name": "a", "ip": "10.1.0.11"}
    dns = root.find("dns")
    assert dns.find("forwarder").attrib == {"addr": "1.1.1.1"}
    assert dns.find("host").attrib == {"ip": "10.1.0.5"}
    assert [h.text for h in dns.find("host").findall("hostname")] == ["db"]


def test_render_ipv6_sets_family():
    root = ET.fromstring(network_xml.render(_state(ipv6={"address": "fd00::1/64", "dhcp": None})))
    assert root.find("ip").attrib == {"family": "ipv6", "address": "fd00::1", "prefix": "64"}


def test_render_without_dns_content_adds_no_dns_element():
    assert ET.fromstring(network_xml.render(_state())).find("dns") is None
    assert ET.fromstring(network_xml.render(_state(dns=None))).find("dns") is None


def test_render_does_not_modify_the_state():
    state = ROUND_TRIP[4].values[0]
    before = copy.deepcopy(state)
    network_xml.render(state, base_xml=FULL_XML)
    assert state == before


# ---- render into an existing definition ----------------------------------------------------
BASE_XML = """
<network connections='1' ipv6='yes'>
  <name>lab</name>
  <uuid>0b7c62a4-8e43-4b8e-9d2a-7a5cf1f0a001</uuid>
  <metadata><app:note xmlns:app='http://example.com/app'>keep me</app:note></metadata>
  <forward mode='nat' dev='eth0'>
    <nat><port start='1024' end='65535'/></nat>
  </forward>
  <bridge name='virbr7' stp='on' delay='0' macTableManager='libvirt'/>
  <mac address='52:54:00:aa:bb:cc'/>
  <bandwidth><inbound average='1000' peak='5000' burst='1024'/></bandwidth>
  <portgroup name='engineering' default='yes'><vlan><tag id='42'/></vlan></portgroup>
  <dns>
    <forwarder addr='8.8.8.8'/>
    <host ip='10.7.0.5'><hostname>db</hostname></host>
    <txt name='example' value='kept'/>
  </dns>
  <ip address='10.7.0.1' netmask='255.255.255.0' localPtr='yes'>
    <tftp root='/srv/tftp'/>
    <dhcp>
      <range start='10.7.0.100' end='10.7.0.200'><lease expiry='1' unit='hours'/></range>
      <host mac='52:54:00:00:00:0a' name='web' ip='10.7.0.10'/>
      <bootp file='pxelinux.0'/>
    </dhcp>
  </ip>
</network>
"""


def _base_state():
    state = network_xml.parse(BASE_XML)
    return state


def _unknown_parts(xml):
    """Everything the state does not model, as comparable strings."""
    root = ET.fromstring(xml)
    parts = {
        "root": dict(root.attrib),
        "uuid": root.findtext("uuid"),
        "metadata": ET.tostring(root.find("metadata"), encoding="unicode"),
        "mac": dict(root.find("mac").attrib),
        "bandwidth": ET.tostring(root.find("bandwidth"), encoding="unicode"),
        "portgroup": ET.tostring(root.find("portgroup"), encoding="unicode"),
        "txt": dict(root.find("dns/txt").attrib),
        "tftp": dict(root.find("ip/tftp").attrib),
        "localPtr": root.find("ip").get("localPtr"),
        "bootp": dict(root.find("ip/dhcp/bootp").attrib),
        "lease": dict(root.find("ip/dhcp/range/lease").attrib),
    }
    return parts


def test_render_unchanged_state_into_base_changes_nothing_modeled():
    state = _base_state()
    xml = network_xml.render(state, base_xml=BASE_XML)
    assert network_xml.parse(xml) == state
    assert _unknown_parts(xml) == _unknown_parts(BASE_XML)
    root = ET.fromstring(xml)
    assert root.find("forward").attrib == {"mode": "nat", "dev": "eth0"}
    assert root.find("forward/nat/port").attrib == {"start": "1024", "end": "65535"}
    assert root.find("bridge").attrib == {"name": "virbr7", "stp": "on", "delay": "0", "macTableManager": "libvirt"}
    assert root.find("ip").get("netmask") is None and root.find("ip").get("prefix") == "24"


def _edit(**changes):
    state = _base_state()
    for path, value in changes.items():
        target = state
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return state


@pytest.mark.parametrize("state", [
    pytest.param(_edit(ipv4__dhcp__hosts=[{"mac": "52:54:00:00:00:0b", "ip": "10.7.0.11"}]), id="dhcp-hosts"),
    pytest.param(_edit(ipv4__dhcp__range=["10.7.0.50", "10.7.0.60"]), id="dhcp-range"),
    pytest.param(_edit(ipv4__address="10.7.0.254/24"), id="ipv4-address"),
    pytest.param(_edit(dns={"hosts": [{"ip": "10.7.0.6", "names": ["x", "y"]}], "forwarders": []}), id="dns"),
    pytest.param(_edit(mtu=9000, domain="lab.example"), id="mtu-domain"),
    pytest.param(_edit(bridge="virbr8"), id="bridge-name"),
    pytest.param(_edit(ipv6={"address": "fd00:7::1/64", "dhcp": {"range": None, "hosts": [{"name": "a", "ip": "fd00:7::a"}]}}),
                 id="add-ipv6"),
    pytest.param(_edit(name="renamed & <escaped>"), id="name"),
])
def test_render_into_base_changes_only_modeled_parts(state):
    xml = network_xml.render(state, base_xml=BASE_XML)
    assert network_xml.parse(xml) == state
    assert _unknown_parts(xml) == _unknown_parts(BASE_XML)


def test_render_into_base_keeps_forward_children_while_mode_is_unchanged():
    root = ET.fromstring(network_xml.render(_edit(mtu=1400), base_xml=BASE_XML))
    assert root.find("forward/nat/port") is not None


@pytest.mark.parametrize("mode, forward_attrib", [
    ("route", {"dev": "eth0", "mode": "route"}),
    ("open", {"mode": "open"}),
])
def test_render_forward_mode_change_resets_forward(mode, forward_attrib):
    root = ET.fromstring(network_xml.render(_edit(forward=mode), base_xml=BASE_XML))
    forward = root.find("forward")
    assert forward.attrib == forward_attrib
    assert list(forward) == [], "mode-specific children (<nat>) are dropped"


def test_render_nat_to_isolated_removes_forward():
    xml = network_xml.render(_edit(forward="isolated"), base_xml=BASE_XML)
    root = ET.fromstring(xml)
    assert root.find("forward") is None
    assert network_xml.parse(xml)["forward"] == "isolated"
    assert _unknown_parts(xml) == _unknown_parts(BASE_XML)


def test_render_isolated_to_nat_adds_forward():
    xml = network_xml.render(dict(network_xml.parse(ISOLATED_XML), forward="nat"), base_xml=ISOLATED_XML)
    assert ET.fromstring(xml).find("forward").attrib == {"mode": "nat"}
    assert network_xml.parse(xml)["forward"] == "nat"


def test_render_host_bridge_into_base_drops_what_a_host_bridge_cannot_have():
    state = _state(name="lab", uuid="0b7c62a4-8e43-4b8e-9d2a-7a5cf1f0a001", forward="bridge", bridge="br0")
    xml = network_xml.render(state, base_xml=BASE_XML)
    root = ET.fromstring(xml)
    for tag in ("ip", "dns", "domain", "mtu", "mac"):
        assert root.find(tag) is None, tag
    assert root.find("bridge").attrib == {"name": "br0"}
    assert root.find("forward").attrib == {"mode": "bridge"}
    assert root.findtext("uuid") == "0b7c62a4-8e43-4b8e-9d2a-7a5cf1f0a001"
    assert root.find("portgroup") is not None and root.find("bandwidth") is not None
    assert network_xml.parse(xml) == state


def test_render_dhcp_hosts_are_replaced_not_merged():
    state = _edit(ipv4__dhcp__hosts=[])
    root = ET.fromstring(network_xml.render(state, base_xml=BASE_XML))
    assert root.findall("ip/dhcp/host") == []
    assert root.find("ip/dhcp/range") is not None


def test_render_adds_range_first_in_existing_dhcp():
    base = ("<network><name>n</name><ip address='10.0.0.1' prefix='24'><dhcp>"
            "<host mac='52:54:00:00:00:01' ip='10.0.0.5'/></dhcp></ip></network>")
    state = network_xml.parse(base)
    state["ipv4"]["dhcp"]["range"] = ["10.0.0.10", "10.0.0.20"]
    dhcp = ET.fromstring(network_xml.render(state, base_xml=base)).find("ip/dhcp")
    assert [child.tag for child in dhcp] == ["range", "host"]


def test_render_keeps_the_ip_element_of_each_family():
    xml = network_xml.render(network_xml.parse(FULL_XML), base_xml=FULL_XML)
    assert network_xml.ip_families(xml) == ["ipv4", "ipv6"]
    assert network_xml.parse(xml) == network_xml.parse(FULL_XML)


# ---- XML special characters ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["a&b<c>\"'", "<network>", "]]>", "&amp;", "tab and space"])
def test_names_with_xml_special_characters_are_escaped(name):
    xml = network_xml.render(_state(name=name))
    ET.fromstring(xml)  # well-formed
    assert network_xml.parse(xml)["name"] == name
    root = ET.fromstring(xml)
    assert len(root.findall("name")) == 1 and len(list(root)) == 1, "the name cannot inject elements"


def test_special_characters_are_escaped_in_the_text():
    xml = network_xml.render(_state(name="a&b<c>\"'"))
    assert "<name>a&amp;b&lt;c&gt;" in xml


# ---- fragments for virNetworkUpdate ----------------------------------------------------------
@pytest.mark.parametrize("host, expected", [
    ({"mac": "52:54:00:00:00:01", "name": "web", "ip": "10.0.0.5"},
     '<host mac="52:54:00:00:00:01" name="web" ip="10.0.0.5" />'),
    ({"ip": "10.0.0.5", "mac": "52:54:00:00:00:01"}, '<host mac="52:54:00:00:00:01" ip="10.0.0.5" />'),
    ({"name": "web", "ip": "fd00::5"}, '<host name="web" ip="fd00::5" />'),
])
def test_dhcp_host_fragment(host, expected):
    assert network_xml.fragment(network_xml.dhcp_host_element(host)) == expected


def test_dhcp_range_fragment():
    assert network_xml.fragment(network_xml.dhcp_range_element(["10.0.0.2", "10.0.0.9"])) == \
        '<range start="10.0.0.2" end="10.0.0.9" />'


def test_dns_host_fragment():
    assert network_xml.fragment(network_xml.dns_host_element({"ip": "10.0.0.5", "names": ["a", "b.example"]})) == \
        '<host ip="10.0.0.5"><hostname>a</hostname><hostname>b.example</hostname></host>'


# ---- helpers -------------------------------------------------------------------------------
@pytest.mark.parametrize("xml, expected", [
    (ISOLATED_XML, ["ipv4"]),
    (HOST_BRIDGE_XML, []),
    (FULL_XML, ["ipv4", "ipv6"]),
    ("<network><name>n</name><ip family='ipv6' address='fd00::1' prefix='64'/>"
     "<ip address='10.0.0.1' prefix='24'/><ip family='ipv4' address='10.1.0.1' prefix='24'/></network>",
     ["ipv6", "ipv4", "ipv4"]),
])
def test_ip_families_in_document_order(xml, expected):
    assert network_xml.ip_families(xml) == expected


DOMAIN_XML = """
<domain type='kvm'>
  <name>vm1</name>
  <devices>
    <disk type='file' device='disk'><source file='/var/lib/libvirt/images/vm1.qcow2'/></disk>
    <interface type='network'><source network='default'/><model type='virtio'/></interface>
    <interface type='network'><source network='a&amp;b'/></interface>
    <interface type='network'><source network='default'/></interface>
    <interface type='bridge'><source bridge='br0'/></interface>
    <interface type='user'/>
    <interface type='network'/>
    <interface type='network'><source/></interface>
  </devices>
</domain>
"""


@pytest.mark.parametrize("xml, expected", [
    (DOMAIN_XML, {"default", "a&b"}),
    ("<domain><name>vm</name><devices/></domain>", set()),
    ("<domain><name>vm</name></domain>", set()),
    ("<domain><name>vm</name><devices><interface type='bridge'><source network='x'/></interface></devices></domain>",
     set()),
])
def test_attached_networks(xml, expected):
    assert network_xml.attached_networks(xml) == expected


# ---- purity --------------------------------------------------------------------------------
@pytest.mark.parametrize("module", [
    "ansible_collections.converge.virt.plugins.module_utils.libvirt.network_xml",
    "ansible_collections.converge.virt.plugins.module_utils.resources.network",
    "ansible_collections.converge.virt.plugins.module_utils.engine.converge",
])
def test_pure_modules_do_not_import_libvirt(module):
    """These modules must work where libvirt-python is missing: importing them never imports it."""
    code = "import sys, importlib; importlib.import_module(%r); sys.exit(1 if 'libvirt' in sys.modules else 0)" % module
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr or "%s imported libvirt" % module


def test_render_with_hosts_none_keeps_the_current_hosts():
    base = ("<network><name>n</name><ip address='10.1.0.1' prefix='24'><dhcp>"
            "<range start='10.1.0.10' end='10.1.0.20'/><host mac='52:54:00:00:00:01' ip='10.1.0.5'/>"
            "</dhcp></ip></network>")
    state = network_xml.parse(base)
    state["ipv4"]["dhcp"]["hosts"] = None
    state["ipv4"]["dhcp"]["range"] = ["10.1.0.30", "10.1.0.40"]
    again = network_xml.parse(network_xml.render(state, base_xml=base))
    assert again["ipv4"]["dhcp"]["hosts"] == [{"mac": "52:54:00:00:00:01", "ip": "10.1.0.5"}]
    assert again["ipv4"]["dhcp"]["range"] == ["10.1.0.30", "10.1.0.40"]
