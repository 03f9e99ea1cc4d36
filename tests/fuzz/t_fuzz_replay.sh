#!/bin/bash
# tests/fuzz/t_fuzz_replay.sh: every fuzz target (tests/fuzz/fuzz_<t>.c),
# built with the normal compiler against tests/fuzz/replay.c as
# tests/fuzz/replay_<t>, run over its seed corpus tests/fuzz/corpus/<t>/
# (in the sanitizer build, under ASan/UBSan). A target without a corpus,
# a corpus without a target, a crash, a trap or a sanitizer report fails.
. "$(dirname "$0")/../lib/common.sh"

FUZZ_SRC="$top_srcdir/tests/fuzz"
failed=""
n=0
for src in "$FUZZ_SRC"/fuzz_*.c; do
	t=$(basename "$src" .c)
	t=${t#fuzz_}
	case "$t" in util | image) continue ;; esac
	[ -d "$FUZZ_SRC/corpus/$t" ] || fail "fuzz target $t has no corpus tests/fuzz/corpus/$t"
	bin="$top_builddir/tests/fuzz/replay_$t"
	[ -x "$bin" ] || fail "not built: $bin (make check builds it)"
	if timeout -k 5 300 "$bin" "$FUZZ_SRC/corpus/$t" >"$TEST_TMP/$t.out" \
		2>"$TEST_TMP/$t.err"; then
		log "$t: $(cat "$TEST_TMP/$t.out")"
	else
		printf -- '----- replay_%s (last 40 lines of stderr) -----\n' "$t" >&2
		tail -n 40 "$TEST_TMP/$t.err" >&2
		failed="$failed $t"
	fi
	n=$((n + 1))
done
for d in "$FUZZ_SRC"/corpus/*/; do
	t=$(basename "$d")
	[ -f "$FUZZ_SRC/fuzz_$t.c" ] || fail "corpus tests/fuzz/corpus/$t has no target fuzz_$t.c"
done
[ "$n" -gt 0 ] || fail "no fuzz target found in $FUZZ_SRC"
[ -z "$failed" ] || fail "replay failed for:$failed"
log "$n targets replayed their corpus"
