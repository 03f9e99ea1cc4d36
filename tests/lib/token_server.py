#!/usr/bin/env python3
"""tests/lib/token_server.py: a Gitea-like registry token server for tests.

HTTPS on 127.0.0.1 (stdlib http.server + ssl; JWTs signed RS256 with the
`cryptography` package, Debian's python3-cryptography).

Behaviour (modelled on Gitea's /v2/token):
  GET /v2/token?service=S&scope=A&scope=B[&account=U]
      valid Basic credentials -> 200 {"token": JWT}  (+ "expires_in",
        "issued_at" with --expires-in); access = every requested scope's
        actions (pull, push, delete, *) for the requested names.
      no credentials          -> 200 with a token granting only "pull"
        (Gitea allows anonymous pull); --no-anonymous makes it 401 instead.
      wrong credentials       -> 401 (UNAUTHORIZED JSON body).
  POST /v2/token             -> 404 (Gitea does this on purpose; clients
        must fall back to GET). --accept-post turns it into a working OAuth2
        refresh_token/password grant answering {"access_token": JWT}.
  GET /healthz               -> 200 (readiness probe; not logged)
  anything else              -> 404.

JWT: header {"typ":"JWT","alg":"RS256","x5c":[base64 DER signing cert]},
claims iss, sub, aud (= service), exp, nbf, iat, jti, access.

Expiry: docker distribution accepts a token until exp + 60 s (leeway).
  --lifetime SECS        exp = iat + SECS for every token (default 3600);
                         the registry honours it for SECS + 60 s real time.
  --first-tokens N --first-lifetime SECS
                         the first N tokens granting push get SECS instead
                         (pull-only/unscoped tokens are not counted), e.g.
                         --first-tokens 1 --first-lifetime -58 makes the first
                         token usable for ~2 s only, later tokens are normal:
                         a test can pause the client past that (the log says
                         the exact "usable_until" epoch) to force one 401
                         mid-push and check the client re-authenticates once.

Log (--log FILE): one JSON object per line, per request: method, path,
query (password-like values never logged), basic (bool), user, status,
and for issued tokens jti, exp, usable_until (= exp + 60), access, scopes.
The password is never logged.

Start-up: with --port 0 the chosen port is written to --port-file (written
once the socket listens, so the file's existence means "ready").
"""

import argparse
import base64
import json
import os
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

LEEWAY = 60
SAFE_QUERY_KEYS = {"service", "scope", "account", "client_id", "offline_token", "grant_type"}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class State:
    def __init__(self, args):
        self.args = args
        self.users = {}
        for spec in args.user:
            name, _, pw = spec.partition(":")
            self.users[name] = pw
        with open(args.key, "rb") as f:
            self.key = serialization.load_pem_private_key(f.read(), password=None)
        with open(args.cert, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        self.x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        self.lock = threading.Lock()
        self.issued = 0
        self.issued_push = 0
        self.logf = open(args.log, "a", buffering=1) if args.log else None

    def log(self, rec):
        rec["t"] = round(time.time(), 3)
        line = json.dumps(rec, sort_keys=False, separators=(",", ":"))
        with self.lock:
            if self.logf:
                self.logf.write(line + "\n")
            if self.args.verbose:
                print(line, file=sys.stderr, flush=True)

    def make_token(self, sub, service, access):
        pushy = any("push" in a["actions"] or "*" in a["actions"] for a in access)
        with self.lock:
            self.issued += 1
            n = self.issued
            if pushy:
                self.issued_push += 1
            np = self.issued_push
        lifetime = self.args.lifetime
        if pushy and np <= self.args.first_tokens:
            lifetime = self.args.first_lifetime
        now = int(time.time())
        claims = {
            "iss": self.args.issuer,
            "sub": sub,
            "aud": service,
            "exp": now + lifetime,
            "nbf": now - 1,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        signing_input = (
            b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + b64url(json.dumps(claims, separators=(",", ":")).encode())
        )
        sig = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(sig), claims, n, lifetime


def parse_scope(scope):
    """'repository:a/b:pull,push' -> ('repository', 'a/b', ['pull','push'])."""
    typ, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    if not typ or not name:
        return None
    return typ, name, [a for a in actions.split(",") if a]


def grant(scopes, authenticated):
    access = []
    for sc in scopes:
        for one in sc.split(" "):  # some clients space-join scopes
            p = parse_scope(one)
            if not p:
                continue
            typ, name, actions = p
            if not authenticated:
                actions = [a for a in actions if a == "pull"]
            merged = next((a for a in access if a["type"] == typ and a["name"] == name), None)
            if merged:
                merged["actions"] = sorted(set(merged["actions"]) | set(actions))
            else:
                access.append({"type": typ, "name": name, "actions": actions})
    return access


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "idptest-token/1"
    state = None  # set in main

    def setup(self):
        # TLS handshake in the handler thread, not in the accept loop
        self.request.settimeout(30)
        self.request.do_handshake()
        super().setup()

    def log_message(self, fmt, *a):  # quiet default access log
        if self.state.args.verbose:
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % a))

    def _basic(self):
        h = self.headers.get("Authorization", "")
        if not h.lower().startswith("basic "):
            return None
        try:
            user, _, pw = base64.b64decode(h[6:].strip()).decode().partition(":")
        except Exception:
            return ("", None)
        return (user, pw)

    def _send(self, status, obj, extra=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _unauth(self, rec):
        rec["status"] = 401
        self.state.log(rec)
        self._send(401,
                   {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                   {"WWW-Authenticate": 'Basic realm="idptest-token"'})

    def _issue(self, rec, user, service, scopes, authenticated, oauth):
        access = grant(scopes, authenticated)
        tok, claims, n, lifetime = self.state.make_token(user or "", service, access)
        rec.update(status=200, n=n, jti=claims["jti"], exp=claims["exp"],
                   usable_until=claims["exp"] + LEEWAY, access=access)
        self.state.log(rec)
        out = {"access_token": tok} if oauth else {"token": tok}
        if self.state.args.expires_in or oauth:
            out["expires_in"] = max(1, lifetime)
            out["issued_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(claims["iat"]))
        self._send(200, out)

    def do_GET(self):
        u = urlsplit(self.path)
        q = parse_qs(u.query, keep_blank_values=True)
        basic = self._basic()
        rec = {"method": "GET", "path": u.path,
               "query": {k: v for k, v in q.items() if k in SAFE_QUERY_KEYS},
               "basic": basic is not None, "user": basic[0] if basic else None,
               "scopes": q.get("scope", [])}
        if u.path == "/healthz":  # readiness probe: not logged, issues nothing
            return self._send(200, {"ok": True})
        if u.path != "/v2/token":
            rec["status"] = 404
            self.state.log(rec)
            return self._send(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})
        if basic is None:
            if self.state.args.no_anonymous:
                return self._unauth(rec)
            return self._issue(rec, "", q.get("service", [""])[0], rec["scopes"], False, False)
        user, pw = basic
        if user not in self.state.users or self.state.users[user] != pw:
            return self._unauth(rec)
        return self._issue(rec, user, q.get("service", [""])[0], rec["scopes"], True, False)

    def do_POST(self):
        u = urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        form = parse_qs(raw.decode(errors="replace"), keep_blank_values=True)
        basic = self._basic()
        rec = {"method": "POST", "path": u.path,
               "query": {k: v for k, v in form.items() if k in SAFE_QUERY_KEYS},
               "form_keys": sorted(form.keys()),
               "basic": basic is not None, "user": basic[0] if basic else None,
               "scopes": form.get("scope", [])}
        if u.path != "/v2/token" or not self.state.args.accept_post:
            rec["status"] = 404
            self.state.log(rec)
            return self._send(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})
        grant_type = form.get("grant_type", [""])[0]
        user = form.get("username", [""])[0]
        if grant_type == "refresh_token":
            ok = form.get("refresh_token", [""])[0] in self.state.users.values()
        elif grant_type == "password":
            ok = self.state.users.get(user) == form.get("password", [None])[0]
        else:
            ok = False
        if not ok:
            return self._unauth(rec)
        scopes = " ".join(form.get("scope", [])).split(" ")
        return self._issue(rec, user, form.get("service", [""])[0], scopes, True, True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--tls-cert", required=True, help="HTTPS server certificate (PEM)")
    ap.add_argument("--tls-key", required=True)
    ap.add_argument("--cert", required=True, help="JWT signing certificate (PEM, RSA)")
    ap.add_argument("--key", required=True, help="JWT signing key (PEM, RSA)")
    ap.add_argument("--issuer", default="idptest-token-issuer")
    ap.add_argument("--user", action="append", default=[], help="NAME:PASSWORD (repeatable)")
    ap.add_argument("--lifetime", type=int, default=3600)
    ap.add_argument("--first-tokens", type=int, default=0)
    ap.add_argument("--first-lifetime", type=int, default=-58)
    ap.add_argument("--expires-in", action="store_true",
                    help="add expires_in/issued_at to GET answers")
    ap.add_argument("--no-anonymous", action="store_true")
    ap.add_argument("--accept-post", action="store_true")
    ap.add_argument("--log")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    Handler.state = State(args)
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.tls_cert, args.tls_key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    print("token server listening on https://127.0.0.1:%d/v2/token" % port,
          file=sys.stderr, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
