/* source.h: the image-source interfaces and the image model they produce.
 * An idp_image is what a push needs: the blobs and the manifests to put,
 * children first. Two kinds of source, one implementation per file, each
 * a const ops table like libarchive's format readers:
 *  - random access (struct idp_source_ops): resolves the image up front
 *    and opens any blob at any time (src_oci_layout.c, src_containerd.c);
 *  - streaming (struct idp_stream_ops): hands blobs over once each, in
 *    the order it reads them, and knows the image only at the end
 *    (src_docker_save.c and src_docker_store.c, declared in their
 *    headers). The order of its calls is checked by the engine, once for
 *    every stream.
 * The engine's push.h drives both. A one-platform image built here (the
 * streams, the plugin's push cache) is described by idp_image_add_single. */
#ifndef IDP_SOURCE_H
#define IDP_SOURCE_H

#include <signal.h>
#include <stdint.h>
#include "util/blobreader.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/platform.h"

struct idp_image_blob {
	char digest[IDP_DIGEST_MAX];
	int64_t size;
	char *media_type;
	char *display_id;      /* what progress shows (12 hex of a diffID...); NULL = digest */
	char *mount_from;      /* a repository on the destination registry holding it, or NULL */
	int quiet;             /* no progress line for it (a config, as docker push shows none) */
};

struct idp_image_manifest {
	char digest[IDP_DIGEST_MAX];
	char *media_type;
	unsigned char *data;
	size_t len;
	char *platform;        /* "linux/amd64" when known, for messages */
	int present;           /* every target has it by its digest already (put ahead):
				* not put again, but for the top one under a tag */
	int tagged;            /* the one target has it under its tag already (put ahead) */
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
/* A manifest to add to an image: its bytes and what they are. */
struct idp_manifest_in {
	const char *digest;
	const char *media_type;
	const void *data;
	size_t len;
	const char *platform;  /* "linux/amd64" when known, or NULL */
};

/* Append a manifest (everything copied) unless already listed. */
int idp_image_add_manifest(struct idp_image *img, const struct idp_manifest_in *m,
			   struct idp_error *err);

/* A layer of an image built here (streams, the plugin's push cache). */
struct idp_layer {
	const char *digest;
	int64_t size;
	int zstd;              /* zstd-compressed, else gzip */
};

/* The parts of a one-platform image built here: the config, and the
 * layers, in order, each read from the builder's own table by layer(). */
struct idp_single_image {
	int format;            /* enum idp_manifest_format */
	const char *config_digest;
	int64_t config_size;
	const char *platform;  /* "os/arch[/variant]" for messages, or NULL */
	int nlayers;
	void (*layer)(const void *ctx, int i, struct idp_layer *out);
	const void *ctx;
};

/* Describe a one-platform image from its parts: the config as blobs[0],
 * then the layers in order, and the manifest, in si->format except that
 * zstd layers force OCI, which alone has a zstd media type. The same
 * parts always give the same bytes. Every source and the push cache
 * describe their one-platform images through it. */
int idp_image_add_single(struct idp_image *img, const struct idp_single_image *si,
			 struct idp_error *err);

#define IDP_MAX_PLATFORMS 16

struct idp_source_opts {
	const char *root;          /* containerd root */
	const char *ns;            /* containerd namespace */
	int nplatforms;            /* 0 = the host's platform */
	const char *platforms[IDP_MAX_PLATFORMS];   /* "os/arch[/variant]" */
	int all_platforms;
	int allow_partial;         /* push a reduced index of the platforms present */
	int keep_attestations;
	/* as the store keeps it (docker's containerd image store, which docker
	 * push pushes as is): an index with every manifest it lists,
	 * attestations included; when one is not complete here, the host's
	 * (or the one --platform's) manifest instead, said in img->notice */
	int stored;
	const char *dest_host;     /* destination registry, for mount candidates */
	/* destination repository path (the best mount source shares most of it) */
	const char *dest_repo;
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

/* ---- streaming sources ----
 * A stream is read once, front to back. Its blobs come before its
 * manifest; a blob it compresses on the fly has a digest only once it was
 * read to its end. The engine (push.h's idp_stream_push_*) drives it, and
 * checks the order of the calls once for every stream, so a stream need
 * not check it again:
 *
 *   while ((rc = ops->next(priv, &blob, &reader, err)) == 1)
 *           upload from reader then ops->done(priv, digest, size, diffid), or
 *           ops->skip(priv, ...) when the registry has it (not read)
 *   ops->finish(priv, &img, err)      every blob and the manifests
 *   ops->open_blob(priv, b, &r, err)  blobs of img that next never gave (a config)
 *   ops->close(priv)                  at any time
 *
 * A stream whose blobs can be read in any order, several at once (docker's
 * layer store puts each layer's tar together from files of its own), also
 * has plan and take (else both are NULL). The engine then reads it so:
 *
 *   n = ops->plan(priv, &ids)          every blob, its display id, up front
 *   from several threads, each blob i < n once:
 *           ops->take(priv, i, at_once, &blob, &reader, err), then
 *           ops->done_at(priv, i, ...) or ops->skip_at(priv, i, ...)
 *   ops->finish, open_blob, close as above (next is never called)
 */

struct idp_stream_blob {
	const char *display_id;  /* 12+ hex for progress (a diffID, an id of the stream's own) */
	const char *digest;      /* known digest (stored blobs), NULL = computed while read */
	int64_t size;            /* known size, -1 = unknown */
	int64_t raw_size;        /* bytes the source reads for it */
	int compressed;          /* 1: pushed as stored; 0: compressed on the fly */
	/* live count of those bytes whose output the reader has returned (a
	 * compressed block counts as its bytes are read out): progress */
	const int64_t *consumed;
};

struct idp_stream_ops {
	const char *name;
	/* 1: the next blob, with a reader for the bytes to upload (valid
	 * until done/skip); 0: end of the stream; -1: error (IDP_EGENERAL
	 * for a broken stream, IDP_ECANCELED when cancelled). */
	int (*next)(void *priv, struct idp_stream_blob *b, struct idp_blob_reader *r,
		    struct idp_error *err);
	/* The current blob went up as digest/size (read to its end); diffid
	 * gets the uncompressed digest the stream computed for it ("" when it
	 * computed none: a blob pushed as stored). */
	int (*done)(void *priv, const char *digest, int64_t size, char diffid[IDP_DIGEST_MAX],
		    struct idp_error *err);
	/* The current blob, unread, is in the registry as digest/size: read
	 * it through without compressing; when `expect` is given, its
	 * uncompressed digest must be that, else the push must fail. */
	int (*skip)(void *priv, const char *expect, const char *digest, int64_t size,
		    struct idp_error *err);
	/* After next returned 0: check everything and describe the image. */
	int (*finish)(void *priv, struct idp_image *img, struct idp_error *err);
	/* A reader for a blob of the finished image that next never gave. */
	int (*open_blob)(void *priv, const struct idp_image_blob *b, struct idp_blob_reader *r,
			 struct idp_error *err);
	void (*close)(void *priv);
	/* Optional (NULL: in order only, through next). How many blobs next()
	 * would hand over, their display ids in *ids (in that order; valid
	 * while the stream is open). */
	int (*plan)(void *priv, const char *const **ids);
	/* Blob i of the plan, with a reader of its own (valid until done_at
	 * or skip_at for it), as next gives one; at_once: how many blobs are
	 * read at the same time (a share of the CPUs each). Thread-safe for
	 * different i, as are done_at and skip_at (done and skip for blob i). */
	int (*take)(void *priv, int i, int at_once, struct idp_stream_blob *b,
		    struct idp_blob_reader *r, struct idp_error *err);
	int (*done_at)(void *priv, int i, const char *digest, int64_t size,
		       char diffid[IDP_DIGEST_MAX], struct idp_error *err);
	int (*skip_at)(void *priv, int i, const char *expect, const char *digest, int64_t size,
		       struct idp_error *err);
	/* Optional (NULL: --jobs decides alone): the most blobs worth
	 * reading at once (each holds buffers of its own, e.g. its
	 * compression's blocks). */
	int (*max_at_once)(void *priv);
};

struct idp_stream {
	const struct idp_stream_ops *ops;
	void *priv;
};

#endif
