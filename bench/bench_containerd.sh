#!/bin/bash
# bench/bench_containerd.sh: a benchmark, not a test. Pushes the same image
# from a private containerd to fresh private docker-registry instances with
#   1. ctr images push (containerd's own client),
#   2. idppush-containerd,
#   3. one raw `curl` PUT of the same bytes (all blobs concatenated, one
#      monolithic upload: the floor for "move N bytes over HTTP"),
# and prints the wall times and the ratios (idppush/ctr, idppush/curl).
# Target (issue 4): faster than ctr, within 10% of the curl PUT.
# Needs root, containerd, ctr, docker-registry, curl. Knobs:
#   BENCH_LAYERS (default 4), BENCH_LAYER_MB (default 64), BENCH_JOBS (default 4),
#   top_builddir (where idppush-containerd is built; default .).
# Usage: sudo top_builddir=/path/to/build bench/bench_containerd.sh
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
top_builddir=$(cd "$top_builddir" && pwd)
. "$top_srcdir/tests/lib/common.sh"
. "$TEST_LIB/registry.sh"
. "$TEST_LIB/image.sh"
. "$top_srcdir/tests/integration/t_containerd_env.sh"
need docker-registry curl
need_ctd

LAYERS=${BENCH_LAYERS:-4}
MB=${BENCH_LAYER_MB:-64}
JOBS=${BENCH_JOBS:-4}
IMG=example.test/bench/img:latest

# now_ms: wall clock in milliseconds
now_ms() { date +%s%3N; }

ctd_start
L="$TEST_TMP/layout"
sizes=()
for _ in $(seq 1 "$LAYERS"); do sizes+=($((MB * 1000 * 1000))); done
log "generating $LAYERS layers of $MB MB"
DIG=$(make_oci_layout "$L" --oci "${sizes[@]}")
ctd_import default example.test/bench/img "$L"
BYTES=$(du -cb "$L"/blobs/sha256/* | tail -n1 | cut -f1)

# 1. ctr images push
start_registry plain
t0=$(now_ms)
"${CTR[@]}" images push --plain-http "$REG_HOST/bench/ctr:v1" "$IMG" >"$TEST_TMP/ctr-push.log" 2>&1 ||
	{ tail "$TEST_TMP/ctr-push.log" >&2; fail "ctr images push failed"; }
T_CTR=$(($(now_ms) - t0))

# 2. idppush-containerd
start_registry plain
t0=$(now_ms)
run_ctd --root "$CTD_ROOT" --plain-http --jobs "$JOBS" -q "$IMG" "$REG_HOST/bench/idp:v1" >"$TEST_TMP/idp.out" ||
	fail "idppush-containerd failed"
T_IDP=$(($(now_ms) - t0))
assert_eq "$REG_HOST/bench/idp@$DIG" "$(cat "$TEST_TMP/idp.out")" "pushed digest"

# 3. one raw curl PUT of the same bytes
start_registry plain
cat "$L"/blobs/sha256/* >"$TEST_TMP/all.bin"
CDIG=sha256:$(sha256_file "$TEST_TMP/all.bin")
t0=$(now_ms)
LOC=$(curl -sS -X POST -D - -o /dev/null "$REG_URL/v2/bench/curl/blobs/uploads/" | tr -d '\r' |
	awk 'tolower($1) == "location:" { print $2 }')
case "$LOC" in http*) ;; *) LOC="$REG_URL$LOC" ;; esac
case "$LOC" in *\?*) SEP='&' ;; *) SEP='?' ;; esac
code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' \
	-T "$TEST_TMP/all.bin" "$LOC${SEP}digest=$CDIG")
T_CURL=$(($(now_ms) - t0))
[ "$code" = 201 ] || fail "curl PUT answered $code"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
printf '\nimage: %d layers x %d MB, %d bytes in blobs, --jobs %d\n' "$LAYERS" "$MB" "$BYTES" "$JOBS"
printf '  ctr images push        %7d ms\n' "$T_CTR"
printf '  idppush-containerd     %7d ms\n' "$T_IDP"
printf '  curl PUT (same bytes)  %7d ms\n' "$T_CURL"
printf 'ratios: idppush/ctr = %s (target < 1.00), idppush/curl = %s (target <= 1.10)\n' \
	"$(ratio "$T_IDP" "$T_CTR")" "$(ratio "$T_IDP" "$T_CURL")"
