/* readahead.h: a pipe drained by a thread of its own into a bounded ring
 * buffer, so the writer (`docker save`, and the daemon behind it) does not
 * wait whenever the reader is busy hashing, compressing or handing bytes
 * to the uploader; the reader takes the bytes in order. */
#ifndef IDP_READAHEAD_H
#define IDP_READAHEAD_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>
#include "util/error.h"

#define IDP_READAHEAD_CAP ((size_t)8 << 20)

struct idp_readahead;

/* Start draining fd into a buffer of cap bytes, through a descriptor of
 * our own (a dup, closed by idp_readahead_stop: the writer sees the pipe
 * closed only when both are). cancel (may be NULL) is looked at every
 * 200 ms while the pipe is silent. */
int idp_readahead_start(int fd, size_t cap, volatile sig_atomic_t *cancel,
			struct idp_readahead **out, struct idp_error *err);

/* Up to n bytes in order: > 0, 0 at the end of the pipe, -1 with err (a
 * read error, or cancelled: IDP_ECANCELED). */
ssize_t idp_readahead_read(struct idp_readahead *ra, void *buf, size_t n, struct idp_error *err);

/* Stop the thread (within 200 ms) and free ra; NULL is fine. */
void idp_readahead_stop(struct idp_readahead *ra);

#endif
