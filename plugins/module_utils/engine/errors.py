# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors.  Backends and planners raise these; exactly one place (runner) turns them into
``fail_json``, so every failure a user sees names the resource and says what to do."""

from __future__ import annotations


class ConvergeError(Exception):
    """Base class of every error raised on purpose by the engine or a backend."""

    def __init__(self, msg, kind=None, name=None, hint=None, details=None):
        super().__init__(msg)
        self.msg = msg
        self.kind = kind
        self.name = name
        self.hint = hint
        self.details = dict(details or {})

    def about(self, kind, name):
        """Attach the resource this error concerns, unless it already names one."""
        if self.kind is None:
            self.kind = kind
        if self.name is None:
            self.name = name
        return self

    def __str__(self):
        text = self.msg
        if self.kind and self.name is not None:
            text = "%s %r: %s" % (self.kind, self.name, text)
        elif self.kind:
            text = "%s: %s" % (self.kind, text)
        if self.hint:
            text = "%s (%s)" % (text, self.hint)
        return text


class InvalidSpec(ConvergeError):
    """The user's spec is wrong.  Carries every problem found, each naming its field."""

    def __init__(self, problems, kind=None, name=None, hint=None):
        self.problems = [(str(field), str(message)) for field, message in problems]
        text = "; ".join("%s: %s" % (f, m) if f else m for f, m in self.problems)
        super().__init__("invalid spec: " + text, kind=kind, name=name, hint=hint,
                         details={"problems": [{"field": f, "message": m} for f, m in self.problems]})


class NotFound(ConvergeError):
    """Something the spec refers to does not exist."""


class Conflict(ConvergeError):
    """The change cannot be made as asked (in use, create-only attribute, would destroy data)."""


class Timeout(ConvergeError):
    """A wait ran out of time."""


class BackendError(ConvergeError):
    """The platform refused or failed an operation."""


class ConnectionFailed(BackendError):
    """The platform could not be reached."""


class MissingLibrary(ConvergeError):
    """A Python library the backend needs is not installed on the target."""

    def __init__(self, library, import_error, reason=None):
        super().__init__("the Python library %s is required but could not be imported" % library)
        self.library = library
        self.import_error = import_error
        self.reason = reason


class Problems(object):
    """Collects validation problems so that all of them are reported together."""

    def __init__(self):
        self.items = []

    def add(self, field, message):
        self.items.append((field, message))

    def __bool__(self):
        return bool(self.items)

    __nonzero__ = __bool__

    def raise_if_any(self, kind=None, name=None):
        if self.items:
            raise InvalidSpec(self.items, kind=kind, name=name)
