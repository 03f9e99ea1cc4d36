/* plug_push.c: the plugin's push: first what the push cache
 * (plug_reuse.c) says is in the registry already; when that is
 * everything, the manifest is put without running `docker save`.
 * Otherwise `docker save` is piped into the engine's docker-save stream
 * and pushed with idp_push_stream, the cache answering which layers to
 * skip. docker save is reaped before anything is tagged. */
#include "config.h"
#include <string.h>
#include "frontend/fe_opts.h"
#include "plug.h"
#include "banned.h"

struct saved_push {
	struct plug_push *pp;
	struct plug_reuse *ru;
	struct plug_save sv;
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
	if (plug_docker_save_end(&sp->sv, canceled, &derr) == 0)
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
static int push_saved(struct plug_push *pp, struct idp_push_target *t, int n,
		      const struct idp_push_opts *po, struct plug_reuse *ru, struct idp_image *img,
		      struct idp_error *err)
{
	struct saved_push sp;
	struct idp_stream_hooks hooks = { known, pushed, complete, &sp };
	struct idp_stream st = { NULL, NULL };
	struct idp_save_opts so;
	int rc;

	memset(&sp, 0, sizeof(sp));
	sp.pp = pp;
	sp.ru = ru;
	if (plug_docker_save_start(pp->docker, pp->image, pp->platform, &sp.sv, err) < 0)
		return -1;
	save_opts(pp, &so);
	rc = idp_stream_docker_save(sp.sv.fd, &so, &st, err);
	if (rc == 0)
		rc = idp_push_stream_to(t, n, po, &st, &hooks, img, err);
	if (st.ops)   /* first: its reader lets go of the pipe, so docker save can end */
		st.ops->close(st.priv);
	return reap(&sp, rc, err);
}

/* Whether every target is on the first one's registry. */
static int one_registry(const struct idp_push_target *t, int n)
{
	int i;

	for (i = 1; i < n; i++)
		if (strcmp(idp_session_ref(t[i].s)->domain, idp_session_ref(t[0].s)->domain) != 0)
			return 0;
	return 1;
}

/* The cache answers for the first target; its registry's other targets
 * mount from it. With several registries every layer is read (each
 * registry gets the same bytes), so docker save always runs. */
int plug_push_stream(void *ctx, struct idp_push_target *t, int n, const struct idp_push_opts *po,
		     struct idp_error *err)
{
	struct plug_push *pp = ctx;
	struct idp_session *s = t[0].s;
	struct plug_reuse ru;
	struct idp_image img;
	int rc = 0, saved = 0;

	memset(&img, 0, sizeof(img));
	if (plug_reuse_init(&ru, pp, s, err) < 0)
		return -1;
	if (one_registry(t, n))
		rc = plug_reuse_check(&ru, s, po, &t[0].res.stats, err);
	if (rc == 1 && (rc = plug_reuse_image(&ru, &img, err)) == 0) {
		t[0].blobs_done = 1;
		rc = idp_push_image_to(t, n, po, NULL, &img, err);
	} else if (rc == 0) {
		saved = 1;
		rc = push_saved(pp, t, n, po, &ru, &img, err);
	}
	if (rc == 0 && !pp->cfg->chunk_size && idp_session_chunk_size(s) < pp->chunk_start &&
	    plug_cache_set_chunk(&ru.news, idp_session_ref(s)->domain,
				 (int64_t)idp_session_chunk_size(s), err) < 0)
		rc = -1;
	if (rc == 0)
		plug_reuse_commit(&ru, po, &img, saved, t, n);
	if (img.notice && !pp->notice) {   /* fe_push prints it after the push */
		pp->notice = img.notice;
		img.notice = NULL;
	}
	plug_reuse_release(&ru);
	idp_image_release(&img);
	return rc;
}
