#!/bin/bash
# tests/integration/t_gitea_stack.sh: self-test of the Gitea-like registry
# stack (tests/lib/gitea.sh: ingress nginx -> gitea_registry.py ->
# distribution) with curl and skopeo only, no idppush. For each release
# (1.22, 1.24.0, 1.25) it checks what the other tests rely on:
#   the Bearer challenge and its realm built from Host and the scheme; the
#   token body ({"token"} only, a 24 h JWT); 401 without WWW-Authenticate
#   for an expired or unknown token and for a wrong password; Basic
#   realm="Gitea Package API" for writes by the anonymous token, a
#   read-only user or a user outside its owner; POST /v2/token 404; Basic
#   on every path (an access token as the password too); an unknown owner's
#   plain-text 404; NAME_INVALID; the upload-status Range (one past the end
#   up to 1.24.0, none while empty since); the PATCH answers; 416 on a wrong
#   start; 400 for "bytes=" and for a second stream PATCH; a PATCH cut on
#   its way never reaching Gitea (nginx buffers bodies); digests checked
#   on PUT; a failed mount giving a usable session, a good one 201; the
#   one-request POST ?digest=; manifests: a Content-Type with a parameter,
#   a nested index, missing blobs and children refused, case-insensitive
#   tags, no referrers API; nginx's 413 over the body limit; a PUT slower
#   than proxy_read_timeout answered 504 while the blob still lands; and a
#   skopeo copy with --dest-creds.
# Then once: a body cut between nginx and Gitea (faultproxy) leaves the
# upload unusable (Gitea's offset check); and the idpbuilder stand-in's
# outputs (tests/tools/fake_cluster_tool.sh).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/gitea.sh"
need docker-registry nginx skopeo curl openssl

OCI_M=application/vnd.oci.image.manifest.v1+json
OCI_I=application/vnd.oci.image.index.v1+json
ACCEPT="Accept: $OCI_M, $OCI_I, application/vnd.docker.distribution.manifest.v2+json"
OCTET=(-H "Content-Type: application/octet-stream")
RH=$TEST_TMP/resp.headers
RBF=$TEST_TMP/resp.body

# req METHOD PATH [CURL-ARGS...]: a request to the ingress; sets RS (status)
# and RB (body); hdr NAME prints a response header ("" when absent)
req() {
	local m=$1 p=$2
	shift 2
	local -a how=(-X "$m")
	[ "$m" != HEAD ] || how=(--head)
	RS=$(curl -sS --cacert "$GITEA_CA" "${how[@]}" -o "$RBF" -D "$RH" -w '%{http_code}' \
		--max-time 30 "$@" "$GITEA_URL$p") || RS=000
	RB=$(cat "$RBF")
}
hdr() {
	grep -i "^$1:" "$RH" | tail -n1 | cut -d: -f2- | sed 's/^ *//; s/\r$//' || true
}
has_hdr() { grep -qi "^$1:" "$RH"; }
# err_code: the first error code of the JSON body
err_code() {
	"$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["errors"][0]["code"])' \
		<<<"$RB" 2>/dev/null || echo "(not JSON: $RB)"
}
err_message() {
	"$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["errors"][0]["message"])' \
		<<<"$RB" 2>/dev/null || echo "(not JSON: $RB)"
}
expect() { # STATUS WHAT
	[ "$RS" = "$1" ] || fail "$GITEA_VERSION: $2: status $RS, wanted $1 (body: $RB)"
}
expect_err() { # STATUS CODE WHAT
	expect "$1" "$3"
	assert_eq "$2" "$(err_code)" "$GITEA_VERSION: $3: error code"
}
expect_hdr() { # NAME VALUE WHAT
	assert_eq "$2" "$(hdr "$1")" "$GITEA_VERSION: $3: $1"
}
expect_no_hdr() { # NAME WHAT
	if has_hdr "$1"; then
		fail "$GITEA_VERSION: $2: unexpected $1: $(hdr "$1")"
	fi
}
# patch LOCATION CONTENT-RANGE FILE: a chunk with the token
patch() {
	req PATCH "$1" "${BEARER[@]}" "${OCTET[@]}" -H "Content-Range: $2" --data-binary @"$3"
}
digest_of() { echo "sha256:$(sha256_file "$1")"; }
jwt_claims() { # TOKEN: the JWT's claims as JSON
	"$PYTHON" -c 'import base64,sys
p = sys.argv[1].split(".")[1]
print(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode())' "$1"
}
json_get() { # JSON KEY
	"$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"
}
old_range() { [ "$GITEA_VERSION" != 1.25 ]; }

chal() { printf 'Bearer realm="%s/v2/token",service="container_registry",scope="*"' "$1"; }
json_keys() { "$PYTHON" -c 'import json,sys; print(",".join(sorted(json.load(sys.stdin))))'; }
D=$TEST_TMP/data
mkdir -p "$D"
head -c 100 /dev/urandom >"$D/c1"
head -c 100 /dev/urandom >"$D/c2"
cat "$D/c1" "$D/c2" >"$D/c12"
head -c 3000 /dev/urandom >"$D/c3"
head -c 5000 /dev/urandom >"$D/c4"
head -c $((5 * 1024 * 1024)) /dev/urandom >"$D/big"
head -c $((2 * 1024 * 1024)) /dev/urandom >"$D/slow"
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' \
	>"$D/config"
SKL=$TEST_TMP/layout
make_oci_layout "$SKL" --oci 1000 20000 >/dev/null

# mk_manifest FILE LAYER-DIGEST LAYER-SIZE NOTE: an OCI image manifest with
# the config blob $DC and one layer
mk_manifest() {
	local cfg=application/vnd.oci.image.config.v1+json
	local lay=application/vnd.oci.image.layer.v1.tar
	cfg="{\"mediaType\":\"$cfg\",\"digest\":\"$DC\",\"size\":$(stat -c %s "$D/config")}"
	printf '{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":[' "$OCI_M" "$cfg" >"$1"
	printf '{"mediaType":"%s","digest":"%s","size":%s}],' "$lay" "$2" "$3" >>"$1"
	printf '"annotations":{"note":"%s"}}' "$4" >>"$1"
}
# mk_index FILE CHILD-MEDIA-TYPE CHILD-DIGEST CHILD-SIZE: an OCI index
mk_index() {
	printf '{"schemaVersion":2,"mediaType":"%s","manifests":[' "$OCI_I" >"$1"
	printf '{"mediaType":"%s","digest":"%s","size":%s}]}' "$2" "$3" "$4" >>"$1"
}

check_release() {
	local v=$GITEA_VERSION img="app${GITEA_VERSION//./}" img2 loc id n
	img2=${img}b
	log "---- Gitea $v ----"
	BASIC=(-u "$GITEA_USER:$GITEA_PASS")

	# -- auth: challenge, realm from Host and scheme -----------------------------
	req GET /v2/
	expect 401 "GET /v2/ without credentials"
	expect_hdr www-authenticate "$(chal "https://$GITEA_HOST")" "challenge"
	assert_eq UNAUTHORIZED "$(err_code)" "$v: challenge body"
	req GET /v2/ --http1.1 -H "Host: gitea.cnoe.localtest.me:8443"
	expect_hdr www-authenticate "$(chal https://gitea.cnoe.localtest.me:8443)" \
		"challenge realm follows Host"
	curl -sS -D "$RH" -o /dev/null "http://$GITEA_PLAIN_HOST/v2/"
	expect_hdr www-authenticate "$(chal "http://$GITEA_PLAIN_HOST")" \
		"challenge realm follows the scheme"

	# -- tokens: the first one of this start lives 2 s (--first-token-lifetime) ----
	req GET "/v2/token?service=container_registry&scope=repository:$GITEA_OWNER/$img:push" \
		"${BASIC[@]}"
	expect 200 "token (short-lived)"
	local short exp
	short=$(json_get "$RB" token)
	exp=$(gitea_field token_exp GET /v2/token)
	assert_eq "$exp" "$(json_get "$(jwt_claims "$short")" exp)" "$v: logged token_exp"
	req GET /v2/token "${BASIC[@]}"
	expect 200 "token"
	assert_eq token "$(json_keys <<<"$RB")" "$v: token body keys (no expires_in)"
	TOK=$(json_get "$RB" token)
	BEARER=(-H "Authorization: Bearer $TOK")
	local claims life
	claims=$(jwt_claims "$TOK")
	life=$(($(json_get "$claims" exp) - $(json_get "$claims" nbf)))
	assert_eq 86400 "$life" "$v: token lifetime (24 h)"
	assert_eq '{"alg":"HS256","typ":"JWT"}' \
		"$("$PYTHON" -c 'import base64,sys
p = sys.argv[1].split(".")[0]
print(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode())' "$TOK")" "$v: JWT header"
	req GET /v2/ "${BEARER[@]}"
	expect 200 "GET /v2/ with the token"
	wait_until 10 clock_past $((exp - 1)) || fail "clock did not pass $exp"
	req GET /v2/ -H "Authorization: Bearer $short"
	expect 401 "expired token"
	expect_no_hdr www-authenticate "expired token"
	assert_eq "Failed to authenticate user" "$RB" "$v: expired token body"
	req HEAD "/v2/$GITEA_OWNER/$img/blobs/$(digest_of "$D/c1")" \
		-H "Authorization: Bearer $short"
	expect 401 "expired token on a blob HEAD"
	expect_no_hdr www-authenticate "expired token on a blob HEAD"
	req GET /v2/ -H "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"
	expect 401 "unknown token"
	expect_no_hdr www-authenticate "unknown token"
	req GET /v2/ -H "Authorization: Bearer $GITEA_TOKEN"
	expect 401 "an access token sent as a Bearer token"
	expect_no_hdr www-authenticate "an access token sent as a Bearer token"
	req GET /v2/token -u "$GITEA_USER:wrong"
	expect 401 "token with a wrong password"
	expect_no_hdr www-authenticate "token with a wrong password"
	assert_eq "Failed to authenticate user" "$RB" "$v: wrong password body"
	req POST "/v2/$GITEA_OWNER/$img/blobs/uploads/" -u "$GITEA_USER:wrong"
	expect 401 "upload with a wrong password"
	expect_no_hdr www-authenticate "upload with a wrong password"
	req POST /v2/token "${BASIC[@]}" --data 'grant_type=password'
	expect 404 "POST /v2/token"
	# Basic everywhere, the access token as the password, the user in any case
	req POST "/v2/$GITEA_OWNER/$img/blobs/uploads/" "${BASIC[@]}"
	expect 202 "Basic auth on an upload"
	req POST "/v2/$GITEA_OWNER/$img/blobs/uploads/" -u "giteaadmin:$GITEA_TOKEN"
	expect 202 "an access token as the Basic password"
	req GET /v2/token -u "$GITEA_USER:$GITEA_TOKEN"
	expect 200 "token for an access token"

	# -- the anonymous token reads, never writes ---------------------------------------
	req GET /v2/token
	expect 200 "anonymous token"
	local anon
	anon=$(json_get "$RB" token)
	assert_eq -1 "$(json_get "$(jwt_claims "$anon")" UserID)" "$v: anonymous token user"
	req HEAD "/v2/$GITEA_OWNER/$img/blobs/$(digest_of "$D/c1")" -H "Authorization: Bearer $anon"
	expect 404 "anonymous HEAD of a missing blob"
	req POST "/v2/$GITEA_OWNER/$img/blobs/uploads/" -H "Authorization: Bearer $anon"
	expect 401 "anonymous token's POST"
	expect_hdr www-authenticate 'Basic realm="Gitea Package API"' "anonymous token's POST"
	req PUT "/v2/$GITEA_OWNER/$img/manifests/v1" -H "Authorization: Bearer $anon" \
		-H "Content-Type: $OCI_M" --data-binary '{}'
	expect 401 "anonymous token's manifest PUT"
	expect_hdr www-authenticate 'Basic realm="Gitea Package API"' "anonymous manifest PUT"
	req POST "/v2/$GITEA_OWNER/$img/blobs/uploads/" -u "$GITEA_RO_USER:$GITEA_RO_PASS"
	expect 401 "read-only user's POST"
	expect_hdr www-authenticate 'Basic realm="Gitea Package API"' "read-only user's POST"
	req POST "/v2/$GITEA_ORG/$img/blobs/uploads/" "${BEARER[@]}"
	expect 401 "a write to an owner not the user's"
	expect_hdr www-authenticate 'Basic realm="Gitea Package API"' "write to another owner"

	# -- names ----------------------------------------------------------------------
	req GET "/v2/nosuchowner/$img/manifests/latest" "${BEARER[@]}" -H "$ACCEPT"
	expect 404 "unknown owner"
	assert_eq "Not found." "$RB" "$v: unknown owner body"
	assert_contains "$(hdr content-type)" text/plain "$v: unknown owner content type"
	req POST "/v2/nosuchowner/$img/blobs/uploads/" "${BEARER[@]}"
	expect 404 "unknown owner (upload)"
	req POST "/v2/$GITEA_OWNER/My_App/blobs/uploads/" "${BEARER[@]}"
	expect_err 400 NAME_INVALID "upper-case image name"
	req POST "/v2/$GITEA_OWNER/app..x/blobs/uploads/" "${BEARER[@]}"
	expect_err 400 NAME_INVALID "image name with '..'"
	req POST "/v2/GiteaAdmin/$img/blobs/uploads/" "${BEARER[@]}"
	expect 202 "owner segment in another case"
	id=$(hdr docker-upload-uuid)
	assert_eq "/v2/$GITEA_OWNER/$img/blobs/uploads/$id" "$(hdr location)" \
		"$v: Location names the owner in lower case"

	# -- uploads: Range per release -----------------------------------------------------
	req POST "/v2/$GITEA_OWNER/$img/blobs/uploads/" "${BEARER[@]}"
	expect 202 "POST upload"
	expect_hdr range 0-0 "POST upload"
	loc=$(hdr location)
	id=$(hdr docker-upload-uuid)
	assert_eq "/v2/$GITEA_OWNER/$img/blobs/uploads/$id" "$loc" "$v: relative Location"
	req GET "$loc" "${BEARER[@]}"
	expect 204 "status of an empty upload"
	if old_range; then expect_hdr range 0-0 "status of an empty upload"; else
		expect_no_hdr range "status of an empty upload"; fi
	req PATCH "$loc" "${BEARER[@]}" "${OCTET[@]}" --data-binary @/dev/null
	expect 202 "empty stream PATCH"
	if old_range; then expect_hdr range 0--1 "empty PATCH"; else
		expect_no_hdr range "empty PATCH"; fi
	patch "$loc" 0-99 "$D/c1"
	expect 202 "first chunk"
	expect_hdr range 0-99 "first chunk"
	assert_eq "$loc" "$(hdr location)" "$v: PATCH Location"
	req GET "$loc" "${BEARER[@]}"
	expect 204 "status after 100 bytes"
	if old_range; then expect_hdr range 0-100 "status after 100 bytes (one past the end)"
	else expect_hdr range 0-99 "status after 100 bytes"; fi
	patch "$loc" 50-149 "$D/c2"
	expect_err 416 BLOB_UPLOAD_INVALID "chunk at a wrong start"
	req PATCH "$loc" "${BEARER[@]}" "${OCTET[@]}" -H "Content-Range: bytes=100-199" \
		--data-binary @"$D/c2"
	expect_err 400 BLOB_UPLOAD_INVALID "Content-Range with bytes="
	req PATCH "$loc" "${BEARER[@]}" "${OCTET[@]}" --data-binary @"$D/c2"
	expect_err 400 BLOB_UPLOAD_INVALID "second stream PATCH"
	assert_eq "Stream uploads after first write are not allowed" "$(err_message)" \
		"$v: second stream PATCH message"
	# a PATCH cut on its way: nginx holds it, Gitea never sees it
	local seen_layer seen_nginx
	seen_layer=$(gitea_count PATCH "$loc")
	seen_nginx=$(gitea_nginx_count PATCH "$loc")
	if curl -sS --http1.1 --cacert "$GITEA_CA" -X PATCH "${BEARER[@]}" "${OCTET[@]}" \
		-H "Content-Range: 100-199999" -H "Content-Length: 200000" --data-binary @"$D/c2" \
		--max-time 2 -o /dev/null "$GITEA_URL$loc" 2>/dev/null; then
		fail "$v: the cut PATCH got an answer"
	fi
	nginx_saw() { [ "$(gitea_nginx_count PATCH "$loc")" -gt "$seen_nginx" ]; }
	wait_until 20 nginx_saw || fail "$v: nginx never logged the cut PATCH"
	assert_eq "$seen_layer" "$(gitea_count PATCH "$loc")" "$v: PATCHes that reached Gitea"
	req GET "$loc" "${BEARER[@]}"
	if old_range; then expect_hdr range 0-100 "status after a cut PATCH"
	else expect_hdr range 0-99 "status after a cut PATCH"; fi
	patch "$loc" 100-199 "$D/c2"
	expect 202 "second chunk"
	expect_hdr range 0-199 "second chunk"
	req GET "$loc" "${BEARER[@]}"
	if old_range; then expect_hdr range 0-200 "status after 200 bytes"
	else expect_hdr range 0-199 "status after 200 bytes"; fi
	req PUT "$loc?digest=sha256:$(printf '%064d' 0)" "${BEARER[@]}"
	expect_err 400 DIGEST_INVALID "PUT with a wrong digest"
	req PUT "$loc" "${BEARER[@]}"
	expect_err 400 DIGEST_INVALID "PUT without a digest"
	local d12
	d12=$(digest_of "$D/c12")
	req PUT "$loc?digest=$d12" "${BEARER[@]}"
	expect 201 "PUT finishing the upload"
	expect_hdr docker-content-digest "$d12" "PUT finishing the upload"
	expect_hdr location "/v2/$GITEA_OWNER/$img/blobs/$d12" "PUT finishing the upload"
	req HEAD "/v2/$GITEA_OWNER/$img/blobs/$d12" "${BEARER[@]}"
	expect 200 "HEAD of the new blob"
	expect_hdr content-length 200 "HEAD of the new blob"
	req GET "$loc" "${BEARER[@]}"
	expect_err 404 BLOB_UPLOAD_UNKNOWN "status of a finished upload"
	# the stream PATCH (docker's way) as the first write, and the last bytes in the PUT
	req POST "/v2/$GITEA_OWNER/$img/blobs/uploads/" "${BEARER[@]}"
	loc=$(hdr location)
	req PATCH "$loc" "${BEARER[@]}" "${OCTET[@]}" --data-binary @"$D/c1"
	expect 202 "first stream PATCH"
	expect_hdr range 0-99 "first stream PATCH"
	req PUT "$loc?digest=$d12" "${BEARER[@]}" "${OCTET[@]}" --data-binary @"$D/c2"
	expect 201 "PUT with the last chunk"

	# -- mounts and the one-request upload --------------------------------------------
	req POST "/v2/$GITEA_OWNER/$img2/blobs/uploads/?mount=$d12&from=$GITEA_OWNER/$img" \
		"${BEARER[@]}"
	expect 201 "mount of an existing blob"
	expect_hdr docker-content-digest "$d12" "mount"
	req HEAD "/v2/$GITEA_OWNER/$img2/blobs/$d12" "${BEARER[@]}"
	expect 200 "HEAD of the mounted blob"
	local d3 d4
	d3=$(digest_of "$D/c3")
	req POST "/v2/$GITEA_OWNER/$img2/blobs/uploads/?mount=$d3&from=$GITEA_OWNER/$img" \
		"${BEARER[@]}"
	expect 202 "mount of a missing blob"
	loc=$(hdr location)
	[ -n "$loc" ] || fail "$v: failed mount: no Location"
	patch "$loc" 0-2999 "$D/c3"
	expect 202 "PATCH in the session of a failed mount"
	req PUT "$loc?digest=$d3" "${BEARER[@]}"
	expect 201 "PUT in the session of a failed mount"
	d4=$(digest_of "$D/c4")
	req POST "/v2/$GITEA_OWNER/$img/blobs/uploads/?digest=$d4" "${BEARER[@]}" "${OCTET[@]}" \
		--data-binary @"$D/c4"
	expect 201 "POST ?digest= with the blob"
	expect_hdr location "/v2/$GITEA_OWNER/$img/blobs/$d4" "POST ?digest="
	req HEAD "/v2/$GITEA_OWNER/$img/blobs/$d4" "${BEARER[@]}"
	expect 200 "HEAD of the POSTed blob"
	req POST "/v2/$GITEA_OWNER/$img/blobs/uploads/?digest=$d3" "${BEARER[@]}" "${OCTET[@]}" \
		--data-binary @"$D/c4"
	expect_err 400 DIGEST_INVALID "POST ?digest= with other bytes"

	# -- manifests ------------------------------------------------------------------------
	local m1 m2 mi
	req POST "/v2/$GITEA_OWNER/$img/blobs/uploads/?digest=$(digest_of "$D/config")" \
		"${BEARER[@]}" "${OCTET[@]}" --data-binary @"$D/config"
	expect 201 "config blob"
	DC=$(digest_of "$D/config")
	mk_manifest "$D/m1" "$d12" 200 one
	mk_manifest "$D/m2" "$d4" 5000 two
	mk_manifest "$D/m3" "sha256:$(printf '%064d' 7)" 5 missing
	mk_manifest "$D/m4" "$d4" 4999 badsize
	m1=$(digest_of "$D/m1")
	m2=$(digest_of "$D/m2")
	req PUT "/v2/$GITEA_OWNER/$img/manifests/v1" "${BEARER[@]}" \
		-H "Content-Type: $OCI_M; charset=utf-8" --data-binary @"$D/m1"
	expect_err 400 MANIFEST_INVALID "manifest Content-Type with a parameter"
	req PUT "/v2/$GITEA_OWNER/$img/manifests/v1" "${BEARER[@]}" -H "Content-Type: $OCI_M" \
		--data-binary @"$D/m1"
	expect 201 "manifest PUT"
	expect_hdr docker-content-digest "$m1" "manifest PUT"
	req GET "/v2/$GITEA_OWNER/$img/manifests/V1" "${BEARER[@]}" -H "$ACCEPT"
	expect 200 "manifest GET by the tag in upper case"
	expect_hdr docker-content-digest "$m1" "manifest GET V1"
	cmp -s "$RBF" "$D/m1" || fail "$v: manifest bytes served differ"
	req PUT "/v2/$GITEA_OWNER/$img/manifests/V1" "${BEARER[@]}" -H "Content-Type: $OCI_M" \
		--data-binary @"$D/m2"
	expect 201 "manifest PUT to V1"
	req HEAD "/v2/$GITEA_OWNER/$img/manifests/v1" "${BEARER[@]}" -H "$ACCEPT"
	expect 200 "manifest HEAD v1"
	expect_hdr docker-content-digest "$m2" "V1 and v1 are one tag"
	req PUT "/v2/$GITEA_OWNER/$img/manifests/v3" "${BEARER[@]}" -H "Content-Type: $OCI_M" \
		--data-binary @"$D/m3"
	expect_err 404 BLOB_UNKNOWN "manifest naming a missing layer"
	req PUT "/v2/$GITEA_OWNER/$img/manifests/v4" "${BEARER[@]}" -H "Content-Type: $OCI_M" \
		--data-binary @"$D/m4"
	expect_err 400 SIZE_INVALID "manifest with a wrong layer size"
	req PUT "/v2/$GITEA_OWNER/$img/manifests/bad:tag" "${BEARER[@]}" -H "Content-Type: $OCI_M" \
		--data-binary @"$D/m1"
	expect_err 400 MANIFEST_INVALID "invalid tag"
	mk_index "$D/i1" "$OCI_M" "$m1" "$(stat -c %s "$D/m1")"
	req PUT "/v2/$GITEA_OWNER/$img/manifests/multi" "${BEARER[@]}" -H "Content-Type: $OCI_I" \
		--data-binary @"$D/i1"
	expect 201 "index PUT"
	mi=$(digest_of "$D/i1")
	mk_index "$D/i2" "$OCI_I" "$mi" "$(stat -c %s "$D/i1")"
	req PUT "/v2/$GITEA_OWNER/$img/manifests/nested" "${BEARER[@]}" -H "Content-Type: $OCI_I" \
		--data-binary @"$D/i2"
	expect_err 400 MANIFEST_INVALID "index holding an index"
	mk_index "$D/i3" "$OCI_M" "sha256:$(printf '%064d' 9)" 10
	req PUT "/v2/$GITEA_OWNER/$img/manifests/orphan" "${BEARER[@]}" -H "Content-Type: $OCI_I" \
		--data-binary @"$D/i3"
	expect_err 404 MANIFEST_BLOB_UNKNOWN "index naming a missing manifest"
	req GET "/v2/$GITEA_OWNER/$img/referrers/$m1" "${BEARER[@]}"
	expect 404 "referrers API"
	req GET "/v2/$GITEA_OWNER/$img/manifests/nosuchtag" "${BEARER[@]}" -H "$ACCEPT"
	expect_err 404 MANIFEST_UNKNOWN "unknown tag"

	# -- the ingress: 413 over the body limit; a PUT slower than the read timeout ----
	req POST "/v2/$GITEA_OWNER/$img/blobs/uploads/" "${BEARER[@]}"
	loc=$(hdr location)
	patch "$loc" 0-$((5 * 1024 * 1024 - 1)) "$D/big"
	expect 413 "PATCH over the ingress body limit"
	assert_eq 0 "$(gitea_count PATCH "$loc")" "$v: PATCHes over the limit that reached Gitea"
	local ds t0
	ds=$(digest_of "$D/slow")
	patch "$loc" 0-$((2 * 1024 * 1024 - 1)) "$D/slow"
	expect 202 "2 MiB chunk"
	t0=$SECONDS
	req PUT "$loc?digest=$ds" "${BEARER[@]}"
	expect 504 "PUT slower than proxy_read_timeout"
	[ $((SECONDS - t0)) -ge 2 ] || fail "$v: the 504 came before the read timeout"
	blob_landed() {
		req HEAD "/v2/$GITEA_OWNER/$img/blobs/$ds" "${BEARER[@]}"
		[ "$RS" = 200 ]
	}
	wait_until 30 blob_landed || fail "$v: the blob of the timed-out PUT never landed"
	put_logged() { [ "$(gitea_count PUT "$loc" 201)" = 1 ]; }
	wait_until 10 put_logged || fail "$v: Gitea did not log its 201 for the timed-out PUT"

	# -- skopeo copy with --dest-creds ------------------------------------------------------
	local ref="$GITEA_HOST/$GITEA_OWNER/sk${GITEA_VERSION//./}:v1"
	skopeo_push "$SKL" "$ref" --cert-dir "$GITEA_CERTDIR" --creds "$GITEA_USER:$GITEA_PASS" ||
		fail "$v: skopeo copy into the Gitea stack"
	verify_pushed "$ref" "$SKL" "${GITEA_SKOPEO_FLAGS[@]}"
	n=$(gitea_select "r['method'] == 'PUT' and r['status'] == 201 and r['auth'] == 'bearer'
and r['path'] == '/v2/$GITEA_OWNER/sk${GITEA_VERSION//./}/manifests/v1'")
	assert_eq 1 "$n" "$v: skopeo's manifest PUT (with a Bearer token)"
	log "Gitea $v: all checks passed"
}

start_gitea_stack --version 1.22 --body-limit 4m --read-timeout 2 --put-delay-per-mib 2 \
	--first-token-lifetime 2
check_release
gitea_switch_version 1.24.0
check_release
gitea_switch_version 1.25
check_release

# -- a body cut between nginx and Gitea (no buffering could save it): Gitea's
# uploader keeps the partial bytes in its file without counting them, and
# every later write to that upload fails its offset check (500) ------------------
start_gitea_stack --version 1.25 --fault-arg --match --fault-arg '^PATCH ' \
	--fault-arg --skip --fault-arg 1 --fault-arg --cut-after --fault-arg 50 \
	--fault-arg --abort-upstream
BASIC=(-u "$GITEA_USER:$GITEA_PASS")
req GET /v2/token "${BASIC[@]}"
TOK=$(json_get "$RB" token)
BEARER=(-H "Authorization: Bearer $TOK")
req POST "/v2/$GITEA_OWNER/cut/blobs/uploads/" "${BEARER[@]}"
loc=$(hdr location)
patch "$loc" 0-99 "$D/c1"
expect 202 "first chunk (through faultproxy)"
patch "$loc" 100-199 "$D/c2"
expect 502 "chunk cut between nginx and Gitea"
assert_file_contains "$GITEA_FAULT_LOG" "CUT PATCH .* after 50 body bytes" "faultproxy cut"
req GET "$loc" "${BEARER[@]}"
expect_hdr range 0-99 "status after a cut that reached Gitea"
patch "$loc" 100-199 "$D/c2"
expect 500 "a chunk after a partial write"
assert_eq 1 "$(gitea_select 'r.get("note") == "offset mismatch between file and model"')" \
	"the layer's reason for the 500"

# -- the idpbuilder stand-in (tests/tools/fake_cluster_tool.sh): the shapes of
# `idpbuilder get secrets -p gitea -o json` and the ingress's TLS secret -------
BIN=$TEST_TMP/bin
mkdir -p "$BIN"
ln -s "$top_srcdir/tests/tools/fake_cluster_tool.sh" "$BIN/idpbuilder"
ln -s "$top_srcdir/tests/tools/fake_cluster_tool.sh" "$BIN/kubectl"
export FAKE_CLUSTER_LOG=$TEST_TMP/cluster.log FAKE_CLUSTER_USER=$GITEA_USER
export FAKE_CLUSTER_PASSWORD=$GITEA_PASS FAKE_CLUSTER_CA=$GITEA_CA
secrets() { # SHAPE [TOKEN]: what the fake idpbuilder prints, as compact JSON
	FAKE_IDPBUILDER_SHAPE=$1 FAKE_CLUSTER_TOKEN=${2-tok} \
		"$BIN/idpbuilder" get secrets -p gitea -o json >"$TEST_TMP/secrets.json"
	"$PYTHON" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])),
separators=(",", ":")))' "$TEST_TMP/secrets.json"
}
flat='{"IsCore":true,"name":"gitea-credential","namespace":"gitea",'
flat+="\"username\":\"$GITEA_USER\",\"password\":\"$GITEA_PASS\""
assert_eq "[$flat,\"token\":\"tok\"}]" "$(secrets "")" "default shape"
assert_eq "[$flat,\"token\":\"tok\"}]" "$(secrets 0.9)" "0.9 shape"
[ "$(wc -l <"$TEST_TMP/secrets.json")" -gt 5 ] || fail "0.9 shape is not indented"
assert_eq "[$flat}]" "$(secrets 0.9 "")" "0.9 shape without a token"
assert_eq "[{\"name\":\"gitea-credential\",\"namespace\":\"gitea\",\"data\":{\"username\":\
\"$GITEA_USER\",\"password\":\"$GITEA_PASS\",\"token\":\"tok\"}}]" "$(secrets 0.8.1)" "0.8.1 shape"
assert_eq "[]" "$(secrets empty)" "no secret yet"
KUBECONFIG=$TEST_TMP/kc "$BIN/kubectl" --kubeconfig "$TEST_TMP/kc2" get secret -n ingress-nginx \
	idpbuilder-cert -o json >"$TEST_TMP/tls.json"
"$PYTHON" -c 'import base64,json,sys
d = json.load(open(sys.argv[1]))
assert d["type"] == "kubernetes.io/tls", d["type"]
sys.stdout.buffer.write(base64.b64decode(d["data"]["tls.crt"]))' "$TEST_TMP/tls.json" \
	>"$TEST_TMP/tls.crt"
cmp -s "$TEST_TMP/tls.crt" "$GITEA_CA" || fail "the ingress secret's tls.crt is not the CA"
assert_file_contains "$FAKE_CLUSTER_LOG" "^kubectl: --kubeconfig $TEST_TMP/kc2\$" \
	"--kubeconfig logged"
assert_file_contains "$FAKE_CLUSTER_LOG" "^kubectl: KUBECONFIG=$TEST_TMP/kc\$" "KUBECONFIG logged"
log "PASS"
