# tests/lib/zsh_complete.zsh: what zsh's completion does with a command
# line, for the completion tests: starts `zsh -f -i` in a pty (zpty) with
# compinit over FPATH_DIR, types LINE and a TAB, and prints
#   BUFFER:<the line after the TAB>
#   then what zsh listed on the terminal (escape sequences removed).
# Every step waits for the shell to have done the one before.
# Usage: zsh -f zsh_complete.zsh FPATH_DIR WORK_DIR LINE
zmodload zsh/zpty || exit 2
fp=$1 out=$2 line=$3
wait_for() { # FILE: until the shell wrote it (5 s at most)
	local i
	for i in {1..100}; do [[ -s $1 ]] && return 0; sleep 0.05; done
	print -u2 "zsh_complete: the shell did not write $1"
	return 1
}
rm -f $out/ready $out/buf
zpty z zsh -f -i
zpty -w z "fpath=(${(q)fp} \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z "zstyle ':completion:*' list-grouped false; LISTMAX=10000; stty rows 200 columns 200"
zpty -w z "dump() { print -r -- \"BUFFER:\$BUFFER\" >${(q)out}/buf; BUFFER=; }"
zpty -w z "zle -N dump; bindkey '^X' dump; echo ok >${(q)out}/ready"
wait_for $out/ready || exit 1
drain() { # what the shell printed so far, in $screen
	local chunk
	screen=
	while zpty -r -t z chunk; do screen+=$chunk; done
}
sleep 0.2
drain
zpty -w -n z "$line"$'\t'
sleep 0.5
zpty -w -n z $'\x18'
wait_for $out/buf || exit 1
sleep 0.2
drain
zpty -d z
cat $out/buf
print -r -- "$screen" | sed -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' -e 's/\r//g'
