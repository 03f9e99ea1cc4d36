#!/bin/bash
# tests/integration/t_registry_proxy.sh: the engine through nginx with
# client_max_body_size 4m in front of an HTTPS docker-registry (like
# idpbuilder's ingress-nginx proxy-body-size), image with a 12 MB layer.
#   --chunk-size 3145728 and --chunk-size 1048576: must succeed, every
#     request body through nginx < 4 MiB, no 413; verified with skopeo.
#   default chunk size: the 413 halves the chunk in the same upload until it
#     passes; succeeds (verified), with a warning.
#   skopeo (one PATCH per layer) gets 413: shows the limit is real.
#   growing requests: a 160 MB layer through a second proxy (limit 80m):
#     the first 64 MiB request is fast, so the next one grows to the rest
#     of the blob (88.6 MiB), gets 413, and the upload goes back to 64 MiB
#     without a warning; one 413, the image verified.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
need docker-registry skopeo curl openssl nginx
need_engine

start_registry tls
start_body_limit_proxy "$REG_HOST" 4m https
L="$TEST_TMP/layout"
DIG=$(make_oci_layout "$L" --docker 12000000 1000)
LIMIT=$((4 * 1024 * 1024))

# request_length (nginx: request line + headers + body) of every request to REPO
max_request_len() {
	awk -v r="/v2/$1/" 'index($2, r) == 1 && $4 > m { m = $4 } END { print m + 0 }' \
		"$PROXY_ACCESS_LOG"
}
no_413() {
	if awk -v r="/v2/$1/" 'index($2, r) == 1 && $3 == 413' "$PROXY_ACCESS_LOG" | grep -q .; then
		fail "nginx answered 413 for $1"
	fi
}

# 1. 3 MiB chunks
T="$PROXY_HOST/giteaadmin/app3m:v1"
assert_push_ok "$T" "$DIG" --ca-cert "$REG_CA" --chunk-size 3145728 "$L" "$T"
verify_pushed "$T" "$L" "${SKOPEO_FLAGS[@]}"
no_413 giteaadmin/app3m
m=$(max_request_len giteaadmin/app3m)
[ "$m" -lt "$LIMIT" ] || fail "a request of $m bytes went through the proxy (limit $LIMIT)"
n=$(awk '$1 == "PATCH" && index($2, "/v2/giteaadmin/app3m/") == 1' "$PROXY_ACCESS_LOG" | wc -l)
[ "$n" -ge 3 ] || fail "12 MB layer in 3 MiB chunks took only $n PATCH requests"

# 2. 1 MiB chunks
T="$PROXY_HOST/giteaadmin/app1m:v1"
assert_push_ok "$T" "$DIG" --ca-cert "$REG_CA" --chunk-size 1048576 "$L" "$T"
verify_pushed "$T" "$L" "${SKOPEO_FLAGS[@]}"
no_413 giteaadmin/app1m
n=$(awk '$1 == "PATCH" && index($2, "/v2/giteaadmin/app1m/") == 1' "$PROXY_ACCESS_LOG" | wc -l)
[ "$n" -ge 11 ] || fail "12 MB layer in 1 MiB chunks took only $n PATCH requests"
# the registry stores exactly the layout's bytes
verify_pushed "$REG_HOST/giteaadmin/app1m:v1" "$L" "${SKOPEO_FLAGS[@]}"

# 3. default chunk size (64 MiB): the proxy's 413 halves the chunk until it
# passes, within the same upload; a warning says so; verified with skopeo
T="$PROXY_HOST/giteaadmin/appdef:v1"
assert_push_ok "$T" "$DIG" --ca-cert "$REG_CA" "$L" "$T"
verify_pushed "$T" "$L" "${SKOPEO_FLAGS[@]}"
assert_contains "$LAST_ERR" "HTTP 413): sending at most"
n=$(awk '$3 == 413 && index($2, "/v2/giteaadmin/appdef/") == 1' "$PROXY_ACCESS_LOG" | wc -l)
[ "$n" -ge 1 ] && [ "$n" -le 8 ] || fail "413s while finding a chunk size that passes: $n"
posts=$(awk '$1 == "POST" && index($2, "/v2/giteaadmin/appdef/blobs/uploads/") == 1' \
	"$PROXY_ACCESS_LOG" | wc -l)
[ "$posts" -le 3 ] || fail "the 413s restarted uploads ($posts POSTs for 3 blobs)"

# 4. skopeo sends each layer as one PATCH: 413. A fresh image, so that no
# blob can be found already pushed (skopeo would mount it instead).
L2="$TEST_TMP/layout-skopeo"
make_oci_layout "$L2" --docker 6000000 >/dev/null
if skopeo_push "$L2" "$PROXY_HOST/giteaadmin/skopeo:v1" "${SKOPEO_FLAGS[@]}" \
	2>"$TEST_TMP/skopeo.err"; then
	fail "skopeo pushed a 12 MB layer in one request through a 4m limit:" \
		"proxy limit not effective"
fi
awk '$3 == 413 && index($2, "/v2/giteaadmin/skopeo/") == 1' "$PROXY_ACCESS_LOG" | grep -q . ||
	fail "nginx did not log a 413 for skopeo's single-PATCH upload"

# 5. requests grow while the link is fast (no --chunk-size), and a 413 of a
# grown request goes back, quietly, to the size that went through
start_body_limit_proxy "$REG_HOST" 80m https
L3="$TEST_TMP/layout-big"
DIG3=$(make_oci_layout "$L3" --docker 160000000)
T="$PROXY_HOST/giteaadmin/grow:v1"
assert_push_ok "$T" "$DIG3" --ca-cert "$REG_CA" "$L3" "$T"
verify_pushed "$T" "$L3" "${SKOPEO_FLAGS[@]}"
assert_not_contains "$LAST_ERR" "HTTP 413"
grow() { awk '$1 == "PATCH" && index($2, "/v2/giteaadmin/grow/") == 1' "$PROXY_ACCESS_LOG"; }
first=$(grow | awk '$4 > 60000000 { print $5; exit }')
[ -n "$first" ] || fail "no 64 MiB request: $(grow)"
if awk -v t="$first" 'BEGIN { exit !(t < 2.5) }'; then
	assert_eq 1 "$(grow | awk '$3 == 413' | wc -l)" "413s of the grown request"
	[ "$(grow | awk '$3 != 413 && $4 > 80 * 1048576' | wc -l)" = 0 ] ||
		fail "a request over the limit went through: $(grow)"
else
	log "the first 64 MiB took $first s: too slow a machine to check the growth"
fi

log "PASS"
