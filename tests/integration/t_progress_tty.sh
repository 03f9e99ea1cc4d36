#!/bin/bash
# tests/integration/t_progress_tty.sh: live progress on a real terminal.
# A push runs in a tmux pane (a real TTY, 100x30) against a real
# docker-registry behind tests/lib/faultproxy.py forwarding upload bodies
# at 3 MB/s, so the bars are on screen while the bytes go. The pane is
# captured again and again (polled, with a deadline) while it runs:
#  - docker-idppush from a docker save stream (the fake docker), one 12 MB
#    layer compressed as it streams: its bar shows part of the layer at
#    several different points, never full while "Pushing", under the id
#    docker push shows (12 hex of the diffID);
#  - idppush-containerd from an OCI layout, two 6 MB layers at once: both
#    bars partly filled in one capture;
#  - the display redraws in place: the pane never holds more lines than
#    the blobs plus the header, digest, summary and result lines, and
#    nothing scrolls into its history; it ends with the digest line, the
#    summary line and REF@DIGEST (the digest the registry serves).
# Then --progress plain (no escapes, each state once) and --progress json
# (every line an object with "event", no line twice, the result event last
# with the summary) of the same kind of push.
# Last, -u without a password, to a registry with htpasswd: on the
# terminal the password is asked for, not echoed, and the push goes
# through; Ctrl-C at the prompt ends the program (130) with the terminal's
# echo back on; with stdin not a terminal it is a usage error (exit 1)
# naming --password-stdin.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$top_srcdir/tests/lib/plugin.sh"
need docker-registry skopeo curl python3 tmux
need_plugin
CTD_ADAPTER="${CTD_ADAPTER:-$top_builddir/idppush-containerd}"
[ -x "$CTD_ADAPTER" ] || fail "idppush-containerd not built: $CTD_ADAPTER"
fake_docker_setup
export XDG_CACHE_HOME="$TEST_TMP/cache"

L="$TEST_TMP/layout"
make_oci_layout "$L" --oci 12000000 300000 2000 >/dev/null
fixture oci-inside "$L" app:big
L2="$TEST_TMP/layout2"
make_oci_layout "$L2" --oci 6000000 6000000 >/dev/null

start_registry plain
start_fault_proxy "$REG_HOST" --match '^PATCH ' --times 0 --rate 3000000
T="$FAULT_HOST/giteaadmin"

. "$TEST_LIB/tty.sh"

# partial_bars NAME ID: the distinct "Pushing" states of ID's line whose
# bar is partly filled, one per line ("filled/width current/total").
partial_bars() {
	ls "$TEST_TMP/$1.snaps" | sort -n | sed "s|^|$TEST_TMP/$1.snaps/|" | xargs cat |
		"$PYTHON" -c '
import re, sys
seen = []
for line in sys.stdin:
    m = re.match(r"^%s: Pushing +\[(=*)>( *)\] +(\S+/\S+)$" % sys.argv[1], line.rstrip("\n"))
    if m:
        k = "%d/%d %s" % (len(m.group(1)), len(m.group(1)) + 1 + len(m.group(2)), m.group(3))
        if k not in seen:
            seen.append(k)
print("\n".join(seen))' "$2"
}

# no_full_bar NAME: no line says "Pushing" with a full bar.
no_full_bar() {
	if grep -hE 'Pushing +\[=+\]' "$TEST_TMP/$1.snaps"/* "$TEST_TMP/$1.final"; then
		fail "$1: a full bar while still pushing"
	fi
}

# ends_well NAME REF LAYERS: exit 0; the pane ends with the digest line,
# the summary and REF@DIGEST; the registry serves that digest.
ends_well() {
	local name=$1 ref=$2 layers=$3 fin dig
	assert_eq 0 "$(cat "$TEST_TMP/$name.rc")" "$name: exit code"
	fin=$(grep . "$TEST_TMP/$name.final")
	dig=$(tail -n 1 <<<"$fin")
	case "$dig" in
	"$ref@sha256:"*) dig=${dig#"$ref@"} ;;
	*) fail "$name: the pane does not end with $ref@DIGEST: $fin" ;;
	esac
	assert_eq "${ref##*:}: digest: $dig size:" "$(tail -n 3 <<<"$fin" | head -n 1 |
		cut -d' ' -f1-4)" "$name: the digest line"
	local size='[0-9.]+[kMG]?B'
	tail -n 2 <<<"$fin" | head -n 1 |
		grep -Eq "^pushed $layers layers \($size\) in [0-9.]+s \($size/s\)$" ||
		fail "$name: no summary line: $fin"
	assert_eq "$dig" "sha256:$(skopeo_run inspect --raw "${SKOPEO_FLAGS[@]}" \
		"docker://$REG_HOST/${ref#*/}" | sha256sum | cut -d' ' -f1)" \
		"$name: the digest the registry serves"
	verify_image "$REG_HOST/${ref#*/}" "$dig" "$4" "${SKOPEO_FLAGS[@]}"
}

diffid_id() { # LAYOUT N: 12 hex of layer N's diffID (1-based)
	"$PYTHON" - "$(_layout_config "$1")" "$2" <<'PY'
import json, sys
print(json.load(open(sys.argv[1]))["rootfs"]["diff_ids"][int(sys.argv[2]) - 1][7:19])
PY
}

# 1. docker-idppush: the docker save stream, compressed as it streams
ID1=$(diffid_id "$L" 1)
tty_run plug "$PLUGIN" --registry "$FAULT_HOST" --plain-http app:big "$T/app:big"
watch plug
bars=$(partial_bars plug "$ID1")
log "plug: bar states of $ID1: $(tr '\n' ' ' <<<"$bars")"
[ "$(grep -c . <<<"$bars")" -ge 3 ] ||
	fail "plug: the bar of $ID1 was seen partly filled in fewer than 3 states: $bars"
no_full_bar plug
lines_bounded plug $((1 + 3 + 3))
assert_contains "$(cat "$TEST_TMP/plug.final")" "$ID1: Pushed" "plug: the layer line by diffID"
ends_well plug "$T/app:big" 3 "$L"

# 2. idppush-containerd: two layers from an OCI layout at once
tty_run ctd "$CTD_ADAPTER" --plain-http --jobs 2 --oci-layout "$L2:latest" "$T/two:v1"
watch ctd
both=0
A=$(grep -o '"digest":"sha256:[0-9a-f]*' "$(layout_blob "$L2" "$(layout_manifest_digest "$L2")")" |
	sed -n '2,3s/.*sha256:\(.\{12\}\).*/\1/p')
for f in "$TEST_TMP/ctd.snaps"/*; do
	n=0
	for id in $A; do
		grep -Eq "^$id: Pushing +\[=+>" "$f" && n=$((n + 1))
	done
	[ "$n" -lt 2 ] || both=$((both + 1))
done
[ "$both" -ge 1 ] || fail "ctd: never two bars moving at once ($A)"
no_full_bar ctd
lines_bounded ctd $((1 + 2 + 3))
ends_well ctd "$T/two:v1" 2 "$L2"

# 3. --progress plain: sparse, no escapes; each state of a layer once
export XDG_CACHE_HOME="$TEST_TMP/cache-plain"
assert_exit 0 run_plugin --registry "$FAULT_HOST" --plain-http --progress plain app:big \
	"$T/plain:v1"
assert_not_contains "$LAST_ERR" $'\033' "escape codes in plain progress"
assert_eq 1 "$(grep -c "^$ID1: Pushing$" <<<"$LAST_ERR")" "plain: one Pushing line"
assert_eq 1 "$(grep -c "^$ID1: Pushed$" <<<"$LAST_ERR")" "plain: one Pushed line"
[ "$(grep -c . <<<"$LAST_ERR")" -le 12 ] || fail "plain: not sparse: $LAST_ERR"
grep -Eq '^pushed 3 layers \(' <<<"$LAST_ERR" || fail "plain: no summary: $LAST_ERR"

# 4. --progress json: the documented schema (docs/progress-json.md)
export XDG_CACHE_HOME="$TEST_TMP/cache-json"
assert_exit 0 run_plugin --registry "$FAULT_HOST" --plain-http --progress json app:big \
	"$T/json:v1"
"$PYTHON" - "$TEST_TMP/last.err" "$ID1" "$T/json:v1@${LAST_OUT#*@}" <<'PY' ||
import json, sys
lines = [l for l in open(sys.argv.pop(1)).read().split("\n") if l]
ev = [json.loads(l) for l in lines]
assert all(a != b for a, b in zip(lines, lines[1:])), "a line twice in a row"
assert ev[0]["event"] == "start", ev[0]
assert ev[-1]["event"] == "result" and ev[-2]["event"] == "digest", ev[-2:]
kinds = {e["event"] for e in ev}
assert kinds <= {"start", "blob", "progress", "digest", "result"}, kinds
mine = [e for e in ev if e.get("id") == sys.argv[1]]
states = [e["state"] for e in mine if e["event"] == "blob"]
assert states == ["pushing", "pushed"], states
cur = [e["progressDetail"]["current"] for e in mine if e["event"] == "progress"]
assert cur == sorted(set(cur)), cur
assert all(c < e["progressDetail"]["total"] for e, c in
           zip([e for e in mine if e["event"] == "progress"], cur))
assert len(cur) >= 2, "progress events for a 4 s upload: %r" % cur
r = ev[-1]
assert r["reference"] == sys.argv[2], r
assert r["aux"]["Tag"] == "v1" and r["aux"]["Digest"] == sys.argv[2].split("@")[1], r
s = r["summary"]
assert s["layersPushed"] == 3 and s["layersExisted"] == 0 and s["layersMounted"] == 0, s
assert s["bytesUploaded"] > 12000000 and s["elapsedMs"] > 0 and s["bytesPerSecond"] > 0, s
PY
	fail "--progress json does not follow docs/progress-json.md: $LAST_ERR"

# 5. -u without a password: asked for on the terminal, echo off
L3="$TEST_TMP/layout3"
make_oci_layout "$L3" --oci 3000 >/dev/null
fixture oci-inside "$L3" app:small
start_registry tls-htpasswd
prompted() { pane | grep -q "^Password for $REG_USER:"; }
ASK=("$PLUGIN" --registry "$REG_HOST" --ca-cert "$REG_CA" --progress plain -u "$REG_USER"
	app:small)
tty_run --ask ask "${ASK[@]}" "$REG_HOST/giteaadmin/asked:v1"
wait_until 30 prompted || fail "no password prompt: $(pane)"
tm send-keys -t t "$REG_PASS" Enter
wait_until 60 test -s "$TEST_TMP/ask.rc" || fail "the push did not end: $(pane)"
assert_eq 0 "$(cat "$TEST_TMP/ask.rc")" "push after the password prompt: $(pane)"
assert_not_contains "$(pane)" "$REG_PASS" "the password was echoed"
assert_contains "$(pane)" "$REG_HOST/giteaadmin/asked:v1@sha256:"
grep -Eq '(^| )echo( |$)' "$TEST_TMP/ask.stty" || fail "echo is off after the push"
# Ctrl-C at the prompt: the program ends, the terminal echoes again
tty_run --ask intr "${ASK[@]}" "$REG_HOST/giteaadmin/asked:v2"
wait_until 30 prompted || fail "no password prompt: $(pane)"
tm send-keys -t t 'typed-but-' C-c
wait_until 30 test -s "$TEST_TMP/intr.rc" || fail "Ctrl-C at the prompt: no end: $(pane)"
assert_eq 130 "$(cat "$TEST_TMP/intr.rc")" "exit code after Ctrl-C at the password prompt"
grep -Eq '(^| )echo( |$)' "$TEST_TMP/intr.stty" ||
	fail "echo is off after Ctrl-C at the prompt: $(cat "$TEST_TMP/intr.stty")"
grep -Eq '(^| )icanon( |$)' "$TEST_TMP/intr.stty" || fail "icanon is off after Ctrl-C"
assert_not_contains "$(pane)" "typed-but-" "the password was echoed before Ctrl-C"
stop_tmux
# not a terminal: a usage error naming --password-stdin
assert_exit 1 run_plugin "${ASK[@]}" "$REG_HOST/giteaadmin/asked:v3" </dev/null
assert_contains "$LAST_ERR" "docker-idppush: error: -u $REG_USER needs a password: \
give it on stdin with --password-stdin"
log "live progress on a terminal, plain and JSON checked; the password asked for"
