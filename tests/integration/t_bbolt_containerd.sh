#!/bin/sh
# t_bbolt_containerd.sh: common/bbolt.c against a meta.db written by a real,
# private containerd. Imports a hand-made OCI image into two namespaces, then
# checks that tests/tools/bbolt-dump reports each image's target (digest,
# media type, size) as ctr does: once while containerd runs (and holds its
# flock on meta.db) and once after it stopped.
# Skips (77) without containerd/ctr, unless CI=true (then it fails).
set -eu
LC_ALL=C; export LC_ALL

top_builddir=${top_builddir:-.}
DUMP=$top_builddir/tests/tools/bbolt-dump

fail() { echo "FAIL: $*" >&2; exit 1; }
missing() {
	if [ "${CI:-}" = true ]; then fail "$* (required when CI=true)"; fi
	echo "SKIP: $*"; exit 77
}

command -v containerd >/dev/null 2>&1 || missing "containerd not installed (apt-get install containerd)"
command -v ctr >/dev/null 2>&1 || missing "ctr not installed (apt-get install containerd)"
[ "$(id -u)" = 0 ] || missing "containerd needs root"
[ -x "$DUMP" ] || fail "$DUMP not built (make check builds it)"

T=$(mktemp -d "${TMPDIR:-/tmp}/idp-bbolt-XXXXXX")
CPID=
# containerd gone (or a zombie awaiting wait)?
ctd_gone() {
	st=$(awk '{print $3}' "/proc/$CPID/stat" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "$st" = Z ]
}
stop_containerd() {
	kill "$CPID" 2>/dev/null || :
	wait_for 20 ctd_gone || kill -9 "$CPID" 2>/dev/null || :
	wait "$CPID" 2>/dev/null || :
	CPID=
}
cleanup() {
	if [ -n "$CPID" ]; then stop_containerd; fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# wait_for SECONDS CMD...: poll until CMD succeeds or the deadline passes.
wait_for() {
	end=$(( $(date +%s) + $1 )); shift
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# ---- a small OCI layout, made by hand ----
L=$T/layout W=$T/work
mkdir -p "$L/blobs/sha256" "$W"
put_blob() {   # FILE -> prints its hex digest, stores it in the layout
	d=$(sha256sum "$1" | cut -d' ' -f1)
	cp "$1" "$L/blobs/sha256/$d"
	echo "$d"
}
head -c 4096 /dev/urandom > "$W/rand.bin"
tar -C "$W" -cf "$W/layer.tar" rand.bin
gzip -n -c "$W/layer.tar" > "$W/layer.tgz"
ldig=$(put_blob "$W/layer.tgz"); lsz=$(stat -c %s "$W/layer.tgz")
diffid=$(sha256sum "$W/layer.tar" | cut -d' ' -f1)
printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
	"$diffid" > "$W/config.json"
cdig=$(put_blob "$W/config.json"); csz=$(stat -c %s "$W/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
	"$cdig" "$csz" "$ldig" "$lsz" > "$W/manifest.json"
mdig=$(put_blob "$W/manifest.json"); msz=$(stat -c %s "$W/manifest.json")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}' \
	"$mdig" "$msz" > "$L/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' > "$L/oci-layout"
tar -C "$L" -cf "$T/image.tar" oci-layout index.json blobs

# ---- a private containerd ----
cat > "$T/config.toml" <<EOF
version = 2
root = "$T/root"
state = "$T/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$T/c.sock"
[ttrpc]
  address = "$T/t.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$T/opt"
EOF
containerd --config "$T/config.toml" > "$T/containerd.log" 2>&1 &
CPID=$!
ctr_up() { ctr --address "$T/c.sock" version >/dev/null 2>&1; }
wait_for 30 ctr_up || { cat "$T/containerd.log" >&2; fail "containerd did not come up"; }
CTR="ctr --address $T/c.sock"

$CTR -n default images import --no-unpack --base-name example.test/idp/one "$T/image.tar" > /dev/null
$CTR -n second images import --no-unpack --base-name example.test/idp/two "$T/image.tar" > /dev/null
DB=$T/root/io.containerd.metadata.v1.bolt/meta.db
[ -s "$DB" ] || fail "no meta.db at $DB"

# expect_from_ctr NS: "NS NAME DIGEST MEDIATYPE SIZE" lines from ctr itself
# (size: the target blob's exact length, from `ctr content get`).
expect_from_ctr() {
	$CTR -n "$1" images ls | tail -n +2 | while read -r ref type digest _; do
		size=$($CTR -n "$1" content get "$digest" | wc -c)
		printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$ref" "$digest" "$type" "$size"
	done
}
{ expect_from_ctr default; expect_from_ctr second; } | sort > "$T/expect"
printf 'default\texample.test/idp/one:v1\tsha256:%s\t%s\t%s\n' "$mdig" \
	application/vnd.oci.image.manifest.v1+json "$msz" > "$T/mine"
printf 'second\texample.test/idp/two:v1\tsha256:%s\t%s\t%s\n' "$mdig" \
	application/vnd.oci.image.manifest.v1+json "$msz" >> "$T/mine"
diff -u "$T/mine" "$T/expect" || fail "ctr does not list the imported images as expected"

check_dump() {   # LABEL
	"$DUMP" "$DB" > "$T/got.raw" || fail "$1: bbolt-dump failed"
	sort "$T/got.raw" > "$T/got"
	diff -u "$T/expect" "$T/got" || fail "$1: bbolt-dump disagrees with ctr"
	"$DUMP" -t "$DB" > "$T/tree" || fail "$1: bbolt-dump -t failed"
	grep -q '^  second/$' "$T/tree" || fail "$1: namespace 'second' not in the tree"
	echo "ok: $1"
}

kill -0 "$CPID" || fail "containerd exited early"
check_dump "while containerd runs (no lock)"

stop_containerd
check_dump "after containerd stopped"
echo "PASS"
