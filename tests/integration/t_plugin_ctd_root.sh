#!/bin/bash
# tests/integration/t_plugin_ctd_root.sh: `docker idppush` as root against
# dockerd 26 on containerd's image store (tests/lib/dockerd_ctd.sh), which
# it reads directly, as stored:
#   - a `docker build` image (an OCI index: the image manifest and a
#     provenance attestation): the registry's digest is the image ID and
#     docker push's, the index served is the stored one byte for byte, the
#     attestation manifest is there by its digest; -v names the store
#     (found through the daemon's --containerd and the containerd
#     listening there); blobs docker push put in another repository of the
#     registry are mounted from there (containerd's distribution-source
#     labels), not uploaded;
#   - nothing changed: one HEAD (no blob request, no PUT);
#   - a rebuild: only the changed layer is uploaded;
#   - --platform: that platform's manifest;
#   - a loaded image whose layer is stored uncompressed: pushed so, the
#     digest the image ID;
#   - a store another user could change is not read: docker save, as
#     stored, the same digest;
#   - dockerd's own containerd (--managed): found under
#     <DockerRootDir>/containerd/daemon.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/dockerd_ctd.sh"
. "$TEST_LIB/plugin.sh"
need skopeo docker-registry curl tar
need_plugin
need_dockerd_ctd
dkc_test_user
# shellcheck disable=SC2119 # no --group: the test user's docker group
dockerd_ctd_start
plugin_install "$DOCKER_CONFIG"
unset DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND || true
export XDG_CACHE_HOME="$TEST_TMP/cache"
start_registry plain

# idp ARGS...: docker idppush through the docker CLI, on this daemon
idp() { dkc idppush --plain-http "$@"; }
uploads() { reg_log_requests PUT "/v2/$1/blobs/uploads/" | wc -l; }
mounts() { reg_log_requests POST "/v2/$1/blobs/uploads/\?.*mount=" | grep -c '" 201 ' || true; }
served() { skopeo_run inspect --raw --tls-verify=false "docker://$1"; }

# ---- a docker build image, pushed by docker push to repository a ----
CTX=$TEST_TMP/ctx
dkc_context "$CTX" 1000 300000
ID=$(dkc_build idptest/app:v1 "$CTX")
dkc tag idptest/app:v1 "$REG_HOST/ctd/a:v1"
assert_exit 0 dkc push "$REG_HOST/ctd/a:v1"
assert_contains "$LAST_OUT" "v1: digest: $ID "
read -r IMG _ _ < <(dkc_index_parts "$ID") || fail "the stored index of $ID"

# ---- idppush to repository b: the store, as stored, mounted from a ----
assert_exit 0 idp -v idptest/app:v1 "$REG_HOST/ctd/b:v1"
assert_eq "$REG_HOST/ctd/b:v1@$ID" "$LAST_OUT" "pushed digest = image ID = docker push's"
want="path: docker's containerd image store ($DKC_CTD_ROOT, namespace moby;"
want+=" the containerd at $DKC_CTD_SOCK), as stored"
assert_contains "$LAST_ERR" "$want"
dkc_check_served "$REG_HOST/ctd/b:v1" "$ID"
served "$REG_HOST/ctd/b@$IMG" >/dev/null || fail "no image manifest $IMG"
assert_eq 0 "$(uploads ctd/b)" "blob uploads into ctd/b (docker push put them in ctd/a)"
[ "$(mounts ctd/b)" -ge 3 ] || fail "blobs were not mounted from ctd/a: $(mounts ctd/b)"
assert_contains "$LAST_ERR" "Mounted from ctd/a"

# ---- nothing changed: one HEAD ----
dkc_check_unchanged ctd/b "$ID" idp -v idptest/app:v1 "$REG_HOST/ctd/b:v1"

# ---- a rebuild: the changed layer alone goes up ----
head -c 300000 /dev/urandom >"$CTX/f2.bin"
ID2=$(dkc_build idptest/app:v1 "$CTX")
u0=$(uploads ctd/b)
assert_exit 0 idp idptest/app:v1 "$REG_HOST/ctd/b:v1"
assert_eq "$REG_HOST/ctd/b:v1@$ID2" "$LAST_OUT" "digest after the rebuild"
dkc tag idptest/app:v1 "$REG_HOST/ctd/c:v1"
assert_exit 0 dkc push "$REG_HOST/ctd/c:v1"
assert_contains "$LAST_OUT" "v1: digest: $ID2 "
# the new layer, the new config and the new provenance statement + its config
u=$(( $(uploads ctd/b) - u0 ))
if [ "$u" -lt 1 ] || [ "$u" -gt 4 ]; then fail "$u uploads after a one-layer rebuild"; fi

# ---- --platform: that platform's manifest ----
P=linux/$(_host_goarch)
IMG2=$(dkc_host_manifest "$ID2")
assert_exit 0 idp -v --platform "$P" idptest/app:v1 "$REG_HOST/ctd/p:v1"
assert_eq "$REG_HOST/ctd/p:v1@$IMG2" "$LAST_OUT" "--platform $P: its manifest"
assert_contains "$LAST_ERR" "path: docker's containerd image store"

# ---- a loaded image, its layer stored uncompressed ----
dkc_check_raw ctd/loaded idp

# ---- a store another user could change: not read, docker save as stored ----
CTD_PARENT=$(dirname "$DKC_CTD_ROOT")
chown "$DKC_USER" "$CTD_PARENT"
IDPPUSH_NO_RELAY=1 assert_exit 0 idp -v idptest/app:v1 "$REG_HOST/ctd/untrusted:v1"
chown root "$CTD_PARENT"
assert_eq "$REG_HOST/ctd/untrusted:v1@$ID2" "$LAST_OUT" "digest through docker save"
assert_contains "$LAST_ERR" "docker's containerd image store not read: "
assert_contains "$LAST_ERR" "path: docker save, as stored"
assert_contains "$LAST_ERR" "$CTD_PARENT"
assert_not_contains "$LAST_ERR" "path: docker's containerd image store ("
dkc_check_served "$REG_HOST/ctd/untrusted:v1" "$ID2"

# ---- dockerd's own containerd ----
dockerd_ctd_stop
dockerd_ctd_start --managed
dkc_context "$TEST_TMP/ctx2" 2000 100000
ID4=$(dkc_build idptest/managed:v1 "$TEST_TMP/ctx2")
assert_exit 0 idp -v idptest/managed:v1 "$REG_HOST/ctd/managed:v1"
assert_eq "$REG_HOST/ctd/managed:v1@$ID4" "$LAST_OUT" "digest (dockerd's own containerd)"
assert_contains "$LAST_ERR" \
	"path: docker's containerd image store ($DKC_ROOT/containerd/daemon, namespace moby;"
log "PASS"
