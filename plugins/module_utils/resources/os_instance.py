# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Instances on OpenStack (Nova servers): the spec, its validation against the cloud, and the planner.

Pure: the driver (``openstack/instance.py``) reads the cloud into an ``OsInstanceWorld`` and carries
out the plan.  Normalized state (``current`` and ``after``)::

    name, id, status (Nova's), state (running | stopped | paused | <other Nova status, lower case>),
    flavor (name), vcpus, memory (bytes), image {id, name} or None (booted from a volume),
    key_name, availability_zone, config_drive, security_groups [names, sorted],
    metadata {user-visible keys}, tags [sorted, without the owner tag],
    nics [{network, network_id, port, mac, fixed_ips}], addresses {network: [ips]},
    disks [{volume, volume_id, size, boot}], cloud_init {sha256} or None (shown masked), managed

How each field is updated (the plan marks it): ``state``, ``security_groups``, ``metadata``,
``tags``, ``nics`` (interface attach/detach) and ``disks`` (volume attach/detach) are ``live``;
``flavor`` (a resize, confirmed automatically) is ``restart``; ``image``, ``key_name`` and
``cloud_init`` are ``replace`` and need ``rebuild: true`` (in place, same ID and ports) or
``recreate: true`` (delete and create); ``availability_zone``, ``server_group``, ``config_drive``
and the boot disk are ``replace`` and need ``recreate: true``.

The user-data is never shown nor read back: its sha256 is kept in the server's metadata under
``USER_DATA_KEY``; every ``converge_virt_*`` metadata key is hidden from the user's metadata.
"""

from __future__ import annotations

import copy
import hashlib

from ansible_collections.converge.virt.plugins.module_utils import cloudinit
from ansible_collections.converge.virt.plugins.module_utils.engine import validate
from ansible_collections.converge.virt.plugins.module_utils.engine.converge import Planner
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import Conflict, Problems
from ansible_collections.converge.virt.plugins.module_utils.engine.plan import (
    CREATE, DELETE, LIVE, NONE, REPLACE, RESTART, UPDATE,
    Change, Field, Plan,
)
from ansible_collections.converge.virt.plugins.module_utils.resources.os_common import OWNER_TAG, STACK_TAG_PREFIX, is_stack_tag

KIND = "instance"
STATES = ("running", "stopped", "paused", "absent")
WAIT_FOR = ("none", "ip")
HIDDEN_METADATA_PREFIX = "converge_virt_"
USER_DATA_KEY = "converge_virt_user_data_sha256"
BOOT_VOLUME_KEY = "converge_virt_boot_volume"
MAX_USER_DATA = 65535              # Nova's limit, on the base64 text
# Nova status -> the spec's state words
_STATUS_STATE = {"ACTIVE": "running", "SHUTOFF": "stopped", "PAUSED": "paused"}
DEFAULT_TIMEOUTS = {"build": 600, "resize": 600, "delete": 300, "power": 300}

# Options of the instance module that mean something only to libvirt, per sub-option list.
LIBVIRT_NIC_KEYS = ("mac", "model")
LIBVIRT_DISK_KEYS = ("pool", "image_pool", "format", "target", "bus", "serial", "readonly")
LIBVIRT_CLOUD_INIT_KEYS = ("meta_data", "network_config", "instance_id")

# Fields a rebuild can change in place: image, key_name (microversion 2.54), cloud_init (2.57).
REBUILD_MICROVERSION = {"key_name": (2, 54), "cloud_init": (2, 57)}

_REBUILD_HINT = ("set rebuild: true to rebuild the server in place (same ID, ports and volumes; its "
                 "root disk is rewritten from the image), or recreate: true to delete it and create "
                 "it again")
_RECREATE_HINT = "set recreate: true to delete the server and create it again (attached volumes are kept)"


def state_of(status):
    """The spec's word for a Nova status (``running`` for ACTIVE...), else the status in lower case."""
    if status is None:
        return None
    return _STATUS_STATE.get(status, str(status).lower())


def user_metadata(metadata):
    """The metadata the user sees and declares: without the collection's own keys."""
    return dict((k, v) for k, v in (metadata or {}).items() if not k.startswith(HIDDEN_METADATA_PREFIX))


def parse_microversion(text):
    try:
        major, minor = str(text).split(".")
        return int(major), int(minor)
    except (ValueError, AttributeError):
        return (2, 1)


class OsInstanceWorld(object):
    """What the planner needs to know about the cloud, read by the driver.

    ``refs`` maps a reference kind (flavor, image, network, port, volume, security_group,
    keypair, server_group) to ``{ref: resolved dict, or None when it does not exist}``."""

    def __init__(self, current=None, refs=None, flavors=None, microversion="2.1", server_group_members=None):
        self.current = current
        self.refs = dict((k, dict(v)) for k, v in (refs or {}).items())
        self.flavors = list(flavors or [])   # every flavor [{id, name, vcpus, ram (MiB), disk}], when needed
        self.microversion = microversion     # the compute API's maximum
        self.server_group_members = server_group_members  # IDs of the desired group's members

    def ref(self, kind, ref):
        return self.refs.get(kind, {}).get(ref)


def _choice(value, field, choices, problems):
    if value is not None and value not in choices:
        problems.add(field, "%r is not one of %s" % (value, ", ".join(choices)))
        return None
    return value


def _ref(value, field, problems):
    """A name or ID: a non-empty string."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        problems.add(field, "%r must be a non-empty name or ID" % (value,))
        return None
    return value


def _libvirt_only(item, keys, field, problems):
    for key in keys:
        if item.get(key) not in (None, False):
            problems.add("%s.%s" % (field, key), "applies only to the libvirt backend")


class OsInstancePlanner(Planner):
    kind = KIND
    # Used by public() (secret masking); changes are compared by hand below.
    schema = {"cloud_init": Field(REPLACE, secret=True)}

    # ---- desired state -------------------------------------------------------------------
    def normalize(self, params):
        problems = Problems()
        name = validate.resource_name(params.get("name"), "name", problems, max_length=255)
        state = _choice(params.get("state") or "running", "state", STATES, problems)
        desired = {
            "name": name,
            "state": state,
            "recreate": bool(params.get("recreate")),
            "rebuild": bool(params.get("rebuild")),
            "purge_volumes": bool(params.get("purge_volumes")),
            "confirm_resize": params.get("confirm_resize") is not False,
            "wait_for": _choice(params.get("wait_for") or "none", "wait_for", WAIT_FOR, problems),
            "wait_timeout": validate.int_range(params.get("wait_timeout") if params.get("wait_timeout")
                                               is not None else 300, "wait_timeout", problems, 1, 86400, " s"),
            "timeouts": self._timeouts(params.get("timeouts"), problems),
        }
        if params.get("wait_for") == "agent":
            problems.add("wait_for", "agent is libvirt only (Nova has no guest agent channel); use ip")
        if state == "absent":
            problems.raise_if_any(KIND, params.get("name"))
            return desired
        desired["flavor"] = _ref(params.get("flavor"), "flavor", problems)
        desired["vcpus"] = validate.int_range(params.get("vcpus"), "vcpus", problems, 1, 1024)
        desired["memory"] = None
        if params.get("memory") is not None:
            desired["memory"] = validate.size(params["memory"], "memory", problems, minimum=1024 ** 2)
            if desired["memory"] is not None and desired["memory"] % (1024 ** 2):
                problems.add("memory", "%s is not a whole number of MiB" % params["memory"])
        if desired["flavor"] is not None and (desired["vcpus"] is not None or desired["memory"] is not None):
            problems.add("flavor", "set flavor, or vcpus and/or memory (which select the smallest flavor "
                                   "that fits), not both")
        desired["image"] = _ref(params.get("image"), "image", problems)
        desired["key_name"] = _ref(params.get("key_name"), "key_name", problems)
        desired["availability_zone"] = _ref(params.get("availability_zone"), "availability_zone", problems)
        desired["server_group"] = _ref(params.get("server_group"), "server_group", problems)
        desired["config_drive"] = params.get("config_drive")
        desired["security_groups"] = self._refs(params.get("security_groups"), "security_groups", problems)
        desired["metadata"] = self._metadata(params.get("metadata"), problems)
        desired["tags"] = self._tags(params.get("tags"), problems)
        desired["nics"] = self._nics(params.get("nics"), problems)
        desired["disks"] = self._disks(params.get("disks"), desired["image"], problems)
        desired["cloud_init"] = self._cloud_init(params.get("cloud_init"), name, problems)
        if state == "stopped" and desired["wait_for"] != "none":
            problems.add("wait_for", "a stopped instance has nothing to wait for")
        if desired["rebuild"] and desired["recreate"]:
            problems.add("rebuild", "set rebuild or recreate, not both")
        problems.raise_if_any(KIND, params.get("name"))
        return desired

    @staticmethod
    def _timeouts(value, problems):
        result = dict(DEFAULT_TIMEOUTS)
        for key, seconds in (value or {}).items():
            if key not in DEFAULT_TIMEOUTS:
                problems.add("timeouts", "unknown key %r (known: %s)" % (key, ", ".join(sorted(DEFAULT_TIMEOUTS))))
            elif seconds is not None:
                result[key] = validate.int_range(seconds, "timeouts.%s" % key, problems, 1, 86400, " s")
        return result

    @staticmethod
    def _refs(value, field, problems):
        if value is None:
            return None
        result = []
        for index, item in enumerate(value):
            ref = _ref(item, "%s[%d]" % (field, index), problems)
            if ref is not None and ref not in result:
                result.append(ref)
        return result

    @staticmethod
    def _metadata(value, problems):
        if value is None:
            return None
        result = {}
        for key, item in value.items():
            key = str(key)
            if key.startswith(HIDDEN_METADATA_PREFIX):
                problems.add("metadata.%s" % key, "keys starting with %s are reserved for the collection"
                             % HIDDEN_METADATA_PREFIX)
            elif not 0 < len(key) <= 255 or item is None or len(str(item)) > 255:
                problems.add("metadata.%s" % key, "keys and values are strings of at most 255 characters")
            else:
                result[key] = item if isinstance(item, str) else str(item)
        return result

    @staticmethod
    def _tags(value, problems):
        if value is None:
            return None
        result = set()
        for index, tag in enumerate(value):
            tag = str(tag)
            if tag == OWNER_TAG:
                problems.add("tags[%d]" % index, "%s is the collection's own tag (see managed)" % OWNER_TAG)
            elif is_stack_tag(tag):
                problems.add("tags[%d]" % index, "%r: tags starting with %s mark what a stack owns" % (tag, STACK_TAG_PREFIX))
            elif not tag or len(tag) > 60 or "/" in tag or "," in tag:
                problems.add("tags[%d]" % index, "%r: a Nova tag is 1-60 characters without '/' or ','" % tag)
            else:
                result.add(tag)
        return sorted(result)

    @staticmethod
    def _nics(value, problems):
        if value is None:
            return None
        result = []
        for index, item in enumerate(value):
            field = "nics[%d]" % index
            if isinstance(item, str):
                item = {"network": item}
            if not isinstance(item, dict):
                problems.add(field, "must be a dict with network or port (and fixed_ip)")
                continue
            _libvirt_only(item, LIBVIRT_NIC_KEYS, field, problems)
            network = _ref(item.get("network"), field + ".network", problems)
            port = _ref(item.get("port"), field + ".port", problems)
            if (network is None) == (port is None):
                problems.add(field, "needs network or port (one of them)")
            fixed_ip = item.get("fixed_ip")
            if fixed_ip is not None:
                address = validate.ip_address(fixed_ip, field + ".fixed_ip", problems)
                fixed_ip = str(address) if address else None
                if port is not None:
                    problems.add(field + ".fixed_ip", "is used only with network (a port has its own addresses)")
            result.append({"network": network, "port": port, "fixed_ip": fixed_ip})
        return result

    @staticmethod
    def _disks(value, image, problems):
        if value is None:
            return None
        result = []
        for index, item in enumerate(value):
            field = "disks[%d]" % index
            if not isinstance(item, dict):
                problems.add(field, "must be a dict: volume (attach an existing volume), or image and/or "
                                    "size (disks[0] only: boot from a new volume)")
                continue
            _libvirt_only(item, LIBVIRT_DISK_KEYS, field, problems)
            volume = _ref(item.get("volume"), field + ".volume", problems)
            disk_image = _ref(item.get("image"), field + ".image", problems)
            size = validate.size(item.get("size"), field + ".size", problems, minimum=1024 ** 3)
            if size is not None and size % (1024 ** 3):
                problems.add(field + ".size", "%s is not a whole number of GiB (Cinder sizes are GiB)" % item["size"])
            new = disk_image is not None or item.get("size") is not None
            boot = index == 0 and image is None
            if new and volume is not None:
                problems.add(field, "set volume (an existing volume), or image/size (a new boot volume), not both")
            elif new and not boot:
                problems.add(field, "only the boot disk (disks[0], when image is not set) can be created "
                                    "by the instance; attach other disks with volume")
            elif not new and volume is None:
                problems.add(field, "needs volume, or (disks[0] only) image and size")
            if new and size is None:
                problems.add(field + ".size", "is required for a new boot volume")
            for key in ("volume_type", "delete_on_termination"):
                if item.get(key) is not None and not (new and boot):
                    problems.add("%s.%s" % (field, key), "is used only for a new boot volume (disks[0] with "
                                                         "image and size)")
            result.append({
                "volume": volume, "image": disk_image, "size": size, "boot": boot,
                "volume_type": _ref(item.get("volume_type"), field + ".volume_type", problems),
                "delete_on_termination": item.get("delete_on_termination") is not False if new else False,
            })
        return result

    @staticmethod
    def _cloud_init(value, name, problems):
        if value is None:
            return None
        if not isinstance(value, dict):
            problems.add("cloud_init", "must be a dictionary with user_data")
            return None
        _libvirt_only(value, LIBVIRT_CLOUD_INIT_KEYS, "cloud_init", problems)
        if value.get("user_data") is None:
            return None
        count = len(problems.items)
        seed = cloudinit.normalize({"user_data": value["user_data"]}, name or "instance", problems)
        if seed is None or len(problems.items) > count:
            return None
        text = seed["files"]["user-data"]
        if (len(text) + 2) // 3 * 4 > MAX_USER_DATA:
            problems.add("cloud_init.user_data", "is %d bytes; Nova takes at most %d bytes once base64 "
                                                 "encoded" % (len(text), MAX_USER_DATA))
            return None
        return {"user_data": text, "sha256": hashlib.sha256(text).hexdigest()}

    # ---- plan ------------------------------------------------------------------------------
    def plan(self, desired, world):
        if desired["state"] == "absent":
            return self._plan_delete(desired, world)
        resolved = self._resolve(desired, world)
        if world.current is None:
            return self._plan_create(desired, world, resolved)
        return self._plan_update(desired, world, resolved)

    def _resolve(self, desired, world):
        """Every reference of the spec resolved through the world, or InvalidSpec naming each missing one."""
        problems = Problems()
        current = world.current
        res = {"flavor": None, "image": None, "nics": None, "disks": None, "security_groups": None,
               "server_group": None, "notes": []}

        def need(kind, ref, field, what):
            found = world.ref(kind, ref)
            if found is None:
                problems.add(field, "%s %r does not exist" % (what, ref))
            return found

        if desired["flavor"] is not None:
            res["flavor"] = need("flavor", desired["flavor"], "flavor", "flavor")
        elif desired["vcpus"] is not None or desired["memory"] is not None:
            res["flavor"] = self._fitting_flavor(desired, world, current, problems, res["notes"])
        elif current is None:
            problems.add("flavor", "is required to create the instance (or vcpus/memory, which select "
                                   "the smallest flavor that fits)")
        if desired["image"] is not None:
            res["image"] = need("image", desired["image"], "image", "image")
        if desired["key_name"] is not None:
            need("keypair", desired["key_name"], "key_name", "keypair")
        if desired["server_group"] is not None:
            res["server_group"] = need("server_group", desired["server_group"], "server_group", "server group")
        if desired["security_groups"] is not None:
            res["security_groups"] = []
            for index, ref in enumerate(desired["security_groups"]):
                sg = need("security_group", ref, "security_groups[%d]" % index, "security group")
                if sg is not None and sg["id"] not in [s["id"] for s in res["security_groups"]]:
                    res["security_groups"].append(sg)
        if desired["nics"] is not None:
            res["nics"] = []
            for index, nic in enumerate(desired["nics"]):
                field = "nics[%d]" % index
                if nic["port"] is not None:
                    port = need("port", nic["port"], field + ".port", "port")
                    if port is None:
                        continue
                    owner = port.get("device_id")
                    if owner and (current is None or owner != current["id"]):
                        problems.add(field + ".port", "port %r is in use by another device (%s)" % (nic["port"], owner))
                    res["nics"].append({"port": port["id"], "port_name": port.get("name") or port["id"],
                                        "network_id": port["network_id"], "fixed_ip": None,
                                        "network": port.get("network_name") or port["network_id"]})
                else:
                    net = need("network", nic["network"], field + ".network", "network")
                    if net is not None:
                        res["nics"].append({"port": None, "network_id": net["id"], "network": net["name"],
                                            "fixed_ip": nic["fixed_ip"]})
            ports = [n["port"] for n in res["nics"] if n["port"]]
            if len(set(ports)) != len(ports):
                problems.add("nics", "the same port is listed twice")
        if desired["disks"] is not None:
            res["disks"] = []
            seen = set()
            for index, disk in enumerate(desired["disks"]):
                field = "disks[%d]" % index
                if disk["volume"] is not None:
                    vol = need("volume", disk["volume"], field + ".volume", "volume")
                    if vol is None:
                        continue
                    if vol["id"] in seen:
                        problems.add(field + ".volume", "volume %r is listed twice" % disk["volume"])
                    seen.add(vol["id"])
                    others = [s for s in vol.get("attachments") or [] if current is None or s != current["id"]]
                    if others and not vol.get("multiattach"):
                        problems.add(field + ".volume", "volume %r is attached to another server (%s)"
                                     % (disk["volume"], ", ".join(others)))
                    res["disks"].append(dict(disk, volume=vol["name"] or vol["id"], volume_id=vol["id"],
                                             size_now=vol.get("size")))
                else:
                    image = need("image", disk["image"], field + ".image", "image") if disk["image"] else None
                    if image is not None and image.get("min_disk") and disk["size"] is not None \
                            and disk["size"] < image["min_disk"] * 1024 ** 3:
                        problems.add(field + ".size", "%s is smaller than the image's min_disk (%d GiB)"
                                     % (validate.human_size(disk["size"]), image["min_disk"]))
                    res["disks"].append(dict(disk, volume_id=None, image_id=image["id"] if image else None,
                                             image_name=image["name"] if image else None))
        if res["disks"] and res["disks"][0]["boot"] and res["disks"][0].get("volume_id") and current is not None \
                and current["image"] is not None:
            # An existing server booted from an image: every {volume} disk is an attached one.
            res["disks"][0]["boot"] = False
        boot_disk = (res["disks"] or [None])[0] if desired["disks"] else None
        if current is None and res["image"] is None and desired["image"] is None and not (boot_disk and boot_disk["boot"]):
            problems.add("image", "is required to create the instance (or disks[0]: a boot volume from "
                                  "an image, or an existing bootable volume)")
        if desired["image"] is not None and desired["disks"] and res["disks"] and res["disks"][0].get("boot"):
            problems.add("disks[0]", "with image set, every disk is an attached volume")
        problems.raise_if_any(KIND, desired["name"])
        return res

    @staticmethod
    def _fitting_flavor(desired, world, current, problems, notes):
        """The smallest flavor with at least the vCPUs and memory asked for.  On an existing server an
        unset one of the two keeps its current value, and a current flavor that has exactly what is
        asked for is kept (two flavors of the same size never make the plan flip)."""
        vcpus = desired["vcpus"] or (current["vcpus"] if current is not None else 1)
        memory = desired["memory"] or (current["memory"] if current is not None else 0)
        if current is not None and current["vcpus"] == vcpus and current["memory"] == memory:
            same = [f for f in world.flavors if f["name"] == current["flavor"]]
            if same:
                return same[0]
        memory_mib = memory // 1024 ** 2
        fitting = [f for f in world.flavors if f["vcpus"] >= vcpus and f["ram"] >= memory_mib]
        if not fitting:
            problems.add("vcpus" if desired["vcpus"] else "memory",
                         "no flavor has %d vCPU(s) and %s of memory or more (flavors: %s)" % (
                             vcpus, validate.human_size(memory_mib * 1024 ** 2),
                             ", ".join("%s (%d vCPU, %d MiB)" % (f["name"], f["vcpus"], f["ram"])
                                       for f in sorted(world.flavors, key=lambda f: f["name"])) or "none"))
            return None
        chosen = sorted(fitting, key=lambda f: (f["vcpus"], f["ram"], f["disk"] or 0, f["name"]))[0]
        notes.append("vcpus/memory select flavor %s (%d vCPU, %d MiB), the smallest that fits" % (
            chosen["name"], chosen["vcpus"], chosen["ram"]))
        return chosen

    # -- create
    def _plan_create(self, desired, world, res):
        flavor = res["flavor"]
        after = {
            "name": desired["name"], "id": None, "status": None,
            "state": desired["state"], "flavor": flavor["name"], "vcpus": flavor["vcpus"],
            "memory": flavor["ram"] * 1024 ** 2,
            "image": {"id": res["image"]["id"], "name": res["image"]["name"]} if res["image"] else None,
            "key_name": desired["key_name"], "availability_zone": desired["availability_zone"],
            "config_drive": bool(desired["config_drive"]),
            "server_group": res["server_group"]["name"] if res["server_group"] else None,
            "security_groups": sorted(s["name"] for s in res["security_groups"] or []) if desired["nics"] else [],
            "metadata": dict(desired["metadata"] or {}), "tags": list(desired["tags"] or []),
            "nics": [{"network": n["network"], "network_id": n["network_id"], "port": n["port"], "mac": None,
                      "fixed_ips": [n["fixed_ip"]] if n["fixed_ip"] else []} for n in res["nics"] or []],
            "addresses": {}, "ips": [],
            "disks": [self._disk_after(d) for d in res["disks"] or []],
            "cloud_init": {"sha256": desired["cloud_init"]["sha256"]} if desired["cloud_init"] else None,
            "managed": True,
        }
        if desired["security_groups"] is None and desired["nics"]:
            after["security_groups"] = ["default"]
        notes = list(res["notes"])
        notes.append("create server %s (flavor %s, %s%s)" % (
            desired["name"], flavor["name"],
            "image %s" % res["image"]["name"] if res["image"] else "boot volume",
            ", %d NIC(s)" % len(after["nics"]) if after["nics"] else ", no NIC"))
        for disk in res["disks"] or []:
            notes.append(self._disk_note(disk))
        if desired["state"] != "running":
            notes.append("then %s it" % ("stop" if desired["state"] == "stopped" else "pause"))
        return Plan(KIND, desired["name"], CREATE, before=None, after=after,
                    desired=dict(desired, resolved=res), notes=notes)

    @staticmethod
    def _disk_after(disk):
        if disk.get("volume_id"):
            return {"volume": disk["volume"], "volume_id": disk["volume_id"], "size": disk.get("size_now"),
                    "boot": bool(disk["boot"]), "delete_on_termination": False}
        return {"volume": None, "volume_id": None, "size": disk["size"], "boot": True,
                "delete_on_termination": disk["delete_on_termination"]}

    @staticmethod
    def _disk_note(disk):
        if disk.get("volume_id"):
            return "%s volume %s" % ("boot from" if disk["boot"] else "attach", disk["volume"])
        return "boot from a new %s volume%s%s" % (
            validate.human_size(disk["size"]), " of image %s" % disk["image_name"] if disk.get("image_name") else "",
            " (deleted with the instance)" if disk["delete_on_termination"] else " (kept when the instance is deleted)")

    # -- update
    def _plan_update(self, desired, world, res):
        current = world.current
        after = copy.deepcopy(current)
        changes = []
        notes = list(res["notes"]) if res["flavor"] and res["flavor"]["name"] != current["flavor"] else []

        def scalar(path, want, have, effect, shown_want=None, shown_have=None):
            if want is not None and want != have:
                changes.append(Change(path, "add" if have is None else "modify",
                                      shown_have if shown_have is not None else have,
                                      shown_want if shown_want is not None else want, effect))
                return True
            return False

        # restart: resize
        if res["flavor"] is not None and scalar("flavor", res["flavor"]["name"], current["flavor"], RESTART):
            after.update(flavor=res["flavor"]["name"], vcpus=res["flavor"]["vcpus"],
                         memory=res["flavor"]["ram"] * 1024 ** 2)
        # replace: what a rebuild (or a new server) changes
        rebuild = []
        if res["image"] is not None and (current["image"] or {}).get("id") != res["image"]["id"]:
            if current["image"] is None:
                rebuild.append(Change("image", "add", None, res["image"]["name"], REPLACE))
                # a server booted from a volume cannot be rebuilt to an image: only recreate
            else:
                rebuild.append(Change("image", "modify", current["image"]["name"], res["image"]["name"], REPLACE))
            after["image"] = {"id": res["image"]["id"], "name": res["image"]["name"]}
        if desired["key_name"] is not None and desired["key_name"] != current["key_name"]:
            rebuild.append(Change("key_name", "add" if current["key_name"] is None else "modify",
                                  current["key_name"], desired["key_name"], REPLACE))
            after["key_name"] = desired["key_name"]
        if desired["cloud_init"] is not None and (current["cloud_init"] or {}).get("sha256") != desired["cloud_init"]["sha256"]:
            rebuild.append(Change("cloud_init", "add" if current["cloud_init"] is None else "modify",
                                  "********" if current["cloud_init"] else None, "********", REPLACE))
            after["cloud_init"] = {"sha256": desired["cloud_init"]["sha256"]}
        recreate = []
        for field in ("availability_zone",):
            if desired[field] is not None and desired[field] != current[field]:
                recreate.append(Change(field, "modify", current[field], desired[field], REPLACE))
                after[field] = desired[field]
        if desired["config_drive"] is not None and bool(desired["config_drive"]) != bool(current["config_drive"]):
            recreate.append(Change("config_drive", "modify", current["config_drive"], bool(desired["config_drive"]), REPLACE))
            after["config_drive"] = bool(desired["config_drive"])
        if res["server_group"] is not None and world.server_group_members is not None \
                and current["id"] not in world.server_group_members:
            recreate.append(Change("server_group", "add", current.get("server_group"), res["server_group"]["name"], REPLACE))
            after["server_group"] = res["server_group"]["name"]
        disk_changes, boot_change = self._disk_changes(res["disks"], current, after)
        if boot_change is not None:
            recreate.append(boot_change)
        if current["state"] == "error":
            recreate.insert(0, Change("status", "modify", current["status"], "ACTIVE", REPLACE))
        mode = None
        if recreate or rebuild:
            if desired["recreate"]:
                mode = "recreate"
            elif desired["rebuild"] and not recreate:
                mode = "rebuild"
                self._check_rebuild(rebuild, current, world)
            else:
                first = (recreate + rebuild)[0]
                others = (recreate + rebuild)[1:]
                if first.path == "status":
                    text = "the server is in ERROR%s" % (": %s" % current["fault"] if current.get("fault") else "")
                else:
                    text = "%s %s: the instance has %s, the spec asks for %s" % (
                        first.path, "needs a rebuild" if first in rebuild else "is create-only", first.before, first.after)
                raise Conflict(text + "".join("; %s also differs" % c.path for c in others),
                               kind=KIND, name=desired["name"], hint=_RECREATE_HINT if recreate else _REBUILD_HINT)
        if mode is None and current["state"] not in ("running", "stopped", "paused", "verify_resize"):
            raise Conflict("the server is %s (Nova status %s); wait until it settles, then run again"
                           % (current["state"], current["status"]), kind=KIND, name=desired["name"])
        changes.extend(rebuild)
        changes.extend(recreate)
        # live
        want_sgs = None
        if res["security_groups"] is not None:
            want_sgs = sorted(s["name"] for s in res["security_groups"])
            have_ids = set(current.get("security_group_ids") or [])
            want_ids = set(s["id"] for s in res["security_groups"])
            if have_ids != want_ids:
                changes.append(Change("security_groups", "modify", current["security_groups"], want_sgs, LIVE))
                after["security_groups"] = want_sgs
                after["security_group_ids"] = sorted(want_ids)
        if scalar("metadata", desired["metadata"], current["metadata"], LIVE):
            after["metadata"] = dict(desired["metadata"])
        if scalar("tags", desired["tags"], current["tags"], LIVE):
            after["tags"] = list(desired["tags"])
        nic_changes, nic_plan = self._nic_changes(res["nics"], current, after)
        changes.extend(nic_changes)
        changes.extend(disk_changes)
        want_state = desired["state"]
        if mode == "recreate":
            changes = [c for c in changes if c.effect == REPLACE] + [c for c in changes if c.effect != REPLACE]
        have_state = current["state"]
        if have_state == "verify_resize" and not desired["confirm_resize"]:
            have_state = "running"  # left to a human to confirm or revert, as asked
        if want_state != have_state:
            changes.append(Change("state", "modify", current["state"], want_state, LIVE))
            after["state"] = want_state
        if changes:
            after["status"] = {"running": "ACTIVE", "stopped": "SHUTOFF", "paused": "PAUSED"}[want_state]
            if any(c.path == "flavor" for c in changes) and not desired["confirm_resize"]:
                after["status"] = "VERIFY_RESIZE"
        for change in changes:
            if change.path != "state":
                notes.append(self._note(change))
        if mode == "rebuild":
            notes.append("rebuild the server in place (same ID, ports and volumes; the root disk is "
                         "rewritten from the image)")
        elif mode == "recreate":
            notes.append("delete the server and create it again (recreate: true); its volumes are kept")
            if desired["cloud_init"] is None and current["cloud_init"] is not None:
                notes.append("the new server gets no user-data: Nova does not give it back, set "
                             "cloud_init.user_data to keep one")
        if any(c.path == "flavor" for c in changes):
            notes.append("resize to flavor %s: the guest is restarted%s" % (
                res["flavor"]["name"], "" if desired["confirm_resize"] else "; the resize is left to confirm "
                "(VERIFY_RESIZE) because confirm_resize is false"))
        if current["state"] == "verify_resize" and desired["confirm_resize"]:
            notes.append("confirm the resize Nova made earlier (VERIFY_RESIZE)")
        elif any(c.path == "state" for c in changes):
            notes.append("%s the server (%s -> %s)" % (
                {"running": "start", "stopped": "stop", "paused": "pause"}[want_state], current["state"], want_state))
        action = UPDATE if changes else NONE
        plan_desired = dict(desired, resolved=res, mode=mode, server_id=current["id"], current=current,
                            nic_plan=nic_plan)
        return Plan(KIND, desired["name"], action, changes=changes, before=current, after=after,
                    desired=plan_desired, notes=notes if changes else [], facts={"mode": mode} if changes else {})

    @staticmethod
    def _check_rebuild(rebuild, current, world):
        if current["image"] is None:
            raise Conflict("a server booted from a volume cannot be rebuilt here (its image is its volume's)",
                           kind=KIND, name=current["name"], hint=_RECREATE_HINT)
        have = parse_microversion(world.microversion)
        for change in rebuild:
            need = REBUILD_MICROVERSION.get(change.path)
            if need and have < need:
                raise Conflict("rebuilding with a new %s needs compute API microversion %d.%d; this cloud "
                               "offers %s" % (change.path, need[0], need[1], world.microversion),
                               kind=KIND, name=current["name"], hint=_RECREATE_HINT)

    @staticmethod
    def _nic_changes(want, current, after):
        """Match the desired NICs to the current ports: by port, then by network (and fixed IP)."""
        if want is None:
            return [], {"attach": [], "detach": []}
        have = list(current["nics"])
        free = list(range(len(have)))
        unmatched = []
        for nic in want:
            found = None
            for i in free:
                cur = have[i]
                if nic["port"] is not None:
                    ok = cur["port"] == nic["port"]
                else:
                    ok = cur["network_id"] == nic["network_id"] and (
                        nic["fixed_ip"] is None or nic["fixed_ip"] in cur["fixed_ips"])
                if ok:
                    found = i
                    break
            if found is None:
                unmatched.append(nic)
            else:
                free.remove(found)
        # network NICs without fixed_ip may have matched a port a port-NIC needs: ports were listed
        # explicitly, so they win (a second pass is not needed: a port-NIC matches only its port).
        changes = []
        attach = []
        detach = []
        for nic in unmatched:
            key = nic.get("port_name") or nic["network"]
            shown = {"network": nic["network"]}
            if nic["port"]:
                shown["port"] = nic["port"]
            if nic["fixed_ip"]:
                shown["fixed_ip"] = nic["fixed_ip"]
            changes.append(Change("nics[%s]" % key, "add", None, shown, LIVE))
            attach.append(nic)
        for i in free:
            cur = have[i]
            changes.append(Change("nics[%s]" % cur["port"], "remove", cur, None, LIVE))
            detach.append(cur)
        if changes:
            kept = [have[i] for i in range(len(have)) if i not in free]
            after["nics"] = kept + [{"network": n["network"], "network_id": n["network_id"], "port": n["port"],
                                     "mac": None, "fixed_ips": [n["fixed_ip"]] if n["fixed_ip"] else []}
                                    for n in attach]
            gone = set(c["network"] for c in detach) - set(n["network"] for n in after["nics"])
            after["addresses"] = dict((k, v) for k, v in (current.get("addresses") or {}).items() if k not in gone)
            after["ips"] = sorted(set(a for v in after["addresses"].values() for a in v),
                                  key=lambda a: (":" in a, a))
        return changes, {"attach": attach, "detach": [d["port"] for d in detach]}

    @staticmethod
    def _disk_changes(want, current, after):
        """Attached volumes (live) and the boot disk (create-only)."""
        if want is None:
            return [], None
        have = current["disks"]
        have_boot = [d for d in have if d["boot"]]
        boot_change = None
        want_attached = [d for d in want if not d["boot"]]
        if want and want[0]["boot"]:
            disk = want[0]
            if not have_boot:
                boot_change = Change("disks[0]", "add", "no boot volume", disk.get("volume") or "a new boot volume",
                                     REPLACE)
            elif disk.get("volume_id") and disk["volume_id"] != have_boot[0]["volume_id"]:
                boot_change = Change("disks[0]", "modify", have_boot[0]["volume"], disk["volume"], REPLACE)
            elif not disk.get("volume_id") and disk["size"] != have_boot[0]["size"]:
                boot_change = Change("disks[0].size", "modify", have_boot[0]["size"], disk["size"], REPLACE)
        have_attached = dict((d["volume_id"], d) for d in have if not d["boot"])
        want_ids = [d["volume_id"] for d in want_attached]
        changes = []
        for disk in want_attached:
            if disk["volume_id"] not in have_attached:
                changes.append(Change("disks[%s]" % disk["volume"], "add", None,
                                      {"volume": disk["volume"], "volume_id": disk["volume_id"]}, LIVE))
        for vid, disk in sorted(have_attached.items()):
            if vid not in want_ids:
                changes.append(Change("disks[%s]" % (disk["volume"] or vid), "remove", disk, None, LIVE))
        if changes:
            after["disks"] = [d for d in have if d["boot"]] + [
                have_attached.get(d["volume_id"]) or {"volume": d["volume"], "volume_id": d["volume_id"],
                                                      "size": d.get("size_now"), "boot": False,
                                                      "delete_on_termination": False}
                for d in want_attached]
        return changes, boot_change

    @staticmethod
    def _note(change):
        if change.path == "flavor":
            return "resize %s -> %s" % (change.before, change.after)
        if change.path.startswith("nics["):
            return "%s interface %s" % ("attach" if change.op == "add" else "detach", change.path[5:-1])
        if change.path.startswith("disks[") and change.effect == LIVE:
            return "%s volume %s%s" % ("attach" if change.op == "add" else "detach", change.path[6:-1],
                                       "" if change.op == "add" else " (the volume is kept)")
        return "%s %s%s" % (change.op, change.path, " [%s]" % change.effect)

    # -- delete
    def _plan_delete(self, desired, world):
        current = world.current
        if current is None:
            return Plan(KIND, desired["name"], NONE, before=None, after=None, desired=desired,
                        notes=["instance %s does not exist" % desired["name"]])
        notes = ["delete server %s (%s) and wait until it is gone; ports Nova created for it go with it, "
                 "ports given to it are kept" % (current["name"], current["id"])]
        attached = [d for d in current["disks"] if d["volume_id"]]
        purge = []
        for disk in attached:
            if desired["purge_volumes"] and not disk.get("delete_on_termination"):
                purge.append(disk)
            elif disk.get("delete_on_termination"):
                notes.append("Nova deletes volume %s with it (delete_on_termination)" % (disk["volume"] or disk["volume_id"]))
        if purge:
            notes.append("then delete volume(s) %s (purge_volumes: true)" % ", ".join(
                d["volume"] or d["volume_id"] for d in purge))
        kept = [d["volume"] or d["volume_id"] for d in attached if d not in purge and not d.get("delete_on_termination")]
        if kept:
            notes.append("keep volume(s) %s (purge_volumes: true deletes them)" % ", ".join(kept))
        return Plan(KIND, desired["name"], DELETE, before=current, after=None,
                    desired=dict(desired, server_id=current["id"], purge=[d["volume_id"] for d in purge]),
                    notes=notes)

    def outputs(self, plan):
        return {"reboot_required": False}

    def public(self, state):
        if state is None:
            return None
        result = copy.deepcopy(state)
        result.pop("security_group_ids", None)
        for nic in result.get("nics") or []:
            nic.pop("security_group_ids", None)
        if result.get("cloud_init") is not None:
            result["cloud_init"] = {"sha256": "********"}
        return result
