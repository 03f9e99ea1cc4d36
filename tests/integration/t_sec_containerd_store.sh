#!/bin/bash
# tests/integration/t_sec_containerd_store.sh: `idppush-containerd --root
# DIR` run as root on a containerd store an unprivileged user owns. The
# store is a real one: a private
# containerd imports an image, stops, and its metadata and content
# directories are copied to a directory the test user owns and chowned to
# that user. First the user pushes from it (it is a store that works).
# Then its blob directory (io.containerd.content.v1.content/blobs/sha256)
# is moved into a directory only root can read and the user puts a
# symlink to it in its place: root's push must not read through it.
# Checked on what the registry (tests/lib/hostile_registry.py, every
# request body kept) received: no upload holds the image's layer, neither
# the stored (gzip) bytes nor the data inside. The exit code is not
# checked: refusing the store is the expected outcome.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/sec.sh"
. "$top_srcdir/tests/lib/containerd_env.sh"
need_sec
need_ctd
need docker-registry skopeo curl
sec_user

ctd_start
APP="$TEST_TMP/app"
make_oci_layout "$APP" --oci 3000000 >/dev/null
ctd_import default example.test/idp/app "$APP"
ctd_stop
MAN=$(layout_blob "$APP" "$(layout_manifest_digest "$APP")")
LAYER=$(layout_blob "$APP" "$("$PYTHON" -c 'import json, sys
print(json.load(open(sys.argv[1]))["layers"][0]["digest"])' "$MAN")")
# the needles: 4 KiB from the middle of the stored blob, and of its data
dd if="$LAYER" of="$TEST_TMP/layer-blob.needle" bs=4096 skip=100 count=1 status=none
mkdir -p "$TEST_TMP/x"
tar -xzf "$LAYER" -C "$TEST_TMP/x"
dd if="$TEST_TMP/x/data-1.bin" of="$TEST_TMP/layer-data.needle" bs=4096 skip=300 count=1 \
	status=none

# ---- the user's copy of the store ----
sec_user_dir U ctd
S="$U/store"
mkdir -p "$S"
cp -a "$CTD_ROOT/io.containerd.metadata.v1.bolt" "$CTD_ROOT/io.containerd.content.v1.content" "$S/"
chown -R "$SEC_UID:$SEC_GID" "$S"
sec_user_copy "$U" "$CTD_ADAPTER"
start_registry plain
assert_exit 0 as_user env HOME="$U" DOCKER_CONFIG="$U/.docker" XDG_CONFIG_HOME="$U/.config" \
	timeout -k 5 120 "$U/bin/idppush-containerd" --root "$S" --plain-http \
	example.test/idp/app:latest "$REG_HOST/user/app:v1"
log "the user pushed from their copy of the store: $LAST_OUT"

# ---- its blobs: behind a symlink, in a directory only root reads ----
PRIV=$(mktemp -d /tmp/idptest-sec-rootonly.XXXXXX)
cleanup_add "$PRIV"
chmod 700 "$PRIV"
BLOBS="$S/io.containerd.content.v1.content/blobs/sha256"
mv "$BLOBS" "$PRIV/sha256"
chown -R 0:0 "$PRIV/sha256"
chmod 700 "$PRIV/sha256"
as_user ln -s "$PRIV/sha256" "$BLOBS"
as_user test -r "$BLOBS/${LAYER##*/}" && fail "the user can read the root-only blob"

BODIES="$TEST_TMP/bodies"
mkdir -p "$BODIES"
start_hostile_registry "" --record "$BODIES"
run_rc rc timeout -k 5 120 "$CTD_ADAPTER" --root "$S" --plain-http \
	example.test/idp/app:latest "$HOSTILE_HOST/u/app:v1"
log "root's push: exit $rc: $LAST_ERR"
sec_check_uploads "$BODIES" "a blob read as root through a symlink in the store uid $SEC_UID \
owns ($BLOBS -> $PRIV/sha256)" "$TEST_TMP/layer-blob.needle" "$TEST_TMP/layer-data.needle"
log "ok"
