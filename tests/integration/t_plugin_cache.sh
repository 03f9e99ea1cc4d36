#!/bin/bash
# tests/integration/t_plugin_cache.sh: docker-idppush's push cache
# (docs/cache.md) against a real docker-registry, with the fake `docker`
# (tests/tools/fake_docker.sh logs every invocation):
#  - re-push of the same image: no `docker save`, same digest, "Layer
#    already exists", no upload; cache dir 0700, file 0600;
#  - a new top layer over the same lower layers: docker save runs, only the
#    new layer (and the new config) is uploaded; same in the legacy shape,
#    where the layers are found through the cached v1 id -> diffID map and
#    progress shows 12 hex of the diffID, not the v1 directory name;
#  - another repository on the same registry: layers and config mounted
#    (?mount= in the registry log), no docker save;
#  - a garbage, binary or half-valid cache file: a warning, never a crash,
#    and the push works and rewrites it; two concurrent pushes leave a
#    valid cache; ten pushes at once lose no entry; the same image from
#    three processes at once.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$top_srcdir/tests/lib/plugin.sh"
need docker-registry skopeo curl python3
need_plugin
fake_docker_setup
export XDG_CACHE_HOME="$TEST_TMP/xdg-cache"
CACHE="$XDG_CACHE_HOME/idppush/push-cache.json"

L="$TEST_TMP/l1"
make_oci_layout "$L" --oci 0 700000 1500000 300 >/dev/null
L2="$TEST_TMP/l2"
cp -r "$L" "$L2"
"$PYTHON" "$SAVE_FIXTURE" new-top "$L2" 400000
fixture oci-inside "$L" app:v1
fixture oci-inside "$L2" app:v2
legacy_v1() { # LAYOUT NAME:TAG
	local k
	k="$FAKE_DOCKER_DIR/$(printf '%s' "$2" | tr '/:' '__')"
	"$PYTHON" "$SAVE_FIXTURE" legacy-v1 "$1" "$2" "$k.tar" "$k.inspect.json"
}
legacy_v1 "$L" leg:v1
legacy_v1 "$L2" leg:v2

start_registry plain
P=(--registry "$REG_HOST" --plain-http)
uploads() { reg_log_requests POST "/v2/giteaadmin/$1/blobs/uploads/" | grep -vc 'mount=' || true; }
saves() { grep -cE '(^| )save ' "$FAKE_DOCKER_DIR/calls" || true; }

# 1. first push fills the cache (0700 dir, 0600 file)
assert_exit 0 run_plugin "${P[@]}" -q app:v1
D1=${LAST_OUT#*@}
verify_image "$REG_HOST/giteaadmin/app:v1" "$D1" "$L" "${SKOPEO_FLAGS[@]}"
[ -f "$CACHE" ] || fail "no cache file at $CACHE"
assert_eq 600 "$(stat -c %a "$CACHE")" "cache file mode"
assert_eq 700 "$(stat -c %a "$(dirname "$CACHE")")" "cache directory mode"
"$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["blobs"]) == 5, d' \
	"$CACHE" ||
	fail "cache does not hold 4 layers + the config: $(cat "$CACHE")"

# 2. re-push: no docker save, same digest, nothing uploaded; the tag names
# the manifest the cache gives already, so that one HEAD is all it asks
heads() { reg_log_requests HEAD "/v2/giteaadmin/app/blobs/" | wc -l; }
mputs() { reg_log_requests PUT "/v2/giteaadmin/app/manifests/" | wc -l; }
: >"$FAKE_DOCKER_DIR/calls"
before=$(uploads app) heads0=$(heads) mputs0=$(mputs)
assert_exit 0 run_plugin "${P[@]}" --progress plain -v app:v1
assert_eq 0 "$(saves)" "docker save runs on a cached re-push: $(cat "$FAKE_DOCKER_DIR/calls")"
assert_eq "$REG_HOST/giteaadmin/app:v1@$D1" "$LAST_OUT" "cached re-push result"
assert_eq 4 "$(grep -c "Layer already exists" <<<"$LAST_ERR")" "layers shown as there"
assert_contains "$LAST_ERR" "nothing changed: the registry has manifest $D1 under v1 already"
assert_eq "$before" "$(uploads app)" "uploads during a cached re-push"
assert_eq 0 "$(grep -c Pushed <<<"$LAST_ERR" || true)" "'Pushed' lines in a cached re-push"
assert_eq "$heads0" "$(heads)" "blob HEADs when the tag names the manifest already"
assert_eq "$mputs0" "$(mputs)" "manifest PUTs when the tag names the manifest already"
# the tag moved (the image in OCI format pushed under it: another
# manifest): the blobs are probed and the manifest put again, still
# without docker save
assert_exit 0 run_plugin "${P[@]}" -q --format oci app:v1 "$REG_HOST/giteaadmin/app:v1"
[ "${LAST_OUT#*@}" != "$D1" ] || fail "the OCI manifest has the digest of the Docker one"
: >"$FAKE_DOCKER_DIR/calls"
heads0=$(heads) mputs0=$(mputs)
assert_exit 0 run_plugin "${P[@]}" -q app:v1
assert_eq "$REG_HOST/giteaadmin/app:v1@$D1" "$LAST_OUT" "re-push over a moved tag"
assert_eq 0 "$(saves)" "docker save runs on a re-push over a moved tag"
[ "$(heads)" -gt "$heads0" ] || fail "the blobs were not probed after the tag moved"
assert_eq "$((mputs0 + 1))" "$(mputs)" "manifest PUTs after the tag moved"
verify_image "$REG_HOST/giteaadmin/app:v1" "$D1" "$L" "${SKOPEO_FLAGS[@]}"
# the same from the OCI format: a first push and a re-push give one digest
assert_exit 0 run_plugin "${P[@]}" -q --format oci app:v1 "$REG_HOST/giteaadmin/app:oci"
: >"$FAKE_DOCKER_DIR/calls"
DO=${LAST_OUT#*@}
assert_exit 0 run_plugin "${P[@]}" -q --format oci app:v1 "$REG_HOST/giteaadmin/app:oci"
assert_eq "$DO" "${LAST_OUT#*@}" "--format oci cached re-push digest"
assert_eq 0 "$(saves)" "docker save on an OCI re-push"

# 3. a new top layer: docker save runs, only the new layer and config go up
: >"$FAKE_DOCKER_DIR/calls"
before=$(uploads app)
assert_exit 0 run_plugin "${P[@]}" --progress plain app:v2
assert_eq 1 "$(saves)" "docker save runs for a changed image"
assert_eq 2 "$(($(uploads app) - before))" "uploads for a new top layer (layer + config)"
assert_eq 3 "$(grep -c 'Layer already exists' <<<"$LAST_ERR")" "lower layers already there"
verify_image "$REG_HOST/giteaadmin/app:v2" "${LAST_OUT#*@}" "$L2" "${SKOPEO_FLAGS[@]}"

# 4. legacy shape (<v1id>/layer.tar), own cache: the v1 id -> diffID map
export XDG_CACHE_HOME="$TEST_TMP/xdg-legacy"
assert_exit 0 run_plugin "${P[@]}" -q leg:v1 "$REG_HOST/giteaadmin/leg:v1"
verify_image "$REG_HOST/giteaadmin/leg:v1" "${LAST_OUT#*@}" "$L" "${SKOPEO_FLAGS[@]}"
grep -q '"v1ids":\[{' "$XDG_CACHE_HOME/idppush/push-cache.json" || fail "no v1 ids in the cache"
before=$(uploads leg)
assert_exit 0 run_plugin "${P[@]}" --progress plain leg:v2 "$REG_HOST/giteaadmin/leg:v2"
assert_eq 2 "$(($(uploads leg) - before))" \
	"legacy: uploads for a new top layer (the v1 ids were recognised)"
verify_image "$REG_HOST/giteaadmin/leg:v2" "${LAST_OUT#*@}" "$L2" "${SKOPEO_FLAGS[@]}"
export XDG_CACHE_HOME="$TEST_TMP/xdg-cache"

# 5. another repository on the same registry: mounted, no docker save
: >"$FAKE_DOCKER_DIR/calls"
assert_exit 0 run_plugin "${P[@]}" --progress plain app:v1 "$REG_HOST/giteaadmin/other:v1"
assert_eq 0 "$(saves)" "docker save when everything can be mounted"
assert_contains "$LAST_ERR" "Mounted from giteaadmin/app"
[ "$(reg_log_requests POST "/v2/giteaadmin/other/blobs/uploads/\\?mount=" | wc -l)" -ge 5 ] ||
	fail "no cross-repo mounts in the registry log"
assert_eq 0 "$(uploads other)" "plain uploads to the mount target"
assert_eq "$REG_HOST/giteaadmin/other:v1@$D1" "$LAST_OUT" "mounted push digest"
verify_image "$REG_HOST/giteaadmin/other:v1" "$D1" "$L" "${SKOPEO_FLAGS[@]}"

# 6. damaged cache files: a warning, the push works, the file is rewritten
good="$TEST_TMP/good-cache.json"
cp "$CACHE" "$good"
for kind in text binary empty halfvalid; do
	case $kind in
	text) printf 'garbage{{{ not json' >"$CACHE" ;;
	binary) head -c 5000 /dev/urandom >"$CACHE" ;;
	empty) : >"$CACHE" ;;
	halfvalid)
		printf '%s' '{"version":1,"blobs":[{"registry":5},7,{"diffid":"sha256:zz"}],' \
			'"v1ids":"x"}' >"$CACHE"
		;;
	esac
	assert_exit 0 run_plugin "${P[@]}" app:v1 "$REG_HOST/giteaadmin/app:dmg-$kind"
	assert_eq "$REG_HOST/giteaadmin/app:dmg-$kind@$D1" "$LAST_OUT" "push with a $kind cache"
	case $kind in
	text | binary) assert_contains "$LAST_ERR" "warning: ignoring the push cache" ;;
	halfvalid) assert_contains "$LAST_ERR" "damaged entries" ;;
	esac
	"$PYTHON" -c 'import json,sys; assert json.load(open(sys.argv[1]))["version"] == 1' \
		"$CACHE" ||
		fail "cache not rewritten after a $kind file"
	assert_eq 600 "$(stat -c %a "$CACHE")" "rewritten cache file mode"
done
chmod 000 "$CACHE"
if [ "$(id -u)" != 0 ]; then
	assert_exit 0 run_plugin "${P[@]}" -q app:v1 "$REG_HOST/giteaadmin/app:unreadable"
fi
chmod 600 "$CACHE"

# 7. concurrent pushes sharing one cache: both succeed, the file stays valid
cp "$good" "$CACHE"
run_plugin "${P[@]}" -q app:v2 "$REG_HOST/giteaadmin/c1:v2" >"$TEST_TMP/c1.out" 2>&1 &
p1=$!
run_plugin "${P[@]}" -q app:v1 "$REG_HOST/giteaadmin/c2:v1" >"$TEST_TMP/c2.out" 2>&1 &
p2=$!
wait "$p1" || fail "concurrent push 1: $(cat "$TEST_TMP/c1.out")"
wait "$p2" || fail "concurrent push 2: $(cat "$TEST_TMP/c2.out")"
"$PYTHON" -c 'import json,sys; json.load(open(sys.argv[1]))' "$CACHE" ||
	fail "cache damaged by concurrent pushes"
[ -z "$(find "$(dirname "$CACHE")" -name 'push-cache.json.*')" ] ||
	fail "temp files left in the cache directory"
# 7b. ten pushes of different images at once, one cache: all succeed with
# the exact digests, and no push's entries are lost (the cache is merged
# under a lock). A cache of 4000 entries makes each merge take a while.
"$PYTHON" - "$CACHE" <<'PY'
import json, sys
blobs = [{"registry": "far.example:5000", "repository": "x/y%d" % i,
          "diffid": "sha256:%064x" % i, "digest": "sha256:%064x" % (i + 10**6),
          "size": i, "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
          "producer": "gzip/0"} for i in range(4000)]
json.dump({"version": 1, "blobs": blobs, "v1ids": []}, open(sys.argv[1], "w"))
PY
pids=()
for i in $(seq 1 10); do
	make_oci_layout "$TEST_TMP/par$i" --oci 30000 >/dev/null
	fixture oci-inside "$TEST_TMP/par$i" "par$i:v1"
done
for i in $(seq 1 10); do
	run_plugin "${P[@]}" -q "par$i:v1" >"$TEST_TMP/par$i.out" 2>"$TEST_TMP/par$i.err" &
	pids+=($!)
done
for i in $(seq 1 10); do
	wait "${pids[$((i - 1))]}" || fail "parallel push $i: $(cat "$TEST_TMP/par$i.err")"
done
for i in $(seq 1 10); do
	out=$(cat "$TEST_TMP/par$i.out")
	verify_image "$REG_HOST/giteaadmin/par$i:v1" "${out#*@}" "$TEST_TMP/par$i" \
		"${SKOPEO_FLAGS[@]}"
done
lost() { fail "entries lost from the cache by parallel pushes: $(cat "$TEST_TMP"/par*.err)"; }
"$PYTHON" - "$CACHE" "$REG_HOST" <<'PY' || lost
import json, sys
d = json.load(open(sys.argv[1]))
repos = {b["repository"] for b in d["blobs"] if b["registry"] == sys.argv[2]}
missing = ["giteaadmin/par%d" % i for i in range(1, 11) if "giteaadmin/par%d" % i not in repos]
assert not missing, missing
PY
# the same image from three processes at once: all succeed, same digest
pids=()
for i in 1 2 3; do
	run_plugin "${P[@]}" -q par1:v1 "$REG_HOST/giteaadmin/same:v1" >"$TEST_TMP/same$i.out" \
		2>"$TEST_TMP/same$i.err" &
	pids+=($!)
done
for i in 1 2 3; do
	wait "${pids[$((i - 1))]}" || fail "same-image push $i: $(cat "$TEST_TMP/same$i.err")"
	assert_eq "$(cat "$TEST_TMP/par1.out" | sed 's|/par1:v1@|/same:v1@|')" \
		"$(cat "$TEST_TMP/same$i.out")" "result of same-image push $i"
done
"$PYTHON" -c 'import json,sys; json.load(open(sys.argv[1]))' "$CACHE" || fail "cache damaged"

# 8. legacy progress by diffID: on a registry the cache knows nothing
# about, every layer is pushed, shown by its diffID (the cached v1 id map)
export XDG_CACHE_HOME="$TEST_TMP/xdg-legacy"
start_registry plain
assert_exit 0 run_plugin --registry "$REG_HOST" --plain-http --progress plain leg:v1
for d in $("$PYTHON" -c 'import json,sys; print(" ".join(x[7:19] for x in
		json.load(open(sys.argv[1]))[0]["RootFS"]["Layers"]))' \
		"$FAKE_DOCKER_DIR/leg_v1.inspect.json"); do
	assert_contains "$LAST_ERR" "$d: Pushed" "legacy progress by diffID"
done
verify_image "$REG_HOST/giteaadmin/leg:v1" "${LAST_OUT#*@}" "$L" "${SKOPEO_FLAGS[@]}"
log "push cache checks passed"
