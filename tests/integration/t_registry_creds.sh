#!/bin/bash
# tests/integration/t_registry_creds.sh: credential helpers that cannot
# give credentials, and what a refused login says.
#   a stale credsStore ("desktop", no docker-credential-desktop on PATH):
#     a registry that needs no login is pushed to, nothing said (-v: a
#     note); one that needs a login fails (exit 2) naming the helper and
#     the file; credentials in auths are still used;
#   a helper that runs and fails: one warning, the push goes on; when the
#     registry wants credentials, its failure is the message (exit 2);
#   a refused login is not "cannot reach registry" (it was reached).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
need docker-registry skopeo curl htpasswd
CTD_ADAPTER="${CTD_ADAPTER:-$top_builddir/idppush-containerd}"
[ -x "$CTD_ADAPTER" ] || fail "idppush-containerd not built: $CTD_ADAPTER"
# push LAYOUT TARGET [OPTIONS]: the containerd front end, from the layout
push() { timeout -k 5 180 "$CTD_ADAPTER" --plain-http --oci-layout "$@"; }

L="$TEST_TMP/layout"
DIG=$(make_oci_layout "$L" --oci 0 200000)
CFG="$DOCKER_CONFIG/config.json"
BIN="$TEST_TMP/bin"
mkdir -p "$BIN"
cat >"$BIN/docker-credential-broken" <<'EOF'
#!/bin/sh
echo 'gpg: decryption failed: No secret key' >&2
exit 1
EOF
chmod +x "$BIN/docker-credential-broken"
export PATH="$BIN:$PATH"

start_registry plain
OPEN=$REG_HOST
start_registry plain-htpasswd
LOCKED=$REG_HOST

# --- a stale credsStore ---------------------------------------------------------------
printf '{"credsStore":"desktop"}\n' >"$CFG"
assert_exit 0 push "$L" -q "$OPEN/team/app:stale"
assert_eq "$OPEN/team/app:stale@$DIG" "$LAST_OUT" "result line"
assert_eq "" "$LAST_ERR" "stderr of a push past a stale credential helper"
assert_exit 0 push "$L" -v "$OPEN/team/app:stale"
assert_contains "$LAST_ERR" "docker-credential-desktop"
assert_contains "$LAST_ERR" "(credsStore in $CFG): going on without it"

assert_exit 2 push "$L" "$LOCKED/team/app:stale"
assert_contains "$LAST_ERR" "$LOCKED requires authentication and no credentials were found"
assert_contains "$LAST_ERR" "docker-credential-desktop"
assert_contains "$LAST_ERR" "(credsStore in $CFG)"
assert_not_contains "$LAST_ERR" "cannot reach registry" "a refused login said unreachable"

# ... and an auths entry next to it is still used
AUTH=$(printf '%s:%s' "$REG_USER" "$REG_PASS" | base64 -w0)
printf '{"credsStore":"desktop","auths":{"%s":{"auth":"%s"}}}\n' "$LOCKED" "$AUTH" >"$CFG"
assert_exit 0 push "$L" -q "$LOCKED/team/app:auths"
assert_eq "" "$LAST_ERR" "stderr of a push with auths past a stale credential helper"

# --- a helper that runs and fails ---------------------------------------------------
printf '{"credHelpers":{"%s":"broken","%s":"broken"}}\n' "$OPEN" "$LOCKED" >"$CFG"
assert_exit 0 push "$L" -q "$OPEN/team/app:broken"
assert_contains "$LAST_ERR" "warning: credential helper docker-credential-broken: exited with \
status 1: gpg: decryption failed: No secret key (credHelpers in $CFG): going on without its \
credentials"
assert_eq 1 "$(grep -c . <<<"$LAST_ERR")" "lines of stderr"
assert_exit 2 push "$L" "$LOCKED/team/app:broken"
assert_contains "$LAST_ERR" "requires authentication and no credentials were found: \
credential helper docker-credential-broken: exited with status 1: gpg: decryption failed"

# --- a refused login: reached, not unreachable ----------------------------------------
rm -f "$CFG"
assert_exit 2 push "$L" -u "$REG_USER" --password-stdin "$LOCKED/team/app:wrong" <<<"not-$REG_PASS"
assert_contains "$LAST_ERR" "refused the credentials for user $REG_USER (command line)"
assert_not_contains "$LAST_ERR" "cannot reach registry" "a refused login said unreachable"
assert_exit 2 push "$L" "$LOCKED/team/app:none"
assert_contains "$LAST_ERR" "$LOCKED requires authentication and no credentials were found"
assert_not_contains "$LAST_ERR" "cannot reach registry" "a missing login said unreachable"
log "credential helper checks passed"
