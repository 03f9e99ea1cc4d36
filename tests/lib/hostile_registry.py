#!/usr/bin/env python3
"""tests/lib/hostile_registry.py: a small registry that misbehaves on purpose.

Only for the security tests: a client must neither crash, nor leak a
secret, nor loop, whatever a registry answers. Without --attack it is a
working (in-memory, single-repository-agnostic) registry for pushes:
GET /v2/, HEAD/GET blobs, POST uploads (mount answers 202), PATCH with
Content-Range, GET upload status, PUT ?digest=, DELETE uploads, PUT/HEAD
manifests. With --user U:P it wants Basic auth (401 + challenge first).

Attacks (--attack NAME):
  range-backwards   the 2nd PATCH of an upload is answered 202 "Range: 0-0"
  range-huge        every PATCH is answered "Range: 0-9223372036854775807"
  short-ack         every PATCH keeps only 1 byte more than the upload had
  location-elsewhere  POST answers with a Location on the --elsewhere port
                    (a listener that logs what reaches it, then 404s)
  location-downgrade  (with --tls) POST answers with an http:// Location on
                    the same host and port
  realm-http        (with --tls) GET /v2/ answers 401 Bearer with a realm on
                    the --elsewhere port over plain HTTP
  evil-bytes        manifest PUT answers a Docker-Content-Digest and errors
                    carrying terminal escape sequences and a 300-byte Location
  patch-fails       every PATCH is answered 500, after a 300-byte Location
  bearer            wants Bearer tokens from a realm on --elsewhere (plain
                    HTTP, answers {"token": ...} to anyone)

--chunk-max N: the POST answer carries OCI-Chunk-Max-Length: N and a
larger PATCH body gets 413 (as Cloudflare's registry does).

--record DIR: every request body that reaches it (uploads, manifests) is
kept as DIR/<n>.<method>.<upload id or "-">, n counting from 1, so a test
can tell whether some bytes ever left the client (tests/lib/sec_tools.py
check-uploads reads it).

--hold FILE: the first request matching --hold-match (a regex over
"METHOD PATH"; default a manifest PUT) is not answered until FILE exists
(at most 300 s), and its answer closes the connection, so the client's
next request opens a new one. The wait is logged first as {"server":
"registry", "event": "hold", ...}, so a test knows when it started.

Log (--log FILE): one JSON object per request: server ("registry" or
"elsewhere"), method, path, authorization (the scheme only, e.g. "Basic",
or null), status, length (the request body's, read or announced). Secrets are
not logged; the elsewhere listener logs whether a credential reached it,
which is what the tests assert on.

Start-up: --port 0 / --elsewhere-port 0 pick free ports, written as
"PORT ELSEWHERE_PORT" to --port-file once both listen.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOCK = threading.Lock()
ESC = "\x1b[31mEVIL\x1b[0m\x07"


class State:
    blobs = {}
    uploads = {}
    manifests = {}
    patches = {}
    args = None
    logf = None
    elsewhere_port = 0
    recorded = 0
    held = False


def record(method, path, data):
    m = re.match(r"^/v2/.+/blobs/uploads/([0-9a-f]+)", urlsplit(path).path)
    with LOCK:
        State.recorded += 1
        n = State.recorded
    name = "%d.%s.%s" % (n, method, m.group(1) if m else "-")
    with open(os.path.join(State.args.record, name), "wb") as f:
        f.write(data)


def hold(method, path):
    """Wait for the --hold file (bounded), logging that the wait began.
    True when this request was held (its connection is to be closed)."""
    with LOCK:
        if State.held or not re.search(State.args.hold_match, method + " " + path):
            return False
        State.held = True
    line = json.dumps({"server": "registry", "event": "hold", "method": method, "path": path,
                       "authorization": None, "status": 0, "length": 0})
    with LOCK:
        State.logf.write(line + "\n")
        State.logf.flush()
    for _ in range(3000):
        if os.path.exists(State.args.hold):
            break
        time.sleep(0.1)
    return True


def read_body(h):
    """The body of h's request: its Content-Length bytes, or a chunked one
    decoded (a streamed PATCH)."""
    if "chunked" in (h.headers.get("Transfer-Encoding") or "").lower():
        out = b""
        while True:
            size = int(h.rfile.readline(64).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                break
            out += h.rfile.read(size)
            h.rfile.readline(8)
        while h.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
            pass   # trailers
        return out
    n = int(h.headers.get("Content-Length") or 0)
    return h.rfile.read(n) if n else b""


def log(server, method, path, authz, status, length=0):
    scheme = authz.split(" ", 1)[0] if authz else None
    line = json.dumps({"server": server, "method": method, "path": path,
                       "authorization": scheme, "status": status, "length": length})
    with LOCK:
        State.logf.write(line + "\n")
        State.logf.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def parse_request(self):
        self.got = None   # the body's length, once read
        return super().parse_request()

    def body(self):
        data = read_body(self)
        self.got = len(data)
        if data and State.args.record:
            record(self.command, self.path, data)
        return data

    def reply(self, status, headers=None, body=b""):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if getattr(self, "closing", False):
            self.send_header("Connection", "close")
            self.close_connection = True
            self.closing = False
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)
        log("registry", self.command, self.path, self.headers.get("Authorization"), status,
            self.got if self.got is not None else int(self.headers.get("Content-Length") or 0))

    def scheme_host(self):
        scheme = "https" if State.args.tls else "http"
        return "%s://%s" % (scheme, self.headers.get("Host"))

    def authorized(self):
        a = State.args
        got = self.headers.get("Authorization") or ""
        if a.attack in ("bearer", "realm-http"):
            return got.startswith("Bearer ")
        if not a.user:
            return True
        want = "Basic " + base64.b64encode(a.user.encode()).decode()
        return got == want

    def challenge(self):
        a = State.args
        if a.attack in ("bearer", "realm-http"):
            realm = "http://127.0.0.1:%d/token" % State.elsewhere_port
            value = 'Bearer realm="%s",service="hostile"' % realm
        else:
            value = 'Basic realm="hostile"'
        err = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "auth"}]}).encode()
        self.reply(401, {"WWW-Authenticate": value, "Content-Type": "application/json"}, err)

    def route(self):
        if State.args.hold and hold(self.command, self.path):
            self.closing = True
        if not self.authorized():
            self.body()
            return self.challenge()
        u = urlsplit(self.path)
        q = parse_qs(u.query)
        p = u.path
        if p == "/v2/":
            return self.reply(200)
        m = re.match(r"^/v2/(.+)/blobs/uploads/([^/]*)$", p)
        if m:
            return self.upload(m.group(1), m.group(2), q)
        m = re.match(r"^/v2/(.+)/blobs/(sha256:[0-9a-f]{64})$", p)
        if m:
            self.body()
            d = m.group(2)
            if d in State.blobs:
                return self.reply(200, {"Docker-Content-Digest": d}, State.blobs[d])
            return self.reply(404)
        m = re.match(r"^/v2/(.+)/manifests/([^/]+)$", p)
        if m:
            return self.manifest(m.group(1), m.group(2))
        self.body()
        return self.reply(404)

    def location(self, name, uid):
        a = State.args
        if a.attack == "location-elsewhere":
            return "http://127.0.0.1:%d/v2/%s/blobs/uploads/%s" % (State.elsewhere_port, name, uid)
        if a.attack == "location-downgrade":
            return "http://%s/v2/%s/blobs/uploads/%s" % (self.headers.get("Host"), name, uid)
        if a.attack in ("evil-bytes", "patch-fails"):
            return "/v2/%s/blobs/uploads/%s?_state=%s" % (name, uid, "A" * 300)
        return "/v2/%s/blobs/uploads/%s" % (name, uid)

    def upload(self, name, uid, q):
        data = self.body()
        c = self.command
        if c == "POST":
            uid = uuid.uuid4().hex
            State.uploads[uid] = bytearray()
            State.patches[uid] = 0
            hdrs = {"Location": self.location(name, uid), "Range": "0-0"}
            if State.args.chunk_max:
                hdrs["OCI-Chunk-Max-Length"] = str(State.args.chunk_max)
            return self.reply(202, hdrs)
        if uid not in State.uploads:
            return self.reply(404, {"Content-Type": "application/json"},
                              b'{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN","message":"x"}]}')
        buf = State.uploads[uid]
        if c == "PATCH":
            return self.patch(name, uid, buf, data)
        if c == "GET":
            return self.reply(204, {"Location": self.location(name, uid), "Range": rng(len(buf))})
        if c == "DELETE":
            del State.uploads[uid]
            return self.reply(204)
        if c == "PUT":
            buf.extend(data)
            d = "sha256:" + hashlib.sha256(bytes(buf)).hexdigest()
            if q.get("digest", [""])[0] != d:
                return self.reply(400, {"Content-Type": "application/json"},
                                  b'{"errors":[{"code":"DIGEST_INVALID","message":"x"}]}')
            State.blobs[d] = bytes(buf)
            del State.uploads[uid]
            return self.reply(201, {"Docker-Content-Digest": d,
                                    "Location": "/v2/%s/blobs/%s" % (name, d)})
        return self.reply(405)

    def patch(self, name, uid, buf, data):
        a = State.args
        State.patches[uid] += 1
        if a.chunk_max and len(data) > a.chunk_max:
            return self.reply(413)
        if a.attack == "patch-fails":
            return self.reply(500, {"Content-Type": "application/json"},
                              b'{"errors":[{"code":"UNKNOWN","message":"injected"}]}')
        cr = self.headers.get("Content-Range")
        if cr:
            start = int(cr.split("-")[0])
            if start != len(buf):
                return self.reply(416, {"Range": rng(len(buf)),
                                        "Location": self.location(name, uid)})
        if a.attack == "short-ack":
            buf.extend(data[:1])
        else:
            buf.extend(data)
        r = rng(len(buf))
        if a.attack == "range-backwards" and State.patches[uid] == 2:
            r = "0-0"
        if a.attack == "range-huge":
            r = "0-9223372036854775807"
        return self.reply(202, {"Location": self.location(name, uid), "Range": r})

    def manifest(self, name, ref):
        data = self.body()
        a = State.args
        if self.command == "PUT":
            d = "sha256:" + hashlib.sha256(data).hexdigest()
            if a.attack == "evil-bytes":
                return self.reply(201, {"Docker-Content-Digest": "sha256:" + ESC})
            mt = self.headers.get("Content-Type") or ""
            State.manifests[ref] = (data, mt)
            State.manifests[d] = (data, mt)
            return self.reply(201, {"Docker-Content-Digest": d})
        if ref in State.manifests:
            data, mt = State.manifests[ref]
            return self.reply(200, {"Content-Type": mt, "Docker-Content-Digest":
                                    "sha256:" + hashlib.sha256(data).hexdigest()}, data)
        return self.reply(404)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = route


class Elsewhere(BaseHTTPRequestHandler):
    """Where a hostile registry points clients: logs what arrives."""
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def route(self):
        read_body(self)
        authz = self.headers.get("Authorization")
        if self.path.startswith("/token"):
            body = b'{"token":"hostile-token","expires_in":300}'
            status = 200
        else:
            body = b""
            status = 404
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        log("elsewhere", self.command, self.path, authz, status)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = route


def rng(n):
    return "0-%d" % (n - 1 if n > 0 else 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--attack", default="")
    ap.add_argument("--user", default="")
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--chunk-max", type=int, default=0,
                    help="send OCI-Chunk-Max-Length and answer larger PATCHes with 413")
    ap.add_argument("--record", default="",
                    help="keep every request body in this directory")
    ap.add_argument("--hold", default="",
                    help="answer the first --hold-match request once this file exists")
    ap.add_argument("--hold-match", default=r"^PUT /v2/.+/manifests/",
                    help="regex over 'METHOD PATH' of the request to hold")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    a = ap.parse_args()
    State.args = a
    State.logf = open(a.log, "a")
    reg = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        reg.socket = ctx.wrap_socket(reg.socket, server_side=True)
    other = ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)
    State.elsewhere_port = other.server_address[1]
    threading.Thread(target=other.serve_forever, daemon=True).start()
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d %d\n" % (reg.server_address[1], State.elsewhere_port))
    os.rename(a.port_file + ".tmp", a.port_file)
    try:
        reg.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
