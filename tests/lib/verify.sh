# tests/lib/verify.sh: check pushes with skopeo as an independent client.
#   skopeo_run ARGS...   skopeo with private state: HOME/XDG dirs, auth file,
#                        registries.conf and policy.json in $TEST_TMP; as root
#                        it also hides /var/lib/containers/cache (the blob-info
#                        cache) behind a private bind mount when it can
#                        (_SKOPEO_MNT=1), so its cache is $TEST_TMP/skopeo/cache.
#   skopeo_argv          SKOPEO_ARGV: the command line skopeo_run runs, before
#                        its arguments (one process: env, unshare and sh exec).
#   verify_pushed REF LAYOUT_DIR [FLAGS...]
#       FLAGS are skopeo inspect-style: --tls-verify=false, --cert-dir DIR,
#       --creds U:P (pass "${SKOPEO_FLAGS[@]}" from registry.sh).
#       Checks: inspect --raw bytes == layout's manifest file and their sha256
#       == the layout's manifest digest; copy --preserve-digests to dir: gives
#       config + every layer byte-identical to the layout's blobs, each with
#       the sha256 its name says.
#   assert_not_tagged REF [FLAGS...]  REF must not resolve (tag absent).
#   skopeo_push LAYOUT_DIR REF [FLAGS...]  reference push (via a dir: view),
#       FLAGS inspect-style as above (translated to --dest-*).
# shellcheck shell=bash disable=SC2013,SC2016

_skopeo_env_ready=
_skopeo_prepare() {
	[ -z "$_skopeo_env_ready" ] || return 0
	need skopeo
	local s="$TEST_TMP/skopeo"
	mkdir -p "$s/home" "$s/xdg-config" "$s/xdg-data" "$s/xdg-runtime" "$s/cache" "$s/tmp"
	chmod 700 "$s/xdg-runtime"
	printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >"$s/policy.json"
	printf 'unqualified-search-registries = []\n' >"$s/registries.conf"
	printf '{"auths":{}}\n' >"$s/auth.json"
	_SKOPEO_MNT=
	if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1; then
		# Creating the (empty) system cache dir is what skopeo itself would do;
		# the private mount keeps the tests' cache entries out of it.
		if mkdir -p /var/lib/containers/cache 2>/dev/null &&
			unshare -m sh -c 'mount --bind "$1" /var/lib/containers/cache' \
				sh "$s/cache" 2>/dev/null; then
			_SKOPEO_MNT=1
		fi
	fi
	_skopeo_env_ready=1
}

skopeo_argv() {
	_skopeo_prepare
	local s="$TEST_TMP/skopeo"
	SKOPEO_ARGV=(env HOME="$s/home" XDG_CONFIG_HOME="$s/xdg-config"
		XDG_DATA_HOME="$s/xdg-data"
		XDG_RUNTIME_DIR="$s/xdg-runtime" TMPDIR="$s/tmp" REGISTRY_AUTH_FILE="$s/auth.json"
		CONTAINERS_REGISTRIES_CONF="$s/registries.conf" DOCKER_CONFIG="$s/home/.docker")
	if [ -n "$_SKOPEO_MNT" ]; then
		SKOPEO_ARGV+=(unshare -m sh -c
			'mount --bind "$1" /var/lib/containers/cache && shift && exec skopeo "$@"'
			sh "$s/cache" --policy "$s/policy.json")
	else
		SKOPEO_ARGV+=(skopeo --policy "$s/policy.json")
	fi
}

skopeo_run() {
	skopeo_argv
	"${SKOPEO_ARGV[@]}" "$@"
}

# _skopeo_flags PREFIX FLAGS...: translate inspect-style flags to --PREFIX-*.
# Result in _SF array.
_skopeo_flags() {
	local p=$1
	shift
	_SF=()
	while [ "$#" -gt 0 ]; do
		case "$1" in
		--tls-verify=*) _SF+=("--$p-tls-verify=${1#--tls-verify=}") ;;
		--cert-dir | --creds)
			_SF+=("--$p-${1#--}" "$2")
			shift
			;;
		--cert-dir=* | --creds=*) _SF+=("--$p-${1#--}") ;;
		*) fail "_skopeo_flags: unsupported flag $1" ;;
		esac
		shift
	done
}

verify_pushed() {
	local ref=$1 layout=$2
	shift 2
	local want_digest mfile
	want_digest=$(layout_manifest_digest "$layout")
	mfile=$(layout_blob "$layout" "$want_digest")
	local out="$TEST_TMP/verify.$RANDOM$RANDOM"
	mkdir -p "$out"
	if ! skopeo_run inspect --raw "$@" "docker://$ref" >"$out/raw" 2>"$out/inspect.err"; then
		cat "$out/inspect.err" >&2
		fail "verify_pushed: skopeo inspect docker://$ref failed"
	fi
	assert_eq "$want_digest" "sha256:$(sha256_file "$out/raw")" \
		"sha256 of the manifest served for $ref"
	cmp -s "$mfile" "$out/raw" ||
		fail "verify_pushed: manifest bytes served for $ref differ from the layout's"
	_skopeo_flags src "$@"
	if ! skopeo_run copy --quiet --preserve-digests "${_SF[@]}" "docker://$ref" "dir:$out/dir" \
		2>"$out/copy.err"; then
		cat "$out/copy.err" >&2
		fail "verify_pushed: skopeo copy docker://$ref failed"
	fi
	cmp -s "$mfile" "$out/dir/manifest.json" ||
		fail "verify_pushed: manifest fetched by copy differs"
	# every descriptor of the manifest: file named by its hex digest in dir:
	local d n=0 f
	for d in $(grep -o '"digest":"sha256:[0-9a-f]\{64\}"' "$mfile" | cut -d'"' -f4); do
		f="$out/dir/${d#sha256:}"
		[ -f "$f" ] || fail "verify_pushed: blob $d not fetched from $ref"
		assert_eq "$d" "sha256:$(sha256_file "$f")" "sha256 of blob fetched from $ref"
		cmp -s "$f" "$(layout_blob "$layout" "$d")" ||
			fail "verify_pushed: blob $d differs from the layout's"
		n=$((n + 1))
	done
	[ "$n" -ge 2 ] || fail "verify_pushed: manifest names only $n blobs"
	rm -rf "$out"
	log "verified $ref ($want_digest, $n blobs) with skopeo"
}

assert_not_tagged() {
	local ref=$1
	shift
	if skopeo_run inspect --raw "$@" "docker://$ref" >"$TEST_TMP/nottagged.out" \
		2>"$TEST_TMP/nottagged.err"; then
		fail "assert_not_tagged: $ref resolves (it must not exist)"
	fi
	# it must fail because the manifest is unknown, not because of TLS/auth
	if ! grep -Eqi 'manifest unknown|not found|MANIFEST_UNKNOWN|NAME_UNKNOWN|name unknown' \
		"$TEST_TMP/nottagged.err"; then
		cat "$TEST_TMP/nottagged.err" >&2
		fail "assert_not_tagged: skopeo failed for an unexpected reason on $ref"
	fi
}

# skopeo 1.9's oci: transport ignores index.json entries with Docker media
# types ("no descriptor found for reference"), so push from a dir: view of the
# layout (hard links to the blobs + manifest.json), which works for both.
layout_as_dir() { # LAYOUT OUT
	local layout=$1 out=$2 d
	mkdir -p "$out"
	printf 'Directory Transport Version: 1.1\n' >"$out/version"
	d=$(layout_manifest_digest "$layout")
	cp "$(layout_blob "$layout" "$d")" "$out/manifest.json"
	for d in $(grep -o '"digest":"sha256:[0-9a-f]\{64\}"' "$out/manifest.json" |
		cut -d'"' -f4); do
		ln -f "$(layout_blob "$layout" "$d")" "$out/${d#sha256:}" 2>/dev/null ||
			cp "$(layout_blob "$layout" "$d")" "$out/${d#sha256:}"
	done
}

skopeo_push() {
	local layout=$1 ref=$2
	shift 2
	_skopeo_flags dest "$@"
	local view="$TEST_TMP/skopeo-src.$RANDOM$RANDOM"
	layout_as_dir "$layout" "$view"
	local rc=0
	skopeo_run copy --quiet --preserve-digests "${_SF[@]}" "dir:$view" "docker://$ref" || rc=$?
	rm -rf "$view"
	return "$rc"
}
