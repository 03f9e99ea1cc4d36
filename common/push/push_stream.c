/* push_stream.c: pushing a streaming source (push.h's idp_stream_push_*),
 * in two phases with the caller's own step between them. Phase 1 takes
 * each blob as the stream hands it over: skipped when the caller's table
 * says the registry has it, else through the same step as every blob
 * (push.c) into the first target of every registry (the bytes kept in a
 * spool for the next one); a stream that can be read in any order (plan
 * and take, source.h) has its blobs shown up front (Preparing, Waiting
 * beyond the jobs) and taken by several workers at once, as docker push
 * uploads several layers at once; then the stream checks itself and
 * describes the image. Phase 2 pushes what the image has that the stream
 * did not hand over (the config, byte for byte), mounts the blobs into the other
 * targets and puts the manifests. The stream protocol (source.h) is
 * checked here, once for every stream, as libarchive's core checks its
 * state for every format. */
#include "config.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "push_private.h"
#include "banned.h"

/* Where the stream stands: which of its calls may come next. */
enum stream_state {
	STREAM_READY,      /* next */
	STREAM_BLOB,       /* done or skip, for the blob next gave */
	STREAM_ENDED,      /* finish */
	STREAM_FINISHED,   /* open_blob */
	STREAM_BROKEN      /* a call failed: nothing more */
};

struct idp_stream_push {
	struct idp_push_targets to;
	struct idp_push_fanout fan;     /* the targets' pushers */
	struct idp_http **conns;        /* one per first target of a registry */
	struct idp_stream *stream;
	enum stream_state state;
	const struct idp_stream_known *known;
	int nknown;
	int ntaken;
	struct idp_stream_taken *taken; /* the blobs the stream handed over */
	/* a stream read in any order: each blob's state (BLOB_*), under mu */
	pthread_mutex_t mu;
	unsigned char *blob_state;
};

enum { BLOB_NEW, BLOB_TAKEN, BLOB_DONE };

/* ---- the stream protocol ---- */

static int out_of_order(struct idp_stream_push *push, const char *what, struct idp_error *err)
{
	push->state = STREAM_BROKEN;
	return idp_error_set(err, IDP_EGENERAL, "internal: %s stream: %s",
			     push->stream->ops->name, what);
}

/* The stream answered rc: it is in state `next` now, or broken. */
static int moved(struct idp_stream_push *push, int rc, enum stream_state next)
{
	push->state = rc < 0 ? STREAM_BROKEN : next;
	return rc;
}

static int stream_next(struct idp_stream_push *push, struct idp_stream_blob *blob,
		       struct idp_blob_reader *r, struct idp_error *err)
{
	const struct idp_stream *stream = push->stream;
	int rc;

	if (push->state != STREAM_READY)
		return out_of_order(push, "the next blob before the current one was done", err);
	rc = stream->ops->next(stream->priv, blob, r, err);
	return moved(push, rc, rc == 1 ? STREAM_BLOB : STREAM_ENDED);
}

/* Blob i of a stream read in any order moves from state `from` to `to`
 * (any thread): 0, or -1 when it was not in `from`. */
static int blob_moves(struct idp_stream_push *push, int i, int from, int to, const char *what,
		      struct idp_error *err)
{
	int ok;

	pthread_mutex_lock(&push->mu);
	if ((ok = push->state == STREAM_READY && push->blob_state[i] == from))
		push->blob_state[i] = (unsigned char)to;
	pthread_mutex_unlock(&push->mu);
	return ok ? 0 : idp_error_set(err, IDP_EGENERAL, "internal: %s stream: %s",
				      push->stream->ops->name, what);
}

static int stream_take(struct idp_stream_push *push, int i, int at_once,
		       struct idp_stream_blob *blob, struct idp_blob_reader *r,
		       struct idp_error *err)
{
	const struct idp_stream *stream = push->stream;

	if (blob_moves(push, i, BLOB_NEW, BLOB_TAKEN, "a blob taken twice", err) < 0)
		return -1;
	return stream->ops->take(stream->priv, i, at_once, blob, r, err);
}

/* Blob i (-1: the one next gave) went up as digest/size. */
static int stream_done(struct idp_stream_push *push, int i, const char *digest, int64_t size,
		       char diffid[IDP_DIGEST_MAX], struct idp_error *err)
{
	const struct idp_stream *stream = push->stream;

	if (i >= 0) {
		if (!digest || blob_moves(push, i, BLOB_TAKEN, BLOB_DONE, "no such blob taken",
					  err) < 0)
			return -1;
		return stream->ops->done_at(stream->priv, i, digest, size, diffid, err);
	}
	if (push->state != STREAM_BLOB || !digest)
		return out_of_order(push, "no blob in progress", err);
	return moved(push, stream->ops->done(stream->priv, digest, size, diffid, err),
		     STREAM_READY);
}

/* Blob i (-1: the one next gave), unread, is in the registry as digest. */
static int stream_skip(struct idp_stream_push *push, int i, const char *expect,
		       const char *digest, int64_t size, struct idp_error *err)
{
	const struct idp_stream *stream = push->stream;

	if (i >= 0) {
		if (!digest || blob_moves(push, i, BLOB_TAKEN, BLOB_DONE, "no such blob taken",
					  err) < 0)
			return -1;
		return stream->ops->skip_at(stream->priv, i, expect, digest, size, err);
	}
	if (push->state != STREAM_BLOB || !digest)
		return out_of_order(push, "no blob to skip", err);
	return moved(push, stream->ops->skip(stream->priv, expect, digest, size, err),
		     STREAM_READY);
}

static int stream_finish(struct idp_stream_push *push, struct idp_image *img,
			 struct idp_error *err)
{
	const struct idp_stream *stream = push->stream;

	if (push->state != STREAM_ENDED)
		return out_of_order(push, "finished before its end", err);
	return moved(push, stream->ops->finish(stream->priv, img, err), STREAM_FINISHED);
}

static int stream_open_blob(struct idp_stream_push *push, const struct idp_image_blob *b,
			    struct idp_blob_reader *r, struct idp_error *err)
{
	const struct idp_stream *stream = push->stream;

	if (push->state != STREAM_FINISHED)
		return out_of_order(push, "a blob of the image before it was finished", err);
	return stream->ops->open_blob(stream->priv, b, r, err);
}

/* ---- phase 1: the stream's blobs ---- */

/* What the caller knows of blob: the first entry with its digest, else
 * the first with its display id, else NULL. */
/* The first entry of the caller's table with this digest, or NULL. */
static const struct idp_stream_known *known_digest(const struct idp_stream_push *push,
						   const char *digest)
{
	int i;

	for (i = 0; digest && i < push->nknown; i++)
		if (push->known[i].by_digest && strcmp(push->known[i].by_digest, digest) == 0)
			return &push->known[i];
	return NULL;
}

static const struct idp_stream_known *known_of(const struct idp_stream_push *push,
					       const struct idp_stream_blob *blob)
{
	const struct idp_stream_known *k = known_digest(push, blob->digest);
	int i;

	if (k)
		return k;
	for (i = 0; blob->display_id && i < push->nknown; i++)
		if (push->known[i].by_id && strcmp(push->known[i].by_id, blob->display_id) == 0)
			return &push->known[i];
	return NULL;
}

/* Record blob i (-1: the next in order) as taken: in the registry as
 * digest. A stream read in any order has its table made up front. */
static int note_taken(struct idp_stream_push *push, int i, const struct idp_stream_blob *blob,
		      const char *diffid, const char *digest, struct idp_error *err)
{
	struct idp_stream_taken *t;

	if (i < 0) {
		if (!(t = realloc(push->taken, sizeof(*t) * (size_t)(push->ntaken + 1))))
			return idp_error_set(err, IDP_EGENERAL, "out of memory");
		push->taken = t;
		i = push->ntaken++;
	}
	t = &push->taken[i];   /* a slot of its own: workers write their blob's */
	memset(t, 0, sizeof(*t));
	if (blob->display_id)
		snprintf(t->display_id, sizeof(t->display_id), "%s", blob->display_id);
	t->compressed = blob->compressed;
	t->uploaded = diffid != NULL;
	snprintf(t->diffid, sizeof(t->diffid), "%s", diffid ? diffid : "");
	snprintf(t->digest, sizeof(t->digest), "%s", digest);
	return 0;
}

static int was_taken(const struct idp_stream_push *push, const char *digest)
{
	int i;
	for (i = 0; i < push->ntaken; i++)
		if (strcmp(push->taken[i].digest, digest) == 0)
			return 1;
	return 0;
}

/* Every registry had the blob by its digest (not read): skipped; else it
 * was read and uploaded: done. */
static int went_up(struct idp_stream_push *push, int i, const struct idp_stream_blob *blob,
		   const struct idp_fanout_blob *fb, struct idp_error *err)
{
	char diffid[IDP_DIGEST_MAX];

	if (!fb->read) {
		if (stream_skip(push, i, NULL, fb->got, fb->got_size, err) < 0)
			return -1;
		return note_taken(push, i, blob, NULL, fb->got, err);
	}
	if (stream_done(push, i, fb->got, fb->got_size, diffid, err) < 0)
		return -1;
	return note_taken(push, i, blob, diffid, fb->got, err);
}

/* The caller's table says the registry has it (one registry). */
static const struct idp_stream_known *present(const struct idp_stream_push *push,
					      const struct idp_stream_blob *blob)
{
	const struct idp_stream_known *k = known_of(push, blob);

	return k && k->present && !push->fan.multi ? k : NULL;
}

/* One blob of the stream (i: its index, -1: the one next gave), with its
 * reader r, into every registry through conns. */
static int take_blob(struct idp_stream_push *push, int i, const struct idp_stream_blob *blob,
		     struct idp_blob_reader *r, struct idp_http *const *conns,
		     struct idp_error *err)
{
	const struct idp_stream_known *k = known_of(push, blob);
	struct idp_fanout_blob fb;

	if (present(push, blob)) {
		if (stream_skip(push, i, blob->compressed ? NULL : k->expect, k->digest, k->size,
				err) < 0)
			return -1;
		return note_taken(push, i, blob, NULL, k->digest, err);
	}
	memset(&fb, 0, sizeof(fb));
	fb.id = k && k->display_id && !blob->compressed ? k->display_id : blob->display_id;
	fb.digest = blob->digest;
	fb.size = blob->size;
	fb.r = r;
	fb.consumed = blob->consumed;
	fb.raw_total = blob->raw_size;
	fb.mount_from = k && blob->digest ? k->mount_from : NULL;
	if (idp_push_fanout_blob(&push->fan, conns, &fb, err) < 0)
		return -1;
	return went_up(push, i, blob, &fb, err);
}

/* The stream's blobs in its order. */
static int blobs_in_order(struct idp_stream_push *push, struct idp_error *err)
{
	struct idp_stream_blob blob;
	struct idp_blob_reader r;
	int rc;

	while ((rc = stream_next(push, &blob, &r, err)) == 1) {
		rc = take_blob(push, -1, &blob, &r, push->conns, err);
		idp_blob_reader_close(&r);
		if (rc < 0)
			return -1;
	}
	return rc;
}

/* ---- phase 1 of a stream read in any order: several blobs at once ---- */

struct any_order {
	struct idp_stream_push *push;
	const char *const *ids;        /* the plan's display ids */
	int at_once;                   /* blobs read at the same time */
};

static void emit_plan(const struct idp_stream_push *push, enum idp_event_kind kind,
		      const char *id)
{
	struct idp_event ev = { .kind = kind, .id = id, .total = -1 };

	idp_push_emit(push->to.o, &ev);
}

/* Progress shows every blob to read up front, as docker push does:
 * Preparing, then Waiting beyond the ones read at once (a blob the
 * registry has shows as such already: the caller probed it). */
static void show_plan(struct any_order *ao, int n)
{
	struct idp_stream_blob blob;
	int i, reading = 0;

	memset(&blob, 0, sizeof(blob));
	for (i = 0; i < n; i++) {
		blob.display_id = ao->ids[i];
		if (!present(ao->push, &blob))
			emit_plan(ao->push, IDP_EV_PREPARING, ao->ids[i]);
	}
	for (i = 0; i < n; i++) {
		blob.display_id = ao->ids[i];
		if (!present(ao->push, &blob) && reading++ >= ao->at_once)
			emit_plan(ao->push, IDP_EV_WAITING, ao->ids[i]);
	}
}

/* A worker's connections: one per first target of a registry. */
static int any_start(void *ctx, void **state, struct idp_error *err)
{
	struct any_order *ao = ctx;
	struct idp_http **conns = calloc((size_t)ao->push->to.n, sizeof(*conns));

	*state = conns;
	if (!conns)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	return idp_push_fanout_conns(&ao->push->fan, conns, err);
}

static void any_end(void *ctx, void *state)
{
	(void)ctx;
	free(state);
}

static int any_one(void *ctx, void *state, int i, struct idp_error *err)
{
	struct any_order *ao = ctx;
	struct idp_stream_blob blob;
	struct idp_blob_reader r = { NULL, NULL };
	int rc = stream_take(ao->push, i, ao->at_once, &blob, &r, err);

	if (rc == 1)
		rc = take_blob(ao->push, i, &blob, &r, state, err);
	idp_blob_reader_close(&r);
	return rc < 0 ? -1 : 0;
}

/* A failure stops every registry's transfers. */
static void any_stop(void *ctx, int on)
{
	const struct any_order *ao = ctx;
	int g;

	for (g = 0; g < ao->push->to.n; g++)
		if (push_primary(ao->push->to.t, g) == g)
			idp_session_set_abort(ao->push->to.t[g].s, on);
}

static int blobs_any_order(struct idp_stream_push *push, struct idp_error *err)
{
	struct any_order ao = { .push = push };
	struct push_workers w = { .ctx = &ao, .start = any_start, .one = any_one,
				  .end = any_end, .stop = any_stop };
	struct idp_stream_blob blob;
	int n = push->stream->ops->plan(push->stream->priv, &ao.ids), i, reads = 0, rc;

	if (n < 0)
		return idp_error_set(err, IDP_EGENERAL, "internal: %s stream: no plan",
				     push->stream->ops->name);
	if (!(push->blob_state = calloc((size_t)n + 1, 1)) ||
	    !(push->taken = calloc((size_t)n + 1, sizeof(*push->taken))))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	memset(&blob, 0, sizeof(blob));
	for (i = 0; i < n; i++) {
		blob.display_id = ao.ids[i];
		reads += !present(push, &blob);
	}
	ao.at_once = push_jobs(push->to.o->jobs, reads);
	if (push->stream->ops->max_at_once &&
	    ao.at_once > push->stream->ops->max_at_once(push->stream->priv))
		ao.at_once = push->stream->ops->max_at_once(push->stream->priv);
	show_plan(&ao, n);
	w.n = n;
	if ((rc = push_run_workers(&w, ao.at_once, err)) < 0)
		return -1;
	push->ntaken = n;
	push->state = STREAM_ENDED;   /* every blob done or skipped: finish */
	return 0;
}

int idp_stream_push_blobs(struct idp_stream_push *push, struct idp_image *img,
			  struct idp_error *err)
{
	const struct idp_stream_ops *ops = push->stream->ops;
	int rc;

	if (push->state != STREAM_READY)
		return out_of_order(push, "its blobs pushed twice", err);
	rc = ops->plan && ops->take ? blobs_any_order(push, err) : blobs_in_order(push, err);
	if (rc < 0) {
		push->state = STREAM_BROKEN;
		return -1;
	}
	return stream_finish(push, img, err);
}

const struct idp_stream_taken *idp_stream_push_taken(const struct idp_stream_push *push, int *n)
{
	*n = push->ntaken;
	return push->taken;
}

/* ---- phase 2: the rest of the image, mounts, manifests ---- */

struct image_blob_open {
	struct idp_stream_push *push;
	const struct idp_image_blob *b;
};

static int open_from_stream(void *ctx, struct idp_blob_reader *r, struct idp_error *err)
{
	struct image_blob_open *o = ctx;
	return stream_open_blob(o->push, o->b, r, err);
}

/* The finished image's blobs that the stream did not hand over, into
 * the first target of every registry. */
static int rest_of_image(struct idp_stream_push *push, const struct idp_image *img,
			 struct idp_error *err)
{
	struct image_blob_open o = { push, NULL };
	const struct idp_stream_known *k;
	struct blob_step b;
	int i, g;

	for (i = 0; i < img->nblobs; i++) {
		if (was_taken(push, img->blobs[i].digest))
			continue;
		o.b = &img->blobs[i];
		k = known_digest(push, img->blobs[i].digest);
		for (g = 0; g < push->to.n; g++) {
			if (push_primary(push->to.t, g) != g)
				continue;
			blob_step_of(&b, &img->blobs[i]);
			b.mount_from = g == 0 && k ? k->mount_from : NULL;
			b.open = open_from_stream;
			b.open_ctx = &o;
			b.quiet = 1;
			if (pusher_blob(&push->fan.pushers[g], push->conns[g], &b, err) < 0)
				return push_target_error(&push->to, g, err);
		}
	}
	return 0;
}

/* The targets after the first of their registry: mounted from it. */
static int mount_the_rest(const struct idp_push_targets *to, const struct idp_image *img,
			  struct idp_error *err)
{
	int i;

	for (i = 0; i < to->n; i++)
		if (push_primary(to->t, i) != i && push_blobs_into(to, i, NULL, img, err) < 0)
			return -1;
	return 0;
}

int idp_stream_push_rest(struct idp_stream_push *push, const struct idp_image *img,
			 struct idp_error *err)
{
	if (push->state != STREAM_FINISHED)
		return out_of_order(push, "the rest of the image before it was finished", err);
	if (rest_of_image(push, img, err) < 0)
		return -1;
	idp_push_fanout_report(&push->fan);
	if (mount_the_rest(&push->to, img, err) < 0)
		return -1;
	return idp_push_manifests_to(&push->to, img, err);
}

/* ---- the push ---- */

struct idp_stream_push *idp_stream_push_open(const struct idp_push_targets *to,
					     struct idp_stream *stream,
					     const struct idp_stream_known *known, int nknown,
					     struct idp_error *err)
{
	struct idp_stream_push *push = calloc(1, sizeof(*push));

	if (!push || !(push->conns = calloc((size_t)to->n, sizeof(*push->conns)))) {
		free(push);
		idp_error_set(err, IDP_EGENERAL, "out of memory");
		return NULL;
	}
	push->to = *to;
	push->stream = stream;
	pthread_mutex_init(&push->mu, NULL);
	push->known = known;
	push->nknown = nknown;
	if (fanout_init(&push->fan, to, err) < 0 ||
	    idp_push_fanout_conns(&push->fan, push->conns, err) < 0) {
		idp_stream_push_close(push);
		return NULL;
	}
	return push;
}

void idp_stream_push_close(struct idp_stream_push *push)
{
	if (!push)
		return;
	fanout_destroy(&push->fan);
	free(push->conns);
	free(push->taken);
	free(push->blob_state);
	pthread_mutex_destroy(&push->mu);
	free(push);
}
