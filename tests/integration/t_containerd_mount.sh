#!/bin/bash
# tests/integration/t_containerd_mount.sh: idppush-containerd remembers
# where it pushed blobs (the push cache, shared with docker idppush) and
# mounts them from there: an image (imported with ctr, so no
# distribution-source label names a repository) pushed to repository a,
# then to repository b of the same registry: b's blobs are mounted from a,
# none uploaded again; with another cache (nothing remembered) they are
# uploaded.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$top_srcdir/tests/lib/containerd_env.sh"
need docker-registry curl
need_ctd

ctd_start
APP=$TEST_TMP/app
APP_DIG=$(make_oci_layout "$APP" --oci 300000 200000)
ctd_import default example.test/idp/app "$APP"
start_registry plain
export XDG_CACHE_HOME=$TEST_TMP/cache

uploads() { reg_log_requests PUT "/v2/$1/blobs/uploads/" | wc -l; }
mounts() {
	reg_log_requests POST "/v2/$1/blobs/uploads/\?.*mount=.*from=$2" | grep -c '" 201 ' || true
}

assert_exit 0 run_ctd --root "$CTD_ROOT" --plain-http example.test/idp/app:latest \
	"$REG_HOST/mnt/a:v1"
assert_eq "$REG_HOST/mnt/a:v1@$APP_DIG" "$LAST_OUT" "pushed to a"
assert_eq 3 "$(uploads mnt/a)" "uploads into a (config and two layers)"
[ -s "$XDG_CACHE_HOME/idppush/push-cache.json" ] || fail "no push cache written"

assert_exit 0 run_ctd --root "$CTD_ROOT" --plain-http --progress plain \
	example.test/idp/app:latest "$REG_HOST/mnt/b:v1"
assert_eq "$REG_HOST/mnt/b:v1@$APP_DIG" "$LAST_OUT" "pushed to b"
assert_eq 0 "$(uploads mnt/b)" "uploads into b (everything was in a)"
assert_eq 3 "$(mounts mnt/b mnt/a)" "mounts into b from a"
assert_contains "$LAST_ERR" "Mounted from mnt/a"

# without what the cache remembers: uploaded
export XDG_CACHE_HOME=$TEST_TMP/cache2
assert_exit 0 run_ctd --root "$CTD_ROOT" --plain-http example.test/idp/app:latest \
	"$REG_HOST/mnt/c:v1"
assert_eq 3 "$(uploads mnt/c)" "uploads into c (a new cache)"
log "PASS"
