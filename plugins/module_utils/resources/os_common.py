# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the OpenStack planners (and their drivers) share.  Pure, no I/O, no openstacksdk.

* The owner marks: the tag ``OWNER_TAG`` (Neutron, Nova, Keystone, Glance) and the metadata key
  ``OWNER_METADATA_KEY`` (Cinder) the collection puts on what it creates.  They are the values of
  ``openstack.cloud``; repeated here because planners never import a backend module.
* The stack marks: the tag ``cvstack:<stack>`` and the metadata key ``STACK_METADATA_KEY`` (value:
  the stack's name) that say which ``converge.virt.stack`` owns a resource (``openstack/ownership.py``).
* Hiding the owner and stack marks from what the user sees, and keeping them when tags are written.
* Checking a spec's metadata, its references (names or IDs), its wait timeout, and an external
  network it names.
"""

from __future__ import annotations

from ansible_collections.converge.virt.plugins.module_utils.engine import validate

OWNER_TAG = "converge-virt"
OWNER_METADATA_KEY = "converge_virt_managed"
# A tag valid for Neutron, Nova (at most 60 characters, no "/" or ","), Glance and Keystone: the
# prefix and a stack name ([A-Za-z0-9_.-]{1,40}).
STACK_TAG_PREFIX = "cvstack:"
STACK_METADATA_KEY = "converge_virt_stack"


# ---- stack marks -------------------------------------------------------------------------------
def stack_tag(stack):
    """The tag that marks a resource as owned by ``stack``."""
    return STACK_TAG_PREFIX + stack


def is_stack_tag(tag):
    return str(tag).startswith(STACK_TAG_PREFIX)


def stack_of_tags(tags):
    """The stack a tag list marks as owner, or None (the first in sorted order if there are several)."""
    marks = sorted(str(t)[len(STACK_TAG_PREFIX):] for t in (tags or []) if is_stack_tag(t))
    return marks[0] if marks else None


def stack_tags(tags):
    """The stack marks among ``tags`` (kept when a module rewrites the tags)."""
    return [t for t in (tags or []) if is_stack_tag(t)]


def _hidden_tag(tag):
    return tag == OWNER_TAG or is_stack_tag(tag)


# ---- owner tag ---------------------------------------------------------------------------------
def user_tags(tags):
    """The user's tags, sorted: the owner tag and stack marks hidden."""
    return sorted(t for t in (tags or []) if not _hidden_tag(t))


def desired_tags(tags):
    """The spec's tags as the planners compare them: strings, sorted, once each, without the owner tag
    and stack marks."""
    return sorted(set(str(t) for t in tags if not _hidden_tag(str(t))))


def owner_tags(tags, managed=True, current=None):
    """The tag list to write: the user's ``tags``, after the owner tag when the resource is ``managed``
    and the stack marks among the ``current`` tags (a mark is never removed by a module)."""
    return ([OWNER_TAG] if managed else []) + stack_tags(current) + list(tags or [])


# ---- owner metadata key ------------------------------------------------------------------------
def metadata_value(value):
    """Cinder keeps metadata values as strings; booleans become ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def user_metadata(metadata):
    """The user's part of a resource's metadata (the owner key and the stack mark hidden)."""
    return dict((k, v) for k, v in (metadata or {}).items() if k not in (OWNER_METADATA_KEY, STACK_METADATA_KEY))


def metadata_managed(metadata):
    """Whether the owner key marks ``metadata`` as the collection's."""
    return (metadata or {}).get(OWNER_METADATA_KEY) == "true"


def with_owner_metadata(metadata):
    """A copy of the user's ``metadata`` with the owner key set (what a create sends)."""
    result = dict(metadata or {})
    result[OWNER_METADATA_KEY] = "true"
    return result


def spec_metadata(metadata, problems, things, max_key_length=None):
    """The spec's ``metadata`` as strings, or None; problems for a non-dict and for the owner key.

    ``things``: what the collection creates, for the message ("volumes", "snapshots");
    ``max_key_length``: when given, every key must have 1 to that many characters."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        problems.add("metadata", "must be a dictionary of strings")
        return None
    metadata = dict((str(k), metadata_value(v)) for k, v in metadata.items())
    for reserved in (OWNER_METADATA_KEY, STACK_METADATA_KEY):
        if reserved in metadata:
            problems.add("metadata", "the key %s is reserved: the collection marks the %s "
                                     "it creates with it" % (reserved, things))
    if max_key_length is not None:
        for key in metadata:
            if not key or len(key) > max_key_length:
                problems.add("metadata", "key %r must have 1 to %d characters" % (key, max_key_length))
    return metadata


# ---- other spec checks -------------------------------------------------------------------------
def check_ref(value, field, problems, detail=""):
    """A reference (a name or ID) must be a non-empty string; ``detail`` ends the message."""
    if value is not None and (not isinstance(value, str) or not value.strip()):
        problems.add(field, "must be a non-empty string" + detail)


def wait_timeout(params, problems, default=300):
    """The spec's ``wait_timeout`` in seconds (``default`` when unset), checked to be 1 to 86400."""
    timeout = params.get("wait_timeout")
    if timeout is None:
        timeout = default
    validate.int_range(timeout, "wait_timeout", problems, 1, 86400, " s")
    return timeout


def check_external_network(ref, network, field, problems, why=""):
    """The network ``ref`` resolved to ``network`` ({external...} or None) must exist and be external."""
    if ref is None:
        return
    if network is None:
        problems.add(field, "network %r does not exist" % ref)
    elif not network.get("external"):
        problems.add(field, "network %r is not an external network (router:external)%s" % (ref, why))


# ---- reading what a driver got ---------------------------------------------------------------
def get_field(obj, key, default=None):
    """An attribute of an openstacksdk resource, or a key of a plain dict (``default`` when missing or None)."""
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(key, default)
    try:
        value = obj[key]
    except (KeyError, TypeError, AttributeError):
        value = getattr(obj, key, default)
    return default if value is None else value
