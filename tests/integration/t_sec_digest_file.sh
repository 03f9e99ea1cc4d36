#!/bin/bash
# tests/integration/t_sec_digest_file.sh: --digest-file the user cannot
# write (a file of root's, a directory of root's): refused before any
# request. Then --digest-file in a directory another user can write. The directory is the test
# user's own (0755, not sticky); `docker idppush` (the fake docker CLI) runs
# as root. The path starts as the user's FIFO (a stream idppush writes
# into). The push runs under strace, which delays every open of that path
# (or in its directory) by 5 s as the open begins; when the first one is
# seen, the user swaps the FIFO for a symlink to a root-owned 0600 file in
# /etc. That file must be unchanged afterwards (the push's exit code is not
# checked: refusing is fine).
# The path is checked twice, before the push and again just before the
# open, so only a swap between that last check and the open can make root
# write through a symlink: strace makes that window 5 s long instead of a
# few microseconds, and the swap lands in it every time. Before the fix,
# open(path, O_WRONLY) followed the symlink and root wrote the digest over
# the start of the /etc file. (LeakSanitizer cannot work under ptrace: it
# is off for that push in a sanitizer build.)
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/sec.sh"
. "$TEST_LIB/plugin.sh"
need_sec
need_plugin
sec_user
fake_docker_setup
L="$TEST_TMP/layout"
make_oci_layout "$L" --oci 300000 200000 >/dev/null
fixture oci-inside "$L" app:v1

start_registry plain

# A --digest-file the user cannot write, an existing file or its
# directory: refused (exit 1) before any request, not after the tag was
# pushed. (As the user: root may write anything.)
sec_user_dir HD digest-home
cp -r "$L" "$HD/layout"
chown -R "$SEC_UID:$SEC_GID" "$HD/layout"
sec_etc_dir RO digest-ro
touch "$HD/theirs"
CTD_ADAPTER="${CTD_ADAPTER:-$top_builddir/idppush-containerd}"
user_push() { # DIGEST-FILE
	run_rc rc as_user env HOME="$HD" DOCKER_CONFIG="$HD/.docker" timeout -k 5 60 \
		"$CTD_ADAPTER" -q --plain-http --digest-file "$1" --oci-layout "$HD/layout" \
		"$REG_HOST/giteaadmin/df:v1"
}
requests() { grep -c '"idppush/' "$REG_LOG" || true; }
for df in "$RO/digest" "$HD/theirs"; do
	before=$(requests)
	user_push "$df"
	assert_eq 1 "$rc" "exit code with --digest-file $df ($LAST_ERR)"
	assert_contains "$LAST_ERR" "cannot write --digest-file '$df'"
	assert_contains "$LAST_ERR" "Permission denied"
	assert_eq "$before" "$(requests)" "requests to the registry before refusing $df"
done
assert_not_tagged "$REG_HOST/giteaadmin/df:v1" "${SKOPEO_FLAGS[@]}"
user_push "$HD/mine"
assert_eq 0 "$rc" "exit code with a --digest-file of the user's ($LAST_ERR)"
assert_file_contains "$HD/mine" '^sha256:[0-9a-f]{64}$' "the digest file"

need strace
strace -f -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace here (ptrace refused)"
sec_etc_file VICTIM digest-victim
cp -p "$VICTIM" "$TEST_TMP/victim.orig"
sec_user_dir UD digest
DF="$UD/digest"
as_user mkfifo "$DF"
bg_start fifo-holder "${AS_USER[@]}" sh -c 'exec sleep 300 <>"$1"' _ "$DF"   # opens never block
export XDG_CACHE_HOME="$TEST_TMP/cache-a"
ST="$TEST_TMP/strace.log"
bg_push a strace -f -qq -e signal=none -o "$ST" -P "$DF" -P "$UD" \
	-e trace=open,openat,openat2,creat -e inject=open,openat,openat2,creat:delay_enter=5000000 \
	env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	timeout -k 5 120 "$PLUGIN" --registry "$REG_HOST" --plain-http -q --digest-file "$DF" app:v1
opened() { grep -Eq "(open|openat|openat2|creat)\(.*\"($UD/)?digest\"" "$ST" 2>/dev/null; }
opened_or_ended() { opened || test -s "$TEST_TMP/a.rc"; }
wait_until 120 opened_or_ended || fail "the push neither opened --digest-file nor ended in 120 s"
opened || fail "the push ended without opening --digest-file $DF by its name (exit \
$(cat "$TEST_TMP/a.rc"): $(cat "$TEST_TMP/a.err")): this test swaps the path as that open begins"
as_user sh -c 'ln -s "$1" "$2.new" && mv -T "$2.new" "$2"' _ "$VICTIM" "$DF" ||
	fail "the user could not swap $DF"
log "$DF swapped for a symlink to $VICTIM as root began: $(grep -E '"([^"]*/)?digest"' "$ST" |
	head -n 1)"
wait_until 120 test -s "$TEST_TMP/a.rc" || fail "the push did not end"
log "push exit $(cat "$TEST_TMP/a.rc"): $(cat "$TEST_TMP/a.err")"
cmp -s "$TEST_TMP/victim.orig" "$VICTIM" || fail "root wrote into $VICTIM (it now starts \
with '$(head -c 71 "$VICTIM" | tr -c '[:print:]' ' ')') through the symlink uid $SEC_UID swapped \
in at --digest-file $DF after its check"

log "ok"
