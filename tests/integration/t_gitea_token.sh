#!/bin/bash
# tests/integration/t_gitea_token.sh: Gitea's tokens (tests/lib/gitea.sh).
# GET /v2/token answers {"token": JWT} and nothing else: no expires_in, the
# lifetime is the JWT's exp. Gitea answers an expired or unknown token with
# 401 and no WWW-Authenticate at all. So:
#   1. a token living 6 s (--first-token-lifetime) is renewed from its exp
#      before it runs out, in a push lasting longer: no request refused;
#   2. a token Gitea stops knowing mid-push (a new signing secret after two
#      PATCHes, --new-secret-after-patches) is dropped, a new one fetched
#      from the realm already known, the refused request sent again: the
#      push ends well, no upload is cancelled (and nothing is ever sent
#      with the dead token once it was refused);
#   3. no credentials at all: the anonymous token reads, Gitea's write
#      refusal (Basic realm="Gitea Package API") says no credentials were
#      found, exit 2.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/gitea.sh"
gitea_need_adapter

# push NAME ARGS...: a fresh image (one 1.5 MB layer) to $GITEA_OWNER/NAME:v1
push() {
	local name=$1
	shift
	L=$TEST_TMP/$name
	make_oci_layout "$L" --oci 1500000 >/dev/null
	: >"$GITEA_LOG"
	"${GITEA_ADAPTER[@]}" --oci-layout "$L" --ca-cert "$GITEA_CA" \
		--chunk-size 256k "$@" "$GITEA_HOST/$GITEA_OWNER/$name:v1"
}
# bearer_refused: requests that carried a token and got 401
bearer_refused() { gitea_select 'r["auth"] == "bearer" and r["status"] == 401'; }

# 1. the first token lives 6 s; the push lasts about 8 (200 kB/s)
start_gitea_stack --first-token-lifetime 6
assert_exit 0 push short --limit-rate 200k -u "$GITEA_USER" --password-stdin -q <<<"$GITEA_PASS"
first_exp=$(_gitea_py "$GITEA_LOG" 'print(min(r["token_exp"] for r in R if "token_exp" in r))')
last=$(_gitea_py "$GITEA_LOG" 'print(int(max(r["t"] for r in R)))')
[ "$last" -gt "$first_exp" ] || fail "the push ended before the first token expired"
assert_eq 0 "$(bearer_refused)" "requests refused for their token (renewed from the JWT's exp)"
n=$(gitea_count GET /v2/token 200)
[ "$n" -ge 2 ] && [ "$n" -le 3 ] || fail "token GETs: $n (wanted a renewal, no more)"
verify_pushed "$GITEA_HOST/$GITEA_OWNER/short:v1" "$L" "${GITEA_SKOPEO_FLAGS[@]}"
log "a token renewed from its JWT exp ($n token GETs)"

# 2. Gitea forgets every token after two PATCHes
start_gitea_stack --new-secret-after-patches 2
assert_exit 0 push forgotten -u "$GITEA_USER" --password-stdin -q <<<"$GITEA_PASS"
assert_eq 1 "$(gitea_select 'r.get("note", "").startswith("new signing secret")')" \
	"Gitea's new secret"
refused=$(bearer_refused)
[ "$refused" -ge 1 ] && [ "$refused" -le 2 ] || fail "requests refused for their token: $refused"
assert_eq "$refused" "$(gitea_select 'r["status"] == 401 and not r.get("www_authenticate")')" \
	"401s without a challenge"
assert_eq 0 "$(gitea_count DELETE '.*')" "upload sessions cancelled"
n=$(gitea_count GET /v2/token 200)
[ "$n" -ge 2 ] && [ "$n" -le 3 ] || fail "token GETs: $n (one more per refused connection)"
# after the first refusal the requests carry a new token, which is never
# refused (a request the other connection sent with the old one may still
# end after the new token's GET, refused: the log says which token each had)
_gitea_py "$GITEA_LOG" 'import sys
first = min(i for i, r in enumerate(R) if r["status"] == 401 and r["auth"] == "bearer")
new = {r["token_id"] for i, r in enumerate(R) if r["path"] == "/v2/token" and i > first}
assert new, "no token fetched after the refusal"
late = [r for r in R if r["status"] == 401 and r.get("token_id") in new]
assert not late, "a new token refused: %r" % late
used = [r for r in R if r.get("token_id") in new and r["path"] != "/v2/token"]
assert used, "the new token was never used"' || fail "requests after the new token"
verify_pushed "$GITEA_HOST/$GITEA_OWNER/forgotten:v1" "$L" "${GITEA_SKOPEO_FLAGS[@]}"
log "a token Gitea forgot: a new one from the known realm ($refused refused, $n token GETs)"

# 3. no credentials: the anonymous token reads, the write is refused
assert_exit 2 push anon -q
assert_contains "$LAST_ERR" "requires authentication and no credentials were found"
assert_eq 1 "$(gitea_select 'r["path"] == "/v2/token" and r.get("token_user") == ""')" \
	"anonymous tokens fetched"
n=$(gitea_select 'r["method"] == "POST" and r.get("www_authenticate") ==
"Basic realm=\"Gitea Package API\""')
[ "$n" -ge 1 ] && [ "$n" -le 2 ] || fail "writes refused to the anonymous token: $n"
log "PASS"
