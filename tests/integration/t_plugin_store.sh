#!/bin/bash
# tests/integration/t_plugin_store.sh: the plugin's fast paths with a real
# private dockerd (overlay2): the Engine API over its unix socket instead of
# `docker image inspect`, and the layers read straight from docker's layer
# store instead of `docker save`. Images are built with `docker build`
# FROM scratch (no network) and loaded with `docker load` (a 0-byte layer,
# a duplicated layer). The docker CLI the plugin runs is a wrapper that
# counts its commands. Checked:
#  - a cold push and a rebuild (v2 = v1 + a top layer) run no docker save
#    and no docker image inspect; skopeo verifies them (digest, config,
#    diffIDs); the digests equal those of pushes forced through docker save
#    (IDPPUSH_NO_STORE=1), into other repositories with a fresh cache;
#  - the same through the real docker CLI (-v says which path was taken);
#    GET /info's answer comes from the push cache for the same run of the
#    daemon (pid and start time), not for another;
#  - a layer file replaced by a symlink (same bytes) is not followed: the
#    push falls back to docker save, which dockerd serves, and is correct;
#  - a layer file with other bytes: the store's diffID check fails, the
#    fallback's docker save fails too (dockerd's own check): exit 1, and
#    nothing is tagged;
#  - the CLI is used when the daemon is not a local socket (DOCKER_CONTEXT,
#    IDPPUSH_NO_API) and a missing image is exit 4 through the API too.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/containerd.sh"
. "$TEST_LIB/dockerd.sh"
. "$top_srcdir/tests/lib/plugin.sh"
need skopeo docker-registry curl python3
plugin_dockerd

# the docker CLI the plugin runs, counting what it is asked
CALLS="$TEST_TMP/calls"
WRAP="$TEST_TMP/docker-wrap"
cat >"$WRAP" <<EOF
#!/bin/sh
# counts the plugin's docker commands for t_plugin_store.sh
echo "\$*" >>"$CALLS"
exec /usr/bin/docker "\$@"
EOF
chmod +x "$WRAP"
: >"$CALLS"
export DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND="$WRAP"
saves() { grep -c ' save ' "$CALLS" || true; }
inspects() { grep -c ' inspect ' "$CALLS" || true; }
DR=$DOCKERD_ROOT/image/overlay2
config_of() { # IMAGE: its config file in the store
	echo "$DR/imagedb/content/sha256/$(dk image inspect -f '{{.Id}}' "$1" | cut -d: -f2)"
}
top_file() { # IMAGE NAME: the file NAME of IMAGE's top layer, in its diff dir
	local chain
	chain=$("$PYTHON" -c 'import hashlib, sys
c = sys.argv[1]
for d in sys.argv[2:]:
    c = "sha256:" + hashlib.sha256((c + " " + d).encode()).hexdigest()
print(c[7:])' $(dk image inspect -f '{{range .RootFS.Layers}}{{.}} {{end}}' "$1"))
	echo "$DOCKERD_ROOT/overlay2/$(cat "$DR/layerdb/sha256/$chain/cache-id")/diff/$2"
}

# ---- images ----
B="$TEST_TMP/build"
mkdir -p "$B/d/e" "$B/empty"
head -c 300000 /dev/urandom >"$B/big.bin"
echo hello >"$B/a.txt"
: >"$B/d/zero"
echo deep >"$B/d/e/f"
ln -s ../a.txt "$B/d/link"
printf 'v2 app\n' >"$B/app2.txt"
printf 'v3 app\n' >"$B/app3.txt"
printf 'v4 app\n' >"$B/app4.txt"
printf 'FROM scratch\nCOPY a.txt /a.txt\nCOPY big.bin /big.bin\nCOPY d /d\n' >"$B/Dockerfile1"
build() { # TAG DOCKERFILE-TEXT
	printf '%s\n' "$2" >"$B/Dockerfile.$1"
	DOCKER_BUILDKIT=0 dk build -q -f "$B/Dockerfile.$1" -t "$1" "$B" >/dev/null ||
		fail "docker build $1"
}
build app:v1 "$(cat "$B/Dockerfile1")"
build app:v2 "FROM app:v1
COPY app2.txt /app.txt"
build app:v3 "FROM app:v1
COPY app3.txt /app.txt"
build app:v4 "FROM app:v1
COPY app4.txt /app.txt"
L1="$TEST_TMP/l1"
make_oci_layout "$L1" --oci 0 200000 3000 >/dev/null
load_layout "$L1" multi:v1
L2="$TEST_TMP/l2"
make_oci_layout "$L2" --oci 4000 20000 >/dev/null
"$PYTHON" "$SAVE_FIXTURE" dup-layer "$L2"
load_layout "$L2" dup:v1

start_registry plain
push() { # ENV... -- IMAGE TARGET [more plugin args]: the plugin as docker runs it
	local -a env=()
	while [ "$1" != -- ]; do env+=("$1"); shift; done
	shift
	assert_exit 0 env "${env[@]}" timeout -k 5 120 "$PLUGIN" -H "$DH" idppush \
		--plain-http -q "$@"
	DIG=${LAST_OUT#*@}
}
export XDG_CACHE_HOME="$TEST_TMP/cache"
SLOW=(XDG_CACHE_HOME="$TEST_TMP/cache-slow" IDPPUSH_NO_STORE=1)

# ---- cold push and rebuild: no docker save, no docker image inspect ----
push -- app:v1 "$REG_HOST/fast/app:v1"
assert_eq 0 "$(saves)" "docker save runs for a cold push from the store"
assert_eq 0 "$(inspects)" "docker image inspect runs with the Engine API at hand"
verify_image "$REG_HOST/fast/app:v1" "$DIG" "$(config_of app:v1)" "${SKOPEO_FLAGS[@]}"
D1=$DIG
push -- app:v2 "$REG_HOST/fast/app:v2"
assert_eq 0 "$(saves)" "docker save runs for a rebuild"
verify_image "$REG_HOST/fast/app:v2" "$DIG" "$(config_of app:v2)" "${SKOPEO_FLAGS[@]}"
D2=$DIG
# the rebuild uploaded only the new layer and the config
n=$(reg_log_requests PUT "/v2/fast/app/blobs/uploads/" | wc -l)
assert_eq 6 "$n" "blobs uploaded for v1 (4: 3 layers + config) and v2 (2)"

# the same bytes as through docker save
push "${SLOW[@]}" -- app:v1 "$REG_HOST/slow/app:v1"
assert_eq "$D1" "$DIG" "digest of app:v1 through docker save"
push "${SLOW[@]}" -- app:v2 "$REG_HOST/slow/app:v2"
assert_eq "$D2" "$DIG" "digest of app:v2 through docker save"
assert_eq 2 "$(saves)" "docker save runs with IDPPUSH_NO_STORE=1"
for c in zstd; do
	push -- --compression "$c" app:v2 "$REG_HOST/fast/app:$c"
	Z=$DIG
	push "${SLOW[@]}" -- --compression "$c" app:v2 "$REG_HOST/slow/app:$c"
	assert_eq "$Z" "$DIG" "digest of app:v2 ($c) through docker save"
done
# loaded images: a 0-byte layer, a layer twice
for img in multi dup; do
	: >"$CALLS"
	push -- "$img:v1" "$REG_HOST/fast/$img:v1"
	assert_eq 0 "$(saves)" "docker save runs for $img:v1"
	[ "$img" = multi ] && lay=$L1 || lay=$L2
	verify_image "$REG_HOST/fast/$img:v1" "$DIG" "$lay" "${SKOPEO_FLAGS[@]}"
	F=$DIG
	push "${SLOW[@]}" -- "$img:v1" "$REG_HOST/slow/$img:v1"
	assert_eq "$F" "$DIG" "digest of $img:v1 through docker save"
done

# ---- through the real docker CLI ----
unset DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND
assert_exit 0 timeout -k 5 120 /usr/bin/docker -H "$DH" idppush --plain-http -v \
	app:v3 "$REG_HOST/fast/app:v3"
assert_contains "$LAST_ERR" "docker daemon: Engine API at unix://"
assert_contains "$LAST_ERR" "path: docker's layer store ($DOCKERD_ROOT, overlay2)"
assert_not_contains "$LAST_ERR" "docker save"
verify_image "$REG_HOST/fast/app:v3" "${LAST_OUT#*@}" "$(config_of app:v3)" \
	"${SKOPEO_FLAGS[@]}"
# GET /info is asked once per run of the daemon: the pushes above left its
# answer in the push cache, under the daemon's pid and start time
DPIDNOW=$(cat "$(dirname "$DOCKERD_ROOT")/pid")
assert_contains "$LAST_ERR" "docker daemon: pid $DPIDNOW, GET /info known from the push cache"
# a record of another run (its start time differs) is not used: asked
# again, the store read as before, the record replaced
"$PYTHON" - "$XDG_CACHE_HOME/idppush/push-cache.json" <<'PY' || fail "cannot edit the push cache"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["daemons"], "no daemon recorded"
for d in c["daemons"]:
    d["started"] += 1
json.dump(c, open(sys.argv[1], "w"))
PY
for want in asked known; do
	printf '%s app\n' "$want" >"$B/app-$want.txt"
	build "app:$want" "FROM app:v1
COPY app-$want.txt /app.txt"
	assert_exit 0 timeout -k 5 120 /usr/bin/docker -H "$DH" idppush --plain-http -v \
		"app:$want" "$REG_HOST/fast/app:$want"
	assert_contains "$LAST_ERR" "path: docker's layer store ($DOCKERD_ROOT, overlay2)"
	if [ "$want" = asked ]; then
		assert_not_contains "$LAST_ERR" "GET /info known"
	else
		assert_contains "$LAST_ERR" "pid $DPIDNOW, GET /info known from the push cache"
	fi
done
export DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND="$WRAP"

# ---- a symlink in the layer's directory is not followed ----
f=$(top_file app:v4 app.txt)
[ -f "$f" ] || fail "no $f"
cp "$f" "$TEST_TMP/outside.txt"
rm "$f"
ln -s "$TEST_TMP/outside.txt" "$f"
: >"$CALLS"
push -- -v app:v4 "$REG_HOST/fast/app:v4"
assert_contains "$LAST_ERR" "cannot open 'app.txt'"
assert_contains "$LAST_ERR" "path: docker save, converted (docker's layer store failed"
assert_eq 1 "$(saves)" "docker save runs after the store failed"
verify_image "$REG_HOST/fast/app:v4" "$DIG" "$(config_of app:v4)" "${SKOPEO_FLAGS[@]}"
D4=$DIG
push "${SLOW[@]}" -- app:v4 "$REG_HOST/slow/app:v4"
assert_eq "$D4" "$DIG" "digest of app:v4 through docker save"

# ---- other bytes in a layer file: both paths refuse ----
f=$(top_file app:v3 app.txt)
printf 'V3 APP\n' >"$f"
export XDG_CACHE_HOME="$TEST_TMP/cache-tamper"
assert_exit 1 timeout -k 5 120 "$PLUGIN" -H "$DH" idppush --plain-http -v app:v3 \
	"$REG_HOST/tamper/app:v3"
assert_contains "$LAST_ERR" "hashes to"
assert_contains "$LAST_ERR" "path: docker save, converted (docker's layer store failed"
assert_contains "$LAST_ERR" "docker save failed"
assert_not_tagged "$REG_HOST/tamper/app:v3" "${SKOPEO_FLAGS[@]}"

# ---- the CLI when the API is not the way ----
: >"$CALLS"
assert_exit 0 env IDPPUSH_NO_API=1 timeout -k 5 120 "$PLUGIN" -H "$DH" idppush --plain-http \
	-v -q app:v2 "$REG_HOST/cli/app:v2"
assert_contains "$LAST_ERR" "through the docker CLI: IDPPUSH_NO_API is set"
assert_eq "$D2" "${LAST_OUT#*@}" "digest of app:v2 through the CLI"
assert_eq 1 "$(inspects)" "docker image inspect runs with IDPPUSH_NO_API=1"
assert_eq 1 "$(saves)" "docker save runs with IDPPUSH_NO_API=1"
assert_exit 1 env DOCKER_CONTEXT=nosuch timeout -k 5 60 "$PLUGIN" -v \
	--plain-http app:v2 "$REG_HOST/cli/app:ctx"
assert_contains "$LAST_ERR" "through the docker CLI: context 'nosuch' (DOCKER_CONTEXT)"
assert_exit 4 timeout -k 5 60 "$PLUGIN" -H "$DH" idppush --plain-http nosuch:image \
	"$REG_HOST/cli/nosuch:x"
assert_contains "$LAST_ERR" "image 'nosuch:image' not found locally"
log "ok"
