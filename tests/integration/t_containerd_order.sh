#!/bin/bash
# tests/integration/t_containerd_order.sh: manifests go up in dependency
# order, so that a registry checking what a manifest refers to (OCI 1.1
# subjects, the children of an index) takes them: an OCI layout whose
# index lists an attestation manifest BEFORE the image manifest it is
# about (its `subject`, as newer BuildKit writes it), pushed as stored
# (idppush-containerd --oci-layout, every platform and attestation): the
# registry's log shows the image manifest put before the attestation, the
# index (the tag) last, and the pushed digest is the stored index's.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$top_srcdir/tests/lib/containerd_env.sh"
need docker-registry curl
[ -x "$CTD_ADAPTER" ] || fail "adapter not built: $CTD_ADAPTER"

HOSTL=$TEST_TMP/host
IMG=$(make_oci_layout "$HOSTL" --oci 20000 30000)
L=$TEST_TMP/layout
mkdir -p "$L/blobs/sha256"
cp "$HOSTL"/blobs/sha256/* "$L/blobs/sha256/"
read -r ATT IDX < <("$PYTHON" - "$L" "$IMG" <<'PY'
import hashlib, json, os, sys
d, img = sys.argv[1], sys.argv[2]
blobs = os.path.join(d, "blobs/sha256")
def put(raw):
    dg = "sha256:" + hashlib.sha256(raw).hexdigest()
    open(os.path.join(blobs, dg[7:]), "wb").write(raw)
    return {"digest": dg, "size": len(raw)}
OCI_M = "application/vnd.oci.image.manifest.v1+json"
stmt = put(b'{"_type":"https://in-toto.io/Statement/v0.1"}')
cfg = put(json.dumps({"architecture": "unknown", "os": "unknown", "config": {},
                      "rootfs": {"type": "layers", "diff_ids": [stmt["digest"]]}}).encode())
img_size = os.path.getsize(os.path.join(blobs, img[7:]))
att = put(json.dumps({
    "schemaVersion": 2, "mediaType": OCI_M,
    "config": dict(cfg, mediaType="application/vnd.oci.image.config.v1+json"),
    "layers": [dict(stmt, mediaType="application/vnd.in-toto+json")],
    "subject": {"mediaType": OCI_M, "digest": img, "size": img_size}}).encode())
arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
idx = put(json.dumps({
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [
        dict(att, mediaType=OCI_M, platform={"architecture": "unknown", "os": "unknown"},
             annotations={"vnd.docker.reference.type": "attestation-manifest",
                          "vnd.docker.reference.digest": img}),
        dict(mediaType=OCI_M, digest=img, size=img_size,
             platform={"architecture": arch, "os": "linux"})]}).encode())
top = dict(idx, mediaType="application/vnd.oci.image.index.v1+json",
           annotations={"org.opencontainers.image.ref.name": "v1"})
json.dump({"schemaVersion": 2, "manifests": [top]}, open(os.path.join(d, "index.json"), "w"))
open(os.path.join(d, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
print(att["digest"], idx["digest"])
PY
) || fail "cannot write the layout"

start_registry plain
export XDG_CACHE_HOME=$TEST_TMP/cache
assert_exit 0 run_ctd --oci-layout "$L:v1" --all-platforms --keep-attestations --plain-http \
	"$REG_HOST/order/app:v1"
assert_eq "$REG_HOST/order/app:v1@$IDX" "$LAST_OUT" "pushed digest = the stored index's"
# the manifest PUTs, in the order the registry took them
reg_log_requests PUT /v2/order/app/manifests/ | sed -E 's|.*/manifests/([^ ]*) HTTP.*|\1|' \
	>"$TEST_TMP/puts"
assert_eq "$IMG $ATT v1" "$(tr '\n' ' ' <"$TEST_TMP/puts" | sed 's/ $//')" \
	"manifests put: the image, its attestation (subject: the image), the index"
log "PASS"
