#!/bin/bash
# bench/bench_fastpaths.sh: the plugin's fast paths measured (not a test;
# run it as root): a private dockerd and plain-HTTP registries on
# 127.0.0.1, images of real directories `docker load`ed (a small one and
# one of about 200 MB: base layers, then a small top layer that v1 and v2
# do not share). For each docker-idppush given (FP_PLUGINS, "label=path"
# words; the label "nostore" runs the build of the first one with
# IDPPUSH_NO_STORE=1), alternating them with docker push, through the
# real docker CLI: the cold push of v1, FP_REPS re-pushes of v1 when
# nothing changed, FP_REPS rebuilds (v1 pushed, its cache as then, v2
# timed), FP_REPS cold pushes of v2 into a new repository; and
# `docker save v2 >/dev/null`. Prints medians (seconds) per image.
# Knobs: FP_PLUGINS, FP_REPS (default 10), FP_SIZES ("small big"),
# FP_DOCKER (the CLI, default /usr/bin/docker), KEEP_TMP=1.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
export LC_ALL=C
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "bench_fastpaths.sh: run it as root" >&2; exit 1; }
CI=true
. "$top_srcdir/tests/lib/common.sh"
TEST_NAME=fastpaths
. "$TEST_LIB/containerd.sh"
. "$TEST_LIB/dockerd.sh"
. "$top_srcdir/bench/lib.sh"
REPS=${FP_REPS:-10}
SIZES=${FP_SIZES:-small big}
DOCKER=${FP_DOCKER:-/usr/bin/docker}
read -ra PLUGS <<<"${FP_PLUGINS:?FP_PLUGINS=\"label=/path/docker-idppush ...\"}"
need docker-registry curl tar
need_dockerd
dockerd_start

# ---- images ----
LD=$TEST_TMP/layers
mkdir -p "$LD"
declare -A BASE=([small]="/usr/share/zoneinfo /usr/share/perl5"
	[big]="/usr/lib/python3 /usr/share/locale")
TOP1=/usr/share/info
TOP2=$(ls -d /usr/share/automake-* | head -n1)
bench_layer "$LD/top1" "$TOP1" app
bench_layer "$LD/top2" "$TOP2" app
for sz in $SIZES; do
	ls=()
	for d in ${BASE[$sz]}; do
		n=$(basename "$d")
		bench_layer "$LD/$sz-$n" "$d"
		ls+=("$LD/$sz-$n")
	done
	for v in 1 2; do
		bench_image "fp/$sz:v$v" "$TEST_TMP/img-$sz-v$v" "${ls[@]}" "$LD/top$v"
		tar -C "$TEST_TMP/img-$sz-v$v/archive" -cf - . | dk load >/dev/null ||
			fail "docker load fp/$sz:v$v"
		rm -rf "$TEST_TMP/img-$sz-v$v/archive"
	done
	log "$sz: $(dk image inspect -f '{{.Size}}' "fp/$sz:v2") bytes, layers:" \
		"$(dk image inspect -f '{{len .RootFS.Layers}}' "fp/$sz:v2")"
done
rm -rf "$LD"

# ---- the tools ----
declare -A RHOST RURL PATHS T
TOOLS=()
for p in "${PLUGS[@]}"; do
	TOOLS+=("${p%%=*}")
	PATHS[${p%%=*}]=${p#*=}
done
TOOLS+=(push)
for t in "${TOOLS[@]}"; do
	start_registry plain
	RHOST[$t]=$REG_HOST RURL[$t]=$REG_URL
	if [ "$t" != push ]; then
		mkdir -p "$TEST_TMP/dc-$t/cli-plugins"
		cp "${PATHS[$t]}" "$TEST_TMP/dc-$t/cli-plugins/docker-idppush"
		p=$(dirname "${PATHS[$t]}")/idppush-plugin # absent in older builds
		[ ! -e "$p" ] || cp "$p" "$TEST_TMP/dc-$t/cli-plugins/"
	fi
done

sec() { awk -v u="$1" 'BEGIN { printf "%.3f", u / 1e6 }'; }
med() { sec "$(median ${T[$1]})"; }

# run TOOL SIZE WHAT TAG TARGET-REPO [CACHE]: one timed push; LAST_US
run() {
	local t=$1 sz=$2 tag=$4 repo=$5 cache=${6:-$TEST_TMP/cache-$1} env=()
	[ "$t" = nostore ] && env=(IDPPUSH_NO_STORE=1)
	if [ "$t" = push ]; then
		dk tag "fp/$sz:$tag" "${RHOST[$t]}/$repo:$tag"
		bench_time "$TEST_TMP/$t.log" "$DOCKER" -H "$DH" push "${RHOST[$t]}/$repo:$tag"
	else
		bench_time "$TEST_TMP/$t.log" env "${env[@]}" XDG_CACHE_HOME="$cache" \
			DOCKER_CONFIG="$TEST_TMP/dc-$t" "$DOCKER" -H "$DH" idppush --plain-http -q \
			"fp/$sz:$tag" "${RHOST[$t]}/$repo:$tag"
	fi
	T[$t.$sz.$3]+=" $LAST_US"
	log "$sz $3 $t: $(sec "$LAST_US") s"
}

for sz in $SIZES; do
	for t in "${TOOLS[@]}"; do
		rm -rf "$TEST_TMP/cache-$t"
		run "$t" "$sz" cold-v1 v1 "fp/$sz"
		rm -rf "$TEST_TMP/cache-$t.v1"
		[ "$t" = push ] || cp -a "$TEST_TMP/cache-$t" "$TEST_TMP/cache-$t.v1"
	done
	for r in $(seq 1 "$REPS"); do
		for t in "${TOOLS[@]}"; do
			run "$t" "$sz" repush v1 "fp/$sz"
		done
		for t in "${TOOLS[@]}"; do
			reg_forget "${RURL[$t]}" "fp/$sz" v1 v2
			if [ "$t" != push ]; then
				rm -rf "$TEST_TMP/cache-$t"
				cp -a "$TEST_TMP/cache-$t.v1" "$TEST_TMP/cache-$t"
			fi
			run "$t" "$sz" rebuild v2 "fp/$sz"
		done
		for t in "${TOOLS[@]}"; do
			[ "$t" = push ] && continue
			rm -rf "$TEST_TMP/cache-cold"
			run "$t" "$sz" cold-v2 v2 "fp/$sz-cold$r" "$TEST_TMP/cache-cold"
		done
		bench_time --stdout /dev/null "$TEST_TMP/save.log" "$DOCKER" -H "$DH" save \
			"fp/$sz:v2"
		T[save.$sz]+=" $LAST_US"
		log "$sz run $r done"
	done
	echo "== $sz image ($(dk image inspect -f '{{.Size}}' "fp/$sz:v2") bytes)," \
		"medians of $REPS, seconds"
	printf '%-10s %9s %9s %9s %9s\n' tool cold-v1 repush rebuild cold-v2
	for t in "${TOOLS[@]}"; do
		printf '%-10s %9s %9s %9s %9s\n' "$t" "$(med "$t.$sz.cold-v1")" \
			"$(med "$t.$sz.repush")" "$(med "$t.$sz.rebuild")" \
			"$( [ "$t" = push ] && echo - || med "$t.$sz.cold-v2")"
	done
	echo "docker save of v2 >/dev/null: $(med "save.$sz") s"
done
