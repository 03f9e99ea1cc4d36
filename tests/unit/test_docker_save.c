/* test_docker_save.c: the docker save stream reader
 * (sources/src_docker_save.c) on small tars built here: a legacy image
 * read end to end, and the malformed manifest.json / index.json inputs
 * fuzzing found (JSON members that are not strings). */
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

/* A legacy image: one raw layer, its config, then `manifest` as
 * manifest.json and, when given, `index` as index.json and `blob` as a
 * JSON blob under blobs/sha256/. The config's name goes where the
 * manifest has @CFG. */
static void legacy_tar(struct idp_buf *t, const char *manifest, const char *index,
		       const char *blob)
{
	char path[IDP_DIGEST_MAX + 16], d[IDP_DIGEST_MAX];
	char diffid[IDP_DIGEST_MAX], cfg_digest[IDP_DIGEST_MAX], cfg[512], name[80], man[1024];

	idp_sha256_digest(LAYER, strlen(LAYER), diffid);
	snprintf(cfg, sizeof(cfg),
		 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		 "\"diff_ids\":[\"%s\"]}}", diffid);
	idp_sha256_digest(cfg, strlen(cfg), cfg_digest);
	snprintf(name, sizeof(name), "%s.json", idp_digest_hex(cfg_digest));
	put_name(man, sizeof(man), manifest, name);
	idp_buf_init(t, 0);
	tar_add(t, V1ID "/layer.tar", LAYER);
	tar_add(t, name, cfg);
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

/* Read the stream to its end (every layer read and done), then finish. */
static int push_all(const struct idp_buf *t, struct idp_image *img, struct idp_error *err)
{
	struct idp_save_opts o;
	struct idp_stream s;
	struct idp_stream_blob b;
	struct idp_blob_reader r;
	char buf[4096], digest[IDP_DIGEST_MAX], diffid[IDP_DIGEST_MAX];
	int fd = memfd_create("test-docker-save", MFD_CLOEXEC), rc;
	ssize_t n;

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(write(fd, t->buf, t->len), (ssize_t)t->len);
	CU_ASSERT_EQUAL_FATAL(lseek(fd, 0, SEEK_SET), 0);
	memset(&o, 0, sizeof(o));
	memset(img, 0, sizeof(*img));
	CU_ASSERT_EQUAL_FATAL(idp_stream_docker_save(fd, &o, &s, err), 0);
	while ((rc = s.ops->next(s.priv, &b, &r, err)) == 1) {
		while ((n = r.ops->read(r.ctx, buf, sizeof(buf), err)) > 0)
			;
		CU_ASSERT_EQUAL(n, 0);
		idp_sha256_digest("", 0, digest);  /* what went up does not matter here */
		CU_ASSERT_EQUAL(s.ops->done(s.priv, digest, 1, diffid, err), 0);
		idp_blob_reader_close(&r);
	}
	if (rc == 0)
		rc = s.ops->finish(s.priv, img, err);
	s.ops->close(s.priv);
	close(fd);
	return rc;
}

static void test_legacy(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_image img;
	struct idp_buf t;

	legacy_tar(&t, "[{\"Config\":\"@CFG\",\"Layers\":[\"" V1ID "/layer.tar\"]}]", NULL, NULL);
	CU_ASSERT_EQUAL(push_all(&t, &img, &err), 0);
	CU_ASSERT_EQUAL(img.nblobs, 2);
	CU_ASSERT_EQUAL(img.nmanifests, 1);
	CU_ASSERT_PTR_NULL(img.notice);
	idp_image_release(&img);
	idp_buf_release(&t);
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
		CU_ASSERT_EQUAL(push_all(&t, &img, &err), -1);
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
	CU_ASSERT_EQUAL(push_all(&t, &img, &err), 0);
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
	CU_ASSERT_EQUAL(push_all(&t, &img, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(img.notice);
	CU_ASSERT_PTR_NOT_NULL(img.notice && strstr(img.notice, "lists 2 platforms"));
	idp_image_release(&img);
	idp_buf_release(&t);
}

static const struct unit_test tests[] = {
	{ "legacy", test_legacy },
	{ "config_not_a_string", test_config_not_a_string },
	{ "index_digest_not_a_string", test_index_digest_not_a_string },
	{ "index_os_not_a_string", test_index_os_not_a_string },
	{ NULL, NULL }
};

IDP_SUITE(docker_save) { unit_add_suite("docker_save", tests); }
