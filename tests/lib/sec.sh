# tests/lib/sec.sh: helpers of the security tests (tests/integration/t_sec_*.sh),
# where root runs idppush on things another user controls. Source after
# common.sh.
#   need_sec                    root, setpriv; else skip (fail under CI=true)
#   sec_user                    SEC_UID / SEC_GID: a user and group no account has
#                               (no /etc/passwd or /etc/group entry, no process):
#                               the unprivileged user of the test; nothing to remove
#   as_user CMD...              CMD as that user (setpriv, no supplementary groups)
#   AS_USER                     the same as an array, for bg_start: "${AS_USER[@]}" CMD
#                               (a function would run in a subshell there, and
#                               the process tracked would not be CMD's)
#   SEC_PYTHON                  a python3 the user can run (/usr/bin/python3)
#   sec_user_dir VAR NAME       VAR= a new directory /tmp/idptest-sec-NAME.XXXXXX
#                               owned by the user, mode 0755, not sticky (every
#                               user can enter /tmp; TMPDIR may be a directory
#                               only root enters); removed at exit
#   sec_user_copy DIR FILE...   copy FILEs (scripts the user runs) into DIR/bin
#   sec_etc_file VAR NAME       VAR= a new root-owned 0600 file
#                               /etc/idppush-test-NAME.XXXXXX holding 3 KiB of
#                               random text; removed at exit
#   sec_etc_dir VAR NAME        VAR= a new empty root-owned 0755 directory
#                               /etc/idppush-test-NAME.XXXXXX; removed at exit
# (VAR, not $(...): what is to be removed at exit must be noted by this shell)
#   sec_check_uploads DIR WHAT NEEDLE...   the request bodies kept by
#                               hostile_registry.py --record DIR hold none of the
#                               NEEDLE files' bytes (raw, gunzipped, unzstd-ed),
#                               else fail saying WHAT reached the registry
#   run_rc VAR CMD...           run CMD; its exit code in VAR, its stdout and
#                               stderr in $TEST_TMP/last.out / last.err (and
#                               LAST_OUT / LAST_ERR), no assertion
#   bg_push NAME CMD...         CMD in the background (tracked); its exit code in
#                               $TEST_TMP/NAME.rc once it ended, its output in
#                               NAME.out / NAME.err
#   start_recording_proxy       a forward proxy logging every request (below)
#   with_proxy CMD...           CMD with the proxy variables naming it
# shellcheck shell=bash

SEC_TOOLS="$TEST_LIB/sec_tools.py"
SEC_PYTHON=/usr/bin/python3

need_sec() {
	need setpriv python3
	[ "$(id -u)" = 0 ] || skip "the security tests run idppush as root (they are about root)"
	[ -x "$SEC_PYTHON" ] || need /usr/bin/python3
}

sec_user() {
	local id
	for _ in $(seq 1 50); do
		id=$((20000 + RANDOM % 40000))
		getent passwd "$id" >/dev/null && continue
		getent group "$id" >/dev/null && continue
		pgrep -U "$id" >/dev/null 2>&1 && continue
		SEC_UID=$id
		SEC_GID=$id
		AS_USER=(setpriv --reuid="$SEC_UID" --regid="$SEC_GID" --clear-groups)
		export SEC_UID SEC_GID
		log "test user: uid $SEC_UID, gid $SEC_GID (no account)"
		return 0
	done
	fail "sec_user: no free uid found"
}

as_user() {
	"${AS_USER[@]}" "$@"
}

sec_user_dir() {
	local d
	d=$(mktemp -d "/tmp/idptest-sec-$2.XXXXXX")
	cleanup_add "$d"
	chmod 755 "$d"
	chown "$SEC_UID:$SEC_GID" "$d"
	printf -v "$1" '%s' "$d"
}

sec_user_copy() {
	local dir=$1
	shift
	install -d -m 755 -o "$SEC_UID" -g "$SEC_GID" "$dir/bin"
	install -m 755 -o "$SEC_UID" -g "$SEC_GID" "$@" "$dir/bin/"
}

sec_etc_file() {
	local f
	f=$(mktemp "/etc/idppush-test-$2.XXXXXX" 2>/dev/null) ||
		skip "cannot create a file in /etc (read-only?)"
	cleanup_add "$f"
	chmod 600 "$f"
	head -c 2304 /dev/urandom | base64 -w 64 >"$f"
	printf -v "$1" '%s' "$f"
}

sec_etc_dir() {
	local d
	d=$(mktemp -d "/etc/idppush-test-$2.XXXXXX" 2>/dev/null) ||
		skip "cannot create a directory in /etc (read-only?)"
	cleanup_add "$d"
	chmod 755 "$d"
	printf -v "$1" '%s' "$d"
}

sec_check_uploads() {
	local dir=$1 what=$2 out
	shift 2
	if ! out=$("$PYTHON" "$SEC_TOOLS" check-uploads "$dir" "$@"); then
		printf '%s\n' "$out" >&2
		fail "$what reached the registry"
	fi
}

run_rc() {
	local var=$1
	shift
	set +e
	"$@" >"$TEST_TMP/last.out" 2>"$TEST_TMP/last.err"
	printf -v "$var" '%s' "$?"
	set -e
	LAST_OUT=$(cat "$TEST_TMP/last.out")
	LAST_ERR=$(cat "$TEST_TMP/last.err")
}

bg_push() {
	local name=$1
	shift
	(status=0
		"$@" >"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err" </dev/null || status=$?
		echo "$status" >"$TEST_TMP/$name.rc.tmp" &&
			mv "$TEST_TMP/$name.rc.tmp" "$TEST_TMP/$name.rc") &
	track_pid $!
}

# start_recording_proxy: tests/lib/recording_proxy.py, a forward proxy that
# logs every request (JSON lines: method, target, host, authorization
# scheme). Sets RPROXY_URL (http://127.0.0.1:PORT), RPROXY_LOG.
start_recording_proxy() {
	local d="$TEST_TMP/rproxy"
	mkdir -p "$d"
	RPROXY_LOG=$d/requests.log
	: >"$RPROXY_LOG"
	bg_start rproxy/proxy "$PYTHON" "$TEST_LIB/recording_proxy.py" --port-file "$d/port" \
		--log "$RPROXY_LOG"
	wait_until 15 test -s "$d/port" || fail "recording proxy did not start"
	RPROXY_URL=http://127.0.0.1:$(cat "$d/port")
	wait_for_port 127.0.0.1 "${RPROXY_URL##*:}" 10 "$BG_PID" ||
		fail "recording proxy not listening"
	log "recording proxy at $RPROXY_URL"
}

# with_proxy CMD...: CMD with http_proxy, https_proxy (both cases) naming the
# recording proxy and no NO_PROXY (common.sh sets it for everything else).
with_proxy() {
	env -u NO_PROXY -u no_proxy http_proxy="$RPROXY_URL" https_proxy="$RPROXY_URL" \
		HTTP_PROXY="$RPROXY_URL" HTTPS_PROXY="$RPROXY_URL" "$@"
}
