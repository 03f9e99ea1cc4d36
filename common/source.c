/* source.c: the image model shared by every source, and platform strings. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "source.h"
#include "banned.h"

void idp_image_release(struct idp_image *img)
{
	int i;
	for (i = 0; i < img->nblobs; i++) {
		free(img->blobs[i].media_type);
		free(img->blobs[i].display_id);
		free(img->blobs[i].mount_from);
	}
	for (i = 0; i < img->nmanifests; i++) {
		free(img->manifests[i].media_type);
		free(img->manifests[i].data);
		free(img->manifests[i].platform);
	}
	free(img->blobs);
	free(img->manifests);
	free(img->notice);
	memset(img, 0, sizeof(*img));
}

struct idp_image_blob *idp_image_add_blob(struct idp_image *img, const char *digest, int64_t size,
					  const char *media_type, struct idp_error *err)
{
	struct idp_image_blob *b;
	int i;

	for (i = 0; i < img->nblobs; i++)
		if (strcmp(img->blobs[i].digest, digest) == 0)
			return &img->blobs[i];
	if (!idp_digest_valid(digest)) {
		idp_error_set(err, IDP_EGENERAL, "invalid blob digest '%.80s'", digest);
		return NULL;
	}
	b = realloc(img->blobs, sizeof(*b) * (size_t)(img->nblobs + 1));
	if (!b) {
		idp_error_set(err, IDP_EGENERAL, "out of memory");
		return NULL;
	}
	img->blobs = b;
	b = &img->blobs[img->nblobs];
	memset(b, 0, sizeof(*b));
	snprintf(b->digest, sizeof(b->digest), "%s", digest);
	b->size = size;
	if (media_type && !(b->media_type = strdup(media_type))) {
		idp_error_set(err, IDP_EGENERAL, "out of memory");
		return NULL;
	}
	img->nblobs++;
	return b;
}

int idp_image_add_manifest(struct idp_image *img, const char *digest, const char *media_type,
			   const void *data, size_t len, const char *platform, struct idp_error *err)
{
	struct idp_image_manifest *m;
	int i;

	for (i = 0; i < img->nmanifests; i++)
		if (strcmp(img->manifests[i].digest, digest) == 0)
			return 0;
	m = realloc(img->manifests, sizeof(*m) * (size_t)(img->nmanifests + 1));
	if (!m)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	img->manifests = m;
	m = &img->manifests[img->nmanifests];
	memset(m, 0, sizeof(*m));
	snprintf(m->digest, sizeof(m->digest), "%s", digest);
	m->media_type = strdup(media_type);
	m->data = malloc(len ? len : 1);
	m->platform = platform ? strdup(platform) : NULL;
	if (!m->media_type || !m->data || (platform && !m->platform)) {
		free(m->media_type);
		free(m->data);
		free(m->platform);
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	memcpy(m->data, data, len);
	m->len = len;
	img->nmanifests++;
	return 0;
}

static void normalize_arch(char arch[32], char variant[32])
{
	if (strcmp(arch, "x86_64") == 0 || strcmp(arch, "x86-64") == 0)
		snprintf(arch, 32, "amd64");
	else if (strcmp(arch, "aarch64") == 0) {
		snprintf(arch, 32, "arm64");
		if (strcmp(variant, "v8") == 0)
			variant[0] = '\0';
	} else if (strcmp(arch, "armhf") == 0) {
		snprintf(arch, 32, "arm");
		snprintf(variant, 32, "v7");
	} else if (strcmp(arch, "i386") == 0 || strcmp(arch, "i686") == 0)
		snprintf(arch, 32, "386");
}

static int copy_part(char dst[32], const char *src, size_t n)
{
	size_t i;
	if (n == 0 || n >= 32)
		return -1;
	for (i = 0; i < n; i++) {
		char c = src[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return -1;
		dst[i] = c;
	}
	dst[n] = '\0';
	return 0;
}

int idp_platform_parse(const char *s, char os[32], char arch[32], char variant[32], struct idp_error *err)
{
	const char *a = strchr(s, '/'), *v;

	variant[0] = '\0';
	if (!a || copy_part(os, s, (size_t)(a - s)) < 0)
		goto bad;
	a++;
	v = strchr(a, '/');
	if (copy_part(arch, a, v ? (size_t)(v - a) : strlen(a)) < 0)
		goto bad;
	if (v && copy_part(variant, v + 1, strlen(v + 1)) < 0)
		goto bad;
	normalize_arch(arch, variant);
	return 0;
bad:
	return idp_error_set(err, IDP_EGENERAL,
			     "invalid platform '%.64s': expected os/arch[/variant], e.g. linux/amd64 or linux/arm/v7", s);
}

const char *idp_platform_host(void)
{
#if defined(__x86_64__)
	return "linux/amd64";
#elif defined(__aarch64__)
	return "linux/arm64";
#elif defined(__arm__)
	return "linux/arm/v7";
#elif defined(__i386__)
	return "linux/386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "linux/ppc64le";
#elif defined(__s390x__)
	return "linux/s390x";
#elif defined(__riscv) && __riscv_xlen == 64
	return "linux/riscv64";
#else
	return "linux/unknown";
#endif
}
