#!/bin/bash
# tests/integration/t_bbolt_containerd.sh: common/sources/bbolt.c against a meta.db
# written by a real, private containerd. A generated OCI image is imported
# into two namespaces; tests/tools/bbolt-dump must then report each image's
# target (digest, media type, size) exactly as ctr does: once while
# containerd runs (and holds its flock on meta.db) and once after it stopped.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/containerd.sh"
need_containerd
DUMP=$top_builddir/tests/tools/bbolt-dump
[ -x "$DUMP" ] || fail "$DUMP not built (make check builds it)"
export LC_ALL=C

L="$TEST_TMP/layout"
MDIG=$(make_oci_layout "$L" --oci 4096)
MSZ=$(stat -c %s "$(layout_blob "$L" "$MDIG")")
ctd_start
ctd_import default example.test/idp/one "$L"
ctd_import second example.test/idp/two "$L"
DB=$CTD_ROOT/io.containerd.metadata.v1.bolt/meta.db
[ -s "$DB" ] || fail "no meta.db at $DB"

# "NS NAME DIGEST MEDIATYPE SIZE" per image, from ctr itself (size: the
# target blob's exact length, from `ctr content get`)
expect_from_ctr() {
	"${CTR[@]}" -n "$1" images ls | tail -n +2 | while read -r ref type digest _; do
		printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$ref" "$digest" "$type" \
			"$("${CTR[@]}" -n "$1" content get "$digest" | wc -c)"
	done
}
{ expect_from_ctr default; expect_from_ctr second; } | sort >"$TEST_TMP/expect"
{
	printf 'default\texample.test/idp/one:latest\t%s\t%s\t%s\n' \
		"$MDIG" application/vnd.oci.image.manifest.v1+json "$MSZ"
	printf 'second\texample.test/idp/two:latest\t%s\t%s\t%s\n' \
		"$MDIG" application/vnd.oci.image.manifest.v1+json "$MSZ"
} >"$TEST_TMP/mine"
diff -u "$TEST_TMP/mine" "$TEST_TMP/expect" ||
	fail "ctr does not list the imported images as expected"

check_dump() { # LABEL
	"$DUMP" "$DB" | sort >"$TEST_TMP/got" || fail "$1: bbolt-dump failed"
	diff -u "$TEST_TMP/expect" "$TEST_TMP/got" || fail "$1: bbolt-dump disagrees with ctr"
	"$DUMP" -t "$DB" >"$TEST_TMP/tree" || fail "$1: bbolt-dump -t failed"
	grep -q '^  second/$' "$TEST_TMP/tree" || fail "$1: namespace 'second' not in the tree"
	log "ok: $1"
}

ctd_running || fail "containerd exited early"
check_dump "while containerd runs (no lock)"
ctd_stop
check_dump "after containerd stopped"
log "PASS"
