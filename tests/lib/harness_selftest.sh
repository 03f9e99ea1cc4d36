#!/bin/bash
# tests/lib/harness_selftest.sh: checks the integration-test harness itself,
# without idppush: for every registry mode (plain, tls, tls-htpasswd, token,
# nginx body-limit proxy, faultproxy) push a generated layout with skopeo and
# verify it with verify_pushed; also checks the negative paths of the
# verifier and of the token server (wrong password, POST 404, scopes, expiry).
# If this fails, the t_registry_*.sh results say nothing about the engine.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
need skopeo docker-registry curl openssl

L="$TEST_TMP/layout"
DIG=$(make_oci_layout "$L" --docker 0 1000 300000)
LO="$TEST_TMP/layout-oci"
DIGO=$(make_oci_layout "$LO" --oci 2000 100)
[ "$DIG" = "$(layout_manifest_digest "$L")" ] || fail "layout digest mismatch"
[ "$DIGO" = "$(layout_manifest_digest "$LO")" ] || fail "layout digest mismatch (oci)"

# --- plain -------------------------------------------------------------------
start_registry plain
skopeo_push "$L" "$REG_HOST/giteaadmin/app:v1" "${SKOPEO_FLAGS[@]}" || fail "skopeo push (plain)"
verify_pushed "$REG_HOST/giteaadmin/app:v1" "$L" "${SKOPEO_FLAGS[@]}"
assert_eq "$DIG" "$(reg_tag_digest giteaadmin/app v1)" "registry storage tag link"
skopeo_push "$LO" "$REG_HOST/giteaadmin/oci:v1" "${SKOPEO_FLAGS[@]}" || fail "skopeo push (oci)"
verify_pushed "$REG_HOST/giteaadmin/oci:v1" "$LO" "${SKOPEO_FLAGS[@]}"
assert_not_tagged "$REG_HOST/giteaadmin/app:nope" "${SKOPEO_FLAGS[@]}"
# the verifier must reject a layout that is not what was pushed
if (verify_pushed "$REG_HOST/giteaadmin/app:v1" "$LO" "${SKOPEO_FLAGS[@]}") 2>/dev/null; then
	fail "verify_pushed accepted the wrong layout"
fi
if (assert_not_tagged "$REG_HOST/giteaadmin/app:v1" "${SKOPEO_FLAGS[@]}") 2>/dev/null; then
	fail "assert_not_tagged accepted an existing tag"
fi
[ -n "$(reg_log_requests PUT /v2/giteaadmin/app/manifests/v1)" ] ||
	fail "reg_log_requests finds nothing"
PLAIN_HOST=$REG_HOST

# --- faultproxy: cut the first PATCH, then a client retry works ----------------
start_fault_proxy "$PLAIN_HOST" --match '^PATCH ' --cut-after 1000
loc=$(curl -sS -D - -o /dev/null -X POST "http://$FAULT_HOST/v2/giteaadmin/fp/blobs/uploads/" |
	tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
[ -n "$loc" ] || fail "no upload location through faultproxy"
head -c 5000 /dev/urandom >"$TEST_TMP/blob"
if curl -sS -o /dev/null -X PATCH --data-binary @"$TEST_TMP/blob" \
	-H 'Content-Type: application/octet-stream' "$loc" 2>/dev/null; then
	fail "faultproxy did not cut the PATCH"
fi
assert_file_contains "$FAULT_LOG" 'CUT PATCH .* after 1000 body bytes' "faultproxy log"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X PATCH --data-binary @"$TEST_TMP/blob" \
	-H 'Content-Type: application/octet-stream' \
	"http://$FAULT_HOST/v2/giteaadmin/fp/blobs/uploads/")
[ "$code" != 000 ] || fail "faultproxy cut a second request"

# --- tls ------------------------------------------------------------------------
start_registry tls
skopeo_push "$L" "$REG_HOST/giteaadmin/app:v1" "${SKOPEO_FLAGS[@]}" || fail "skopeo push (tls)"
verify_pushed "$REG_HOST/giteaadmin/app:v1" "$L" "${SKOPEO_FLAGS[@]}"
if skopeo_run inspect --raw "docker://$REG_HOST/giteaadmin/app:v1" >/dev/null 2>&1; then
	fail "skopeo trusted the test CA without --cert-dir"
fi

# --- tls-htpasswd -----------------------------------------------------------------
start_registry tls-htpasswd
skopeo_push "$L" "$REG_HOST/giteaadmin/app:v1" "${SKOPEO_FLAGS[@]}" || fail "skopeo push (htpasswd)"
verify_pushed "$REG_HOST/giteaadmin/app:v1" "$L" "${SKOPEO_FLAGS[@]}"
if skopeo_push "$L" "$REG_HOST/giteaadmin/app:bad" --cert-dir "$REG_CERTDIR" \
	--creds "$REG_USER:wrong" 2>/dev/null; then
	fail "htpasswd registry accepted a wrong password"
fi
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$REG_CA" "$REG_URL/v2/")
assert_eq 401 "$code" "anonymous /v2/ on htpasswd registry"

# --- token ------------------------------------------------------------------------
start_registry token
skopeo_push "$L" "$REG_HOST/giteaadmin/app:v1" "${SKOPEO_FLAGS[@]}" || fail "skopeo push (token)"
verify_pushed "$REG_HOST/giteaadmin/app:v1" "$L" "${SKOPEO_FLAGS[@]}"
re='"method":"GET".*"basic":true,"user":"giteaadmin"'
re+='.*"scopes":\["repository:giteaadmin/app:pull,push"\].*"status":200'
assert_file_contains "$TOKEN_LOG" "$re" "token GET with push scope"
ch=$(curl -s -D - -o /dev/null --cacert "$REG_CA" "$REG_URL/v2/giteaadmin/app/tags/list" |
	tr -d '\r' | grep -i '^www-authenticate:')
want="Bearer realm=\"$TOKEN_URL\",service=\"container_registry\""
want+=",scope=\"repository:giteaadmin/app:pull\""
assert_contains "$ch" "$want" "registry challenge"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$REG_CA" -u "$REG_USER:wrong" \
	"$TOKEN_URL?service=container_registry&scope=repository:giteaadmin/app:pull,push")
assert_eq 401 "$code" "token GET with a wrong password"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$REG_CA" -u "$REG_USER:$REG_PASS" \
	-d grant_type=password -d service=container_registry "$TOKEN_URL")
assert_eq 404 "$code" "token POST (Gitea answers 404)"
if grep -q "$REG_PASS" "$TOKEN_LOG" "$REG_DIR/token-server.log"; then
	fail "password in the token server log"
fi
# anonymous token: pull only, so a push with it is refused
anon=$(curl -s --cacert "$REG_CA" \
	"$TOKEN_URL?service=container_registry&scope=repository:giteaadmin/app:pull,push" |
	"$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["token"])')
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$REG_CA" -H "Authorization: Bearer $anon" \
	-X POST "$REG_URL/v2/giteaadmin/app/blobs/uploads/")
assert_eq 401 "$code" "push with the anonymous (pull-only) token"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$REG_CA" -H "Authorization: Bearer $anon" \
	-H "Accept: application/vnd.docker.distribution.manifest.v2+json" \
	"$REG_URL/v2/giteaadmin/app/manifests/v1")
assert_eq 200 "$code" "pull with the anonymous token"

# token expiry as the engine test uses it: first token usable ~2 s only
start_registry token --first-tokens 1 --first-lifetime -58
get_tok() {
	curl -s --cacert "$REG_CA" -u "$REG_USER:$REG_PASS" \
		"$TOKEN_URL?service=container_registry&scope=repository:giteaadmin/app:pull,push" |
		"$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
t1=$(get_tok)
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$REG_CA" -H "Authorization: Bearer $t1" \
	-X POST "$REG_URL/v2/giteaadmin/app/blobs/uploads/")
assert_eq 202 "$code" "fresh short-lived token accepted"
until_=$(grep -o '"usable_until":[0-9]*' "$TOKEN_LOG" | head -n1 | cut -d: -f2)
wait_until 10 clock_past "$until_" || fail "clock did not pass usable_until"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$REG_CA" -H "Authorization: Bearer $t1" \
	-X POST "$REG_URL/v2/giteaadmin/app/blobs/uploads/")
assert_eq 401 "$code" "expired token refused by distribution"
t2=$(get_tok)
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$REG_CA" -H "Authorization: Bearer $t2" \
	-X POST "$REG_URL/v2/giteaadmin/app/blobs/uploads/")
assert_eq 202 "$code" "second (normal) token accepted"

# --- nginx body-limit proxy (HTTP and HTTPS upstreams) -------------------------------
start_registry plain
start_body_limit_proxy "$REG_HOST" 4m
loc=$(curl -sS -D - -o /dev/null -X POST "$PROXY_URL/v2/giteaadmin/app/blobs/uploads/" |
	tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
assert_contains "$loc" "$PROXY_URL/v2/giteaadmin/app/blobs/uploads/" "Location points at the proxy"
skopeo_push "$L" "$PROXY_HOST/giteaadmin/app:v1" --tls-verify=false ||
	fail "skopeo push via nginx (small layers)"
verify_pushed "$PROXY_HOST/giteaadmin/app:v1" "$L" --tls-verify=false
BIG="$TEST_TMP/big"
make_oci_layout "$BIG" 6000000 >/dev/null
if skopeo_push "$BIG" "$PROXY_HOST/giteaadmin/big:v1" --tls-verify=false 2>"$TEST_TMP/big.err"; then
	fail "skopeo pushed a 6 MB layer through a 4m body limit"
fi
assert_file_contains "$PROXY_ACCESS_LOG" '^PATCH /v2/giteaadmin/big/blobs/uploads/.* 413 ' \
	"nginx 413 on the big PATCH"
start_registry tls
start_body_limit_proxy "$REG_HOST" 4m
assert_eq https "${PROXY_URL%%:*}" "proxy scheme follows the registry"
skopeo_push "$L" "$PROXY_HOST/giteaadmin/app:v1" "${SKOPEO_FLAGS[@]}" ||
	fail "skopeo push via nginx (https)"
verify_pushed "$PROXY_HOST/giteaadmin/app:v1" "$L" "${SKOPEO_FLAGS[@]}"

log "harness OK"
