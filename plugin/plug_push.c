/* plug_push.c: the plugin's push: first what the push cache
 * (plug_reuse.c) says is in the registry already; when that is
 * everything, the manifest is put without running `docker save`.
 * Otherwise the layers the registry lacks are read straight from docker's
 * layer store (idp_stream_docker_store) when the daemon has a graph
 * driver and its data root can be read, and else (or when the store
 * fails: then silently, said with -v) `docker save` is piped into the
 * engine's docker-save stream. Either stream is pushed with
 * idp_push_stream_to, the cache answering which layers to skip; docker
 * save is reaped before anything is tagged. IDPPUSH_NO_STORE=1 always
 * takes docker save. */
#include "config.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "frontend/fe_msg.h"
#include "frontend/fe_opts.h"
#include "frontend/fe_push.h"
#include "plug.h"
#include "banned.h"

struct saved_push {
	struct plug_push *pp;
	struct plug_reuse *ru;
	struct idp_docker_save sv;
	int reaped;
};

/* The cache's knowledge of a stream blob (idp_stream_hooks.known). */
static void known(void *ctx, const struct idp_stream_blob *b, struct idp_stream_known *k)
{
	struct saved_push *sp = ctx;
	const char *diffid = plug_reuse_diffid(sp->ru, b->display_id, b->digest);
	const struct plug_blob_state *bs = diffid ? plug_reuse_layer(sp->ru, diffid) : NULL;

	/* as docker push names layers: by diffID, but a layer the containerd
	 * image store keeps compressed by its own digest (the stream's id) */
	k->display_id = b->compressed ? NULL : diffid;
	if (b->compressed)
		sp->ru->saved_stored = 1;
	if (bs && bs->have != PLUG_HAVE_NO) {
		k->present = 1;
		k->digest = bs->digest;
		k->size = bs->size;
		k->expect = diffid;
	}
}

/* A legacy layer went up: remember its v1 directory id's diffID. */
static void pushed(void *ctx, const struct idp_stream_blob *b, const char *diffid,
		   const char *digest)
{
	struct saved_push *sp = ctx;
	(void)digest;
	if (!b->compressed && b->display_id && diffid[0])
		plug_reuse_note_v1(sp->ru, b->display_id, diffid);
}

/* Reap docker save. Its own failure explains a broken stream best; a
 * network or registry error of ours stays. On cancel it is killed. */
static int reap(struct saved_push *sp, int rc, struct idp_error *err)
{
	struct idp_error derr = IDP_ERROR_INIT;
	int canceled = sp->pp->cancel && *sp->pp->cancel;

	if (sp->reaped)
		return rc;
	sp->reaped = 1;
	if (idp_docker_save_end(&sp->sv, canceled, &derr) == 0)
		return rc;
	if (rc == 0 || err->cls == IDP_EGENERAL)
		*err = derr;
	return -1;
}

static int complete(void *ctx, struct idp_error *err)
{
	return reap(ctx, 0, err);
}

static void save_opts(struct plug_push *pp, struct idp_save_opts *so)
{
	memset(so, 0, sizeof(*so));
	so->format = pp->cfg->format;
	so->codec = pp->codec;
	/* with --platform the image ID may name an index the export leaves out */
	so->image_id = pp->platform ? NULL : pp->info->id;
	so->ndiffids = pp->info->ndiffids;
	so->diffids = (const char *const *)pp->info->diffids;
	so->cancel = pp->cancel;
	so->bytes_read = &pp->bytes_read;
}

/* docker save streamed into the registries: img describes what went up. */
static int push_saved(struct plug_push *pp, const struct idp_push_targets *to,
		      struct plug_reuse *ru, struct idp_image *img, struct idp_error *err)
{
	struct saved_push sp;
	struct idp_stream_hooks hooks = { known, pushed, complete, &sp };
	struct idp_stream st = { NULL, NULL };
	struct idp_save_opts so;
	int rc;

	memset(&sp, 0, sizeof(sp));
	sp.pp = pp;
	sp.ru = ru;
	if (idp_docker_save_start(pp->docker, pp->image, pp->platform, &sp.sv, err) < 0)
		return -1;
	save_opts(pp, &so);
	rc = idp_stream_docker_save(sp.sv.fd, &so, &st, err);
	if (rc == 0)
		rc = idp_push_stream_to(to, &st, &hooks, img, err);
	if (st.ops)   /* first: its reader lets go of the pipe, so docker save can end */
		st.ops->close(st.priv);
	return reap(&sp, rc, err);
}

/* ---- docker's layer store ---- */

static int why_not(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* why gets the reason; returns 0 (not usable). */
static int why_not(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return 0;
}

/* Whether the store can serve this push (dm filled); else why not. */
static int store_usable(const struct plug_push *pp, struct idp_docker_daemon *dm, char *why,
			size_t n)
{
	struct idp_error err = IDP_ERROR_INIT;
	const char *no = getenv("IDPPUSH_NO_STORE");
	char *ldb = NULL;
	int ok;

	memset(dm, 0, sizeof(*dm));
	if (no && *no && strcmp(no, "0") != 0)
		return why_not(why, n, "IDPPUSH_NO_STORE is set");
	if (pp->platform || !idp_digest_valid(pp->info->id))
		return why_not(why, n, "--platform given");
	if (!idp_docker_api_usable(pp->docker->api))
		return why_not(why, n, "no Engine API socket");
	if (idp_docker_api_info(pp->docker->api, dm, &err) < 0)
		return why_not(why, n, "%s", err.msg);
	if (dm->snapshotter || !idp_store_driver_ok(dm->driver))
		return why_not(why, n, "storage driver %s%s", dm->driver,
			       dm->snapshotter ? " (containerd image store)" : "");
	if (asprintf(&ldb, "%s/image/%s/layerdb", dm->root, dm->driver) < 0)
		return why_not(why, n, "out of memory");
	if (!(ok = access(ldb, R_OK | X_OK) == 0))
		why_not(why, n, "cannot read %s: %s", ldb, strerror(errno));
	free(ldb);
	return ok;
}

static void store_opts(struct plug_push *pp, const struct idp_docker_daemon *dm,
		       const struct plug_reuse *ru, unsigned char *known, int *failed,
		       struct idp_store_opts *so)
{
	int i;

	for (i = 0; i < pp->info->ndiffids; i++)
		known[i] = ru->layers[i].have != PLUG_HAVE_NO;
	memset(so, 0, sizeof(*so));
	so->root = dm->root;
	so->driver = dm->driver;
	so->format = pp->cfg->format;
	so->codec = pp->codec;
	so->image_id = pp->info->id;
	so->ndiffids = pp->info->ndiffids;
	so->diffids = (const char *const *)pp->info->diffids;
	so->platform = pp->info->platform;
	so->known = known;
	so->cancel = pp->cancel;
	so->bytes_read = &pp->bytes_read;
	so->store_failed = failed;
}

/* The layers the registry lacks, from the store. *failed: the store
 * itself failed (the caller falls back to docker save). */
static int push_stored(struct plug_push *pp, const struct idp_docker_daemon *dm,
		       const struct idp_push_targets *to, struct plug_reuse *ru,
		       struct idp_image *img, int *failed, struct idp_error *err)
{
	struct saved_push sp;
	struct idp_stream_hooks hooks = { known, NULL, NULL, &sp };
	struct idp_stream st = { NULL, NULL };
	struct idp_store_opts so;
	unsigned char *flags = calloc(pp->info->ndiffids > 0 ? (size_t)pp->info->ndiffids : 1, 1);
	int rc;

	if (!flags)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	memset(&sp, 0, sizeof(sp));
	sp.pp = pp;
	sp.ru = ru;
	store_opts(pp, dm, ru, flags, failed, &so);
	rc = idp_stream_docker_store(&so, &st, err);
	if (rc == 0)
		rc = idp_push_stream_to(to, &st, &hooks, img, err);
	if (st.ops)
		st.ops->close(st.priv);
	free(flags);
	return rc;
}

/* The store when it serves, else (or after it failed) docker save. */
static int push_layers(struct plug_push *pp, const struct idp_push_targets *to,
		       struct plug_reuse *ru, struct idp_image *img, struct idp_error *err)
{
	struct idp_push_result res[FE_MAX_TARGETS];
	struct idp_docker_daemon dm;
	char why[IDP_ERRMSG_MAX];
	int i, rc, failed = 0;

	if (!store_usable(pp, &dm, why, sizeof(why))) {
		if (pp->cfg->verbose)
			fe_infof("not reading docker's layer store (%s): docker save", why);
		idp_docker_daemon_release(&dm);
		return push_saved(pp, to, ru, img, err);
	}
	if (pp->cfg->verbose)
		fe_infof("reading layers from docker's layer store (%s, %s)", dm.root, dm.driver);
	for (i = 0; i < to->n && i < FE_MAX_TARGETS; i++)
		res[i] = to->t[i].res;
	rc = push_stored(pp, &dm, to, ru, img, &failed, err);
	idp_docker_daemon_release(&dm);
	if (rc == 0 || !failed || (pp->cancel && *pp->cancel))
		return rc;
	if (pp->cfg->verbose)
		fe_infof("%s: docker save instead", err->msg);
	for (i = 0; i < to->n && i < FE_MAX_TARGETS; i++)
		to->t[i].res = res[i];
	idp_image_release(img);
	memset(img, 0, sizeof(*img));
	idp_error_clear(err);
	return push_saved(pp, to, ru, img, err);
}

/* Whether every target is on the first one's registry. */
static int one_registry(const struct idp_push_targets *to)
{
	const char *first = idp_session_ref(to->t[0].s)->domain;
	int i;

	for (i = 1; i < to->n; i++)
		if (strcmp(idp_session_ref(to->t[i].s)->domain, first) != 0)
			return 0;
	return 1;
}

/* Nothing changed since the last push to this one target: the cache
 * knows the whole image there and the tag names its manifest already.
 * 1 when so (the push is done), 0 to push as usual, -1 on error. */
static int unchanged(struct plug_push *pp, struct plug_reuse *ru, struct idp_push_target *t,
		     const struct idp_push_opts *po, struct idp_error *err)
{
	struct idp_image img;
	int rc;

	memset(&img, 0, sizeof(img));
	if ((rc = plug_reuse_known(ru, &img, err)) == 1 &&
	    (rc = idp_push_if_present(t, po, &img)) == 1 && pp->cfg->verbose)
		fe_infof("nothing changed: the registry has manifest %s under %s already",
			 img.manifests[img.nmanifests - 1].digest, t->tag ? t->tag : "its digest");
	if (rc == 0)
		plug_reuse_forget(ru);
	idp_image_release(&img);
	return rc;
}

/* The plugin's push into the targets fe_push_open opened. The cache
 * answers for the first target; its registry's other targets mount from
 * it. With several registries every layer is read (each registry gets the
 * same bytes), so docker save always runs. */
int plug_push(struct plug_push *pp, const struct idp_push_targets *to, struct idp_error *err)
{
	struct idp_session *s = to->t[0].s;
	struct plug_reuse ru;
	struct idp_image img;
	int rc = 0, saved = 0;

	memset(&img, 0, sizeof(img));
	if (plug_reuse_init(&ru, pp, s, err) < 0)
		return -1;
	if (to->n == 1 && (rc = unchanged(pp, &ru, &to->t[0], to->o, err)) != 0) {
		plug_reuse_release(&ru);
		return rc < 0 ? -1 : 0;
	}
	if (one_registry(to))
		rc = plug_reuse_check(&ru, &to->t[0], to->o, err);
	if (rc == 1 && (rc = plug_reuse_image(&ru, &img, err)) == 0) {
		to->t[0].blobs_done = 1;
		rc = idp_push_image_to(to, NULL, &img, err);
	} else if (rc == 0) {
		saved = 1;
		rc = push_layers(pp, to, &ru, &img, err);
	}
	if (rc == 0 && !pp->cfg->chunk_size && idp_session_chunk_size(s) < pp->chunk_start &&
	    idp_pushcache_set_chunk(&ru.news, idp_session_ref(s)->domain,
				    (int64_t)idp_session_chunk_size(s), err) < 0)
		rc = -1;
	if (rc == 0)
		plug_reuse_commit(&ru, to, &img, saved);
	if (img.notice && !pp->notice) {   /* fe_push_finish prints it after the push */
		pp->notice = img.notice;
		img.notice = NULL;
	}
	plug_reuse_release(&ru);
	idp_image_release(&img);
	return rc;
}
