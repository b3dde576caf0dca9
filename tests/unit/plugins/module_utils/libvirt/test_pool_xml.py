# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of libvirt storage pool XML <-> normalized state.  Pure XML: no libvirt connection.

Rendered XML is also checked against libvirt's own RelaxNG schema when the host has it
(``xmllint`` and ``/usr/share/libvirt/schemas/storagepool.rng``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.converge.virt.plugins.module_utils.libvirt import pool_xml
from ansible_collections.converge.virt.plugins.module_utils.resources.pool import PoolPlanner, PoolWorld

SCHEMA = "/usr/share/libvirt/schemas/storagepool.rng"
UUID = "64607a67-933d-4a91-bfec-96d2a690704a"

# `virsh pool-dumpxml` of a running dir pool (libvirt 9).
DIR_XML = """
<pool type='dir'>
  <name>images</name>
  <uuid>64607a67-933d-4a91-bfec-96d2a690704a</uuid>
  <capacity unit='bytes'>270553174016</capacity>
  <allocation unit='bytes'>26354196480</allocation>
  <available unit='bytes'>244198977536</available>
  <source>
  </source>
  <target>
    <path>/var/lib/pools/images</path>
    <permissions>
      <mode>0755</mode>
      <owner>1000</owner>
      <group>1000</group>
    </permissions>
  </target>
</pool>
"""

NETFS_XML = """
<pool type='netfs'>
  <name>share</name>
  <uuid>64607a67-933d-4a91-bfec-96d2a690704b</uuid>
  <capacity unit='bytes'>0</capacity>
  <source>
    <host name='nfs.example.com'/>
    <dir path='/export/vm'/>
    <format type='nfs'/>
    <protocol ver='4'/>
  </source>
  <target>
    <path>/mnt/share/</path>
  </target>
</pool>
"""

LOGICAL_XML = """
<pool type='logical'>
  <name>vg</name>
  <source>
    <device path='/dev/sdc'/>
    <device path='/dev/sdb'/>
    <name>vg_fast</name>
    <format type='lvm2'/>
  </source>
  <target>
    <path>/dev/vg_fast</path>
  </target>
</pool>
"""


def validate_with_libvirt_schema(xml_text, tmp_path):
    """Validate against libvirt's RNG when available; returns False when it is not."""
    if not (shutil.which("xmllint") and os.path.exists(SCHEMA)):
        return False
    path = tmp_path / "pool.xml"
    path.write_text(xml_text)
    result = subprocess.run(["xmllint", "--noout", "--relaxng", SCHEMA, str(path)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr + xml_text
    return True


# ---- parse ---------------------------------------------------------------------------------
def test_parse_dir_pool():
    assert pool_xml.parse(DIR_XML) == {
        "name": "images", "uuid": UUID, "type": "dir", "path": "/var/lib/pools/images",
        "owner": 1000, "group": 1000, "mode": "0755", "source": None,
        "capacity": 270553174016, "allocation": 26354196480, "available": 244198977536,
    }


def test_parse_netfs_pool():
    state = pool_xml.parse(NETFS_XML)
    assert state["source"] == {"host": "nfs.example.com", "dir": "/export/vm", "format": "nfs"}
    assert state["path"] == "/mnt/share"  # trailing slash dropped
    assert (state["owner"], state["group"], state["mode"]) == (None, None, None)
    assert state["capacity"] == 0 and state["allocation"] is None


def test_parse_logical_pool():
    state = pool_xml.parse(LOGICAL_XML)
    assert state["source"] == {"name": "vg_fast", "devices": ["/dev/sdb", "/dev/sdc"]}
    assert state["uuid"] is None and state["type"] == "logical"


@pytest.mark.parametrize("perms, expected", [
    ("<mode>0711</mode><owner>-1</owner><group>-1</group>", (None, None, "0711")),
    ("<mode>755</mode>", (None, None, "0755")),
    ("<owner>107</owner><group>994</group>", (107, 994, None)),
    ("", (None, None, None)),
])
def test_parse_permissions(perms, expected):
    xml = "<pool type='dir'><name>p</name><target><path>/p</path><permissions>%s</permissions></target></pool>" % perms
    state = pool_xml.parse(xml)
    assert (state["owner"], state["group"], state["mode"]) == expected


def test_parse_netfs_without_format_is_auto():
    xml = "<pool type='netfs'><name>n</name><source><host name='h'/><dir path='/e'/></source>" \
          "<target><path>/m</path></target></pool>"
    assert pool_xml.parse(xml)["source"] == {"host": "h", "dir": "/e", "format": "auto"}


@pytest.mark.parametrize("unit, factor", [("bytes", 1), ("KiB", 1024), ("G", 1024 ** 3), ("MB", 1000 ** 2)])
def test_parse_size_units(unit, factor):
    xml = "<pool type='dir'><name>p</name><capacity unit='%s'>3</capacity><target><path>/p</path></target></pool>" % unit
    assert pool_xml.parse(xml)["capacity"] == 3 * factor


# ---- render ----------------------------------------------------------------------------------
def _planned(params, **world_kwargs):
    planner = PoolPlanner()
    base = {"name": "p", "state": "present", "active": True, "autostart": True}
    base.update(params)
    return planner.plan(planner.normalize(base), PoolWorld(local=True, **world_kwargs)).desired


@pytest.mark.parametrize("params", [
    {"name": "images", "path": "/var/lib/pools/images"},
    {"name": "images", "path": "/var/lib/pools/images", "owner": 107, "group": 994, "mode": "0750"},
    {"name": "share", "type": "netfs", "path": "/mnt/share",
     "source": {"host": "nfs.example.com", "dir": "/export/vm", "format": "nfs"}},
    {"name": "share", "type": "netfs", "path": "/mnt/share", "source": {"host": "10.0.0.5", "dir": "/e"}},
    {"name": "smb", "type": "netfs", "path": "/mnt/smb", "source": {"host": "fs", "dir": "vms", "format": "cifs"}},
    {"name": "vg", "type": "logical"},
    {"name": "vg", "type": "logical", "source": {"name": "vg_fast", "devices": ["/dev/sdc", "/dev/sdb"]},
     "build": True},
])
def test_render_round_trip(params, tmp_path):
    desired = _planned(params)
    xml = pool_xml.render(desired)
    state = pool_xml.parse(xml)
    for key in ("name", "type", "path", "owner", "group", "mode", "source"):
        assert state[key] == desired[key], key
    validate_with_libvirt_schema(xml, tmp_path)


def test_render_netfs_and_logical_xml_shape():
    root = ET.fromstring(pool_xml.render(_planned(
        {"name": "share", "type": "netfs", "path": "/mnt/share",
         "source": {"host": "nfs.example.com", "dir": "/export/vm", "format": "nfs"}})))
    assert root.get("type") == "netfs"
    assert [c.tag for c in root] == ["name", "source", "target"]
    assert root.find("source/host").get("name") == "nfs.example.com"
    assert root.find("source/dir").get("path") == "/export/vm"
    assert root.find("source/format").get("type") == "nfs"
    root = ET.fromstring(pool_xml.render(_planned(
        {"name": "vg", "type": "logical", "source": {"devices": ["/dev/sdb"]}, "build": True})))
    assert root.findtext("source/name") == "vg"
    assert [d.get("path") for d in root.findall("source/device")] == ["/dev/sdb"]
    assert root.findtext("target/path") == "/dev/vg"
    assert root.find("target/permissions") is None


def test_render_dir_pool_without_permissions_has_none():
    root = ET.fromstring(pool_xml.render(_planned({"path": "/p"})))
    assert root.find("target/permissions") is None and root.find("source") is None


def test_render_escapes_names_and_paths():
    xml = pool_xml.render({"name": "a<b>&'\"", "type": "dir", "path": "/srv/x&y<z>"})
    state = pool_xml.parse(xml)
    assert state["name"] == "a<b>&'\"" and state["path"] == "/srv/x&y<z>"


def test_render_edits_in_place_and_keeps_what_it_does_not_model(tmp_path):
    state = pool_xml.parse(DIR_XML)
    state.update(mode="0700", owner=0)
    xml = pool_xml.render(state, base_xml=DIR_XML)
    root = ET.fromstring(xml)
    assert root.findtext("uuid") == UUID
    assert root.find("capacity").text == "270553174016"
    again = pool_xml.parse(xml)
    assert (again["mode"], again["owner"], again["group"]) == ("0700", 0, 1000)
    validate_with_libvirt_schema(xml, tmp_path)


def test_render_keeps_unmodelled_source_children():
    state = pool_xml.parse(NETFS_XML)
    root = ET.fromstring(pool_xml.render(state, base_xml=NETFS_XML))
    assert root.find("source/protocol").get("ver") == "4"
    assert [c.tag for c in root.find("source")] == ["host", "dir", "format", "protocol"]
    state["source"]["host"] = "other"
    root = ET.fromstring(pool_xml.render(state, base_xml=NETFS_XML))
    assert root.find("source/host").get("name") == "other"
    assert len(root.findall("source/host")) == 1


def test_render_with_none_leaves_permissions_alone():
    state = {"name": "images", "path": None, "owner": None, "group": None, "mode": "0700"}
    again = pool_xml.parse(pool_xml.render(state, base_xml=DIR_XML))
    assert (again["mode"], again["owner"], again["group"], again["path"]) == (
        "0700", 1000, 1000, "/var/lib/pools/images")


def test_render_does_not_change_the_type_of_an_existing_definition():
    state = dict(pool_xml.parse(NETFS_XML), type="dir")
    assert ET.fromstring(pool_xml.render(state, base_xml=NETFS_XML)).get("type") == "netfs"


def test_libvirt_schema_accepts_the_samples(tmp_path):
    for xml in (DIR_XML, NETFS_XML, LOGICAL_XML):
        if not validate_with_libvirt_schema(xml.strip(), tmp_path):
            pytest.skip("libvirt's storagepool.rng or xmllint is not installed")


# ---- purity --------------------------------------------------------------------------------
@pytest.mark.parametrize("module", [
    "ansible_collections.converge.virt.plugins.module_utils.libvirt.pool_xml",
    "ansible_collections.converge.virt.plugins.module_utils.resources.pool",
])
def test_pure_modules_do_not_import_libvirt(module):
    code = "import sys, importlib; importlib.import_module(%r); sys.exit(1 if 'libvirt' in sys.modules else 0)" % module
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr or "%s imported libvirt" % module
