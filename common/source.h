/* source.h: the image-source interface. A source resolves what the user
 * named (an OCI layout, a containerd image, a docker-save stream) into an
 * idp_image: the blobs to push and the manifests to put, children first;
 * and opens a blob for reading. One implementation per file (src_*.c),
 * each exporting a const ops table, like libarchive's format readers. */
#ifndef IDP_SOURCE_H
#define IDP_SOURCE_H

#include <signal.h>
#include <stdint.h>
#include "blobsrc.h"
#include "digest.h"
#include "error.h"

struct idp_image_blob {
	char digest[IDP_DIGEST_MAX];
	int64_t size;
	char *media_type;
	char *display_id;      /* what progress shows (12 hex of a diffID...); NULL = digest */
	char *mount_from;      /* a repository on the destination registry holding it, or NULL */
};

struct idp_image_manifest {
	char digest[IDP_DIGEST_MAX];
	char *media_type;
	unsigned char *data;
	size_t len;
	char *platform;        /* "linux/amd64" when known, for messages */
};

/* Everything to push. Manifests are in push order: children before the
 * index; the LAST one is the top-level manifest put under the tag. */
struct idp_image {
	int nblobs;
	struct idp_image_blob *blobs;
	int nmanifests;
	struct idp_image_manifest *manifests;
	char *notice;          /* something the user should be told (reduced index...), or NULL */
};

void idp_image_release(struct idp_image *img);
/* Append a blob unless the digest is already listed (returns it either way). */
struct idp_image_blob *idp_image_add_blob(struct idp_image *img, const char *digest, int64_t size,
					  const char *media_type, struct idp_error *err);
/* Append a manifest (data copied) unless already listed. */
int idp_image_add_manifest(struct idp_image *img, const char *digest, const char *media_type,
			   const void *data, size_t len, const char *platform, struct idp_error *err);

#define IDP_MAX_PLATFORMS 16

struct idp_source_opts {
	const char *root;          /* containerd root */
	const char *ns;            /* containerd namespace */
	int nplatforms;            /* 0 = the host's platform */
	const char *platforms[IDP_MAX_PLATFORMS];   /* "os/arch[/variant]" */
	int all_platforms;
	int allow_partial;         /* push a reduced index of the platforms present */
	int keep_attestations;
	const char *dest_host;     /* destination registry, for mount candidates */
	const char *dest_repo;     /* destination repository path (the best mount source shares most of it) */
};

struct idp_source;

struct idp_source_ops {
	const char *name;
	/* Resolve `spec` into img. Missing image: IDP_ENOTFOUND. */
	int (*open)(struct idp_source *src, const char *spec, const struct idp_source_opts *o,
		    struct idp_image *img, struct idp_error *err);
	/* A reader for one of img's blobs. Called from worker threads: must be
	 * safe to call concurrently. */
	int (*open_blob)(struct idp_source *src, const struct idp_image_blob *b,
			 struct idp_blob_reader *out, struct idp_error *err);
	void (*close)(struct idp_source *src);
};

struct idp_source {
	const struct idp_source_ops *ops;
	void *priv;
};

extern const struct idp_source_ops idp_source_oci_layout;
extern const struct idp_source_ops idp_source_containerd;

/* Parse "os/arch[/variant]" (arch aliases: x86_64 -> amd64, aarch64 -> arm64);
 * fills out (3 strings of up to 32 bytes). -1 with a message on bad input. */
int idp_platform_parse(const char *s, char os[32], char arch[32], char variant[32], struct idp_error *err);
/* The host platform as "os/arch[/variant]". */
const char *idp_platform_host(void);


/* ---- streaming sources: a `docker save` tar read once, front to back ----
 * (src_docker_save.c). Unlike the random-access sources above, the blobs of
 * a docker-save stream come in tar order (blobs first, manifest.json last),
 * can be read only once, and raw layers are compressed while they stream,
 * so their digests are known only after they were read. The caller (the
 * plugin) drives it:
 *
 *   idp_save_open(fd, &opts, &st, err);            fd: the `docker save` pipe
 *   while ((rc = idp_save_next(st, &blob, &reader, err)) == 1) {
 *           ... HEAD blob.digest when known (skip: idp_save_blob_done(st, NULL, -1))
 *           ... else idp_blob_upload(s, h, &reader, blob.digest, blob.size, ...)
 *           idp_save_blob_done(st, res.digest, res.size, err);
 *           idp_blob_reader_close(&reader);
 *   }
 *   idp_save_finish(st, &img, err);    img.blobs[0] = config, then layers
 *   idp_save_config_reader(st, &reader, err)  -> push the config byte for byte
 *   idp_push_manifests(s, po, &img, tag, ...)
 *   idp_save_close(st);
 *
 * Shapes understood (see shared notes docker-save.md): legacy
 * (<v1id>/layer.tar, symlinked duplicates, skopeo's <diffid>.tar), OCI
 * inside (blobs/sha256/, unreferenced v1 JSON blobs ignored), and the
 * containerd store (gzip/zstd layers pushed as they are, by their digest).
 * Checks: the stream must end cleanly (a truncated tar, a damaged header or
 * a non-zero tail after the end-of-archive marker fail), every layer in
 * manifest.json must have been seen, each raw layer's sha256 must equal the
 * config's rootfs.diff_ids entry and the diffIDs `docker image inspect`
 * reported, the config's digest must be the image ID when that ID is a
 * config digest. Memory is bounded: one compression buffer, JSON files kept
 * up to IDP_SAVE_JSON_CAP in total; layer bytes are never stored. */

#define IDP_SAVE_JSON_CAP (64u << 20)
#define IDP_SAVE_MAX_LAYERS 1024

struct idp_save_opts {
	int format;                 /* enum idp_manifest_format (manifest.h) */
	int zstd;                   /* compress raw layers with zstd (needs HAVE_ZSTD) */
	int level;                  /* compression level, 0 = default */
	const char *image_id;       /* `docker image inspect` Id, may be NULL */
	int ndiffids;               /* inspect's RootFS.Layers, in order */
	const char *const *diffids;
	volatile sig_atomic_t *cancel;
	int64_t *bytes_read;        /* counts tar bytes read, may be NULL */
	void (*debug)(void *ctx, const char *line);
	void *debug_ctx;
};

struct idp_save_blob {
	const char *display_id;     /* 12+ hex for progress: diffID, or v1 id (legacy), or digest */
	const char *digest;         /* known digest (already compressed layers), NULL = compute */
	int64_t size;               /* known size, -1 = unknown (raw layers) */
	int64_t raw_size;           /* bytes in the tar entry */
	int compressed;             /* 1: pushed as stored; 0: compressed on the fly */
	const int64_t *consumed;    /* live count of entry bytes read so far (progress) */
};

struct idp_save_stream;

int idp_save_open(int fd, const struct idp_save_opts *o, struct idp_save_stream **out,
		  struct idp_error *err);
/* 1: the next layer in stream order, with a reader for the bytes to upload
 * (valid until the next call; close it after use); 0: end of the stream
 * (manifest read); -1: error (IDP_EGENERAL for a broken stream,
 * IDP_ECANCELED when cancelled). */
int idp_save_next(struct idp_save_stream *st, struct idp_save_blob *b, struct idp_blob_reader *r,
		  struct idp_error *err);
/* The current layer went up as digest/size (NULL/-1: it already existed,
 * its known digest is kept). For raw layers the diffID computed while
 * reading is checked here. */
int idp_save_blob_done(struct idp_save_stream *st, const char *digest, int64_t size, struct idp_error *err);
/* After idp_save_next returned 0: check everything and describe the image
 * (blobs[0] the config, then the layers in order; one manifest). */
int idp_save_finish(struct idp_save_stream *st, struct idp_image *img, struct idp_error *err);
/* A reader over the config bytes (valid while st is open). */
int idp_save_config_reader(struct idp_save_stream *st, struct idp_blob_reader *r, struct idp_error *err);
void idp_save_close(struct idp_save_stream *st);

#endif
