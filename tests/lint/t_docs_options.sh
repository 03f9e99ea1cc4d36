#!/bin/bash
# tests/lint/t_docs_options.sh: every option the user documentation
# (README.md, docs/guide/*.md) mentions for idppush is a real one: a
# "Long:" name in docs/opts/*.md or an option in the --help of one of the
# two programs. Checked: every --option on a line that names idppush
# (commands, and prose about them), and every `--option` code span in
# prose. Not checked, since they are other programs' flags: configure's
# --enable/--disable/--with/--without options and the docker CLI's global
# flags (which `docker idppush` passes on to docker).
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
cd "$top_srcdir" || exit 1

known=$(sed -n 's/^Long: *//p' docs/opts/*.md)
for prog in docker-idppush idppush-containerd; do
	[ -x "$top_builddir/$prog" ] || continue
	known+=$'\n'$("$top_builddir/$prog" --help | grep -oP '(?<![\w-])--[a-z][a-z0-9-]*' |
		sed 's/^--//')
done
[ -n "$known" ] || {
	echo "t_docs_options: no options found in docs/opts" >&2
	exit 1
}

# docker's global flags (plugin/plug_main.c) are docker's, not ours
foreign='^(enable|disable|with|without)-'
foreign+='|^(config|context|host|debug|log-level|tls|tlsverify|tlscacert|tlscert|tlskey)$'

bad=0 checked=0
for f in README.md docs/guide/*.md; do
	while IFS=: read -r line opt; do
		opt=${opt#\`}
		opt=${opt#--}
		[[ $opt =~ $foreign ]] && continue
		checked=$((checked + 1))
		if ! grep -qxF -- "$opt" <<<"$known"; then
			echo "$f:$line: --$opt is an option of neither docker-idppush" \
				"nor idppush-containerd"
			bad=1
		fi
	done < <(
		grep -n 'idppush' "$f" | while IFS=: read -r n text; do
			grep -oP '(?<![\w-])--[a-z][a-z0-9-]*' <<<"$text" | sed "s/^/$n:/"
		done
		grep -n -v 'idppush' "$f" | while IFS=: read -r n text; do
			grep -oP '`--[a-z][a-z0-9-]*' <<<"$text" | sed "s/^/$n:/"
		done
	)
done
[ "$checked" -gt 0 ] || {
	echo "t_docs_options: no option mentions found: the check is broken" >&2
	exit 1
}
echo "t_docs_options: $checked option mentions checked"
exit "$bad"
