#!/bin/bash
# tests/integration/t_registry_tls_basic.sh: the engine against docker-registry
# with TLS (test CA) and htpasswd Basic auth. Trust and credentials come from
# each supported place in turn, every push verified with skopeo:
#   --ca-cert + -u/-p; IDPBUILDER_REGISTRY_USERNAME/PASSWORD env;
#   DOCKER_CONFIG/config.json (auths.<host>.auth, base64 user:pass);
#   --docker-config DIR; --docker-certs-dir DIR (DIR/<host:port>/ca.crt);
#   --hosts-dir DIR (containerd DIR/<host:port>/hosts.toml naming the CA).
# --debug: the HTTP trace never shows the password or the Basic header.
# Negative: no credentials -> exit 2 and nothing tagged.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
need docker-registry skopeo curl openssl htpasswd
need_engine

start_registry tls-htpasswd
L="$TEST_TMP/layout"
DIG=$(make_oci_layout "$L" --docker 0 700000 1500000)

check_no_secret() {
	assert_not_contains "$LAST_OUT$LAST_ERR" "$REG_PASS" "engine output leaks the password"
}

# 1. --ca-cert and -u/-p
T="$REG_HOST/giteaadmin/app1:v1"
assert_push_ok "$T" "$DIG" --ca-cert "$REG_CA" -u "$REG_USER" -p "$REG_PASS" "$L" "$T"
check_no_secret
verify_pushed "$T" "$L" "${SKOPEO_FLAGS[@]}"

# 2. credentials from IDPBUILDER_REGISTRY_USERNAME/PASSWORD
T="$REG_HOST/giteaadmin/app2:v1"
assert_exit 0 run_engine_env IDPBUILDER_REGISTRY_USERNAME="$REG_USER" \
	IDPBUILDER_REGISTRY_PASSWORD="$REG_PASS" -- \
	--ca-cert "$REG_CA" "$L" "$T"
assert_eq "$T@$DIG" "$LAST_OUT" "engine-push stdout (env credentials)"
check_no_secret
verify_pushed "$T" "$L" "${SKOPEO_FLAGS[@]}"

# 3. credentials from $DOCKER_CONFIG/config.json
DC="$TEST_TMP/dockercfg"
mkdir -p "$DC"
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REG_HOST" \
	"$(printf '%s:%s' "$REG_USER" "$REG_PASS" | base64 -w0)" >"$DC/config.json"
T="$REG_HOST/giteaadmin/app3:v1"
assert_exit 0 run_engine_env DOCKER_CONFIG="$DC" -- --ca-cert "$REG_CA" "$L" "$T"
assert_eq "$T@$DIG" "$LAST_OUT" "engine-push stdout (DOCKER_CONFIG credentials)"
verify_pushed "$T" "$L" "${SKOPEO_FLAGS[@]}"

# 4. the same config.json via --docker-config DIR
T="$REG_HOST/giteaadmin/app4:v1"
assert_push_ok "$T" "$DIG" --docker-config "$DC" --ca-cert "$REG_CA" "$L" "$T"
verify_pushed "$T" "$L" "${SKOPEO_FLAGS[@]}"

# 5. CA from a docker certs.d-style dir: DIR/<host:port>/ca.crt
CD="$TEST_TMP/certs.d"
mkdir -p "$CD/$REG_HOST"
cp "$REG_CA" "$CD/$REG_HOST/ca.crt"
T="$REG_HOST/giteaadmin/app5:v1"
assert_push_ok "$T" "$DIG" --docker-certs-dir "$CD" -u "$REG_USER" -p "$REG_PASS" "$L" "$T"
verify_pushed "$T" "$L" "${SKOPEO_FLAGS[@]}"

# 6. CA from a containerd hosts dir: DIR/<host:port>/hosts.toml
HD="$TEST_TMP/hosts.d"
mkdir -p "$HD/$REG_HOST"
cat >"$HD/$REG_HOST/hosts.toml" <<EOF
server = "https://$REG_HOST"

[host."https://$REG_HOST"]
  capabilities = ["pull", "resolve", "push"]
  ca = "$REG_CA"
EOF
T="$REG_HOST/giteaadmin/app6:v1"
assert_push_ok "$T" "$DIG" --hosts-dir "$HD" -u "$REG_USER" -p "$REG_PASS" "$L" "$T"
verify_pushed "$T" "$L" "${SKOPEO_FLAGS[@]}"

# 8. debug output shows the HTTP exchange but never a secret
T="$REG_HOST/giteaadmin/app8:v1"
assert_push_ok "$T" "$DIG" --debug --ca-cert "$REG_CA" -u "$REG_USER" -p "$REG_PASS" "$L" "$T"
assert_contains "$LAST_ERR" "Authorization: <redacted>" "debug output marks the redacted header"
assert_not_contains "$LAST_ERR" "$REG_PASS" "debug output leaks the password"
assert_not_contains "$LAST_ERR" "$(printf '%s:%s' "$REG_USER" "$REG_PASS" | base64 -w0)" \
	"debug output leaks the Basic credentials"

# 7. no credentials at all -> authentication error, nothing tagged
T="$REG_HOST/giteaadmin/app7:v1"
assert_exit 2 run_engine --ca-cert "$REG_CA" "$L" "$T"
[ -n "$LAST_ERR" ] || fail "no error message on stderr for a missing-credentials push"
assert_not_tagged "$T" "${SKOPEO_FLAGS[@]}"

log "PASS"
