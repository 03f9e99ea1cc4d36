#!/bin/bash
# tests/integration/t_compression.sh: the layers docker-idppush compresses
# (block by block, several threads, through each gzip library this build
# has, and zstd) are right: the pushed image verifies with skopeo (manifest
# digest, config, every layer decompressed to its diffID), every layer
# blob passes `gzip -t` / `zstd -t`, the config is the same whichever
# library compressed, and containerd pulls and unpacks the image (which
# checks every diffID again).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$top_srcdir/tests/lib/plugin.sh"
. "$top_srcdir/tests/lib/containerd.sh"
need docker-registry skopeo curl gzip zstd
need_plugin
need_containerd
fake_docker_setup
ctd_start
export XDG_CACHE_HOME="$TEST_TMP/cache"

# a 9 MB layer (three blocks), an empty one and a small one
L="$TEST_TMP/layout"
make_oci_layout "$L" --oci 9000000 0 4000 >/dev/null
fixture oci-inside "$L" app:v1
start_registry plain

# blob_file REPO DIGEST: the registry's stored file for a blob of REPO
blob_file() {
	reg_blob_linked "$1" "$2" || fail "blob $2 not linked in $1"
	echo "$REG_DATA/docker/registry/v2/blobs/sha256/${2:7:2}/${2#sha256:}/data"
}

# layers_of REF: the layer digests of the manifest the registry serves
layers_of() {
	skopeo_run inspect --raw --tls-verify=false "docker://$1" | "$PYTHON" -c '
import json, sys
print(" ".join(layer["digest"] for layer in json.load(sys.stdin)["layers"]))'
}

config_of() {
	skopeo_run inspect --raw --tls-verify=false "docker://$1" |
		"$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["config"]["digest"])'
}

configs=()
tested=0
for lib in isal libdeflate zlib; do
	if ! IDPPUSH_GZIP_LIB=$lib "$PLUGIN" --registry "$REG_HOST" --plain-http -q app:v1 \
		"$REG_HOST/giteaadmin/probe-$lib:v1" 2>"$TEST_TMP/probe.err"; then
		grep -q "built without $lib" "$TEST_TMP/probe.err" ||
			fail "push with $lib: $(cat "$TEST_TMP/probe.err")"
		log "$lib: not in this build"
		continue
	fi
	rm -rf "$XDG_CACHE_HOME"   # no reuse: each library compresses the layers itself
	t="$REG_HOST/giteaadmin/lib-$lib:v1"
	assert_exit 0 env IDPPUSH_GZIP_LIB=$lib "$PLUGIN" --registry "$REG_HOST" --plain-http \
		--jobs 1 app:v1 "$t"
	verify_image "$t" "${LAST_OUT#*@}" "$L" "${SKOPEO_FLAGS[@]}"
	for d in $(layers_of "$t"); do
		gzip -t <"$(blob_file "giteaadmin/lib-$lib" "$d")" ||
			fail "layer $d compressed with $lib fails gzip -t"
	done
	configs+=("$(config_of "$t")")
	"${CTR[@]}" -n pull images pull --plain-http --snapshotter native "$t" >/dev/null ||
		fail "containerd cannot pull and unpack the image compressed with $lib"
	tested=$((tested + 1))
done
[ "$tested" -ge 1 ] || fail "no gzip library could push"
for c in "${configs[@]}"; do
	assert_eq "${configs[0]}" "$c" "the config whichever library compressed"
done

# zstd
t="$REG_HOST/giteaadmin/zstd:v1"
assert_exit 0 "$PLUGIN" --registry "$REG_HOST" --plain-http --compression zstd app:v1 "$t"
verify_image "$t" "${LAST_OUT#*@}" "$L" "${SKOPEO_FLAGS[@]}"
for d in $(layers_of "$t"); do
	zstd -t -q <"$(blob_file giteaadmin/zstd "$d")" || fail "zstd layer $d fails zstd -t"
done
"${CTR[@]}" -n pull images pull --plain-http --snapshotter native "$t" >/dev/null ||
	fail "containerd cannot pull and unpack the zstd image"
log "compression checks passed ($tested gzip libraries, zstd)"
