#!/bin/bash
# tests/integration/t_man_pages.sh: the generated man pages docker-idppush(1)
# and idppush-containerd(1) render without a warning (groff -ww, mandoc
# -Tlint, man -l) and say what the programs do: exactly the options their
# --help lists, long and short names, and no other (the plugin's compression and
# format, the adapter's containerd options, each on its own page), the
# environment variables, files and exit codes.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
need groff mandoc man

# render PAGE: the page as text (groff -man -Tutf8, overstriking removed);
# no warnings from groff or mandoc
render() {
	local page=$1 warn
	warn=$(groff -man -Tutf8 -ww -z "$page" 2>&1) || fail "groff failed on $page: $warn"
	[ -z "$warn" ] || fail "groff warns about $page: $warn"
	warn=$(mandoc -Tlint "$page" 2>&1) || fail "mandoc -Tlint: $page: $warn"
	[ -z "$warn" ] || fail "mandoc warns about $page: $warn"
	warn=$(MANWIDTH=80 MAN_KEEP_FORMATTING=0 man -l "$page" 2>&1 >/dev/null)
	[ -z "$warn" ] || fail "man -l warns about $page: $warn"
	MANWIDTH=80 man -l "$page" 2>/dev/null | sed 's/.\x08//g'
}

# help_options PROGRAM: the option names (--long and -s) its --help lists
help_options() {
	"$1" --help | grep -E '^ +-' | grep -oE '(^| )--?[a-zA-Z][a-zA-Z0-9-]*' | tr -d ' ' |
		sort -u
}

# section TEXT NAME: the lines of section NAME of a rendered page
section() { printf '%s\n' "$1" | awk -v s="$2" '/^[A-Z]/ { on = ($0 == s) } on'; }

ENV_VARS="IDPBUILDER_REGISTRY_URL IDPBUILDER_REGISTRY_USERNAME IDPBUILDER_REGISTRY_PASSWORD
IDPBUILDER_REGISTRY_TOKEN IDPBUILDER_REGISTRY_INSECURE IDPBUILDER_PUSH_TIMEOUT
IDPBUILDER_PUSH_RETRY_ATTEMPTS DOCKER_CONFIG DOCKER_AUTH_CONFIG"
FILES="~/.docker/config.json /etc/docker/certs.d/HOST:PORT/ ~/.docker/certs.d/HOST:PORT/
/etc/containerd/certs.d/HOST:PORT/hosts.toml"

check_page() { # PROGRAM PAGE EXTRA-ENV EXTRA-FILES
	local prog=$1 page=$2 envs="$ENV_VARS $3" files="$FILES $4" text opts v f c s
	[ -x "$prog" ] || fail "not built: $prog"
	[ -s "$page" ] || fail "not generated: $page"
	text=$(render "$page")
	assert_contains "$(printf '%s\n' "$text" | head -n1)" \
		"$(basename "$page" .1 | tr a-z A-Z)(1)" "page header of $page"
	# the options the page describes (its tag lines) are exactly those of --help
	opts=$(section "$text" OPTIONS | grep -E '^       -' |
		grep -oE '(^| )--?[a-zA-Z][a-zA-Z0-9-]*' | tr -d ' ' | sort -u)
	[ "$(help_options "$prog" | wc -l)" -ge 20 ] || fail "$prog --help lists too few options"
	assert_eq "$(help_options "$prog")" "$opts" "options of $page against $prog --help"
	for v in $envs; do
		section "$text" ENVIRONMENT | grep -w -- "$v" >/dev/null ||
			fail "$page: ENVIRONMENT lacks $v"
	done
	for f in $files; do
		section "$text" FILES | grep -F -- "$f" >/dev/null || fail "$page: FILES lacks $f"
	done
	for c in 0 1 2 3 4 5 6 130; do
		section "$text" "EXIT STATUS" | grep -E "^ +$c +[A-Z]" >/dev/null ||
			fail "$page: EXIT STATUS lacks $c"
	done
	for s in NAME SYNOPSIS DESCRIPTION EXAMPLES "SEE ALSO"; do
		printf '%s\n' "$text" | grep -x "$s" >/dev/null || fail "$page: no $s section"
	done
	log "$page: renders cleanly; $(help_options "$prog" | wc -l) options, environment," \
		"files, exit codes"
}

PLUG="$top_builddir/docker-idppush"
CTD="$top_builddir/idppush-containerd"
check_page "$PLUG" "$top_builddir/docker-idppush.1" "XDG_CACHE_HOME" \
	'$XDG_CACHE_HOME/idppush/push-cache.json'
check_page "$CTD" "$top_builddir/idppush-containerd.1" "CONTAINERD_NAMESPACE" ""

# each program's own options, on its page only
for o in --compression --compression-level --format; do
	help_options "$PLUG" | grep -x -- "$o" >/dev/null || fail "docker-idppush --help lacks $o"
	help_options "$CTD" | grep -x -- "$o" >/dev/null && fail "idppush-containerd --help has $o"
done
for o in --root --namespace --all-platforms --hosts-dir --oci-layout --partial-index \
	--keep-attestations; do
	help_options "$CTD" | grep -x -- "$o" >/dev/null ||
		fail "idppush-containerd --help lacks $o"
	help_options "$PLUG" | grep -x -- "$o" >/dev/null && fail "docker-idppush --help has $o"
done
log "PASS"
