#!/bin/bash
# tests/unit/t_unit_valgrind.sh: the CUnit unit binary under valgrind
# (memcheck): any memory error or definitely lost block fails. Without
# valgrind: skipped, or failed under CI=true (scripts/test installs it).
# Not run in the sanitizer build (valgrind cannot run ASan binaries).
. "$(dirname "$0")/../lib/common.sh"

need valgrind
unit="$top_builddir/tests/unit/unit"
[ -x "$unit" ] || fail "not built: $unit"
if ! timeout -k 5 900 valgrind -q --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite --track-fds=no "$unit" >"$TEST_TMP/unit.out" \
	2>"$TEST_TMP/valgrind.err"; then
	tail -n 60 "$TEST_TMP/unit.out" >&2
	grep -E '^==[0-9]+==' "$TEST_TMP/valgrind.err" | head -n 200 >&2
	fail "valgrind found errors in the unit tests (or they failed)"
fi
grep -E 'Run Summary|tests  ' "$TEST_TMP/unit.out" >&2 || true
log "unit tests clean under valgrind"
