#!/bin/bash
# tests/integration/t_faults.sh: faults injected between both front ends
# and a real registry (tests/lib/faultproxy.py), each push's end state
# checked with skopeo (the tag points at exactly the local digest):
#   a connection reset in the first, a middle and the last chunk of a
#   5-chunk layer, for idppush-containerd (an OCI layout, read straight
#   from the file) and docker-idppush (a docker save stream, compressed on
#   the fly and spooled);
#   the registry crashing and restarting while an upload is in flight, and
#   down for a few seconds (one warning per recovery step, one count);
#   bursts of 429 and 503 answers with Retry-After on uploads and HEADs;
#   a token that the registry stops accepting while docker save is slow.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$top_srcdir/tests/lib/plugin.sh"
need docker-registry skopeo curl
need_plugin
CTD_ADAPTER="${CTD_ADAPTER:-$top_builddir/idppush-containerd}"
[ -x "$CTD_ADAPTER" ] || fail "adapter not built: $CTD_ADAPTER"
fake_docker_setup
export XDG_CACHE_HOME="$TEST_TMP/cache"
FAST=(--retries 4)

start_registry plain
REG=$REG_HOST
# one 2.5 MB layer (5 chunks of 512 KiB, the last 400 KB) and a tiny one
L="$TEST_TMP/layout"
make_oci_layout "$L" --oci 2500000 300 >/dev/null
fixture oci-inside "$L" app:v1
DIG=$(layout_manifest_digest "$L")

adapter() { timeout -k 5 180 "$CTD_ADAPTER" "$@"; }

# reset_case FRONT CHUNK SKIP: cut the PATCH after SKIP larger ones
reset_case() {
	local front=$1 what=$2 skip=$3 t
	rm -rf "$XDG_CACHE_HOME"
	start_fault_proxy "$REG" --match '^PATCH ' --skip "$skip" --cut-after 100000
	t="$FAULT_HOST/giteaadmin/$front-$what:v1"
	if [ "$front" = adapter ]; then
		assert_exit 0 adapter --oci-layout "$L" --plain-http --jobs 1 --chunk-size 512k \
			"${FAST[@]}" "$t"
		assert_eq "$t@$DIG" "$LAST_OUT" "adapter result after a reset in the $what chunk"
		verify_pushed "$REG/giteaadmin/$front-$what:v1" "$L" "${SKOPEO_FLAGS[@]}"
	else
		assert_exit 0 run_plugin --registry "$FAULT_HOST" --plain-http --jobs 1 \
			--chunk-size 512k "${FAST[@]}" app:v1 "$t"
		verify_image "$REG/giteaadmin/$front-$what:v1" "${LAST_OUT#*@}" "$L" \
			"${SKOPEO_FLAGS[@]}"
	fi
	assert_file_contains "$FAULT_LOG" "CUT PATCH .* after 100000 body bytes" \
		"a PATCH was cut ($front, $what chunk)"
}

# 1. resets: first, middle, last chunk, both front ends
for front in adapter plugin; do
	reset_case "$front" first 0
	reset_case "$front" middle 2
	reset_case "$front" last 4
done

# outage NAME SECS: the adapter pushes giteaadmin/NAME through a proxy
# that holds every PATCH 400 ms; while the layer is being sent the
# registry crashes and comes back SECS later; the push must succeed (its
# stderr in $TEST_TMP/NAME.err)
delayed() { [ "$(grep -c 'DELAY PATCH' "$FAULT_LOG")" -ge "$1" ]; }
outage() {
	local name=$1 secs=$2 t pid rc
	start_fault_proxy "$REG" --match '^PATCH ' --times 0 --delay-ms 400
	t="$FAULT_HOST/giteaadmin/$name:v1"
	adapter --oci-layout "$L" --plain-http --jobs 1 --chunk-size 512k --retries 8 "$t" \
		>"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err" &
	pid=$!
	track_pid "$pid"
	wait_until 60 delayed 2 || fail "$name: the upload never got going"
	kill -KILL "$REG_PID"
	sleep "$secs"
	restart_registry
	set +e
	wait "$pid"
	rc=$?
	set -e
	assert_eq 0 "$rc" "$name: exit code after the outage ($(cat "$TEST_TMP/$name.err"))"
	assert_eq "$t@$DIG" "$(cat "$TEST_TMP/$name.out")" "$name: result"
	verify_pushed "$REG/giteaadmin/$name:v1" "$L" "${SKOPEO_FLAGS[@]}"
}

# 2. the registry crashes while an upload is in flight and comes back: the
# request in flight fails, the upload is resumed (or restarted) once the
# registry answers again.
outage crash 0
grep -q 'resuming the upload\|starting the upload again\|retrying' "$TEST_TMP/crash.err" ||
	fail "the crash was not noticed (scenario not exercised): $(cat "$TEST_TMP/crash.err")"

# 2b. the registry is down for a few seconds in the middle of an upload:
# one warning per recovery step, one count of attempts (the status GET
# that resumes is no attempt of its own with a count of its own)
outage down 3
grep -q 'resuming the upload' "$TEST_TMP/down.err" ||
	fail "no upload was resumed (scenario not exercised): $(cat "$TEST_TMP/down.err")"
counts=$(grep -o 'attempt [0-9]* of [0-9]*' "$TEST_TMP/down.err" | sort | uniq -d)
[ -z "$counts" ] || fail "two counts of attempts ($counts): $(cat "$TEST_TMP/down.err")"

# 3. bursts of 429 and 503 with Retry-After: on PATCH (both front ends),
# on HEAD (the adapter)
for code in 429 503; do
	start_fault_proxy "$REG" --respond "$code" --retry-after 1 --times 3 --match '^PATCH '
	t="$FAULT_HOST/giteaadmin/burst$code:v1"
	assert_exit 0 adapter --oci-layout "$L" --plain-http --jobs 1 --chunk-size 512k \
		--retries 5 "$t"
	assert_eq 3 "$(grep -c ANSWERED "$FAULT_LOG")" "injected $code answers"
	assert_contains "$LAST_ERR" "in 1.0 s" "Retry-After honoured ($code)"
	verify_pushed "$REG/giteaadmin/burst$code:v1" "$L" "${SKOPEO_FLAGS[@]}"
	rm -rf "$XDG_CACHE_HOME"
	start_fault_proxy "$REG" --respond "$code" --retry-after 1 --times 3 --match '^PATCH '
	t="$FAULT_HOST/giteaadmin/pburst$code:v1"
	assert_exit 0 run_plugin --registry "$FAULT_HOST" --plain-http --jobs 1 \
		--chunk-size 512k --retries 5 app:v1 "$t"
	verify_image "$REG/giteaadmin/pburst$code:v1" "${LAST_OUT#*@}" "$L" "${SKOPEO_FLAGS[@]}"
done
start_fault_proxy "$REG" --respond 503 --retry-after 1 --times 4 --match '^HEAD '
t="$FAULT_HOST/giteaadmin/headburst:v1"
assert_exit 0 adapter --oci-layout "$L" --plain-http --retries 5 "$t"
verify_pushed "$REG/giteaadmin/headburst:v1" "$L" "${SKOPEO_FLAGS[@]}"

# 4. a token the registry stops accepting (usable 5 s, the client is told
# nothing about its life) while docker save is slow: the next request gets
# 401, a new token is fetched, the push finishes
start_registry token --lifetime -55
rm -rf "$XDG_CACHE_HOME"
export FAKE_DOCKER_STALL=8
t="$REG_HOST/giteaadmin/tok:v1"
assert_exit 0 run_plugin --ca-cert "$REG_CA" -u "$REG_USER" --password-stdin --jobs 1 \
	--chunk-size 512k app:v1 "$t" <<<"$REG_PASS"
unset FAKE_DOCKER_STALL
verify_image "$t" "${LAST_OUT#*@}" "$L" "${SKOPEO_FLAGS[@]}"
grep -q 'token not to be used after' "$REG_LOG" ||
	fail "the registry never refused the expired token: scenario not exercised"
log "fault injection cases passed"
