# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the ``instance`` module, shared with the stack, which validates each of its
``instance`` resources against them."""

from __future__ import annotations

from ansible_collections.converge.virt.plugins.module_utils.hypervisors.options import (
    CLUSTER_OPTION_NAMES,
    INSTANCE_CLUSTER_ARGS,
)

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", default="running", choices=["running", "stopped", "paused", "absent"]),
    apply=dict(type="str", default="live", choices=["live", "next_boot", "restart"]),
    vcpus=dict(type="int"),
    max_vcpus=dict(type="int"),
    memory=dict(type="str"),
    max_memory=dict(type="str"),
    machine=dict(type="str"),
    virt_type=dict(type="str", default="auto", choices=["auto", "kvm", "qemu", "xen"]),
    xen=dict(type="dict", options=dict(
        mode=dict(type="str", choices=["hvm", "pv", "pvh"]),
        kernel=dict(type="str"),
        initrd=dict(type="str"),
        cmdline=dict(type="str"),
        bootloader=dict(type="str"),
        bootloader_args=dict(type="str"),
    )),
    cpu=dict(type="dict", options=dict(
        mode=dict(type="str", required=True, choices=["host-passthrough", "host-model", "maximum", "custom"]),
        model=dict(type="str"),
    )),
    firmware=dict(type="str", choices=["bios", "uefi"]),
    secure_boot=dict(type="bool"),
    pool=dict(type="str"),
    disks=dict(type="list", elements="dict", options=dict(
        volume=dict(type="str"),
        pool=dict(type="str"),
        image=dict(type="str"),
        image_pool=dict(type="str"),
        size=dict(type="str"),
        format=dict(type="str", choices=["qcow2", "raw"]),
        target=dict(type="str"),
        bus=dict(type="str", choices=["virtio", "sata", "scsi", "ide", "usb", "xen"]),
        serial=dict(type="str"),
        readonly=dict(type="bool"),
        volume_type=dict(type="str"),
        delete_on_termination=dict(type="bool"),
    )),
    cdrom=dict(type="dict", options=dict(
        path=dict(type="str"),
        volume=dict(type="str"),
        pool=dict(type="str"),
        drive=dict(type="bool"),
    )),
    boot=dict(type="list", elements="str"),
    nics=dict(type="list", elements="dict", options=dict(
        network=dict(type="str"),
        port=dict(type="str"),
        fixed_ip=dict(type="str"),
        mac=dict(type="str"),
        model=dict(type="str", choices=["virtio", "e1000", "e1000e", "rtl8139", "netfront"]),
    )),
    cloud_init=dict(type="dict", no_log=True, options=dict(
        user_data=dict(type="raw"),
        meta_data=dict(type="raw"),
        network_config=dict(type="raw"),
        instance_id=dict(type="str"),
    )),
    console_log=dict(type="str"),
    graphics=dict(type="dict", options=dict(
        type=dict(type="str", default="none", choices=["none", "vnc", "spice"]),
        listen=dict(type="str", default="127.0.0.1"),
    )),
    autostart=dict(type="bool"),
    guest_agent=dict(type="bool"),
    xml_overrides=dict(type="list", elements="dict", options=dict(
        xpath=dict(type="str", required=True),
        attributes=dict(type="dict"),
        text=dict(type="str"),
        xml=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )),
    hotplug_slots=dict(type="int", default=4),
    recreate=dict(type="bool", default=False),
    rebuild=dict(type="bool", default=False),
    flavor=dict(type="str"),
    confirm_resize=dict(type="bool", default=True),
    image=dict(type="str"),
    key_name=dict(type="str", no_log=False),
    security_groups=dict(type="list", elements="str"),
    metadata=dict(type="dict"),
    tags=dict(type="list", elements="str"),
    availability_zone=dict(type="str"),
    server_group=dict(type="str"),
    config_drive=dict(type="bool"),
    timeouts=dict(type="dict", options=dict(
        build=dict(type="int", default=600),
        resize=dict(type="int", default=600),
        delete=dict(type="int", default=300),
        power=dict(type="int", default=300),
    )),
    purge_volumes=dict(type="bool", default=False),
    stop_timeout=dict(type="int", default=60),
    wait_for=dict(type="str", default="none", choices=["none", "ip", "agent"]),
    wait_timeout=dict(type="int", default=300),
)


# Options that mean something to one backend only (refused on the other when set).
BACKEND_OPTIONS = {
    "libvirt": {"only": ["apply", "max_vcpus", "max_memory", "machine", "virt_type", "xen", "cpu", "firmware",
                         "secure_boot", "pool", "cdrom", "boot", "console_log", "graphics", "autostart",
                         "guest_agent", "xml_overrides", "hotplug_slots", "stop_timeout"]},
    "openstack": {"only": ["rebuild", "flavor", "confirm_resize", "image", "key_name", "security_groups",
                           "metadata", "tags", "availability_zone", "server_group", "config_drive",
                           "timeouts"]},
}

# Keyword arguments of AnsibleModule beyond the argument_spec.
MODULE_KWARGS = {}

# Many hosts: where the instance lives (libvirt only; OpenStack has availability_zone and
# server_group for that).
ARGUMENT_SPEC.update(INSTANCE_CLUSTER_ARGS)
BACKEND_OPTIONS["libvirt"]["only"].extend(CLUSTER_OPTION_NAMES)
