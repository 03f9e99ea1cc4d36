#!/bin/bash
# tests/integration/t_sec_escape.sh: a `docker save` stream names a layer
# directory with terminal escape codes. The fake
# docker CLI serves a legacy (graph-driver) stream whose first layer is
# "<ESC>]0;pwned<BEL>abc/layer.tar" (an OSC that sets a terminal's title,
# as a hostile daemon or remote context could send) instead of a 64-hex v1
# id. `docker idppush` pushes it with --progress plain, --progress json and
# on a terminal (script(1): a pty, so the tty progress display). In none
# of them may the output hold the BEL byte or an OSC ("<ESC>]"): the tty
# display's own cursor movements are CSI ("<ESC>["), so plain and json
# output may hold no ESC at all. Refusing the stream (a layer directory
# that is not hex), with a message as escaped as the rest, is fine too:
# the exit code is not checked.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/sec.sh"
. "$TEST_LIB/plugin.sh"
need_plugin
need script
fake_docker_setup
L="$TEST_TMP/layout"
make_oci_layout "$L" --oci 200000 3000 >/dev/null
EVIL=$'\e]0;pwned\aabc'
K="$FAKE_DOCKER_DIR/$(_fkey app:evil)"
"$PYTHON" "$SAVE_FIXTURE" legacy-v1 "$L" app:evil "$K.tar" "$K.inspect.json" "$EVIL"
grep -aq "$EVIL" "$K.tar" || fail "the fixture has no escape code in a name"
start_registry plain
P=(--registry "$REG_HOST" --plain-http)

# no_escape WHAT FILE [any-esc]: FILE holds no BEL and no OSC (with any-esc:
# no ESC at all)
no_escape() {
	local what=$1 f=$2 pat=$'\a|\e\\]'
	[ "${3:-}" != any-esc ] || pat=$'\a|\e'
	if grep -Eaq "$pat" "$f"; then
		grep -Ean "$pat" "$f" | head -n 5 | cat -v >&2
		fail "$what: escape codes from a layer directory name in docker save reached the \
terminal (shown above with cat -v)"
	fi
}

# --progress plain and json: stdout and stderr
for mode in plain json; do
	export XDG_CACHE_HOME="$TEST_TMP/cache-$mode"
	run_rc rc run_plugin "${P[@]}" --progress "$mode" app:evil "$REG_HOST/sec/evil:$mode"
	log "--progress $mode: exit $rc"
	cat "$TEST_TMP/last.out" "$TEST_TMP/last.err" >"$TEST_TMP/$mode.all"
	no_escape "--progress $mode" "$TEST_TMP/$mode.all" any-esc
done

# a terminal: the tty display
export XDG_CACHE_HOME="$TEST_TMP/cache-tty"
cmd=$(printf '%q ' timeout -k 5 120 "$PLUGIN" "${P[@]}" app:evil "$REG_HOST/sec/evil:tty")
run_rc rc env TERM=xterm script -qefc "$cmd" "$TEST_TMP/typescript"
log "on a terminal: exit $rc"
grep -aq 'sec/evil' "$TEST_TMP/typescript" || fail "script(1) caught nothing of the push"
no_escape "on a terminal" "$TEST_TMP/typescript"
log "ok"
