#!/bin/bash
# tests/integration/t_sec_pushcache.sh: root's `docker idppush` under a
# `sudo -E`-like environment (root, HOME a directory the test user owns,
# no XDG_CACHE_HOME) never lets the push cache there decide anything. A
# real private dockerd (tests/lib/dockerd.sh) holds
# victim:latest and evil:latest (one layer each, FROM scratch).
#  a. evil:latest is pushed to REG/t/app:evil (with a cache of its own);
#     the test user then plants ~/.cache/idppush/push-cache.json (0600 in
#     a 0700 directory, both the user's) saying that victim:latest's layer
#     and config (its image ID) went to REG/t/app as evil's blobs. Root
#     pushes victim:latest to REG/t/app:latest: it must succeed and the tag
#     must be victim:latest itself (skopeo: the config is victim's, byte
#     for byte, its digest the image ID; the layer decompresses to
#     victim's diffID). Before the fix the cache made root tag evil's
#     image ("Layer already exists", no layer read).
#  b. ~/.cache/idppush is the user's symlink to a directory in /etc (a
#     fresh /etc/idppush-test-cache.XXXXXX), and then ~/.cache itself is
#     one: root's push still succeeds and creates nothing in /etc.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
. "$TEST_LIB/sec.sh"
. "$TEST_LIB/containerd.sh"
. "$TEST_LIB/dockerd.sh"
. "$TEST_LIB/plugin.sh"
need_sec
need_plugin
need_dockerd
sec_user
dockerd_start
DC="$TEST_TMP/dockercfg"
plugin_install "$DC"
export DOCKER_CONFIG="$DC"
export DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND=/usr/bin/docker

B="$TEST_TMP/build"
mkdir -p "$B"
echo "the victim's own file $RANDOM$RANDOM" >"$B/victim.txt"
echo "the attacker's file $RANDOM$RANDOM" >"$B/evil.txt"
build() { # TAG FILE
	printf 'FROM scratch\nCOPY %s /%s\n' "$2" "$2" >"$B/Dockerfile.$2"
	DOCKER_BUILDKIT=0 dk build -q -f "$B/Dockerfile.$2" -t "$1" "$B" >/dev/null ||
		fail "docker build $1"
}
build victim:latest victim.txt
build evil:latest evil.txt
VID=$(dk image inspect -f '{{.Id}}' victim:latest)
EID=$(dk image inspect -f '{{.Id}}' evil:latest)
VDIFF=$(dk image inspect -f '{{index .RootFS.Layers 0}}' victim:latest)
EDIFF=$(dk image inspect -f '{{index .RootFS.Layers 0}}' evil:latest)
VCFG="$DOCKERD_ROOT/image/$(dk info -f '{{.Driver}}')/imagedb/content/sha256/${VID#sha256:}"
[ -f "$VCFG" ] || fail "no config of victim:latest at $VCFG"

start_registry plain
push_as_root() { # HOME IMAGE TARGET: root's push, sudo -E style (HOME, no XDG_CACHE_HOME)
	run_rc rc env -u XDG_CACHE_HOME HOME="$1" timeout -k 5 120 "$PLUGIN" -H "$DH" idppush \
		--plain-http -v "$2" "$3"
	log "root's push of $2 to $3: exit $rc: $(grep -v ' debug: ' <<<"$LAST_ERR")"
}

# ---- a. a planted cache ----
assert_exit 0 env XDG_CACHE_HOME="$TEST_TMP/cache-evil" timeout -k 5 120 "$PLUGIN" -H "$DH" \
	idppush --plain-http -q evil:latest "$REG_HOST/t/app:evil"
sec_user_dir UH home-a
as_user mkdir -m 700 -p "$UH/.cache/idppush"
"$PYTHON" - "$TEST_TMP/cache-evil/idppush/push-cache.json" "$TEST_TMP/planted.json" \
	"$EDIFF" "$VDIFF" "$EID" "$VID" <<'PY' || fail "cannot write the planted cache"
import json, sys
src, out, *maps = sys.argv[1:]
cache = json.load(open(src))
planted = []
for frm, to in zip(maps[::2], maps[1::2]):   # evil's key -> the victim's
    for b in cache["blobs"]:
        if b["diffid"] == frm:
            planted.append(dict(b, diffid=to))
assert len(planted) == 2, planted
cache["blobs"] = planted
json.dump(cache, open(out, "w"))
PY
install -m 600 -o "$SEC_UID" -g "$SEC_GID" "$TEST_TMP/planted.json" \
	"$UH/.cache/idppush/push-cache.json"
push_as_root "$UH" victim:latest "$REG_HOST/t/app:latest"
assert_eq 0 "$rc" "exit code of root's push with a cache uid $SEC_UID planted"
skopeo_run inspect --raw "${SKOPEO_FLAGS[@]}" "docker://$REG_HOST/t/app:latest" \
	>"$TEST_TMP/tagged.json" || fail "skopeo inspect $REG_HOST/t/app:latest"
got=$("$PYTHON" "$SEC_TOOLS" config-digest "$TEST_TMP/tagged.json")
[ "$got" != "$EID" ] || fail "root's push of victim:latest tagged evil:latest (config $EID): \
the push cache uid $SEC_UID planted in $UH/.cache decided what root pushed"
assert_eq "$VID" "$got" "config digest of the tagged image (victim:latest's image ID)"
verify_image "$REG_HOST/t/app:latest" "${LAST_OUT##*@}" "$VCFG" "${SKOPEO_FLAGS[@]}"

# ---- b. a cache directory that is a symlink into /etc ----
sec_etc_dir ETC1 cache
sec_user_dir UH home-b
as_user mkdir -p "$UH/.cache"
as_user ln -s "$ETC1" "$UH/.cache/idppush"
push_as_root "$UH" victim:latest "$REG_HOST/t/b1:latest"
made=$(ls -A "$ETC1")
[ -z "$made" ] || fail "root created $(tr '\n' ' ' <<<"$made")in $ETC1 through the symlink \
$UH/.cache/idppush uid $SEC_UID planted"
assert_eq 0 "$rc" "exit code of root's push with ~/.cache/idppush a symlink"

sec_etc_dir ETC2 cache
sec_user_dir UH home-c
as_user ln -s "$ETC2" "$UH/.cache"
push_as_root "$UH" victim:latest "$REG_HOST/t/b2:latest"
made=$(cd "$ETC2" && find . -mindepth 1)
[ -z "$made" ] || fail "root created $(tr '\n' ' ' <<<"$made")in $ETC2 through the symlink \
$UH/.cache uid $SEC_UID planted"
assert_eq 0 "$rc" "exit code of root's push with ~/.cache a symlink"
log "ok"
