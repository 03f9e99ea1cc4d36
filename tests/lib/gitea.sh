# tests/lib/gitea.sh: a registry stack that behaves like Gitea's container
# registry behind idpbuilder's ingress-nginx, for the integration tests:
#   client -> nginx (the ingress: TLS with the test CA's server cert, HTTP/2,
#             request buffering ON, body limit, read/send timeouts, Host and
#             X-Forwarded-Proto passed on, also a plain-HTTP listener)
#          -> tests/lib/gitea_registry.py (Gitea's rules; --version)
#          -> docker-registry (distribution 2.8, plain HTTP, no auth: the store)
# Source it after common.sh.
#
#   start_gitea_stack [OPTIONS] [LAYER-OPTIONS...]
#     --version V           1.22 | 1.24.0 | 1.25 (default 1.25; 1.24.3, what
#                           idpbuilder >= 0.10 ships, behaves as 1.25)
#     --body-limit SIZE     nginx client_max_body_size (default 1024m)
#     --read-timeout SECS   nginx proxy_read_timeout (default 60)
#     --send-timeout SECS   nginx proxy_send_timeout (default 60)
#     --upstream-tries N    nginx tries a request that timed out or failed on
#                           the same Gitea up to N times (proxy_next_upstream
#                           error timeout; idempotent methods only; default 1)
#     --no-buffering        proxy_request_buffering off (NOT what the ingress
#                           does: lets a cut body reach the layer)
#     --no-http2            the TLS listener speaks HTTP/1.1 only
#     --cert CRT --key KEY  the ingress's certificate (default: the test CA's
#                           server certificate); GITEA_CA is then CRT (a
#                           self-signed one, as idpbuilder's is: see
#                           gitea_idpbuilder_cert)
#     --fault-arg ARG       (repeatable) put tests/lib/faultproxy.py between
#                           nginx and the layer with these arguments
#     any other argument goes to gitea_registry.py, e.g. --put-delay-per-mib S,
#       --token-lifetime S, --first-token-lifetime S [--first-tokens N],
#       --site-admin giteaAdmin, --org NAME, --cancel-on-disconnect,
#       --partial-body discard, --realm-from-app-url, --require-signin-view.
#     Users made here: GITEA_USER (giteaAdmin, as in idpbuilder's secret; owner
#     giteaadmin; also an access token GITEA_TOKEN usable as its password),
#     GITEA_RO_USER (may write nowhere), owner GITEA_ORG (an org nobody here
#     may write to).
#   Exports:
#     GITEA_HOST        127.0.0.1:PORT of the ingress (HTTPS)   GITEA_URL
#     GITEA_PLAIN_HOST  127.0.0.1:PORT of the ingress's plain-HTTP listener
#     GITEA_CA          the CA (PEM) of the ingress's certificate
#     GITEA_CERTDIR     a directory holding ca.crt (skopeo --cert-dir)
#     GITEA_USER GITEA_PASS GITEA_TOKEN GITEA_OWNER (giteaadmin)
#     GITEA_RO_USER GITEA_RO_PASS GITEA_ORG
#     GITEA_LOG         the layer's request log (JSON lines, see gitea_registry.py)
#     GITEA_NGINX_LOG   nginx's access log, JSON lines: method, uri, status,
#                       request_length, request_time, upstream_status, protocol
#     GITEA_NGINX_ERROR_LOG
#     GITEA_VERSION GITEA_DIR GITEA_DATA (distribution's storage) GITEA_STATE
#     GITEA_LAYER_HOST GITEA_DIST_HOST (the layer and the store, unproxied)
#     GITEA_LAYER_PID GITEA_NGINX_PID GITEA_DIST_PID
#     GITEA_FAULT_HOST GITEA_FAULT_LOG (with --fault-arg)
#     GITEA_SKOPEO_FLAGS (array, not exported): --cert-dir DIR --creds U:P
#   gitea_switch_version V   restart the layer as release V: same port, same
#     options, same uploads in progress, tokens still valid (an upgrade)
#   gitea_count METHOD-REGEX PATH-REGEX [STATUS]   how many logged requests
#     match (regexes match the whole method / path)
#   gitea_select PY-EXPR     how many logged requests r satisfy PY-EXPR,
#     e.g. 'r["method"] == "PATCH" and r["status"] == 416'
#   gitea_field FIELD METHOD-REGEX PATH-REGEX   FIELD of the last match
#   gitea_nginx_count METHOD-REGEX URI-REGEX [STATUS]   the same in nginx's log
#   gitea_idpbuilder_cert DIR [--expired]   DIR/tls.crt and DIR/tls.key as
#     idpbuilder makes them (tests/lib/idpbuilder_cert.py): one self-signed
#     certificate for cnoe.localtest.me and *.cnoe.localtest.me (and here
#     IP 127.0.0.1), valid a year; --expired: it ended 30 days ago
#   gitea_names HOSTS-FILE CMD...   CMD in a mount namespace of its own where
#     /etc/hosts is HOSTS-FILE and DNS answers nothing (resolv.conf names a
#     server that is not there; nsswitch: files, dns): idpbuilder's names
#     resolve as HOSTS-FILE says, or not at all. Root and unshare only:
#     gitea_need_names skips (fails under CI=true) without them
# shellcheck shell=bash

# shellcheck source=tests/lib/certs.sh
. "$TEST_LIB/certs.sh"

_GITEA_COUNT=0

_gitea_start_distribution() {
	local d=$1 attempt port
	mkdir -p "$d/data"
	for attempt in 1 2 3; do
		port=$(free_port)
		{
			printf 'version: 0.1\nlog:\n  level: info\n  formatter: text\n'
			distribution_storage_http "$d/data" "$port"
		} >"$d/config.yml"
		bg_start "gitea$_GITEA_COUNT/distribution" docker-registry serve "$d/config.yml"
		GITEA_DIST_PID=$BG_PID
		if wait_for_port 127.0.0.1 "$port" 20 "$GITEA_DIST_PID"; then
			break
		fi
		if [ "$attempt" = 3 ] ||
			! grep -q 'address already in use' "$d/distribution.log"; then
			cat "$d/distribution.log" >&2 || true
			fail "docker-registry (Gitea's store) did not start"
		fi
	done
	GITEA_DIST_HOST=127.0.0.1:$port
	wait_for_http "http://$GITEA_DIST_HOST/v2/" 20 || fail "docker-registry not answering"
}

# _gitea_start_layer PORT: gitea_registry.py with _GITEA_LAYER_ARGS
_gitea_start_layer() {
	local port=$1 d=$GITEA_DIR
	rm -f "$d/layer.port"
	bg_start "gitea$_GITEA_COUNT/layer" "$PYTHON" "$TEST_LIB/gitea_registry.py" \
		--port "$port" --port-file "$d/layer.port" --upstream "$GITEA_DIST_HOST" \
		--state "$GITEA_STATE" --log "$GITEA_LOG" --version "$GITEA_VERSION" \
		--user "$GITEA_USER:$GITEA_PASS" --access-token "$GITEA_USER:$GITEA_TOKEN" \
		--read-only-user "$GITEA_RO_USER:$GITEA_RO_PASS" --org "$GITEA_ORG" \
		"${_GITEA_LAYER_ARGS[@]}"
	GITEA_LAYER_PID=$BG_PID
	wait_until 20 test -s "$d/layer.port" ||
		fail "gitea_registry.py did not start (see $d/layer.log)"
	GITEA_LAYER_HOST=127.0.0.1:$(cat "$d/layer.port")
	wait_for_port 127.0.0.1 "${GITEA_LAYER_HOST#*:}" 10 "$GITEA_LAYER_PID" ||
		fail "gitea_registry.py not listening"
	wait_for_http "http://$GITEA_LAYER_HOST/healthz" 10 ||
		fail "gitea_registry.py not answering"
}

start_gitea_stack() {
	need docker-registry nginx curl openssl
	local limit=1024m rtimeout=60 stimeout=60 tries=1 buffering=on http2=" http2"
	local cert= key=
	local -a fault=()
	GITEA_VERSION=1.25
	_GITEA_LAYER_ARGS=()
	while [ "$#" -gt 0 ]; do
		case "$1" in
		--version) GITEA_VERSION=$2; shift ;;
		--body-limit) limit=$2; shift ;;
		--read-timeout) rtimeout=$2; shift ;;
		--send-timeout) stimeout=$2; shift ;;
		--upstream-tries) tries=$2; shift ;;
		--no-buffering) buffering=off ;;
		--no-http2) http2= ;;
		--cert) cert=$2; shift ;;
		--key) key=$2; shift ;;
		--fault-arg) fault+=("$2"); shift ;;
		*) _GITEA_LAYER_ARGS+=("$1") ;;
		esac
		shift
	done
	make_certs
	_GITEA_COUNT=$((_GITEA_COUNT + 1))
	GITEA_DIR=$TEST_TMP/gitea$_GITEA_COUNT
	GITEA_STATE=$GITEA_DIR/state
	GITEA_DATA=$GITEA_DIR/data
	GITEA_LOG=$GITEA_DIR/requests.jsonl
	mkdir -p "$GITEA_STATE"
	: >"$GITEA_LOG"
	GITEA_USER=giteaAdmin
	GITEA_OWNER=giteaadmin
	GITEA_PASS="pw-$RANDOM$RANDOM"
	GITEA_TOKEN=$(openssl rand -hex 20)
	GITEA_RO_USER=viewer
	GITEA_RO_PASS="ro-$RANDOM$RANDOM"
	GITEA_ORG=cnoe
	GITEA_CA=$CA_CERT
	GITEA_CERTDIR=$CERT_DIR/certs.d
	if [ -n "$cert" ]; then
		GITEA_CA=$cert
		GITEA_CERTDIR=$GITEA_DIR/certs.d
		mkdir -p "$GITEA_CERTDIR"
		cp "$cert" "$GITEA_CERTDIR/ca.crt"
	fi

	_gitea_start_distribution "$GITEA_DIR"
	_gitea_start_layer 0

	local upstream=$GITEA_LAYER_HOST
	GITEA_FAULT_HOST=
	GITEA_FAULT_LOG=
	if [ "${#fault[@]}" -gt 0 ]; then
		start_fault_proxy "$GITEA_LAYER_HOST" "${fault[@]}"
		GITEA_FAULT_HOST=$FAULT_HOST
		GITEA_FAULT_LOG=$FAULT_LOG
		upstream=$FAULT_HOST
	fi

	local d=$GITEA_DIR/nginx
	mkdir -p "$d/client_body" "$d/proxy" "$d/fastcgi" "$d/uwsgi" "$d/scgi"
	local user_line= servers= i attempt port pport
	[ "$(id -u)" != 0 ] || user_line="user root;"
	for i in $(seq 1 "$tries"); do
		servers+="server $upstream max_fails=0; "
	done
	GITEA_NGINX_LOG=$d/access.jsonl
	GITEA_NGINX_ERROR_LOG=$d/error.log
	for attempt in 1 2 3; do
		port=$(free_port)
		pport=$(free_port)
		[ "$pport" != "$port" ] || pport=$(free_port)
		{
			echo "# generated by tests/lib/gitea.sh: idpbuilder's ingress-nginx"
			nginx_conf_head "$d" "$user_line"
		} >"$d/nginx.conf"
		cat >>"$d/nginx.conf" <<-EOF
			    log_format gitea escape=json '{"method":"\$request_method",'
			        '"uri":"\$request_uri","status":\$status,'
			        '"request_length":\$request_length,"request_time":\$request_time,'
			        '"upstream_status":"\$upstream_status",'
			        '"protocol":"\$server_protocol"}';
			    access_log $GITEA_NGINX_LOG gitea;
			    map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
			    map \$http_host \$best_http_host { default \$http_host; '' \$host; }
			    client_max_body_size $limit;
			    client_body_buffer_size 8k;
			    client_body_timeout 60s;
			    keepalive_timeout 75s;
			    keepalive_requests 1000;
			    upstream gitea { $servers}
			    server {
			        listen 127.0.0.1:$port ssl$http2;
			        listen 127.0.0.1:$pport;
			        ssl_certificate ${cert:-$SERVER_CERT};
			        ssl_certificate_key ${key:-$SERVER_KEY};
			        ssl_protocols TLSv1.2 TLSv1.3;
			        location / {
			            proxy_pass http://gitea;
			            proxy_set_header Host \$best_http_host;
			            proxy_set_header X-Request-ID \$request_id;
			            proxy_set_header X-Real-IP \$remote_addr;
			            proxy_set_header X-Forwarded-For \$remote_addr;
			            proxy_set_header X-Forwarded-Host \$best_http_host;
			            proxy_set_header X-Forwarded-Port \$server_port;
			            proxy_set_header X-Forwarded-Proto \$scheme;
			            proxy_set_header X-Scheme \$scheme;
			            proxy_set_header Upgrade \$http_upgrade;
			            proxy_set_header Connection \$connection_upgrade;
			            proxy_set_header Proxy "";
			            proxy_http_version 1.1;
			            proxy_connect_timeout 5s;
			            proxy_send_timeout ${stimeout}s;
			            proxy_read_timeout ${rtimeout}s;
			            proxy_request_buffering $buffering;
			            proxy_buffering off;
			            proxy_redirect off;
			            proxy_next_upstream error timeout;
			            proxy_next_upstream_timeout 0;
			            proxy_next_upstream_tries $tries;
			        }
			    }
			}
		EOF
		bg_start "gitea$_GITEA_COUNT/nginx/nginx" nginx -p "$d" -c "$d/nginx.conf" \
			-e "$d/error.log" -g 'daemon off;'
		GITEA_NGINX_PID=$BG_PID
		if wait_for_port 127.0.0.1 "$port" 15 "$GITEA_NGINX_PID" &&
			wait_for_port 127.0.0.1 "$pport" 5 "$GITEA_NGINX_PID"; then
			break
		fi
		if [ "$attempt" = 3 ] ||
			! grep -q 'Address already in use' "$d/error.log" "$d/nginx.log" \
				2>/dev/null; then
			cat "$d/nginx.log" "$d/error.log" >&2 2>/dev/null || true
			fail "nginx (the ingress) did not start"
		fi
		kill "$GITEA_NGINX_PID" 2>/dev/null || true
		wait "$GITEA_NGINX_PID" 2>/dev/null || true
		untrack_pid "$GITEA_NGINX_PID"
	done
	GITEA_HOST=127.0.0.1:$port
	GITEA_PLAIN_HOST=127.0.0.1:$pport
	GITEA_URL=https://$GITEA_HOST
	# (a certificate given may have expired on purpose: any answer will do)
	wait_for_http "$GITEA_URL/v2/" 15 --cacert "$GITEA_CA" ${cert:+--insecure} ||
		fail "the ingress is not answering"
	GITEA_SKOPEO_FLAGS=(--cert-dir "$GITEA_CERTDIR" --creds "$GITEA_USER:$GITEA_PASS")
	export GITEA_HOST GITEA_URL GITEA_PLAIN_HOST GITEA_CA GITEA_CERTDIR GITEA_USER GITEA_PASS \
		GITEA_TOKEN GITEA_OWNER GITEA_RO_USER GITEA_RO_PASS GITEA_ORG GITEA_LOG \
		GITEA_NGINX_LOG GITEA_NGINX_ERROR_LOG GITEA_VERSION GITEA_DIR GITEA_DATA \
		GITEA_STATE \
		GITEA_LAYER_HOST GITEA_DIST_HOST GITEA_LAYER_PID GITEA_NGINX_PID GITEA_DIST_PID \
		GITEA_FAULT_HOST GITEA_FAULT_LOG
	log "Gitea $GITEA_VERSION stack: ingress $GITEA_URL (plain http://$GITEA_PLAIN_HOST," \
		"body limit $limit, read timeout ${rtimeout}s) -> $GITEA_LAYER_HOST ->" \
		"$GITEA_DIST_HOST"
}

gitea_switch_version() {
	local v=$1 port=${GITEA_LAYER_HOST#*:}
	kill -TERM "$GITEA_LAYER_PID" 2>/dev/null || true
	wait "$GITEA_LAYER_PID" 2>/dev/null || true
	untrack_pid "$GITEA_LAYER_PID"
	GITEA_VERSION=$v
	_gitea_start_layer "$port"
	export GITEA_VERSION GITEA_LAYER_PID GITEA_LAYER_HOST
	log "Gitea layer restarted as $GITEA_VERSION on $GITEA_LAYER_HOST"
}

# _gitea_py LOG PROGRAM ARGS...: PROGRAM runs with R, the list of logged
# requests (dicts) of LOG, and the ARGS in sys.argv[2:]
_gitea_py() {
	local logf=$1 prog=$2
	shift 2
	"$PYTHON" -c "import json, re, sys
R = [json.loads(x) for x in open(sys.argv[1]) if x.strip()]
$prog" "$logf" "$@"
}

gitea_count() {
	_gitea_py "$GITEA_LOG" 'a = sys.argv[2:]
print(sum(1 for r in R if re.fullmatch(a[0], r["method"]) and re.fullmatch(a[1], r["path"])
          and (len(a) < 3 or not a[2] or str(r["status"]) == a[2])))' "$@"
}

gitea_select() {
	_gitea_py "$GITEA_LOG" 'print(sum(1 for r in R if eval("(" + sys.argv[2] + ")")))' "$1"
}

gitea_field() {
	_gitea_py "$GITEA_LOG" 'a = sys.argv[2:]
m = [r for r in R if re.fullmatch(a[1], r["method"]) and re.fullmatch(a[2], r["path"])]
v = m[-1].get(a[0]) if m else None
print("" if v is None else v)' "$@"
}

gitea_nginx_count() {
	_gitea_py "$GITEA_NGINX_LOG" 'a = sys.argv[2:]
print(sum(1 for r in R if re.fullmatch(a[0], r["method"])
          and re.fullmatch(a[1], r["uri"].split("?")[0])
          and (len(a) < 3 or not a[2] or str(r["status"]) == a[2])))' "$@"
}

gitea_idpbuilder_cert() {
	need_python_module cryptography
	mkdir -p "$1"
	"$PYTHON" "$TEST_LIB/idpbuilder_cert.py" "$@" || fail "cannot make idpbuilder's certificate"
}

gitea_need_names() {
	if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null &&
		unshare -m true 2>/dev/null; then
		return 0
	fi
	skip "private name resolution needs root and unshare -m"
}

gitea_names() {
	local hosts=$1 d
	shift
	d=$(mktemp -d "$TEST_TMP/names.XXXXXX")
	cp "$hosts" "$d/hosts"
	printf 'nameserver 127.0.0.9\noptions timeout:1 attempts:1\n' >"$d/resolv.conf"
	printf 'hosts: files dns\n' >"$d/nsswitch.conf"
	unshare -m sh -c 'd=$1; shift
		for f in hosts resolv.conf nsswitch.conf; do
			mount --bind "$d/$f" "/etc/$f" || exit 99
		done
		exec "$@"' sh "$d" "$@"
}

gitea_need_adapter() {
	need docker-registry nginx skopeo curl openssl
	CTD_ADAPTER="${CTD_ADAPTER:-$top_builddir/idppush-containerd}"
	[ -x "$CTD_ADAPTER" ] || fail "adapter not built: $CTD_ADAPTER"
	GITEA_ADAPTER=(timeout -k 5 "${ENGINE_TIMEOUT:-180}" "$CTD_ADAPTER")
}
