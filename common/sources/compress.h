/* compress.h: streaming layer compression, gzip (zlib) or zstd (libzstd
 * when built with it). The caller owns the input buffer; the compressor
 * takes what it can from it and fills the output it is given, so a layer
 * can be compressed as it is read from a stream, one block at a time. */
#ifndef IDP_COMPRESS_H
#define IDP_COMPRESS_H

#include <stddef.h>
#include <sys/types.h>
#include "error.h"

enum idp_compression { IDP_COMPRESS_GZIP, IDP_COMPRESS_ZSTD };

struct idp_compressor;

/* level 0 = the library's default. zstd without libzstd: IDP_EGENERAL. */
int idp_compressor_new(enum idp_compression alg, int level, struct idp_compressor **out,
		       struct idp_error *err);
void idp_compressor_free(struct idp_compressor *c);

/* Compress from in[*in_off, in_len) into out[0, n); at_eof says no input
 * follows what is in `in`. Advances *in_off past what was taken; sets
 * *done once the compressed stream is complete. Returns the bytes written
 * (0 is possible while input is needed) or -1 with err. */
ssize_t idp_compressor_run(struct idp_compressor *c, const unsigned char *in, size_t in_len,
			   size_t *in_off, int at_eof, void *out, size_t n, int *done,
			   struct idp_error *err);

#endif
