#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: object
short_description: Place a file or a string as a Swift object (OpenStack)
version_added: 0.2.0
description:
  - B(OpenStack only.) Uploads a file on the host the module runs on (O(src)) or a string
    (O(content)) as an object of an existing Swift container, and keeps its content type and
    metadata.
  - Idempotent by MD5. The file or string is hashed where the module runs and compared with the
    object's ETag (one C(HEAD) request); nothing is downloaded or uploaded to find out. New content
    overwrites the object, which Swift does atomically (readers see the old or the new object), so
    it is a live change. The upload is streamed and Swift checks it against the MD5.
  - Objects are uploaded in one request, so at most 5 GiB (Swift's limit); segmented large objects
    are not supported (their ETag is not the content's MD5).
  - Objects the module creates carry the metadata key C(converge-virt-managed) (not shown in
    RV(object.metadata)).
author:
  - converge.virt contributors (@converge-virt)
extends_documentation_fragment:
  - converge.virt.connection
  - converge.virt.connection.ATTRIBUTES
options:
  container:
    description:
      - The container (see M(converge.virt.object_container)). A container that does not exist is an
        error, before anything changes.
    type: str
    required: true
  name:
    description:
      - The object's name; may contain V(/) (pseudo-directories).
    type: str
    required: true
  state:
    description:
      - V(present) uploads or updates the object, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  src:
    description:
      - A file on the host the module runs on. A missing file fails before anything changes.
      - One of O(src) and O(content) is needed with O(state=present).
      - "Update: live (the object is overwritten)."
    type: path
  content:
    description:
      - The object's content as a string (stored UTF-8 encoded).
      - "Update: live (the object is overwritten)."
    type: str
  content_type:
    description:
      - The object's C(Content-Type). Not set, Swift chooses one when the object is created and a
        later run leaves it alone.
      - "Update: live."
    type: str
  metadata:
    description:
      - Object metadata (C(X-Object-Meta-*)). Keys are lower-cased; V(_) in a key is refused because
        Swift drops such headers (use V(-)). Only the keys given are managed, unless
        O(purge_metadata=true).
      - "Update: live."
    type: dict
  purge_metadata:
    description:
      - Remove the metadata keys O(metadata) does not list.
    type: bool
    default: false
seealso:
  - module: converge.virt.object_container
"""

EXAMPLES = r"""
- name: A release tarball
  converge.virt.object:
    cloud: mycloud
    container: artefacts
    name: releases/app-1.2.tar.gz
    src: /srv/build/app-1.2.tar.gz
    content_type: application/gzip
    metadata:
      version: "1.2"

- name: A small text object
  converge.virt.object:
    cloud: mycloud
    container: artefacts
    name: README.txt
    content: "Build artefacts of the platform team.\n"
    content_type: text/plain
"""

RETURN = r"""
object:
  description: The object after the run (predicted in check mode; None when absent).
  returned: always
  type: dict
  contains:
    container:
      description: The container.
      type: str
    name:
      description: The object's name.
      type: str
    etag:
      description: The MD5 of the content (Swift's ETag).
      type: str
    size:
      description: Bytes.
      type: int
    content_type:
      description: The content type.
      type: str
    metadata:
      description: The user's metadata (without the collection's marker).
      type: dict
    managed:
      description: Whether the collection created the object.
      type: bool
  sample:
    container: artefacts
    name: README.txt
    etag: 9b1d2c6c2b7a1f0b6e1f3e4b5a6c7d8e
    size: 38
    content_type: text/plain
    metadata: {}
    managed: true
uploaded:
  description: Bytes uploaded by this run.
  returned: when the content was uploaded
  type: int
plan:
  description: The plan (action V(create), V(update), V(delete) or V(none), and field-level changes,
    each with its effect; new content is a change of C(etag)).
  returned: always
  type: dict
"""

from ansible_collections.converge.virt.plugins.module_utils.engine.runner import run_resource_module
from ansible_collections.converge.virt.plugins.module_utils.specs.object import (
    ARGUMENT_SPEC,
    BACKEND_OPTIONS,
    MODULE_KWARGS,
)


def main():
    run_resource_module("object", ARGUMENT_SPEC, backend_options=BACKEND_OPTIONS, **MODULE_KWARGS)


if __name__ == "__main__":
    main()
