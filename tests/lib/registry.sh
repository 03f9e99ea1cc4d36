# tests/lib/registry.sh: start a private docker-registry (distribution 2.8.2).
#   start_registry MODE [TOKEN-SERVER-ARGS...]
#     MODE: plain         HTTP, no auth
#           tls           HTTPS (server cert from CA1), no auth
#           tls-htpasswd  HTTPS + htpasswd Basic auth
#           plain-htpasswd  HTTP + htpasswd Basic auth (loopback only, as docker allows)
#           token         HTTPS + bearer token auth via tests/lib/token_server.py
#                         (started here; extra args go to it, e.g.
#                         --first-tokens 1 --first-lifetime -58 --expires-in)
#   Callable several times per test: each call gets its own port and dir.
#   Exports (describing the LAST started registry):
#     REG_HOST    127.0.0.1:PORT            REG_PORT, REG_MODE
#     REG_SCHEME  http | https              REG_URL  (scheme://host)
#     REG_CA      CA1 PEM (empty for plain) REG_CERTDIR (dir with ca.crt)
#     REG_USER / REG_PASS  (*-htpasswd, token; empty otherwise)
#     REG_DATA    storage root               REG_DIR, REG_LOG (access+app log)
#     REG_PID
#     TOKEN_URL, TOKEN_LOG, TOKEN_PID, TOKEN_SERVICE  (token mode)
#     SKOPEO_FLAGS  array of skopeo inspect-style flags for this registry
#                   (--tls-verify=false | --cert-dir DIR, [--creds U:P])
#   reg_log_requests METHOD PATH-REGEX: print the access-log lines of matching
#     requests (format: ... "METHOD /path?query HTTP/1.1" STATUS ...).
#   restart_registry: crash and restart the last registry, same port and data.
# shellcheck shell=bash disable=SC2119

# shellcheck source=tests/lib/certs.sh
. "$TEST_LIB/certs.sh"

_REG_COUNT=0

start_registry() {
	local mode=$1
	shift
	need docker-registry curl
	case "$mode" in
	plain | tls | tls-htpasswd | plain-htpasswd | token) ;;
	*) fail "start_registry: unknown mode $mode" ;;
	esac
	_REG_COUNT=$((_REG_COUNT + 1))
	local dir="$TEST_TMP/reg$_REG_COUNT"
	mkdir -p "$dir/data"
	REG_MODE=$mode
	REG_DIR=$dir
	REG_DATA=$dir/data
	REG_LOG=$dir/registry.log
	REG_USER=
	REG_PASS=
	REG_CA=
	REG_CERTDIR=
	REG_SCHEME=http
	TOKEN_URL=
	TOKEN_LOG=
	TOKEN_PID=
	TOKEN_SERVICE=
	SKOPEO_FLAGS=(--tls-verify=false)
	if [ "$mode" != plain ] && [ "$mode" != plain-htpasswd ]; then
		make_certs
		REG_SCHEME=https
		REG_CA=$CA_CERT
		REG_CERTDIR=$CERT_DIR/certs.d
		SKOPEO_FLAGS=(--cert-dir "$REG_CERTDIR")
	fi

	local auth_yaml=
	case "$mode" in
	tls-htpasswd | plain-htpasswd)
		need htpasswd
		REG_USER=giteaadmin
		REG_PASS="pw-$RANDOM$RANDOM"
		htpasswd -Bbn "$REG_USER" "$REG_PASS" >"$dir/htpasswd" 2>/dev/null
		auth_yaml="auth:
  htpasswd:
    realm: idptest-registry
    path: $dir/htpasswd"
		;;
	token)
		need_python_module cryptography
		make_signing_cert
		REG_USER=giteaadmin
		REG_PASS="pw-$RANDOM$RANDOM"
		TOKEN_SERVICE=container_registry
		TOKEN_LOG=$dir/token-requests.jsonl
		rm -f "$dir/token.port"
		bg_start "reg$_REG_COUNT/token-server" "$PYTHON" "$TEST_LIB/token_server.py" \
			--port 0 --port-file "$dir/token.port" \
			--tls-cert "$SERVER_CERT" --tls-key "$SERVER_KEY" \
			--cert "$SIGNING_CERT" --key "$SIGNING_KEY" \
			--issuer idptest-token-issuer \
			--user "$REG_USER:$REG_PASS" --log "$TOKEN_LOG" "$@"
		TOKEN_PID=$BG_PID
		wait_until 20 test -s "$dir/token.port" ||
			fail "token server did not start (see $dir/token-server.log)"
		TOKEN_URL="https://127.0.0.1:$(cat "$dir/token.port")/v2/token"
		wait_for_http "${TOKEN_URL%/v2/token}/healthz" 10 --cacert "$REG_CA" ||
			fail "token server not answering"
		auth_yaml="auth:
  token:
    realm: $TOKEN_URL
    service: $TOKEN_SERVICE
    issuer: idptest-token-issuer
    rootcertbundle: $SIGNING_CERT"
		;;
	esac
	if [ -n "$REG_USER" ]; then
		SKOPEO_FLAGS+=(--creds "$REG_USER:$REG_PASS")
	fi

	local tls_yaml=
	if [ "$REG_SCHEME" = https ]; then
		tls_yaml="  tls:
    certificate: $SERVER_CERT
    key: $SERVER_KEY"
	fi

	local attempt port
	for attempt in 1 2 3; do
		port=$(free_port)
		{
			printf 'version: 0.1\nlog:\n  level: info\n  formatter: text\n'
			printf '  fields:\n    service: registry\n'
			distribution_storage_http "$REG_DATA" "$port"
			cat <<-EOF
				  headers:
				    X-Content-Type-Options: [nosniff]
				$tls_yaml
				$auth_yaml
			EOF
		} >"$dir/config.yml"
		bg_start "reg$_REG_COUNT/registry" docker-registry serve "$dir/config.yml"
		REG_PID=$BG_PID
		if wait_for_port 127.0.0.1 "$port" 20 "$REG_PID"; then
			break
		fi
		if [ "$attempt" = 3 ] || ! grep -q 'address already in use' "$REG_LOG"; then
			cat "$REG_LOG" >&2 || true
			fail "docker-registry ($mode) did not start"
		fi
	done
	REG_PORT=$port
	REG_HOST=127.0.0.1:$port
	REG_URL=$REG_SCHEME://$REG_HOST
	if [ "$REG_SCHEME" = https ]; then
		wait_for_http "$REG_URL/v2/" 20 --cacert "$REG_CA" ||
			fail "registry not answering on $REG_URL"
	else
		wait_for_http "$REG_URL/v2/" 20 || fail "registry not answering on $REG_URL"
	fi
	export REG_MODE REG_DIR REG_DATA REG_LOG REG_USER REG_PASS REG_CA REG_CERTDIR \
		REG_SCHEME REG_PORT REG_HOST REG_URL REG_PID \
		TOKEN_URL TOKEN_LOG TOKEN_PID TOKEN_SERVICE
	log "registry ($mode) at $REG_URL, data $REG_DATA${TOKEN_URL:+, token server $TOKEN_URL}"
}

# restart_registry: kill the last started registry (SIGKILL, as a crash)
# and start it again on the same port, storage and secret; it logs on
# into the same REG_LOG.
restart_registry() {
	kill -KILL "$REG_PID" 2>/dev/null || true
	wait "$REG_PID" 2>/dev/null || true
	docker-registry serve "$REG_DIR/config.yml" >>"$REG_LOG" 2>&1 </dev/null &
	REG_PID=$!
	track_pid "$REG_PID"
	wait_for_port 127.0.0.1 "$REG_PORT" 20 "$REG_PID" || fail "the registry did not restart"
	export REG_PID
	log "registry restarted at $REG_URL"
}

# reg_log_requests METHOD PATH-REGEX [LOGFILE]: access-log lines of matching requests.
reg_log_requests() {
	grep -E "\"$1 $2[^\"]* HTTP/[0-9.]+\" [0-9]{3} " "${3:-$REG_LOG}" || true
}

# reg_blob_linked REPO DIGEST: true if REPO links blob DIGEST (registry storage).
reg_blob_linked() {
	test -f "$REG_DATA/docker/registry/v2/repositories/$1/_layers/sha256/${2#sha256:}/link"
}

# reg_tag_digest REPO TAG: print the digest the tag points at (storage), or fail.
reg_tag_digest() {
	cat "$REG_DATA/docker/registry/v2/repositories/$1/_manifests/tags/$2/current/link"
}

# start_hostile_registry ATTACK [--tls] [--user U:P]: tests/lib/hostile_registry.py,
# a registry that misbehaves on purpose (ATTACK "" = it behaves). Exports
# HOSTILE_HOST (127.0.0.1:PORT), HOSTILE_ELSEWHERE (the port it points
# clients at), HOSTILE_LOG (JSON lines: server, method, path,
# authorization scheme, status), HOSTILE_PID.
_HOSTILE_COUNT=0
start_hostile_registry() {
	local attack=$1 extra=()
	shift
	_HOSTILE_COUNT=$((_HOSTILE_COUNT + 1))
	local d="$TEST_TMP/hostile$_HOSTILE_COUNT"
	mkdir -p "$d"
	if [ "${1:-}" = --tls ]; then
		make_certs
		extra=(--tls --cert "$SERVER_CERT" --key "$SERVER_KEY")
		shift
	fi
	HOSTILE_LOG=$d/requests.log
	: >"$HOSTILE_LOG"
	bg_start "hostile$_HOSTILE_COUNT/server" "$PYTHON" "$TEST_LIB/hostile_registry.py" \
		--port 0 --port-file "$d/ports" --log "$HOSTILE_LOG" --attack "$attack" \
		"${extra[@]}" "$@"
	HOSTILE_PID=$BG_PID
	wait_until 15 test -s "$d/ports" || fail "hostile registry did not start"
	read -r port HOSTILE_ELSEWHERE <"$d/ports"
	HOSTILE_HOST=127.0.0.1:$port
	wait_for_port 127.0.0.1 "$port" 10 "$HOSTILE_PID" || fail "hostile registry not listening"
	export HOSTILE_HOST HOSTILE_ELSEWHERE HOSTILE_LOG HOSTILE_PID
	log "hostile registry ($attack) at $HOSTILE_HOST, elsewhere :$HOSTILE_ELSEWHERE"
}

# hostile_count FILTER: how many logged requests match the python expression
# FILTER over r (a request's JSON object), e.g. 'r["method"] == "PATCH"'.
hostile_count() {
	"$PYTHON" -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    n += bool(eval(sys.argv[2]))
print(n)' "$HOSTILE_LOG" "$1"
}
