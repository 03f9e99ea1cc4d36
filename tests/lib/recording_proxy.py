#!/usr/bin/env python3
"""tests/lib/recording_proxy.py: a forward HTTP proxy (what http_proxy and
https_proxy name) that logs every request it gets, for tests that check
what a client sends through a proxy.

A request in absolute form (GET http://host:port/path) is forwarded to
host:port and the answer passed back; CONNECT host:port opens a tunnel.
A host that cannot be reached gets 502. Every request is logged, before
anything is forwarded, as one JSON object per line: method, target (the
absolute URL or CONNECT's host:port), host, authorization (the scheme of
an Authorization header, e.g. "Basic", or null: never the credential).

  recording_proxy.py --port-file F --log F   (the port chosen is written to
                                              --port-file once listening)
"""
import argparse
import http.client
import json
import os
import select
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

LOCK = threading.Lock()
LOGF = None
HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te",
       "trailers", "transfer-encoding", "upgrade"}


def log(method, target, host, authz):
    line = json.dumps({"method": method, "target": target, "host": host,
                       "authorization": authz.split(" ", 1)[0] if authz else None})
    with LOCK:
        LOGF.write(line + "\n")
        LOGF.flush()


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def fail(self, code, why):
        body = why.encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def do_CONNECT(self):
        host, _, port = self.path.rpartition(":")
        log("CONNECT", self.path, host, self.headers.get("Authorization"))
        try:
            up = socket.create_connection((host, int(port)), timeout=10)
        except (OSError, ValueError) as e:
            return self.fail(502, "recording proxy: %s" % e)
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        conns = [self.connection, up]
        try:
            while True:
                r, _, _ = select.select(conns, [], [], 120)
                if not r:
                    break
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    (up if s is self.connection else self.connection).sendall(data)
        except OSError:
            pass
        finally:
            up.close()

    def body(self):
        """The request body, Content-Length or chunked (passed on whole)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else None

    def forward(self):
        u = urlsplit(self.path)
        log(self.command, self.path, u.hostname, self.headers.get("Authorization"))
        body = self.body()
        if u.scheme != "http" or not u.hostname:
            return self.fail(400, "recording proxy: not an absolute http:// URL")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        try:
            c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=60)
            c.request(self.command, (u.path or "/") + ("?" + u.query if u.query else ""),
                      body=body, headers=headers)
            r = c.getresponse()
            data = r.read()
        except OSError as e:
            return self.fail(502, "recording proxy: %s" % e)
        self.send_response(r.status, r.reason)
        for k, v in r.getheaders():
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        c.close()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward


def main():
    global LOGF
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    LOGF = open(a.log, "a")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    srv.daemon_threads = True
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
