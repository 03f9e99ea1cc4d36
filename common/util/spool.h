/* spool.h: a blob's bytes kept in an unlinked temporary file while they
 * are uploaded, for blobs whose source cannot be read twice (a stream):
 * any chunk can be sent again, and a lost upload session restarted from
 * byte 0, at the cost of disk rather than memory; kept after the upload,
 * it gives the same bytes to another registry. $TMPDIR, else /tmp. */
#ifndef IDP_SPOOL_H
#define IDP_SPOOL_H

#include <stdint.h>
#include <sys/types.h>
#include "blobreader.h"
#include "error.h"

struct idp_spool;

int idp_spool_new(struct idp_spool **out, struct idp_error *err);
void idp_spool_free(struct idp_spool *s);

/* One thread may append while others read what is already there. */

/* Bytes appended so far. */
int64_t idp_spool_len(const struct idp_spool *s);
int idp_spool_append(struct idp_spool *s, const void *data, size_t n, struct idp_error *err);
/* Up to n bytes from offset off (below the length): > 0, or -1 with err. */
ssize_t idp_spool_pread(struct idp_spool *s, void *buf, size_t n, int64_t off,
			struct idp_error *err);
/* A seekable reader over the bytes spooled so far (the spool must
 * outlive it; closing the reader leaves the spool). */
int idp_spool_reader(struct idp_spool *s, struct idp_blob_reader *out, struct idp_error *err);

#endif
