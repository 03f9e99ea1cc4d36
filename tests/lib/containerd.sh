# tests/lib/containerd.sh: a private containerd for tests (own root, state,
# sockets and opt dir under $TEST_TMP, so the system's is never touched),
# and importing generated OCI layouts into it. Source after common.sh.
#   containerd_config DIR      a config.toml keeping everything in DIR (no harness needed)
#   need_containerd            containerd, ctr and root, or skip (fail under CI=true)
#   ctd_start                  start it (in its own session: a Ctrl-C reaches it only
#                              through the cleanup, so a dockerd using it stops
#                              first); sets CTD_ROOT, CTD_SOCK, CTD_PID, CTR (array)
#   ctd_running / ctd_stop     is it up / stop it now (the store stays)
#   ctd_import NS BASE DIR [CTR-IMPORT-ARGS...]
#                              tar the OCI layout DIR and `ctr images import
#                              --no-unpack --base-name BASE` it into NS
#   ctd_image_digest NS NAME   the image's target digest as ctr lists it
#   ctd_blob_file DIGEST       path of a blob in the content store
# shellcheck shell=bash

need_containerd() {
	need containerd ctr tar sha256sum
	[ "$(id -u)" = 0 ] || skip "containerd needs root"
}

_ctd_up() { "${CTR[@]}" version; }

# containerd_config DIR: print a config.toml for a containerd whose root,
# state, opt dir and sockets (DIR/c.sock, DIR/t.sock) all live in DIR, with
# the CRI plugin off. Needs nothing else from the harness (scripts/demo
# uses it too).
containerd_config() {
	cat <<-EOF
		version = 2
		root = "$1/root"
		state = "$1/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri"]
		[grpc]
		  address = "$1/c.sock"
		[ttrpc]
		  address = "$1/t.sock"
		[plugins."io.containerd.internal.v1.opt"]
		  path = "$1/opt"
	EOF
}

ctd_start() {
	local d="$TEST_TMP/ctd"
	mkdir -p "$d"
	CTD_ROOT=$d/root
	CTD_SOCK=$d/c.sock
	containerd_config "$d" >"$d/config.toml"
	bg_start ctd/containerd setsid containerd --config "$d/config.toml"
	CTD_PID=$BG_PID
	CTR=(ctr --address "$CTD_SOCK")
	wait_until 30 _ctd_up || fail "containerd did not come up"
	export CTD_ROOT CTD_SOCK CTD_PID
	log "containerd $CTD_PID, root $CTD_ROOT"
}

ctd_running() { kill -0 "$CTD_PID" 2>/dev/null; }

# gone, or a zombie waiting for `wait` (kill -0 still succeeds on those)
_ctd_gone() {
	local st
	st=$(awk '{ print $3 }' "/proc/$CTD_PID/stat" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "$st" = Z ]
}

# ctd_stop: stop containerd now (bounded wait); the store stays for reading.
ctd_stop() {
	kill -TERM "$CTD_PID" 2>/dev/null || true
	wait_until 20 _ctd_gone || kill -KILL "$CTD_PID" 2>/dev/null || true
	wait "$CTD_PID" 2>/dev/null || true
}

ctd_import() {
	local ns=$1 base=$2 dir=$3
	shift 3
	local tarf="$TEST_TMP/import.$RANDOM$RANDOM.tar"
	tar -C "$dir" -cf "$tarf" oci-layout index.json blobs
	"${CTR[@]}" -n "$ns" images import --no-unpack --base-name "$base" "$@" "$tarf" \
		>/dev/null ||
		fail "ctr images import $base into $ns failed"
	rm -f "$tarf"
}

ctd_image_digest() {
	"${CTR[@]}" -n "$1" images ls | awk -v n="$2" '$1 == n { print $3 }'
}

ctd_blob_file() { echo "$CTD_ROOT/io.containerd.content.v1.content/blobs/sha256/${1#sha256:}"; }
