#!/bin/bash
# tests/integration/t_sec_proxy.sh: a proxy in the environment never sees a
# loopback registry's traffic. With http_proxy,
# https_proxy, HTTP_PROXY and HTTPS_PROXY naming a forward proxy that logs
# every request (tests/lib/recording_proxy.py; it forwards, so a push
# through it works) and no NO_PROXY / no_proxy, `docker idppush` (the fake
# docker CLI) pushes with credentials to:
#  - a plain-HTTP registry with htpasswd, as localhost:PORT and as
#    127.0.0.1:PORT;
#  - an HTTPS registry with a token service, both on 127.0.0.1;
# each push succeeds, and the proxy logged no request at all (a request
# through it carried "Authorization: Basic" in clear text before the fix).
#  - a registry name that is not loopback (idppush-proxy-test.invalid, which
#    resolves nowhere) still goes to the proxy, over plain HTTP (the proxy
#    logs the GET of its /v2/) and over HTTPS (a CONNECT): the proxy
#    environment is honoured for every other host, as docker does.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/sec.sh"
. "$TEST_LIB/plugin.sh"
need_plugin
need htpasswd openssl
fake_docker_setup
L="$TEST_TMP/layout"
make_oci_layout "$L" --oci 200000 3000 >/dev/null
fixture oci-inside "$L" app:v1
start_recording_proxy

proxied() { # the proxy's log since line $1, one request a line
	tail -n +"$(($1 + 1))" "$RPROXY_LOG"
}

# push_loopback HOST TAG ARGS...: a push to HOST/sec/app:TAG with the proxy in
# the environment; the proxy must get nothing, the push must work.
push_loopback() {
	local host=$1 tag=$2 seen n basic
	shift 2
	seen=$(wc -l <"$RPROXY_LOG")
	export XDG_CACHE_HOME="$TEST_TMP/cache-$tag"
	run_rc rc with_proxy timeout -k 5 120 "$PLUGIN" idppush --retries 0 "$@" \
		-u "$REG_USER" --password-stdin app:v1 "$host/sec/app:$tag" <<<"$REG_PASS"
	n=$(proxied "$seen" | grep -c . || true)
	basic=$(proxied "$seen" | grep -c '"authorization": "Basic"' || true)
	if [ "$n" != 0 ]; then
		proxied "$seen" | head -n 5 >&2
		fail "the proxy got $n requests meant for the loopback registry $host or its token \
service ($basic of them with Authorization: Basic in clear): a loopback registry must never be \
reached through a proxy"
	fi
	assert_eq 0 "$rc" "exit code of the push to $host with a proxy in the environment: \
$LAST_ERR"
	verify_image "$REG_HOST/sec/app:$tag" "${LAST_OUT##*@}" "$L" "${SKOPEO_FLAGS[@]}"
}

# ---- loopback registries: never through the proxy ----
start_registry plain-htpasswd
push_loopback "localhost:$REG_PORT" plain-localhost --plain-http
push_loopback "127.0.0.1:$REG_PORT" plain-127 --plain-http
need_python_module cryptography
start_registry token
push_loopback "$REG_HOST" token --ca-cert "$REG_CA"
[ -s "$TOKEN_LOG" ] || fail "the token service got no request"

# ---- any other host: through the proxy ----
FAR=idppush-proxy-test.invalid
seen=$(wc -l <"$RPROXY_LOG")
export XDG_CACHE_HOME="$TEST_TMP/cache-far"
run_rc rc with_proxy timeout -k 5 60 "$PLUGIN" idppush --retries 0 --timeout 30s --plain-http \
	app:v1 "$FAR:5000/sec/app:v1"
[ "$rc" != 0 ] || fail "a push to $FAR (no such host) succeeded"
proxied "$seen" | grep -q "\"GET\", \"target\": \"http://$FAR:5000/v2/\"" ||
	fail "plain HTTP to $FAR did not go through the proxy: $(proxied "$seen") $LAST_ERR"
seen=$(wc -l <"$RPROXY_LOG")
run_rc rc with_proxy timeout -k 5 60 "$PLUGIN" idppush --retries 0 --timeout 30s \
	app:v1 "$FAR/sec/app:v1"
[ "$rc" != 0 ] || fail "a push to $FAR (no such host) succeeded"
proxied "$seen" | grep -q "\"CONNECT\", \"target\": \"$FAR:443\"" ||
	fail "HTTPS to $FAR did not go through the proxy: $(proxied "$seen") $LAST_ERR"
log "ok"
