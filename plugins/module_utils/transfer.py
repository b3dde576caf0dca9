# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Getting image bytes onto the host the module runs on: streamed downloads, checksums,
decompression, a content-addressed cache and small JSON records.

Pure Python standard library and backend-neutral (the libvirt and the Glance image drivers use
it).  Nothing is ever held whole in memory: bytes flow in chunks from the
source through the hashers and the decompressor into a ``.partial-*`` file of the cache, which
becomes ``blobs/sha256-<hex>`` only once every check passed, and is removed on any failure.

Errors are ``TransferError`` subclasses; ``transient`` says whether trying again may help
(connection refused/reset, timeout, HTTP 5xx/408/429, a connection that ended early) — a
404 or a checksum mismatch never is.  ``typed_errors`` turns them into the engine's typed errors.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import json
import lzma
import os
import posixpath
import re
import socket
import ssl
import tempfile
import time
import zlib
from urllib.error import HTTPError, URLError
from urllib.parse import unquote, urlsplit, urlunsplit
from urllib.request import HTTPSHandler, Request, build_opener

from ansible_collections.converge.virt.plugins.module_utils.engine.errors import BackendError, NotFound, Timeout

CHUNK = 256 * 1024
ALGORITHMS = ("sha256", "sha512")
FORMATS = ("qcow2", "raw", "iso")
DECOMPRESS = ("auto", "none", "xz", "gz")
# Enough of the content to recognise every format we detect (ISO: "CD001" at 32769).
HEAD_BYTES = 32769 + 5
PROGRESS_EVERY = 5.0  # seconds between progress lines (also one per 10 %)
SUMS_MAX_BYTES = 4 * 1024 * 1024
USER_AGENT = "converge.virt-image"

_HEX = re.compile(r"^[0-9a-fA-F]+\Z")
_HEX_LENGTH = {"sha256": 64, "sha512": 128}
_XZ_MAGIC = b"\xfd7zXZ\x00"
_GZ_MAGIC = b"\x1f\x8b"


# ---- errors --------------------------------------------------------------------------------
class TransferError(Exception):
    transient = False

    def __init__(self, msg, transient=None):
        super().__init__(msg)
        self.msg = msg
        if transient is not None:
            self.transient = transient


class SourceNotFound(TransferError):
    """HTTP 404/410, or a missing file."""


class HTTPStatus(TransferError):
    def __init__(self, msg, status):
        super().__init__(msg, transient=status >= 500 or status in (408, 429))
        self.status = status


class ChecksumMismatch(TransferError):
    pass


class Truncated(TransferError):
    """Fewer bytes arrived than announced: the connection ended early (worth a retry)."""
    transient = True


class CorruptSource(TransferError):
    """The source's bytes are complete but unusable (truncated/corrupt archive, wrong format)."""


class TransferTimeout(TransferError):
    transient = True


class ConnectionProblem(TransferError):
    transient = True


@contextlib.contextmanager
def typed_errors(kind, name, done_word, always=False):
    """TransferErrors (and OSErrors) raised inside become the engine's typed errors, naming the
    resource ``kind``/``name``.  The hint of a checksum mismatch says "nothing was <done_word>"
    (``uploaded``, ``placed``); with ``always``, so do those of a missing source and of any other
    transfer failure."""
    nothing = "nothing was %s" % done_word
    try:
        yield
    except SourceNotFound as err:
        raise NotFound(err.msg, kind=kind, name=name,
                       hint="check the URL or path" + ("; " + nothing if always else ""))
    except TransferTimeout as err:
        raise Timeout(err.msg, kind=kind, name=name,
                      hint="the server stopped sending; raise timeout or retries if it is just slow")
    except ChecksumMismatch as err:
        raise BackendError(err.msg, kind=kind, name=name,
                           hint="the source changed or the checksum is wrong; " + nothing)
    except TransferError as err:
        raise BackendError(err.msg, kind=kind, name=name, hint=nothing if always else None)
    except OSError as err:
        raise BackendError("%s: %s" % (err.filename or "I/O", err.strerror or err), kind=kind, name=name)


# ---- checksums -----------------------------------------------------------------------------
class Checksum(object):
    """``sha256:<hex>`` / ``sha512:<hex>`` (``digest`` set) or ``<algo>:<URL of a sums file>``."""

    def __init__(self, algo, digest=None, url=None):
        self.algo = algo
        self.digest = digest
        self.url = url

    def __str__(self):
        return "%s:%s" % (self.algo, self.digest or self.url)

    def to_dict(self):
        return {"algo": self.algo, "digest": self.digest, "url": self.url}


def parse_checksum(value):
    """A Checksum from the user's text (raises ValueError with a readable message)."""
    text = str(value).strip()
    algo, sep, rest = text.partition(":")
    algo = algo.lower()
    if not sep or not rest:
        raise ValueError("%r must look like sha256:<hex digest> or sha256:<URL of a checksum file>"
                         % (value,))
    if algo not in ALGORITHMS:
        raise ValueError("%r uses the unsupported algorithm %r (use %s)" % (value, algo, " or ".join(ALGORITHMS)))
    if rest.lower().startswith(("http://", "https://")):
        check_url(rest)
        return Checksum(algo, url=rest)
    if not _HEX.match(rest) or len(rest) != _HEX_LENGTH[algo]:
        raise ValueError("%r: a %s digest is %d hex digits" % (value, algo, _HEX_LENGTH[algo]))
    return Checksum(algo, digest=rest.lower())


def check_url(url):
    """An http(s) URL with a host; returns it (raises ValueError)."""
    parts = urlsplit(str(url))
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("%r is not an http:// or https:// URL" % (url,))
    return url


def public_url(url):
    """``url`` without credentials (never shown to the user or written to records)."""
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    netloc = parts.hostname or ""
    if parts.port:
        netloc += ":%d" % parts.port
    return urlunsplit((parts.scheme, "********@" + netloc, parts.path, parts.query, parts.fragment))


def source_file_name(location):
    """The file name a checksum file lists for a URL or path."""
    path = urlsplit(location).path if "://" in location else location
    return posixpath.basename(unquote(path))


_BSD_LINE = re.compile(r"^(?P<algo>[A-Za-z0-9-]+) ?\((?P<name>.*)\) ?= ?(?P<digest>[0-9a-fA-F]+)\s*$")


def parse_sums(text, file_name, algo):
    """The digest of ``file_name`` in a SHA256SUMS-style file (``<hex>  name``, ``<hex> *name``,
    ``./name``, or BSD ``SHA256 (name) = <hex>``); a file holding one bare digest applies to any
    name.  Raises ValueError when the file does not list it."""
    want = _HEX_LENGTH[algo]
    bare = []
    names = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _BSD_LINE.match(line)
        if match:
            digest, name = match.group("digest"), match.group("name")
        else:
            fields = line.split(None, 1)
            digest = fields[0]
            name = fields[1] if len(fields) > 1 else None
            if name is not None:
                name = name.strip()
                if name.startswith("*"):
                    name = name[1:]
        if not _HEX.match(digest) or len(digest) != want:
            continue
        if name is None:
            bare.append(digest.lower())
            continue
        if name.startswith("./"):
            name = name[2:]
        names.append(name)
        if name == file_name or posixpath.basename(name) == file_name:
            return digest.lower()
    if len(bare) == 1 and not names:
        return bare[0]
    raise ValueError("the checksum file does not list %r with a %s digest (it lists: %s)" % (
        file_name, algo, ", ".join(names[:10]) or "nothing usable"))


# ---- content -------------------------------------------------------------------------------
def detect_format(head):
    """qcow2 (``QFI\\xfb`` at 0), iso (``CD001`` at 32769), else raw."""
    if head[:4] == b"QFI\xfb":
        return "qcow2"
    if head[32769:32774] == b"CD001":
        return "iso"
    return "raw"


def format_conflict(declared, detected):
    """A message when a declared format contradicts the content (an ISO may be declared raw)."""
    if declared is None or declared == detected or (declared == "raw" and detected == "iso"):
        return None
    return "the content is %s, not %s as declared (format)" % (detected, declared)


def compression_for(mode, name, head):
    """``xz``, ``gz`` or None: by ``mode``, or for ``auto`` by the name's suffix, else the magic."""
    if mode in ("xz", "gz"):
        return mode
    if mode == "none":
        return None
    lower = (name or "").lower()
    if lower.endswith(".xz"):
        return "xz"
    if lower.endswith(".gz"):
        return "gz"
    if head.startswith(_XZ_MAGIC):
        return "xz"
    if head.startswith(_GZ_MAGIC):
        return "gz"
    return None


def compressed_by_name(mode, name):
    """Whether the source is compressed, judged without reading it (suffix or explicit mode)."""
    return compression_for(mode, name, b"") is not None


class Decompressor(object):
    """Streamed xz/gz decompression, fed chunk by chunk; ``finish()`` detects a truncated stream.

    Concatenated streams/members (``cat a.gz b.gz``) are decompressed one after the other."""

    def __init__(self, kind):
        self.kind = kind
        self._obj = self._new()
        self._started = False

    def _new(self):
        if self.kind == "xz":
            return lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
        return zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data):
        out = []
        try:
            while data:
                if self._obj.eof:
                    if not data.strip(b"\x00"):
                        return b"".join(out)  # xz stream padding
                    self._obj = self._new()
                self._started = True
                out.append(self._obj.decompress(data))
                data = self._obj.unused_data if self._obj.eof else b""
        except (lzma.LZMAError, zlib.error, EOFError) as err:
            raise CorruptSource("the %s data is corrupt: %s" % (self.kind, err))
        return b"".join(out)

    def finish(self):
        if not self._started or not self._obj.eof:
            raise CorruptSource("the %s data ends before the end of its stream: the file is truncated "
                                "or corrupt" % self.kind)
        if self.kind == "gz":
            return self._obj.flush()
        return b""


# ---- progress ------------------------------------------------------------------------------
class Progress(object):
    """Turns ``update(done)`` calls into a line every ``every`` seconds or 10 % (``emit(line)``)."""

    def __init__(self, emit, total=None, what="", every=PROGRESS_EVERY, clock=time.monotonic):
        self.emit = emit
        self.total = total
        self.what = what
        self.every = every
        self.clock = clock
        self.start = clock()
        self._last_time = self.start
        self._last_tenth = 0
        self.done = 0

    def update(self, done, total=None):
        self.done = done
        if total:
            self.total = total
        now = self.clock()
        tenth = int(done * 10 // self.total) if self.total else 0
        if now - self._last_time >= self.every or tenth > self._last_tenth:
            self._last_time, self._last_tenth = now, tenth
            self.emit(self.line(now))

    def line(self, now=None):
        now = self.clock() if now is None else now
        elapsed = max(now - self.start, 1e-6)
        rate = self.done / elapsed
        text = "%s%s" % (self.what + ": " if self.what else "", _human(self.done))
        if self.total:
            text += " of %s (%d%%)" % (_human(self.total), self.done * 100 // self.total)
        text += " at %s/s" % _human(rate)
        if self.total and rate > 0 and self.done < self.total:
            text += ", ETA %d s" % ((self.total - self.done) / rate)
        return text

    def finished(self):
        elapsed = max(self.clock() - self.start, 1e-6)
        self.emit("%sdone: %s in %.1f s (%s/s)" % (self.what + ": " if self.what else "",
                                                   _human(self.done), elapsed, _human(self.done / elapsed)))
        return elapsed


def _human(value):
    value = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return ("%d %s" % (value, unit)) if unit == "B" else ("%.1f %s" % (value, unit))
        value /= 1024.0
    return ""  # not reached


def file_logger(path):
    """An ``emit(line)`` appending timestamped lines to ``path`` (for ``tail -f``)."""
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)

    def emit(line):
        with open(path, "a") as handle:
            handle.write("%s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), line))
    return emit


# ---- the cache -----------------------------------------------------------------------------
class Cache(object):
    """``root/blobs/sha256-<hex>`` (verified content), ``root/records/<key>.json``,
    ``root/progress/<pool>-<name>.log`` and ``root/.partial-*`` files while transferring."""

    def __init__(self, root):
        self.root = root

    def _dir(self, *parts):
        path = os.path.join(self.root, *parts)
        os.makedirs(path, mode=0o700, exist_ok=True)
        return path

    def blob(self, sha256):
        return os.path.join(self.root, "blobs", "sha256-" + sha256)

    def has_blob(self, sha256, size=None):
        path = self.blob(sha256)
        return os.path.isfile(path) and (size is None or os.path.getsize(path) == size)

    def partial(self):
        """A new ``(file object, path)`` for bytes in transit."""
        fd, path = tempfile.mkstemp(prefix=".partial-", dir=self._dir())
        return os.fdopen(fd, "wb"), path

    def keep(self, partial_path, sha256):
        """Make a verified partial file the blob of ``sha256``; returns the blob's path."""
        self._dir("blobs")
        path = self.blob(sha256)
        os.replace(partial_path, path)
        return path

    def _index_path(self, algo, digest):
        return os.path.join(self.root, "index", "%s-%s" % (algo, digest))

    def remember(self, digests, sha256):
        """Note that source bytes with these digests decompress to the blob ``sha256``."""
        self._dir("index")
        for algo, digest in digests.items():
            fd, tmp = tempfile.mkstemp(prefix=".index-", dir=os.path.join(self.root, "index"))
            with os.fdopen(fd, "w") as handle:
                handle.write(sha256)
            os.replace(tmp, self._index_path(algo, digest))

    def lookup(self, algo, digest):
        """The sha256 of a cached blob made from source bytes with this digest, or None."""
        try:
            with open(self._index_path(algo, digest)) as handle:
                sha256 = handle.read().strip()
        except OSError:
            return None
        return sha256 if re.match(r"^[0-9a-f]{64}\Z", sha256) and os.path.isfile(self.blob(sha256)) else None

    def forget_blob(self, sha256):
        _remove(self.blob(sha256))

    def progress_path(self, *names):
        safe = "-".join(re.sub(r"[^A-Za-z0-9_.+-]", "_", n) for n in names)
        return os.path.join(self._dir("progress"), safe + ".log")

    @staticmethod
    def record_key(*parts):
        return hashlib.sha256(json.dumps(list(parts)).encode("utf-8")).hexdigest()[:40]

    def _record_path(self, key):
        return os.path.join(self.root, "records", key + ".json")

    def read_record(self, key):
        try:
            with open(self._record_path(key)) as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def write_record(self, key, data):
        directory = self._dir("records")
        fd, tmp = tempfile.mkstemp(prefix=".record-", dir=directory)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle, sort_keys=True, indent=1)
            os.replace(tmp, self._record_path(key))
        except BaseException:
            _remove(tmp)
            raise

    def remove_record(self, key):
        _remove(self._record_path(key))


def _remove(path):
    try:
        os.unlink(path)
    except OSError as err:
        if err.errno != errno.ENOENT:
            raise


# ---- the pipeline --------------------------------------------------------------------------
class Result(object):
    """What a transfer produced: ``path`` holds the (decompressed) content."""

    def __init__(self, path, sha256, size, digests, fmt, compression, source_bytes,
                 http=None, seconds=0.0, downloaded=False):
        self.path = path
        self.sha256 = sha256            # of the content (after decompression)
        self.size = size                # of the content
        self.digests = digests          # {algo: hex} of the source bytes as provided
        self.format = fmt
        self.compression = compression
        self.source_bytes = source_bytes
        self.http = dict(http or {})
        self.seconds = seconds
        self.downloaded = downloaded

    def transfer_facts(self, source, progress_log):
        return {"downloaded": self.downloaded, "bytes": self.source_bytes,
                "seconds": round(self.seconds, 3),
                "rate": int(self.source_bytes / self.seconds) if self.seconds > 0 else None,
                "source": source, "progress_log": progress_log}


class _Pipeline(object):
    """source bytes -> hashers (+ the checksum's algorithm) -> decompressor -> content file."""

    def __init__(self, cache, name, decompress, algos):
        self.cache = cache
        self.name = name
        self.decompress = decompress
        self.raw = dict((a, hashlib.new(a)) for a in set(("sha256",) + tuple(algos)))
        self.content = hashlib.sha256()
        self.out, self.path = cache.partial()
        self.compression = None
        self.decompressor = None
        self.pending = b""      # source bytes held back until the compression is known
        self.decided = False
        self.head = b""
        self.source_bytes = 0
        self.size = 0

    def feed(self, data):
        self.source_bytes += len(data)
        for hasher in self.raw.values():
            hasher.update(data)
        if not self.decided:
            self.pending += data
            if len(self.pending) < len(_XZ_MAGIC):
                return
            self._decide()
            data, self.pending = self.pending, b""
        self._write(self.decompressor.feed(data) if self.decompressor else data)

    def _decide(self):
        self.decided = True
        self.compression = compression_for(self.decompress, self.name, self.pending)
        if self.compression:
            self.decompressor = Decompressor(self.compression)

    def _write(self, data):
        if not data:
            return
        if len(self.head) < HEAD_BYTES:
            self.head += data[:HEAD_BYTES - len(self.head)]
        self.content.update(data)
        self.out.write(data)
        self.size += len(data)

    def finish(self):
        if not self.decided:
            self._decide()
            data, self.pending = self.pending, b""
            self._write(self.decompressor.feed(data) if self.decompressor else data)
        if self.decompressor:
            self._write(self.decompressor.finish())
        self.out.close()

    def digests(self):
        return dict((a, h.hexdigest()) for a, h in self.raw.items())

    def discard(self):
        try:
            self.out.close()
        finally:
            _remove(self.path)


def _verify(pipeline, expected, declared_format, what):
    digests = pipeline.digests()
    if expected is not None and digests[expected.algo] != expected.digest:
        raise ChecksumMismatch("checksum mismatch for %s: expected %s:%s, got %s:%s" % (
            what, expected.algo, expected.digest, expected.algo, digests[expected.algo]))
    if pipeline.size == 0:
        raise CorruptSource("%s is empty" % what)
    fmt = detect_format(pipeline.head)
    problem = format_conflict(declared_format, fmt)
    if problem:
        raise CorruptSource("%s: %s" % (what, problem))
    return digests, (declared_format or fmt)


def _commit(pipeline, cache, expected, declared_format, shown):
    """End a fully fed pipeline: verify it, keep it as the blob of its content and remember which
    source digests made that content.  Returns (blob path, source digests, format)."""
    pipeline.finish()
    digests, fmt = _verify(pipeline, expected, declared_format, shown)
    sha256 = pipeline.content.hexdigest()
    path = cache.keep(pipeline.path, sha256)
    cache.remember(digests, sha256)
    return path, digests, fmt


def ssl_context(validate_certs):
    if validate_certs:
        return ssl.create_default_context()
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _open(url, timeout, validate_certs, method="GET"):
    """Open ``url`` with errors translated (status errors, refused connections, timeouts)."""
    shown = public_url(url)
    request = Request(url, method=method, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
    # build_opener keeps the environment's proxy settings (http_proxy, no_proxy).
    opener = build_opener(HTTPSHandler(context=ssl_context(validate_certs)))
    try:
        return opener.open(request, timeout=timeout)
    except HTTPError as err:
        err.close()
        if err.code in (404, 410):
            raise SourceNotFound("%s: HTTP %d %s (the URL does not exist on the server)" % (
                shown, err.code, err.reason))
        raise HTTPStatus("%s: HTTP %d %s" % (shown, err.code, err.reason), err.code)
    except URLError as err:
        raise _network_error(err.reason, shown, timeout)
    except (OSError, http.client.HTTPException) as err:
        raise _network_error(err, shown, timeout)


def _network_error(reason, shown, timeout):
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return TransferTimeout("%s: no data for %s seconds (timeout)" % (shown, timeout))
    if isinstance(reason, ssl.SSLError):
        return TransferError("%s: TLS failed: %s" % (shown, reason))
    if isinstance(reason, (ConnectionError, http.client.RemoteDisconnected)):
        return ConnectionProblem("%s: %s" % (shown, reason))
    if isinstance(reason, http.client.IncompleteRead):
        return Truncated("%s: the connection closed early" % shown)
    if isinstance(reason, socket.gaierror):
        return TransferError("%s: cannot resolve the host name: %s" % (shown, reason))
    return ConnectionProblem("%s: %s" % (shown, reason))


def with_retries(action, retries, sleep=time.sleep, backoff=1.0, on_retry=None):
    """Run ``action()``; retry transient TransferErrors up to ``retries`` times with backoff."""
    attempt = 0
    while True:
        try:
            return action()
        except TransferError as err:
            if not err.transient or attempt >= retries:
                if attempt:
                    err.msg = "%s (after %d attempts)" % (err.msg, attempt + 1)
                    err.args = (err.msg,)
                raise
            delay = min(backoff * (2 ** attempt), 30.0)
            if on_retry:
                on_retry(err, attempt + 1, delay)
            sleep(delay)
            attempt += 1


def fetch_text(url, timeout=60, retries=3, validate_certs=True, sleep=time.sleep, limit=SUMS_MAX_BYTES):
    """A small text file (a checksum file), bounded in size."""
    def once():
        with _open(url, timeout, validate_certs) as resp:
            try:
                data = resp.read(limit + 1)
            except (OSError, http.client.HTTPException) as err:
                raise _network_error(err, public_url(url), timeout)
        if len(data) > limit:
            raise CorruptSource("%s is larger than %d bytes; that is not a checksum file" % (
                public_url(url), limit))
        return data.decode("utf-8", "replace")
    return with_retries(once, retries, sleep)


def head(url, timeout=60, retries=3, validate_certs=True, sleep=time.sleep):
    """The validators of ``url`` (ETag, Last-Modified, Content-Length) from one HEAD request."""
    def once():
        with _open(url, timeout, validate_certs, method="HEAD") as resp:
            return validators(resp.headers)
    return with_retries(once, retries, sleep)


def validators(headers):
    length = headers.get("Content-Length")
    return {"etag": headers.get("ETag"), "last_modified": headers.get("Last-Modified"),
            "content_length": int(length) if length and length.isdigit() else None}


def download(url, cache, expected=None, decompress="auto", declared_format=None, timeout=60,
             retries=3, validate_certs=True, progress=None, sleep=time.sleep):
    """Stream ``url`` into the cache; returns a Result whose ``path`` is the verified blob.

    ``progress(line)`` receives progress lines.  Nothing is left behind on failure."""
    shown = public_url(url)
    name = source_file_name(url)
    algos = (expected.algo,) if expected else ()

    def once():
        started = time.monotonic()
        with _open(url, timeout, validate_certs) as resp:
            info = validators(resp.headers)
            total = info["content_length"]
            meter = Progress(progress, total, "download %s" % shown) if progress else None
            pipeline = _Pipeline(cache, name, decompress, algos)
            try:
                while True:
                    try:
                        chunk = resp.read(CHUNK)
                    except http.client.IncompleteRead as err:
                        raise Truncated("%s: the transfer was truncated after %d of %s bytes (the "
                                        "connection closed early)" % (
                                            shown, pipeline.source_bytes + len(err.partial), total))
                    except (OSError, http.client.HTTPException) as err:
                        raise _network_error(err, shown, timeout)
                    if not chunk:
                        break
                    pipeline.feed(chunk)
                    if meter:
                        meter.update(pipeline.source_bytes)
                if total is not None and pipeline.source_bytes != total:
                    raise Truncated("%s: the transfer was truncated: received %d of %d bytes" % (
                        shown, pipeline.source_bytes, total))
                path, digests, fmt = _commit(pipeline, cache, expected, declared_format, shown)
            except BaseException:
                pipeline.discard()
                raise
            seconds = meter.finished() if meter else time.monotonic() - started
        return Result(path, pipeline.content.hexdigest(), pipeline.size, digests, fmt,
                      pipeline.compression, pipeline.source_bytes, http=info, seconds=seconds,
                      downloaded=True)

    def on_retry(err, attempt, delay):
        if progress:
            progress("attempt %d failed (%s); retrying in %.0f s" % (attempt, err.msg, delay))

    return with_retries(once, retries, sleep, on_retry=on_retry)


def hash_file(path, algos=("sha256",), progress=None, what=None):
    """``{algo: hex}`` of a file, streamed; also the first HEAD_BYTES bytes and the size."""
    hashers = dict((a, hashlib.new(a)) for a in set(algos))
    first = b""
    size = 0
    meter = Progress(progress, None, what or "hash %s" % path) if progress else None
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(CHUNK)
            if not chunk:
                break
            if len(first) < HEAD_BYTES:
                first += chunk[:HEAD_BYTES - len(first)]
            for hasher in hashers.values():
                hasher.update(chunk)
            size += len(chunk)
            if meter:
                meter.update(size)
    return dict((a, h.hexdigest()) for a, h in hashers.items()), first, size


def ingest(path, cache, expected=None, decompress="auto", declared_format=None, progress=None,
           name=None):
    """A local file as content.  Compressed: decompressed into a cache blob.  Otherwise hashed
    in place (``Result.path`` is ``path`` itself)."""
    started = time.monotonic()
    name = name or os.path.basename(path)
    try:
        with open(path, "rb") as handle:
            magic = handle.read(len(_XZ_MAGIC))
    except OSError as err:
        if err.errno == errno.ENOENT:
            raise SourceNotFound("%s does not exist" % path)
        raise TransferError("cannot read %s: %s" % (path, err.strerror))
    compression = compression_for(decompress, name, magic)
    if compression is None:
        algos = ("sha256",) + ((expected.algo,) if expected else ())
        digests, first, size = hash_file(path, algos, progress, "verify %s" % path)
        if expected is not None and digests[expected.algo] != expected.digest:
            raise ChecksumMismatch("checksum mismatch for %s: expected %s:%s, got %s:%s" % (
                path, expected.algo, expected.digest, expected.algo, digests[expected.algo]))
        if size == 0:
            raise CorruptSource("%s is empty" % path)
        fmt = detect_format(first)
        problem = format_conflict(declared_format, fmt)
        if problem:
            raise CorruptSource("%s: %s" % (path, problem))
        return Result(path, digests["sha256"], size, digests, declared_format or fmt, None, size,
                      seconds=time.monotonic() - started)
    pipeline = _Pipeline(cache, name, compression, (expected.algo,) if expected else ())
    meter = Progress(progress, os.path.getsize(path), "decompress %s" % path) if progress else None
    try:
        with open(path, "rb") as handle:
            while True:
                chunk = handle.read(CHUNK)
                if not chunk:
                    break
                pipeline.feed(chunk)
                if meter:
                    meter.update(pipeline.source_bytes)
        blob, digests, fmt = _commit(pipeline, cache, expected, declared_format, path)
    except BaseException:
        pipeline.discard()
        raise
    seconds = meter.finished() if meter else time.monotonic() - started
    return Result(blob, pipeline.content.hexdigest(), pipeline.size, digests, fmt, compression,
                  pipeline.source_bytes, seconds=seconds)


def file_stat(path):
    """``{size, mtime}`` of a file (what a ``path`` source is compared by)."""
    st = os.stat(path)
    return {"size": st.st_size, "mtime": st.st_mtime_ns}


class HashingReader(object):
    """A file object that hashes what is read through it (to check an upload end to end)."""

    def __init__(self, handle):
        self.handle = handle
        self.sha256 = hashlib.sha256()

    def read(self, size=-1):
        data = self.handle.read(size)
        self.sha256.update(data)
        return data
