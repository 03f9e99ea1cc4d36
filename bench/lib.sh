# bench/lib.sh: helpers for the benchmarks (bench/run, bench/bench_containerd.sh),
# sourced after tests/lib/common.sh. Functions only:
#   now_us / now_ms              wall clock in microseconds / milliseconds
#   median N...                  the median (the lower one of an even count)
#   ratio A B                    A / B with two decimals (0.00 when B is 0)
#   mb BYTES                     in MB (10^6), one decimal
#   bench_time [--try] [--stdout FILE] LOG CMD...
#                                run CMD (stdout, or FILE, and stderr to LOG,
#                                BENCH_TIMEOUT s at most); its wall time in
#                                LAST_US, the CPU time every process on the
#                                machine used meanwhile (busy_ms) in
#                                LAST_CPU_MS; fails (with LOG's tail) if it fails,
#                                or with --try returns its status
#   busy_ms                      CPU time used on the machine since boot, all
#                                CPUs, in ms (/proc/stat: all but idle and
#                                iowait; 0 without /proc/stat)
#   bench_measure JSON LOG [MEASURE-OPTS...] -- CMD...
#                                the same through bench/measure.py (own peak
#                                RSS and CPU, daemons'; --stdout FILE,
#                                --daemon NAME=PID): one JSON line appended to JSON
#   jfields FILE.json...         "FILE<TAB>KEY[.KEY]<TAB>VALUE" lines: every
#                                field of each file's last object
#   reg_stop [PID DIR]           stop the last started registry (or the one
#                                of REG_PID PID, REG_DIR DIR), delete its dir
#                                (with KEEP_TMP=1 only its data, not its log)
#   curl_upload URL REPO FILE [DIGEST]
#                                one blob: POST, then one monolithic PUT
#   curl_prepare URL REPO TAG MANIFEST BLOBDIR OUT
#                                an upload session (POST) for every blob
#                                MANIFEST names (BLOBDIR/<hex>), and OUT, a
#                                config for `curl -sS -K OUT`: one curl, one
#                                connection, a monolithic PUT of each blob one
#                                after the other, then MANIFEST under TAG
#   reg_get_manifest URL REPO REF OUT   GET a manifest (Docker or OCI) into OUT
#   manifest_blobs FILE          the config and layer digests of a manifest
#   manifest_bytes FILE          bytes it makes a registry store: config +
#                                layers + the manifest itself
#   reg_forget URL REPO KEEP-TAG TAG
#                                delete TAG's manifest and the blobs only it
#                                has (not KEEP-TAG's) from REPO: the next push
#                                of TAG uploads them again
#   bench_layer OUT DIR [PREFIX [GZIP]]
#                                tar DIR (paths under PREFIX/ if given) into
#                                OUT.tar; GZIP=1 also OUT.gz (gzip -6); writes
#                                OUT.info: "diffID digest gzsize tarsize"
#   bench_image NAME OUT [--oci] LAYER-OUT...
#                                an image of those layers: OUT/archive (a
#                                docker-archive directory for `docker load`),
#                                with --oci also OUT/oci (an OCI layout, gzip
#                                layers, ref "latest"); OUT/id is the config digest
# shellcheck shell=bash

BENCH_DIR=${BENCH_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}

now_us() { local t=$EPOCHREALTIME; echo "${t%.*}${t#*.}"; }
now_ms() { echo $(($(now_us) / 1000)); }

median() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

busy_ms() {
	awk -v hz="$(getconf CLK_TCK 2>/dev/null || echo 100)" '$1 == "cpu" {
		printf "%d\n", ($2 + $3 + $4 + $7 + $8) * 1000 / hz; found = 1 }
		END { if (!found) print 0 }' /proc/stat 2>/dev/null || echo 0
}

bench_time() {
	local out= log t0 t1 c0 rc=0 try=0
	if [ "$1" = --try ]; then
		try=1
		shift
	fi
	if [ "$1" = --stdout ]; then
		out=$2
		shift 2
	fi
	log=$1
	shift
	c0=$(busy_ms)
	t0=$(now_us)
	timeout -k 5 "${BENCH_TIMEOUT:-1800}" "$@" >"${out:-$log}" 2>>"$log" </dev/null || rc=$?
	t1=$(now_us)
	LAST_CPU_MS=$(($(busy_ms) - c0))
	LAST_US=$((t1 - t0))
	[ "$try" = 0 ] || return "$rc"
	if [ "$rc" != 0 ]; then
		tail -n 20 "$log" >&2
		fail "exit $rc from: $*"
	fi
}

bench_measure() {
	local json=$1 log=$2 rc=0
	shift 2
	local -a opts=()
	while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	"$PYTHON" -S "$BENCH_DIR/measure.py" --out "$json" --timeout "${BENCH_TIMEOUT:-1800}" \
		"${opts[@]}" -- "$@" >"$log" 2>&1 </dev/null || rc=$?
	if [ "$rc" != 0 ]; then
		tail -n 20 "$log" >&2
		fail "exit $rc from (measured): $*"
	fi
}

jfields() {
	"$PYTHON" -c 'import json, os, sys
def walk(name, prefix, v):
    if isinstance(v, dict):
        for k, x in v.items():
            walk(name, prefix + k + ".", x)
    elif v is not None:
        print("%s\t%s\t%s" % (name, prefix[:-1], v))
for f in sys.argv[1:]:
    lines = open(f).read().splitlines()
    if lines:
        walk(os.path.basename(f)[:-5], "", json.loads(lines[-1]))' "$@"
}

reg_stop() {
	local pid=${1:-$REG_PID} dir=${2:-$REG_DIR}
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	untrack_pid "$pid"
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		rm -rf "$dir/data"
	else
		rm -rf "$dir"
	fi
}

curl_upload() {
	local url=$1 repo=$2 file=$3 dig=${4:-} loc sep code
	[ -n "$dig" ] || dig=sha256:$(sha256_file "$file")
	loc=$(curl -sS -X POST -D - -o /dev/null "$url/v2/$repo/blobs/uploads/" |
		tr -d '\r' |
		awk 'tolower($1) == "location:" { print $2 }')
	case "$loc" in http*) ;; *) loc="$url$loc" ;; esac
	case "$loc" in *\?*) sep='&' ;; *) sep='?' ;; esac
	code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT \
		-H 'Content-Type: application/octet-stream' \
		-T "$file" "$loc${sep}digest=$dig")
	[ "$code" = 201 ] || { echo "curl PUT of $file answered $code" >&2; return 1; }
}

# _curl_put URL FILE CONTENT-TYPE: one transfer of a curl config
_curl_put() {
	printf '%s\n' "url = \"$1\"" "upload-file = \"$2\"" 'request = "PUT"' \
		"header = \"Content-Type: $3\"" 'output = "/dev/null"' \
		'write-out = "%{http_code} %{url_effective}\n"' fail
}

curl_prepare() {
	local url=$1 repo=$2 tag=$3 man=$4 dir=$5 out=$6 d loc sep
	: >"$out"
	for d in $(manifest_blobs "$man"); do
		loc=$(curl -sS -X POST -D - -o /dev/null "$url/v2/$repo/blobs/uploads/" |
			tr -d '\r' |
			awk 'tolower($1) == "location:" { print $2 }')
		[ -n "$loc" ] || { echo "no upload session for $d" >&2; return 1; }
		case "$loc" in http*) ;; *) loc="$url$loc" ;; esac
		case "$loc" in *\?*) sep='&' ;; *) sep='?' ;; esac
		_curl_put "$loc${sep}digest=$d" "$dir/${d#sha256:}" \
			application/octet-stream >>"$out"
		echo next >>"$out"
	done
	_curl_put "$url/v2/$repo/manifests/$tag" "$man" \
		"$(grep -o '"mediaType": *"[^"]*"' "$man" | head -n1 | cut -d'"' -f4)" >>"$out"
}

_ACCEPT='application/vnd.docker.distribution.manifest.v2+json,'
_ACCEPT+='application/vnd.oci.image.manifest.v1+json'

reg_get_manifest() {
	curl -sSf -H "Accept: $_ACCEPT" -o "$4" "$1/v2/$2/manifests/$3"
}

manifest_blobs() {
	"$PYTHON" -c 'import json, sys
m = json.load(open(sys.argv[1]))
print(m["config"]["digest"])
for l in m["layers"]:
    print(l["digest"])' "$1"
}

manifest_bytes() {
	"$PYTHON" -c 'import json, os, sys
m = json.load(open(sys.argv[1]))
print(m["config"]["size"] + sum(l["size"] for l in m["layers"]) + os.path.getsize(sys.argv[1]))' \
		"$1"
}

reg_forget() {
	local url=$1 repo=$2 keep=$3 tag=$4 d kept
	local tmp="$TEST_TMP/forget.$RANDOM$RANDOM"
	reg_get_manifest "$url" "$repo" "$tag" "$tmp.new" 2>/dev/null || return 0
	reg_get_manifest "$url" "$repo" "$keep" "$tmp.keep"
	kept=" $(manifest_blobs "$tmp.keep" | tr '\n' ' ') "
	for d in $(manifest_blobs "$tmp.new"); do
		case "$kept" in *" $d "*) continue ;; esac
		curl -sSf -o /dev/null -X DELETE "$url/v2/$repo/blobs/$d" ||
			fail "cannot delete blob $d from $repo"
	done
	curl -sSf -o /dev/null -X DELETE \
		"$url/v2/$repo/manifests/sha256:$(sha256_file "$tmp.new")" ||
		fail "cannot delete $repo:$tag"
	rm -f "$tmp.new" "$tmp.keep"
}

bench_layer() {
	local out=$1 dir=$2 prefix=${3:-} gz=${4:-0} rc=0 diffid dig
	local -a xf=()
	[ -d "$dir" ] || fail "$dir is not a directory (see BENCH_DIRS in bench/run)"
	[ -z "$prefix" ] || xf=(--transform "s,^,$prefix/,S") # S: not symlink targets
	tar -C / --numeric-owner --sort=name "${xf[@]}" -cf "$out.tar" "${dir#/}" \
		2>"$out.tar-err" || rc=$?
	# 1: a file changed while tar read it (a live system); the tar is complete
	[ "$rc" -le 1 ] || { cat "$out.tar-err" >&2; fail "tar of $dir failed"; }
	diffid=sha256:$(sha256_file "$out.tar")
	dig=-
	if [ "$gz" = 1 ]; then
		gzip -6 -n -c "$out.tar" >"$out.gz"
		dig=sha256:$(sha256_file "$out.gz")
	fi
	echo "$diffid $dig $(stat -c %s "$out.gz" 2>/dev/null || echo 0) $(stat -c %s "$out.tar")" \
		>"$out.info"
}

_MT_LAYER=application/vnd.oci.image.layer.v1.tar+gzip
bench_image() {
	local name=$1 out=$2 oci=0 l diffid dig gsz tsz
	shift 2
	if [ "${1:-}" = --oci ]; then
		oci=1
		shift
	fi
	mkdir -p "$out/archive"
	local diff_ids="" hist="" layers="" larch=""
	for l in "$@"; do
		read -r diffid dig gsz tsz <"$l.info"
		diff_ids+="${diff_ids:+,}\"$diffid\""
		hist+="${hist:+,}{\"created\":\"2024-01-01T00:00:00Z\",\"created_by\":\"tar $l\"}"
		mkdir -p "$out/archive/${diffid#sha256:}"
		ln -f "$l.tar" "$out/archive/${diffid#sha256:}/layer.tar"
		larch+="${larch:+,}\"${diffid#sha256:}/layer.tar\""
		if [ "$oci" = 1 ]; then
			[ "$dig" != - ] || fail "bench_image --oci: $l has no gzip blob"
			layers+="${layers:+,}{\"mediaType\":\"$_MT_LAYER\","
			layers+="\"digest\":\"$dig\",\"size\":$gsz}"
		fi
	done
	local fmt cfg="$out/config.json" cdig csz
	fmt='{"architecture":"%s","os":"linux","created":"2024-01-01T00:00:00Z",'
	fmt+='"config":{"Env":["PATH=/usr/local/bin:/usr/bin:/bin"],'
	fmt+='"Cmd":["/bin/sh"],"Labels":{"idppush.bench":"%s"}},'
	fmt+='"rootfs":{"type":"layers","diff_ids":[%s]},"history":[%s]}'
	# shellcheck disable=SC2059 # the format is built above
	printf "$fmt" "$(_host_goarch)" "$name" "$diff_ids" "$hist" >"$cfg"
	cdig=sha256:$(sha256_file "$cfg")
	csz=$(stat -c %s "$cfg")
	echo "$cdig" >"$out/id"
	cp "$cfg" "$out/archive/${cdig#sha256:}.json"
	printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":[%s]}]\n' \
		"${cdig#sha256:}" "$name" "$larch" >"$out/archive/manifest.json"
	[ "$oci" = 1 ] || return 0
	local o="$out/oci" mdig msz
	mkdir -p "$o/blobs/sha256"
	for l in "$@"; do
		read -r diffid dig gsz tsz <"$l.info"
		ln -f "$l.gz" "$o/blobs/sha256/${dig#sha256:}"
	done
	cp "$cfg" "$o/blobs/sha256/${cdig#sha256:}"
	fmt='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
	fmt+='"config":{"mediaType":"application/vnd.oci.image.config.v1+json",'
	fmt+='"digest":"%s","size":%s},"layers":[%s]}'
	# shellcheck disable=SC2059
	printf "$fmt" "$cdig" "$csz" "$layers" >"$out/manifest.json"
	mdig=sha256:$(sha256_file "$out/manifest.json")
	msz=$(stat -c %s "$out/manifest.json")
	cp "$out/manifest.json" "$o/blobs/sha256/${mdig#sha256:}"
	printf '{"imageLayoutVersion":"1.0.0"}' >"$o/oci-layout"
	fmt='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",'
	fmt+='"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",'
	fmt+='"digest":"%s","size":%s,'
	fmt+='"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}'
	# shellcheck disable=SC2059
	printf "$fmt" "$mdig" "$msz" >"$o/index.json"
	echo "$mdig" >"$out/manifest-digest"
}
