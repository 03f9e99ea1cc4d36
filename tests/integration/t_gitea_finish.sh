#!/bin/bash
# tests/integration/t_gitea_finish.sh: the finishing PUT of a big blob on
# Gitea (tests/lib/gitea.sh). Gitea copies the whole blob into its store
# before it answers that PUT (--put-delay-per-mib models the copy's time):
#   1. slower than the ingress's proxy_read_timeout (2 s here, 60 s in
#      idpbuilder): nginx answers 504 while Gitea goes on and stores the
#      blob. The push must HEAD the blob before sending the PUT again or
#      giving up, and end well;
#   2. slower than the client's stall timeout (2 s, engine-push
#      --stall-timeout) but under the ingress's: the finishing PUT has a
#      longer allowance, so it is sent once and answered.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/gitea.sh"
gitea_need_adapter
need_engine

L=$TEST_TMP/layout
make_oci_layout "$L" --oci 3000000 >/dev/null
big=$("$PYTHON" -c 'import json, sys
m = json.load(open(sys.argv[1]))
print(max(m["layers"], key=lambda d: d["size"])["digest"])' \
	"$(layout_blob "$L" "$(layout_manifest_digest "$L")")")

# 1. the copy takes about 6 s, the ingress waits 2
start_gitea_stack --read-timeout 2 --put-delay-per-mib 2
assert_exit 0 "${GITEA_ADAPTER[@]}" --oci-layout "$L" --ca-cert "$GITEA_CA" \
	-u "$GITEA_USER" --password-stdin -q "$GITEA_HOST/$GITEA_OWNER/big:v1" <<<"$GITEA_PASS"
n=$(gitea_nginx_count PUT '.*/blobs/uploads/.+' 504)
[ "$n" -ge 1 ] || fail "no PUT outlived the ingress's read timeout"
assert_eq 1 "$(gitea_select "r['method'] == 'PUT' and r['status'] == 201
and r.get('digest') == '$big'")" "Gitea stored the blob once"
# a HEAD of the blob after the first PUT, before the push went on
_gitea_py "$GITEA_LOG" 'import sys
big = sys.argv[2]
put = min(r["t"] for r in R if r["method"] == "PUT" and r.get("digest") == big)
heads = [r for r in R if r["method"] == "HEAD" and r["path"].endswith(big) and r["t"] > put]
assert heads, "no HEAD of the blob after its PUT"' "$big" || fail "the blob was not HEADed"
verify_pushed "$GITEA_HOST/$GITEA_OWNER/big:v1" "$L" "${GITEA_SKOPEO_FLAGS[@]}"
log "a PUT answered 504 by the ingress: the blob found by HEAD ($n 504s)"

# 2. the copy takes about 3 s; the client's stall timeout is 2 s
start_gitea_stack --put-delay-per-mib 1
assert_exit 0 run_engine --ca-cert "$GITEA_CA" --stall-timeout 2s -u "$GITEA_USER" \
	-p "$GITEA_PASS" "$L" "$GITEA_HOST/$GITEA_OWNER/stall:v1"
assert_eq 1 "$(gitea_select "r['method'] == 'PUT' and '/blobs/uploads/' in r['path']
and r['body'] == 0 and r['content_length'] in (None, '0') and r['status'] == 201
and r.get('digest') == '$big'")" "the layer's finishing PUT, answered"
assert_eq 0 "$(gitea_select "r['method'] == 'PUT' and '/blobs/uploads/' in r['path']
and r['status'] != 201")" "finishing PUTs not answered 201"
assert_not_contains "$LAST_ERR" "warning" "engine-push's warnings"
verify_pushed "$GITEA_HOST/$GITEA_OWNER/stall:v1" "$L" "${GITEA_SKOPEO_FLAGS[@]}"
log "PASS"
