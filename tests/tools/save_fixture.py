#!/usr/bin/env python3
"""save_fixture.py: build `docker save` streams and `docker image inspect`
answers from an OCI layout (tests/lib/image.sh make_oci_layout --oci), in
the exact shapes a docker save stream takes (legacy, OCI layout inside,
containerd store), for the plugin tests' fake `docker`:

  save_fixture.py oci-inside  LAYOUT NAME:TAG OUT.tar OUT.inspect.json
  save_fixture.py containerd  LAYOUT NAME:TAG OUT.tar OUT.inspect.json
  save_fixture.py inspect     LAYOUT OUT.inspect.json [ID]   (legacy: Id = config digest)
  save_fixture.py dup-layer   LAYOUT    (in place: the first layer repeated at the top)
  save_fixture.py new-top     LAYOUT SIZE   (in place: a new random top layer of SIZE bytes)
  save_fixture.py legacy-v1   LAYOUT NAME:TAG OUT.tar OUT.inspect.json [DIR]

legacy-v1: the graph-driver legacy shape as dockerd writes it:
<v1id>/{VERSION,json,layer.tar} (v1 ids derived from the chain, like
docker's), <config hex>.json, manifest.json, repositories. With DIR, the
first layer's directory is DIR instead (any bytes: a hostile daemon's
names, e.g. with escape codes).

oci-inside: blobs/sha256/<diffid> raw layer tars, the config, an OCI
manifest, unreferenced v1 JSON blobs, index.json, manifest.json (Layers =
blobs/sha256/<diffid>, LayerSources), oci-layout, repositories.
containerd: layers as stored (gzip), the manifest, an index listing a second
platform (linux/s390x) and an attestation manifest whose blobs are both
missing (Docker 29 exports only what its store holds), index.json,
manifest.json; inspect Id = the index digest. Tar members in lexical order,
as the daemon writes them.
"""
import gzip, hashlib, io, json, os, sys, tarfile


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def blob(layout, digest):
    with open(os.path.join(layout, "blobs", "sha256", digest.split(":")[1]), "rb") as f:
        return f.read()


def load(layout):
    idx = json.load(open(os.path.join(layout, "index.json")))
    mdig = idx["manifests"][0]["digest"]
    man = json.loads(blob(layout, mdig))
    cfg = blob(layout, man["config"]["digest"])
    layers = [blob(layout, l["digest"]) for l in man["layers"]]
    return man, cfg, layers


def write_tar(out, files):
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        for name in sorted(files):
            data = files[name]
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = 0
            t.addfile(ti, io.BytesIO(data))


def inspect(out, ident, cfg):
    c = json.loads(cfg)
    doc = [{"Id": ident, "RepoTags": [], "Os": c.get("os", "linux"),
            "Architecture": c["architecture"],
            "RootFS": {"Type": "layers", "Layers": c["rootfs"]["diff_ids"]}}]
    json.dump(doc, open(out, "w"))


def oci_inside(layout, name, out, insp):
    man, cfg, layers = load(layout)
    files = {}
    raws = [gzip.decompress(l) for l in layers]
    cdig = sha(cfg)
    files["blobs/sha256/" + cdig[7:]] = cfg
    descs = []
    for r in raws:
        files["blobs/sha256/" + sha(r)[7:]] = r
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar",
                      "digest": sha(r), "size": len(r)})
        v1 = json.dumps({"id": hashlib.sha256(r + b"v1").hexdigest(),
                         "created": "1970-01-01T00:00:00Z"}).encode()
        files["blobs/sha256/" + sha(v1)[7:]] = v1
    m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                               "digest": cdig, "size": len(cfg)},
                    "layers": descs}).encode()
    files["blobs/sha256/" + sha(m)[7:]] = m
    files["index.json"] = json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json",
         "digest": sha(m), "size": len(m), "annotations": {"io.containerd.image.name": name,
         "org.opencontainers.image.ref.name": name.split(":")[-1]}}]}).encode()
    files["manifest.json"] = json.dumps([{"Config": "blobs/sha256/" + cdig[7:], "RepoTags": [name],
        "Layers": ["blobs/sha256/" + sha(r)[7:] for r in raws],
        "LayerSources": {sha(r): d for r, d in zip(raws, descs)}}]).encode()
    files["oci-layout"] = b'{"imageLayoutVersion": "1.0.0"}'
    files["repositories"] = json.dumps(
        {name.split(":")[0]: {name.split(":")[-1]: sha(raws[-1])[7:]}}).encode()
    write_tar(out, files)
    inspect(insp, cdig, cfg)


def containerd(layout, name, out, insp):
    man, cfg, layers = load(layout)
    files = {}
    cdig = sha(cfg)
    files["blobs/sha256/" + cdig[7:]] = cfg
    for l in layers:
        files["blobs/sha256/" + sha(l)[7:]] = l
    m = json.dumps(man).encode()
    files["blobs/sha256/" + sha(m)[7:]] = m
    c = json.loads(cfg)
    index = json.dumps({"schemaVersion": 2,
                        "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": man["mediaType"], "digest": sha(m), "size": len(m),
         "platform": {"os": "linux", "architecture": c["architecture"]}},
        {"mediaType": man["mediaType"], "digest": sha(b"missing platform"), "size": 500,
         "platform": {"os": "linux", "architecture": "s390x"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json",
         "digest": sha(b"missing attestation"), "size": 300,
         "platform": {"os": "unknown", "architecture": "unknown"},
         "annotations": {"vnd.docker.reference.digest": sha(m),
                         "vnd.docker.reference.type": "attestation-manifest"}}]}).encode()
    files["blobs/sha256/" + sha(index)[7:]] = index
    files["index.json"] = json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.index.v1+json",
         "digest": sha(index), "size": len(index),
         "annotations": {"io.containerd.image.name": name}}]}).encode()
    files["manifest.json"] = json.dumps([{"Config": "blobs/sha256/" + cdig[7:], "RepoTags": [name],
        "Layers": ["blobs/sha256/" + sha(l)[7:] for l in layers]}]).encode()
    files["oci-layout"] = b'{"imageLayoutVersion": "1.0.0"}'
    write_tar(out, files)
    inspect(insp, sha(index), cfg)


def put(layout, data):
    d = sha(data)
    with open(os.path.join(layout, "blobs", "sha256", d[7:]), "wb") as f:
        f.write(data)
    return d


def store_image(layout, man, cfg):
    """Write config and manifest as blobs; point index.json's first entry at them."""
    man["config"]["digest"] = put(layout, cfg)
    man["config"]["size"] = len(cfg)
    m = json.dumps(man, separators=(",", ":")).encode()
    with open(os.path.join(layout, "index.json")) as f:
        idx = json.load(f)
    idx["manifests"][0]["digest"] = put(layout, m)
    idx["manifests"][0]["size"] = len(m)
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(idx, f, separators=(",", ":"))


def dup_layer(layout):
    man, cfg, _ = load(layout)
    c = json.loads(cfg)
    c["rootfs"]["diff_ids"].append(c["rootfs"]["diff_ids"][0])
    c.setdefault("history", [])
    cfg = json.dumps(c, separators=(",", ":")).encode()
    man["layers"].append(man["layers"][0])
    store_image(layout, man, cfg)


def new_top(layout, size):
    man, cfg, _ = load(layout)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        ti = tarfile.TarInfo("top.bin")
        data = os.urandom(int(size))
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    raw = buf.getvalue()
    gz = gzip.compress(raw, mtime=0)
    c = json.loads(cfg)
    c["rootfs"]["diff_ids"][-1] = sha(raw)
    cfg = json.dumps(c, separators=(",", ":")).encode()
    man["layers"][-1] = {"mediaType": man["layers"][-1]["mediaType"], "size": len(gz),
                         "digest": put(layout, gz)}
    store_image(layout, man, cfg)


def legacy_v1(layout, name, out, insp, first_dir=None):
    _, cfg, layers = load(layout)
    files, paths, parent = {}, [], ""
    cdig = sha(cfg)
    for i, l in enumerate(layers):
        raw = gzip.decompress(l)
        top = i == len(layers) - 1
        v1 = hashlib.sha256((parent + sha(raw) + (cdig if top else "")).encode()).hexdigest()
        if i == 0 and first_dir:
            v1 = first_dir
        j = {"id": v1, "created": "1970-01-01T00:00:00Z"}
        if parent:
            j["parent"] = parent
        files[v1 + "/VERSION"] = b"1.0"
        files[v1 + "/json"] = json.dumps(j).encode()
        files[v1 + "/layer.tar"] = raw
        paths.append(v1 + "/layer.tar")
        parent = v1
    files[cdig[7:] + ".json"] = cfg
    files["manifest.json"] = json.dumps([{"Config": cdig[7:] + ".json", "RepoTags": [name],
                                          "Layers": paths}]).encode()
    files["repositories"] = json.dumps({name.split(":")[0]: {name.split(":")[-1]: parent}}).encode()
    write_tar(out, files)
    inspect(insp, cdig, cfg)


def main(a):
    if a[0] == "dup-layer":
        return dup_layer(a[1])
    if a[0] == "new-top":
        return new_top(a[1], a[2])
    if a[0] == "legacy-v1":
        return legacy_v1(*a[1:6])
    if a[0] == "oci-inside":
        oci_inside(*a[1:5])
    elif a[0] == "containerd":
        containerd(*a[1:5])
    elif a[0] == "inspect":
        _, cfg, _ = load(a[1])
        inspect(a[2], a[3] if len(a) > 3 else sha(cfg), cfg)
    else:
        sys.exit("usage: save_fixture.py oci-inside|containerd|inspect ...")


if __name__ == "__main__":
    main(sys.argv[1:])
