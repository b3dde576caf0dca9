# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cloud-init NoCloud seeds, built in pure Python.

``normalize`` checks an instance's ``cloud_init`` option and renders the seed files
(``user-data``, ``meta-data`` and, when given, ``network-config``) deterministically, with a
digest over them.  ``seed_iso`` packs such files into an ISO 9660 image labelled ``cidata``,
with a Joliet tree that carries the real (lower-case, dashed) names cloud-init looks for.
Neither needs an external command; PyYAML is used when present and is optional."""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import re
import struct

try:
    import yaml
    HAS_YAML = True
except ImportError:
    yaml = None
    HAS_YAML = False

from ansible_collections.converge.virt.plugins.module_utils.engine import validate

KEYS = ("user_data", "meta_data", "network_config", "instance_id")
MAX_SEED_BYTES = 16 * 1024 * 1024

# The starts cloud-init recognises for a user-data part.  "#cloud-config" also covers
# "#cloud-config-archive" and "#cloud-config-jsonp"; "#include" covers "#include-once".
_USER_DATA_STARTS = ("#cloud-config", "#!", "#include", "#cloud-boothook", "#part-handler",
                     "## template: jinja")
_CLOUD_CONFIG_HEADER = re.compile(r"#cloud-config[ \t]*(\r?\n|\Z)")
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")


# ---- rendering -----------------------------------------------------------------------------
if HAS_YAML:
    class _SeedDumper(yaml.SafeDumper):  # pylint: disable=too-many-ancestors
        """Safe dumper that never writes aliases and keeps multi-line strings readable."""

        def ignore_aliases(self, data):
            return True

    def _represent_str(dumper, data):
        style = "|" if "\n" in data else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    _SeedDumper.add_representer(str, _represent_str)


def _dump(data):
    """Deterministic text for plain data: YAML with sorted keys, or JSON (also YAML) without PyYAML."""
    if HAS_YAML:
        return yaml.dump(data, Dumper=_SeedDumper, sort_keys=True, default_flow_style=False,
                         allow_unicode=True)
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False, default=_json_default) + "\n"


def _json_default(value):
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError("%s is not JSON serializable" % type(value).__name__)


class _Unrepresentable(ValueError):
    """A value that is not plain data (mapping, list, string, number, boolean, null)."""


def _plain(value, where="top level"):
    """A copy of value made only of dict/list/str/int/float/bool/None (string subclasses such as
    Ansible's unsafe text become str), so that both renderers see the same data.  Dates (YAML
    timestamps) are kept: YAML writes them back as they were, JSON as ISO 8601 text."""
    if value is None or isinstance(value, (bool, datetime.date)):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Unrepresentable("the number at %s is not finite" % where)
        return float(value)
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Unrepresentable("the key %r at %s is not a string" % (key, where))
            result[str(key)] = _plain(item, "%s.%s" % (where, key) if where != "top level" else key)
        return result
    if isinstance(value, (list, tuple)):
        return [_plain(item, "%s[%d]" % (where, index)) for index, item in enumerate(value)]
    raise _Unrepresentable("the value at %s is a %s, not a mapping, list, string, number, boolean "
                           "or null" % (where, type(value).__name__))


_NOT_PARSED = object()


def _yaml_error_text(exc):
    """First line of a YAML error, with its 1-based line and column when known."""
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if problem and mark is not None:
        text = "%s (line %d, column %d)" % (problem, mark.line + 1, mark.column + 1)
        context = getattr(exc, "context", None)
        context_mark = getattr(exc, "context_mark", None)
        if context and context_mark is not None:
            text += ", %s (line %d, column %d)" % (context, context_mark.line + 1, context_mark.column + 1)
        return text
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class _Seed(object):
    """State of one normalization: where problems go and whether anything went unchecked."""

    def __init__(self, problems, field):
        self.problems = problems
        self.field = field
        self.unvalidated = False

    def sub(self, key):
        return "%s.%s" % (self.field, key)

    def parse(self, text, key, what, json_text=None):
        """Parse YAML text into data.  Returns _NOT_PARSED when PyYAML is missing and the text (or
        json_text, the part of it that could be JSON) is not JSON either, so that it goes unchecked;
        or None after recording a problem."""
        if HAS_YAML:
            try:
                return yaml.safe_load(text)
            except (yaml.YAMLError, ValueError, RecursionError) as exc:
                self.problems.add(self.sub(key), "is not valid %s: %s" % (what, _yaml_error_text(exc)))
                return None
        if json_text is None:
            json_text = text
        if not json_text.strip():
            return None
        try:
            return json.loads(json_text)
        except ValueError:
            self.unvalidated = True
            return _NOT_PARSED

    def render(self, data, key, header=""):
        """Deterministic bytes of data, or None after recording a problem."""
        try:
            return (header + _dump(_plain(data))).encode("utf-8")
        except (_Unrepresentable, ValueError) as exc:
            self.problems.add(self.sub(key), "cannot be rendered: %s" % (exc,))
            return None

    def encode(self, text, key):
        try:
            return text.encode("utf-8")
        except UnicodeError:
            self.problems.add(self.sub(key), "contains characters that cannot be encoded as UTF-8")
            return None

    def check_type(self, value, key):
        if isinstance(value, (str, dict)):
            return True
        self.problems.add(self.sub(key), "must be a string or a dictionary, got %s" % type(value).__name__)
        return False

    # -- user-data --------------------------------------------------------------------------
    def user_data(self, value):
        key = "user_data"
        if value is None:
            return b"#cloud-config\n{}\n"
        if not self.check_type(value, key):
            return None
        if isinstance(value, dict):
            return self.render(value, key, header="#cloud-config\n")
        match = _CLOUD_CONFIG_HEADER.match(value)
        if match:
            count = len(self.problems.items)
            # The header is a YAML comment: parse the whole text so that line numbers match it.
            data = self.parse(value, key, "#cloud-config YAML", json_text=value[match.end():])
            if len(self.problems.items) > count:
                return None
            if data is not _NOT_PARSED and data is not None and not isinstance(data, dict):
                self.problems.add(self.sub(key), "is not valid #cloud-config YAML: the document must be a "
                                                 "mapping, not a %s" % type(data).__name__)
                return None
        elif value.lower().startswith("content-type:") or "mime-version:" in value[:4096].lower():
            if "mime-version:" not in value[:4096].lower():
                self.problems.add(self.sub(key), "looks like a MIME multi-part archive but has no "
                                                 "MIME-Version header; cloud-init would ignore it")
                return None
        elif not value.startswith(_USER_DATA_STARTS):
            self.problems.add(self.sub(key), "must start with #cloud-config, #! (a script), #include, "
                                             "#cloud-boothook or be MIME multi-part")
            return None
        return self.encode(value, key)

    # -- meta-data --------------------------------------------------------------------------
    def meta_data(self, value, instance_id, instance_name):
        """Returns (bytes or None, effective instance id or None)."""
        key = "meta_data"
        data = {}
        if value is not None:
            if not self.check_type(value, key):
                return None, None
            if isinstance(value, str):
                count = len(self.problems.items)
                data = self.parse(value, key, "YAML")
                if len(self.problems.items) > count:
                    return None, None
                if data is _NOT_PARSED:
                    # Without PyYAML the text cannot be merged with the defaults: keep it as it is.
                    return self.encode(value, key), instance_id or instance_name
                if data is None:
                    data = {}
                if not isinstance(data, dict):
                    self.problems.add(self.sub(key), "must be a YAML mapping, not a %s" % type(data).__name__)
                    return None, None
            else:
                data = dict(value)
        given = data.get("instance-id")
        if given is not None:
            if isinstance(given, int) and not isinstance(given, bool):
                given = str(given)
            given = validate.resource_name(given, self.sub(key) + ".instance-id", self.problems)
            if given is None:
                return None, None
            if instance_id is not None and given != instance_id:
                self.problems.add(self.sub("instance_id"), "%r differs from meta_data's instance-id %r; "
                                                           "give only one of them" % (instance_id, given))
                return None, None
            data["instance-id"] = given
        else:
            given = instance_id if instance_id is not None else instance_name
            data["instance-id"] = given
        if data.get("local-hostname") is None:
            data.pop("local-hostname", None)
            if isinstance(instance_name, str) and _HOST_LABEL.match(instance_name):
                data["local-hostname"] = instance_name
        return self.render(data, key), given

    # -- network-config ---------------------------------------------------------------------
    def network_config(self, value):
        key = "network_config"
        if value is None:
            return None
        if not self.check_type(value, key):
            return None
        if isinstance(value, str):
            count = len(self.problems.items)
            data = self.parse(value, key, "YAML")
            if len(self.problems.items) > count:
                return None
            if data is _NOT_PARSED:
                return self.encode(value, key)
        else:
            data = value
        if not isinstance(data, dict):
            self.problems.add(self.sub(key), "must be a mapping with a version (1 or 2), not %s"
                              % ("empty" if data is None else "a %s" % type(data).__name__))
            return None
        if "network" in data:
            if len(data) != 1 or not isinstance(data["network"], dict):
                self.problems.add(self.sub(key), "a top-level 'network' key must be the only key and hold "
                                                 "a mapping")
                return None
            data = data["network"]
        data = dict(data)
        if data.get("config") == "disabled" and "version" not in data:
            return self.render(data, key)
        version = data.get("version")
        if isinstance(version, str) and version.strip() in ("1", "2"):
            version = int(version.strip())
        if isinstance(version, bool) or version not in (1, 2):
            if version is None:
                self.problems.add(self.sub(key), "needs a version: 1 or 2")
            else:
                self.problems.add(self.sub(key), "version %r is not supported (1 or 2)" % (version,))
            return None
        data["version"] = version
        if version == 1 and not isinstance(data.get("config"), list):
            self.problems.add(self.sub(key), "version 1 needs 'config', a list of network settings")
            return None
        return self.render(data, key)


def _digest(files):
    """SHA-256 over the file set: each name and length framed, then the content, by sorted name."""
    digest = hashlib.sha256(b"converge.virt cloud-init seed v1\n")
    for name in sorted(files):
        raw_name = name.encode("utf-8")
        content = files[name]
        digest.update(b"%d:%s %d\n" % (len(raw_name), raw_name, len(content)))
        digest.update(content)
    return digest.hexdigest()


def normalize(cloud_init, instance_name, problems, field="cloud_init"):
    """Check the ``cloud_init`` option of an instance and render its NoCloud seed.

    Returns None when there is no seed (None, empty, or every key null) or when a problem was
    recorded, else ``{"files": {"user-data": bytes, "meta-data": bytes[, "network-config": bytes]},
    "instance_id": str, "sha256": hex, "unvalidated": bool}``.  ``unvalidated`` is True when
    PyYAML is missing and some text could not be checked (it is then used as given)."""
    if cloud_init is None:
        return None
    if not isinstance(cloud_init, dict):
        problems.add(field, "must be a dictionary with keys %s" % ", ".join(KEYS))
        return None
    count = len(problems.items)
    unknown = sorted(str(k) for k in cloud_init if k not in KEYS)
    if unknown:
        problems.add(field, "unknown key%s %s (known: %s)" % (
            "s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(KEYS)))
    if all(cloud_init.get(k) is None for k in KEYS):
        return None
    seed = _Seed(problems, field)
    instance_id = cloud_init.get("instance_id")
    if instance_id is not None:
        instance_id = validate.resource_name(instance_id, seed.sub("instance_id"), problems)
    files = {}
    user_data = seed.user_data(cloud_init.get("user_data"))
    meta_data, effective_id = seed.meta_data(cloud_init.get("meta_data"), instance_id, instance_name)
    network_config = seed.network_config(cloud_init.get("network_config"))
    if len(problems.items) > count:
        return None
    files["user-data"] = user_data
    files["meta-data"] = meta_data
    if network_config is not None:
        files["network-config"] = network_config
    total = sum(len(content) for content in files.values())
    if total > MAX_SEED_BYTES:
        problems.add(field, "the seed files take %d bytes, at most %d (16 MiB) are allowed" % (total, MAX_SEED_BYTES))
        return None
    return {"files": files, "instance_id": effective_id, "sha256": _digest(files),
            "unvalidated": seed.unvalidated}


# ---- ISO 9660 + Joliet ---------------------------------------------------------------------
SECTOR = 2048
_FIRST_DESCRIPTOR = 16
_JOLIET_ESCAPE = b"%/E"  # UCS-2 level 3
_DIR_DATE = bytes([80, 1, 1, 0, 0, 0, 0])  # 1980-01-01 00:00:00 GMT in a directory record
_VD_DATE = b"1980010100000000\x00"  # the same date in a volume descriptor
_VD_NO_DATE = b"0000000000000000\x00"  # "not specified"
_APPLICATION = "CONVERGE.VIRT CLOUD-INIT SEED"
_D_CHARS = re.compile(r"^[A-Z0-9_]{1,32}\Z")
_JOLIET_BAD = re.compile(r"[\x00-\x1f*/:;?\\]")
_PRIMARY_BAD = re.compile(r"[^A-Z0-9_]")


def _both16(value):
    return struct.pack("<H", value) + struct.pack(">H", value)


def _both32(value):
    return struct.pack("<I", value) + struct.pack(">I", value)


def _a_field(text, size):
    return text.encode("ascii").ljust(size, b" ")[:size]


def _ucs2_field(text, size):
    raw = text.encode("utf-16-be")
    while len(raw) + 2 <= size:
        raw += b"\x00 "
    return raw.ljust(size, b"\x00")[:size]


def _dir_record(identifier, extent, length, directory=False):
    pad = b"" if len(identifier) % 2 else b"\x00"
    size = 33 + len(identifier) + len(pad)
    return (struct.pack("<BB", size, 0) + _both32(extent) + _both32(length) + _DIR_DATE
            + struct.pack("<BBB", 2 if directory else 0, 0, 0) + _both16(1)
            + struct.pack("<B", len(identifier)) + identifier + pad)


def _record_size(identifier):
    return 33 + len(identifier) + (0 if len(identifier) % 2 else 1)


def _dir_sectors(identifiers):
    """Sectors a directory holding '.', '..' and these entries takes (records never cross a sector)."""
    sectors, used = 1, 0
    for identifier in [b"\x00", b"\x01"] + list(identifiers):
        size = _record_size(identifier)
        if used + size > SECTOR:
            sectors, used = sectors + 1, 0
        used += size
    return sectors


def _pack_dir(records):
    out = bytearray()
    for record in records:
        if len(out) % SECTOR + len(record) > SECTOR:
            out += b"\x00" * (SECTOR - len(out) % SECTOR)
        out += record
    out += b"\x00" * (-len(out) % SECTOR)
    return bytes(out)


def _path_table(root_extent, little):
    order = "<" if little else ">"
    return struct.pack(order + "BBIH", 1, 0, root_extent, 1) + b"\x00\x00"


def _primary_names(names):
    """ISO 9660 level 1 identifiers (8.3 upper case d-characters, ';1'), unique, per name."""
    result, used = {}, set()
    for name in sorted(names):
        base, dot, ext = name.rpartition(".")
        if not dot:
            base, ext = name, ""
        base = _PRIMARY_BAD.sub("_", base.upper())[:8] or "_"
        ext = _PRIMARY_BAD.sub("_", ext.upper())[:3]
        candidate, number = base, 0
        while (candidate, ext) in used:
            number += 1
            suffix = str(number)
            candidate = base[:8 - len(suffix)] + suffix
        used.add((candidate, ext))
        result[name] = (candidate, ext)
    return result


def _volume_descriptor(kind, label_field, text_field, total, table_size, tables, root_record, joliet):
    vd = bytearray(SECTOR)
    vd[0:7] = struct.pack("<B", kind) + b"CD001\x01"
    vd[8:40] = text_field("", 32)
    vd[40:72] = label_field
    vd[80:88] = _both32(total)
    if joliet:
        vd[88:91] = _JOLIET_ESCAPE
    vd[120:124] = _both16(1)
    vd[124:128] = _both16(1)
    vd[128:132] = _both16(SECTOR)
    vd[132:140] = _both32(table_size)
    vd[140:144] = struct.pack("<I", tables[0])
    vd[148:152] = struct.pack(">I", tables[1])
    vd[156:190] = root_record
    vd[190:318] = text_field("", 128)
    vd[318:446] = text_field("", 128)
    vd[446:574] = text_field("", 128)
    vd[574:702] = text_field(_APPLICATION.lower() if joliet else _APPLICATION, 128)
    vd[702:739] = text_field("", 37)
    vd[739:776] = text_field("", 37)
    vd[776:813] = text_field("", 37)
    vd[813:830] = _VD_DATE
    vd[830:847] = _VD_DATE
    vd[847:864] = _VD_NO_DATE
    vd[864:881] = _VD_NO_DATE
    vd[881] = 1
    return bytes(vd)


def seed_iso(files, label="cidata"):
    """An ISO 9660 image (with Joliet names) holding files ({name: bytes}) in its root directory.

    The output depends only on the names, contents and label: every date is fixed.  The primary
    volume id is the label in upper case, the Joliet one the label as given (blkid reports the
    Joliet one).  Raises ValueError for a name or label an ISO cannot hold."""
    if not isinstance(label, str) or not _D_CHARS.match(label.upper()) or len(label) > 16:
        raise ValueError("label %r must be 1-16 letters, digits or '_'" % (label,))
    contents = {}
    for name, content in files.items():
        if not isinstance(name, str) or not name or name in (".", "..") or _JOLIET_BAD.search(name):
            raise ValueError("file name %r cannot be stored in Joliet" % (name,))
        if len(name) > 64 or any(ord(char) > 0xFFFF for char in name):
            raise ValueError("file name %r is longer than 64 characters or not UCS-2" % (name,))
        contents[name] = bytes(content)
        if len(contents[name]) > 0xFFFFFFFF:
            raise ValueError("file %r is too large for one ISO 9660 extent" % (name,))
    names = sorted(contents)
    primary = _primary_names(names)
    primary_ids = dict((name, ("%s.%s;1" % primary[name]).encode("ascii")) for name in names)
    joliet_ids = dict((name, name.encode("utf-16-be")) for name in names)
    primary_order = sorted(names, key=lambda n: (primary[n][0].ljust(8), primary[n][1].ljust(3)))
    joliet_order = sorted(names, key=lambda n: joliet_ids[n])

    # Layout: system area, PVD, SVD, terminator, 4 path tables, 2 root directories, file data.
    table_sector = _FIRST_DESCRIPTOR + 3
    primary_root = table_sector + 4
    primary_root_sectors = _dir_sectors(primary_ids.values())
    joliet_root = primary_root + primary_root_sectors
    joliet_root_sectors = _dir_sectors(joliet_ids.values())
    extents, sector = {}, joliet_root + joliet_root_sectors
    for name in names:
        size = len(contents[name])
        extents[name] = sector if size else 0
        sector += (size + SECTOR - 1) // SECTOR
    total = sector

    def tree(root, root_sectors, order, ids):
        length = root_sectors * SECTOR
        records = [_dir_record(b"\x00", root, length, True), _dir_record(b"\x01", root, length, True)]
        records += [_dir_record(ids[name], extents[name], len(contents[name])) for name in order]
        return _dir_record(b"\x00", root, length, True), _pack_dir(records)

    primary_root_record, primary_dir = tree(primary_root, primary_root_sectors, primary_order, primary_ids)
    joliet_root_record, joliet_dir = tree(joliet_root, joliet_root_sectors, joliet_order, joliet_ids)
    table_size = len(_path_table(0, True))

    out = bytearray(SECTOR * _FIRST_DESCRIPTOR)
    out += _volume_descriptor(1, _a_field(label.upper(), 32), _a_field, total, table_size,
                              (table_sector, table_sector + 1), primary_root_record, False)
    out += _volume_descriptor(2, _ucs2_field(label, 32), _ucs2_field, total, table_size,
                              (table_sector + 2, table_sector + 3), joliet_root_record, True)
    out += b"\xffCD001\x01" + b"\x00" * (SECTOR - 7)
    for root, little in ((primary_root, True), (primary_root, False), (joliet_root, True), (joliet_root, False)):
        out += _path_table(root, little).ljust(SECTOR, b"\x00")
    out += primary_dir
    out += joliet_dir
    for name in names:
        content = contents[name]
        out += content
        out += b"\x00" * (-len(content) % SECTOR)
    if len(out) != total * SECTOR:
        raise AssertionError("ISO layout error: %d bytes for %d sectors" % (len(out), total))
    return bytes(out)
