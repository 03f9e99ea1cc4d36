/* manifest.h: building image manifests and indexes (Docker schema2 or OCI)
 * with json-c, and the media types that go with each format. */
#ifndef IDP_MANIFEST_H
#define IDP_MANIFEST_H

#include <stdint.h>
#include "buf.h"
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

#endif
