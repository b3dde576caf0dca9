#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image
short_description: Place a base image (qcow2, raw, ISO) in a storage pool (libvirt) or in Glance (OpenStack) from a URL or a file
version_added: 0.1.0
description:
  - Places a base image in a storage pool as a volume named O(name), so that M(converge.virt.volume)
    can clone it and instances can boot from it. The content comes from exactly one of an V(http://)
    or V(https://) O(url), a file on the controller (O(src)) or a file on the host the module runs
    on (O(path)).
  - Transfers are streamed, never read whole into memory. The checksum is verified, V(.xz) and
    V(.gz) sources are decompressed on the way, and only verified content reaches the pool. On any
    failure (HTTP 404, checksum mismatch, a truncated transfer, a timeout) nothing half-written is
    left in the pool or in the cache.
  - B(Caching.) Downloads go to O(cache_dir) on the host the module runs on, and verified content
    stays there under its sha256, so another pool or a re-creation reuses it. For each placed
    image a small record (the content's sha256, the source's digests and HTTP validators, and a
    fingerprint of the volume) is kept in O(cache_dir) too. A run that finds a matching record
    transfers nothing. With a literal O(checksum) nothing is fetched at all, with a checksum file
    URL only that small file, and without a checksum one HEAD request compares the server's
    ETag/Last-Modified/Content-Length. A O(path) source is compared by size and modification time,
    a O(src) file by its sha256 computed on the controller. Without a usable record (another
    controller, a cleared cache, a volume changed behind our back) the volume is hashed once;
    only when the checksum cannot apply to the stored bytes (a compressed source, or no checksum)
    is the source downloaded once to learn its content. Check mode may do these reads too, but
    never writes to a pool.
  - B(Progress.) Long transfers write a line at least every 5 seconds or 10 % (bytes, percent, rate,
    ETA) to C(<cache_dir>/progress/<pool>-<volume>.log); follow it with C(tail -f) on the host the
    module runs on. The result's RV(transfer.progress_log) names the file.
  - With O(progress=true) (the default) the same lines are shown live on the controller, in the
    output of C(ansible-playbook), as C([image <name> on <host>] <line>), once the task has run for
    2 seconds (a quick placement stays quiet). For this the module runs as a background job of
    Ansible's C(async) machinery that is polled until it finishes; the task's result is the same.
    This costs about half a second per task even when nothing is transferred; O(progress=false)
    runs the module directly. Check mode, O(state=absent), C(no_log) and a task with its own
    C(async) run it directly too.
  - B(OpenStack.) With the OpenStack connection options (O(cloud) or O(auth)) the image is a Glance
    image of the project, found by ID or by name. The content takes the same way as on libvirt
    (streamed into O(cache_dir), verified against O(checksum), decompressed) and only verified
    content is uploaded to Glance, streamed; the module then waits for the image to be V(active)
    (O(wait_timeout)) and writes progress lines to C(<cache_dir>/progress/openstack-<name>.log).
    If the upload fails the new image is deleted again. Images the module creates carry the tag
    C(converge-virt) (not shown in RV(image.tags); RV(image.managed) tells).
  - On OpenStack what was uploaded is recorded on the image, in properties not shown in
    RV(image.properties) (C(owner_specified.openstack.sha256), the content's sha256 as openstacksdk
    records it, C(converge_virt_checksum) and C(converge_virt_source)). A run compares the wanted
    content with those, or a V(sha512:) O(checksum) with Glance's own C(os_hash_value); it never
    uploads to find out. An image that records neither (uploaded by other means) and cannot be
    compared is left as is, with a note in the plan (C(plan.notes)). Without O(checksum) a O(url) source
    is compared by its URL, a O(path) file and a O(src) file by their sha256.
  - B(Source changes.) The content is create-only. When the source's content changes, a volume that
    nothing depends on is replaced (the new content verified in the cache first). If volumes use
    the image as their backing file, or instances use it as a disk, the module refuses and names
    them (in check mode too), unless O(on_source_change=new_version) places the new content in a new
    volume and leaves the old one untouched for its dependents.
  - On OpenStack a content change (and a change of O(format) or O(container_format)) is refused
    unless O(recreate=true) (a new image is uploaded, then the old one deleted; the image gets a
    new ID) or O(on_source_change=new_version) (the new content becomes a new image named after its
    digest, the old image stays). Visibility, protection, minimums, tags and properties are updated
    in place.
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.ATTRIBUTES
options:
  name:
    description:
      - Name of the volume that holds the image, for example V(debian-12.qcow2). It identifies the image
        in O(pool).
      - A plain file name; V(/), V(\), names starting with V(.) and control characters are refused.
      - On OpenStack, the Glance image's name (or its ID), unique in the project; a name that matches
        two images is an error.
    type: str
    required: true
  pool:
    description:
      - B(libvirt only.) The storage pool to place the image in. It must exist and be running
        (see M(converge.virt.pool)). Required with the libvirt backend.
    type: str
  state:
    description:
      - V(present) places the image, V(absent) deletes its volume and its record.
      - Deleting an image that volumes depend on or instances use is refused unless O(force=true).
      - On OpenStack V(absent) deletes the Glance image; a protected image is refused unless
        O(force=true).
    type: str
    choices: [present, absent]
    default: present
  url:
    description:
      - An V(http://) or V(https://) URL to download the image from. Credentials in the URL are never
        shown in results.
      - Exactly one of O(url), O(src) and O(path) is needed with O(state=present).
      - "Update: create-only (a change of content replaces the volume, see O(on_source_change))."
    type: str
  src:
    description:
      - A file on the controller (relative paths are looked up like other action plugins' C(files/)).
        Its sha256 is computed on the controller first, and the file is copied to the host only when
        the image is not already in place. Never copied in check mode. On OpenStack the copy is then
        uploaded to Glance from the host the module runs on.
      - "Update: create-only."
    type: path
  path:
    description:
      - A file on the host the module runs on (the hypervisor, for local URIs), absolute.
      - "Update: create-only."
    type: path
  checksum:
    description:
      - The digest of the source's bytes as published (before decompression), V(sha256:<hex>) or
        V(sha512:<hex>); or V(<algorithm>:<URL>) of a checksum file in the C(sha256sum)/C(SHA256SUMS)
        format, whose line for the source's file name is used (as M(ansible.builtin.get_url) does).
      - Strongly recommended. Without it, a URL's content is identified by its server's validators.
      - "Update: create-only (a new checksum means new content)."
    type: str
  format:
    description:
      - The image format. When not set it is detected from the content (qcow2 by its magic, ISO by
        C(CD001) at offset 32769, else raw). A declared format that contradicts the content is an
        error (an ISO may be declared V(raw)).
      - On OpenStack, Glance's C(disk_format).
      - "Create-only."
    type: str
    choices: [qcow2, raw, iso]
  decompress:
    description:
      - V(auto) decompresses by the source's suffix (V(.xz), V(.gz)) or, for a URL or file without one,
        by the content's magic. V(none) places the bytes as they are.
      - "Create-only."
    type: str
    choices: [auto, none, xz, gz]
    default: auto
  timeout:
    description:
      - Seconds without any progress before a transfer (or the checksum file, or the HEAD request)
        fails.
    type: int
    default: 60
  retries:
    description:
      - How often a transfer is tried again after a transient error (connection refused or reset,
        timeout, truncated transfer, HTTP 5xx, 408, 429), with a growing pause. Never after a 404
        or a checksum mismatch.
    type: int
    default: 3
  validate_certs:
    description:
      - Verify TLS certificates of V(https://) URLs.
    type: bool
    default: true
  cache_dir:
    description:
      - Directory for downloads, verified content, records and progress logs, on the host the module
        runs on. Default C(~/.cache/converge-virt/images) of the user the module runs as.
      - Verified content is kept under C(blobs/) unless O(keep_download=false); remove files there to
        reclaim space (the next run that needs one downloads it again).
    type: path
  keep_download:
    description:
      - Keep the verified, decompressed content in O(cache_dir) after placing it, so that placing the
        same content in another pool, or again after a delete, transfers nothing.
      - V(false) removes it once the volume holds it, so a large image takes disk space only once;
        the record is kept either way, so a second run still transfers nothing.
      - A file given by O(path) that needs no decompression is read in place, never copied to the cache.
    type: bool
    default: true
  on_source_change:
    description:
      - What to do when the source's content differs from the volume's while volumes depend on it or
        instances use it. V(refuse) fails and names them. V(new_version) places the new content in a
        new volume named after the image and the first 12 hex digits of the new digest (before a
        known suffix, so V(debian.qcow2) becomes V(debian-0123456789ab.qcow2)) and leaves the old
        volume untouched; RV(image.volume) names the volume to use. Needs O(checksum) (or O(src)).
      - Without dependents the volume is replaced either way.
    type: str
    choices: [refuse, new_version]
    default: refuse
  force:
    description:
      - With O(state=absent), delete the image even though volumes depend on it or instances use it.
        B(Dangerous:) their disks then point at a missing file and they stop working.
      - On OpenStack, with O(state=absent), lift the image's protection and delete it.
    type: bool
    default: false
  progress:
    description:
      - B(libvirt only.) Show live progress on the controller; V(false) runs the module synchronously.
      - The module first plans in check mode (it only reads). When the image is already in place
        that plan is the result, so a task that changes nothing costs what it costs without live
        progress. Otherwise the module runs as an C(async) job that is polled (one small shell
        command per poll, at most every 2 seconds, and C(async_status) when it ends), which adds
        about a second to a task that places an image. The job's result file in
        C(~/.ansible_async) is removed when it ends; if the controller is interrupted, the transfer
        still runs to its end on the host.
    type: bool
    default: true
  container_format:
    description:
      - B(OpenStack only.) Glance's C(container_format); V(bare) for a plain disk image.
      - "Create-only (see O(recreate))."
    type: str
    choices: [bare, ovf, ova, aki, ari, ami, docker, compressed]
    default: bare
  visibility:
    description:
      - B(OpenStack only.) Who sees the image. V(private) only the project, V(shared) the project and
        the projects it is shared with, V(community) every project (not listed by default),
        V(public) every project. V(public) needs the admin role; without it the module fails
        before changing anything. Not set, a new image gets Glance's default (V(shared)).
      - "Update: live."
    type: str
    choices: [private, shared, community, public]
  protected:
    description:
      - B(OpenStack only.) A protected image cannot be deleted (see O(force)).
      - "Update: live."
    type: bool
  min_disk:
    description:
      - B(OpenStack only.) Smallest root disk, in GiB, an instance booted from the image needs.
      - "Update: live."
    type: int
  min_ram:
    description:
      - B(OpenStack only.) Smallest RAM, in MiB, an instance booted from the image needs.
      - "Update: live."
    type: int
  tags:
    description:
      - B(OpenStack only.) The image's tags, exactly (tags not listed are removed). Not set, the tags
        are left alone. The collection's own tag C(converge-virt) is kept and never listed.
      - "Update: live."
    type: list
    elements: str
  properties:
    description:
      - B(OpenStack only.) Image properties (for example C(hw_disk_bus), C(os_distro)). Values are
        kept as strings by Glance (V(true)/V(false) for booleans). Only the keys given are managed;
        other properties are left alone unless O(purge_properties=true).
      - Glance's own attributes (use their options) and the records C(owner_specified.openstack.*),
        C(converge_virt_*) and C(os_glance_*) are refused.
      - "Update: live."
    type: dict
  purge_properties:
    description:
      - B(OpenStack only.) Remove the image's user properties that O(properties) does not list
        (never Glance's own attributes or the records described above).
    type: bool
    default: false
  recreate:
    description:
      - B(OpenStack only.) When the content, O(format) or O(container_format) changed, upload a new
        image and then delete the old one (the image gets a new ID; instances booted from the old
        one keep running). Without it such a change fails and names the field.
    type: bool
    default: false
  wait_timeout:
    description:
      - B(OpenStack only.) Seconds to wait for a new image to become V(active) after the upload.
    type: int
    default: 600
  _controller_file:
    description:
      - Internal, set by the action plugin when O(src) is used (the controller file's name, size,
        sha256 and compression). Do not set it.
    type: dict
seealso:
  - module: converge.virt.image_info
  - module: converge.virt.pool
  - module: converge.virt.volume
"""

EXAMPLES = r"""
- name: Debian cloud image, verified against the published checksum file
  converge.virt.image:
    name: debian-12.qcow2
    pool: images
    url: https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-generic-amd64.qcow2
    checksum: sha512:https://cloud.debian.org/images/cloud/bookworm/latest/SHA512SUMS
  register: base

- name: A compressed image with a literal checksum, new content as a new version
  converge.virt.image:
    name: tiny.qcow2
    pool: images
    url: https://images.example.com/tiny.qcow2.xz
    checksum: sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    on_source_change: new_version
  register: tiny

- name: Clone whichever volume holds the wanted content
  converge.virt.volume:
    name: web1-root.qcow2
    pool: images
    image: "{{ tiny.image.volume }}"
    capacity: 20G

- name: An ISO from the controller
  converge.virt.image:
    name: installer.iso
    pool: images
    src: files/installer.iso

- name: A file already on the hypervisor
  converge.virt.image:
    name: appliance.raw
    pool: images
    path: /srv/images/appliance.raw
    format: raw

- name: A Glance image from a URL, verified before the upload, shared with every project
  converge.virt.image:
    cloud: mycloud
    name: debian-12
    url: https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-generic-amd64.qcow2
    checksum: sha512:https://cloud.debian.org/images/cloud/bookworm/latest/SHA512SUMS
    format: qcow2
    visibility: community
    min_disk: 3
    tags: [debian]
    properties:
      os_distro: debian
      hw_qemu_guest_agent: true
  register: glance_debian

- name: Boot from it
  ansible.builtin.debug:
    msg: "image ID {{ glance_debian.image.id }}"

- name: Remove an image (refused while volumes depend on it)
  converge.virt.image:
    name: debian-12.qcow2
    pool: images
    state: absent
"""

RETURN = r"""
image:
  description: The image after the run (predicted in check mode; None when absent). The keys marked
    libvirt or OpenStack are returned by that backend only.
  returned: always
  type: dict
  contains:
    name:
      description: The image's name (O(name)); on OpenStack the Glance image's name, the versioned name
        after O(on_source_change=new_version) placed a new version.
      type: str
    pool:
      description: The pool (libvirt).
      type: str
    volume:
      description: The volume that holds the wanted content; differs from O(name) when a new version
        was placed (O(on_source_change=new_version)).
      type: str
    path:
      description: The volume's path on the hypervisor.
      type: str
    format:
      description: V(qcow2), V(raw) or V(iso) (None in check mode before a first download).
      type: str
    capacity:
      description: Virtual size in bytes (of the disk a qcow2 describes). None when predicted.
      type: int
    allocation:
      description: Bytes allocated on the host. None when predicted.
      type: int
    sha256:
      description: sha256 of the content as stored (after decompression), when known.
      type: str
    checksum:
      description: Digest of the source's bytes as provided, V(<algorithm>:<hex>), when known.
      type: str
    source:
      description: Where the content came from (URL without credentials, path, or V(controller:<src>)).
      type: str
    dependents:
      description: Volumes (V(pool/volume)) whose backing file this image is (libvirt).
      type: list
      elements: str
    id:
      description: The Glance image's ID (OpenStack; None when predicted).
      type: str
    status:
      description: Glance's status, V(active) once usable (OpenStack).
      type: str
    container_format:
      description: Glance's container format (OpenStack).
      type: str
    visibility:
      description: V(private), V(shared), V(community) or V(public) (OpenStack).
      type: str
    protected:
      description: Whether the image is protected from deletion (OpenStack).
      type: bool
    min_disk:
      description: Smallest root disk in GiB (OpenStack).
      type: int
    min_ram:
      description: Smallest RAM in MiB (OpenStack).
      type: int
    tags:
      description: The user's tags, sorted, without the collection's own (OpenStack).
      type: list
      elements: str
    properties:
      description: The user's properties, without Glance's attributes and the records (OpenStack).
      type: dict
    size:
      description: Bytes stored (OpenStack; None when predicted).
      type: int
    virtual_size:
      description: Virtual size in bytes, when Glance knows it (OpenStack).
      type: int
    os_hash:
      description: Glance's own digest of the stored bytes, V(<algorithm>:<hex>) (OpenStack).
      type: str
    owner:
      description: The project that owns the image (OpenStack).
      type: str
    managed:
      description: Whether the image carries the collection's tag C(converge-virt) (OpenStack).
      type: bool
  sample:
    name: debian-12.qcow2
    pool: images
    volume: debian-12.qcow2
    path: /var/lib/libvirt/images/debian-12.qcow2
    format: qcow2
    capacity: 3221225472
    allocation: 402653184
    sha256: 0f3e4d8c9b1a2f3e4d8c9b1a2f3e4d8c9b1a2f3e4d8c9b1a2f3e4d8c9b1a2f3e
    checksum: sha512:8d1b0ef7c4e1
    source: https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-generic-amd64.qcow2
    dependents: [images/web1-root.qcow2]
transfer:
  description: What this run transferred.
  returned: always
  type: dict
  contains:
    downloaded:
      description: Whether bytes were downloaded from O(url).
      type: bool
    bytes:
      description: Bytes of the source read (downloaded, copied or read from O(path)).
      type: int
    seconds:
      description: Duration of the transfer.
      type: float
    rate:
      description: Bytes per second.
      type: int
    source:
      description: The source, without credentials.
      type: str
    progress_log:
      description: The progress file on the host the module ran on.
      type: str
    uploaded:
      description: Bytes uploaded to Glance (OpenStack, when an image was uploaded).
      type: int
      returned: when an image was uploaded to Glance
plan:
  description: The plan (action V(create), V(update), V(delete) or V(none), and field-level changes,
    each with its effect); a content change has effect V(replace). Also lists C(dependents) and
    C(instances) of the image.
  returned: always
  type: dict
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_resource_module
from ansible_collections.converge.virt.plugins.module_utils.specs.image import (
    ARGUMENT_SPEC,
    BACKEND_OPTIONS,
    MODULE_KWARGS,
)


def main():
    run_resource_module("image", ARGUMENT_SPEC, backend_options=BACKEND_OPTIONS, **MODULE_KWARGS)


if __name__ == "__main__":
    main()
