# -*- coding: utf-8 -*-
# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only: the hypervisor scenario target's way to the Debian mirror.

The target's network namespace has nothing but a loopback, so that nothing it runs (libvirt's
networks, guests) can reach beyond the machine.  Its apt still needs the Debian mirror, as the
role installs libvirt from there.  This proxy listens on the target's own loopback (the listening
socket is made inside the target's network namespace) and fetches from this machine's namespace,
only GET/HEAD requests and only for the mirror hosts it is given: no routes, no NAT, no other
destination.

    python3 apt_proxy.py NETNS_PATH PORT HOST [HOST...]
"""

from __future__ import annotations

import ctypes
import http.client
import http.server
import os
import socket
import sys
from urllib.parse import urlsplit

CLONE_NEWNET = 0x40000000
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade"}


def listen_in_netns(netns_path, port):
    """A listening socket on 127.0.0.1:PORT of the namespace at NETNS_PATH; this process stays in its own."""
    libc = ctypes.CDLL(None, use_errno=True)
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open(netns_path, os.O_RDONLY)
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns %s" % netns_path)
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
            sock.listen(16)
        finally:
            if libc.setns(own, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(own)
        os.close(target)
    return sock


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    allowed = frozenset()

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        sys.stderr.write("apt_proxy: %s\n" % (format % args))

    def do_HEAD(self):
        self._forward()

    def do_GET(self):
        self._forward()

    def _forward(self):
        url = urlsplit(self.path)
        if url.scheme != "http" or url.hostname not in self.allowed:
            self.send_error(403, "only http://%s" % " http://".join(sorted(self.allowed)))
            return
        headers = dict((k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP)
        upstream = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=60)
        try:
            upstream.request(self.command, url.path + ("?" + url.query if url.query else ""), headers=headers)
            resp = upstream.getresponse()
            self.send_response(resp.status, resp.reason)
            length = resp.getheader("Content-Length")
            for key, value in resp.getheaders():
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, value)
            if length is None:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command == "GET":
                while True:
                    chunk = resp.read(65536)
                    if not chunk:
                        break
                    self.wfile.write(chunk)
        except (OSError, http.client.HTTPException) as err:
            self.log_message("upstream %s: %s", url.hostname, err)
            self.close_connection = True
        finally:
            upstream.close()


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    sock = listen_in_netns(argv[1], int(argv[2]))
    Handler.allowed = frozenset(argv[3:])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
    server.socket.close()
    server.socket = sock
    server.daemon_threads = True
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
