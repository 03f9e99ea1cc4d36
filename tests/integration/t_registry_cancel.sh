#!/bin/bash
# tests/integration/t_registry_cancel.sh: interrupting and timing out a push.
# A fault proxy in front of a plain-HTTP registry stalls the first PATCH after
# 64 KiB of body, so the engine is provably mid-upload. Then:
#   SIGINT  -> exit 130 within a few seconds, the upload session is DELETEd
#              (registry log), nothing is tagged;
#   SIGINT in the middle of a request (nothing stalled), from a file and
#           from a stream -> the registry holds no upload afterwards;
#   --timeout 3s -> exit 6, the session is DELETEd, nothing is tagged;
#   --stall-timeout 2s -> the stalled PATCH is given up, resumed, push succeeds.
# And retries: a 503 with Retry-After is retried (twice, honouring the
# delay) and the push succeeds; a 400 is not retried (exit 5).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$top_srcdir/tests/lib/plugin.sh"
need docker-registry skopeo curl
need_engine
need_plugin
fake_docker_setup
export XDG_CACHE_HOME="$TEST_TMP/cache"
CTD_ADAPTER="${CTD_ADAPTER:-$top_builddir/idppush-containerd}"

start_registry plain
L="$TEST_TMP/layout"
make_oci_layout "$L" --docker 4000000 >/dev/null

deletes() { reg_log_requests DELETE "/v2/giteaadmin/$1/blobs/uploads/" | grep -c . || true; }

# interrupt NAME READY CMD...: CMD in the background, SIGINT once READY
# (a command) holds: it must exit 130 within 5 s, saying so (its output
# in $TEST_TMP/NAME.out and .err)
interrupt() {
	local name=$1 ready=$2 pid rc t0
	shift 2
	"$@" >"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err" &
	pid=$!
	track_pid "$pid"
	wait_until 30 "$ready" || fail "$name: the push never got where it is interrupted"
	t0=$SECONDS
	kill -INT "$pid"
	set +e
	wait "$pid"
	rc=$?
	set -e
	assert_eq 130 "$rc" "$name: exit code after SIGINT"
	[ $((SECONDS - t0)) -le 5 ] || fail "$name: $((SECONDS - t0)) s to stop after SIGINT"
	assert_contains "$(cat "$TEST_TMP/$name.err")" "interrupted" "$name: message after SIGINT"
}

# 1. SIGINT while a PATCH is stalled
start_fault_proxy "$REG_HOST" --stall --cut-after 65536
stalled() { grep -q STALL "$FAULT_LOG"; }
interrupt cancel stalled "$ENGINE_PUSH" --plain-http --jobs 1 "$L" \
	"$FAULT_HOST/giteaadmin/cancel:v1"
wait_until 10 test "$(deletes cancel)" -ge 1 ||
	fail "the upload session was not DELETEd after SIGINT"
assert_not_tagged "$REG_HOST/giteaadmin/cancel:v1" "${SKOPEO_FLAGS[@]}"

# 1b. SIGINT in the middle of a request, nothing stalled (--limit-rate
# keeps the push inside one PATCH): the registry holds no upload
# afterwards, for both read paths: a file (idppush-containerd
# --oci-layout) and a stream (docker-idppush, docker save). distribution
# keeps the bytes of a request cut short under an upload state that no
# longer matches, so the request is sent to its end (at full speed)
# before the session is deleted. (An upload held is its data and
# startedat files; distribution 2.8.2 leaves an empty hashstates/sha256/0
# behind every DELETE it answers 204: no upload.)
start_registry plain
uploads() { find "$REG_DATA" -path '*/_uploads/*' \( -name data -o -name startedat \); }
receiving() { find "$REG_DATA" -path '*/_uploads/*/data' -size +0 | grep -q .; }
SLOW=(--plain-http --limit-rate 500k --chunk-size 64m -q)
interrupt file receiving "$CTD_ADAPTER" "${SLOW[@]}" --oci-layout "$L" \
	"$REG_HOST/giteaadmin/file:v1"
assert_eq "" "$(uploads)" "file: uploads the registry still holds"
fixture oci-inside "$L" big:v1
interrupt stream receiving "$PLUGIN" "${SLOW[@]}" big:v1 "$REG_HOST/giteaadmin/stream:v1"
assert_eq "" "$(uploads)" "stream: uploads the registry still holds"
for name in file stream; do
	assert_not_tagged "$REG_HOST/giteaadmin/$name:v1" "${SKOPEO_FLAGS[@]}"
done

# 2. the overall deadline
start_fault_proxy "$REG_HOST" --stall --cut-after 65536
T="$FAULT_HOST/giteaadmin/deadline:v1"
assert_exit 6 run_engine --plain-http --jobs 1 --timeout 3s "$L" "$T"
assert_contains "$LAST_ERR" "time limit" "message after the deadline"
wait_until 10 test "$(deletes deadline)" -ge 1 ||
	fail "the upload session was not DELETEd after the deadline"
assert_not_tagged "$REG_HOST/giteaadmin/deadline:v1" "${SKOPEO_FLAGS[@]}"

# 3. a stalled transfer times out (--stall-timeout), is resumed and succeeds
start_fault_proxy "$REG_HOST" --stall --cut-after 65536
T="$FAULT_HOST/giteaadmin/stall:v1"
DIG=$(layout_manifest_digest "$L")
assert_push_ok "$T" "$DIG" --plain-http --jobs 1 --stall-timeout 2s --retry-initial-ms 100 "$L" "$T"
assert_contains "$LAST_ERR" "resuming the upload" "the stalled upload was resumed"
verify_pushed "$REG_HOST/giteaadmin/stall:v1" "$L" "${SKOPEO_FLAGS[@]}"

# 4. 503 with Retry-After on the manifest PUT is retried; a 400 is not
start_fault_proxy "$REG_HOST" --respond 503 --retry-after 1 --times 2 \
	--match '^PUT /v2/[^ ]*/manifests/'
T="$FAULT_HOST/giteaadmin/retry:v1"
assert_push_ok "$T" "$DIG" --plain-http --retry-initial-ms 50 "$L" "$T"
assert_eq 2 "$(grep -c ANSWERED "$FAULT_LOG")" "injected 503 answers"
assert_contains "$LAST_ERR" "retrying in 1.0 s" "Retry-After honoured"
start_fault_proxy "$REG_HOST" --respond 400 --times 5 --match '^PUT /v2/[^ ]*/manifests/'
T="$FAULT_HOST/giteaadmin/noretry:v1"
assert_exit 5 run_engine --plain-http --retry-initial-ms 50 "$L" "$T"
assert_eq 1 "$(grep -c ANSWERED "$FAULT_LOG")" "a 400 must not be retried"
assert_not_tagged "$REG_HOST/giteaadmin/noretry:v1" "${SKOPEO_FLAGS[@]}"

log "PASS"

# 5. a credential helper that never answers meets --timeout: exit 6 with
# "timed out", within seconds (it is stopped, not waited for)
mkdir -p "$TEST_TMP/bin" "$TEST_TMP/dcfg"
printf '#!/bin/sh\nexec sleep 120\n' >"$TEST_TMP/bin/docker-credential-sleepy"
chmod +x "$TEST_TMP/bin/docker-credential-sleepy"
printf '{"credsStore":"sleepy"}\n' >"$TEST_TMP/dcfg/config.json"
t0=$SECONDS
assert_exit 6 run_engine_env PATH="$TEST_TMP/bin:$PATH" -- --plain-http --timeout 3s \
	--docker-config "$TEST_TMP/dcfg" "$L" "$REG_HOST/giteaadmin/helper:v1"
[ $((SECONDS - t0)) -le 15 ] || fail "a hanging credential helper took $((SECONDS - t0)) s"
assert_contains "$LAST_ERR" "timed out"
log "cancel and timeout checks passed"
