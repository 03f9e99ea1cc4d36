#!/bin/bash
# tests/integration/t_registry_errors.sh: the engine's failure modes and
# exit codes, plus recovery from a connection cut in the middle of an upload.
#   wrong password            -> exit 2, nothing tagged, password not printed
#   unknown CA (CA2 / none)   -> exit 3, message names --ca-cert / --insecure
#   --insecure                -> succeeds against the same server
#   registry down             -> exit 3, quickly (--retries 2 --retry-initial-ms 50);
#                                on loopback at once, whatever --retries
#   invalid target reference  -> exit 1
#   missing layout dir        -> exit 4 ("image not found")
#   upload resume (faultproxy.py in front of a plain registry; the cut hits
#   the first PATCH whose body is longer than the cut point):
#     a) first PATCH cut after 1000 body bytes: distribution keeps the
#        session at its previous offset (GET <location> -> 204 Range), the
#        push must resume and succeed;
#     b) first PATCH cut after 200000 body bytes: distribution has flushed
#        part of it, so the session is dead (GET -> 404 BLOB_UPLOAD_INVALID,
#        "upload resumed at wrong offest"): the engine must start a new
#        upload and succeed.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
need docker-registry skopeo curl openssl htpasswd
need_engine
CTD_ADAPTER="${CTD_ADAPTER:-$top_builddir/idppush-containerd}"

L="$TEST_TMP/layout"
DIG=$(make_oci_layout "$L" --docker 0 2000000)
FAST=(--retries 2 --retry-initial-ms 50)

# --- authentication and TLS ---------------------------------------------------------
start_registry tls-htpasswd

T="$REG_HOST/giteaadmin/app:wrongpw"
assert_exit 2 run_engine "${FAST[@]}" --ca-cert "$REG_CA" -u "$REG_USER" -p "not-$REG_PASS" \
	"$L" "$T"
[ -n "$LAST_ERR" ] || fail "no error message for a wrong password"
assert_eq "" "$LAST_OUT" "stdout of a failed push"
assert_not_contains "$LAST_ERR" "not-$REG_PASS" "error message leaks the password"
assert_contains "$LAST_ERR" "refused the credentials for user $REG_USER (command line)"
assert_not_contains "$LAST_ERR" "cannot reach registry" "a refused login is said unreachable"
assert_not_tagged "$T" "${SKOPEO_FLAGS[@]}"

T="$REG_HOST/giteaadmin/app:ca2"
assert_exit 3 run_engine "${FAST[@]}" --ca-cert "$CA2_CERT" -u "$REG_USER" -p "$REG_PASS" "$L" "$T"
assert_contains "$LAST_ERR" "--ca-cert" "unknown-CA error suggests --ca-cert"
assert_contains "$LAST_ERR" "--insecure" "unknown-CA error mentions --insecure"
assert_not_tagged "$T" "${SKOPEO_FLAGS[@]}"

T="$REG_HOST/giteaadmin/app:noca"
assert_exit 3 run_engine "${FAST[@]}" -u "$REG_USER" -p "$REG_PASS" "$L" "$T"
assert_contains "$LAST_ERR" "--ca-cert" "untrusted-server error suggests --ca-cert"
assert_not_tagged "$T" "${SKOPEO_FLAGS[@]}"
# ... what was trusted (not curl's "CAfile: none"), where the CA goes (the
# user's certs.d first: no root needed), why docker would not have asked
# (it does not verify a loopback registry), and no plain-HTTP advice for a
# registry that speaks TLS
assert_contains "$LAST_ERR" "cannot verify registry $REG_HOST (trusting the system's CAs): TLS \
failure: server certificate verification failed (GET https://$REG_HOST/v2/)"
assert_contains "$LAST_ERR" "put the CA in ~/.docker/certs.d/$REG_HOST/ca.crt (or \
/etc/docker/certs.d/$REG_HOST/ca.crt, for every user)"
assert_contains "$LAST_ERR" "docker does not verify the certificate of a registry on a loopback"
for text in CAfile "cannot reach" --plain-http; do
	assert_not_contains "$LAST_ERR" "$text" "the message for an untrusted loopback registry"
done
assert_exit 3 run_engine "${FAST[@]}" --ca-cert "$CA2_CERT" -u "$REG_USER" -p "$REG_PASS" "$L" "$T"
assert_contains "$LAST_ERR" "(trusting the system's CAs, $CA2_CERT)"
# ... and the user's certs.d, where the hint (and --install-ca) puts it, works
mkdir -p "$HOME/.docker/certs.d/$REG_HOST"
cp "$REG_CA" "$HOME/.docker/certs.d/$REG_HOST/ca.crt"
assert_push_ok "$T" "$DIG" "${FAST[@]}" -u "$REG_USER" -p "$REG_PASS" "$L" "$T"
rm -r "$HOME/.docker/certs.d"

T="$REG_HOST/giteaadmin/app:insecure"
assert_push_ok "$T" "$DIG" --insecure -u "$REG_USER" -p "$REG_PASS" "$L" "$T"
verify_pushed "$T" "$L" "${SKOPEO_FLAGS[@]}"

# --- registry down ------------------------------------------------------------------
DOWN=127.0.0.1:$(free_port)
start=$SECONDS
assert_exit 3 run_engine --plain-http "${FAST[@]}" "$L" "$DOWN/giteaadmin/app:v1"
[ -n "$LAST_ERR" ] || fail "no error message for an unreachable registry"
[ $((SECONDS - start)) -le 30 ] ||
	fail "giving up on a dead registry took $((SECONDS - start)) s with --retries 2"
assert_contains "$LAST_ERR" "nothing is listening there"
# ... with the default retries, over either scheme: at once (a refused
# connection to a loopback port is no transient fault), as docker does
for scheme in --plain-http --retries=4; do
	start=$SECONDS
	assert_exit 3 run_engine "$scheme" "$L" "$DOWN/giteaadmin/app:v1"
	[ $((SECONDS - start)) -le 2 ] ||
		fail "a refused loopback connection ($scheme) took $((SECONDS - start)) s"
	assert_not_contains "$LAST_ERR" "retrying" "retries of a refused loopback connection"
	assert_contains "$LAST_ERR" "nothing is listening there: is the registry running?"
done
# ... idpbuilder's registry named with --registry: the cluster is not
# running, and the hint does not say to pass --registry
start=$SECONDS
assert_exit 3 timeout 60 "$CTD_ADAPTER" -q --registry "$DOWN" --oci-layout "$L" app:v1
[ $((SECONDS - start)) -le 2 ] || fail "--registry $DOWN took $((SECONDS - start)) s"
assert_contains "$LAST_ERR" "nothing is listening there: is the idpbuilder cluster running"
assert_not_contains "$LAST_ERR" "pass --registry" "a hint to pass the --registry given"
assert_not_contains "$LAST_ERR" "warning" "warnings about a refused connection"

# --- a name that does not resolve: at once, no retries; for idpbuilder's
# *.localtest.me name, why (public DNS only) and the /etc/hosts line. (In
# a network namespace of its own, with no network at all, nothing
# resolves.)
unshare -n true 2>/dev/null || skip "unshare -n is not allowed here"
start=$SECONDS
assert_exit 3 unshare -n timeout 60 "$ENGINE_PUSH" --retries 5 "$L" \
	gitea.cnoe.localtest.me:8443/giteaadmin/app:v1
[ $((SECONDS - start)) -le 5 ] || fail "an unresolvable name took $((SECONDS - start)) s"
assert_contains "$LAST_ERR" "*.localtest.me names reach 127.0.0.1 through public DNS only"
assert_contains "$LAST_ERR" "add the line '127.0.0.1 gitea.cnoe.localtest.me' to /etc/hosts"
assert_not_contains "$LAST_ERR" "retrying" "retries for a name that does not resolve"

# --- a loopback port that accepts connections but never answers, neither
# TLS nor HTTP: the scheme probe gives up quickly, naming --plain-http
bg_start blackhole "$PYTHON" -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
conns = []
while True:
    conns.append(s.accept()[0])' "$TEST_TMP/blackhole.port"
wait_until 10 test -s "$TEST_TMP/blackhole.port" || fail "black hole listener did not start"
start=$SECONDS
BH=127.0.0.1:$(cat "$TEST_TMP/blackhole.port")
assert_exit 3 run_engine --retries 5 "$L" "$BH/giteaadmin/app:v1"
[ $((SECONDS - start)) -le 30 ] || fail "a silent loopback port took $((SECONDS - start)) s"
assert_contains "$LAST_ERR" "--plain-http"

# --- bad input ----------------------------------------------------------------------
assert_exit 1 run_engine --plain-http "${FAST[@]}" "$L" "127.0.0.1:1/GiteaAdmin/App:v1"
[ -n "$LAST_ERR" ] || fail "no error message for an invalid reference (uppercase)"
assert_exit 1 run_engine --plain-http "${FAST[@]}" "$L" "127.0.0.1:1/giteaadmin/app:bad tag"
assert_exit 1 run_engine --plain-http "${FAST[@]}" "$L" "127.0.0.1:1/giteaadmin/app:"
assert_exit 4 run_engine --plain-http "${FAST[@]}" "$TEST_TMP/no-such-layout" \
	"127.0.0.1:1/giteaadmin/app:v1"
[ -n "$LAST_ERR" ] || fail "no error message for a missing layout"

# --- upload resume after a cut connection ------------------------------------------------
start_registry plain
PLAIN=$REG_HOST

resume_case() { # NAME CUT_AFTER
	local name=$1 cut=$2
	start_fault_proxy "$PLAIN" --match '^PATCH ' --cut-after "$cut"
	local t="$FAULT_HOST/giteaadmin/$name:v1"
	assert_push_ok "$t" "$DIG" --plain-http --jobs 1 --chunk-size 1048576 "${FAST[@]}" "$L" "$t"
	assert_file_contains "$FAULT_LOG" \
		"CUT PATCH /v2/giteaadmin/$name/blobs/uploads/.* after $cut body bytes" \
		"faultproxy cut the first PATCH"
	verify_pushed "$PLAIN/giteaadmin/$name:v1" "$L" --tls-verify=false
}

# a) session survives: the engine should ask the registry where it stands
resume_case resume-a 1000
reg_log_requests GET '/v2/giteaadmin/resume-a/blobs/uploads/[^" ]+' | grep -q '" 204 ' ||
	fail "engine did not query the upload status (GET <location> -> 204) after the cut"

# b) session dead: the engine must start over with a new upload
resume_case resume-b 200000
# 3 blobs (config, empty layer, 2 MB layer) need 3 upload sessions; the restart makes a 4th
posts=$(reg_log_requests POST /v2/giteaadmin/resume-b/blobs/uploads/ | wc -l)
[ "$posts" -ge 4 ] ||
	fail "engine did not restart the broken upload ($posts upload POSTs for 3 blobs)"

# c) a stream (no size, no seek: the chunks come from a spool file) whose
# SECOND chunk is cut after part of its body: the session is dead, the
# blob restarts from byte 0 out of the spool, the push succeeds
NS="$TEST_TMP/nosize"
NSDIG=$(layout_without_sizes "$L" "$NS")
start_fault_proxy "$PLAIN" --match '^PATCH ' --skip 1 --cut-after 200000
t="$FAULT_HOST/giteaadmin/resume-c:v1"
assert_push_ok "$t" "$NSDIG" --plain-http --jobs 1 --chunk-size 524288 "${FAST[@]}" "$NS" "$t"
assert_file_contains "$FAULT_LOG" "CUT PATCH .* after 200000 body bytes" "faultproxy cut a PATCH"
assert_contains "$LAST_ERR" "starting the upload again"
verify_pushed "$PLAIN/giteaadmin/resume-c:v1" "$NS" --tls-verify=false

log "PASS"
