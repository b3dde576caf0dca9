# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A test HTTP server on 127.0.0.1 for the image target.

  /files/<name>   the file <dir>/<name> (GET and HEAD, with ETag and Last-Modified)
  /missing/...    404
  /stall/...      accepts the request and never answers
  /short/<name>   announces the file's length but sends half of it, then closes
  /slow/<name>    the file like /files/ (GET and HEAD), but sent in 64 KiB chunks with pauses,
                  so that 64 MiB take about 9 seconds (a long transfer, for live progress)
Every request is logged as "<METHOD> <path>" to <log>; the port goes to <port file>.
"""

import email.utils
import http.server
import os
import sys
import time

# /slow/: 64 KiB every SLOW_PAUSE seconds is about 7 MiB/s.
SLOW_CHUNK = 65536
SLOW_PAUSE = 0.0087


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _log(self):
        with open(self.server.log_path, "a") as handle:
            handle.write("%s %s\n" % (self.command, self.path))

    def _file(self, name):
        path = os.path.join(self.server.root, os.path.basename(name))
        return path if os.path.isfile(path) else None

    def _headers(self, path, length=None):
        st = os.stat(path)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length if length is not None else st.st_size))
        self.send_header("ETag", '"%x-%x"' % (st.st_size, st.st_mtime_ns))
        self.send_header("Last-Modified", email.utils.formatdate(st.st_mtime, usegmt=True))
        self.end_headers()

    def do_HEAD(self):
        self._log()
        if self.path.startswith("/slow/"):
            path = self._file(self.path[len("/slow/"):])
        else:
            path = self._file(self.path[len("/files/"):]) if self.path.startswith("/files/") else None
        if path is None:
            self.send_error(404)
            return
        self._headers(path)

    def do_GET(self):
        self._log()
        if self.path.startswith("/stall/"):
            time.sleep(3600)
            return
        if self.path.startswith("/short/"):
            path = self._file(self.path[len("/short/"):])
            size = os.path.getsize(path)
            self._headers(path, size)
            with open(path, "rb") as handle:
                self.wfile.write(handle.read(size // 2))
            self.wfile.flush()
            self.close_connection = True
            return
        slow = self.path.startswith("/slow/")
        if slow:
            path = self._file(self.path[len("/slow/"):])
        else:
            path = self._file(self.path[len("/files/"):]) if self.path.startswith("/files/") else None
        if path is None:
            self.send_error(404)
            return
        self._headers(path)
        with open(path, "rb") as handle:
            while True:
                chunk = handle.read(SLOW_CHUNK if slow else 65536)
                if not chunk:
                    break
                self.wfile.write(chunk)
                if slow:
                    self.wfile.flush()
                    time.sleep(SLOW_PAUSE)


def main():
    root, port_file, log_path = sys.argv[1:4]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.root = root
    server.log_path = log_path
    open(log_path, "a").close()
    tmp = port_file + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(str(server.server_address[1]))
    os.rename(tmp, port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
