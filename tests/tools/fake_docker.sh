#!/bin/sh
# fake_docker.sh: a stand-in `docker` for the plugin tests. Serves
#   docker [global flags] image inspect NAME  <- $FAKE_DOCKER_DIR/<NAME>.inspect.json
#   docker [global flags] save NAME           <- $FAKE_DOCKER_DIR/<NAME>.tar
#   docker [global flags] version --format FMT  <- FMT with {{.Server.APIVersion}}
#       = $FAKE_DOCKER_API (default 1.41) and {{.Client.APIVersion}} =
#       $FAKE_DOCKER_CLIENT_API (default 1.52)
# (NAME with '/' and ':' mapped to '_'). `--platform P` of save and image
# inspect is accepted (and recorded in calls, like all argv). Unknown
# images: docker's message, exit 1. FAKE_DOCKER_STALL=SECS: save stalls
# that long half way; FAKE_DOCKER_INSPECT_STALL=SECS: image inspect stalls
# that long before answering. Every invocation's argv is appended to
# $FAKE_DOCKER_DIR/calls.
d=${FAKE_DOCKER_DIR:?}
echo "$*" >>"$d/calls"
while [ $# -gt 0 ]; do
	case "$1" in
	--context | -c | -H | --host | --config | -l | --log-level | \
		--tlscacert | --tlscert | --tlskey) shift 2 ;;
	-*) shift ;;
	*) break ;;
	esac
done
key() { printf '%s' "$1" | tr '/:' '__'; }
cmd=$1
shift
[ "$cmd" = image ] && { [ "$1" = inspect ] || exit 2; shift; cmd=inspect; }
if [ "$cmd" = inspect ] || [ "$cmd" = save ]; then
	case "$1" in
	--platform) shift 2 ;;
	--platform=*) shift ;;
	esac
fi
case "$cmd" in
version)
	[ "$1" = --format ] || { echo "fake docker: version needs --format" >&2; exit 2; }
	s=${FAKE_DOCKER_API:-1.41} c=${FAKE_DOCKER_CLIENT_API:-1.52}
	printf '%s\n' "$2" |
		sed -e "s/{{.Server.APIVersion}}/$s/g" -e "s/{{.Client.APIVersion}}/$c/g"
	;;
inspect)
	if [ -n "${FAKE_DOCKER_INSPECT_STALL:-}" ]; then
		trap 'kill $! 2>/dev/null; exit 143' TERM
		sleep "$FAKE_DOCKER_INSPECT_STALL" &
		wait $!
	fi
	f="$d/$(key "$1").inspect.json"
	[ -f "$f" ] || { echo "[]"; echo "Error: No such image: $1" >&2; exit 1; }
	cat "$f"
	;;
save)
	f="$d/$(key "$1").tar"
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
*) echo "fake docker: unsupported: $cmd $*" >&2; exit 2 ;;
esac
