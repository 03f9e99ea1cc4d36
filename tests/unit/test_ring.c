/* test_ring.c: the ring between two threads (the relay's, from the
 * daemon's connection to an upload) and the spool filler behind it lose,
 * reorder or hold back no byte, whatever the sizes of the writes and
 * reads: a short tail and the end come through, a writer waiting for
 * room is let go, a reader that leaves stops the writer. */
#include "config.h"
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "util/ring.h"
#include "util/spool.h"
#include "util/spoolfill.h"

#define TOTAL (3u << 20)

/* Byte i of the test stream. */
static unsigned char at(size_t i)
{
	return (unsigned char)((i * 2654435761u) >> 13);
}

struct writer {
	struct idp_ring *r;
	size_t total;
	int rc;
};

/* Writes of varying sizes (1 byte to 100 KiB), then the end. */
static void *write_all(void *arg)
{
	struct writer *w = arg;
	unsigned char piece[100000];
	size_t off = 0, n, i, step = 1;

	w->rc = 0;
	while (off < w->total && w->rc == 0) {
		n = step % sizeof(piece) + 1;
		if (n > w->total - off)
			n = w->total - off;
		for (i = 0; i < n; i++)
			piece[i] = at(off + i);
		w->rc = idp_ring_write(w->r, piece, n);
		off += n;
		step = step * 7 + 13;
	}
	idp_ring_close(w->r);
	return NULL;
}

static void test_order_and_end(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct writer w = { .total = TOTAL };
	unsigned char buf[70000];
	size_t got = 0, bad = 0, i, want = 1;
	pthread_t th;
	ssize_t n;

	CU_ASSERT_EQUAL_FATAL(idp_ring_new(64u << 10, &w.r, &err), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, write_all, &w), 0);
	while ((n = idp_ring_read(w.r, buf, want, &err)) > 0) {
		for (i = 0; i < (size_t)n; i++)
			bad += buf[i] != at(got + i);
		got += (size_t)n;
		want = want * 3 % sizeof(buf) + 1;
	}
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(w.rc, 0);
	CU_ASSERT_EQUAL(got, TOTAL);
	CU_ASSERT_EQUAL(bad, 0);
	idp_ring_free(w.r);
}

/* Fewer bytes than a batch, then the end: the reader gets them. */
static void test_short_tail(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_ring *r;
	char buf[64];

	CU_ASSERT_EQUAL_FATAL(idp_ring_new(1u << 20, &r, &err), 0);
	CU_ASSERT_EQUAL(idp_ring_write(r, "abc", 3), 0);
	idp_ring_close(r);
	CU_ASSERT_EQUAL(idp_ring_read(r, buf, sizeof(buf), &err), 3);
	CU_ASSERT_EQUAL(memcmp(buf, "abc", 3), 0);
	CU_ASSERT_EQUAL(idp_ring_read(r, buf, sizeof(buf), &err), 0);
	idp_ring_free(r);
}

/* A writer waiting for room returns -1 once the reader leaves. */
static void test_reader_leaves(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct writer w = { .total = TOTAL };
	unsigned char buf[1000];
	pthread_t th;

	CU_ASSERT_EQUAL_FATAL(idp_ring_new(4096, &w.r, &err), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, write_all, &w), 0);
	CU_ASSERT(idp_ring_read(w.r, buf, sizeof(buf), &err) > 0);
	idp_ring_leave(w.r);
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(w.rc, -1);
	idp_ring_free(w.r);
}

/* The filler spools the ring's bytes; waits for a count far ahead of
 * what is there, and for more than the stream has, end as they should. */
static void test_spoolfill(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct writer w = { .total = TOTAL };
	struct idp_blob_reader rd;
	struct idp_spoolfill *f;
	struct idp_spool *sp;
	unsigned char buf[4096];
	size_t i, bad = 0;
	int64_t off;
	pthread_t th;

	CU_ASSERT_EQUAL_FATAL(idp_ring_new(256u << 10, &w.r, &err), 0);
	CU_ASSERT_EQUAL_FATAL(idp_spool_new(&sp, &err), 0);
	idp_ring_reader(w.r, &rd);
	CU_ASSERT_EQUAL_FATAL(idp_spoolfill_start(sp, &rd, NULL, NULL, NULL, &f, &err), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, write_all, &w), 0);
	CU_ASSERT(idp_spoolfill_wait(f, 1, &err) >= 1);
	CU_ASSERT(idp_spoolfill_wait(f, TOTAL / 2, &err) >= TOTAL / 2);
	CU_ASSERT_EQUAL(idp_spoolfill_wait(f, TOTAL + 1, &err), TOTAL);
	pthread_join(th, NULL);
	idp_spoolfill_stop(f);
	for (off = 0; off < (int64_t)TOTAL; off += (int64_t)sizeof(buf)) {
		CU_ASSERT_EQUAL_FATAL(idp_spool_pread(sp, buf, sizeof(buf), off, &err),
				      (ssize_t)sizeof(buf));
		for (i = 0; i < sizeof(buf); i++)
			bad += buf[i] != at((size_t)off + i);
	}
	CU_ASSERT_EQUAL(bad, 0);
	idp_blob_reader_close(&rd);
	idp_spool_free(sp);
	idp_ring_free(w.r);
}

static const struct unit_test tests[] = {
	{ "order_and_end", test_order_and_end },
	{ "short_tail", test_short_tail },
	{ "reader_leaves", test_reader_leaves },
	{ "spoolfill", test_spoolfill },
	{ NULL, NULL }
};

IDP_SUITE(ring) { unit_add_suite("ring", tests); }
