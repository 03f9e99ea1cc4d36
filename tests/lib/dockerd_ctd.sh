# tests/lib/dockerd_ctd.sh: a private dockerd that keeps images in
# containerd's image store (what Docker 29 does by default), for tests and
# bench/. Debian 12 ships dockerd 20.10, which has no such store, so this
# runs Debian 13's (trixie) docker.io 26.1, containerd 1.7 and docker-buildx
# 0.13, extracted (not installed) from their .debs into a cache; runc stays
# Debian 12's (trixie's needs a newer glibc; nothing here runs a container).
# Source after common.sh. Functions:
#   dkc_fetch         fetch and extract the three packages once into
#                     $DKC_CACHE (below); idempotent, safe when several
#                     tests fetch at once (flock); 1 on failure, the reason
#                     in DKC_FETCH_ERR. The only step that leaves loopback:
#                     apt-get from the system's own Debian mirror, suite
#                     trixie, with private sources/lists/cache (the
#                     system's apt state is not touched). Checked: the
#                     InRelease signature (gpgv, Debian's keyring), the
#                     Packages index against it, each .deb against that.
#   need_dockerd_ctd  root, the tools, the packages (dkc_fetch) and a docker
#                     CLI, or skip with the reason (fail under CI=true)
#   dockerd_ctd_start [--group GROUP] [--managed]
#                     a private containerd (trixie's) and dockerd 26 on it
#                     with {"features":{"containerd-snapshotter":true}},
#                     data roots under $TEST_TMP/dkc, sockets in
#                     $TEST_TMP/k (dkc2, k2... for a later start in the same
#                     test), --iptables=false --bridge=none, each in its own
#                     session (stopped by the EXIT trap before the harness's
#                     cleanup). --managed: no containerd of ours, dockerd
#                     starts its own (root <data root>/containerd/daemon,
#                     socket <exec root>/containerd/containerd.sock), in a
#                     mount namespace with a private /opt (that containerd
#                     makes /opt/containerd). The API socket's group is GROUP
#                     (default: $DKC_GROUP if dkc_test_user ran, else root),
#                     and then $TEST_TMP and $TEST_TMP/k are root:GROUP 0710
#                     so GROUP's members reach it. Links docker-buildx into
#                     $DOCKER_CONFIG/cli-plugins. Exports:
#                       DKC_H        -H address (unix://$TEST_TMP/k/d.sock)
#                       DKC_SOCK     that socket's path
#                       DKC_PID      dockerd's pid
#                       DKC_ROOT     dockerd's data root (DockerRootDir)
#                       DKC_CTD_ROOT containerd's root (blobs under
#                                    io.containerd.content.v1.content/)
#                       DKC_CTD_SOCK containerd's socket, DKC_CTD_PID its pid
#                       DKC_NS       dockerd's containerd namespace (moby)
#                       DKC_CTR      array: trixie's ctr on that socket
#   dockerd_ctd_stop  stop dockerd, then containerd (bounded), unmount what
#                     they left under $TEST_TMP; the stores stay for reading
#   dkc ARGS...       the docker CLI ($DKC_CLI) -H $DKC_H ARGS, bounded by
#                     DOCKER_TIMEOUT (default 180 s)
#   dkc_install_buildx DIR   DIR/cli-plugins/docker-buildx -> trixie's buildx
#   dkc_context DIR SIZE...  a build context: DIR/f<i>.bin of SIZE random
#                     bytes each, and a Dockerfile (FROM scratch, one COPY per
#                     file, in order: one layer each; no RUN)
#   dkc_build TAG DIR [BUILD-ARGS...]
#                     BuildKit builds DIR (its Dockerfile) as TAG; prints the
#                     image ID, which is the digest of the OCI index it stores
#                     (the image manifest and, by BuildKit's default, an
#                     attestation manifest); log in $TEST_TMP/dkc/build.log
#                     (dkc2/... after a second start)
#   dkc_blob_file DIGEST     a blob's path in containerd's content store
#   dkc_index_parts ID       "IMAGE-MANIFEST ATTESTATION FIRST-LAYER" of the
#                     stored index ID (what dkc_build made), on stdout
#   dkc_host_manifest ID     the host platform's manifest in the stored index ID
#   dkc_check_served REF ID  the registry (plain HTTP) serves REF as the
#                     stored index ID, byte for byte, and its attestation
#                     manifest by digest
#   dkc_check_unchanged REPO ID CMD...
#                     CMD pushes REPO:v1 again with -v (the last registry
#                     started): its digest is ID, -v says nothing changed,
#                     and the registry saw one request for REPO, a HEAD of
#                     the tag
#   dkc_check_raw REPO CMD...
#                     dkc_load_raw idptest/loaded:v1, then CMD
#                     idptest/loaded:v1 $REG_HOST/REPO:v1 must push it with
#                     the image ID as its digest, the layer as stored
#                     (uncompressed) in the registry
#   dkc_load_raw TAG DIR     docker load (a docker-archive built in DIR) a
#                     one-layer image as TAG, whose layer containerd then
#                     stores uncompressed; sets DKC_RAW_LAYER (that layer's
#                     tar) and DKC_RAW_DIFF (its digest, the diffID)
#   dkc_test_user     make sure the test user and group exist (created once
#                     and left on the machine: IDPPUSH_TEST_USER, default
#                     idptest, a system user whose primary group is its own;
#                     IDPPUSH_TEST_GROUP, default idptest-docker, which it is
#                     a member of, as a user in the docker group); sets
#                     DKC_USER, DKC_GROUP, DKC_USER_HOME (its HOME under
#                     $TEST_TMP, owned by it) and DKC_USER_DOCKER_CONFIG
#                     (with docker-buildx). Call it before dockerd_ctd_start.
#                     A plugin for it: plugin_install "$DKC_USER_DOCKER_CONFIG",
#                     then chown -R "$DKC_USER:" "$DKC_USER_DOCKER_CONFIG".
#   dkc_as_user CMD...       CMD as DKC_USER with its groups (setpriv
#                     --init-groups), HOME, DOCKER_CONFIG, XDG_CACHE_HOME and
#                     TMPDIR its own; the binary and every parent directory
#                     must be reachable by it
#   dkc_user ARGS...  the docker CLI as DKC_USER against this daemon
# Env: IDPPUSH_TRIXIE_CACHE (default /var/cache/idppush-test/trixie; shared
#   by tests and bench, survives between runs), IDPPUSH_TRIXIE_ROOT (use an
#   extracted tree there instead: nothing is fetched), IDPPUSH_TRIXIE_MIRROR
#   (default: the system's Debian mirror, from apt-get indextargets),
#   IDPPUSH_DKC_CLI (the docker CLI; default /usr/local/bin/docker when it is
#   there (docker build = buildx), else /usr/bin/docker, 20.10, whose own
#   `docker build` makes no attestation: dkc_build then runs `buildx build`).
# shellcheck shell=bash

DKC_CACHE=${IDPPUSH_TRIXIE_CACHE:-/var/cache/idppush-test/trixie}
DKC_BIN=${IDPPUSH_TRIXIE_ROOT:-$DKC_CACHE/root}
DKC_PKGS="docker.io containerd docker-buildx"
DKC_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
DKC_FETCH_ERR=
DKC_PID=
DKC_CTD_PID=
DKC_H=
DKC_GROUP=${DKC_GROUP:-}
DKC_NS=moby

_dkc_have_tree() {
	local b
	for b in usr/sbin/dockerd usr/bin/containerd usr/bin/containerd-shim-runc-v2 usr/bin/ctr \
		usr/libexec/docker/cli-plugins/docker-buildx; do
		[ -x "$DKC_BIN/$b" ] || return 1
	done
}

# _dkc_mirror: the URI of the system's Debian archive (the line of the
# system's main suite, not -security or -updates).
_dkc_mirror() {
	local rel
	rel=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	# shellcheck disable=SC2016 # apt's own $(FIELD) syntax
	apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
		awk -v r="$rel" '$2 == r { print $1; exit }'
}

# _dkc_deb_sha256 PACKAGES-FILE PKG VERSION: the SHA256 the index gives.
_dkc_deb_sha256() {
	awk -v p="$2" -v v="$3" '
		function hit() { if (n == p && ver == v && h != "" && !done) { print h; done = 1 } }
		/^$/ { hit(); n = ver = h = "" }
		/^Package: / { n = $2 }
		/^Version: / { ver = $2 }
		/^SHA256: / { h = $2 }
		END { hit() }' "$1"
}

# _dkc_no MESSAGE: say why on stderr and leave the fetch's subshell (set -e
# does not hold there: the subshell runs on the left of ||).
_dkc_no() {
	echo "$*" >&2
	exit 1
}

# _dkc_fetch_locked WORK: the fetch, in a subshell holding the cache's lock;
# says why it failed on stderr.
_dkc_fetch_locked() {
	local w=$1 mirror lists inrel pk want got deb p v
	mirror=${IDPPUSH_TRIXIE_MIRROR:-$(_dkc_mirror)}
	[ -n "$mirror" ] || _dkc_no "no Debian mirror in apt-get indextargets"
	[ -r "$DKC_KEYRING" ] || _dkc_no "no $DKC_KEYRING (debian-archive-keyring)"
	mkdir -p "$w/lists/partial" "$w/cache/archives/partial" "$w/debs" "$w/root" ||
		_dkc_no "cannot write to $w"
	: >"$w/status"
	echo "deb [signed-by=$DKC_KEYRING] ${mirror%/}/ trixie main" >"$w/sources.list"
	local -a apt=(apt-get -q -o "Dir::Etc::sourcelist=$w/sources.list"
		-o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$w/lists"
		-o "Dir::Cache=$w/cache" -o "Dir::State::status=$w/status"
		-o "Dir::State::extended_states=$w/extended_states"
		-o Acquire::AllowInsecureRepositories=false
		-o Acquire::AllowDowngradeToInsecureRepositories=false
		-o APT::Get::AllowUnauthenticated=false)
	"${apt[@]}" update >"$w/update.log" 2>&1 ||
		{ tail -n 5 "$w/update.log" >&2; _dkc_no "apt-get update (trixie) failed"; }
	# apt checked the signature and the index; check both again ourselves
	inrel=$(find "$w/lists" -maxdepth 1 -name '*_dists_trixie_InRelease' | head -n1)
	pk=$(find "$w/lists" -maxdepth 1 -name '*_dists_trixie_main_binary-*_Packages*' | head -n1)
	[ -n "$inrel" ] && [ -n "$pk" ] ||
		{ tail -n 5 "$w/update.log" >&2; _dkc_no "no signed trixie index after update"; }
	gpgv --keyring "$DKC_KEYRING" --output "$w/Release" "$inrel" >"$w/gpgv.log" 2>&1 ||
		{ cat "$w/gpgv.log" >&2; _dkc_no "bad signature on $inrel"; }
	/usr/lib/apt/apt-helper cat-file "$pk" >"$w/Packages" ||
		_dkc_no "cannot read $pk"
	lists=${pk##*_main_}
	lists=main/${lists%%_Packages*}/Packages
	want=$(awk -v f="$lists" '/^SHA256:/ { s = 1; next } /^[^ ]/ { s = 0 }
		s && $3 == f { print $1; exit }' "$w/Release")
	got=$(sha256_file "$w/Packages")
	[ -n "$want" ] && [ "$want" = "$got" ] ||
		_dkc_no "$lists: sha256 $got, the signed Release says '$want'"
	# apt-get download writes into the current directory as _apt
	! id _apt >/dev/null 2>&1 || chown _apt "$w/debs"
	local -a want_pkgs=()
	for p in $DKC_PKGS; do want_pkgs+=("$p/trixie"); done
	(cd "$w/debs" && "${apt[@]}" download "${want_pkgs[@]}") >"$w/download.log" 2>&1 ||
		{ tail -n 5 "$w/download.log" >&2; _dkc_no "apt-get download failed"; }
	: >"$w/root/VERSIONS"
	for p in $DKC_PKGS; do
		deb=$(find "$w/debs" -maxdepth 1 -name "${p}_*.deb" | head -n1)
		[ -n "$deb" ] || _dkc_no "$p: no .deb downloaded"
		[ "$(dpkg-deb -f "$deb" Package)" = "$p" ] || _dkc_no "$deb is not $p"
		v=$(dpkg-deb -f "$deb" Version)
		want=$(_dkc_deb_sha256 "$w/Packages" "$p" "$v")
		got=$(sha256_file "$deb")
		[ -n "$want" ] && [ "$want" = "$got" ] ||
			_dkc_no "$deb: sha256 $got, the signed index says '$want'"
		dpkg-deb -x "$deb" "$w/root" || _dkc_no "dpkg-deb -x $deb failed"
		echo "$p $v sha256:$got" >>"$w/root/VERSIONS"
	done
	echo "${mirror%/} trixie $(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$w/root/SOURCE"
	chmod 755 "$w/root"
	rm -rf "$DKC_CACHE/root"
	mv "$w/root" "$DKC_CACHE/root" || _dkc_no "cannot move the tree into $DKC_CACHE"
}

dkc_fetch() {
	DKC_FETCH_ERR=
	if [ -n "${IDPPUSH_TRIXIE_ROOT:-}" ]; then
		_dkc_have_tree && return 0
		DKC_FETCH_ERR="$DKC_BIN (IDPPUSH_TRIXIE_ROOT) lacks dockerd, containerd or buildx"
		return 1
	fi
	_dkc_have_tree && return 0
	local c=$DKC_CACHE w rc=0
	# 0755 all the way: a test user runs buildx from there
	(umask 022 && mkdir -p "$c") 2>/dev/null || { DKC_FETCH_ERR="cannot create $c"; return 1; }
	w=$(mktemp -d "$c/.fetch.XXXXXX") || { DKC_FETCH_ERR="cannot write to $c"; return 1; }
	chmod 755 "$w" # apt's downloads run as _apt
	log "fetching Debian 13's $DKC_PKGS into $c (once; or waiting for another's fetch)"
	# another test may be fetching: wait for it (bounded), then look again
	(
		flock -w 900 9 || { echo "timed out waiting for $c/.lock" >&2; exit 1; }
		_dkc_have_tree && exit 0
		_dkc_fetch_locked "$w"
	) 9>>"$c/.lock" 2>"$w.err" || rc=$?
	if [ "$rc" != 0 ]; then
		DKC_FETCH_ERR=$(tr '\n' ' ' <"$w.err")
		[ -n "$DKC_FETCH_ERR" ] || DKC_FETCH_ERR="fetch failed ($rc)"
	fi
	cat "$w"/*.log "$w.err" >"$c/last-fetch.log" 2>/dev/null
	rm -rf "$w" "$w.err"
	[ "$rc" = 0 ] && _dkc_have_tree
}

# _dkc_cli_major CLI: the docker CLI's major version (0 if unknown).
_dkc_cli_major() {
	local v
	v=$("$1" --version 2>/dev/null | sed -n 's/^Docker version \([0-9]*\)\..*/\1/p')
	echo "${v:-0}"
}

need_dockerd_ctd() {
	[ "$(id -u)" = 0 ] || skip "a dockerd with the containerd store needs root"
	need apt-get dpkg-deb gpgv flock setsid setpriv runc sha256sum
	if [ -n "${IDPPUSH_DKC_CLI:-}" ]; then
		DKC_CLI=$IDPPUSH_DKC_CLI
	elif [ -x /usr/local/bin/docker ]; then
		DKC_CLI=/usr/local/bin/docker
	else
		DKC_CLI=/usr/bin/docker
	fi
	[ -x "$DKC_CLI" ] || skip "no docker CLI at $DKC_CLI"
	dkc_fetch || skip "cannot get Debian 13's $DKC_PKGS: $DKC_FETCH_ERR"
	export DKC_CLI
}

dkc_install_buildx() {
	mkdir -p "$1/cli-plugins"
	ln -sfn "$DKC_BIN/usr/libexec/docker/cli-plugins/docker-buildx" \
		"$1/cli-plugins/docker-buildx"
}

# _dkc_gone PID: gone, or a zombie waiting for `wait`
_dkc_gone() {
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "$st" = Z ]
}

# _dkc_kill PID SECS: TERM, up to SECS, then KILL
_dkc_kill() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || true
	wait_until "$2" _dkc_gone "$1" || kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	untrack_pid "$1"
}

dockerd_ctd_stop() {
	local m
	_dkc_kill "$DKC_PID" 15
	DKC_PID=
	_dkc_kill "$DKC_CTD_PID" 15
	DKC_CTD_PID=
	for m in $(awk -v a="${_DKC_D:-$TEST_TMP/dkc}/" -v b="${_DKC_S:-$TEST_TMP/k}/" \
		'index($2, a) == 1 || index($2, b) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
}

_dkc_cleanup() {
	local rc=$?
	set +e
	dockerd_ctd_stop
	# a dockerd from tests/lib/dockerd.sh in the same test: its trap was replaced
	if [ -n "${DPID:-}" ] && declare -F dockerd_stop >/dev/null; then dockerd_stop; fi
	(exit "$rc")
	_cleanup
}

_dkc_ctd_up() { "${DKC_CTR[@]}" version; }
_dkc_up() { "$DKC_CLI" -H "$DKC_H" version; }

# _dkc_dirs: this start's data dir and (short) socket dir, new for each
# start in a test: _DKC_D, _DKC_S
_DKC_N=0
_dkc_dirs() {
	_DKC_N=$((_DKC_N + 1))
	_DKC_D=$TEST_TMP/dkc
	_DKC_S=$TEST_TMP/k
	if [ "$_DKC_N" -gt 1 ]; then
		_DKC_D+=$_DKC_N
		_DKC_S+=$_DKC_N
	fi
}

dockerd_ctd_start() {
	local group=$DKC_GROUP managed=0 how=
	while [ "$#" -gt 0 ]; do
		case "$1" in
		--group)
			group=$2
			shift
			;;
		--managed) managed=1 ;;
		*) fail "dockerd_ctd_start: unknown option $1" ;;
		esac
		shift
	done
	[ -z "$DKC_PID" ] || fail "dockerd_ctd_start: one runs already (dockerd_ctd_stop it)"
	_dkc_dirs
	local d=$_DKC_D s=$_DKC_S n
	local path="$DKC_BIN/usr/sbin:$DKC_BIN/usr/bin:$PATH"
	n=$(basename "$d")
	mkdir -p "$d/root" "$d/ctd" "$s"
	if [ -n "$group" ]; then
		chgrp "$group" "$TEST_TMP" "$s"
		chmod 0710 "$TEST_TMP" "$s"
	fi
	DKC_ROOT=$d/root
	DKC_SOCK=$s/d.sock
	DKC_H=unix://$DKC_SOCK
	local -a run=(setsid) ctd=(--containerd "$s/c.sock")
	trap _dkc_cleanup EXIT
	if [ "$managed" = 1 ]; then
		# dockerd starts containerd itself, as it does without --containerd;
		# that containerd's opt plugin makes /opt/containerd: a private /opt
		need unshare
		mkdir -p "$d/opt"
		# shellcheck disable=SC2016 # for sh -c
		run=(setsid unshare -m --propagation private sh -c
			'mount --bind "$1" /opt && shift && exec "$@"' sh "$d/opt")
		ctd=()
		how="(dockerd's own) "
		DKC_CTD_ROOT=$DKC_ROOT/containerd/daemon
		DKC_CTD_SOCK=$s/x/containerd/containerd.sock
	else
		DKC_CTD_ROOT=$d/ctd/root
		DKC_CTD_SOCK=$s/c.sock
		cat >"$d/ctd/config.toml" <<-EOF
			version = 2
			root = "$DKC_CTD_ROOT"
			state = "$d/ctd/state"
			disabled_plugins = ["io.containerd.grpc.v1.cri"]
			[grpc]
			  address = "$DKC_CTD_SOCK"
			[ttrpc]
			  address = "$s/t.sock"
			[plugins."io.containerd.internal.v1.opt"]
			  path = "$d/ctd/opt"
		EOF
		bg_start "$n/containerd" setsid env PATH="$path" \
			"$DKC_BIN/usr/bin/containerd" --config "$d/ctd/config.toml"
		DKC_CTD_PID=$BG_PID
	fi
	DKC_CTR=("$DKC_BIN/usr/bin/ctr" --address "$DKC_CTD_SOCK")
	if [ "$managed" = 0 ]; then
		wait_until 30 _dkc_ctd_up || fail "containerd (trixie) did not come up"
	fi
	printf '{"features":{"containerd-snapshotter":true}}\n' >"$d/daemon.json"
	bg_start "$n/dockerd" "${run[@]}" env PATH="$path" "$DKC_BIN/usr/sbin/dockerd" \
		--data-root "$DKC_ROOT" --exec-root "$s/x" --pidfile "$d/pid" -H "$DKC_H" \
		--group "$group" "${ctd[@]}" --containerd-namespace "$DKC_NS" \
		--containerd-plugins-namespace "plugins.$DKC_NS" --config-file "$d/daemon.json" \
		--iptables=false --ip6tables=false --bridge=none
	DKC_PID=$BG_PID
	wait_until 60 _dkc_up || fail "dockerd (trixie) did not start"
	if [ "$managed" = 1 ]; then
		DKC_CTD_PID=$(pgrep -P "$DKC_PID" -x containerd) ||
			fail "no containerd under dockerd $DKC_PID"
		wait_until 30 _dkc_ctd_up || fail "dockerd's containerd does not answer"
	fi
	dkc_install_buildx "$DOCKER_CONFIG"
	export DKC_H DKC_SOCK DKC_PID DKC_ROOT DKC_CTD_ROOT DKC_CTD_SOCK DKC_CTD_PID DKC_NS
	log "dockerd 26 (containerd store) $DKC_PID at $DKC_H, containerd $DKC_CTD_PID" \
		"${how}root $DKC_CTD_ROOT${group:+, socket group $group}"
}

dkc() { timeout -k 5 "${DOCKER_TIMEOUT:-180}" "$DKC_CLI" -H "$DKC_H" "$@"; }

dkc_context() {
	local dir=$1 i=0 size
	shift
	mkdir -p "$dir"
	echo "FROM scratch" >"$dir/Dockerfile"
	for size in "$@"; do
		i=$((i + 1))
		head -c "$size" /dev/urandom >"$dir/f$i.bin"
		echo "COPY f$i.bin /f$i.bin" >>"$dir/Dockerfile"
	done
}

dkc_build() {
	local tag=$1 dir=$2
	shift 2
	local -a cmd=(build)
	[ "$(_dkc_cli_major "$DKC_CLI")" -ge 23 ] || cmd=(buildx build)
	dkc "${cmd[@]}" --progress plain -t "$tag" "$@" "$dir" >>"$_DKC_D/build.log" 2>&1 ||
		{ tail -n 20 "$_DKC_D/build.log" >&2; fail "docker build of $tag failed"; }
	dkc image inspect -f '{{.Id}}' "$tag"
}

dkc_blob_file() { echo "$DKC_CTD_ROOT/io.containerd.content.v1.content/blobs/sha256/${1#sha256:}"; }

dkc_index_parts() {
	"$PYTHON" - "$(dkc_blob_file "$1")" "$DKC_CTD_ROOT" <<'PY'
import json, os, sys
idx = json.load(open(sys.argv[1]))
att = [m for m in idx["manifests"] if "vnd.docker.reference.type" in m.get("annotations", {})]
img = [m for m in idx["manifests"] if m not in att]
blobs = os.path.join(sys.argv[2], "io.containerd.content.v1.content/blobs/sha256")
man = json.load(open(os.path.join(blobs, img[0]["digest"][7:])))
print(img[0]["digest"], att[0]["digest"], man["layers"][0]["digest"])
PY
}

dkc_host_manifest() {
	"$PYTHON" - "$(dkc_blob_file "$1")" "$(_host_goarch)" <<'PY'
import json, sys
idx = json.load(open(sys.argv[1]))
print([m["digest"] for m in idx["manifests"]
       if m.get("platform") == {"architecture": sys.argv[2], "os": "linux"}][0])
PY
}

dkc_check_served() {
	local ref=$1 id=$2 att
	skopeo_run inspect --raw --tls-verify=false "docker://$ref" >"$TEST_TMP/served" ||
		fail "skopeo inspect $ref"
	cmp -s "$(dkc_blob_file "$id")" "$TEST_TMP/served" ||
		fail "$ref: the registry serves other bytes than the stored index $id"
	read -r _ att _ < <(dkc_index_parts "$id") || fail "the stored index of $id"
	skopeo_run inspect --raw --tls-verify=false "docker://${ref%:*}@$att" \
		>"$TEST_TMP/served.att" || fail "no attestation manifest $att in ${ref%:*}"
	assert_eq "$att" "sha256:$(sha256sum "$TEST_TMP/served.att" | cut -d' ' -f1)" \
		"the attestation manifest served"
}

_dkc_requests() { grep -cE "\"[A-Z]+ /v2/$1/" "$REG_LOG" || true; }

dkc_check_unchanged() {
	local repo=$1 id=$2 n0
	shift 2
	n0=$(_dkc_requests "$repo")
	assert_exit 0 "$@"
	assert_eq "$REG_HOST/$repo:v1@$id" "$LAST_OUT" "digest when nothing changed"
	assert_contains "$LAST_ERR" "nothing changed: v1 names the image ID $id already"
	assert_eq $((n0 + 1)) "$(_dkc_requests "$repo")" "requests for $repo when nothing changed"
	reg_log_requests HEAD "/v2/$repo/manifests/v1" | tail -n 1 | grep -q '" 200 ' ||
		fail "the one request for $repo is not a HEAD of the tag"
}

dkc_check_raw() {
	local repo=$1 id d
	shift
	dkc_load_raw idptest/loaded:v1 "$TEST_TMP/load"
	id=$(dkc image inspect -f '{{.Id}}' idptest/loaded:v1)
	assert_exit 0 "$@" idptest/loaded:v1 "$REG_HOST/$repo:v1"
	assert_eq "$REG_HOST/$repo:v1@$id" "$LAST_OUT" "digest of the loaded image"
	d=$DKC_RAW_DIFF
	d=$REG_DATA/docker/registry/v2/blobs/sha256/${d:7:2}/${d#sha256:}/data
	cmp -s "$DKC_RAW_LAYER" "$d" || fail "the uncompressed layer was not pushed as stored"
}

dkc_load_raw() {
	local tag=$1 d=$2 fmt cfg
	mkdir -p "$d/data" "$d/arch"
	head -c 200000 /dev/urandom >"$d/data/payload.bin"
	tar --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$d/data" -cf "$d/layer.tar" \
		payload.bin
	DKC_RAW_LAYER=$d/layer.tar
	DKC_RAW_DIFF=sha256:$(sha256sum "$d/layer.tar" | cut -d' ' -f1)
	fmt='{"architecture":"%s","os":"linux","config":{},'
	fmt+='"rootfs":{"type":"layers","diff_ids":["%s"]}}'
	# shellcheck disable=SC2059 # the format is built above
	printf "$fmt" "$(_host_goarch)" "$DKC_RAW_DIFF" >"$d/config.json"
	cfg=$(sha256sum "$d/config.json" | cut -d' ' -f1)
	mkdir "$d/arch/${DKC_RAW_DIFF#sha256:}"
	cp "$d/layer.tar" "$d/arch/${DKC_RAW_DIFF#sha256:}/layer.tar"
	cp "$d/config.json" "$d/arch/$cfg.json"
	printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' \
		"$cfg" "$tag" "${DKC_RAW_DIFF#sha256:}" >"$d/arch/manifest.json"
	tar -C "$d/arch" -cf "$d/archive.tar" .
	dkc load -i "$d/archive.tar" >/dev/null || fail "docker load of $tag"
}

dkc_test_user() {
	DKC_USER=${IDPPUSH_TEST_USER:-idptest}
	DKC_GROUP=${IDPPUSH_TEST_GROUP:-idptest-docker}
	need useradd groupadd usermod getent
	# several tests may add them at once: one at a time
	(
		flock -w 60 9 || exit 1
		getent group "$DKC_GROUP" >/dev/null || groupadd --system "$DKC_GROUP" || exit 1
		if ! getent passwd "$DKC_USER" >/dev/null; then
			useradd --system --user-group --no-create-home --home-dir /nonexistent \
				--shell /usr/sbin/nologin --groups "$DKC_GROUP" "$DKC_USER" ||
				exit 1
		fi
		id -nG "$DKC_USER" | tr ' ' '\n' | grep -qx "$DKC_GROUP" ||
			usermod -aG "$DKC_GROUP" "$DKC_USER"
	) 9>>"$(test -d /run/lock && echo /run/lock || echo /tmp)/idppush-test-user.lock" ||
		skip "cannot create the test user $DKC_USER in group $DKC_GROUP"
	DKC_USER_HOME=$TEST_TMP/u
	DKC_USER_DOCKER_CONFIG=$DKC_USER_HOME/.docker
	mkdir -p "$DKC_USER_HOME/tmp" "$DKC_USER_HOME/.cache"
	dkc_install_buildx "$DKC_USER_DOCKER_CONFIG"
	chown -R "$DKC_USER:" "$DKC_USER_HOME"
	chmod 700 "$DKC_USER_HOME"
	export DKC_USER DKC_GROUP DKC_USER_HOME DKC_USER_DOCKER_CONFIG
}

dkc_as_user() {
	[ -n "${DKC_USER_HOME:-}" ] || fail "dkc_as_user: call dkc_test_user first"
	setpriv --reuid="$DKC_USER" --regid="$(id -g "$DKC_USER")" --init-groups \
		env HOME="$DKC_USER_HOME" DOCKER_CONFIG="$DKC_USER_DOCKER_CONFIG" \
		XDG_CACHE_HOME="$DKC_USER_HOME/.cache" TMPDIR="$DKC_USER_HOME/tmp" "$@"
}

dkc_user() {
	dkc_as_user timeout -k 5 "${DOCKER_TIMEOUT:-180}" "$DKC_CLI" -H "$DKC_H" "$@"
}
