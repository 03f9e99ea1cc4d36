/* ring.h: a bounded ring of bytes from one writer thread to one reader
 * thread (bytes a server receives, handed to a blob reader that pulls
 * them): the writer waits while it is full, the reader while it is
 * empty. The writer ends the bytes (idp_ring_close) or breaks them
 * (idp_ring_fail: the reader gets an error); the reader may leave
 * (idp_ring_leave, or closing its blob reader), and a writer then stops
 * waiting. */
#ifndef IDP_RING_H
#define IDP_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "blobreader.h"
#include "error.h"

struct idp_ring;

int idp_ring_new(size_t cap, struct idp_ring **out, struct idp_error *err);
/* Free r (neither side may use it any more); NULL is fine. */
void idp_ring_free(struct idp_ring *r);

/* The writer's side. Copy n bytes in, waiting for room: 0, or -1 when
 * the reader left or the ring was failed. */
int idp_ring_write(struct idp_ring *r, const void *data, size_t n);
/* No more bytes: the reader gets the end once it has read them. */
void idp_ring_close(struct idp_ring *r);
/* The bytes are broken (why: for the reader's error): from any thread. */
void idp_ring_fail(struct idp_ring *r, const char *why);
/* Whether idp_ring_fail was called. */
int idp_ring_failed(struct idp_ring *r);

/* The reader's side. Up to n bytes: > 0, 0 at the end, -1 with err
 * (the ring was failed). */
ssize_t idp_ring_read(struct idp_ring *r, void *buf, size_t n, struct idp_error *err);
/* The reader stops reading: a waiting writer returns -1. */
void idp_ring_leave(struct idp_ring *r);
/* A blob reader over r (not seekable); closing it leaves the ring. */
void idp_ring_reader(struct idp_ring *r, struct idp_blob_reader *out);

#endif
