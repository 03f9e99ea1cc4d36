#!/bin/sh
# fake_docker.sh: a stand-in `docker` for the plugin tests. Serves
#   docker [global flags] image inspect NAME  <- $FAKE_DOCKER_DIR/<NAME>.inspect.json
#   docker [global flags] save NAME           <- $FAKE_DOCKER_DIR/<NAME>.tar
# (NAME with '/' and ':' mapped to '_'). Unknown images: docker's message,
# exit 1. Every invocation's argv is appended to $FAKE_DOCKER_DIR/calls.
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
	cat "$f"
	;;
*) echo "fake docker: unsupported: $*" >&2; exit 2 ;;
esac
