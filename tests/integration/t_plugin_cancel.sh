#!/bin/bash
# tests/integration/t_plugin_cancel.sh: cancelling docker-idppush mid-push,
# while `docker save` (a fake docker, tests/tools/fake_docker.sh) stalls half
# way through a layer: SIGINT, and EOF on DOCKER_CLI_PLUGIN_SOCKET (the docker
# CLI's cancel channel, an abstract unix socket). Each time: exit 130 within
# a few seconds, the open upload session DELETEd (the registry holds no
# upload), nothing tagged. And an
# `image inspect` that hangs: --timeout (exit 6) and SIGINT (130) end it.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$top_srcdir/tests/lib/plugin.sh"
need docker-registry skopeo curl python3
need_plugin
fake_docker_setup
export XDG_CACHE_HOME="$TEST_TMP/cache"

L="$TEST_TMP/layout"
make_oci_layout "$L" --oci 4000000 >/dev/null
fixture oci-inside "$L" big:v1
start_registry plain
export FAKE_DOCKER_STALL=60
DELETES=0

# started in the background; waits until the upload has begun
start_push() { # TAG
	"$PLUGIN" --registry "$REG_HOST" --plain-http --progress plain big:v1 \
		"$REG_HOST/giteaadmin/big:$1" \
		>"$TEST_TMP/$1.out" 2>"$TEST_TMP/$1.err" &
	PUSH_PID=$!
	track_pid "$PUSH_PID"
	wait_until 20 grep -q "Pushing" "$TEST_TMP/$1.err" ||
		fail "the push did not start: $(cat "$TEST_TMP/$1.err")"
	sleep 0.5
}

# gone or a zombie (kill -0 succeeds on zombies)
push_ended() {
	local st
	st=$(ps -o stat= -p "$PUSH_PID" 2>/dev/null) || return 0
	case "$st" in Z*) return 0 ;; esac
	return 1
}

# wait for PUSH_PID to end within SECS; its exit code in PUSH_RC
wait_push() { # SECS
	local t0=$SECONDS
	wait_until "$1" push_ended || {
		ps -o pid,stat,args -p "$PUSH_PID" >&2
		cat /proc/"$PUSH_PID"/task/*/stack >&2
		fail "the push did not stop within $1 s of the cancel"
	}
	set +e
	wait "$PUSH_PID"
	PUSH_RC=$?
	set -e
	log "stopped after $((SECONDS - t0)) s with exit code $PUSH_RC"
}

check_cancelled() { # TAG
	assert_eq 130 "$PUSH_RC" "exit code after cancel"
	assert_contains "$(cat "$TEST_TMP/$1.err")" "interrupted"
	assert_not_tagged "$REG_HOST/giteaadmin/big:$1" "${SKOPEO_FLAGS[@]}"
	local n
	n=$(reg_log_requests DELETE '/v2/giteaadmin/big/blobs/uploads/' | wc -l)
	[ "$n" -gt "$DELETES" ] || fail "the upload session was not DELETEd"
	DELETES=$n
	# no upload held (its data; distribution leaves hashstates/sha256/0)
	assert_eq "" "$(find "$REG_DATA" -path '*/_uploads/*' -name data)" "uploads held"
}

# 1. SIGINT
start_push sigint
kill -INT "$PUSH_PID"
wait_push 5
check_cancelled sigint

# 2. the docker CLI closes the plugin socket
SOCK="idptest-$RANDOM$RANDOM"
"$PYTHON" - "$SOCK" "$TEST_TMP/close-now" <<'PY' &
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\0" + sys.argv[1]); s.listen(1)
open(sys.argv[2] + ".ready", "w").close()
c, _ = s.accept()
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
c.close(); s.close()
PY
track_pid $!
wait_until 10 test -e "$TEST_TMP/close-now.ready" || fail "the socket listener did not start"
export DOCKER_CLI_PLUGIN_SOCKET="@$SOCK"
start_push socket
touch "$TEST_TMP/close-now"
wait_push 5
check_cancelled socket
unset DOCKER_CLI_PLUGIN_SOCKET

# 3. waiting for the docker CLI is bounded too: an `image inspect` that
# hangs meets --timeout (exit 6, "timed out") and the first SIGINT (130)
export FAKE_DOCKER_INSPECT_STALL=120
t0=$SECONDS
assert_exit 6 timeout 60 "$PLUGIN" --registry "$REG_HOST" --plain-http --timeout 3s big:v1
[ $((SECONDS - t0)) -le 15 ] || fail "a hanging image inspect took $((SECONDS - t0)) s"
assert_contains "$LAST_ERR" "timed out"
: >"$FAKE_DOCKER_DIR/calls"
"$PLUGIN" --registry "$REG_HOST" --plain-http big:v1 >/dev/null 2>"$TEST_TMP/inspect.err" &
PUSH_PID=$!
track_pid "$PUSH_PID"
wait_until 10 grep -q 'image inspect' "$FAKE_DOCKER_DIR/calls" || fail "inspect never ran"
kill -INT "$PUSH_PID"
wait_push 5
assert_eq 130 "$PUSH_RC" "exit code after SIGINT during image inspect"
unset FAKE_DOCKER_INSPECT_STALL
log "cancel checks passed"
