/* imgwalk.h: resolve a top-level descriptor (an image manifest or an index)
 * into an idp_image, for every source that stores blobs by digest (OCI
 * layout directories, containerd's content store). The source supplies two
 * callbacks: read a small blob (manifest/index JSON) and test whether a blob
 * is present. Platform selection, attestation skipping and reduced indexes
 * (when some platforms are not local) happen here, once for all sources. */
#ifndef IDP_IMGWALK_H
#define IDP_IMGWALK_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"
#include "util/error.h"
#include "source.h"

struct idp_blobstore {
	/* Read the whole blob `digest` into out (initialised by the caller
	 * with its cap). Absent blob: IDP_ENOTFOUND. Returns 0 or -1. */
	int (*read)(void *ctx, const char *digest, struct idp_buf *out, struct idp_error *err);
	/* 1 present, 0 absent, -1 error. */
	int (*has)(void *ctx, const char *digest, struct idp_error *err);
	void *ctx;
};

/* The descriptor to resolve: media_type may be NULL (then taken from the
 * JSON itself), size -1 when unknown. `what` names it in messages
 * ("image 'x:y'"). */
struct idp_walk_top {
	const char *digest;
	const char *media_type;
	int64_t size;
	const char *what;
};

/* Resolve top into img (blobs + manifests, children first, top last).
 * Selection (o may be NULL = defaults):
 *  - an image manifest: its config and layers, all present, else
 *    IDP_ENOTFOUND naming the missing blob;
 *  - an index, no --platform and not all_platforms: the host platform's
 *    manifest becomes the top (one --platform: that one);
 *  - several platforms or all_platforms: every asked child must be
 *    complete locally, else IDP_ENOTFOUND listing the missing ones; with
 *    allow_partial a reduced index of the complete ones is pushed instead.
 *    Attestation manifests are skipped unless keep_attestations. Whenever
 *    the pushed index differs from the stored one, its new digest is told
 *    in img->notice.
 * A bad platform string is IDP_EGENERAL. Returns 0 or -1. */
int idp_imgwalk(const struct idp_blobstore *bs, const struct idp_walk_top *top,
		const struct idp_source_opts *o, struct idp_image *img, struct idp_error *err);

#endif
