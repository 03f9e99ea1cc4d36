/* manifest.c: manifests and indexes built with json-c, never by hand. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "digest.h"
#include "jsonutil.h"
#include "manifest.h"
#include "platform.h"
#include "banned.h"

const char *idp_media_type(enum idp_manifest_format fmt, enum idp_media_kind kind)
{
	int oci = fmt == IDP_FMT_OCI;

	switch (kind) {
	case IDP_MT_MANIFEST:
		return oci ? "application/vnd.oci.image.manifest.v1+json"
			   : "application/vnd.docker.distribution.manifest.v2+json";
	case IDP_MT_INDEX:
		return oci ? "application/vnd.oci.image.index.v1+json"
			   : "application/vnd.docker.distribution.manifest.list.v2+json";
	case IDP_MT_CONFIG:
		return oci ? "application/vnd.oci.image.config.v1+json"
			   : "application/vnd.docker.container.image.v1+json";
	case IDP_MT_LAYER_GZIP:
		return oci ? "application/vnd.oci.image.layer.v1.tar+gzip"
			   : "application/vnd.docker.image.rootfs.diff.tar.gzip";
	case IDP_MT_LAYER_ZSTD:
		return "application/vnd.oci.image.layer.v1.tar+zstd";
	case IDP_MT_LAYER_TAR:
		return oci ? "application/vnd.oci.image.layer.v1.tar"
			   : "application/vnd.docker.image.rootfs.diff.tar";
	}
	return "application/octet-stream";
}

int idp_media_type_is_index(const char *mt)
{
	return mt && (strcmp(mt, "application/vnd.oci.image.index.v1+json") == 0 ||
		      strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json") == 0);
}

int idp_media_type_is_manifest(const char *mt)
{
	return mt && (strcmp(mt, "application/vnd.oci.image.manifest.v1+json") == 0 ||
		      strcmp(mt, "application/vnd.docker.distribution.manifest.v2+json") == 0);
}

static json_object *descriptor(const struct idp_descriptor *d, struct idp_error *err)
{
	json_object *o = json_object_new_object(), *p;
	char os[32], arch[32], variant[32];

	json_object_object_add(o, "mediaType", json_object_new_string(d->media_type));
	json_object_object_add(o, "size", json_object_new_int64(d->size));
	json_object_object_add(o, "digest", json_object_new_string(d->digest));
	if (!d->platform)
		return o;
	if (idp_platform_parse(d->platform, os, arch, variant, err) < 0) {
		json_object_put(o);
		return NULL;
	}
	p = json_object_new_object();
	json_object_object_add(p, "architecture", json_object_new_string(arch));
	json_object_object_add(p, "os", json_object_new_string(os));
	if (variant[0])
		json_object_object_add(p, "variant", json_object_new_string(variant));
	json_object_object_add(o, "platform", p);
	return o;
}

static int check(const struct idp_descriptor *d, struct idp_error *err)
{
	if (!d->media_type || !idp_digest_valid(d->digest) || d->size < 0)
		return idp_error_set(err, IDP_EGENERAL, "invalid descriptor for '%.80s'",
				     d->digest ? d->digest : "(none)");
	return 0;
}

static int serialise(json_object *root, struct idp_buf *out, struct idp_error *err)
{
	const char *s = json_object_to_json_string_ext(
		root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	int rc = idp_buf_adds(out, s) < 0 ? idp_error_set(err, IDP_EGENERAL, "manifest too large")
					  : 0;
	json_object_put(root);
	return rc;
}

static json_object *array_of(const struct idp_descriptor *d, int n, struct idp_error *err)
{
	json_object *a = json_object_new_array(), *o;
	int i;

	for (i = 0; i < n; i++) {
		if (check(&d[i], err) < 0 || !(o = descriptor(&d[i], err))) {
			json_object_put(a);
			return NULL;
		}
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *top(enum idp_manifest_format fmt, enum idp_media_kind kind)
{
	json_object *root = json_object_new_object();
	json_object_object_add(root, "schemaVersion", json_object_new_int(2));
	json_object_object_add(root, "mediaType",
			       json_object_new_string(idp_media_type(fmt, kind)));
	return root;
}

int idp_manifest_build(enum idp_manifest_format fmt, const struct idp_descriptor *config,
		       const struct idp_descriptor *layers, int nlayers, struct idp_buf *out,
		       struct idp_error *err)
{
	json_object *root, *cfg, *arr;

	if (check(config, err) < 0 || !(cfg = descriptor(config, err)))
		return -1;
	if (!(arr = array_of(layers, nlayers, err))) {
		json_object_put(cfg);
		return -1;
	}
	root = top(fmt, IDP_MT_MANIFEST);
	json_object_object_add(root, "config", cfg);
	json_object_object_add(root, "layers", arr);
	return serialise(root, out, err);
}

int idp_index_build(enum idp_manifest_format fmt, const struct idp_descriptor *manifests, int n,
		    struct idp_buf *out, struct idp_error *err)
{
	json_object *root, *arr;

	if (!(arr = array_of(manifests, n, err)))
		return -1;
	root = top(fmt, IDP_MT_INDEX);
	json_object_object_add(root, "manifests", arr);
	return serialise(root, out, err);
}

/* ---- the manifests a manifest names ---- */

static void refs_add(struct idp_manifest_refs *r, json_object *desc)
{
	const char *d = idp_json_str(desc, "digest");

	if (d && idp_digest_valid(d))
		snprintf(r->digest[r->n++], IDP_DIGEST_MAX, "%s", d);
}

int idp_manifest_refs(const void *data, size_t len, struct idp_manifest_refs *out)
{
	json_object *j = idp_json_parse(data, len, IDP_CAP_MANIFEST), *arr;
	size_t i, n;

	memset(out, 0, sizeof(*out));
	if (!j || !json_object_is_type(j, json_type_object)) {
		json_object_put(j);
		return -1;
	}
	arr = idp_json_array(j, "manifests");
	n = arr ? json_object_array_length(arr) : 0;
	if (!(out->digest = calloc(n + 1, sizeof(*out->digest)))) {
		json_object_put(j);
		return -1;
	}
	refs_add(out, idp_json_obj(j, "subject"));
	for (i = 0; i < n; i++)
		refs_add(out, json_object_array_get_idx(arr, i));
	json_object_put(j);
	return 0;
}

int idp_manifest_refs_has(const struct idp_manifest_refs *r, const char *digest)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->digest[i], digest) == 0)
			return 1;
	return 0;
}

void idp_manifest_refs_release(struct idp_manifest_refs *r)
{
	free(r->digest);
	memset(r, 0, sizeof(*r));
}
