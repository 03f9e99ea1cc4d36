/* plug.h: the pieces of docker-idppush (the docker CLI plugin):
 *   plug_launch.c docker-idppush itself: answers the metadata question,
 *                 runs idppush-plugin (the rest) for everything else
 *   plug_main.c   idppush-plugin: argv (docker global flags, metadata, help), the flow
 *   plug_complete.c  docker's completion protocol (__complete)
 *   plug_push.c   the push: the cache first, else docker's layer store
 *                 (idp_stream_docker_store) when it can be read, else docker
 *                 save into the engine's docker-save stream (idp_push_stream)
 *   plug_reuse.c  what the push cache says is in the registry already:
 *                 probed before docker save, the manifest without it
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


/* What is known to be in the destination repository before docker save. */
enum plug_have { PLUG_HAVE_NO, PLUG_HAVE_EXISTS, PLUG_HAVE_MOUNTED };

struct plug_blob_state {
	int have;                  /* enum plug_have */
	char digest[IDP_DIGEST_MAX];
	int64_t size;
	int zstd;                  /* a zstd layer (OCI media type) */
};

struct plug_reuse {
	const struct plug_push *pp;
	const char *registry;      /* destination host[:port] */
	const char *repository;    /* destination repository path */
	const char *cache_path;    /* NULL: no cache */
	const struct idp_pushcache *cache;   /* as loaded (the caller's) */
	struct idp_pushcache news;    /* learnt by this push, committed after success */
	struct plug_blob_state *layers;    /* one per inspect diffID */
	struct plug_blob_state config;
	char want[IDP_CODEC_NAME_MAX]; /* the producer (docker/pushcache.h) of this image's blobs */
	int saved_stored;          /* docker save gave already-compressed layers */
	struct idp_stream_known *known;   /* the table for a stream push, or NULL */
};

/* Load the cache for the session's destination. -1 only out of memory. */
int plug_reuse_init(struct plug_reuse *ru, const struct plug_push *pp, const struct idp_session *s,
		    struct idp_error *err);
void plug_reuse_release(struct plug_reuse *ru);
/* Probe what the cache knows (the engine HEADs or mounts it, reporting
 * "Layer already exists" / "Mounted from"). 1 when every layer and the
 * config are present, 0 not, -1 error. */
int plug_reuse_check(struct plug_reuse *ru, struct idp_push_target *t,
		     const struct idp_push_opts *po, struct idp_error *err);
/* The image (config + layers + manifest) from the states, no docker save. */
int plug_reuse_image(const struct plug_reuse *ru, struct idp_image *img, struct idp_error *err);
/* The image from the cache alone, when it knows the config and every
 * layer as pushed to this very repository (states set to "exists"): 1,
 * else 0 (states as before), -1 on error. Nothing is asked. */
int plug_reuse_known(struct plug_reuse *ru, struct idp_image *img, struct idp_error *err);
/* Every state back to "not known". */
void plug_reuse_forget(struct plug_reuse *ru);
/* What the cache knows of a stream's blobs, as the table the stream push
 * takes (idp_stream_push_open); it belongs to ru. Returns its length, or
 * -1 (out of memory). */
int plug_reuse_stream_known(struct plug_reuse *ru, const struct idp_stream_known **out,
			    struct idp_error *err);
/* What a stream's phase 1 taught: which legacy v1 directory ids the
 * layers that went up had (their diffIDs), whether the stream gave
 * compressed layers. */
void plug_reuse_note_stream(struct plug_reuse *ru, const struct idp_stream_taken *taken, int n);
/* After a successful push (saved: docker save ran): record the top
 * manifest's blobs for each of the n targets and write the cache (a
 * failure is a warning event through po, so that it reaches the progress
 * output). */
void plug_reuse_commit(struct plug_reuse *ru, const struct idp_push_targets *to,
		       const struct idp_image *img, int saved);

/* Answer `docker-idppush __complete [idppush] ARGS... TOCOMPLETE` (argv:
 * the words after "__complete") on stdout, cobra's way, for the option
 * table opts; local image names are asked of docker through d. Returns
 * 0 (the exit code). */
int plug_complete(const struct fe_option *opts, const struct idp_docker *d, int argc,
		  char **argv);

/* The plugin's steps, in order, into the targets fe_push_open opened:
 * 0, or -1 with err. */
int plug_push(struct plug_push *pp, const struct idp_push_targets *to, struct idp_error *err);

/* Watch DOCKER_CLI_PLUGIN_SOCKET (when set) from a detached thread; EOF
 * sets *cancel. Returns 0 (also when unset), -1 when it cannot connect
 * (a warning; the push goes on). */
int plug_socket_watch(const char *name, volatile sig_atomic_t *cancel);

#endif
