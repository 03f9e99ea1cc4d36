/* spoolfill.h: a stream read into a spool (spool.h) on a thread of its
 * own, hashed as it goes, so that the source (a `docker save` pipe, its
 * compressor threads) keeps running while the uploader sends what is
 * already spooled: reading, compressing and hashing overlap the upload
 * instead of stopping for every request. The uploader waits for as many
 * bytes as its next request needs. */
#ifndef IDP_SPOOLFILL_H
#define IDP_SPOOLFILL_H

#include <stdint.h>
#include "blobreader.h"
#include "digest.h"
#include "error.h"
#include "spool.h"

struct idp_spoolfill;

/* After each block the filler appended: the bytes spooled (called on the
 * filler's thread, the same thread that reads r). */
typedef void (*idp_spoolfill_fn)(void *ctx, int64_t spooled);

/* Start reading r into sp (empty), hashing every byte into hash (NULL:
 * none); neither is touched by the caller until idp_spoolfill_stop. */
int idp_spoolfill_start(struct idp_spool *sp, struct idp_blob_reader *r, struct idp_sha256 *hash,
			idp_spoolfill_fn on_block, void *ctx, struct idp_spoolfill **out,
			struct idp_error *err);

/* Wait until the spool holds `want` bytes or the source has ended; the
 * bytes it holds then (below want only at the end), or -1 with the
 * source's error. */
int64_t idp_spoolfill_wait(struct idp_spoolfill *f, int64_t want, struct idp_error *err);

/* Stop after the block being read and join the thread; f is freed. */
void idp_spoolfill_stop(struct idp_spoolfill *f);

#endif
