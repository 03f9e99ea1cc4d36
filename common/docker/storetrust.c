/* storetrust.c: whether this process may read a daemon's store directly
 * (docker.h, idp_docker_store_trusted): only when the daemon runs as root
 * or as us, and nobody else can change the store or the directories above
 * it. Otherwise a daemon someone else runs (a rootless dockerd, any -H)
 * could point root at files it may not read; its own export (docker
 * save) reads with the daemon's rights instead. */
#include "config.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "util/trust.h"
#include "docker.h"
#include "banned.h"

int idp_docker_why_not(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return 0;
}

int idp_docker_daemon_uid(const struct idp_docker_api *a, uid_t *uid, char *why, size_t n)
{
	pid_t pid;

	if (!idp_docker_api_usable(a))
		return idp_docker_why_not(why, n, "no Engine API socket");
	if (idp_socket_peer(a->sock, uid, &pid) < 0)
		return idp_docker_why_not(why, n, "cannot tell who serves %s: %s", a->sock,
					  strerror(errno));
	if (*uid != 0 && *uid != geteuid())
		return idp_docker_why_not(why, n, "the daemon at %s runs as uid %u, neither root "
					  "nor us", a->sock, (unsigned)*uid);
	return 1;
}

int idp_docker_store_trusted(const struct idp_docker_api *a, const char *root, int *dirfd,
			     char *why, size_t n)
{
	struct idp_error err = IDP_ERROR_INIT;
	uid_t uid;

	*dirfd = -1;
	if (!idp_docker_daemon_uid(a, &uid, why, n))
		return 0;
	if ((*dirfd = idp_trusted_dir_open(root, uid, &err)) < 0)
		return idp_docker_why_not(why, n, "%s", err.msg);
	return 1;
}
