# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan: a plain list of field-level changes, each marked with its effect.

``changed``, check mode, the ``{before, after}`` diff and the apply step all read the same Plan,
so check mode cannot predict something a real run would not do.  Nothing here knows about
Ansible or about any backend: a schema describes the fields of a resource kind, and
``compare()`` walks normalized desired/current states with it.
"""

from __future__ import annotations

import copy

# How a change reaches the running resource.
LIVE = "live"          # applied to the running resource, no interruption
RESTART = "restart"    # needs the resource restarted (network restart, guest reboot)
REPLACE = "replace"    # create-only: the resource must be deleted and created again
EFFECTS = (LIVE, RESTART, REPLACE)
_EFFECT_RANK = {LIVE: 0, RESTART: 1, REPLACE: 2}

# What the plan does to the resource as a whole.
CREATE = "create"
UPDATE = "update"
DELETE = "delete"
NONE = "none"

SECRET_MASK = "********"


def _check_effect(effect):
    if effect not in EFFECTS:
        raise ValueError("unknown effect %r (expected one of %s)" % (effect, ", ".join(EFFECTS)))


def worst_effect(effects):
    """The most disruptive of some effects (None when there are none)."""
    ranked = sorted(effects, key=_EFFECT_RANK.get)
    return ranked[-1] if ranked else None


class Field(object):
    """A scalar (or list compared as a whole) attribute.  ``secret`` values never leave the plan."""

    def __init__(self, effect, secret=False):
        _check_effect(effect)
        self.effect = effect
        self.secret = secret


class KeyedList(object):
    """A list of dicts whose items are added, changed and removed one by one, matched by key."""

    def __init__(self, effect, key):
        _check_effect(effect)
        self.effect = effect
        self.key = key  # callable(item) -> hashable, printable key

    def index(self, items):
        return dict((str(self.key(item)), item) for item in items or [])


class Section(object):
    """A nested group of fields.  Adding or removing the whole section has its own effect."""

    def __init__(self, effect, fields):
        _check_effect(effect)
        self.effect = effect
        self.fields = fields


class Change(object):
    """One field-level difference."""

    __slots__ = ("path", "op", "before", "after", "effect")

    def __init__(self, path, op, before, after, effect):
        self.path = path      # e.g. "ipv4.dhcp.hosts[52:54:00:00:00:10]"
        self.op = op          # add | remove | modify
        self.before = before
        self.after = after
        self.effect = effect

    def to_dict(self):
        return {"path": self.path, "op": self.op, "before": copy.deepcopy(self.before),
                "after": copy.deepcopy(self.after), "effect": self.effect}

    def __repr__(self):
        return "Change(%s %s %r -> %r [%s])" % (self.op, self.path, self.before, self.after, self.effect)


class Plan(object):
    """What converging one resource does.

    ``before``/``after`` are normalized, secret-free states (``None`` when the resource does
    not exist on that side).  ``desired`` is the full normalized spec handed to the backend's
    apply step; it is never returned to the user because it may hold secrets.
    """

    def __init__(self, kind, name, action, changes=None, before=None, after=None,
                 desired=None, notes=None, facts=None):
        self.kind = kind
        self.name = name
        self.action = action
        self.changes = list(changes or [])
        self.before = before
        self.after = after
        self.desired = desired
        self.notes = list(notes or [])
        self.facts = dict(facts or {})  # kind-specific plan facts (restart, attached instances…)

    @property
    def changed(self):
        return self.action != NONE

    @property
    def effect(self):
        """The most disruptive effect on an existing resource (None for create/delete/no-op)."""
        if self.action != UPDATE:
            return None
        return worst_effect([c.effect for c in self.changes])

    def changes_with(self, *effects):
        return [c for c in self.changes if c.effect in effects]

    def summary(self):
        if self.action == NONE:
            return "%s %s: unchanged" % (self.kind, self.name)
        if self.action in (CREATE, DELETE):
            return "%s %s: %s" % (self.kind, self.name, self.action)
        return "%s %s: update (%s)" % (self.kind, self.name, ", ".join(
            "%s %s [%s]" % (c.op, c.path, c.effect) for c in self.changes))

    def to_dict(self):
        result = {
            "kind": self.kind,
            "name": self.name,
            "action": self.action,
            "effect": self.effect,
            "summary": self.summary(),
            "changes": [c.to_dict() for c in self.changes],
            "notes": list(self.notes),
        }
        result.update(copy.deepcopy(self.facts))
        return result

    def diff(self):
        """Ansible's ``{before, after}`` diff, built from the normalized states."""
        return {
            "before": copy.deepcopy(self.before) if self.before is not None else {},
            "after": copy.deepcopy(self.after) if self.after is not None else {},
            "before_header": "%s %s (current)" % (self.kind, self.name),
            "after_header": "%s %s (%s)" % (self.kind, self.name,
                                            "planned" if self.changed else "unchanged"),
        }


def compare(desired, current, schema, path=""):
    """Field-level changes needed to turn ``current`` into ``desired``.

    ``None`` in ``desired`` means "leave alone": only what the user set is compared.  An empty
    list is a real value (remove every item).
    """
    changes = []
    desired = desired or {}
    current = current or {}
    for name, spec in schema.items():
        want = desired.get(name)
        have = current.get(name)
        if want is None:
            continue
        where = "%s.%s" % (path, name) if path else name
        if isinstance(spec, Section):
            if have is None:
                changes.append(Change(where, "add", None, _mask_section(want, spec), spec.effect))
            else:
                changes.extend(compare(want, have, spec.fields, where))
        elif isinstance(spec, KeyedList):
            changes.extend(_compare_keyed(want, have, spec, where))
        elif want != have:
            op = "add" if have is None else "modify"
            if spec.secret:
                changes.append(Change(where, op, SECRET_MASK if have is not None else None,
                                      SECRET_MASK, spec.effect))
            else:
                changes.append(Change(where, op, have, want, spec.effect))
    return changes


def _compare_keyed(want, have, spec, where):
    changes = []
    want_items = spec.index(want)
    have_items = spec.index(have)
    for key in sorted(set(want_items) | set(have_items)):
        item_path = "%s[%s]" % (where, key)
        if key not in have_items:
            changes.append(Change(item_path, "add", None, want_items[key], spec.effect))
        elif key not in want_items:
            changes.append(Change(item_path, "remove", have_items[key], None, spec.effect))
        elif want_items[key] != have_items[key]:
            changes.append(Change(item_path, "modify", have_items[key], want_items[key], spec.effect))
    return changes


def merge(current, desired, schema):
    """The state after converging: ``desired`` laid over ``current`` (``None`` keeps current)."""
    if current is None:
        return copy.deepcopy(desired)
    result = copy.deepcopy(current)
    for name, spec in schema.items():
        want = (desired or {}).get(name)
        if want is None:
            continue
        if isinstance(spec, Section) and current.get(name) is not None:
            result[name] = merge(current[name], want, spec.fields)
        else:
            result[name] = copy.deepcopy(want)
    return result


def redact(state, schema):
    """A copy of ``state`` with every secret field masked (for results and diffs)."""
    if state is None:
        return None
    result = copy.deepcopy(state)
    for name, spec in schema.items():
        if result.get(name) is None:
            continue
        if isinstance(spec, Section):
            result[name] = redact(result[name], spec.fields)
        elif isinstance(spec, Field) and spec.secret:
            result[name] = SECRET_MASK
    return result


def _mask_section(value, section):
    return redact(value, section.fields) if isinstance(value, dict) else value
