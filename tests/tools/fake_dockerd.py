#!/usr/bin/env python3
"""fake_dockerd.py: a stand-in Docker engine API on a unix socket, enough
for `docker image ls` (the plugin's image-name completion): /_ping and
/vX.Y/images/json answer with the images of a JSON file, each
{"RepoTags": [...], "RepoDigests": [...]} (ids and sizes are made up).
With --info FILE, GET /info answers FILE's JSON object (a daemon's
Driver, DockerRootDir...); with --inspect DIR, GET /images/NAME/json
answers DIR/<NAME with '/' and ':' as '_'>.inspect.json (the first object
when it holds the CLI's array), else 404 "No such image".
Every request line is appended to SOCKET.log.
Usage: fake_dockerd.py SOCKET IMAGES.json [--info FILE] [--inspect DIR]
"""
import http.server
import json
import os
import re
import socketserver
import sys

API = "1.47"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def address_string(self):
        return "unix"

    def log_message(self, fmt, *args):
        with open(self.server.log, "a") as f:
            f.write((fmt % args) + "\n")

    def reply(self, code, body, ctype="application/json"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("API-Version", API)
        self.send_header("Server", "fake-dockerd")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/_ping" or path.endswith("/_ping"):
            return self.reply(200, "OK", "text/plain")
        if path.endswith("/images/json"):
            return self.reply(200, json.dumps(self.server.images()))
        if path.endswith("/info") and self.server.info_file:
            with open(self.server.info_file) as f:
                return self.reply(200, f.read())
        m = re.match(r"^(?:/v[0-9.]+)?/images/(.+)/json$", path)
        if m and self.server.inspect_dir:
            return self.inspect(m.group(1))
        if path.endswith("/version"):
            return self.reply(200, json.dumps({"ApiVersion": API, "Version": "28.0.0",
                                               "MinAPIVersion": "1.24", "Os": "linux"}))
        self.reply(404, json.dumps({"message": "fake dockerd: no " + path}))

    def inspect(self, name):
        key = name.replace("/", "_").replace(":", "_")
        f = os.path.join(self.server.inspect_dir, key + ".inspect.json")
        if "/." in "/" + key or not os.path.isfile(f):
            return self.reply(404, json.dumps({"message": "No such image: " + name}))
        with open(f) as fh:
            doc = json.load(fh)
        self.reply(200, json.dumps(doc[0] if isinstance(doc, list) else doc))


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def images(self):
        with open(self.images_file) as f:
            listed = json.load(f)
        out = []
        for i, img in enumerate(listed):
            out.append({"Id": "sha256:%064x" % (i + 1), "ParentId": "", "Created": 1700000000,
                        "Size": 1000, "SharedSize": -1, "VirtualSize": 1000, "Labels": {},
                        "Containers": -1, "RepoTags": img.get("RepoTags"),
                        "RepoDigests": img.get("RepoDigests")})
        return out


def main():
    sock, images = sys.argv[1], sys.argv[2]
    opts = dict(zip(sys.argv[3::2], sys.argv[4::2]))
    if os.path.exists(sock):
        os.unlink(sock)
    srv = Server(sock, Handler)
    srv.images_file = images
    srv.info_file = opts.get("--info")
    srv.inspect_dir = opts.get("--inspect")
    srv.log = sock + ".log"
    srv.serve_forever()


if __name__ == "__main__":
    main()
