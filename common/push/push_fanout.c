/* push_fanout.c: one blob, read once, into every registry of a push
 * (push.h's idp_push_fanout_*): into the first target of each registry
 * through the same step as every blob (push.c), the bytes kept in a spool
 * after the first registry for the next one. A stream push takes each of
 * its blobs this way (push_stream.c), and so does the plugin's loopback
 * relay with what the docker daemon uploads to it, several blobs at once
 * on threads of its own. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "push_private.h"
#include "util/spool.h"
#include "banned.h"

int fanout_init(struct idp_push_fanout *f, const struct idp_push_targets *to,
		struct idp_error *err)
{
	int g;

	memset(f, 0, sizeof(*f));
	if (!(f->pushers = calloc((size_t)to->n, sizeof(*f->pushers))))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	f->to = *to;
	for (; f->npushers < to->n; f->npushers++)
		pusher_init(&f->pushers[f->npushers], to->t[f->npushers].s, to->o);
	for (g = 1; g < to->n; g++)
		f->multi |= push_primary(to->t, g) == g;
	return 0;
}

void idp_push_fanout_report(struct idp_push_fanout *f)
{
	int g;

	for (g = 0; g < f->npushers; g++) {
		idp_push_stats_add(&f->to.t[g].res.stats, &f->pushers[g].stats);
		memset(&f->pushers[g].stats, 0, sizeof(f->pushers[g].stats));
	}
}

void fanout_destroy(struct idp_push_fanout *f)
{
	int g;

	if (!f->pushers)
		return;
	idp_push_fanout_report(f);
	for (g = 0; g < f->npushers; g++)
		pusher_destroy(&f->pushers[g]);
	free(f->pushers);
	memset(f, 0, sizeof(*f));
}

int idp_push_fanout_conns(const struct idp_push_fanout *f, struct idp_http **conns,
		 struct idp_error *err)
{
	int g;

	for (g = 0; g < f->to.n; g++) {
		conns[g] = NULL;
		if (push_primary(f->to.t, g) == g && !(conns[g] = idp_session_conn(f->to.t[g].s)))
			return idp_error_set(err, IDP_EGENERAL, "cannot create an HTTP handle");
	}
	return 0;
}

/* A blob on its way into each registry: its bytes (the caller's reader
 * the first time, the spool that upload kept after that). */
struct outgoing_blob {
	struct idp_fanout_blob *fb;
	struct idp_spool *kept;
	struct idp_blob_reader spool_r;
};

static int open_bytes(void *ctx, struct idp_blob_reader *r, struct idp_error *err)
{
	struct outgoing_blob *ob = ctx;

	if (!ob->fb->read) {
		ob->fb->read = 1;
		*r = *ob->fb->r;
		return 0;
	}
	if (!ob->kept)
		return idp_error_set(err, IDP_EGENERAL, "internal: a blob was not kept");
	idp_blob_reader_close(&ob->spool_r);
	if (idp_spool_reader(ob->kept, &ob->spool_r, err) < 0)
		return -1;
	*r = ob->spool_r;
	return 0;
}

/* The blob into target g (the first of its registry). */
static int blob_into(struct idp_push_fanout *f, struct idp_http *h, int g,
		     struct outgoing_blob *ob, struct idp_error *err)
{
	struct idp_fanout_blob *fb = ob->fb;
	struct blob_step b;

	memset(&b, 0, sizeof(b));
	b.mount_from = g == 0 && fb->digest ? fb->mount_from : NULL;
	b.session = g == 0 ? fb->session : NULL;
	b.absent = g == 0 && fb->absent;   /* the others are asked: they may have it */
	b.unhashed = fb->unhashed;
	b.id = fb->id;
	b.digest = fb->got[0] ? fb->got : fb->digest;
	b.size = fb->got[0] ? fb->got_size : fb->size;
	b.open = open_bytes;
	b.open_ctx = ob;
	b.keep_reader = 1;
	if (!fb->read) {
		b.consumed = fb->consumed;
		b.raw_total = fb->raw_total;
	}
	b.keep_spool = f->multi ? &ob->kept : NULL;
	if (pusher_blob(&f->pushers[g], h, &b, err) < 0)
		return push_target_error(&f->to, g, err);
	if (!fb->got[0]) {
		snprintf(fb->got, sizeof(fb->got), "%s", b.pushed);
		fb->got_size = b.pushed_size;
	}
	return 0;
}

int idp_push_fanout_blob(struct idp_push_fanout *f, struct idp_http *const *conns,
		struct idp_fanout_blob *fb, struct idp_error *err)
{
	struct outgoing_blob ob;
	int g, rc = 0;

	memset(&ob, 0, sizeof(ob));
	ob.fb = fb;
	fb->read = 0;
	fb->got[0] = '\0';
	fb->got_size = -1;
	for (g = 0; g < f->to.n && rc == 0; g++)
		if (push_primary(f->to.t, g) == g)
			rc = blob_into(f, conns[g], g, &ob, err);
	idp_blob_reader_close(&ob.spool_r);
	idp_spool_free(ob.kept);
	return rc;
}

int idp_push_fanout_open(struct idp_push_fanout *f, struct idp_http *const *conns,
			 char **session, struct idp_error *err)
{
	return idp_blob_upload_open(f->to.t[0].s, conns[0], session, err);
}

void idp_push_fanout_cancel(struct idp_push_fanout *f, struct idp_http *const *conns,
			    const char *session)
{
	if (session)
		idp_blob_upload_cancel(f->to.t[0].s, conns[0], session);
}

void idp_push_fanout_handed(struct idp_push_fanout *f, const char *id, int64_t done,
			    int64_t total, int pushed)
{
	pusher_handed(&f->pushers[0], id, done, total, pushed);
}

void idp_push_fanout_handed_in(struct idp_push_fanout *f, int64_t size)
{
	pusher_handed_in(&f->pushers[0], size);
}

int idp_push_fanout_probe(struct idp_push_fanout *f, struct idp_http *const *conns,
		 struct idp_fanout_blob *fb, const char *mount_from, struct idp_error *err)
{
	struct blob_step b;
	int g, all = 1;

	fb->got_size = fb->size;
	for (g = 0; g < f->to.n; g++) {
		if (push_primary(f->to.t, g) != g)
			continue;
		memset(&b, 0, sizeof(b));
		b.id = fb->id;
		b.digest = fb->digest;
		b.size = fb->size;
		b.mount_from = mount_from;
		b.quiet = fb->quiet;
		b.absent = fb->absent && mount_from;
		if (pusher_blob(&f->pushers[g], conns[g], &b, err) < 0)
			return push_target_error(&f->to, g, err);
		if (b.outcome == IDP_BLOB_PENDING)
			all = 0;
		else if (b.pushed_size >= 0)
			fb->got_size = b.pushed_size;
	}
	return all;
}

struct idp_push_fanout *idp_push_fanout_new(const struct idp_push_targets *to,
					    struct idp_error *err)
{
	struct idp_push_fanout *f = calloc(1, sizeof(*f));

	if (!f) {
		idp_error_set(err, IDP_EGENERAL, "out of memory");
		return NULL;
	}
	if (fanout_init(f, to, err) < 0) {
		free(f);
		return NULL;
	}
	return f;
}

void idp_push_fanout_free(struct idp_push_fanout *f)
{
	if (!f)
		return;
	fanout_destroy(f);
	free(f);
}
