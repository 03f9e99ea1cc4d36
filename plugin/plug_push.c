/* plug_push.c: the streaming push: `docker save` piped into the engine's
 * streaming source (src_docker_save.c); each layer is uploaded as the
 * stream reaches it (compressed on the fly, or as stored), then the config
 * byte for byte, then the manifest under the tag. Nothing is tagged unless
 * the whole stream was read and checked. The push cache (plug_reuse.c)
 * comes first: layers known to be there are read through, not compressed,
 * and when everything is there docker save does not run at all. */
#include "config.h"
#include <string.h>
#include "fe_opts.h"
#include "plug.h"
#include "src_docker_save.h"
#include "banned.h"

struct layer_progress {
	const struct idp_push_opts *po;
	const struct idp_save_blob *b;
};

/* b->display_id is what progress shows: the diffID when known (see
 * show_id), else the stream's own id (a legacy v1 directory name). */
static void emit(const struct idp_push_opts *po, enum idp_event_kind k, const struct idp_save_blob *b,
		 const char *digest, int64_t done, int64_t total)
{
	struct idp_event ev = { k, b->display_id, digest, done, total, NULL };
	idp_push_emit(po, &ev);
}

/* Progress in entry bytes read (the compressed size is not known yet). */
static void on_progress(void *ctx, int64_t done, int64_t total)
{
	struct layer_progress *lp = ctx;
	(void)done;
	(void)total;
	emit(lp->po, IDP_EV_PUSHING, lp->b, lp->b->digest, *lp->b->consumed, lp->b->raw_size);
}

static int push_layer(struct idp_session *s, struct idp_http *h, const struct idp_push_opts *po,
		      struct idp_save_stream *st, struct idp_save_blob *b, struct idp_blob_reader *r,
		      struct idp_push_stats *stats, struct idp_error *err)
{
	struct layer_progress lp = { po, b };
	struct idp_upload_result res;
	int rc = 0;

	if (b->digest && (rc = idp_blob_exists(s, h, b->digest, NULL, err)) < 0)
		return idp_error_prefix(err, "checking layer %s", b->display_id);
	if (rc == 1) {
		stats->bytes_skipped += b->size > 0 ? b->size : 0;
		stats->blobs_existed++;
		emit(po, IDP_EV_EXISTS, b, b->digest, b->size, b->size);
		return idp_save_blob_done(st, NULL, -1, err);
	}
	emit(po, IDP_EV_PUSHING, b, b->digest, 0, b->raw_size);
	if (idp_blob_upload(s, h, r, b->digest, b->size, on_progress, &lp, &res, err) < 0)
		return idp_error_prefix(err, "pushing layer %s", b->display_id);
	stats->bytes_uploaded += res.size;
	stats->blobs_pushed++;
	if (idp_save_blob_done(st, res.digest, res.size, err) < 0)
		return -1;
	emit(po, IDP_EV_PUSHED, b, res.digest, res.size, res.size);
	return 0;
}

static int push_config(struct idp_session *s, struct idp_http *h, struct idp_save_stream *st,
		       const struct idp_image *img, struct idp_push_stats *stats, struct idp_error *err)
{
	const struct idp_image_blob *c = &img->blobs[0];
	struct idp_blob_reader r;
	struct idp_upload_result res;
	int rc = idp_blob_exists(s, h, c->digest, NULL, err);

	if (rc != 0)
		return rc < 0 ? idp_error_prefix(err, "checking the image config") : 0;
	if (idp_save_config_reader(st, &r, err) < 0)
		return -1;
	rc = idp_blob_upload(s, h, &r, c->digest, c->size, NULL, NULL, &res, err);
	idp_blob_reader_close(&r);
	if (rc < 0)
		return idp_error_prefix(err, "pushing the image config");
	stats->bytes_uploaded += res.size;
	stats->blobs_pushed++;
	return 0;
}

static void save_opts(struct plug_push *pp, struct idp_save_opts *so)
{
	memset(so, 0, sizeof(*so));
	so->format = pp->cfg->format;
	so->zstd = pp->cfg->compression == FE_COMP_ZSTD;
	so->level = pp->cfg->compression_level;
	/* with --platform the image ID may name an index the export leaves out */
	so->image_id = pp->platform ? NULL : pp->info->id;
	so->ndiffids = pp->info->ndiffids;
	so->diffids = (const char *const *)pp->info->diffids;
	so->cancel = pp->cancel;
	so->bytes_read = &pp->bytes_read;
}

/* One layer of the stream: skipped when the cache check found it in the
 * registry (its line was shown then), else pushed. */
static int one_layer(struct idp_session *s, struct idp_http *h, const struct idp_push_opts *po,
		     struct idp_save_stream *st, struct idp_save_blob *b, struct idp_blob_reader *r,
		     struct plug_reuse *ru, struct idp_push_stats *stats, struct idp_error *err)
{
	const char *diffid = plug_reuse_diffid(ru, b->display_id, b->digest);
	const char *v1id = b->display_id;
	struct plug_blob_state *known = diffid ? plug_reuse_layer(ru, diffid) : NULL;
	int rc;

	if (diffid)
		b->display_id = diffid;
	if (b->compressed)
		ru->saved_stored = 1;
	if (known && known->have != PLUG_HAVE_NO)
		return idp_save_blob_skip(st, b->compressed ? NULL : diffid, known->digest, known->size, err);
	rc = push_layer(s, h, po, st, b, r, stats, err);
	if (rc == 0 && !b->compressed && v1id)
		plug_reuse_note_v1(ru, v1id, idp_save_last_diffid(st));
	return rc;
}

static int stream_all(struct idp_session *s, struct idp_http *h, const struct idp_push_opts *po,
		      struct idp_save_stream *st, struct plug_reuse *ru, struct idp_image *img,
		      struct idp_push_stats *stats, struct idp_error *err)
{
	struct idp_save_blob b;
	struct idp_blob_reader r;
	int rc;

	while ((rc = idp_save_next(st, &b, &r, err)) == 1) {
		rc = one_layer(s, h, po, st, &b, &r, ru, stats, err);
		idp_blob_reader_close(&r);
		if (rc < 0)
			return -1;
	}
	if (rc < 0 || idp_save_finish(st, img, err) < 0)
		return -1;
	return push_config(s, h, st, img, stats, err);
}

/* Reap docker save. Its own failure explains a broken stream best; a
 * network or registry error of ours stays. On cancel it is killed. */
static int finish_save(const struct plug_push *pp, struct plug_save *sv, int rc, struct idp_error *err)
{
	struct idp_error derr = IDP_ERROR_INIT;
	int canceled = pp->cancel && *pp->cancel;

	if (plug_docker_save_end(sv, canceled, &derr) == 0)
		return rc;
	if (rc == 0 || err->cls == IDP_EGENERAL)
		*err = derr;
	return -1;
}

/* docker save streamed into the registry: img describes what went up. */
static int push_saved(struct plug_push *pp, struct idp_session *s, struct idp_http *h,
		      const struct idp_push_opts *po, struct plug_reuse *ru, struct idp_image *img,
		      struct idp_push_stats *stats, struct idp_error *err)
{
	struct idp_save_stream *st = NULL;
	struct idp_save_opts so;
	struct plug_save sv;
	int rc;

	if (plug_docker_save_start(pp->docker, pp->image, pp->platform, &sv, err) < 0)
		return -1;
	save_opts(pp, &so);
	rc = idp_save_open(sv.fd, &so, &st, err);
	if (rc == 0)
		rc = stream_all(s, h, po, st, ru, img, stats, err);
	rc = finish_save(pp, &sv, rc, err);
	idp_save_close(st);
	return rc;
}

int plug_push_stream(void *ctx, struct idp_session *s, const struct idp_push_opts *po,
		     char digest_out[IDP_DIGEST_MAX], size_t *size_out, struct idp_push_stats *stats,
		     struct idp_error *err)
{
	struct plug_push *pp = ctx;
	struct idp_http *h = idp_session_conn(s);
	struct plug_reuse ru;
	struct idp_image img;
	int rc, saved = 0;

	memset(&img, 0, sizeof(img));
	if (!h)
		return idp_error_set(err, IDP_EGENERAL, "cannot create an HTTP handle");
	if (plug_reuse_init(&ru, pp, s, err) < 0)
		return -1;
	rc = plug_reuse_check(&ru, s, h, po, stats, err);
	if (rc == 1) {
		rc = plug_reuse_image(&ru, &img, err);
	} else if (rc == 0) {
		saved = 1;
		rc = push_saved(pp, s, h, po, &ru, &img, stats, err);
	}
	if (rc == 0)
		rc = idp_push_manifests(s, po, &img, idp_session_ref(s)->tag, digest_out, size_out, err);
	if (rc == 0)
		plug_reuse_commit(&ru, &img, saved);
	if (img.notice && !pp->notice) {   /* fe_push prints it after the push */
		pp->notice = img.notice;
		img.notice = NULL;
	}
	plug_reuse_release(&ru);
	idp_image_release(&img);
	return rc;
}
