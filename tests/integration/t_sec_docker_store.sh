#!/bin/bash
# tests/integration/t_sec_docker_store.sh: root runs `docker idppush`
# against a daemon an unprivileged user serves. The
# user's daemon (tests/tools/fake_dockerd.py, run as the test user on a
# socket in a directory the user owns) reports a vfs store in that same
# directory (Driver "vfs", DockerRootDir the user's) holding one image:
# its config is a real one (the image ID hashes to it), but its layer's
# directory (vfs/dir/<cache-id>) is a symlink to `/` and its tar-split
# (written by the user, who may stat what they cannot read) names a
# root-only 0600 file in /etc, then 24 MB of the user's own data, so the
# layer is many chunks long. The registry (tests/lib/hostile_registry.py)
# answers OCI-Chunk-Max-Length: 1048576 and keeps every request body.
# Checked:
#  - nothing of the /etc file reaches the registry: no upload, joined in
#    order, holds its bytes as sent, gunzipped or unzstd-ed;
#  - the push still succeeds, with the daemon's own export (`docker save`,
#    the fake CLI serving the user's real image), and tags that image.
# Before the fix, the store is read through the symlink and the secret
# goes up in the first PATCHes; the diffID mismatch at the layer's end
# only then makes the push fall back to docker save.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/sec.sh"
. "$TEST_LIB/plugin.sh"
need_sec
need_plugin
sec_user
fake_docker_setup
export XDG_CACHE_HOME="$TEST_TMP/cache"

sec_etc_file SECRET secret
cp "$SECRET" "$TEST_TMP/secret.needle"

# ---- the user's image: one layer of 24 MB of their own data ----
L="$TEST_TMP/layout"
make_oci_layout "$L" --oci 24000000 >/dev/null
fixture oci-inside "$L" victim:latest   # what `docker save` gives
CFG=$(_layout_config "$L")
ID=sha256:$(sha256_file "$CFG")
DIFF=$("$PYTHON" -c 'import json, sys
print(json.load(open(sys.argv[1]))["rootfs"]["diff_ids"][0])' "$CFG")
LAYER=$(layout_blob "$L" "$("$PYTHON" -c 'import json, sys
print(json.load(open(sys.argv[1]))["layers"][0]["digest"])' \
	"$(layout_blob "$L" "$(layout_manifest_digest "$L")")")")

# ---- the user's directory: daemon, store, data ----
sec_user_dir U store
U=$(realpath "$U")   # the tar-split names paths from /: no symlink on the way
sec_user_copy "$U" "$top_srcdir/tests/tools/fake_dockerd.py" "$SEC_TOOLS"
as_user mkdir -p "$U/data" "$U/inspect"
tar -xzf "$LAYER" -C "$U/data"
chown -R "$SEC_UID:$SEC_GID" "$U/data"
DATA="$U/data/data-1.bin"
[ -f "$DATA" ] || fail "no data-1.bin in the layer"
install -m 644 -o "$SEC_UID" -g "$SEC_GID" "$FAKE_DOCKER_DIR/victim_latest.inspect.json" \
	"$U/inspect/"
install -m 644 -o "$SEC_UID" -g "$SEC_GID" "$CFG" "$U/config.json"

R="$U/root"
CACHE_ID=$(head -c 32 /dev/urandom | sha256sum | cut -c1-64)
LDB="$R/image/vfs/layerdb/sha256/${DIFF#sha256:}"   # one layer: its chain ID is its diffID
as_user mkdir -p "$R/image/vfs/imagedb/content/sha256" "$LDB" "$R/vfs/dir"
as_user cp "$U/config.json" "$R/image/vfs/imagedb/content/sha256/${ID#sha256:}"
as_user sh -c 'printf %s "$1" >"$2/diff"; printf %s "$3" >"$2/cache-id"' _ "$DIFF" "$LDB" \
	"$CACHE_ID"
as_user ln -s / "$R/vfs/dir/$CACHE_ID"
as_user "$SEC_PYTHON" "$U/bin/sec_tools.py" tarsplit "$LDB/tar-split.json.gz" / \
	"secret.txt=$SECRET" "data-1.bin=$DATA" ||
	fail "the user could not write the tar-split"
printf '{"ID":"fake","Driver":"vfs","DriverStatus":[],"DockerRootDir":"%s","OSType":"linux"}\n' \
	"$R" >"$TEST_TMP/info.json"
install -m 644 -o "$SEC_UID" -g "$SEC_GID" "$TEST_TMP/info.json" "$U/info.json"
as_user sh -c 'echo "[]" >"$1/images.json"' _ "$U"

bg_start userdockerd "${AS_USER[@]}" "$SEC_PYTHON" "$U/bin/fake_dockerd.py" "$U/d.sock" \
	"$U/images.json" --info "$U/info.json" --inspect "$U/inspect"
wait_until 15 test -S "$U/d.sock" || fail "the user's daemon did not start"
assert_eq "$SEC_UID" "$(stat -c %u "$U/d.sock")" "owner of the daemon's socket"
curl -sf --unix-socket "$U/d.sock" http://localhost/info | grep -q '"vfs"' ||
	fail "the user's daemon does not answer /info"

# ---- root pushes ----
BODIES="$TEST_TMP/bodies"
mkdir -p "$BODIES"
start_hostile_registry "" --chunk-max 1048576 --record "$BODIES"
run_rc rc env DOCKER_HOST="unix://$U/d.sock" timeout -k 5 180 "$PLUGIN" idppush --plain-http \
	-v victim:latest "$HOSTILE_HOST/u/victim:latest"
log "push exit $rc; stderr: $(grep -v ' debug: ' <<<"$LAST_ERR")"
n=$(hostile_count 'r["method"] == "PATCH"')
log "the registry got $n PATCHes"
sec_check_uploads "$BODIES" "the content of $SECRET (root-only, named by the tar-split of a store \
that a daemon run by uid $SEC_UID reported)" "$TEST_TMP/secret.needle"

# ---- and the push is the user's real image, from the daemon's export ----
assert_eq 0 "$rc" "exit code of root's push from the user's daemon"
assert_eq "$ID" "$(curl -sf "http://$HOSTILE_HOST/v2/u/victim/manifests/latest" |
	"$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["config"]["digest"])')" \
	"config of the tagged image"
log "ok"
