#!/bin/bash
# tests/integration/t_registry_plain.sh: the engine (tests/tools/engine-push)
# against a plain-HTTP docker-registry: push a 3-layer image (one empty
# layer), verify with skopeo, push again (nothing re-uploaded), push an
# OCI-media-type image, and push the same image to a second repository with
# --mount-from (blobs must arrive by cross-repo mount, not by upload), and
# with --jobs 1 check that the largest blob is uploaded first; a loopback
# registry found to speak plain HTTP is used without a warning (-v: a
# note), credentials to a remote one over plain HTTP are warned about.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
need docker-registry skopeo curl
need_engine
CTD_ADAPTER="${CTD_ADAPTER:-$top_builddir/idppush-containerd}"

start_registry plain
L="$TEST_TMP/layout"
DIG=$(make_oci_layout "$L" --docker 0 1048576 3000000)
NBLOBS=4 # config + 3 layers

# 1. first push
T="$REG_HOST/giteaadmin/app:v1"
assert_push_ok "$T" "$DIG" --plain-http "$L" "$T"
verify_pushed "$T" "$L" "${SKOPEO_FLAGS[@]}"
assert_eq "$DIG" "$(reg_tag_digest giteaadmin/app v1)" "tag v1 in registry storage"
uploads1=$(reg_log_requests POST /v2/giteaadmin/app/blobs/uploads/ | wc -l)
[ "$uploads1" -ge 1 ] || fail "no blob upload was started by the first push"

# 2. second push of the same image: must succeed, all blobs already exist
T2="$REG_HOST/giteaadmin/app:v2"
assert_push_ok "$T2" "$DIG" --plain-http "$L" "$T2"
uploads2=$(reg_log_requests POST /v2/giteaadmin/app/blobs/uploads/ | wc -l)
assert_eq "$uploads1" "$uploads2" "blob upload sessions after re-pushing existing blobs"
[ -n "$(reg_log_requests HEAD /v2/giteaadmin/app/blobs/sha256:)" ] ||
	fail "engine did not check blob existence (HEAD)"
verify_pushed "$T2" "$L" "${SKOPEO_FLAGS[@]}"
# and the very same tag again: the tag names this manifest already, so one
# HEAD replaces the PUT
puts() { reg_log_requests PUT "/v2/giteaadmin/app/manifests/$1" | wc -l; }
puts1=$(puts v1)
assert_push_ok "$T" "$DIG" --plain-http "$L" "$T"
verify_pushed "$T" "$L" "${SKOPEO_FLAGS[@]}"
assert_eq "$puts1" "$(puts v1)" "manifest PUTs of v1 after re-pushing it unchanged"
[ -n "$(reg_log_requests HEAD /v2/giteaadmin/app/manifests/v1)" ] ||
	fail "the re-push did not ask whether v1 names the manifest already (HEAD)"
# a tag that names another manifest gets the PUT
LT="$TEST_TMP/layout-other"
DIGT=$(make_oci_layout "$LT" --docker 0 4096)
assert_push_ok "$T" "$DIGT" --plain-http "$LT" "$T"
assert_eq "$DIGT" "$(reg_tag_digest giteaadmin/app v1)" "tag v1 moved to another image"
puts1=$(puts v1)
assert_push_ok "$T" "$DIG" --plain-http "$L" "$T"
assert_eq "$((puts1 + 1))" "$(puts v1)" "manifest PUTs of v1 after moving it back"
assert_eq "$DIG" "$(reg_tag_digest giteaadmin/app v1)" "tag v1 back on the first image"

# 3. OCI media types
LO="$TEST_TMP/layout-oci"
DIGO=$(make_oci_layout "$LO" --oci 0 500000)
TO="$REG_HOST/giteaadmin/app-oci:v1"
assert_push_ok "$TO" "$DIGO" --plain-http "$LO" "$TO"
verify_pushed "$TO" "$LO" "${SKOPEO_FLAGS[@]}"

# 4. cross-repo mount into another repository of the same registry
TM="$REG_HOST/giteaadmin/other:v1"
assert_push_ok "$TM" "$DIG" --plain-http --mount-from giteaadmin/app "$L" "$TM"
verify_pushed "$TM" "$L" "${SKOPEO_FLAGS[@]}"
# shellcheck disable=SC2013 # digests contain no spaces
for d in $(grep -o '"digest":"sha256:[0-9a-f]\{64\}"' "$(layout_blob "$L" "$DIG")" |
	cut -d'"' -f4); do
	reg_blob_linked giteaadmin/other "$d" || fail "blob $d not linked into giteaadmin/other"
done
mounted=$(reg_log_requests POST '/v2/giteaadmin/other/blobs/uploads/\?[^" ]*mount=' |
	grep -c '" 201 ' || true)
assert_eq "$NBLOBS" "$mounted" "blobs mounted (201) into giteaadmin/other from giteaadmin/app"
[ -z "$(reg_log_requests PATCH /v2/giteaadmin/other/)" ] ||
	fail "blob data was PATCHed to giteaadmin/other despite --mount-from"
[ -z "$(reg_log_requests PUT /v2/giteaadmin/other/blobs/)" ] ||
	fail "blob data was PUT to giteaadmin/other despite --mount-from"

# 4b. one job at a time: the largest blob goes first (it bounds the push),
# then the others by size, ties in the manifest's order
TJ="$REG_HOST/giteaadmin/order:v1"
assert_push_ok "$TJ" "$DIG" --plain-http --jobs 1 "$L" "$TJ"
want=$("$PYTHON" -c 'import json, sys
m = json.load(open(sys.argv[1]))
b = [m["config"]] + m["layers"]
for i in sorted(range(len(b)), key=lambda i: (-b[i]["size"], i)):
    print(b[i]["digest"])' "$(layout_blob "$L" "$DIG")")
got=$(reg_log_requests PUT '/v2/giteaadmin/order/blobs/uploads/' |
	grep -o 'digest=sha256[:%3A]*[0-9a-f]\{64\}' | sed 's/^digest=sha256\(%3A\|:\)/sha256:/')
assert_eq "$want" "$got" "blob upload order with --jobs 1 (largest first)"

# 5. without --plain-http: a loopback registry that does not speak TLS is
# used over plain HTTP, as docker does, and as silently (kind's
# localhost:5001 would hear it on every push); -v says it once
T5="$REG_HOST/giteaadmin/app:v5"
assert_push_ok "$T5" "$DIG" "$L" "$T5"
assert_not_contains "$LAST_ERR" "does not speak TLS" "a warning for a plain-HTTP loopback registry"
assert_exit 0 "$CTD_ADAPTER" -q --oci-layout "$L" "$T5"
assert_eq "" "$LAST_ERR" "stderr of -q to a plain-HTTP loopback registry"
assert_exit 0 "$CTD_ADAPTER" -q -v --oci-layout "$L" "$T5"
assert_eq 1 "$(grep -c 'does not speak TLS: using plain HTTP' <<<"$LAST_ERR")" "-v notes"

# 6. credentials over plain HTTP to a registry that is not on this machine
# (--allow-insecure-auth): the one case worth a warning. (A name that
# /etc/hosts maps to 127.0.0.1 is not a loopback address: idppush does not
# resolve names to decide, so it stands for a remote host.)
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	. "$TEST_LIB/gitea.sh"
	start_registry plain-htpasswd
	printf '127.0.0.1 localhost\n127.0.0.1 registry.test\n' >"$TEST_TMP/hosts"
	T6="registry.test:$REG_PORT/giteaadmin/app:v6"
	assert_exit 0 gitea_names "$TEST_TMP/hosts" "$CTD_ADAPTER" -q --plain-http \
		--allow-insecure-auth -u "$REG_USER" --password-stdin --oci-layout "$L" "$T6" \
		<<<"$REG_PASS"
	assert_eq 1 "$(grep -c . <<<"$LAST_ERR")" "lines of stderr"
	assert_contains "$LAST_ERR" "warning: registry.test:$REG_PORT is reached over plain HTTP \
and is not on this machine: the credentials (command line) cross the network in clear text"
elif [ "${CI:-}" = true ]; then
	fail "case 6 needs root and unshare -m (a private /etc/hosts)"
else
	log "SKIP case 6: needs root and unshare -m"
fi

log "PASS"
