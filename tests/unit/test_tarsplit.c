/* test_tarsplit.c: the tar-split reader (sources/tarsplit.c) on gzip'd
 * JSON lines made here, good and hostile (bad base64, huge or negative
 * sizes, names that climb out or are absolute, truncated or trailing
 * gzip, overlong lines, lines that are not entries), and the layer-store
 * stream (sources/src_docker_store.c) over a small store made in a temp
 * dir: the tar it puts back together hashes to the diffID, a changed file
 * or a symlink in the layer's directory fails with store_failed set. */
#include "config.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "unit.h"
#include "util/buf.h"
#include "util/digest.h"
#include "util/file.h"
#include "sources/blobsrc.h"
#include "sources/src_docker_store.h"
#include "sources/tarsplit.h"

/* text gzip'd into out (a complete gzip stream). */
static void gzip_text(const char *text, size_t n, struct idp_buf *out)
{
	z_stream zs;
	unsigned char chunk[65536];
	int rc;

	memset(&zs, 0, sizeof(zs));
	idp_buf_init(out, 64u << 20);
	CU_ASSERT_EQUAL_FATAL(deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (unsigned char *)text;
	zs.avail_in = (uInt)n;
	do {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		rc = deflate(&zs, Z_FINISH);
		CU_ASSERT_EQUAL(idp_buf_add(out, chunk, sizeof(chunk) - zs.avail_out), 0);
	} while (rc == Z_OK);
	CU_ASSERT_EQUAL(rc, Z_STREAM_END);
	deflateEnd(&zs);
}

/* Read every entry of the gzip'd lines: the count, or -1 on error (msg). */
static int read_all(const struct idp_buf *gz, struct idp_error *err, int64_t *bytes)
{
	struct idp_blob_reader r;
	struct idp_tarsplit *ts = NULL;
	struct idp_ts_entry e;
	int n = 0, rc;

	*bytes = 0;
	CU_ASSERT_EQUAL_FATAL(idp_blob_reader_mem(gz->buf, gz->len, &r, err), 0);
	CU_ASSERT_EQUAL_FATAL(idp_tarsplit_new(r, &ts, err), 0);
	while ((rc = idp_tarsplit_next(ts, &e, err)) == 1) {
		n++;
		*bytes += e.type == IDP_TS_SEGMENT ? (int64_t)e.len : e.size;
	}
	idp_tarsplit_free(ts);
	idp_blob_reader_close(&r);
	return rc < 0 ? -1 : n;
}

static int lines_result(const char *text, struct idp_error *err)
{
	struct idp_buf gz;
	int64_t bytes;
	int n;

	gzip_text(text, strlen(text), &gz);
	idp_error_clear(err);
	n = read_all(&gz, err, &bytes);
	idp_buf_release(&gz);
	return n;
}

static void test_good(void)
{
	const char *text =
		"{\"type\":2,\"payload\":\"aGVhZGVy\",\"position\":0}\n"
		"{\"type\":1,\"name\":\"usr/bin/x\",\"size\":5,\"payload\":\"AAAAAAAAAAA=\"}\n"
		"{\"type\":1,\"name\":\"d/\",\"payload\":null,\"position\":1}\n"
		"{\"type\":1,\"name_raw\":\"wqk=\",\"size\":1}\n"
		"{\"type\":2,\"payload\":\"\",\"position\":3}\n";
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_blob_reader r;
	struct idp_tarsplit *ts = NULL;
	struct idp_ts_entry e;
	struct idp_buf gz;

	gzip_text(text, strlen(text), &gz);
	CU_ASSERT_EQUAL_FATAL(idp_blob_reader_mem(gz.buf, gz.len, &r, &err), 0);
	CU_ASSERT_EQUAL_FATAL(idp_tarsplit_new(r, &ts, &err), 0);
	CU_ASSERT_EQUAL(idp_tarsplit_next(ts, &e, &err), 1);
	CU_ASSERT_EQUAL(e.type, IDP_TS_SEGMENT);
	CU_ASSERT_TRUE(e.len == 6 && memcmp(e.data, "header", 6) == 0);
	CU_ASSERT_EQUAL(idp_tarsplit_next(ts, &e, &err), 1);
	CU_ASSERT_TRUE(e.type == IDP_TS_FILE && e.size == 5 && strcmp(e.name, "usr/bin/x") == 0);
	CU_ASSERT_EQUAL(idp_tarsplit_next(ts, &e, &err), 1);
	CU_ASSERT_TRUE(e.type == IDP_TS_FILE && e.size == 0 && strcmp(e.name, "d/") == 0);
	CU_ASSERT_EQUAL(idp_tarsplit_next(ts, &e, &err), 1);
	CU_ASSERT_TRUE(e.size == 1 && strcmp(e.name, "\xc2\xa9") == 0);
	CU_ASSERT_EQUAL(idp_tarsplit_next(ts, &e, &err), 1);
	CU_ASSERT_TRUE(e.type == IDP_TS_SEGMENT && e.len == 0);
	CU_ASSERT_EQUAL(idp_tarsplit_next(ts, &e, &err), 0);
	idp_tarsplit_free(ts);
	idp_blob_reader_close(&r);
	idp_buf_release(&gz);
	CU_ASSERT_EQUAL(lines_result("", &err), 0);
}

static void expect_bad(const char *text, const char *what)
{
	struct idp_error err = IDP_ERROR_INIT;

	CU_ASSERT_EQUAL(lines_result(text, &err), -1);
	CU_ASSERT_EQUAL(err.cls, IDP_EGENERAL);
	if (!strstr(err.msg, what))
		fprintf(stderr, "\n  expected '%s' in '%s'\n", what, err.msg);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, what));
}

static void test_hostile_lines(void)
{
	expect_bad("{\"type\":2,\"payload\":\"aGVhZGVy!\"}\n", "bad base64");
	expect_bad("{\"type\":2,\"payload\":\"aGV\"}\n", "bad base64");
	expect_bad("{\"type\":2,\"payload\":\"a=GV\"}\n", "bad base64");
	expect_bad("{\"type\":2,\"payload\":12}\n", "not a string");
	expect_bad("{\"type\":1,\"name\":\"x\",\"size\":2000000000000}\n", "out of range");
	expect_bad("{\"type\":1,\"name\":\"x\",\"size\":-1}\n", "out of range");
	expect_bad("{\"type\":1,\"name\":\"x\",\"size\":\"9\"}\n", "not a number");
	expect_bad("{\"type\":1,\"name\":\"../etc/shadow\",\"size\":3}\n", "climbs out");
	expect_bad("{\"type\":1,\"name\":\"a/../../b\",\"size\":3}\n", "climbs out");
	expect_bad("{\"type\":1,\"name\":\"/etc/shadow\",\"size\":3}\n", "absolute");
	expect_bad("{\"type\":1,\"name\":\"./\",\"size\":3}\n", "empty");
	expect_bad("{\"type\":1,\"name\":\"a\\u0000b\",\"size\":3}\n", "climbs out");
	expect_bad("{\"type\":3}\n", "unknown type");
	expect_bad("{\"type\":\"2\"}\n", "without a type");
	expect_bad("[1,2]\n", "not a JSON object");
	expect_bad("{\"type\":2} trailing\n", "not a JSON object");
	expect_bad("not json\n", "not a JSON object");
}

static void test_hostile_sizes(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	size_t n = IDP_TARSPLIT_LINE_MAX + 100;
	char *big = malloc(n + 32);

	/* a line longer than the cap */
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	snprintf(big, n + 32, "{\"type\":2,\"payload\":\"");
	memset(big + strlen(big), 'A', n - 40);
	snprintf(big + n - 40 + 21, 32, "\"}\n");
	CU_ASSERT_EQUAL(lines_result(big, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "too long"));
	free(big);
	/* a climbing name with no bytes is never opened: accepted */
	CU_ASSERT_EQUAL(lines_result("{\"type\":1,\"name\":\"../x\"}\n", &err), 1);
}

static void test_gzip_damage(void)
{
	const char *text = "{\"type\":2,\"payload\":\"aGVhZGVy\"}\n{\"type\":2,\"payload\":\"\"}\n";
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_buf gz;
	int64_t bytes;

	gzip_text(text, strlen(text), &gz);
	gz.len -= 6;   /* truncated: no trailer */
	CU_ASSERT_EQUAL(read_all(&gz, &err, &bytes), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "truncated"));
	gz.len += 6;
	CU_ASSERT_EQUAL(idp_buf_add(&gz, "junk", 4), 0);   /* data after the stream */
	CU_ASSERT_EQUAL(read_all(&gz, &err, &bytes), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "after the gzip"));
	gz.len -= 4;
	gz.buf[12] ^= 0x55;   /* damaged deflate data */
	CU_ASSERT_EQUAL(read_all(&gz, &err, &bytes), -1);
	idp_buf_release(&gz);
	idp_buf_init(&gz, 64);
	CU_ASSERT_EQUAL(idp_buf_add(&gz, "not gzip at all", 15), 0);
	CU_ASSERT_EQUAL(read_all(&gz, &err, &bytes), -1);
	idp_buf_release(&gz);
}

static void test_names_base64(void)
{
	unsigned char out[16];

	CU_ASSERT_TRUE(idp_tarsplit_name_ok("a", 1));
	CU_ASSERT_TRUE(idp_tarsplit_name_ok("./a/b/", 6));
	CU_ASSERT_TRUE(idp_tarsplit_name_ok("a..b", 4));
	CU_ASSERT_FALSE(idp_tarsplit_name_ok("..", 2));
	CU_ASSERT_FALSE(idp_tarsplit_name_ok("a/..", 4));
	CU_ASSERT_FALSE(idp_tarsplit_name_ok("/a", 2));
	CU_ASSERT_FALSE(idp_tarsplit_name_ok(".//.", 4));
	CU_ASSERT_FALSE(idp_tarsplit_name_ok("a\0b", 3));
	CU_ASSERT_FALSE(idp_tarsplit_name_ok("", 0));
	CU_ASSERT_EQUAL(idp_base64_decode("", 0, out), 0);
	CU_ASSERT_EQUAL(idp_base64_decode("YQ==", 4, out), 1);
	CU_ASSERT_EQUAL(out[0], 'a');
	CU_ASSERT_EQUAL(idp_base64_decode("YWI=", 4, out), 2);
	CU_ASSERT_EQUAL(idp_base64_decode("YWJj", 4, out), 3);
	CU_ASSERT_EQUAL(idp_base64_decode("Y===", 4, out), -1);
	CU_ASSERT_EQUAL(idp_base64_decode("YQ==YQ==", 8, out), -1);
	CU_ASSERT_EQUAL(idp_base64_decode("YW J", 4, out), -1);
}

/* ---- a small layer store ---- */

/* Standard padded base64 of in into out. */
static void b64(const unsigned char *in, size_t n, char *out, size_t cap)
{
	static const char a[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;
	unsigned v;

	for (i = 0; i < n && o + 5 < cap; i += 3) {
		v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
		    (i + 2 < n ? in[i + 2] : 0);
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? a[v & 63] : '=';
	}
	out[o] = '\0';
}

struct mini_store {
	char *root;
	char diffid[IDP_DIGEST_MAX];
	char image_id[IDP_DIGEST_MAX];
	char file[600];            /* the layer's one file */
};

static void put_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(data, 1, n, f), n);
	fclose(f);
}

static void mkdirs(const char *root, const char *rel)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/%s/x", root, rel);
	CU_ASSERT_EQUAL(idp_file_mkdirs(p, 0700, NULL), 0);
}

/* One layer: a 512-byte "header" segment, the file "bin/hello", the
 * padding and end blocks as a second segment. */
static void make_store(struct mini_store *m)
{
	static const char cid[] = "0123456789abcdef0123456789abcdef"
				  "0123456789abcdef0123456789abcdef";
	unsigned char tar[512 + 12 + 500 + 1024], hdr[512], tail[500 + 1024];
	char lines[8192], p[600], b64h[800], b64t[2100], cfg[400];
	struct idp_buf gz;
	size_t i;

	m->root = unit_tmpdir();
	for (i = 0; i < sizeof(hdr); i++)
		hdr[i] = (unsigned char)i;
	memset(tail, 0, sizeof(tail));
	memcpy(tar, hdr, 512);
	memcpy(tar + 512, "hello world\n", 12);
	memcpy(tar + 524, tail, sizeof(tail));
	idp_sha256_digest(tar, sizeof(tar), m->diffid);
	b64(hdr, sizeof(hdr), b64h, sizeof(b64h));
	b64(tail, sizeof(tail), b64t, sizeof(b64t));
	snprintf(lines, sizeof(lines),
		 "{\"type\":2,\"payload\":\"%s\",\"position\":0}\n"
		 "{\"type\":1,\"name\":\"bin/hello\",\"size\":12,\"payload\":\"AAAAAAAAAAA=\"}\n"
		 "{\"type\":2,\"payload\":\"%s\",\"position\":2}\n",
		 b64h, b64t);
	snprintf(cfg, sizeof(cfg),
		 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		 "\"diff_ids\":[\"%s\"]}}", m->diffid);
	idp_sha256_digest(cfg, strlen(cfg), m->image_id);
	mkdirs(m->root, "image/overlay2/imagedb/content/sha256");
	snprintf(p, sizeof(p), "%s/image/overlay2/imagedb/content/sha256/%s", m->root,
		 idp_digest_hex(m->image_id));
	put_file(p, cfg, strlen(cfg));
	snprintf(p, sizeof(p), "image/overlay2/layerdb/sha256/%s", idp_digest_hex(m->diffid));
	mkdirs(m->root, p);
	snprintf(p, sizeof(p), "%s/image/overlay2/layerdb/sha256/%s/diff", m->root,
		 idp_digest_hex(m->diffid));
	put_file(p, m->diffid, strlen(m->diffid));
	snprintf(p + strlen(p) - 4, 16, "cache-id");
	put_file(p, cid, strlen(cid));
	snprintf(p + strlen(p) - 8, 32, "tar-split.json.gz");
	gzip_text(lines, strlen(lines), &gz);
	put_file(p, gz.buf, gz.len);
	idp_buf_release(&gz);
	snprintf(p, sizeof(p), "overlay2/%s/diff/bin", cid);
	mkdirs(m->root, p);
	snprintf(m->file, sizeof(m->file), "%s/overlay2/%s/diff/bin/hello", m->root, cid);
	put_file(m->file, "hello world\n", 12);
}

/* Push-like read of the store: every layer's bytes; 0 or -1 (err).
 * *started: the layer was handed over (next() gave it) before the end. */
static int read_store_from(const struct mini_store *m, int *failed, int64_t *raw, int *started,
			   struct idp_error *err)
{
	const char *diffids[1] = { m->diffid };
	struct idp_store_opts o;
	struct idp_stream st;
	struct idp_stream_blob b;
	struct idp_blob_reader r;
	struct idp_image img;
	unsigned char buf[65536];
	char diffid[IDP_DIGEST_MAX];
	ssize_t n = 1;
	int rc;

	memset(&o, 0, sizeof(o));
	memset(&img, 0, sizeof(img));
	*started = 0;
	o.root = m->root;
	o.root_fd = open(m->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CU_ASSERT_FATAL(o.root_fd >= 0);
	o.driver = "overlay2";
	o.image_id = m->image_id;
	o.ndiffids = 1;
	o.diffids = diffids;
	o.store_failed = failed;
	o.threads = 1;
	CU_ASSERT_EQUAL_FATAL(idp_codec_choose(IDP_COMPRESS_GZIP, 0, &o.codec, err), 0);
	if (idp_stream_docker_store(&o, &st, err) < 0) {
		close(o.root_fd);
		return -1;
	}
	if ((rc = st.ops->next(st.priv, &b, &r, err)) == 1) {
		*started = 1;
		*raw = b.raw_size;
		while ((n = r.ops->read(r.ctx, buf, sizeof(buf), err)) > 0)
			;
		rc = n < 0 ? -1 : st.ops->done(st.priv, m->diffid, 10, diffid, err);
	}
	if (rc == 0 && st.ops->next(st.priv, &b, &r, err) == 0)
		rc = st.ops->finish(st.priv, &img, err);
	CU_ASSERT_TRUE(rc < 0 || (img.nblobs == 2 && img.nmanifests == 1));
	idp_image_release(&img);
	st.ops->close(st.priv);
	close(o.root_fd);
	return rc < 0 ? -1 : 0;
}

static int read_store(const struct mini_store *m, int *failed, int64_t *raw,
		      struct idp_error *err)
{
	int started;

	return read_store_from(m, failed, raw, &started, err);
}

/* A store whose layer directory, or a directory in it, is a link: the
 * layer fails before it is handed over, nothing of it read. */
static void test_store_links(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct mini_store m;
	int failed = 0, started = 1;
	int64_t raw = 0;
	char diff[700], moved[700], cmd[2200];

	make_store(&m);
	snprintf(diff, sizeof(diff), "%s", m.file);
	*strstr(diff, "/diff/") = '\0';
	strcat(diff, "/diff");
	snprintf(moved, sizeof(moved), "%s/elsewhere", m.root);
	CU_ASSERT_EQUAL(rename(diff, moved), 0);
	CU_ASSERT_EQUAL(symlink(moved, diff), 0);
	CU_ASSERT_EQUAL(read_store_from(&m, &failed, &raw, &started, &err), -1);
	CU_ASSERT_EQUAL(started, 0);
	CU_ASSERT_EQUAL(failed, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "without following links"));
	/* the directory back, its bin/ a link to a copy of itself */
	CU_ASSERT_EQUAL(unlink(diff), 0);
	CU_ASSERT_EQUAL(rename(moved, diff), 0);
	snprintf(cmd, sizeof(cmd), "mv '%s/bin' '%s' && ln -s '%s' '%s/bin'", diff, moved, moved,
		 diff);
	CU_ASSERT_EQUAL(system(cmd), 0);
	idp_error_clear(&err);
	failed = 0;
	CU_ASSERT_EQUAL(read_store_from(&m, &failed, &raw, &started, &err), -1);
	CU_ASSERT_EQUAL(started, 0);
	CU_ASSERT_EQUAL(failed, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bin/hello"));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", m.root);
	CU_ASSERT_EQUAL(system(cmd), 0);
	free(m.root);
}

static void test_store(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct mini_store m;
	int failed = 0;
	int64_t raw = 0;
	char cmd[700];

	make_store(&m);
	CU_ASSERT_EQUAL(read_store(&m, &failed, &raw, &err), 0);
	if (err.cls != IDP_OK)
		fprintf(stderr, "\n  %s\n", err.msg);
	CU_ASSERT_EQUAL(raw, 512 + 12 + 500 + 1024);
	CU_ASSERT_EQUAL(failed, 0);
	/* the same size, other bytes: the diffID check fails */
	put_file(m.file, "hello wOrld\n", 12);
	CU_ASSERT_EQUAL(read_store(&m, &failed, &raw, &err), -1);
	CU_ASSERT_EQUAL(failed, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "hashes to"));
	/* another size: refused before it is read */
	failed = 0;
	put_file(m.file, "hello\n", 6);
	CU_ASSERT_EQUAL(read_store(&m, &failed, &raw, &err), -1);
	CU_ASSERT_EQUAL(failed, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "changed on disk"));
	/* a symlink to the right bytes is not followed */
	failed = 0;
	snprintf(cmd, sizeof(cmd), "%s/outside", m.root);
	put_file(cmd, "hello world\n", 12);
	CU_ASSERT_EQUAL(unlink(m.file), 0);
	CU_ASSERT_EQUAL(symlink(cmd, m.file), 0);
	CU_ASSERT_EQUAL(read_store(&m, &failed, &raw, &err), -1);
	CU_ASSERT_EQUAL(failed, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cannot open"));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", m.root);
	CU_ASSERT_EQUAL(system(cmd), 0);
	free(m.root);
}

IDP_SUITE(tarsplit)
{
	static const struct unit_test tests[] = {
		{ "good entries", test_good },
		{ "hostile lines", test_hostile_lines },
		{ "hostile sizes", test_hostile_sizes },
		{ "damaged gzip", test_gzip_damage },
		{ "names and base64", test_names_base64 },
		{ "a layer store", test_store },
		{ "links in a layer store", test_store_links },
		{ NULL, NULL }
	};
	unit_add_suite("tarsplit", tests);
}
