/* plug_socket.c: the docker CLI's cancel channel. Since docker 25 the CLI
 * passes DOCKER_CLI_PLUGIN_SOCKET ("@docker_cli_<hex>": an abstract unix
 * socket on Linux); the plugin connects and the CLI closes it to say
 * "cancel now" (when its stdout is not a TTY and it got SIGINT/SIGTERM).
 * A detached thread blocks in read() and sets the cancel flag on EOF. */
#include "config.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "plug.h"
#include "banned.h"

struct watch {
	int fd;
	volatile sig_atomic_t *cancel;
};

static void *watch_thread(void *arg)
{
	struct watch *w = arg;
	char buf[64];
	ssize_t n;

	do
		n = read(w->fd, buf, sizeof(buf));
	while (n > 0 || (n < 0 && errno == EINTR));
	*w->cancel = 1;
	close(w->fd);
	free(w);
	return NULL;
}

static int connect_abstract(const char *name)
{
	struct sockaddr_un sa;
	size_t n = strlen(name);
	int fd;

	if (name[0] == '@') {   /* abstract: leading NUL, no trailing NUL */
		name++;
		n--;
	}
	if (n + 1 > sizeof(sa.sun_path))
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path + 1, name, n);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa,
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int plug_socket_watch(const char *name, volatile sig_atomic_t *cancel)
{
	struct watch *w;
	pthread_t t;
	int fd;

	if (!name || !*name)
		return 0;
	if ((fd = connect_abstract(name)) < 0)
		return -1;
	if (!(w = malloc(sizeof(*w)))) {
		close(fd);
		return -1;
	}
	w->fd = fd;
	w->cancel = cancel;
	if (pthread_create(&t, NULL, watch_thread, w) != 0) {
		close(fd);
		free(w);
		return -1;
	}
	pthread_detach(t);
	return 0;
}
