# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of cloudinit.py: the checks and rendering of the cloud_init option, the seed digest,
and the NoCloud ISO, read back by an independent ISO 9660 / Joliet reader written here."""

from __future__ import annotations

import datetime
import hashlib
import json

import pytest
import yaml

from ansible_collections.converge.virt.plugins.module_utils import cloudinit
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Problems

SECTOR = 2048


def _normalize(value, name="web-01"):
    problems = Problems()
    result = cloudinit.normalize(value, name, problems)
    return result, problems.items


def _ok(value, name="web-01"):
    result, items = _normalize(value, name)
    assert items == []
    assert result is not None
    return result


def _problem(value, field, words, name="web-01"):
    result, items = _normalize(value, name)
    assert result is None
    assert items, "expected a problem"
    fields = [f for f, _m in items]
    assert field in fields, items
    message = [m for f, m in items if f == field][0]
    for word in words:
        assert word in message, (word, message)
    return message


class _Unsafe(str):
    """Stands for Ansible's unsafe text: a str subclass that yaml.safe_dump cannot represent."""


# ---- an independent ISO 9660 reader ----------------------------------------------------------
def _both(raw, size):
    little = int.from_bytes(raw[:size], "little")
    big = int.from_bytes(raw[size:2 * size], "big")
    assert little == big, "both-endian field disagrees: %r" % (raw,)
    return little


def _descriptors(data):
    assert len(data) % SECTOR == 0
    assert data[:16 * SECTOR] == b"\x00" * (16 * SECTOR)
    found, sector = [], 16
    while True:
        vd = data[sector * SECTOR:(sector + 1) * SECTOR]
        assert vd[1:6] == b"CD001" and vd[6] == 1, sector
        if vd[0] == 255:
            return found
        found.append(vd)
        sector += 1


def _record(buf, offset):
    length = buf[offset]
    assert buf[offset + 1] == 0
    name_length = buf[offset + 32]
    assert length == 33 + name_length + (0 if name_length % 2 else 1)
    return {
        "length": length,
        "extent": _both(buf[offset + 2:offset + 10], 4),
        "size": _both(buf[offset + 10:offset + 18], 4),
        "date": bytes(buf[offset + 18:offset + 25]),
        "flags": buf[offset + 25],
        "sequence": _both(buf[offset + 28:offset + 32], 2),
        "id": bytes(buf[offset + 33:offset + 33 + name_length]),
    }


def _directory(data, extent, size):
    assert size % SECTOR == 0
    records = []
    for sector in range(extent, extent + size // SECTOR):
        block = data[sector * SECTOR:(sector + 1) * SECTOR]
        offset = 0
        while offset < SECTOR and block[offset]:
            record = _record(block, offset)
            assert offset + record["length"] <= SECTOR, "a record crosses a sector"
            records.append(record)
            offset += record["length"]
        assert block[offset:] == b"\x00" * (SECTOR - offset)
    return records


def _path_table(data, location, size, little):
    order = "little" if little else "big"
    raw = data[location * SECTOR:location * SECTOR + size]
    entries, offset = [], 0
    while offset < size:
        length = raw[offset]
        entries.append({
            "extent": int.from_bytes(raw[offset + 2:offset + 6], order),
            "parent": int.from_bytes(raw[offset + 6:offset + 8], order),
            "id": raw[offset + 8:offset + 8 + length],
        })
        offset += 8 + length + (length % 2)
    assert offset == size
    return entries


def _read_tree(data, vd, joliet):
    """{name: content} of the root directory a volume descriptor points at, checking it on the way."""
    root = _record(vd, 156)
    assert root["id"] == b"\x00" and root["flags"] == 2
    records = _directory(data, root["extent"], root["size"])
    assert [r["id"] for r in records[:2]] == [b"\x00", b"\x01"]
    for dot in records[:2]:
        assert (dot["extent"], dot["size"], dot["flags"]) == (root["extent"], root["size"], 2)
    files = {}
    total = len(data) // SECTOR
    for record in records[2:]:
        assert record["flags"] == 0 and record["sequence"] == 1
        assert record["date"] == bytes([80, 1, 1, 0, 0, 0, 0])
        name = record["id"].decode("utf-16-be" if joliet else "ascii")
        if record["size"]:
            assert record["extent"] + (record["size"] + SECTOR - 1) // SECTOR <= total
        files[name] = data[record["extent"] * SECTOR:record["extent"] * SECTOR + record["size"]]
    ids = [r["id"] for r in records[2:]]
    if joliet:
        assert ids == sorted(ids)
    else:
        split = [i.decode("ascii").split(";")[0].split(".") for i in ids]
        assert split == sorted(split, key=lambda p: (p[0].ljust(8), p[1].ljust(3)))
    size = _both(vd[132:140], 4)
    tables = (_path_table(data, int.from_bytes(vd[140:144], "little"), size, True),
              _path_table(data, int.from_bytes(vd[148:152], "big"), size, False))
    for table in tables:
        assert table == [{"extent": root["extent"], "parent": 1, "id": b"\x00"}]
    assert vd[144:148] == b"\x00" * 4 and vd[152:156] == b"\x00" * 4
    return files, records


def read_iso(data):
    """{"label", "joliet_label", "primary": {name: bytes}, "joliet": {name: bytes}} of an image."""
    descriptors = _descriptors(data)
    assert [vd[0] for vd in descriptors] == [1, 2]
    pvd, svd = descriptors
    for vd in descriptors:
        assert _both(vd[80:88], 4) == len(data) // SECTOR
        assert _both(vd[120:124], 2) == 1 and _both(vd[124:128], 2) == 1
        assert _both(vd[128:132], 2) == SECTOR
        assert vd[881] == 1
        assert vd[813:830] == b"1980010100000000\x00"
    assert svd[88:91] == b"%/E" and svd[91:120] == b"\x00" * 29
    assert pvd[88:120] == b"\x00" * 32
    primary, primary_records = _read_tree(data, pvd, False)
    joliet, joliet_records = _read_tree(data, svd, True)
    # Both trees share the file extents, and no extent overlaps another or the metadata.
    extents = sorted((r["extent"], r["size"]) for r in joliet_records[2:] if r["size"])
    assert extents == sorted((r["extent"], r["size"]) for r in primary_records[2:] if r["size"])
    first_free = max(_record(vd, 156)["extent"] + _record(vd, 156)["size"] // SECTOR for vd in descriptors)
    for (extent, size), following in zip(extents, extents[1:] + [(len(data) // SECTOR, 0)]):
        assert first_free <= extent
        first_free = extent + (size + SECTOR - 1) // SECTOR
        assert first_free <= following[0]
    return {
        "label": pvd[40:72].decode("ascii").rstrip(" "),
        "joliet_label": svd[40:72].decode("utf-16-be").rstrip(" "),
        "primary": primary,
        "joliet": joliet,
    }


# ---- the option: presence and shape ----------------------------------------------------------
NO_SEED = {"user_data": None, "meta_data": None, "network_config": None, "instance_id": None}


@pytest.mark.parametrize("value", [None, {}, NO_SEED])
def test_no_seed(value):
    assert _normalize(value) == (None, [])


@pytest.mark.parametrize("value", ["#cloud-config\n", ["a"], 3])
def test_not_a_dict(value):
    _problem(value, "cloud_init", ["must be a dictionary"])


def test_unknown_keys_are_named():
    message = _problem({"user_data": "#!/bin/sh\n", "userdata": "x", "vendor_data": "y"}, "cloud_init",
                       ["unknown keys", "userdata", "vendor_data", "user_data"])
    assert message.index("userdata") < message.index("vendor_data")


def test_field_prefix_is_used():
    problems = Problems()
    assert cloudinit.normalize({"user_data": 1}, "vm", problems, field="instances[0].cloud_init") is None
    assert problems.items[0][0] == "instances[0].cloud_init.user_data"


@pytest.mark.parametrize("key", ["user_data", "meta_data", "network_config"])
@pytest.mark.parametrize("value", [1, ["a"], True, 2.5])
def test_values_must_be_str_or_dict(key, value):
    _problem({key: value}, "cloud_init." + key, ["must be a string or a dictionary", type(value).__name__])


def test_seed_size_limit():
    big = "#!/bin/sh\n" + "#" * cloudinit.MAX_SEED_BYTES
    _problem({"user_data": big}, "cloud_init", ["16 MiB"])


def test_all_problems_are_reported_together():
    _result, items = _normalize({"user_data": "echo hi", "meta_data": "[1", "network_config": {"version": 3},
                                 "instance_id": "a/b"})
    assert sorted(f for f, _m in items) == ["cloud_init.instance_id", "cloud_init.meta_data",
                                            "cloud_init.network_config", "cloud_init.user_data"]


# ---- user-data -------------------------------------------------------------------------------
def test_default_user_data():
    result = _ok({"instance_id": "i-1"})
    assert result["files"]["user-data"] == b"#cloud-config\n{}\n"
    assert sorted(result["files"]) == ["meta-data", "user-data"]


@pytest.mark.parametrize("text", [
    "#cloud-config\npackages: [htop]\n",
    "#cloud-config\r\nruncmd:\r\n  - echo hi\r\n",
    "#cloud-config\n",
    "#cloud-config\n# only a comment\n",
    "#cloud-config-archive\n- type: text/cloud-config\n  content: '#cloud-config'\n",
    "#!/bin/sh\necho h\u00e9llo\n",
    "#include\nhttps://example.com/a.yaml\n",
    "#include-once\nhttps://example.com/a.yaml\n",
    "#cloud-boothook\n#!/bin/sh\necho boot\n",
    "#part-handler\ndef list_types(): return []\n",
    "## template: jinja\n#cloud-config\nhostname: {{ v1.local_hostname }}\n",
    "Content-Type: multipart/mixed; boundary=\"XX\"\nMIME-Version: 1.0\n\n--XX\n"
    "Content-Type: text/x-shellscript\n\n#!/bin/sh\necho hi\n--XX--\n",
    "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"XX\"\n\n--XX--\n",
])
def test_user_data_text_is_used_verbatim(text):
    result = _ok({"user_data": text})
    assert result["files"]["user-data"] == text.encode("utf-8")


@pytest.mark.parametrize("text", ["echo hi\n", "", " #cloud-config\na: 1\n", "packages: [htop]\n", "#cloudconfig\n"])
def test_user_data_needs_a_known_start(text):
    _problem({"user_data": text}, "cloud_init.user_data",
             ["must start with #cloud-config, #! (a script), #include, #cloud-boothook or be MIME multi-part"])


def test_user_data_mime_needs_mime_version():
    _problem({"user_data": "Content-Type: text/plain\n\nhello\n"}, "cloud_init.user_data", ["MIME-Version"])


@pytest.mark.parametrize("text, words", [
    ("#cloud-config\npackages: [htop\n", ["is not valid #cloud-config YAML", "(line 3, column 1)", "while parsing a flow sequence (line 2, column 11)"]),
    ("#cloud-config\na: 1\n b: 2\n", ["is not valid #cloud-config YAML", "mapping values are not allowed", "(line 3, column 3)"]),
    ("#cloud-config\n- a\n- b\n", ["is not valid #cloud-config YAML", "must be a mapping", "list"]),
    ("#cloud-config\njust text\n", ["is not valid #cloud-config YAML", "must be a mapping", "str"]),
    ("#cloud-config\nwhen: 2020-13-45\n", ["is not valid #cloud-config YAML"]),
])
def test_user_data_cloud_config_must_be_a_yaml_mapping(text, words):
    message = _problem({"user_data": text}, "cloud_init.user_data", words)
    assert "\n" not in message


def test_user_data_dict_is_rendered_as_cloud_config():
    data = {"users": [{"name": "cv", "ssh_authorized_keys": ["ssh-ed25519 AAAA k"]}],
            "write_files": [{"path": "/etc/motd", "content": "line one\nline two\n"}],
            "package_update": True, "growpart": {"mode": "auto"}, "h\u00e9": "caf\u00e9"}
    raw = _ok({"user_data": data})["files"]["user-data"]
    text = raw.decode("utf-8")
    assert text.startswith("#cloud-config\n")
    assert yaml.safe_load(text) == data
    assert "line one\n" in text  # multi-line strings stay readable (block style)
    assert "caf\u00e9" in text
    keys = [line.split(":")[0] for line in text.splitlines()[1:] if line and not line.startswith((" ", "-"))]
    assert keys == sorted(keys)


@pytest.mark.parametrize("text", [
    "a\nb", "a\nb\n", "a\nb\n\n", "\n", "\n\nx", "  indented\nfirst\n", "trailing \nspace\n",
    "tab\there\nx\n", "crlf\r\nline\r\n", "# not a comment\nx", "- not a list\nx", "yes\nno",
    "unicode \u00e9\n\u2603\n", "ctrl \x07\nx", "a: b\nc: d\n", "'quoted'\n\"x\"\n", "\ufeffbom\nx",
])
def test_user_data_multiline_strings_round_trip(text):
    data = {"write_files": [{"path": "/x", "content": text}], "runcmd": [text]}
    raw = _ok({"user_data": data})["files"]["user-data"]
    assert yaml.safe_load(raw.decode("utf-8")) == data


def test_dates_from_yaml_text_are_kept():
    result = _ok({"meta_data": "instance-id: i\nbuilt: 2024-05-06\n"})
    assert _meta(result)["built"] == datetime.date(2024, 5, 6)


def test_user_data_dict_of_str_subclasses_renders():
    data = {_Unsafe("runcmd"): [_Unsafe("echo hi")], "n": 1, "f": 1.5, "none": None}
    text = _ok({"user_data": data})["files"]["user-data"].decode()
    assert yaml.safe_load(text) == {"runcmd": ["echo hi"], "n": 1, "f": 1.5, "none": None}
    assert "!!" not in text and "&" not in text


def test_user_data_dict_without_aliases():
    shared = ["a", "b"]
    text = _ok({"user_data": {"x": shared, "y": shared}})["files"]["user-data"].decode()
    assert "&" not in text and "*" not in text


@pytest.mark.parametrize("data, words", [
    ({1: "a"}, ["key 1", "not a string"]),
    ({"a": {"b": [object()]}}, ["a.b[0]", "object"]),
    ({"a": float("nan")}, ["not finite"]),
    ({"a": b"bytes"}, ["bytes"]),
])
def test_user_data_dict_must_be_plain_data(data, words):
    _problem({"user_data": data}, "cloud_init.user_data", ["cannot be rendered"] + words)


def test_user_data_not_encodable():
    _problem({"user_data": "#!/bin/sh\necho \udcff\n"}, "cloud_init.user_data", ["UTF-8"])


# ---- meta-data -------------------------------------------------------------------------------
def _meta(result):
    return yaml.safe_load(result["files"]["meta-data"])


def test_meta_data_defaults_from_the_instance_name():
    result = _ok({"user_data": "#!/bin/sh\n"}, name="web-01")
    assert _meta(result) == {"instance-id": "web-01", "local-hostname": "web-01"}
    assert result["instance_id"] == "web-01"


def test_meta_data_instance_id_option():
    result = _ok({"instance_id": "iid-42"}, name="Web-01")
    assert _meta(result) == {"instance-id": "iid-42", "local-hostname": "Web-01"}
    assert result["instance_id"] == "iid-42"


@pytest.mark.parametrize("name", ["web_01", "web.example.com", "-web", "web-", "a" * 64, "vm 1", "h\u00e9"])
def test_local_hostname_only_from_a_valid_label(name):
    result = _ok({"instance_id": "x"}, name=name)
    assert _meta(result) == {"instance-id": "x"}


@pytest.mark.parametrize("meta", [
    {"instance-id": "iid-7", "local-hostname": "db", "public-keys": ["ssh-rsa AAA"]},
    "instance-id: iid-7\nlocal-hostname: db\npublic-keys:\n  - ssh-rsa AAA\n",
    '{"instance-id": "iid-7", "local-hostname": "db", "public-keys": ["ssh-rsa AAA"]}',
])
def test_meta_data_given(meta):
    result = _ok({"meta_data": meta})
    assert _meta(result) == {"instance-id": "iid-7", "local-hostname": "db", "public-keys": ["ssh-rsa AAA"]}
    assert result["instance_id"] == "iid-7"


def test_meta_data_defaults_fill_missing_keys_only():
    result = _ok({"meta_data": {"local-hostname": "db"}, "instance_id": "i-9"}, name="web")
    assert _meta(result) == {"instance-id": "i-9", "local-hostname": "db"}
    result = _ok({"meta_data": "# nothing\n"}, name="web")
    assert _meta(result) == {"instance-id": "web", "local-hostname": "web"}


def test_meta_data_numeric_instance_id_becomes_text():
    result = _ok({"meta_data": "instance-id: 12345\n"})
    assert _meta(result)["instance-id"] == "12345"
    assert result["instance_id"] == "12345"


def test_meta_data_text_is_rendered_deterministically():
    one = _ok({"meta_data": "b: 1\na: 2\n# comment\n"})
    two = _ok({"meta_data": {"a": 2, "b": 1}})
    assert one["files"]["meta-data"] == two["files"]["meta-data"]
    assert one["sha256"] == two["sha256"]


def test_instance_id_conflict():
    _problem({"instance_id": "a", "meta_data": {"instance-id": "b"}}, "cloud_init.instance_id",
             ["'a'", "'b'", "differs"])
    assert _ok({"instance_id": "a", "meta_data": {"instance-id": "a"}})["instance_id"] == "a"


@pytest.mark.parametrize("value", ["", "a/b", " a", "..", "a\nb", 5])
def test_instance_id_must_be_usable(value):
    _problem({"instance_id": value}, "cloud_init.instance_id", [])


@pytest.mark.parametrize("value", ["a/b", "", ["x"], True])
def test_meta_data_instance_id_must_be_usable(value):
    _problem({"meta_data": {"instance-id": value}}, "cloud_init.meta_data.instance-id", [])


@pytest.mark.parametrize("text, words", [
    ("instance-id: [x\n", ["is not valid YAML", "line"]),
    ("- a\n", ["must be a YAML mapping", "list"]),
    ("hello\n", ["must be a YAML mapping", "str"]),
])
def test_meta_data_text_must_be_a_mapping(text, words):
    _problem({"meta_data": text}, "cloud_init.meta_data", words)


def test_meta_data_dict_must_be_plain_data():
    _problem({"meta_data": {"x": {1, 2}}}, "cloud_init.meta_data", ["cannot be rendered", "set"])


# ---- network-config --------------------------------------------------------------------------
V2 = {"version": 2, "ethernets": {"eth0": {"match": {"macaddress": "52:54:00:12:34:56"}, "dhcp4": True}}}
V1 = {"version": 1, "config": [{"type": "physical", "name": "eth0", "subnets": [{"type": "dhcp"}]}]}


@pytest.mark.parametrize("value, expected", [
    (V2, V2),
    (V1, V1),
    ({"network": V2}, V2),
    (yaml.safe_dump(V2), V2),
    (yaml.safe_dump({"network": V1}), V1),
    (json.dumps(V2), V2),
    (dict(V2, version="2"), V2),
    ({"config": "disabled"}, {"config": "disabled"}),
    ({"network": {"config": "disabled"}}, {"config": "disabled"}),
])
def test_network_config(value, expected):
    result = _ok({"network_config": value})
    assert yaml.safe_load(result["files"]["network-config"]) == expected


def test_no_network_config_means_no_file():
    assert "network-config" not in _ok({"user_data": "#!/bin/sh\n"})["files"]


@pytest.mark.parametrize("value, words", [
    ({"ethernets": {}}, ["needs a version"]),
    ({"version": 3}, ["version 3 is not supported"]),
    ({"version": True}, ["version True is not supported"]),
    ({"version": "two"}, ["'two' is not supported"]),
    ({"version": 1}, ["version 1 needs 'config'"]),
    ({"network": V2, "version": 2}, ["top-level 'network' key"]),
    ({"network": [1]}, ["top-level 'network' key"]),
    ("version: [2\n", ["is not valid YAML", "(line 2, column 1)", "flow sequence (line 1, column 10)"]),
    ("- 2\n", ["must be a mapping", "list"]),
    ("", ["must be a mapping", "empty"]),
    ({"version": 2, "ethernets": {"eth0": {"mtu": float("inf")}}}, ["cannot be rendered", "not finite"]),
])
def test_network_config_problems(value, words):
    _problem({"network_config": value}, "cloud_init.network_config", words)


# ---- without PyYAML --------------------------------------------------------------------------
@pytest.fixture
def no_yaml(monkeypatch):
    monkeypatch.setattr(cloudinit, "HAS_YAML", False)


def test_without_yaml_dicts_are_rendered_as_json(no_yaml):  # pylint: disable=unused-argument,redefined-outer-name
    data = {"packages": ["htop"], "write_files": [{"path": "/x", "content": "a\nb\n"}]}
    result = _ok({"user_data": data, "meta_data": {"a": 1}, "network_config": V2})
    user = result["files"]["user-data"].decode()
    assert user.startswith("#cloud-config\n")
    assert json.loads(user.split("\n", 1)[1]) == data
    assert yaml.safe_load(user) == data  # JSON is YAML
    assert json.loads(result["files"]["meta-data"]) == {"a": 1, "instance-id": "web-01", "local-hostname": "web-01"}
    assert json.loads(result["files"]["network-config"]) == V2
    assert result["unvalidated"] is False


def test_without_yaml_json_text_is_still_checked(no_yaml):  # pylint: disable=unused-argument,redefined-outer-name
    result = _ok({"user_data": '#cloud-config\n{"a": 1}\n', "meta_data": '{"instance-id": "i"}'})
    assert result["unvalidated"] is False
    assert json.loads(result["files"]["meta-data"]) == {"instance-id": "i", "local-hostname": "web-01"}
    assert _ok({"user_data": "#cloud-config\n"})["unvalidated"] is False
    _problem({"user_data": "#cloud-config\n[1]\n"}, "cloud_init.user_data", ["must be a mapping"])
    _problem({"network_config": '{"version": 9}'}, "cloud_init.network_config", ["not supported"])


def test_without_yaml_dates_become_text(no_yaml):  # pylint: disable=unused-argument,redefined-outer-name
    result = _ok({"meta_data": {"built": datetime.date(2024, 5, 6)}})
    assert json.loads(result["files"]["meta-data"])["built"] == "2024-05-06"


def test_without_yaml_yaml_text_goes_unchecked(no_yaml):  # pylint: disable=unused-argument,redefined-outer-name
    meta = "instance-id: i-1\nlocal-hostname: db\n"
    net = "version: 2\nethernets: {}\n"
    result = _ok({"user_data": "#cloud-config\npackages: [htop]\n", "meta_data": meta, "network_config": net})
    assert result["unvalidated"] is True
    assert result["files"]["meta-data"] == meta.encode()
    assert result["files"]["network-config"] == net.encode()
    assert result["instance_id"] == "web-01"


# ---- digest ----------------------------------------------------------------------------------
def test_digest_is_stable():
    # A fixed value: the digest must not change across runs, Python versions or dict orders.
    files = {"user-data": b"#cloud-config\n{}\n", "meta-data": b"instance-id: x\n"}
    expected = hashlib.sha256(b"converge.virt cloud-init seed v1\n"
                              b"9:meta-data 15\ninstance-id: x\n"
                              b"9:user-data 17\n#cloud-config\n{}\n").hexdigest()
    assert cloudinit._digest(files) == expected  # pylint: disable=protected-access
    assert cloudinit._digest(dict(reversed(list(files.items())))) == expected  # pylint: disable=protected-access


def test_same_input_same_digest():
    spec = {"user_data": {"b": 1, "a": [1, 2]}, "meta_data": {"z": 1, "y": 2}, "network_config": V2}
    reordered = {"network_config": dict(reversed(list(V2.items()))), "meta_data": {"y": 2, "z": 1},
                 "user_data": {"a": [1, 2], "b": 1}}
    one, two = _ok(spec), _ok(reordered)
    assert one == two
    assert cloudinit.seed_iso(one["files"]) == cloudinit.seed_iso(two["files"])


@pytest.mark.parametrize("change", [
    {"user_data": {"a": 2}},
    {"meta_data": {"x": 1}},
    {"network_config": {"version": 2, "ethernets": {}}},
    {"instance_id": "other"},
])
def test_any_change_changes_the_digest(change):
    base = {"user_data": {"a": 1}, "network_config": V2}
    assert _ok(base)["sha256"] != _ok(dict(base, **change))["sha256"]
    assert _ok(base)["sha256"] != _ok(base, name="web-02")["sha256"]


def test_digest_frames_names_and_contents():
    one = cloudinit._digest({"a": b"bc"})  # pylint: disable=protected-access
    assert one != cloudinit._digest({"ab": b"c"})  # pylint: disable=protected-access
    assert one != cloudinit._digest({"a": b"b", "c": b""})  # pylint: disable=protected-access


# ---- the ISO ---------------------------------------------------------------------------------
# The image of SAMPLE, checked by hand: Linux isofs mounts it (loop, read-only) and shows the Joliet
# names; blkid says LABEL="cidata" TYPE="iso9660"; isoinfo and pycdlib read both trees.
GOLDEN_ISO_SHA256 = "2f70cbf06c577ff84cdcf884502b50915c06d2b6b06665ac07fe35293350cc12"
SAMPLE = {"user-data": b"#cloud-config\n{}\n", "meta-data": b"instance-id: web-01\n",
          "network-config": b"version: 2\nethernets: {}\n"}


def test_iso_round_trip_both_trees():
    data = cloudinit.seed_iso(SAMPLE)
    iso = read_iso(data)
    assert iso["label"] == "CIDATA"
    assert iso["joliet_label"] == "cidata"
    assert iso["joliet"] == SAMPLE
    assert iso["primary"] == {"META_DAT.;1": SAMPLE["meta-data"], "NETWORK_.;1": SAMPLE["network-config"],
                              "USER_DAT.;1": SAMPLE["user-data"]}


def test_iso_is_deterministic_and_golden():
    data = cloudinit.seed_iso(SAMPLE)
    assert data == cloudinit.seed_iso(dict(reversed(list(SAMPLE.items()))))
    assert len(data) == 28 * SECTOR
    # Pins the exact bytes: a change here changes every seed ISO already written.
    assert hashlib.sha256(data).hexdigest() == GOLDEN_ISO_SHA256


@pytest.mark.parametrize("sizes", [
    {"user-data": 0, "meta-data": 10},
    {"user-data": 2048, "meta-data": 2047, "network-config": 2049},
    {"user-data": 5000, "meta-data": 1},
    {"user-data": 0, "meta-data": 0, "network-config": 0},
    {"user-data": 4096 * 3, "meta-data": 100000},
])
def test_iso_odd_sizes(sizes):
    files = dict((name, bytes((i * 7 + len(name)) % 251 for i in range(size))) for name, size in sizes.items())
    data = cloudinit.seed_iso(files)
    iso = read_iso(data)
    assert iso["joliet"] == files
    assert sorted(iso["primary"].values()) == sorted(files.values())
    data_sectors = sum((size + SECTOR - 1) // SECTOR for size in sizes.values())
    assert len(data) // SECTOR == 16 + 3 + 4 + 2 + data_sectors


def test_iso_many_files_and_name_clashes():
    names = ["user-data", "user-data-2", "user-data-3", "meta-data", "vendor-data", "network-config",
             "a.b.c", "README.txt", "x" * 64, ".hidden", "caf\u00e9-data"]
    names += ["file-%02d-%s" % (i, "n" * 50) for i in range(40)]  # forces multi-sector directories
    files = dict((name, name.encode("utf-8") * 3) for name in names)
    data = cloudinit.seed_iso(files)
    iso = read_iso(data)
    assert iso["joliet"] == files
    assert len(iso["primary"]) == len(files)
    assert sorted(iso["primary"].values()) == sorted(files.values())
    for name in iso["primary"]:
        base, rest = name.split(".")
        ext, version = rest.split(";")
        assert version == "1" and 1 <= len(base) <= 8 and len(ext) <= 3
        assert all(c.isdigit() or ("A" <= c <= "Z") or c == "_" for c in base + ext)
    assert "USER_DA1.;1" in iso["primary"] and "A_B.C;1" in iso["primary"] and "README.TXT;1" in iso["primary"]


@pytest.mark.parametrize("label", ["cidata", "CIDATA", "config_2"])
def test_iso_label(label):
    iso = read_iso(cloudinit.seed_iso(SAMPLE, label=label))
    assert iso["label"] == label.upper()
    assert iso["joliet_label"] == label


@pytest.mark.parametrize("files, label", [
    ({"a/b": b""}, "cidata"),
    ({"a;1": b""}, "cidata"),
    ({"": b""}, "cidata"),
    ({"..": b""}, "cidata"),
    ({"x" * 65: b""}, "cidata"),
    ({"\U0001f600": b""}, "cidata"),
    ({"a": b""}, "ci-data"),
    ({"a": b""}, ""),
    ({"a": b""}, "x" * 17),
])
def test_iso_refuses_what_it_cannot_hold(files, label):
    with pytest.raises(ValueError):
        cloudinit.seed_iso(files, label=label)


def test_iso_of_a_normalized_seed():
    result = _ok({"user_data": {"packages": ["htop"]}, "network_config": V2})
    iso = read_iso(cloudinit.seed_iso(result["files"]))
    assert iso["joliet"] == result["files"]
