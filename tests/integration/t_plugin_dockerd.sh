#!/bin/bash
# tests/integration/t_plugin_dockerd.sh: `docker idppush` end to end with a
# real private dockerd (Debian docker.io 20.10, legacy docker save format) on
# its own socket, data root and containerd. Generated images are loaded with
# `docker load` (skopeo docker-archive): several layers with a 0-byte one,
# a duplicated layer, 31 layers. Each is pushed through the real docker CLI
# (Debian's, and /usr/local/bin/docker when present) to a plain HTTP registry
# and to a TLS + htpasswd registry, and verified with skopeo (manifest
# digest, config bytes = image ID, every diffID), then to a token-auth
# registry (scope repository:<name>:pull,push in the token server's log) and
# through nginx limiting bodies to 1 MiB (--chunk-size 512k pushes; the
# default chunk size gets 413s and is halved until it passes). --platform with this
# daemon's old API: the image's own platform pushes, another exits 1.
# Errors through docker: image not found (4), registry down (3), bad
# credentials (2).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/containerd.sh"
. "$TEST_LIB/dockerd.sh"
. "$top_srcdir/tests/lib/plugin.sh"
need skopeo docker-registry curl openssl htpasswd python3 nginx
export XDG_CACHE_HOME="$TEST_TMP/cache"

# ---- private containerd + dockerd, the plugin installed ----
plugin_dockerd

# ---- images ----
L1="$TEST_TMP/l1"
make_oci_layout "$L1" --oci 0 900000 2000 300000 >/dev/null
load_layout "$L1" multi:v1
L2="$TEST_TMP/l2"
make_oci_layout "$L2" --oci 4000 200000 >/dev/null
"$PYTHON" "$SAVE_FIXTURE" dup-layer "$L2"
load_layout "$L2" dup:v1
L3="$TEST_TMP/l3"
make_oci_layout "$L3" --oci $(for i in $(seq 1 31); do echo $((i * 1000)); done) >/dev/null
load_layout "$L3" many:v1
# docker's image ID is the config digest of the loaded image
cfg1=$(_layout_config "$L1")
assert_eq "sha256:$(sha256_file "$cfg1")" "$(dk image inspect -f '{{.Id}}' multi:v1)" \
	"image ID of multi:v1"

# ---- plain HTTP registry ----
start_registry plain
CLIS=(/usr/bin/docker)
[ -x /usr/local/bin/docker ] && CLIS+=(/usr/local/bin/docker)
declare -A LAYOUT=([multi]=$L1 [dup]=$L2 [many]=$L3)
n=0
for cli in "${CLIS[@]}"; do
	n=$((n + 1))
	for img in multi dup many; do
		lay=${LAYOUT[$img]}
		T="$REG_HOST/giteaadmin/$img:cli$n"
		assert_exit 0 timeout -k 5 300 "$cli" -H "$DH" idppush --registry "$REG_HOST" \
			--plain-http -q "$img:v1" "$T"
		verify_image "$T" "${LAST_OUT#*@}" "$lay" "${SKOPEO_FLAGS[@]}"
	done
done
# default destination: REGISTRY/OWNER/NAME:TAG; docker-push-like progress
assert_exit 0 timeout -k 5 300 /usr/bin/docker -H "$DH" idppush --registry "$REG_HOST" \
	--progress plain multi:v1
assert_contains "$LAST_ERR" "The push refers to repository [$REG_HOST/giteaadmin/multi]"
assert_contains "$LAST_ERR" "v1: digest: sha256:"
case "$LAST_OUT" in
"$REG_HOST/giteaadmin/multi:"*"@sha256:"*) ;;
*) fail "stdout: $LAST_OUT" ;;
esac
# the push cache: a re-push goes by it (same digest, nothing pushed)
DM=${LAST_OUT#*@}
assert_exit 0 timeout -k 5 300 /usr/bin/docker -H "$DH" idppush --registry "$REG_HOST" \
	--plain-http --progress plain multi:v1 "$REG_HOST/giteaadmin/multi:again"
assert_eq "$REG_HOST/giteaadmin/multi:again@$DM" "$LAST_OUT" "cached re-push"
assert_contains "$LAST_ERR" "Layer already exists"
assert_not_contains "$LAST_ERR" "Pushed" "a cached re-push pushed something"

# errors through docker
assert_exit 4 /usr/bin/docker -H "$DH" idppush --registry "$REG_HOST" nosuch:image
assert_contains "$LAST_ERR" "not found locally"
assert_exit 3 /usr/bin/docker -H "$DH" idppush --registry "127.0.0.1:$(free_port)" \
	--plain-http --retries 0 multi:v1

# ---- TLS + htpasswd ----
start_registry tls-htpasswd
T="$REG_HOST/giteaadmin/multi:tls"
printf '%s\n' "$REG_PASS" >"$TEST_TMP/pw"
assert_exit 0 /usr/bin/docker -H "$DH" idppush --ca-cert "$REG_CA" -u "$REG_USER" \
	--password-stdin --progress plain multi:v1 "$T" <"$TEST_TMP/pw"
verify_image "$T" "${LAST_OUT#*@}" "$L1" "${SKOPEO_FLAGS[@]}"
# legacy save: progress names layers by diffID (the cache's v1 id map), not v1 id
for d in $(dk image inspect -f '{{range .RootFS.Layers}}{{.}} {{end}}' multi:v1); do
	assert_contains "$LAST_ERR" "${d:7:12}: Pushed" "progress line of layer $d"
done
assert_exit 2 /usr/bin/docker -H "$DH" idppush --ca-cert "$REG_CA" -u "$REG_USER" -p wrong \
	multi:v1 "$REG_HOST/giteaadmin/multi:bad"
assert_not_tagged "$REG_HOST/giteaadmin/multi:bad" "${SKOPEO_FLAGS[@]}"

# ---- --platform with a daemon older than API 1.48 ----
ARCH=$(dk image inspect -f '{{.Architecture}}' multi:v1)
T="$REG_HOST/giteaadmin/multi:plat"
assert_exit 0 /usr/bin/docker -H "$DH" idppush --ca-cert "$REG_CA" -u "$REG_USER" \
	--password-stdin -q --platform "linux/$ARCH" multi:v1 "$T" <"$TEST_TMP/pw"
verify_image "$T" "${LAST_OUT#*@}" "$L1" "${SKOPEO_FLAGS[@]}"
assert_exit 1 /usr/bin/docker -H "$DH" idppush --ca-cert "$REG_CA" -u "$REG_USER" --password-stdin \
	--platform linux/s390x multi:v1 "$REG_HOST/giteaadmin/multi:s390x" <"$TEST_TMP/pw"
assert_contains "$LAST_ERR" "--platform linux/s390x: image 'multi:v1' is linux/$ARCH and docker API"
assert_not_tagged "$REG_HOST/giteaadmin/multi:s390x" "${SKOPEO_FLAGS[@]}"

# ---- token auth (a Gitea-like token server) ----
export XDG_CACHE_HOME="$TEST_TMP/cache-token"
start_registry token
T="$REG_HOST/giteaadmin/multi:token"
printf '%s\n' "$REG_PASS" >"$TEST_TMP/pw"
assert_exit 0 /usr/bin/docker -H "$DH" idppush --ca-cert "$REG_CA" -u "$REG_USER" \
	--password-stdin -q multi:v1 "$T" <"$TEST_TMP/pw"
DT=${LAST_OUT#*@}
assert_file_contains "$TOKEN_LOG" \
	'"basic":true,"user":"giteaadmin","scopes":\[[^]]*"repository:giteaadmin/multi:pull,push"' \
	"token request with Basic and scope repository:giteaadmin/multi:pull,push"
verify_image "$T" "$DT" "$L1" "${SKOPEO_FLAGS[@]}"

# ---- nginx with a 1 MiB body limit in front of a TLS registry ----
# (like idpbuilder's ingress proxy-body-size): a 3 MB random layer, whose
# gzip is as big, fits only in chunks
export XDG_CACHE_HOME="$TEST_TMP/cache-proxy"
L4="$TEST_TMP/l4"
make_oci_layout "$L4" --oci 3000000 5000 >/dev/null
load_layout "$L4" big:v1
big=$(grep -o '"size":[0-9]*' "$(layout_blob "$L4" "$(layout_manifest_digest "$L4")")" |
	cut -d: -f2 | sort -n | tail -1)
[ "$big" -gt 1048576 ] || fail "the biggest compressed layer of big:v1 is only $big bytes"
start_registry tls
start_body_limit_proxy "$REG_HOST" 1m https
# --chunk-size 512k: every request under the limit, no 413
T="$PROXY_HOST/giteaadmin/big:v1"
assert_exit 0 /usr/bin/docker -H "$DH" idppush --ca-cert "$REG_CA" --chunk-size 512k -q big:v1 "$T"
verify_image "$T" "${LAST_OUT#*@}" "$L4" "${SKOPEO_FLAGS[@]}"
verify_image "$REG_HOST/giteaadmin/big:v1" "${LAST_OUT#*@}" "$L4" "${SKOPEO_FLAGS[@]}"
if awk '$3 == 413 && index($2, "/v2/giteaadmin/big/") == 1' "$PROXY_ACCESS_LOG" | grep -q .; then
	fail "nginx answered 413 to a --chunk-size 512k push"
fi
m=$(awk 'index($2, "/v2/giteaadmin/big/") == 1 && $4 > m { m = $4 } END { print m + 0 }' \
	"$PROXY_ACCESS_LOG")
[ "$m" -lt 1048576 ] || fail "a request of $m bytes went through the 1m proxy"
n=$(awk '$1 == "PATCH" && index($2, "/v2/giteaadmin/big/") == 1' "$PROXY_ACCESS_LOG" | wc -l)
[ "$n" -ge 6 ] || fail "a 3 MB layer in 512k chunks took only $n PATCH requests"
# the default chunk size (another cache: nothing to mount): the 413s halve
# it until it passes, same upload
T="$PROXY_HOST/giteaadmin/bigdef:v1"
XDG_CACHE_HOME="$TEST_TMP/cache-def" assert_exit 0 /usr/bin/docker -H "$DH" idppush \
	--ca-cert "$REG_CA" -q big:v1 "$T"
verify_image "$T" "${LAST_OUT#*@}" "$L4" "${SKOPEO_FLAGS[@]}"
log "dockerd end-to-end checks passed"
