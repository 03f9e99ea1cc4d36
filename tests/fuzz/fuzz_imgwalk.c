/* fuzz_imgwalk.c: libFuzzer target for common/sources/imgwalk.c (manifest
 * and index JSON, platform selection, reduced indexes), over an in-memory
 * blob store. The input is shaped as fuzz_image.h says; part 0 is the top
 * descriptor's blob, the others are further blobs (manifests, indexes,
 * configs), found by their digest. Blobs that are not parts are present
 * unless their hex starts with 'f', so both present and missing configs
 * and layers are seen. A resolved image must hold its manifests' exact
 * bytes. */
#include "config.h"
#include <string.h>
#include "util/buf.h"
#include "sources/imgwalk.h"
#include "fuzz_image.h"

static int mem_read(void *ctx, const char *digest, struct idp_buf *out, struct idp_error *err)
{
	const struct fz_image *im = ctx;
	int i = fz_image_find(im, digest);

	if (i < 0)
		return idp_error_set(err, IDP_ENOTFOUND, "blob %s not found", digest);
	if (idp_buf_add(out, im->part[i], im->len[i]) < 0)
		return idp_error_set(err, IDP_EGENERAL, "blob %s too large", digest);
	return 0;
}

static int mem_has(void *ctx, const char *digest, struct idp_error *err)
{
	const struct fz_image *im = ctx;

	(void)err;
	if (fz_image_find(im, digest) >= 0)
		return 1;
	return strncmp(digest, "sha256:f", 8) != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_blobstore bs = { mem_read, mem_has, NULL };
	struct idp_walk_top top;
	struct idp_image img;
	struct fz_image im;
	int rc;

	fz_image_parse(data, size, &im);
	bs.ctx = &im;
	top.digest = im.digest[0];
	top.media_type = im.top_mt;
	top.size = im.top_size ? (int64_t)im.len[0] : -1;
	top.what = "image 'fuzz'";
	memset(&img, 0, sizeof(img));
	rc = idp_imgwalk(&bs, &top, &im.o, &img, &err);
	fz_check_err(rc, &err);
	if (rc == 0)
		fz_image_check(&img);
	idp_image_release(&img);
	fz_image_free(&im);
	return 0;
}
