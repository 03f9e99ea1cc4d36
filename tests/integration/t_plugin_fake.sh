#!/bin/bash
# tests/integration/t_plugin_fake.sh: docker-idppush against a real
# docker-registry, with a fake `docker` (tests/tools/fake_docker.sh) serving
# `image inspect` and `save` from fixtures built here in each of the three
# shapes of a docker save stream: OCI layout inside (Docker 25+), containerd
# store (gzip layers as stored, an index missing a platform) and legacy
# (skopeo's docker-archive).
# Every push verified with skopeo (manifest digest, config bytes, diffIDs).
# Output: -q, --digest-file, --progress json. Global docker flags reach docker.
# The containerd-store image pushed as stored (told by the stream: no
# Engine API), its index notice. --platform against old (< 1.48), 1.48
# and 1.49 daemon APIs (fake `docker version`).
# Failures, nothing tagged: truncated stream, garbage after the archive,
# diffID mismatch, missing layer (1); image not found (4); registry down (3);
# bad credentials (2); usage errors (1) before docker runs, among them an
# IMAGE by digest without TARGET (one line; with TARGET it pushes).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$top_srcdir/tests/lib/plugin.sh"
need docker-registry skopeo curl python3 openssl htpasswd
need_plugin
need zstd
fake_docker_setup
# the push cache (t_plugin_cache.sh tests it): a fresh one wherever a
# section needs `docker save` to run
export XDG_CACHE_HOME="$TEST_TMP/cache0"

L="$TEST_TMP/layout"
make_oci_layout "$L" --oci 0 700000 1500000 300 >/dev/null
fixture oci-inside "$L" app:oci
fixture containerd "$L" app:ctd
fixture legacy "$L" app:legacy

start_registry plain
P=(--registry "$REG_HOST" --plain-http)

# 1. the three shapes, quiet: stdout is exactly REPO@DIGEST
for t in oci ctd legacy; do
	assert_exit 0 run_plugin "${P[@]}" -q --digest-file "$TEST_TMP/d.$t" "app:$t"
	case "$LAST_OUT" in
	"$REG_HOST/giteaadmin/app:"*"@sha256:"*) ;;
	*) fail "-q stdout: $LAST_OUT" ;;
	esac
	[ -z "$LAST_ERR" ] || fail "-q printed on stderr: $LAST_ERR"
	dig=${LAST_OUT#*@}
	assert_eq "$dig" "$(cat "$TEST_TMP/d.$t")" "--digest-file content"
	verify_image "$REG_HOST/giteaadmin/app:$t" "$dig" "$L" "${SKOPEO_FLAGS[@]}"
	eval "DIG_$t=\$dig"
done
# --digest-file never writes through a symlink planted at its path (the
# file it points at keeps its content), and says so before pushing
echo precious >"$TEST_TMP/victim"
ln -s "$TEST_TMP/victim" "$TEST_TMP/planted"
assert_exit 1 run_plugin "${P[@]}" -q --digest-file "$TEST_TMP/planted" app:oci
assert_contains "$LAST_ERR" "is a symbolic link"
assert_eq precious "$(cat "$TEST_TMP/victim")" "file behind a planted --digest-file symlink"
# an existing file is replaced (atomically), a stream is written into
echo old >"$TEST_TMP/dfile"
assert_exit 0 run_plugin "${P[@]}" -q --digest-file "$TEST_TMP/dfile" app:oci
assert_eq "$DIG_oci" "$(cat "$TEST_TMP/dfile")" "--digest-file replaced"
assert_exit 0 run_plugin "${P[@]}" -q --digest-file >(cat >"$TEST_TMP/viapipe") app:oci
wait_until 10 test -s "$TEST_TMP/viapipe" || fail "nothing came through the --digest-file pipe"
assert_eq "$DIG_oci" "$(cat "$TEST_TMP/viapipe")" "--digest-file through a pipe"
# containerd-store layers go up as stored: the layout's own gzip blobs
for d in $(grep -o '"layers":.*' "$(layout_blob "$L" "$(layout_manifest_digest "$L")")" |
	grep -o 'sha256:[0-9a-f]\{64\}'); do
	reg_blob_linked giteaadmin/app "$d" ||
		fail "containerd-store layer $d was not pushed as stored"
done
# legacy and OCI-inside carry the same raw layers: same gzip output, same manifest
assert_eq "$DIG_oci" "$DIG_legacy" "OCI-inside and legacy pushes of one image"

# 2. docker-push-like plain progress, JSON progress, OCI format
assert_exit 0 run_plugin "${P[@]}" --progress plain app:oci "$REG_HOST/giteaadmin/app:plain"
assert_contains "$LAST_ERR" "The push refers to repository [$REG_HOST/giteaadmin/app]"
assert_contains "$LAST_ERR" "plain: digest: sha256:"
assert_not_contains "$LAST_ERR" $'\033' "escape codes in plain progress"
assert_exit 0 run_plugin "${P[@]}" --progress json --format oci app:oci \
	"$REG_HOST/giteaadmin/app:json"
printf '%s\n' "$LAST_ERR" |
	"$PYTHON" -c 'import json,sys; [json.loads(l) for l in sys.stdin if l.strip()]' ||
	fail "--progress json printed something that is not JSON lines"
assert_contains "$LAST_ERR" '"aux":{"Tag":"json"'
verify_image "$REG_HOST/giteaadmin/app:json" "${LAST_OUT#*@}" "$L" "${SKOPEO_FLAGS[@]}"
skopeo_run inspect --raw "${SKOPEO_FLAGS[@]}" "docker://$REG_HOST/giteaadmin/app:json" |
	grep -q 'application/vnd.oci.image.manifest.v1+json' ||
	fail "--format oci did not push an OCI manifest"

# zstd: layers compressed with zstd, OCI media types (docker has no zstd type)
export XDG_CACHE_HOME="$TEST_TMP/cache-zstd"
assert_exit 0 run_plugin "${P[@]}" -q --compression zstd --compression-level 3 app:oci \
	"$REG_HOST/giteaadmin/app:zstd"
skopeo_run inspect --raw "${SKOPEO_FLAGS[@]}" "docker://$REG_HOST/giteaadmin/app:zstd" \
	>"$TEST_TMP/zstd.json" ||
	fail "inspect the zstd push"
assert_contains "$(cat "$TEST_TMP/zstd.json")" "application/vnd.oci.image.layer.v1.tar+zstd" \
	"zstd layer media type"
assert_not_contains "$(cat "$TEST_TMP/zstd.json")" "tar+gzip" "no gzip layer left in a zstd push"
verify_image "$REG_HOST/giteaadmin/app:zstd" "${LAST_OUT#*@}" "$L" "${SKOPEO_FLAGS[@]}"

# 3. global docker flags come before the plugin name and reach docker
export XDG_CACHE_HOME="$TEST_TMP/cache3"
: >"$FAKE_DOCKER_DIR/calls"
assert_exit 0 run_plugin --context ctx1 -H unix:///x.sock --tlsverify idppush "${P[@]}" -q \
	app:oci "$REG_HOST/giteaadmin/app:g"
grep -q -- "--context ctx1 -H unix:///x.sock --tlsverify image inspect app:oci" \
	"$FAKE_DOCKER_DIR/calls" ||
	fail "global flags not passed to docker: $(cat "$FAKE_DOCKER_DIR/calls")"
grep -q -- "--context ctx1 -H unix:///x.sock --tlsverify save app:oci" "$FAKE_DOCKER_DIR/calls" ||
	fail "global flags not passed to docker save"

# 3b. a connection cut in the middle of a LATER chunk of a layer that is
# compressed while it streams: distribution drops the upload session, and
# the layer, kept in a spool file, goes up again from byte 0
export XDG_CACHE_HOME="$TEST_TMP/cache3b"
start_fault_proxy "$REG_HOST" --match '^PATCH ' --skip 2 --cut-after 200000
assert_exit 0 run_plugin --registry "$FAULT_HOST" --plain-http --chunk-size 512k --jobs 1 \
	app:legacy "$FAULT_HOST/giteaadmin/app:cut"
assert_file_contains "$FAULT_LOG" "CUT PATCH .* after 200000 body bytes" "faultproxy cut a PATCH"
assert_contains "$LAST_ERR" "starting the upload again"
verify_image "$REG_HOST/giteaadmin/app:cut" "${LAST_OUT#*@}" "$L" "${SKOPEO_FLAGS[@]}"

# 3c. behind a proxy that takes 1 MiB bodies, the default 64 MiB chunk is
# halved on 413s until it passes; the push cache remembers what the
# registry took, so the next push there sends no request that is too big
export XDG_CACHE_HOME="$TEST_TMP/cache3c"
start_body_limit_proxy "$REG_HOST" 1m http
assert_exit 0 run_plugin --registry "$PROXY_HOST" --plain-http app:legacy \
	"$PROXY_HOST/giteaadmin/lim:v1"
verify_image "$REG_HOST/giteaadmin/lim:v1" "${LAST_OUT#*@}" "$L" "${SKOPEO_FLAGS[@]}"
assert_contains "$LAST_ERR" "(HTTP 413): sending at most"
"$PYTHON" - "$XDG_CACHE_HOME/idppush/push-cache.json" "$PROXY_HOST" <<'PY' ||
import json, sys
c = json.load(open(sys.argv[1]))
sizes = [e["size"] for e in c.get("chunks", []) if e["registry"] == sys.argv[2]]
assert sizes and sizes[0] <= (1 << 20), c.get("chunks")
PY
	fail "the push cache did not keep the chunk size the proxy takes"
n413=$(awk '$3 == 413' "$PROXY_ACCESS_LOG" | wc -l)
assert_exit 0 run_plugin --registry "$PROXY_HOST" --plain-http app:oci \
	"$PROXY_HOST/giteaadmin/lim2:v1"
assert_eq "$n413" "$(awk '$3 == 413' "$PROXY_ACCESS_LOG" | wc -l)" "413s on the second push"
assert_not_contains "$LAST_ERR" "HTTP 413" "second push"
verify_image "$REG_HOST/giteaadmin/lim2:v1" "${LAST_OUT#*@}" "$L" "${SKOPEO_FLAGS[@]}"

# 4. broken streams: exit 1, nothing tagged
export XDG_CACHE_HOME="$TEST_TMP/cache4"
k="$FAKE_DOCKER_DIR/app_oci"
cp "$k.inspect.json" "$FAKE_DOCKER_DIR/bad_trunc.inspect.json"
head -c $(($(stat -c %s "$k.tar") / 2)) "$k.tar" >"$FAKE_DOCKER_DIR/bad_trunc.tar"
cp "$k.inspect.json" "$FAKE_DOCKER_DIR/bad_tail.inspect.json"
{
	cat "$k.tar"
	printf '{"errorDetail":{"message":"write /dev/stdout: broken"},"error":"boom"}\n'
} >"$FAKE_DOCKER_DIR/bad_tail.tar"
"$PYTHON" - "$k.inspect.json" "$FAKE_DOCKER_DIR/bad_diff.inspect.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d[0]["RootFS"]["Layers"][1] = "sha256:" + "ab" * 32
json.dump(d, open(sys.argv[2], "w"))
PY
cp "$k.tar" "$FAKE_DOCKER_DIR/bad_diff.tar"
cp "$k.inspect.json" "$FAKE_DOCKER_DIR/bad_missing.inspect.json"
"$PYTHON" - "$k.tar" "$FAKE_DOCKER_DIR/bad_missing.tar" <<'PY'
import json, sys, tarfile
src = tarfile.open(sys.argv[1]); man = json.loads(src.extractfile("manifest.json").read())
drop = man[0]["Layers"][2]
with tarfile.open(sys.argv[2], "w", format=tarfile.PAX_FORMAT) as out:
    for m in src.getmembers():
        if m.name != drop:
            out.addfile(m, src.extractfile(m))
PY
for b in trunc tail diff missing; do
	assert_exit 1 run_plugin "${P[@]}" "bad:$b"
	log "bad:$b -> $LAST_ERR"
	assert_contains "$LAST_ERR" "docker-idppush: error:"
	assert_not_tagged "$REG_HOST/giteaadmin/bad:$b" "${SKOPEO_FLAGS[@]}"
done

# 5. containerd store: the index lists linux/ARCH, linux/s390x and an
# attestation; only linux/ARCH is in the stream: its manifest is pushed as
# stored (not the index: the registry would refuse what it lacks), and said
# so (not with -q: section 1)
export XDG_CACHE_HOME="$TEST_TMP/cache5"
jq_inspect() {
	"$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))[0][sys.argv[2]])' \
		"$FAKE_DOCKER_DIR/$1.inspect.json" "$2"
}
ARCH=$(jq_inspect app_ctd Architecture)
IDX=$(jq_inspect app_ctd Id)
assert_exit 0 run_plugin "${P[@]}" -v --progress plain app:ctd "$REG_HOST/giteaadmin/app:note"
# no Engine API: the stream tells the store (compressed layers)
assert_contains "$LAST_ERR" "path: docker save, as stored or converted, as its stream tells"
assert_contains "$LAST_ERR" \
	"docker save's stream was docker's containerd image store: pushed as stored"
want="docker-idppush: index $IDX lists manifests that are not all in the local store:"
want+=" pushing only its linux/$ARCH manifest ${LAST_OUT#*@}"
assert_contains "$LAST_ERR" "$want"
CTD_MAN=${LAST_OUT#*@}
verify_image "$REG_HOST/giteaadmin/app:note" "${LAST_OUT#*@}" "$L" "${SKOPEO_FLAGS[@]}"
# one platform only: no notice
assert_exit 0 run_plugin "${P[@]}" --progress plain app:oci "$REG_HOST/giteaadmin/app:nonote"
assert_not_contains "$LAST_ERR" "platforms; pushing" "a notice for a single-platform image"

# 6. --platform: the daemon's API decides (docker version, through the same
# CLI and global flags); save --platform from API 1.48, inspect --platform
# from 1.49; older: only the image's own platform, else exit 1 before save.
export XDG_CACHE_HOME="$TEST_TMP/cache6"
calls() { cat "$FAKE_DOCKER_DIR/calls"; }
: >"$FAKE_DOCKER_DIR/calls"
assert_exit 1 run_plugin "${P[@]}" --platform linux app:oci
assert_contains "$LAST_ERR" "invalid platform 'linux'"
assert_exit 1 run_plugin "${P[@]}" --platform "linux/$ARCH" --platform linux/s390x app:oci
assert_contains "$LAST_ERR" "--platform given more than once: docker idppush takes one"
[ ! -s "$FAKE_DOCKER_DIR/calls" ] || fail "docker ran despite a bad --platform: $(calls)"
export FAKE_DOCKER_API=1.41 FAKE_DOCKER_CLIENT_API=1.52
# old API, the image's own platform: a normal push
assert_exit 0 run_plugin -H unix:///p.sock idppush "${P[@]}" -q --platform "linux/$ARCH" \
	app:oci "$REG_HOST/giteaadmin/plat:old"
verify_image "$REG_HOST/giteaadmin/plat:old" "${LAST_OUT#*@}" "$L" "${SKOPEO_FLAGS[@]}"
assert_eq "$DIG_oci" "${LAST_OUT#*@}" "old-API --platform push of the image's own platform"
assert_contains "$(calls)" \
	"-H unix:///p.sock version --format {{.Server.APIVersion}} {{.Client.APIVersion}}"
assert_contains "$(calls)" "-H unix:///p.sock save app:oci"
# old API, another platform: exit 1, one line, docker save not run
: >"$FAKE_DOCKER_DIR/calls"
assert_exit 1 run_plugin "${P[@]}" --platform linux/s390x app:oci \
	"$REG_HOST/giteaadmin/plat:other"
want="docker-idppush: error: --platform linux/s390x: image 'app:oci' is linux/$ARCH"
want+=" and docker API 1.41 cannot save another platform (needs 1.48, docker 28 or newer)"
assert_eq "$want" "$LAST_ERR" "old-API --platform message"
assert_not_contains "$(calls)" "save" "docker save ran for an impossible --platform"
assert_not_tagged "$REG_HOST/giteaadmin/plat:other" "${SKOPEO_FLAGS[@]}"
# a new daemon behind an old CLI: the CLI's API counts
export FAKE_DOCKER_API=1.52 FAKE_DOCKER_CLIENT_API=1.43
assert_exit 1 run_plugin "${P[@]}" --platform linux/s390x app:oci
assert_contains "$LAST_ERR" "docker API 1.43 cannot save another platform"
# API 1.48: docker save --platform; inspect has no --platform yet
export FAKE_DOCKER_API=1.48 FAKE_DOCKER_CLIENT_API=1.48
: >"$FAKE_DOCKER_DIR/calls"
assert_exit 0 run_plugin "${P[@]}" -q --platform "linux/$ARCH" app:oci \
	"$REG_HOST/giteaadmin/plat:v148"
verify_image "$REG_HOST/giteaadmin/plat:v148" "${LAST_OUT#*@}" "$L" "${SKOPEO_FLAGS[@]}"
assert_contains "$(calls)" "save --platform linux/$ARCH app:oci"
assert_contains "$(calls)" "image inspect app:oci"
# ... another platform: inspect's diffIDs (of linux/ARCH) are not used, the
# config's rootfs.diff_ids check the stream (the fake serves one image)
: >"$FAKE_DOCKER_DIR/calls"
assert_exit 0 run_plugin "${P[@]}" -q --platform linux/s390x app:oci \
	"$REG_HOST/giteaadmin/plat:v148s"
assert_contains "$(calls)" "save --platform linux/s390x app:oci"
# API 1.49: inspect --platform too (containerd store: Id is the index)
export FAKE_DOCKER_API=1.49 FAKE_DOCKER_CLIENT_API=1.51
: >"$FAKE_DOCKER_DIR/calls"
assert_exit 0 run_plugin "${P[@]}" --progress plain --platform "linux/$ARCH" app:ctd \
	"$REG_HOST/giteaadmin/plat:v149"
verify_image "$REG_HOST/giteaadmin/plat:v149" "${LAST_OUT#*@}" "$L" "${SKOPEO_FLAGS[@]}"
assert_contains "$(calls)" "image inspect --platform linux/$ARCH app:ctd"
assert_contains "$(calls)" "save --platform linux/$ARCH app:ctd"
assert_eq "$CTD_MAN" "${LAST_OUT#*@}" "--platform linux/$ARCH: its manifest"
# the daemon cannot say its version: exit 1, no save
export FAKE_DOCKER_API=garbage
: >"$FAKE_DOCKER_DIR/calls"
assert_exit 1 run_plugin "${P[@]}" --platform "linux/$ARCH" app:oci
assert_contains "$LAST_ERR" "cannot understand 'docker version' output"
assert_not_contains "$(calls)" "save" "docker save ran without an API version"
unset FAKE_DOCKER_API FAKE_DOCKER_CLIENT_API

# 7. error classes
assert_exit 4 run_plugin "${P[@]}" nosuch:img
assert_contains "$LAST_ERR" "image 'nosuch:img' not found"
DOWN=127.0.0.1:$(free_port)
assert_exit 3 run_plugin --registry "$DOWN" --plain-http --retries 0 app:oci
assert_exit 1 run_plugin "${P[@]}" --jobs 99 app:oci
assert_exit 1 run_plugin "${P[@]}"
# at most 16 TARGETs
assert_exit 1 run_plugin "${P[@]}" app:oci $(seq -f 'x%g:v1' 1 17)
assert_contains "$LAST_ERR" "too many arguments"
assert_exit 1 run_plugin "${P[@]}" UPPER:case
: >"$FAKE_DOCKER_DIR/calls"
assert_exit 1 run_plugin "${P[@]}" --timeout soon app:oci
[ ! -s "$FAKE_DOCKER_DIR/calls" ] || fail "docker ran despite a usage error"

# IMAGE by digest without TARGET: no tag to push it under; exit 1 with one
# line, before docker runs. With TARGET it is pushed.
DG="sha256:$(printf 'ab%.0s' $(seq 32))"
NOTAG="is a digest reference: there is no tag to push it under; give TARGET"
: >"$FAKE_DOCKER_DIR/calls"
for img in "app@$DG" "app:oci@$DG" "docker.io/library/app:oci@$DG"; do
	assert_exit 1 run_plugin "${P[@]}" "$img"
	assert_eq "docker-idppush: error: '$img' $NOTAG" "$LAST_ERR" \
		"digest reference without TARGET"
	assert_eq "" "$LAST_OUT" "stdout of a refused push"
done
[ ! -s "$FAKE_DOCKER_DIR/calls" ] || fail "docker ran for a digest reference: $(calls)"
assert_not_tagged "$REG_HOST/giteaadmin/app:latest" "${SKOPEO_FLAGS[@]}"
for f in inspect.json tar; do
	cp "$FAKE_DOCKER_DIR/app_oci.$f" "$FAKE_DOCKER_DIR/$(_fkey "app@$DG").$f"
done
export XDG_CACHE_HOME="$TEST_TMP/cache-digest"
assert_exit 0 run_plugin "${P[@]}" -q "app@$DG" "$REG_HOST/giteaadmin/app:bydigest"
verify_image "$REG_HOST/giteaadmin/app:bydigest" "${LAST_OUT#*@}" "$L" "${SKOPEO_FLAGS[@]}"

start_registry tls-htpasswd
assert_exit 2 run_plugin --registry "$REG_HOST" --ca-cert "$REG_CA" -u "$REG_USER" \
	-p wrong-password app:oci
assert_not_tagged "$REG_HOST/giteaadmin/app:oci" "${SKOPEO_FLAGS[@]}"
printf '%s\n' "$REG_PASS" >"$TEST_TMP/pw"
assert_exit 0 run_plugin --registry "$REG_HOST" --ca-cert "$REG_CA" -u "$REG_USER" \
	--password-stdin -q app:ctd <"$TEST_TMP/pw"
verify_image "$REG_HOST/giteaadmin/app:ctd" "${LAST_OUT#*@}" "$L" "${SKOPEO_FLAGS[@]}"
log "all plugin checks against the fake docker passed"
