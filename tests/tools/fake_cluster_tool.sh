#!/bin/sh
# fake_cluster_tool.sh: stands in for `idpbuilder` and `kubectl` (installed
# under those names on PATH by the tests) and prints exactly the JSON the
# real tools print for what idppush asks:
#   idpbuilder get secrets -p gitea -o json      shape by FAKE_IDPBUILDER_SHAPE:
#     (unset)  one line: [{"IsCore":true,"name":"gitea-credential",
#              "namespace":"gitea","username":U,"password":P,"token":T}]
#     0.9      what idpbuilder >= 0.9 prints: the same array of flat objects,
#              indented over several lines (Go's json.MarshalIndent, two
#              spaces), empty fields left out
#     0.8.1    what idpbuilder 0.8.1 prints: [{"name":"gitea-credential",
#              "namespace":"gitea","data":{"username":U,"password":P,"token":T}}]
#     empty    [] and exit 0 (the secret does not exist yet)
#   kubectl get secret -n gitea gitea-credential -o json
#       {"apiVersion":"v1","kind":"Secret","data":{"username":b64,"password":b64,...}}
#   kubectl get secret -n default idpbuilder-cert -o json
#       {"apiVersion":"v1","kind":"Secret","data":{"ca.crt":b64,...}}
#   kubectl get secret -n ingress-nginx idpbuilder-cert -o json
#       {"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/tls",
#        "data":{"tls.crt":b64,"tls.key":b64}}
# from FAKE_CLUSTER_USER, FAKE_CLUSTER_PASSWORD, FAKE_CLUSTER_TOKEN (default
# "tok"; set it empty for no token), FAKE_CLUSTER_CA (a PEM file; also the
# ingress's tls.crt unless FAKE_CLUSTER_TLS_CRT names another PEM file).
# FAKE_CLUSTER_DOWN=1: the cluster is not running (kubectl's and
# idpbuilder's error, exit 1). FAKE_CLUSTER_MISSING="NS/NAME ...": those
# secrets do not exist (yet): kubectl's NotFound error, exit 1 (with
# gitea/gitea-credential there, FAKE_IDPBUILDER_SHAPE=empty is consistent).
# Every call is logged to FAKE_CLUSTER_LOG as "TOOL ARGS..."; a --kubeconfig
# PATH (or --kubeconfig=PATH) anywhere in the arguments is accepted and also
# logged as "TOOL: --kubeconfig PATH", and a KUBECONFIG in the environment
# as "TOOL: KUBECONFIG=VALUE".
me=$(basename "$0")
log() { [ -z "${FAKE_CLUSTER_LOG:-}" ] || echo "$*" >>"$FAKE_CLUSTER_LOG"; }
log "$me $*"
# the arguments without --kubeconfig, for matching
args=
while [ "$#" -gt 0 ]; do
	case "$1" in
	--kubeconfig)
		log "$me: --kubeconfig ${2:-}"
		shift
		;;
	--kubeconfig=*) log "$me: --kubeconfig ${1#--kubeconfig=}" ;;
	*) args="$args${args:+ }$1" ;;
	esac
	shift
done
[ -z "${KUBECONFIG+set}" ] || log "$me: KUBECONFIG=$KUBECONFIG"

b64() { printf '%s' "$1" | base64 -w0; }
# js STRING: STRING as a JSON string (quotes and backslashes escaped)
js() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
down() {
	echo "The connection to the server 127.0.0.1:6443 was refused - did you specify" \
		"the right host or port?" >&2
	exit 1
}
# missing NS NAME: the secret does not exist: kubectl's error, exit 1
missing() {
	case " ${FAKE_CLUSTER_MISSING:-} " in
	*" $1/$2 "*)
		echo "Error from server (NotFound): secrets \"$2\" not found" >&2
		exit 1
		;;
	esac
}
user=${FAKE_CLUSTER_USER:-}
pass=${FAKE_CLUSTER_PASSWORD:-}
token=${FAKE_CLUSTER_TOKEN-tok}

secrets_09() {
	printf '[\n  {\n    "IsCore": true,\n    "name": "gitea-credential",\n'
	printf '    "namespace": "gitea"'
	[ -z "$user" ] || printf ',\n    "username": %s' "$(js "$user")"
	[ -z "$pass" ] || printf ',\n    "password": %s' "$(js "$pass")"
	[ -z "$token" ] || printf ',\n    "token": %s' "$(js "$token")"
	printf '\n  }\n]\n'
}

case "$me $args" in
"idpbuilder get secrets -p gitea -o json")
	[ "${FAKE_CLUSTER_DOWN:-0}" = 1 ] && down
	case "${FAKE_IDPBUILDER_SHAPE:-}" in
	"")
		printf '[{"IsCore":true,"name":"gitea-credential","namespace":"gitea",'
		printf '"username":%s,"password":%s,' "$(js "$user")" "$(js "$pass")"
		printf '"token":%s}]\n' "$(js "$token")"
		;;
	0.9) secrets_09 ;;
	0.8.1)
		printf '[{"name":"gitea-credential","namespace":"gitea","data":{'
		printf '"username":%s,"password":%s,' "$(js "$user")" "$(js "$pass")"
		printf '"token":%s}}]\n' "$(js "$token")"
		;;
	empty) printf '[]\n' ;;
	*)
		echo "$me: unknown FAKE_IDPBUILDER_SHAPE=$FAKE_IDPBUILDER_SHAPE" >&2
		exit 2
		;;
	esac
	;;
"kubectl get secret -n gitea gitea-credential -o json")
	[ "${FAKE_CLUSTER_DOWN:-0}" = 1 ] && down
	missing gitea gitea-credential
	printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"gitea-credential",'
	printf '"namespace":"gitea"},"type":"Opaque","data":{"password":"%s","username":"%s"}}\n' \
		"$(b64 "$pass")" "$(b64 "$user")"
	;;
"kubectl get secret -n default idpbuilder-cert -o json")
	[ "${FAKE_CLUSTER_DOWN:-0}" = 1 ] && down
	missing default idpbuilder-cert
	printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"idpbuilder-cert",'
	printf '"namespace":"default"},"type":"Opaque","data":{"ca.crt":"%s"}}\n' \
		"$(base64 -w0 <"$FAKE_CLUSTER_CA")"
	;;
"kubectl get secret -n ingress-nginx idpbuilder-cert -o json")
	[ "${FAKE_CLUSTER_DOWN:-0}" = 1 ] && down
	missing ingress-nginx idpbuilder-cert
	printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"idpbuilder-cert",'
	printf '"namespace":"ingress-nginx"},"type":"kubernetes.io/tls","data":{'
	printf '"tls.crt":"%s","tls.key":"%s"}}\n' \
		"$(base64 -w0 <"${FAKE_CLUSTER_TLS_CRT:-$FAKE_CLUSTER_CA}")" \
		"$(b64 "-----BEGIN EC PRIVATE KEY-----
(not a key: the fake cluster keeps none)
-----END EC PRIVATE KEY-----")"
	;;
*)
	echo "$me: unexpected call: $args" >&2
	exit 2
	;;
esac
