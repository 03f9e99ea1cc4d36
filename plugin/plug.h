/* plug.h: the pieces of docker-idppush (the docker CLI plugin):
 *   plug_main.c   argv (docker global flags, metadata, help), the flow
 *   plug_docker.c running the docker CLI: image inspect, docker save
 *   plug_push.c   the streaming push: docker save -> libarchive -> registry
 *   plug_socket.c DOCKER_CLI_PLUGIN_SOCKET watcher (EOF = cancel) */
#ifndef IDP_PLUG_H
#define IDP_PLUG_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include "error.h"
#include "fe_opts.h"

#define PLUG_MAX_GLOBALS 32

/* How to run docker: the CLI that started us (or `docker` on PATH) plus the
 * global flags that came before the plugin name. */
struct plug_docker {
	const char *cli;
	int nglobals;
	const char *globals[PLUG_MAX_GLOBALS];
};

/* What `docker image inspect` said. */
struct plug_image {
	char *id;                  /* "sha256:..." */
	int ndiffids;
	char **diffids;            /* RootFS.Layers */
	char *platform;            /* "os/arch[/variant]" */
};

void plug_image_release(struct plug_image *img);

/* docker image inspect IMAGE. Not found: IDP_ENOTFOUND. */
int plug_docker_inspect(const struct plug_docker *d, const char *image, struct plug_image *out,
			struct idp_error *err);

/* A running `docker save IMAGE`: stdout on fd, stderr kept in a temp file. */
struct plug_save {
	pid_t pid;
	int fd;
	int errfd;
};

int plug_docker_save_start(const struct plug_docker *d, const char *image, struct plug_save *sv,
			   struct idp_error *err);
/* Kill (when kill_it) and reap; -1 with docker's message when it failed. */
int plug_docker_save_end(struct plug_save *sv, int kill_it, struct idp_error *err);

/* The streaming push (fe_stream_push_fn). ctx: struct plug_push. */
struct plug_push {
	const struct fe_config *cfg;
	const struct plug_docker *docker;
	const char *image;
	const struct plug_image *info;
	volatile sig_atomic_t *cancel;
	int64_t bytes_read;
};

int plug_push_stream(void *ctx, struct idp_session *s, const struct idp_push_opts *po,
		     char digest_out[IDP_DIGEST_MAX], size_t *size_out, struct idp_push_stats *stats,
		     struct idp_error *err);

/* Watch DOCKER_CLI_PLUGIN_SOCKET (when set) from a detached thread; EOF
 * sets *cancel. Returns 0 (also when unset), -1 when it cannot connect
 * (a warning; the push goes on). */
int plug_socket_watch(const char *name, volatile sig_atomic_t *cancel);

#endif
