/* docker/relay.h: the plugin's loopback relay. When the plugin cannot
 * read the daemon's image store (it runs as a member of the socket's
 * group, not as root), the daemon itself pushes the image, as `docker
 * push` would, to a registry the plugin serves on 127.0.0.1 (dockerd
 * speaks plain HTTP to 127.0.0.0/8), and the relay answers it from the
 * real targets through the engine:
 *   relay.c       the server (libmicrohttpd, one thread per connection,
 *                 behind an acceptor of our own that answers a TLS hello
 *                 with a plain HTTP error at once, so dockerd falls back
 *                 to HTTP without waiting): Basic auth with credentials of
 *                 this run, the routes, manifests kept
 *   relay_blob.c  blobs: HEAD and mounts asked of the real targets,
 *                 upload sessions whose bytes go through a bounded ring
 *                 into an engine upload on a thread of its own
 *                 (idp_push_fanout_blob: every registry, chunks, retries,
 *                 413s, the rate limit, progress events); or, where the
 *                 daemon can send them as well as we can (one target, a
 *                 loopback registry over plain HTTP that asks for no
 *                 credentials, no request size or rate to keep), the
 *                 registry's own upload session handed over to the daemon
 *                 (its bytes go there straight, as docker push sends them;
 *                 its progress shown from the daemon's report)
 *   relay_ahead.c the manifests the daemon puts, put into the registry by
 *                 digest at once while every blob went there without an
 *                 upload of the relay's; the image's own (its ID) under
 *                 the tag as soon as it came, which ends the daemon's push
 *                 (the others only after the push)
 *   relay_tag.c   the temporary name the daemon pushes: made early, by
 *                 the image's name (its tag event tells the image ID), or
 *                 once the relay is up; removed
 *   relay_push.c  the flow: the relay up, the image tagged
 *                 127.0.0.1:PORT/<repository>:<temporary tag> through the
 *                 Engine API, pushed by the daemon (its progress read for
 *                 errors; a push whose handed-over uploads failed is
 *                 pushed again with every byte through the relay), the
 *                 tag removed on every way out, the uploads
 *                 waited for, and the manifests the daemon sent, as the
 *                 image to put into every target (nothing is tagged before)
 * A daemon that cannot reach 127.0.0.1 of this host (rootless dockerd's
 * own network namespace, a VM) is told apart: its push fails, or sends
 * nothing for IDP_RELAY_SILENCE_MS, without the relay seeing a
 * connection; the caller then takes another way (docker save). */
#ifndef IDP_DOCKER_RELAY_H
#define IDP_DOCKER_RELAY_H

#include <stdint.h>
#include <sys/types.h>
#include "push/push.h"
#include "registry/stop.h"
#include "sources/source.h"
#include "docker.h"

#define IDP_RELAY_SILENCE_MS 5000   /* no connection from the daemon by then: unreachable */

struct idp_relay;

struct idp_relay_opts {
	/* where the blobs go: the first target of every registry (the others
	 * and the manifests are the caller's, after the daemon's push) */
	const struct idp_push_targets *to;
	const char *repo;          /* the repository the daemon pushes to (a target's path) */
	int port;                  /* the port to listen on; 0: one derived from the first
				    * target's registry, the same for every push to it */
	/* set when the relay fails or the daemon stays silent: the daemon's push
	 * call stops (the Engine API handle's stop) */
	struct idp_stop *abort;
	/* upload sessions may be handed over to the daemon (see relay_blob.c)
	 * when the registry allows it; 0: every byte through the relay */
	int hand_over;
	/* the image the daemon pushes: once it put the manifest of this digest
	 * (and the registry took every one before it, ahead), that one goes
	 * under the target's tag at once; NULL: only after the push */
	const char *image_id;
	void (*debug)(void *ctx, const char *line);   /* a line per request (-v), or NULL */
	void *debug_ctx;
};

/* Start listening on 127.0.0.1. NULL with err. */
struct idp_relay *idp_relay_start(const struct idp_relay_opts *o, struct idp_error *err);
int idp_relay_port(const struct idp_relay *r);
/* The Basic credentials this run's daemon must send. */
const char *idp_relay_user(const struct idp_relay *r);
const char *idp_relay_password(const struct idp_relay *r);
/* From now on, a daemon that opens no connection for IDP_RELAY_SILENCE_MS
 * is taken as unable to reach the relay (opts.abort is set). */
void idp_relay_arm(struct idp_relay *r);
/* How many connections reached the relay; *silent: 1 when it gave up
 * waiting for one. */
int idp_relay_connections(struct idp_relay *r, int *silent);
/* How many upload sessions were handed over to the daemon so far. */
int idp_relay_handed(struct idp_relay *r);
/* From now on every upload comes through the relay. */
void idp_relay_hand_over_no_more(struct idp_relay *r);
/* A progress line of the daemon's push about a layer (id: 12 hex, as it
 * shows it): current of total bytes sent, or pushed. Shown and counted
 * when the daemon sends that layer itself (a handed-over session). */
void idp_relay_daemon_progress(struct idp_relay *r, const char *id, int64_t current,
			       int64_t total, int pushed);
/* Whether the daemon's push was stopped because the image is whole
 * under the target's tag (relay_ahead.c): what it had left to do is its
 * own bookkeeping (dockerd 26 labels its content with the relay's
 * address: 15-20 ms), not the registry's. */
int idp_relay_whole(struct idp_relay *r);
/* The first failure of the relay (an upload the registry refused...):
 * 1 with err, else 0. */
int idp_relay_failed(struct idp_relay *r, struct idp_error *err);
/* The daemon's push is over and succeeded: stop serving, wait for the
 * uploads, check that each holds the digest the daemon gave, and hand
 * over the manifests it sent (in the order received, the last one the top)
 * and their blobs (img: release it). 0, or -1 with err. */
int idp_relay_finish(struct idp_relay *r, struct idp_image *img, struct idp_error *err);
/* Stop (uploads still running are abandoned) and free; NULL is fine. */
void idp_relay_free(struct idp_relay *r);

/* The port the relay listens on first for a push to domain's registry:
 * IDPPUSH_RELAY_PORT, else one derived from domain (the same every run). */
int idp_relay_port_for(const char *domain);

/* ---- the temporary name (relay_tag.c) ---- */

struct idp_relay_tag;

/* Tag image (as the user named it) 127.0.0.1:PORT/repo:idppush-<random>,
 * PORT the one the relay will listen on for domain, on a thread with a
 * connection of its own: the push is likely to take the relay
 * (idp_relay_push takes it over, checking that what the daemon pushed is
 * the image ID it was given). NULL: not started. */
struct idp_relay_tag *idp_relay_tag_early(const struct idp_docker_api *api, const char *image,
					  const char *domain, const char *repo,
					  void (*debug)(void *ctx, const char *line),
					  void *debug_ctx);
/* Wait for it: the image ID the tag named (the daemon's tag event), or
 * NULL (not tagged, no event: inspect the image). NULL is fine. */
const char *idp_relay_tag_image_id(struct idp_relay_tag *t);
/* Wait for it; the tag removed unless a push through the relay took it
 * over; freed. NULL is fine. */
void idp_relay_tag_free(struct idp_relay_tag *t);

/* ---- the flow (relay_push.c) ---- */

struct idp_relay_push {
	struct idp_docker_api *api;    /* the daemon (a local unix socket) */
	const char *image_id;          /* what to push: "sha256:..." */
	struct idp_relay_tag *early;   /* its temporary name made early, or NULL */
	const struct idp_push_targets *to;
	int port;                      /* 0: derived (IDPPUSH_RELAY_PORT overrides) */
	int hand_over;                 /* idp_relay_opts.hand_over */
	void (*debug)(void *ctx, const char *line);
	void *debug_ctx;
	/* filled in */
	int used_port;
	int handed;                    /* upload sessions the daemon filled itself */
	char why_not[IDP_ERRMSG_MAX];  /* fell back: why the daemon did not reach the relay */
};

/* Whether the daemon process (the Engine API socket's peer; <= 0:
 * unknown) can reach this host's 127.0.0.1: 0 with why when it runs in
 * another network namespace (a rootless dockerd), else 1 (also when that
 * cannot be told: the relay finds out). */
int idp_relay_reachable(pid_t daemon, char *why, size_t n);

/* The daemon pushes image_id through the relay; then its manifests are
 * put into every target (the blobs mounted into the other targets of each
 * registry first), the last one under each target's tag. img gets the
 * image as pushed (release it). 0 pushed, 1 the daemon could not reach the
 * relay (nothing was pushed or tagged; p->why_not says why: take another
 * way), -1 with err. */
int idp_relay_push(struct idp_relay_push *p, struct idp_image *img, struct idp_error *err);

#endif
