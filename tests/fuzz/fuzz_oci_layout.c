/* fuzz_oci_layout.c: libFuzzer target for common/sources/src_oci_layout.c
 * (and imgwalk.c behind it) on real files. The input is shaped as
 * fuzz_image.h says; part 0 is written as index.json of a layout
 * directory in the private temp dir, every other part as a blob under
 * blobs/sha256/ (by its digest). The layout is opened as DIR (or DIR:REF
 * with "ref=REF"), every blob of the resolved image that exists is read
 * through the source's blob reader, and the source is closed. */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include "util/blobreader.h"
#include "sources/source.h"
#include "fuzz_image.h"

static void write_layout(const struct fz_image *im)
{
	char path[4096];
	int i;

	fz_rmtree(fz_path(0, "layout"));
	fz_mkdirs(fz_path(0, "layout/blobs/sha256"));
	fz_write(fz_path(0, "layout/oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	fz_write(fz_path(0, "layout/index.json"), im->part[0], im->len[0]);
	for (i = 1; i < im->n; i++) {
		snprintf(path, sizeof(path), "%s/%s", fz_path(0, "layout/blobs/sha256"),
			 idp_digest_hex(im->digest[i]));
		fz_write(path, im->part[i], im->len[i]);
	}
}

static void read_blobs(struct idp_source *src, const struct idp_image *img)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_blob_reader r;
	char buf[4096];
	ssize_t n;
	int i, rc;

	for (i = 0; i < img->nblobs; i++) {
		idp_error_clear(&err);
		memset(&r, 0, sizeof(r));
		rc = src->ops->open_blob(src, &img->blobs[i], &r, &err);
		fz_check_err(rc, &err);
		if (rc < 0)
			continue;
		while ((n = r.ops->read(r.ctx, buf, sizeof(buf), &err)) > 0)
			;
		fz_check_err((int)n, &err);
		idp_blob_reader_close(&r);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_source src = { &idp_source_oci_layout, NULL };
	struct idp_image img;
	struct fz_image im;
	char spec[4200];
	int rc;

	fz_image_parse(data, size, &im);
	write_layout(&im);
	snprintf(spec, sizeof(spec), "%s%s%s", fz_path(0, "layout"), im.ref ? ":" : "",
		 im.ref ? im.ref : "");
	memset(&img, 0, sizeof(img));
	rc = src.ops->open(&src, spec, &im.o, &img, &err);
	fz_check_err(rc, &err);
	if (rc == 0) {
		fz_image_check(&img);
		read_blobs(&src, &img);
	}
	src.ops->close(&src);
	idp_image_release(&img);
	fz_image_free(&im);
	return 0;
}
