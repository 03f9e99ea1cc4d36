#!/bin/bash
# tests/lint/t_cppcheck.sh: cppcheck over the C sources of the programs
# (common/, plugin/, adapter/, tests/tools/) with a fixed set of checks:
# warning, portability and performance (errors always), inconclusive ones
# too, cppcheck's knowledge of POSIX, glibc, libcurl and zlib, and its
# whole-program pass (one job: cppcheck 2.10 does that pass only with -j1,
# and the tree takes seconds). The configuration is the build's own:
# config.h from the build tree with -D for each of its HAVE_ macros (so
# only that configuration is checked: the zlib-only build checks the code
# without ISA-L, libdeflate and zstd), the include paths of Makefile.am.
# Every finding fails; one that is wrong is suppressed on the line before
# it with `/* cppcheck-suppress <id> ; <why> */`. Not checked: the unit
# tests and fuzz drivers (CUnit's and libFuzzer's macros, which cppcheck
# does not see without the system headers). Without cppcheck: skipped, or
# failed under CI=true (scripts/test installs it).
. "$(dirname "$0")/../lib/common.sh"

need cppcheck
config="$top_builddir/config.h"
[ -f "$config" ] || fail "not configured: no $config"
defines=(-DIDP_VERSION='"test"')
while read -r _ name value; do
	defines+=("-D$name=$value")
done < <(grep -E '^#define HAVE_[A-Z0-9_]+ ' "$config")

cd "$top_srcdir"
if ! cppcheck -q -j1 --error-exitcode=1 --std=c11 --inline-suppr \
	--enable=warning,portability,performance --inconclusive \
	--library=posix,gnu,libcurl,zlib --suppress=missingIncludeSystem \
	--template='{file}:{line}: {severity}: {message} [{id}]' \
	-I "$top_builddir" -I common -I "$top_builddir/common" "${defines[@]}" \
	common plugin adapter tests/tools 2>"$TEST_TMP/cppcheck.out"; then
	cat "$TEST_TMP/cppcheck.out" >&2
	fail "cppcheck found the problems above (fix them, or suppress a wrong one inline)"
fi
[ ! -s "$TEST_TMP/cppcheck.out" ] || {
	cat "$TEST_TMP/cppcheck.out" >&2
	fail "cppcheck said something"
}
log "cppcheck $(cppcheck --version | sed 's/^Cppcheck //'): clean (${#defines[@]} defines)"
