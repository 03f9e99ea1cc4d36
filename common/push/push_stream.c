/* push_stream.c: pushing a streaming source (idp_push_stream[_to]): each
 * blob as the stream reaches it, through the same step as every blob
 * (push.c), into the first target of every registry (the bytes kept in a
 * spool for the next one), or skipped when the front end knows it is in
 * the registry; then what the finished image has that the stream did not
 * hand over (the config, byte for byte); then the other targets mount the
 * blobs, and the manifests are put. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "push_private.h"
#include "util/spool.h"
#include "banned.h"

struct stream_push {
	const struct idp_push_targets *to;
	int multi;                      /* targets on several registries */
	struct pusher *p;               /* one per target */
	struct idp_http **h;            /* one per target */
	struct idp_stream *st;
	const struct idp_stream_hooks *hooks;
	int nseen;
	char (*seen)[IDP_DIGEST_MAX];   /* digests the stream handed over */
};

static int note_seen(struct stream_push *sp, const char *digest, struct idp_error *err)
{
	char (*n)[IDP_DIGEST_MAX] = realloc(sp->seen, sizeof(*n) * (size_t)(sp->nseen + 1));

	if (!n)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	sp->seen = n;
	snprintf(sp->seen[sp->nseen++], IDP_DIGEST_MAX, "%s", digest);
	return 0;
}

static int was_seen(const struct stream_push *sp, const char *digest)
{
	int i;
	for (i = 0; i < sp->nseen; i++)
		if (strcmp(sp->seen[i], digest) == 0)
			return 1;
	return 0;
}

/* A stream blob's bytes for each registry that wants them: the stream's
 * reader the first time, the spool that upload kept after that. */
struct blob_bytes {
	struct idp_blob_reader *stream_r;
	int used;                       /* the stream's reader was read */
	struct idp_spool *kept;
	struct idp_blob_reader spool_r;
};

static int open_bytes(void *ctx, struct idp_blob_reader *r, struct idp_error *err)
{
	struct blob_bytes *bb = ctx;

	if (!bb->used) {
		bb->used = 1;
		*r = *bb->stream_r;
		return 0;
	}
	if (!bb->kept)
		return idp_error_set(err, IDP_EGENERAL, "internal: a stream blob was not kept");
	idp_blob_reader_close(&bb->spool_r);
	if (idp_spool_reader(bb->kept, &bb->spool_r, err) < 0)
		return -1;
	*r = bb->spool_r;
	return 0;
}

static void blob_bytes_release(struct blob_bytes *bb)
{
	idp_blob_reader_close(&bb->spool_r);
	idp_spool_free(bb->kept);
}

/* The stream blob sb into target g (the first of its registry); got
 * gets the digest and size the first registry ended up with. */
static int blob_into(struct stream_push *sp, int g, const struct idp_stream_blob *sb,
		     const struct idp_stream_known *k, struct blob_bytes *bb,
		     char got[IDP_DIGEST_MAX], int64_t *got_size, struct idp_error *err)
{
	struct blob_step b;

	memset(&b, 0, sizeof(b));
	b.id = k->display_id ? k->display_id : sb->display_id;
	b.digest = got[0] ? got : sb->digest;
	b.size = got[0] ? *got_size : sb->size;
	b.open = open_bytes;
	b.open_ctx = bb;
	b.keep_reader = 1;
	if (!bb->used) {
		b.consumed = sb->consumed;
		b.raw_total = sb->raw_size;
	}
	b.keep_spool = sp->multi ? &bb->kept : NULL;
	if (pusher_blob(&sp->p[g], sp->h[g], &b, err) < 0)
		return push_target_error(sp->to, g, err);
	if (!got[0]) {
		snprintf(got, IDP_DIGEST_MAX, "%s", b.pushed);
		*got_size = b.pushed_size;
	}
	return 0;
}

/* One blob of the stream, with its reader r, into every registry. */
static int stream_blob(struct stream_push *sp, struct idp_stream_blob *sb,
		       struct idp_blob_reader *r, struct idp_error *err)
{
	const struct idp_stream_ops *ops = sp->st->ops;
	struct idp_stream_known k;
	struct blob_bytes bb = { r, 0, NULL, { NULL, NULL } };
	char got[IDP_DIGEST_MAX] = "";
	int64_t got_size = -1;
	int g, rc = 0;

	memset(&k, 0, sizeof(k));
	if (sp->hooks && sp->hooks->known)
		sp->hooks->known(sp->hooks->ctx, sb, &k);
	if (k.present && !sp->multi) {
		if (ops->skip(sp->st->priv, sb->compressed ? NULL : k.expect, k.digest, k.size,
			      err) < 0)
			return -1;
		return note_seen(sp, k.digest, err);
	}
	for (g = 0; g < sp->to->n && rc == 0; g++)
		if (push_primary(sp->to->t, g) == g)
			rc = blob_into(sp, g, sb, &k, &bb, got, &got_size, err);
	blob_bytes_release(&bb);
	if (rc < 0)
		return -1;
	if (!bb.used) {   /* every registry had it by its digest: not read */
		if (ops->skip(sp->st->priv, NULL, got, got_size, err) < 0)
			return -1;
	} else if (ops->done(sp->st->priv, got, got_size, err) < 0) {
		return -1;
	} else if (sp->hooks && sp->hooks->pushed) {
		sp->hooks->pushed(sp->hooks->ctx, sb, ops->last_diffid(sp->st->priv), got);
	}
	return note_seen(sp, got, err);
}

struct image_blob_open {
	struct stream_push *sp;
	const struct idp_image_blob *b;
};

static int open_from_stream(void *ctx, struct idp_blob_reader *r, struct idp_error *err)
{
	struct image_blob_open *o = ctx;
	return o->sp->st->ops->open_blob(o->sp->st->priv, o->b, r, err);
}

/* The finished image's blobs that the stream did not hand over, into
 * the first target of every registry. */
static int rest_of_image(struct stream_push *sp, const struct idp_image *img, struct idp_error *err)
{
	struct image_blob_open o = { sp, NULL };
	struct blob_step b;
	int i, g;

	for (i = 0; i < img->nblobs; i++) {
		if (was_seen(sp, img->blobs[i].digest))
			continue;
		o.b = &img->blobs[i];
		for (g = 0; g < sp->to->n; g++) {
			if (push_primary(sp->to->t, g) != g)
				continue;
			memset(&b, 0, sizeof(b));
			b.id = img->blobs[i].display_id ? img->blobs[i].display_id
							: img->blobs[i].digest;
			b.digest = img->blobs[i].digest;
			b.size = img->blobs[i].size;
			b.open = open_from_stream;
			b.open_ctx = &o;
			b.quiet = 1;
			if (pusher_blob(&sp->p[g], sp->h[g], &b, err) < 0)
				return push_target_error(sp->to, g, err);
		}
	}
	return 0;
}

static int stream_all(struct stream_push *sp, struct idp_image *img, struct idp_error *err)
{
	const struct idp_stream_ops *ops = sp->st->ops;
	struct idp_stream_blob sb;
	struct idp_blob_reader r;
	int rc;

	while ((rc = ops->next(sp->st->priv, &sb, &r, err)) == 1) {
		rc = stream_blob(sp, &sb, &r, err);
		idp_blob_reader_close(&r);
		if (rc < 0)
			return -1;
	}
	if (rc < 0 || ops->finish(sp->st->priv, img, err) < 0)
		return -1;
	return rest_of_image(sp, img, err);
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

static int stream_push_init(struct stream_push *sp, const struct idp_push_targets *to,
			    struct idp_error *err)
{
	int g;

	memset(sp, 0, sizeof(*sp));
	sp->to = to;
	if (!(sp->p = calloc((size_t)to->n, sizeof(*sp->p))) ||
	    !(sp->h = calloc((size_t)to->n, sizeof(*sp->h))))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	for (g = 0; g < to->n; g++)
		pusher_init(&sp->p[g], to->t[g].s, to->o);
	for (g = 0; g < to->n; g++) {
		if (push_primary(to->t, g) != g)
			continue;
		sp->multi |= g > 0;
		if (!(sp->h[g] = idp_session_conn(to->t[g].s)))
			return idp_error_set(err, IDP_EGENERAL, "cannot create an HTTP handle");
	}
	return 0;
}

static void stream_push_release(struct stream_push *sp)
{
	int g;

	for (g = 0; sp->p && g < sp->to->n; g++) {
		idp_push_stats_add(&sp->to->t[g].res.stats, &sp->p[g].stats);
		pusher_destroy(&sp->p[g]);
	}
	free(sp->p);
	free(sp->h);
	free(sp->seen);
}

int idp_push_stream_to(const struct idp_push_targets *to, struct idp_stream *st,
		       const struct idp_stream_hooks *hooks, struct idp_image *img,
		       struct idp_error *err)
{
	struct stream_push sp;
	int rc;

	rc = stream_push_init(&sp, to, err);
	sp.st = st;
	sp.hooks = hooks;
	if (rc == 0)
		rc = stream_all(&sp, img, err);
	stream_push_release(&sp);
	if (rc == 0 && hooks && hooks->complete)
		rc = hooks->complete(hooks->ctx, err);
	if (rc == 0)
		rc = mount_the_rest(to, img, err);
	if (rc == 0)
		rc = idp_push_manifests_to(to, img, err);
	return rc;
}
