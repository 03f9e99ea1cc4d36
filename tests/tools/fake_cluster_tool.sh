#!/bin/sh
# fake_cluster_tool.sh: stands in for `idpbuilder` and `kubectl` (installed
# under those names on PATH by the tests) and prints exactly the JSON the
# real tools print for what idppush asks:
#   idpbuilder get secrets -p gitea -o json
#       [{"IsCore":true,"name":"gitea-credential","namespace":"gitea",
#         "username":U,"password":P,"token":T}]
#   kubectl get secret -n gitea gitea-credential -o json
#       {"apiVersion":"v1","kind":"Secret","data":{"username":b64,"password":b64,...}}
#   kubectl get secret -n default idpbuilder-cert -o json
#       {"apiVersion":"v1","kind":"Secret","data":{"ca.crt":b64,...}}
# from FAKE_CLUSTER_USER, FAKE_CLUSTER_PASSWORD, FAKE_CLUSTER_CA (a PEM
# file). FAKE_CLUSTER_DOWN=1: the cluster is not running (kubectl's and
# idpbuilder's error, exit 1). Every call is logged to FAKE_CLUSTER_LOG.
me=$(basename "$0")
[ -n "${FAKE_CLUSTER_LOG:-}" ] && echo "$me $*" >>"$FAKE_CLUSTER_LOG"
b64() { printf '%s' "$1" | base64 -w0; }
down() {
	echo "The connection to the server 127.0.0.1:6443 was refused - did you specify" \
		"the right host or port?" >&2
	exit 1
}
case "$me $*" in
"idpbuilder get secrets -p gitea -o json")
	[ "${FAKE_CLUSTER_DOWN:-0}" = 1 ] && down
	printf '[{"IsCore":true,"name":"gitea-credential","namespace":"gitea",'
	printf '"username":"%s","password":"%s","token":"tok"}]\n' \
		"$FAKE_CLUSTER_USER" "$FAKE_CLUSTER_PASSWORD"
	;;
"kubectl get secret -n gitea gitea-credential -o json")
	[ "${FAKE_CLUSTER_DOWN:-0}" = 1 ] && down
	printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"gitea-credential",'
	printf '"namespace":"gitea"},"type":"Opaque","data":{"password":"%s","username":"%s"}}\n' \
		"$(b64 "$FAKE_CLUSTER_PASSWORD")" "$(b64 "$FAKE_CLUSTER_USER")"
	;;
"kubectl get secret -n default idpbuilder-cert -o json")
	[ "${FAKE_CLUSTER_DOWN:-0}" = 1 ] && down
	printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"idpbuilder-cert",'
	printf '"namespace":"default"},"type":"Opaque","data":{"ca.crt":"%s"}}\n' \
		"$(base64 -w0 <"$FAKE_CLUSTER_CA")"
	;;
*)
	echo "$me: unexpected call: $*" >&2
	exit 2
	;;
esac
