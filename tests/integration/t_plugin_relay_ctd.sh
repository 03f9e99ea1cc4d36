#!/bin/bash
# tests/integration/t_plugin_relay_ctd.sh: the plugin as a non-root member
# of the docker socket's group against Debian 13's dockerd 26 with the
# containerd image store (tests/lib/dockerd_ctd.sh): the daemon pushes a
# `docker build` image through the plugin's loopback relay. Checked:
#  - the pushed digest is the image ID and docker push's; the registry has
#    the index with its attestation manifest (skopeo);
#  - a rebuild does not upload the unchanged lower layer again; a push of
#    nothing new is the push cache's one HEAD;
#  - no temporary tag is left, also after the registry refused the blobs
#    (exit 5, no manifest put).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/dockerd_ctd.sh"
. "$TEST_LIB/registry.sh"
. "$top_srcdir/tests/lib/plugin.sh"
need skopeo docker-registry curl python3 setpriv
need_plugin
need_dockerd_ctd
dkc_test_user
dockerd_ctd_start --group "$DKC_GROUP"
plugin_install "$DKC_USER_DOCKER_CONFIG"
chown -R "$DKC_USER:" "$DKC_USER_DOCKER_CONFIG"
UP=$DKC_USER_DOCKER_CONFIG/cli-plugins/docker-idppush

upush() { # CODE ARGS...: the plugin as the test user (exit CODE)
	local want=$1
	shift
	assert_exit "$want" dkc_as_user env IDPBUILDER_PUSH_RETRY_ATTEMPTS=1 \
		timeout -k 5 120 "$UP" -H "$DKC_H" idppush --plain-http "$@"
}
no_relay_refs() {
	local refs
	refs=$(dkc image ls --digests --format '{{.Repository}}:{{.Tag}} {{.Digest}}')
	assert_not_contains "$refs" "idppush-" "a temporary tag is left ($1)"
	assert_not_contains "$refs" "127.0.0.1:$RELAY_PORT/" "a relay reference is left ($1)"
}
raw() { skopeo_run inspect --raw --tls-verify=false "docker://$1"; }

CTX=$TEST_TMP/ctx
dkc_context "$CTX" 4000000 2000
V1=$(dkc_build app:v1 "$CTX")
start_registry plain

# ---- cold: the image ID, the index and its attestation ----
upush 0 -v app:v1 "$REG_HOST/r/app:v1"
assert_contains "$LAST_ERR" "pushed by the docker daemon through the relay on 127.0.0.1:"
assert_contains "$LAST_ERR" "the daemon's image store not read: the daemon (pid"
assert_not_contains "$LAST_ERR" "containerd image store not read" "no store probe"
RELAY_PORT=$(sed -n 's/.*through the relay on 127\.0\.0\.1:\([0-9]*\).*/\1/p' <<<"$LAST_ERR")
assert_eq "$V1" "${LAST_OUT#*@}" "the pushed digest is the image ID"
raw "$REG_HOST/r/app:v1" >"$TEST_TMP/index.json"
assert_eq "$V1" "sha256:$(sha256_file "$TEST_TMP/index.json")" "the registry's index"
"$PYTHON" - "$TEST_TMP/index.json" <<'EOF' || fail "the index lacks its attestation manifest"
import json, sys
idx = json.load(open(sys.argv[1]))
kinds = [m.get("annotations", {}).get("vnd.docker.reference.type") for m in idx["manifests"]]
sys.exit(0 if len(kinds) == 2 and "attestation-manifest" in kinds else 1)
EOF
for d in $("$PYTHON" -c 'import json, sys
print(" ".join(m["digest"] for m in json.load(open(sys.argv[1]))["manifests"]))' \
	"$TEST_TMP/index.json"); do
	raw "$REG_HOST/r/app@$d" >/dev/null || fail "manifest $d is not in the registry"
done
BIG=$("$PYTHON" -c 'import json, sys
idx = json.load(open(sys.argv[1]))
m = [m for m in idx["manifests"] if "annotations" not in m][0]
print(m["digest"])' "$TEST_TMP/index.json")
BIG=$(raw "$REG_HOST/r/app@$BIG" | "$PYTHON" -c 'import json, sys
print(json.load(sys.stdin)["layers"][0]["digest"])')
no_relay_refs "after the cold push"

# ---- rebuild: the lower layer stays; nothing changed: one HEAD ----
head -c 3000 /dev/urandom >"$CTX/f2.bin"
V2=$(dkc_build app:v1 "$CTX")
upush 0 app:v1 "$REG_HOST/r/app:v1"
assert_eq "$V2" "${LAST_OUT#*@}" "the rebuild's digest is its image ID"
assert_eq 1 "$(reg_log_requests PUT "/v2/r/app/blobs/uploads/.*${BIG#sha256:}" | wc -l)" \
	"the lower layer was uploaded again"
upush 0 -v app:v1 "$REG_HOST/r/app:v1"
assert_contains "$LAST_ERR" "nothing changed"
dkc tag app:v1 "$REG_HOST/dp/app:v1"
assert_contains "$(dkc push "$REG_HOST/dp/app:v1")" "digest: $V2" "docker push's digest"
no_relay_refs "after the rebuild"

# ---- the registry refuses the blobs ----
start_hostile_registry patch-fails
upush 5 app:v1 "$HOSTILE_HOST/f/app:v1"
assert_eq 0 "$(hostile_count 'r["method"] == "PUT" and "/manifests/" in r["path"]')" \
	"a manifest was put after the registry refused the blobs"
no_relay_refs "after the registry refused"
log "ok"
