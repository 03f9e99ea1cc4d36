#!/bin/bash
# tests/integration/t_user_plugin.sh: what a new user meets with `docker
# idppush`, through the real docker CLIs and a private dockerd
# (Debian's docker.io 20.10), against a plain HTTP registry on loopback:
#  - -v says what was decided (credentials, how the image is read, the
#    chunk size, the docker commands run) in a few lines, no HTTP trace;
#    -vv adds the trace.
#  - --progress json: every line on stderr is a JSON event, also the errors
#    before the push starts (an image that is not there, an empty
#    --password-stdin, usage errors wherever --progress json is on the
#    command line); the last line is the result or the error event with
#    the exit code; with -q errors are plain lines.
#  - a TARGET by digest is refused (exit 1, nothing pushed), as docker
#    refuses "a digest reference", whether the digest is right or wrong.
#  - a TARGET that is only a registry address is refused with the TARGET
#    that was probably meant; a TARGET without a tag takes IMAGE's tag.
#  - an image name that is not there: the message says which name was
#    looked for (NAME:latest for a name without a tag) and the closest
#    local names (docker image ls), through the Engine API and the CLI.
#  - --timeout: no overall limit by default; when one runs out the message
#    says which (--timeout or IDPBUILDER_PUSH_TIMEOUT), its value and how
#    to raise it (exit 6).
#  - small things: --platform's help says what is true for each program;
#    -v names a docker context in one pair of brackets; localhost:PORT and
#    127.0.0.1:PORT are one registry for the push cache.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/containerd.sh"
. "$TEST_LIB/dockerd.sh"
. "$top_srcdir/tests/lib/plugin.sh"
need skopeo docker-registry curl python3 jq
export XDG_CACHE_HOME="$TEST_TMP/cache"
plugin_dockerd
CLIS=(/usr/bin/docker)
[ -x /usr/local/bin/docker ] && CLIS+=(/usr/local/bin/docker)

L1="$TEST_TMP/l1"
make_oci_layout "$L1" --oci 300000 2000 >/dev/null
load_layout "$L1" myapp:dev
start_registry plain
R=$REG_HOST

# dp CLI ARGS...: `docker idppush ARGS...` through CLI and the private daemon
dp() {
	local cli=$1
	shift
	timeout -k 5 300 "$cli" -H "$DH" idppush "$@"
}

# all_json: every line of $LAST_ERR is a JSON object with an "event"
all_json() {
	printf '%s\n' "$LAST_ERR" | "$PYTHON" -c '
import json, sys
for line in sys.stdin:
    assert "event" in json.loads(line), line
' || fail "not all JSON events: $LAST_ERR"
}
# last_event KEY: member KEY of the last line of $LAST_ERR
last_event() {
	printf '%s\n' "$LAST_ERR" | tail -n 1 | "$PYTHON" -c '
import json, sys
print(json.loads(sys.stdin.read()).get(sys.argv[1], ""))' "$1"
}
# tags REPO: the tags the registry holds for REPO, sorted, or "none"
tags() {
	curl -s "http://$R/v2/$1/tags/list" | "$PYTHON" -c '
import json, sys
print(" ".join(sorted(json.load(sys.stdin).get("tags") or [])) or "none")'
}

# ---- -v: decisions, one line each, no trace; -vv: the trace too ----
for cli in "${CLIS[@]}"; do
	rm -rf "$XDG_CACHE_HOME"
	assert_exit 0 dp "$cli" -v --progress plain --registry "$R" myapp:dev "$R/v/myapp:dev"
	assert_not_contains "$LAST_ERR" "debug:" "$cli: -v shows the HTTP trace"
	assert_contains "$LAST_ERR" "docker-idppush: credentials for $R: no credentials"
	assert_contains "$LAST_ERR" \
		"docker-idppush: uploads start with 64 MiB requests (the default)"
	assert_contains "$LAST_ERR" "docker-idppush: docker daemon: Engine API at unix://"
	n=$(printf '%s\n' "$LAST_ERR" | wc -l)
	[ "$n" -le 16 ] || fail "$cli: -v printed $n lines: $LAST_ERR"
	assert_exit 0 dp "$cli" -vv --progress plain --registry "$R" myapp:dev "$R/v/myapp:dev2"
	assert_contains "$LAST_ERR" "docker-idppush: debug: > HEAD" "$cli: -vv shows the trace"
	assert_contains "$LAST_ERR" "docker-idppush: credentials for $R: no credentials" "-vv"
	assert_exit 0 dp "$cli" -v -v --progress json --registry "$R" myapp:dev "$R/v/myapp:dev3"
	assert_contains "$LAST_ERR" '{"event":"debug","message":"> HEAD' "$cli: -v -v, JSON"
done
# through the docker CLI (IDPPUSH_NO_API): each docker command and how it ended
assert_exit 0 env IDPPUSH_NO_API=1 timeout -k 5 300 /usr/bin/docker -H "$DH" idppush -v \
	--progress plain --registry "$R" myapp:dev "$R/v/myapp:cli"
assert_contains "$LAST_ERR" "docker-idppush: ran docker image inspect: exit 0"
assert_not_contains "$LAST_ERR" "debug:" "-v through the docker CLI"

# ---- --progress json: every line is an event ----
for cli in "${CLIS[@]}"; do
	assert_exit 4 dp "$cli" --progress json --registry "$R" myap:dev
	all_json
	assert_eq error "$(last_event event)" "$cli: missing image, JSON"
	assert_eq 4 "$(last_event exitCode)" "$cli: missing image, exit code in JSON"
	assert_contains "$(last_event error)" "image 'myap:dev' not found locally"
	assert_exit 1 dp "$cli" --registry "$R" -u bob --password-stdin --progress=json \
		myapp:dev </dev/null
	all_json
	assert_contains "$(last_event error)" "--password-stdin: stdin gave an empty password"
	assert_eq 1 "$(last_event exitCode)" "$cli: empty --password-stdin, exit code in JSON"
	# a usage error before --progress json on the command line is JSON too
	assert_exit 1 dp "$cli" --jobs 0 --progress json myapp:dev
	all_json
	assert_eq 1 "$(last_event exitCode)"
	assert_contains "$(last_event error)" "invalid value '0' for --jobs"
	assert_exit 1 dp "$cli" --bogus -v --progress json myapp:dev
	all_json
	# warnings and notes before the push starts are events
	assert_exit 0 dp "$cli" -v --progress json -u u -p secret --registry "$R" myapp:dev \
		"$R/j/myapp:dev"
	all_json
	assert_contains "$LAST_ERR" '{"event":"warning","message":"--password is visible'
	assert_contains "$LAST_ERR" '{"event":"info","message":"docker daemon: Engine API'
	assert_eq result "$(last_event event)"
	# -q turns JSON off: the error is the usual line
	assert_exit 4 dp "$cli" -q --progress json --registry "$R" myap:dev
	assert_eq "docker-idppush: error: image 'myap:dev' not found locally" \
		"${LAST_ERR%%;*}" "$cli: -q --progress json"
done
# the scripting example of docs/progress-json.md, on a failure
dp /usr/bin/docker --progress json --registry "$R" myap:dev 2>"$TEST_TMP/p.jsonl" \
	>/dev/null && fail "a missing image pushed"
msg=$(tail -n 1 "$TEST_TMP/p.jsonl" | jq -r '.reference // .error') ||
	fail "jq cannot read the last line: $(cat "$TEST_TMP/p.jsonl")"
assert_contains "$msg" "image 'myap:dev' not found locally" "tail -n 1 | jq"

# ---- TARGET: by digest, a registry alone, without a tag ----
assert_exit 0 dp /usr/bin/docker -q --registry "$R" myapp:dev "$R/d/m1:dev"
DIG=${LAST_OUT#*@}
for cli in "${CLIS[@]}"; do
	for d in "$DIG" "sha256:$(printf '0%.0s' $(seq 64))"; do
		assert_exit 1 dp "$cli" --registry "$R" myapp:dev "$R/d/m3@$d"
		want="docker-idppush: error: cannot push to a digest reference"
		assert_contains "$LAST_ERR" "$want: TARGET '$R/d/m3@$d'"
		assert_exit 1 dp "$cli" --registry "$R" myapp:dev "$R/d/m3:v1@$d"
		assert_contains "$LAST_ERR" "cannot push to a digest reference"
	done
	assert_eq none "$(tags d/m3)" "$cli: a digest TARGET pushed something"
	assert_exit 1 dp "$cli" --progress json --registry "$R" myapp:dev "$R/d/m3@$DIG"
	assert_contains "$(last_event error)" "cannot push to a digest reference"
	# a registry address alone: what was meant
	for t in "$R" "localhost:${R#*:}"; do
		assert_exit 1 dp "$cli" --registry "$R" myapp:dev "$t"
		want="TARGET '$t' is a registry, not a repository"
		assert_contains "$LAST_ERR" \
			"docker-idppush: error: $want: did you mean $t/giteaadmin/myapp:dev?"
	done
	assert_eq none "$(tags giteaadmin/127.0.0.1)" "$cli: pushed to giteaadmin/127.0.0.1"
	# no tag in TARGET: IMAGE's
	assert_exit 0 dp "$cli" -q --registry "$R" myapp:dev "$R/t/app"
	assert_eq "$R/t/app:dev@$DIG" "$LAST_OUT" "$cli: TARGET without a tag"
	assert_eq dev "$(tags t/app)" "$cli: tags of a TARGET without a tag"
done

# ---- an image that is not there: what was looked for, the closest names ----
dk tag myapp:dev myapp:1.0
dk tag myapp:dev zzz:9
for api in 0 1; do
	for cli in "${CLIS[@]}"; do
		assert_exit 4 env IDPPUSH_NO_API=$api timeout -k 5 300 "$cli" -H "$DH" idppush \
			--registry "$R" myapp
		want="docker-idppush: error: image 'myapp' not found locally"
		assert_contains "$LAST_ERR" "$want (looked for myapp:latest); closest: myapp:"
		assert_contains "$LAST_ERR" "myapp:dev" "$cli (no API $api): closest"
		assert_contains "$LAST_ERR" "myapp:1.0" "$cli (no API $api): closest"
		assert_exit 4 env IDPPUSH_NO_API=$api timeout -k 5 300 "$cli" -H "$DH" idppush \
			--registry "$R" myap:dev
		assert_contains "$LAST_ERR" \
			"error: image 'myap:dev' not found locally; closest: myapp:dev, "
		assert_not_contains "$LAST_ERR" "looked for"
	done
done
dk rmi myapp:1.0 zzz:9 >/dev/null

# ---- --timeout: which limit ran out, how to raise it ----
L2="$TEST_TMP/l2"
make_oci_layout "$L2" --oci 1500000 >/dev/null
load_layout "$L2" big:v1
for cli in "${CLIS[@]}"; do
	assert_exit 6 dp "$cli" --limit-rate 100k --timeout 3s --registry "$R" big:v1 \
		"$R/slow/big:1"
	assert_contains "$LAST_ERR" "the overall time limit ran out"
	assert_contains "$LAST_ERR" \
		"; that is --timeout 3s: raise it (e.g. --timeout 30m), or --timeout 0 for none"
	assert_exit 6 env IDPBUILDER_PUSH_TIMEOUT=3 timeout -k 5 300 "$cli" -H "$DH" idppush \
		--limit-rate 100k --registry "$R" big:v1 "$R/slow/big:1"
	assert_contains "$LAST_ERR" "; that is IDPBUILDER_PUSH_TIMEOUT=3s: raise it"
	assert_exit 6 dp "$cli" --progress json --limit-rate 100k --timeout 3s --registry "$R" \
		big:v1 "$R/slow/big:1"
	assert_contains "$(last_event error)" "; that is --timeout 3s: raise it"
done
assert_eq none "$(tags slow/big)" "a push that ran out of time tagged something"

# ---- small things ----
assert_exit 0 /usr/bin/docker idppush --help
assert_contains "$LAST_OUT" "Platform to push (default the host's)"
assert_not_contains "$LAST_OUT" "repeatable" "docker idppush --help"
assert_exit 0 "$top_builddir/idppush-containerd" --help
assert_contains "$(tr -s ' \n' ' ' <<<"$LAST_OUT")" "Platform to push; repeatable"
assert_exit 1 dp /usr/bin/docker --platform linux/amd64 --platform linux/arm64 myapp:dev
assert_contains "$LAST_ERR" "--platform given more than once: docker idppush takes one"
# a docker context: named once, in one pair of brackets
/usr/bin/docker context create ctx --docker "host=$DH" >/dev/null 2>&1 ||
	fail "docker context create"
assert_exit 0 timeout -k 5 300 /usr/bin/docker --context ctx idppush -v --registry "$R" \
	myapp:dev "$R/ctx/myapp:dev"
assert_contains "$LAST_ERR" "docker daemon: through the docker CLI: context 'ctx' (--context)"
assert_not_contains "$LAST_ERR" "))" "-v with a context"
# the push cache: localhost:PORT is 127.0.0.1:PORT
rm -rf "$XDG_CACHE_HOME"
assert_exit 0 dp /usr/bin/docker -q --registry "$R" myapp:dev "127.0.0.1:${R#*:}/c/app:dev"
assert_exit 0 dp /usr/bin/docker -v --registry "$R" myapp:dev "localhost:${R#*:}/c/app:dev"
assert_contains "$LAST_ERR" "nothing changed: the registry has manifest" \
	"the push cache for localhost after 127.0.0.1"
log "PASS"
