#!/bin/bash
# tests/integration/t_dockerd_ctd_harness.sh: checks tests/lib/dockerd_ctd.sh,
# the private dockerd 26 (Debian 13's) on the containerd image store, and
# pins down what that store looks like, without idppush:
#   - GET /info names the containerd snapshotter (DriverStatus driver-type
#     io.containerd.snapshotter.v1, Driver overlayfs, DockerRootDir); dockerd
#     26 (API 1.45) has no Containerd field (a newer one: its address and
#     namespaces must be this harness's);
#   - `docker build` (BuildKit, COPY only) stores an OCI index: the image ID
#     is its digest, its blob is in <containerd root>/io.containerd.content.v1
#     .content/blobs/sha256/, it lists the image manifest and an attestation
#     manifest (vnd.docker.reference.type attestation-manifest, in-toto layer);
#   - `docker push` to a loopback registry pushes that digest (skopeo), the
#     attestation too; after a rebuild (one COPY'd file changed) the unchanged
#     layer is not uploaded again; a push of nothing new uploads no blob;
#   - `docker save` writes an OCI layout whose index.json points at the index
#     (not the manifest), blobs as stored (attestation included), and a
#     manifest.json;
#   - `docker load` of a docker-archive and of an OCI layout tar with
#     uncompressed layers keeps them uncompressed (the digest is the diffID),
#     and docker push pushes them so;
#   - a non-root user in the socket's group uses the daemon (docker push);
#     one outside it cannot; neither can read containerd's root;
#   - dockerd_ctd_stop stops both daemons and leaves no mount behind;
#   - --managed: dockerd's own containerd keeps the store under
#     <DockerRootDir>/containerd/daemon, and /opt stays untouched.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/dockerd_ctd.sh"
need skopeo docker-registry curl tar
need_dockerd_ctd
dkc_test_user
# shellcheck disable=SC2119 # no --group: the test user's docker group
dockerd_ctd_start

# ---- versions, GET /info ----
api() { curl -sS --max-time 20 --unix-socket "$DKC_SOCK" -o "$2" -w '%{http_code}' "http://d$1"; }
assert_eq 200 "$(api /version "$TEST_TMP/version.json")" "GET /version"
assert_eq 200 "$(api /info "$TEST_TMP/info.json")" "GET /info"
"$PYTHON" - "$TEST_TMP/version.json" "$TEST_TMP/info.json" "$DKC_ROOT" "$DKC_CTD_SOCK" \
	"$DKC_NS" >"$TEST_TMP/info.txt" <<'PY' || fail "GET /info: not the containerd store"
import json, sys
ver = json.load(open(sys.argv[1]))
info = json.load(open(sys.argv[2]))
root, sock, ns = sys.argv[3:6]
print("version", ver["Version"], "api", ver["ApiVersion"])
assert ver["Version"].startswith("26."), ver["Version"]
assert ["driver-type", "io.containerd.snapshotter.v1"] in info["DriverStatus"], info["DriverStatus"]
assert info["Driver"] == "overlayfs", info["Driver"]
assert info["DockerRootDir"] == root, info["DockerRootDir"]
c = info.get("Containerd")
print("Driver", info["Driver"], "DriverStatus", json.dumps(info["DriverStatus"]),
      "Containerd", json.dumps(c))
if int(ver["Version"].split(".")[0]) < 27:
    assert c is None, "API %s has a Containerd field: %r" % (ver["ApiVersion"], c)
else:
    assert c["Address"] == sock, c
    assert c["Namespaces"] == {"Containers": ns, "Plugins": "plugins." + ns}, c
PY
log "$(tr '\n' ' ' <"$TEST_TMP/info.txt")"
# API 1.46 (where Containerd appeared) is too new for dockerd 26
assert_eq 400 "$(api /v1.46/info "$TEST_TMP/info146.json")" "GET /v1.46/info on dockerd 26"

# ---- docker build: an OCI index with an attestation ----
BLOBS=$DKC_CTD_ROOT/io.containerd.content.v1.content/blobs/sha256
CTX=$TEST_TMP/ctx
dkc_context "$CTX" 1000 300000
ID=$(dkc_build idptest/app:v1 "$CTX")
F=$(dkc_blob_file "$ID")
[ -f "$F" ] || fail "image ID $ID is not a blob in $BLOBS"
assert_eq "$ID" "sha256:$(sha256_file "$F")" "sha256 of the blob named by the image ID"
assert_eq 444 "$(stat -c %a "$F")" "mode of a content-store blob"
assert_eq "$ID" "$("${DKC_CTR[@]}" -n "$DKC_NS" images ls |
	awk '$1 == "docker.io/idptest/app:v1" { print $3 }')" "containerd's idptest/app:v1"
# check_index BLOBDIR INDEX-DIGEST: prints "image-manifest attestation-manifest
# layer-digests..."; every blob they name is there with the sha256 its name says
check_index() {
	"$PYTHON" - "$@" "$(_host_goarch)" <<'PY'
import hashlib, json, os, sys
blobs, top, arch = sys.argv[1], sys.argv[2], sys.argv[3]
def blob(d, mt=None):
    raw = open(os.path.join(blobs, d[7:]), "rb").read()
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == d, d
    return raw
idx = json.loads(blob(top))
assert idx["mediaType"] == "application/vnd.oci.image.index.v1+json", idx["mediaType"]
assert len(idx["manifests"]) == 2, idx["manifests"]
img = [m for m in idx["manifests"] if m.get("platform") == {"architecture": arch, "os": "linux"}]
att = [m for m in idx["manifests"]
       if m.get("annotations", {}).get("vnd.docker.reference.type") == "attestation-manifest"]
assert len(img) == 1 and len(att) == 1, idx
img, att = img[0], att[0]
assert att["annotations"]["vnd.docker.reference.digest"] == img["digest"], att
assert att["platform"] == {"architecture": "unknown", "os": "unknown"}, att
m = json.loads(blob(img["digest"]))
blob(m["config"]["digest"])
for l in m["layers"]:
    assert l["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip", l
    blob(l["digest"])
a = json.loads(blob(att["digest"]))
assert [l["mediaType"] for l in a["layers"]] == ["application/vnd.in-toto+json"], a
blob(a["layers"][0]["digest"])
blob(a["config"]["digest"])
print(img["digest"], att["digest"], *[l["digest"] for l in m["layers"]])
PY
}
read -r IMG ATT L1 L2 < <(check_index "$BLOBS" "$ID") || fail "the stored index of $ID"
[ -n "$L2" ] || fail "two COPY steps gave fewer than two layers"
log "built $ID: image manifest $IMG, attestation $ATT"

# ---- docker push: the digest is the image ID ----
start_registry plain
R=$REG_HOST/idptest/app
dkc tag idptest/app:v1 "$R:v1"
assert_exit 0 dkc push "$R:v1"
assert_contains "$LAST_OUT" "v1: digest: $ID "
skopeo_run inspect --raw --tls-verify=false "docker://$R:v1" >"$TEST_TMP/raw" ||
	fail "skopeo inspect $R:v1"
assert_eq "$ID" "sha256:$(sha256_file "$TEST_TMP/raw")" "sha256 of the manifest served for $R:v1"
cmp -s "$F" "$TEST_TMP/raw" || fail "the registry serves other bytes than the stored index"
assert_eq "$ID" "$(reg_tag_digest idptest/app v1)" "registry tag link"
skopeo_run inspect --raw --tls-verify=false "docker://$R@$ATT" >"$TEST_TMP/att" ||
	fail "the attestation manifest was not pushed"
assert_eq "$ATT" "sha256:$(sha256_file "$TEST_TMP/att")" "sha256 of the attestation manifest"
reg_blob_linked idptest/app "$L2" || fail "layer $L2 not pushed"

# ---- docker save: shape of the OCI layout tar ----
dkc save -o "$TEST_TMP/save.tar" idptest/app:v1 || fail "docker save"
tar -tf "$TEST_TMP/save.tar" | sort >"$TEST_TMP/save.list"
log "docker save: $(tr '\n' ' ' <"$TEST_TMP/save.list")"
mkdir "$TEST_TMP/save"
tar -C "$TEST_TMP/save" -xf "$TEST_TMP/save.tar"
"$PYTHON" - "$TEST_TMP/save" "$ID" "$IMG" "$ATT" <<'PY' || fail "docker save's layout"
import hashlib, json, os, sys
d, top, img, att = sys.argv[1:5]
assert json.load(open(os.path.join(d, "oci-layout"))) == {"imageLayoutVersion": "1.0.0"}
idx = json.load(open(os.path.join(d, "index.json")))
assert len(idx["manifests"]) == 1, idx
e = idx["manifests"][0]
# index.json points at the stored index, not at the platform's manifest
assert e["digest"] == top and e["mediaType"] == "application/vnd.oci.image.index.v1+json", e
ann = e["annotations"]
assert ann["io.containerd.image.name"] == "docker.io/idptest/app:v1", ann
assert ann["org.opencontainers.image.ref.name"] == "v1", ann
names = set(os.listdir(os.path.join(d, "blobs/sha256")))
for n in names:
    raw = open(os.path.join(d, "blobs/sha256", n), "rb").read()
    assert hashlib.sha256(raw).hexdigest() == n, n
man = json.load(open(os.path.join(d, "blobs/sha256", img[7:])))
a = json.load(open(os.path.join(d, "blobs/sha256", att[7:])))
want = {top, img, att, man["config"]["digest"], a["config"]["digest"]}
want |= {l["digest"] for l in man["layers"] + a["layers"]}
assert {"sha256:" + n for n in names} == want, (names, want)
mj = json.load(open(os.path.join(d, "manifest.json")))
assert mj == [{"Config": "blobs/sha256/" + man["config"]["digest"][7:],
               "RepoTags": ["idptest/app:v1"],
               "Layers": ["blobs/sha256/" + l["digest"][7:] for l in man["layers"]]}], mj
PY

# ---- rebuild with one COPY'd file changed, then a push of nothing new ----
puts() { reg_log_requests PUT "/v2/idptest/app/blobs/uploads/" | wc -l; }
head -c 300000 /dev/urandom >"$CTX/f2.bin"
ID2=$(dkc_build idptest/app:v1 "$CTX")
[ "$ID2" != "$ID" ] || fail "a rebuild with a changed file kept image ID $ID"
read -r _ _ M1 M2 < <(check_index "$BLOBS" "$ID2") || fail "the stored index of $ID2"
assert_eq "$L1" "$M1" "the unchanged COPY layer after the rebuild"
[ "$M2" != "$L2" ] || fail "the changed COPY layer kept its digest"
dkc tag idptest/app:v1 "$R:v1"
n0=$(puts)
assert_exit 0 dkc push "$R:v1"
assert_contains "$LAST_OUT" "v1: digest: $ID2 "
skopeo_run inspect --raw --tls-verify=false "docker://$R:v1" >"$TEST_TMP/raw2" ||
	fail "skopeo inspect $R:v1"
assert_eq "$ID2" "sha256:$(sha256_file "$TEST_TMP/raw2")" "sha256 of the rebuilt index served"
n1=$(puts)
# (the access log has the digest parameter URL-encoded)
assert_eq 1 "$(reg_log_requests PUT "/v2/idptest/app/blobs/uploads/.*digest=sha256(%3A|:)${L1#*:}" |
	wc -l)" "uploads of the unchanged layer $L1"
[ "$n1" -gt "$n0" ] || fail "the rebuild's push uploaded no blob"
assert_exit 0 dkc push "$R:v1"
assert_contains "$LAST_OUT" "v1: digest: $ID2 "
assert_eq "$n1" "$(puts)" "blob uploads of a push of nothing new"

# ---- docker load of uncompressed layers ----
# a docker-archive (as `docker save` of dockerd 20.10 writes): layer.tar
LA=$TEST_TMP/load
mkdir -p "$LA/data" "$LA/arch"
head -c 300000 /dev/urandom >"$LA/data/payload.bin"
tar --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$LA/data" -cf "$LA/layer.tar" payload.bin
DIFF=sha256:$(sha256_file "$LA/layer.tar")
fmt='{"architecture":"%s","os":"linux","config":{},'
fmt+='"rootfs":{"type":"layers","diff_ids":["%s"]}}'
# shellcheck disable=SC2059 # the format is built above
printf "$fmt" "$(_host_goarch)" "$DIFF" >"$LA/config.json"
CFG=sha256:$(sha256_file "$LA/config.json")
mkdir "$LA/arch/${DIFF#sha256:}"
cp "$LA/layer.tar" "$LA/arch/${DIFF#sha256:}/layer.tar"
cp "$LA/config.json" "$LA/arch/${CFG#sha256:}.json"
printf '[{"Config":"%s.json","RepoTags":["idptest/loaded:v1"],"Layers":["%s/layer.tar"]}]' \
	"${CFG#sha256:}" "${DIFF#sha256:}" >"$LA/arch/manifest.json"
tar -C "$LA/arch" -cf "$LA/archive.tar" .
assert_exit 0 dkc load -i "$LA/archive.tar"
ID3=$(dkc image inspect -f '{{.Id}}' idptest/loaded:v1)
F3=$(dkc_blob_file "$ID3")
[ -f "$F3" ] || fail "loaded image ID $ID3 is not a blob"
assert_eq "$ID3" "sha256:$(sha256_file "$F3")" "sha256 of the loaded image's manifest"
assert_contains "$(cat "$F3")" \
	"{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar\",\"digest\":\"$DIFF\""
cmp -s "$LA/layer.tar" "$(dkc_blob_file "$DIFF")" || fail "the loaded layer is not stored as is"
dkc tag idptest/loaded:v1 "$REG_HOST/idptest/loaded:v1"
assert_exit 0 dkc push "$REG_HOST/idptest/loaded:v1"
assert_contains "$LAST_OUT" "v1: digest: $ID3 "
cmp -s "$LA/layer.tar" \
	"$REG_DATA/docker/registry/v2/blobs/sha256/${DIFF:7:2}/${DIFF#sha256:}/data" ||
	fail "docker push did not push the uncompressed layer as stored"
# an OCI layout tar with an uncompressed layer and io.containerd.image.name
LO=$TEST_TMP/oci
mkdir -p "$LO/blobs/sha256"
cp "$LA/layer.tar" "$LO/blobs/sha256/${DIFF#sha256:}"
cp "$LA/config.json" "$LO/blobs/sha256/${CFG#sha256:}"
fmt='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
fmt+='"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},'
fmt+='"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}'
# shellcheck disable=SC2059 # the format is built above
printf "$fmt" "$CFG" "$(stat -c %s "$LA/config.json")" "$DIFF" "$(stat -c %s "$LA/layer.tar")" \
	>"$LO/m.json"
M=sha256:$(sha256_file "$LO/m.json")
MS=$(stat -c %s "$LO/m.json")
mv "$LO/m.json" "$LO/blobs/sha256/${M#sha256:}"
printf '{"imageLayoutVersion":"1.0.0"}' >"$LO/oci-layout"
oci_index() { # ANNOTATIONS-JSON: index.json naming the manifest with them
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",'
	printf '"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",'
	printf '"digest":"%s","size":%s,"annotations":%s}]}' "$M" "$MS" "$1"
}
oci_index '{"io.containerd.image.name":"docker.io/idptest/ociload:v1",
	"org.opencontainers.image.ref.name":"v1"}' >"$LO/index.json"
tar -C "$LO" -cf "$TEST_TMP/oci.tar" oci-layout index.json blobs
assert_exit 0 dkc load -i "$TEST_TMP/oci.tar"
assert_contains "$LAST_OUT" "Loaded image: idptest/ociload:v1"
assert_eq "$M" "$(dkc image inspect -f '{{.Id}}' idptest/ociload:v1)" "ID of the loaded OCI image"
cmp -s "$LA/layer.tar" "$(dkc_blob_file "$DIFF")" || fail "the OCI layer is not stored as is"
# without io.containerd.image.name, a bare ref.name becomes a containerd
# image named just that ("v1"), which docker reports as v1:latest and then
# cannot find
oci_index '{"org.opencontainers.image.ref.name":"v1"}' >"$LO/index.json"
tar -C "$LO" -cf "$TEST_TMP/oci2.tar" oci-layout index.json blobs
assert_exit 0 dkc load -i "$TEST_TMP/oci2.tar"
assert_contains "$LAST_OUT" "Loaded image: v1:latest"
assert_exit 1 dkc image inspect v1:latest
"${DKC_CTR[@]}" -n "$DKC_NS" images ls -q | grep -qx v1 || fail "no containerd image 'v1'"

# ---- a non-root user in the socket's group ----
assert_eq "root:$DKC_GROUP 660" "$(stat -c '%U:%G %a' "$DKC_SOCK")" "the API socket"
uid=$(dkc_as_user id -u)
[ "$uid" != 0 ] || fail "dkc_as_user ran as root"
assert_exit 0 dkc_user version -f '{{.Server.Version}}'
assert_exit 0 dkc_user push "$R:v1"
assert_contains "$LAST_OUT" "v1: digest: $ID2 "
dkc_user tag idptest/app:v1 "$R:user" || fail "docker tag as $DKC_USER"
assert_exit 0 dkc_user push "$R:user"
assert_contains "$LAST_OUT" "user: digest: $ID2 "
assert_eq "$ID2" "$(reg_tag_digest idptest/app user)" "tag pushed by $DKC_USER"
# not in the group: no daemon; and containerd's root is root's alone
assert_exit 1 setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$DKC_CLI" -H "$DKC_H" version -f '{{.Server.Version}}'
assert_contains "$LAST_ERR" "permission denied"
assert_eq 700 "$(stat -c %a "$DKC_CTD_ROOT")" "mode of containerd's root"
assert_exit 2 dkc_as_user ls "$DKC_CTD_ROOT"

# ---- stop: both daemons gone, no mounts left, the store stays ----
dpid=$DKC_PID
cpid=$DKC_CTD_PID
dockerd_ctd_stop
! kill -0 "$dpid" 2>/dev/null || fail "dockerd $dpid still runs"
! kill -0 "$cpid" 2>/dev/null || fail "containerd $cpid still runs"
if awk -v d="$TEST_TMP/" 'index($2, d) == 1' /proc/mounts | grep -q .; then
	fail "mounts left under $TEST_TMP"
fi
assert_eq "$ID2" "sha256:$(sha256_file "$(dkc_blob_file "$ID2")")" "the store after the stop"

# ---- --managed: dockerd's own containerd, under its data root ----
opt_before=$(test -e /opt/containerd && echo there || echo absent)
dockerd_ctd_start --managed
assert_eq "$DKC_ROOT/containerd/daemon" "$DKC_CTD_ROOT" "the managed containerd's root"
assert_eq 200 "$(api /info "$TEST_TMP/info2.json")" "GET /info (managed)"
assert_eq "$DKC_ROOT" "$("$PYTHON" -c 'import json, sys
print(json.load(open(sys.argv[1]))["DockerRootDir"])' "$TEST_TMP/info2.json")" "DockerRootDir"
dkc_context "$TEST_TMP/ctx2" 2000 100000
ID4=$(dkc_build idptest/managed:v1 "$TEST_TMP/ctx2")
assert_eq "$ID4" "sha256:$(sha256_file "$(dkc_blob_file "$ID4")")" \
	"the built index in <DockerRootDir>/containerd/daemon"
check_index "$DKC_CTD_ROOT/io.containerd.content.v1.content/blobs/sha256" "$ID4" >/dev/null ||
	fail "the stored index of $ID4 (managed)"
assert_eq "$ID4" "$("${DKC_CTR[@]}" -n "$DKC_NS" images ls |
	awk '$1 == "docker.io/idptest/managed:v1" { print $3 }')" "containerd's idptest/managed:v1"
assert_eq "$opt_before" "$(test -e /opt/containerd && echo there || echo absent)" \
	"/opt/containerd (the managed containerd's opt dir must stay private)"
dpid=$DKC_PID
cpid=$DKC_CTD_PID
dockerd_ctd_stop
! kill -0 "$dpid" 2>/dev/null || fail "dockerd $dpid (managed) still runs"
! kill -0 "$cpid" 2>/dev/null || fail "dockerd's containerd $cpid still runs"
log "PASS"
