#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test scaffolding for the os_volume targets only (not part of the collection): what the
collection's modules do not do, straight through openstacksdk.

actions:
  type_present / type_absent   a volume type (admin)
  volume_raw                   a volume created without the module (duplicates, foreign volumes)
  image_present                a tiny raw Glance image
  attach / detach              Cinder-level attach of a volume to a made-up server ID (no Nova),
                               so that in-use behaviour can be tested without an instance
  cleanup                      delete every volume, snapshot, image and type starting with prefix
"""

from __future__ import annotations

import time
import uuid

from ansible.module_utils.basic import AnsibleModule

try:
    import openstack
    HAS_SDK = True
except ImportError:
    HAS_SDK = False


def _wait(fetch, done, timeout=120):
    deadline = time.time() + timeout
    while True:
        item = fetch()
        if done(item):
            return item
        if time.time() > deadline:
            raise RuntimeError("timed out; last: %r" % (getattr(item, "status", item),))
        time.sleep(1)


def main():
    module = AnsibleModule(argument_spec=dict(
        auth=dict(type="dict", required=True, no_log=True),
        region_name=dict(type="str"),
        action=dict(type="str", required=True, choices=["type_present", "type_absent", "volume_raw",
                                                        "image_present", "attach", "detach", "cleanup"]),
        name=dict(type="str"),
        prefix=dict(type="str"),
        size=dict(type="int", default=1),
    ))
    if not HAS_SDK:
        module.fail_json(msg="openstacksdk is needed")
    params = module.params
    conn = openstack.connect(auth=params["auth"], region_name=params["region_name"])
    bs = conn.block_storage
    name = params["name"]
    result = {"changed": False}
    action = params["action"]
    if action == "type_present":
        vtype = bs.find_type(name)
        if vtype is None:
            vtype = bs.create_type(name=name)
            result["changed"] = True
        result["id"] = vtype.id
    elif action == "type_absent":
        vtype = bs.find_type(name)
        if vtype is not None:
            bs.delete_type(vtype)
            result["changed"] = True
    elif action == "volume_raw":
        vol = bs.create_volume(name=name, size=params["size"])
        vol = _wait(lambda: bs.get_volume(vol.id), lambda v: v.status == "available")
        result.update(changed=True, id=vol.id)
    elif action == "image_present":
        image = conn.image.find_image(name)
        if image is None:
            image = conn.image.create_image(name=name, disk_format="raw", container_format="bare",
                                            data=b"\0" * 1024 * 1024, visibility="private")
            result["changed"] = True
        image = _wait(lambda: conn.image.get_image(image.id), lambda i: i.status == "active")
        result["id"] = image.id
    elif action == "attach":
        vol = bs.find_volume(name, ignore_missing=False)
        server = str(uuid.uuid4())
        bs.reserve_volume(vol)
        bs.attach_volume(vol, "/dev/vdb", instance=server)
        _wait(lambda: bs.get_volume(vol.id), lambda v: v.status == "in-use")
        result.update(changed=True, server_id=server)
    elif action == "detach":
        vol = bs.find_volume(name, ignore_missing=False)
        for att in vol.attachments or []:
            bs.detach_volume(vol, att["attachment_id"])
            result["changed"] = True
        _wait(lambda: bs.get_volume(vol.id), lambda v: v.status == "available")
    elif action == "cleanup":
        prefix = params["prefix"]
        if not prefix or not prefix.startswith("cvt-"):
            module.fail_json(msg="cleanup needs a prefix starting with cvt-")
        deleted = []
        for snap in list(bs.snapshots(details=True)):
            if (snap.name or "").startswith(prefix):
                bs.delete_snapshot(snap)
                deleted.append(snap.name)
        for snap_name in list(deleted):
            _wait(lambda n=snap_name: [s for s in bs.snapshots(details=False) if s.name == n], lambda x: not x)
        vols = [v for v in bs.volumes(details=True) if (v.name or "").startswith(prefix)]
        for vol in vols:
            for att in vol.attachments or []:
                bs.detach_volume(vol, att["attachment_id"])
            if vol.attachments:
                _wait(lambda v=vol: bs.get_volume(v.id), lambda v: v.status == "available")
            bs.delete_volume(vol, cascade=True)
            deleted.append(vol.name)
        for vol in vols:
            _wait(lambda v=vol: bs.find_volume(v.id), lambda v: v is None)
        for image in list(conn.image.images()):
            if (image.name or "").startswith(prefix):
                conn.image.delete_image(image)
                deleted.append(image.name)
        result.update(changed=bool(deleted), deleted=deleted)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
