#!/bin/bash
# tests/integration/t_client_cert.sh: a registry behind nginx that demands a
# TLS client certificate (ssl_verify_client on). Without one the push stops
# with exit 3 and a message that says a client certificate is wanted and
# where to put it (not only "HTTP 400 (html page)"), nothing tagged; with
# client.cert + client.key in the host's certs.d dir it goes through, and
# skopeo verifies what was pushed.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$top_srcdir/tests/lib/proxy.sh"
need docker-registry skopeo curl openssl nginx
need_engine

start_registry tls
L="$TEST_TMP/layout"
DIG=$(make_oci_layout "$L" --oci 0 200000)

# a client certificate from CA1 (the one the proxy trusts for clients)
K="$TEST_TMP/client"
mkdir -p "$K"
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	-keyout "$K/client.key" -out "$K/client.csr" -subj "/CN=idppush test client" \
	2>/dev/null || fail "openssl: cannot make the client key"
printf 'extendedKeyUsage=clientAuth\n' >"$K/client.ext"
openssl x509 -req -in "$K/client.csr" -CA "$CA_CERT" -CAkey "$CERT_DIR/ca.key" \
	-CAcreateserial -days 2 -sha256 -extfile "$K/client.ext" -out "$K/client.cert" \
	2>/dev/null || fail "openssl: cannot sign the client cert"

PROXY_CLIENT_CA=$CA_CERT start_body_limit_proxy "$REG_HOST" 1024m https
T="$PROXY_HOST/giteaadmin/cc:v1"

# 1. no client certificate: exit 3, a message that says what to do
CD="$TEST_TMP/certs.d"
mkdir -p "$CD/$PROXY_HOST"
cp "$CA_CERT" "$CD/$PROXY_HOST/ca.crt"
assert_exit 3 run_engine --docker-certs-dir "$CD" "$L" "$T"
assert_contains "$LAST_ERR" "HTTP 400"
assert_contains "$LAST_ERR" "TLS client certificate"
assert_contains "$LAST_ERR" "client.cert and client.key"
[ "$(printf '%s\n' "$LAST_ERR" | grep -c .)" = 1 ] || fail "not one line: $LAST_ERR"
if skopeo_run inspect --raw "${SKOPEO_FLAGS[@]}" "docker://$REG_HOST/giteaadmin/cc:v1" \
	>/dev/null 2>&1; then
	fail "a tag exists after the refused push"
fi

# 2. client.cert + client.key next to the CA: the push goes through
cp "$K/client.cert" "$K/client.key" "$CD/$PROXY_HOST/"
assert_push_ok "$T" "$DIG" --docker-certs-dir "$CD" "$L" "$T"
verify_pushed "$REG_HOST/giteaadmin/cc:v1" "$L" "${SKOPEO_FLAGS[@]}"
