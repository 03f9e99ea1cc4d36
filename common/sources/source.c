/* source.c: the image model shared by every source (source.h). */
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
			   const void *data, size_t len, const char *platform,
			   struct idp_error *err)
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
