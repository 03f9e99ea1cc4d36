/* compress.h: layer compression, block by block. A layer is cut into
 * blocks of IDP_COMPRESS_BLOCK bytes, each compressed on its own into a
 * complete gzip member (RFC 1952) or zstd frame; their concatenation is a
 * valid gzip / zstd stream that every reader takes (Go's, zlib's, zstd's),
 * and the blocks can be compressed by several threads at once
 * (pcompress.h). The same bytes, codec and library always give the same
 * output, whatever the threads did: a re-push finds the same digests.
 *
 * gzip goes through the fastest library this build has: ISA-L (igzip),
 * else libdeflate, else zlib; the defaults were chosen by measurement
 * (bench/): output within 15% of `docker push`'s, at a speed that hides
 * behind reading `docker save`. */
#ifndef IDP_COMPRESS_H
#define IDP_COMPRESS_H

#include <stddef.h>
#include <sys/types.h>
#include "util/error.h"

#define IDP_COMPRESS_BLOCK ((size_t)4 << 20)
#define IDP_CODEC_NAME_MAX 48

enum idp_compression { IDP_COMPRESS_GZIP, IDP_COMPRESS_ZSTD };
enum idp_gzip_lib { IDP_GZIP_ZLIB, IDP_GZIP_LIBDEFLATE, IDP_GZIP_ISAL };

struct idp_codec {
	enum idp_compression alg;
	enum idp_gzip_lib lib;     /* gzip only */
	int level;                 /* the library's own level */
};

/* The codec for alg at a user level (0: the default). gzip levels are
 * zlib's 1-9: given one, libdeflate (or zlib) compresses at it; by
 * default ISA-L at its level 2, else libdeflate 1, else zlib 1. The
 * environment variable IDPPUSH_GZIP_LIB=isal|libdeflate|zlib picks the
 * library (tests and benchmarks); one this build lacks is an error. */
int idp_codec_choose(enum idp_compression alg, int level, struct idp_codec *out,
		     struct idp_error *err);

/* What produces a layer's bytes, e.g. "gzip/isal-2.30/2/4m": two equal
 * names give equal bytes (the push cache keys on it). */
void idp_codec_name(const struct idp_codec *c, char out[IDP_CODEC_NAME_MAX]);

/* One thread's compressor. */
struct idp_block_compressor;

int idp_block_compressor_new(const struct idp_codec *c, struct idp_block_compressor **out,
			     struct idp_error *err);
void idp_block_compressor_free(struct idp_block_compressor *bc);

/* The most bytes n input bytes can compress to (incompressible data
 * grows a little). */
size_t idp_block_bound(size_t n);

/* A block to compress and where its output goes. */
struct idp_block {
	const void *in;
	size_t in_len;             /* <= IDP_COMPRESS_BLOCK */
	void *out;
	size_t out_cap;            /* at least idp_block_bound(in_len) */
};

/* Compress b->in into b->out as one complete gzip member or zstd frame.
 * Returns its length, or -1 with err. */
ssize_t idp_block_compress(struct idp_block_compressor *bc, const struct idp_block *b,
			   struct idp_error *err);

#endif
