/* push_private.h: what push.c (the blob step, the pool, manifests),
 * push_targets.c (several targets) and push_stream.c (streams) share: the
 * pusher that counts and reports, the one step every blob goes through,
 * and the per-target pieces. Nobody else includes it. */
#ifndef IDP_PUSH_PRIVATE_H
#define IDP_PUSH_PRIVATE_H

#include <pthread.h>
#include "push.h"

struct pusher {
	struct idp_session *s;
	const struct idp_push_opts *o;
	pthread_mutex_t mu;          /* stats */
	pthread_mutex_t emit_mu;     /* events reach the front end one at a time */
	struct idp_push_stats stats;
};

/* One blob through "exists -> mount -> upload -> count -> report". */
struct blob_step {
	const char *id;              /* what progress shows */
	const char *digest;          /* NULL: unknown until uploaded (not HEADed) */
	int64_t size;                /* -1: unknown */
	const char *mount_from;      /* a repository on the same registry, or NULL */
	const char *session;         /* an upload session open for it, or NULL */
	int unhashed;                /* with digest: the registry checks it, not us */
	/* A reader for the upload; NULL open: only look (probe). */
	int (*open)(void *ctx, struct idp_blob_reader *r, struct idp_error *err);
	void *open_ctx;
	int keep_reader;             /* the reader belongs to the caller: do not close it */
	int quiet;                   /* no events (a blob docker push does not show: the config) */
	int absent;                  /* the registry lacks it (just asked): no HEAD first */
	const int64_t *consumed;     /* streams: source bytes the reader handed over, or NULL */
	int64_t raw_total;
	/* when the upload spools the bytes (a stream) and *keep_spool is NULL,
	 * the spool goes there (the caller frees it); NULL: not kept */
	struct idp_spool **keep_spool;
	/* results */
	enum idp_blob_outcome outcome;
	char pushed[IDP_DIGEST_MAX]; /* digest uploaded or found */
	int64_t pushed_size;
};

/* The step of one blob of an image (no reader yet). */
void blob_step_of(struct blob_step *b, const struct idp_image_blob *ib);

void pusher_init(struct pusher *p, struct idp_session *s, const struct idp_push_opts *o);
void pusher_destroy(struct pusher *p);
/* A blob somebody else uploads into p's registry (a docker daemon, into a
 * session handed to it): shown (id, done of total bytes, or pushed); once
 * in, counted as an upload of p's own (size bytes). */
void pusher_handed(struct pusher *p, const char *id, int64_t done, int64_t total, int pushed);
void pusher_handed_in(struct pusher *p, int64_t size);
/* 0 (b->outcome says what happened; PENDING only when probing) or -1. */
int pusher_blob(struct pusher *p, struct idp_http *h, struct blob_step *b, struct idp_error *err);

/* One blob into every registry (push_fanout.c): the targets, with a
 * pusher (counts, events) each. */
struct idp_push_fanout {
	struct idp_push_targets to;
	int multi;                   /* targets on several registries */
	int npushers;                /* initialised: one per target */
	struct pusher *pushers;
};
/* f in place for the targets `to`: 0, or -1 with err. */
int fanout_init(struct idp_push_fanout *f, const struct idp_push_targets *to,
		struct idp_error *err);
/* The counts added, the pushers gone (a zeroed f is fine). */
void fanout_destroy(struct idp_push_fanout *f);

/* Push img's blobs into target i of `to`, from src (NULL: nothing can be
 * uploaded: the blobs must be there or mountable), each mounted from the
 * first target of its registry when that is another one. The counts are
 * added to its res.stats; an error names the target when there are
 * several. */
int push_blobs_into(const struct idp_push_targets *to, int i, struct idp_source *src,
		    const struct idp_image *img, struct idp_error *err);

/* Items 0..n-1 (in order[] when it is not NULL) handed to worker
 * threads, push_jobs(jobs, n) of them: each starts with start (its own
 * connections into *state), does one() for every item it takes, ends
 * with end (may be NULL). The first failure stops the others from taking
 * items, and stop(ctx, 1) their transfers (stop(ctx, 0) once all ended).
 * 0, or -1 with the first error. */
struct push_workers {
	int n;
	const int *order;
	void *ctx;
	int (*start)(void *ctx, void **state, struct idp_error *err);
	int (*one)(void *ctx, void *state, int i, struct idp_error *err);
	void (*end)(void *ctx, void *state);
	void (*stop)(void *ctx, int on);
};
int push_run_workers(const struct push_workers *w, int jobs, struct idp_error *err);
/* How many workers for n items: jobs (0: 4; at most 16), at most n. */
int push_jobs(int jobs, int n);

/* Put img's manifests into t in order, the last one under t->tag (NULL =
 * by digest); t->res gets the top manifest's digest and size. */
int push_manifests(struct idp_push_target *t, const struct idp_push_opts *o,
		   const struct idp_image *img, struct idp_error *err);

/* The index of the first target on t[i]'s registry (i itself when none
 * comes before it): blobs are uploaded there, mounted into the others. */
int push_primary(const struct idp_push_target *t, int i);
/* Name target i in err when there are several. Returns -1. */
int push_target_error(const struct idp_push_targets *to, int i, struct idp_error *err);

#endif
