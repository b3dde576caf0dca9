# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure parts of the shared storage reads: volume XML, backing dependents, disk users."""

from __future__ import annotations

from ansible_collections.converge.virt.plugins.module_utils.libvirt import storage

CLONE_XML = """
<volume type='file'>
  <name>web1.qcow2</name>
  <key>/var/lib/libvirt/images/web1.qcow2</key>
  <capacity unit='bytes'>10737418240</capacity>
  <allocation unit='bytes'>204800</allocation>
  <physical unit='bytes'>196624</physical>
  <target>
    <path>/var/lib/libvirt/images/web1.qcow2</path>
    <format type='qcow2'/>
    <timestamps><mtime>1700000000.123</mtime></timestamps>
  </target>
  <backingStore>
    <path>/var/lib/libvirt/images/base.qcow2</path>
    <format type='qcow2'/>
  </backingStore>
</volume>
"""

PLAIN_XML = """
<volume type='block'>
  <name>lv0</name>
  <key>abc-def</key>
  <capacity unit='KiB'>1024</capacity>
  <allocation>4096</allocation>
  <target><path>/dev/vg0/lv0</path></target>
</volume>
"""


def test_parse_clone():
    vol = storage.parse_volume_xml(CLONE_XML, "default")
    assert vol == {
        "name": "web1.qcow2", "pool": "default", "type": "file",
        "key": "/var/lib/libvirt/images/web1.qcow2",
        "path": "/var/lib/libvirt/images/web1.qcow2", "format": "qcow2",
        "capacity": 10737418240, "allocation": 204800, "physical": 196624,
        "backing": {"path": "/var/lib/libvirt/images/base.qcow2", "format": "qcow2"},
        "mtime": "1700000000.123",
    }


def test_parse_units_and_missing_parts():
    vol = storage.parse_volume_xml(PLAIN_XML)
    assert vol["type"] == "block"
    assert vol["capacity"] == 1024 * 1024
    assert vol["allocation"] == 4096
    assert vol["physical"] is None and vol["format"] is None and vol["backing"] is None
    assert vol["mtime"] is None and vol["pool"] is None


def test_empty_backing_store_is_no_backing():
    text = CLONE_XML.replace(
        "<path>/var/lib/libvirt/images/base.qcow2</path>\n    <format type='qcow2'/>", "")
    assert storage.parse_volume_xml(text)["backing"] is None


def test_backing_dependents_normalizes_paths():
    vols = [
        {"pool": "p", "name": "a", "backing": {"path": "/img//base.qcow2", "format": "qcow2"}},
        {"pool": "p", "name": "b", "backing": None},
        {"pool": "q", "name": "c", "backing": {"path": "/img/base.qcow2", "format": "qcow2"}},
        {"pool": "q", "name": "d", "backing": {"path": "/img/other.qcow2", "format": "qcow2"}},
    ]
    assert storage.backing_dependents(vols, "/img/base.qcow2") == ["p/a", "q/c"]
    assert storage.backing_dependents(vols, "/img/none") == []


def test_disk_users_by_path_and_by_pool_volume():
    disks = [
        {"domain": "web1", "running": True, "device": "disk", "target": "vda",
         "path": "/img/web1.qcow2", "pool": None, "volume": None},
        {"domain": "web2", "running": False, "device": "disk", "target": "vdb",
         "path": None, "pool": "default", "volume": "web1.qcow2"},
        {"domain": "web3", "running": False, "device": "cdrom", "target": "sda",
         "path": "/img/other.iso", "pool": None, "volume": None},
    ]
    vol = {"name": "web1.qcow2", "pool": "default", "path": "/img/web1.qcow2"}
    assert [d["domain"] for d in storage.disk_users(disks, vol)] == ["web1", "web2"]
    assert storage.disk_users(disks, {"name": "x", "pool": "default", "path": "/img/x"}) == []


class _FakeStream(object):
    """Records what an upload sends; accepts at most ``limit`` bytes per send like a real stream."""

    def __init__(self, limit=100):
        self.limit, self.data, self.finished, self.aborted = limit, b"", False, False

    def send(self, data):
        taken = data[:self.limit]
        self.data += taken
        return len(taken)

    def finish(self):
        self.finished = True

    def abort(self):
        self.aborted = True


class _FakeConn(object):
    def __init__(self, stream):
        self.stream = stream

    def newStream(self, _flags):
        return self.stream


class _FakeVol(object):
    def __init__(self):
        self.calls = []

    def name(self):
        return "v"

    def upload(self, _stream, offset, length, flags):
        self.calls.append((offset, length, flags))


def test_upload_sends_everything_in_partial_sends(monkeypatch):
    import io
    monkeypatch.setattr(storage, "require_libvirt", lambda: type("lv", (), {"libvirtError": OSError}))
    stream, vol = _FakeStream(limit=7), _FakeVol()
    seen = []
    payload = bytes(range(256)) * 5000
    done = storage.upload(_FakeConn(stream), vol, io.BytesIO(payload), len(payload),
                          progress=lambda d, t: seen.append((d, t)))
    assert done == len(payload) and stream.data == payload and stream.finished
    assert vol.calls == [(0, len(payload), 0)]
    assert seen[-1] == (len(payload), len(payload))


def test_upload_of_a_short_source_aborts(monkeypatch):
    import io
    import pytest
    from ansible_collections.converge.virt.plugins.module_utils.engine.errors import BackendError
    monkeypatch.setattr(storage, "require_libvirt", lambda: type("lv", (), {"libvirtError": OSError}))
    stream = _FakeStream()
    with pytest.raises(BackendError, match="ended after 10 of 20 bytes"):
        storage.upload(_FakeConn(stream), _FakeVol(), io.BytesIO(b"x" * 10), 20)
    assert stream.aborted and not stream.finished


class _GonePool(object):
    """A pool undefined between listing the pools and reading its volumes."""

    def __init__(self, error):
        self.error = error

    def isActive(self):
        raise self.error

    def name(self):
        return "gone"


def test_all_volumes_skips_a_pool_removed_while_listing(monkeypatch):
    import pytest

    class LvError(Exception):
        def __init__(self, code):
            super().__init__("no pool")
            self.code = code

        def get_error_code(self):
            return self.code

        def get_error_message(self):
            return "no pool"

    fake_lv = type("lv", (), {"libvirtError": LvError, "VIR_ERR_NO_STORAGE_POOL": 49})
    monkeypatch.setattr(storage, "require_libvirt", lambda: fake_lv)
    monkeypatch.setattr(storage, "translated", _no_translation)
    conn = type("conn", (), {"listAllStoragePools": lambda self, flags=0: [_GonePool(LvError(49))]})()
    assert storage.all_volumes(conn) == []
    other = type("conn", (), {"listAllStoragePools": lambda self, flags=0: [_GonePool(LvError(1))]})()
    with pytest.raises(LvError):
        storage.all_volumes(other)


def _no_translation(*_args, **_kwargs):
    import contextlib
    return contextlib.nullcontext()
