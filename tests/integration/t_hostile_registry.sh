#!/bin/bash
# tests/integration/t_hostile_registry.sh: a registry that misbehaves on
# purpose (tests/lib/hostile_registry.py) can neither crash the engine, nor
# get credentials sent to another host or over plain HTTP, nor keep it
# sending requests for ever, nor put control characters on the terminal.
# Each case asserts the exit code, the message, and what reached the
# registry and the "elsewhere" listener it points clients at.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
need curl
need_engine

L=$TEST_TMP/layout
DIG=$(make_oci_layout "$L" --docker 300000 200000)
FAST=(--retries 2 --retry-initial-ms 10 --timeout 60s)

# The same image with sizeless layer descriptors: the engine then uploads
# it as a stream (through a spool file), not straight from the file.
NS=$TEST_TMP/nosize
NSDIG=$(layout_without_sizes "$L" "$NS")

# 0. Behaving, it is a registry a push works against.
start_hostile_registry ""
assert_push_ok "$HOSTILE_HOST/giteaadmin/app:v1" "$DIG" --plain-http "${FAST[@]}" "$L" \
	"$HOSTILE_HOST/giteaadmin/app:v1"
assert_push_ok "$HOSTILE_HOST/giteaadmin/app:v2" "$NSDIG" --plain-http --chunk-size 65536 \
	"${FAST[@]}" "$NS" "$HOSTILE_HOST/giteaadmin/app:v2"

# 1. An acknowledged Range that goes backwards (the 2nd PATCH says "0-0"):
# a failed chunk, resumed from what the registry reports; never a read
# before the chunk buffer (which sent heap memory, or crashed).
start_hostile_registry range-backwards
assert_push_ok "$HOSTILE_HOST/giteaadmin/app:v1" "$NSDIG" --plain-http --jobs 1 \
	--chunk-size 65536 "${FAST[@]}" "$NS" "$HOSTILE_HOST/giteaadmin/app:v1"
assert_contains "$LAST_ERR" "went backwards"

# 2. A Range past anything that was sent (and past int64 arithmetic): not
# believed; the upload status (GET) tells where the upload really stands.
start_hostile_registry range-huge
assert_push_ok "$HOSTILE_HOST/giteaadmin/app:v1" "$NSDIG" --plain-http --jobs 1 \
	--chunk-size 65536 "${FAST[@]}" "$NS" "$HOSTILE_HOST/giteaadmin/app:v1"
assert_contains "$LAST_ERR" "a Range that is not 0-N ('0-9223372036854775807'"

# 3. A registry that keeps acknowledging less than it received: a chunk
# that does not complete is a failed attempt, so the push ends quickly.
start_hostile_registry short-ack
assert_exit 5 run_engine --plain-http --jobs 1 --chunk-size 65536 "${FAST[@]}" "$L" \
	"$HOSTILE_HOST/giteaadmin/app:v1"
assert_contains "$LAST_ERR" "kept fewer bytes"
n=$(hostile_count 'r["method"] == "PATCH"')
[ "$n" -le 12 ] || fail "short-ack: $n PATCH requests (the retries allow 3 per blob)"

# 4. An upload Location on another host: followed, but no credentials go
# there (they are for the registry's own scheme, host and port only).
start_hostile_registry location-elsewhere --user bob:secret
assert_exit 5 run_engine --plain-http -u bob -p secret "${FAST[@]}" "$L" \
	"$HOSTILE_HOST/giteaadmin/app:v1"
assert_eq 0 "$(hostile_count 'r["server"] == "elsewhere" and r["authorization"]')" \
	"requests with credentials that reached another host"
[ "$(hostile_count 'r["server"] == "elsewhere"')" -ge 1 ] ||
	fail "the upload Location was not followed at all"

# 5. An https registry sending an http:// upload Location: refused.
start_hostile_registry location-downgrade --tls --user bob:secret
assert_exit 5 run_engine --ca-cert "$CA_CERT" -u bob -p secret "${FAST[@]}" "$L" \
	"$HOSTILE_HOST/giteaadmin/app:v1"
assert_contains "$LAST_ERR" "plain HTTP"

# 6. An https registry whose token realm is plain http: the credentials
# would cross the network in clear text; refused (exit 2) unless allowed.
start_hostile_registry realm-http --tls
assert_exit 2 run_engine --ca-cert "$CA_CERT" -u bob -p secret "${FAST[@]}" "$L" \
	"$HOSTILE_HOST/giteaadmin/app:v1"
assert_contains "$LAST_ERR" "--allow-insecure-auth"
assert_eq 0 "$(hostile_count 'r["server"] == "elsewhere"')" "requests to the http realm"
assert_push_ok "$HOSTILE_HOST/giteaadmin/app:v1" "$DIG" --ca-cert "$CA_CERT" -u bob -p secret \
	--allow-insecure-auth "${FAST[@]}" "$L" "$HOSTILE_HOST/giteaadmin/app:v1"

# 7. Registry bytes never reach the terminal raw: a Docker-Content-Digest
# with escape sequences and a 300-byte upload Location.
start_hostile_registry evil-bytes
assert_exit 5 run_engine --plain-http "${FAST[@]}" "$L" "$HOSTILE_HOST/giteaadmin/app:v1"
if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$TEST_TMP/last.err"; then
	fail "control characters from the registry reached stderr: $(od -c "$TEST_TMP/last.err" |
		head -5)"
fi
assert_contains "$LAST_ERR" "\\x1b"

# 7b. A failing request with a 300-byte upload URL: the message says the
# blob and the status first, and the URL shortened (no 300-byte query).
# (64 KiB requests: the 300 kB layer is PATCHed, not sent in one request.)
# The repository's names are whole (only the upload id is cut short).
start_hostile_registry patch-fails
assert_exit 5 run_engine --plain-http --jobs 1 --chunk-size 65536 "${FAST[@]}" "$L" \
	"$HOSTILE_HOST/my-team-name/my-application-service:v1"
case "$(tail -n 1 "$TEST_TMP/last.err")" in
"engine-push: pushing blob sha256:"*": HTTP 500"*) ;;
*) fail "the error does not start with the blob and the status:" \
	"$(tail -n 1 "$TEST_TMP/last.err")" ;;
esac
assert_not_contains "$LAST_ERR" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" "the upload URL's query"
assert_contains "$(tail -n 1 "$TEST_TMP/last.err")" \
	"(PATCH http://$HOSTILE_HOST/v2/my-team-name/my-application-service/blobs/uploads/"
# 8. A registry announcing OCI-Chunk-Max-Length: no request is ever larger,
# so it never has to answer 413.
start_hostile_registry "" --chunk-max 65536
assert_push_ok "$HOSTILE_HOST/giteaadmin/app:v1" "$DIG" --plain-http "${FAST[@]}" "$L" \
	"$HOSTILE_HOST/giteaadmin/app:v1"
assert_eq 0 "$(hostile_count 'r["status"] == 413')" "413 answers despite OCI-Chunk-Max-Length"
assert_eq 0 "$(hostile_count 'r["method"] == "PATCH" and r["length"] > 65536')" \
	"PATCH bodies over OCI-Chunk-Max-Length"
[ "$(hostile_count 'r["method"] == "PATCH"')" -ge 8 ] || fail "not sent in 64 KiB chunks"
log "hostile registry cases passed"

# 9. A blob of an OCI layout that is a symlink out of the layout (here to a
# file with exactly the blob's bytes) is not read: nothing is uploaded.
SL=$TEST_TMP/symlinked
cp -a "$L" "$SL"
big=$(ls -S "$SL/blobs/sha256" | head -n 1)
mv "$SL/blobs/sha256/$big" "$TEST_TMP/outside"
ln -s "$TEST_TMP/outside" "$SL/blobs/sha256/$big"
start_hostile_registry ""
assert_exit 4 run_engine --plain-http "${FAST[@]}" "$SL" "$HOSTILE_HOST/giteaadmin/app:v1"
assert_contains "$LAST_ERR" "sha256:$big"
assert_eq 0 "$(hostile_count 'r["method"] in ("POST", "PATCH", "PUT")')" \
	"uploads from a layout with a symlinked blob"
log "symlinked layout blob refused"
