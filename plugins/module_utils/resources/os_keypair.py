# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova keypairs: a name and a public key, per user.  Nova cannot change a keypair's key, so the
key is create-only: a different key is refused unless ``recreate: true`` (delete, then import).

Keys are compared by their type and base64 data; the comment does not count (Nova keeps it, but
it is not part of the key).  No private key is ever generated or handled here."""

from __future__ import annotations

import base64
import binascii
import copy
import re
import struct

from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Planner
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, InvalidSpec, Problems
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, NONE, REPLACE, UPDATE, Change, Field, Plan,
)

KIND = "keypair"
KEY_TYPES = ("ssh-rsa", "ssh-dss", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
             "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")
_NAME = re.compile(r"^[A-Za-z0-9 _.@-]{1,255}\Z")

SCHEMA = {
    "public_key": Field(REPLACE),
}


def parse_public_key(text):
    """``(type, base64 data, comment)`` of an OpenSSH public key line; raises ValueError."""
    parts = str(text or "").strip().split(None, 2)
    if len(parts) < 2:
        raise ValueError("is not an OpenSSH public key (expected '<type> <base64> [comment]', as in "
                         "~/.ssh/id_ed25519.pub)")
    key_type, data = parts[0], parts[1]
    if key_type not in KEY_TYPES:
        raise ValueError("has the unknown key type %r (expected one of %s)" % (key_type, ", ".join(KEY_TYPES)))
    try:
        blob = base64.b64decode(data.encode("ascii"), validate=True)
        (length,) = struct.unpack(">I", blob[:4])
        inner = blob[4:4 + length].decode("ascii")
    except (binascii.Error, struct.error, UnicodeError, ValueError):
        raise ValueError("is not an OpenSSH public key: its data is not valid base64 of a key")
    if inner != key_type:
        raise ValueError("says it is %s but its data is a %s key" % (key_type, inner))
    return key_type, data, parts[2].strip() if len(parts) > 2 else ""


def key_identity(text):
    """``<type> <base64>``: what identifies a key (None when it cannot be parsed)."""
    try:
        key_type, data, _comment = parse_public_key(text)
    except ValueError:
        return None
    return "%s %s" % (key_type, data)


class KeypairWorld(object):
    """``current``: the keypair's state or None; ``file_key``: the text of ``public_key_file``
    as read on the host the module runs on (None when no file was given)."""

    def __init__(self, current=None, file_key=None):
        self.current = current
        self.file_key = file_key


class OsKeypairPlanner(Planner):
    kind = KIND
    schema = SCHEMA

    def normalize(self, params):
        problems = Problems()
        name = params.get("name")
        if not isinstance(name, str) or not _NAME.match(name) or name != name.strip():
            problems.add("name", "%r is not a keypair name (1-255 of letters, digits, spaces, '_', '.', "
                                 "'@', '-'; no surrounding spaces)" % (name,))
        state = params.get("state") or "present"
        desired = {"name": name, "state": state, "public_key": None,
                   "public_key_file": params.get("public_key_file"), "recreate": bool(params.get("recreate"))}
        if params.get("public_key") is not None and desired["public_key_file"] is not None:
            problems.add("public_key", "public_key and public_key_file are mutually exclusive")
        elif params.get("public_key") is not None:
            desired["public_key"] = self._key(params["public_key"], "public_key", problems)
        elif state == "present" and desired["public_key_file"] is None:
            problems.add("public_key", "one of public_key and public_key_file is needed with state: present "
                                       "(the module does not generate keys)")
        problems.raise_if_any(KIND, name)
        return desired

    @staticmethod
    def _key(text, field, problems):
        try:
            key_type, data, comment = parse_public_key(text)
        except ValueError as err:
            problems.add(field, str(err))
            return None
        return ("%s %s %s" % (key_type, data, comment)).strip()

    def plan(self, desired, world):
        name, current = desired["name"], world.current
        if desired["state"] == "absent":
            if current is None:
                return Plan(KIND, name, NONE, desired=desired)
            return Plan(KIND, name, DELETE, [Change("public_key", "remove", current["public_key"], None, REPLACE)],
                        before=copy.deepcopy(current), after=None, desired=desired)
        key = desired["public_key"]
        if key is None:  # from public_key_file, read by the driver
            problems = Problems()
            key = self._key(world.file_key, "public_key_file", problems)
            if problems:
                raise InvalidSpec([("public_key_file", "%s: %s" % (desired["public_key_file"], m))
                                   for _f, m in problems.items], kind=KIND, name=name)
        desired = dict(desired, public_key=key)
        wanted = key_identity(key)
        if current is None:
            after = self._predicted(name, key)
            return Plan(KIND, name, CREATE, [Change("public_key", "add", None, key, REPLACE)],
                        before=None, after=after, desired=desired)
        if key_identity(current["public_key"]) == wanted:
            return Plan(KIND, name, NONE, before=copy.deepcopy(current), after=copy.deepcopy(current),
                        desired=desired)
        change = Change("public_key", "modify", current["public_key"], key, REPLACE)
        if not desired["recreate"]:
            raise Conflict("public_key is create-only: the keypair holds another key (fingerprint %s); "
                           "Nova cannot change a keypair's key" % current.get("fingerprint"), kind=KIND, name=name,
                           hint="set recreate: true to delete the keypair and import the new key (instances "
                                "created with the old key keep it)")
        return Plan(KIND, name, UPDATE, [change], before=copy.deepcopy(current),
                    after=self._predicted(name, key), desired=desired,
                    notes=["the keypair is deleted and imported again with the new key (recreate: true)"])

    @staticmethod
    def _predicted(name, key):
        return {"name": name, "public_key": key, "fingerprint": None, "type": "ssh", "user_id": None}
