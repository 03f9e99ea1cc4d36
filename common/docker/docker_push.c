/* docker_push.c: a docker image pushed into the targets the front end
 * opened (idp_docker_push, docker_push.h), by the first path that
 * serves. First whether nothing changed (the push cache describes the
 * manifest, one HEAD finds it under the tag); else what the cache says is
 * in the registry already (reuse.c probes it); when that is everything,
 * the manifest is put without reading the image. Otherwise the layers the
 * registry lacks are read straight from docker's layer store
 * (idp_stream_docker_store) when the daemon has a graph driver and its
 * data root can be read and trusted (the daemon runs as root or as us,
 * nobody else can change it), else (or when the store fails: then
 * silently, said with -v) from `docker save` piped into the engine's
 * docker-save stream. Either stream is pushed in two phases, the cache's
 * table of what to skip passed down before it starts: its blobs
 * (idp_stream_push_blobs), then the config, mounts and manifests
 * (idp_stream_push_rest); docker save is reaped between the two, so
 * nothing is tagged unless it succeeded. When the store cannot be read,
 * the daemon pushes the image itself through the loopback relay
 * (relay_choice.c), docker save when it cannot reach it. The cache is
 * updated after success. IDPPUSH_NO_STORE=1 always takes docker save.
 * On docker's containerd image store (GET /info, asked once per run of
 * the daemon: daemonrun.c) the image is pushed as stored instead, its
 * digest the image ID: nothing changed when the tag names the image ID
 * (one HEAD), else from the store itself
 * (ctd_push.c), else through the relay, else from docker save's stream
 * told to push as stored; without the Engine API the stream itself tells
 * which store it is. What -v shows goes to the caller's info callback. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "util/trust.h"
#include "sources/src_docker_save.h"
#include "sources/src_docker_store.h"
#include "docker_push_private.h"
#include "relay.h"
#include "banned.h"

/* One push as this file runs it: the front end's inputs, the targets,
 * what it reports, what the push cache says. */
struct push_steps {
	struct idp_docker_push_opts opts;   /* the front end's; inspect: &inspected once
					     * the image had to be inspected here */
	struct idp_docker_image inspected;
	const struct idp_push_targets *to;
	struct idp_docker_push_result *res;
	struct idp_reuse ru;
	const struct idp_stream_known *known;   /* the cache's table for a stream */
	int nknown;
	int save_mode;             /* enum idp_save_mode: what docker save's stream pushes */
	int went_stored;           /* docker save's stream pushed as stored */
	int cache_knew;            /* the push cache knows the whole image on the target */
	int relay_tried;           /* the daemon's push through the relay was tried */
	struct docker_daemon_run run;   /* the daemon's process, found once */
};

static void stream_close(struct idp_stream *stream)
{
	if (stream->ops)
		stream->ops->close(stream->priv);
	stream->ops = NULL;
}

/* The daemon's own push through the loopback relay (relay_choice.c),
 * once per run: 1 when it was not taken (or was already tried). */
static int relay_push(struct push_steps *ps, struct idp_image *img, struct idp_error *err)
{
	if (ps->relay_tried)
		return 1;
	ps->relay_tried = 1;
	return docker_push_relay(&ps->opts, ps->to, ps->run.known ? ps->run.pid : 0, &ps->ru, img,
				 err);
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
static int reap(const struct idp_docker_push_opts *o, struct idp_docker_save *sv, int rc,
		struct idp_error *err)
{
	struct idp_error derr = IDP_ERROR_INIT;

	if (idp_docker_save_end(sv, o->cancel && *o->cancel, &derr) == 0)
		return rc;
	if (rc == 0 || err->cls == IDP_EGENERAL)
		*err = derr;
	return -1;
}

static void save_opts(struct push_steps *ps, struct idp_save_opts *so)
{
	const struct idp_docker_push_opts *o = &ps->opts;

	memset(so, 0, sizeof(*so));
	so->format = o->format;
	so->codec = o->codec;
	/* with --platform the image ID may name an index the export leaves out */
	so->image_id = o->save_platform ? NULL : o->inspect->id;
	so->ndiffids = o->inspect->ndiffids;
	so->diffids = (const char *const *)o->inspect->diffids;
	so->cancel = o->cancel;
	so->bytes_read = &ps->res->bytes_read;
	so->stored = ps->save_mode;
	so->platform = o->platform;
	so->went_stored = &ps->went_stored;
}

/* docker save streamed into the registries: its blobs (phase 1), docker
 * save reaped (after a failure the stream is closed first: its reader
 * lets go of the pipe, so docker save can end), then the config, mounts
 * and manifests (phase 2): nothing is tagged unless docker save
 * succeeded. img describes what went up. */
static int push_saved(struct push_steps *ps, struct idp_image *img, struct idp_error *err)
{
	const struct idp_docker_push_opts *o = &ps->opts;
	struct idp_stream stream = { NULL, NULL };
	struct idp_stream_push *push = NULL;
	struct idp_docker_save sv;
	struct idp_save_opts so;
	int rc;

	if (idp_docker_save_start(o->docker, o->image, o->save_platform, &sv, err) < 0)
		return -1;
	save_opts(ps, &so);
	rc = idp_stream_docker_save(sv.fd, &so, &stream, err);
	if (rc == 0)
		rc = stream_blobs(ps, &stream, &push, img, err);
	if (rc < 0)
		stream_close(&stream);
	rc = reap(o, &sv, rc, err);
	if (rc == 0)
		rc = idp_stream_push_rest(push, img, err);
	idp_stream_push_close(push);
	stream_close(&stream);
	return rc;
}

/* ---- docker's layer store ---- */

/* Whether the store can serve this push (dm filled, *root_fd an O_PATH
 * descriptor of its root to close); else why not. Only a store we may
 * trust (idp_docker_store_trusted: the daemon runs as root or as us,
 * nobody else can change it); another's daemon is read through its own
 * export, docker save. */
static int store_usable(const struct idp_docker_push_opts *o, struct idp_docker_daemon *dm,
			int *root_fd, char *why, size_t n)
{
	struct idp_error err = IDP_ERROR_INIT;
	const char *no = getenv("IDPPUSH_NO_STORE");
	char *ldb = NULL;
	int ok, fd;

	memset(dm, 0, sizeof(*dm));
	*root_fd = -1;
	if (no && *no && strcmp(no, "0") != 0)
		return idp_docker_why_not(why, n, "IDPPUSH_NO_STORE is set");
	if (o->save_platform || !idp_digest_valid(o->inspect->id))
		return idp_docker_why_not(why, n, "--platform given");
	if (!idp_docker_api_usable(o->docker->api))
		return idp_docker_why_not(why, n, "no Engine API socket");
	if (idp_docker_api_info(o->docker->api, dm, &err) < 0)
		return idp_docker_why_not(why, n, "%s", err.msg);
	if (dm->snapshotter || !idp_store_driver_ok(dm->driver))
		return idp_docker_why_not(why, n, "storage driver %s%s", dm->driver,
					  dm->snapshotter ? " (containerd image store)" : "");
	if (!idp_docker_store_trusted(o->docker->api, dm->root, root_fd, why, n))
		return 0;
	if (asprintf(&ldb, "image/%s/layerdb", dm->driver) < 0)
		return idp_docker_why_not(why, n, "out of memory");
	if ((fd = idp_open_beneath(*root_fd, ldb, O_RDONLY | O_DIRECTORY)) >= 0)
		close(fd);
	if (!(ok = fd >= 0))
		idp_docker_why_not(why, n, "cannot read %s/%s: %s", dm->root, ldb,
				   strerror(errno));
	free(ldb);
	return ok;
}

static void store_opts(struct push_steps *ps, const struct idp_docker_daemon *dm, int root_fd,
		       unsigned char *known, int *failed, struct idp_store_opts *so)
{
	const struct idp_docker_push_opts *o = &ps->opts;
	int i;

	for (i = 0; i < o->inspect->ndiffids; i++)
		known[i] = ps->ru.layers[i].have != IDP_REUSE_NO;
	memset(so, 0, sizeof(*so));
	so->root = dm->root;
	so->root_fd = root_fd;
	so->driver = dm->driver;
	so->format = o->format;
	so->codec = o->codec;
	so->image_id = o->inspect->id;
	so->ndiffids = o->inspect->ndiffids;
	so->diffids = (const char *const *)o->inspect->diffids;
	so->platform = o->inspect->platform;
	so->known = known;
	so->cancel = o->cancel;
	so->bytes_read = &ps->res->bytes_read;
	so->store_failed = failed;
}

/* The layers the registry lacks, from the store, in both phases. *failed:
 * the store itself failed (the caller falls back to docker save). */
static int push_stored(struct push_steps *ps, const struct idp_docker_daemon *dm, int root_fd,
		       struct idp_image *img, int *failed, struct idp_error *err)
{
	int n = ps->opts.inspect->ndiffids;
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

/* The layers from the store; when the store itself failed (not a
 * registry, not a cancel), from docker save instead, each target's
 * results as they were before. */
static int push_store_or_save(struct push_steps *ps, const struct idp_docker_daemon *dm,
			      int root_fd, struct idp_image *img, struct idp_error *err)
{
	const struct idp_push_targets *to = ps->to;
	struct idp_push_result *before = calloc(to->n > 0 ? (size_t)to->n : 1, sizeof(*before));
	int i, rc, failed = 0;

	if (!before)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	for (i = 0; i < to->n; i++)
		before[i] = to->t[i].res;
	rc = push_stored(ps, dm, root_fd, img, &failed, err);
	if (rc < 0 && failed && !(ps->opts.cancel && *ps->opts.cancel)) {
		docker_push_infof(&ps->opts, "path: docker save, converted (docker's layer store "
				  "failed: %s)", err->msg);
		for (i = 0; i < to->n; i++)
			to->t[i].res = before[i];
		idp_image_release(img);
		memset(img, 0, sizeof(*img));
		idp_error_clear(err);
		rc = push_saved(ps, img, err);
	}
	free(before);
	return rc;
}

/* The store when it serves, else (or after it failed) docker save; the
 * cache's table tells either stream what the registry has. */
static int push_layers(struct push_steps *ps, struct idp_image *img, struct idp_error *err)
{
	const struct idp_docker_push_opts *o = &ps->opts;
	struct idp_docker_daemon dm;
	char why[IDP_ERRMSG_MAX];
	int rc, root_fd;

	if ((ps->nknown = idp_reuse_stream_known(&ps->ru, &ps->known, err)) < 0)
		return -1;
	if (!store_usable(o, &dm, &root_fd, why, sizeof(why))) {
		docker_push_infof(o, "docker's layer store not read: %s", why);
		if (root_fd >= 0)
			close(root_fd);
		idp_docker_daemon_release(&dm);
		if ((rc = relay_push(ps, img, err)) != 1)
			return rc;
		docker_push_infof(o, "path: docker save, %s", ps->save_mode != IDP_SAVE_DETECT
					  ? "converted"
					  : "as stored or converted, as its stream tells");
		return push_saved(ps, img, err);
	}
	docker_push_infof(o, "path: docker's layer store (%s, %s), the layers the registry "
			  "lacks compressed here", dm.root, dm.driver);
	rc = push_store_or_save(ps, &dm, root_fd, img, err);
	close(root_fd);
	idp_docker_daemon_release(&dm);
	return rc;
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
	if ((rc = idp_reuse_cached_image(&ps->ru, t, &img, err)) == 1)
		ps->cache_knew = 1;
	if (rc == 1 && (rc = idp_push_if_present(t, ps->to->o, &img)) == 1)
		docker_push_infof(&ps->opts, "nothing changed: the registry has manifest %s "
				  "under %s already", img.manifests[img.nmanifests - 1].digest,
				  t->tag ? t->tag : "its digest");
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

	if (ps->opts.chunk_given || now >= ps->opts.chunk_start)
		return 0;
	return idp_pushcache_set_chunk(&ps->ru.news, idp_session_ref(s)->domain, (int64_t)now,
				       err);
}

/* After a push that worked: the chunk size learnt, and where img's blobs
 * went written to the push cache (stored: as the store keeps them; else
 * the cache's record of the image, saved: it was read). 0, or -1. */
static int record(struct push_steps *ps, const struct idp_image *img, int stored, int saved,
		  struct idp_error *err)
{
	if (learn_chunk(ps, err) < 0 ||
	    docker_daemon_run_note(ps->opts.docker->api, &ps->run, &ps->ru.news, err) < 0)
		return -1;
	if (stored)
		idp_pushcache_commit_stored(ps->opts.cache_path, &ps->ru.news, ps->to, img);
	else
		idp_reuse_commit(&ps->ru, ps->to, img, saved);
	return 0;
}

/* What the push cache says for this push to the first target. */
static int reuse_init(struct push_steps *ps, struct idp_error *err)
{
	const struct idp_docker_push_opts *o = &ps->opts;
	struct idp_reuse_opts ro = { .info = o->inspect,
				     .platform = o->save_platform,
				     .format = o->format,
				     .codec = &o->codec,
				     .cache_path = o->cache_path,
				     .cache = o->cache };

	return idp_reuse_init(&ps->ru, &ro, idp_session_ref(ps->to->t[0].s), err);
}

/* The image inspected here (into ps->inspected, in place of the front
 * end's; --platform never comes this way). */
static int inspect(struct push_steps *ps, struct idp_error *err)
{
	idp_docker_image_release(&ps->inspected);
	if (idp_docker_inspect(ps->opts.docker, ps->opts.image, NULL, &ps->inspected, err) < 0)
		return -1;
	ps->opts.inspect = &ps->inspected;
	return 0;
}

/* The image ID the early relay tag named, as the push starts (the front
 * end opened the targets meanwhile: idp_docker_image_for_push); when the
 * tag or its event failed, the image inspected. 0, or -1 with err. */
static int id_from_tag(struct push_steps *ps, struct idp_error *err)
{
	const char *id;

	if (!ps->opts.inspect->id_only || ps->opts.inspect->id)
		return 0;
	if (!(id = idp_relay_tag_image_id(ps->opts.early))) {
		docker_push_infof(&ps->opts, "the early tag named no image: inspected instead");
		return inspect(ps, err);
	}
	ps->inspected.id_only = 1;
	if (!(ps->inspected.id = strdup(id)))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	ps->opts.inspect = &ps->inspected;
	docker_push_infof(&ps->opts, "image %s: the ID the early tag named (the daemon's tag "
			  "event), not inspected", id);
	return 0;
}

/* The image inspected after all when only its ID was known (the early
 * tag's) and the way this push takes is not the relay's, which needs no
 * more; the push cache's view set up again (nothing was noted in it
 * yet). 0, or -1 with err. */
static int inspect_now(struct push_steps *ps, struct idp_error *err)
{
	if (!ps->opts.inspect->id_only)
		return 0;
	if (inspect(ps, err) < 0)
		return -1;
	idp_reuse_release(&ps->ru);
	return reuse_init(ps, err);
}

/* ---- docker's containerd image store ---- */

/* Whether the daemon keeps its images in containerd's image store (GET
 * /info; dm filled: release it). Without the Engine API (or its answer)
 * nobody can say: docker save's stream will tell (ps->save_mode). */
static int containerd_daemon(struct push_steps *ps, struct idp_docker_daemon *dm)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_docker_api *api = ps->opts.docker->api;

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
	const struct idp_docker_push_opts *o = &ps->opts;
	struct idp_push_target *t = &ps->to->t[0];

	if (ps->to->n != 1 || o->platform || !idp_digest_valid(o->inspect->id) ||
	    !idp_push_if_named(t, ps->to->o, o->inspect->id))
		return 0;
	docker_push_infof(o, "nothing changed: %s names the image ID %s already", t->tag,
			  o->inspect->id);
	return 1;
}

/* docker save of the containerd image store, as stored: a blob the push
 * cache saw in another repository of the registry is mounted from there. */
static int push_saved_stored(struct push_steps *ps, struct idp_image *img, struct idp_error *err)
{
	const struct idp_ref *dest = idp_session_ref(ps->to->t[0].s);
	struct idp_stream_known *known;
	int rc;

	if ((ps->nknown = idp_pushcache_stored_known(ps->opts.cache, dest->domain, dest->path,
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
 * tag names the image ID, else the store itself (ctd_push.c), else the
 * daemon's own push through the relay, else docker save; then the push
 * cache records where the blobs went. */
static int push_containerd(struct push_steps *ps, const struct idp_docker_daemon *dm,
			   struct idp_image *img, struct idp_error *err)
{
	const struct idp_docker_push_opts *o = &ps->opts;
	char why[2 * IDP_ERRMSG_MAX];
	int rc;

	if (id_unchanged(ps))
		return 0;
	if ((rc = docker_push_ctd(o, ps->to, dm, img, why, sizeof(why), err)) == 0) {
		docker_push_infof(o, "docker's containerd image store not read: %s", why);
		if ((rc = relay_push(ps, img, err)) == 1) {
			docker_push_infof(o, "path: docker save, as stored");
			ps->save_mode = IDP_SAVE_STORED;
			rc = push_saved_stored(ps, img, err);
		}
	}
	return rc < 0 ? -1 : record(ps, img, 1, 0, err);
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
	if (rc == 0 && saved && ps->save_mode == IDP_SAVE_DETECT)
		docker_push_infof(&ps->opts, "docker save's stream was %s", ps->went_stored
					  ? "docker's containerd image store: pushed as stored"
					  : "the classic store's: converted");
	return rc < 0 ? -1 : record(ps, img, ps->went_stored, saved, err);
}

/* ---- a store we cannot read ---- */

/* Whether the daemon's store is not ours to read and the image is new to
 * the push cache (a rebuild, a first push): we are not root and the
 * daemon is root's, so the layer store, containerd's and the cache's
 * probes would only find out what the daemon's own push through the
 * relay does anyway; GET /info is not asked either. Else 0 (why: for -v). */
static int relay_first(struct push_steps *ps, char *why, size_t n)
{
	if (geteuid() == 0 || ps->cache_knew || ps->opts.save_platform || !ps->run.known ||
	    ps->run.uid != 0)
		return 0;
	snprintf(why, n, "the daemon (pid %d) runs as root, we as uid %u", (int)ps->run.pid,
		 (unsigned)geteuid());
	return 1;
}

/* The daemon pushes the image through the relay before anything else is
 * asked of it (relay_first): nothing changed when the tag names the image
 * ID (the containerd image store); what it pushed tells the store (its
 * top manifest is the image ID on the containerd image store, never on
 * the classic one) and so how the push cache records it. 1 when the relay
 * was not taken: the usual way then. */
static int push_relay_first(struct push_steps *ps, const char *why, struct idp_image *img,
			    struct idp_error *err)
{
	int rc, stored;

	if (id_unchanged(ps))
		return 0;
	docker_push_infof(&ps->opts, "the daemon's image store not read: %s", why);
	if ((rc = relay_push(ps, img, err)) != 0)
		return rc;
	stored = strcmp(img->manifests[img->nmanifests - 1].digest, ps->opts.inspect->id) == 0;
	if (!stored && ps->opts.inspect->id_only) {   /* rare: a classic store's image */
		docker_push_infof(&ps->opts, "the push cache not updated: only the image ID was "
				  "asked (the classic store's record needs its layers)");
		return 0;
	}
	return record(ps, img, stored, 1, err);
}

void docker_push_infof(const struct idp_docker_push_opts *o, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	if (!o->info)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	o->info(o->info_ctx, line);
}

/* The way this push takes: the classic store's nothing changed first
 * (no GET /info for it), the daemon's push through the relay when its
 * store is not ours to read, else the store GET /info names. */
static int push_one_way(struct push_steps *ps, struct idp_docker_daemon *dm,
			struct idp_image *img, struct idp_error *err)
{
	char why[IDP_ERRMSG_MAX];
	int rc;

	if (ps->to->n == 1 && (rc = unchanged(ps, err)) != 0)
		return rc < 0 ? -1 : 0;
	if (relay_first(ps, why, sizeof(why)) && (rc = push_relay_first(ps, why, img, err)) != 1)
		return rc;   /* pushed by the daemon, or failed */
	if (inspect_now(ps, err) < 0)
		return -1;
	if (containerd_daemon(ps, dm))
		return push_containerd(ps, dm, img, err);
	return push_classic(ps, img, err);
}

int idp_docker_push(const struct idp_docker_push_opts *o, const struct idp_push_targets *to,
		    struct idp_docker_push_result *res, struct idp_error *err)
{
	struct push_steps ps = { .opts = *o, .to = to, .res = res, .save_mode = IDP_SAVE_CONVERT };
	struct idp_docker_daemon dm;
	struct idp_image img;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&img, 0, sizeof(img));
	memset(&dm, 0, sizeof(dm));
	if (id_from_tag(&ps, err) < 0 || reuse_init(&ps, err) < 0) {
		idp_docker_image_release(&ps.inspected);
		return -1;
	}
	docker_daemon_run_find(o->docker->api, &ps.run);
	if (docker_daemon_run_recall(o->docker->api, &ps.run, o->cache))
		docker_push_infof(o, "docker daemon: pid %d, GET /info known from the push cache",
				  (int)ps.run.pid);
	rc = push_one_way(&ps, &dm, &img, err);
	idp_docker_daemon_release(&dm);
	if (img.notice) {   /* the front end prints it after the push */
		res->notice = img.notice;
		img.notice = NULL;
	}
	idp_reuse_release(&ps.ru);
	idp_image_release(&img);
	idp_docker_image_release(&ps.inspected);
	return rc;
}
