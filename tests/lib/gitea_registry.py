#!/usr/bin/env python3
"""tests/lib/gitea_registry.py: Gitea's container registry rules in front of
a real docker-registry (distribution 2.8), for idppush's integration tests.

It stands where Gitea stands behind idpbuilder's ingress-nginx: nginx
(tests/lib/gitea.sh) terminates TLS and forwards here over plain HTTP; this
server applies Gitea's rules (auth, owners, names, upload sessions, manifest
checks) and keeps the images in distribution (--upstream, no auth, loopback),
the way Gitea keeps them in its package store. The rules are those of
Gitea's routers/api/packages/container and services/packages/container;
--version picks the release whose quirks to show:

  1.22    (idpbuilder 0.8.1 / 0.9.x)  upload-status GET answers
          "Range: 0-<n>" (one past the last byte; "0-0" while empty); a
          PATCH that leaves the upload empty answers "Range: 0--1".
  1.24.0  the same.
  1.25    (any release since 1.24.1, e.g. 1.24.3 of idpbuilder >= 0.10;
          "1.24.3" is accepted as a name for it) upload-status GET answers
          "Range: 0-<n-1>" and no Range at all while the upload is empty;
          an empty PATCH answers no Range either.

Everything else is common to the three:
  Auth. No Authorization -> 401 UNAUTHORIZED JSON + WWW-Authenticate:
    Bearer realm="<X-Forwarded-Proto>://<Host>/v2/token",
    service="container_registry",scope="*" (the realm comes from --app-url
    when the request carries no X-Forwarded-Proto, or always with
    --realm-from-app-url, as Gitea 1.22.0 did).
    GET /v2/token: with valid Basic -> 200 {"token": JWT} (HS256, claims
    exp, nbf, UserID, Scope; no expires_in); without credentials -> a token
    of the anonymous ("ghost") user, which can only read; POST -> 404.
    Basic works on every /v2/ path (the password may also be an access token,
    --access-token). A wrong password, an unknown user, an expired or
    unknown Bearer token -> 401, text/plain "Failed to authenticate user",
    NO WWW-Authenticate. A write (POST/PATCH/PUT/DELETE on uploads,
    manifests, blobs; also the upload-status GET) by someone without write
    access to the owner (the anonymous token, --read-only-user, a user
    writing to an owner not its own) -> 401 text/plain "reqPackageAccess" +
    WWW-Authenticate: Basic realm="Gitea Package API".
  Names. /v2/<owner>/<image...>/...: an owner that does not exist -> 404
    text/plain "Not found." (after the auth check, before anything else);
    owners match case-insensitively. The image must match
    [a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)* -> else 400
    NAME_INVALID (checked after the permission). Tags compare
    case-insensitively (Gitea stores them lowercased). No referrers API,
    no other route: 404 "Not found.".
  Uploads (kept here, in --state, like Gitea's chunked-upload dir; they
    outlive a restart of this server). POST -> 202, Location
    /v2/<owner>/<image>/blobs/uploads/<id> (relative), Range 0-0,
    Docker-Upload-Uuid. POST ?digest=D with the body: one-request upload,
    201 (400 DIGEST_INVALID on a mismatch). POST ?mount=D&from=R: 201 when
    R has the blob, else (no digest) a new 202 session.
    PATCH: Content-Range must scan as "<start>-<end>" (Go's "%d-%d": no
    "bytes=") else 400 BLOB_UPLOAD_INVALID; a start that is not the size
    held -> 416 BLOB_UPLOAD_INVALID; no Content-Range is accepted only while
    the upload is empty, later 400 BLOB_UPLOAD_INVALID "Stream uploads after
    first write are not allowed"; the end is never checked; the body is
    appended -> 202 "Range: 0-<n-1>". A body that arrives cut short (only
    possible without nginx's request buffering, e.g. faultproxy.py between
    nginx and here) is handled as Gitea's uploader does: its bytes stay in
    the file, the recorded size does not grow, and every later write to
    that upload fails 500 ("offset mismatch between file and model")
    (--partial-body discard drops them instead).
    PUT ?digest=D: the body is appended, D checked (400 DIGEST_INVALID; the
    session stays, with those bytes), then the blob is copied into the
    store (distribution) before the answer: --put-delay-per-mib S models
    that copy's time, so a PUT can outlive nginx's proxy_read_timeout (504)
    while the blob still lands (with --cancel-on-disconnect it does not
    land when the client has gone by then, as Gitea's request context
    would roll the copy back). 201, Location /v2/<owner>/<image>/blobs/D.
    GET -> 204 with the version's Range. DELETE -> 204. Unknown id -> 404
    BLOB_UPLOAD_UNKNOWN. Writes to one upload take turns: a PUT retried
    while the first one is still copying (after the ingress's 504) waits
    for it, then finds the upload gone: 404 BLOB_UPLOAD_UNKNOWN. (Gitea
    takes no lock: its second PUT would copy the blob again, and answer 201
    or outlive the timeout as well; once the first has finished, 404.)
  Manifests. PUT: Content-Type starting "application/vnd.docker." or
    "application/vnd.oci." must equal (case-insensitively) one of the
    image manifest / index types, so any parameter ("; charset=utf-8")
    -> 400 MANIFEST_INVALID; another Content-Type falls back to the body's
    mediaType. Over 10 MiB -> 413 MANIFEST_INVALID. schemaVersion != 2 ->
    501 UNSUPPORTED. An image manifest's config and layers must exist in
    the image (404 BLOB_UNKNOWN) with the sizes given (400 SIZE_INVALID);
    an index's children must be image manifests (else 400
    MANIFEST_INVALID: no nested index) that exist (404
    MANIFEST_BLOB_UNKNOWN). 201 with Docker-Content-Digest = sha256 of the
    bytes. HEAD/GET/DELETE by tag or digest; an unknown one -> 404
    MANIFEST_UNKNOWN.
  Blobs. HEAD/GET -> 200 (Content-Length, Docker-Content-Digest) or 404
    BLOB_UNKNOWN; DELETE -> 202.

Users: --user NAME:PASS[:OWNER,...] (writes to NAME and the OWNERs listed),
--read-only-user NAME:PASS (writes nowhere), --site-admin NAME (writes
everywhere), --org NAME (an owner that exists), --access-token NAME:TOKEN.
User names match case-insensitively (idpbuilder's user is "giteaAdmin",
its owner segment "giteaadmin").
Tokens: --token-lifetime SECS (default 86400 = Gitea's 24 h);
--first-token-lifetime SECS with --first-tokens N (default 1): the first N
tokens issued to a signed-in user live SECS instead (no leeway: unusable
from exp on), so that a test can make a token expire mid-push. The signing
secret is kept in --state (a restart keeps tokens valid).
--new-secret-after-patches N: once N PATCHes have been answered 202, the
signing secret is replaced (as when Gitea comes back with another secret):
every token issued before is unknown from then on, long before its exp
(401 "Failed to authenticate user", no WWW-Authenticate).

Log (--log FILE): one JSON object per request, written once it is answered:
t, version, method, path, query, status, auth ("basic", "bearer", "none",
"other"), user (who it authenticated as; "" for the anonymous token), body
(request body bytes received), content_length, content_range,
content_type, range / location / www_authenticate (as answered), upload
(the session id), digest, token_exp (tokens issued), note, client_gone.
No secret is logged.

Start-up: --port 0 --port-file F writes the chosen port to F once listening.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import select
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

MIB = 1024 * 1024
MAX_MANIFEST = 10 * MIB
IMAGE_RE = re.compile(r"\A[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*\Z")
TAG_RE = re.compile(r"\A[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}\Z")
DIGEST_RE = re.compile(r"\Asha256:[a-f0-9]{64}\Z")
# Go's fmt.Sscanf(s, "%d-%d"): spaces before a number, an optional sign
RANGE_RE = re.compile(r"\A[ \t]*([+-]?\d+)-[ \t]*([+-]?\d+)")
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
IMAGE_TYPES = (MT_OCI_MANIFEST, MT_DOCKER_MANIFEST)
INDEX_TYPES = (MT_OCI_INDEX, MT_DOCKER_LIST)
ACCEPT_ALL = ", ".join(IMAGE_TYPES + INDEX_TYPES)
VERSIONS = {"1.22": "1.22", "1.24.0": "1.24.0", "1.25": "1.25", "1.24.3": "1.25"}
SEP = (",", ":")  # Go's json.Encoder writes compact JSON
GHOST = ""  # the anonymous user's name in the log
WRITE = "write"

LOCK = threading.Lock()


class Cfg:
    args = None
    version = "1.25"
    users = {}  # lower name -> {"name", "password", "owners": set, "admin", "tokens": set}
    owners = set()  # lower names
    secret = b""
    logf = None
    issued = 0
    patches = 0  # PATCHes answered 202 (--new-secret-after-patches)
    uploads = {}  # id -> Upload


def old_range():
    """True for the releases whose upload-status GET is one past the end."""
    return Cfg.version in ("1.22", "1.24.0")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def make_jwt(uid, lifetime):
    now = int(time.time())
    claims = {"exp": now + lifetime, "nbf": now, "UserID": uid, "Scope": ""}
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(Cfg.secret, (head + "." + body).encode(), hashlib.sha256).digest()
    return head + "." + body + "." + b64url(sig), claims["exp"]


def token_id(tok):
    """A token's name in the log (not the token: 8 hex of its sha256)."""
    return hashlib.sha256(tok.encode()).hexdigest()[:8]


def parse_jwt(tok):
    """The user id of a valid token, or None (bad signature, expired...)."""
    parts = tok.split(".")
    if len(parts) != 3:
        return None
    want = hmac.new(Cfg.secret, (parts[0] + "." + parts[1]).encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(want, b64url_dec(parts[2])):
            return None
        head = json.loads(b64url_dec(parts[0]))
        claims = json.loads(b64url_dec(parts[1]))
    except (ValueError, TypeError):
        return None
    if head.get("alg") != "HS256":
        return None
    now = time.time()
    if not isinstance(claims.get("exp"), int) or now >= claims["exp"]:
        return None
    if isinstance(claims.get("nbf"), int) and now < claims["nbf"]:
        return None
    return claims.get("UserID")


def user_id(name):
    """Stable small ids: the order of the users on the command line, from 1."""
    return list(Cfg.users).index(name) + 1


def user_by_id(uid):
    if uid == -1:
        return GHOST
    names = list(Cfg.users)
    if isinstance(uid, int) and 1 <= uid <= len(names):
        return names[uid - 1]
    return None


def can_write(user, owner):
    if user is None or user == GHOST:
        return False
    u = Cfg.users[user]
    return u["admin"] or owner in u["owners"]


class Upload:
    """A chunked upload: Gitea keeps the bytes in a file and, in its
    database, the size received and the hash state; here the size is in
    <id>.json and the hash is recomputed from the file when loaded."""

    def __init__(self, uid):
        self.id = uid
        self.path = os.path.join(Cfg.args.state, "uploads", uid)
        self.meta = self.path + ".json"
        self.lock = threading.Lock()
        self.size = 0
        self.hasher = hashlib.sha256()

    def save(self):
        tmp = self.meta + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"size": self.size}, f)
        os.replace(tmp, self.meta)

    @staticmethod
    def create():
        u = Upload(secrets.token_hex(16))
        open(u.path, "wb").close()
        u.save()
        with LOCK:
            Cfg.uploads[u.id] = u
        return u

    @staticmethod
    def get(uid):
        if not re.fullmatch(r"[-.=\w]+", uid):
            return None
        with LOCK:
            u = Cfg.uploads.get(uid)
            if u:
                return u
            u = Upload(uid)
            try:
                with open(u.meta) as f:
                    u.size = json.load(f)["size"]
                with open(u.path, "rb") as f:
                    left = u.size
                    while left > 0:
                        b = f.read(min(left, MIB))
                        if not b:
                            break
                        u.hasher.update(b)
                        left -= len(b)
            except (OSError, ValueError, KeyError):
                return None
            Cfg.uploads[uid] = u
            return u

    def remove(self):
        with LOCK:
            Cfg.uploads.pop(self.id, None)
        for p in (self.path, self.meta):
            try:
                os.unlink(p)
            except OSError:
                pass

    def append(self, reader):
        """Gitea's BlobUploader.Append: the file must end where the recorded
        size does; the body goes to the file; only a whole body counts.
        Returns (bytes read, error text or None)."""
        with open(self.path, "r+b") as f:
            f.seek(0, os.SEEK_END)
            if f.tell() != self.size:
                n = reader.drain()
                return n, "offset mismatch between file and model"
            h = self.hasher.copy()
            n = 0
            for chunk in reader.chunks():
                f.write(chunk)
                h.update(chunk)
                n += len(chunk)
            if reader.short:
                if Cfg.args.partial_body == "discard":
                    f.truncate(self.size)
                return n, "unexpected EOF"
        if n:
            self.size += n
            self.hasher = h
            self.save()
        return n, None


class Body:
    """The request body, read at most once (Content-Length or chunked)."""

    def __init__(self, handler):
        self.h = handler
        self.read = 0
        self.short = False
        self.done = False
        te = handler.headers.get("Transfer-Encoding", "").lower()
        self.chunked = "chunked" in te
        try:
            self.length = int(handler.headers.get("Content-Length") or 0)
        except ValueError:
            self.length = 0

    def _take(self, rf, left):
        """The next `left` bytes as they come (read1, as io.Copy does);
        self.short when the client stops first."""
        while left > 0:
            b = rf.read1(min(left, MIB))
            if not b:
                self.short = True
                return
            self.read += len(b)
            left -= len(b)
            yield b

    def chunks(self):
        if self.done:
            return
        self.done = True
        rf = self.h.rfile
        try:
            if not self.chunked:
                yield from self._take(rf, self.length)
                return
            while not self.short:
                line = rf.readline(1024)
                if not line:
                    self.short = True
                    return
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while rf.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return
                yield from self._take(rf, size)
                if not self.short:
                    rf.readline(1024)  # the chunk's CRLF
        except (OSError, ValueError):
            self.short = True

    def all(self, limit):
        out = bytearray()
        for b in self.chunks():
            if len(out) <= limit:
                out += b[:limit + 1 - len(out)]
        return bytes(out)

    def drain(self):
        for _ in self.chunks():
            pass
        return self.read


class Dist:
    """Plain-HTTP client for the distribution behind (no auth)."""

    @staticmethod
    def request(method, path, body=None, headers=None, length=None):
        host, _, port = Cfg.args.upstream.rpartition(":")
        c = http.client.HTTPConnection(host, int(port), timeout=600)
        hdrs = {"Host": Cfg.args.upstream}
        hdrs.update(headers or {})
        if length is not None:
            hdrs["Content-Length"] = str(length)
        c.request(method, path, body=body, headers=hdrs)
        r = c.getresponse()
        return c, r

    @staticmethod
    def simple(method, path, body=None, headers=None):
        c, r = Dist.request(method, path, body, headers,
                            length=len(body) if body is not None else None)
        data = r.read()
        c.close()
        return r.status, r, data

    @staticmethod
    def head_blob(repo, digest):
        st, r, _ = Dist.simple("HEAD", "/v2/%s/blobs/%s" % (repo, digest))
        return int(r.getheader("Content-Length") or -1) if st == 200 else None

    @staticmethod
    def head_manifest(repo, ref):
        st, r, _ = Dist.simple("HEAD", "/v2/%s/manifests/%s" % (repo, ref),
                               headers={"Accept": ACCEPT_ALL})
        return r if st == 200 else None

    @staticmethod
    def store_blob(repo, digest, path, size):
        """Put the file into distribution under repo (a monolithic upload)."""
        if Dist.head_blob(repo, digest) == size:
            return True
        st, r, _ = Dist.simple("POST", "/v2/%s/blobs/uploads/" % repo, body=b"")
        if st != 202:
            return False
        loc = urlsplit(r.getheader("Location") or "")
        target = loc.path + "?" + (loc.query + "&" if loc.query else "") + \
            "digest=" + quote(digest)
        with open(path, "rb") as f:
            c, r2 = Dist.request("PUT", target, body=f, length=size,
                                 headers={"Content-Type": "application/octet-stream"})
            r2.read()
            c.close()
        return r2.status == 201

    @staticmethod
    def mount(repo, digest, src):
        st, r, _ = Dist.simple("POST", "/v2/%s/blobs/uploads/?mount=%s&from=%s"
                               % (repo, quote(digest), quote(src)), body=b"")
        if st == 202 and r.getheader("Location"):  # drop the session it opened
            loc = urlsplit(r.getheader("Location"))
            Dist.simple("DELETE", loc.path + ("?" + loc.query if loc.query else ""))
        return st == 201


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 300  # a socket read that waits this long fails (a body never finished)
    server_version = "idptest-gitea"
    sys_version = ""

    def log_message(self, fmt, *a):
        if Cfg.args.verbose:
            sys.stderr.write("%s\n" % (fmt % a))

    # ---------------------------------------------------------------- answers
    def answer(self, status, body=b"", ctype=None, headers=(), api=True):
        """api: Gitea's setResponseHeaders (adds Docker-Distribution-Api-Version)."""
        self.rec["status"] = status
        if self.body and not self.body.done:
            self.rec["body"] = self.body.drain()
        hdrs = list(headers)
        if api:
            hdrs.append(("Docker-Distribution-Api-Version", "registry/2.0"))
        for k, v in hdrs:
            lk = k.lower()
            if lk in ("range", "location", "www-authenticate"):
                self.rec[lk.replace("-", "_")] = v
        try:
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            for k, v in hdrs:
                self.send_header(k, v)
            if not any(k.lower() == "content-length" for k, _ in hdrs):
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body and self.command != "HEAD":
                self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            self.rec["client_gone"] = True
            self.close_connection = True

    def text(self, status, msg, headers=()):
        """Go's http.Error: text/plain, the message and a newline."""
        self.answer(status, (msg + "\n").encode(), "text/plain; charset=utf-8",
                    list(headers) + [("X-Content-Type-Options", "nosniff")], api=False)

    def error(self, status, code, message=""):
        body = json.dumps({"errors": [{"code": code, "message": message}]}, separators=SEP) + "\n"
        self.answer(status, body.encode(), "application/json")

    def not_found(self):
        self.text(404, "Not found.")

    def realm(self):
        proto = self.headers.get("X-Forwarded-Proto") or \
            self.headers.get("X-Forwarded-Protocol") or self.headers.get("X-Url-Scheme")
        if Cfg.args.realm_from_app_url or not proto or not self.headers.get("Host"):
            return Cfg.args.app_url.rstrip("/") + "/v2/token"
        return "%s://%s/v2/token" % (proto.split(",")[0].strip(), self.headers["Host"])

    def unauthorized_bearer(self):
        chal = 'Bearer realm="%s",service="container_registry",scope="*"' % self.realm()
        body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": ""}]},
                          separators=SEP) + "\n"
        self.answer(401, body.encode(), "application/json", [("WWW-Authenticate", chal)])

    def no_write(self):
        self.text(401, "reqPackageAccess",
                  [("WWW-Authenticate", 'Basic realm="Gitea Package API"')])

    # ------------------------------------------------------------------- auth
    def authenticate(self):
        """(ok, user): user None = no credentials, GHOST = anonymous token."""
        h = self.headers.get("Authorization", "")
        if not h:
            self.rec["auth"] = "none"
            return True, None
        scheme, _, cred = h.partition(" ")
        cred = cred.strip()
        if scheme.lower() == "basic":
            self.rec["auth"] = "basic"
            try:
                name, _, pw = base64.b64decode(cred, validate=True).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return False, None
            u = Cfg.users.get(name.lower())
            if not u or not (pw == u["password"] or pw in u["tokens"]):
                return False, None
            return True, name.lower()
        self.rec["auth"] = "bearer" if scheme.lower() == "bearer" else "other"
        if not cred:
            return False, None
        self.rec["token_id"] = token_id(cred)
        who = user_by_id(parse_jwt(cred))
        if who is None:
            return False, None
        return True, who

    # --------------------------------------------------------------- dispatch
    def handle_any(self):
        u = urlsplit(self.path)
        self.q = parse_qs(u.query, keep_blank_values=True)
        self.body = Body(self)
        self.rec = {"t": round(time.time(), 3), "version": Cfg.version,
                    "method": self.command, "path": u.path, "query": u.query,
                    "auth": None, "user": None, "body": 0,
                    "content_length": self.headers.get("Content-Length"),
                    "content_range": self.headers.get("Content-Range"),
                    "content_type": self.headers.get("Content-Type")}
        try:
            self.route(u.path)
        except Exception as e:  # a bug here must show, not hang the client
            self.rec["note"] = "exception: %r" % e
            if "status" not in self.rec:
                self.answer(500, b"", api=False)
            raise
        finally:
            self.rec["body"] = self.body.read
            self.rec["t_done"] = round(time.time(), 3)
            line = json.dumps(self.rec, separators=SEP)
            with LOCK:
                if Cfg.logf and self.rec["path"] != "/healthz":
                    Cfg.logf.write(line + "\n")
                    Cfg.logf.flush()
            if not self.body.done:
                self.close_connection = True

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    def route(self, path):
        if path == "/healthz":  # readiness probe of the harness
            return self.answer(200, b"ok\n", "text/plain", api=False)
        if not (path == "/v2" or path.startswith("/v2/")):
            return self.not_found()
        ok, user = self.authenticate()
        self.rec["user"] = user
        if not ok:
            return self.text(401, "Failed to authenticate user")
        rest = path[len("/v2"):].strip("/")
        if rest == "":
            if self.command not in ("GET", "HEAD"):
                return self.text(405, "Method Not Allowed")
            if self.signin_missing(user):
                return self.unauthorized_bearer()
            return self.answer(200)
        if rest == "token":
            if self.command == "POST":
                return self.answer(404, api=False)
            if self.command != "GET":
                return self.text(405, "Method Not Allowed")
            return self.token(user)
        if rest == "_catalog" and self.command == "GET":
            if self.signin_missing(user):
                return self.unauthorized_bearer()
            return self.catalog()
        if self.signin_missing(user):
            return self.unauthorized_bearer()
        owner, _, rest = rest.partition("/")
        owner = owner.lower()
        if owner not in Cfg.owners:
            return self.not_found()
        return self.image_route(user, owner, rest)

    def signin_missing(self, user):
        return user is None or (Cfg.args.require_signin_view and user == GHOST)

    def token(self, user):
        if user is None:
            user = GHOST
        lifetime = Cfg.args.token_lifetime
        if user != GHOST:
            with LOCK:
                Cfg.issued += 1
                n = Cfg.issued
            if Cfg.args.first_token_lifetime is not None and n <= Cfg.args.first_tokens:
                lifetime = Cfg.args.first_token_lifetime
        tok, exp = make_jwt(-1 if user == GHOST else user_id(user), lifetime)
        self.rec["token_exp"] = exp
        self.rec["token_user"] = user
        self.rec["token_id"] = token_id(tok)
        body = json.dumps({"token": tok}, separators=SEP) + "\n"
        self.answer(200, body.encode(), "application/json;charset=utf-8", api=False)

    def catalog(self):
        st, _, data = Dist.simple("GET", "/v2/_catalog?n=1000")
        repos = json.loads(data).get("repositories", []) if st == 200 else []
        body = json.dumps({"repositories": repos}, separators=SEP) + "\n"
        self.answer(200, body.encode(), "application/json")

    ROUTES = [
        ("POST", re.compile(r"\A(?P<image>.+)/blobs/uploads\Z"), "initiate", WRITE),
        ("GET", re.compile(r"\A(?P<image>.+)/tags/list\Z"), "tags", None),
        ("GET PATCH PUT DELETE",
         re.compile(r"\A(?P<image>.+)/blobs/uploads/(?P<uuid>[-.=\w]+)\Z"), "upload", WRITE),
        ("HEAD GET", re.compile(r"\A(?P<image>.+)/blobs/(?P<digest>[^/]+)\Z"), "blob", None),
        ("DELETE", re.compile(r"\A(?P<image>.+)/blobs/(?P<digest>[^/]+)\Z"), "blob", WRITE),
        ("PUT", re.compile(r"\A(?P<image>.+)/manifests/(?P<ref>[^/]+)\Z"), "put_manifest", WRITE),
        ("HEAD GET", re.compile(r"\A(?P<image>.+)/manifests/(?P<ref>[^/]+)\Z"), "manifest", None),
        ("DELETE", re.compile(r"\A(?P<image>.+)/manifests/(?P<ref>[^/]+)\Z"), "manifest", WRITE),
    ]

    def image_route(self, user, owner, rest):
        rest = rest.rstrip("/")
        for methods, rx, fn, need in self.ROUTES:
            if self.command not in methods.split():
                continue
            m = rx.match(rest)
            if not m:
                continue
            if need == WRITE and not can_write(user, owner):
                return self.no_write()
            image = m.group("image")
            if not IMAGE_RE.match(image):
                return self.error(400, "NAME_INVALID")
            self.owner, self.image = owner, image
            self.repo = owner + "/" + image
            args = {k: v for k, v in m.groupdict().items() if k != "image"}
            return getattr(self, "r_" + fn)(**args)
        return self.not_found()

    def qget(self, name):
        return (self.q.get(name) or [""])[0].strip()

    # ---------------------------------------------------------------- uploads
    def store_delay(self, size):
        d = Cfg.args.put_delay_per_mib * size / MIB
        if d > 0:
            self.rec["note"] = "copying %d bytes into the store: %.2f s" % (size, d)
            time.sleep(d)  # the modelled copy, not a synchronisation

    def client_gone(self):
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
            return bool(r) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def save_blob(self, digest, path, size):
        """Gitea's saveAsPackageBlob: copy the blob into the store."""
        self.store_delay(size)
        if Cfg.args.cancel_on_disconnect and self.client_gone():
            self.rec["note"] = "client gone during the copy: not stored"
            self.rec["client_gone"] = True
            return False
        if not Dist.store_blob(self.repo, digest, path, size):
            raise RuntimeError("distribution refused blob %s" % digest)
        return True

    def blob_created(self, digest):
        self.rec["digest"] = digest
        self.answer(201, headers=[
            ("Location", "/v2/%s/%s/blobs/%s" % (self.owner, self.image, digest)),
            ("Docker-Content-Digest", digest), ("ETag", '"%s"' % digest)])

    def r_initiate(self):
        mount, src = self.qget("mount"), self.qget("from")
        if mount:
            if DIGEST_RE.match(mount) and src and Dist.head_blob(src.lower(), mount) is not None \
                    and Dist.mount(self.repo, mount, src.lower()):
                self.rec["note"] = "mounted from " + src
                return self.blob_created(mount)
            self.rec["note"] = "mount failed: new session"
        digest = self.qget("digest")
        if digest:
            tmp = os.path.join(Cfg.args.state, "uploads", "post-" + secrets.token_hex(8))
            h = hashlib.sha256()
            try:
                with open(tmp, "wb") as f:
                    for chunk in self.body.chunks():
                        f.write(chunk)
                        h.update(chunk)
                if self.body.short:
                    return self.answer(500, api=False)
                if digest != "sha256:" + h.hexdigest():
                    return self.error(400, "DIGEST_INVALID")
                if not self.save_blob(digest, tmp, self.body.read):
                    return self.answer(500, api=False)
            finally:
                os.unlink(tmp)
            return self.blob_created(digest)
        up = Upload.create()
        self.rec["upload"] = up.id
        self.answer(202, headers=[
            ("Location", "/v2/%s/%s/blobs/uploads/%s" % (self.owner, self.image, up.id)),
            ("Range", "0-0"), ("Docker-Upload-Uuid", up.id)])

    def r_upload(self, uuid):
        self.rec["upload"] = uuid
        if self.command == "PUT" and not self.qget("digest"):
            return self.error(400, "DIGEST_INVALID")
        up = Upload.get(uuid)
        if up is None:
            return self.error(404, "BLOB_UPLOAD_UNKNOWN")
        if self.command == "GET":
            return self.upload_status(up)
        if self.command == "DELETE":
            up.remove()
            return self.answer(204)
        with up.lock:
            if Upload.get(uuid) is not up:  # finished while we waited
                return self.error(404, "BLOB_UPLOAD_UNKNOWN")
            if self.command == "PATCH":
                return self.upload_patch(up)
            return self.upload_put(up)

    def upload_status(self, up):
        hdrs = [("Docker-Upload-Uuid", up.id)]
        if old_range():
            hdrs.append(("Range", "0-%d" % up.size))
        elif up.size > 0:
            hdrs.append(("Range", "0-%d" % (up.size - 1)))
        self.answer(204, headers=hdrs)

    def upload_patch(self, up):
        cr = self.headers.get("Content-Range")
        if cr is not None and cr != "":
            m = RANGE_RE.match(cr)
            if not m:
                return self.error(400, "BLOB_UPLOAD_INVALID")
            if int(m.group(1)) != up.size:
                return self.error(416, "BLOB_UPLOAD_INVALID")
        elif up.size != 0:
            return self.error(400, "BLOB_UPLOAD_INVALID",
                              "Stream uploads after first write are not allowed")
        _, err = up.append(self.body)
        if err:
            self.rec["note"] = err
            return self.answer(500, api=False)
        hdrs = [("Location", "/v2/%s/%s/blobs/uploads/%s" % (self.owner, self.image, up.id)),
                ("Docker-Upload-Uuid", up.id)]
        if up.size > 0 or old_range():
            hdrs.append(("Range", "0-%d" % (up.size - 1)))
        self.answer(202, headers=hdrs)
        self.count_patch()

    def count_patch(self):
        """--new-secret-after-patches: a new signing secret after the Nth 202."""
        with LOCK:
            Cfg.patches += 1
            if Cfg.patches != Cfg.args.new_secret_after_patches:
                return
            Cfg.secret = secrets.token_bytes(32)
            write_secret(Cfg.secret)
        self.rec["note"] = "new signing secret: every token issued so far is unknown"

    def upload_put(self, up):
        digest = self.qget("digest")
        _, err = up.append(self.body)
        if err:
            self.rec["note"] = err
            return self.answer(500, api=False)
        if digest != "sha256:" + up.hasher.hexdigest():
            return self.error(400, "DIGEST_INVALID")
        if not self.save_blob(digest, up.path, up.size):
            return self.answer(500, api=False)
        up.remove()
        self.blob_created(digest)

    # ------------------------------------------------------------------ blobs
    def r_blob(self, digest):
        if not DIGEST_RE.match(digest):
            return self.error(404, "BLOB_UNKNOWN")
        if self.command == "DELETE":
            Dist.simple("DELETE", "/v2/%s/blobs/%s" % (self.repo, digest))
            return self.answer(202)
        c, r = Dist.request(self.command, "/v2/%s/blobs/%s" % (self.repo, digest))
        try:
            if r.status != 200:
                r.read()
                return self.error(404, "BLOB_UNKNOWN")
            size = int(r.getheader("Content-Length") or 0)
            self.rec["status"] = 200
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Docker-Content-Digest", digest)
            self.send_header("ETag", '"%s"' % digest)
            self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
            self.end_headers()
            if self.command == "GET":
                while True:
                    b = r.read(MIB)
                    if not b:
                        break
                    self.wfile.write(b)
        except OSError:
            self.rec["client_gone"] = True
            self.close_connection = True
        finally:
            c.close()

    def r_tags(self):
        st, r, data = Dist.simple("GET", "/v2/%s/tags/list" % self.repo)
        if st != 200:
            return self.error(404, "NAME_UNKNOWN")
        self.answer(200, data, "application/json")

    # -------------------------------------------------------------- manifests
    def dist_ref(self, ref):
        """Gitea keeps tags lowercased: that is what makes them case-insensitive."""
        return ref if DIGEST_RE.match(ref) else ref.lower()

    def r_manifest(self, ref):
        if not (DIGEST_RE.match(ref) or TAG_RE.match(ref)):
            return self.error(404, "MANIFEST_UNKNOWN")
        path = "/v2/%s/manifests/%s" % (self.repo, self.dist_ref(ref))
        if self.command == "DELETE":
            st, _, _ = Dist.simple("DELETE", path)
            if st != 202:
                return self.error(404, "MANIFEST_UNKNOWN")
            return self.answer(202)
        st, r, data = Dist.simple("GET", path, headers={"Accept": ACCEPT_ALL})
        if st != 200:
            return self.error(404, "MANIFEST_UNKNOWN")
        dg = "sha256:" + hashlib.sha256(data).hexdigest()
        self.answer(200, data, r.getheader("Content-Type"), [
            ("Docker-Content-Digest", dg), ("ETag", '"%s"' % dg),
            ("Content-Length", str(len(data)))])

    def r_put_manifest(self, ref):
        tagged = not DIGEST_RE.match(ref)
        if tagged and not TAG_RE.match(ref):
            return self.error(400, "MANIFEST_INVALID", "Tag is invalid")
        data = self.body.all(MAX_MANIFEST)
        if len(data) > MAX_MANIFEST:
            return self.error(413, "MANIFEST_INVALID", "Manifest exceeds maximum size")
        try:
            doc = json.loads(data)
            if not isinstance(doc, dict):
                raise ValueError("not an object")
        except ValueError as e:
            self.rec["note"] = "manifest is not JSON: %s" % e
            return self.answer(500, api=False)
        if doc.get("schemaVersion") != 2:
            return self.error(501, "UNSUPPORTED", "Schema version is not supported")
        mt = self.headers.get("Content-Type") or ""
        if not mt.startswith(("application/vnd.docker.", "application/vnd.oci.")):
            mt = doc.get("mediaType") or ""
            if not mt.startswith(("application/vnd.docker.", "application/vnd.oci.")):
                return self.error(400, "MANIFEST_INVALID", "MediaType not recognized")
        canon = next((t for t in IMAGE_TYPES + INDEX_TYPES if t.lower() == mt.lower()), None)
        if canon is None:
            return self.error(400, "MANIFEST_INVALID")
        if canon in IMAGE_TYPES:
            descs = [doc.get("config") or {}] + list(doc.get("layers") or [])
            for d in descs:
                dg = d.get("digest", "")
                size = Dist.head_blob(self.repo, dg) if DIGEST_RE.match(dg) else None
                if size is None:
                    return self.error(404, "BLOB_UNKNOWN")
                if size != d.get("size"):
                    return self.error(400, "SIZE_INVALID")
        else:
            for d in doc.get("manifests") or []:
                cmt = d.get("mediaType", "")
                if not any(cmt.lower() == t.lower() for t in IMAGE_TYPES):
                    return self.error(400, "MANIFEST_INVALID")
                dg = d.get("digest", "")
                if not DIGEST_RE.match(dg) or Dist.head_manifest(self.repo, dg) is None:
                    return self.error(404, "MANIFEST_BLOB_UNKNOWN")
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        target = self.dist_ref(ref) if tagged else digest
        st, _, err = Dist.simple("PUT", "/v2/%s/manifests/%s" % (self.repo, target),
                                 body=data, headers={"Content-Type": canon})
        if st != 201:
            self.rec["note"] = "distribution: %d %s" % (st, err[:300].decode("latin-1"))
            return self.answer(500, api=False)
        self.rec["digest"] = digest
        self.answer(201, headers=[
            ("Location", "/v2/%s/%s/manifests/%s" % (self.owner, self.image, ref)),
            ("Docker-Content-Digest", digest), ("ETag", '"%s"' % digest)])


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64
    allow_reuse_address = True


def parse_users(a):
    def add(spec, writes, admin=False):
        name, _, rest = spec.partition(":")
        pw, _, owners = rest.partition(":")
        if not name or not pw:
            sys.exit("gitea_registry: bad user %r (NAME:PASS[:OWNER,...])" % spec)
        low = name.lower()
        ow = {low} if writes else set()
        ow |= {o.strip().lower() for o in owners.split(",") if o.strip()} if writes else set()
        Cfg.users[low] = {"name": name, "password": pw, "owners": ow, "admin": admin,
                          "tokens": set()}
        Cfg.owners.add(low)
        Cfg.owners.update(ow)
    for spec in a.user:
        add(spec, True)
    for spec in a.read_only_user:
        add(spec, False)
    for name in a.site_admin:
        if name.lower() not in Cfg.users:
            sys.exit("gitea_registry: --site-admin %s: no such --user" % name)
        Cfg.users[name.lower()]["admin"] = True
    for spec in a.access_token:
        name, _, tok = spec.partition(":")
        if name.lower() not in Cfg.users or not tok:
            sys.exit("gitea_registry: bad --access-token %r" % spec)
        Cfg.users[name.lower()]["tokens"].add(tok)
    Cfg.owners.update(o.lower() for o in a.org)


def write_secret(secret):
    """The signing secret into --state, where a restart finds it."""
    sf = os.path.join(Cfg.args.state, "jwt-secret")
    with open(sf + ".tmp", "wb") as f:
        f.write(secret)
    os.replace(sf + ".tmp", sf)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--upstream", required=True, help="HOST:PORT of the distribution")
    ap.add_argument("--state", required=True, help="directory for uploads and the secret")
    ap.add_argument("--version", default="1.25", choices=sorted(VERSIONS))
    ap.add_argument("--user", action="append", default=[], help="NAME:PASS[:OWNER,...]")
    ap.add_argument("--read-only-user", action="append", default=[], help="NAME:PASS")
    ap.add_argument("--site-admin", action="append", default=[], help="NAME")
    ap.add_argument("--org", action="append", default=[], help="an owner that exists")
    ap.add_argument("--access-token", action="append", default=[], help="NAME:TOKEN")
    ap.add_argument("--token-lifetime", type=int, default=86400)
    ap.add_argument("--first-token-lifetime", type=int)
    ap.add_argument("--first-tokens", type=int, default=1)
    ap.add_argument("--new-secret-after-patches", type=int, default=0)
    ap.add_argument("--put-delay-per-mib", type=float, default=0.0)
    ap.add_argument("--cancel-on-disconnect", action="store_true")
    ap.add_argument("--partial-body", choices=["poison", "discard"], default="poison")
    ap.add_argument("--app-url", default="https://gitea.cnoe.localtest.me:8443/")
    ap.add_argument("--realm-from-app-url", action="store_true")
    ap.add_argument("--require-signin-view", action="store_true")
    ap.add_argument("--log")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    Cfg.args = a
    Cfg.version = VERSIONS[a.version]
    parse_users(a)
    os.makedirs(os.path.join(a.state, "uploads"), exist_ok=True)
    sf = os.path.join(a.state, "jwt-secret")
    if not os.path.exists(sf):
        write_secret(secrets.token_bytes(32))
    with open(sf, "rb") as f:
        Cfg.secret = f.read()
    Cfg.logf = open(a.log, "a", buffering=1) if a.log else None

    srv = Server(("127.0.0.1", a.port), Handler)
    port = srv.server_address[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.replace(a.port_file + ".tmp", a.port_file)
    print("gitea_registry %s listening on 127.0.0.1:%d -> %s" % (Cfg.version, port, a.upstream),
          file=sys.stderr, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
