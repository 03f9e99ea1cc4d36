/* push.c: the step every blob goes through (pusher_blob), the pool of
 * worker threads that pushes a random-access image's blobs into a target
 * several at a time (each worker with its own connection, taking blobs
 * from a shared queue, largest first), the probe, the manifests, and the
 * "nothing changed" report. Several targets are in push_targets.c,
 * streams in push_stream.c. */
#include "config.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "progmap.h"
#include "util/manifest.h"
#include "push_private.h"
#include "banned.h"

#define PUSH_MAX_JOBS 16
#define PROGRESS_MS 50   /* at most one "Pushing" event per blob this often */

void idp_push_emit(const struct idp_push_opts *o, const struct idp_event *ev)
{
	if (o && o->on_event)
		o->on_event(o->event_ctx, ev);
}

void pusher_init(struct pusher *p, struct idp_session *s, const struct idp_push_opts *o)
{
	memset(p, 0, sizeof(*p));
	p->s = s;
	p->o = o;
	pthread_mutex_init(&p->mu, NULL);
	pthread_mutex_init(&p->emit_mu, NULL);
}

void pusher_destroy(struct pusher *p)
{
	pthread_mutex_destroy(&p->mu);
	pthread_mutex_destroy(&p->emit_mu);
}

void idp_push_stats_add(struct idp_push_stats *to, const struct idp_push_stats *from)
{
	to->bytes_uploaded += from->bytes_uploaded;
	to->bytes_skipped += from->bytes_skipped;
	to->blobs_pushed += from->blobs_pushed;
	to->blobs_existed += from->blobs_existed;
	to->blobs_mounted += from->blobs_mounted;
}

/* Report ev, one event at a time (the workers report concurrently). */
static void pusher_emit(struct pusher *p, const struct idp_event *ev)
{
	pthread_mutex_lock(&p->emit_mu);
	idp_push_emit(p->o, ev);
	pthread_mutex_unlock(&p->emit_mu);
}

/* ---- one blob ---- */

struct step_progress {
	struct pusher *p;
	const struct blob_step *b;
	pthread_mutex_t map_mu;   /* the map is added to while the reader reads, and read
	                           * as the bytes are sent */
	struct idp_progmap map;   /* streams: upload offsets -> source bytes */
	int64_t shown;            /* done of the last event (the sending thread's) */
	int64_t shown_ms;
};

/* ev about b (its id filled in), unless b is quiet. */
static void step_emit(struct pusher *p, const struct blob_step *b, struct idp_event ev)
{
	ev.id = b->id;
	if (!b->quiet)
		pusher_emit(p, &ev);
}

/* A stream, on the thread reading it: `read` upload bytes are spooled,
 * and *b->consumed source bytes are behind them. */
static void on_upload_read(void *ctx, int64_t read)
{
	struct step_progress *sp = ctx;

	if (!sp->b->consumed)
		return;
	pthread_mutex_lock(&sp->map_mu);
	idp_progmap_add(&sp->map, read, *sp->b->consumed);
	pthread_mutex_unlock(&sp->map_mu);
}

/* Bytes as they are sent (called by HTTP): a stream's in its source's
 * bytes (what was sent maps back to the source bytes it carries), never
 * the whole blob before it is committed (done < total until
 * IDP_EV_PUSHED), only when they moved and at most every PROGRESS_MS. */
static void on_upload_sent(void *ctx, int64_t sent)
{
	struct step_progress *sp = ctx;
	const struct blob_step *b = sp->b;
	int64_t done = sent, total = b->size, now;

	if (b->consumed) {
		pthread_mutex_lock(&sp->map_mu);
		done = idp_progmap_at(&sp->map, sent);
		pthread_mutex_unlock(&sp->map_mu);
		total = b->raw_total;
	}
	if (total >= 0 && done >= total)
		done = total - 1;
	if (done <= sp->shown || (now = idp_now_ms()) - sp->shown_ms < PROGRESS_MS)
		return;
	sp->shown = done;
	sp->shown_ms = now;
	step_emit(sp->p, b, (struct idp_event){ .kind = IDP_EV_PUSHING, .digest = b->digest,
						.done = done, .total = total });
}

/* One blob into p's stats (shown: it has a progress line; a config
 * counts bytes only). */
static void tally(struct pusher *p, enum idp_blob_outcome outcome, int64_t size, int shown)
{
	pthread_mutex_lock(&p->mu);
	if (outcome == IDP_BLOB_PUSHED) {
		p->stats.bytes_uploaded += size > 0 ? size : 0;
		p->stats.blobs_pushed += shown;
	} else {
		p->stats.bytes_skipped += size > 0 ? size : 0;
		if (outcome == IDP_BLOB_MOUNTED)
			p->stats.blobs_mounted += shown;
		else
			p->stats.blobs_existed += shown;
	}
	pthread_mutex_unlock(&p->mu);
}

static void count(struct pusher *p, struct blob_step *b, enum idp_blob_outcome outcome,
		  int64_t size)
{
	b->outcome = outcome;
	b->pushed_size = size;
	tally(p, outcome, size, !b->quiet);
}

void pusher_handed(struct pusher *p, const char *id, int64_t done, int64_t total, int pushed)
{
	struct idp_event ev = { .kind = pushed ? IDP_EV_PUSHED : IDP_EV_PUSHING, .id = id,
				.done = pushed ? total : done, .total = total };

	if (!pushed && total > 0 && done >= total)
		ev.done = total - 1;   /* not the whole blob before it is in */
	pusher_emit(p, &ev);
}

void pusher_handed_in(struct pusher *p, int64_t size)
{
	tally(p, IDP_BLOB_PUSHED, size, 1);
}

/* Upload b (into `session` when a refused mount opened one). */
static int upload(struct pusher *p, struct idp_http *h, struct blob_step *b, const char *session,
		  struct idp_error *err)
{
	struct step_progress sp;
	struct idp_upload_result res;
	struct idp_blob_reader r = { NULL, NULL };
	struct idp_upload_args a = {
		.reader = &r, .digest = b->digest, .size = b->size,
		.on_sent = on_upload_sent, .on_read = on_upload_read, .progress_ctx = &sp,
		.keep_spool = b->keep_spool && !*b->keep_spool, .session = session,
		.unhashed = b->unhashed,
	};
	int rc;

	memset(&sp, 0, sizeof(sp));
	sp.p = p;
	sp.b = b;
	idp_progmap_init(&sp.map);
	if (b->open(b->open_ctx, &r, err) < 0)
		return -1;
	sp.shown_ms = idp_now_ms();
	pthread_mutex_init(&sp.map_mu, NULL);
	step_emit(p, b, (struct idp_event){ .kind = IDP_EV_PUSHING, .digest = b->digest,
					    .total = b->consumed ? b->raw_total : b->size });
	rc = idp_blob_upload(p->s, h, &a, &res, err);
	pthread_mutex_destroy(&sp.map_mu);
	if (!b->keep_reader)
		idp_blob_reader_close(&r);
	if (rc < 0)
		return idp_error_prefix(err, "pushing blob %s", b->id);
	if (res.spool)
		*b->keep_spool = res.spool;
	snprintf(b->pushed, sizeof(b->pushed), "%s", res.digest);
	count(p, b, IDP_BLOB_PUSHED, res.size);
	step_emit(p, b, (struct idp_event){ .kind = IDP_EV_PUSHED, .digest = res.digest,
					    .done = res.size, .total = res.size });
	return 0;
}

/* The registry has b already (its size as known): counted and shown. */
static void step_existed(struct pusher *p, struct blob_step *b, int64_t size)
{
	snprintf(b->pushed, sizeof(b->pushed), "%s", b->digest);
	count(p, b, IDP_BLOB_EXISTED, size);
	step_emit(p, b, (struct idp_event){ .kind = IDP_EV_EXISTS, .digest = b->digest,
					    .done = size, .total = size });
}

int pusher_blob(struct pusher *p, struct idp_http *h, struct blob_step *b, struct idp_error *err)
{
	int64_t size = b->size;
	char *session = NULL;   /* a refused mount's, for the upload */
	int rc = 0;

	b->outcome = IDP_BLOB_PENDING;
	if (b->digest && !b->absent && (rc = idp_blob_exists(p->s, h, b->digest, &size, err)) < 0)
		return idp_error_prefix(err, "checking blob %s", b->id);
	if (rc == 0 && b->digest && b->mount_from) {
		rc = idp_blob_mount(p->s, h, b->digest, b->mount_from, b->open ? &session : NULL,
				    err);
		if (rc < 0)
			return idp_error_prefix(err, "mounting blob %s from %s", b->id,
						b->mount_from);
		if (rc == 1) {
			snprintf(b->pushed, sizeof(b->pushed), "%s", b->digest);
			count(p, b, IDP_BLOB_MOUNTED, b->size);
			step_emit(p, b, (struct idp_event){ .kind = IDP_EV_MOUNTED,
							    .digest = b->digest, .done = b->size,
							    .total = b->size,
							    .text = b->mount_from });
			return 0;
		}
	}
	if (rc == 1) {
		step_existed(p, b, b->size >= 0 || size < 0 ? b->size : size);
		return 0;
	}
	if (b->open)
		rc = upload(p, h, b, session ? session : b->session, err);
	free(session);
	return rc;
}

/* ---- workers ---- */

struct workers_run {
	const struct push_workers *w;
	pthread_mutex_t mu;
	int next;
	int failed;
	struct idp_error first_err;
};

static int take_next(struct workers_run *r)
{
	int i = -1;

	pthread_mutex_lock(&r->mu);
	if (!r->failed && r->next < r->w->n) {
		i = r->w->order ? r->w->order[r->next] : r->next;
		r->next++;
	}
	pthread_mutex_unlock(&r->mu);
	return i;
}

static void record_failure(struct workers_run *r, const struct idp_error *err)
{
	pthread_mutex_lock(&r->mu);
	if (!r->failed) {
		r->failed = 1;
		r->first_err = *err;
		r->w->stop(r->w->ctx, 1);   /* stop the other transfers now */
	}
	pthread_mutex_unlock(&r->mu);
}

static void *worker(void *arg)
{
	struct workers_run *r = arg;
	struct idp_error err = IDP_ERROR_INIT;
	void *state = NULL;
	int i;

	if (r->w->start(r->w->ctx, &state, &err) < 0) {
		record_failure(r, &err);
		return NULL;
	}
	while ((i = take_next(r)) >= 0)
		if (r->w->one(r->w->ctx, state, i, &err) < 0)
			record_failure(r, &err);
	if (r->w->end)
		r->w->end(r->w->ctx, state);
	return NULL;
}

int push_jobs(int jobs, int n)
{
	if (jobs <= 0)
		jobs = 4;
	if (jobs > PUSH_MAX_JOBS)
		jobs = PUSH_MAX_JOBS;
	return jobs > n ? (n > 0 ? n : 1) : jobs;
}

int push_run_workers(const struct push_workers *w, int jobs, struct idp_error *err)
{
	pthread_t th[PUSH_MAX_JOBS];
	struct workers_run r;
	int started = 0, i;

	memset(&r, 0, sizeof(r));
	r.w = w;
	jobs = push_jobs(jobs, w->n);
	pthread_mutex_init(&r.mu, NULL);
	for (i = 0; i < jobs; i++)
		if (pthread_create(&th[started], NULL, worker, &r) == 0)
			started++;
	if (!started)
		worker(&r);
	for (i = 0; i < started; i++)
		/* cppcheck-suppress uninitvar ; pthread_create set th[0..started) */
		pthread_join(th[i], NULL);
	w->stop(w->ctx, 0);
	pthread_mutex_destroy(&r.mu);
	if (r.failed) {
		*err = r.first_err;
		return -1;
	}
	return 0;
}

/* ---- random-access images: the pool ---- */

struct pool {
	struct pusher p;
	struct idp_source *src;        /* NULL: mount or find only */
	const struct idp_image *img;
	const char *mount_from;        /* every blob from there, or NULL */
	enum idp_blob_outcome *have;   /* probe: results; NULL: push */
	int64_t *sizes;                /* probe: sizes learnt */
};

struct open_ctx {
	struct pool *pool;
	const struct idp_image_blob *b;
};

static int open_from_source(void *ctx, struct idp_blob_reader *r, struct idp_error *err)
{
	struct open_ctx *oc = ctx;
	return oc->pool->src->ops->open_blob(oc->pool->src, oc->b, r, err);
}

static const char *blob_id(const struct idp_image_blob *b)
{
	return b->display_id ? b->display_id : b->digest;
}

void blob_step_of(struct blob_step *b, const struct idp_image_blob *ib)
{
	memset(b, 0, sizeof(*b));
	b->id = blob_id(ib);
	b->digest = ib->digest;
	b->size = ib->size;
	b->mount_from = ib->mount_from;
	b->quiet = ib->quiet;
}

static int pool_one(void *ctx, void *conn, int i, struct idp_error *err)
{
	struct pool *pl = ctx;
	const struct idp_image_blob *ib = &pl->img->blobs[i];
	struct open_ctx oc = { pl, ib };
	struct blob_step b;
	int rc;

	blob_step_of(&b, ib);
	if (pl->mount_from)
		b.mount_from = pl->mount_from;
	if (!pl->have && pl->src) {
		b.open = open_from_source;
		b.open_ctx = &oc;
	}
	rc = pusher_blob(&pl->p, conn, &b, err);
	if (rc == 0 && !pl->have && b.outcome == IDP_BLOB_PENDING)
		return idp_error_set(err, IDP_EREJECTED,
				     "blob %s: the registry would not mount it from %s, and its "
				     "bytes are not at hand",
				     b.id, b.mount_from ? b.mount_from : "another repository");
	if (rc == 0 && pl->have) {
		pl->have[i] = b.outcome;
		pl->sizes[i] = b.outcome != IDP_BLOB_PENDING ? b.pushed_size : ib->size;
	}
	return rc;
}

/* A worker's connection. */
static int pool_start(void *ctx, void **conn, struct idp_error *err)
{
	struct pool *pl = ctx;

	if (!(*conn = idp_session_conn(pl->p.s)))
		return idp_error_set(err, IDP_EGENERAL, "cannot create an HTTP handle");
	return 0;
}

static void pool_stop(void *ctx, int on)
{
	struct pool *pl = ctx;
	idp_session_set_abort(pl->p.s, on);
}

/* The largest blob bounds the push: a registry takes one blob's bytes on
 * one stream, hashing as they come, and that cannot be split. Starting it
 * first lets the others go alongside it instead of after it. Unknown
 * sizes (-1) go last; ties keep the listed order. */
struct sized {
	int64_t size;
	int index;
};

static int larger_first(const void *a, const void *b)
{
	const struct sized *x = a, *y = b;

	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* The blob indexes, largest first (NULL when there is nothing to order or
 * no memory: then the listed order). */
static int *largest_first(const struct idp_image *img)
{
	size_t n = img->nblobs > 1 ? (size_t)img->nblobs : 0, i;
	struct sized *by = n ? calloc(n, sizeof(*by)) : NULL;
	int *order = by ? calloc(n, sizeof(*order)) : NULL;

	if (order) {
		for (i = 0; i < n; i++)
			by[i] = (struct sized){ img->blobs[i].size, (int)i };
		qsort(by, n, sizeof(*by), larger_first);
		for (i = 0; i < n; i++)
			order[i] = by[i].index;
	}
	free(by);
	return order;
}

/* Run the pool's workers until every blob is done or one failed; the
 * caller initialised pl->p and destroys it. */
static int run_pool(struct pool *pl, int jobs, struct idp_error *err)
{
	int *order = largest_first(pl->img);
	struct push_workers w = { .n = pl->img->nblobs, .order = order, .ctx = pl,
				  .start = pool_start, .one = pool_one, .stop = pool_stop };
	int rc = push_run_workers(&w, jobs, err);

	free(order);
	return rc;
}

int push_blobs_into(const struct idp_push_targets *to, int i, struct idp_source *src,
		    const struct idp_image *img, struct idp_error *err)
{
	struct idp_push_target *t = &to->t[i];
	int p = push_primary(to->t, i), k, rc;
	struct blob_step b;
	struct pool pl;

	memset(&pl, 0, sizeof(pl));
	pusher_init(&pl.p, t->s, to->o);
	pl.src = src;
	pl.img = img;
	pl.mount_from = p != i ? idp_session_ref(to->t[p].s)->path : NULL;
	for (k = 0; k < img->nblobs; k++) {   /* every blob waits its turn */
		blob_step_of(&b, &img->blobs[k]);
		step_emit(&pl.p, &b, (struct idp_event){ .kind = IDP_EV_WAITING, .digest = b.digest,
							 .total = b.size });
	}
	rc = run_pool(&pl, to->o->jobs, err);
	idp_push_stats_add(&t->res.stats, &pl.p.stats);
	pusher_destroy(&pl.p);
	return rc < 0 ? push_target_error(to, i, err) : 0;
}

int idp_push_probe(struct idp_push_target *t, const struct idp_push_opts *o, struct idp_image *img,
		   enum idp_blob_outcome *have, struct idp_error *err)
{
	struct pool pl;
	int i, n = 0, rc;

	memset(&pl, 0, sizeof(pl));
	pusher_init(&pl.p, t->s, o);
	pl.img = img;
	pl.have = have;
	for (i = 0; i < img->nblobs; i++)
		have[i] = IDP_BLOB_PENDING;
	if (!(pl.sizes = calloc(img->nblobs > 0 ? (size_t)img->nblobs : 1, sizeof(*pl.sizes))))
		rc = idp_error_set(err, IDP_EGENERAL, "out of memory");
	else
		rc = run_pool(&pl, o->jobs, err);
	for (i = 0; rc == 0 && i < img->nblobs; i++) {
		img->blobs[i].size = pl.sizes[i];
		n += have[i] != IDP_BLOB_PENDING;
	}
	if (rc == 0)
		idp_push_stats_add(&t->res.stats, &pl.p.stats);
	free(pl.sizes);
	pusher_destroy(&pl.p);
	return rc < 0 ? -1 : n;
}

/* ---- manifests ---- */

/* Where manifest i goes: the last one under tag (when given), the others
 * by digest. */
static const char *manifest_ref(const struct idp_image *img, int i, const char *tag)
{
	return i == img->nmanifests - 1 && tag ? tag : img->manifests[i].digest;
}

/* One manifest to put, and the digest the registry answered. */
struct manifest_put {
	const struct idp_image_manifest *m;
	const char *ref;             /* where: the tag or its digest */
	int maybe_there;             /* no blob had to be uploaded */
	char got[IDP_DIGEST_MAX];
};

/* One manifest under its ref. When no blob had to be uploaded, the
 * registry may have this very manifest under ref already (nothing changed
 * since the last push): one HEAD then saves the PUT, and the registry ends
 * in the same state (go-containerregistry's writer does the same). */
static int put_manifest(struct idp_session *s, struct idp_http *h, struct manifest_put *mp,
			struct idp_error *err)
{
	const struct idp_image_manifest *m = mp->m;
	const struct idp_manifest_doc doc = { .media_type = m->media_type, .data = m->data,
					      .len = m->len };

	if (mp->maybe_there && idp_manifest_present(s, h, mp->ref, m->media_type, m->digest)) {
		snprintf(mp->got, sizeof(mp->got), "%s", m->digest);
		return 0;
	}
	if (idp_manifest_put(s, h, mp->ref, &doc, mp->got, err) < 0)
		return idp_error_prefix(err, "putting manifest %s", mp->ref);
	if (strcmp(mp->got, m->digest) != 0)
		return idp_error_set(err, IDP_EGENERAL, "manifest %s: its bytes hash to %s",
				     m->digest, mp->got);
	return 0;
}

int idp_push_manifest_ahead(struct idp_push_target *t, struct idp_http *h,
			    const struct idp_image_manifest *m, int under_tag,
			    struct idp_error *err)
{
	struct manifest_put mp = { .m = m, .ref = under_tag && t->tag ? t->tag : m->digest };

	return put_manifest(t->s, h, &mp, err);
}

/* The result of a push into t: its top manifest. */
static void set_result(struct idp_push_target *t, const struct idp_image *img)
{
	const struct idp_image_manifest *top = &img->manifests[img->nmanifests - 1];

	snprintf(t->res.digest, sizeof(t->res.digest), "%s", top->digest);
	t->res.size = top->len;
}

/* Whether manifest i of img names another one not placed yet. */
static int waits(const struct idp_image *img, const struct idp_manifest_refs *refs,
		 const unsigned char *placed, int i)
{
	int j;

	for (j = 0; j < img->nmanifests - 1; j++)
		if (j != i && !placed[j] &&
		    idp_manifest_refs_has(&refs[i], img->manifests[j].digest))
			return 1;
	return 0;
}

/* The order img's manifests go up in (order[0..nmanifests)): each after
 * every other one it names (an index its children, a manifest its
 * subject: a registry may check that they are there), the top one last,
 * else as listed. -1 out of memory. */
static int manifest_order(const struct idp_image *img, int *order, struct idp_error *err)
{
	int n = img->nmanifests, k = 0, i;
	struct idp_manifest_refs *refs = calloc((size_t)n, sizeof(*refs));
	unsigned char *placed = calloc((size_t)n, 1);

	if (!refs || !placed) {
		free(refs);
		free(placed);
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	for (i = 0; i < n - 1; i++)   /* not JSON: names nothing */
		idp_manifest_refs(img->manifests[i].data, img->manifests[i].len, &refs[i]);
	while (k < n - 1) {
		for (i = 0; i < n - 1 && (placed[i] || waits(img, refs, placed, i)); i++)
			;
		if (i == n - 1)   /* a cycle, which digests cannot make: as listed */
			for (i = 0; placed[i]; i++)
				;
		placed[i] = 1;
		order[k++] = i;
	}
	order[n - 1] = n - 1;
	for (i = 0; i < n; i++)
		idp_manifest_refs_release(&refs[i]);
	free(refs);
	free(placed);
	return 0;
}

int push_manifests(struct idp_push_target *t, const struct idp_push_opts *o,
		   const struct idp_image *img, struct idp_error *err)
{
	struct idp_http *h = idp_session_conn(t->s);
	int i, *order;

	if (!h)
		return idp_error_set(err, IDP_EGENERAL, "cannot create an HTTP handle");
	if (img->nmanifests == 0)
		return idp_error_set(err, IDP_EGENERAL, "the image has no manifest");
	if (!(order = calloc((size_t)img->nmanifests, sizeof(*order))))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	if (manifest_order(img, order, err) < 0) {
		free(order);
		return -1;
	}
	for (i = 0; i < img->nmanifests; i++) {
		struct manifest_put mp = { .m = &img->manifests[order[i]],
					   .ref = manifest_ref(img, order[i], t->tag),
					   .maybe_there = t->res.stats.blobs_pushed == 0 };
		struct idp_event ev = { IDP_EV_MANIFEST, NULL, mp.got, 0, (int64_t)mp.m->len,
					mp.ref };

		if ((mp.m->present && strcmp(mp.ref, mp.m->digest) == 0) || mp.m->tagged) {
			snprintf(mp.got, sizeof(mp.got), "%s", mp.m->digest);
			idp_push_emit(o, &ev);   /* put ahead */
			continue;
		}
		if (put_manifest(t->s, h, &mp, err) < 0) {
			free(order);
			return -1;
		}
		idp_push_emit(o, &ev);
	}
	free(order);
	set_result(t, img);
	return 0;
}

/* Every blob as found (as pusher_blob reports one), every manifest as put. */
static void report_present(struct idp_push_target *t, const struct idp_push_opts *o,
			   const struct idp_image *img)
{
	struct pusher p;
	struct blob_step b;
	int i;

	pusher_init(&p, t->s, o);
	for (i = 0; i < img->nblobs; i++) {
		blob_step_of(&b, &img->blobs[i]);
		step_existed(&p, &b, b.size);
	}
	idp_push_stats_add(&t->res.stats, &p.stats);
	pusher_destroy(&p);
	for (i = 0; i < img->nmanifests; i++) {
		const struct idp_image_manifest *m = &img->manifests[i];
		struct idp_event ev = { IDP_EV_MANIFEST, NULL, m->digest, 0, (int64_t)m->len,
					manifest_ref(img, i, t->tag) };

		idp_push_emit(o, &ev);
	}
}

int idp_push_if_present(struct idp_push_target *t, const struct idp_push_opts *o,
			const struct idp_image *img)
{
	struct idp_http *h = idp_session_conn(t->s);
	const struct idp_image_manifest *top;

	if (!h || img->nmanifests == 0)
		return 0;
	top = &img->manifests[img->nmanifests - 1];
	if (!idp_manifest_present(t->s, h, t->tag ? t->tag : top->digest, top->media_type,
				  top->digest))
		return 0;
	report_present(t, o, img);
	set_result(t, img);
	return 1;
}

int idp_push_if_named(struct idp_push_target *t, const struct idp_push_opts *o, const char *digest)
{
	struct idp_http *h = idp_session_conn(t->s);
	char got[IDP_DIGEST_MAX];
	int64_t size = -1;

	if (!h || !t->tag ||
	    idp_manifest_head(t->s, h, t->tag, IDP_MANIFEST_ACCEPT_ALL, got, &size) != 1 ||
	    strcmp(got, digest) != 0)
		return 0;
	idp_push_emit(o, &(struct idp_event){ .kind = IDP_EV_MANIFEST, .digest = digest,
					      .total = size, .text = t->tag });
	snprintf(t->res.digest, sizeof(t->res.digest), "%s", digest);
	t->res.size = size > 0 ? (size_t)size : 0;
	return 1;
}
