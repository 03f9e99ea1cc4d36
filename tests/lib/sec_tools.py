#!/usr/bin/env python3
"""tests/lib/sec_tools.py: helpers of the security tests (t_sec_*.sh).

  sec_tools.py tarsplit OUT.json.gz LAYERDIR TARNAME=PATH...
      A tar-split (the JSON lines, gzipped, dockerd keeps per layer in
      layerdb/sha256/<chain>/tar-split.json.gz; common/sources/tarsplit.c
      reads them) for a tar whose members are TARNAME, each with the
      content of the file PATH: a segment with the member's header, a file
      entry naming PATH relative to LAYERDIR with PATH's size (from stat),
      a segment with the padding; the end-of-archive blocks last. PATH need
      not be readable by the caller (only its size is taken).

  sec_tools.py check-uploads DIR NEEDLE-FILE...
      DIR holds request bodies as tests/lib/hostile_registry.py --record
      keeps them (<n>.<METHOD>.<upload id or ->). For every upload id the
      bodies are joined in order; each NEEDLE (a file's bytes) is looked for
      in that joined upload as it is, gunzipped (as far as it goes: an
      upload cut short still gives what it had) and zstd-decompressed; and
      in every single body, raw. Prints one line per find; exit 1 when
      something was found, 0 when nothing.

  sec_tools.py config-digest MANIFEST-FILE
      The config digest a manifest names.
"""
import base64
import gzip
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import zlib


def tarsplit(out, layer_dir, members):
    lines = []
    pos = 0

    def seg(data):
        nonlocal pos
        lines.append({"type": 2, "payload": base64.b64encode(data).decode(), "position": pos})
        pos += 1

    for m in members:
        name, path = m.split("=", 1)
        size = os.stat(path).st_size
        ti = tarfile.TarInfo(name)
        ti.size = size
        ti.mtime = 0
        ti.mode = 0o644
        seg(ti.tobuf(format=tarfile.GNU_FORMAT))
        lines.append({"type": 1, "name": os.path.relpath(path, layer_dir), "size": size,
                      "payload": None, "position": pos})
        pos += 1
        if size % 512:
            seg(b"\0" * (512 - size % 512))
    seg(b"\0" * 1024)
    data = "".join(json.dumps(l, separators=(",", ":")) + "\n" for l in lines).encode()
    with open(out, "wb") as f:
        f.write(gzip.compress(data, mtime=0))


def gunzip_partial(data):
    """What a gzip stream (several members allowed) gives, even cut short."""
    out = io.BytesIO()
    while data[:2] == b"\x1f\x8b":
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out.write(d.decompress(data))
        except zlib.error:
            break
        data = d.unused_data
    return out.getvalue()


def unzstd_partial(data):
    if data[:4] != b"\x28\xb5\x2f\xfd":
        return b""
    try:
        p = subprocess.run(["zstd", "-dcq"], input=data, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, check=False)
    except OSError:
        return b""
    return p.stdout


def check_uploads(d, needles):
    bodies = []
    for name in os.listdir(d):
        m = re.match(r"^(\d+)\.([A-Z]+)\.(.+)$", name)
        if m:
            bodies.append((int(m.group(1)), m.group(2), m.group(3), name))
    bodies.sort()
    uploads = {}
    found = 0
    for _, method, upload, name in bodies:
        with open(os.path.join(d, name), "rb") as f:
            data = f.read()
        for nf, needle in needles:
            if needle in data:
                found += 1
                print("%s body %s holds %s as it is" % (method, name, nf))
        if upload != "-":
            uploads.setdefault(upload, []).append(data)
    for upload, parts in sorted(uploads.items()):
        whole = b"".join(parts)
        views = (("as sent", whole), ("gunzipped", gunzip_partial(whole)),
                 ("zstd-decompressed", unzstd_partial(whole)))
        for nf, needle in needles:
            for how, view in views:
                at = view.find(needle)
                if at >= 0:
                    found += 1
                    print("upload %s (%d requests, %d bytes) holds %s %s, at byte %d" %
                          (upload, len(parts), len(whole), nf, how, at))
    print("%d request bodies, %d uploads looked at" % (len(bodies), len(uploads)),
          file=sys.stderr)
    return 1 if found else 0


def main(a):
    if a and a[0] == "tarsplit" and len(a) >= 4:
        return tarsplit(a[1], a[2], a[3:])
    if a and a[0] == "check-uploads" and len(a) >= 3:
        needles = []
        for nf in a[2:]:
            with open(nf, "rb") as f:
                needles.append((os.path.basename(nf), f.read()))
        return check_uploads(a[1], needles)
    if a and a[0] == "config-digest" and len(a) == 2:
        with open(a[1]) as f:
            print(json.load(f)["config"]["digest"])
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
