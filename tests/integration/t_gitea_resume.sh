#!/bin/bash
# tests/integration/t_gitea_resume.sh: resuming a chunked upload on every
# Gitea release idpbuilder ships (tests/lib/gitea.sh). The client talks
# plain HTTP to the ingress through faultproxy, which cuts a PATCH on its
# way: nginx buffers request bodies, so the cut chunk never reaches Gitea
# and the upload keeps its old size. Up to 1.24.0 the status GET then
# answers "Range: 0-<n>", one past the end; since 1.24.1 "0-<n-1>", and no
# Range at all while the upload is empty. Each release must resume where
# Gitea stands: no 416, no second upload session, no DELETE, the image
# whole (skopeo). Then, on 1.22, a PATCH that Gitea stored but whose answer
# was lost (faultproxy --drop-response): its status is one past all that
# was sent, which is where the upload goes on (not a new session). And a
# layer compressed as it is sent (the plugin): its streamed first PATCH
# cut, the upload goes on with Content-Range PATCHes.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/gitea.sh"
. "$TEST_LIB/plugin.sh"
gitea_need_adapter
need_plugin
fake_docker_setup

start_gitea_stack --version 1.22
# push_through_fault NAME FAULTPROXY-ARGS...: a fresh image (one 1.5 MB
# layer, 512 KiB chunks) to $GITEA_OWNER/NAME:v1 through a new faultproxy
push_through_fault() {
	local name=$1
	shift
	L=$TEST_TMP/$name
	make_oci_layout "$L" --oci 1500000 >/dev/null
	start_fault_proxy "$GITEA_PLAIN_HOST" "$@"
	: >"$GITEA_LOG"
	assert_exit 0 "${GITEA_ADAPTER[@]}" --oci-layout "$L" --plain-http \
		--allow-insecure-auth --chunk-size 512k -u "$GITEA_USER" --password-stdin -q \
		"$FAULT_HOST/$GITEA_OWNER/$name:v1" <<<"$GITEA_PASS"
	verify_pushed "$GITEA_HOST/$GITEA_OWNER/$name:v1" "$L" "${GITEA_SKOPEO_FLAGS[@]}"
}
# resumed_once V: one status GET, no 416, no DELETE, one session per blob
resumed_once() {
	local v=$1 loc
	assert_eq 0 "$(gitea_select 'r["status"] == 416')" "$v: PATCHes refused with 416"
	assert_eq 0 "$(gitea_count DELETE '.*')" "$v: upload sessions cancelled"
	assert_eq 1 "$(gitea_count GET '.*/blobs/uploads/.+' 204)" "$v: status GETs"
	assert_eq 1 "$(_gitea_py "$GITEA_LOG" 'print(len({r["upload"] for r in R
if r["method"] == "PATCH" and r["body"] > 65536}))')" "$v: sessions the layer's PATCHes went to"
	loc=$(gitea_field path GET '.*/blobs/uploads/.+')
	assert_eq "$EXPECT_RANGE" "$(gitea_field range GET "$loc")" "$v: the status's Range"
}

for v in 1.22 1.24.0 1.25; do
	[ "$v" = 1.22 ] || gitea_switch_version "$v"
	# the second PATCH is cut after 100000 of its 524288 bytes; on 1.25 the
	# first one is (the status of an empty upload: no Range)
	skip=1 EXPECT_RANGE=0-524288
	[ "$v" != 1.25 ] || { skip=0 EXPECT_RANGE=; }
	push_through_fault "cut${v//./}" --match '^PATCH ' --skip "$skip" --cut-after 100000
	assert_file_contains "$FAULT_LOG" "CUT PATCH .* after 100000 body bytes" "$v: the cut"
	resumed_once "$v"
	log "Gitea $v: resumed after a cut"
done

# A layer compressed as it is sent (the plugin, docker save's
# uncompressed layer): the session's first PATCH is streamed (no
# Content-Range, as docker sends one), which Gitea takes only as a first
# write. Cut on its way, it never reaches Gitea; the upload resumes in
# the same session with Content-Range PATCHes (a second stream PATCH
# would get 400 "Stream uploads after first write are not allowed").
# Gitea 1.25 still, the last of the loop.
L=$TEST_TMP/streamed
make_oci_layout "$L" --oci 1500000 >/dev/null
fixture oci-inside "$L" streamed:v1
start_fault_proxy "$GITEA_PLAIN_HOST" --match '^PATCH ' --cut-after 100000
: >"$GITEA_LOG"
assert_exit 0 run_plugin --plain-http --allow-insecure-auth --chunk-size 512k \
	-u "$GITEA_USER" --password-stdin -q streamed:v1 \
	"$FAULT_HOST/$GITEA_OWNER/streamed:v1" <<<"$GITEA_PASS"
verify_image "$GITEA_HOST/$GITEA_OWNER/streamed:v1" "${LAST_OUT#*@}" "$L" \
	"${GITEA_SKOPEO_FLAGS[@]}"
assert_file_contains "$FAULT_LOG" "CUT PATCH .* after 100000 body bytes" "the streamed PATCH cut"
assert_file_contains "$FAULT_LOG" "PATCH .*content-length 0, chunked. -> will CUT" \
	"the layer's first PATCH streamed"
assert_eq 0 "$(gitea_select 'r["status"] == 400')" "PATCHes refused (a second stream PATCH)"
[ "$(gitea_select 'r["method"] == "PATCH" and r["status"] == 202 and r["content_range"]
and r["body"] > 65536')" -ge 2 ] || fail "the layer did not go on in Content-Range PATCHes"
resumed_once "1.25 (a streamed PATCH)"
log "Gitea 1.25: a streamed PATCH cut, resumed with Content-Range"

# Gitea 1.22: the second PATCH stored, its answer lost: the status says
# 0-1048576 (one past the 1048576 bytes sent); the upload goes on from there
gitea_switch_version 1.22
EXPECT_RANGE=0-1048576
push_through_fault lost --match '^PATCH ' --skip 1 --cut-after 100000 --drop-response
assert_file_contains "$FAULT_LOG" "DROPPED the answer to PATCH .* 202" "the lost answer"
resumed_once "1.22 (a lost answer)"
assert_eq 3 "$(gitea_select 'r["method"] == "PATCH" and r["status"] == 202
and r["body"] > 65536')" "the layer's PATCHes (three chunks, one answer lost)"
log "PASS"
