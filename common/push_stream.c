/* push_stream.c: pushing a streaming source (idp_push_stream): each blob
 * as the stream reaches it, through the same step as every blob
 * (push.c), or skipped when the front end knows it is in the registry;
 * then what the finished image has that the stream did not hand over
 * (the config, byte for byte), then the manifests. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "push_private.h"
#include "banned.h"

struct stream_push {
	struct pusher p;
	struct idp_http *h;
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

struct given_reader {
	struct idp_blob_reader *r;
};

static int give_reader(void *ctx, struct idp_blob_reader *r, struct idp_error *err)
{
	struct given_reader *g = ctx;
	(void)err;
	*r = *g->r;
	return 0;
}

/* One blob of the stream, with its reader r. */
static int stream_blob(struct stream_push *sp, struct idp_stream_blob *sb,
		       struct idp_blob_reader *r, struct idp_error *err)
{
	const struct idp_stream_ops *ops = sp->st->ops;
	struct idp_stream_known k;
	struct given_reader g = { r };
	struct blob_step b;

	memset(&k, 0, sizeof(k));
	if (sp->hooks && sp->hooks->known)
		sp->hooks->known(sp->hooks->ctx, sb, &k);
	if (k.present) {
		if (ops->skip(sp->st->priv, sb->compressed ? NULL : k.expect, k.digest, k.size,
			      err) < 0)
			return -1;
		return note_seen(sp, k.digest, err);
	}
	memset(&b, 0, sizeof(b));
	b.id = k.display_id ? k.display_id : sb->display_id;
	b.digest = sb->digest;
	b.size = sb->size;
	b.open = give_reader;
	b.open_ctx = &g;
	b.keep_reader = 1;
	b.consumed = sb->consumed;
	b.raw_total = sb->raw_size;
	if (pusher_blob(&sp->p, sp->h, &b, err) < 0)
		return -1;
	if (b.outcome != IDP_BLOB_PUSHED) {   /* found by its digest: not read */
		if (ops->skip(sp->st->priv, NULL, b.pushed, b.pushed_size, err) < 0)
			return -1;
	} else if (ops->done(sp->st->priv, b.pushed, b.pushed_size, err) < 0) {
		return -1;
	} else if (sp->hooks && sp->hooks->pushed) {
		sp->hooks->pushed(sp->hooks->ctx, sb, ops->last_diffid(sp->st->priv), b.pushed);
	}
	return note_seen(sp, b.pushed, err);
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

/* The finished image's blobs that the stream did not hand over. */
static int rest_of_image(struct stream_push *sp, const struct idp_image *img, struct idp_error *err)
{
	struct image_blob_open o = { sp, NULL };
	struct blob_step b;
	int i;

	for (i = 0; i < img->nblobs; i++) {
		if (was_seen(sp, img->blobs[i].digest))
			continue;
		o.b = &img->blobs[i];
		memset(&b, 0, sizeof(b));
		b.id = img->blobs[i].display_id ? img->blobs[i].display_id : img->blobs[i].digest;
		b.digest = img->blobs[i].digest;
		b.size = img->blobs[i].size;
		b.open = open_from_stream;
		b.open_ctx = &o;
		b.quiet = 1;
		if (pusher_blob(&sp->p, sp->h, &b, err) < 0)
			return -1;
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

int idp_push_stream(struct idp_session *s, const struct idp_push_opts *o, struct idp_stream *st,
		    const struct idp_stream_hooks *hooks, const char *tag, struct idp_image *img,
		    struct idp_push_result *res, struct idp_error *err)
{
	struct stream_push sp;
	int rc;

	memset(&sp, 0, sizeof(sp));
	if (!(sp.h = idp_session_conn(s)))
		return idp_error_set(err, IDP_EGENERAL, "cannot create an HTTP handle");
	pusher_init(&sp.p, s, o);
	sp.st = st;
	sp.hooks = hooks;
	rc = stream_all(&sp, img, err);
	pusher_stats_add(&res->stats, &sp.p.stats);
	pusher_destroy(&sp.p);
	free(sp.seen);
	if (rc == 0 && hooks && hooks->complete)
		rc = hooks->complete(hooks->ctx, err);
	if (rc == 0)
		rc = idp_push_manifests(s, o, img, tag, res, err);
	return rc;
}
