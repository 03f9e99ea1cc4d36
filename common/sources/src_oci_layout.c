/* src_oci_layout.c: image source for an OCI image layout directory
 * (oci-layout, index.json, blobs/<alg>/<hex>), e.g. from
 * `buildctl --output type=oci`, skopeo or umoci. Spec: "DIR" or "DIR:REF"
 * where REF matches org.opencontainers.image.ref.name. What the entry
 * names (a manifest or an index) is resolved by imgwalk.c, the same way as
 * for containerd. Blobs are pushed as stored. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include "util/jsonutil.h"
#include "util/buf.h"
#include "blobsrc.h"
#include "imgwalk.h"
#include "source.h"
#include "banned.h"

struct oci_layout {
	char *dir;
	char blobs[4096];   /* dir/blobs/sha256 */
};

static int read_json_file(const char *path, size_t cap, struct idp_buf *b, json_object **out,
			  struct idp_error *err)
{
	idp_buf_init(b, cap);
	if (idp_buf_read_file(b, path) < 0)
		return idp_error_set(err, errno == ENOENT ? IDP_ENOTFOUND : IDP_EGENERAL,
				     "cannot read '%s': %s", path, strerror(errno));
	*out = json_tokener_parse(b->buf);
	if (!*out || !json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		return idp_error_set(err, IDP_EGENERAL, "'%s' is not a JSON object", path);
	}
	return 0;
}

static const char *ref_name(json_object *desc)
{
	json_object *ann;
	if (!json_object_object_get_ex(desc, "annotations", &ann))
		return NULL;
	return idp_json_str(ann, "org.opencontainers.image.ref.name");
}

/* Pick the descriptor in index.json named by ref (or the only one). */
static json_object *pick_descriptor(json_object *index, const char *ref, const char *dir,
				    struct idp_error *err)
{
	json_object *mans, *d;
	size_t i, n;

	if (!json_object_object_get_ex(index, "manifests", &mans) ||
	    !json_object_is_type(mans, json_type_array) ||
	    (n = json_object_array_length(mans)) == 0) {
		idp_error_set(err, IDP_ENOTFOUND, "'%s/index.json' lists no image", dir);
		return NULL;
	}
	if (!ref) {
		if (n == 1)
			return json_object_array_get_idx(mans, 0);
		idp_error_set(err, IDP_EGENERAL,
			      "'%s' holds %zu images: name one as DIR:REF (REF from %s)", dir, n,
			      "org.opencontainers.image.ref.name");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		d = json_object_array_get_idx(mans, i);
		const char *name = ref_name(d);
		if (name && strcmp(name, ref) == 0)
			return d;
	}
	idp_error_set(err, IDP_ENOTFOUND, "no image named '%s' in '%s/index.json'", ref, dir);
	return NULL;
}

/* Blob store callbacks for imgwalk. */
static int layout_read(void *ctx, const char *digest, struct idp_buf *out, struct idp_error *err)
{
	const struct oci_layout *l = ctx;
	return idp_cas_read(l->blobs, digest, out, err);
}

static int layout_has(void *ctx, const char *digest, struct idp_error *err)
{
	const struct oci_layout *l = ctx;
	return idp_cas_has(l->blobs, digest, err);
}

/* Split "DIR[:REF]": a ':' after the last '/' starts REF. */
static const char *split_ref(char *dir)
{
	char *colon = strrchr(dir, ':');

	if (!colon || strchr(colon, '/') || colon == dir)
		return NULL;
	*colon = '\0';
	return colon + 1;
}

static int check_dir(const char *dir, struct idp_error *err)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		return idp_error_set(err, errno == ENOENT ? IDP_ENOTFOUND : IDP_EGENERAL,
				     "no OCI layout at '%s': %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return idp_error_set(err, IDP_EGENERAL,
				     "'%s' is not a directory (an OCI layout is one)", dir);
	return 0;
}

static int layout_open(struct idp_source *src, const char *spec, const struct idp_source_opts *o,
		       struct idp_image *img, struct idp_error *err)
{
	struct oci_layout *l = calloc(1, sizeof(*l));
	struct idp_blobstore bs = { layout_read, layout_has, NULL };
	struct idp_walk_top top;
	struct idp_buf ib;
	json_object *index = NULL, *desc;
	char path[4096], what[4200];
	const char *ref;
	int rc = -1;

	if (!l || !(l->dir = strdup(spec))) {
		free(l);
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	src->priv = l;
	bs.ctx = l;
	ref = split_ref(l->dir);
	snprintf(l->blobs, sizeof(l->blobs), "%s/blobs/sha256", l->dir);
	idp_buf_init(&ib, IDP_CAP_MANIFEST);
	snprintf(path, sizeof(path), "%s/index.json", l->dir);
	if (check_dir(l->dir, err) < 0 ||
	    read_json_file(path, IDP_CAP_MANIFEST, &ib, &index, err) < 0 ||
	    !(desc = pick_descriptor(index, ref, l->dir, err)))
		goto out;
	top.digest = idp_json_str(desc, "digest");
	top.media_type = idp_json_str(desc, "mediaType");
	top.size = idp_json_int(desc, "size", -1);
	snprintf(what, sizeof(what), "OCI layout '%s%s%s'", l->dir, ref ? ":" : "", ref ? ref : "");
	top.what = what;
	if (!top.digest || !idp_digest_valid(top.digest)) {
		idp_error_set(err, IDP_EGENERAL, "bad descriptor in '%s/index.json'", l->dir);
		goto out;
	}
	rc = idp_imgwalk(&bs, &top, o, img, err);
out:
	json_object_put(index);
	idp_buf_release(&ib);
	return rc;
}

static int layout_open_blob(struct idp_source *src, const struct idp_image_blob *b,
			    struct idp_blob_reader *out, struct idp_error *err)
{
	const struct oci_layout *l = src->priv;
	return idp_blob_reader_cas(l->blobs, b->digest, out, err);
}

static void layout_close(struct idp_source *src)
{
	struct oci_layout *l = src->priv;
	if (l) {
		free(l->dir);
		free(l);
	}
	src->priv = NULL;
}

const struct idp_source_ops idp_source_oci_layout = {
	.name = "oci-layout",
	.open = layout_open,
	.open_blob = layout_open_blob,
	.close = layout_close,
};
