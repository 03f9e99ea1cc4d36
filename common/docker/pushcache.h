/* docker/pushcache.h: the push cache of docker-idppush ("remember what was
 * pushed", like dockerd's v2metadata-by-diffid): which compressed blob a
 * layer (by diffID) became in which repository of which registry, so a
 * re-push HEADs or mounts it instead of compressing it again, and skips
 * `docker save` when everything is there. See docs/cache.md.
 *
 * File: $XDG_CACHE_HOME/idppush/push-cache.json (else ~/.cache/idppush/),
 * directory 0700, file 0600, JSON (json-c):
 *   {"version":1,
 *    "blobs":[{"registry":"host:port","repository":"owner/name",
 *              "diffid":"sha256:..","digest":"sha256:..","size":N,
 *              "mediaType":"..","producer":".."}, ...],   oldest first
 *    "v1ids":[{"v1id":"<64 hex>","diffid":"sha256:.."}, ...],
 *    "chunks":[{"registry":"host:port","size":N}, ...]}   (learnt from 413s)
 * The image config is a "blobs" entry keyed by the image ID (its "diffid").
 * "producer" says where the compressed form came from: the codec's name
 * (idp_codec_name: e.g. "gzip/isal-2.30/2/4m", compressed by us) or
 * "stored" (the daemon's own compressed layer): a push reuses only blobs of the producer
 * a fresh push of the same image would use, so its manifest is the same.
 * Reads are tolerant: a missing file is empty, a damaged one is ignored
 * with a warning, bad entries are dropped. Writes merge into what is on
 * disk now under an exclusive lock (push-cache.lock, flock), keep the
 * newest IDP_PUSHCACHE_MAX entries, and replace the file atomically (temp file
 * + rename): concurrent runs never see a torn file and lose no entry. */
#ifndef IDP_DOCKER_PUSHCACHE_H
#define IDP_DOCKER_PUSHCACHE_H

#include <stddef.h>
#include <stdint.h>
#include "util/error.h"

#define IDP_PUSHCACHE_MAX 4096
#define IDP_PUSHCACHE_FILE_CAP (8u << 20)

struct idp_pushcache_blob {
	char *registry, *repository, *diffid, *digest, *media_type, *producer;
	int64_t size;
};

struct idp_pushcache_v1 {
	char *v1id, *diffid;
};

/* The largest request a registry (or the proxy in front of it) took, once
 * a push had to send smaller ones than it was asked to (413s). */
struct idp_pushcache_chunk {
	char *registry;
	int64_t size;
};

struct idp_pushcache {
	int nblobs;
	struct idp_pushcache_blob *blobs;
	int nv1;
	struct idp_pushcache_v1 *v1;
	int nchunks;
	struct idp_pushcache_chunk *chunks;
};

/* The cache file's path (newly allocated), or NULL when there is no
 * XDG_CACHE_HOME nor HOME. */
char *idp_pushcache_path(void);

/* Load path into c (initialised here). Never fails: a problem leaves c
 * partly or wholly empty and says why in warning[0..n) ("" when none)
 * for the front end to show. */
void idp_pushcache_load(struct idp_pushcache *c, const char *path, char *warning, size_t n);
void idp_pushcache_release(struct idp_pushcache *c);

/* Match flags for idp_pushcache_find. */
#define IDP_PUSHCACHE_SAME_REPO 1     /* only entries of `repository` */
#define IDP_PUSHCACHE_OTHER_REPO 2    /* only entries of other repositories */

/* The newest entry for diffid on registry, matching flags (0: any
 * repository) and producer (NULL: any). NULL when none. */
const struct idp_pushcache_blob *idp_pushcache_find(const struct idp_pushcache *c,
						    const char *registry, const char *repository,
						    const char *diffid, const char *producer,
						    int flags);
/* The diffID a docker-save v1 directory id was seen with, or NULL. */
const char *idp_pushcache_v1_diffid(const struct idp_pushcache *c, const char *v1id);

/* The chunk size learnt for registry, or 0. */
int64_t idp_pushcache_chunk(const struct idp_pushcache *c, const char *registry);
int idp_pushcache_set_chunk(struct idp_pushcache *c, const char *registry, int64_t size,
			    struct idp_error *err);

/* Add (or refresh, moving it to the newest place) an entry. */
int idp_pushcache_add(struct idp_pushcache *c, const struct idp_pushcache_blob *b,
		      struct idp_error *err);
int idp_pushcache_add_v1(struct idp_pushcache *c, const char *v1id, const char *diffid,
			 struct idp_error *err);

/* Merge `news` into the file at path as it is now and write it back
 * (mkdir 0700, temp file 0600, rename). -1 with err on failure. */
int idp_pushcache_commit(const char *path, const struct idp_pushcache *news, struct idp_error *err);

#endif
