#!/bin/bash
# tests/integration/t_zero_setup.sh: pushing to idpbuilder's registry with
# no setup at all. The registry (TLS with a CA nobody trusts, htpasswd) is
# "idpbuilder's" (IDPBUILDER_REGISTRY_URL); there are no credentials and no
# CA anywhere; fake `idpbuilder` and `kubectl` on PATH print exactly what
# the real ones print (tests/tools/fake_cluster_tool.sh). Both front ends
# push with no flags, taking the CA and the password from the cluster;
# -v says where they came from and never shows the password; --install-ca
# keeps the CA; with the cluster down the errors name the commands that
# get the CA and the password; a stale credsStore does not stop it. Plus
# the credential corners: a token as the
# password, a username with a token, --password-stdin without -u. And a
# --registry naming a host elsewhere never gets the cluster's password.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$top_srcdir/tests/lib/plugin.sh"
need docker-registry skopeo curl openssl htpasswd
need_plugin
CTD_ADAPTER="${CTD_ADAPTER:-$top_builddir/idppush-containerd}"
fake_docker_setup
export XDG_CACHE_HOME="$TEST_TMP/cache"

start_registry tls-htpasswd
L="$TEST_TMP/layout"
make_oci_layout "$L" --oci 300000 >/dev/null
fixture oci-inside "$L" myapp:dev

# the cluster's tools
BIN="$TEST_TMP/bin"
mkdir -p "$BIN"
ln -s "$top_srcdir/tests/tools/fake_cluster_tool.sh" "$BIN/idpbuilder"
ln -s "$top_srcdir/tests/tools/fake_cluster_tool.sh" "$BIN/kubectl"
export PATH="$BIN:$PATH" FAKE_CLUSTER_LOG="$TEST_TMP/cluster.log"
export FAKE_CLUSTER_USER="$REG_USER" FAKE_CLUSTER_PASSWORD="$REG_PASS" FAKE_CLUSTER_CA="$REG_CA"
export IDPBUILDER_REGISTRY_URL="$REG_HOST"

# 1. docker idppush myapp:dev, nothing else
assert_exit 0 run_plugin -v myapp:dev
assert_eq "$REG_HOST/giteaadmin/myapp:dev@${LAST_OUT#*@}" "$LAST_OUT" "result line"
verify_image "$REG_HOST/giteaadmin/myapp:dev" "${LAST_OUT#*@}" "$L" "${SKOPEO_FLAGS[@]}"
assert_contains "$LAST_ERR" "trusting idpbuilder's CA"
assert_contains "$LAST_ERR" "idpbuilder get secrets -p gitea"
# -v: each command the cluster was asked with, and what it gave
assert_contains "$LAST_ERR" "cluster: 'kubectl get secret -n default idpbuilder-cert -o json' \
gave idpbuilder's CA"
assert_contains "$LAST_ERR" "cluster: 'idpbuilder get secrets -p gitea -o json' gave the Gitea \
credentials"
assert_not_contains "$LAST_ERR" "$REG_PASS" "verbose output shows the password"
grep -q '^idpbuilder get secrets -p gitea -o json$' "$FAKE_CLUSTER_LOG" ||
	fail "idpbuilder was not asked: $(cat "$FAKE_CLUSTER_LOG")"

# 1b. a stale credsStore (Docker Desktop's, no docker-credential-desktop on
# PATH) is gone past: the cluster still gives the password
printf '{"credsStore":"desktop"}\n' >"$DOCKER_CONFIG/config.json"
assert_exit 0 run_plugin -q myapp:dev
assert_eq "" "$LAST_ERR" "stderr past a stale credential helper"
rm "$DOCKER_CONFIG/config.json"

# 2. without idpbuilder on PATH, kubectl gives the credentials too
rm "$BIN/idpbuilder"
assert_exit 0 "$CTD_ADAPTER" -v --oci-layout "$L" myapp:kube
verify_pushed "$REG_HOST/giteaadmin/myapp:kube" "$L" "${SKOPEO_FLAGS[@]}"
assert_contains "$LAST_ERR" "kubectl get secret -n gitea gitea-credential"
assert_contains "$LAST_ERR" "cluster: cannot run idpbuilder get secrets -p gitea -o json: \
'idpbuilder' not found on PATH"
ln -s "$top_srcdir/tests/tools/fake_cluster_tool.sh" "$BIN/idpbuilder"

# 3. --install-ca keeps the CA where docker clients look; then TLS needs no
# cluster (the password still does)
assert_exit 0 run_plugin --install-ca myapp:dev
assert_file_contains "$HOME/.docker/certs.d/$REG_HOST/ca.crt" "BEGIN CERTIFICATE" "installed CA"
cmp -s "$REG_CA" "$HOME/.docker/certs.d/$REG_HOST/ca.crt" || fail "the installed CA differs"
export FAKE_CLUSTER_DOWN=1
assert_exit 2 run_plugin -v myapp:dev
assert_contains "$LAST_ERR" "idpbuilder get secrets -p gitea -o json"
# -v: both commands ran, and what they said
for cmd in 'idpbuilder get secrets -p gitea -o json' \
	'kubectl get secret -n gitea gitea-credential -o json'; do
	assert_contains "$LAST_ERR" "cluster: '$cmd' failed: The connection to the server \
127.0.0.1:6443 was refused"
done
assert_exit 0 run_plugin -u "$REG_USER" --password-stdin myapp:dev <<<"$REG_PASS"

# 4. the cluster down and no CA anywhere: the TLS error names the command
rm -rf "$HOME/.docker/certs.d"
assert_exit 3 run_plugin -u "$REG_USER" --password-stdin myapp:dev <<<"$REG_PASS"
assert_contains "$LAST_ERR" "kubectl get secret -n default idpbuilder-cert"
unset FAKE_CLUSTER_DOWN

# 5. credential corners (with the CA given)
CA=(--ca-cert "$REG_CA")
assert_exit 0 env IDPBUILDER_REGISTRY_USERNAME="$REG_USER" IDPBUILDER_REGISTRY_TOKEN="$REG_PASS" \
	"$PLUGIN" "${CA[@]}" -q myapp:dev
assert_exit 1 run_plugin "${CA[@]}" --password-stdin myapp:dev <<<"$REG_PASS"
assert_contains "$LAST_ERR" "needs -u USER"
# 6. idpbuilder's registry named elsewhere (--registry 192.0.2.1:8443): the
# cluster's password and CA are not fetched, so they cannot be sent there.
# Run in a network namespace of our own, where that address is unreachable.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	: >"$FAKE_CLUSTER_LOG"
	assert_exit 3 unshare -n "$PLUGIN" -v --registry 192.0.2.1:8443 --retries 0 myapp:dev
	assert_contains "$LAST_ERR" "not asking the cluster for idpbuilder's password"
	[ ! -s "$FAKE_CLUSTER_LOG" ] || fail "the cluster was asked for a remote registry: \
$(cat "$FAKE_CLUSTER_LOG")"
elif [ "${CI:-}" = true ]; then
	fail "case 6 needs root and unshare (a private network namespace)"
else
	log "SKIP case 6: needs root and unshare"
fi
# 7. an idpbuilder registry that lets anyone push: the cluster is never
# asked (its tools cost a process each; credentials are fetched only when
# the registry wants some)
start_registry plain
: >"$FAKE_CLUSTER_LOG"
assert_exit 0 env IDPBUILDER_REGISTRY_URL="$REG_HOST" "$PLUGIN" --plain-http -q myapp:dev
[ ! -s "$FAKE_CLUSTER_LOG" ] || fail "the cluster was asked for an anonymous registry: \
$(cat "$FAKE_CLUSTER_LOG")"
log "zero-setup checks passed"
