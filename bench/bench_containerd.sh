#!/bin/bash
# bench/bench_containerd.sh: a benchmark, not a test. Pushes the same image
# from a private containerd to fresh private docker-registry instances with
#   1. ctr images push (containerd's own client),
#   2. idppush-containerd,
#   3. one raw `curl` PUT of the same bytes (all blobs concatenated, one
#      monolithic upload: the floor for "move N bytes over HTTP"),
# and prints the wall times and the ratios (idppush/ctr, idppush/curl).
# Target: faster than ctr, within 10% of the curl PUT.
# Needs root, containerd, ctr, docker-registry, curl. Knobs:
#   BENCH_LAYERS (default 4), BENCH_LAYER_MB (default 64), BENCH_JOBS (default 4),
#   BENCH_RUNS (default 3; medians are reported), BENCH_CTD_FLAGS (more options
#   for idppush-containerd, e.g. "--chunk-size 1g"),
#   top_builddir (where idppush-containerd is built; default .).
# bench/run measures the same on a real image, next to the other scenarios.
# Usage: sudo top_builddir=/path/to/build bench/bench_containerd.sh
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
top_builddir=$(cd "$top_builddir" && pwd)
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/containerd_env.sh"
. "$top_srcdir/bench/lib.sh"
need docker-registry curl
need_ctd

LAYERS=${BENCH_LAYERS:-4}
MB=${BENCH_LAYER_MB:-64}
JOBS=${BENCH_JOBS:-4}
IMG=example.test/bench/img:latest

ctd_start
L="$TEST_TMP/layout"
sizes=()
for _ in $(seq 1 "$LAYERS"); do sizes+=($((MB * 1000 * 1000))); done
log "generating $LAYERS layers of $MB MB"
DIG=$(make_oci_layout "$L" --oci "${sizes[@]}")
ctd_import default example.test/bench/img "$L"
BYTES=$(du -cb "$L"/blobs/sha256/* | tail -n1 | cut -f1)

# One timed run of each peer, each against a fresh registry; the time (ms)
# goes into LAST_T (no subshell: the registries stay tracked for cleanup).
time_ctr() {
	start_registry plain
	local t0
	t0=$(now_ms)
	"${CTR[@]}" images push --plain-http "$REG_HOST/bench/ctr:v1" "$IMG" \
		>"$TEST_TMP/ctr-push.log" 2>&1 ||
		{ tail "$TEST_TMP/ctr-push.log" >&2; fail "ctr images push failed"; }
	LAST_T=$(($(now_ms) - t0))
}

time_idp() {
	start_registry plain
	local t0
	t0=$(now_ms)
	# shellcheck disable=SC2086 # BENCH_CTD_FLAGS: words
	run_ctd --root "$CTD_ROOT" --plain-http --jobs "$JOBS" ${BENCH_CTD_FLAGS:-} -q "$IMG" \
		"$REG_HOST/bench/idp:v1" >"$TEST_TMP/idp.out" ||
		fail "idppush-containerd failed"
	LAST_T=$(($(now_ms) - t0))
	assert_eq "$REG_HOST/bench/idp:v1@$DIG" "$(cat "$TEST_TMP/idp.out")" "pushed digest"
}

# one raw curl PUT of all the bytes (monolithic upload)
time_curl() {
	start_registry plain
	local t0 dig
	dig=sha256:$(sha256_file "$TEST_TMP/all.bin")
	t0=$(now_ms)
	curl_upload "$REG_URL" bench/curl "$TEST_TMP/all.bin" "$dig" || fail "curl upload failed"
	LAST_T=$(($(now_ms) - t0))
}

cat "$L"/blobs/sha256/* >"$TEST_TMP/all.bin"
RUNS=${BENCH_RUNS:-3}
C=() I=() U=()
# alternate the order between runs so that neither peer always goes first
for r in $(seq 1 "$RUNS"); do
	if [ $((r % 2)) = 1 ]; then order="ctr idp curl"; else order="curl idp ctr"; fi
	for peer in $order; do
		"time_$peer"
		case $peer in
		ctr) C+=("$LAST_T") ;;
		idp) I+=("$LAST_T") ;;
		curl) U+=("$LAST_T") ;;
		esac
	done
	log "run $r: ctr ${C[-1]} ms, idppush ${I[-1]} ms, curl ${U[-1]} ms"
done
T_CTR=$(median "${C[@]}") T_IDP=$(median "${I[@]}") T_CURL=$(median "${U[@]}")

printf '\nimage: %d layers x %d MB, %d bytes in blobs, --jobs %d, median of %d runs\n' \
	"$LAYERS" "$MB" "$BYTES" "$JOBS" "$RUNS"
printf '  ctr images push        %7d ms\n' "$T_CTR"
printf '  idppush-containerd     %7d ms\n' "$T_IDP"
printf '  curl PUT (same bytes)  %7d ms\n' "$T_CURL"
printf 'ratios: idppush/ctr = %s (target < 1.00), idppush/curl = %s (target <= 1.10)\n' \
	"$(ratio "$T_IDP" "$T_CTR")" "$(ratio "$T_IDP" "$T_CURL")"
