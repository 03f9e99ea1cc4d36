#!/bin/bash
# tests/integration/t_plugin_relay.sh: the plugin as a non-root member of
# the docker socket's group, against a real private dockerd 20.10 (overlay2,
# whose store it cannot read): the daemon pushes the image itself through
# the plugin's loopback relay (common/docker/relay.h). Checked:
#  - a cold push and a rebuild go through the relay at once (-v says so:
#    no store probe) and push the digest `docker push` pushes (into a
#    loopback registry without credentials the daemon sends the layers
#    itself, into upload sessions handed over to it); the rebuild
#    uploads only the new layer and the config (the daemon's own layer
#    cache, at the relay's stable port); a push of nothing new is the push
#    cache's one HEAD;
#  - several targets on two registries get the same digest;
#  - the registry's TLS and Basic credentials (flags) are the engine's: the
#    daemon has neither the CA nor the password, and the push works;
#  - no temporary tag or digest reference of the relay is left after
#    success, after the registry refused the blobs (exit 5: the daemon's
#    own upload first, its retry seen and the push done again through the
#    relay at once, whose upload is refused too), after SIGINT
#    mid-push (exit 130) and after --timeout (exit 6), and no manifest was
#    put then;
#  - a daemon in a network namespace of its own (as a rootless dockerd is)
#    cannot reach the relay: the push falls back to docker save and works.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/containerd.sh"
. "$TEST_LIB/dockerd.sh"
. "$TEST_LIB/dockerd_ctd.sh"
. "$TEST_LIB/registry.sh"
. "$top_srcdir/tests/lib/plugin.sh"
need skopeo docker-registry curl python3 setpriv unshare pgrep
need_plugin
need_dockerd
[ "$(id -u)" = 0 ] || skip "a test user and a private dockerd need root"
dkc_test_user
dockerd_start --group "$DKC_GROUP"
plugin_install "$DKC_USER_DOCKER_CONFIG"
chown -R "$DKC_USER:" "$DKC_USER_DOCKER_CONFIG"
UP=$DKC_USER_DOCKER_CONFIG/cli-plugins/docker-idppush

# ---- images ----
B=$TEST_TMP/build
mkdir -p "$B"
head -c 3000000 /dev/urandom >"$B/big.bin"
head -c 60000000 /dev/urandom >"$B/huge.bin"
echo hello >"$B/a.txt"
echo v2 >"$B/v2.txt"
build() { # TAG DOCKERFILE-TEXT
	printf '%s\n' "$2" >"$B/Dockerfile.$1"
	DOCKER_BUILDKIT=0 dk build -q -f "$B/Dockerfile.$1" -t "$1" "$B" >/dev/null ||
		fail "docker build $1"
}
build app:v1 "FROM scratch
COPY big.bin /big.bin
COPY a.txt /a.txt"
build app:v2 "FROM app:v1
COPY v2.txt /v2.txt"
build huge:v1 "FROM scratch
COPY huge.bin /huge.bin"

# upush CODE ARGS...: the plugin as the test user (exit CODE)
upush() {
	local want=$1
	shift
	assert_exit "$want" dkc_as_user env IDPBUILDER_PUSH_RETRY_ATTEMPTS=1 \
		timeout -k 5 120 "$UP" -H "$DH" idppush "$@"
}
# docker_push IMAGE REF: what `docker push` pushes for IMAGE, as REF
docker_push() {
	dk tag "$1" "$2"
	dk push "$2" | sed -n 's/.*digest: \(sha256:[0-9a-f]*\) .*/\1/p'
}
digest_of() { # REF [SKOPEO FLAGS]: the manifest digest a registry serves
	local ref=$1
	shift
	skopeo_run inspect --raw "$@" "docker://$ref" | sha256sum | sed 's/^/sha256:/; s/ .*//'
}
# no_relay_refs: nothing names the relay (no temporary tag, no digest reference)
no_relay_refs() {
	local refs
	refs=$(dk image ls --digests --format '{{.Repository}}:{{.Tag}} {{.Digest}}')
	assert_not_contains "$refs" "idppush-" "a temporary tag is left ($1)"
	assert_not_contains "$refs" "127.0.0.1:$RELAY_PORT/" "a relay reference is left ($1)"
}

start_registry plain
R1=$REG_HOST
R1_LOG=$REG_LOG
uploads() { reg_log_requests PUT "/v2/$1/blobs/uploads/" "$R1_LOG" | wc -l; }

# ---- cold, rebuild, nothing changed: docker push's digests ----
upush 0 --plain-http -v app:v1 "$R1/r/app:v1"
assert_contains "$LAST_ERR" "pushed by the docker daemon through the relay on 127.0.0.1:"
assert_contains "$LAST_ERR" "the daemon's image store not read: the daemon (pid"
assert_not_contains "$LAST_ERR" "layer store not read" "a new image: no store probe"
RELAY_PORT=$(sed -n 's/.*through the relay on 127\.0\.0\.1:\([0-9]*\).*/\1/p' <<<"$LAST_ERR")
# a loopback registry without credentials: the daemon sends the layers there itself
assert_contains "$LAST_ERR" "upload(s) sent by the daemon straight to $R1"
assert_not_contains "$LAST_ERR" "again, every byte through the relay"
assert_not_contains "$LAST_ERR" "relay: PATCH /v2/r/app/blobs/uploads/" "bytes through the relay"
D1=${LAST_OUT#*@}
assert_eq "$D1" "$(digest_of "$R1/r/app:v1" --tls-verify=false)" "the registry serves v1"
no_relay_refs "after the cold push"
n=$(uploads r/app)
upush 0 --plain-http -v app:v2 "$R1/r/app:v2"
assert_contains "$LAST_ERR" "through the relay on 127.0.0.1:$RELAY_PORT" "the relay's port moved"
D2=${LAST_OUT#*@}
assert_eq 2 "$(($(uploads r/app) - n))" "the rebuild's uploads (the new layer and the config)"
upush 0 --plain-http -v app:v2 "$R1/r/app:v2"
assert_contains "$LAST_ERR" "nothing changed"
assert_eq "$D2" "${LAST_OUT#*@}" "nothing changed: the same digest"
assert_eq "$D1" "$(docker_push app:v1 "$R1/dp/app:v1")" "docker push's digest of v1"
assert_eq "$D2" "$(docker_push app:v2 "$R1/dp/app:v2")" "docker push's digest of v2"
no_relay_refs "after the rebuild"

# ---- several targets, two registries ----
start_registry plain
R2=$REG_HOST
upush 0 --plain-http app:v2 "$R1/m/a:t" "$R1/m/b:t" "$R2/m/c:t"
for ref in "$R1/m/a:t" "$R1/m/b:t" "$R2/m/c:t"; do
	assert_eq "$D2" "$(digest_of "$ref" --tls-verify=false)" "digest of $ref"
done

# ---- TLS and Basic credentials are the engine's alone ----
start_registry tls-htpasswd
upush 0 --ca-cert "$REG_CA" --username "$REG_USER" --password "$REG_PASS" app:v2 \
	"$REG_HOST/s/app:v2"
assert_eq "$D2" "${LAST_OUT#*@}" "digest through the relay into a TLS registry"
assert_eq "$D2" "$(digest_of "$REG_HOST/s/app:v2" "${SKOPEO_FLAGS[@]}")" "the registry's"
! grep -q -- "$REG_PASS" "$TEST_TMP/dockerd.log" || fail "the password reached the daemon"
no_relay_refs "after a push into a TLS registry"

# ---- failures leave nothing behind ----
start_hostile_registry patch-fails
upush 5 --plain-http -v huge:v1 "$HOSTILE_HOST/f/huge:v1"
# the daemon's own upload failed: its retries (5 to 25 s apart) are not
# waited for, the push is done again through the relay, which fails it
assert_contains "$LAST_ERR" "Retrying in"
assert_contains "$LAST_ERR" "again, every byte through the relay"
assert_eq 0 "$(hostile_count 'r["method"] == "PUT" and "/manifests/" in r["path"]')" \
	"a manifest was put after the registry refused the blobs"
no_relay_refs "after the registry refused"

# SIGINT and --timeout while the huge layer goes up slowly (--limit-rate)
dkc_as_user timeout -k 5 120 "$UP" -H "$DH" idppush --plain-http --limit-rate 2M \
	huge:v1 "$R1/c/huge:v1" >"$TEST_TMP/int.out" 2>"$TEST_TMP/int.err" &
bgpid=$!
wait_until 30 grep -q "PATCH /v2/c/huge/" "$R1_LOG" || fail "the huge layer's upload did not start"
pkill -INT -u "$DKC_USER" -x idppush-plugin || fail "no idppush-plugin to interrupt"
rc=0
wait "$bgpid" || rc=$?
assert_eq 130 "$rc" "exit code after SIGINT ($(cat "$TEST_TMP/int.err"))"
! skopeo_run inspect --raw --tls-verify=false "docker://$R1/c/huge:v1" >/dev/null 2>&1 ||
	fail "a manifest was put after SIGINT"
no_relay_refs "after SIGINT"
upush 6 --plain-http --limit-rate 2M --timeout 3 huge:v1 "$R1/t/huge:v1"
no_relay_refs "after --timeout"

# ---- a daemon that cannot reach the relay: docker save ----
dockerd_stop
dockerd_start --group "$DKC_GROUP" --netns
upush 0 --plain-http -v app:v1 "$R1/ns/app:v1"
assert_contains "$LAST_ERR" "did not reach the relay"
assert_contains "$LAST_ERR" "docker save"
ID1=$(dk image inspect -f '{{.Id}}' app:v1)
verify_image "$R1/ns/app:v1" "${LAST_OUT#*@}" \
	"$DOCKERD_ROOT/image/overlay2/imagedb/content/sha256/${ID1#sha256:}" --tls-verify=false
no_relay_refs "after the fallback"
log "ok"
