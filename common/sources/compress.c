/* compress.c: one block into one gzip member (ISA-L's igzip, libdeflate or
 * zlib) or one zstd frame (compress.h). */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#ifdef HAVE_ISAL
#include <isa-l.h>
#include <isa-l/igzip_lib.h>
#endif
#ifdef HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif
#ifdef HAVE_ZSTD
#include <zstd.h>
#endif
#include "compress.h"
#include "banned.h"

#define ISAL_DEFAULT_LEVEL 2
#define LIBDEFLATE_DEFAULT_LEVEL 1
#define ZLIB_DEFAULT_LEVEL 1

struct idp_block_compressor {
	struct idp_codec c;
	z_stream z;                /* zlib */
	int z_ready;
#ifdef HAVE_ISAL
	struct isal_zstream is;
	unsigned char *isal_buf;   /* ISA-L's per-level working memory */
	size_t isal_buf_len;
#endif
#ifdef HAVE_LIBDEFLATE
	struct libdeflate_compressor *ld;
#endif
#ifdef HAVE_ZSTD
	ZSTD_CCtx *zc;
#endif
};

/* ---- choosing ---- */

static int lib_built(enum idp_gzip_lib lib)
{
	switch (lib) {
	case IDP_GZIP_ZLIB:
		return 1;
	case IDP_GZIP_LIBDEFLATE:
#ifdef HAVE_LIBDEFLATE
		return 1;
#else
		return 0;
#endif
	case IDP_GZIP_ISAL:
#ifdef HAVE_ISAL
		return 1;
#else
		return 0;
#endif
	}
	return 0;
}

static const char *lib_name(enum idp_gzip_lib lib)
{
	switch (lib) {
	case IDP_GZIP_ZLIB:
		return "zlib";
	case IDP_GZIP_LIBDEFLATE:
		return "libdeflate";
	case IDP_GZIP_ISAL:
		return "isal";
	}
	return "?";
}

/* IDPPUSH_GZIP_LIB, or -1 when unset; -2 when it names nothing known. */
static int lib_from_env(void)
{
	const char *v = getenv("IDPPUSH_GZIP_LIB");
	int lib;

	if (!v || !*v)
		return -1;
	for (lib = IDP_GZIP_ZLIB; lib <= IDP_GZIP_ISAL; lib++)
		if (strcmp(v, lib_name((enum idp_gzip_lib)lib)) == 0)
			return lib;
	return -2;
}

static int default_level(enum idp_gzip_lib lib)
{
	return lib == IDP_GZIP_ISAL ? ISAL_DEFAULT_LEVEL
	       : lib == IDP_GZIP_LIBDEFLATE ? LIBDEFLATE_DEFAULT_LEVEL : ZLIB_DEFAULT_LEVEL;
}

/* A zlib level (1-9) for ISA-L, whose levels are 0-3. */
static int isal_level(int level)
{
	return level <= 1 ? 1 : level <= 5 ? 2 : 3;
}

static enum idp_gzip_lib best_lib(int level)
{
	if (!level && lib_built(IDP_GZIP_ISAL))
		return IDP_GZIP_ISAL;
	return lib_built(IDP_GZIP_LIBDEFLATE) ? IDP_GZIP_LIBDEFLATE : IDP_GZIP_ZLIB;
}

int idp_codec_choose(enum idp_compression alg, int level, struct idp_codec *out,
		     struct idp_error *err)
{
	int env = lib_from_env();

	memset(out, 0, sizeof(*out));
	out->alg = alg;
	out->level = level;
	if (alg == IDP_COMPRESS_ZSTD) {
#ifdef HAVE_ZSTD
		return 0;
#else
		return idp_error_set(err, IDP_EGENERAL, "this idppush was built without zstd");
#endif
	}
	if (env == -2)
		return idp_error_set(err, IDP_EGENERAL,
				     "IDPPUSH_GZIP_LIB must be isal, libdeflate or zlib");
	out->lib = env >= 0 ? (enum idp_gzip_lib)env : best_lib(level);
	if (!lib_built(out->lib))
		return idp_error_set(err, IDP_EGENERAL, "this idppush was built without %s",
				     lib_name(out->lib));
	if (!level)
		out->level = default_level(out->lib);
	else if (out->lib == IDP_GZIP_ISAL)
		out->level = isal_level(level);
	return 0;
}

static const char *lib_version(enum idp_gzip_lib lib)
{
	switch (lib) {
	case IDP_GZIP_ZLIB:
		return zlibVersion();
	case IDP_GZIP_LIBDEFLATE:
#ifdef HAVE_LIBDEFLATE
		return LIBDEFLATE_VERSION_STRING;
#else
		return "";
#endif
	case IDP_GZIP_ISAL:
		break;
	}
	return "";
}

void idp_codec_name(const struct idp_codec *c, char out[IDP_CODEC_NAME_MAX])
{
	unsigned block_m = (unsigned)(IDP_COMPRESS_BLOCK >> 20);

	if (c->alg == IDP_COMPRESS_ZSTD)
#ifdef HAVE_ZSTD
		snprintf(out, IDP_CODEC_NAME_MAX, "zstd/%s/%d/%um", ZSTD_versionString(),
			 c->level, block_m);
#else
		snprintf(out, IDP_CODEC_NAME_MAX, "zstd/none");
#endif
#ifdef HAVE_ISAL
	else if (c->lib == IDP_GZIP_ISAL)
		snprintf(out, IDP_CODEC_NAME_MAX, "gzip/isal-%d.%d/%d/%um", ISAL_MAJOR_VERSION,
			 ISAL_MINOR_VERSION, c->level, block_m);
#endif
	else
		snprintf(out, IDP_CODEC_NAME_MAX, "gzip/%s-%s/%d/%um", lib_name(c->lib),
			 lib_version(c->lib), c->level, block_m);
}

size_t idp_block_bound(size_t n)
{
	/* stored deflate blocks add 5 bytes per 64 KiB, a gzip member 18;
	 * a zstd frame less than that */
	return n + n / 64 + 4096;
}

/* ---- the compressors ---- */

static int new_zlib(struct idp_block_compressor *bc, struct idp_error *err)
{
	if (deflateInit2(&bc->z, bc->c.level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return idp_error_set(err, IDP_EGENERAL, "cannot start gzip compression");
	bc->z_ready = 1;
	return 0;
}

static ssize_t zlib_block(struct idp_block_compressor *bc, const struct idp_block *b,
			  struct idp_error *err)
{
	if (deflateReset(&bc->z) != Z_OK)
		return idp_error_set(err, IDP_EGENERAL, "gzip compression failed");
	bc->z.next_in = (unsigned char *)b->in;
	bc->z.avail_in = (uInt)b->in_len;
	bc->z.next_out = b->out;
	bc->z.avail_out = (uInt)b->out_cap;
	if (deflate(&bc->z, Z_FINISH) != Z_STREAM_END)
		return idp_error_set(err, IDP_EGENERAL, "gzip compression failed");
	return (ssize_t)(b->out_cap - bc->z.avail_out);
}

#ifdef HAVE_LIBDEFLATE
static ssize_t libdeflate_block(struct idp_block_compressor *bc, const struct idp_block *b,
				struct idp_error *err)
{
	size_t r = libdeflate_gzip_compress(bc->ld, b->in, b->in_len, b->out, b->out_cap);

	if (!r)
		return idp_error_set(err, IDP_EGENERAL, "gzip compression failed (libdeflate)");
	return (ssize_t)r;
}
#endif

#ifdef HAVE_ISAL
static int new_isal(struct idp_block_compressor *bc, struct idp_error *err)
{
	static const size_t sizes[] = { ISAL_DEF_LVL0_DEFAULT, ISAL_DEF_LVL1_DEFAULT,
					ISAL_DEF_LVL2_DEFAULT, ISAL_DEF_LVL3_DEFAULT };

	bc->isal_buf_len = sizes[bc->c.level < 0 || bc->c.level > 3 ? 2 : bc->c.level];
	if (!(bc->isal_buf = malloc(bc->isal_buf_len)))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	return 0;
}

static ssize_t isal_block(struct idp_block_compressor *bc, const struct idp_block *b,
			  struct idp_error *err)
{
	struct isal_zstream *s = &bc->is;

	isal_deflate_init(s);
	s->gzip_flag = IGZIP_GZIP;
	s->level = (uint32_t)bc->c.level;
	s->level_buf = bc->isal_buf;
	s->level_buf_size = (uint32_t)bc->isal_buf_len;
	s->end_of_stream = 1;
	s->flush = NO_FLUSH;
	s->next_in = (uint8_t *)b->in;
	s->avail_in = (uint32_t)b->in_len;
	s->next_out = b->out;
	s->avail_out = (uint32_t)b->out_cap;
	if (isal_deflate(s) != COMP_OK || s->internal_state.state != ZSTATE_END)
		return idp_error_set(err, IDP_EGENERAL, "gzip compression failed (ISA-L)");
	return (ssize_t)(b->out_cap - s->avail_out);
}
#endif

#ifdef HAVE_ZSTD
static ssize_t zstd_block(struct idp_block_compressor *bc, const struct idp_block *b,
			  struct idp_error *err)
{
	size_t r = ZSTD_compress2(bc->zc, b->out, b->out_cap, b->in, b->in_len);

	if (ZSTD_isError(r))
		return idp_error_set(err, IDP_EGENERAL, "zstd compression failed: %s",
				     ZSTD_getErrorName(r));
	return (ssize_t)r;
}
#endif

static int new_backend(struct idp_block_compressor *bc, struct idp_error *err)
{
	if (bc->c.alg == IDP_COMPRESS_ZSTD) {
#ifdef HAVE_ZSTD
		if (!(bc->zc = ZSTD_createCCtx()))
			return idp_error_set(err, IDP_EGENERAL, "out of memory");
		if (bc->c.level)
			ZSTD_CCtx_setParameter(bc->zc, ZSTD_c_compressionLevel, bc->c.level);
		ZSTD_CCtx_setParameter(bc->zc, ZSTD_c_checksumFlag, 1);
		return 0;
#else
		return idp_error_set(err, IDP_EGENERAL, "this idppush was built without zstd");
#endif
	}
	switch (bc->c.lib) {
	case IDP_GZIP_ZLIB:
		return new_zlib(bc, err);
	case IDP_GZIP_LIBDEFLATE:
#ifdef HAVE_LIBDEFLATE
		if (!(bc->ld = libdeflate_alloc_compressor(bc->c.level)))
			return idp_error_set(err, IDP_EGENERAL, "cannot start libdeflate");
		return 0;
#else
		break;
#endif
	case IDP_GZIP_ISAL:
#ifdef HAVE_ISAL
		return new_isal(bc, err);
#else
		break;
#endif
	}
	return idp_error_set(err, IDP_EGENERAL, "gzip library not built in");
}

int idp_block_compressor_new(const struct idp_codec *c, struct idp_block_compressor **out,
			     struct idp_error *err)
{
	struct idp_block_compressor *bc = calloc(1, sizeof(*bc));

	*out = NULL;
	if (!bc)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	bc->c = *c;
	if (new_backend(bc, err) < 0) {
		idp_block_compressor_free(bc);
		return -1;
	}
	*out = bc;
	return 0;
}

void idp_block_compressor_free(struct idp_block_compressor *bc)
{
	if (!bc)
		return;
	if (bc->z_ready)
		deflateEnd(&bc->z);
#ifdef HAVE_ISAL
	free(bc->isal_buf);
#endif
#ifdef HAVE_LIBDEFLATE
	if (bc->ld)
		libdeflate_free_compressor(bc->ld);
#endif
#ifdef HAVE_ZSTD
	ZSTD_freeCCtx(bc->zc);
#endif
	free(bc);
}

ssize_t idp_block_compress(struct idp_block_compressor *bc, const struct idp_block *b,
			   struct idp_error *err)
{
	if (b->out_cap < idp_block_bound(b->in_len))
		return idp_error_set(err, IDP_EGENERAL, "internal: compression buffer too small");
#ifdef HAVE_ZSTD
	if (bc->c.alg == IDP_COMPRESS_ZSTD)
		return zstd_block(bc, b, err);
#endif
	switch (bc->c.lib) {
	case IDP_GZIP_ZLIB:
		return zlib_block(bc, b, err);
#ifdef HAVE_LIBDEFLATE
	case IDP_GZIP_LIBDEFLATE:
		return libdeflate_block(bc, b, err);
#endif
#ifdef HAVE_ISAL
	case IDP_GZIP_ISAL:
		return isal_block(bc, b, err);
#endif
	default:
		break;
	}
	return idp_error_set(err, IDP_EGENERAL, "gzip library not built in");
}
