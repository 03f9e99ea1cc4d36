#!/bin/bash
# tests/integration/t_completion.sh: the generated bash and zsh completion
# files of both programs. bash, sourcing each file on its own and after
# bash-completion: `idppush-containerd --prog` completes to --progress,
# `--progress ` (and `--progress=`) to its four values, FILE and DIR
# values to file and directory names, every option name of --help and no
# other; docker-idppush's first argument to the local images (a fake
# `docker` on PATH; <none> left out). zsh, in a pty with compinit: the
# same option name and values.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
need bash zsh
BASH_COMPLETION=/usr/share/bash-completion/bash_completion
[ -f "$BASH_COMPLETION" ] || need bash-completion-at-$BASH_COMPLETION
PLUG="$top_builddir/docker-idppush"
CTD="$top_builddir/idppush-containerd"
CB="$top_builddir/completion/bash"
CZ="$top_builddir/completion/zsh"
for f in "$CB/docker-idppush" "$CB/idppush-containerd" "$CZ/_docker-idppush" \
	"$CZ/_idppush-containerd"; do
	[ -s "$f" ] || fail "not generated: $f"
done

# a fake docker for the image names
mkdir -p "$TEST_TMP/bin" "$TEST_TMP/work/somedir"
cat >"$TEST_TMP/bin/docker" <<'SH'
#!/bin/sh
[ "$*" = "image ls --format {{.Repository}}:{{.Tag}}" ] || exit 1
printf '%s\n' myapp:dev myapp:1.0 '<none>:<none>' onlydigest:'<none>' web/site:v2
SH
chmod +x "$TEST_TMP/bin/docker"
: >"$TEST_TMP/work/somefile"

# complete MODE FILE FUNCTION WORD...: COMPREPLY, one a line, for the
# command line WORD... (the last one being completed), with the words
# split as bash splits them (at = and :). MODE: plain (the file alone)
# or bc (bash-completion first).
complete_bash() {
	local mode=$1 file=$2 fn=$3
	shift 3
	(cd "$TEST_TMP/work" && PATH="$TEST_TMP/bin:$PATH" bash --norc --noprofile -c '
		mode=$1 file=$2 fn=$3; shift 3
		[ "$mode" = bc ] && . "'"$BASH_COMPLETION"'"
		. "$file"
		. "'"$TEST_LIB"'/comp_run.sh"
		comp_run "$fn" "$@"' bash "$mode" "$file" "$fn" "$@")
}

help_options() {
	"$1" --help | grep -E '^ +-' | grep -oE '(^| )--?[a-zA-Z][a-zA-Z0-9-]*' | tr -d ' ' |
		sort -u
}

for mode in plain bc; do
	F="$CB/idppush-containerd" FN=_idppush_containerd
	assert_eq "--progress" "$(complete_bash $mode "$F" $FN idppush-containerd --prog)" \
		"$mode: idppush-containerd --prog"
	four=$'auto\ntty\nplain\njson'
	assert_eq "$four" "$(complete_bash $mode "$F" $FN idppush-containerd --progress '')" \
		"$mode: idppush-containerd --progress ''"
	assert_eq "$four" "$(complete_bash $mode "$F" $FN idppush-containerd -q --progress =)" \
		"$mode: idppush-containerd --progress="
	assert_eq "plain" "$(complete_bash $mode "$F" $FN idppush-containerd --progress = pl)" \
		"$mode: idppush-containerd --progress=pl"
	assert_eq "somedir" "$(complete_bash $mode "$F" $FN idppush-containerd --oci-layout so)" \
		"$mode: --oci-layout completes directories"
	assert_eq "somefile" "$(complete_bash $mode "$F" $FN idppush-containerd --ca-cert somef)" \
		"$mode: --ca-cert completes files"
	assert_eq "" "$(complete_bash $mode "$F" $FN idppush-containerd -n '')" \
		"$mode: nothing to offer for -n NAME"
	assert_eq "$(help_options "$CTD")" \
		"$(complete_bash $mode "$F" $FN idppush-containerd - | sort)" \
		"$mode: idppush-containerd option names against --help"

	F="$CB/docker-idppush" FN=_docker_idppush
	assert_eq "$(help_options "$PLUG")" \
		"$(complete_bash $mode "$F" $FN docker-idppush - | sort)" \
		"$mode: docker-idppush option names against --help"
	assert_eq $'gzip\nzstd' "$(complete_bash $mode "$F" $FN docker-idppush --compression '')" \
		"$mode: docker-idppush --compression"
	assert_eq $'myapp:dev\nmyapp:1.0\nweb/site:v2' \
		"$(complete_bash $mode "$F" $FN docker-idppush -q --progress plain '')" \
		"$mode: docker-idppush IMAGE: the local images"
	assert_eq "" "$(complete_bash $mode "$F" $FN docker-idppush myapp:dev '')" \
		"$mode: docker-idppush TARGET: nothing to offer"
done
# bash-completion keeps "repo:tag" whole and trims what bash already has
assert_eq $'dev\n1.0' \
	"$(complete_bash bc "$CB/docker-idppush" _docker_idppush docker-idppush myapp : '')" \
	"bash-completion: docker-idppush myapp:"
log "bash completion: both programs, with and without bash-completion"

# zsh: LINE<TAB> in an interactive zsh with compinit over the generated files
ZFP="$TEST_TMP/zfp"
mkdir -p "$ZFP"
cp "$CZ/_docker-idppush" "$CZ/_idppush-containerd" "$ZFP/"
zsh_complete() {
	PATH="$TEST_TMP/bin:$PATH" timeout 60 zsh -f "$TEST_LIB/zsh_complete.zsh" "$ZFP" \
		"$TEST_TMP" "$1" || fail "zsh completion of '$1' did not finish"
}
out=$(zsh_complete 'idppush-containerd --prog')
printf '%s\n' "$out" | grep -E -- '(^| )--progress( |=|$)' >/dev/null ||
	fail "zsh: idppush-containerd --prog offers no --progress: $out"
out=$(zsh_complete 'idppush-containerd --progress ')
printf '%s\n' "$out" | grep -E '^auto +json +plain +tty *' >/dev/null ||
	fail "zsh: idppush-containerd --progress: not the four values: $out"
out=$(zsh_complete 'docker-idppush --format ')
printf '%s\n' "$out" | grep -E '^docker +oci *' >/dev/null ||
	fail "zsh: docker-idppush --format: $out"
out=$(zsh_complete 'docker-idppush -q myapp:')
printf '%s\n' "$out" | grep -E 'myapp:1\.0 +myapp:dev' >/dev/null ||
	fail "zsh: docker-idppush images: $out"
assert_not_contains "$out" "<none>" "zsh: images without a tag"
log "zsh completion: option names, values, images"
log "PASS"
