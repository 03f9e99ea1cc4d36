#!/bin/bash
# tests/integration/t_multi_target.sh: several destinations in one run, both
# front ends, against two real docker-registry instances. The image is read
# once (one `docker save`); each blob is uploaded once per registry and
# mounted into the other repositories of that registry (counted in the
# registry logs); a result line per target; every target verified with
# skopeo. Both stream shapes (stored layers, and layers we compress). A
# re-push to the same registry runs no docker save. A target that cannot be
# reached stops the run before anything is tagged anywhere. --digest-file
# gets the (one) digest.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$top_srcdir/tests/lib/plugin.sh"
need docker-registry skopeo curl python3
need_plugin
CTD_ADAPTER="${CTD_ADAPTER:-$top_builddir/idppush-containerd}"
fake_docker_setup
export XDG_CACHE_HOME="$TEST_TMP/cache"

L="$TEST_TMP/layout"
make_oci_layout "$L" --oci 700000 0 300000 >/dev/null
NBLOBS=4   # three layers and the config
fixture oci-inside "$L" app:v1
LEG="$FAKE_DOCKER_DIR/$(_fkey leg:v1)"
"$PYTHON" "$SAVE_FIXTURE" legacy-v1 "$L" leg:v1 "$LEG.tar" "$LEG.inspect.json"

start_registry plain
R1=$REG_HOST R1_LOG=$REG_LOG R1_DATA=$REG_DATA
start_registry plain
R2=$REG_HOST R2_LOG=$REG_LOG

# uploads REPO LOG: blob uploads finished into REPO (PUT ...?digest=)
uploads() { reg_log_requests PUT "/v2/$1/blobs/uploads/[^ ]*digest=" "$2" | wc -l; }
mounts() { reg_log_requests POST "/v2/$1/blobs/uploads/\\?mount=" "$2" | wc -l; }
saves() { grep -cE '(^| )save ' "$FAKE_DOCKER_DIR/calls" 2>/dev/null || true; }
run_ctd_adapter() { timeout -k 5 180 "$CTD_ADAPTER" "$@"; }

# check_run PREFIX SHAPE-IMAGE: the three targets of the last run
check_run() {
	local p=$1 n
	n=$(printf '%s\n' "$LAST_OUT" | grep -c .)
	assert_eq 3 "$n" "result lines"
	D=${LAST_OUT%%$'\n'*}
	D=${D#*@}
	assert_eq "$R1/giteaadmin/${p}a:v1@$D
$R1/giteaadmin/${p}b:v1@$D
$R2/giteaadmin/${p}c:v1@$D" "$LAST_OUT" "result lines"
	verify_image "$R1/giteaadmin/${p}a:v1" "$D" "$L" --tls-verify=false
	verify_image "$R1/giteaadmin/${p}b:v1" "$D" "$L" --tls-verify=false
	verify_image "$R2/giteaadmin/${p}c:v1" "$D" "$L" --tls-verify=false
	assert_eq "$NBLOBS" "$(uploads "giteaadmin/${p}a" "$R1_LOG")" "uploads into ${p}a"
	assert_eq 0 "$(uploads "giteaadmin/${p}b" "$R1_LOG")" "uploads into ${p}b (mounted)"
	[ "$(mounts "giteaadmin/${p}b" "$R1_LOG")" -ge "$NBLOBS" ] ||
		fail "${p}b: blobs not mounted from ${p}a"
	assert_eq "$NBLOBS" "$(uploads "giteaadmin/${p}c" "$R2_LOG")" "uploads into ${p}c"
}

# 1. the plugin, layers stored in the stream (OCI inside)
before=$(saves)
assert_exit 0 run_plugin --plain-http --digest-file "$TEST_TMP/digest" app:v1 \
	"$R1/giteaadmin/sa:v1" "$R1/giteaadmin/sb:v1" "$R2/giteaadmin/sc:v1"
check_run s
assert_eq $((before + 1)) "$(saves)" "docker save runs"
assert_eq "$D" "$(cat "$TEST_TMP/digest")" "--digest-file"

# 2. the plugin, layers compressed by us (legacy shape): same bytes everywhere
assert_exit 0 run_plugin --plain-http leg:v1 \
	"$R1/giteaadmin/la:v1" "$R1/giteaadmin/lb:v1" "$R2/giteaadmin/lc:v1"
n=$(printf '%s\n' "$LAST_OUT" | cut -d@ -f2 | sort -u | wc -l)
assert_eq 1 "$n" "one digest for the three targets"
for t in "$R1/giteaadmin/la:v1" "$R1/giteaadmin/lb:v1" "$R2/giteaadmin/lc:v1"; do
	skopeo_run inspect --tls-verify=false "docker://$t" >/dev/null || fail "$t missing"
done
assert_eq 0 "$(uploads giteaadmin/lb "$R1_LOG")" "uploads into lb (mounted)"

# 3. again, two tags on one registry: the cache knows it, no docker save
before=$(saves)
assert_exit 0 run_plugin --plain-http app:v1 "$R1/giteaadmin/sa:v1" "$R1/giteaadmin/sd:v1"
assert_eq "$before" "$(saves)" "docker save runs on a re-push"
verify_image "$R1/giteaadmin/sd:v1" "${LAST_OUT##*@}" "$L" --tls-verify=false

# 4. the adapter, from an OCI layout
assert_exit 0 run_ctd_adapter --plain-http --oci-layout "$L" \
	"$R1/giteaadmin/ca:v1" "$R1/giteaadmin/cb:v1" "$R2/giteaadmin/cc:v1"
check_run c

# 5. one target unreachable: nothing tagged anywhere
dead=127.0.0.1:$(free_port)
assert_exit 3 run_plugin --plain-http app:v1 "$R1/giteaadmin/xa:v1" "$dead/giteaadmin/xb:v1"
assert_contains "$LAST_ERR" "$dead/giteaadmin/xb:v1"
[ ! -e "$R1_DATA/docker/registry/v2/repositories/giteaadmin/xa" ] ||
	fail "xa was written although a target was unreachable"
