/* test_imgwalk.c: imgwalk over in-memory blob stores: manifests, platform
 * selection in indexes, missing blobs, reduced indexes, attestations; and
 * the OCI layout source built on it (suite oci_layout, temp directories). */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include "unit.h"
#include "util/digest.h"
#include "sources/imgwalk.h"
#include "util/manifest.h"

#define MAXB 32

/* An in-memory content store: digest -> bytes. */
struct memstore {
	int n;
	char digest[MAXB][IDP_DIGEST_MAX];
	char *data[MAXB];
};

static const char *ms_put(struct memstore *m, const char *s)
{
	idp_sha256_digest(s, strlen(s), m->digest[m->n]);
	m->data[m->n] = strdup(s);
	return m->digest[m->n++];
}

static void ms_drop(struct memstore *m, const char *digest)
{
	int i;
	for (i = 0; i < m->n; i++)
		if (strcmp(m->digest[i], digest) == 0)
			m->digest[i][0] = '\0';
}

static void ms_free(struct memstore *m)
{
	int i;
	for (i = 0; i < m->n; i++)
		free(m->data[i]);
}

static int ms_find(const struct memstore *m, const char *digest)
{
	int i;
	for (i = 0; i < m->n; i++)
		if (strcmp(m->digest[i], digest) == 0)
			return i;
	return -1;
}

static int ms_read(void *ctx, const char *digest, struct idp_buf *out, struct idp_error *err)
{
	int i = ms_find(ctx, digest);
	if (i < 0)
		return idp_error_set(err, IDP_ENOTFOUND, "no blob %s", digest);
	return idp_buf_adds(out, ((struct memstore *)ctx)->data[i]);
}

static int ms_has(void *ctx, const char *digest, struct idp_error *err)
{
	(void)err;
	return ms_find(ctx, digest) >= 0;
}

/* An image manifest with a config and two layers; returns its digest. */
static const char *make_manifest(struct memstore *m, const char *tag, const char **layer1)
{
	char cfg[128], l1[64], l2[64], man[1024];
	const char *dc, *d1, *d2;

	snprintf(cfg, sizeof(cfg), "{\"architecture\":\"x\",\"id\":\"%s\"}", tag);
	snprintf(l1, sizeof(l1), "layer-one-%s", tag);
	snprintf(l2, sizeof(l2), "layer-two-%s", tag);
	dc = ms_put(m, cfg);
	d1 = ms_put(m, l1);
	d2 = ms_put(m, l2);
	if (layer1)
		*layer1 = d1;
	snprintf(
		man, sizeof(man),
		"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		"\"config\":{\"mediaType\":\"application/"
		"vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
		"\"layers\":[{\"mediaType\":\"application/"
		"vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":%zu},"
		"{\"mediaType\":\"application/"
		"vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":%zu}]}",
		dc, strlen(cfg), d1, strlen(l1), d2, strlen(l2));
	return ms_put(m, man);
}

static size_t blob_len(const struct memstore *m, const char *digest)
{
	return strlen(m->data[ms_find(m, digest)]);
}

/* An index entry for a manifest. */
static void entry(char *out, size_t n, const struct memstore *m, const char *digest,
		  const char *plat, int attest)
{
	char os[32], arch[32], var[32];
	sscanf(plat, "%31[^/]/%31[^/]/%31s", os, arch, var);
	snprintf(
		out, n,
		"{\"mediaType\":\"application/"
		"vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu,"
		"\"platform\":{\"os\":\"%s\",\"architecture\":\"%s\"}%s}",
		digest, blob_len(m, digest), os, arch,
		attest ? ",\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"}"
		       : "");
}

/* Index of: host, linux/ppc64le, linux/s390x, attestation (for host). */
struct fixture {
	struct memstore m;
	const char *man[4], *layer1[4], *index;
};

static void make_index(struct fixture *f)
{
	static const char *const plats[4] = { NULL, "linux/ppc64le", "linux/s390x",
					      "unknown/unknown" };
	static const char *const tags[4] = { "host", "ppc", "s390", "att" };
	char e[4][512], idx[4096];
	int i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < 4; i++) {
		f->man[i] = make_manifest(&f->m, tags[i], &f->layer1[i]);
		entry(e[i], sizeof(e[i]), &f->m, f->man[i],
		      plats[i] ? plats[i] : idp_platform_host(), i == 3);
	}
	snprintf(idx, sizeof(idx),
		 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
		 "\"manifests\":[%s,%s,%s,%s]}", e[0], e[1], e[2], e[3]);
	f->index = ms_put(&f->m, idx);
}

static int walk(struct memstore *m, const char *digest, const struct idp_source_opts *o,
		struct idp_image *img, struct idp_error *err)
{
	struct idp_blobstore bs = { ms_read, ms_has, m };
	struct idp_walk_top top = { digest, NULL, -1, "image 't'" };
	memset(img, 0, sizeof(*img));
	idp_error_clear(err);
	return idp_imgwalk(&bs, &top, o, img, err);
}

static const char *top_digest(const struct idp_image *img)
{
	return img->manifests[img->nmanifests - 1].digest;
}

static void test_manifest(void)
{
	struct memstore m = { 0 };
	struct idp_image img;
	struct idp_error err = IDP_ERROR_INIT;
	const char *d = make_manifest(&m, "a", NULL);

	CU_ASSERT_EQUAL_FATAL(walk(&m, d, NULL, &img, &err), 0);
	CU_ASSERT_EQUAL(img.nblobs, 3);
	CU_ASSERT_EQUAL(img.nmanifests, 1);
	CU_ASSERT_STRING_EQUAL(top_digest(&img), d);
	CU_ASSERT_STRING_EQUAL(img.manifests[0].media_type,
			       "application/vnd.oci.image.manifest.v1+json");
	CU_ASSERT_PTR_NULL(img.notice);
	idp_image_release(&img);
	ms_free(&m);
}

static void test_manifest_missing_layer(void)
{
	struct memstore m = { 0 };
	struct idp_image img;
	struct idp_error err = IDP_ERROR_INIT;
	const char *l1, *d = make_manifest(&m, "a", &l1);
	char want[IDP_DIGEST_MAX];

	strcpy(want, l1);
	ms_drop(&m, l1);
	CU_ASSERT_EQUAL(walk(&m, d, NULL, &img, &err), -1);
	CU_ASSERT_EQUAL(err.cls, IDP_ENOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, want));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "image 't'"));
	CU_ASSERT_EQUAL(img.nblobs, 0);
	ms_free(&m);
}

/* A descriptor size no blob can have (INT64_MAX, negative, not an
 * integer): a corrupt image, refused before any arithmetic on it. */
static void test_impossible_size(void)
{
	static const char *const sizes[] = { "9223372036854775807", "-7", "1.5", "\"12\"" };
	struct memstore m = { 0 };
	struct idp_image img;
	struct idp_error err = IDP_ERROR_INIT;
	const char *dc = ms_put(&m, "{\"architecture\":\"x\"}"), *dl = ms_put(&m, "layer"), *d;
	char man[1024];
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(man, sizeof(man),
			 "{\"schemaVersion\":2,\"mediaType\":\"application/"
			 "vnd.oci.image.manifest.v1+json\","
			 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
			 "\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":"
			 "\"application/"
			 "vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":%s}]}",
			 dc, strlen("{\"architecture\":\"x\"}"), dl, sizes[i]);
		d = ms_put(&m, man);
		CU_ASSERT_EQUAL(walk(&m, d, NULL, &img, &err), -1);
		CU_ASSERT_EQUAL(err.cls, IDP_EGENERAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "impossible size"));
		idp_image_release(&img);
	}
	ms_free(&m);
}

static void test_corrupt_manifest(void)
{
	struct memstore m = { 0 };
	struct idp_image img;
	struct idp_error err = IDP_ERROR_INIT;
	const char *d = make_manifest(&m, "a", NULL);

	m.data[ms_find(&m, d)][5] ^= 1;
	CU_ASSERT_EQUAL(walk(&m, d, NULL, &img, &err), -1);
	CU_ASSERT_EQUAL(err.cls, IDP_EGENERAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "corrupt"));
	ms_free(&m);
}

static void test_index_host_default(void)
{
	struct fixture f;
	struct idp_image img;
	struct idp_error err = IDP_ERROR_INIT;

	make_index(&f);
	CU_ASSERT_EQUAL_FATAL(walk(&f.m, f.index, NULL, &img, &err), 0);
	CU_ASSERT_EQUAL(img.nmanifests, 1);
	CU_ASSERT_STRING_EQUAL(top_digest(&img), f.man[0]);
	CU_ASSERT_EQUAL(img.nblobs, 3);
	CU_ASSERT_PTR_NOT_NULL(img.notice);
	idp_image_release(&img);
	ms_free(&f.m);
}

static void test_index_one_platform(void)
{
	struct fixture f;
	struct idp_image img;
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_source_opts o = { 0 };

	make_index(&f);
	o.nplatforms = 1;
	o.platforms[0] = "linux/s390x";
	CU_ASSERT_EQUAL_FATAL(walk(&f.m, f.index, &o, &img, &err), 0);
	CU_ASSERT_EQUAL(img.nmanifests, 1);
	CU_ASSERT_STRING_EQUAL(top_digest(&img), f.man[2]);
	CU_ASSERT_STRING_EQUAL(img.manifests[0].platform, "linux/s390x");
	idp_image_release(&img);
	o.platforms[0] = "windows/amd64";
	CU_ASSERT_EQUAL(walk(&f.m, f.index, &o, &img, &err), -1);
	CU_ASSERT_EQUAL(err.cls, IDP_ENOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "linux/ppc64le"));
	o.platforms[0] = "linux";
	CU_ASSERT_EQUAL(walk(&f.m, f.index, &o, &img, &err), -1);
	CU_ASSERT_EQUAL(err.cls, IDP_EGENERAL);
	ms_free(&f.m);
}

/* Parse an index's bytes and count its entries. */
static int index_entries(const struct idp_image_manifest *m)
{
	json_tokener *tok = json_tokener_new();
	json_object *j = json_tokener_parse_ex(tok, (const char *)m->data, (int)m->len), *a;
	int n = -1;
	if (j && json_object_object_get_ex(j, "manifests", &a))
		n = (int)json_object_array_length(a);
	json_object_put(j);
	json_tokener_free(tok);
	return n;
}

static void test_all_platforms(void)
{
	struct fixture f;
	struct idp_image img;
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_source_opts o = { 0 };
	char d[IDP_DIGEST_MAX];

	make_index(&f);
	o.all_platforms = 1;
	o.keep_attestations = 1;
	CU_ASSERT_EQUAL_FATAL(walk(&f.m, f.index, &o, &img, &err), 0);
	CU_ASSERT_EQUAL(img.nmanifests, 5);
	CU_ASSERT_STRING_EQUAL(top_digest(&img), f.index);
	CU_ASSERT_EQUAL(img.nblobs, 12);
	CU_ASSERT_PTR_NULL(img.notice);
	idp_image_release(&img);
	/* attestations skipped by default: a reduced index */
	o.keep_attestations = 0;
	CU_ASSERT_EQUAL_FATAL(walk(&f.m, f.index, &o, &img, &err), 0);
	CU_ASSERT_EQUAL(img.nmanifests, 4);
	CU_ASSERT_STRING_NOT_EQUAL(top_digest(&img), f.index);
	CU_ASSERT_EQUAL(index_entries(&img.manifests[3]), 3);
	idp_sha256_digest(img.manifests[3].data, img.manifests[3].len, d);
	CU_ASSERT_STRING_EQUAL(d, top_digest(&img));
	CU_ASSERT_PTR_NOT_NULL(img.notice && strstr(img.notice, d));
	idp_image_release(&img);
	ms_free(&f.m);
}

static void test_missing_platform(void)
{
	struct fixture f;
	struct idp_image img;
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_source_opts o = { 0 };

	make_index(&f);
	ms_drop(&f.m, f.layer1[1]);          /* ppc64le incomplete */
	o.all_platforms = 1;
	CU_ASSERT_EQUAL(walk(&f.m, f.index, &o, &img, &err), -1);
	CU_ASSERT_EQUAL(err.cls, IDP_ENOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "linux/ppc64le"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, f.layer1[1]));
	CU_ASSERT_PTR_NULL(strstr(err.msg, "linux/s390x"));
	o.allow_partial = 1;
	CU_ASSERT_EQUAL_FATAL(walk(&f.m, f.index, &o, &img, &err), 0);
	CU_ASSERT_EQUAL(img.nmanifests, 3);
	CU_ASSERT_EQUAL(index_entries(&img.manifests[2]), 2);
	CU_ASSERT_STRING_EQUAL(img.manifests[0].digest, f.man[0]);
	CU_ASSERT_STRING_EQUAL(img.manifests[1].digest, f.man[2]);
	CU_ASSERT_PTR_NOT_NULL(img.notice);
	idp_image_release(&img);
	/* the manifest itself missing */
	ms_drop(&f.m, f.man[2]);
	o.allow_partial = 0;
	CU_ASSERT_EQUAL(walk(&f.m, f.index, &o, &img, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, f.man[2]));
	/* the default (host) platform is still fine */
	CU_ASSERT_EQUAL(walk(&f.m, f.index, NULL, &img, &err), 0);
	idp_image_release(&img);
	ms_free(&f.m);
}

static void test_several_platforms(void)
{
	struct fixture f;
	struct idp_image img;
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_source_opts o = { 0 };

	make_index(&f);
	o.nplatforms = 2;
	o.platforms[0] = "linux/s390x";
	o.platforms[1] = "linux/ppc64le";
	CU_ASSERT_EQUAL_FATAL(walk(&f.m, f.index, &o, &img, &err), 0);
	CU_ASSERT_EQUAL(img.nmanifests, 3);
	CU_ASSERT_EQUAL(index_entries(&img.manifests[2]), 2);
	CU_ASSERT_TRUE(idp_media_type_is_index(img.manifests[2].media_type));
	idp_image_release(&img);
	o.platforms[1] = "linux/mips64";
	CU_ASSERT_EQUAL(walk(&f.m, f.index, &o, &img, &err), -1);
	CU_ASSERT_EQUAL(err.cls, IDP_ENOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "linux/mips64 (not in the index)"));
	o.allow_partial = 1;
	CU_ASSERT_EQUAL(walk(&f.m, f.index, &o, &img, &err), 0);
	CU_ASSERT_EQUAL(img.nmanifests, 2);
	idp_image_release(&img);
	ms_free(&f.m);
}

/* As stored (docker's containerd image store): the index with every
 * manifest, attestations included, or, when a platform is not complete,
 * the host's manifest with a notice; --platform: that one's manifest. */
static void test_stored(void)
{
	struct fixture f;
	struct idp_image img;
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_source_opts o = { 0 };

	make_index(&f);
	o.stored = 1;
	CU_ASSERT_EQUAL_FATAL(walk(&f.m, f.index, &o, &img, &err), 0);
	CU_ASSERT_EQUAL(img.nmanifests, 5);
	CU_ASSERT_STRING_EQUAL(top_digest(&img), f.index);
	CU_ASSERT_EQUAL(img.nblobs, 12);
	CU_ASSERT_PTR_NULL(img.notice);
	idp_image_release(&img);
	o.nplatforms = 1;
	o.platforms[0] = "linux/s390x";
	CU_ASSERT_EQUAL_FATAL(walk(&f.m, f.index, &o, &img, &err), 0);
	CU_ASSERT_EQUAL(img.nmanifests, 1);
	CU_ASSERT_STRING_EQUAL(top_digest(&img), f.man[2]);
	CU_ASSERT_PTR_NULL(img.notice);
	idp_image_release(&img);
	o.nplatforms = 0;
	ms_drop(&f.m, f.layer1[1]);          /* ppc64le incomplete */
	CU_ASSERT_EQUAL_FATAL(walk(&f.m, f.index, &o, &img, &err), 0);
	CU_ASSERT_EQUAL(img.nmanifests, 1);
	CU_ASSERT_STRING_EQUAL(top_digest(&img), f.man[0]);
	CU_ASSERT_EQUAL(img.nblobs, 3);
	CU_ASSERT_PTR_NOT_NULL(img.notice && strstr(img.notice, f.index) &&
			       strstr(img.notice, f.man[0]));
	idp_image_release(&img);
	ms_drop(&f.m, f.layer1[0]);          /* and the host's: nothing to push */
	CU_ASSERT_EQUAL(walk(&f.m, f.index, &o, &img, &err), -1);
	CU_ASSERT_EQUAL(err.cls, IDP_ENOTFOUND);
	ms_free(&f.m);
}

/* The manifests a manifest names: an index's children and a subject. */
static void test_manifest_refs(void)
{
	static const char *const doc =
		"{\"manifests\":[{\"digest\":\"sha256:"
		"1111111111111111111111111111111111111111111111111111111111111111\"}],"
		"\"subject\":{\"digest\":\"sha256:"
		"2222222222222222222222222222222222222222222222222222222222222222\"},"
		"\"layers\":[{\"digest\":\"sha256:"
		"3333333333333333333333333333333333333333333333333333333333333333\"}]}";
	struct idp_manifest_refs r;
	char d[IDP_DIGEST_MAX];
	int i;

	CU_ASSERT_EQUAL_FATAL(idp_manifest_refs(doc, strlen(doc), &r), 0);
	CU_ASSERT_EQUAL(r.n, 2);
	for (i = 1; i <= 3; i++) {
		snprintf(d, sizeof(d), "sha256:%064d", 0);
		memset(d + 7, '0' + i, 64);
		CU_ASSERT_EQUAL(idp_manifest_refs_has(&r, d), i < 3);
	}
	idp_manifest_refs_release(&r);
	CU_ASSERT_EQUAL(idp_manifest_refs("[1]", 3, &r), -1);
	idp_manifest_refs_release(&r);
}

static const struct unit_test tests[] = {
	{ "manifest", test_manifest },
	{ "stored", test_stored },
	{ "manifest_refs", test_manifest_refs },
	{ "manifest_missing_layer", test_manifest_missing_layer },
	{ "corrupt_manifest", test_corrupt_manifest },
	{ "impossible_size", test_impossible_size },
	{ "index_host_default", test_index_host_default },
	{ "index_one_platform", test_index_one_platform },
	{ "all_platforms", test_all_platforms },
	{ "missing_platform", test_missing_platform },
	{ "several_platforms", test_several_platforms },
	{ NULL, NULL }
};

IDP_SUITE(imgwalk) { unit_add_suite("imgwalk", tests); }

/* ---- the OCI layout source over imgwalk ---- */

/* Write every blob of m into DIR/blobs/sha256 and index.json naming
 * `a` as "one" and `b` as "two". */
static char *make_layout(const struct memstore *m, const char *a, const char *b)
{
	char *dir = unit_tmpdir(), path[4200], idx[2048];
	int i;

	snprintf(path, sizeof(path), "%s/blobs", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/blobs/sha256", dir);
	mkdir(path, 0700);
	for (i = 0; i < m->n; i++) {
		if (!m->digest[i][0])
			continue;
		snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir,
			 idp_digest_hex(m->digest[i]));
		unit_write_file(path, m->data[i]);
	}
	snprintf(idx, sizeof(idx),
		 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
		 "vnd.oci.image.manifest.v1+json\","
		 "\"digest\":\"%s\",\"size\":%zu,\"annotations\":{\"org.opencontainers.image.ref."
		 "name\":\"one\"}},"
		 "{\"mediaType\":\"application/"
		 "vnd.oci.image.index.v1+json\",\"digest\":\"%s\",\"size\":%zu,"
		 "\"annotations\":{\"org.opencontainers.image.ref.name\":\"two\"}}]}",
		 a, blob_len(m, a), b, blob_len(m, b));
	snprintf(path, sizeof(path), "%s/index.json", dir);
	unit_write_file(path, idx);
	return dir;
}

static void remove_layout(char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
	free(dir);
}

static int layout_open(const char *spec, const struct idp_source_opts *o, struct idp_image *img,
		       struct idp_error *err)
{
	struct idp_source src = { &idp_source_oci_layout, NULL };
	int rc;

	memset(img, 0, sizeof(*img));
	idp_error_clear(err);
	rc = src.ops->open(&src, spec, o, img, err);
	if (src.priv)
		src.ops->close(&src);
	return rc;
}

static void test_layout_refs(void)
{
	struct fixture f;
	struct idp_image img;
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_source_opts o = { 0 };
	char spec[4200], *dir;

	make_index(&f);
	dir = make_layout(&f.m, f.man[1], f.index);
	snprintf(spec, sizeof(spec), "%s:one", dir);
	CU_ASSERT_EQUAL_FATAL(layout_open(spec, NULL, &img, &err), 0);
	CU_ASSERT_STRING_EQUAL(top_digest(&img), f.man[1]);
	idp_image_release(&img);
	snprintf(spec, sizeof(spec), "%s:two", dir);
	CU_ASSERT_EQUAL_FATAL(layout_open(spec, NULL, &img, &err), 0);
	CU_ASSERT_STRING_EQUAL(top_digest(&img), f.man[0]);     /* host platform */
	idp_image_release(&img);
	o.all_platforms = 1;
	o.keep_attestations = 1;
	CU_ASSERT_EQUAL_FATAL(layout_open(spec, &o, &img, &err), 0);
	CU_ASSERT_STRING_EQUAL(top_digest(&img), f.index);
	idp_image_release(&img);
	CU_ASSERT_EQUAL(layout_open(dir, NULL, &img, &err), -1);
	CU_ASSERT_EQUAL(err.cls, IDP_EGENERAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "DIR:REF"));
	snprintf(spec, sizeof(spec), "%s:three", dir);
	CU_ASSERT_EQUAL(layout_open(spec, NULL, &img, &err), -1);
	CU_ASSERT_EQUAL(err.cls, IDP_ENOTFOUND);
	remove_layout(dir);
	ms_free(&f.m);
}

static void test_layout_missing(void)
{
	struct fixture f;
	struct idp_image img;
	struct idp_error err = IDP_ERROR_INIT;
	char spec[4200], *dir;

	CU_ASSERT_EQUAL(layout_open("/nonexistent/idp-layout", NULL, &img, &err), -1);
	CU_ASSERT_EQUAL(err.cls, IDP_ENOTFOUND);
	make_index(&f);
	ms_drop(&f.m, f.layer1[1]);
	dir = make_layout(&f.m, f.man[1], f.index);
	snprintf(spec, sizeof(spec), "%s:one", dir);
	CU_ASSERT_EQUAL(layout_open(spec, NULL, &img, &err), -1);
	CU_ASSERT_EQUAL(err.cls, IDP_ENOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, f.layer1[1]));
	remove_layout(dir);
	ms_free(&f.m);
}

static const struct unit_test layout_tests[] = {
	{ "refs", test_layout_refs },
	{ "missing", test_layout_missing },
	{ NULL, NULL }
};

IDP_SUITE(oci_layout) { unit_add_suite("oci_layout", layout_tests); }
