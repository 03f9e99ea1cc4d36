#!/bin/bash
# tests/fuzz/fuzz.sh: builds and runs the libFuzzer targets (`make fuzz`,
# `make fuzz-run`); the Makefile passes everything it knows in the
# environment:
#   CC (clang), SRCDIR, OUT (build dir's tests/fuzz), CPPFLAGS, DEP_CFLAGS,
#   DEP_LIBS, CORE_SOURCES / FE_SOURCES (the libraries' sources), TARGETS.
# build: every library source is compiled once with
#   -fsanitize=fuzzer-no-link,address,undefined into OUT/obj (again only
#   when it or a header it includes changed), archived, and each target
#   tests/fuzz/fuzz_<t>.c linked with -fsanitize=fuzzer into OUT/bin/fuzz_<t>.
# run [TARGET...]: each target (default: all) for FUZZ_TIME seconds
#   (default 60) over its seeds tests/fuzz/corpus/<t> plus a working corpus
#   OUT/work/<t> (new inputs go there, the seeds stay as they are);
#   crashes, leaks and timeouts land in OUT/artifacts/<t>/. Extra libFuzzer
#   flags: FUZZ_FLAGS; temp files in FUZZ_TMPDIR (default /dev/shm when
#   writable). Exit status 1 when any target found something.
set -eu
set -o pipefail

: "${CC:?}" "${SRCDIR:?}" "${OUT:?}"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS_FUZZ="-g -O1 -std=gnu11 $SAN"
ASAN_DEFAULT=detect_leaks=1:halt_on_error=1:print_stacktrace=1
UBSAN_DEFAULT=halt_on_error=1:print_stacktrace=1

explain_missing() {
	echo "make fuzz: $1" >&2
	echo "make fuzz: it needs clang with libFuzzer and the sanitizer runtimes" \
		"(Debian: apt-get install clang libclang-rt-14-dev), then re-run configure" >&2
	exit 1
}

check_clang() {
	local t="$OUT/obj/check"
	mkdir -p "$OUT/obj"
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return (int)(n & 0); }' \
		>"$t.c"
	"$CC" $CFLAGS_FUZZ -fsanitize=fuzzer "$t.c" -o "$t" 2>"$t.log" ||
		explain_missing "$CC cannot link a libFuzzer target: $(head -n 3 "$t.log")"
}

# stale OBJ SRC: true when OBJ must be rebuilt (missing, or older than any
# file its dependency list names).
stale() {
	local obj=$1 dep
	[ -f "$obj" ] && [ -f "$obj.d" ] || return 0
	for dep in $(sed -e 's/^[^:]*://' -e 's/\\$//' "$obj.d"); do
		[ "$dep" -nt "$obj" ] && return 0
	done
	return 1
}

# compile SRC...: objects under OUT/obj, printed one per line.
compile() {
	local src obj
	for src in "$@"; do
		case "$src" in *.c) ;; *) continue ;; esac
		obj="$OUT/obj/${src%.c}.o"
		if stale "$obj"; then
			mkdir -p "$(dirname "$obj")"
			echo "  FUZZCC   $src" >&2
			# shellcheck disable=SC2086
			"$CC" $CFLAGS_FUZZ -fsanitize=fuzzer-no-link $CPPFLAGS $DEP_CFLAGS \
				-I"$SRCDIR/plugin" -I"$SRCDIR/tests/fuzz" \
				-MMD -MF "$obj.d" -c "$SRCDIR/$src" -o "$obj"
		fi
		echo "$obj"
	done
}

# newer FILE INPUT...: true when FILE is missing or older than an INPUT.
newer() {
	local f=$1 i
	shift
	[ -f "$f" ] || return 0
	for i in "$@"; do
		[ "$i" -nt "$f" ] && return 0
	done
	return 1
}

archive() { # NAME OBJ...
	local a="$OUT/obj/$1"
	shift
	if newer "$a" "$@"; then
		rm -f "$a"
		ar rcs "$a" "$@"
	fi
	echo "$a"
}

# Extra sources a target needs besides its own file and fuzz_util.c.
extra_sources() {
	case "$1" in
	imgwalk | oci_layout) echo tests/fuzz/fuzz_image.c ;;
	esac
}

build() {
	local core fe t objs
	check_clang
	# shellcheck disable=SC2086
	core=$(archive libcore.a $(compile $CORE_SOURCES))
	# shellcheck disable=SC2086
	fe=$(archive libfe.a $(compile $FE_SOURCES))
	mkdir -p "$OUT/bin"
	for t in $TARGETS; do
		# shellcheck disable=SC2046
		objs=$(compile "tests/fuzz/fuzz_$t.c" tests/fuzz/fuzz_util.c $(extra_sources "$t"))
		# shellcheck disable=SC2086
		newer "$OUT/bin/fuzz_$t" $objs "$fe" "$core" || continue
		echo "  FUZZLD   fuzz_$t" >&2
		# shellcheck disable=SC2086
		"$CC" $CFLAGS_FUZZ -fsanitize=fuzzer $objs "$fe" "$core" $DEP_LIBS \
			-o "$OUT/bin/fuzz_$t.tmp"
		mv "$OUT/bin/fuzz_$t.tmp" "$OUT/bin/fuzz_$t"
	done
	echo "make fuzz: targets in $OUT/bin: $(cd "$OUT/bin" && echo fuzz_*)"
}

# Inputs can be large only where the format needs it (tar streams, bbolt
# pages, layouts of several blobs).
max_len() {
	case "$1" in
	docker_save | bbolt) echo 131072 ;;
	oci_layout | imgwalk | pushcache | creds) echo 16384 ;;
	*) echo 4096 ;;
	esac
}

run() {
	local t bad=0 work art log rc
	# targets that write files are many times faster on tmpfs
	if [ -z "${FUZZ_TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
		FUZZ_TMPDIR=/dev/shm
	fi
	export TMPDIR=${FUZZ_TMPDIR:-${TMPDIR:-/tmp}}
	for t in "$@"; do
		if [ ! -x "$OUT/bin/fuzz_$t" ]; then
			echo "fuzz-run: no $OUT/bin/fuzz_$t (make fuzz)" >&2
			exit 1
		fi
		work="$OUT/work/$t"
		art="$OUT/artifacts/$t"
		log="$OUT/fuzz_$t.log"
		mkdir -p "$work" "$art"
		echo "fuzz-run: $t for ${FUZZ_TIME:-60}s (log $log)"
		rc=0
		# shellcheck disable=SC2086
		ASAN_OPTIONS=${ASAN_OPTIONS:-$ASAN_DEFAULT} \
			UBSAN_OPTIONS=${UBSAN_OPTIONS:-$UBSAN_DEFAULT} \
			"$OUT/bin/fuzz_$t" -max_total_time="${FUZZ_TIME:-60}" -rss_limit_mb=2048 \
			-timeout=10 -max_len="$(max_len "$t")" -print_final_stats=1 \
			-artifact_prefix="$art/" ${FUZZ_FLAGS:-} \
			"$work" "$SRCDIR/tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
		# with -fork=1 -ignore_crashes=1 it exits 0 but leaves artifacts
		if [ "$rc" != 0 ] || [ -n "$(ls -A "$art")" ]; then
			echo "fuzz-run: $t FOUND SOMETHING: see $log and $art" >&2
			bad=1
		fi
		# the last status line: total executions (also in -fork mode), coverage
		grep -E '^#[0-9]+' "$log" | tail -n 1 | sed "s/^/fuzz-run: $t: /"
		grep -E '^Done ' "$log" | sed "s/^/fuzz-run: $t: /" || true
	done
	return "$bad"
}

case "${1:-build}" in
build) build ;;
run)
	shift
	# shellcheck disable=SC2086
	[ "$#" -gt 0 ] || set -- $TARGETS
	run "$@"
	;;
*)
	echo "usage: fuzz.sh build | run [TARGET...]" >&2
	exit 2
	;;
esac
