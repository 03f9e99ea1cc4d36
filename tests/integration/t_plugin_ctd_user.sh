#!/bin/bash
# tests/integration/t_plugin_ctd_user.sh: `docker idppush` as a user in the
# API socket's group (not root) against dockerd 26 on containerd's image
# store. The user cannot read the store (containerd's root is root's), so
# the push goes through docker save, as stored (the loopback relay, the
# other way such a user's push takes, is t_plugin_relay_ctd.sh's):
#   - a `docker build` image: the registry's digest is the image ID and
#     docker push's, the stored index is served byte for byte, its
#     attestation manifest is there; -v says docker save as stored, and why
#     not the store;
#   - nothing changed: one HEAD of the tag;
#   - a rebuild: the unchanged layer is not uploaded again;
#   - another repository of the registry: every blob mounted from the
#     first (the push cache), none uploaded;
#   - --platform: that platform's manifest;
#   - a loaded image whose layer is stored uncompressed: pushed so, its
#     digest the image ID.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/dockerd_ctd.sh"
. "$TEST_LIB/plugin.sh"
need skopeo docker-registry curl tar setpriv
need_plugin
need_dockerd_ctd
dkc_test_user
# shellcheck disable=SC2119 # no --group: the test user's docker group
dockerd_ctd_start
plugin_install "$DKC_USER_DOCKER_CONFIG"
chown -R "$DKC_USER:" "$DKC_USER_DOCKER_CONFIG"
start_registry plain

# idp ARGS...: docker idppush as the test user, through the docker CLI;
# not through the loopback relay (t_plugin_relay_ctd.sh tests that way)
idp() {
	dkc_as_user env IDPPUSH_NO_RELAY=1 timeout -k 5 "${DOCKER_TIMEOUT:-180}" "$DKC_CLI" \
		-H "$DKC_H" idppush --plain-http "$@"
}
layer_uploads() { # REPO DIGEST: uploads of that blob into REPO
	reg_log_requests PUT "/v2/$1/blobs/uploads/.*digest=sha256(%3A|:)${2#sha256:}" | wc -l
}

CTX=$TEST_TMP/ctx
dkc_context "$CTX" 1000 300000
ID=$(dkc_build idptest/app:v1 "$CTX")
read -r _ _ L1 < <(dkc_index_parts "$ID") || fail "the stored index of $ID"

# ---- the build, as the user: docker save as stored ----
assert_exit 0 idp -v idptest/app:v1 "$REG_HOST/user/app:v1"
assert_eq "$REG_HOST/user/app:v1@$ID" "$LAST_OUT" "pushed digest = image ID"
assert_contains "$LAST_ERR" "docker's containerd image store not read: "
assert_contains "$LAST_ERR" "path: docker save, as stored"
assert_contains "$LAST_ERR" "ermission denied"
log "$(grep 'path:' <<<"$LAST_ERR")"
dkc_check_served "$REG_HOST/user/app:v1" "$ID"
dkc tag idptest/app:v1 "$REG_HOST/user/bydocker:v1"
assert_exit 0 dkc_user push "$REG_HOST/user/bydocker:v1"
assert_contains "$LAST_OUT" "v1: digest: $ID "

# ---- nothing changed: one HEAD ----
dkc_check_unchanged user/app "$ID" idp -v idptest/app:v1 "$REG_HOST/user/app:v1"

# ---- a rebuild: the unchanged layer stays ----
head -c 300000 /dev/urandom >"$CTX/f2.bin"
ID2=$(dkc_build idptest/app:v1 "$CTX")
assert_exit 0 idp idptest/app:v1 "$REG_HOST/user/app:v1"
assert_eq "$REG_HOST/user/app:v1@$ID2" "$LAST_OUT" "digest after the rebuild"
assert_eq 1 "$(layer_uploads user/app "$L1")" "uploads of the unchanged layer $L1"

# ---- another repository of the registry: mounted (the push cache) ----
assert_exit 0 idp idptest/app:v1 "$REG_HOST/user/other:v1"
assert_eq "$REG_HOST/user/other:v1@$ID2" "$LAST_OUT" "digest in another repository"
assert_eq 0 "$(reg_log_requests PUT /v2/user/other/blobs/uploads/ | wc -l)" \
	"uploads into user/other (everything was in user/app)"
assert_contains "$LAST_ERR" "Mounted from user/app"

# ---- --platform: that platform's manifest ----
IMG2=$(dkc_host_manifest "$ID2")
assert_exit 0 idp --platform "linux/$(_host_goarch)" idptest/app:v1 "$REG_HOST/user/p:v1"
assert_eq "$REG_HOST/user/p:v1@$IMG2" "$LAST_OUT" "--platform: its manifest"

# ---- a loaded image, its layer stored uncompressed ----
dkc_check_raw user/loaded idp
log "PASS"
