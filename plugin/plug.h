/* plug.h: the pieces of docker-idppush (the docker CLI plugin):
 *   plug_launch.c docker-idppush itself: answers the metadata question,
 *                 runs idppush-plugin (the rest) for everything else
 *   plug_main.c   idppush-plugin: argv (docker global flags, metadata, help), the flow
 *   plug_complete.c  docker's completion protocol (__complete)
 *   plug_push.c   the push's steps: the push cache first (docker/reuse.c),
 *                 else docker's layer store (idp_stream_docker_store) when it
 *                 can be read and trusted, else docker save into the engine's docker-save
 *                 stream, each stream pushed in two phases (idp_stream_push_*);
 *                 on docker's containerd image store: as stored, nothing
 *                 changed when the tag names the image ID, else the store
 *                 (plug_ctd.c), else the relay, else docker save
 *   plug_ctd.c    reading docker's containerd image store
 *   plug_relay.c  the daemon's own push through the loopback relay
 *                 (docker/relay.h), when the store cannot be read
 *   plug_socket.c DOCKER_CLI_PLUGIN_SOCKET watcher (EOF = cancel)
 * over what the library knows of docker (common/docker/: the daemon through
 * its CLI or Engine API, inspect, save, the push cache). */
#ifndef IDP_PLUG_H
#define IDP_PLUG_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include "idp.h"
#include "frontend/fe_opts.h"
#include "docker/docker.h"
#include "docker/pushcache.h"

#define PLUG_NAME "idppush"      /* the command: `docker idppush` */
/* What the plugin pushes and how (plug_main.c fills it for plug_push.c). */
struct plug_push {
	const struct fe_config *cfg;
	const struct idp_docker *docker;
	const char *image;
	const struct idp_docker_image *info;
	volatile sig_atomic_t *cancel;
	int64_t bytes_read;
	const char *platform;      /* passed to docker save --platform, or NULL */
	char *notice;              /* owned: what the stream said the user should know, or NULL */
	struct idp_codec codec;    /* how raw layers are compressed */
	const char *cache_path;    /* the push cache file, or NULL (none) */
	const struct idp_pushcache *cache;   /* as loaded before the push */
	size_t chunk_start;        /* the chunk size the session started with */
};


/* Answer `docker-idppush __complete [idppush] ARGS... TOCOMPLETE` (argv:
 * the words after "__complete") on stdout, cobra's way, for the option
 * table opts; local image names are asked of docker through d. Without
 * descriptions: `__completeNoDesc` (the bash completion of docker 20.10),
 * option names without their help, bash's "--name" "=" "value" words
 * joined. Returns 0 (the exit code). */
int plug_complete(const struct fe_option *opts, const struct idp_docker *d, int argc,
		  char **argv, int descriptions);

/* The plugin's steps, in order, into the targets fe_push_open opened:
 * 0, or -1 with err. */
int plug_push(struct plug_push *pp, const struct idp_push_targets *to, struct idp_error *err);

/* The daemon pushes the image through the loopback relay into the
 * targets (img: what went up; the cache told it came from the daemon):
 * 0, 1 when the relay cannot serve (nothing was pushed: docker save), -1
 * with err. */
int plug_relay(struct plug_push *pp, const struct idp_push_targets *to, struct idp_reuse *ru,
	       struct idp_image *img, struct idp_error *err);

/* Push from docker's containerd image store itself (plug_ctd.c): the
 * image the image ID names, as stored, from the first candidate root
 * (idp_docker_ctd_roots) that may be read and holds it. 1 pushed (img
 * describes it: release it), 0 when the store cannot serve (why says
 * why: the caller takes docker save), -1 with err. */
int plug_ctd_push(struct plug_push *pp, const struct idp_push_targets *to,
		  const struct idp_docker_daemon *dm, struct idp_image *img, char *why, size_t n,
		  struct idp_error *err);

/* Watch DOCKER_CLI_PLUGIN_SOCKET (when set) from a detached thread; EOF
 * sets *cancel. Returns 0 (also when unset), -1 when it cannot connect
 * (a warning; the push goes on). */
int plug_socket_watch(const char *name, volatile sig_atomic_t *cancel);

#endif
