# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova keypair driver: one GET by name to read (keypairs belong to the user, by name), an
import (POST with the public key) to create, a DELETE to remove."""

from __future__ import annotations

import os

from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Driver
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import InvalidSpec
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import CREATE, DELETE
from ansible_collections.converge.virt.plugins.module_utils.openstack.common import RawRequests
from ansible_collections.converge.virt.plugins.module_utils.resources.os_keypair import KIND, KeypairWorld

MAX_KEY_FILE = 64 * 1024


def keypair_state(raw):
    return {
        "name": raw.get("name"),
        "public_key": (raw.get("public_key") or "").strip(),
        "fingerprint": raw.get("fingerprint"),
        "type": raw.get("type") or "ssh",
        "user_id": raw.get("user_id"),
    }


class KeypairDriver(RawRequests, Driver):

    def __init__(self, cloud):
        self.cloud = cloud
        self.api = cloud.conn.compute

    def _raw_list(self, **_query):
        resp = self._request("list keypairs", "get", "/os-keypairs")
        return [k["keypair"] for k in resp.json().get("keypairs") or []]

    def _get(self, name):
        from urllib.parse import quote
        if self.cloud.batching:
            found = [k for k in self.cloud.listing("keypairs", "keypairs_raw", self._raw_list) if k.get("name") == name]
            return keypair_state(found[0]) if found else None
        resp = self._request("keypair %s" % name, "get", "/os-keypairs/%s" % quote(name, safe=""), missing_ok=True)
        return keypair_state(resp.json()["keypair"]) if resp is not None else None

    def observe(self, name, desired=None):
        world = KeypairWorld(current=self._get(name))
        if desired is not None and desired["state"] == "present" and desired.get("public_key_file"):
            world.file_key = self._read_file(desired["public_key_file"], name)
        return world

    @staticmethod
    def _read_file(path, name):
        path = os.path.expanduser(path)
        try:
            if os.path.getsize(path) > MAX_KEY_FILE:
                raise InvalidSpec([("public_key_file", "%s is larger than %d bytes; that is not a public key"
                                    % (path, MAX_KEY_FILE))], kind=KIND, name=name)
            with open(path) as handle:
                return handle.read()
        except (OSError, UnicodeError) as err:
            raise InvalidSpec([("public_key_file", "cannot read %s on the host the module runs on: %s"
                                % (path, getattr(err, "strerror", None) or err))], kind=KIND, name=name)

    def apply(self, plan):
        from urllib.parse import quote
        name = plan.name
        if plan.action in (DELETE,) or (plan.action != CREATE and plan.before is not None):
            self._request("delete keypair %s" % name, "delete", "/os-keypairs/%s" % quote(name, safe=""),
                          missing_ok=True, retry=True)
        if plan.action != DELETE:
            self._request("import keypair %s" % name, "post", "/os-keypairs", retry=True,
                          json={"keypair": {"name": name, "public_key": plan.desired["public_key"]}})
        return {}

    def list(self, names=None, **_filters):
        items = [keypair_state(k) for k in self.cloud.listing("keypairs", "keypairs_raw", self._raw_list)]
        if names:
            items = [k for k in items if k["name"] in names]
        return sorted(items, key=lambda k: k["name"])
