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
#include "util/spool.h"
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
	int multi;                      /* targets on several registries */
	int npushers;                   /* initialised: one per target */
	struct pusher *pushers;
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

/* A stream blob on its way into each registry: its bytes (the stream's
 * reader the first time, the spool that upload kept after that) and what
 * the first registry ended up with. */
struct outgoing_blob {
	const struct idp_stream_blob *blob;
	const char *id;                 /* what progress shows */
	struct idp_blob_reader *stream_r;
	int used;                       /* the stream's reader was read */
	struct idp_spool *kept;
	struct idp_blob_reader spool_r;
	char got[IDP_DIGEST_MAX];       /* "" until the first registry has it */
	int64_t got_size;
};

static int open_bytes(void *ctx, struct idp_blob_reader *r, struct idp_error *err)
{
	struct outgoing_blob *ob = ctx;

	if (!ob->used) {
		ob->used = 1;
		*r = *ob->stream_r;
		return 0;
	}
	if (!ob->kept)
		return idp_error_set(err, IDP_EGENERAL, "internal: a stream blob was not kept");
	idp_blob_reader_close(&ob->spool_r);
	if (idp_spool_reader(ob->kept, &ob->spool_r, err) < 0)
		return -1;
	*r = ob->spool_r;
	return 0;
}

/* The blob into target g (the first of its registry); mount_from: a
 * repository of the first target's registry that has it, or NULL. */
static int blob_into(struct idp_stream_push *push, int g, struct outgoing_blob *ob,
		     const char *mount_from, struct idp_error *err)
{
	struct blob_step b;

	memset(&b, 0, sizeof(b));
	b.mount_from = g == 0 ? mount_from : NULL;
	b.id = ob->id;
	b.digest = ob->got[0] ? ob->got : ob->blob->digest;
	b.size = ob->got[0] ? ob->got_size : ob->blob->size;
	b.open = open_bytes;
	b.open_ctx = ob;
	b.keep_reader = 1;
	if (!ob->used) {
		b.consumed = ob->blob->consumed;
		b.raw_total = ob->blob->raw_size;
	}
	b.keep_spool = push->multi ? &ob->kept : NULL;
	if (pusher_blob(&push->pushers[g], push->conns[g], &b, err) < 0)
		return push_target_error(&push->to, g, err);
	if (!ob->got[0]) {
		snprintf(ob->got, sizeof(ob->got), "%s", b.pushed);
		ob->got_size = b.pushed_size;
	}
	return 0;
}

/* Every registry had the blob by its digest (not read): skipped; else it
 * was read and uploaded: done. */
static int went_up(struct idp_stream_push *push, const struct outgoing_blob *ob,
		   struct idp_error *err)
{
	char diffid[IDP_DIGEST_MAX];

	if (!ob->used) {
		if (stream_skip(push, NULL, ob->got, ob->got_size, err) < 0)
			return -1;
		return note_taken(push, ob->blob, NULL, ob->got, err);
	}
	if (stream_done(push, ob->got, ob->got_size, diffid, err) < 0)
		return -1;
	return note_taken(push, ob->blob, diffid, ob->got, err);
}

/* One blob of the stream, with its reader r, into every registry. */
static int take_blob(struct idp_stream_push *push, const struct idp_stream_blob *blob,
		     struct idp_blob_reader *r, struct idp_error *err)
{
	const struct idp_stream_known *k = known_of(push, blob);
	struct outgoing_blob ob;
	int g, rc = 0;

	if (k && k->present && !push->multi) {
		if (stream_skip(push, blob->compressed ? NULL : k->expect, k->digest, k->size,
				err) < 0)
			return -1;
		return note_taken(push, blob, NULL, k->digest, err);
	}
	memset(&ob, 0, sizeof(ob));
	ob.blob = blob;
	ob.id = k && k->display_id && !blob->compressed ? k->display_id : blob->display_id;
	ob.stream_r = r;
	ob.got_size = -1;
	for (g = 0; g < push->to.n && rc == 0; g++)
		if (push_primary(push->to.t, g) == g)
			rc = blob_into(push, g, &ob, k && blob->digest ? k->mount_from : NULL,
				       err);
	idp_blob_reader_close(&ob.spool_r);
	idp_spool_free(ob.kept);
	return rc < 0 ? -1 : went_up(push, &ob, err);
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
			if (pusher_blob(&push->pushers[g], push->conns[g], &b, err) < 0)
				return push_target_error(&push->to, g, err);
		}
	}
	return 0;
}

/* The counts so far into each target's result. */
static void add_counts(struct idp_stream_push *push)
{
	int g;

	for (g = 0; g < push->npushers; g++) {
		idp_push_stats_add(&push->to.t[g].res.stats, &push->pushers[g].stats);
		memset(&push->pushers[g].stats, 0, sizeof(push->pushers[g].stats));
	}
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
	add_counts(push);
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
	int g;

	if (!push || !(push->pushers = calloc((size_t)to->n, sizeof(*push->pushers))) ||
	    !(push->conns = calloc((size_t)to->n, sizeof(*push->conns)))) {
		idp_stream_push_close(push);
		idp_error_set(err, IDP_EGENERAL, "out of memory");
		return NULL;
	}
	push->to = *to;
	push->stream = stream;
	push->known = known;
	push->nknown = nknown;
	for (; push->npushers < to->n; push->npushers++)
		pusher_init(&push->pushers[push->npushers], to->t[push->npushers].s, to->o);
	for (g = 0; g < to->n; g++) {
		if (push_primary(to->t, g) != g)
			continue;
		push->multi |= g > 0;
		if (!(push->conns[g] = idp_session_conn(to->t[g].s))) {
			idp_stream_push_close(push);
			idp_error_set(err, IDP_EGENERAL, "cannot create an HTTP handle");
			return NULL;
		}
	}
	return push;
}

void idp_stream_push_close(struct idp_stream_push *push)
{
	int g;

	if (!push)
		return;
	add_counts(push);
	for (g = 0; g < push->npushers; g++)
		pusher_destroy(&push->pushers[g]);
	free(push->pushers);
	free(push->conns);
	free(push->taken);
	free(push);
}
