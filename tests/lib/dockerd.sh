# tests/lib/dockerd.sh: a private dockerd (Debian's docker.io 20.10) on the
# harness's private containerd (tests/lib/containerd.sh), with its data
# root, exec root, socket and pidfile under $TEST_TMP. Source after
# common.sh and containerd.sh; used by t_plugin_dockerd.sh and bench/run.
#   need_dockerd     dockerd, /usr/bin/docker, containerd, ctr and root, or skip
#   dockerd_start [--group GROUP] [--netns]
#                    start containerd (ctd_start) unless it runs, then dockerd
#                    in its own session (a Ctrl-C reaches it only through the
#                    cleanup, which stops it before containerd); sets DH (its
#                    -H address), DPID, DOCKERD_ROOT (its data root). With
#                    --group its API socket belongs to GROUP, and $TEST_TMP
#                    and the socket's directory are root:GROUP 0710, so
#                    GROUP's members (dkc_test_user's) reach it; --netns:
#                    in a network namespace of its own (unshare -n, as a
#                    rootless dockerd is): this host's 127.0.0.1 is not its
#   dockerd_stop     stop dockerd (TERM, up to 15 s, then KILL) and unmount
#                    what it left mounted under $TEST_TMP; the EXIT trap set
#                    by dockerd_start does it too, before the harness's cleanup
#   dk ARGS...       /usr/bin/docker -H $DH ARGS, bounded by DOCKER_TIMEOUT
#                    (default 180 s)
#   load_layout LAYOUT NAME:TAG   docker load an OCI layout (through skopeo's
#                    docker-archive) as NAME:TAG
# shellcheck shell=bash

DPID=
DH=

need_dockerd() {
	need dockerd
	[ -x /usr/bin/docker ] || need docker.io-client-at-/usr/bin/docker
	need_containerd
}

dockerd_stop() {
	local m
	if [ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null; then
		for _ in $(seq 1 150); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$DPID" 2>/dev/null || true
		wait "$DPID" 2>/dev/null || true
	fi
	DPID=
	for m in $(awk -v d="$TEST_TMP/" 'index($2, d) == 1 { print $2 }' /proc/mounts |
		sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
}

_dockerd_cleanup() {
	local rc=$?
	set +e
	dockerd_stop
	(exit "$rc")
	_cleanup
}

dockerd_start() {
	local d="$TEST_TMP/dockerd" s="$TEST_TMP/s" group="" # sockets: keep their paths short
	local -a ns=()
	while [ "$#" -gt 0 ]; do
		case "$1" in
		--group) group=$2 && shift ;;
		--netns) ns=(unshare -n) ;;
		*) fail "dockerd_start: unknown option $1" ;;
		esac
		shift
	done
	mkdir -p "$d/root" "$s"
	if [ -n "$group" ]; then
		chgrp "$group" "$TEST_TMP" "$s"
		chmod 0710 "$TEST_TMP" "$s"
	fi
	DOCKERD_ROOT=$d/root
	[ -n "${CTD_PID:-}" ] && ctd_running || ctd_start
	trap _dockerd_cleanup EXIT
	printf '{"deprecated-key-path":"%s/key.json"}\n' "$d" >"$d/daemon.json"
	bg_start dockerd setsid "${ns[@]}" dockerd --data-root "$d/root" --exec-root "$s/x" \
		--pidfile "$d/pid" -H "unix://$s/d.sock" ${group:+--group "$group"} \
		--containerd "$CTD_SOCK" --config-file "$d/daemon.json" \
		--iptables=false --ip6tables=false --bridge=none
	DPID=$BG_PID
	DH="unix://$s/d.sock"
	wait_until 60 /usr/bin/docker -H "$DH" version || {
		tail -20 "$TEST_TMP/dockerd.log" >&2
		fail "dockerd did not start"
	}
	export DH DPID DOCKERD_ROOT
	log "dockerd $DPID at $DH, data root $DOCKERD_ROOT"
}

dk() { timeout -k 5 "${DOCKER_TIMEOUT:-180}" /usr/bin/docker -H "$DH" "$@"; }

load_layout() { # LAYOUT NAME:TAG
	skopeo_run copy --quiet "oci:$1" "docker-archive:$TEST_TMP/load.tar:$2" ||
		fail "skopeo docker-archive $2"
	dk load -i "$TEST_TMP/load.tar" >/dev/null || fail "docker load $2"
	rm -f "$TEST_TMP/load.tar"
}
