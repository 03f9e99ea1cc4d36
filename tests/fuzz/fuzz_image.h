/* fuzz_image.h: the input shape of the fuzz targets that read images
 * (fuzz_imgwalk.c, fuzz_oci_layout.c), built by fuzz_image.c:
 *
 *   OPTIONS LINE\n PART0 [FZ_SEP PART1 [FZ_SEP PART2 ...]]
 *
 * OPTIONS are words: "all" (all_platforms), "partial" (allow_partial),
 * "attest" (keep_attestations), "p=OS/ARCH[/VARIANT]" (repeatable),
 * "mt=MEDIATYPE" (the top descriptor's media type), "size" (give the top
 * descriptor its real size), "ref=NAME" (an OCI layout's DIR:REF).
 * Descriptors cannot be guessed by a fuzzer, so a part may name a later
 * one by "@N" (N one hex digit, the part's index): it is replaced by that
 * part's real "sha256:<hex>" digest. */
#ifndef IDP_FUZZ_IMAGE_H
#define IDP_FUZZ_IMAGE_H

#include "util/digest.h"
#include "sources/source.h"
#include "fuzz.h"

struct fz_image {
	struct idp_source_opts o;
	char *top_mt;       /* NULL when not given */
	int top_size;       /* 1: the top descriptor's size is part 0's length */
	char *ref;          /* NULL when not given */
	int n;
	char *part[FZ_MAX_PARTS];       /* after the "@N" replacement */
	size_t len[FZ_MAX_PARTS];
	char digest[FZ_MAX_PARTS][IDP_DIGEST_MAX];
	char *words;        /* storage for the option strings */
};

void fz_image_parse(const uint8_t *data, size_t size, struct fz_image *im);
void fz_image_free(struct fz_image *im);
/* The index of the part with this digest, or -1. */
int fz_image_find(const struct fz_image *im, const char *digest);
/* Every manifest of a resolved image must hash to its digest, and every
 * blob have a valid digest. */
void fz_image_check(const struct idp_image *img);

#endif
