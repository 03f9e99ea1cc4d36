# tests/lib/tty.sh: a real terminal for the tests of what a push shows
# there: a private tmux server, a pane per command. Source after
# common.sh.
#   tty_run [--ask] NAME CMD...  CMD in a fresh 100x30 pane (see below)
#   watch NAME                   capture the pane until CMD ended: every
#                                distinct capture in $TEST_TMP/NAME.snaps/N,
#                                the last in $TEST_TMP/NAME.final
#   pane                         what the pane shows now
#   lines_bounded NAME MAX       no capture over MAX lines, nothing scrolled
#   tm ARGS...                   tmux on the private server; stop_tmux
# shellcheck shell=bash

TMUX_SOCK="$TEST_TMP/tmux.sock"
unset TMUX TMUX_PANE || true   # a private server, even when run inside tmux
printf 'set -g history-limit 5000\nset -g status off\n' >"$TEST_TMP/tmux.conf"
tm() { tmux -S "$TMUX_SOCK" -f "$TEST_TMP/tmux.conf" "$@"; }
TMUX_PID=
stop_tmux() {
	[ -n "$TMUX_PID" ] || return 0
	tm kill-server 2>/dev/null || true
	wait_until 10 bash -c "! kill -0 $TMUX_PID" || fail "the tmux server did not stop"
	untrack_pid "$TMUX_PID"
	TMUX_PID=
}

# tty_run [--ask] NAME CMD...: CMD in a fresh 100x30 pane, with this
# environment; its exit code lands in $TEST_TMP/NAME.rc, then the pane
# waits for input (none comes: the server is killed), so what it shows
# stays as it is. --ask: CMD runs in the terminal's foreground (it may
# read from it), Ctrl-C ends CMD but not the pane's script, and `stty -a`
# goes to NAME.stty after CMD.
tty_run() {
	local ask=0 name v
	[ "$1" != --ask ] || { ask=1; shift; }
	name=$1
	shift
	{
		echo '#!/bin/bash'
		[ "$ask" = 0 ] || echo "trap 'true' INT"
		for v in HOME DOCKER_CONFIG XDG_CACHE_HOME FAKE_DOCKER_DIR PATH \
			DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND NO_PROXY no_proxy; do
			[ -z "${!v+set}" ] || printf 'export %s=%q\n' "$v" "${!v}"
		done
		echo 'export TERM=xterm-256color'
		if [ "$ask" = 1 ]; then
			printf '%q ' timeout --foreground -k 5 60 "$@"
			printf '\nrc=$?; stty -a >%q\n' "$TEST_TMP/$name.stty"
		else
			printf '%q ' timeout -k 5 120 "$@"
			printf '\nrc=$?\n'
		fi
		printf 'echo $rc >%q.tmp && mv %q.tmp %q\n' "$TEST_TMP/$name.rc" \
			"$TEST_TMP/$name.rc" "$TEST_TMP/$name.rc"
		echo 'read -r _'
	} >"$TEST_TMP/$name.sh"
	chmod +x "$TEST_TMP/$name.sh"
	stop_tmux
	tm new-session -d -s t -x 100 -y 30 "$TEST_TMP/$name.sh" ||
		fail "tmux could not start a session"
	TMUX_PID=$(tm display-message -p '#{pid}') || fail "tmux: no server pid"
	track_pid "$TMUX_PID"   # killed when the test ends, whatever happens
}

# pane: what the pane shows, wrapped lines joined, without trailing blanks.
pane() {
	tm capture-pane -p -J -t t >"$TEST_TMP/capture" || return 1
	sed -e 's/[[:space:]]*$//' "$TEST_TMP/capture"
}
history_size() { tm display-message -p -t t '#{history_size}'; }

# watch NAME: capture the pane until the command ended (deadline 90 s);
# every distinct capture is kept in $TEST_TMP/NAME.snaps/N.
watch() {
	local name=$1 n=0 deadline=$((SECONDS + 90)) snap prev=
	mkdir -p "$TEST_TMP/$name.snaps"
	while [ ! -s "$TEST_TMP/$name.rc" ]; do
		[ "$SECONDS" -lt "$deadline" ] || fail "$name: no end within 90 s: $(pane)"
		snap=$(pane) || fail "$name: capture-pane failed"
		if [ "$snap" != "$prev" ]; then
			n=$((n + 1))
			printf '%s\n' "$snap" >"$TEST_TMP/$name.snaps/$n"
			prev=$snap
		fi
		sleep 0.05
	done
	pane >"$TEST_TMP/$name.final"
	log "$name: $n distinct captures, exit $(cat "$TEST_TMP/$name.rc")"
}

# lines_bounded NAME MAX: no capture has more than MAX non-empty lines, and
# nothing scrolled off the pane.
lines_bounded() {
	local name=$1 max=$2 f n
	for f in "$TEST_TMP/$name.snaps"/* "$TEST_TMP/$name.final"; do
		n=$(grep -c . "$f" || true)
		[ "$n" -le "$max" ] ||
			fail "$name: $n lines on the pane (at most $max): $(cat "$f")"
	done
	assert_eq 0 "$(history_size)" "$name: lines scrolled into the pane's history"
}

