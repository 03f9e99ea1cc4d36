#!/bin/sh
# fake_docker.sh: a stand-in `docker` for the plugin tests. Serves
#   docker [global flags] image inspect NAME  <- $FAKE_DOCKER_DIR/<NAME>.inspect.json
#   docker [global flags] save NAME           <- $FAKE_DOCKER_DIR/<NAME>.tar
# (NAME with '/' and ':' mapped to '_'). Unknown images: docker's message,
# exit 1. FAKE_DOCKER_STALL=SECS: save stalls that long half way. Every invocation's argv is appended to $FAKE_DOCKER_DIR/calls.
d=${FAKE_DOCKER_DIR:?}
echo "$*" >>"$d/calls"
while [ $# -gt 0 ]; do
	case "$1" in
	--context | -c | -H | --host | --config | -l | --log-level | --tlscacert | --tlscert | --tlskey) shift 2 ;;
	-*) shift ;;
	*) break ;;
	esac
done
key() { printf '%s' "$1" | tr '/:' '__'; }
case "$1" in
image)
	[ "$2" = inspect ] || exit 2
	f="$d/$(key "$3").inspect.json"
	[ -f "$f" ] || { echo "[]"; echo "Error: No such image: $3" >&2; exit 1; }
	cat "$f"
	;;
save)
	f="$d/$(key "$2").tar"
	[ -f "$f" ] || { echo "Error response from daemon: reference does not exist" >&2; exit 1; }
	if [ -n "${FAKE_DOCKER_STALL:-}" ]; then
		# half the stream, then silence (a slow daemon), then the rest
		n=$(($(wc -c <"$f") / 2))
		head -c "$n" "$f"
		trap 'kill $! 2>/dev/null; exit 143' TERM
		sleep "$FAKE_DOCKER_STALL" &
		wait $!
		tail -c +"$((n + 1))" "$f"
	else
		cat "$f"
	fi
	;;
*) echo "fake docker: unsupported: $*" >&2; exit 2 ;;
esac
