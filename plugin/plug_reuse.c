/* plug_reuse.c: using the push cache (plug_cache.h) for one push. Before
 * `docker save` runs, every layer the cache knows for this registry is
 * HEADed in the destination repository (or mounted from the repository it
 * was pushed to); the config is HEADed by the cached digest or the image
 * ID. When all of them are there the manifest is built from the cache and
 * `docker image inspect` alone, byte for byte what a full push builds (same
 * format rules as src_docker_save.c), and docker save never runs.
 * Otherwise the stream push skips the known layers. After a successful
 * push, the manifest's blobs are recorded. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "fe_msg.h"
#include "manifest.h"
#include "plug.h"
#include "banned.h"

int plug_reuse_init(struct plug_reuse *ru, const struct plug_push *pp, const struct idp_session *s,
		    struct idp_error *err)
{
	const struct idp_ref *ref = idp_session_ref(s);
	int n = pp->info->ndiffids;

	memset(ru, 0, sizeof(*ru));
	ru->pp = pp;
	ru->registry = ref->domain;
	ru->repository = ref->path;
	if (!(ru->layers = calloc(n > 0 ? (size_t)n : 1, sizeof(*ru->layers))))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	ru->cache_path = plug_cache_path();
	plug_cache_load(&ru->cache, ru->cache_path);
	return 0;
}

void plug_reuse_release(struct plug_reuse *ru)
{
	free(ru->layers);
	free(ru->cache_path);
	plug_cache_release(&ru->cache);
	plug_cache_release(&ru->news);
	memset(ru, 0, sizeof(*ru));
}

/* "gzip/LEVEL" or "zstd/LEVEL": blobs we compress with the options given. */
static void ours(const struct plug_reuse *ru, char out[32])
{
	const struct fe_config *cfg = ru->pp->cfg;

	snprintf(out, 32, "%s/%d", cfg->compression == FE_COMP_ZSTD ? "zstd" : "gzip", cfg->compression_level);
}

/* What a fresh push of this image would push: what it was pushed as last
 * time (the config's entry), else our compression. */
static void pick_producer(struct plug_reuse *ru)
{
	const struct plug_cache_blob *c = plug_cache_find(&ru->cache, ru->registry, NULL, ru->pp->info->id, NULL, 0);

	if (c)
		snprintf(ru->want, sizeof(ru->want), "%s", c->producer);
	else
		ours(ru, ru->want);
}

static void set_have(struct plug_blob_state *bs, int have, const char *digest, int64_t size, const char *mt)
{
	bs->have = have;
	snprintf(bs->digest, sizeof(bs->digest), "%s", digest);
	bs->size = size;
	bs->zstd = mt && strstr(mt, "zstd") != NULL;
}

static void emit(const struct idp_push_opts *po, enum idp_event_kind k, const char *id,
		 const struct plug_blob_state *bs, const char *text)
{
	struct idp_event ev = { k, id, bs->digest, bs->size, bs->size, text };
	idp_push_emit(po, &ev);
}

/* Is the cached blob (for key) in the destination, or can it be mounted? */
static int check_one(struct plug_reuse *ru, struct idp_session *s, struct idp_http *h, const char *key,
		     const char *producer, struct plug_blob_state *bs, struct idp_error *err)
{
	const struct plug_cache_blob *mine, *other;
	int rc;

	mine = plug_cache_find(&ru->cache, ru->registry, ru->repository, key, producer, PLUG_CACHE_SAME_REPO);
	other = plug_cache_find(&ru->cache, ru->registry, ru->repository, key, producer, PLUG_CACHE_OTHER_REPO);
	if (mine && (rc = idp_blob_exists(s, h, mine->digest, NULL, err)) != 0) {
		if (rc == 1)
			set_have(bs, PLUG_HAVE_EXISTS, mine->digest, mine->size, mine->media_type);
		return rc;
	}
	if (!other)
		return 0;
	if (!mine || strcmp(mine->digest, other->digest) != 0) {
		if ((rc = idp_blob_exists(s, h, other->digest, NULL, err)) == 1)
			set_have(bs, PLUG_HAVE_EXISTS, other->digest, other->size, other->media_type);
		if (rc != 0)
			return rc;
	}
	rc = idp_blob_mount(s, h, other->digest, other->repository, err);
	if (rc == 1)
		set_have(bs, PLUG_HAVE_MOUNTED, other->digest, other->size, other->media_type);
	return rc;
}

static int check_config(struct plug_reuse *ru, struct idp_session *s, struct idp_http *h, struct idp_error *err)
{
	const char *id = ru->pp->info->id;
	int64_t size = -1;
	int rc = check_one(ru, s, h, id, ru->want, &ru->config, err);

	if (rc != 0 || !idp_digest_valid(id))
		return rc;
	/* graph-driver store: the image ID is the config digest */
	if ((rc = idp_blob_exists(s, h, id, &size, err)) == 1 && size >= 0)
		set_have(&ru->config, PLUG_HAVE_EXISTS, id, size, NULL);
	return rc == 1 && size < 0 ? 0 : rc;
}

static void count(struct idp_push_stats *stats, const struct plug_blob_state *bs)
{
	stats->bytes_skipped += bs->size;
	if (bs->have == PLUG_HAVE_MOUNTED)
		stats->blobs_mounted++;
	else
		stats->blobs_existed++;
}

static int check_layer(struct plug_reuse *ru, struct idp_session *s, struct idp_http *h, int i,
		       const struct idp_push_opts *po, struct idp_push_stats *stats, struct idp_error *err)
{
	const char *diffid = ru->pp->info->diffids[i];
	struct plug_blob_state *bs = &ru->layers[i], *first = plug_reuse_layer(ru, diffid);
	const struct plug_cache_blob *src;

	if (first != bs) {   /* a duplicate layer: the first one decided */
		*bs = *first;
		return bs->have != PLUG_HAVE_NO;
	}
	if (check_one(ru, s, h, diffid, ru->want, bs, err) < 0)
		return idp_error_prefix(err, "checking layer %.12s", idp_digest_hex(diffid));
	if (bs->have == PLUG_HAVE_NO)
		return 0;
	count(stats, bs);
	src = plug_cache_find(&ru->cache, ru->registry, ru->repository, diffid, ru->want, PLUG_CACHE_OTHER_REPO);
	if (bs->have == PLUG_HAVE_MOUNTED)
		emit(po, IDP_EV_MOUNTED, diffid, bs, src ? src->repository : "");
	else
		emit(po, IDP_EV_EXISTS, diffid, bs, NULL);
	return 1;
}

int plug_reuse_check(struct plug_reuse *ru, struct idp_session *s, struct idp_http *h,
		     const struct idp_push_opts *po, struct idp_push_stats *stats, struct idp_error *err)
{
	int i, n = ru->pp->info->ndiffids, all = n > 0, rc;

	pick_producer(ru);
	if (!ru->cache.nblobs)
		return 0;
	for (i = 0; i < n; i++) {
		if ((rc = check_layer(ru, s, h, i, po, stats, err)) < 0)
			return -1;
		all &= rc;
	}
	/* with --platform the image ID may name an index: no config by it */
	if (!all || ru->pp->platform)
		return 0;
	if (check_config(ru, s, h, err) < 0)
		return idp_error_prefix(err, "checking the image config");
	return ru->config.have != PLUG_HAVE_NO;
}

struct plug_blob_state *plug_reuse_layer(const struct plug_reuse *ru, const char *diffid)
{
	int i;

	for (i = 0; i < ru->pp->info->ndiffids; i++)
		if (strcmp(ru->pp->info->diffids[i], diffid) == 0)
			return &ru->layers[i];
	return NULL;
}

static const char *listed(const struct plug_reuse *ru, const char *diffid)
{
	int i;

	for (i = 0; diffid && i < ru->pp->info->ndiffids; i++)
		if (strcmp(ru->pp->info->diffids[i], diffid) == 0)
			return ru->pp->info->diffids[i];
	return NULL;
}

const char *plug_reuse_diffid(const struct plug_reuse *ru, const char *display_id, const char *digest)
{
	char d[IDP_DIGEST_MAX];
	const char *r;
	int i;

	for (i = 0; digest && i < ru->pp->info->ndiffids; i++)
		if (ru->layers[i].have && strcmp(ru->layers[i].digest, digest) == 0)
			return ru->pp->info->diffids[i];
	if (!display_id)
		return NULL;
	snprintf(d, sizeof(d), "sha256:%s", display_id);
	if ((r = listed(ru, d)))
		return r;
	if ((r = listed(ru, plug_cache_v1_diffid(&ru->news, display_id))))
		return r;
	return listed(ru, plug_cache_v1_diffid(&ru->cache, display_id));
}

void plug_reuse_note_v1(struct plug_reuse *ru, const char *v1id, const char *diffid)
{
	struct idp_error err = IDP_ERROR_INIT;
	char d[IDP_DIGEST_MAX];

	snprintf(d, sizeof(d), "sha256:%s", v1id);
	if (!ru->cache_path || !diffid[0] || listed(ru, d) || strlen(v1id) != 64)
		return;
	plug_cache_add_v1(&ru->news, v1id, diffid, &err);
}

/* ---- the manifest from the cache ---- */

int plug_reuse_image(const struct plug_reuse *ru, struct idp_image *img, struct idp_error *err)
{
	const struct plug_image *info = ru->pp->info;
	enum idp_manifest_format fmt = ru->pp->cfg->format == IDP_FMT_OCI ? IDP_FMT_OCI : IDP_FMT_DOCKER;
	struct idp_descriptor cd, *ld = calloc(info->ndiffids > 0 ? (size_t)info->ndiffids : 1, sizeof(*ld));
	struct idp_buf out;
	char digest[IDP_DIGEST_MAX];
	int i, rc = -1;

	if (!ld)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	for (i = 0; i < info->ndiffids; i++)
		if (ru->layers[i].zstd)
			fmt = IDP_FMT_OCI;   /* as src_docker_save.c: zstd layers only in OCI manifests */
	cd = (struct idp_descriptor){ idp_media_type(fmt, IDP_MT_CONFIG), ru->config.digest, ru->config.size, NULL };
	if (!idp_image_add_blob(img, cd.digest, cd.size, cd.media_type, err))
		goto out;
	for (i = 0; i < info->ndiffids; i++) {
		const struct plug_blob_state *bs = &ru->layers[i];
		ld[i] = (struct idp_descriptor){ idp_media_type(fmt, bs->zstd ? IDP_MT_LAYER_ZSTD : IDP_MT_LAYER_GZIP),
						 bs->digest, bs->size, NULL };
		if (!idp_image_add_blob(img, ld[i].digest, ld[i].size, ld[i].media_type, err))
			goto out;
	}
	idp_buf_init(&out, IDP_CAP_MANIFEST);
	if (idp_manifest_build(fmt, &cd, ld, info->ndiffids, &out, err) == 0) {
		idp_sha256_digest(out.buf, out.len, digest);
		rc = idp_image_add_manifest(img, digest, idp_media_type(fmt, IDP_MT_MANIFEST), out.buf, out.len,
					    info->platform, err);
	}
	idp_buf_release(&out);
out:
	free(ld);
	return rc;
}

/* ---- recording ---- */

static int add_desc(struct plug_reuse *ru, const char *key, const char *producer, json_object *d)
{
	struct idp_error err = IDP_ERROR_INIT;
	json_object *dg, *sz, *mt;
	struct plug_cache_blob b;

	if (!json_object_object_get_ex(d, "digest", &dg) || !json_object_object_get_ex(d, "size", &sz) ||
	    !json_object_object_get_ex(d, "mediaType", &mt))
		return -1;
	b.registry = (char *)ru->registry;
	b.repository = (char *)ru->repository;
	b.diffid = (char *)key;
	b.digest = (char *)json_object_get_string(dg);
	b.media_type = (char *)json_object_get_string(mt);
	b.size = json_object_get_int64(sz);
	b.producer = (char *)producer;
	return plug_cache_add(&ru->news, &b, &err);
}

/* The top manifest's config and layers, paired with inspect's diffIDs. */
static void record(struct plug_reuse *ru, const struct idp_image_manifest *m, const char *producer)
{
	const struct plug_image *info = ru->pp->info;
	json_tokener *tok = json_tokener_new();
	json_object *root = tok ? json_tokener_parse_ex(tok, (const char *)m->data, (int)m->len) : NULL;
	json_object *cfg, *layers;
	int i;

	if (root && json_object_object_get_ex(root, "layers", &layers) && json_object_is_type(layers, json_type_array) &&
	    (int)json_object_array_length(layers) == info->ndiffids) {
		for (i = 0; i < info->ndiffids; i++)
			add_desc(ru, info->diffids[i], producer, json_object_array_get_idx(layers, i));
		if (idp_digest_valid(info->id) && !ru->pp->platform && json_object_object_get_ex(root, "config", &cfg))
			add_desc(ru, info->id, producer, cfg);
	}
	json_object_put(root);
	if (tok)
		json_tokener_free(tok);
}

void plug_reuse_commit(struct plug_reuse *ru, const struct idp_image *img, int saved)
{
	struct idp_error err = IDP_ERROR_INIT;
	char prod[32];

	if (!ru->cache_path || img->nmanifests < 1)
		return;
	if (saved && ru->saved_stored)
		snprintf(prod, sizeof(prod), "stored");
	else if (saved)
		ours(ru, prod);
	else
		snprintf(prod, sizeof(prod), "%s", ru->want);
	record(ru, &img->manifests[img->nmanifests - 1], prod);
	if (plug_cache_commit(ru->cache_path, &ru->news, &err) < 0)
		fe_warnf("cannot update the push cache: %s", err.msg);
}
