/* push_stream.c: pushing a streaming source (push.h's idp_stream_push_*),
 * in two phases with the caller's own step between them. Phase 1 takes
 * each blob as the stream hands it over: skipped when the caller's table
 * says the registry has it, else through the same step as every blob
 * (push.c) into the first target of every registry (the bytes kept in a
 * spool for the next one); then the stream checks itself and describes
 * the image. Phase 2 pushes what the image has that the stream did not
 * hand over (the config, byte for byte), mounts the blobs into the other
 * targets and puts the manifests. The stream protocol (source.h) is
 * checked here, once for every stream, as libarchive's core checks its
 * state for every format. */
#include "config.h"
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
};

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

static int stream_done(struct idp_stream_push *push, const char *digest, int64_t size,
		       char diffid[IDP_DIGEST_MAX], struct idp_error *err)
{
	const struct idp_stream *stream = push->stream;

	if (push->state != STREAM_BLOB || !digest)
		return out_of_order(push, "no blob in progress", err);
	return moved(push, stream->ops->done(stream->priv, digest, size, diffid, err),
		     STREAM_READY);
}

static int stream_skip(struct idp_stream_push *push, const char *expect, const char *digest,
		       int64_t size, struct idp_error *err)
{
	const struct idp_stream *stream = push->stream;

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

/* Record blob as taken: in the registry as digest. */
static int note_taken(struct idp_stream_push *push, const struct idp_stream_blob *blob,
		      const char *diffid, const char *digest, struct idp_error *err)
{
	struct idp_stream_taken *t = realloc(push->taken, sizeof(*t) * (size_t)(push->ntaken + 1));

	if (!t)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	push->taken = t;
	t = &push->taken[push->ntaken++];
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
static int went_up(struct idp_stream_push *push, const struct idp_stream_blob *blob,
		   const struct idp_fanout_blob *fb, struct idp_error *err)
{
	char diffid[IDP_DIGEST_MAX];

	if (!fb->read) {
		if (stream_skip(push, NULL, fb->got, fb->got_size, err) < 0)
			return -1;
		return note_taken(push, blob, NULL, fb->got, err);
	}
	if (stream_done(push, fb->got, fb->got_size, diffid, err) < 0)
		return -1;
	return note_taken(push, blob, diffid, fb->got, err);
}

/* One blob of the stream, with its reader r, into every registry. */
static int take_blob(struct idp_stream_push *push, const struct idp_stream_blob *blob,
		     struct idp_blob_reader *r, struct idp_error *err)
{
	const struct idp_stream_known *k = known_of(push, blob);
	struct idp_fanout_blob fb;

	if (k && k->present && !push->fan.multi) {
		if (stream_skip(push, blob->compressed ? NULL : k->expect, k->digest, k->size,
				err) < 0)
			return -1;
		return note_taken(push, blob, NULL, k->digest, err);
	}
	memset(&fb, 0, sizeof(fb));
	fb.id = k && k->display_id && !blob->compressed ? k->display_id : blob->display_id;
	fb.digest = blob->digest;
	fb.size = blob->size;
	fb.r = r;
	fb.consumed = blob->consumed;
	fb.raw_total = blob->raw_size;
	fb.mount_from = k && blob->digest ? k->mount_from : NULL;
	if (idp_push_fanout_blob(&push->fan, push->conns, &fb, err) < 0)
		return -1;
	return went_up(push, blob, &fb, err);
}

int idp_stream_push_blobs(struct idp_stream_push *push, struct idp_image *img,
			  struct idp_error *err)
{
	struct idp_stream_blob blob;
	struct idp_blob_reader r;
	int rc;

	while ((rc = stream_next(push, &blob, &r, err)) == 1) {
		rc = take_blob(push, &blob, &r, err);
		idp_blob_reader_close(&r);
		if (rc < 0)
			return -1;
	}
	return rc < 0 ? -1 : stream_finish(push, img, err);
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
	fanout_add_counts(&push->fan);
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
	free(push);
}
