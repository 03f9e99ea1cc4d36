/* zlayer.h: a raw layer's compressed bytes, as a sequential reader. The
 * raw bytes come from a fill function, block by block (IDP_COMPRESS_BLOCK,
 * compress.h); worker threads compress the blocks (pcompress.h) while the
 * next ones are filled, and the output is handed back in order. The
 * compressor starts on the first read, so a layer that is never read
 * costs nothing. The same raw bytes and codec always give the same output,
 * whichever source fills it (a docker save stream, docker's layer store).
 *
 *   idp_zlayer_init(&z, &opts)             (the codec, the fill function...)
 *   while ((n = idp_zlayer_read(&z, buf, len, err)) > 0) ...   0 at the end
 *   idp_zlayer_release(&z) */
#ifndef IDP_ZLAYER_H
#define IDP_ZLAYER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "compress.h"
#include "util/error.h"
#include "pcompress.h"

/* Fill dst with up to cap raw bytes: *len < cap only at the end of the
 * layer. 0, or -1 with err. */
typedef int (*idp_zlayer_fill_fn)(void *ctx, unsigned char *dst, size_t cap, size_t *len,
				  struct idp_error *err);

struct idp_zlayer {
	struct idp_codec codec;
	int threads;               /* 0 = one per CPU */
	int spare;                 /* block slots beyond the threads' (pcompress.h) */
	idp_zlayer_fill_fn fill;
	void *ctx;
	volatile sig_atomic_t *cancel;
	struct idp_pcompress *pc;  /* NULL until the first read */
	int started;
	int in_eof;                /* fill said the end */
	int out_done;              /* every compressed byte was read */
	int blocks;                /* blocks submitted */
	int holding;               /* a compressed block taken back, being read out */
	const unsigned char *out;
	size_t out_len, out_off;
	/* progress in raw bytes: those behind the compressed output read so
	 * far (the blocks read out whole, and a share of the current one) */
	int64_t delivered;
	int64_t delivered_blocks;
	size_t block_in;           /* raw bytes behind the block being read out */
};

/* Where a layer's raw bytes come from and how they are compressed. */
struct idp_zlayer_opts {
	const struct idp_codec *codec;   /* copied */
	int threads;               /* 0 = one per CPU */
	int spare;                 /* 0 = pcompress's default; 1: other layers share the CPUs */
	idp_zlayer_fill_fn fill;
	void *ctx;                 /* fill's */
	volatile sig_atomic_t *cancel;
};

void idp_zlayer_init(struct idp_zlayer *z, const struct idp_zlayer_opts *o);
/* Up to n compressed bytes: >0, 0 at the end, -1 with err (the fill's
 * error, a compressor's, or IDP_ECANCELED). */
ssize_t idp_zlayer_read(struct idp_zlayer *z, void *buf, size_t n, struct idp_error *err);
void idp_zlayer_release(struct idp_zlayer *z);

#endif
