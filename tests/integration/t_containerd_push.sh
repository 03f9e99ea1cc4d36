#!/bin/bash
# tests/integration/t_containerd_push.sh: idppush-containerd against a real,
# private containerd that keeps running while we read its store. Images are
# put in with `ctr images import --no-unpack` of generated OCI archives:
#   - a 3-layer image: pushed to a plain registry and to a TLS+htpasswd one,
#     verified with skopeo, pushed digest == ctr's target digest;
#   - a two-platform index imported with --platform (host): the default push
#     gives the host manifest; --all-platforms fails naming the missing
#     platform; --all-platforms --partial-index pushes a reduced index whose
#     digest is printed;
#   - an index with an attestation manifest (skipped: a reduced index);
#   - an image in a second namespace (-n);
#   - a distribution-source label turning an upload into a cross-repo mount;
#   - an OCI layout directory (--oci-layout DIR:REF);
#   - the same image (and its OCI layout) to a TLS+htpasswd registry, a
#     token-auth registry, and through a proxy limiting
#     request bodies to 1m (--chunk-size 512k, or the default chunk halved on 413s).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$top_srcdir/tests/lib/containerd_env.sh"
need docker-registry skopeo curl openssl htpasswd nginx
need_ctd

ctd_start
APP="$TEST_TMP/app"
APP_DIG=$(make_oci_layout "$APP" --oci 300000 1200000 0)
ctd_import default example.test/idp/app "$APP"
assert_eq "$APP_DIG" "$(ctd_image_digest default example.test/idp/app:latest)" \
	"ctr lists the imported image"

# multi-platform: host + linux/s390x (ppc64le on an s390x host), only the host's blobs imported
OTHER=linux/s390x
[ "$(_host_goarch)" != s390x ] || OTHER=linux/ppc64le
HOSTL="$TEST_TMP/host" OTHL="$TEST_TMP/other" MULTI="$TEST_TMP/multi"
HOST_DIG=$(make_oci_layout "$HOSTL" --oci 200000 400000)
OTH_DIG=$(make_oci_layout "$OTHL" --oci 250000)
IDX_DIG=$(make_multi_layout "$MULTI" "$HOSTL" "$OTHL" "$OTHER")
ctd_import default example.test/idp/multi "$MULTI" --platform "linux/$(_host_goarch)"
assert_eq "$IDX_DIG" "$(ctd_image_digest default example.test/idp/multi:v1)" "ctr lists the index"
# the import writes every blob of the archive; containerd's garbage
# collector removes the other platform's afterwards, on its own schedule
# (late under ThreadSanitizer): wait for it, or --all-platforms finds them
other_gone() { [ ! -e "$(ctd_blob_file "$OTH_DIG")" ]; }
wait_until 30 other_gone || fail "containerd kept the other platform's manifest $OTH_DIG"

# an index with a buildx-style attestation, imported whole
ATTL="$TEST_TMP/att" ATTI="$TEST_TMP/attidx"
make_oci_layout "$ATTL" --oci 1000 >/dev/null
ATT_IDX=$(make_attest_layout "$ATTI" "$HOSTL" "$ATTL")
ctd_import default example.test/idp/attested "$ATTI" --all-platforms

# second namespace
NS2L="$TEST_TMP/ns2"
NS2_DIG=$(make_oci_layout "$NS2L" --docker 100000 50000)
ctd_import team2 example.test/team/tool "$NS2L"

# ---- plain registry ----
start_registry plain
ctd_running || fail "containerd died"
T="$REG_HOST/test/app:v1"
assert_exit 0 run_ctd --root "$CTD_ROOT" --plain-http --progress plain \
	example.test/idp/app:latest "$T"
assert_eq "$T@$APP_DIG" "$LAST_OUT" "pushed digest == local digest"
verify_pushed "$T" "$APP" "${SKOPEO_FLAGS[@]}"
ctd_running || fail "containerd must keep running during the push"

# multi: default = host platform's manifest
T="$REG_HOST/test/multi:host"
assert_exit 0 run_ctd --root "$CTD_ROOT" --plain-http -q example.test/idp/multi:v1 "$T"
assert_eq "$T@$HOST_DIG" "$LAST_OUT" "default push picks the host manifest"
verify_pushed "$T" "$HOSTL" "${SKOPEO_FLAGS[@]}"

# --all-platforms: the other platform is not local
T="$REG_HOST/test/multi:all"
assert_exit 4 run_ctd --root "$CTD_ROOT" --plain-http --all-platforms example.test/idp/multi:v1 "$T"
assert_contains "$LAST_ERR" "$OTHER" "names the missing platform"
assert_contains "$LAST_ERR" "--partial-index" "suggests --partial-index"
assert_not_tagged "$T" "${SKOPEO_FLAGS[@]}"

# the missing platform asked alone
assert_exit 4 run_ctd --root "$CTD_ROOT" --plain-http --platform "$OTHER" \
	example.test/idp/multi:v1 "$T"
assert_contains "$LAST_ERR" "missing from the local store"

# --all-platforms --partial-index: a reduced index of the host platform
assert_exit 0 run_ctd --root "$CTD_ROOT" --plain-http --all-platforms --partial-index \
	example.test/idp/multi:v1 "$T"
RED=${LAST_OUT##*@}
assert_contains "$LAST_ERR" "reduced index $RED" "prints the reduced index digest"
[ "$RED" != "$IDX_DIG" ] || fail "a reduced index must have a new digest"
skopeo_run inspect --raw "${SKOPEO_FLAGS[@]}" "docker://$T" >"$TEST_TMP/red.json" ||
	fail "inspect reduced index"
assert_eq "$RED" "sha256:$(sha256_file "$TEST_TMP/red.json")" "served reduced index digest"
assert_contains "$(cat "$TEST_TMP/red.json")" "$HOST_DIG"
assert_not_contains "$(cat "$TEST_TMP/red.json")" "$OTH_DIG"
skopeo_run inspect --raw "${SKOPEO_FLAGS[@]}" \
	"docker://$REG_HOST/test/multi@$HOST_DIG" >/dev/null ||
	fail "the host manifest must be in the repository"

# attestations are skipped by default, which changes the index
T="$REG_HOST/test/attested:v1"
assert_exit 0 run_ctd --root "$CTD_ROOT" --plain-http --all-platforms \
	example.test/idp/attested:v1 "$T"
RED=${LAST_OUT##*@}
[ "$RED" != "$ATT_IDX" ] || fail "the attestation must have been dropped"
assert_contains "$LAST_ERR" "reduced index $RED"
skopeo_run inspect --raw "${SKOPEO_FLAGS[@]}" "docker://$T" >"$TEST_TMP/att.json" ||
	fail "inspect attested"
assert_not_contains "$(cat "$TEST_TMP/att.json")" "attestation-manifest"
assert_contains "$(cat "$TEST_TMP/att.json")" "$HOST_DIG"
assert_exit 0 run_ctd --root "$CTD_ROOT" --plain-http -q \
	example.test/idp/attested:v1 "$REG_HOST/test/attested:host"
assert_eq "$REG_HOST/test/attested:host@$HOST_DIG" "$LAST_OUT" "default push of an attested index"

# second namespace; and not visible from the default one
T="$REG_HOST/test/tool:v2"
assert_exit 0 run_ctd --root "$CTD_ROOT" --plain-http -n team2 example.test/team/tool:latest "$T"
assert_eq "$T@$NS2_DIG" "$LAST_OUT"
verify_pushed "$T" "$NS2L" "${SKOPEO_FLAGS[@]}"
assert_exit 0 env CONTAINERD_NAMESPACE=team2 "$CTD_ADAPTER" --root "$CTD_ROOT" --plain-http -q \
	example.test/team/tool:latest "$REG_HOST/test/tool:env"
assert_exit 4 run_ctd --root "$CTD_ROOT" --plain-http example.test/team/tool:latest "$T"

# by digest
T="$REG_HOST/test/bydigest:v1"
assert_exit 0 run_ctd --root "$CTD_ROOT" --plain-http -q "$APP_DIG" "$T"
assert_eq "$T@$APP_DIG" "$LAST_OUT"
# ... but without TARGET there is no tag to push it under: exit 1, one line
NOTAG="is a digest reference: there is no tag to push it under; give TARGET"
assert_exit 1 run_ctd --root "$CTD_ROOT" --plain-http "$APP_DIG"
assert_contains "$LAST_ERR" "is a digest: give TARGET"
for img in "example.test/idp/app@$APP_DIG" "example.test/idp/app:latest@$APP_DIG"; do
	assert_exit 1 run_ctd --root "$CTD_ROOT" --plain-http "$img"
	assert_eq "idppush-containerd: error: '$img' $NOTAG" "$LAST_ERR" \
		"digest reference without TARGET"
done
assert_not_tagged "$REG_HOST/giteaadmin/app:latest" "${SKOPEO_FLAGS[@]}"

# distribution-source label -> cross-repo mount instead of upload
L1=$(grep -o '"digest":"sha256:[0-9a-f]\{64\}"' "$(layout_blob "$APP" "$APP_DIG")" |
	sed -n 2p | cut -d'"' -f4)
"${CTR[@]}" -n default content label "$L1" \
	"containerd.io/distribution.source.$REG_HOST=test/app" >/dev/null ||
	fail "ctr content label"
T="$REG_HOST/other/app:v1"
assert_exit 0 run_ctd --root "$CTD_ROOT" --plain-http --progress plain \
	example.test/idp/app:latest "$T"
[ -n "$(reg_log_requests POST "/v2/other/app/blobs/uploads/\\?mount=$L1")" ] ||
	fail "no mount request for $L1"
assert_contains "$LAST_ERR" "Mounted from test/app" "progress shows the mount"
verify_pushed "$T" "$APP" "${SKOPEO_FLAGS[@]}"

# OCI layout directory, no containerd involved
T="$REG_HOST/test/layout:v1"
assert_exit 0 run_ctd --plain-http -q --oci-layout "$NS2L:latest" "$T"
assert_eq "$T@$NS2_DIG" "$LAST_OUT"
verify_pushed "$T" "$NS2L" "${SKOPEO_FLAGS[@]}"
assert_exit 0 run_ctd --plain-http -q --oci-layout "$MULTI" "$REG_HOST/test/layoutmulti:v1"
assert_eq "$REG_HOST/test/layoutmulti:v1@$HOST_DIG" "$LAST_OUT" "OCI layout index -> host manifest"
assert_exit 4 run_ctd --plain-http --oci-layout "$TEST_TMP/nonexistent" "$REG_HOST/test/x:v1"

# ---- TLS + htpasswd registry ----
start_registry tls-htpasswd
T="$REG_HOST/giteaadmin/app:v1"
printf '%s' "$REG_PASS" >"$TEST_TMP/pw"
assert_exit 0 run_ctd --root "$CTD_ROOT" --ca-cert "$REG_CA" -u "$REG_USER" --password-stdin \
	--progress plain example.test/idp/app:latest "$T" <"$TEST_TMP/pw"
assert_eq "$T@$APP_DIG" "$LAST_OUT"
assert_not_contains "$LAST_OUT$LAST_ERR" "$REG_PASS" "output leaks the password"
verify_pushed "$T" "$APP" "${SKOPEO_FLAGS[@]}"
# default TARGET: IMAGE's last path component + tag under --registry/owner
assert_exit 0 run_ctd --root "$CTD_ROOT" --ca-cert "$REG_CA" -u "$REG_USER" --password-stdin -q \
	--registry "$REG_HOST" example.test/idp/app:latest <"$TEST_TMP/pw"
assert_eq "$REG_HOST/giteaadmin/app:latest@$APP_DIG" "$LAST_OUT" "default target"
T="$REG_HOST/giteaadmin/layout:basic"
assert_exit 0 run_ctd --ca-cert "$REG_CA" -u "$REG_USER" --password-stdin -q \
	--oci-layout "$APP" "$T" <"$TEST_TMP/pw"
assert_eq "$T@$APP_DIG" "$LAST_OUT" "OCI layout pushed with Basic auth over TLS"
verify_pushed "$T" "$APP" "${SKOPEO_FLAGS[@]}"
# the CA from a containerd hosts directory (as nerdctl/k3s users configure
# it: <dir>/<host:port>/hosts.toml), the password from the environment
HD="$TEST_TMP/certs.d"
mkdir -p "$HD/$REG_HOST"
{
	printf 'server = "https://%s"\n\n' "$REG_HOST"
	printf '[host."https://%s"]\n  capabilities = ["pull", "resolve", "push"]\n  ca = "%s"\n' \
		"$REG_HOST" "$REG_CA"
} >"$HD/$REG_HOST/hosts.toml"
T="$REG_HOST/giteaadmin/app:hosts"
assert_exit 0 env IDPBUILDER_REGISTRY_USERNAME="$REG_USER" \
	IDPBUILDER_REGISTRY_PASSWORD="$REG_PASS" \
	"$CTD_ADAPTER" --root "$CTD_ROOT" --hosts-dir "$HD" -q example.test/idp/app:latest "$T"
assert_eq "$T@$APP_DIG" "$LAST_OUT" "pushed with the CA from hosts.toml"
ctd_running || fail "containerd died"

# ---- TLS + token auth (the Gitea-like token server) ----
start_registry token
T="$REG_HOST/giteaadmin/app:tok"
assert_exit 0 run_ctd --root "$CTD_ROOT" --ca-cert "$REG_CA" -u "$REG_USER" --password-stdin -q \
	example.test/idp/app:latest "$T" <<<"$REG_PASS"
assert_eq "$T@$APP_DIG" "$LAST_OUT" "pushed digest == local digest (token auth)"
verify_pushed "$T" "$APP" "${SKOPEO_FLAGS[@]}"
grep -q 'repository:giteaadmin/app:pull,push' "$TOKEN_LOG" ||
	fail "no push scope requested from the token server"
T="$REG_HOST/giteaadmin/layout:tok"
assert_exit 0 run_ctd --ca-cert "$REG_CA" -u "$REG_USER" --password-stdin -q \
	--oci-layout "$APP" "$T" <<<"$REG_PASS"
assert_eq "$T@$APP_DIG" "$LAST_OUT" "OCI layout pushed with token auth"
verify_pushed "$T" "$APP" "${SKOPEO_FLAGS[@]}"

# ---- behind a proxy that rejects request bodies over 1m (1.2 MB layer) ----
start_registry tls
start_body_limit_proxy "$REG_HOST" 1m https
T="$PROXY_HOST/giteaadmin/app:def"
assert_exit 0 run_ctd --root "$CTD_ROOT" --ca-cert "$REG_CA" -q example.test/idp/app:latest "$T"
assert_eq "$T@$APP_DIG" "$LAST_OUT" "the default chunk, halved on 413s"
verify_pushed "$T" "$APP" "${SKOPEO_FLAGS[@]}"
T="$PROXY_HOST/giteaadmin/app:proxy"
assert_exit 0 run_ctd --root "$CTD_ROOT" --ca-cert "$REG_CA" --chunk-size 512k -q \
	example.test/idp/app:latest "$T"
assert_eq "$T@$APP_DIG" "$LAST_OUT" "pushed through the proxy in chunks"
verify_pushed "$T" "$APP" "${SKOPEO_FLAGS[@]}"
T="$PROXY_HOST/giteaadmin/layout:proxy"
assert_exit 0 run_ctd --ca-cert "$REG_CA" --chunk-size 512k -q --oci-layout "$APP" "$T"
assert_eq "$T@$APP_DIG" "$LAST_OUT" "OCI layout pushed through the proxy in chunks"
verify_pushed "$T" "$APP" "${SKOPEO_FLAGS[@]}"
ctd_running || fail "containerd died"
log "PASS"
