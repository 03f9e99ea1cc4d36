#!/bin/bash
# tests/integration/t_plugin_relay_ctd.sh: the plugin as a non-root member
# of the docker socket's group against Debian 13's dockerd 26 with the
# containerd image store (tests/lib/dockerd_ctd.sh): the daemon pushes a
# `docker build` image through the plugin's loopback relay. Checked:
#  - the pushed digest is the image ID and docker push's; the registry has
#    the index with its attestation manifest (skopeo);
#  - into a loopback registry over plain HTTP that asks for no credentials,
#    the registry's upload sessions are handed over: the daemon sends the
#    blobs there itself (the registry's log: docker's user agent; none
#    came through the relay), the layers shown and counted from its report;
#    its manifests go up by digest as it puts them, the index (the image
#    ID) under the tag as soon as it came, which ends the daemon's push
#    call; with IDPPUSH_NO_HANDOVER set every byte comes through the relay;
#  - once the push cache has stored blobs in the repository, the temporary
#    tag is made first, by the image's name, and the daemon's tag event
#    tells the image ID (no inspect); an image that is not there still
#    fails as such (exit 4); when the relay cannot listen on the port the
#    early tag names (taken), it is removed and the image tagged on the
#    relay's port;
#  - a registry whose upload Location points at another port gets no
#    session handed over (the relay's own upload meets it: exit 5);
#  - behind a proxy with a 1 MB body limit the daemon's own uploads are
#    refused (413): the push is done again with every byte through the
#    relay, whose uploads go in chunks, and works;
#  - a rebuild does not upload the unchanged lower layer again; a push of
#    nothing new is the push cache's one HEAD;
#  - no temporary tag is left, also after the registry refused the blobs
#    (exit 5, no manifest put).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/dockerd_ctd.sh"
. "$TEST_LIB/registry.sh"
. "$TEST_LIB/proxy.sh"
. "$top_srcdir/tests/lib/plugin.sh"
need skopeo docker-registry curl python3 setpriv
need_plugin
need_dockerd_ctd
dkc_test_user
dockerd_ctd_start --group "$DKC_GROUP"
plugin_install "$DKC_USER_DOCKER_CONFIG"
chown -R "$DKC_USER:" "$DKC_USER_DOCKER_CONFIG"
UP=$DKC_USER_DOCKER_CONFIG/cli-plugins/docker-idppush

UPUSH_ENV=()
upush() { # CODE ARGS...: the plugin as the test user (exit CODE), UPUSH_ENV set
	local want=$1
	shift
	assert_exit "$want" dkc_as_user env IDPBUILDER_PUSH_RETRY_ATTEMPTS=1 "${UPUSH_ENV[@]}" \
		timeout -k 5 120 "$UP" -H "$DKC_H" idppush --plain-http "$@"
}
no_relay_refs() {
	local refs
	refs=$(dkc image ls --digests --format '{{.Repository}}:{{.Tag}} {{.Digest}}')
	assert_not_contains "$refs" "idppush-" "a temporary tag is left ($1)"
	assert_not_contains "$refs" "127.0.0.1:$RELAY_PORT/" "a relay reference is left ($1)"
}
raw() { skopeo_run inspect --raw --tls-verify=false "docker://$1"; }

CTX=$TEST_TMP/ctx
dkc_context "$CTX" 4000000 2000
V1=$(dkc_build app:v1 "$CTX")
start_registry plain

# ---- cold: the image ID, the index and its attestation ----
upush 0 -v app:v1 "$REG_HOST/r/app:v1"
assert_contains "$LAST_ERR" "pushed by the docker daemon through the relay on 127.0.0.1:"
assert_contains "$LAST_ERR" "the daemon's image store not read: the daemon (pid"
assert_not_contains "$LAST_ERR" "containerd image store not read" "no store probe"
RELAY_PORT=$(sed -n 's/.*through the relay on 127\.0\.0\.1:\([0-9]*\).*/\1/p' <<<"$LAST_ERR")
assert_eq "$V1" "${LAST_OUT#*@}" "the pushed digest is the image ID"
raw "$REG_HOST/r/app:v1" >"$TEST_TMP/index.json"
assert_eq "$V1" "sha256:$(sha256_file "$TEST_TMP/index.json")" "the registry's index"
"$PYTHON" - "$TEST_TMP/index.json" <<'EOF' || fail "the index lacks its attestation manifest"
import json, sys
idx = json.load(open(sys.argv[1]))
kinds = [m.get("annotations", {}).get("vnd.docker.reference.type") for m in idx["manifests"]]
sys.exit(0 if len(kinds) == 2 and "attestation-manifest" in kinds else 1)
EOF
for d in $("$PYTHON" -c 'import json, sys
print(" ".join(m["digest"] for m in json.load(open(sys.argv[1]))["manifests"]))' \
	"$TEST_TMP/index.json"); do
	raw "$REG_HOST/r/app@$d" >/dev/null || fail "manifest $d is not in the registry"
done
BIG=$("$PYTHON" -c 'import json, sys
idx = json.load(open(sys.argv[1]))
m = [m for m in idx["manifests"] if "annotations" not in m][0]
print(m["digest"])' "$TEST_TMP/index.json")
BIG=$(raw "$REG_HOST/r/app@$BIG" | "$PYTHON" -c 'import json, sys
print(json.load(sys.stdin)["layers"][0]["digest"])')
no_relay_refs "after the cold push"

# ---- handed over: the daemon's bytes went to the registry, not the relay ----
assert_contains "$LAST_ERR" "upload(s) sent by the daemon straight to $REG_HOST"
assert_contains "$LAST_ERR" "relay: upload session handed over"
assert_not_contains "$LAST_ERR" "relay: PUT /v2/r/app/blobs/uploads/" "bytes came through the relay"
assert_contains "$LAST_ERR" "pushed 3 layers (4" "the layers the daemon sent, counted"
PUTS=$(reg_log_requests PUT "/v2/r/app/blobs/uploads/")
[ -n "$PUTS" ] || fail "no blob upload reached the registry"
assert_not_contains "$(grep -v '"docker/' <<<"$PUTS")" "PUT" "a blob PUT not sent by the daemon"
# the manifests went up by digest as the daemon put them, the index under
# the tag as soon as it came: 2 by digest, 1 under the tag
assert_eq 2 "$(reg_log_requests PUT "/v2/r/app/manifests/sha256:" | wc -l)" \
	"manifests put by digest ahead of the end"
assert_eq 1 "$(reg_log_requests PUT "/v2/r/app/manifests/v1" | wc -l)" "the tag's put"
assert_contains "$LAST_ERR" "relay: $V1 is the image: under the tag at once"
# whether the daemon's push call was still running then (stopped: its
# report of the layers cut short) is a race: the count holds either way
stopped() { # for the log: which way the race went
	case $LAST_ERR in
	*"the daemon's push stopped there"*) log "$1: the daemon's push stopped, the image whole" ;;
	*) log "$1: the daemon's push ended before the image was whole under the tag" ;;
	esac
}
stopped "cold push"
assert_not_contains "$LAST_ERR" "tagged by the image's name" \
	"an early tag without the push cache's word that the store is containerd's"

# ---- rebuild: the lower layer stays; nothing changed: one HEAD ----
head -c 3000 /dev/urandom >"$CTX/f2.bin"
V2=$(dkc_build app:v1 "$CTX")
upush 0 -v app:v1 "$REG_HOST/r/app:v1"
assert_eq "$V2" "${LAST_OUT#*@}" "the rebuild's digest is its image ID"
assert_contains "$LAST_ERR" ", tagged by the image's name before the push" "the early tag"
assert_contains "$LAST_ERR" "image $V2: the ID the early tag named (the daemon's tag event)" \
	"the image ID from the tag"
stopped "rebuild"
assert_eq 1 "$(reg_log_requests PUT "/v2/r/app/blobs/uploads/.*${BIG#sha256:}" | wc -l)" \
	"the lower layer was uploaded again"
upush 0 -v app:v1 "$REG_HOST/r/app:v1"
assert_contains "$LAST_ERR" "nothing changed"
dkc tag app:v1 "$REG_HOST/dp/app:v1"
assert_contains "$(dkc push "$REG_HOST/dp/app:v1")" "digest: $V2" "docker push's digest"
no_relay_refs "after the rebuild"
# an image that is not there, where the early tag is made: still exit 4
upush 4 -v app:gone "$REG_HOST/r/app:v1"
assert_contains "$LAST_ERR" "the early tag named no image: inspected instead"
assert_contains "$LAST_ERR" "app:gone"
assert_eq "$V2" "sha256:$(raw "$REG_HOST/r/app:v1" | sha256sum | cut -d' ' -f1)" \
	"the tag after a push of no image"
no_relay_refs "after a push of no image"

# ---- the early tag's port taken: removed, the image tagged on the relay's ----
"$PYTHON" -c 'import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
time.sleep(300)' "$RELAY_PORT" &
HOLD=$!
wait_for_port 127.0.0.1 "$RELAY_PORT" 10 "$HOLD" || fail "cannot hold port $RELAY_PORT"
head -c 3000 /dev/urandom >"$CTX/f3.bin"
V3=$(dkc_build app:v3 "$CTX")
upush 0 -v app:v3 "$REG_HOST/r/app:v3"
kill "$HOLD"
wait "$HOLD" 2>/dev/null || true
assert_eq "$V3" "${LAST_OUT#*@}" "the digest pushed (port taken)"
assert_contains "$LAST_ERR" "relay: the early tag is not used (it names 127.0.0.1:$RELAY_PORT/"
assert_not_contains "$LAST_ERR" "through the relay on 127.0.0.1:$RELAY_PORT," "the port taken"
no_relay_refs "after the early tag's port was taken"

# ---- IDPPUSH_NO_HANDOVER: every byte through the relay ----
start_registry plain
UPUSH_ENV=(IDPPUSH_NO_HANDOVER=1)
upush 0 -v app:v1 "$REG_HOST/all/app:v1"
UPUSH_ENV=()
assert_eq "$V2" "${LAST_OUT#*@}" "the digest pushed with every byte through the relay"
assert_contains "$LAST_ERR" "relay: PUT /v2/all/app/blobs/uploads/"
assert_not_contains "$LAST_ERR" "handed over"
assert_eq "$V2" "sha256:$(raw "$REG_HOST/all/app:v1" | sha256sum | cut -d' ' -f1)" \
	"the registry's index (every byte through the relay)"

# ---- the daemon's own uploads refused (a body limit): again through the relay ----
start_registry plain
start_body_limit_proxy "$REG_HOST" 1m
upush 0 -v app:v1 "$PROXY_HOST/lim/app:v1"
assert_eq "$V2" "${LAST_OUT#*@}" "the digest pushed behind the proxy"
assert_contains "$LAST_ERR" "relay: the daemon's push failed"
assert_contains "$LAST_ERR" "again, every byte through the relay"
assert_contains "$(awk '$1 == "PATCH" && $3 == 413' "$PROXY_ACCESS_LOG" | head -n1)" "PATCH" \
	"the relay's upload met the limit too (and healed)"
assert_eq "$V2" "sha256:$(raw "$PROXY_HOST/lim/app:v1" | sha256sum | cut -d' ' -f1)" \
	"the registry's index behind the proxy"
no_relay_refs "after the push done again"

# ---- a Location elsewhere: the daemon is not sent there ----
start_hostile_registry location-elsewhere
upush 5 -v app:v1 "$HOSTILE_HOST/e/app:v1"
assert_not_contains "$LAST_ERR" "handed over" "the daemon sent to another port"
assert_contains "$LAST_ERR" "uploads come through the relay"
assert_eq 0 "$(hostile_count 'r["server"] == "elsewhere" and r["method"] == "PUT"')" \
	"a PUT reached the other port"
no_relay_refs "after a Location elsewhere"

# ---- the registry refuses the blobs ----
start_hostile_registry patch-fails
UPUSH_ENV=(IDPPUSH_NO_HANDOVER=1)   # the relay's own upload is refused
upush 5 app:v1 "$HOSTILE_HOST/f/app:v1"
UPUSH_ENV=()
assert_eq 0 "$(hostile_count 'r["method"] == "PUT" and "/manifests/" in r["path"]')" \
	"a manifest was put after the registry refused the blobs"
no_relay_refs "after the registry refused"
log "ok"
