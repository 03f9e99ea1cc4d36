/* blobreader.h: how the engine reads a blob: a small reader interface that
 * sources implement (a file in a content store, bytes being compressed out
 * of a tar stream, a memory block, a ring a relay fills; the stock ones are
 * in sources/blobsrc.h). The engine never knows where bytes come from; a
 * reader that can seek lets an interrupted upload resume anywhere from the
 * reader itself, one that cannot is copied into a spool file as it is read
 * (util/spool.h), from which any request can be sent again. */
#ifndef IDP_BLOBREADER_H
#define IDP_BLOBREADER_H

#include <stdint.h>
#include <sys/types.h>
#include "error.h"

struct idp_blob_reader_ops {
	/* Read up to n bytes: >0 bytes read, 0 at end, -1 error (err set). */
	ssize_t (*read)(void *ctx, void *buf, size_t n, struct idp_error *err);
	/* Position the next read at absolute offset off; NULL if not seekable. */
	int (*seek)(void *ctx, int64_t off, struct idp_error *err);
	void (*close)(void *ctx);
};

struct idp_blob_reader {
	const struct idp_blob_reader_ops *ops;
	void *ctx;
};

/* Close r (a closed or zeroed reader is left alone). */
void idp_blob_reader_close(struct idp_blob_reader *r);

#endif
