#!/bin/bash
# tests/integration/t_registry_token.sh: the engine against docker-registry
# with bearer-token auth served by tests/lib/token_server.py (Gitea-like:
# GET /v2/token with Basic, POST /v2/token -> 404, RS256 JWT with x5c).
#   1. push + skopeo verify; the token server log must show a Basic GET with
#      scope repository:giteaadmin/app:pull,push.
#   2. token expiry mid-push: the first push token is usable for ~3 s only
#      (--first-tokens 1 --first-lifetime -57, distribution adds 60 s
#      leeway). The engine runs with --jobs 1 and small chunks; once it has
#      the token the test SIGSTOPs it until the token is past usable_until,
#      then SIGCONTs it: its next request gets 401 and it must fetch exactly
#      one new token and finish.
#   4. tokens that live 5 s (expires_in 5): the push succeeds, renewing them.
#   3. identity-token flow: DOCKER_CONFIG/config.json holds, for the registry,
#      "auth" = base64(user:password) AND "identitytoken" = the password (as
#      with a Gitea access token, which also works as a Basic password).
#      The engine must try POST /v2/token (grant_type=refresh_token), get 404
#      like from Gitea, fall back to GET with Basic, and push.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
need docker-registry skopeo curl openssl
need_python_module cryptography
need_engine

# token_grants N: number of tokens the server issued with push access for app
push_tokens() { # REPO
	grep '"status":200' "$TOKEN_LOG" |
		grep -c "\"name\":\"$1\",\"actions\":\[[^]]*\"push\"" || true
}

# --- 1. basic token push ------------------------------------------------------
start_registry token
L="$TEST_TMP/layout"
DIG=$(make_oci_layout "$L" --docker 0 800000 1600000)
T="$REG_HOST/giteaadmin/app:v1"
assert_push_ok "$T" "$DIG" --ca-cert "$REG_CA" -u "$REG_USER" -p "$REG_PASS" "$L" "$T"
assert_not_contains "$LAST_OUT$LAST_ERR" "$REG_PASS" "engine output leaks the password"
verify_pushed "$T" "$L" "${SKOPEO_FLAGS[@]}"
re='"method":"GET","path":"/v2/token","query":\{[^}]*"service":\["container_registry"\]'
re+='.*"basic":true,"user":"giteaadmin","scopes":\[[^]]*"repository:giteaadmin/app:pull,push"'
assert_file_contains "$TOKEN_LOG" "$re" \
	"token GET with Basic and scope repository:giteaadmin/app:pull,push"
[ "$(push_tokens giteaadmin/app)" -ge 1 ] || fail "no push token issued"
if grep -q '"basic":false' "$TOKEN_LOG" &&
	grep '"basic":false' "$TOKEN_LOG" | grep -q '"push"'; then
	fail "a push-scope token was requested without credentials"
fi

# --- 2. token expires in the middle of a push ----------------------------------
start_registry token --first-tokens 1 --first-lifetime -57
LX="$TEST_TMP/layout-expiry"
DIGX=$(make_oci_layout "$LX" --docker 4000000 4000000 4000000)
TX="$REG_HOST/giteaadmin/expiry:v1"
"$ENGINE_PUSH" --ca-cert "$REG_CA" -u "$REG_USER" -p "$REG_PASS" --jobs 1 --chunk-size 65536 \
	"$LX" "$TX" >"$TEST_TMP/expiry.out" 2>"$TEST_TMP/expiry.err" &
EPID=$!
track_pid "$EPID"
first_push_token() { grep '"status":200' "$TOKEN_LOG" | grep '"push"' | head -n1 | grep -q .; }
# running and not a zombie (kill -0 succeeds on a zombie)
engine_running() { [ -r "/proc/$EPID/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$EPID/stat"; }
token_or_exit() { first_push_token || ! engine_running; }
WAIT_INTERVAL=0.02 wait_until 60 token_or_exit ||
	fail "engine never obtained a push token (see $TOKEN_LOG)"
first_push_token ||
	fail "engine exited before obtaining a push token: $(cat "$TEST_TMP/expiry.err")"
if ! kill -STOP "$EPID" 2>/dev/null; then
	fail "engine finished before it could be paused: the expiry scenario was not exercised"
fi
until_=$(grep '"status":200' "$TOKEN_LOG" | grep '"push"' | head -n1 |
	grep -o '"usable_until":[0-9]*' | cut -d: -f2)
log "engine paused until the first token is past its usable_until ($until_)"
wait_until 15 clock_past "$until_" || fail "clock did not pass $until_"
kill -CONT "$EPID"
engine_done() { ! engine_running; }
wait_until "${ENGINE_TIMEOUT:-180}" engine_done ||
	fail "engine did not finish after the token expired"
rc=0
wait "$EPID" || rc=$?
LAST_OUT=$(cat "$TEST_TMP/expiry.out")
LAST_ERR=$(cat "$TEST_TMP/expiry.err")
if [ "$rc" != 0 ]; then
	printf 'stdout: %s\nstderr: %s\n' "$LAST_OUT" "$LAST_ERR" >&2
	fail "push across a token expiry exited $rc"
fi
assert_eq "$TX@$DIGX" "$LAST_OUT" "engine-push stdout after re-authentication"
grep -q 'token not to be used after' "$REG_LOG" ||
	fail "the registry never saw the expired token: scenario not exercised (push too fast?)"
assert_eq 2 "$(push_tokens giteaadmin/expiry)" \
	"push tokens issued (initial + exactly one re-authentication)"
verify_pushed "$TX" "$LX" "${SKOPEO_FLAGS[@]}"

# --- 3. identity token: POST -> 404 -> GET fallback -------------------------------
start_registry token
DC="$TEST_TMP/dockercfg"
mkdir -p "$DC"
printf '{"auths":{"%s":{"auth":"%s","identitytoken":"%s"}}}\n' "$REG_HOST" \
	"$(printf '%s:%s' "$REG_USER" "$REG_PASS" | base64 -w0)" "$REG_PASS" >"$DC/config.json"
T="$REG_HOST/giteaadmin/idtok:v1"
assert_exit 0 run_engine_env DOCKER_CONFIG="$DC" -- --ca-cert "$REG_CA" "$L" "$T"
assert_eq "$T@$DIG" "$LAST_OUT" "engine-push stdout (identity token)"
verify_pushed "$T" "$L" "${SKOPEO_FLAGS[@]}"
assert_file_contains "$TOKEN_LOG" \
	'"method":"POST","path":"/v2/token".*"form_keys":\[[^]]*"refresh_token".*"status":404' \
	"identity-token POST (grant_type=refresh_token) answered 404"
post_line=$(grep -n '"method":"POST"' "$TOKEN_LOG" | head -n1 | cut -d: -f1)
get_line=$(grep -n '"method":"GET".*"basic":true.*"status":200' "$TOKEN_LOG" |
	tail -n1 | cut -d: -f1)
if [ -z "$get_line" ] || [ "$get_line" -lt "$post_line" ]; then
	fail "no successful Basic GET /v2/token after the POST 404 (fallback missing)"
fi
assert_not_contains "$LAST_OUT$LAST_ERR" "$REG_PASS" "engine output leaks the identity token"

# --- 4. short-lived tokens (expires_in 5): renewed before they expire, and a
# new token is used at once, not thrown away as already expired -----------------
start_registry token --lifetime 5 --expires-in
LS="$TEST_TMP/layout-short"
DIGS=$(make_oci_layout "$LS" --docker 3000000 3000000 3000000)
TS="$REG_HOST/giteaadmin/short:v1"
assert_push_ok "$TS" "$DIGS" --ca-cert "$REG_CA" -u "$REG_USER" -p "$REG_PASS" --jobs 1 \
	--chunk-size 262144 "$LS" "$TS"
verify_pushed "$TS" "$LS" "${SKOPEO_FLAGS[@]}"
n=$(push_tokens giteaadmin/short)
[ "$n" -ge 1 ] && [ "$n" -le 40 ] || fail "short-lived tokens: $n push tokens for one push"

log "PASS"
