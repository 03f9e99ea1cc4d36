/* reuse.c: what the push cache (docker/pushcache.h) says for one push
 * of a docker image (idp_reuse_*). Before the image is read, every layer
 * the cache knows for this registry is HEADed in the destination
 * repository (or mounted from the repository it was pushed to); the
 * config is HEADed by the cached digest or the image ID. When all of them
 * are there the manifest is built from the cache and `docker image
 * inspect` alone, byte for byte what a full push builds (same format rules
 * as src_docker_save.c), and the image is never read. Otherwise a stream
 * push skips the known layers, told by a table built here. After a
 * successful push, the manifest's blobs are recorded. A cached config is
 * used only when it is the image's (cached_is_image). */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "util/jsonutil.h"
#include "util/manifest.h"
#include "registry/registry.h"
#include "pushcache.h"
#include "banned.h"

int idp_reuse_init(struct idp_reuse *ru, const struct idp_reuse_opts *o, const struct idp_ref *dest,
		   struct idp_error *err)
{
	int n = o->info->ndiffids;

	memset(ru, 0, sizeof(*ru));
	ru->o = *o;
	ru->registry = dest->domain;
	ru->repository = dest->path;
	if (!(ru->layers = calloc(n > 0 ? (size_t)n : 1, sizeof(*ru->layers))))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	return 0;
}

void idp_reuse_release(struct idp_reuse *ru)
{
	free(ru->known);
	free(ru->layers);
	idp_pushcache_release(&ru->news);
	memset(ru, 0, sizeof(*ru));
}

/* The codec's name ("gzip/isal-2.30/2/4m"): blobs we compress. */
static void ours(const struct idp_reuse *ru, char out[IDP_CODEC_NAME_MAX])
{
	idp_codec_name(ru->o.codec, out);
}

/* What a fresh push of this image would push: what it was pushed as last
 * time (the config's entry), else our compression. */
static void pick_producer(struct idp_reuse *ru)
{
	struct idp_pushcache_query q = { .registry = ru->registry, .diffid = ru->o.info->id };
	const struct idp_pushcache_blob *c = idp_pushcache_find(ru->o.cache, &q);

	if (c)
		snprintf(ru->want, sizeof(ru->want), "%s", c->producer);
	else
		ours(ru, ru->want);
}

static void set_have(struct idp_reuse_blob *bs, int have, const char *digest, int64_t size,
		     const char *mt)
{
	bs->have = have;
	snprintf(bs->digest, sizeof(bs->digest), "%s", digest);
	bs->size = size;
	bs->zstd = mt && strstr(mt, "zstd") != NULL;
}

/* The id a progress line shows for a cached blob, as docker push would:
 * the diffID, but the layer's own digest for a layer docker's containerd
 * image store kept compressed (its push names layers by that digest). */
static const char *display_key(const struct idp_pushcache_blob *c, const char *key)
{
	return c->producer && strcmp(c->producer, "stored") == 0 ? c->digest : key;
}

/* Whether a config lists the image's diffIDs. */
static int config_is_image(const struct idp_docker_image *info, json_object *config)
{
	json_object *ids = idp_json_array(idp_json_obj(config, "rootfs"), "diff_ids");
	int i, ok = ids && (int)json_object_array_length(ids) == info->ndiffids;

	for (i = 0; ok && i < info->ndiffids; i++) {
		const char *d = json_object_get_string(json_object_array_get_idx(ids, i));
		ok = d && strcmp(d, info->diffids[i]) == 0;
	}
	return ok;
}

/* Whether a manifest's config is the image ID (the graph-driver store). */
static int manifest_is_image(const struct idp_docker_image *info, json_object *manifest)
{
	const char *config = idp_json_str(idp_json_obj(manifest, "config"), "digest");

	return config && strcmp(config, info->id) == 0;
}

static int by_daemon(const struct idp_pushcache_blob *c)
{
	return c->producer && strcmp(c->producer, IDP_PRODUCER_DAEMON) == 0;
}

/* Whether the document a cache entry keyed by the image ID names is the
 * image's. Its digest is the image ID (a config on the graph-driver store;
 * on docker's containerd image store the manifest the daemon pushed), or
 * it is fetched from the destination repository (its digest checked) and
 * judged: the top manifest the daemon pushed (producer "daemon") must have
 * the image ID as its config, any other entry is a config that must list
 * the image's diffIDs. One that cannot be fetched there is not used. The
 * last answer is kept. */
static int cached_is_image(struct idp_reuse *ru, const struct idp_pushcache_blob *c)
{
	const struct idp_docker_image *info = ru->o.info;
	struct idp_session *s = ru->target ? ru->target->s : NULL;
	struct idp_error err = IDP_ERROR_INIT;
	json_object *root = NULL;
	int manifest = by_daemon(c), got = 0, ok = 0;
	size_t cap = manifest ? IDP_CAP_MANIFEST : IDP_CAP_CONFIG;
	struct idp_buf b;

	if (strcmp(c->digest, info->id) == 0)
		return 1;
	if (strcmp(ru->config_seen, c->digest) == 0)
		return ru->config_seen_ok;
	idp_buf_init(&b, cap);
	if (s && strcmp(c->repository, ru->repository) == 0)
		got = manifest ? idp_manifest_get(s, idp_session_conn(s), c->digest, &b, &err)
			       : idp_blob_get(s, idp_session_conn(s), c->digest, cap, &b, &err);
	if (got == 1 && (root = idp_json_parse(b.buf, b.len, cap)))
		ok = manifest ? manifest_is_image(info, root) : config_is_image(info, root);
	json_object_put(root);
	idp_buf_release(&b);
	snprintf(ru->config_seen, sizeof(ru->config_seen), "%s", c->digest);
	ru->config_seen_ok = ok;
	return ok;
}

/* What the cache says key was pushed as in this repository (flags
 * IDP_PUSHCACHE_SAME_REPO) or another one of the same registry
 * (IDP_PUSHCACHE_OTHER_REPO), by the producer a fresh push would use; for
 * the image ID, only a config that is the image's (config_ok). */
static const struct idp_pushcache_blob *cached(struct idp_reuse *ru, const char *key, int flags)
{
	struct idp_pushcache_query q = { ru->registry, ru->repository, key, ru->want, flags };
	const struct idp_pushcache_blob *c = idp_pushcache_find(ru->o.cache, &q);

	if (c && strcmp(key, ru->o.info->id) == 0 &&
	    !cached_is_image(ru, c))
		return NULL;
	return c;
}

/* What the cache says `key` (a diffID, or the image ID for the config)
 * was pushed as: in this repository (HEAD it), or in another one of the
 * same registry (mount it from there), added to the probe image as *out.
 * 1, 0 when the cache does not know it, -1 on error. */
static int add_candidate(struct idp_reuse *ru, struct idp_image *probe, const char *key,
			 struct idp_image_blob **out, struct idp_error *err)
{
	const struct idp_pushcache_blob *mine = cached(ru, key, IDP_PUSHCACHE_SAME_REPO);
	const struct idp_pushcache_blob *other = cached(ru, key, IDP_PUSHCACHE_OTHER_REPO), *c;
	struct idp_image_blob *b;

	if (mine && other && strcmp(mine->digest, other->digest) != 0)
		other = NULL;
	if (!(c = mine ? mine : other))
		return 0;
	if (!(b = idp_image_add_blob(probe, c->digest, c->size, c->media_type, err)))
		return -1;
	if ((!b->display_id && !(b->display_id = strdup(display_key(c, key)))) ||
	    (other && !b->mount_from && !(b->mount_from = strdup(other->repository))))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	*out = b;
	return 1;
}

/* The layers the cache knows, as an image to probe; probe_of[i] is layer
 * i's blob in it, or -1. */
static int probe_layers(struct idp_reuse *ru, struct idp_image *probe, int *probe_of,
			struct idp_error *err)
{
	const struct idp_docker_image *info = ru->o.info;
	struct idp_image_blob *b;
	int i, rc;

	for (i = 0; i < info->ndiffids; i++) {
		if ((rc = add_candidate(ru, probe, info->diffids[i], &b, err)) < 0)
			return -1;
		probe_of[i] = rc ? (int)(b - probe->blobs) : -1;
	}
	return 0;
}

/* Layer states from the probe; 1 when every layer is there. */
static int apply_probe(struct idp_reuse *ru, const struct idp_image *probe, const int *probe_of,
		       const enum idp_blob_outcome *have)
{
	int i, all = ru->o.info->ndiffids > 0;

	for (i = 0; i < ru->o.info->ndiffids; i++) {
		const struct idp_image_blob *b =
			probe_of[i] >= 0 ? &probe->blobs[probe_of[i]] : NULL;
		if (b && have[probe_of[i]] != IDP_BLOB_PENDING)
			set_have(&ru->layers[i],
				 have[probe_of[i]] == IDP_BLOB_MOUNTED ? IDP_REUSE_MOUNTED
								       : IDP_REUSE_EXISTS,
				 b->digest, b->size, b->media_type);
		else
			all = 0;
	}
	return all;
}

/* The config's candidate in the probe, its index in *at: what the cache
 * knows, else the image ID, which is the config digest in the
 * graph-driver store. 1, 0 when there is none (or with --platform, where
 * the image ID may name an index), -1 on error. */
static int config_candidate(struct idp_reuse *ru, struct idp_image *probe, int *at,
			    struct idp_error *err)
{
	const char *id = ru->o.info->id;
	struct idp_image_blob *b;
	int rc;

	if (ru->o.platform)
		return 0;
	if ((rc = add_candidate(ru, probe, id, &b, err)) == 0 && idp_digest_valid(id))
		rc = (b = idp_image_add_blob(probe, id, -1, NULL, err)) ? 1 : -1;
	if (rc <= 0)
		return rc;
	b->quiet = 1;
	*at = (int)(b - probe->blobs);
	return 1;
}

static void apply_config(struct idp_reuse *ru, const struct idp_image *probe, int at,
			 const enum idp_blob_outcome *have)
{
	if (at >= 0 && have[at] != IDP_BLOB_PENDING && probe->blobs[at].size >= 0)
		set_have(&ru->config, have[at] == IDP_BLOB_MOUNTED ? IDP_REUSE_MOUNTED
								    : IDP_REUSE_EXISTS,
			 probe->blobs[at].digest, probe->blobs[at].size, NULL);
}

/* Whether the daemon pushed this image last time (the loopback relay). */
static int daemons(const struct idp_reuse *ru)
{
	return strcmp(ru->want, IDP_PRODUCER_DAEMON) == 0;
}

/* The layers and the config the cache knows, probed in one round. */
int idp_reuse_check(struct idp_reuse *ru, struct idp_push_target *t,
		    const struct idp_push_opts *po, struct idp_error *err)
{
	int n = ru->o.info->ndiffids, all = 0, rc = 0, cfg = -1;
	int *probe_of = calloc(n > 0 ? (size_t)n : 1, sizeof(int));
	enum idp_blob_outcome *have = NULL;
	struct idp_image probe;

	memset(&probe, 0, sizeof(probe));
	ru->target = t;
	pick_producer(ru);
	if (!probe_of)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	if (daemons(ru)) {   /* the daemon asks for what it pushed itself */
		free(probe_of);
		return 0;
	}
	if (ru->o.cache->nblobs)
		rc = probe_layers(ru, &probe, probe_of, err);
	if (rc == 0 && probe.nblobs && config_candidate(ru, &probe, &cfg, err) < 0)
		rc = -1;
	if (rc == 0 && probe.nblobs) {
		if (!(have = calloc((size_t)probe.nblobs, sizeof(*have))))
			rc = idp_error_set(err, IDP_EGENERAL, "out of memory");
		else if ((rc = idp_push_probe(t, po, &probe, have, err)) >= 0)
			all = apply_probe(ru, &probe, probe_of, have);
	}
	if (rc >= 0 && all)
		apply_config(ru, &probe, cfg, have);
	free(have);
	free(probe_of);
	idp_image_release(&probe);
	if (rc < 0)
		return -1;
	return all && ru->config.have != IDP_REUSE_NO;
}

/* The first listed diffID equal to diffid, or NULL. */
static const char *listed(const struct idp_reuse *ru, const char *diffid)
{
	int i;

	for (i = 0; diffid && i < ru->o.info->ndiffids; i++)
		if (strcmp(ru->o.info->diffids[i], diffid) == 0)
			return ru->o.info->diffids[i];
	return NULL;
}

/* The stream blob that is layer diffid (a listed one): shown by its
 * diffID (as docker push names a layer it compresses), skipped when the
 * registry has it (its first layer's state). */
static void known_as(const struct idp_reuse *ru, const char *diffid, struct idp_stream_known *k)
{
	const struct idp_reuse_blob *bs = NULL;
	int i;

	for (i = 0; !bs && i < ru->o.info->ndiffids; i++)
		if (strcmp(ru->o.info->diffids[i], diffid) == 0)
			bs = &ru->layers[i];
	k->display_id = diffid;
	if (bs && bs->have != IDP_REUSE_NO) {
		k->present = 1;
		k->digest = bs->digest;
		k->size = bs->size;
		k->expect = diffid;
	}
}

int idp_reuse_stream_known(struct idp_reuse *ru, const struct idp_stream_known **out,
			   struct idp_error *err)
{
	const struct idp_docker_image *info = ru->o.info;
	int max = info->ndiffids + ru->o.cache->nv1, i, n = 0;
	struct idp_stream_known *k = calloc(max > 0 ? (size_t)max : 1, sizeof(*k));
	const char *d;

	if (!k)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	for (i = 0; i < info->ndiffids; i++, n++) {   /* a layer, by its digest or diffID */
		k[n].by_digest = ru->layers[i].have ? ru->layers[i].digest : NULL;
		if (strncmp(info->diffids[i], "sha256:", 7) == 0)
			k[n].by_id = info->diffids[i] + 7;
		known_as(ru, info->diffids[i], &k[n]);
	}
	for (i = 0; i < ru->o.cache->nv1; i++) {   /* a legacy v1 directory the cache saw */
		d = listed(ru, idp_pushcache_v1_diffid(ru->o.cache, ru->o.cache->v1[i].v1id));
		if (d) {
			k[n].by_id = ru->o.cache->v1[i].v1id;
			known_as(ru, d, &k[n++]);
		}
	}
	free(ru->known);
	*out = ru->known = k;
	return n;
}

/* A legacy layer went up: remember its v1 directory id's diffID. */
static void note_v1(struct idp_reuse *ru, const char *v1id, const char *diffid)
{
	struct idp_error err = IDP_ERROR_INIT;
	char d[IDP_DIGEST_MAX];

	snprintf(d, sizeof(d), "sha256:%s", v1id);
	if (!ru->o.cache_path || !diffid[0] || listed(ru, d) || strlen(v1id) != 64)
		return;
	idp_pushcache_add_v1(&ru->news, v1id, diffid, &err);
}

void idp_reuse_note_stream(struct idp_reuse *ru, const struct idp_stream_taken *taken, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (taken[i].compressed)
			ru->saved_stored = 1;
		else if (taken[i].uploaded)
			note_v1(ru, taken[i].display_id, taken[i].diffid);
	}
}

/* ---- the manifest from the cache ---- */

/* Layer i of the image (idp_single_image.layer). */
static void layer_of(const void *ctx, int i, struct idp_layer *out)
{
	const struct idp_reuse *ru = ctx;

	out->digest = ru->layers[i].digest;
	out->size = ru->layers[i].size;
	out->zstd = ru->layers[i].zstd;
}

int idp_reuse_image(const struct idp_reuse *ru, struct idp_image *img, struct idp_error *err)
{
	struct idp_single_image si = {
		.format = ru->o.format,
		.config_digest = ru->config.digest,
		.config_size = ru->config.size,
		.platform = ru->o.info->platform,
		.nlayers = ru->o.info->ndiffids,
		.layer = layer_of,
		.ctx = ru,
	};

	return idp_image_add_single(img, &si, err);
}

/* ---- nothing changed ---- */

/* What the cache says key was pushed as in this very repository. */
static const struct idp_pushcache_blob *mine(struct idp_reuse *ru, const char *key)
{
	return cached(ru, key, IDP_PUSHCACHE_SAME_REPO);
}

/* Progress ids as the probe gives them: diffIDs, no line for the config
 * (blob 0: idp_image_add_single adds the config first). */
static int label(struct idp_reuse *ru, struct idp_image *img, struct idp_error *err)
{
	const struct idp_docker_image *info = ru->o.info;
	int i, j;

	img->blobs[0].quiet = 1;
	for (i = 0; i < info->ndiffids; i++)
		for (j = 1; j < img->nblobs; j++)
			if (!img->blobs[j].display_id &&
			    strcmp(img->blobs[j].digest, ru->layers[i].digest) == 0 &&
			    !(img->blobs[j].display_id =
				      strdup(display_key(mine(ru, info->diffids[i]),
							 info->diffids[i]))))
				return idp_error_set(err, IDP_EGENERAL, "out of memory");
	return 1;
}

/* What the daemon pushed into this repository last time: its layers and
 * its top manifest (digest, type and size: what one HEAD checks). */
static int daemon_image(struct idp_reuse *ru, struct idp_image *img, struct idp_error *err)
{
	const struct idp_docker_image *info = ru->o.info;
	const struct idp_pushcache_blob *top = mine(ru, info->id), *c;
	struct idp_image_blob *b;
	int i;

	if (!top || !(idp_media_type_is_manifest(top->media_type) ||
		      idp_media_type_is_index(top->media_type)))
		return 0;
	for (i = 0; i < info->ndiffids; i++) {
		if (!(c = mine(ru, info->diffids[i])))
			return 0;
		if (!(b = idp_image_add_blob(img, c->digest, c->size, c->media_type, err)) ||
		    (!b->display_id && !(b->display_id = strdup(info->diffids[i]))))
			return -1;
	}
	if (!(img->manifests = calloc(1, sizeof(*img->manifests))) ||
	    !(img->manifests[0].media_type = strdup(top->media_type)))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	img->nmanifests = 1;
	snprintf(img->manifests[0].digest, sizeof(img->manifests[0].digest), "%s", top->digest);
	img->manifests[0].len = (size_t)top->size;
	return 1;
}

int idp_reuse_cached_image(struct idp_reuse *ru, struct idp_push_target *t, struct idp_image *img,
			   struct idp_error *err)
{
	const struct idp_docker_image *info = ru->o.info;
	const struct idp_pushcache_blob *c;
	int i;

	ru->target = t;
	pick_producer(ru);
	if (daemons(ru) && !ru->o.platform && info->ndiffids > 0)
		return daemon_image(ru, img, err);
	if (ru->o.platform || info->ndiffids == 0 || !(c = mine(ru, info->id)))
		return 0;
	set_have(&ru->config, IDP_REUSE_EXISTS, c->digest, c->size, NULL);
	for (i = 0; i < info->ndiffids; i++) {
		if (!(c = mine(ru, info->diffids[i]))) {
			idp_reuse_forget(ru);
			return 0;
		}
		set_have(&ru->layers[i], IDP_REUSE_EXISTS, c->digest, c->size, c->media_type);
	}
	if (idp_reuse_image(ru, img, err) < 0)
		return -1;
	return img->nblobs > 0 ? label(ru, img, err) : 0;
}

void idp_reuse_forget(struct idp_reuse *ru)
{
	memset(ru->layers, 0, (size_t)ru->o.info->ndiffids * sizeof(*ru->layers));
	memset(&ru->config, 0, sizeof(ru->config));
}

/* ---- recording ---- */

static void add_desc(struct idp_reuse *ru, const char *key, const char *producer, json_object *d)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_pushcache_blob b;

	b.registry = (char *)ru->registry;
	b.repository = (char *)ru->repository;
	b.diffid = (char *)key;
	b.digest = (char *)idp_json_str(d, "digest");
	b.media_type = (char *)idp_json_str(d, "mediaType");
	b.size = idp_json_int(d, "size", -1);
	b.producer = (char *)producer;
	if (b.digest && b.media_type && b.size >= 0)
		idp_pushcache_add(&ru->news, &b, &err);
}

/* A manifest's layers, paired with inspect's diffIDs, and its config
 * (config: under the image ID). */
static void record(struct idp_reuse *ru, const struct idp_image_manifest *m, const char *producer,
		   int config)
{
	const struct idp_docker_image *info = ru->o.info;
	json_object *root = idp_json_parse((const char *)m->data, m->len, IDP_CAP_MANIFEST);
	json_object *layers = idp_json_array(root, "layers"), *cfg = idp_json_obj(root, "config");
	int i;

	if (layers && (int)json_object_array_length(layers) == info->ndiffids) {
		for (i = 0; i < info->ndiffids; i++)
			add_desc(ru, info->diffids[i], producer,
				 json_object_array_get_idx(layers, i));
		if (config && cfg && idp_digest_valid(info->id) && !ru->o.platform)
			add_desc(ru, info->id, producer, cfg);
	}
	json_object_put(root);
}

void idp_reuse_note_daemon(struct idp_reuse *ru)
{
	ru->by_daemon = 1;
}

/* A manifest whose layers are the image's (as many as its diffIDs, each
 * a tar): in a daemon's index, the platform's, not an attestation. */
static int image_layers(const struct idp_reuse *ru, const struct idp_image_manifest *m)
{
	json_object *root = idp_json_parse((const char *)m->data, m->len, IDP_CAP_MANIFEST);
	json_object *layers = idp_json_array(root, "layers");
	int i, n = layers ? (int)json_object_array_length(layers) : -1;
	int ok = n == ru->o.info->ndiffids;
	const char *mt;

	for (i = 0; ok && i < n; i++)
		ok = (mt = idp_json_str(json_object_array_get_idx(layers, i), "mediaType")) &&
		     strstr(mt, "tar") != NULL;
	json_object_put(root);
	return ok;
}

/* What the daemon pushed: the layers of its image manifest, and the top
 * manifest under the image ID. */
static void record_daemon(struct idp_reuse *ru, const struct idp_image *img)
{
	const struct idp_image_manifest *top = &img->manifests[img->nmanifests - 1];
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_pushcache_blob b = { .registry = (char *)ru->registry,
					.repository = (char *)ru->repository,
					.diffid = ru->o.info->id, .digest = (char *)top->digest,
					.media_type = top->media_type, .size = (int64_t)top->len,
					.producer = IDP_PRODUCER_DAEMON };
	int i;

	for (i = img->nmanifests - 1; i >= 0; i--)
		if (image_layers(ru, &img->manifests[i])) {
			record(ru, &img->manifests[i], IDP_PRODUCER_DAEMON, 0);
			break;
		}
	if (i >= 0 && idp_digest_valid(ru->o.info->id) && !ru->o.platform)
		idp_pushcache_add(&ru->news, &b, &err);
}

void idp_reuse_commit(struct idp_reuse *ru, const struct idp_push_targets *to,
		      const struct idp_image *img, int saved)
{
	struct idp_error err = IDP_ERROR_INIT;
	char prod[IDP_CODEC_NAME_MAX], msg[IDP_ERRMSG_MAX + 40];
	struct idp_event ev = { IDP_EV_WARNING, NULL, NULL, 0, 0, msg };
	int i;

	if (!ru->o.cache_path || img->nmanifests < 1)
		return;
	if (saved && ru->saved_stored)
		snprintf(prod, sizeof(prod), "stored");
	else if (saved)
		ours(ru, prod);
	else
		snprintf(prod, sizeof(prod), "%s", ru->want);
	for (i = 0; i < to->n; i++) {   /* each destination has the blobs now */
		ru->registry = idp_session_ref(to->t[i].s)->domain;
		ru->repository = idp_session_ref(to->t[i].s)->path;
		if (ru->by_daemon)
			record_daemon(ru, img);
		else
			record(ru, &img->manifests[img->nmanifests - 1], prod, 1);
	}
	if (idp_pushcache_commit(ru->o.cache_path, &ru->news, &err) < 0) {
		snprintf(msg, sizeof(msg), "cannot update the push cache: %s", err.msg);
		idp_push_emit(to->o, &ev);
	}
}
