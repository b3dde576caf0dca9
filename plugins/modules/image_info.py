#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_info
short_description: List base images (libvirt) or Glance images (OpenStack) in the shape M(converge.virt.image) returns
version_added: 0.1.0
description:
  - Lists the images of one pool or of every running pool, that is the volumes that are not
    themselves linked clones (volumes without a backing file), with their format, sizes, path and
    the volumes that depend on them.
  - The sha256 and source of an image are returned when M(converge.virt.image) placed it and its
    record in O(cache_dir) still matches the volume; they are V(null) otherwise.
  - Reads only; the connection is opened read-only and nothing is hashed or downloaded.
  - On OpenStack (O(cloud) or O(auth) given) it lists the Glance images the project owns (private,
    shared, community and public ones), with one filtered request per name, or every image of the
    project without O(name).
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.INFO_ATTRIBUTES
options:
  pool:
    description:
      - B(libvirt only.) Only the images of this pool. A pool that does not exist is an error.
    type: str
  name:
    description:
      - Only these images (volume names; on OpenStack Glance image names). Names that do not exist
        are simply not returned.
    type: list
    elements: str
  cache_dir:
    description:
      - B(libvirt only.) Where M(converge.virt.image) keeps its records (its O(converge.virt.image#module:cache_dir)).
        Default C(~/.cache/converge-virt/images) of the user the module runs as.
    type: path
seealso:
  - module: converge.virt.image
"""

EXAMPLES = r"""
- name: Every image of every running pool
  converge.virt.image_info:
  register: all_images

- name: One image
  converge.virt.image_info:
    pool: images
    name: debian-12.qcow2
  register: debian

- name: Glance images of the project named debian-12
  converge.virt.image_info:
    cloud: mycloud
    name: debian-12
  register: glance

- name: Which volumes depend on it
  ansible.builtin.debug:
    var: debian.images[0].dependents
"""

RETURN = r"""
images:
  description: The images, sorted by pool and name (on OpenStack by name and ID). Keys marked libvirt or
    OpenStack are returned by that backend only; see M(converge.virt.image) for the OpenStack keys
    (C(id), C(status), C(visibility), C(protected), C(min_disk), C(min_ram), C(tags), C(properties),
    C(size), C(virtual_size), C(os_hash), C(owner), C(managed)).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Volume name.
      type: str
    pool:
      description: Pool.
      type: str
    volume:
      description: Volume name (the same as RV(images[].name)).
      type: str
    path:
      description: Path on the hypervisor.
      type: str
    format:
      description: Format (V(qcow2), V(raw), V(iso), or what libvirt reports).
      type: str
    capacity:
      description: Virtual size in bytes.
      type: int
    allocation:
      description: Bytes allocated on the host.
      type: int
    sha256:
      description: sha256 of the content, when a record of M(converge.virt.image) is known.
      type: str
    checksum:
      description: Digest of the source's bytes, when known.
      type: str
    source:
      description: Where the content came from, when known.
      type: str
    dependents:
      description: Volumes (V(pool/volume)) whose backing file this image is (libvirt).
      type: list
      elements: str
    id:
      description: The Glance image's ID (OpenStack).
      type: str
    visibility:
      description: The Glance image's visibility (OpenStack).
      type: str
    tags:
      description: The user's tags, without the collection's own (OpenStack).
      type: list
      elements: str
    properties:
      description: The user's properties (OpenStack).
      type: dict
    managed:
      description: Whether the collection created the image (OpenStack).
      type: bool
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_info_module

BACKEND_OPTIONS = {
    "libvirt": {"only": ["pool", "cache_dir"]},
}

ARGUMENT_SPEC = dict(
    pool=dict(type="str"),
    name=dict(type="list", elements="str"),
    cache_dir=dict(type="path"),
)


def main():
    run_info_module("image", "images", ARGUMENT_SPEC, filters=("pool", "cache_dir"),
                    backend_options=BACKEND_OPTIONS)


if __name__ == "__main__":
    main()
