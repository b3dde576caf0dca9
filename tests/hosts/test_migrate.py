# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real migrations between simulated hypervisor hosts (tests/hosts/start.sh).

Run:  tests/hosts/start.sh /tmp/hvmig-hosts hvmig
      CONVERGE_VIRT_HOSTS=/tmp/hvmig-hosts/hosts.json python -m pytest -s tests/hosts/test_migrate.py
(from the collection tree, with ansible_collections on PYTHONPATH).  Without CONVERGE_VIRT_HOSTS every
test is skipped.  The guests are TCG (domain type qemu), 64 MiB, with no OS: they idle in SeaBIOS,
which is enough for QEMU to run and migrate them; the disks carry marker bytes written before and
read back after each move.  Every object is named ``hvmig-*``; durations are printed."""

from __future__ import annotations

import hashlib
import json
import os
import time
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, Timeout

libvirt = pytest.importorskip("libvirt", reason="libvirt-python is not installed")
migrate = pytest.importorskip("ansible_collections.converge.virt.plugins.module_utils.hypervisors.migrate")

HOSTS_FILE = os.environ.get("CONVERGE_VIRT_HOSTS")
pytestmark = pytest.mark.skipif(
    not HOSTS_FILE or not os.path.isfile(HOSTS_FILE),
    reason="set CONVERGE_VIRT_HOSTS to the hosts.json written by tests/hosts/start.sh DIR PREFIX "
           "(real migrations need three simulated hypervisor hosts)")

POOL = "hvmig-pool"
MiB = 1024 * 1024
MARK_AT = 3 * MiB
PLACEMENT_NS = "https://converge-virt.github.io/xmlns/placement/1"
STACK_NS = "https://converge-virt.github.io/xmlns/stack/1"
TIMINGS = {}


def _silence(_ctx, _err):
    pass


@pytest.fixture(scope="module")
def hosts():
    with open(HOSTS_FILE) as f:
        hosts = json.load(f)
    assert len(hosts) >= 3, "hosts.json lists fewer than three hosts"
    libvirt.registerErrorHandler(_silence, None)
    conns = []
    for host in hosts[:3]:
        conn = libvirt.open(host["uri"])
        conns.append(dict(host, conn=conn))
    for h in conns[:2]:
        _ensure_pool(h["conn"])
    _cleanup(conns)
    yield conns
    _cleanup(conns)
    for h in conns:
        _drop_pool(h["conn"])
    for h in conns:
        h["conn"].close()
    if TIMINGS:
        print("\nmigration timings (s): " + json.dumps(TIMINGS, sort_keys=True))


def _ensure_pool(conn):
    try:
        pool = conn.storagePoolLookupByName(POOL)
    except libvirt.libvirtError:
        xml = ("<pool type='dir'><name>%s</name><target><path>/var/lib/libvirt/images/%s</path></target></pool>"
               % (POOL, POOL))
        pool = conn.storagePoolDefineXML(xml, 0)
        pool.build(0)
    if not pool.isActive():
        pool.create(0)
    pool.refresh(0)
    return pool


def _drop_pool(conn):
    try:
        pool = conn.storagePoolLookupByName(POOL)
    except libvirt.libvirtError:
        return
    if pool.isActive():
        pool.refresh(0)
        for vol in pool.listAllVolumes(0):
            vol.delete(0)
        pool.destroy()
    try:
        pool.delete(0)
    except libvirt.libvirtError:
        pass
    pool.undefine()


def _cleanup(conns):
    for h in conns:
        conn = h["conn"]
        for dom in conn.listAllDomains(0):
            if dom.name().startswith("hvmig-"):
                if dom.isActive():
                    dom.destroy()
                if dom.isPersistent():
                    dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
        try:
            pool = conn.storagePoolLookupByName(POOL)
        except libvirt.libvirtError:
            continue
        if pool.isActive():
            pool.refresh(0)
            for vol in pool.listAllVolumes(0):
                if vol.name().startswith("hvmig-"):
                    vol.delete(0)


def _volume(conn, name, size, fmt="raw"):
    pool = conn.storagePoolLookupByName(POOL)
    return pool.createXML("<volume><name>%s</name><capacity unit='bytes'>%d</capacity><allocation>0</allocation>"
                          "<target><format type='%s'/></target></volume>" % (name, size, fmt), 0)


def _write(conn, vol, offset, data):
    stream = conn.newStream(0)
    vol.upload(stream, offset, len(data), 0)
    view = memoryview(data)
    while view:
        view = view[stream.send(view[:256 * 1024].tobytes()):]
    stream.finish()


def _read(conn, vol, offset, length):
    stream = conn.newStream(0)
    vol.download(stream, offset, length, 0)
    chunks = []
    stream.recvAll(lambda _s, data, _o: chunks.append(data) or len(data), None)
    stream.finish()
    return b"".join(chunks)


def _lookup_vol(conn, name):
    pool = conn.storagePoolLookupByName(POOL)
    pool.refresh(0)
    try:
        return pool.storageVolLookupByName(name)
    except libvirt.libvirtError:
        return None


def _domain_xml(name, root, seed=None, fmt="raw"):
    seed_disk = ""
    if seed:
        seed_disk = ("<disk type='volume' device='cdrom'><driver name='qemu' type='raw'/>"
                     "<source pool='%s' volume='%s'/><target dev='hdc' bus='ide'/><readonly/></disk>" % (POOL, seed))
    return """<domain type='qemu'>
  <name>%s</name>
  <metadata>
    <cvplace:placement xmlns:cvplace="%s" affinity="db" anti_affinity="web"/>
    <cvstack:owner xmlns:cvstack="%s" stack="hvmig"/>
  </metadata>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <devices>
    <disk type='volume' device='disk'><driver name='qemu' type='%s'/>
      <source pool='%s' volume='%s'/><target dev='vda' bus='virtio'/></disk>
    %s
    <memballoon model='none'/>
  </devices>
</domain>""" % (name, PLACEMENT_NS, STACK_NS, fmt, POOL, root, seed_disk)


def _make_guest(conn, name, disk_mib=16, fill=False, seed=True, start=True):
    """A guest with a raw root volume carrying a marker (random-filled when ``fill``), and a read-only seed."""
    root = _volume(conn, "%s-root.raw" % name, disk_mib * MiB)
    if fill:
        _write(conn, root, 0, os.urandom(disk_mib * MiB))
    marker = ("hvmig marker of %s " % name).encode() * 64
    _write(conn, root, MARK_AT, marker)
    seed_name = None
    if seed:
        seed_name = "%s-seed.iso" % name
        _write(conn, _volume(conn, seed_name, MiB), 0, b"SEED" * 256)
    dom = conn.defineXML(_domain_xml(name, root.name(), seed_name))
    if start:
        dom.create()
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    return dom, marker


def _metadata(dom, flags=0):
    root = ET.fromstring(dom.XMLDesc(flags))
    place = root.find("metadata/{%s}placement" % PLACEMENT_NS)
    owner = root.find("metadata/{%s}owner" % STACK_NS)
    return (place.get("affinity") if place is not None else None, owner.get("stack") if owner is not None else None)


def _gone(conn, name):
    try:
        conn.lookupByName(name)
    except libvirt.libvirtError:
        return True
    return False


def test_live_with_storage_copy_then_offline_back(hosts):
    h1, h2 = hosts[0], hosts[1]
    name = "hvmig-live"
    dom, marker = _make_guest(h1["conn"], name)
    uuid = dom.UUIDString()
    time.sleep(1)  # let SeaBIOS start
    lines = []
    report = migrate.migrate(h1["conn"], h2["conn"], name, "auto", "auto", migrate_uri=h2.get("migrate_uri"),
                             disks_uri=h2.get("disks_uri"), timeout=120, progress=lines.append)
    print("\n".join(lines))
    TIMINGS["live_16MiB_disk"] = report["seconds"]
    assert (report["mode"], report["storage"], report["state"]) == ("live", "copy", "running")
    assert "VIR_MIGRATE_NON_SHARED_DISK" in report["flags"]
    assert sorted(report["deleted_source_volumes"]) == sorted(["%s/%s-root.raw" % (POOL, name),
                                                               "%s/%s-seed.iso" % (POOL, name)])
    assert report["warnings"] == []
    moved = h2["conn"].lookupByName(name)
    assert moved.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    assert moved.UUIDString() == uuid and moved.isPersistent()
    assert _gone(h1["conn"], name)
    assert _metadata(moved) == ("db", "hvmig")
    assert _metadata(moved, libvirt.VIR_DOMAIN_XML_INACTIVE) == ("db", "hvmig")
    assert _lookup_vol(h1["conn"], "%s-root.raw" % name) is None
    assert _read(h2["conn"], _lookup_vol(h2["conn"], "%s-root.raw" % name), MARK_AT, len(marker)) == marker
    assert _read(h2["conn"], _lookup_vol(h2["conn"], "%s-seed.iso" % name), 0, 1024) == b"SEED" * 256

    # ... and back, offline: the guest is shut off on host 2, its volumes stream to host 1.
    moved.destroy()
    lines = []
    report = migrate.migrate(h2["conn"], h1["conn"], name, progress=lines.append, timeout=120)
    print("\n".join(lines))
    TIMINGS["offline_16MiB_disk"] = report["seconds"]
    assert (report["mode"], report["storage"], report["state"]) == ("offline", "copy", "shut off")
    assert [v["sparse"] for v in report["volumes"]] == [True, True]
    back = h1["conn"].lookupByName(name)
    assert back.UUIDString() == uuid and back.isPersistent() and not back.isActive()
    assert _gone(h2["conn"], name)
    assert _lookup_vol(h2["conn"], "%s-root.raw" % name) is None
    assert _metadata(back, libvirt.VIR_DOMAIN_XML_INACTIVE) == ("db", "hvmig")
    assert _read(h1["conn"], _lookup_vol(h1["conn"], "%s-root.raw" % name), MARK_AT, len(marker)) == marker
    back.create()  # it still boots after the round trip
    assert back.state()[0] == libvirt.VIR_DOMAIN_RUNNING


def test_paused_guest_moves_live_and_stays_paused(hosts):
    h1, h2 = hosts[0], hosts[1]
    name = "hvmig-paused"
    dom, marker = _make_guest(h1["conn"], name, seed=False)
    dom.suspend()
    report = migrate.migrate(h1["conn"], h2["conn"], name, migrate_uri=h2.get("migrate_uri"),
                             disks_uri=h2.get("disks_uri"), timeout=120)
    TIMINGS["live_paused"] = report["seconds"]
    assert (report["mode"], report["state"]) == ("live", "paused")
    assert _read(h2["conn"], _lookup_vol(h2["conn"], "%s-root.raw" % name), MARK_AT, len(marker)) == marker


def test_refused_when_the_destination_lacks_the_pool(hosts):
    h1, h3 = hosts[0], hosts[2]
    name = "hvmig-refused"
    dom, marker = _make_guest(h1["conn"], name, seed=False)
    with pytest.raises(Conflict) as info:
        migrate.migrate(h1["conn"], h3["conn"], name, migrate_uri=h3.get("migrate_uri"),
                        disks_uri=h3.get("disks_uri"))
    assert "needs a storage pool named 'hvmig-pool' on the destination" in str(info.value)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    assert _gone(h3["conn"], name)
    assert _read(h1["conn"], _lookup_vol(h1["conn"], "%s-root.raw" % name), MARK_AT, len(marker)) == marker


def test_timeout_aborts_and_leaves_the_source_running(hosts):
    h1, h2 = hosts[0], hosts[1]
    name = "hvmig-slow"
    # 24 MiB of random data at 1 MiB/s cannot be mirrored within 3 s.
    dom, marker = _make_guest(h1["conn"], name, disk_mib=24, fill=True, seed=False)
    started = time.monotonic()
    with pytest.raises(Timeout) as info:
        migrate.migrate(h1["conn"], h2["conn"], name, migrate_uri=h2.get("migrate_uri"),
                        disks_uri=h2.get("disks_uri"), timeout=3, bandwidth=1)
    TIMINGS["timeout_abort_total"] = round(time.monotonic() - started, 3)
    assert "did not finish within 3 s and was aborted" in str(info.value)
    assert "the instance is still on %s (running), and what was created on the destination was removed" % (
        h1["name"]) in str(info.value)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING and dom.isPersistent()
    assert _gone(h2["conn"], name)
    assert _lookup_vol(h2["conn"], "%s-root.raw" % name) is None
    assert _read(h1["conn"], _lookup_vol(h1["conn"], "%s-root.raw" % name), MARK_AT, len(marker)) == marker
    # A second try without the limit works: nothing was left behind on the destination.
    report = migrate.migrate(h1["conn"], h2["conn"], name, migrate_uri=h2.get("migrate_uri"),
                             disks_uri=h2.get("disks_uri"), timeout=120)
    TIMINGS["live_24MiB_random_disk"] = report["seconds"]
    TIMINGS["live_24MiB_random_job"] = report["job"]
    assert report["state"] == "running"
    assert _read(h2["conn"], _lookup_vol(h2["conn"], "%s-root.raw" % name), MARK_AT, len(marker)) == marker


def test_offline_refuses_a_volume_that_exists_on_the_destination(hosts):
    h1, h2 = hosts[0], hosts[1]
    name = "hvmig-clash"
    dom, _marker = _make_guest(h1["conn"], name, seed=False, start=False)
    _volume(h2["conn"], "%s-root.raw" % name, MiB)
    with pytest.raises(Conflict) as info:
        migrate.migrate(h1["conn"], h2["conn"], name)
    assert "already has a volume named 'hvmig-clash-root.raw'" in str(info.value)
    assert dom.isPersistent() and _gone(h2["conn"], name)


def test_backing_chain_moves_incrementally_and_back_offline(hosts):
    """The base image exists on both hosts: only the qcow2 overlay travels (NON_SHARED_INC), live and back."""
    h1, h2 = hosts[0], hosts[1]
    name = "hvmig-inc"
    base_data = os.urandom(4 * MiB)
    for h in (h1, h2):
        _write(h["conn"], _volume(h["conn"], "hvmig-base.raw", 4 * MiB), 0, base_data)
    base_path = _lookup_vol(h1["conn"], "hvmig-base.raw").path()
    pool = h1["conn"].storagePoolLookupByName(POOL)
    overlay = pool.createXML(
        "<volume><name>%s-root.qcow2</name><capacity unit='bytes'>%d</capacity><target><format type='qcow2'/>"
        "</target><backingStore><path>%s</path><format type='raw'/></backingStore></volume>"
        % (name, 4 * MiB, base_path), 0)
    dom = h1["conn"].defineXML(_domain_xml(name, overlay.name(), fmt="qcow2"))
    dom.create()
    report = migrate.migrate(h1["conn"], h2["conn"], name, migrate_uri=h2.get("migrate_uri"),
                             disks_uri=h2.get("disks_uri"), timeout=120)
    TIMINGS["live_incremental"] = report["seconds"]
    assert report["incremental"] is True and "VIR_MIGRATE_NON_SHARED_INC" in report["flags"]
    assert report["state"] == "running"
    persistent = ET.fromstring(h2["conn"].lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    assert persistent.find("devices/disk/source").get("volume") == "%s-root.qcow2" % name
    assert _metadata(h2["conn"].lookupByName(name), libvirt.VIR_DOMAIN_XML_INACTIVE) == ("db", "hvmig")
    moved = _lookup_vol(h2["conn"], "%s-root.qcow2" % name)
    assert ET.fromstring(moved.XMLDesc(0)).findtext("backingStore/path") == base_path
    # back, offline: the qcow2 overlay is streamed as it is (not sparse) and still names its base
    h2["conn"].lookupByName(name).destroy()
    report = migrate.migrate(h2["conn"], h1["conn"], name, timeout=120)
    assert report["mode"] == "offline" and [v["sparse"] for v in report["volumes"]] == [False]
    back = _lookup_vol(h1["conn"], "%s-root.qcow2" % name)
    assert ET.fromstring(back.XMLDesc(0)).findtext("backingStore/path") == base_path
    h1["conn"].lookupByName(name).create()


def test_offline_throughput(hosts):
    """A 256 MiB raw disk, half random data, half a hole: the hole is not sent."""
    h1, h2 = hosts[0], hosts[1]
    name = "hvmig-big"
    root = _volume(h1["conn"], "%s-root.raw" % name, 256 * MiB)
    for offset in range(0, 128 * MiB, 16 * MiB):
        _write(h1["conn"], root, offset, os.urandom(16 * MiB))
    h1["conn"].defineXML(_domain_xml(name, root.name()))
    report = migrate.migrate(h1["conn"], h2["conn"], name, timeout=300)
    TIMINGS["offline_256MiB_disk_128MiB_data"] = report["seconds"]
    [vol] = report["volumes"]
    assert vol["sparse"] and 128 * MiB <= vol["bytes"] < 256 * MiB
    info = _lookup_vol(h2["conn"], "%s-root.raw" % name).info()
    assert info[1] == 256 * MiB and info[2] < 200 * MiB  # capacity kept, the hole stayed a hole


def test_offline_failure_half_way_cleans_the_destination(hosts):
    h1, h2 = hosts[0], hosts[1]
    name = "hvmig-half"
    dom, marker = _make_guest(h1["conn"], name, disk_mib=8, fill=True, start=False)
    with pytest.raises(Timeout) as info:
        migrate.migrate(h1["conn"], h2["conn"], name, timeout=0)
    assert "copying volume hvmig-pool/hvmig-half-root.raw took longer than the timeout" in str(info.value)
    assert "is still on %s (shut off)" % h1["name"] in str(info.value)
    assert dom.isPersistent() and _gone(h2["conn"], name)
    assert _lookup_vol(h2["conn"], "%s-root.raw" % name) is None
    assert _lookup_vol(h2["conn"], "%s-seed.iso" % name) is None
    assert _read(h1["conn"], _lookup_vol(h1["conn"], "%s-root.raw" % name), MARK_AT, len(marker)) == marker
    dom.create()


def _nvram_file(host, name):
    """The NVRAM file as tests/hosts/start.sh lays a host out (DIR/<host>/lib is its /var/lib/libvirt)."""
    return os.path.join(os.path.dirname(HOSTS_FILE), host["name"], "lib", "qemu", "nvram", "%s_VARS.fd" % name)


@pytest.mark.skipif(not os.path.exists("/usr/share/OVMF/OVMF_CODE_4M.fd"), reason="ovmf is not installed")
def test_uefi_guest_moves_live_with_its_nvram(hosts):
    h1, h2 = hosts[0], hosts[1]
    name = "hvmig-efi"
    root = _volume(h1["conn"], "%s-root.raw" % name, 16 * MiB)
    xml = _domain_xml(name, root.name()).replace("<memory unit='MiB'>64</memory>", "<memory unit='MiB'>128</memory>")
    xml = xml.replace("<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>",
                      "<os><type arch='x86_64' machine='q35'>hvm</type>"
                      "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>"
                      "<nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'/><boot dev='hd'/></os>"
                      "<features><acpi/></features>")
    dom = h1["conn"].defineXML(xml)
    dom.create()
    src_file = _nvram_file(h1, name)
    before = None
    if os.path.exists(src_file):
        # OVMF writes its variables during the first seconds of its first boot: wait until they settle.
        stable_since, deadline = time.monotonic(), time.monotonic() + 90
        while time.monotonic() < deadline:
            now = hashlib.sha256(open(src_file, "rb").read()).hexdigest()
            if now != before:
                before, stable_since = now, time.monotonic()
            elif time.monotonic() - stable_since >= 5:
                break
            time.sleep(0.5)
    report = migrate.migrate(h1["conn"], h2["conn"], name, migrate_uri=h2.get("migrate_uri"),
                             disks_uri=h2.get("disks_uri"), timeout=120)
    TIMINGS["live_uefi_128MiB"] = report["seconds"]
    assert report["state"] == "running" and report["warnings"] == []
    assert "VIR_MIGRATE_UNDEFINE_SOURCE" not in report["flags"] and "VIR_DOMAIN_UNDEFINE_NVRAM" in report["flags"]
    assert _gone(h1["conn"], name)
    if before is not None:  # the layout of start.sh: the files are visible from here
        assert not os.path.exists(src_file)
        dst_file = _nvram_file(h2, name)
        h2["conn"].lookupByName(name).destroy()
        assert hashlib.sha256(open(dst_file, "rb").read()).hexdigest() == before
