/* compress.c: gzip through zlib's deflate (gzip wrapper, window bits
 * 15 + 16) and zstd through ZSTD_compressStream2. */
#include "config.h"
#include <stdlib.h>
#include <zlib.h>
#ifdef HAVE_ZSTD
#include <zstd.h>
#endif
#include "compress.h"
#include "banned.h"

struct idp_compressor {
	enum idp_compression alg;
	z_stream z;
#ifdef HAVE_ZSTD
	ZSTD_CCtx *zc;
#endif
};

static int start_gzip(struct idp_compressor *c, int level, struct idp_error *err)
{
	if (deflateInit2(&c->z, level ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return idp_error_set(err, IDP_EGENERAL, "cannot start gzip compression");
	return 0;
}

static int start_zstd(struct idp_compressor *c, int level, struct idp_error *err)
{
#ifdef HAVE_ZSTD
	if (!(c->zc = ZSTD_createCCtx()))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	if (level)
		ZSTD_CCtx_setParameter(c->zc, ZSTD_c_compressionLevel, level);
	return 0;
#else
	(void)c;
	(void)level;
	return idp_error_set(err, IDP_EGENERAL, "this idppush was built without zstd support");
#endif
}

int idp_compressor_new(enum idp_compression alg, int level, struct idp_compressor **out,
		       struct idp_error *err)
{
	struct idp_compressor *c = calloc(1, sizeof(*c));
	int rc;

	*out = NULL;
	if (!c)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	c->alg = alg;
	rc = alg == IDP_COMPRESS_ZSTD ? start_zstd(c, level, err) : start_gzip(c, level, err);
	if (rc < 0) {
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void idp_compressor_free(struct idp_compressor *c)
{
	if (!c)
		return;
	if (c->alg == IDP_COMPRESS_GZIP)
		deflateEnd(&c->z);
#ifdef HAVE_ZSTD
	ZSTD_freeCCtx(c->zc);
#endif
	free(c);
}

static ssize_t run_gzip(struct idp_compressor *c, const unsigned char *in, size_t in_len,
			size_t *in_off, int at_eof, void *out, size_t n, int *done,
			struct idp_error *err)
{
	int rc;

	c->z.next_in = (unsigned char *)in + *in_off;
	c->z.avail_in = (uInt)(in_len - *in_off);
	c->z.next_out = out;
	c->z.avail_out = (uInt)n;
	rc = deflate(&c->z, at_eof ? Z_FINISH : Z_NO_FLUSH);
	if (rc == Z_STREAM_ERROR)
		return idp_error_set(err, IDP_EGENERAL, "gzip compression failed");
	*in_off = in_len - c->z.avail_in;
	*done = rc == Z_STREAM_END;
	return (ssize_t)(n - c->z.avail_out);
}

#ifdef HAVE_ZSTD
static ssize_t run_zstd(struct idp_compressor *c, const unsigned char *in, size_t in_len,
			size_t *in_off, int at_eof, void *out, size_t n, int *done,
			struct idp_error *err)
{
	ZSTD_inBuffer ib = { in + *in_off, in_len - *in_off, 0 };
	ZSTD_outBuffer ob = { out, n, 0 };
	size_t left = ZSTD_compressStream2(c->zc, &ob, &ib, at_eof ? ZSTD_e_end : ZSTD_e_continue);

	if (ZSTD_isError(left))
		return idp_error_set(err, IDP_EGENERAL, "zstd compression failed: %s",
				     ZSTD_getErrorName(left));
	*in_off += ib.pos;
	*done = at_eof && left == 0;
	return (ssize_t)ob.pos;
}
#endif

ssize_t idp_compressor_run(struct idp_compressor *c, const unsigned char *in, size_t in_len,
			   size_t *in_off, int at_eof, void *out, size_t n, int *done,
			   struct idp_error *err)
{
#ifdef HAVE_ZSTD
	if (c->alg == IDP_COMPRESS_ZSTD)
		return run_zstd(c, in, in_len, in_off, at_eof, out, n, done, err);
#endif
	return run_gzip(c, in, in_len, in_off, at_eof, out, n, done, err);
}
