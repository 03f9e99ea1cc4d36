#!/bin/bash
# bench/bench_relay.sh: a benchmark, not a test. `docker idppush` as a
# non-root member of the docker socket's group (it cannot read the store),
# through the loopback relay and through docker save (IDPPUSH_NO_RELAY=1),
# against `docker push` in the same run, on both daemons: Debian 12's
# dockerd 20.10 (overlay2) and Debian 13's dockerd 26 with the containerd
# image store. The image: BENCH_DIRS copied as one layer each (the last is
# the app layer, changed for the rebuild). BENCH_RUNS times (default 3),
# alternating, each into a fresh registry: cold, rebuild (only the app
# layer changed), nothing changed. Prints each time and the medians (ms)
# with the ratios to docker push. Needs root. Knobs: BENCH_DIRS, BENCH_RUNS,
# BENCH_TIMEOUT, BENCH_DAEMONS ("classic ctd"), top_builddir, KEEP_TMP=1.
# Usage: sudo top_builddir=/path/to/build bench/bench_relay.sh
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
export LC_ALL=C
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=$(cd "${top_builddir:-.}" && pwd)
CI=true # a missing component is an error here, not a skip
. "$top_srcdir/tests/lib/common.sh"
TEST_NAME=bench-relay
. "$top_srcdir/bench/lib.sh"
. "$TEST_LIB/containerd.sh"
. "$TEST_LIB/dockerd.sh"
. "$top_srcdir/bench/lib_ctd.sh"
. "$TEST_LIB/registry.sh"
. "$top_srcdir/tests/lib/plugin.sh"
need docker-registry curl setpriv
RUNS=${BENCH_RUNS:-3}
read -ra DIRS <<<"${BENCH_DIRS:-/usr/lib/python3 /usr/share/locale /usr/lib/gcc /usr/share/perl}"
read -ra DAEMONS <<<"${BENCH_DAEMONS:-classic ctd}"
export DOCKER_TIMEOUT=${BENCH_TIMEOUT:-1800}
need_dockerd
need_dockerd_ctd
dkc_test_user
dockerd_start --group "$DKC_GROUP"
dockerd_ctd_start --group "$DKC_GROUP"
plugin_install "$DKC_USER_DOCKER_CONFIG"
chown -R "$DKC_USER:" "$DKC_USER_DOCKER_CONFIG"
UP=$DKC_USER_DOCKER_CONFIG/cli-plugins/docker-idppush
CTX=$TEST_TMP/ctx
bench_dkc_context "$CTX" "${DIRS[@]}"
chmod -R a+rX "$CTX"
build() { # DAEMON: the image bench/app:v1 from CTX
	if [ "$1" = classic ]; then
		DOCKER_BUILDKIT=0 dk build -q -t bench/app:v1 "$CTX" >/dev/null
	else
		dkc_build bench/app:v1 "$CTX" >/dev/null
	fi
}
H() { [ "$1" = classic ] && echo "$DH" || echo "$DKC_H"; }
CLI() { [ "$1" = classic ] && echo /usr/bin/docker || echo "$DKC_CLI"; }

LOGS=$TEST_TMP/logs
mkdir -p "$LOGS"
declare -A T=()
N=0
timed() { # KEY CMD...
	local key=$1
	shift
	N=$((N + 1))
	bench_time "$LOGS/$N.$key.log" "$@"
	T[$key]+="${T[$key]:+ }$((LAST_US / 1000))"
}
push_as() { # DAEMON KEY ENV... -- IMAGE TARGET: docker idppush as the test user
	local dm=$1 key=$2
	shift 2
	local -a env=()
	while [ "$1" != -- ]; do env+=("$1"); shift; done
	shift
	# dkc_as_user's environment, as a command (bench_time runs no function)
	timed "$dm.$key" setpriv --reuid="$DKC_USER" --regid="$(id -g "$DKC_USER")" \
		--init-groups env HOME="$DKC_USER_HOME" DOCKER_CONFIG="$DKC_USER_DOCKER_CONFIG" \
		TMPDIR="$DKC_USER_HOME/tmp" "${env[@]}" "$UP" -H "$(H "$dm")" idppush \
		--plain-http --timeout 0 -q "$@"
}

for dm in "${DAEMONS[@]}"; do
	bench_dkc_touch "$CTX"
	build "$dm"
	for run in $(seq 1 "$RUNS"); do
		start_registry plain
		R=$REG_HOST
		C=$DKC_USER_HOME/.cache/r$run
		"$(CLI "$dm")" -H "$(H "$dm")" tag bench/app:v1 "$R/dp/app:v1"
		for phase in cold rebuild nothing; do
			if [ "$phase" = rebuild ]; then
				bench_dkc_touch "$CTX"
				build "$dm"
				"$(CLI "$dm")" -H "$(H "$dm")" tag bench/app:v1 "$R/dp/app:v1"
			fi
			timed "$dm.docker.$phase" "$(CLI "$dm")" -H "$(H "$dm")" push "$R/dp/app:v1"
			push_as "$dm" "relay.$phase" XDG_CACHE_HOME="$C.relay" -- bench/app:v1 \
				"$R/rl/app:v1"
			push_as "$dm" "save.$phase" XDG_CACHE_HOME="$C.save" IDPPUSH_NO_RELAY=1 -- \
				bench/app:v1 "$R/sv/app:v1"
		done
		reg_stop
	done
done

echo "medians of $RUNS runs (ms), ratio to docker push; non-root: relay and docker save"
printf '%-8s %-8s %10s %10s %7s %10s %7s\n' daemon push docker relay ratio save ratio
for dm in "${DAEMONS[@]}"; do
	for phase in cold rebuild nothing; do
		# shellcheck disable=SC2086 # lists of numbers
		d=$(median ${T[$dm.docker.$phase]}) r=$(median ${T[$dm.relay.$phase]})
		# shellcheck disable=SC2086
		s=$(median ${T[$dm.save.$phase]})
		printf '%-8s %-8s %10s %10s %6sx %10s %6sx\n' "$dm" "$phase" "$d" "$r" \
			"$(ratio "$r" "$d")" "$s" "$(ratio "$s" "$d")"
	done
done
for k in "${!T[@]}"; do echo "$k: ${T[$k]}"; done | sort
