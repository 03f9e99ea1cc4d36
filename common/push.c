/* push.c: the push engine: a pool of worker threads, each with its own
 * connection, taking blobs from a shared queue; then the manifests. */
#include "config.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "push.h"
#include "banned.h"

#define PUSH_MAX_JOBS 16

struct pool {
	struct idp_session *s;
	const struct idp_push_opts *o;
	struct idp_source *src;
	const struct idp_image *img;
	pthread_mutex_t mu;
	pthread_mutex_t emit_mu;   /* events reach the front end one at a time */
	volatile sig_atomic_t abort;
	int next;
	int failed;
	struct idp_error first_err;
	struct idp_push_stats stats;
};

struct blob_progress {
	struct pool *p;
	const struct idp_image_blob *b;
	int64_t last;
};

void idp_push_emit(const struct idp_push_opts *o, const struct idp_event *ev)
{
	if (o && o->on_event)
		o->on_event(o->event_ctx, ev);
}

static const char *blob_id(const struct idp_image_blob *b)
{
	return b->display_id ? b->display_id : b->digest;
}

static void emit_blob(struct pool *p, enum idp_event_kind k, const struct idp_image_blob *b,
		      int64_t done, int64_t total, const char *text)
{
	struct idp_event ev = { k, blob_id(b), b->digest, done, total, text };
	pthread_mutex_lock(&p->emit_mu);
	idp_push_emit(p->o, &ev);
	pthread_mutex_unlock(&p->emit_mu);
}

static void on_upload_progress(void *ctx, int64_t done, int64_t total)
{
	struct blob_progress *bp = ctx;
	/* At most one event per 256 KiB, plus the last one. */
	if (done != total && done - bp->last < (256 << 10))
		return;
	bp->last = done;
	emit_blob(bp->p, IDP_EV_PUSHING, bp->b, done, total, NULL);
}

static int upload_one(struct pool *p, struct idp_http *h, const struct idp_image_blob *b,
		      struct idp_error *err)
{
	struct idp_blob_reader r;
	struct idp_upload_result res;
	struct blob_progress bp = { p, b, 0 };
	int rc;

	if (p->src->ops->open_blob(p->src, b, &r, err) < 0)
		return -1;
	emit_blob(p, IDP_EV_PUSHING, b, 0, b->size, NULL);
	rc = idp_blob_upload(p->s, h, &r, b->digest, b->size, on_upload_progress, &bp, &res, err);
	idp_blob_reader_close(&r);
	if (rc < 0)
		return idp_error_prefix(err, "pushing blob %s", b->digest);
	pthread_mutex_lock(&p->mu);
	p->stats.bytes_uploaded += res.size;
	p->stats.blobs_pushed++;
	pthread_mutex_unlock(&p->mu);
	emit_blob(p, IDP_EV_PUSHED, b, res.size, res.size, NULL);
	return 0;
}

static void count_skipped(struct pool *p, const struct idp_image_blob *b, int mounted)
{
	pthread_mutex_lock(&p->mu);
	p->stats.bytes_skipped += b->size > 0 ? b->size : 0;
	if (mounted)
		p->stats.blobs_mounted++;
	else
		p->stats.blobs_existed++;
	pthread_mutex_unlock(&p->mu);
}

static int push_one(struct pool *p, struct idp_http *h, const struct idp_image_blob *b, struct idp_error *err)
{
	int rc = idp_blob_exists(p->s, h, b->digest, NULL, err);

	if (rc < 0)
		return idp_error_prefix(err, "checking blob %s", b->digest);
	if (rc == 1) {
		count_skipped(p, b, 0);
		emit_blob(p, IDP_EV_EXISTS, b, b->size, b->size, NULL);
		return 0;
	}
	if (b->mount_from) {
		rc = idp_blob_mount(p->s, h, b->digest, b->mount_from, err);
		if (rc < 0)
			return idp_error_prefix(err, "mounting blob %s from %s", b->digest, b->mount_from);
		if (rc == 1) {
			count_skipped(p, b, 1);
			emit_blob(p, IDP_EV_MOUNTED, b, b->size, b->size, b->mount_from);
			return 0;
		}
	}
	return upload_one(p, h, b, err);
}

static int take_next(struct pool *p)
{
	int i = -1;
	pthread_mutex_lock(&p->mu);
	if (!p->failed && p->next < p->img->nblobs)
		i = p->next++;
	pthread_mutex_unlock(&p->mu);
	return i;
}

static void record_failure(struct pool *p, const struct idp_error *err)
{
	pthread_mutex_lock(&p->mu);
	if (!p->failed) {
		p->failed = 1;
		p->first_err = *err;
		p->abort = 1;   /* stop the other transfers now */
	}
	pthread_mutex_unlock(&p->mu);
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	struct idp_http *h = idp_session_conn(p->s);
	struct idp_error err = IDP_ERROR_INIT;
	int i;

	if (!h) {
		idp_error_set(&err, IDP_EGENERAL, "cannot create an HTTP handle");
		record_failure(p, &err);
		return NULL;
	}
	while ((i = take_next(p)) >= 0)
		if (push_one(p, h, &p->img->blobs[i], &err) < 0)
			record_failure(p, &err);
	return NULL;
}

int idp_push_blobs(struct idp_session *s, const struct idp_push_opts *o, struct idp_source *src,
		   const struct idp_image *img, struct idp_push_stats *stats, struct idp_error *err)
{
	struct pool p;
	pthread_t th[PUSH_MAX_JOBS];
	int jobs = o->jobs > 0 ? o->jobs : 4, started = 0, i;

	if (jobs > PUSH_MAX_JOBS)
		jobs = PUSH_MAX_JOBS;
	if (jobs > img->nblobs)
		jobs = img->nblobs > 0 ? img->nblobs : 1;
	memset(&p, 0, sizeof(p));
	p.s = s;
	p.o = o;
	p.src = src;
	p.img = img;
	pthread_mutex_init(&p.mu, NULL);
	pthread_mutex_init(&p.emit_mu, NULL);
	idp_session_set_abort(s, &p.abort);
	for (i = 0; i < img->nblobs; i++)
		emit_blob(&p, IDP_EV_WAITING, &img->blobs[i], 0, img->blobs[i].size, NULL);
	for (i = 0; i < jobs; i++)
		if (pthread_create(&th[started], NULL, worker, &p) == 0)
			started++;
	if (!started)
		worker(&p);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	idp_session_set_abort(s, NULL);
	pthread_mutex_destroy(&p.mu);
	pthread_mutex_destroy(&p.emit_mu);
	if (stats)
		*stats = p.stats;
	if (p.failed) {
		*err = p.first_err;
		return -1;
	}
	return 0;
}

int idp_push_manifests(struct idp_session *s, const struct idp_push_opts *o, const struct idp_image *img,
		       const char *tag, char digest_out[IDP_DIGEST_MAX], size_t *size_out, struct idp_error *err)
{
	struct idp_http *h = idp_session_conn(s);
	char got[IDP_DIGEST_MAX];
	int i;

	if (!h)
		return idp_error_set(err, IDP_EGENERAL, "cannot create an HTTP handle");
	if (img->nmanifests == 0)
		return idp_error_set(err, IDP_EGENERAL, "the image has no manifest");
	for (i = 0; i < img->nmanifests; i++) {
		const struct idp_image_manifest *m = &img->manifests[i];
		int top = i == img->nmanifests - 1;
		const char *ref = top && tag ? tag : m->digest;
		struct idp_event ev = { IDP_EV_MANIFEST, NULL, got, 0, (int64_t)m->len, ref };

		if (idp_manifest_put(s, h, ref, m->media_type, m->data, m->len, got, err) < 0)
			return idp_error_prefix(err, "putting manifest %s", ref);
		if (strcmp(got, m->digest) != 0)
			return idp_error_set(err, IDP_EGENERAL, "manifest %s: its bytes hash to %s", m->digest, got);
		idp_push_emit(o, &ev);
	}
	snprintf(digest_out, IDP_DIGEST_MAX, "%s", img->manifests[img->nmanifests - 1].digest);
	if (size_out)
		*size_out = img->manifests[img->nmanifests - 1].len;
	return 0;
}

int idp_push_image(struct idp_session *s, const struct idp_push_opts *o, struct idp_source *src,
		   const struct idp_image *img, const char *tag, char digest_out[IDP_DIGEST_MAX],
		   size_t *size_out, struct idp_push_stats *stats, struct idp_error *err)
{
	if (idp_push_blobs(s, o, src, img, stats, err) < 0)
		return -1;
	return idp_push_manifests(s, o, img, tag, digest_out, size_out, err);
}
