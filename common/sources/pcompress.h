/* pcompress.h: a layer compressed by several threads at once, block by
 * block (compress.h), its output handed back in order. The caller fills
 * the next free block with input and submits it; worker threads compress
 * the submitted blocks; the caller takes the compressed blocks back in
 * the order they were submitted. A few blocks are in flight at a time, so
 * memory stays bounded (about 2 x IDP_COMPRESS_BLOCK per slot).
 *
 *   while (more input)
 *           buf = idp_pcompress_input(pc, &cap)    may wait for a free slot
 *           ...read up to cap bytes into buf...
 *           idp_pcompress_submit(pc, len)
 *           while (idp_pcompress_full(pc))
 *                   idp_pcompress_take(pc, &out, &n) ... use ... idp_pcompress_done(pc)
 *   then take the rest until idp_pcompress_pending(pc) is 0. */
#ifndef IDP_PCOMPRESS_H
#define IDP_PCOMPRESS_H

#include <stddef.h>
#include "compress.h"
#include "util/error.h"

#define IDP_PCOMPRESS_MAX_THREADS 8

struct idp_pcompress;

/* The threads a compressor starts for threads 0: one per online CPU, at
 * most IDP_PCOMPRESS_MAX_THREADS. */
int idp_pcompress_cpus(void);

/* threads: 0 = one per online CPU (at most IDP_PCOMPRESS_MAX_THREADS).
 * spare: block slots beyond one per thread (each holds IDP_COMPRESS_BLOCK
 * bytes in and its output); 0 = 2 (every worker busy, one block being
 * taken, one filling), 1 when other compressors share the CPUs. */
int idp_pcompress_new(const struct idp_codec *c, int threads, int spare,
		      struct idp_pcompress **out, struct idp_error *err);
void idp_pcompress_free(struct idp_pcompress *pc);

/* The input buffer of the next free slot (cap = IDP_COMPRESS_BLOCK). The
 * caller must not ask again before submitting it. */
unsigned char *idp_pcompress_input(struct idp_pcompress *pc, size_t *cap);
/* Hand the filled slot (len bytes) to the workers. */
void idp_pcompress_submit(struct idp_pcompress *pc, size_t len);
/* 1 when no slot is free: take a block back before submitting more. */
int idp_pcompress_full(const struct idp_pcompress *pc);
/* Blocks submitted and not yet taken back. */
int idp_pcompress_pending(const struct idp_pcompress *pc);
/* The oldest submitted block, compressed (waits for it): 0, or -1 with
 * the worker's error. Valid until idp_pcompress_done. */
int idp_pcompress_take(struct idp_pcompress *pc, const unsigned char **out, size_t *len,
		       struct idp_error *err);
void idp_pcompress_done(struct idp_pcompress *pc);
/* How many input bytes the block idp_pcompress_take returned came from. */
size_t idp_pcompress_taken_in(const struct idp_pcompress *pc);

#endif
