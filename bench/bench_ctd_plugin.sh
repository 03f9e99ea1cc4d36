#!/bin/bash
# bench/bench_ctd_plugin.sh: a benchmark, not a test. `docker idppush` on a
# dockerd that keeps images in containerd's image store (Debian 13's dockerd
# 26, bench/lib_ctd.sh), as root (the store read directly) and as a member
# of the API socket's group (docker save, as stored), against `docker push`
# in the same run, each into a registry of its own on 127.0.0.1. BENCH_RUNS
# runs (default 3), the tools alternating in each step:
#   cold      v1 into the empty registry
#   nothing   the same push again
#   rebuild   after one COPY'd file of the top layer changed (docker build)
# Every pushed digest must be the image ID (docker push's). Prints each run,
# the medians (ms) and the ratios to docker push. Needs root; the first run
# fetches the Debian 13 packages (tests/lib/dockerd_ctd.sh). Knobs:
# BENCH_DIRS (the layers, default /usr/lib/python3 /usr/share/locale
# /usr/lib/gcc /usr/share/perl), BENCH_RUNS, BENCH_TIMEOUT, IDPPUSH_DKC_CLI,
# top_builddir, TMPDIR, KEEP_TMP=1.
# Usage: sudo top_builddir=/path/to/build bench/bench_ctd_plugin.sh
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
export LC_ALL=C
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
top_builddir=$(cd "$top_builddir" && pwd)
CI=true # a missing component is an error here, not a skip
. "$top_srcdir/tests/lib/common.sh"
TEST_NAME=bench-ctd-plugin
. "$top_srcdir/bench/lib.sh"
. "$top_srcdir/bench/lib_ctd.sh"
. "$top_srcdir/tests/lib/plugin.sh"
need docker-registry curl tar setpriv
need_plugin
RUNS=${BENCH_RUNS:-3}
read -ra DIRS <<<"${BENCH_DIRS:-/usr/lib/python3 /usr/share/locale /usr/lib/gcc /usr/share/perl}"
export DOCKER_TIMEOUT=${BENCH_TIMEOUT:-1800}

need_dockerd_ctd
dkc_test_user
# shellcheck disable=SC2119 # the test user's group owns the API socket
dockerd_ctd_start
DC=$DOCKER_CONFIG
plugin_install "$DC"
plugin_install "$DKC_USER_DOCKER_CONFIG"
chown -R "$DKC_USER:" "$DKC_USER_DOCKER_CONFIG"
bench_dkc_image "${DIRS[@]}"
declare -A T=() REGS=() REGPIDS=()
N=0

# push TOOL STEP: the tool's push of bench/app:v1 into its registry, timed
# (the user's as dkc_as_user runs it, spelt out: bench_time runs a program)
push() {
	local r=${REGS[$1]}/bench/app:v1 out
	N=$((N + 1))
	out=$LOGS/$N.$1.$2.out
	case "$1" in
	docker) CMD=("$DKC_CLI" -H "$DKC_H" push "$r") ;;
	root) CMD=(env XDG_CACHE_HOME="$TEST_TMP/cache" DOCKER_CONFIG="$DC" "$DKC_CLI" -H "$DKC_H"
		idppush --plain-http --timeout 0 -v bench/app:v1 "$r") ;;
	user) CMD=(setpriv --reuid="$DKC_USER" --regid="$(id -g "$DKC_USER")" --init-groups
		env HOME="$DKC_USER_HOME" DOCKER_CONFIG="$DKC_USER_DOCKER_CONFIG"
		XDG_CACHE_HOME="$DKC_USER_HOME/.cache" TMPDIR="$DKC_USER_HOME/tmp"
		"$DKC_CLI" -H "$DKC_H" idppush --plain-http --timeout 0 -v bench/app:v1 "$r") ;;
	esac
	bench_time --stdout "$out" "$LOGS/$N.$1.$2.log" "${CMD[@]}"
	T[$1.$2]+="${T[$1.$2]:+ }$((LAST_US / 1000))"
	if [ "$1" = docker ]; then
		assert_contains "$(cat "$out")" ": digest: $WANT " "docker push's digest ($2)"
	else
		assert_eq "$r@$WANT" "$(cat "$out")" "$1's digest ($2)"
	fi
}

TOOLS=(docker root user)
for run in $(seq 1 "$RUNS"); do
	dkc tag bench/app:base bench/app:v1
	WANT=$V1
	for t in "${TOOLS[@]}"; do
		start_registry plain
		REGS[$t]=$REG_HOST
		REGPIDS[$t]=$REG_PID
		dkc tag bench/app:v1 "$REG_HOST/bench/app:v1"
	done
	# rotate who goes first
	order=("${TOOLS[@]:$(((run - 1) % 3))}" "${TOOLS[@]:0:$(((run - 1) % 3))}")
	for t in "${order[@]}"; do push "$t" cold; done
	for t in "${order[@]}"; do push "$t" nothing; done
	bench_dkc_touch "$CTX"
	bench_dkc_build bench/app:v1 "$CTX"
	WANT=$DKC_ID
	for t in "${TOOLS[@]}"; do dkc tag bench/app:v1 "${REGS[$t]}/bench/app:v1"; done
	for t in "${order[@]}"; do push "$t" rebuild; done
	for t in "${TOOLS[@]}"; do kill "${REGPIDS[$t]}" 2>/dev/null || true; done
done

grep -h "path:" "$LOGS"/*.root.cold.log "$LOGS"/*.user.cold.log | sed 's/^/  /' |
	sort -u
echo "dockerd $(dkc version -f '{{.Server.Version}}') (containerd store), CLI $DKC_CLI," \
	"${#DIRS[@]} layers: ${DIRS[*]}; $RUNS runs (ms), medians and ratios to docker push"
for s in cold nothing rebuild; do
	# shellcheck disable=SC2086 # the runs: words
	d=$(median ${T[docker.$s]})
	for t in "${TOOLS[@]}"; do
		# shellcheck disable=SC2086
		m=$(median ${T[$t.$s]})
		printf '%-8s %-7s median %6s  %5sx   runs %s\n' "$s" "$t" "$m" \
			"$(ratio "$m" "$d")" "${T[$t.$s]}"
	done
done
