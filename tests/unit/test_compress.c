/* test_compress.c: layers compressed block by block by several threads:
 * every gzip library of the build gives a stream zlib (and so gzip, Go)
 * decompresses to the input, zstd one zstd does, the same bytes whatever
 * the number of threads, an empty input still gives a valid stream. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#ifdef HAVE_ZSTD
#include <zstd.h>
#endif
#include "unit.h"
#include "util/buf.h"
#include "sources/pcompress.h"

/* Input: compressible text and random bytes, over several blocks. */
static unsigned char *make_input(size_t n)
{
	unsigned char *p = malloc(n);
	unsigned x = 12345;
	size_t i;

	for (i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (i / 65536) % 2 ? (unsigned char)(x >> 16)
				       : (unsigned char)("layer "[i % 6]);
	}
	return p;
}

/* Compress all of in through pc into out. */
static int run(const struct idp_codec *c, int threads, const unsigned char *in, size_t n,
	       struct idp_buf *out)
{
	struct idp_pcompress *pc;
	struct idp_error err = IDP_ERROR_INIT;
	const unsigned char *blk;
	size_t off = 0, cap, take, len;
	int first = 1;

	if (idp_pcompress_new(c, threads, &pc, &err) < 0)
		return -1;
	while (off < n || first || idp_pcompress_pending(pc)) {
		if ((off < n || first) && !idp_pcompress_full(pc)) {
			unsigned char *dst = idp_pcompress_input(pc, &cap);
			take = n - off < cap ? n - off : cap;
			memcpy(dst, in + off, take);
			idp_pcompress_submit(pc, take);
			off += take;
			first = 0;
			continue;
		}
		if (idp_pcompress_take(pc, &blk, &len, &err) < 0 ||
		    idp_buf_add(out, blk, len) < 0) {
			idp_pcompress_free(pc);
			return -1;
		}
		idp_pcompress_done(pc);
	}
	idp_pcompress_free(pc);
	return 0;
}

/* zlib with gzip headers, every member: what `gzip -d` does. */
static int gunzip_all(const struct idp_buf *z, unsigned char *out, size_t cap, size_t *n)
{
	z_stream s;
	size_t in_off = 0;
	int rc = Z_OK;

	*n = 0;
	while (in_off < z->len) {
		memset(&s, 0, sizeof(s));
		if (inflateInit2(&s, 15 + 16) != Z_OK)
			return -1;
		s.next_in = (unsigned char *)z->buf + in_off;
		s.avail_in = (uInt)(z->len - in_off);
		s.next_out = out + *n;
		s.avail_out = (uInt)(cap - *n);
		rc = inflate(&s, Z_FINISH);
		in_off = z->len - s.avail_in;
		*n = cap - s.avail_out;
		inflateEnd(&s);
		if (rc != Z_STREAM_END)
			return -1;
	}
	return 0;
}

static void check_gzip_lib(const char *lib)
{
	size_t n = IDP_COMPRESS_BLOCK * 2 + 12345, got;
	unsigned char *in = make_input(n), *back = malloc(n + 1);
	struct idp_buf one = IDP_BUF_INIT, two = IDP_BUF_INIT, empty = IDP_BUF_INIT;
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_codec c;

	setenv("IDPPUSH_GZIP_LIB", lib, 1);
	if (idp_codec_choose(IDP_COMPRESS_GZIP, 0, &c, &err) < 0) {
		unsetenv("IDPPUSH_GZIP_LIB");
		free(in);
		free(back);
		return;   /* not in this build */
	}
	unsetenv("IDPPUSH_GZIP_LIB");
	CU_ASSERT_EQUAL_FATAL(run(&c, 1, in, n, &one), 0);
	CU_ASSERT_EQUAL_FATAL(run(&c, 3, in, n, &two), 0);
	CU_ASSERT_EQUAL(one.len, two.len);
	CU_ASSERT(one.len == two.len && memcmp(one.buf, two.buf, one.len) == 0);
	CU_ASSERT(one.len < n);
	CU_ASSERT_EQUAL(gunzip_all(&one, back, n + 1, &got), 0);
	CU_ASSERT_EQUAL(got, n);
	CU_ASSERT(got == n && memcmp(back, in, n) == 0);
	CU_ASSERT_EQUAL_FATAL(run(&c, 2, in, 0, &empty), 0);
	CU_ASSERT(empty.len >= 18);
	CU_ASSERT_EQUAL(gunzip_all(&empty, back, n + 1, &got), 0);
	CU_ASSERT_EQUAL(got, 0);
	idp_buf_release(&one);
	idp_buf_release(&two);
	idp_buf_release(&empty);
	free(in);
	free(back);
}

static void test_isal(void) { check_gzip_lib("isal"); }
static void test_libdeflate(void) { check_gzip_lib("libdeflate"); }
static void test_zlib(void) { check_gzip_lib("zlib"); }

static void test_names(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_codec a, b;
	char na[IDP_CODEC_NAME_MAX], nb[IDP_CODEC_NAME_MAX];

	setenv("IDPPUSH_GZIP_LIB", "zlib", 1);
	CU_ASSERT_EQUAL(idp_codec_choose(IDP_COMPRESS_GZIP, 0, &a, &err), 0);
	CU_ASSERT_EQUAL(idp_codec_choose(IDP_COMPRESS_GZIP, 9, &b, &err), 0);
	idp_codec_name(&a, na);
	idp_codec_name(&b, nb);
	CU_ASSERT_PTR_NOT_NULL(strstr(na, "gzip/zlib-"));
	CU_ASSERT_STRING_NOT_EQUAL(na, nb);   /* another level: other bytes, another name */
	setenv("IDPPUSH_GZIP_LIB", "brotli", 1);
	CU_ASSERT_EQUAL(idp_codec_choose(IDP_COMPRESS_GZIP, 0, &a, &err), -1);
	unsetenv("IDPPUSH_GZIP_LIB");
}

#ifdef HAVE_ZSTD
static void test_zstd(void)
{
	size_t n = IDP_COMPRESS_BLOCK + 999, got;
	unsigned char *in = make_input(n), *back = malloc(n);
	struct idp_buf z = IDP_BUF_INIT;
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_codec c;
	ZSTD_DCtx *d = ZSTD_createDCtx();
	ZSTD_inBuffer ib;
	ZSTD_outBuffer ob;

	CU_ASSERT_EQUAL_FATAL(idp_codec_choose(IDP_COMPRESS_ZSTD, 0, &c, &err), 0);
	CU_ASSERT_EQUAL_FATAL(run(&c, 2, in, n, &z), 0);
	ib = (ZSTD_inBuffer){ z.buf, z.len, 0 };
	ob = (ZSTD_outBuffer){ back, n, 0 };
	while (ib.pos < ib.size && !ZSTD_isError(ZSTD_decompressStream(d, &ob, &ib)))
		;
	got = ob.pos;
	CU_ASSERT_EQUAL(got, n);
	CU_ASSERT(got == n && memcmp(back, in, n) == 0);
	ZSTD_freeDCtx(d);
	idp_buf_release(&z);
	free(in);
	free(back);
}
#else
static void test_zstd(void) {}
#endif

static const struct unit_test tests[] = {
	{ "isal", test_isal },
	{ "libdeflate", test_libdeflate },
	{ "zlib", test_zlib },
	{ "names", test_names },
	{ "zstd", test_zstd },
	{ NULL, NULL }
};

IDP_SUITE(compress) { unit_add_suite("compress", tests); }
