/* fuzz_image.c: parsing the image-shaped fuzz inputs described in
 * fuzz_image.h, and the checks on a resolved image. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "fuzz_image.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* part i with every "@N" (N > i, N < n) replaced by part N's digest. */
static char *substitute(const struct fz_image *im, int i, const char *s, size_t len,
			size_t *outlen)
{
	char *out = malloc(len * 36 + 1);
	size_t r, w = 0;
	int k;

	FZ_ASSERT(out != NULL);
	for (r = 0; r < len; r++) {
		k = r + 1 < len && s[r] == '@' ? hexval(s[r + 1]) : -1;
		if (k > i && k < im->n) {
			memcpy(out + w, im->digest[k], strlen(im->digest[k]));
			w += strlen(im->digest[k]);
			r++;
		} else {
			out[w++] = s[r];
		}
	}
	out[w] = '\0';
	*outlen = w;
	return out;
}

static void option(struct fz_image *im, char *w)
{
	if (strcmp(w, "all") == 0)
		im->o.all_platforms = 1;
	else if (strcmp(w, "partial") == 0)
		im->o.allow_partial = 1;
	else if (strcmp(w, "attest") == 0)
		im->o.keep_attestations = 1;
	else if (strcmp(w, "size") == 0)
		im->top_size = 1;
	else if (strncmp(w, "p=", 2) == 0 && im->o.nplatforms < IDP_MAX_PLATFORMS)
		im->o.platforms[im->o.nplatforms++] = w + 2;
	else if (strncmp(w, "mt=", 3) == 0)
		im->top_mt = w + 3;
	else if (strncmp(w, "ref=", 4) == 0)
		im->ref = w + 4;
}

static void options(struct fz_image *im, char *line)
{
	char *w, *save = NULL;

	for (w = strtok_r(line, " ", &save); w; w = strtok_r(NULL, " ", &save))
		option(im, w);
}

void fz_image_parse(const uint8_t *data, size_t size, struct fz_image *im)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t head = nl ? (size_t)(nl - data) : size;
	struct fz_parts ps;
	int i;

	memset(im, 0, sizeof(*im));
	im->words = fz_strndup(data, head);
	options(im, im->words);
	fz_split(nl ? nl + 1 : data + size, nl ? size - head - 1 : 0, FZ_SEP, &ps);
	im->n = ps.n;
	for (i = ps.n - 1; i >= 0; i--) {
		im->part[i] = substitute(im, i, ps.p[i].s, ps.p[i].len, &im->len[i]);
		idp_sha256_digest(im->part[i], im->len[i], im->digest[i]);
	}
	fz_parts_free(&ps);
}

void fz_image_free(struct fz_image *im)
{
	int i;

	for (i = 0; i < im->n; i++)
		free(im->part[i]);
	free(im->words);
	memset(im, 0, sizeof(*im));
}

int fz_image_find(const struct fz_image *im, const char *digest)
{
	int i;

	for (i = 0; i < im->n; i++)
		if (strcmp(im->digest[i], digest) == 0)
			return i;
	return -1;
}

void fz_image_check(const struct idp_image *img)
{
	char d[IDP_DIGEST_MAX];
	int i;

	FZ_ASSERT(img->nmanifests >= 1);
	for (i = 0; i < img->nmanifests; i++) {
		const struct idp_image_manifest *m = &img->manifests[i];
		idp_sha256_digest(m->data, m->len, d);
		FZ_ASSERT(strcmp(d, m->digest) == 0);
		FZ_ASSERT(m->media_type != NULL);
	}
	for (i = 0; i < img->nblobs; i++)
		FZ_ASSERT(idp_digest_valid(img->blobs[i].digest));
}
