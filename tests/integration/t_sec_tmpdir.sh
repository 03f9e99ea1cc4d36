#!/bin/bash
# tests/integration/t_sec_tmpdir.sh: what root keeps in TMPDIR when TMPDIR
# is a directory another user can write (the CA bundle). TMPDIR is the
# test user's own directory (0755, not sticky);
# `docker idppush` (the fake docker CLI) runs as root against a TLS
# registry (tests/lib/hostile_registry.py) whose CA comes from --ca-cert.
# The registry holds the first upload POST and then closes the
# connection, so the push opens a new one (and curl loads its CA file
# again). While it is held, the user swaps every entry root made in
# TMPDIR for their own of the same name (renaming root's away, which a
# non-sticky directory allows even for root's 0700 directories): a FIFO
# for a file, a directory of FIFOs for a directory. Nobody may open those
# FIFOs (the user's writer notes every open, and hands out the user's own
# CA), and the push must succeed. Before the fix the CA bundle was
# TMPDIR/idppush-ca-XXXXXX, which curl reopened by name for the new
# connection: it read the user's CA and the push failed verification.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/sec.sh"
. "$TEST_LIB/plugin.sh"
need_sec
need_plugin
need openssl
sec_user
fake_docker_setup
L="$TEST_TMP/layout"
make_oci_layout "$L" --oci 300000 200000 >/dev/null
fixture oci-inside "$L" app:v1

make_certs
sec_user_dir UT tmpdir
sec_user_dir UA attacker
install -m 644 -o "$SEC_UID" -g "$SEC_GID" "$CA2_CERT" "$UA/ca2.crt"
start_hostile_registry "" --tls --hold "$TEST_TMP/release" \
	--hold-match '^POST /v2/.+/blobs/uploads/'
export XDG_CACHE_HOME="$TEST_TMP/cache-b"
bg_push b env TMPDIR="$UT" timeout -k 5 120 "$PLUGIN" --registry "$HOSTILE_HOST" \
	--ca-cert "$CA_CERT" --retries 0 --jobs 1 -q app:v1
held_or_ended() { grep -q '"event": "hold"' "$HOSTILE_LOG" || test -s "$TEST_TMP/b.rc"; }
wait_until 60 held_or_ended || fail "the push reached no upload in 60 s"
[ ! -s "$TEST_TMP/b.rc" ] || fail "the push ended before its first upload: $(cat "$TEST_TMP/b.err")"
# fake FILE: the user's FIFO at FILE; a writer notes every open of it (and
# gives the opener the user's own CA)
fake() {
	as_user mkfifo "$1"
	bg_start "fifo-$RANDOM" "${AS_USER[@]}" sh -c 'while :; do
		exec 3>"$1"; echo "$1" >>"$2"; cat "$3" >&3; exec 3>&-
	done' _ "$1" "$UA/opened" "$UA/ca2.crt"
}
swapped=
for e in "$UT"/* "$UT"/.[!.]*; do
	[ -e "$e" ] || [ -L "$e" ] || continue
	swapped+="${e##*/} ($(stat -c '%U, %F, %a' "$e")); "
	as_user mv "$e" "$e.moved" || fail "the user could not rename $e"
	if [ -d "$e.moved" ] && [ ! -L "$e.moved" ]; then
		as_user mkdir "$e"
		for f in "$e.moved"/* "$e.moved"/.[!.]*; do
			[ -e "$f" ] || [ -L "$f" ] || continue
			fake "$e/${f##*/}"
		done
	else
		fake "$e"
	fi
done
log "root's entries in TMPDIR while held, swapped by the user: ${swapped:-none}"
touch "$TEST_TMP/release"
wait_until 120 test -s "$TEST_TMP/b.rc" || fail "the push did not end"
log "push exit $(cat "$TEST_TMP/b.rc"): $(cat "$TEST_TMP/b.err")"
[ ! -s "$UA/opened" ] || fail "root opened $(sort -u "$UA/opened" | tr '\n' ' ')which uid $SEC_UID \
put in place of what root had made in TMPDIR ($UT: ${swapped:-none}): a file root reopens by \
name in a directory another user can write"
assert_eq 0 "$(cat "$TEST_TMP/b.rc")" "exit code of the push with TMPDIR=$UT: \
$(cat "$TEST_TMP/b.err")"
log "ok"
