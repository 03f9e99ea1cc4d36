/* test_docker_save.c: the docker save stream reader
 * (sources/src_docker_save.c) on small tars built here: a legacy image
 * read end to end (the layer's gzip, the blobs and the manifest's bytes),
 * checked against what docker image inspect reports, and the malformed
 * manifest.json / index.json inputs fuzzing found (JSON members that are
 * not strings). */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "unit.h"
#include "util/buf.h"
#include "util/digest.h"
#include "sources/src_docker_save.h"

#define V1ID "1111111111111111111111111111111111111111111111111111111111111111"
#define LAYER "raw layer bytes, not a real tar\n"

/* Append one ustar member (a regular file) to t. */
static void tar_add(struct idp_buf *t, const char *name, const char *data)
{
	unsigned char h[512];
	size_t n = strlen(data), i;
	unsigned sum = 0;
	static const char zeros[512];

	memset(h, 0, sizeof(h));
	snprintf((char *)h, 100, "%s", name);
	snprintf((char *)h + 100, 8, "%07o", 0644);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011o", (unsigned)n);
	snprintf((char *)h + 136, 12, "%011o", 0);
	memset(h + 148, ' ', 8);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	for (i = 0; i < sizeof(h); i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	CU_ASSERT_EQUAL(idp_buf_add(t, h, sizeof(h)), 0);
	CU_ASSERT_EQUAL(idp_buf_add(t, data, n), 0);
	CU_ASSERT_EQUAL(idp_buf_add(t, zeros, (512 - n % 512) % 512), 0);
}

static void tar_end(struct idp_buf *t)
{
	static const char zeros[1024];
	CU_ASSERT_EQUAL(idp_buf_add(t, zeros, sizeof(zeros)), 0);
}

/* s with the first "@CFG" replaced by name, into out. */
static void put_name(char *out, size_t n, const char *s, const char *name)
{
	const char *at = strstr(s, "@CFG");

	if (at)
		snprintf(out, n, "%.*s%s%s", (int)(at - s), s, name, at + 4);
	else
		snprintf(out, n, "%s", s);
}

/* The parts of the legacy image: its one layer's diffID, the config
 * naming it and the config's digest and file name. */
struct legacy {
	char diffid[IDP_DIGEST_MAX];
	char cfg[512];
	char cfg_digest[IDP_DIGEST_MAX];
	char cfg_name[80];
};

static void legacy_parts(struct legacy *l)
{
	idp_sha256_digest(LAYER, strlen(LAYER), l->diffid);
	snprintf(l->cfg, sizeof(l->cfg),
		 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		 "\"diff_ids\":[\"%s\"]}}", l->diffid);
	idp_sha256_digest(l->cfg, strlen(l->cfg), l->cfg_digest);
	snprintf(l->cfg_name, sizeof(l->cfg_name), "%s.json", idp_digest_hex(l->cfg_digest));
}

/* A legacy image: one raw layer, its config, then `manifest` as
 * manifest.json and, when given, `index` as index.json and `blob` as a
 * JSON blob under blobs/sha256/. The config's name goes where the
 * manifest has @CFG. */
static void legacy_tar(struct idp_buf *t, const char *manifest, const char *index,
		       const char *blob)
{
	char path[IDP_DIGEST_MAX + 16], d[IDP_DIGEST_MAX], man[1024];
	struct legacy l;

	legacy_parts(&l);
	put_name(man, sizeof(man), manifest, l.cfg_name);
	idp_buf_init(t, 0);
	tar_add(t, V1ID "/layer.tar", LAYER);
	tar_add(t, l.cfg_name, l.cfg);
	if (blob) {
		idp_sha256_digest(blob, strlen(blob), d);
		snprintf(path, sizeof(path), "blobs/sha256/%s", idp_digest_hex(d));
		tar_add(t, path, blob);
	}
	if (index)
		tar_add(t, "index.json", index);
	tar_add(t, "manifest.json", man);
	tar_end(t);
}

/* What the stream's next gave for one blob, and what its reader returned. */
struct given {
	char display_id[72];
	int has_digest;
	int compressed;
	int64_t raw_size;
	struct idp_buf bytes;
	char digest[IDP_DIGEST_MAX];   /* of bytes */
};

#define MAX_GIVEN 4

/* Read one blob to its end into g and hand its digest and size to done
 * (what it returns). */
static int read_blob(struct idp_stream *s, const struct idp_stream_blob *b,
		      struct idp_blob_reader *r, struct given *g, struct idp_error *err)
{
	char buf[4096], diffid[IDP_DIGEST_MAX];
	ssize_t n;

	snprintf(g->display_id, sizeof(g->display_id), "%s", b->display_id);
	g->has_digest = b->digest != NULL;
	g->compressed = b->compressed;
	g->raw_size = b->raw_size;
	idp_buf_init(&g->bytes, 0);
	while ((n = r->ops->read(r->ctx, buf, sizeof(buf), err)) > 0)
		CU_ASSERT_EQUAL(idp_buf_add(&g->bytes, buf, (size_t)n), 0);
	CU_ASSERT_EQUAL(n, 0);
	idp_sha256_digest(g->bytes.buf, g->bytes.len, g->digest);
	idp_blob_reader_close(r);
	return s->ops->done(s->priv, g->digest, (int64_t)g->bytes.len, diffid, err);
}

/* Read the stream to its end (every layer read and done), then finish;
 * with o (else no options) and the blobs read in given[0..*ngiven). */
static int push_all(const struct idp_buf *t, const struct idp_save_opts *o, struct idp_image *img,
		    struct given given[MAX_GIVEN], int *ngiven, struct idp_error *err)
{
	struct idp_save_opts none;
	struct idp_stream s;
	struct idp_stream_blob b;
	struct idp_blob_reader r;
	int fd = memfd_create("test-docker-save", MFD_CLOEXEC), rc;

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(write(fd, t->buf, t->len), (ssize_t)t->len);
	CU_ASSERT_EQUAL_FATAL(lseek(fd, 0, SEEK_SET), 0);
	memset(&none, 0, sizeof(none));
	memset(img, 0, sizeof(*img));
	*ngiven = 0;
	CU_ASSERT_EQUAL_FATAL(idp_stream_docker_save(fd, o ? o : &none, &s, err), 0);
	while ((rc = s.ops->next(s.priv, &b, &r, err)) == 1) {
		CU_ASSERT_FATAL(*ngiven < MAX_GIVEN);
		if ((rc = read_blob(&s, &b, &r, &given[(*ngiven)++], err)) < 0)
			break;
	}
	if (rc == 0)
		rc = s.ops->finish(s.priv, img, err);
	s.ops->close(s.priv);
	close(fd);
	return rc;
}

static void given_release(struct given *given, int n)
{
	while (n-- > 0)
		idp_buf_release(&given[n].bytes);
}

/* Push t with no options, for the tests that look at the image only. */
static int push_image(const struct idp_buf *t, struct idp_image *img, struct idp_error *err)
{
	struct given given[MAX_GIVEN];
	int n, rc = push_all(t, NULL, img, given, &n, err);

	given_release(given, n);
	return rc;
}

#define MT_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_LAYER "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define LEGACY_MANIFEST "[{\"Config\":\"@CFG\",\"Layers\":[\"" V1ID "/layer.tar\"]}]"

/* The one layer: raw in the tar, so compressed while read (no digest
 * up front), gzip that gives the layer back, shown by its v1 id. */
static void check_legacy_layer(const struct given *g)
{
	unsigned char back[sizeof(LAYER)];
	size_t got;

	CU_ASSERT_STRING_EQUAL(g->display_id, V1ID);
	CU_ASSERT_FALSE(g->has_digest);
	CU_ASSERT_FALSE(g->compressed);
	CU_ASSERT_EQUAL(g->raw_size, (int64_t)strlen(LAYER));
	CU_ASSERT_EQUAL(unit_gunzip(g->bytes.buf, g->bytes.len, back, sizeof(back), &got), 0);
	CU_ASSERT_EQUAL(got, strlen(LAYER));
	CU_ASSERT(got == strlen(LAYER) && memcmp(back, LAYER, got) == 0);
}

/* The image: the config then the layer as blobs, and the Docker schema2
 * manifest naming exactly them (byte for byte: a re-push must find the
 * same digest), for linux/amd64. */
static void check_legacy_image(const struct idp_image *img, const struct legacy *l,
			       const struct given *layer)
{
	const struct idp_image_manifest *m = &img->manifests[0];
	char want[1024], digest[IDP_DIGEST_MAX];

	CU_ASSERT_EQUAL_FATAL(img->nblobs, 2);
	CU_ASSERT_STRING_EQUAL(img->blobs[0].digest, l->cfg_digest);
	CU_ASSERT_EQUAL(img->blobs[0].size, (int64_t)strlen(l->cfg));
	CU_ASSERT_STRING_EQUAL(img->blobs[0].media_type, MT_CONFIG);
	CU_ASSERT_STRING_EQUAL(img->blobs[1].digest, layer->digest);
	CU_ASSERT_EQUAL(img->blobs[1].size, (int64_t)layer->bytes.len);
	CU_ASSERT_STRING_EQUAL(img->blobs[1].media_type, MT_LAYER);
	CU_ASSERT_EQUAL_FATAL(img->nmanifests, 1);
	snprintf(want, sizeof(want),
		 "{\"schemaVersion\":2,\"mediaType\":\"" MT_MANIFEST "\","
		 "\"config\":{\"mediaType\":\"" MT_CONFIG "\",\"size\":%zu,\"digest\":\"%s\"},"
		 "\"layers\":[{\"mediaType\":\"" MT_LAYER "\",\"size\":%zu,\"digest\":\"%s\"}]}",
		 strlen(l->cfg), l->cfg_digest, layer->bytes.len, layer->digest);
	CU_ASSERT_EQUAL(m->len, strlen(want));
	CU_ASSERT(m->len == strlen(want) && memcmp(m->data, want, m->len) == 0);
	idp_sha256_digest(m->data, m->len, digest);
	CU_ASSERT_STRING_EQUAL(m->digest, digest);
	CU_ASSERT_STRING_EQUAL(m->media_type, MT_MANIFEST);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m->platform);
	CU_ASSERT_STRING_EQUAL(m->platform, "linux/amd64");
	CU_ASSERT_PTR_NULL(img->notice);
}

/* Push the legacy image (its parts into l) as if `docker image inspect`
 * had reported image_id and diffid (NULL: the image's own). */
static int push_legacy(const char *image_id, const char *diffid, struct legacy *l,
		       struct idp_image *img, struct given given[MAX_GIVEN], int *ngiven,
		       struct idp_error *err)
{
	struct idp_save_opts o;
	const char *diffids[1];
	struct idp_buf t;
	int rc;

	legacy_parts(l);
	diffids[0] = diffid ? diffid : l->diffid;
	memset(&o, 0, sizeof(o));
	o.image_id = image_id ? image_id : l->cfg_digest;
	o.ndiffids = 1;
	o.diffids = diffids;
	legacy_tar(&t, LEGACY_MANIFEST, NULL, NULL);
	rc = push_all(&t, &o, img, given, ngiven, err);
	idp_buf_release(&t);
	return rc;
}

/* A legacy image read end to end, with the image ID and diffIDs `docker
 * image inspect` reports: the layer's diffID checked, its gzip and the
 * manifest what they should be. */
static void test_legacy(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct given given[MAX_GIVEN];
	struct idp_image img;
	struct legacy l;
	int n;

	CU_ASSERT_EQUAL(push_legacy(NULL, NULL, &l, &img, given, &n, &err), 0);
	CU_ASSERT_STRING_EQUAL(err.msg, "");
	CU_ASSERT_EQUAL(n, 1);
	if (n == 1) {
		check_legacy_layer(&given[0]);
		check_legacy_image(&img, &l, &given[0]);
	}
	given_release(given, n);
	idp_image_release(&img);
}

/* The same stream when inspect reported another diffID (the image changed
 * while saving): the layer fails as it ends, naming the diffID it has;
 * another image ID: the image fails, naming both IDs. */
static void test_legacy_not_inspected(void)
{
	static const char other[] =
		"sha256:2222222222222222222222222222222222222222222222222222222222222222";
	struct idp_error err = IDP_ERROR_INIT;
	struct given given[MAX_GIVEN];
	struct idp_image img;
	struct legacy l;
	int n;

	CU_ASSERT_EQUAL(push_legacy(NULL, other, &l, &img, given, &n, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, l.diffid));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "does not list"));
	given_release(given, n);
	idp_image_release(&img);

	idp_error_clear(&err);
	CU_ASSERT_EQUAL(push_legacy(other, NULL, &l, &img, given, &n, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, l.cfg_digest));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, other));
	given_release(given, n);
	idp_image_release(&img);
}

/* Found by the fuzz target under UBSan: "Config": null (or any non-string)
 * reached strcmp(NULL). It is now "the image config is missing". */
static void test_config_not_a_string(void)
{
	static const char *const manifests[] = {
		"[{\"Config\":null,\"Layers\":[]}]",
		"[{\"Config\":[],\"Layers\":[]}]",
		"[{\"Config\":null,\"Layers\":[1,null,\"missing/layer.tar\"]}]",
	};
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_image img;
	struct idp_buf t;
	size_t i;

	for (i = 0; i < sizeof(manifests) / sizeof(manifests[0]); i++) {
		idp_error_clear(&err);
		legacy_tar(&t, manifests[i], NULL, NULL);
		CU_ASSERT_EQUAL(push_image(&t, &img, &err), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "config"));
		idp_image_release(&img);
		idp_buf_release(&t);
	}
}

/* The same for an index.json whose image index digest is not a string:
 * the image is still pushed, without a notice about other platforms. */
static void test_index_digest_not_a_string(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_image img;
	struct idp_buf t;

	legacy_tar(&t, "[{\"Config\":\"@CFG\",\"Layers\":[\"" V1ID "/layer.tar\"]}]",
		   "{\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
		   "\"digest\":null}]}", NULL);
	CU_ASSERT_EQUAL(push_image(&t, &img, &err), 0);
	CU_ASSERT_PTR_NULL(img.notice);
	idp_image_release(&img);
	idp_buf_release(&t);
}

/* Found reading the code next to the above: an image index (a kept JSON
 * blob that index.json names, as docker's containerd store writes it)
 * whose entry has "platform":{"os":null} reached strcmp(NULL) while
 * counting platforms for the notice. Such entries are not platforms. */
static void test_index_os_not_a_string(void)
{
	static const char idx[] =
		"{\"schemaVersion\":2,\"manifests\":["
		"{\"digest\":\"sha256:" V1ID "\",\"platform\":{\"os\":null}},"
		"{\"digest\":\"sha256:" V1ID "\",\"platform\":{\"os\":7}},"
		"{\"digest\":\"sha256:" V1ID "\",\"platform\":{\"os\":\"linux\"}},"
		"{\"digest\":\"sha256:" V1ID "\",\"platform\":{\"os\":\"windows\"}}]}";
	struct idp_error err = IDP_ERROR_INIT;
	char index[512], d[IDP_DIGEST_MAX];
	struct idp_image img;
	struct idp_buf t;

	idp_sha256_digest(idx, strlen(idx), d);
	snprintf(index, sizeof(index),
		 "{\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
		 "\"digest\":\"%s\"}]}", d);
	legacy_tar(&t, "[{\"Config\":\"@CFG\",\"Layers\":[\"" V1ID "/layer.tar\"]}]", index,
		   idx);
	CU_ASSERT_EQUAL(push_image(&t, &img, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(img.notice);
	CU_ASSERT_PTR_NOT_NULL(img.notice && strstr(img.notice, "lists 2 platforms"));
	idp_image_release(&img);
	idp_buf_release(&t);
}

/* A legacy layer's directory is a v1 id, 64 hex digits, since it is what
 * the progress shows: any other name (here an OSC that sets a terminal's
 * title) is refused before the layer is read. */
static void test_v1_id_not_hex(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_image img;
	struct idp_buf t;

	idp_buf_init(&t, 0);
	tar_add(&t, "\033]0;pwned\007abc/layer.tar", LAYER);
	tar_add(&t, "manifest.json", "[{\"Config\":\"c.json\",\"Layers\":[\"x/layer.tar\"]}]");
	tar_end(&t);
	CU_ASSERT_EQUAL(push_image(&t, &img, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "v1 layer id"));
	idp_image_release(&img);
	idp_buf_release(&t);
}

/* ---- docker's containerd image store: pushed as stored ---- */

#define GZ_LAYER "\x1f\x8b not really gzip, but stored so"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"

/* A blob of the layout: its bytes and digest. */
struct oblob {
	char data[2048];
	char digest[IDP_DIGEST_MAX];
};

static void oblob_set(struct oblob *b, const char *data)
{
	snprintf(b->data, sizeof(b->data), "%s", data);
	idp_sha256_digest(b->data, strlen(b->data), b->digest);
}

/* A descriptor of blob b. */
static void desc(char *out, size_t n, const char *mt, const struct oblob *b)
{
	snprintf(out, n, "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu", mt,
		 b->digest, strlen(b->data));
}

/* What BuildKit stores for a two-layer image (one gzip layer, one
 * uncompressed, as a loaded image keeps it): [0] gzip layer, [1] raw
 * layer, [2] config, [3] manifest, [4] in-toto statement, [5] its
 * config, [6] the attestation manifest, [7] the index of both. */
#define NSTORE 8
static void store_blobs(struct oblob b[NSTORE])
{
	char doc[2048], d1[300], d2[300], d3[300];

	oblob_set(&b[0], GZ_LAYER);
	oblob_set(&b[1], LAYER);
	snprintf(doc, sizeof(doc),
		 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		 "\"diff_ids\":[\"sha256:%064d\",\"%s\"]}}", 0, b[1].digest);
	oblob_set(&b[2], doc);
	desc(d1, sizeof(d1), MT_OCI_CONFIG, &b[2]);
	desc(d2, sizeof(d2), "application/vnd.oci.image.layer.v1.tar+gzip", &b[0]);
	desc(d3, sizeof(d3), "application/vnd.oci.image.layer.v1.tar", &b[1]);
	snprintf(doc, sizeof(doc),
		 "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\",\"config\":%s},"
		 "\"layers\":[%s},%s}]}", d1, d2, d3);
	oblob_set(&b[3], doc);
	oblob_set(&b[4], "{\"_type\":\"https://in-toto.io/Statement/v0.1\"}");
	snprintf(doc, sizeof(doc),
		 "{\"architecture\":\"unknown\",\"os\":\"unknown\",\"rootfs\":{\"type\":"
		 "\"layers\",\"diff_ids\":[\"%s\"]}}", b[4].digest);
	oblob_set(&b[5], doc);
	desc(d1, sizeof(d1), MT_OCI_CONFIG, &b[5]);
	desc(d2, sizeof(d2), "application/vnd.in-toto+json", &b[4]);
	snprintf(doc, sizeof(doc),
		 "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\",\"config\":%s},"
		 "\"layers\":[%s}]}", d1, d2);
	oblob_set(&b[6], doc);
	desc(d1, sizeof(d1), MT_OCI_MANIFEST, &b[3]);
	desc(d2, sizeof(d2), MT_OCI_MANIFEST, &b[6]);
	snprintf(doc, sizeof(doc),
		 "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":["
		 "%s,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
		 "%s,\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"},"
		 "\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}}]}", d1, d2);
	oblob_set(&b[7], doc);
}

static int by_digest(const void *a, const void *b)
{
	return strcmp(((const struct oblob *)a)->digest, ((const struct oblob *)b)->digest);
}

/* docker save of that image: blobs in the order of their digests, then
 * index.json naming the index, manifest.json. */
static void store_tar(struct idp_buf *t, const struct oblob b[NSTORE])
{
	struct oblob sorted[NSTORE];
	char path[IDP_DIGEST_MAX + 16], doc[1024], d[300];
	int i;

	memcpy(sorted, b, sizeof(sorted));
	qsort(sorted, NSTORE, sizeof(sorted[0]), by_digest);
	idp_buf_init(t, 0);
	for (i = 0; i < NSTORE; i++) {
		snprintf(path, sizeof(path), "blobs/sha256/%s", idp_digest_hex(sorted[i].digest));
		tar_add(t, path, sorted[i].data);
	}
	desc(d, sizeof(d), MT_OCI_INDEX, &b[7]);
	snprintf(doc, sizeof(doc), "{\"schemaVersion\":2,\"manifests\":[%s}]}", d);
	tar_add(t, "index.json", doc);
	tar_add(t, "manifest.json", "[{\"Config\":\"x\",\"Layers\":[]}]");
	tar_end(t);
}

/* Push that image's docker save, told the store is `mode`; *went gets
 * whether it went as stored. */
static int push_store(int mode, struct oblob b[NSTORE], struct idp_image *img,
		      struct given given[MAX_GIVEN], int *n, int *went, struct idp_error *err)
{
	struct idp_save_opts o;
	struct idp_buf t;
	int rc;

	store_blobs(b);
	store_tar(&t, b);
	memset(&o, 0, sizeof(o));
	o.stored = mode;
	o.image_id = mode != IDP_SAVE_CONVERT ? b[7].digest : NULL;
	o.went_stored = went;
	rc = push_all(&t, &o, img, given, n, err);
	idp_buf_release(&t);
	return rc;
}

/* Pushed as stored (told, or found out from the stream): the two layers
 * go up as they stream, byte for byte, the uncompressed one too; the
 * image is the stored index on top of its two manifests, every other
 * blob (configs, the in-toto statement) kept for phase 2. */
static void check_stored(int mode)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct given given[MAX_GIVEN];
	struct oblob b[NSTORE];
	struct idp_image img;
	int n, i, went = -1;

	CU_ASSERT_EQUAL(push_store(mode, b, &img, given, &n, &went, &err), 0);
	CU_ASSERT_STRING_EQUAL(err.msg, "");
	CU_ASSERT_EQUAL(went, 1);
	CU_ASSERT_EQUAL(n, 2);
	for (i = 0; i < n; i++) {
		CU_ASSERT_TRUE(given[i].compressed && given[i].has_digest);
		CU_ASSERT_TRUE(strcmp(given[i].digest, b[0].digest) == 0 ||
			       strcmp(given[i].digest, b[1].digest) == 0);
	}
	CU_ASSERT_EQUAL_FATAL(img.nmanifests, 3);
	CU_ASSERT_STRING_EQUAL(img.manifests[2].digest, b[7].digest);
	CU_ASSERT(img.manifests[2].len == strlen(b[7].data) &&
		  memcmp(img.manifests[2].data, b[7].data, img.manifests[2].len) == 0);
	CU_ASSERT_EQUAL(img.nblobs, 5);
	CU_ASSERT_PTR_NULL(img.notice);
	given_release(given, n);
	idp_image_release(&img);
}

static void test_stored(void)
{
	check_stored(IDP_SAVE_STORED);
	check_stored(IDP_SAVE_DETECT);
}

/* Told the classic store, the same stream is converted: manifest.json
 * names no config there, so it fails, and did not go as stored. */
static void test_stored_converted(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct given given[MAX_GIVEN];
	struct oblob b[NSTORE];
	struct idp_image img;
	int n, went = -1;

	CU_ASSERT_EQUAL(push_store(IDP_SAVE_CONVERT, b, &img, given, &n, &went, &err), -1);
	CU_ASSERT_EQUAL(went, 0);
	given_release(given, n);
	idp_image_release(&img);
}

static const struct unit_test tests[] = {
	{ "stored", test_stored },
	{ "stored_converted", test_stored_converted },
	{ "legacy", test_legacy },
	{ "legacy_not_inspected", test_legacy_not_inspected },
	{ "config_not_a_string", test_config_not_a_string },
	{ "index_digest_not_a_string", test_index_digest_not_a_string },
	{ "index_os_not_a_string", test_index_os_not_a_string },
	{ "v1_id_not_hex", test_v1_id_not_hex },
	{ NULL, NULL }
};

IDP_SUITE(docker_save) { unit_add_suite("docker_save", tests); }
