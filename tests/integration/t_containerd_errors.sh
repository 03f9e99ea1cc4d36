#!/bin/bash
# tests/integration/t_containerd_errors.sh: idppush-containerd's failures
# against a real, running, private containerd and a plain registry:
#   unknown image (exit 4, closest names), unknown namespace, a blob whose
#   file exists but that the namespace does not reference (exit 4), a
#   corrupted and a truncated layer in the test's own store (the engine's
#   digest check aborts: exit 1, blob never committed, nothing tagged), an
#   unreadable root (run as nobody: a permission message), a missing root
#   (exit 4, the well-known roots), a bad --platform (exit 1), a TARGET
#   by digest or that is only a registry address (exit 1, nothing pushed).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$top_srcdir/tests/lib/containerd_env.sh"
need docker-registry skopeo curl setpriv
need_ctd

ctd_start
start_registry plain
R=(--root "$CTD_ROOT" --plain-http)
layers_of() { # LAYOUT -> the layer digests of its manifest
	grep -o '"digest":"sha256:[0-9a-f]\{64\}"' \
		"$(layout_blob "$1" "$(layout_manifest_digest "$1")")" |
		tail -n +2 | cut -d'"' -f4
}

# unknown image: exit 4 with the closest names
APP="$TEST_TMP/app"
make_oci_layout "$APP" --oci 100000 200000 >/dev/null
ctd_import default example.test/idp/webapp "$APP"
assert_exit 4 run_ctd "${R[@]}" example.test/idp/webap:latest "$REG_HOST/t/x:v1"
assert_contains "$LAST_ERR" "no image 'example.test/idp/webap:latest'"
assert_contains "$LAST_ERR" "closest: example.test/idp/webapp:latest"
assert_exit 4 run_ctd "${R[@]}" -n nosuchns example.test/idp/webapp:latest "$REG_HOST/t/x:v1"
assert_contains "$LAST_ERR" "namespace 'nosuchns' does not exist"

# TARGET by digest, TARGET that is only a registry: usage errors
D0="sha256:$(printf '0%.0s' $(seq 64))"
assert_exit 1 run_ctd "${R[@]}" example.test/idp/webapp:latest "$REG_HOST/t/d@$D0"
assert_contains "$LAST_ERR" \
	"idppush-containerd: error: cannot push to a digest reference: TARGET '$REG_HOST/t/d@$D0'"
assert_exit 1 run_ctd "${R[@]}" --registry "$REG_HOST" example.test/idp/webapp:latest "$REG_HOST"
assert_contains "$LAST_ERR" "did you mean $REG_HOST/giteaadmin/webapp:latest?"
assert_not_tagged "$REG_HOST/t/d:latest" "${SKOPEO_FLAGS[@]}"

# a layer file present, but not referenced by the namespace
ctd_import other example.test/idp/webapp "$APP"
L1=$(layers_of "$APP" | head -n1)
"${CTR[@]}" -n default content rm "$L1" >/dev/null || fail "ctr content rm"
[ -f "$(ctd_blob_file "$L1")" ] || fail "the blob file must stay (namespace 'other' holds it)"
assert_exit 4 run_ctd "${R[@]}" example.test/idp/webapp:latest "$REG_HOST/t/missing:v1"
assert_contains "$LAST_ERR" "$L1"
assert_contains "$LAST_ERR" "missing from the local store"
assert_not_tagged "$REG_HOST/t/missing:v1" "${SKOPEO_FLAGS[@]}"
assert_exit 0 run_ctd "${R[@]}" -q -n other example.test/idp/webapp:latest "$REG_HOST/t/present:v1"

# corrupted layer (same size, bytes flipped) in our own store
BAD="$TEST_TMP/bad"
make_oci_layout "$BAD" --oci 300000 400000 >/dev/null
ctd_import default example.test/idp/bad "$BAD"
B1=$(layers_of "$BAD" | sed -n 2p)
F=$(ctd_blob_file "$B1")
chmod u+w "$F"
cp -p "$F" "$TEST_TMP/b1.orig"
printf 'CORRUPTED' | dd of="$F" bs=1 seek=1000 conv=notrunc status=none
assert_exit 1 run_ctd "${R[@]}" --progress plain example.test/idp/bad:latest "$REG_HOST/t/bad:v1"
assert_contains "$LAST_ERR" "$B1" "the message names the corrupt blob"
assert_contains "$LAST_ERR" "corrupt"
assert_not_tagged "$REG_HOST/t/bad:v1" "${SKOPEO_FLAGS[@]}"
reg_blob_linked t/bad "$B1" && fail "the corrupt blob was committed"
[ -z "$(reg_log_requests PUT "/v2/t/bad/blobs/uploads/.*digest=$B1")" ] ||
	fail "a PUT committed $B1"

# truncated layer (the corrupted one repaired: only one bad blob, so the
# message can only name this one, whichever upload fails first)
cp -p "$TEST_TMP/b1.orig" "$(ctd_blob_file "$B1")"
B2=$(layers_of "$BAD" | sed -n 1p)
F=$(ctd_blob_file "$B2")
chmod u+w "$F"
truncate -s 1000 "$F"
assert_exit 1 run_ctd "${R[@]}" example.test/idp/bad:latest "$REG_HOST/t/bad2:v1"
assert_contains "$LAST_ERR" "$B2"
assert_not_tagged "$REG_HOST/t/bad2:v1" "${SKOPEO_FLAGS[@]}"
reg_blob_linked t/bad2 "$B2" && fail "the truncated blob was committed"

# unreadable root: as nobody. The binary is copied where nobody can reach
# it: the checkout (or TMPDIR) may live under a directory only root enters.
NOBODY_BIN=$(mktemp -d /tmp/idptest-nobody.XXXXXX)
cleanup_add "$NOBODY_BIN"
chmod 755 "$NOBODY_BIN"
install -m 755 "$CTD_ADAPTER" "$NOBODY_BIN/idppush-containerd"
chmod 755 "$TEST_TMP" "$TEST_TMP/ctd" 2>/dev/null || true
chmod 700 "$CTD_ROOT"
assert_exit 1 setpriv --reuid=nobody --regid=nogroup --clear-groups \
	timeout 60 "$NOBODY_BIN/idppush-containerd" --root "$CTD_ROOT" --plain-http \
		example.test/idp/webapp:latest "$REG_HOST/t/perm:v1"
assert_contains "$LAST_ERR" "permission denied"

# missing root
assert_exit 4 run_ctd --root "$TEST_TMP/no-such-root" --plain-http \
	example.test/idp/webapp:latest "$REG_HOST/t/x:v1"
assert_contains "$LAST_ERR" "no containerd store at '$TEST_TMP/no-such-root'"

# bad platform strings
assert_exit 1 run_ctd "${R[@]}" --platform linux example.test/idp/webapp:latest "$REG_HOST/t/x:v1"
assert_contains "$LAST_ERR" "invalid platform 'linux'"
assert_exit 1 run_ctd "${R[@]}" --platform 'linux/AMD64!' \
	example.test/idp/webapp:latest "$REG_HOST/t/x:v1"
ctd_running || fail "containerd died"
log "PASS"
