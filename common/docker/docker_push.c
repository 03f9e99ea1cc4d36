/* plug_push.c: the plugin's push, its steps in order into the targets
 * fe_push_open opened (plug_push). First whether nothing changed (the
 * push cache describes the manifest, one HEAD finds it under the tag);
 * else what the cache says is in the registry already (docker/reuse.c
 * probes it); when that is everything, the manifest is put without
 * reading the image. Otherwise the layers the registry lacks are read
 * straight from docker's layer store (idp_stream_docker_store) when the
 * daemon has a graph driver and its data root can be read and trusted
 * (the daemon runs as root or as us, nobody else can change it), else (or
 * when the store fails: then silently, said with -v) from `docker save`
 * piped into the engine's docker-save stream. Either stream is pushed in
 * two phases, the cache's table of what to skip passed down before it
 * starts: its blobs (idp_stream_push_blobs), then the config, mounts and
 * manifests (idp_stream_push_rest); docker save is reaped between the
 * two, so nothing is tagged unless it succeeded. When the store cannot
 * be read, the daemon pushes the image itself through the loopback relay
 * (plug_relay.c), docker save when it cannot reach it. The cache is
 * updated after success. IDPPUSH_NO_STORE=1 always takes docker save.
 * On docker's containerd image store (GET /info) the image is pushed as
 * stored instead, its digest the image ID: nothing changed when the tag
 * names the image ID (one HEAD), else from the store itself
 * (plug_ctd.c), else through the relay, else from docker save's stream
 * told to push as stored; without the Engine API the stream itself tells
 * which store it is. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "frontend/fe_msg.h"
#include "frontend/fe_opts.h"
#include "frontend/fe_push.h"
#include "plug.h"
#include "util/trust.h"
#include "banned.h"

/* One push as this file runs it: the plugin's inputs, the targets, what
 * the push cache says. */
struct push_steps {
	struct plug_push *pp;
	const struct idp_push_targets *to;
	struct idp_reuse ru;
	const struct idp_stream_known *known;   /* the cache's table for a stream */
	int nknown;
	int save_mode;             /* enum idp_save_mode: what docker save's stream pushes */
	int went_stored;           /* docker save's stream pushed as stored */
};

static void stream_close(struct idp_stream *stream)
{
	if (stream->ops)
		stream->ops->close(stream->priv);
	stream->ops = NULL;
}

/* Phase 1 of a stream push (its blobs into the targets, the cache's table
 * passed down; then what they taught the cache, and the image in img).
 * *push is the push to finish (or close) either way. */
static int stream_blobs(struct push_steps *ps, struct idp_stream *stream,
			struct idp_stream_push **push, struct idp_image *img, struct idp_error *err)
{
	const struct idp_stream_taken *taken;
	int n;

	if (!(*push = idp_stream_push_open(ps->to, stream, ps->known, ps->nknown, err)) ||
	    idp_stream_push_blobs(*push, img, err) < 0)
		return -1;
	taken = idp_stream_push_taken(*push, &n);
	idp_reuse_note_stream(&ps->ru, taken, n);
	return 0;
}

/* Reap docker save. Its own failure explains a broken stream best; a
 * network or registry error of ours stays. On cancel it is killed. */
static int reap(const struct plug_push *pp, struct idp_docker_save *sv, int rc,
		struct idp_error *err)
{
	struct idp_error derr = IDP_ERROR_INIT;

	if (idp_docker_save_end(sv, pp->cancel && *pp->cancel, &derr) == 0)
		return rc;
	if (rc == 0 || err->cls == IDP_EGENERAL)
		*err = derr;
	return -1;
}

static void save_opts(struct push_steps *ps, struct idp_save_opts *so)
{
	struct plug_push *pp = ps->pp;

	memset(so, 0, sizeof(*so));
	so->format = pp->cfg->format;
	so->codec = pp->codec;
	/* with --platform the image ID may name an index the export leaves out */
	so->image_id = pp->platform ? NULL : pp->info->id;
	so->ndiffids = pp->info->ndiffids;
	so->diffids = (const char *const *)pp->info->diffids;
	so->cancel = pp->cancel;
	so->bytes_read = &pp->bytes_read;
	so->stored = ps->save_mode;
	so->platform = pp->cfg->nplatforms ? pp->cfg->platforms[0] : NULL;
	so->went_stored = &ps->went_stored;
}

/* docker save streamed into the registries: its blobs (phase 1), docker
 * save reaped (after a failure the stream is closed first: its reader
 * lets go of the pipe, so docker save can end), then the config, mounts
 * and manifests (phase 2): nothing is tagged unless docker save
 * succeeded. img describes what went up. */
static int push_saved(struct push_steps *ps, struct idp_image *img, struct idp_error *err)
{
	struct plug_push *pp = ps->pp;
	struct idp_stream stream = { NULL, NULL };
	struct idp_stream_push *push = NULL;
	struct idp_docker_save sv;
	struct idp_save_opts so;
	int rc;

	if (idp_docker_save_start(pp->docker, pp->image, pp->platform, &sv, err) < 0)
		return -1;
	save_opts(ps, &so);
	rc = idp_stream_docker_save(sv.fd, &so, &stream, err);
	if (rc == 0)
		rc = stream_blobs(ps, &stream, &push, img, err);
	if (rc < 0)
		stream_close(&stream);
	rc = reap(pp, &sv, rc, err);
	if (rc == 0)
		rc = idp_stream_push_rest(push, img, err);
	idp_stream_push_close(push);
	stream_close(&stream);
	return rc;
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

/* Whether the store can serve this push (dm filled, *root_fd an O_PATH
 * descriptor of its root to close); else why not. Only a store we may
 * trust (idp_docker_store_trusted: the daemon runs as root or as us,
 * nobody else can change it); another's daemon is read through its own
 * export, docker save. */
static int store_usable(const struct plug_push *pp, struct idp_docker_daemon *dm, int *root_fd,
			char *why, size_t n)
{
	struct idp_error err = IDP_ERROR_INIT;
	const char *no = getenv("IDPPUSH_NO_STORE");
	char *ldb = NULL;
	int ok, fd;

	memset(dm, 0, sizeof(*dm));
	*root_fd = -1;
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
	if (!idp_docker_store_trusted(pp->docker->api, dm->root, root_fd, why, n))
		return 0;
	if (asprintf(&ldb, "image/%s/layerdb", dm->driver) < 0)
		return why_not(why, n, "out of memory");
	if ((fd = idp_open_beneath(*root_fd, ldb, O_RDONLY | O_DIRECTORY)) >= 0)
		close(fd);
	if (!(ok = fd >= 0))
		why_not(why, n, "cannot read %s/%s: %s", dm->root, ldb, strerror(errno));
	free(ldb);
	return ok;
}

static void store_opts(struct push_steps *ps, const struct idp_docker_daemon *dm, int root_fd,
		       unsigned char *known, int *failed, struct idp_store_opts *so)
{
	struct plug_push *pp = ps->pp;
	int i;

	for (i = 0; i < pp->info->ndiffids; i++)
		known[i] = ps->ru.layers[i].have != IDP_REUSE_NO;
	memset(so, 0, sizeof(*so));
	so->root = dm->root;
	so->root_fd = root_fd;
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

/* The layers the registry lacks, from the store, in both phases. *failed:
 * the store itself failed (the caller falls back to docker save). */
static int push_stored(struct push_steps *ps, const struct idp_docker_daemon *dm, int root_fd,
		       struct idp_image *img, int *failed, struct idp_error *err)
{
	int n = ps->pp->info->ndiffids;
	struct idp_stream stream = { NULL, NULL };
	struct idp_stream_push *push = NULL;
	struct idp_store_opts so;
	unsigned char *flags = calloc(n > 0 ? (size_t)n : 1, 1);
	int rc;

	if (!flags)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	store_opts(ps, dm, root_fd, flags, failed, &so);
	rc = idp_stream_docker_store(&so, &stream, err);
	if (rc == 0)
		rc = stream_blobs(ps, &stream, &push, img, err);
	if (rc == 0)
		rc = idp_stream_push_rest(push, img, err);
	idp_stream_push_close(push);
	stream_close(&stream);
	free(flags);
	return rc;
}

/* The store when it serves, else (or after it failed) docker save; the
 * cache's table tells either stream what the registry has. */
static int push_layers(struct push_steps *ps, struct idp_image *img, struct idp_error *err)
{
	const struct idp_push_targets *to = ps->to;
	struct plug_push *pp = ps->pp;
	struct idp_push_result res[FE_MAX_TARGETS];
	struct idp_docker_daemon dm;
	char why[IDP_ERRMSG_MAX];
	int i, rc, failed = 0, root_fd;

	if ((ps->nknown = idp_reuse_stream_known(&ps->ru, &ps->known, err)) < 0)
		return -1;
	if (!store_usable(pp, &dm, &root_fd, why, sizeof(why))) {
		if (pp->cfg->verbose)
			fe_infof("docker's layer store not read: %s", why);
		if (root_fd >= 0)
			close(root_fd);
		idp_docker_daemon_release(&dm);
		if ((rc = plug_relay(pp, to, &ps->ru, img, err)) != 1)
			return rc;
		if (pp->cfg->verbose)
			fe_infof("path: docker save, %s", ps->save_mode != IDP_SAVE_DETECT
					 ? "converted"
					 : "as stored or converted, as its stream tells");
		return push_saved(ps, img, err);
	}
	if (pp->cfg->verbose)
		fe_infof("path: docker's layer store (%s, %s), the layers the registry lacks "
			 "compressed here", dm.root, dm.driver);
	for (i = 0; i < to->n && i < FE_MAX_TARGETS; i++)
		res[i] = to->t[i].res;
	rc = push_stored(ps, &dm, root_fd, img, &failed, err);
	close(root_fd);
	idp_docker_daemon_release(&dm);
	if (rc == 0 || !failed || (pp->cancel && *pp->cancel))
		return rc;
	if (pp->cfg->verbose)
		fe_infof("path: docker save, converted (docker's layer store failed: %s)",
			 err->msg);
	for (i = 0; i < to->n && i < FE_MAX_TARGETS; i++)
		to->t[i].res = res[i];
	idp_image_release(img);
	memset(img, 0, sizeof(*img));
	idp_error_clear(err);
	return push_saved(ps, img, err);
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
static int unchanged(struct push_steps *ps, struct idp_error *err)
{
	struct idp_push_target *t = &ps->to->t[0];
	struct idp_image img;
	int rc;

	memset(&img, 0, sizeof(img));
	if ((rc = idp_reuse_cached_image(&ps->ru, t, &img, err)) == 1 &&
	    (rc = idp_push_if_present(t, ps->to->o, &img)) == 1 && ps->pp->cfg->verbose)
		fe_infof("nothing changed: the registry has manifest %s under %s already",
			 img.manifests[img.nmanifests - 1].digest, t->tag ? t->tag : "its digest");
	if (rc == 0)
		idp_reuse_forget(&ps->ru);
	idp_image_release(&img);
	return rc;
}

/* The chunk size the session ended with, when a 413 made it smaller than
 * it started: learnt for the registry. */
static int learn_chunk(struct push_steps *ps, struct idp_error *err)
{
	struct idp_session *s = ps->to->t[0].s;
	size_t now = idp_session_chunk_size(s);

	if (ps->pp->cfg->chunk_size || now >= ps->pp->chunk_start)
		return 0;
	return idp_pushcache_set_chunk(&ps->ru.news, idp_session_ref(s)->domain, (int64_t)now,
				       err);
}

/* What the push cache says for this push to the first target. */
static int reuse_init(struct push_steps *ps, struct idp_error *err)
{
	const struct plug_push *pp = ps->pp;
	struct idp_reuse_opts o = { .info = pp->info,
				    .platform = pp->platform,
				    .format = pp->cfg->format,
				    .codec = &pp->codec,
				    .cache_path = pp->cache_path,
				    .cache = pp->cache };

	return idp_reuse_init(&ps->ru, &o, idp_session_ref(ps->to->t[0].s), err);
}

/* ---- docker's containerd image store ---- */

/* Whether the daemon keeps its images in containerd's image store (GET
 * /info; dm filled: release it). Without the Engine API (or its answer)
 * nobody can say: docker save's stream will tell (ps->save_mode). */
static int containerd_daemon(struct push_steps *ps, struct idp_docker_daemon *dm)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_docker_api *api = ps->pp->docker->api;

	memset(dm, 0, sizeof(*dm));
	if (!idp_docker_api_usable(api) || idp_docker_api_info(api, dm, &err) < 0) {
		ps->save_mode = IDP_SAVE_DETECT;
		return 0;
	}
	return dm->snapshotter;
}

/* Nothing changed on a store whose image ID is the digest its push puts:
 * the one target's tag names it already (one HEAD). Not with --platform,
 * which pushes a platform's manifest. */
static int id_unchanged(struct push_steps *ps)
{
	const struct plug_push *pp = ps->pp;
	struct idp_push_target *t = &ps->to->t[0];

	if (ps->to->n != 1 || pp->cfg->nplatforms || !idp_digest_valid(pp->info->id) ||
	    !idp_push_if_named(t, ps->to->o, pp->info->id))
		return 0;
	if (pp->cfg->verbose)
		fe_infof("nothing changed: %s names the image ID %s already", t->tag, pp->info->id);
	return 1;
}

/* docker save of the containerd image store, as stored: a blob the push
 * cache saw in another repository of the registry is mounted from there. */
static int push_saved_stored(struct push_steps *ps, struct idp_image *img, struct idp_error *err)
{
	const struct idp_ref *dest = idp_session_ref(ps->to->t[0].s);
	struct idp_stream_known *known;
	int rc;

	if ((ps->nknown = idp_pushcache_stored_known(ps->pp->cache, dest->domain, dest->path,
						     &known, err)) < 0)
		return -1;
	ps->known = known;
	rc = push_saved(ps, img, err);
	ps->known = NULL;
	ps->nknown = 0;
	free(known);
	return rc;
}

/* docker's containerd image store, as stored: nothing changed when the
 * tag names the image ID, else the store itself (plug_ctd.c), else the
 * daemon's own push through the relay, else docker save; then the push
 * cache records where the blobs went. */
static int push_containerd(struct push_steps *ps, const struct idp_docker_daemon *dm,
			   struct idp_image *img, struct idp_error *err)
{
	struct plug_push *pp = ps->pp;
	char why[2 * IDP_ERRMSG_MAX];
	int rc;

	if (id_unchanged(ps))
		return 0;
	if ((rc = plug_ctd_push(pp, ps->to, dm, img, why, sizeof(why), err)) == 0) {
		if (pp->cfg->verbose)
			fe_infof("docker's containerd image store not read: %s", why);
		if ((rc = plug_relay(pp, ps->to, &ps->ru, img, err)) == 1) {
			if (pp->cfg->verbose)
				fe_infof("path: docker save, as stored");
			ps->save_mode = IDP_SAVE_STORED;
			rc = push_saved_stored(ps, img, err);
		}
	}
	if (rc >= 0 && (rc = learn_chunk(ps, err)) == 0)
		idp_pushcache_commit_stored(pp->cache_path, &ps->ru.news, ps->to, img);
	return rc;
}

/* ---- the classic store ---- */

/* The cache answers for the first target; its registry's other targets
 * mount from it. With several registries every layer is read (each
 * registry gets the same bytes), so docker save always runs. Without
 * the Engine API, docker save's stream may turn out to be the containerd
 * image store's: pushed as stored, recorded so. */
static int push_classic(struct push_steps *ps, struct idp_image *img, struct idp_error *err)
{
	const struct idp_push_targets *to = ps->to;
	int rc = 0, saved = 0;

	if (ps->save_mode == IDP_SAVE_DETECT && id_unchanged(ps))
		return 0;
	if (one_registry(to))
		rc = idp_reuse_check(&ps->ru, &to->t[0], to->o, err);
	if (rc == 1 && (rc = idp_reuse_image(&ps->ru, img, err)) == 0) {
		to->t[0].blobs_done = 1;
		rc = idp_push_image_to(to, NULL, img, err);
	} else if (rc == 0) {
		saved = 1;
		rc = push_layers(ps, img, err);
	}
	if (rc == 0 && saved && ps->save_mode == IDP_SAVE_DETECT && ps->pp->cfg->verbose)
		fe_infof("docker save's stream was %s", ps->went_stored
				 ? "docker's containerd image store: pushed as stored"
				 : "the classic store's: converted");
	if (rc == 0)
		rc = learn_chunk(ps, err);
	if (rc == 0 && ps->went_stored)
		idp_pushcache_commit_stored(ps->pp->cache_path, &ps->ru.news, to, img);
	else if (rc == 0)
		idp_reuse_commit(&ps->ru, to, img, saved);
	return rc;
}

int plug_push(struct plug_push *pp, const struct idp_push_targets *to, struct idp_error *err)
{
	struct push_steps ps = { .pp = pp, .to = to, .save_mode = IDP_SAVE_CONVERT };
	struct idp_docker_daemon dm;
	struct idp_image img;
	int rc;

	memset(&img, 0, sizeof(img));
	memset(&dm, 0, sizeof(dm));
	if (reuse_init(&ps, err) < 0)
		return -1;
	/* the classic store's nothing changed first: no GET /info for it */
	if (to->n == 1 && (rc = unchanged(&ps, err)) != 0)
		rc = rc < 0 ? -1 : 0;
	else if (containerd_daemon(&ps, &dm))
		rc = push_containerd(&ps, &dm, &img, err);
	else
		rc = push_classic(&ps, &img, err);
	idp_docker_daemon_release(&dm);
	if (img.notice && !pp->notice) {   /* fe_push_finish prints it after the push */
		pp->notice = img.notice;
		img.notice = NULL;
	}
	idp_reuse_release(&ps.ru);
	idp_image_release(&img);
	return rc;
}
