#!/bin/bash
# tests/integration/t_registry_cancel.sh: interrupting and timing out a push.
# A fault proxy in front of a plain-HTTP registry stalls the first PATCH after
# 64 KiB of body, so the engine is provably mid-upload. Then:
#   SIGINT  -> exit 130 within a few seconds, the upload session is DELETEd
#              (registry log), nothing is tagged;
#   --timeout 3s -> exit 6, the session is DELETEd, nothing is tagged.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/registry.sh"
. "$TEST_LIB/image.sh"
. "$TEST_LIB/verify.sh"
. "$TEST_LIB/proxy.sh"
need docker-registry skopeo curl
need_engine

start_registry plain
L="$TEST_TMP/layout"
make_oci_layout "$L" --docker 4000000 >/dev/null

deletes() { reg_log_requests DELETE "/v2/giteaadmin/$1/blobs/uploads/" | grep -c . || true; }

# 1. SIGINT while a PATCH is stalled
start_fault_proxy "$REG_HOST" --stall --cut-after 65536
T="$FAULT_HOST/giteaadmin/cancel:v1"
"$ENGINE_PUSH" --plain-http --jobs 1 "$L" "$T" >"$TEST_TMP/c.out" 2>"$TEST_TMP/c.err" &
pid=$!
track_pid "$pid"
wait_until 30 grep -q STALL "$FAULT_LOG" || fail "the engine never reached the stalled PATCH"
t0=$SECONDS
kill -INT "$pid"
set +e
wait "$pid"
rc=$?
set -e
assert_eq 130 "$rc" "exit code after SIGINT mid-upload"
[ $((SECONDS - t0)) -le 5 ] || fail "the engine took $((SECONDS - t0)) s to stop after SIGINT"
wait_until 10 test "$(deletes cancel)" -ge 1 || fail "the upload session was not DELETEd after SIGINT"
assert_contains "$(cat "$TEST_TMP/c.err")" "interrupted" "message after SIGINT"
assert_not_tagged "$REG_HOST/giteaadmin/cancel:v1" "${SKOPEO_FLAGS[@]}"

# 2. the overall deadline
start_fault_proxy "$REG_HOST" --stall --cut-after 65536
T="$FAULT_HOST/giteaadmin/deadline:v1"
assert_exit 6 run_engine --plain-http --jobs 1 --timeout 3s "$L" "$T"
assert_contains "$LAST_ERR" "time limit" "message after the deadline"
wait_until 10 test "$(deletes deadline)" -ge 1 || fail "the upload session was not DELETEd after the deadline"
assert_not_tagged "$REG_HOST/giteaadmin/deadline:v1" "${SKOPEO_FLAGS[@]}"

log "PASS"
