#!/bin/bash
# tests/integration/t_user_plugin.sh: what a new user meets with `docker
# idppush`, through the real docker CLIs and a private dockerd
# (Debian's docker.io 20.10), against a plain HTTP registry on loopback:
#  - -v says what was decided (credentials, how the image is read, the
#    chunk size, the docker commands run) in a few lines, no HTTP trace;
#    -vv adds the trace.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/containerd.sh"
. "$TEST_LIB/dockerd.sh"
. "$top_srcdir/tests/lib/plugin.sh"
need skopeo docker-registry curl python3
need_plugin
export XDG_CACHE_HOME="$TEST_TMP/cache"
need_dockerd
dockerd_start

DC="$TEST_TMP/dockercfg"
plugin_install "$DC"
export DOCKER_CONFIG="$DC"
unset DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND || true
CLIS=(/usr/bin/docker)
[ -x /usr/local/bin/docker ] && CLIS+=(/usr/local/bin/docker)

L1="$TEST_TMP/l1"
make_oci_layout "$L1" --oci 300000 2000 >/dev/null
load_layout "$L1" myapp:dev
start_registry plain
R=$REG_HOST

# dp CLI ARGS...: `docker idppush ARGS...` through CLI and the private daemon
dp() {
	local cli=$1
	shift
	timeout -k 5 300 "$cli" -H "$DH" idppush "$@"
}

# ---- -v: decisions, one line each, no trace; -vv: the trace too ----
for cli in "${CLIS[@]}"; do
	rm -rf "$XDG_CACHE_HOME"
	assert_exit 0 dp "$cli" -v --progress plain --registry "$R" myapp:dev "$R/v/myapp:dev"
	assert_not_contains "$LAST_ERR" "debug:" "$cli: -v shows the HTTP trace"
	assert_contains "$LAST_ERR" "docker-idppush: credentials for $R: no credentials"
	assert_contains "$LAST_ERR" \
		"docker-idppush: uploads start with 64 MiB requests (the default)"
	assert_contains "$LAST_ERR" "docker-idppush: docker daemon: Engine API at unix://"
	n=$(printf '%s\n' "$LAST_ERR" | wc -l)
	[ "$n" -le 16 ] || fail "$cli: -v printed $n lines: $LAST_ERR"
	assert_exit 0 dp "$cli" -vv --progress plain --registry "$R" myapp:dev "$R/v/myapp:dev2"
	assert_contains "$LAST_ERR" "docker-idppush: debug: > HEAD" "$cli: -vv shows the trace"
	assert_contains "$LAST_ERR" "docker-idppush: credentials for $R: no credentials" "-vv"
	assert_exit 0 dp "$cli" -v -v --progress json --registry "$R" myapp:dev "$R/v/myapp:dev3"
	assert_contains "$LAST_ERR" '{"event":"debug","message":"> HEAD' "$cli: -v -v, JSON"
done
# through the docker CLI (IDPPUSH_NO_API): each docker command and how it ended
assert_exit 0 env IDPPUSH_NO_API=1 timeout -k 5 300 /usr/bin/docker -H "$DH" idppush -v \
	--progress plain --registry "$R" myapp:dev "$R/v/myapp:cli"
assert_contains "$LAST_ERR" "docker-idppush: ran docker image inspect: exit 0"
assert_not_contains "$LAST_ERR" "debug:" "-v through the docker CLI"
log "PASS"
