# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt network XML <-> the normalized network state.  Pure; built with ElementTree, so names
are escaped by construction.

Rendering edits the existing definition in place: elements and attributes this collection does
not model (portgroups, bandwidth, dnsmasq options, libvirt's generated MAC and UUID) are kept.
"""

from __future__ import annotations

import ipaddress
import xml.etree.ElementTree as ET

from ansible_collections.converge.virt.plugins.module_utils.libvirt.xmlutil import child, text_child

EMPTY_DNS = {"hosts": [], "forwarders": []}


# ---- parse ---------------------------------------------------------------------------------
def parse(xml_text):
    """Normalized state (without autostart/active, which are not in the XML) of a network XML."""
    root = ET.fromstring(xml_text)
    forward = root.find("forward")
    bridge = root.find("bridge")
    domain = root.find("domain")
    mtu = root.find("mtu")
    state = {
        "name": root.findtext("name"),
        "uuid": root.findtext("uuid"),
        "forward": forward.get("mode", "nat") if forward is not None else "isolated",
        "bridge": bridge.get("name") if bridge is not None else None,
        "domain": domain.get("name").lower() if domain is not None and domain.get("name") else None,
        "mtu": int(mtu.get("size")) if mtu is not None and mtu.get("size") else None,
        "ipv4": None,
        "ipv6": None,
        "dns": _parse_dns(root.find("dns")),
    }
    for family in ("ipv4", "ipv6"):
        elem = _ip_element(root, family)
        if elem is not None:
            state[family] = _parse_ip(elem, family)
    return state


def _ip_element(root, family):
    for elem in root.findall("ip"):
        if elem.get("family", "ipv4") == family:
            return elem
    return None


def _parse_ip(elem, family):
    address = elem.get("address")
    prefix = elem.get("prefix")
    if prefix is None and elem.get("netmask"):
        prefix = ipaddress.ip_network("0.0.0.0/%s" % elem.get("netmask")).prefixlen
    if prefix is None:
        prefix = 24 if family == "ipv4" else 64
    result = {"address": str(ipaddress.ip_interface("%s/%s" % (address, prefix))), "dhcp": None}
    dhcp = elem.find("dhcp")
    if dhcp is not None:
        rng = dhcp.find("range")
        hosts = []
        for host in dhcp.findall("host"):
            entry = {}
            if host.get("mac"):
                entry["mac"] = host.get("mac").lower()
            if host.get("name"):
                entry["name"] = host.get("name").lower()
            if host.get("ip"):
                entry["ip"] = str(ipaddress.ip_address(host.get("ip")))
            hosts.append(entry)
        result["dhcp"] = {
            "range": ([str(ipaddress.ip_address(rng.get("start"))), str(ipaddress.ip_address(rng.get("end")))]
                      if rng is not None else None),
            "hosts": sorted(hosts, key=lambda h: str(h.get("mac") or h.get("name"))),
        }
    return result


def _parse_dns(elem):
    if elem is None:
        return {"hosts": [], "forwarders": []}
    hosts = []
    for host in elem.findall("host"):
        hosts.append({"ip": str(ipaddress.ip_address(host.get("ip"))),
                      "names": [h.text.lower() for h in host.findall("hostname") if h.text]})
    forwarders = []
    for fwd in elem.findall("forwarder"):
        entry = {}
        if fwd.get("addr"):
            entry["addr"] = str(ipaddress.ip_address(fwd.get("addr")))
        if fwd.get("domain"):
            entry["domain"] = fwd.get("domain").lower()
        forwarders.append(entry)
    return {"hosts": sorted(hosts, key=lambda h: h["ip"]), "forwarders": forwarders}


# ---- render --------------------------------------------------------------------------------
def render(state, base_xml=None):
    """The network XML for ``state``, edited into ``base_xml`` (the current definition) if given."""
    root = ET.fromstring(base_xml) if base_xml else ET.Element("network")
    text_child(root, "name", state["name"])
    _render_forward(root, state.get("forward") or "isolated")
    host_bridge = state.get("forward") == "bridge"
    if state.get("bridge"):
        bridge = child(root, "bridge")
        bridge.set("name", state["bridge"])
        if host_bridge:
            for attr in ("stp", "delay", "macTableManager", "zone"):
                bridge.attrib.pop(attr, None)
        elif base_xml is None:
            bridge.set("stp", "on")
            bridge.set("delay", "0")
    if host_bridge:
        for tag in ("ip", "dns", "domain", "mtu", "mac"):
            for elem in root.findall(tag):
                root.remove(elem)
        return _tostring(root)
    if state.get("domain"):
        child(root, "domain").set("name", state["domain"])
    if state.get("mtu"):
        child(root, "mtu").set("size", str(state["mtu"]))
    _render_dns(root, state.get("dns") or EMPTY_DNS)
    for family in ("ipv4", "ipv6"):
        if state.get(family):
            _render_ip(root, family, state[family])
    return _tostring(root)


def _render_forward(root, mode):
    forward = root.find("forward")
    if mode == "isolated":
        if forward is not None:
            root.remove(forward)
        return
    if forward is None:
        forward = ET.SubElement(root, "forward")
    if forward.get("mode", "nat") != mode:
        keep_dev = forward.get("dev") if mode in ("nat", "route") else None
        forward.clear()
        if keep_dev:
            forward.set("dev", keep_dev)
    forward.set("mode", mode)


def _render_dns(root, dns):
    if not dns.get("hosts") and not dns.get("forwarders") and root.find("dns") is None:
        return
    elem = child(root, "dns")
    for old in elem.findall("forwarder") + elem.findall("host"):
        elem.remove(old)
    for fwd in dns.get("forwarders") or []:
        ET.SubElement(elem, "forwarder", _attrs(fwd, ("domain", "addr")))
    for host in dns.get("hosts") or []:
        elem.append(dns_host_element(host))


def _render_ip(root, family, spec):
    elem = _ip_element(root, family)
    if elem is None:
        elem = ET.SubElement(root, "ip")
    iface = ipaddress.ip_interface(spec["address"])
    elem.attrib.pop("netmask", None)
    if family == "ipv6":
        elem.set("family", "ipv6")
    elem.set("address", str(iface.ip))
    elem.set("prefix", str(iface.network.prefixlen))
    dhcp_spec = spec.get("dhcp")
    if not dhcp_spec:
        return
    dhcp = child(elem, "dhcp")
    if dhcp_spec.get("range"):
        rng = dhcp.find("range")
        if rng is None:
            rng = ET.Element("range")
            dhcp.insert(0, rng)
        rng.set("start", dhcp_spec["range"][0])
        rng.set("end", dhcp_spec["range"][1])
    if dhcp_spec.get("hosts") is not None:  # None leaves the current hosts alone
        for old in dhcp.findall("host"):
            dhcp.remove(old)
        for host in dhcp_spec["hosts"]:
            dhcp.append(dhcp_host_element(host))


# ---- fragments for virNetworkUpdate --------------------------------------------------------
def dhcp_host_element(host):
    return ET.Element("host", _attrs(host, ("mac", "name", "ip")))


def dhcp_range_element(rng):
    return ET.Element("range", {"start": rng[0], "end": rng[1]})


def dns_host_element(host):
    elem = ET.Element("host", {"ip": host["ip"]})
    for name in host["names"]:
        ET.SubElement(elem, "hostname").text = name
    return elem


def fragment(elem):
    return ET.tostring(elem, encoding="unicode")


# ---- helpers -------------------------------------------------------------------------------
def _attrs(mapping, order):
    return dict((k, str(mapping[k])) for k in order if mapping.get(k) is not None)


def _tostring(root):
    return ET.tostring(root, encoding="unicode")


def taps_on_network(domain_xml, network):
    """Host-side device names (<target dev>) of a running domain's interfaces on ``network``."""
    root = ET.fromstring(domain_xml)
    taps = []
    for iface in root.findall("./devices/interface"):
        source = iface.find("source")
        target = iface.find("target")
        if (source is not None and source.get("network") == network and target is not None
                and target.get("dev")):
            taps.append(target.get("dev"))
    return taps


def attached_networks(domain_xml):
    """Names of the libvirt networks a domain's interfaces use."""
    root = ET.fromstring(domain_xml)
    names = set()
    for iface in root.findall("./devices/interface"):
        source = iface.find("source")
        if iface.get("type") == "network" and source is not None and source.get("network"):
            names.add(source.get("network"))
    return names


def ip_families(xml_text):
    """The family of each <ip> element, in document order (virNetworkUpdate's parentIndex)."""
    return [elem.get("family", "ipv4") for elem in ET.fromstring(xml_text).findall("ip")]
