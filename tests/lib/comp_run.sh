# tests/lib/comp_run.sh: call a bash completion function the way bash
# calls it for a command line, in a bash that sourced this file and the
# completion (t_completion.sh, t_plugin_complete.sh).
#   comp_run FUNCTION WORD...: COMP_WORDS are the WORDs, the last being
#   completed, split as bash splits a command line ("=" and ":" words of
#   their own); COMP_CWORD, COMP_LINE and COMP_POINT as bash sets them;
#   then FUNCTION, and COMPREPLY printed one a line.
# shellcheck shell=bash
comp_run() {
	local _fn=$1 _w _prev=
	shift
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE=
	for _w in "$@"; do
		case "$_w$_prev" in
		=* | :* | *= | *:) COMP_LINE+=$_w ;;
		*) COMP_LINE+=${COMP_LINE:+ }$_w ;;
		esac
		_prev=$_w
	done
	COMP_POINT=${#COMP_LINE}
	"$_fn"
	printf '%s\n' "${COMPREPLY[@]}"
}
