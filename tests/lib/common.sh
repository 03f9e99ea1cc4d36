# tests/lib/common.sh: shared harness for idppush's shell integration tests.
# Sourced (by bash) from every tests/integration/t_*.sh. Provides:
#   strict mode, TEST_TMP (private temp dir, removed on exit), process
#   tracking (bg_start / track_pid / untrack_pid; all killed on exit), need CMD...,
#   free_port, wait_for_port, wait_for_http, wait_until, assert_* helpers,
#   fail, and run_engine (runs tests/tools/engine-push with a hard timeout).
# Exit codes follow automake: 0 pass, 77 skip, 99 hard error, else fail.
# Env knobs: CI=true (missing components fail instead of skip),
#   KEEP_TMP=1 (keep TEST_TMP for debugging), TEST_VERBOSE=1 (set -x).
# shellcheck shell=bash

if [ -z "${BASH_VERSION:-}" ]; then
	echo "FAIL: tests/lib/common.sh needs bash" >&2
	exit 99
fi
set -euo pipefail
[ "${TEST_VERBOSE:-0}" = 1 ] && set -x

TEST_NAME=$(basename "${0%.sh}")
: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
export TEST_LIB="$top_srcdir/tests/lib"
ENGINE_PUSH="${ENGINE_PUSH:-$top_builddir/tests/tools/engine-push}"

# Debian's python3 carries python3-cryptography; a pyenv/venv python on PATH
# may not, so prefer /usr/bin/python3 when it has the module.
if [ -z "${PYTHON:-}" ]; then
	if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import cryptography' 2>/dev/null; then
		PYTHON=/usr/bin/python3
	else
		PYTHON=python3
	fi
fi

# Never let a test talk to a proxy from the environment: everything is loopback.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy || true
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/idptest-${TEST_NAME}.XXXXXX")
export TEST_TMP
# Private HOME / docker config: nothing from the invoking user's
# ~/.docker (credentials, certs.d) or IDPBUILDER_* env leaks into a test.
export HOME="$TEST_TMP/home"
export DOCKER_CONFIG="$HOME/.docker"
mkdir -p "$DOCKER_CONFIG"
unset XDG_CONFIG_HOME XDG_RUNTIME_DIR XDG_DATA_HOME REGISTRY_AUTH_FILE || true
unset IDPBUILDER_REGISTRY_USERNAME IDPBUILDER_REGISTRY_PASSWORD IDPBUILDER_REGISTRY_TOKEN || true
unset IDPBUILDER_REGISTRY_URL IDPBUILDER_REGISTRY_INSECURE IDPBUILDER_PUSH_TIMEOUT \
	IDPBUILDER_PUSH_RETRY_ATTEMPTS || true
_TEST_PIDS=()
_TEST_CLEANUP=()

# cleanup_add PATH...: remove PATH when the test exits (things that cannot
# live in TEST_TMP, e.g. a directory every user must be able to enter).
cleanup_add() { _TEST_CLEANUP+=("$@"); }

log() { printf '%s: %s\n' "$TEST_NAME" "$*" >&2; }

fail() {
	printf 'FAIL: %s: %s\n' "$TEST_NAME" "$*" >&2
	exit 1
}

# skip REASON: exit 77 (automake's SKIP); with CI=true a test may not skip,
# so it fails instead.
skip() {
	[ "${CI:-}" != true ] || fail "cannot run under CI=true: $*"
	printf 'SKIP: %s: %s\n' "$TEST_NAME" "$*" >&2
	exit 77
}

# need CMD...: every CMD must be on PATH (or an executable path).
need() {
	local c
	for c in "$@"; do
		if ! command -v "$c" >/dev/null 2>&1; then
			if [ "${CI:-}" = true ]; then
				printf 'FAIL: missing %s (%s)\n' "$c" "$TEST_NAME" >&2
				exit 1
			fi
			skip "$c not installed"
		fi
	done
}

# need_python_module MOD...: the harness's python must import MOD.
need_python_module() {
	local m
	for m in "$@"; do
		if ! "$PYTHON" -c "import $m" 2>/dev/null; then
			if [ "${CI:-}" = true ]; then
				printf 'FAIL: missing python module %s (%s)\n' "$m" "$TEST_NAME" >&2
				exit 1
			fi
			skip "python module $m not available to $PYTHON"
		fi
	done
}

# track_pid PID: kill PID when the test exits; untrack_pid PID: not (it was
# stopped already, and its number may be reused).
track_pid() { _TEST_PIDS+=("$1"); }
untrack_pid() {
	local p
	local -a keep=()
	for p in "${_TEST_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	_TEST_PIDS=("${keep[@]}")
}

# bg_start NAME CMD...: start CMD in the background with stdout+stderr in
# $TEST_TMP/NAME.log; sets BG_PID and tracks it.
bg_start() {
	local name=$1
	shift
	"$@" >"$TEST_TMP/$name.log" 2>&1 </dev/null &
	BG_PID=$!
	track_pid "$BG_PID"
}

_kill_tracked() {
	local pid alive
	[ "${#_TEST_PIDS[@]}" -gt 0 ] || return 0
	for pid in "${_TEST_PIDS[@]}"; do
		kill -CONT "$pid" 2>/dev/null || true
		kill -TERM "$pid" 2>/dev/null || true
	done
	# bounded wait (5 s), then SIGKILL whatever is left
	for _ in $(seq 1 50); do
		alive=0
		for pid in "${_TEST_PIDS[@]}"; do
			if kill -0 "$pid" 2>/dev/null; then alive=1; fi
		done
		[ "$alive" = 1 ] || break
		sleep 0.1
	done
	for pid in "${_TEST_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

_cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	_kill_tracked
	if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
		# Show the components' logs: they end up in test-suite.log.
		local f
		for f in "$TEST_TMP"/*.log "$TEST_TMP"/*/*.log; do
			[ -s "$f" ] || continue
			printf -- '----- %s (last 25 lines) -----\n' "${f#"$TEST_TMP"/}" >&2
			tail -n 25 "$f" >&2
		done
	fi
	[ "${#_TEST_CLEANUP[@]}" = 0 ] || rm -rf "${_TEST_CLEANUP[@]}"
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		printf '%s: kept %s\n' "$TEST_NAME" "$TEST_TMP" >&2
	else
		rm -rf "$TEST_TMP"
	fi
	exit "$rc"
}
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# free_port: print a TCP port that was free on 127.0.0.1 a moment ago.
free_port() {
	"$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# nginx_conf_head DIR USER_LINE: the start of a test's nginx.conf (its pid,
# error log and temp files in DIR, USER_LINE as given) up to "http {" and
# its temp paths; the caller writes the rest and the closing brace.
nginx_conf_head() {
	cat <<-EOF
		$2
		worker_processes 1;
		pid $1/nginx.pid;
		error_log $1/error.log info;
		events { worker_connections 256; }
		http {
		    client_body_temp_path $1/client_body;
		    proxy_temp_path $1/proxy;
		    fastcgi_temp_path $1/fastcgi;
		    uwsgi_temp_path $1/uwsgi;
		    scgi_temp_path $1/scgi;
	EOF
}

# distribution_storage_http DATA PORT: the storage (filesystem in DATA,
# deletes on, no upload purging) and http (127.0.0.1:PORT, a random
# secret) parts of a docker-registry config.yml; more http keys may follow
# at two spaces.
distribution_storage_http() {
	cat <<-EOF
		storage:
		  filesystem:
		    rootdirectory: $1
		  delete:
		    enabled: true
		  maintenance:
		    uploadpurging:
		      enabled: false
		http:
		  addr: 127.0.0.1:$2
		  secret: idptest-$RANDOM$RANDOM
	EOF
}

# wait_until SECS CMD...: poll CMD every ${WAIT_INTERVAL:-0.1} s until it
# succeeds; 1 on timeout.
wait_until() {
	local secs=$1
	shift
	local deadline=$((SECONDS + secs))
	while ! "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep "${WAIT_INTERVAL:-0.1}"
	done
}

# clock_past EPOCH: true once the wall clock is past EPOCH (for wait_until).
clock_past() { [ "$(date +%s)" -gt "$1" ]; }

_port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# wait_for_port HOST PORT SECS [PID]: until something accepts on HOST:PORT.
# With PID, give up early (and fail) if that process died.
wait_for_port() {
	local host=$1 port=$2 secs=$3 pid=${4:-}
	local deadline=$((SECONDS + secs))
	while ! _port_open "$host" "$port"; do
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			log "process $pid exited before $host:$port opened"
			return 1
		fi
		[ "$SECONDS" -lt "$deadline" ] || {
			log "timeout waiting for $host:$port"
			return 1
		}
		sleep 0.05
	done
}

# wait_for_http URL SECS [CURL-ARGS...]: until URL answers with any HTTP status.
wait_for_http() {
	local url=$1 secs=$2
	shift 2
	local deadline=$((SECONDS + secs)) code
	while :; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$url" \
			2>/dev/null) || true
		[ -n "$code" ] && [ "$code" != 000 ] && return 0
		[ "$SECONDS" -lt "$deadline" ] || { log "timeout waiting for $url"; return 1; }
		sleep 0.05
	done
}

assert_eq() { # EXPECTED ACTUAL [MSG]
	if [ "$1" != "$2" ]; then
		printf 'assertion failed: %s\n  expected: %s\n  actual:   %s\n' \
			"${3:-values differ}" "$1" "$2" >&2
		fail "${3:-assert_eq}"
	fi
}

assert_contains() { # HAYSTACK NEEDLE [MSG]
	case "$1" in
	*"$2"*) ;;
	*)
		printf 'assertion failed: %s\n  expected to contain: %s\n  actual: %s\n' \
			"${3:-missing text}" "$2" "$1" >&2
		fail "${3:-assert_contains}"
		;;
	esac
}

assert_not_contains() { # HAYSTACK NEEDLE [MSG]
	case "$1" in
	*"$2"*)
		printf 'assertion failed: %s\n  expected NOT to contain: %s\n  actual: %s\n' \
			"${3:-unexpected text}" "$2" "$1" >&2
		fail "${3:-assert_not_contains}"
		;;
	esac
}

assert_file_contains() { # FILE EXTENDED-REGEX [MSG]
	if ! grep -Eq -- "$2" "$1"; then
		printf 'assertion failed: %s\n  no line of %s matches: %s\n' \
			"${3:-missing line}" "$1" "$2" >&2
		fail "${3:-assert_file_contains}"
	fi
}

# assert_exit CODE CMD...: run CMD; its exit code must be CODE. Output is
# kept in $LAST_OUT / $LAST_ERR (files $TEST_TMP/last.out / last.err) and
# shown when the assertion fails.
LAST_OUT=
LAST_ERR=
assert_exit() {
	local want=$1 rc
	shift
	set +e
	"$@" >"$TEST_TMP/last.out" 2>"$TEST_TMP/last.err"
	rc=$?
	set -e
	LAST_OUT=$(cat "$TEST_TMP/last.out")
	LAST_ERR=$(cat "$TEST_TMP/last.err")
	if [ "$rc" != "$want" ]; then
		printf 'assertion failed: exit code of: %s\n  expected: %s\n  actual:   %s\n' \
			"$*" "$want" "$rc" >&2
		printf '  stdout: %s\n  stderr: %s\n' "$LAST_OUT" "$LAST_ERR" >&2
		[ "$rc" != 124 ] || printf '  (124: killed by the harness timeout)\n' >&2
		fail "unexpected exit code $rc (wanted $want)"
	fi
}

# run_engine ARGS...: engine-push bounded by ENGINE_TIMEOUT (default 180 s).
need_engine() {
	[ -x "$ENGINE_PUSH" ] || fail "engine-push not built: $ENGINE_PUSH (run make check)"
}
run_engine() {
	timeout -k 5 "${ENGINE_TIMEOUT:-180}" "$ENGINE_PUSH" "$@"
}

# run_engine_env VAR=VALUE... -- ARGS...: run_engine with extra environment.
run_engine_env() {
	local -a e=()
	while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
		e+=("$1")
		shift
	done
	[ "$#" -gt 0 ] || fail "run_engine_env: missing --"
	shift
	timeout -k 5 "${ENGINE_TIMEOUT:-180}" env "${e[@]}" "$ENGINE_PUSH" "$@"
}

# assert_push_ok TARGET DIGEST ENGINE-ARGS...: engine-push must exit 0 and print
# exactly TARGET@DIGEST.
assert_push_ok() {
	local target=$1 digest=$2
	shift 2
	assert_exit 0 run_engine "$@"
	assert_eq "$target@$digest" "$LAST_OUT" \
		"engine-push stdout (canonical ref @ manifest digest)"
}

# sha256_file FILE: print the hex sha256.
sha256_file() { sha256sum "$1" | cut -d' ' -f1; }

# The rest of the harness (functions only): registries (registry.sh),
# generated images (image.sh), skopeo checks (verify.sh), proxies (proxy.sh).
. "$TEST_LIB/registry.sh"
. "$TEST_LIB/image.sh"
. "$TEST_LIB/verify.sh"
. "$TEST_LIB/proxy.sh"
