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
 *    "chunks":[{"registry":"host:port","size":N}, ...],   (learnt from 413s)
 *    "daemons":[{"socket":"/path","pid":N,"started":N,"root":"..",
 *                "driver":"..","snapshotter":B,"containerdAddress":"..",
 *                "containerdNamespace":".."}, ...]}   (GET /info, per daemon run)
 * The image config is a "blobs" entry keyed by the image ID (its "diffid").
 * "producer" says where the compressed form came from: the codec's name
 * (idp_codec_name: e.g. "gzip/isal-2.30/2/4m", compressed by us) or
 * "stored" (the daemon's own compressed layer): a push reuses only blobs of the producer
 * a fresh push of the same image would use, so its manifest is the same.
 * Only a cache nobody else can change is used: its directory and every
 * one above it opened without following a link, owned by root or us and
 * not writable by others, the cache's directory and file ours and not
 * group or other-writable; else it is ignored (a note for -v) and never
 * written. Reads are tolerant: a missing file is empty, a damaged one is
 * ignored with a warning, bad entries (a repository or registry name that
 * is not one, a bad digest) are dropped. Writes merge into what is on
 * disk now under an exclusive lock (push-cache.lock, flock), keep the
 * newest IDP_PUSHCACHE_MAX entries, and replace the file atomically (temp file
 * + rename): concurrent runs never see a torn file and lose no entry.
 *
 * What the cache says for one push of a docker image (idp_reuse_*,
 * reuse.c): what to probe before the image is read, the manifest built
 * without reading it when everything is there, the table that tells a
 * stream push which layers to skip, and what to record after success. */
#ifndef IDP_DOCKER_PUSHCACHE_H
#define IDP_DOCKER_PUSHCACHE_H

#include <stddef.h>
#include <stdint.h>
#include "util/digest.h"
#include "util/error.h"
#include "util/ref.h"
#include "sources/compress.h"
#include "sources/source.h"
#include "push/push.h"
#include "docker.h"

#define IDP_PUSHCACHE_MAX 4096
/* The producer of what the docker daemon pushed itself (through the
 * plugin's loopback relay): its layers by diffID, and the top manifest
 * it pushed keyed by the image ID (its media type a manifest's). */
#define IDP_PRODUCER_DAEMON "daemon"
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

/* What GET /info said of one run of a daemon: the process serving its
 * socket (pid, and when it started: a restart is another run). */
#define IDP_PUSHCACHE_DAEMONS 16
struct idp_pushcache_daemon {
	char *socket;
	int64_t pid;
	uint64_t started;
	struct idp_docker_daemon info;
};

struct idp_pushcache {
	int nblobs;
	struct idp_pushcache_blob *blobs;
	int nv1;
	struct idp_pushcache_v1 *v1;
	int nchunks;
	struct idp_pushcache_chunk *chunks;
	int ndaemons;              /* oldest first, at most IDP_PUSHCACHE_DAEMONS */
	struct idp_pushcache_daemon daemons[IDP_PUSHCACHE_DAEMONS];
};

/* The cache file's path (newly allocated), or NULL when there is no
 * XDG_CACHE_HOME nor HOME. */
char *idp_pushcache_path(void);

/* Load path into c (initialised here). Never fails: a problem leaves c
 * partly or wholly empty and says why in warning[0..n) ("" when none)
 * for the front end to show. Returns 1 when the cache was ignored because
 * someone else could change it (see above): warning is then a note for
 * -v, and nothing may be written there (give idp_reuse no cache_path). */
int idp_pushcache_load(struct idp_pushcache *c, const char *path, char *warning, size_t n);
void idp_pushcache_release(struct idp_pushcache *c);

/* Match flags for idp_pushcache_find. */
#define IDP_PUSHCACHE_SAME_REPO 1     /* only entries of `repository` */
#define IDP_PUSHCACHE_OTHER_REPO 2    /* only entries of other repositories */

/* What idp_pushcache_find looks for. */
struct idp_pushcache_query {
	const char *registry;
	const char *repository;
	const char *diffid;        /* a layer's diffID, or the image ID for the config */
	const char *producer;      /* NULL: any */
	int flags;                 /* IDP_PUSHCACHE_SAME_REPO / _OTHER_REPO; 0: any repository */
};

/* The newest entry for q->diffid on q->registry, matching q's flags and
 * producer. NULL when none. */
const struct idp_pushcache_blob *idp_pushcache_find(const struct idp_pushcache *c,
						    const struct idp_pushcache_query *q);
/* The diffID a docker-save v1 directory id was seen with, or NULL. */
const char *idp_pushcache_v1_diffid(const struct idp_pushcache *c, const char *v1id);

/* The chunk size learnt for registry, or 0. */
int64_t idp_pushcache_chunk(const struct idp_pushcache *c, const char *registry);
int idp_pushcache_set_chunk(struct idp_pushcache *c, const char *registry, int64_t size,
			    struct idp_error *err);

/* What GET /info said of the daemon run d->socket, d->pid, d->started
 * names (d->info unused), or NULL. */
const struct idp_docker_daemon *idp_pushcache_daemon(const struct idp_pushcache *c,
						     const struct idp_pushcache_daemon *d);
/* Record d (copied), replacing what the socket's daemon said before. */
int idp_pushcache_set_daemon(struct idp_pushcache *c, const struct idp_pushcache_daemon *d,
			     struct idp_error *err);

/* Add (or refresh, moving it to the newest place) an entry. */
int idp_pushcache_add(struct idp_pushcache *c, const struct idp_pushcache_blob *b,
		      struct idp_error *err);
int idp_pushcache_add_v1(struct idp_pushcache *c, const char *v1id, const char *diffid,
			 struct idp_error *err);

/* Blobs pushed as their source stores them (containerd's content store,
 * docker's containerd image store, an OCI layout: no compression of
 * ours) are entries keyed by their own digest, producer "stored": where
 * they went, so that a push of them to another repository of the same
 * registry mounts them from there, whichever front end pushed them. */
#define IDP_PUSHCACHE_STORED "stored"
/* Each blob of img without a mount source gets the newest other
 * repository of registry the cache has it in (a mount that no longer
 * works is an upload: the registry says so). */
int idp_pushcache_mount_stored(const struct idp_pushcache *c, const char *registry,
			       const char *repository, struct idp_image *img,
			       struct idp_error *err);

/* The same for a stream that hands blobs over as stored (docker save of
 * the containerd image store): the table (push.h) naming, for each blob
 * the cache has in another repository of registry, where to mount it
 * from. *out is allocated (free it; its strings are c's). Its length, or
 * -1 out of memory. */
int idp_pushcache_stored_known(const struct idp_pushcache *c, const char *registry,
			       const char *repository, struct idp_stream_known **out,
			       struct idp_error *err);
/* Whether blobs were pushed as stored into registry/repository. */
int idp_pushcache_stored_in(const struct idp_pushcache *c, const char *registry,
			    const char *repository);
/* After a push of img, its blobs as stored, into every target of to:
 * record them for each into news (with what else the push learnt) and
 * merge that into the file at path (NULL: nothing); a failure is a
 * warning event through to->o. */
void idp_pushcache_commit_stored(const char *path, struct idp_pushcache *news,
				 const struct idp_push_targets *to, const struct idp_image *img);

/* Merge `news` into the file at path as it is now and write it back
 * (mkdir 0700, temp file 0600, rename). -1 with err on failure. */
int idp_pushcache_commit(const char *path, const struct idp_pushcache *news, struct idp_error *err);

/* ---- what the cache says for one push of a docker image (reuse.c) ---- */

/* What is known to be in the destination repository before the image is
 * read. */
enum idp_reuse_have { IDP_REUSE_NO, IDP_REUSE_EXISTS, IDP_REUSE_MOUNTED };

struct idp_reuse_blob {
	int have;                  /* enum idp_reuse_have */
	char digest[IDP_DIGEST_MAX];
	int64_t size;
	int zstd;                  /* a zstd layer (OCI media type) */
};

/* The push, as the cache needs it (everything must outlive the reuse). */
struct idp_reuse_opts {
	const struct idp_docker_image *info;  /* the image, as docker image inspect saw it */
	const char *platform;      /* --platform given (the image ID may name an index), or NULL */
	int format;                /* enum idp_manifest_format */
	const struct idp_codec *codec;        /* how layers are compressed */
	const char *cache_path;    /* the cache file; NULL: none, nothing is recorded */
	const struct idp_pushcache *cache;    /* as loaded before the push */
};

struct idp_reuse {
	struct idp_reuse_opts o;
	const char *registry;      /* destination host[:port] */
	const char *repository;    /* destination repository path */
	struct idp_pushcache news; /* learnt by this push, committed after success */
	struct idp_reuse_blob *layers;   /* one per inspect diffID */
	struct idp_reuse_blob config;
	char want[IDP_CODEC_NAME_MAX];   /* the producer of this image's blobs (see above) */
	int saved_stored;          /* the stream gave already-compressed layers */
	int by_daemon;             /* the docker daemon pushed it (idp_reuse_note_daemon) */
	struct idp_stream_known *known;  /* the table for a stream push, or NULL */
	struct idp_push_target *target;  /* where a cached config is checked */
	char config_seen[IDP_DIGEST_MAX]; /* the last cached config checked, */
	int config_seen_ok;              /* and whether it is the image's */
};

/* For a push to dest (its strings must outlive ru). -1 only out of memory. */
int idp_reuse_init(struct idp_reuse *ru, const struct idp_reuse_opts *o, const struct idp_ref *dest,
		   struct idp_error *err);
void idp_reuse_release(struct idp_reuse *ru);
/* Probe what the cache knows in t (the engine HEADs or mounts it,
 * reporting "Layer already exists" / "Mounted from", counting into
 * t->res.stats). 1 when every layer and the config are present, 0 not,
 * -1 error. */
int idp_reuse_check(struct idp_reuse *ru, struct idp_push_target *t,
		    const struct idp_push_opts *po, struct idp_error *err);
/* The image (config + layers + manifest) from the states, without reading it. */
int idp_reuse_image(const struct idp_reuse *ru, struct idp_image *img, struct idp_error *err);
/* The image from the cache alone, when it knows the config and every
 * layer as pushed to this very repository t (states set to "exists"): 1,
 * else 0 (states as before), -1 on error. Nothing is asked, except the
 * config when its digest is not the image ID (its diffIDs are checked). */
int idp_reuse_cached_image(struct idp_reuse *ru, struct idp_push_target *t, struct idp_image *img,
			   struct idp_error *err);
/* Every state back to "not known". */
void idp_reuse_forget(struct idp_reuse *ru);
/* What the cache knows of a stream's blobs, as the table a stream push
 * takes (idp_stream_push_open): a layer by its digest or diffID, a legacy
 * v1 directory id by the diffID the cache saw it with. The table belongs
 * to ru. Returns its length, or -1 (out of memory). */
int idp_reuse_stream_known(struct idp_reuse *ru, const struct idp_stream_known **out,
			   struct idp_error *err);
/* What a stream's phase 1 taught: the diffIDs of the legacy v1 directory
 * ids of the layers that went up, whether the stream gave compressed
 * layers. */
void idp_reuse_note_stream(struct idp_reuse *ru, const struct idp_stream_taken *taken, int n);
/* The docker daemon pushed the image itself (the loopback relay): what
 * it pushed is recorded as the daemon's (IDP_PRODUCER_DAEMON), and a push
 * of the same image finds it unchanged by its top manifest. */
void idp_reuse_note_daemon(struct idp_reuse *ru);
/* After a successful push (saved: the image was read): record the top
 * manifest's blobs for each target and write the cache (a failure is a
 * warning event through to->o, so that it reaches the progress output). */
void idp_reuse_commit(struct idp_reuse *ru, const struct idp_push_targets *to,
		      const struct idp_image *img, int saved);

#endif
