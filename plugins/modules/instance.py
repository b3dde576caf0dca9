#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: instance
short_description: Converge a virtual machine (libvirt domain) to its declared state
version_added: 0.1.0
description:
  - Defines, updates in place, starts, stops, pauses and deletes a virtual machine.
  - B(Updates are made in place.) Each change in the returned plan is marked V(live) (reaches the
    running guest now), V(restart) (written to the definition; the guest sees it at its next boot)
    or V(replace) (create-only; needs O(recreate=true)). O(apply) chooses what happens to a running
    guest, and RV(reboot_required) says whether it lags its definition afterwards.
  - B(Quiet second runs.) What libvirt adds on its own (generated MACs, PCI addresses, the UUID,
    default controllers and devices) never counts as a change, and options that are not set are
    left alone on an existing instance.
  - Disks are volumes of libvirt storage pools. A disk with O(disks[].image) and/or
    O(disks[].size) is created by the instance (a linked clone of the image, or an empty volume)
    and B(owned) by it; a disk with only O(disks[].volume) is a volume the instance merely
    B(references).
  - The cloud-init NoCloud seed (O(cloud_init)) is generated in Python as an ISO 9660 image,
    stored as the volume C(<name>-cidata.iso) of O(pool) and attached as a CD-ROM. It is written
    again only when its content changes.
  - Everything is validated before anything changes (names, sizes, networks, pools, volumes,
    images, MAC addresses, cloud-init YAML).
  - A run that changes nothing only reads.
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.ATTRIBUTES
options:
  name:
    description:
      - Name of the instance (the libvirt domain). Identifies it; cannot be changed.
    type: str
    required: true
  state:
    description:
      - V(running), V(stopped), V(paused) or V(absent).
      - Stopping is a graceful ACPI shutdown; after O(stop_timeout) seconds the instance is
        powered off (with a warning).
      - V(absent) stops the instance the same way, then undefines it with its UEFI nvram, managed
        save image and snapshot metadata, and deletes the volumes it B(owns) (its O(disks) made
        from O(disks[].image)/O(disks[].size), and its cloud-init seed). Volumes it only
        references are kept unless O(purge_volumes=true). An instance that does not exist is not
        an error.
      - "Update: live."
    type: str
    choices: [running, stopped, paused, absent]
    default: running
  apply:
    description:
      - What an update does to a B(running) guest.
      - V(live) applies live changes now (vCPUs and memory within the maxima, disk and NIC
        hot-plug, CD-ROM media, disk growth) and writes restart changes to the definition,
        returning RV(reboot_required=true).
      - V(next_boot) only writes the definition; the running guest is not touched.
      - V(restart) applies live changes, then restarts the guest (graceful shutdown, start) when
        anything is waiting for a boot, including changes left pending by earlier runs.
    type: str
    choices: [live, next_boot, restart]
    default: live
  vcpus:
    description:
      - Number of virtual CPUs. V(1) when creating.
      - "Update: live up to O(max_vcpus) (CPU hot-plug); above it, raise O(max_vcpus) too."
    type: int
  max_vcpus:
    description:
      - Most vCPUs the instance can be given live. When creating, O(vcpus).
      - "Update: restart."
    type: int
  memory:
    description:
      - Memory of the guest, in bytes or with a unit (V(512M), V(2G)); whole MiB, at least 64 MiB.
        V(512M) when creating.
      - "Update: live up to O(max_memory) (through the memory balloon; the guest needs its balloon
        driver to give memory back)."
    type: str
  max_memory:
    description:
      - Most memory the instance can be given live. When creating, O(memory).
      - "Update: restart."
    type: str
  machine:
    description:
      - Machine type. V(q35) (the default when creating) or V(pc), or a versioned name such as
        V(pc-q35-7.2). libvirt expands V(q35) to the newest versioned name; that counts as V(q35).
      - "Create-only: a change fails unless O(recreate=true)."
    type: str
  virt_type:
    description:
      - The hypervisor type. V(kvm) (hardware virtualization), V(qemu) (TCG emulation, slower,
        works everywhere) or V(auto).
      - V(auto) does not trust advertised capabilities alone. When the host advertises KVM, a test
        guest (a Linux kernel direct-booted without disks, from the newest C(/boot/vmlinuz-*) or
        the file named by the environment variable C(CONVERGE_VIRT_PROBE_KERNEL)) must boot under
        KVM within 20 seconds; otherwise V(qemu) is used, with a warning. Without a kernel to test
        with, V(auto) chooses V(qemu) and warns. The verdict is cached until the host reboots.
      - V(auto) is resolved when the instance is created; later runs keep what it chose.
      - "Update: restart."
    type: str
    choices: [auto, kvm, qemu]
    default: auto
  cpu:
    description:
      - CPU model. When not set, libvirt's default.
      - "Update: restart."
    type: dict
    suboptions:
      mode:
        description:
          - V(host-passthrough) and V(host-model) need KVM; V(maximum) gives TCG guests every
            feature it can emulate; V(custom) uses O(cpu.model).
        type: str
        choices: [host-passthrough, host-model, maximum, custom]
        required: true
      model:
        description: CPU model name for V(custom), for example V(Skylake-Server).
        type: str
  firmware:
    description:
      - V(bios) (SeaBIOS; the default when creating) or V(uefi) (OVMF, with an nvram file of the
        instance's own, created by libvirt and deleted with the instance).
      - "Create-only: a change fails unless O(recreate=true)."
    type: str
    choices: [bios, uefi]
  secure_boot:
    description:
      - With V(uefi) on q35, boot with Secure Boot enforced (Microsoft keys enrolled).
      - "Create-only: a change fails unless O(recreate=true)."
    type: bool
  pool:
    description:
      - Storage pool for the volumes the instance owns (default for O(disks[].pool)) and for its
        cloud-init seed. Required with O(cloud_init).
    type: str
  disks:
    description:
      - The disks, in order. Each is an existing volume (O(disks[].volume)) or one the instance
        creates and owns (O(disks[].image) and/or O(disks[].size)).
      - When not set, the disks are left alone. V([]) means no disks.
      - "Update: adding or removing a V(virtio) or V(scsi) disk is live (hot-plug); other changes
        of a disk are restart. Removing an owned disk deletes its volume after detaching it."
    type: list
    elements: dict
    suboptions:
      volume:
        description:
          - Name of the volume. For an owned disk, defaults to C(<name>-<target>.qcow2).
        type: str
      pool:
        description: Pool of the volume. Defaults to O(pool).
        type: str
      image:
        description:
          - Creates the disk as a linked clone (qcow2 with the image as backing file) of this
            volume of O(disks[].image_pool). Create-only.
        type: str
      image_pool:
        description: Pool of O(disks[].image). Defaults to the disk's pool.
        type: str
      size:
        description:
          - Size of an owned disk (at least the image's). V(10G), V(512M), bytes...
          - "Update: live (grow only, through the block resize of the running guest)."
        type: str
      format:
        description: Format of an owned disk; V(qcow2) (default) or V(raw) (empty disks only).
        type: str
        choices: [qcow2, raw]
      target:
        description:
          - Device name in the guest's bus (V(vda), V(vdb)...). Defaults to the next free name of
            the bus. V(sde), V(sdf), V(hdc) and V(hdd) are reserved for the CD-ROM and the seed.
          - Identifies the disk in the plan.
        type: str
      bus:
        description: Disk bus.
        type: str
        choices: [virtio, sata, scsi, ide, usb]
        default: virtio
      serial:
        description:
          - Serial number the guest sees (at most 20 characters); on Linux the disk appears as
            C(/dev/disk/by-id/virtio-<serial>).
        type: str
      readonly:
        description: Attach the disk read-only.
        type: bool
        default: false
  cdrom:
    description:
      - "A CD-ROM drive and its media, on SATA (q35) or IDE (pc): O(cdrom.path) for an ISO file on
        the hypervisor, O(cdrom.volume) and O(cdrom.pool) for an ISO volume, an empty dict for an
        empty drive, O(cdrom.drive=false) for no drive. Boot from it with O(boot)."
      - "Update: changing the media is live; adding or removing the drive is restart."
    type: dict
    suboptions:
      path:
        description: Absolute path of an ISO file on the hypervisor.
        type: str
      volume:
        description: Name of an ISO volume.
        type: str
      pool:
        description: Pool of O(cdrom.volume).
        type: str
      drive:
        description: V(false) removes the drive.
        type: bool
  boot:
    description:
      - "Boot order: a list of V(hd), V(cdrom), V(network); V(hd) alone when creating. V(cdrom)
        then V(hd) is the declarative form of C(qemu-system-x86_64 -boot d)."
      - "Update: restart."
    type: list
    elements: str
  nics:
    description:
      - Network interfaces, in order, each on a libvirt network. A MAC is generated when not set
        and then kept.
      - When not set, the NICs are left alone. V([]) means no NICs.
      - "Update: adding, removing, and moving a NIC to another network are live; changing its MAC
        or model is restart."
    type: list
    elements: dict
    suboptions:
      network:
        description: Name of the libvirt network (must exist).
        type: str
        required: true
      mac:
        description: MAC address; must not be used by another instance.
        type: str
      model:
        description: Device model.
        type: str
        choices: [virtio, e1000, e1000e, rtl8139]
        default: virtio
  cloud_init:
    description:
      - A cloud-init NoCloud seed. Never shown in results or diffs (only that it changed).
      - The seed is read by cloud-init at boot, so a change is restart. cloud-init runs its
        per-instance modules (users, packages, runcmd...) once per C(instance-id); change
        O(cloud_init.instance_id) to make it run them again.
      - "Update: restart."
    type: dict
    suboptions:
      user_data:
        description:
          - User-data. A dict is rendered as C(#cloud-config) YAML. A string is used as it is and
            must start with C(#cloud-config) (then it must be valid YAML), C(#!) (a script),
            C(#include), C(#cloud-boothook), or be MIME multi-part.
        type: raw
      meta_data:
        description:
          - Meta-data (dict or YAML string). C(instance-id) defaults to O(cloud_init.instance_id)
            or the instance name; C(local-hostname) to the instance name.
        type: raw
      network_config:
        description:
          - Network configuration (version 1 or 2), dict or YAML string. When not set, cloud-init
            configures DHCP on the first NIC.
        type: raw
      instance_id:
        description: The C(instance-id) of the meta-data.
        type: str
  console_log:
    description:
      - File on the hypervisor where the serial console is logged (rewritten at each start).
        Defaults to C(/var/log/libvirt/qemu/<name>-console.log). V('') disables the log.
      - Its last lines are part of the error when O(wait_for) times out (local hypervisors).
      - "Update: restart."
    type: str
  graphics:
    description:
      - Graphical console.
      - "Update: restart."
    type: dict
    suboptions:
      type:
        description: V(none) (serial console only; the default when creating), V(vnc) or V(spice).
        type: str
        choices: [none, vnc, spice]
        default: none
      listen:
        description: Address the VNC/SPICE server listens on.
        type: str
        default: 127.0.0.1
  autostart:
    description:
      - Start the instance when libvirtd starts. V(false) when creating.
      - "Update: live."
    type: bool
  guest_agent:
    description:
      - Give the guest a channel for the QEMU guest agent (C(org.qemu.guest_agent.0)). V(true)
        when creating. O(wait_for=agent) and IPs from the agent need it.
      - "Update: restart."
    type: bool
  xml_overrides:
    description:
      - An escape hatch for what the options do not cover. Each item selects elements of the
        domain XML with an ElementTree XPath relative to C(<domain>) (V(./devices/watchdog),
        V(./features/hyperv/relaxed), V(./devices/interface[@type='network']/driver)) and sets
        O(xml_overrides[].attributes), O(xml_overrides[].text), appends O(xml_overrides[].xml),
        or removes the elements (O(xml_overrides[].state=absent)). A path of plain steps is
        created when missing.
      - An override counts as a change only when the definition does not already look as it
        asks, so second runs stay quiet.
      - "Update: restart."
    type: list
    elements: dict
    suboptions:
      xpath:
        description: The elements to change.
        type: str
        required: true
      attributes:
        description: Attributes to set on the first matching element.
        type: dict
      text:
        description: Text of the first matching element.
        type: str
      xml:
        description: An XML element appended to the first matching element (unless it has an equal one).
        type: str
      state:
        description: V(absent) removes every matching element.
        type: str
        choices: [present, absent]
        default: present
  hotplug_slots:
    description:
      - Spare PCIe root ports a q35 instance gets when it is created, so that disks and NICs can be
        hot-plugged later (each takes one). Used only when creating.
    type: int
    default: 4
  recreate:
    description:
      - Allow create-only changes (O(machine), O(firmware), O(secure_boot)) by undefining the
        instance and defining it again. Its disks are kept; the guest is stopped and started.
    type: bool
    default: false
  purge_volumes:
    description:
      - With O(state=absent), also delete the volumes the instance references (not only those it
        owns).
    type: bool
    default: false
  stop_timeout:
    description: Seconds to wait for a graceful shutdown before powering off.
    type: int
    default: 60
  wait_for:
    description:
      - After converging a running instance, wait until the guest V(ip) has an IPv4 address (from
        the DHCP lease of a libvirt network, or the guest agent), or its V(agent) answers. Also on
        runs that change nothing (only reads).
      - On timeout the task fails with the last lines of the console log.
    type: str
    choices: [none, ip, agent]
    default: none
  wait_timeout:
    description: Seconds O(wait_for) waits.
    type: int
    default: 300
notes:
  - Check mode and diff mode are fully supported and show the same plan a real run carries out.
  - KVM hosts with broken nested virtualization advertise KVM but their guests hang; use
    O(virt_type=auto) or V(qemu) there.
seealso:
  - module: converge.virt.instance_info
  - module: converge.virt.volume
  - module: converge.virt.network
"""

EXAMPLES = r"""
- name: A VM booted from a linked clone of a cloud image, with cloud-init, waiting for its IP
  converge.virt.instance:
    name: web1
    vcpus: 2
    max_vcpus: 4
    memory: 1G
    max_memory: 4G
    pool: default
    disks:
      - image: debian-12-genericcloud-amd64.qcow2
        size: 20G
    nics:
      - network: lab
        mac: "52:54:00:77:00:10"
    cloud_init:
      user_data:
        users:
          - name: admin
            ssh_authorized_keys: ["ssh-ed25519 AAAA... admin@example"]
    wait_for: ip
  register: web1

- name: Its address
  ansible.builtin.debug:
    msg: "{{ web1.instance.ips }}"

- name: More memory and one more CPU, live; a data disk hot-plugged
  converge.virt.instance:
    name: web1
    vcpus: 3
    memory: 2G
    disks:
      - image: debian-12-genericcloud-amd64.qcow2
        size: 20G
      - volume: web1-data.qcow2
        serial: data
  register: update

- name: Install from an ISO, the declarative "-hda disk.img -cdrom x.iso -boot d"
  converge.virt.instance:
    name: installer
    virt_type: qemu
    firmware: uefi
    pool: default
    disks:
      - size: 16G
    cdrom:
      path: /var/lib/libvirt/images/debian-12.iso
    boot: [cdrom, hd]
    graphics:
      type: vnc

- name: A change that needs a reboot, done now
  converge.virt.instance:
    name: web1
    max_memory: 8G
    apply: restart

- name: Gone, with its own disks, nvram and seed (referenced volumes stay)
  converge.virt.instance:
    name: web1
    state: absent
"""

RETURN = r"""
instance:
  description:
    - The instance after the run (predicted in check mode; null when absent). The cloud-init seed
      is shown only as a masked digest.
  returned: always
  type: dict
  contains:
    name:
      description: Name.
      type: str
    uuid:
      description: libvirt's UUID (null before creation in check mode).
      type: str
    state:
      description: V(running), V(stopped) or V(paused).
      type: str
    vcpus:
      description: vCPUs.
      type: int
    max_vcpus:
      description: Most vCPUs.
      type: int
    memory:
      description: Memory in bytes.
      type: int
    max_memory:
      description: Most memory in bytes.
      type: int
    virt_type:
      description: V(kvm) or V(qemu).
      type: str
    machine:
      description: Machine type, as libvirt expanded it.
      type: str
    firmware:
      description: V(bios) or V(uefi).
      type: str
    disks:
      description: Disks with C(target), C(bus), C(pool), C(volume), C(path), C(format), C(size),
        C(serial), C(readonly) and C(owned).
      type: list
      elements: dict
    cdrom:
      description: The CD-ROM media (C(path), or C(pool) and C(volume)); empty when the drive is empty; null
        without a drive.
      type: dict
    nics:
      description: NICs with C(network), C(mac) and C(model).
      type: list
      elements: dict
    interfaces:
      description: For a running instance, each NIC's C(mac), C(network) and C(ips).
      type: list
      elements: dict
    ips:
      description: The guest's addresses (IPv4 first), from DHCP leases and the guest agent.
      type: list
      elements: str
    console_log:
      description: Path of the serial console log on the hypervisor.
      type: str
    pending:
      description: Fields the running guest sees only at its next boot.
      type: list
      elements: str
    nvram:
      description: Path of the UEFI nvram file.
      type: str
reboot_required:
  description: Whether the running guest lags its definition (changes wait for its next boot).
  returned: always
  type: bool
plan:
  description:
    - What the run does (or did), field by field. C(changes) lists each change with its C(path),
      C(op), C(before), C(after) and C(effect) (V(live), V(restart) or V(replace)); C(notes) says
      it in words.
  returned: always
  type: dict
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_resource_module

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", default="running", choices=["running", "stopped", "paused", "absent"]),
    apply=dict(type="str", default="live", choices=["live", "next_boot", "restart"]),
    vcpus=dict(type="int"),
    max_vcpus=dict(type="int"),
    memory=dict(type="str"),
    max_memory=dict(type="str"),
    machine=dict(type="str"),
    virt_type=dict(type="str", default="auto", choices=["auto", "kvm", "qemu"]),
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
        bus=dict(type="str", default="virtio", choices=["virtio", "sata", "scsi", "ide", "usb"]),
        serial=dict(type="str"),
        readonly=dict(type="bool", default=False),
    )),
    cdrom=dict(type="dict", options=dict(
        path=dict(type="str"),
        volume=dict(type="str"),
        pool=dict(type="str"),
        drive=dict(type="bool"),
    )),
    boot=dict(type="list", elements="str"),
    nics=dict(type="list", elements="dict", options=dict(
        network=dict(type="str", required=True),
        mac=dict(type="str"),
        model=dict(type="str", default="virtio", choices=["virtio", "e1000", "e1000e", "rtl8139"]),
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
    purge_volumes=dict(type="bool", default=False),
    stop_timeout=dict(type="int", default=60),
    wait_for=dict(type="str", default="none", choices=["none", "ip", "agent"]),
    wait_timeout=dict(type="int", default=300),
)


def main():
    run_resource_module("instance", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
