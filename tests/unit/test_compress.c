/* test_compress.c: layers compressed block by block by several threads:
 * every gzip library of the build gives a stream zlib (and so gzip, Go)
 * decompresses to the input, zstd one zstd does, the same bytes whatever
 * the number of threads, an empty input still gives a valid stream. The
 * tests of ISA-L, libdeflate and zstd exist only in builds that have them
 * (config.h's HAVE_*); a build without one checks that it is refused. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

	if (idp_pcompress_new(c, threads, 0, &pc, &err) < 0)
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

/* The library named lib, which this build has, picked by IDPPUSH_GZIP_LIB. */
static void choose_gzip_lib(const char *lib, struct idp_codec *c)
{
	struct idp_error err = IDP_ERROR_INIT;
	char name[IDP_CODEC_NAME_MAX], want[32];
	int rc;

	setenv("IDPPUSH_GZIP_LIB", lib, 1);
	rc = idp_codec_choose(IDP_COMPRESS_GZIP, 0, c, &err);
	unsetenv("IDPPUSH_GZIP_LIB");
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	idp_codec_name(c, name);
	snprintf(want, sizeof(want), "gzip/%s-", lib);
	CU_ASSERT_EQUAL(strncmp(name, want, strlen(want)), 0);
}

static void check_gzip_lib(const char *lib)
{
	size_t n = IDP_COMPRESS_BLOCK * 2 + 12345, got;
	unsigned char *in, *back;
	struct idp_buf one = IDP_BUF_INIT, two = IDP_BUF_INIT, empty = IDP_BUF_INIT;
	struct idp_codec c;

	choose_gzip_lib(lib, &c);
	in = make_input(n);
	back = malloc(n + 1);
	CU_ASSERT_EQUAL_FATAL(run(&c, 1, in, n, &one), 0);
	CU_ASSERT_EQUAL_FATAL(run(&c, 3, in, n, &two), 0);
	CU_ASSERT_EQUAL(one.len, two.len);
	CU_ASSERT(one.len == two.len && memcmp(one.buf, two.buf, one.len) == 0);
	CU_ASSERT(one.len < n);
	CU_ASSERT_EQUAL(unit_gunzip(one.buf, one.len, back, n + 1, &got), 0);
	CU_ASSERT_EQUAL(got, n);
	CU_ASSERT(got == n && memcmp(back, in, n) == 0);
	CU_ASSERT_EQUAL_FATAL(run(&c, 2, in, 0, &empty), 0);
	CU_ASSERT(empty.len >= 18);
	CU_ASSERT_EQUAL(unit_gunzip(empty.buf, empty.len, back, n + 1, &got), 0);
	CU_ASSERT_EQUAL(got, 0);
	idp_buf_release(&one);
	idp_buf_release(&two);
	idp_buf_release(&empty);
	free(in);
	free(back);
}

#if !defined(HAVE_ISAL) || !defined(HAVE_LIBDEFLATE)
/* A library this build lacks is refused by name, not replaced by another. */
static void check_gzip_lib_missing(const char *lib)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_codec c;
	int rc;

	setenv("IDPPUSH_GZIP_LIB", lib, 1);
	rc = idp_codec_choose(IDP_COMPRESS_GZIP, 0, &c, &err);
	unsetenv("IDPPUSH_GZIP_LIB");
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "built without"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, lib));
}
#endif

#ifdef HAVE_ISAL
static void test_isal(void) { check_gzip_lib("isal"); }
#else
static void test_isal_missing(void) { check_gzip_lib_missing("isal"); }
#endif
#ifdef HAVE_LIBDEFLATE
static void test_libdeflate(void) { check_gzip_lib("libdeflate"); }
#else
static void test_libdeflate_missing(void) { check_gzip_lib_missing("libdeflate"); }
#endif
static void test_zlib(void) { check_gzip_lib("zlib"); }

/* With no IDPPUSH_GZIP_LIB, the default level goes to the fastest library
 * built (ISA-L, else libdeflate, else zlib); a zlib level to libdeflate,
 * else zlib. */
static void test_default_lib(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_codec c;
#if defined(HAVE_ISAL)
	const char *fast = "gzip/isal-";
#elif defined(HAVE_LIBDEFLATE)
	const char *fast = "gzip/libdeflate-";
#else
	const char *fast = "gzip/zlib-";
#endif
#ifdef HAVE_LIBDEFLATE
	const char *leveled = "gzip/libdeflate-";
#else
	const char *leveled = "gzip/zlib-";
#endif
	char name[IDP_CODEC_NAME_MAX];

	unsetenv("IDPPUSH_GZIP_LIB");
	CU_ASSERT_EQUAL_FATAL(idp_codec_choose(IDP_COMPRESS_GZIP, 0, &c, &err), 0);
	idp_codec_name(&c, name);
	CU_ASSERT_EQUAL(strncmp(name, fast, strlen(fast)), 0);
	CU_ASSERT_EQUAL_FATAL(idp_codec_choose(IDP_COMPRESS_GZIP, 6, &c, &err), 0);
	idp_codec_name(&c, name);
	CU_ASSERT_EQUAL(strncmp(name, leveled, strlen(leveled)), 0);
}

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
/* Without zstd, asking for it is an error, not gzip in disguise. */
static void test_zstd_missing(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_codec c;

	CU_ASSERT_EQUAL(idp_codec_choose(IDP_COMPRESS_ZSTD, 0, &c, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "built without zstd"));
}
#endif

/* Each backend's test is registered only when this build has it; without
 * it, a test that it is refused instead. */
static const struct unit_test tests[] = {
#ifdef HAVE_ISAL
	{ "isal", test_isal },
#else
	{ "isal_missing", test_isal_missing },
#endif
#ifdef HAVE_LIBDEFLATE
	{ "libdeflate", test_libdeflate },
#else
	{ "libdeflate_missing", test_libdeflate_missing },
#endif
	{ "zlib", test_zlib },
	{ "default_lib", test_default_lib },
	{ "names", test_names },
#ifdef HAVE_ZSTD
	{ "zstd", test_zstd },
#else
	{ "zstd_missing", test_zstd_missing },
#endif
	{ NULL, NULL }
};

IDP_SUITE(compress) { unit_add_suite("compress", tests); }
