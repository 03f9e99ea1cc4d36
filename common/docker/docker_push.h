/* docker/docker_push.h: a local docker image pushed into open targets,
 * the way the plugin takes it (idp_docker_push):
 *   docker_push.c   which path the push takes, and running it: nothing
 *                   changed (the push cache, one HEAD), what the cache
 *                   says is there already (reuse.c probes it), docker's
 *                   layer store (src_docker_store.c) when it can be read
 *                   and trusted, the loopback relay, docker save
 *                   converted; on docker's containerd image store, as
 *                   stored: one HEAD when the tag names the image ID, the
 *                   store itself, the relay, docker save as stored
 *   ctd_push.c      reading docker's containerd image store itself
 *   relay_choice.c  whether the loopback relay (relay.h) may serve, and
 *                   the daemon's own push through it
 * The front end parses the options, loads the push cache, opens the
 * targets (fe_push_open), calls idp_docker_push and reports
 * (fe_push_finish). Nothing is printed here: what -v shows goes to the
 * info callback. docs/engine.md, "How a push flows", tells the steps. */
#ifndef IDP_DOCKER_PUSH_H
#define IDP_DOCKER_PUSH_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "util/error.h"
#include "sources/compress.h"
#include "push/push.h"
#include "docker.h"
#include "pushcache.h"

struct idp_relay_tag;   /* docker/relay.h */

/* What the push is, as the front end knows it (everything outlives the push). */
struct idp_docker_push_opts {
	const struct idp_docker *docker;      /* the daemon (api: its Engine API, or NULL) */
	const char *image;                    /* as the user named it (docker save) */
	const struct idp_docker_image *inspect;  /* docker image inspect */
	const char *save_platform;  /* passed to docker save --platform, or NULL */
	const char *platform;       /* --platform as given (one), or NULL */
	int format;                 /* enum idp_manifest_format */
	struct idp_codec codec;     /* how raw layers are compressed */
	struct idp_relay_tag *early;   /* idp_docker_relay_tag_early's, or NULL */
	const char *cache_path;     /* the push cache file, or NULL (none: nothing recorded) */
	const struct idp_pushcache *cache;   /* as loaded before the push */
	size_t chunk_start;         /* the chunk size the sessions started with */
	int chunk_given;            /* --chunk-size: no size is learnt from 413s */
	volatile sig_atomic_t *cancel;
	/* -v: what was decided and why, a line each (NULL: not verbose), and
	 * the relay's trace of the daemon's requests (NULL: none) */
	void (*info)(void *ctx, const char *msg);
	void *info_ctx;
	void (*debug)(void *ctx, const char *line);
	void *debug_ctx;
};

/* The temporary name a push through the loopback relay needs, made while
 * the caller inspects image (to be pushed to dest; platform: --platform
 * or NULL) when the push is likely to take the relay, and the tag costs
 * the daemon enough to be worth it: we are not root, the daemon is
 * root's, and cache (the push cache, or NULL) has blobs pushed as stored
 * into dest's repository (docker's containerd image store: a tag takes
 * it 13 ms; the classic store's tag is cheap, and a push of nothing new
 * would only pay for the tag's removal). Put it in the push's opts, free
 * it after the push (idp_relay_tag_free: removed unless the relay took
 * it). NULL: none. */
struct idp_relay_tag *idp_docker_relay_tag_early(const struct idp_docker *d, const char *image,
						 const struct idp_ref *dest,
						 const char *platform,
						 const struct idp_pushcache *cache,
						 void (*debug)(void *ctx, const char *line),
						 void *debug_ctx);

/* What the push knows of image before it starts: with the early tag
 * being made, nothing yet (info->id_only, no id: the push takes the image
 * ID the tag named, from the daemon's tag event, so that the targets open
 * meanwhile, and inspects the image when there is none or its way needs
 * the layers), else idp_docker_platform_inspect's. 0, or -1 with err
 * (release info either way). */
int idp_docker_image_for_push(const struct idp_docker *d, const char *image,
			      const char *platform, struct idp_relay_tag *early,
			      struct idp_docker_image *info, struct idp_error *err);

/* What the front end reports after the push. */
struct idp_docker_push_result {
	char *notice;               /* owned: what the user should know (free it), or NULL */
	int64_t bytes_read;         /* bytes read from the daemon's store or docker save */
};

/* Push o's image into the targets fe_push_open opened (their sessions
 * open, results zeroed), by the first path that serves; the push cache
 * is updated after success. res is filled either way (zeroed first):
 * free res->notice. 0, or -1 with err. */
int idp_docker_push(const struct idp_docker_push_opts *o, const struct idp_push_targets *to,
		    struct idp_docker_push_result *res, struct idp_error *err);

#endif
