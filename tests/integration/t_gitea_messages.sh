#!/bin/bash
# tests/integration/t_gitea_messages.sh: what a push to idpbuilder's Gitea
# says when it cannot be done (tests/lib/gitea.sh):
#   1. an owner that does not exist (Gitea's plain-text 404 "Not found."):
#      named, with where idpbuilder's images go; exit 5, a POST per blob at most;
#   2. an image name Gitea refuses (NAME_INVALID: docker allows "__" and
#      "--", Gitea single separators only): the rule; exit 5;
#   3. valid credentials without package write permission on the owner
#      (Basic realm="Gitea Package API" after a Bearer token: a read-only
#      user, an owner that is not the user's): said so, not "check the
#      password"; exit 2, no second try with Basic;
#   4. a wrong password: "check the username and password"; exit 2;
#   5. (root: a private /etc/hosts and no DNS) a *.localtest.me name that
#      does not resolve: why, and the /etc/hosts line; exit 3;
#   6. idpbuilder's CA expired (zero setup, the CA from the cluster): said
#      so, and that docker does not check it; exit 3.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/gitea.sh"
gitea_need_adapter

L=$TEST_TMP/layout
make_oci_layout "$L" --oci 300000 2000000 >/dev/null
start_gitea_stack
export IDPBUILDER_REGISTRY_URL=$GITEA_HOST

# push WANT REF USER PASS: the adapter with the stack's CA
push() {
	: >"$GITEA_LOG"
	assert_exit "$1" "${GITEA_ADAPTER[@]}" -q --ca-cert "$GITEA_CA" -u "$3" \
		--password-stdin --oci-layout "$L" "$2" <<<"$4"
}
posts() { gitea_count POST '.*/blobs/uploads/'; }

# 1. no such owner
push 5 "acme/app:v1" "$GITEA_USER" "$GITEA_PASS"
assert_contains "$LAST_ERR" \
	"owner 'acme' does not exist on this registry; idpbuilder's images go under giteaadmin/"
[ "$(posts)" -le 3 ] || fail "POSTs to an owner that does not exist: $(posts) (3 blobs)"

# 2. a name Gitea refuses (docker's grammar allows it)
push 5 "$GITEA_OWNER/my__app:v1" "$GITEA_USER" "$GITEA_PASS"
assert_contains "$LAST_ERR" "refuses the image name 'my__app' at '_app'"
assert_contains "$LAST_ERR" "single '.', '_' or '-'"

# 3. valid credentials, no package write permission on the owner
for who in ro org; do
	if [ "$who" = ro ]; then
		push 2 "$GITEA_OWNER/app:v1" "$GITEA_RO_USER" "$GITEA_RO_PASS"
		owner=$GITEA_OWNER user=$GITEA_RO_USER
	else
		push 2 "$GITEA_ORG/app:v1" "$GITEA_USER" "$GITEA_PASS"
		owner=$GITEA_ORG user=$GITEA_USER
	fi
	assert_contains "$LAST_ERR" "lack package write permission on owner '$owner'" "$who"
	assert_contains "$LAST_ERR" "user $user" "$who: the user named"
	assert_not_contains "$LAST_ERR" "check the username" "$who: told to check the password"
	assert_eq 0 "$(gitea_select 'r["method"] == "POST" and r["auth"] == "basic"')" \
		"$who: writes tried again with Basic"
	[ "$(posts)" -le 3 ] || fail "$who: POSTs refused: $(posts) (3 blobs)"
done

# 4. a wrong password: Gitea's 401 without a challenge to the token request
push 2 "$GITEA_OWNER/app:v1" "$GITEA_USER" wrong
assert_contains "$LAST_ERR" "check the username and password"
log "owner, name, permission and password messages checked"

# 5. a *.localtest.me name that does not resolve (no DNS, no /etc/hosts line)
gitea_need_names
printf '127.0.0.1 localhost\n' >"$TEST_TMP/hosts"
name=gitea.cnoe.localtest.me:${GITEA_HOST#*:}
assert_exit 3 gitea_names "$TEST_TMP/hosts" "${GITEA_ADAPTER[@]}" -q \
	--oci-layout "$L" "$name/$GITEA_OWNER/app:v1"
assert_contains "$LAST_ERR" "cannot reach registry $name"
assert_contains "$LAST_ERR" "*.localtest.me names reach 127.0.0.1 through public DNS only"
assert_contains "$LAST_ERR" "add the line '127.0.0.1 gitea.cnoe.localtest.me' to /etc/hosts"

# 6. idpbuilder's CA (a year old, never renewed) expired; zero setup
gitea_idpbuilder_cert "$TEST_TMP/old" --expired
start_gitea_stack --cert "$TEST_TMP/old/tls.crt" --key "$TEST_TMP/old/tls.key"
BIN=$TEST_TMP/bin
mkdir -p "$BIN"
ln -s "$top_srcdir/tests/tools/fake_cluster_tool.sh" "$BIN/idpbuilder"
ln -s "$top_srcdir/tests/tools/fake_cluster_tool.sh" "$BIN/kubectl"
assert_exit 3 env PATH="$BIN:$PATH" FAKE_CLUSTER_USER="$GITEA_USER" \
	FAKE_CLUSTER_PASSWORD="$GITEA_PASS" FAKE_CLUSTER_CA="$GITEA_CA" \
	IDPBUILDER_REGISTRY_URL="$GITEA_HOST" "${GITEA_ADAPTER[@]}" -q \
	--oci-layout "$L" app:v1
assert_contains "$LAST_ERR" "idpbuilder's CA (idpbuilder-cert, from the cluster) expired on"
assert_contains "$LAST_ERR" "docker itself does not notice"
assert_contains "$LAST_ERR" "idpbuilder delete, then idpbuilder create"
log "PASS"
