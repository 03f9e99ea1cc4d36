# tests/lib/containerd_env.sh: not a test; sourced by the
# t_containerd_*.sh tests (after tests/lib/common.sh and image.sh). Starts
# a private containerd (own root, state, sockets, opt dir under $TEST_TMP;
# a version 2 config.toml with the CRI plugin disabled) and imports
# generated OCI archives.
#   (the containerd itself: tests/lib/containerd.sh, sourced here)
#   make_multi_layout DIR HOSTDIR OTHERDIR OTHERPLAT
#                              an OCI layout whose index.json names (ref "v1")
#                              an index of the host manifest (from HOSTDIR)
#                              and one for OTHERPLAT (from OTHERDIR); prints
#                              the index digest
#   make_attest_layout DIR HOSTDIR ATTDIR
#                              the same shape, with ATTDIR's manifest as a
#                              buildx-style attestation (unknown/unknown,
#                              vnd.docker.reference.type) of the host one
#   run_ctd ARGS...            the adapter, bounded by a timeout
# need_ctd skips (77) when containerd/ctr are missing or we are not root,
# and fails instead under CI=true.
# shellcheck shell=bash
. "$TEST_LIB/containerd.sh"

CTD_ADAPTER="${CTD_ADAPTER:-$top_builddir/idppush-containerd}"

need_ctd() {
	need_containerd
	[ -x "$CTD_ADAPTER" ] || fail "adapter not built: $CTD_ADAPTER"
}

run_ctd() { timeout -k 5 "${ENGINE_TIMEOUT:-180}" "$CTD_ADAPTER" "$@"; }

_plat_entry() { # DIR PLATFORM  -> an index entry for DIR's manifest
	local d s os arch
	d=$(layout_manifest_digest "$1")
	s=$(stat -c %s "$(layout_blob "$1" "$d")")
	os=${2%%/*}
	arch=${2#*/}
	local fmt='{"mediaType":"application/vnd.oci.image.manifest.v1+json",'
	fmt+='"digest":"%s","size":%s,"platform":{"architecture":"%s","os":"%s"}}'
	# shellcheck disable=SC2059 # the format is built above
	printf "$fmt" "$d" "$s" "$arch" "$os"
}

_att_entry() { # ATTDIR HOSTDIR -> an attestation entry for ATTDIR's manifest
	local e
	e=$(_plat_entry "$1" unknown/unknown)
	local fmt='%s,"annotations":{"vnd.docker.reference.type":"attestation-manifest",'
	fmt+='"vnd.docker.reference.digest":"%s"}}'
	# shellcheck disable=SC2059 # the format is built above
	printf "$fmt" "${e%\}}" "$(layout_manifest_digest "$2")"
}

make_multi_layout() {
	local dir=$1 hostdir=$2 otherdir=$3 other=$4
	mkdir -p "$dir/blobs/sha256"
	cp "$hostdir"/blobs/sha256/* "$otherdir"/blobs/sha256/* "$dir/blobs/sha256/"
	_write_index "$dir" "$(_plat_entry "$hostdir" "linux/$(_host_goarch)")" \
		"$(_plat_entry "$otherdir" "$other")"
}

make_attest_layout() {
	local dir=$1 hostdir=$2 attdir=$3
	mkdir -p "$dir/blobs/sha256"
	cp "$hostdir"/blobs/sha256/* "$attdir"/blobs/sha256/* "$dir/blobs/sha256/"
	_write_index "$dir" "$(_plat_entry "$hostdir" "linux/$(_host_goarch)")" \
		"$(_att_entry "$attdir" "$hostdir")"
}

# _write_index DIR ENTRY1 ENTRY2: the index blob + index.json naming it "v1".
_write_index() {
	local dir=$1
	local fmt='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",'
	fmt+='"manifests":[%s,%s]}'
	# shellcheck disable=SC2059 # the format is built above
	printf "$fmt" "$2" "$3" >"$dir/idx.json"
	local d s
	d=sha256:$(sha256_file "$dir/idx.json")
	s=$(stat -c %s "$dir/idx.json")
	mv "$dir/idx.json" "$(layout_blob "$dir" "$d")"
	printf '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
	fmt='{"schemaVersion":2,"manifests":['
	fmt+='{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"%s","size":%s,'
	fmt+='"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}'
	# shellcheck disable=SC2059 # the format is built above
	printf "$fmt" "$d" "$s" >"$dir/index.json"
	echo "$d"
}
