/* source.h: the image-source interface. A source resolves what the user
 * named (an OCI layout, a containerd image, a docker-save stream) into an
 * idp_image: the blobs to push and the manifests to put, children first;
 * and opens a blob for reading. One implementation per file (src_*.c),
 * each exporting a const ops table, like libarchive's format readers. */
#ifndef IDP_SOURCE_H
#define IDP_SOURCE_H

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

#endif
