# bench/lib_ctd.sh: benchmark pieces for a dockerd that keeps images in
# containerd's image store (Debian 13's dockerd 26, tests/lib/dockerd_ctd.sh),
# sourced after tests/lib/common.sh and bench/lib.sh. Functions only:
#   bench_dkc_start          need_dockerd_ctd (CI=true: a missing piece is an
#                            error), then dockerd_ctd_start; sets DKC_BLOBS
#                            (containerd's blob directory) and DKC_DAEMONS
#                            (bench_measure's --daemon options for both)
#   bench_dkc_context OUT DIR...
#                            a build context: each DIR copied to OUT/l<i>,
#                            a Dockerfile "FROM scratch" + "COPY l<i>/ DIR/"
#                            per DIR, in order (one gzip layer each; the last
#                            is the top layer)
#   bench_dkc_touch OUT      change one COPY'd file (OUT/l<last>/.bench-stamp):
#                            the next build makes a new top layer only
#   bench_dkc_build TAG OUT  docker build (BuildKit, attestation by default):
#                            the image ID in DKC_ID, the wall time in LAST_US
#   bench_dkc_image DIR...   the bench image: CTX=$TEST_TMP/ctx from the DIRs
#                            (bench_dkc_context), built as bench/app:v1,
#                            also tagged bench/app:base (a rebuild moves v1;
#                            an image without a name may be garbage-collected);
#                            its ID in V1; LOGS=$TEST_TMP/logs made
#   cmd_dkc_push REF         CMD: docker push REF (the CLI in $DKC_CLI)
#   cmd_dkc_save REF         CMD: docker save REF (OUTF=/dev/null)
#   cmd_dkc_idp CACHE IMAGE TARGET
#                            CMD: docker idppush IMAGE TARGET through the CLI,
#                            DOCKER_CONFIG $DC, push cache CACHE
#   cmd_dkc_ctd IMAGE TARGET CMD: idppush-containerd on that containerd root
#                            and namespace (IMAGE as containerd names it,
#                            docker.io/...), every platform and attestation:
#                            the same index docker push pushes
# In bench/run: source this after bench/lib.sh; after `dockerd_start` call
# bench_dkc_start (both daemons run side by side: sockets $TEST_TMP/s and
# $TEST_TMP/k); build the image with bench_dkc_context + bench_dkc_build
# (BENCH_DIRS as the layers); time with `go time NAME` after a cmd_dkc_*, and
# measure with `go measure` after swapping DPID/CTD_PID for DKC_PID/
# DKC_CTD_PID (or pass $DKC_DAEMONS). bench/bench_dockerd_ctd.sh uses them.
# shellcheck shell=bash disable=SC2034 # the variables are for the caller

# shellcheck source=tests/lib/dockerd_ctd.sh
. "$TEST_LIB/dockerd_ctd.sh"

bench_dkc_start() {
	need_dockerd_ctd
	dockerd_ctd_start --group ""
	DKC_BLOBS=$DKC_CTD_ROOT/io.containerd.content.v1.content/blobs/sha256
	DKC_DAEMONS=(--daemon dockerd="$DKC_PID" --daemon containerd="$DKC_CTD_PID")
}

bench_dkc_context() {
	local out=$1 d i=0
	shift
	mkdir -p "$out"
	echo "FROM scratch" >"$out/Dockerfile"
	for d in "$@"; do
		i=$((i + 1))
		[ -d "$d" ] || fail "bench_dkc_context: $d is not a directory"
		cp -a --reflink=auto "$d" "$out/l$i" || fail "cannot copy $d into the context"
		echo "COPY l$i/ $d/" >>"$out/Dockerfile"
	done
}

bench_dkc_touch() {
	local top
	top=$(ls -d "$1"/l* | sort -V | tail -n1)
	echo "$RANDOM$RANDOM $(now_us)" >"$top/.bench-stamp"
}

bench_dkc_build() {
	local t0
	t0=$(now_us)
	DKC_ID=$(dkc_build "$1" "$2")
	LAST_US=$(($(now_us) - t0))
}

bench_dkc_image() {
	CTX=$TEST_TMP/ctx
	log "copying $* into the build context"
	bench_dkc_context "$CTX" "$@"
	bench_dkc_build bench/app:v1 "$CTX"
	V1=$DKC_ID
	dkc tag bench/app:v1 bench/app:base
	log "built bench/app:v1 $V1 in $((LAST_US / 1000)) ms"
	LOGS=$TEST_TMP/logs
	mkdir -p "$LOGS"
}

cmd_dkc_push() { CMD=("$DKC_CLI" -H "$DKC_H" push "$1"); }
cmd_dkc_save() {
	CMD=("$DKC_CLI" -H "$DKC_H" save "$1")
	OUTF=/dev/null
}
cmd_dkc_idp() {
	CMD=(env XDG_CACHE_HOME="$1" DOCKER_CONFIG="$DC" "$DKC_CLI" -H "$DKC_H" idppush
		--plain-http --timeout 0 -q "$2" "$3")
}
cmd_dkc_ctd() {
	CMD=("$CTD_ADAPTER" --root "$DKC_CTD_ROOT" -n "$DKC_NS" --plain-http --timeout 0
		--all-platforms --keep-attestations -q "$1" "$2")
}
