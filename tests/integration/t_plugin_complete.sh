#!/bin/bash
# tests/integration/t_plugin_complete.sh: docker-idppush answers the docker
# CLI's completion protocol (`docker-idppush __complete idppush ARGS...
# TOCOMPLETE`, cobra's output: candidates, then ":DIRECTIVE"), checked
# through the real docker CLI 28 (/usr/local/bin/docker): option names
# with their help, the choices of --progress, --compression and --format
# (also as --progress=VALUE), file names for --ca-cert and --digest-file
# (directive 0), and for IMAGE the local images of a fake docker daemon
# (tests/tools/fake_dockerd.py, DOCKER_HOST) that `docker image ls` lists,
# untagged ones left out; the same answers from the plugin run directly.
# Then the bash completion file of Debian 12's docker.io 20.10
# (/usr/share/bash-completion/completions/docker, with bash-completion),
# which runs `docker-idppush __completeNoDesc ARGS...` with the words as
# bash splits them: option names, --progress values (also after "="),
# the local images, and file names for --ca-cert, in a real bash.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$top_srcdir/tests/lib/plugin.sh"
[ -x "$PLUGIN" ] || fail "docker-idppush not built: $PLUGIN"
need python3
CLI=/usr/local/bin/docker
[ -x "$CLI" ] || skip "no docker CLI 28 at $CLI (plugin completion needs docker 23 or newer)"
"$CLI" --version | grep -qE 'version (2[3-9]|[3-9][0-9])\.' ||
	skip "$CLI is older than docker 23: no plugin completion"

DC="$TEST_TMP/dockercfg"
plugin_install "$DC"
export DOCKER_CONFIG="$DC"
unset DOCKER_CONTEXT DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND || true
# the plugin asks `docker` on PATH for the images: this CLI
mkdir -p "$TEST_TMP/bin"
ln -s "$CLI" "$TEST_TMP/bin/docker"
export PATH="$TEST_TMP/bin:$PATH"

# the fake daemon: tagged images, one known only by digest, dangling ones
SOCK="$TEST_TMP/d.sock"
cat >"$TEST_TMP/images.json" <<'JSON'
[{"RepoTags": ["myapp:dev", "myapp:1.0"],
  "RepoDigests": ["myapp@sha256:11111111111111111111111111111111111111111111111111111111111111"]},
 {"RepoTags": ["gitea.cnoe.localtest.me:8443/giteaadmin/web:v2"], "RepoDigests": []},
 {"RepoTags": [],
  "RepoDigests": ["bydigest@sha256:222222222222222222222222222222222222222222222222222222222222"]},
 {"RepoTags": null, "RepoDigests": null},
 {"RepoTags": ["<none>:<none>"], "RepoDigests": ["<none>@<none>"]}]
JSON
bg_start fake_dockerd "$PYTHON" "$top_srcdir/tests/tools/fake_dockerd.py" "$SOCK" \
	"$TEST_TMP/images.json"
wait_until 10 test -S "$SOCK" || fail "the fake docker daemon did not start"
export DOCKER_HOST="unix://$SOCK"

# expect WANT ARGS...: the docker CLI's completion of `docker idppush ARGS...`
# prints exactly WANT (lines), and so does the plugin run the way docker
# runs it
expect() {
	local want=$1
	shift
	assert_exit 0 timeout 30 "$CLI" __complete idppush "$@"
	assert_eq "$want" "$LAST_OUT" "docker __complete idppush $*"
	assert_exit 0 timeout 30 "$PLUGIN" __complete idppush "$@"
	assert_eq "$want" "$LAST_OUT" "docker-idppush __complete idppush $*"
	[ -z "$(sed '/^Completion ended with directive/d' "$TEST_TMP/last.err")" ] ||
		fail "completion printed on stderr: $LAST_ERR"
}
T=$'\t'
expect $'auto\ntty\nplain\njson\n:4' --progress ''
expect $'plain\n:4' --progress pl
expect $'json\n:4' -q --progress=j
expect $'gzip\nzstd\n:4' --compression ''
expect $'docker\noci\n:4' --format ''
expect ":0" --ca-cert ''
expect ":0" -v --digest-file ou
expect ":4" --registry ''
expect "--progress${T}Progress output on stderr"$'\n:4' --prog
want="--compression${T}Compression of uncompressed layers"$'\n'
want+="--compression-level${T}Compression level (gzip 1-9, zstd 1-19)"$'\n:4'
expect "$want" --compr
# given flags are not offered again (--platform may repeat)
expect ":4" --quiet --qu
expect "--platform${T}Platform to push"$'\n:4' \
	--platform linux/amd64 --platf
# IMAGE: the daemon's tagged images, through `docker image ls`
expect $'myapp:dev\nmyapp:1.0\ngitea.cnoe.localtest.me:8443/giteaadmin/web:v2\n:4' ''
expect $'myapp:dev\nmyapp:1.0\n:4' -q --progress plain my
expect $'myapp:dev\nmyapp:1.0\n:4' -- my
grep -q 'GET /v1\.[0-9]*/images/json' "$SOCK.log" || fail "docker image ls did not reach the daemon"
# TARGET and beyond: nothing
expect ":4" myapp:dev ''
expect ":4" myapp:dev reg.example/x:1 ''

# no daemon: no images, still a well-formed answer, quickly
export DOCKER_HOST="unix://$TEST_TMP/none.sock"
start=$SECONDS
expect ":4" ''
[ $((SECONDS - start)) -lt 20 ] || fail "completion without a daemon took $((SECONDS - start)) s"

# ---- Debian 12's docker.io 20.10 bash completion ----
DEB_DOCKER=/usr/bin/docker
DEB_COMPLETION=/usr/share/bash-completion/completions/docker
BASH_COMPLETION=/usr/share/bash-completion/bash_completion
if [ ! -f "$DEB_COMPLETION" ] || [ ! -f "$BASH_COMPLETION" ] || [ ! -x "$DEB_DOCKER" ] ||
	! grep -q __completeNoDesc "$DEB_COMPLETION"; then
	[ "${CI:-}" != true ] || fail "no docker.io bash completion at $DEB_COMPLETION"
	log "PASS (Debian's docker.io completion not installed: not checked)"
	exit 0
fi
export DOCKER_HOST="unix://$SOCK"
rm -f "$TEST_TMP/bin/docker"
ln -s "$DEB_DOCKER" "$TEST_TMP/bin/docker"
mkdir -p "$TEST_TMP/work"
: >"$TEST_TMP/work/ca-file.pem"
# deb_complete WORD...: COMPREPLY, one a line, for `docker idppush WORD...`
# (the last being completed), split as bash splits a command line (at =
# and :), in a bash that sourced bash-completion and Debian's file
deb_complete() {
	(cd "$TEST_TMP/work" && bash --norc --noprofile -c '
		. "$1"
		. "$2"
		. "$3"
		shift 3
		comp_run _docker docker idppush "$@"' bash "$BASH_COMPLETION" "$DEB_COMPLETION" \
		"$TEST_LIB/comp_run.sh" "$@")
}
deb_expect() { # WANT WORD...
	local want=$1
	shift
	assert_eq "$want" "$(deb_complete "$@" | sort)" "Debian's completion of idppush $*"
}
deb_expect "--progress" --prog
deb_expect $'--compression\n--compression-level' --compr
deb_expect $'auto\njson\nplain\ntty' --progress ''
deb_expect "plain" -q --progress pl
deb_expect "plain" --progress = pl
deb_expect $'auto\njson\nplain\ntty' --progress =
deb_expect "json" -v --progress = j
deb_expect $'docker\noci' --format ''
deb_expect $'gitea.cnoe.localtest.me:8443/giteaadmin/web:v2\nmyapp:1.0\nmyapp:dev' ''
deb_expect $'myapp:1.0\nmyapp:dev' --progress plain my
deb_expect "ca-file.pem" --ca-cert ca-f
log "PASS"
