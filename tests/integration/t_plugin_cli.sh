#!/bin/bash
# tests/integration/t_plugin_cli.sh: the real docker CLIs (/usr/local/bin/docker
# and Debian's /usr/bin/docker, whichever exist) discover docker-idppush in a
# temp DOCKER_CONFIG/cli-plugins and run it: `docker --help` lists it,
# `docker idppush --help` and `docker help idppush` show its help, global
# flags before the plugin name are skipped (and -H reaches the docker it
# runs), exit codes pass through docker; an IMAGE by digest without TARGET
# is refused in one line. No daemon needed.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$top_srcdir/tests/lib/plugin.sh"
[ -x "$PLUGIN" ] || fail "docker-idppush not built: $PLUGIN"

CLIS=()
for c in /usr/local/bin/docker /usr/bin/docker; do
	[ -x "$c" ] && CLIS+=("$c")
done
[ "${#CLIS[@]}" -gt 0 ] || skip "no docker CLI installed"

DC="$TEST_TMP/dockercfg"
plugin_install "$DC"
export DOCKER_CONFIG="$DC"
unset DOCKER_HOST DOCKER_CONTEXT || true

# the metadata itself: instant, valid JSON, SchemaVersion 0.1.0
assert_exit 0 timeout 5 "$PLUGIN" docker-cli-plugin-metadata
printf '%s' "$LAST_OUT" | "$PYTHON" -c '
import json, sys
m = json.load(sys.stdin)
assert (m["SchemaVersion"] == "0.1.0" and m["Vendor"] and m["Version"]
        and m["ShortDescription"] and m["URL"]), m
' || fail "metadata is not what the CLI expects: $LAST_OUT"

# docker-idppush is the launcher: it loads none of the program's libraries
# (the metadata question costs no start of them), and it runs idppush-plugin
# from its own directory, or says it cannot
need readelf
NEEDED=$(readelf -d "$PLUGIN" | grep NEEDED) || fail "readelf -d $PLUGIN"
assert_not_contains "$NEEDED" "libcurl" "libraries the launcher loads"
assert_not_contains "$NEEDED" "libgnutls" "libraries the launcher loads"
assert_not_contains "$NEEDED" "libjson-c" "libraries the launcher loads"
mkdir -p "$TEST_TMP/alone"
cp "$PLUGIN" "$TEST_TMP/alone/docker-idppush"
assert_exit 0 "$TEST_TMP/alone/docker-idppush" docker-cli-plugin-metadata
assert_exit 1 "$TEST_TMP/alone/docker-idppush" --version
assert_contains "$LAST_ERR" "cannot run $TEST_TMP/alone/idppush-plugin: No such file" \
	"the launcher without its program"
[ "$(printf '%s\n' "$LAST_ERR" | wc -l)" = 1 ] || fail "not one line: $LAST_ERR"
ln -s "$DC/cli-plugins/docker-idppush" "$TEST_TMP/alone/linked"
assert_exit 0 "$TEST_TMP/alone/linked" --version

NOSOCK="unix://$TEST_TMP/no-daemon.sock"
NOTAG="is a digest reference: there is no tag to push it under; give TARGET"
for cli in "${CLIS[@]}"; do
	log "docker CLI $cli ($("$cli" --version))"
	assert_exit 0 "$cli" --help
	echo "$LAST_OUT" | grep -Eq '^ +idppush\*? +Push local images' ||
		fail "$cli --help does not list idppush: $LAST_OUT"
	assert_exit 0 "$cli" idppush --help
	assert_contains "$LAST_OUT" "Usage:  docker idppush [OPTIONS] IMAGE [TARGET...]"
	assert_contains "$LAST_OUT" "--password-stdin"
	assert_exit 0 "$cli" help idppush
	assert_contains "$LAST_OUT" "docker idppush [OPTIONS] IMAGE [TARGET...]"
	assert_exit 0 "$cli" --context default -D -l error idppush --version
	assert_contains "$LAST_OUT" "docker idppush version"
	assert_exit 0 "$cli" --config "$DC" --log-level=warn idppush -h
	# usage errors: exit 1 through docker, before any daemon access
	assert_exit 1 "$cli" idppush
	assert_contains "$LAST_ERR" "no image given"
	# a digest reference without TARGET: one line, before any daemon access
	d="img:1@sha256:$(printf 'cd%.0s' $(seq 32))"
	assert_exit 1 "$cli" -H "$NOSOCK" idppush "$d"
	assert_eq "docker-idppush: error: '$d' $NOTAG" "$LAST_ERR" \
		"$cli: digest reference without TARGET"
	assert_exit 1 "$cli" -H "$NOSOCK" idppush --jobs 0 img:1
	assert_contains "$LAST_ERR" "invalid value '0' for --jobs"
	# -H given before the plugin name reaches the docker it runs
	assert_exit 1 "$cli" -H "$NOSOCK" idppush --registry 127.0.0.1:1 img:1
	assert_contains "$LAST_ERR" "no-daemon.sock"
	assert_exit 1 "$cli" --host="$NOSOCK" --tls=false idppush img:1
	assert_contains "$LAST_ERR" "no-daemon.sock"
done
log "plugin protocol checks passed with ${#CLIS[@]} docker CLI(s)"

# More docker global flags before the plugin name than the plugin keeps
# (docker passes them all through): a usage error, never a crash.
many=()
for i in $(seq 1 1000); do many+=(--context "c$i"); done
assert_exit 1 "$PLUGIN" "${many[@]}" idppush img:1
assert_contains "$LAST_ERR" "too many docker global flags"
many=()
for i in $(seq 1 20); do many+=(--context "c$i" -D); done
assert_exit 1 "$PLUGIN" "${many[@]}" idppush img:1
assert_contains "$LAST_ERR" "too many docker global flags"
