#!/bin/bash
# tests/integration/t_gitea_push.sh: the everyday pushes against the
# Gitea-like stack (tests/lib/gitea.sh), on Gitea 1.22 (idpbuilder <= 0.9)
# and 1.25 (1.24.3 of idpbuilder >= 0.10), counting every request Gitea
# sees (its Bearer flow: the ping's challenge, one token):
#   1. a push: the small blobs (the config, a 300 kB layer) in one request
#      each (POST ?digest= with the body), the 3 MB layer in POST, PATCH,
#      PUT; every image verified with skopeo;
#   2. a re-push: HEADs only, the manifest found in place;
#   3. cross-repo mounts (engine-push --mount-from): two blobs mounted, a
#      new one uploaded in the session its failed mount opened (no second
#      POST, no DELETE);
#   4. several targets on one Gitea: the blobs go once, into the first,
#      and are mounted into the second.
# The figures are asserted exactly: a change in the number of requests
# shows here.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/gitea.sh"
gitea_need_adapter
need_engine

L=$TEST_TMP/layout
make_oci_layout "$L" --oci 300000 3000000 >/dev/null
L2=$TEST_TMP/layout2   # the same layers and one more, another config
mkdir -p "$L2"
make_oci_layout "$TEST_TMP/extra" --oci 200000 >/dev/null
"$PYTHON" - "$L" "$TEST_TMP/extra" "$L2" <<'EOF'
import hashlib, json, os, shutil, sys
a, extra, out = sys.argv[1:]
def manifest(d):
    idx = json.load(open(os.path.join(d, "index.json")))
    dg = idx["manifests"][0]["digest"]
    return json.load(open(os.path.join(d, "blobs", *dg.split(":"))))
shutil.copytree(a, out, dirs_exist_ok=True)
ma, me = manifest(a), manifest(extra)
cfg = json.load(open(os.path.join(a, "blobs", *ma["config"]["digest"].split(":"))))
cfe = json.load(open(os.path.join(extra, "blobs", *me["config"]["digest"].split(":"))))
cfg["rootfs"]["diff_ids"] += cfe["rootfs"]["diff_ids"]
def put(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    with open(os.path.join(out, "blobs", "sha256", d[7:]), "wb") as f:
        f.write(data)
    return d, len(data)
for l in me["layers"]:
    shutil.copy(os.path.join(extra, "blobs", *l["digest"].split(":")),
                os.path.join(out, "blobs", *l["digest"].split(":")))
ma["layers"] += me["layers"]
ma["config"]["digest"], ma["config"]["size"] = put(json.dumps(cfg, separators=(",", ":")).encode())
md, ms = put(json.dumps(ma, separators=(",", ":")).encode())
idx = json.load(open(os.path.join(a, "index.json")))
idx["manifests"][0].update(digest=md, size=ms)
json.dump(idx, open(os.path.join(out, "index.json"), "w"), separators=(",", ":"))
EOF

# requests: what Gitea saw, by method, then the total
requests() {
	_gitea_py "$GITEA_LOG" 'import collections
c = collections.Counter(r["method"] for r in R)
print(" ".join("%s:%d" % (m, c[m]) for m in ("GET", "HEAD", "POST", "PATCH", "PUT", "DELETE")),
      "total:%d" % len(R))'
}
# expect_requests WHAT FIGURES: the requests of the last push
expect_requests() {
	local got
	got=$(requests)
	log "$GITEA_VERSION: $1: $got"
	assert_eq "$2" "$got" "$GITEA_VERSION: requests of $1"
}
ctd() {
	: >"$GITEA_LOG"
	assert_exit 0 "${GITEA_ADAPTER[@]}" --ca-cert "$GITEA_CA" -u "$GITEA_USER" \
		--password-stdin -q "$@" <<<"$GITEA_PASS"
}
engine() {
	: >"$GITEA_LOG"
	assert_exit 0 run_engine --ca-cert "$GITEA_CA" -u "$GITEA_USER" -p "$GITEA_PASS" "$@"
}

R=
for v in 1.22 1.25; do
	start_gitea_stack --version "$v"
	R=$GITEA_HOST/$GITEA_OWNER
	# 1. a push: ping (401, token, 200), 3 HEADs, the two small blobs in a
	# POST each, the big one in POST + PATCH + PUT, the manifest
	ctd --oci-layout "$L" "$R/app:v1"
	expect_requests push "GET:3 HEAD:3 POST:3 PATCH:1 PUT:2 DELETE:0 total:12"
	assert_eq 2 "$(gitea_select 'r["method"] == "POST" and r["status"] == 201
and r["query"].startswith("digest=")')" "$v: blobs sent in one request"
	verify_pushed "$R/app:v1" "$L" "${GITEA_SKOPEO_FLAGS[@]}"
	# 2. the same again: the ping, 3 HEADs, the manifest's HEAD
	ctd --oci-layout "$L" "$R/app:v1"
	expect_requests re-push "GET:3 HEAD:4 POST:0 PATCH:0 PUT:0 DELETE:0 total:7"
	# 3. mounts from app: two layers mounted (201), the config and the new
	# layer not (202: their sessions used, in one PUT each)
	engine --mount-from "$GITEA_OWNER/app" "$L2" "$R/other:v1"
	expect_requests "mounts from app" "GET:4 HEAD:4 POST:4 PATCH:0 PUT:3 DELETE:0 total:15"
	assert_eq 2 "$(gitea_count POST '.*/other/blobs/uploads/' 201)" "$v: blobs mounted"
	assert_eq 2 "$(gitea_select 'r["method"] == "PUT" and r["body"] > 0
and "/blobs/uploads/" in r["path"]')" "$v: blobs PUT in the session of a failed mount"
	verify_pushed "$R/other:v1" "$L2" "${GITEA_SKOPEO_FLAGS[@]}"
	# 4. two targets: uploaded into the first, mounted into the second
	make_oci_layout "$TEST_TMP/multi$v" --oci 300000 2000000 >/dev/null
	ctd --oci-layout "$TEST_TMP/multi$v" "$R/ma:v1" "$R/mb:v2"
	expect_requests "two targets" "GET:7 HEAD:7 POST:6 PATCH:1 PUT:3 DELETE:0 total:24"
	assert_eq 3 "$(gitea_count POST '.*/mb/blobs/uploads/' 201)" "$v: blobs mounted into mb"
	verify_pushed "$R/ma:v1" "$TEST_TMP/multi$v" "${GITEA_SKOPEO_FLAGS[@]}"
	verify_pushed "$R/mb:v2" "$TEST_TMP/multi$v" "${GITEA_SKOPEO_FLAGS[@]}"
	log "Gitea $v: pushes checked"
done
log "PASS"
