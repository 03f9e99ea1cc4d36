#!/bin/bash
# bench/bench_dockerd_ctd.sh: a benchmark, not a test. `docker push` from a
# dockerd on containerd's image store (Debian 13's dockerd 26 with the
# containerd snapshotter, bench/lib_ctd.sh) of an image `docker build` made
# (COPY of real directories, one layer each, BuildKit's attestation), to
# private docker-registry instances on 127.0.0.1. BENCH_RUNS times (default
# 3), each into a fresh registry:
#   cold      push of v1 into the empty registry
#   build     docker build after one COPY'd file of the top layer changed
#   rebuild   push of that build (same tag; only the new blobs go)
#   nothing   the same push again
#   save      docker save >/dev/null (what a save-based pusher reads first)
#   cli       docker image inspect: the CLI's start and one API call (a floor)
# and, when idppush-containerd is built (top_builddir), the same three pushes
# with it on dockerd's containerd root (--all-platforms --keep-attestations),
# into another fresh registry; its pushed digest must be docker push's.
# Prints each run and the medians (ms). Needs root; the first run fetches the
# Debian 13 packages (tests/lib/dockerd_ctd.sh). Knobs: BENCH_DIRS (the
# layers; the last one is the top layer, default /usr/lib/python3
# /usr/share/locale /usr/lib/gcc /usr/share/perl), BENCH_RUNS, BENCH_TIMEOUT,
# IDPPUSH_DKC_CLI (the docker CLI), top_builddir, TMPDIR, KEEP_TMP=1.
# Usage: sudo top_builddir=/path/to/build bench/bench_dockerd_ctd.sh
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
export LC_ALL=C
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
top_builddir=$(cd "$top_builddir" && pwd)
CI=true # a missing component is an error here, not a skip
. "$top_srcdir/tests/lib/common.sh"
TEST_NAME=bench-dkc
. "$top_srcdir/bench/lib.sh"
. "$top_srcdir/bench/lib_ctd.sh"
need docker-registry curl tar
RUNS=${BENCH_RUNS:-3}
read -ra DIRS <<<"${BENCH_DIRS:-/usr/lib/python3 /usr/share/locale /usr/lib/gcc /usr/share/perl}"
CTD_ADAPTER=${CTD_ADAPTER:-$top_builddir/idppush-containerd}
WITH_CTD=0
[ -x "$CTD_ADAPTER" ] && WITH_CTD=1
export DOCKER_TIMEOUT=${BENCH_TIMEOUT:-1800}

bench_dkc_start
bench_dkc_image "${DIRS[@]}"
declare -A T=()
N=0
# timed NAME: run CMD (bench_time); its wall time (ms) appended to T[NAME]
timed() {
	N=$((N + 1))
	local -a so=()
	[ -z "${OUTF:-}" ] || so=(--stdout "$OUTF")
	bench_time "${so[@]}" "$LOGS/$N.$1.log" "${CMD[@]}"
	T[$1]+="${T[$1]:+ }$((LAST_US / 1000))"
	LAST_LOG=$LOGS/$N.$1.log
	OUTF=
}
# pushed_digest: the digest docker push printed in LAST_LOG
pushed_digest() { sed -n 's/.*: digest: \(sha256:[0-9a-f]*\) size.*/\1/p' "$LAST_LOG"; }

for run in $(seq 1 "$RUNS"); do
	# back to v1 (the same bytes each run: the tag is moved, not rebuilt)
	dkc tag bench/app:base bench/app:v1
	assert_eq "$V1" "$(dkc image inspect -f '{{.Id}}' bench/app:v1)" "bench/app:v1"
	start_registry plain
	R=$REG_HOST/bench/app:v1
	dkc tag bench/app:v1 "$R"
	cmd_dkc_push "$R"
	timed cold
	assert_eq "$V1" "$(pushed_digest)" "digest of the cold push"
	cmd_dkc_save bench/app:v1
	timed save
	CMD=("$DKC_CLI" -H "$DKC_H" image inspect -f '{{.Id}}' bench/app:v1)
	timed cli
	bench_dkc_touch "$CTX"
	bench_dkc_build bench/app:v1 "$CTX"
	T[build]+="${T[build]:+ }$((LAST_US / 1000))"
	V2=$DKC_ID
	dkc tag bench/app:v1 "$R"
	cmd_dkc_push "$R"
	timed rebuild
	assert_eq "$V2" "$(pushed_digest)" "digest of the rebuild's push"
	timed nothing
	assert_eq "$V2" "$(pushed_digest)" "digest of the push of nothing new"
	reg_stop
	if [ "$WITH_CTD" = 1 ]; then
		start_registry plain
		R=$REG_HOST/bench/app:v1
		export XDG_CACHE_HOME=$TEST_TMP/cache$run
		dkc tag bench/app:base docker.io/bench/app:ctd
		cmd_dkc_ctd docker.io/bench/app:ctd "$R"
		OUTF=$TEST_TMP/ctd.out
		timed ctd_cold
		assert_eq "$R@$V1" "$(cat "$TEST_TMP/ctd.out")" "idppush-containerd's cold push"
		dkc tag bench/app:v1 docker.io/bench/app:ctd
		OUTF=$TEST_TMP/ctd.out
		timed ctd_rebuild
		assert_eq "$R@$V2" "$(cat "$TEST_TMP/ctd.out")" "idppush-containerd's rebuild push"
		OUTF=$TEST_TMP/ctd.out
		timed ctd_nothing
		assert_eq "$R@$V2" "$(cat "$TEST_TMP/ctd.out")" "idppush-containerd, nothing new"
		reg_stop
	fi
done

# the bytes of the platform's manifest: config + layers, as stored
BYTES=$("$PYTHON" -c 'import json, os, sys
d = sys.argv[1]
idx = json.load(open(os.path.join(d, sys.argv[2][7:])))
m = [m for m in idx["manifests"] if m.get("platform", {}).get("os") != "unknown"][0]
m = json.load(open(os.path.join(d, m["digest"][7:])))
print(m["config"]["size"] + sum(l["size"] for l in m["layers"]))' "$DKC_BLOBS" "$V2")
echo "dockerd $(dkc version -f '{{.Server.Version}}') (containerd store), CLI $DKC_CLI," \
	"${#DIRS[@]} layers: ${DIRS[*]}; image $(mb "$BYTES") MB as stored; $RUNS runs (ms)"
for k in cold build rebuild nothing save cli ctd_cold ctd_rebuild ctd_nothing; do
	[ -n "${T[$k]:-}" ] || continue
	# shellcheck disable=SC2086 # the runs: words
	printf '%-12s median %6s   runs %s\n' "$k" "$(median ${T[$k]})" "${T[$k]}"
done
