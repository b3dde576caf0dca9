#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: instance
short_description: Converge a virtual machine (libvirt domain, or OpenStack Nova server) to its declared state
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
  - B(OpenStack.) With O(cloud) or O(auth), converges a Nova server of the project instead. It is
    found by name within the project (two servers with the name are an error, never a guess). The
    same options mean the same things where the concept is the same; options marked B(libvirt only.)
    are refused on OpenStack, options marked B(OpenStack only.) are refused on libvirt.
  - "On OpenStack each change is marked V(live) (security groups, metadata, tags, interface and
    volume attach/detach, start/stop/pause: applied in place), V(restart) (O(flavor): a resize, which
    restarts the guest, confirmed automatically unless O(confirm_resize=false)) or V(replace)
    (O(image), O(key_name) and the user-data: a rebuild, refused unless O(rebuild=true) or
    O(recreate=true); O(availability_zone), O(server_group), O(config_drive) and the boot disk:
    refused unless O(recreate=true))."
  - On OpenStack the user-data is never shown nor read back; its SHA-256 is kept in the server's
    metadata under C(converge_virt_user_data_sha256), and every C(converge_virt_*) metadata key is
    hidden from RV(instance.metadata). Servers the module creates carry the tag C(converge-virt),
    which is hidden from RV(instance.tags) (RV(instance.managed) tells it).
  - On OpenStack every reference (flavor, image, network, port, volume, security group, keypair,
    server group) is looked up, by ID or by name, before anything changes.
  - B(Many libvirt hosts.) With O(hypervisors) (an inventory group, inventory hosts, or
    C({name, uri}) dictionaries) the instance is found on whichever hypervisor has it, a new one
    is placed by O(host) or by the scheduler (O(placement)), and an existing one whose host
    changes is migrated (O(migration)), never deleted and created again. RV(placement) explains
    the decision host by host; RV(plan) shows a move as a change of C(host) with the migration's
    kind in C(plan.migration).
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.ATTRIBUTES
  - converge.virt.hypervisors
  - converge.virt.hypervisors.PLACEMENT
options:
  name:
    description:
      - Name of the instance (the libvirt domain, or the Nova server). Identifies it; cannot be changed.
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
      - On OpenStack, V(stopped) is Nova's stop, V(paused) Nova's pause, and V(absent) deletes the
        server and waits until it is gone (O(timeouts.delete)). Ports Nova created for it go with it;
        ports given to it through O(nics[].port) are kept. Attached volumes are kept unless
        O(purge_volumes=true); a boot volume made with O(disks[].delete_on_termination=true) is deleted
        by Nova.
      - "Update: live."
    type: str
    choices: [running, stopped, paused, absent]
    default: running
  apply:
    description:
      - B(libvirt only.) What an update does to a B(running) guest.
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
      - On OpenStack, O(vcpus) and/or O(memory) select a flavor instead of O(flavor) - the smallest
        one with at least that many vCPUs and that much memory (fewest vCPUs, then least memory,
        then least disk, then name); the plan's notes name it. On an existing server, the one not
        set keeps its current value, and a current flavor with exactly the asked size is kept.
        No fitting flavor fails before anything changes.
      - "Update on OpenStack: restart (a resize to the selected flavor, see O(flavor))."
    type: int
  max_vcpus:
    description:
      - B(libvirt only.) Most vCPUs the instance can be given live. When creating, O(vcpus).
      - "Update: restart."
    type: int
  memory:
    description:
      - Memory of the guest, in bytes or with a unit (V(512M), V(2G)); whole MiB, at least 64 MiB.
        V(512M) when creating.
      - "Update: live up to O(max_memory) (through the memory balloon; the guest needs its balloon
        driver to give memory back)."
      - On OpenStack, see O(vcpus).
    type: str
  max_memory:
    description:
      - B(libvirt only.) Most memory the instance can be given live. When creating, O(memory).
      - "Update: restart."
    type: str
  machine:
    description:
      - B(libvirt only.) Machine type. V(q35) (the default when creating) or V(pc), or a versioned name such as
        V(pc-q35-7.2). libvirt expands V(q35) to the newest versioned name; that counts as V(q35).
      - "Create-only: a change fails unless O(recreate=true)."
    type: str
  virt_type:
    description:
      - B(libvirt only.) The hypervisor type. V(kvm) (hardware virtualization), V(qemu) (TCG emulation, slower,
        works everywhere) or V(auto).
      - V(auto) does not trust advertised capabilities alone. When the host advertises KVM, a test
        guest (a Linux kernel direct-booted without disks, from the newest C(/boot/vmlinuz-*) or
        the file named by the environment variable C(CONVERGE_VIRT_PROBE_KERNEL)) must boot under
        KVM within 20 seconds; otherwise V(qemu) is used, with a warning. Without a kernel to test
        with, V(auto) chooses V(qemu) and warns. The verdict is cached until the host reboots.
      - V(auto) is resolved when the instance is created; later runs keep what it chose.
      - V(xen) makes a Xen guest (libvirt's Xen driver, libxl; domain type C(xen)); see O(xen). On a Xen
        host (a C(xen://) URI such as C(xen:///system) or C(xen+ssh://root@host/system), a C(libxl://) URI,
        or any connection whose driver is Xen) V(auto) means V(xen), without a KVM probe, and V(kvm) or
        V(qemu) is refused; V(xen) on a host that is not Xen is refused.
      - "Update: restart."
    type: str
    choices: [auto, kvm, qemu, xen]
    default: auto
  xen:
    description:
      - B(libvirt only.) How a Xen guest boots. Setting it makes the instance a Xen guest (with
        O(virt_type=auto) or V(xen)). When not set on a Xen host, an V(hvm) guest.
      - "Xen guests follow Xen's rules: disks are on the V(xen) bus (C(xvda), C(xvdb)...; V(ide) too on
        HVM guests), NICs are V(netfront) (PV/PVH) or V(rtl8139), V(e1000), V(netfront) (HVM; V(rtl8139)
        when not set: the emulated NIC plus the PV one, which a guest with PV drivers switches to), the
        console is the PV console (C(hvc0)) on PV/PVH guests and the serial port on HVM guests, the
        CD-ROM and the cloud-init seed are C(xvdy) and C(xvdz) (PV/PVH) or C(hdc) and C(hdd) (HVM).
        Disks are given to libxl by path (it cannot open pool volumes itself): C(phy) for block
        volumes (logical, disk, iSCSI pools; raw), C(qemu) (qdisk) for files (qcow2 or raw)."
      - "Refused on Xen, naming the option, before anything changes: O(guest_agent=true) and
        O(wait_for=agent) (no virtio-serial channel, and libvirt reaches guest agents through QEMU only);
        O(cpu.mode) other than V(host-passthrough) (the only one libvirt's Xen driver implements);
        O(machine) (chosen by O(xen.mode)); O(secure_boot); O(console_log) (libxl writes no console log;
        set C(XENCONSOLED_TRACE=guest) on the host for C(/var/log/xen/console/guest-<name>.log));
        O(disks[].serial) (Xen block devices have none); buses other than V(xen) and V(ide); NIC
        models V(virtio) and V(e1000e). PV and PVH guests also refuse O(firmware), O(boot), V(ide)
        disks, NIC models other than V(netfront) and V(spice) graphics. O(hotplug_slots) is not used."
      - "Update: O(xen.kernel), O(xen.initrd), O(xen.cmdline), O(xen.bootloader) and
        O(xen.bootloader_args) are restart; O(xen.mode) is create-only (a change fails unless
        O(recreate=true)). On Xen, adding or removing a V(xen) disk is live (PV block hot-plug), an
        V(ide) disk waits for the next boot; NICs are hot-plugged only when they are V(netfront); CD-ROM
        media change live on HVM guests only; a disk grows only while the guest is stopped (libvirt's Xen
        driver has no live block resize)."
      - "B(Tested without Xen.) The machines this collection is tested on have no Xen host: the
        unit tests check every Xen definition it generates (PV with a kernel and with pygrub, PVH, HVM
        with hvmloader and with OVMF; disks, CD-ROM, seed, NICs, console, graphics) against libvirt's
        own schema with C(virt-xml-validate) (libvirt-clients), and assert the elements libxl reads.
        Booting those guests on a real Xen host has not been tried."
    type: dict
    suboptions:
      mode:
        description:
          - V(hvm) (the default) boots like a PC, from its disks, CD-ROM or network (O(boot)), with
            hvmloader (the path the host's capabilities give) or OVMF (O(firmware=uefi)).
          - "V(pv) is a paravirtualized guest: it boots O(xen.kernel) (a file on the Xen host) or the
            kernel of its own disk through O(xen.bootloader) (such as pygrub). One of them is required."
          - "V(pvh) is a PVH guest (PV devices in a hardware container): it boots O(xen.kernel), which
            is required."
          - "Create-only: a change fails unless O(recreate=true)."
        type: str
        choices: [hvm, pv, pvh]
      kernel:
        description: Absolute path, on the Xen host, of the kernel to boot directly (C(pv), C(pvh); also C(hvm)).
        type: str
      initrd:
        description: Absolute path, on the Xen host, of the initrd of O(xen.kernel).
        type: str
      cmdline:
        description: Kernel command line of O(xen.kernel), for example C(root=/dev/xvda1 console=hvc0).
        type: str
      bootloader:
        description: B(PV only.) The host's bootloader program, for example C(/usr/lib/xen/bin/pygrub); not with O(xen.kernel).
        type: str
      bootloader_args:
        description: Arguments of O(xen.bootloader).
        type: str
  cpu:
    description:
      - B(libvirt only.) CPU model. When not set, libvirt's default.
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
      - B(libvirt only.) V(bios) (SeaBIOS; the default when creating) or V(uefi) (OVMF, with an nvram file of the
        instance's own, created by libvirt and deleted with the instance).
      - "Create-only: a change fails unless O(recreate=true)."
    type: str
    choices: [bios, uefi]
  secure_boot:
    description:
      - B(libvirt only.) With V(uefi) on q35, boot with Secure Boot enforced (Microsoft keys enrolled).
      - "Create-only: a change fails unless O(recreate=true)."
    type: bool
  pool:
    description:
      - B(libvirt only.) Storage pool for the volumes the instance owns (default for O(disks[].pool)) and for its
        cloud-init seed. Required with O(cloud_init).
    type: str
  disks:
    description:
      - The disks, in order. Each is an existing volume (O(disks[].volume)) or one the instance
        creates and owns (O(disks[].image) and/or O(disks[].size)).
      - When not set, the disks are left alone. V([]) means no disks.
      - "Update: adding or removing a V(virtio) or V(scsi) disk is live (hot-plug); other changes
        of a disk are restart. Removing an owned disk deletes its volume after detaching it."
      - On OpenStack, each disk is a Cinder volume. Without O(image), O(disks[0]) is the B(boot disk),
        a new volume made from O(disks[].image) (or blank) of O(disks[].size), or an existing bootable
        O(disks[].volume); it is create-only (a change needs O(recreate=true)). Every other disk (all
        of them when O(image) is set) is an existing volume, attached through Nova.
      - "Update on OpenStack: attaching and detaching volumes is live; detaching never deletes the
        volume. Their order does not matter."
    type: list
    elements: dict
    suboptions:
      volume:
        description:
          - Name of the volume. For an owned disk, defaults to C(<name>-<target>.qcow2).
          - On OpenStack, the name or ID of an existing Cinder volume.
        type: str
      pool:
        description: B(libvirt only.) Pool of the volume. Defaults to O(pool).
        type: str
      image:
        description:
          - Creates the disk as a linked clone (qcow2 with the image as backing file) of this
            volume of O(disks[].image_pool). Create-only.
          - On OpenStack (O(disks[0]) only), the Glance image (name or ID) the new boot volume is made
            from. Create-only.
        type: str
      image_pool:
        description: B(libvirt only.) Pool of O(disks[].image). Defaults to the disk's pool.
        type: str
      size:
        description:
          - Size of an owned disk (at least the image's). V(10G), V(512M), bytes...
          - "Update: live (grow only, through the block resize of the running guest)."
          - On OpenStack (O(disks[0]) only), the size of the new boot volume, whole GiB. Create-only.
        type: str
      format:
        description: B(libvirt only.) Format of an owned disk; V(qcow2) (default) or V(raw) (empty disks only).
        type: str
        choices: [qcow2, raw]
      target:
        description:
          - B(libvirt only.) Device name in the guest's bus (V(vda), V(vdb)...). Defaults to the next free name of
            the bus. V(sde), V(sdf), V(hdc) and V(hdd) are reserved for the CD-ROM and the seed.
          - On Xen, V(xvda), V(xvdb)... (V(hda) and V(hdb) on the V(ide) bus of an HVM guest); V(xvdy) and
            V(xvdz) are reserved.
          - Identifies the disk in the plan.
        type: str
      bus:
        description:
          - B(libvirt only.) Disk bus. V(virtio) when not set.
          - On Xen, V(xen) (the PV block device, the default) or, on HVM guests, V(ide).
        type: str
        choices: [virtio, sata, scsi, ide, usb, xen]
      serial:
        description:
          - B(libvirt only.) Serial number the guest sees (at most 20 characters); on Linux the disk appears as
            C(/dev/disk/by-id/virtio-<serial>).
        type: str
      readonly:
        description: B(libvirt only.) Attach the disk read-only. V(false) when not set.
        type: bool
      volume_type:
        description:
          - B(OpenStack only.) Cinder volume type of the new boot volume (O(disks[0]) with
            O(disks[].size)). Create-only.
        type: str
      delete_on_termination:
        description:
          - B(OpenStack only.) Whether Nova deletes the new boot volume with the server. V(true) when not
            set (the instance owns it, as libvirt's owned disks). Create-only.
        type: bool
  cdrom:
    description:
      - B(libvirt only.)
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
      - B(libvirt only.)
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
      - On OpenStack, each NIC is a O(nics[].network) (Nova creates a port on it, optionally with
        O(nics[].fixed_ip)) or an existing O(nics[].port). Without O(nics), a new server gets no NIC.
      - "Update on OpenStack: live (interface attach and detach). NICs are matched to the server's
        ports by port, then by network and fixed IP; their order matters only when creating (the
        first NIC is the primary interface)."
    type: list
    elements: dict
    suboptions:
      network:
        description:
          - Name of the libvirt network (must exist). Required with libvirt.
          - On OpenStack, the Neutron network (name or ID). Set O(nics[].network) or O(nics[].port).
        type: str
      port:
        description: B(OpenStack only.) An existing Neutron port (name or ID), not used by another server.
        type: str
      fixed_ip:
        description: B(OpenStack only.) The IP address of the port Nova creates on O(nics[].network).
        type: str
      mac:
        description: B(libvirt only.) MAC address; must not be used by another instance.
        type: str
      model:
        description:
          - B(libvirt only.) Device model. V(virtio) when not set.
          - On Xen, V(netfront) (the PV NIC; the only one of PV and PVH guests, and their default) or,
            on HVM guests, V(rtl8139) (the default) or V(e1000), each with the PV NIC beside it.
        type: str
        choices: [virtio, e1000, e1000e, rtl8139, netfront]
  cloud_init:
    description:
      - A cloud-init NoCloud seed. Never shown in results or diffs (only that it changed).
      - The seed is read by cloud-init at boot, so a change is restart. cloud-init runs its
        per-instance modules (users, packages, runcmd...) once per C(instance-id); change
        O(cloud_init.instance_id) to make it run them again.
      - "Update: restart."
      - On OpenStack, only O(cloud_init.user_data) is used; it is given to Nova (the metadata service
        and config drive serve it). Nova keeps it from creation on, so a change is V(replace) and
        refused unless O(rebuild=true) (in place; compute API microversion 2.57 or later) or
        O(recreate=true). Only its SHA-256 is kept, in the server's metadata.
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
          - B(libvirt only.) Meta-data (dict or YAML string). C(instance-id) defaults to O(cloud_init.instance_id)
            or the instance name; C(local-hostname) to the instance name.
        type: raw
      network_config:
        description:
          - B(libvirt only.) Network configuration (version 1 or 2), dict or YAML string. When not set, cloud-init
            configures DHCP on the first NIC.
        type: raw
      instance_id:
        description: B(libvirt only.) The C(instance-id) of the meta-data.
        type: str
  console_log:
    description:
      - B(libvirt only.) File on the hypervisor where the serial console is logged (rewritten at each start).
        Defaults to C(/var/log/libvirt/qemu/<name>-console.log). V('') disables the log.
      - Its last lines are part of the error when O(wait_for) times out (local hypervisors).
      - "Update: restart."
    type: str
  graphics:
    description:
      - B(libvirt only.) Graphical console.
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
      - B(libvirt only.) Start the instance when libvirtd starts. V(false) when creating.
      - "Update: live."
    type: bool
  guest_agent:
    description:
      - B(libvirt only.) Give the guest a channel for the QEMU guest agent (C(org.qemu.guest_agent.0)). V(true)
        when creating. O(wait_for=agent) and IPs from the agent need it.
      - "Update: restart."
    type: bool
  xml_overrides:
    description:
      - B(libvirt only.) An escape hatch for what the options do not cover. Each item selects elements of the
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
      - B(libvirt only.) Spare PCIe root ports a q35 instance gets when it is created, so that disks and NICs can be
        hot-plugged later (each takes one). Used only when creating.
    type: int
    default: 4
  recreate:
    description:
      - Allow create-only changes (O(machine), O(firmware), O(secure_boot)) by undefining the
        instance and defining it again. Its disks are kept; the guest is stopped and started.
      - On OpenStack, allows V(replace) changes by deleting the server and creating it again (a new
        ID). Options not set are taken from the old server; the ports it was given and its attached
        volumes are given to the new one; the user-data cannot be read back, so set
        O(cloud_init.user_data) again. A server in ERROR is replaced too.
    type: bool
    default: false
  rebuild:
    description:
      - B(OpenStack only.) Allow a change of O(image), O(key_name) (compute API microversion 2.54) or
        O(cloud_init.user_data) (2.57) by rebuilding the server in place (Nova's rebuild; the same ID,
        ports and volumes; the root disk is rewritten from the image). Not for servers booted from
        a volume.
    type: bool
    default: false
  flavor:
    description:
      - B(OpenStack only.) The flavor (name or ID). Required to create a server unless O(vcpus) and/or
        O(memory) are set (not together with them).
      - "Update: restart. A resize (the guest is restarted on its new flavor), confirmed
        automatically unless O(confirm_resize=false)."
    type: str
  confirm_resize:
    description:
      - B(OpenStack only.) Confirm a resize once Nova has made it (C(VERIFY_RESIZE)). With V(false) the
        server is left in C(VERIFY_RESIZE) for a human to confirm or revert. A server found in
        C(VERIFY_RESIZE) is confirmed when this is V(true).
    type: bool
    default: true
  image:
    description:
      - B(OpenStack only.) The Glance image (name or ID) the server boots from. Without it,
        O(disks[0]) is the boot disk.
      - "Update: replace. A rebuild: refused unless O(rebuild=true) or O(recreate=true)."
    type: str
  key_name:
    description:
      - B(OpenStack only.) The Nova keypair given to the server.
      - "Update: replace (a rebuild, see O(rebuild))."
    type: str
  security_groups:
    description:
      - B(OpenStack only.) Security groups (names or IDs) of the server's ports. Nova applies
        C(default) when creating without them. Not set on an existing server leaves them alone.
      - "Update: live (added and removed)."
    type: list
    elements: str
  metadata:
    description:
      - B(OpenStack only.) Server metadata (string values). Keys not listed are removed; keys starting
        with C(converge_virt_) are reserved.
      - "Update: live."
    type: dict
  tags:
    description:
      - B(OpenStack only.) Server tags. Tags not listed are removed (the collection's own tag stays).
      - "Update: live."
    type: list
    elements: str
  availability_zone:
    description:
      - B(OpenStack only.) The availability zone to create the server in.
      - "Create-only: a change fails unless O(recreate=true)."
    type: str
  server_group:
    description:
      - B(OpenStack only.) A server group (name or ID) the server joins (a scheduler hint).
      - "Create-only: a server outside the group fails unless O(recreate=true)."
    type: str
  config_drive:
    description:
      - B(OpenStack only.) Give the server a config drive.
      - "Create-only: a change fails unless O(recreate=true)."
    type: bool
  timeouts:
    description:
      - B(OpenStack only.) Seconds each long operation may take before the task fails (with the
        server's last status).
    type: dict
    suboptions:
      build:
        description: Create and rebuild until C(ACTIVE); each volume and interface attach and detach.
        type: int
        default: 600
      resize:
        description: Resize until C(VERIFY_RESIZE), and its confirmation.
        type: int
        default: 600
      delete:
        description: Deletion until the server is gone.
        type: int
        default: 300
      power:
        description: Start, stop, pause, unpause.
        type: int
        default: 300
  purge_volumes:
    description:
      - With O(state=absent), also delete the volumes the instance references (not only those it
        owns).
      - On OpenStack, the volumes attached to the server are deleted once the server is gone.
    type: bool
    default: false
  stop_timeout:
    description: B(libvirt only.) Seconds to wait for a graceful shutdown before powering off.
    type: int
    default: 60
  wait_for:
    description:
      - After converging a running instance, wait until the guest V(ip) has an IPv4 address (from
        the DHCP lease of a libvirt network, or the guest agent), or its V(agent) answers. Also on
        runs that change nothing (only reads).
      - On timeout the task fails with the last lines of the console log.
      - On OpenStack, V(ip) waits until every port of the server has a fixed IP in Nova's
        C(addresses); V(agent) is libvirt only.
    type: str
    choices: [none, ip, agent]
    default: none
  wait_timeout:
    description: Seconds O(wait_for) waits.
    type: int
    default: 300
notes:
  - Check mode and diff mode are fully supported and show the same plan a real run carries out.
  - On OpenStack, waits report each status change in RV(progress); a server that goes to C(ERROR)
    fails the task with Nova's fault message.
  - On a single-host OpenStack cloud, a resize needs C(allow_resize_to_same_host = True) in
    C(nova.conf); without it Nova refuses the resize and the task fails saying so.
  - KVM hosts with broken nested virtualization advertise KVM but their guests hang; use
    O(virt_type=auto) or V(qemu) there.
  - Xen guests (O(virt_type=xen), O(xen)) are built for libvirt's Xen driver and checked against
    libvirt's schema with C(virt-xml-validate) in the unit tests; there is no Xen host in the
    collection's test environment, so they have not been booted on Xen by its tests.
seealso:
  - module: converge.virt.instance_info
  - module: converge.virt.keypair
  - module: converge.virt.security_group
  - module: converge.virt.volume
  - module: converge.virt.network
"""

EXAMPLES = r"""
- name: Placed by the scheduler on one of the inventory group's hypervisors, kept apart from its peers
  converge.virt.instance:
    hypervisors: hypervisors          # an inventory group; each host's converge_virt_uri, or qemu+ssh
    placement:
      strategy: spread
      anti_affinity: web
      cpu_allocation_ratio: 2.0
    name: web2
    memory: 1G
    disks:
      - image: debian-12-genericcloud-amd64.qcow2
        size: 10G
  register: placed                    # placed.host, and placed.placement.explanation per host

- name: Move it to hv3 (a live migration when it runs, its disks copied)
  converge.virt.instance:
    hypervisors: hypervisors
    host: hv3
    name: web2
    memory: 1G
    disks:
      - image: debian-12-genericcloud-amd64.qcow2
        size: 10G

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

- name: An OpenStack server with a data volume, waiting for its addresses
  converge.virt.instance:
    cloud: mycloud
    name: app1
    flavor: m1.small
    image: debian-12
    key_name: ops
    nics:
      - network: app-net
      - port: app1-public-port
    security_groups: [default, web]
    disks:
      - volume: app1-data
    metadata:
      role: app
    tags: [production]
    cloud_init:
      user_data:
        packages: [nginx]
    wait_for: ip

- name: Bigger, in place (a resize; the guest restarts)
  converge.virt.instance:
    cloud: mycloud
    name: app1
    flavor: m1.medium

- name: A new image, rebuilt in place (same ID and ports)
  converge.virt.instance:
    cloud: mycloud
    name: app1
    image: debian-13
    rebuild: true

- name: Xen PV guest booted by pygrub from its own disk, on a Xen host reached over SSH
  converge.virt.instance:
    uri: xen+ssh://root@xen1.example.org/system
    name: pv1
    memory: 1G
    pool: default
    xen:
      mode: pv
      bootloader: /usr/lib/xen/bin/pygrub
    disks:
      - image: debian-12-genericcloud-amd64.qcow2   # xvda
        size: 20G
    nics:
      - network: default                            # netfront
    cloud_init:
      user_data:
        users: [{name: admin, ssh_authorized_keys: ["{{ lookup('file', '~/.ssh/id_ed25519.pub') }}"]}]

- name: Xen HVM guest installing from an ISO, with VNC (xen:///system on the Xen host itself)
  converge.virt.instance:
    uri: xen:///system
    name: hvm1
    virt_type: xen
    memory: 2G
    pool: default
    disks:
      - size: 20G                                   # xvda
    cdrom:
      volume: debian-12.5.0-amd64-netinst.iso       # hdc
      pool: isos
    boot: [cdrom, hd]
    nics:
      - network: default                            # rtl8139, plus the PV NIC
    graphics:
      type: vnc

- name: Gone, with its own disks, nvram and seed (referenced volumes stay)
  converge.virt.instance:
    name: web1
    state: absent
"""

RETURN = r"""
host:
  description:
    - B(libvirt), with O(hypervisors). The hypervisor the instance lives on after the run (in
      check mode, where it would); null when it is absent.
  returned: when O(hypervisors) is set
  type: str
  sample: hv2
placement:
  description:
    - B(libvirt), with O(hypervisors). How the host was decided.
  returned: when O(hypervisors) is set
  type: dict
  contains:
    host:
      description: The target host.
      type: str
    current_host:
      description: Where the instance lived before the run (null when it did not exist).
      type: str
    how:
      description:
        - V(pinned) (O(host)), V(sticky) (it stays where it lives), V(scheduled) (chosen by the
          scheduler) or V(absent).
      type: str
    notes:
      description: Why, in words.
      type: list
      elements: str
    decision:
      description:
        - When scheduled, the scheduler's decision. C(candidates) lists every candidate host with
          its C(verdict) (V(chosen), V(eligible) or V(rejected)), its C(reasons), its C(weight) and
          the C(figures) used (memory and vCPUs committed, planned, limits; pools; group members;
          weights).
      type: dict
      returned: when scheduled
    explanation:
      description: One line per candidate host.
      type: list
      elements: str
      returned: when scheduled
  sample:
    host: hv3
    current_host: null
    how: scheduled
    notes: ["scheduled on hv3 (spread)"]
    explanation:
      - "hv1: eligible, weight 0.0 (RAM 1536 of 2048 MiB free after placement, vCPU 7 of 8 free, 0 instances)"
      - "hv2: chosen, weight 1.25 (RAM 3584 of 4096 MiB free after placement, vCPU 15 of 16 free, 0 instances)"
      - "hv3: rejected: anti-affinity group web already has web0 here"
migration:
  description:
    - B(libvirt), with O(hypervisors). What the migration did, when the instance moved.
  returned: when the instance moved
  type: dict
  contains:
    mode:
      description: V(live) or V(offline).
      type: str
    storage:
      description: V(copy) (disks copied to the destination) or V(shared).
      type: str
    source:
      description: The host it left.
      type: str
    destination:
      description: The host it moved to.
      type: str
    volumes:
      description: The volumes copied, with how and how many bytes.
      type: list
      elements: dict
    seconds:
      description: Time taken by each phase and in total.
      type: dict
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
      description: libvirt's UUID (null before creation in check mode). libvirt only.
      type: str
    id:
      description: B(OpenStack.) The server's ID (null before creation in check mode).
      type: str
    status:
      description: B(OpenStack.) Nova's status (C(ACTIVE), C(SHUTOFF), C(PAUSED), C(ERROR)...).
      type: str
    fault:
      description: B(OpenStack.) Nova's fault message of a server in C(ERROR).
      type: str
    state:
      description: V(running), V(stopped) or V(paused) (on OpenStack another Nova status, in lower case, while it settles).
      type: str
    flavor:
      description: B(OpenStack.) The flavor's name.
      type: str
    image:
      description: B(OpenStack.) The image (C(id), C(name)); null when booted from a volume.
      type: dict
    key_name:
      description: B(OpenStack.) The keypair.
      type: str
    availability_zone:
      description: B(OpenStack.) The availability zone.
      type: str
    config_drive:
      description: B(OpenStack.) Whether the server has a config drive.
      type: bool
    security_groups:
      description: B(OpenStack.) Names of the security groups of its ports, sorted.
      type: list
      elements: str
    metadata:
      description: B(OpenStack.) The server's metadata, without the collection's C(converge_virt_*) keys.
      type: dict
    tags:
      description: B(OpenStack.) The server's tags, sorted, without the collection's tag.
      type: list
      elements: str
    addresses:
      description: B(OpenStack.) The addresses per network name, as Nova reports them.
      type: dict
    managed:
      description: B(OpenStack.) Whether the collection created the server (it has the C(converge-virt) tag).
      type: bool
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
      description: V(kvm), V(qemu) or V(xen).
      type: str
    xen:
      description:
        - B(Xen guests only.) How it boots, with C(mode) (V(hvm), V(pv) or V(pvh)), C(kernel), C(initrd),
          C(cmdline), C(bootloader) and C(bootloader_args) (null when not set). Absent for other guests.
      type: dict
    machine:
      description: Machine type, as libvirt expanded it.
      type: str
    firmware:
      description: V(bios) or V(uefi).
      type: str
    disks:
      description:
        - Disks with C(target), C(bus), C(pool), C(volume), C(path), C(format), C(size),
          C(serial), C(readonly) and C(owned).
        - On OpenStack, attached volumes with C(volume) (name), C(volume_id), C(size) (bytes), C(boot)
          and C(delete_on_termination).
      type: list
      elements: dict
    cdrom:
      description: The CD-ROM media (C(path), or C(pool) and C(volume)); empty when the drive is empty; null
        without a drive.
      type: dict
    nics:
      description:
        - NICs with C(network), C(mac) and C(model).
        - On OpenStack, the server's ports with C(network), C(network_id), C(port), C(mac) and C(fixed_ips).
      type: list
      elements: dict
    interfaces:
      description: For a running instance, each NIC's C(mac), C(network) and C(ips).
      type: list
      elements: dict
    ips:
      description: The guest's addresses (IPv4 first). On libvirt from DHCP leases and the guest
        agent; on OpenStack every address Nova reports (RV(instance.addresses)).
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
  description: Whether the running guest lags its definition (changes wait for its next boot). Always false on OpenStack.
  returned: always
  type: bool
progress:
  description: B(OpenStack.) What the waits saw, one line per status change (when something was applied).
  returned: when changed on OpenStack
  type: list
  elements: str
plan:
  description:
    - What the run does (or did), field by field. C(changes) lists each change with its C(path),
      C(op), C(before), C(after) and C(effect) (V(live), V(restart) or V(replace)); C(notes) says
      it in words.
  returned: always
  type: dict
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_resource_module
from ansible_collections.converge.virt.plugins.module_utils.specs.instance import (
    ARGUMENT_SPEC,
    BACKEND_OPTIONS,
    MODULE_KWARGS,
)


def main():
    run_resource_module("instance", ARGUMENT_SPEC, backend_options=BACKEND_OPTIONS, **MODULE_KWARGS)


if __name__ == "__main__":
    main()
