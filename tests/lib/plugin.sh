# tests/lib/plugin.sh: helpers for the docker-idppush tests
# (tests/integration/t_plugin_*.sh), on top of tests/lib/*.sh.
#   PLUGIN                      the built docker-idppush (the launcher; it runs
#                               idppush-plugin from its own directory)
#   plugin_install DIR          DIR/cli-plugins/docker-idppush and idppush-plugin
#                               (copies) for DOCKER_CONFIG=DIR
#   plugin_dockerd              a private dockerd (need_dockerd, dockerd_start:
#                               source containerd.sh and dockerd.sh too), the
#                               plugin installed in DC=$TEST_TMP/dockercfg for
#                               DOCKER_CONFIG=DC, run by the docker CLI on PATH
#   fake_docker_setup           FAKE_DOCKER_DIR + DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND
#                               pointing at tests/tools/fake_docker.sh (and a
#                               DOCKER_HOST socket that is not there)
#   fixture SHAPE LAYOUT NAME:TAG   fake docker serves NAME:TAG from LAYOUT in
#                               SHAPE oci-inside | containerd | legacy (skopeo docker-archive)
#   run_plugin ARGS...          the plugin with a hard timeout
#   verify_image REF DIGEST LAYOUT [SKOPEO FLAGS...]
#       skopeo: the manifest served for REF hashes to DIGEST; the config is
#       byte-identical to LAYOUT's (LAYOUT a file: that config itself); every
#       layer decompresses to the diffID the config lists, in order.
# shellcheck shell=bash

PLUGIN="${PLUGIN:-$top_builddir/docker-idppush}"
SAVE_FIXTURE="$top_srcdir/tests/tools/save_fixture.py"

need_plugin() {
	[ -x "$PLUGIN" ] && [ -x "$(dirname "$PLUGIN")/idppush-plugin" ] ||
		fail "docker-idppush not built: $PLUGIN"
	need python3 skopeo
}

plugin_install() {
	mkdir -p "$1/cli-plugins"
	cp "$PLUGIN" "$1/cli-plugins/docker-idppush"
	cp "$(dirname "$PLUGIN")/idppush-plugin" "$1/cli-plugins/idppush-plugin"
}

plugin_dockerd() {
	need_plugin
	need_dockerd
	dockerd_start
	DC="$TEST_TMP/dockercfg"
	plugin_install "$DC"
	export DOCKER_CONFIG="$DC"
	unset DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND || true
}

fake_docker_setup() {
	FAKE_DOCKER_DIR="$TEST_TMP/fakedocker"
	mkdir -p "$FAKE_DOCKER_DIR"
	export FAKE_DOCKER_DIR
	export DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND="$top_srcdir/tests/tools/fake_docker.sh"
	# the plugin asks a daemon's Engine API only through a unix socket that
	# is there: none here, so the fake CLI answers everything
	export DOCKER_HOST="unix://$FAKE_DOCKER_DIR/no-daemon.sock"
}

_fkey() { printf '%s' "$1" | tr '/:' '__'; }

fixture() {
	local shape=$1 layout=$2 name=$3 k
	k="$FAKE_DOCKER_DIR/$(_fkey "$name")"
	case "$shape" in
	oci-inside | containerd)
		"$PYTHON" "$SAVE_FIXTURE" "$shape" "$layout" "$name" "$k.tar" "$k.inspect.json" ;;
	legacy)
		skopeo_run copy --quiet "oci:$layout" "docker-archive:$k.tar:$name" ||
			fail "skopeo could not write a docker-archive"
		"$PYTHON" "$SAVE_FIXTURE" inspect "$layout" "$k.inspect.json" ;;
	*) fail "fixture: unknown shape $shape" ;;
	esac
}

run_plugin() {
	timeout -k 5 "${PLUGIN_TIMEOUT:-180}" "$PLUGIN" "$@"
}

_layout_config() {
	local m
	m=$(layout_blob "$1" "$(layout_manifest_digest "$1")")
	layout_blob "$1" "$(grep -o '"config":{[^}]*}' "$m" | grep -o 'sha256:[0-9a-f]\{64\}')"
}

# _decompress FILE: a layer's tar bytes, whether it is zstd, gzip or plain.
_decompress() {
	if [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')" = 28b52ffd ]; then
		zstd -dcq "$1"
	else
		zcat -f "$1"
	fi
}

verify_image() {
	local ref=$1 digest=$2 layout=$3
	shift 3
	local out="$TEST_TMP/vi.$RANDOM$RANDOM" cfg i=0 d want got
	mkdir -p "$out"
	skopeo_run inspect --raw "$@" "docker://$ref" >"$out/raw" 2>"$out/err" || {
		cat "$out/err" >&2
		fail "skopeo inspect $ref"
	}
	assert_eq "$digest" "sha256:$(sha256_file "$out/raw")" \
		"digest of the manifest served for $ref"
	_skopeo_flags src "$@"
	skopeo_run copy --quiet --preserve-digests "${_SF[@]}" "docker://$ref" "dir:$out/dir" \
		2>"$out/err" ||
		{ cat "$out/err" >&2; fail "skopeo copy $ref"; }
	if [ -f "$layout" ]; then cfg=$layout; else cfg=$(_layout_config "$layout"); fi
	d=$(sha256_file "$cfg")
	cmp -s "$cfg" "$out/dir/$d" || fail "config of $ref is not the image's config byte for byte"
	for d in $(grep -o '"layers":.*' "$out/dir/manifest.json" |
		grep -o 'sha256:[0-9a-f]\{64\}'); do
		i=$((i + 1))
		got="sha256:$(_decompress "$out/dir/${d#sha256:}" | sha256sum | cut -d' ' -f1)"
		want=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))
			["rootfs"]["diff_ids"][int(sys.argv[2])])' "$cfg" $((i - 1)))
		assert_eq "$want" "$got" "diffID of layer $i of $ref"
	done
	[ "$i" -ge 1 ] || fail "verify_image: $ref has no layers"
	rm -rf "$out"
	log "verified $ref ($digest, $i layers, config + diffIDs) with skopeo"
}
