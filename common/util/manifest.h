/* manifest.h: building image manifests and indexes (Docker schema2 or OCI)
 * with json-c, and the media types that go with each format. */
#ifndef IDP_MANIFEST_H
#define IDP_MANIFEST_H

#include <stdint.h>
#include "buf.h"
#include "digest.h"
#include "error.h"

enum idp_manifest_format { IDP_FMT_DOCKER, IDP_FMT_OCI };

enum idp_media_kind {
	IDP_MT_MANIFEST,
	IDP_MT_INDEX,
	IDP_MT_CONFIG,
	IDP_MT_LAYER_GZIP,
	IDP_MT_LAYER_ZSTD,
	IDP_MT_LAYER_TAR
};

struct idp_descriptor {
	const char *media_type;
	const char *digest;
	int64_t size;
	const char *platform;   /* index entries: "os/arch[/variant]", else NULL */
};

const char *idp_media_type(enum idp_manifest_format fmt, enum idp_media_kind kind);

/* 1 for manifest-list / OCI index media types, 0 otherwise. */
int idp_media_type_is_index(const char *mt);
/* 1 for Docker schema2 / OCI image manifest media types. */
int idp_media_type_is_manifest(const char *mt);

/* Serialise a manifest for config + layers into out (compact JSON). */
int idp_manifest_build(enum idp_manifest_format fmt, const struct idp_descriptor *config,
		       const struct idp_descriptor *layers, int nlayers, struct idp_buf *out,
		       struct idp_error *err);

/* Serialise an index of image manifests (each with its platform). */
int idp_index_build(enum idp_manifest_format fmt, const struct idp_descriptor *manifests, int n,
		    struct idp_buf *out, struct idp_error *err);

/* What the registry is asked for when any manifest or index will do. */
#define IDP_MANIFEST_ACCEPT_ALL \
	"application/vnd.oci.image.index.v1+json, " \
	"application/vnd.docker.distribution.manifest.list.v2+json, " \
	"application/vnd.oci.image.manifest.v1+json, " \
	"application/vnd.docker.distribution.manifest.v2+json"

/* The manifests a manifest or index names: an index's "manifests" and
 * any manifest's "subject" (a registry may check that those are there
 * before it takes it). */
struct idp_manifest_refs {
	int n;
	char (*digest)[IDP_DIGEST_MAX];
};

/* Parse data (bounded): 0 with out filled (release it), -1 when it is not
 * a JSON object (or out of memory). */
int idp_manifest_refs(const void *data, size_t len, struct idp_manifest_refs *out);
int idp_manifest_refs_has(const struct idp_manifest_refs *r, const char *digest);
void idp_manifest_refs_release(struct idp_manifest_refs *r);

#endif
