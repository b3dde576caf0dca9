# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of transfer.py: checksums, formats, streamed decompression, the cache, retries,
and downloads from a real HTTP server on 127.0.0.1 in a thread."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import lzma
import os
import threading
import time

import pytest

from ansible_collections.converge.virt.plugins.module_utils import transfer
from ansible_collections.converge.virt.plugins.module_utils.engine.errors import BackendError, NotFound, Timeout

QCOW2 = b"QFI\xfb" + b"\x00" * 60 + b"payload" * 1000
ISO = b"\x00" * 32769 + b"CD001" + b"\x01" * 100
SHA = hashlib.sha256(QCOW2).hexdigest()


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# ---- checksums ------------------------------------------------------------------------------
def test_parse_literal_checksums():
    c = transfer.parse_checksum("SHA256:" + "AB" * 32)
    assert (c.algo, c.digest, c.url) == ("sha256", "ab" * 32, None)
    assert transfer.parse_checksum("sha512:" + "0" * 128).algo == "sha512"


def test_parse_checksum_url():
    c = transfer.parse_checksum("sha512:https://example.com/SHA512SUMS")
    assert (c.algo, c.digest, c.url) == ("sha512", None, "https://example.com/SHA512SUMS")


@pytest.mark.parametrize("text,message", [
    ("abc", "must look like"),
    ("md5:" + "0" * 32, "unsupported algorithm"),
    ("sha256:" + "0" * 63, "64 hex digits"),
    ("sha256:" + "g" * 64, "64 hex digits"),
    ("sha256:ftp://example.com/SUMS", "hex digits"),
    ("sha256:http:///nohost", "not an http"),
])
def test_bad_checksums(text, message):
    with pytest.raises(ValueError, match=message):
        transfer.parse_checksum(text)


SUMS = """# comment
{a}  debian.qcow2
{b} *debian.qcow2.xz
{c}  ./sub/other.iso
SHA256 (bsd.raw) = {d}
""".format(a="1" * 64, b="2" * 64, c="3" * 64, d="4" * 64)


@pytest.mark.parametrize("name,digest", [
    ("debian.qcow2", "1" * 64), ("debian.qcow2.xz", "2" * 64), ("other.iso", "3" * 64),
    ("bsd.raw", "4" * 64),
])
def test_parse_sums(name, digest):
    assert transfer.parse_sums(SUMS, name, "sha256") == digest


def test_parse_sums_missing_name_lists_what_is_there():
    with pytest.raises(ValueError, match="does not list 'nope.qcow2'.*debian.qcow2"):
        transfer.parse_sums(SUMS, "nope.qcow2", "sha256")


def test_parse_sums_wrong_algorithm_length_is_skipped():
    with pytest.raises(ValueError):
        transfer.parse_sums(SUMS, "debian.qcow2", "sha512")


def test_parse_sums_single_bare_digest():
    assert transfer.parse_sums("%s\n" % ("5" * 64), "anything", "sha256") == "5" * 64


def test_source_file_name_and_public_url():
    assert transfer.source_file_name("https://h/a/b%20c.qcow2?x=1") == "b c.qcow2"
    assert transfer.public_url("https://u:p@h:8443/x") == "https://********@h:8443/x"
    assert transfer.public_url("https://h/x") == "https://h/x"


# ---- formats and compression ---------------------------------------------------------------
@pytest.mark.parametrize("head,fmt", [(QCOW2, "qcow2"), (ISO, "iso"), (b"\x00" * 40000, "raw"), (b"", "raw")])
def test_detect_format(head, fmt):
    assert transfer.detect_format(head) == fmt


@pytest.mark.parametrize("declared,detected,ok", [
    (None, "qcow2", True), ("qcow2", "qcow2", True), ("raw", "iso", True),
    ("raw", "qcow2", False), ("qcow2", "raw", False), ("iso", "raw", False),
])
def test_format_conflict(declared, detected, ok):
    assert (transfer.format_conflict(declared, detected) is None) == ok


@pytest.mark.parametrize("mode,name,head,expected", [
    ("auto", "x.qcow2.xz", b"", "xz"), ("auto", "x.img.gz", b"", "gz"),
    ("auto", "x", lzma.compress(b"a"), "xz"), ("auto", "x", gzip.compress(b"a"), "gz"),
    ("auto", "x.qcow2", QCOW2, None), ("none", "x.xz", b"", None), ("gz", "x", b"", "gz"),
])
def test_compression_for(mode, name, head, expected):
    assert transfer.compression_for(mode, name, head) == expected


def feed_in_chunks(kind, data, size=7):
    dec = transfer.Decompressor(kind)
    out = b"".join(dec.feed(data[i:i + size]) for i in range(0, len(data), size))
    return out + dec.finish()


@pytest.mark.parametrize("kind,compress", [("xz", lzma.compress), ("gz", gzip.compress)])
def test_streamed_decompression(kind, compress):
    assert feed_in_chunks(kind, compress(QCOW2)) == QCOW2


@pytest.mark.parametrize("kind,compress", [("xz", lzma.compress), ("gz", gzip.compress)])
def test_concatenated_streams(kind, compress):
    assert feed_in_chunks(kind, compress(b"one") + compress(b"two")) == b"onetwo"


@pytest.mark.parametrize("kind,compress", [("xz", lzma.compress), ("gz", gzip.compress)])
def test_truncated_stream_is_detected(kind, compress):
    data = compress(os.urandom(5000))
    with pytest.raises(transfer.CorruptSource, match="truncated"):
        feed_in_chunks(kind, data[:len(data) // 2])


def test_corrupt_stream_is_detected():
    with pytest.raises(transfer.CorruptSource, match="corrupt"):
        feed_in_chunks("xz", b"\xfd7zXZ\x00" + b"garbage" * 10)


# ---- progress ------------------------------------------------------------------------------
def test_progress_lines_every_tenth_and_with_eta():
    lines = []
    clock = iter(range(100)).__next__
    meter = transfer.Progress(lines.append, total=1000, what="dl", every=1000, clock=clock)
    for done in range(0, 1001, 50):
        meter.update(done)
    assert len(lines) == 10
    assert "(10%)" in lines[0] and "ETA" in lines[0]
    assert "(100%)" in lines[-1]


# ---- cache ---------------------------------------------------------------------------------
def test_records_round_trip_atomically(tmp_path):
    cache = transfer.Cache(str(tmp_path))
    key = cache.record_key("qemu:///system", "host", "uuid", "vol")
    assert cache.read_record(key) is None
    cache.write_record(key, {"sha256": SHA})
    assert cache.read_record(key) == {"sha256": SHA}
    assert [p for p in os.listdir(str(tmp_path / "records")) if p.startswith(".")] == []
    cache.remove_record(key)
    cache.remove_record(key)
    assert cache.read_record(key) is None


def test_index_finds_only_existing_blobs(tmp_path):
    cache = transfer.Cache(str(tmp_path))
    cache.remember({"sha256": "1" * 64}, SHA)
    assert cache.lookup("sha256", "1" * 64) is None
    handle, path = cache.partial()
    handle.write(QCOW2)
    handle.close()
    cache.keep(path, SHA)
    assert cache.lookup("sha256", "1" * 64) == SHA


def test_ingest_uncompressed_in_place(tmp_path):
    src = tmp_path / "img.qcow2"
    src.write_bytes(QCOW2)
    cache = transfer.Cache(str(tmp_path / "cache"))
    result = transfer.ingest(str(src), cache, expected=transfer.Checksum("sha256", SHA))
    assert result.path == str(src) and result.sha256 == SHA and result.format == "qcow2"


def test_ingest_xz_into_the_cache(tmp_path):
    src = tmp_path / "img.qcow2.xz"
    src.write_bytes(lzma.compress(QCOW2))
    cache = transfer.Cache(str(tmp_path / "cache"))
    result = transfer.ingest(str(src), cache)
    assert result.path == cache.blob(SHA) and result.compression == "xz" and result.format == "qcow2"
    with open(result.path, "rb") as handle:
        assert handle.read() == QCOW2


def test_ingest_bad_checksum_leaves_nothing(tmp_path):
    src = tmp_path / "img.qcow2.gz"
    src.write_bytes(gzip.compress(QCOW2))
    cache = transfer.Cache(str(tmp_path / "cache"))
    with pytest.raises(transfer.ChecksumMismatch):
        transfer.ingest(str(src), cache, expected=transfer.Checksum("sha256", "0" * 64))
    assert os.listdir(str(tmp_path / "cache")) == []


def test_ingest_declared_format_contradiction(tmp_path):
    src = tmp_path / "img"
    src.write_bytes(QCOW2)
    with pytest.raises(transfer.CorruptSource, match="not raw"):
        transfer.ingest(str(src), transfer.Cache(str(tmp_path / "c")), declared_format="raw")


# ---- retries -------------------------------------------------------------------------------
@pytest.mark.parametrize("error,retried", [
    (transfer.TransferTimeout("t"), True),
    (transfer.ConnectionProblem("refused"), True),
    (transfer.Truncated("short"), True),
    (transfer.HTTPStatus("503", 503), True),
    (transfer.HTTPStatus("429", 429), True),
    (transfer.HTTPStatus("403", 403), False),
    (transfer.SourceNotFound("404"), False),
    (transfer.ChecksumMismatch("bad"), False),
    (transfer.CorruptSource("xz"), False),
])
def test_retry_policy(error, retried):
    calls, sleeps = [], []

    def action():
        calls.append(1)
        raise error
    with pytest.raises(type(error)):
        transfer.with_retries(action, 3, sleep=sleeps.append)
    assert len(calls) == (4 if retried else 1)
    assert sleeps == ([1.0, 2.0, 4.0] if retried else [])


def test_retry_then_success():
    attempts = iter([transfer.ConnectionProblem("reset"), "ok"])

    def action():
        value = next(attempts)
        if isinstance(value, Exception):
            raise value
        return value
    assert transfer.with_retries(action, 1, sleep=lambda s: None) == "ok"


# ---- downloads from a real local HTTP server -----------------------------------------------
class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    files = {}
    hits = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.hits.append(self.path)
        if self.path == "/stall":
            time.sleep(5)
            return
        if self.path == "/boom":
            self.send_error(503)
            return
        body = self.files.get(self.path.replace("/short", ""))
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", '"%s"' % sha256(body)[:8])
        self.end_headers()
        self.wfile.write(body[:len(body) // 2] if self.path.startswith("/short") else body)
        if self.path.startswith("/short"):
            self.close_connection = True


@pytest.fixture(scope="module")
def server():
    _Handler.files = {"/img.qcow2": QCOW2, "/img.qcow2.xz": lzma.compress(QCOW2),
                      "/img.qcow2.gz": gzip.compress(QCOW2), "/bad.xz": lzma.compress(QCOW2)[:40],
                      "/SUMS": ("%s  img.qcow2\n" % SHA).encode()}
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % httpd.server_address[1]
    httpd.shutdown()


def no_partials(root):
    return [n for n in os.listdir(root) if n.startswith(".partial-")]


@pytest.mark.parametrize("path", ["/img.qcow2", "/img.qcow2.xz", "/img.qcow2.gz"])
def test_download(server, tmp_path, path):
    cache = transfer.Cache(str(tmp_path))
    raw = _Handler.files[path]
    lines = []
    result = transfer.download(server + path, cache, expected=transfer.Checksum("sha256", sha256(raw)),
                               progress=lines.append)
    assert result.sha256 == SHA and result.format == "qcow2" and result.downloaded
    assert result.digests["sha256"] == sha256(raw) and result.source_bytes == len(raw)
    assert result.http["etag"] and result.http["content_length"] == len(raw)
    assert result.path == cache.blob(SHA) and no_partials(str(tmp_path)) == []
    assert lines and "done" in lines[-1]
    assert cache.lookup("sha256", sha256(raw)) == SHA


def test_download_checksum_mismatch_removes_the_partial(server, tmp_path):
    cache = transfer.Cache(str(tmp_path))
    with pytest.raises(transfer.ChecksumMismatch, match="expected sha256:0+, got sha256:" + SHA):
        transfer.download(server + "/img.qcow2", cache, expected=transfer.Checksum("sha256", "0" * 64),
                          retries=3, sleep=pytest.fail)
    assert no_partials(str(tmp_path)) == [] and not os.path.exists(cache.blob(SHA))


def test_download_404_is_not_retried(server, tmp_path):
    with pytest.raises(transfer.SourceNotFound, match="HTTP 404"):
        transfer.download(server + "/nope", transfer.Cache(str(tmp_path)), retries=3, sleep=pytest.fail)


def test_download_5xx_is_retried(server, tmp_path):
    before = _Handler.hits.count("/boom")
    with pytest.raises(transfer.HTTPStatus, match="after 3 attempts"):
        transfer.download(server + "/boom", transfer.Cache(str(tmp_path)), retries=2, sleep=lambda s: None)
    assert _Handler.hits.count("/boom") - before == 3


def test_download_truncated_body(server, tmp_path):
    with pytest.raises(transfer.Truncated, match="truncated"):
        transfer.download(server + "/short/img.qcow2", transfer.Cache(str(tmp_path)), retries=0)
    assert no_partials(str(tmp_path)) == []


def test_download_truncated_xz(server, tmp_path):
    with pytest.raises(transfer.CorruptSource, match="truncated"):
        transfer.download(server + "/bad.xz", transfer.Cache(str(tmp_path)), retries=3, sleep=pytest.fail)
    assert no_partials(str(tmp_path)) == []


def test_download_stall_times_out(server, tmp_path):
    started = time.monotonic()
    with pytest.raises(transfer.TransferTimeout, match="timeout"):
        transfer.download(server + "/stall", transfer.Cache(str(tmp_path)), timeout=1, retries=0)
    assert time.monotonic() - started < 4


def test_download_connection_refused_is_transient(tmp_path):
    with pytest.raises(transfer.ConnectionProblem) as err:
        transfer.download("http://127.0.0.1:9/x", transfer.Cache(str(tmp_path)), retries=0)
    assert err.value.transient


def test_fetch_text_and_sums(server):
    text = transfer.fetch_text(server + "/SUMS")
    assert transfer.parse_sums(text, "img.qcow2", "sha256") == SHA


# ---- typed errors ---------------------------------------------------------------------------
@pytest.mark.parametrize("error,typed", [
    (transfer.SourceNotFound("gone"), NotFound),
    (transfer.TransferTimeout("slow"), Timeout),
    (transfer.ChecksumMismatch("differs"), BackendError),
    (transfer.CorruptSource("broken"), BackendError),
])
def test_typed_errors_name_the_resource(error, typed):
    with pytest.raises(typed) as err:
        with transfer.typed_errors("image", "debian", "placed"):
            raise error
    assert (err.value.msg, err.value.kind, err.value.name) == (error.msg, "image", "debian")


def test_typed_errors_say_what_was_not_done():
    def hint(error, **kw):
        with pytest.raises(Exception) as err:
            with transfer.typed_errors("image", "x", "uploaded", **kw):
                raise error
        return err.value.hint
    mismatch = "the source changed or the checksum is wrong; nothing was uploaded"
    assert hint(transfer.ChecksumMismatch("m")) == mismatch
    assert hint(transfer.ChecksumMismatch("m"), always=True) == mismatch
    assert hint(transfer.SourceNotFound("n")) == "check the URL or path"
    assert hint(transfer.SourceNotFound("n"), always=True) == "check the URL or path; nothing was uploaded"
    assert hint(transfer.CorruptSource("c")) is None
    assert hint(transfer.CorruptSource("c"), always=True) == "nothing was uploaded"


def test_typed_errors_report_os_errors_and_pass_others():
    with pytest.raises(BackendError, match="/srv/x: No such file"):
        with transfer.typed_errors("image", "x", "placed"):
            raise FileNotFoundError(2, "No such file or directory", "/srv/x")
    with pytest.raises(KeyError):
        with transfer.typed_errors("image", "x", "placed"):
            raise KeyError("not a transfer error")
