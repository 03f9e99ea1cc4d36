# tests/lib/image.sh: generate OCI image layouts for push tests.
#   make_oci_layout DIR [--docker|--oci] SIZE...
#     Creates DIR as an OCI image layout (oci-layout, index.json whose one
#     manifest carries org.opencontainers.image.ref.name "latest",
#     blobs/sha256/*) with one gzip layer per SIZE: a tar holding SIZE bytes of
#     random (incompressible) data; SIZE 0 gives an empty tar. The config has
#     rootfs.diff_ids (sha256 of the uncompressed tars) and the host's
#     os/architecture. --docker (default): Docker schema2 media types;
#     --oci: OCI media types. Prints the manifest digest (sha256:...).
#   layout_manifest_digest DIR   digest named by DIR/index.json
#   layout_blob DIR DIGEST       path of a blob in DIR
# shellcheck shell=bash

_host_goarch() {
	case "$(uname -m)" in
	x86_64 | amd64) echo amd64 ;;
	aarch64 | arm64) echo arm64 ;;
	armv7* | armv6* | arm) echo arm ;;
	i?86) echo 386 ;;
	ppc64le) echo ppc64le ;;
	s390x) echo s390x ;;
	riscv64) echo riscv64 ;;
	*) uname -m ;;
	esac
}

# _add_blob DIR FILE: move FILE into DIR/blobs/sha256; print "digest size".
_add_blob() {
	local d s
	d=$(sha256sum "$2" | cut -d' ' -f1)
	s=$(stat -c %s "$2")
	mv -f "$2" "$1/blobs/sha256/$d"
	echo "sha256:$d $s"
}

make_oci_layout() {
	local dir=$1
	shift
	local flavour=docker
	case "${1:-}" in
	--docker) shift ;;
	--oci)
		flavour=oci
		shift
		;;
	esac
	[ "$#" -gt 0 ] || fail "make_oci_layout: no layer sizes"
	local mt_manifest mt_config mt_layer
	if [ "$flavour" = docker ]; then
		mt_manifest=application/vnd.docker.distribution.manifest.v2+json
		mt_config=application/vnd.docker.container.image.v1+json
		mt_layer=application/vnd.docker.image.rootfs.diff.tar.gzip
	else
		mt_manifest=application/vnd.oci.image.manifest.v1+json
		mt_config=application/vnd.oci.image.config.v1+json
		mt_layer=application/vnd.oci.image.layer.v1.tar+gzip
	fi
	mkdir -p "$dir/blobs/sha256"
	local work
	work=$(mktemp -d "$dir/.work.XXXXXX")
	local i=0 size diff_ids="" layers="" dig sz
	for size in "$@"; do
		i=$((i + 1))
		mkdir -p "$work/l$i"
		if [ "$size" -gt 0 ]; then
			head -c "$size" /dev/urandom >"$work/l$i/data-$i.bin"
			tar --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$work/l$i" \
				-cf "$work/l$i.tar" "data-$i.bin"
		else
			tar -cf "$work/l$i.tar" -T /dev/null
		fi
		diff_ids="$diff_ids${diff_ids:+,}\"sha256:$(sha256_file "$work/l$i.tar")\""
		gzip -1 -n -c "$work/l$i.tar" >"$work/l$i.tar.gz"
		read -r dig sz < <(_add_blob "$dir" "$work/l$i.tar.gz")
		layers="$layers${layers:+,}{\"mediaType\":\"$mt_layer\","
		layers+="\"size\":$sz,\"digest\":\"$dig\"}"
	done
	local fmt
	fmt='{"architecture":"%s","os":"linux",'
	fmt+='"config":{"Env":["PATH=/usr/bin:/bin"],"Labels":{"idptest.id":"%s"}},'
	fmt+='"rootfs":{"type":"layers","diff_ids":[%s]},"history":[]}'
	# shellcheck disable=SC2059 # the formats are built here
	printf "$fmt" "$(_host_goarch)" "$RANDOM$RANDOM$RANDOM" "$diff_ids" >"$work/config.json"
	local cdig csz
	read -r cdig csz < <(_add_blob "$dir" "$work/config.json")
	fmt='{"schemaVersion":2,"mediaType":"%s",'
	fmt+='"config":{"mediaType":"%s","size":%s,"digest":"%s"},"layers":[%s]}'
	# shellcheck disable=SC2059
	printf "$fmt" "$mt_manifest" "$mt_config" "$csz" "$cdig" "$layers" >"$work/manifest.json"
	local mdig msz
	read -r mdig msz < <(_add_blob "$dir" "$work/manifest.json")
	printf '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
	fmt='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",'
	fmt+='"manifests":[{"mediaType":"%s","digest":"%s","size":%s,'
	fmt+='"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}'
	# shellcheck disable=SC2059
	printf "$fmt" "$mt_manifest" "$mdig" "$msz" >"$dir/index.json"
	rm -rf "$work"
	echo "$mdig"
}

layout_manifest_digest() {
	grep -o '"digest":"sha256:[0-9a-f]\{64\}"' "$1/index.json" | head -n1 | cut -d'"' -f4
}

layout_blob() { echo "$1/blobs/sha256/${2#sha256:}"; }

# layout_without_sizes SRC DST: DST is SRC with the size left out of every
# layer descriptor (a new manifest, index.json pointing at it): the engine
# then treats the layers as streams (spooled, sent again from the spool).
# Prints the new manifest digest.
layout_without_sizes() {
	cp -a "$1" "$2"
	"$PYTHON" - "$2" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
compact = {"separators": (",", ":")}
idx = json.load(open(os.path.join(d, "index.json")))
m = idx["manifests"][0]
man = json.load(open(os.path.join(d, "blobs/sha256", m["digest"][7:])))
for layer in man["layers"]:
    del layer["size"]
data = json.dumps(man, **compact).encode()
dg = hashlib.sha256(data).hexdigest()
open(os.path.join(d, "blobs/sha256", dg), "wb").write(data)
m["digest"], m["size"] = "sha256:" + dg, len(data)
json.dump(idx, open(os.path.join(d, "index.json"), "w"), **compact)
print("sha256:" + dg)
PY
}
