# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of host facts: parsing capabilities (QEMU and Xen), domain XML (sizes, state,
placement metadata) and pools, and ``gather``/``gather_all`` against a fake connection."""

from __future__ import annotations

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import ConnectionFailed
from ansible_collections.converge.virt.plugins.module_utils.hypervisors import facts

libvirt = pytest.importorskip("libvirt")

# Trimmed from a simulated 4-CPU, 4 GiB host (tests/hosts/start.sh).
QEMU_CAPS = """<capabilities>
  <host>
    <uuid>faf6f811-18e1-4551-a06e-8631acf1d563</uuid>
    <cpu>
      <arch>x86_64</arch>
      <model>kvm64</model>
      <vendor>AMD</vendor>
      <topology sockets='1' dies='1' cores='4' threads='1'/>
      <feature name='vme'/>
    </cpu>
    <topology>
      <cells num='1'>
        <cell id='0'>
          <memory unit='KiB'>4194304</memory>
          <pages unit='KiB' size='4'>1048576</pages>
          <distances><sibling id='0' value='10'/></distances>
          <cpus num='4'>
            <cpu id='0' socket_id='0' die_id='0' core_id='0' siblings='0'/>
            <cpu id='1' socket_id='0' die_id='0' core_id='1' siblings='1'/>
            <cpu id='3' socket_id='0' die_id='0' core_id='3' siblings='3'/>
            <cpu id='2' socket_id='0' die_id='0' core_id='2' siblings='2'/>
          </cpus>
        </cell>
      </cells>
    </topology>
  </host>
  <guest>
    <os_type>hvm</os_type>
    <arch name='i686'>
      <emulator>/usr/bin/qemu-system-i386</emulator>
      <domain type='qemu'/>
      <domain type='kvm'/>
      <domain type='hvf'/>
    </arch>
  </guest>
  <guest>
    <os_type>hvm</os_type>
    <arch name='x86_64'>
      <emulator>/usr/bin/qemu-system-x86_64</emulator>
      <domain type='qemu'/>
      <domain type='kvm'/>
    </arch>
  </guest>
</capabilities>"""

# The shape libxl reports: PV and HVM guests, domain type xen, two NUMA cells.
XEN_CAPS = """<capabilities>
  <host>
    <uuid>3e2a1b0c-0000-4000-8000-00000000000a</uuid>
    <cpu><arch>x86_64</arch></cpu>
    <topology>
      <cells num='2'>
        <cell id='0'><memory unit='KiB'>8388608</memory><cpus num='2'><cpu id='0'/><cpu id='1'/></cpus></cell>
        <cell id='1'><memory unit='KiB'>8388608</memory><cpus num='2'><cpu id='2'/><cpu id='3'/></cpus></cell>
      </cells>
    </topology>
  </host>
  <guest>
    <os_type>xen</os_type>
    <arch name='x86_64'><machine>xenpv</machine><domain type='xen'/></arch>
  </guest>
  <guest>
    <os_type>hvm</os_type>
    <arch name='x86_64'><machine>xenfv</machine><domain type='xen'/></arch>
  </guest>
</capabilities>"""


def domain_xml(name, vcpus=1, memory="65536", unit=None, current=None, running=False, placement=None):
    unit_attr = " unit='%s'" % unit if unit else ""
    current_attr = " current='%d'" % current if current else ""
    meta = ""
    if placement is not None:
        attrs = "".join(" %s='%s'" % kv for kv in sorted(placement.items()))
        meta = ("<metadata><cvplace:placement xmlns:cvplace='%s'%s/></metadata>" % (facts.PLACEMENT_NS, attrs))
    return ("<domain type='qemu'%s><name>%s</name>%s<memory%s>%s</memory><currentMemory>1</currentMemory>"
            "<vcpu placement='static'%s>%d</vcpu><os><type>hvm</type></os></domain>"
            % (" id='7'" if running else "", name, meta, unit_attr, memory, current_attr, vcpus))


# ---- pure parsing ------------------------------------------------------------------------------

def test_qemu_capabilities():
    caps = facts.parse_capabilities(QEMU_CAPS)
    assert caps == {
        "host_uuid": "faf6f811-18e1-4551-a06e-8631acf1d563", "arch": "x86_64", "model": "kvm64",
        "sockets": 1, "cores": 4, "threads": 1,
        "advertised": ["kvm", "qemu"],  # only the host's own architecture (not i686's hvf)
        "numa": [{"cell": 0, "memory_mib": 4096, "free_mib": None, "cpus": [0, 1, 2, 3]}],
    }


def test_xen_capabilities():
    caps = facts.parse_capabilities(XEN_CAPS)
    assert caps["advertised"] == ["xen"]
    assert [(c["cell"], c["memory_mib"], c["cpus"]) for c in caps["numa"]] == [(0, 8192, [0, 1]), (1, 8192, [2, 3])]
    assert caps["model"] is None and caps["sockets"] is None


@pytest.mark.parametrize("kwargs, vcpus, memory_mib, active", [
    (dict(vcpus=2, memory="131072"), 2, 128, False),
    (dict(vcpus=4, current=2, memory="1", unit="GiB", running=True), 2, 1024, True),
    (dict(memory="536870912", unit="b"), 1, 512, False),
    (dict(memory="2", unit="G"), 1, 2048, False),
])
def test_domain_sizes(kwargs, vcpus, memory_mib, active):
    dom = facts.parse_domain(domain_xml("d", **kwargs))
    assert (dom["vcpus"], dom["memory_mib"], dom["active"]) == (vcpus, memory_mib, active)


def test_domain_placement_metadata():
    dom = facts.parse_domain(domain_xml("web1", placement={"affinity": "db", "anti_affinity": "web"}))
    assert dom["placement"] == {"affinity": "db", "anti_affinity": "web"}
    assert facts.parse_domain(domain_xml("web2", placement={"anti_affinity": "web"}))["placement"] == {
        "anti_affinity": "web"}
    assert facts.parse_domain(domain_xml("plain"))["placement"] == {}


def test_summary_counts_every_domain_and_the_running_ones():
    doms = []
    for name, state, vcpus, mib, place in [("a", "running", 2, 512, {"anti_affinity": "web"}),
                                           ("b", "shut_off", 1, 256, {"anti_affinity": "web"}),
                                           ("c", "paused", 4, 1024, {"affinity": "db"}),
                                           ("d", "crashed", 1, 64, {})]:
        doms.append({"name": name, "state": state, "vcpus": vcpus, "memory_mib": mib,
                     "active": state in ("running", "paused"), "placement": place})
    committed, instances, groups = facts.summarize_domains(reversed(doms))
    assert committed == {"vcpus": 8, "memory_mib": 1856, "running_vcpus": 6, "running_memory_mib": 1536}
    assert instances == {"total": 4, "running": 1, "paused": 1, "shut_off": 1, "other": 1}
    assert groups == {"affinity": {"db": ["c"]}, "anti_affinity": {"web": ["a", "b"]}}


def test_pool_running_and_stopped():
    xml = "<pool type='dir'><name>images</name><target><path>/var/lib/libvirt/images</path></target></pool>"
    assert facts.parse_pool(xml, [2, 100, 40, 60]) == {
        "name": "images", "type": "dir", "active": True, "capacity_bytes": 100, "allocation_bytes": 40,
        "available_bytes": 60, "path": "/var/lib/libvirt/images"}
    stopped = facts.parse_pool(xml, [0, 0, 0, 0])
    assert stopped["active"] is False and stopped["capacity_bytes"] is None and stopped["available_bytes"] is None


def test_versions_and_types():
    assert facts.version_text(9000000) == "9.0.0"
    assert facts.version_text(7002022) == "7.2.22"
    assert facts.is_xen("xen:///system", "Xen") and facts.is_xen("xen+ssh://root@h/system", None)
    assert not facts.is_xen("qemu:///system", "QEMU")
    assert facts.usable_types(["kvm", "qemu"], "qemu") == ["qemu"]
    assert facts.usable_types(["kvm", "qemu"], "kvm") == ["kvm", "qemu"]
    assert facts.usable_types(["kvm", "qemu"], None) == ["kvm", "qemu"]
    assert facts.usable_types(["qemu"], "kvm") == ["qemu"]


# ---- gather against a fake connection ----------------------------------------------------------

class FakeDomain(object):
    def __init__(self, xml, code, vanish=False):
        self.xml, self.code, self.vanish = xml, code, vanish

    def _check(self):
        if self.vanish:
            raise _error(libvirt.VIR_ERR_NO_DOMAIN, "no domain")

    def state(self):
        self._check()
        return [self.code, 0]

    def XMLDesc(self, flags=0):  # noqa: N802 (libvirt's name)
        self._check()
        return self.xml


class FakePool(object):
    def __init__(self, xml, info):
        self.xml, self._info = xml, info

    def XMLDesc(self, flags=0):  # noqa: N802
        return self.xml

    def info(self):
        return self._info


def _error(code, text):
    err = libvirt.libvirtError(text)
    err.err = (code, 0, text, 0, None, None, None, 0, 0)
    return err


class FakeConn(object):
    calls = None

    def __init__(self, caps=QEMU_CAPS, kind="QEMU", domains=(), pools=(), gib=4):
        self.caps, self.kind, self.domains, self.pools, self.gib = caps, kind, list(domains), list(pools), gib
        self.calls = []

    def _call(self, name):
        self.calls.append(name)

    def getCapabilities(self):  # noqa: N802
        self._call("getCapabilities")
        return self.caps

    def getHostname(self):  # noqa: N802
        return "hv2"

    def getInfo(self):  # noqa: N802
        return ["x86_64", self.gib * 1024, 4, 2596, 1, 1, 4, 1]

    def getType(self):  # noqa: N802
        return self.kind

    def getVersion(self):  # noqa: N802
        return 7002022

    def getLibVersion(self):  # noqa: N802
        return 9000000

    def getMemoryStats(self, cell, flags=0):  # noqa: N802
        kib = self.gib * 1024 * 1024
        return {"total": kib, "free": kib // 2, "buffers": 1024 * 100, "cached": 1024 * 156}

    def getCellsFreeMemory(self, start, count):  # noqa: N802
        return [self.gib * 1024 ** 3 // 2 // count] * count

    def listAllDomains(self, flags=0):  # noqa: N802
        self._call("listAllDomains")
        return self.domains

    def listAllStoragePools(self, flags=0):  # noqa: N802
        self._call("listAllStoragePools")
        return self.pools

    def close(self):
        self._call("close")


POOL_XML = "<pool type='dir'><name>%s</name><target><path>/srv/%s</path></target></pool>"


def test_gather_reads_everything_in_few_calls(monkeypatch):
    probed = []
    monkeypatch.setattr(facts, "probe_domain_type",
                        lambda conn, run_command=None, warnings=None, name=None:
                        probed.append(name) or warnings.append("n") or "qemu")
    conn = FakeConn(domains=[
        FakeDomain(domain_xml("a", vcpus=2, memory="524288", running=True, placement={"anti_affinity": "web"}),
                   libvirt.VIR_DOMAIN_RUNNING),
        FakeDomain(domain_xml("b", vcpus=1, memory="262144"), libvirt.VIR_DOMAIN_SHUTOFF),
        FakeDomain(domain_xml("gone"), libvirt.VIR_DOMAIN_RUNNING, vanish=True),
    ], pools=[FakePool(POOL_XML % ("z", "z"), [0, 0, 0, 0]), FakePool(POOL_XML % ("a", "a"), [2, 10, 4, 6])])
    notes = []
    got = facts.gather(conn, "hv2", "qemu+unix:///system?socket=/x", warnings=notes)
    assert sorted(got) == sorted(["name", "uri", "hostname", "host_uuid", "libvirt_version", "hypervisor",
                                  "hypervisor_version", "domain_types", "cpu", "numa", "memory", "committed",
                                  "instances", "placement_groups", "pools"])
    assert got["name"] == "hv2" and got["hostname"] == "hv2" and got["uri"] == "qemu+unix:///system?socket=/x"
    assert got["libvirt_version"] == "9.0.0" and got["hypervisor"] == "QEMU" and got["hypervisor_version"] == "7.2.22"
    assert got["domain_types"] == {"advertised": ["kvm", "qemu"], "usable": ["qemu"], "verified": True}
    assert got["cpu"] == {"arch": "x86_64", "model": "kvm64", "count": 4, "sockets": 1, "cores": 4, "threads": 1,
                          "mhz": 2596}
    assert got["numa"] == [{"cell": 0, "memory_mib": 4096, "free_mib": 2048, "cpus": [0, 1, 2, 3]}]
    assert got["memory"] == {"total_mib": 4096, "free_mib": 2048 + 256}
    assert got["committed"] == {"vcpus": 3, "memory_mib": 768, "running_vcpus": 2, "running_memory_mib": 512}
    assert got["instances"] == {"total": 2, "running": 1, "paused": 0, "shut_off": 1, "other": 0}
    assert got["placement_groups"] == {"affinity": {}, "anti_affinity": {"web": ["a"]}}
    assert [p["name"] for p in got["pools"]] == ["a", "z"]
    assert got["pools"][0]["available_bytes"] == 6
    assert conn.calls.count("listAllDomains") == 1 and conn.calls.count("listAllStoragePools") == 1
    assert probed == ["hv2"] and notes == ["n"]


def test_gather_without_probe_trusts_the_capabilities(monkeypatch):
    monkeypatch.setattr(facts, "probe_domain_type", lambda *a, **k: pytest.fail("probed"))
    got = facts.gather(FakeConn(), "hv2", "qemu:///system", probe=False)
    assert got["domain_types"] == {"advertised": ["kvm", "qemu"], "usable": ["kvm", "qemu"], "verified": False}


def test_a_probe_that_cannot_run_verifies_nothing(monkeypatch):
    """A remote host and no kernel to boot: the advertised types stay usable, unverified, with a warning
    (not "KVM does not work", which would keep every kvm instance off that host)."""
    monkeypatch.delenv("CONVERGE_VIRT_PROBE_KERNEL", raising=False)
    notes = []
    got = facts.gather(FakeConn(), "hv2", "qemu+ssh://hv2/system", warnings=notes)
    assert got["domain_types"] == {"advertised": ["kvm", "qemu"], "usable": ["kvm", "qemu"], "verified": False}
    assert len(notes) == 1 and "hv2: the domain types could not be verified" in notes[0]
    assert "CONVERGE_VIRT_PROBE_KERNEL" in notes[0]


def test_xen_hosts_are_not_probed(monkeypatch):
    monkeypatch.setattr(facts, "probe_domain_type", lambda *a, **k: pytest.fail("probed"))
    got = facts.gather(FakeConn(caps=XEN_CAPS, kind="Xen", gib=16), "xen1", "xen:///system")
    assert got["domain_types"] == {"advertised": ["xen"], "usable": ["xen"], "verified": True}
    assert [c["free_mib"] for c in got["numa"]] == [4096, 4096]
    assert got["cpu"]["sockets"] == 1 and got["cpu"]["cores"] == 4  # from node info when caps lack a topology


def test_gather_all_keeps_order_and_reports_unreachable_hosts(monkeypatch):
    monkeypatch.setattr(facts, "probe_domain_type", lambda *a, **k: "qemu")
    opened = []

    def opener(uri, readonly):
        opened.append((uri, readonly))
        if "down" in uri:
            raise ConnectionFailed("cannot connect to libvirt at %s: no such socket" % uri)
        return FakeConn(gib=int(uri[-1]))

    hvs = [{"name": "h%d" % i, "uri": "test:///%s%d" % ("down" if i == 2 else "up", i)} for i in (8, 2, 4)]
    results, notes = facts.gather_all(hvs, opener=opener)
    assert [r["name"] for r in results] == ["h8", "h2", "h4"]
    assert results[1] == {"name": "h2", "uri": "test:///down2",
                          "error": "cannot connect to libvirt at test:///down2: no such socket"}
    assert [r["memory"]["total_mib"] for r in (results[0], results[2])] == [8192, 4096]
    assert sorted(opened) == [("test:///down2", False), ("test:///up4", False), ("test:///up8", False)]
    assert notes == []
    facts.gather_all(hvs[:1], probe=False, opener=opener)
    assert opened[-1] == ("test:///up8", True)  # read-only without the probe
