/* source.c: the image model shared by every source (source.h), and the
 * one way a one-platform image is built from its parts
 * (idp_image_add_single). */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/buf.h"
#include "util/manifest.h"
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

int idp_image_add_manifest(struct idp_image *img, const struct idp_manifest_in *in,
			   struct idp_error *err)
{
	struct idp_image_manifest *m;
	int i;

	for (i = 0; i < img->nmanifests; i++)
		if (strcmp(img->manifests[i].digest, in->digest) == 0)
			return 0;
	m = realloc(img->manifests, sizeof(*m) * (size_t)(img->nmanifests + 1));
	if (!m)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	img->manifests = m;
	m = &img->manifests[img->nmanifests];
	memset(m, 0, sizeof(*m));
	snprintf(m->digest, sizeof(m->digest), "%s", in->digest);
	m->media_type = strdup(in->media_type);
	m->data = malloc(in->len ? in->len : 1);
	m->platform = in->platform ? strdup(in->platform) : NULL;
	if (!m->media_type || !m->data || (in->platform && !m->platform)) {
		free(m->media_type);
		free(m->data);
		free(m->platform);
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	memcpy(m->data, in->data, in->len);
	m->len = in->len;
	img->nmanifests++;
	return 0;
}

static enum idp_manifest_format single_format(int format, const struct idp_layer *layers, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (layers[i].zstd)
			return IDP_FMT_OCI;
	return format == IDP_FMT_OCI ? IDP_FMT_OCI : IDP_FMT_DOCKER;
}

/* The image of si, whose layers were read into layers[]. */
static int add_single(struct idp_image *img, const struct idp_single_image *si,
		      const struct idp_layer *layers, struct idp_error *err)
{
	enum idp_manifest_format fmt = single_format(si->format, layers, si->nlayers);
	struct idp_descriptor cd = { idp_media_type(fmt, IDP_MT_CONFIG), si->config_digest,
				     si->config_size, NULL };
	struct idp_descriptor *ld = calloc(si->nlayers > 0 ? (size_t)si->nlayers : 1, sizeof(*ld));
	struct idp_buf out = IDP_BUF_INIT;
	char digest[IDP_DIGEST_MAX];
	int i, rc = -1;

	if (!ld)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	if (!idp_image_add_blob(img, cd.digest, cd.size, cd.media_type, err))
		goto out;
	for (i = 0; i < si->nlayers; i++) {
		enum idp_media_kind k = layers[i].zstd ? IDP_MT_LAYER_ZSTD : IDP_MT_LAYER_GZIP;

		ld[i] = (struct idp_descriptor){ idp_media_type(fmt, k), layers[i].digest,
						 layers[i].size, NULL };
		if (!idp_image_add_blob(img, ld[i].digest, ld[i].size, ld[i].media_type, err))
			goto out;
	}
	idp_buf_init(&out, IDP_CAP_MANIFEST);
	if (idp_manifest_build(fmt, &cd, ld, si->nlayers, &out, err) == 0) {
		struct idp_manifest_in m = { .digest = digest,
					     .media_type = idp_media_type(fmt, IDP_MT_MANIFEST),
					     .data = out.buf,
					     .len = out.len,
					     .platform = si->platform };

		idp_sha256_digest(out.buf, out.len, digest);
		rc = idp_image_add_manifest(img, &m, err);
	}
	idp_buf_release(&out);
out:
	free(ld);
	return rc;
}

int idp_image_add_single(struct idp_image *img, const struct idp_single_image *si,
			 struct idp_error *err)
{
	struct idp_layer *layers = calloc(si->nlayers > 0 ? (size_t)si->nlayers : 1,
					  sizeof(*layers));
	int i, rc;

	if (!layers)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	for (i = 0; i < si->nlayers; i++)
		si->layer(si->ctx, i, &layers[i]);
	rc = add_single(img, si, layers, err);
	free(layers);
	return rc;
}
