#!/bin/bash
# tests/integration/t_gitea_zero_setup.sh: pushing to idpbuilder's Gitea
# with no setup, on the Gitea-like stack (tests/lib/gitea.sh: Gitea's
# Bearer flow; the ingress serves a certificate made as idpbuilder makes
# it) with the cluster's tools faked as every idpbuilder prints
# (tests/tools/fake_cluster_tool.sh):
#   1. idpbuilder >= 0.9 (indented flat objects): the password from it,
#      the CA from kubectl; one token, fetched with the credentials;
#   2. idpbuilder 0.8.1 (data.username/password): read as it is, kubectl
#      not asked for the password;
#   3. [] (the secret does not exist yet): "the cluster has no Gitea
#      credential yet (is it still starting?)", exit 2;
#   4. $KUBECONFIG set: kubectl asked first (idpbuilder ignores it); with
#      no kubectl, idpbuilder gets --kubeconfig;
#   5. no default/idpbuilder-cert: the CA from the ingress's TLS secret;
#   6. (root: a private /etc/hosts) path routing, cnoe.localtest.me:PORT,
#      and --protocol http (plain HTTP on that port) recognised as
#      idpbuilder's registry, with no option.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/gitea.sh"
gitea_need_adapter

gitea_idpbuilder_cert "$TEST_TMP/ib"
start_gitea_stack --cert "$TEST_TMP/ib/tls.crt" --key "$TEST_TMP/ib/tls.key"
L=$TEST_TMP/layout
make_oci_layout "$L" --oci 300000 >/dev/null

BIN=$TEST_TMP/bin
mkdir -p "$BIN"
ln -s "$top_srcdir/tests/tools/fake_cluster_tool.sh" "$BIN/idpbuilder"
ln -s "$top_srcdir/tests/tools/fake_cluster_tool.sh" "$BIN/kubectl"
CLOG=$TEST_TMP/cluster.log
export PATH="$BIN:$PATH" FAKE_CLUSTER_LOG=$CLOG
export FAKE_CLUSTER_USER=$GITEA_USER FAKE_CLUSTER_PASSWORD=$GITEA_PASS FAKE_CLUSTER_CA=$GITEA_CA
export IDPBUILDER_REGISTRY_URL=$GITEA_HOST

# push NAME [VAR=VALUE...] [-- OPTIONS...]: app NAME:v1, no option but those
push() {
	local name=$1
	local -a e=()
	shift
	while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
		e+=("$1")
		shift
	done
	[ "$#" = 0 ] || shift
	: >"$CLOG"
	: >"$GITEA_LOG"
	assert_exit "${WANT:-0}" env "${e[@]}" "${GITEA_ADAPTER[@]}" -q "$@" \
		--oci-layout "$L" "$name:v1"
}
asked() { grep -c "^$1" "$CLOG" || true; }

# 1. idpbuilder >= 0.9
push z09 FAKE_IDPBUILDER_SHAPE=0.9
assert_eq "$GITEA_HOST/$GITEA_OWNER/z09:v1@${LAST_OUT#*@}" "$LAST_OUT" "result line"
assert_eq 1 "$(asked 'idpbuilder get secrets -p gitea -o json')" "idpbuilder asked"
assert_eq 0 "$(asked 'kubectl get secret -n gitea')" "kubectl asked for the password"
assert_eq 1 "$(asked 'kubectl get secret -n default idpbuilder-cert')" "kubectl asked for the CA"
assert_eq 1 "$(gitea_select 'r["path"] == "/v2/token" and r["auth"] == "basic"
and r["status"] == 200')" "tokens fetched with the credentials"
assert_eq 0 "$(gitea_select 'r["path"] == "/v2/token" and r["auth"] == "none"')" \
	"anonymous tokens"
assert_eq 0 "$(gitea_select 'r["status"] == 401 and r["auth"] != "none"')" "refused requests"
verify_pushed "$GITEA_HOST/$GITEA_OWNER/z09:v1" "$L" "${GITEA_SKOPEO_FLAGS[@]}"

# 2. idpbuilder 0.8.1
push z081 FAKE_IDPBUILDER_SHAPE=0.8.1
assert_eq 1 "$(asked 'idpbuilder get secrets -p gitea -o json')" "0.8.1: idpbuilder asked"
assert_eq 0 "$(asked 'kubectl get secret -n gitea')" "0.8.1: kubectl asked for the password"
verify_pushed "$GITEA_HOST/$GITEA_OWNER/z081:v1" "$L" "${GITEA_SKOPEO_FLAGS[@]}"

# 3. the secret does not exist yet
WANT=2 push zempty FAKE_IDPBUILDER_SHAPE=empty FAKE_CLUSTER_MISSING=gitea/gitea-credential
assert_contains "$LAST_ERR" "the cluster has no Gitea credential yet (is it still starting?)"
assert_contains "$LAST_ERR" "printed []"
assert_not_contains "$LAST_ERR" "no credentials were found" "[] taken as no credentials"

# 4. $KUBECONFIG: kubectl (which reads it) first
push zkc KUBECONFIG="$TEST_TMP/kc"
assert_eq 1 "$(asked 'kubectl get secret -n gitea gitea-credential')" "KUBECONFIG: kubectl asked"
assert_eq 0 "$(asked 'idpbuilder get')" "KUBECONFIG: idpbuilder asked (it ignores KUBECONFIG)"
# no kubectl: idpbuilder, told of $KUBECONFIG (the CA given, as kubectl had it)
mv "$BIN/kubectl" "$BIN/kubectl.off"
push zkc2 KUBECONFIG="$TEST_TMP/kc" -- --ca-cert "$GITEA_CA"
mv "$BIN/kubectl.off" "$BIN/kubectl"
assert_file_contains "$CLOG" "^idpbuilder: --kubeconfig $TEST_TMP/kc\$" "--kubeconfig given"
assert_eq 1 "$(asked 'idpbuilder get secrets -p gitea -o json')" "idpbuilder asked"
verify_pushed "$GITEA_HOST/$GITEA_OWNER/zkc2:v1" "$L" "${GITEA_SKOPEO_FLAGS[@]}"

# 5. only the ingress's TLS secret holds the CA
push zingress FAKE_CLUSTER_MISSING=default/idpbuilder-cert
assert_eq 1 "$(asked 'kubectl get secret -n ingress-nginx idpbuilder-cert')" \
	"the ingress's secret asked"
verify_pushed "$GITEA_HOST/$GITEA_OWNER/zingress:v1" "$L" "${GITEA_SKOPEO_FLAGS[@]}"

# 6. idpbuilder's own names, in a private /etc/hosts, none of them given
# as --registry: path routing (HTTPS), and --protocol http (the ingress's
# plain-HTTP listener)
gitea_need_names
printf '127.0.0.1 localhost\n127.0.0.1 cnoe.localtest.me gitea.cnoe.localtest.me\n' \
	>"$TEST_TMP/hosts"
unset IDPBUILDER_REGISTRY_URL
pr=cnoe.localtest.me:${GITEA_HOST#*:}
: >"$CLOG"
assert_exit 0 gitea_names "$TEST_TMP/hosts" "${GITEA_ADAPTER[@]}" -q \
	--oci-layout "$L" "$pr/$GITEA_OWNER/routed:v1"
assert_eq "$pr/$GITEA_OWNER/routed:v1@${LAST_OUT#*@}" "$LAST_OUT" "path routing: result line"
assert_eq 1 "$(asked 'idpbuilder get secrets')" "path routing: idpbuilder asked"
assert_eq 1 "$(asked 'kubectl get secret -n default idpbuilder-cert')" "path routing: CA asked"
verify_pushed "$GITEA_HOST/$GITEA_OWNER/routed:v1" "$L" "${GITEA_SKOPEO_FLAGS[@]}"
ph=cnoe.localtest.me:${GITEA_PLAIN_HOST#*:}
: >"$CLOG"
: >"$GITEA_LOG"
assert_exit 0 gitea_names "$TEST_TMP/hosts" "${GITEA_ADAPTER[@]}" -q \
	--oci-layout "$L" "$ph/$GITEA_OWNER/plain:v1"
assert_not_contains "$LAST_ERR" "does not speak TLS" "a warning for plain HTTP on this machine"
assert_eq 1 "$(asked 'idpbuilder get secrets')" "--protocol http: idpbuilder asked"
assert_eq 1 "$(gitea_count PUT '.*/plain/manifests/v1' 201)" "--protocol http: manifest PUT"
verify_pushed "$GITEA_HOST/$GITEA_OWNER/plain:v1" "$L" "${GITEA_SKOPEO_FLAGS[@]}"
log "PASS"
