#!/bin/bash
# tests/integration/t_progress_store.sh: a push read from docker's layer
# store, on a real terminal, as docker push shows it. A private dockerd
# (overlay2) holds an image of three 4 MB layers; docker-idppush pushes it
# with --jobs 2 in a tmux pane (tests/lib/tty.sh) to a real docker-registry
# behind tests/lib/faultproxy.py forwarding upload bodies at 2 MB/s. The
# pane is captured again and again while the push runs:
#  - every layer is on screen from the first capture that shows one
#    (Preparing), the third Waiting while the first two go: how many
#    remain is always in view;
#  - two layers are Pushing at once, each bar partly filled (the store's
#    layers are read in any order: two at a time, as --jobs 2 says);
#  - the push ends with every layer Pushed, the digest line, the summary
#    and REF@DIGEST, and the image is what dockerd holds (skopeo).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/containerd.sh"
. "$TEST_LIB/dockerd.sh"
. "$top_srcdir/tests/lib/plugin.sh"
. "$TEST_LIB/tty.sh"
need skopeo docker-registry curl python3 tmux
plugin_dockerd

L="$TEST_TMP/layout"
make_oci_layout "$L" --oci 4000000 4000000 4000000 >/dev/null
load_layout "$L" three:v1
mapfile -t IDS < <(dk image inspect -f '{{range .RootFS.Layers}}{{.}}{{"\n"}}{{end}}' three:v1 |
	grep . | cut -c8-19)
[ "${#IDS[@]}" = 3 ] || fail "three:v1 has ${#IDS[@]} layers, not 3"

start_registry plain
start_fault_proxy "$REG_HOST" --match '^PATCH ' --times 0 --rate 2000000
T="$FAULT_HOST/giteaadmin/three:v1"
export XDG_CACHE_HOME="$TEST_TMP/cache"
tty_run store "$PLUGIN" -H "$DH" idppush -v --plain-http --jobs 2 three:v1 "$T"
watch store
assert_eq 0 "$(cat "$TEST_TMP/store.rc")" "exit code: $(cat "$TEST_TMP/store.final")"
assert_contains "$(cat "$TEST_TMP/store.final")" "path: docker's layer store" \
	"the layer store was read (not docker save)"

# every layer up front; the third waits while two go
first=
for f in $(ls "$TEST_TMP/store.snaps" | sort -n); do
	if grep -Eq "^(${IDS[0]}|${IDS[1]}|${IDS[2]}):" "$TEST_TMP/store.snaps/$f"; then
		first=$TEST_TMP/store.snaps/$f
		break
	fi
done
[ -n "$first" ] || fail "no layer line was ever on screen"
for id in "${IDS[@]}"; do
	grep -Eq "^$id: (Preparing|Waiting|Pushing)" "$first" ||
		fail "layer $id is not on screen with the first layer line: $(cat "$first")"
done
grep -lq "^${IDS[2]}: Waiting$" "$TEST_TMP/store.snaps"/* ||
	fail "the third layer was never shown Waiting"

# two bars moving at once
both=0
for f in "$TEST_TMP/store.snaps"/*; do
	n=$(grep -cE '^[0-9a-f]{12}: Pushing +\[=*>' "$f" || true)
	[ "$n" -lt 2 ] || both=$((both + 1))
done
[ "$both" -ge 1 ] || fail "never two layers pushing at once"

fin=$(grep . "$TEST_TMP/store.final")
for id in "${IDS[@]}"; do
	assert_contains "$fin" "$id: Pushed" "the final state of $id"
done
tail -n 1 <<<"$fin" | grep -q "^$T@sha256:" || fail "the pane does not end with $T@DIGEST"
dig=$(tail -n 1 <<<"$fin")
dig=${dig#*@}
verify_image "$REG_HOST/giteaadmin/three:v1" "$dig" "$L" "${SKOPEO_FLAGS[@]}"
stop_tmux
log "the layer store's push shown as docker push shows it, two layers at once"
