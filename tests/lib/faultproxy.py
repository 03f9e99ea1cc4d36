#!/usr/bin/env python3
"""tests/lib/faultproxy.py: a fault-injecting TCP proxy for plain-HTTP tests.

Listens on 127.0.0.1 and forwards every connection to --upstream HOST:PORT.
It follows the HTTP/1.1 request framing on each client connection
(Content-Length and chunked bodies) and, for the
FIRST request whose request line matches --match (a Python regex, e.g.
'^PATCH ') and whose body is longer than --cut-after, forwards the head plus
exactly --cut-after bytes of its body and then aborts both the client and
the upstream connection (RST to the client).
That happens once (or --times N; --skip N lets the first N matching requests
through first); everything else is forwarded untouched.

--delay-ms N holds every matching request N ms before forwarding it (with
--times 0 nothing is cut): a slow link, so that a test can act while an
upload is in flight.

--rate BYTES forwards the bodies of matching requests at about BYTES per
second (and keeps its receive buffer small, so the client's sends follow):
a slow link all along an upload, for watching its progress.

--drop-response sends the whole matching request whose body is longer
than --cut-after (on a connection of its own) and, once the upstream has
answered, resets the client without passing the answer on: the request
took effect, the client never learns it (a reply lost on the way back).

--abort-upstream makes a cut reset the upstream connection too: without it
the upstream socket stays open (its reader thread keeps it alive), so the
upstream waits for the rest of the body.

Host header is passed through unchanged, so the registry's absolute Location
URLs point at the proxy.

  --port 0 --port-file F : the chosen port is written to F once listening.
  --log F                : one line per event (conn, request, CUT, ...).
"""

import argparse
import re
import socket
import sys
import threading
import time

LOCK = threading.Lock()


class Cfg:
    pass


def log(msg):
    line = "%.3f %s" % (time.time(), msg)
    with LOCK:
        if Cfg.logf:
            Cfg.logf.write(line + "\n")
            Cfg.logf.flush()
        else:
            print(line, file=sys.stderr, flush=True)


def claim_cut(reqline):
    with LOCK:
        if Cfg.remaining > 0 and Cfg.match.search(reqline):
            if Cfg.skip > 0:
                Cfg.skip -= 1
                return False
            Cfg.remaining -= 1
            return True
    return False


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def abort(sock):
    try:
        import struct
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class Conn:
    def __init__(self, client, cid):
        self.c = client
        self.cid = cid
        self.buf = b""
        self.u = socket.create_connection(Cfg.upstream)

    def read_more(self):
        data = self.c.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def run(self):
        t = threading.Thread(target=pump, args=(self.u, self.c), daemon=True)
        t.start()
        try:
            self.requests()
        except EOFError:
            try:
                self.u.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        except OSError as e:
            log("conn %d: %s" % (self.cid, e))
        t.join(timeout=600)
        for s in (self.c, self.u):
            try:
                s.close()
            except OSError:
                pass

    def body(self, n, sink):
        """Pass the next n body bytes of the client's request to sink."""
        while n > 0:
            if not self.buf:
                self.read_more()
            take = self.buf[:n]
            self.buf = self.buf[len(take):]
            sink(take)
            n -= len(take)

    def line(self):
        """The next line of the client's request, with its CRLF."""
        while b"\r\n" not in self.buf:
            if len(self.buf) > 4096:
                raise EOFError
            self.read_more()
        end = self.buf.index(b"\r\n") + 2
        ln, self.buf = self.buf[:end], self.buf[end:]
        return ln

    def chunked(self, sink):
        """Pass a chunked body (its framing, its last chunk and trailers) to sink."""
        while True:
            ln = self.line()
            sink(ln)
            size = int(ln.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                break
            self.body(size + 2, sink)   # the data and its CRLF
        while True:
            ln = self.line()
            sink(ln)
            if ln == b"\r\n":
                return

    def throttled(self, sink):
        """sink, fed at about Cfg.rate bytes per second from the first byte."""
        state = {"t0": None, "sent": 0}

        def feed(data):
            if state["t0"] is None:
                state["t0"] = time.monotonic()
            for i in range(0, len(data), 16384):
                piece = data[i:i + 16384]
                due = state["t0"] + state["sent"] / Cfg.rate
                now = time.monotonic()
                if due > now:
                    time.sleep(due - now)
                sink(piece)
                state["sent"] += len(piece)
        return feed

    def answer(self, reqline, clen):
        """Answer the request ourselves with Cfg.respond (e.g. 503), body read and dropped."""
        self.body(clen, lambda data: None)
        body = b'{"errors":[{"code":"UNAVAILABLE","message":"injected by faultproxy"}]}'
        extra = "Retry-After: %d\r\n" % Cfg.retry_after if Cfg.retry_after >= 0 else ""
        self.c.sendall(("HTTP/1.1 %d Injected\r\nContent-Type: application/json\r\n%s"
                        "Content-Length: %d\r\n\r\n"
                        % (Cfg.respond, extra, len(body))).encode() + body)
        log("conn %d: ANSWERED %s with %d" % (self.cid, reqline, Cfg.respond))

    def drop_response(self, reqline, head, clen):
        """The whole request upstream on a connection of its own; its answer
        read and dropped; the client reset."""
        u2 = socket.create_connection(Cfg.upstream)
        try:
            u2.sendall(head + b"\r\n\r\n")
            self.body(clen, u2.sendall)
            answer = u2.recv(65536)
        finally:
            u2.close()
        log("conn %d: DROPPED the answer to %s (%s)" % (
            self.cid, reqline, answer.split(b"\r\n", 1)[0].decode("latin-1")))
        abort(self.c)
        raise EOFError

    def requests(self):
        while True:
            while b"\r\n\r\n" not in self.buf:
                self.read_more()
            head, _, rest = self.buf.partition(b"\r\n\r\n")
            self.buf = rest
            lines = head.decode("latin-1").split("\r\n")
            reqline = lines[0]
            hdrs = {}
            for ln in lines[1:]:
                k, _, v = ln.partition(":")
                hdrs[k.strip().lower()] = v.strip()
            clen = int(hdrs.get("content-length", "0") or 0)
            chunked = "chunked" in hdrs.get("transfer-encoding", "").lower()
            if Cfg.delay_ms and Cfg.match.search(reqline):
                log("conn %d: DELAY %s by %d ms" % (self.cid, reqline, Cfg.delay_ms))
                time.sleep(Cfg.delay_ms / 1000.0)
            if Cfg.respond and claim_cut(reqline):
                self.answer(reqline, clen)
                continue
            if Cfg.drop and not chunked and clen > Cfg.cut_after and claim_cut(reqline):
                self.drop_response(reqline, head, clen)
            # only a body longer than the cut point can be cut in the middle
            cut = not Cfg.drop and (chunked or clen > Cfg.cut_after) and claim_cut(reqline)
            log("conn %d: %s (content-length %s%s)%s" % (
                self.cid, reqline, clen, ", chunked" if chunked else "",
                " -> will CUT" if cut else ""))
            self.u.sendall(head + b"\r\n\r\n")
            if cut:
                self.body(Cfg.cut_after, self.u.sendall)
                sent = Cfg.cut_after
                if Cfg.stall:
                    # hold the connection open, forwarding nothing more
                    log("conn %d: STALL %s after %d body bytes" % (self.cid, reqline, sent))
                    while True:  # read nothing: the client's sends block
                        time.sleep(3600)
                log("conn %d: CUT %s after %d body bytes" % (self.cid, reqline, sent))
                time.sleep(0.05)  # let the upstream read what was sent
                abort(self.c)
                if Cfg.abort_upstream:
                    try:  # wakes the pump thread's recv, so that close really closes
                        self.u.shutdown(socket.SHUT_RD)
                    except OSError:
                        pass
                abort(self.u)
                raise EOFError
            slow = Cfg.rate and Cfg.match.search(reqline)
            sink = self.throttled(self.u.sendall) if slow else self.u.sendall
            if chunked:
                self.chunked(sink)
            else:
                self.body(clen, sink)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--upstream", required=True, help="HOST:PORT")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--match", default="^PATCH ")
    ap.add_argument("--cut-after", type=int, default=65536,
                    help="body bytes to pass before cutting")
    ap.add_argument("--times", type=int, default=1)
    ap.add_argument("--skip", type=int, default=0, help="let the first N matching requests through")
    ap.add_argument("--stall", action="store_true",
                    help="instead of cutting, hold the connection open and forward nothing more")
    ap.add_argument("--respond", type=int, default=0,
                    help="answer matching requests with this HTTP status instead of forwarding")
    ap.add_argument("--retry-after", type=int, default=-1,
                    help="Retry-After seconds with --respond")
    ap.add_argument("--delay-ms", type=int, default=0,
                    help="hold every matching request this long before forwarding it")
    ap.add_argument("--rate", type=int, default=0,
                    help="forward the bodies of matching requests at this many bytes a second")
    ap.add_argument("--drop-response", action="store_true",
                    help="send matching requests, then reset the client instead of answering")
    ap.add_argument("--abort-upstream", action="store_true",
                    help="on a cut, reset the upstream connection as well")
    ap.add_argument("--log")
    a = ap.parse_args()
    host, _, port = a.upstream.rpartition(":")
    Cfg.upstream = (host, int(port))
    Cfg.match = re.compile(a.match)
    Cfg.cut_after = a.cut_after
    Cfg.remaining = a.times
    Cfg.skip = a.skip
    Cfg.stall = a.stall
    Cfg.respond = a.respond
    Cfg.retry_after = a.retry_after
    Cfg.delay_ms = a.delay_ms
    Cfg.rate = a.rate
    Cfg.abort_upstream = a.abort_upstream
    Cfg.drop = a.drop_response
    Cfg.logf = open(a.log, "a") if a.log else None

    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if a.rate:  # accepted sockets inherit it: the client cannot run far ahead
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    ls.bind(("127.0.0.1", a.port))
    ls.listen(64)
    p = ls.getsockname()[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % p)
        import os
        os.rename(a.port_file + ".tmp", a.port_file)
    log("listening on 127.0.0.1:%d -> %s, cut %r after %d body bytes x%d (skip %d)" % (
        p, a.upstream, a.match, a.cut_after, a.times, a.skip))
    cid = 0
    while True:
        c, _ = ls.accept()
        cid += 1
        try:
            conn = Conn(c, cid)
        except OSError as e:
            log("conn %d: upstream connect failed: %s" % (cid, e))
            abort(c)
            continue
        threading.Thread(target=conn.run, daemon=True).start()


if __name__ == "__main__":
    main()
