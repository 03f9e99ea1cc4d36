/* test_upload.c: the decisions of a chunked upload (registry/upload_private.h),
 * from tables, each row able to fail on its own: what a PATCH's Range
 * means (a backwards Range, one beyond what was sent, a short ack), where
 * a resumed upload goes on ("0-0" as 0, Gitea's one past the end, never
 * past what was sent), what follows a failed PATCH (a 416 after a resync:
 * a new session, bounded), the finishing PUT's stall allowance and what
 * follows its failure, which blobs go in one request and what a POST
 * ?digest= answer means, how a request shrinks after a 413 and how a
 * file's requests grow. */
#include "config.h"
#include <stdint.h>
#include "unit.h"
#include "registry/registry.h"
#include "registry/upload_private.h"

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)

/* An assertion named after its row: a failure says which row. */
#define CHECK_ROW(cond, row) \
	CU_assertImplementation((cond) ? CU_TRUE : CU_FALSE, __LINE__, (row)->what, __FILE__, \
				"", CU_FALSE)

struct ack_row {
	const char *what;
	int64_t acked;          /* before the PATCH */
	const char *range;      /* its Range, NULL: none */
	int64_t chunk_end;      /* the chunk sent ends here */
	int rc;
	int64_t acked_after;
};

static const struct ack_row ack_rows[] = {
	{ "the whole chunk", 0, "0-99", 100, 0, 100 },
	{ "the next chunk", 100, "0-199", 200, 0, 200 },
	{ "bytes= form", 0, "bytes=0-99", 100, 0, 100 },
	{ "no Range: taken as all of it", 100, NULL, 200, 0, 200 },
	{ "one byte, 0-0", 0, "0-0", 1, 0, 1 },
	{ "short ack: moves up, fails", 0, "0-49", 100, -1, 50 },
	{ "short ack at the old offset", 50, "0-49", 100, -1, 50 },
	{ "nothing kept (0--1)", 0, "0--1", 100, -1, 0 },
	{ "beyond what was sent", 0, "0-199", 100, -1, 0 },
	{ "one byte beyond", 100, "0-200", 200, -1, 100 },
	{ "backwards", 200, "0-99", 300, -1, 200 },
	{ "not from 0", 0, "5-99", 100, -1, 0 },
	{ "not a Range", 0, "junk", 100, -1, 0 },
	{ "empty Range", 0, "", 100, -1, 0 },
};

static void test_take_ack(void)
{
	size_t i;

	for (i = 0; i < sizeof(ack_rows) / sizeof(ack_rows[0]); i++) {
		const struct ack_row *r = &ack_rows[i];
		struct idp_error err = IDP_ERROR_INIT;
		int64_t acked = r->acked;
		int rc = idp_upload_take_ack(&acked, r->range, r->chunk_end, &err);

		CHECK_ROW(rc == r->rc, r);
		CHECK_ROW(acked == r->acked_after, r);
		/* a failed attempt is resumed: retryable, and says so */
		CHECK_ROW(rc == 0 ? err.cls == IDP_OK
				  : err.cls == IDP_EREJECTED && err.retryable && err.msg[0], r);
	}
}

struct resume_row {
	const char *what;
	const char *range;      /* the upload's status, NULL: none */
	int64_t confirmed;      /* the last PATCH reply's offset */
	int64_t sent;           /* the end of what the session was sent */
	int64_t at;             /* -1: cannot resume */
};

static const struct resume_row resume_rows[] = {
	{ "no Range: from 0", NULL, 0, 100, 0 },
	{ "0-0 is 0, not 1", "0-0", 0, 100, 0 },
	{ "0-0 with nothing sent", "0-0", 0, 0, 0 },
	{ "0--1: empty", "0--1", 0, 100, 0 },
	{ "two bytes", "0-1", 0, 100, 2 },
	{ "all that was sent", "0-99", 0, 100, 100 },
	{ "what a PATCH confirmed", "0-49", 50, 100, 50 },
	{ "short of what a PATCH confirmed: from there", "0-29", 50, 100, 30 },
	{ "Gitea 1.22: one past the confirmed end", "0-50", 50, 100, 50 },
	{ "Gitea 1.22: one past all that was sent", "0-100", 50, 100, 100 },
	{ "Gitea 1.22 after a lost PATCH reply", "0-1048576", 524288, 1048576, 1048576 },
	{ "Gitea 1.25: the confirmed end", "0-524287", 524288, 600000, 524288 },
	{ "beyond what was sent", "0-101", 50, 100, -1 },
	{ "far beyond", "0-999999", 0, 100, -1 },
	{ "sent nothing, holds two", "0-1", 0, 0, -1 },
	{ "malformed", "junk", 0, 100, -1 },
	{ "not from 0", "1-5", 0, 100, -1 },
};

static void test_resume_at(void)
{
	size_t i;

	for (i = 0; i < sizeof(resume_rows) / sizeof(resume_rows[0]); i++) {
		const struct resume_row *r = &resume_rows[i];
		struct idp_error err = IDP_ERROR_INIT;
		int64_t at = idp_upload_resume_at(r->range, r->confirmed, r->sent, &err);

		CHECK_ROW(at == r->at, r);
		CHECK_ROW(at >= 0 ? err.cls == IDP_OK : err.cls == IDP_EREJECTED, r);
	}
}

struct next_row {
	const char *what;
	int status;             /* the failed PATCH's, 0: no answer */
	int retryable;
	int reauthed;
	int resynced;
	int restarts;
	enum idp_upload_next next;
};

static const struct next_row next_rows[] = {
	{ "connection cut: resume", 0, 1, 0, 0, 0, IDP_UPLOAD_RESUME },
	{ "cut again after a resync: resume", 0, 1, 0, 1, 0, IDP_UPLOAD_RESUME },
	{ "503: resume", 503, 1, 0, 0, 0, IDP_UPLOAD_RESUME },
	{ "a new token: resume at once", 0, 1, 1, 0, 0, IDP_UPLOAD_RESUME_NOW },
	{ "no new token: fail", 0, 0, 1, 0, 0, IDP_UPLOAD_FAIL },
	{ "416 after a resync: a new session", 416, 0, 0, 1, 0, IDP_UPLOAD_RESTART },
	{ "416 after a resync, once more", 416, 0, 0, 1, 1, IDP_UPLOAD_RESTART },
	{ "416 after a resync, bounded", 416, 0, 0, 1, IDP_UPLOAD_MAX_RESTARTS,
	  IDP_UPLOAD_FAIL },
	{ "416 without a resync: our own offset, fail", 416, 0, 0, 0, 0, IDP_UPLOAD_FAIL },
	{ "400: fail", 400, 0, 0, 1, 0, IDP_UPLOAD_FAIL },
	{ "a short ack: resume", 202, 1, 0, 0, 0, IDP_UPLOAD_RESUME },
};

static void test_after_failure(void)
{
	size_t i;

	for (i = 0; i < sizeof(next_rows) / sizeof(next_rows[0]); i++) {
		const struct next_row *r = &next_rows[i];

		CHECK_ROW(idp_upload_after_failure(r->status, r->retryable, r->reauthed,
						   r->resynced, r->restarts) == r->next, r);
	}
}

struct stall_row {
	const char *what;
	long stall_ms;          /* the session's, 0: the default */
	int64_t size;           /* the blob's */
	long ms;
};

static const struct stall_row stall_rows[] = {
	{ "a small blob: twice the default", 0, 1000, 120000 },
	{ "twice the session's", 5000, 1000, 10000 },
	{ "a second per 16 MiB", 0, (int64_t)160 << 20, 130000 },
	{ "a 4 GiB layer", 60000, (int64_t)4 << 30, 376000 },
	{ "at most an hour", 60000, (int64_t)1 << 40, 3600000 },
};

static void test_finish_stall(void)
{
	size_t i;

	for (i = 0; i < sizeof(stall_rows) / sizeof(stall_rows[0]); i++) {
		const struct stall_row *r = &stall_rows[i];

		CHECK_ROW(idp_upload_finish_stall_ms(r->stall_ms, r->size) == r->ms, r);
	}
}

struct put_row {
	const char *what;
	int status;             /* the failed PUT's, 0: no answer */
	int retryable;
	int failed;             /* earlier failed PUTs */
	enum idp_upload_next next;
};

static const struct put_row put_rows[] = {
	{ "504 from the proxy: again", 504, 1, 0, IDP_UPLOAD_RESUME },
	{ "stalled: again", 0, 1, 0, IDP_UPLOAD_RESUME },
	{ "504 twice: again", 504, 1, 1, IDP_UPLOAD_RESUME },
	{ "upload gone after a failed PUT, no blob: fail", 404, 0, 1, IDP_UPLOAD_FAIL },
	{ "upload gone at once: fail", 404, 0, 0, IDP_UPLOAD_FAIL },
	{ "a wrong digest: fail", 400, 0, 0, IDP_UPLOAD_FAIL },
};

static void test_after_put_failure(void)
{
	size_t i;

	for (i = 0; i < sizeof(put_rows) / sizeof(put_rows[0]); i++) {
		const struct put_row *r = &put_rows[i];

		CHECK_ROW(idp_upload_after_put_failure(r->status, r->retryable, r->failed) ==
				  r->next, r);
	}
}

struct small_row {
	const char *what;
	int64_t size;
	int seekable;
	size_t chunk;           /* the largest request now */
	int small;
};

static const struct small_row small_rows[] = {
	{ "a config", 400, 1, 64 * MIB, 1 },
	{ "an empty blob", 0, 1, 64 * MIB, 1 },
	{ "1 MiB exactly", (int64_t)MIB, 1, 64 * MIB, 1 },
	{ "a byte more", (int64_t)MIB + 1, 1, 64 * MIB, 0 },
	{ "a stream", 400, 0, 64 * MIB, 0 },
	{ "size unknown", -1, 1, 64 * MIB, 0 },
	{ "larger than a request may be", 300000, 1, 256 * KIB, 0 },
	{ "as large as a request may be", 300000, 1, 300000, 1 },
};

static void test_is_small(void)
{
	size_t i;

	for (i = 0; i < sizeof(small_rows) / sizeof(small_rows[0]); i++) {
		const struct small_row *r = &small_rows[i];

		CHECK_ROW(idp_upload_is_small(r->size, r->seekable, r->chunk) == r->small, r);
	}
}

struct post_row {
	const char *what;
	long status;
	enum idp_post_digest means;
};

static const struct post_row post_rows[] = {
	{ "Gitea: taken", 201, IDP_POST_TAKEN },
	{ "distribution: a session", 202, IDP_POST_SESSION },
	{ "a refused form (400)", 400, IDP_POST_REFUSED },
	{ "a refused method (405)", 405, IDP_POST_REFUSED },
	{ "a proxy's body limit (413)", 413, IDP_POST_REFUSED },
	{ "a refused type (415)", 415, IDP_POST_REFUSED },
	{ "credentials (401)", 401, IDP_POST_FAILED },
	{ "denied (403)", 403, IDP_POST_FAILED },
	{ "no such owner (404)", 404, IDP_POST_FAILED },
	{ "slow down (429)", 429, IDP_POST_FAILED },
	{ "a server error", 500, IDP_POST_FAILED },
	{ "no answer", 0, IDP_POST_FAILED },
};

static void test_post_digest(void)
{
	size_t i;

	for (i = 0; i < sizeof(post_rows) / sizeof(post_rows[0]); i++) {
		const struct post_row *r = &post_rows[i];

		CHECK_ROW(idp_upload_post_digest(r->status) == r->means, r);
	}
}

struct shrink_row {
	const char *what;
	size_t sent;            /* the refused request */
	size_t good;            /* the largest that went through, 0: none */
	size_t next;            /* 0: cannot shrink */
	int tell;
};

static const struct shrink_row shrink_rows[] = {
	{ "halved", 64 * MIB, 0, 32 * MIB, 1 },
	{ "halved, not grown past good", 64 * MIB, 64 * MIB, 32 * MIB, 1 },
	{ "under good: halved", 32 * MIB, 64 * MIB, 16 * MIB, 1 },
	{ "grown past good: back to it, quietly", 128 * MIB, 64 * MIB, 64 * MIB, 0 },
	{ "grown past a small good", 2 * MIB, 300 * KIB, 300 * KIB, 0 },
	{ "halved to the floor", 512 * KIB, 0, IDP_UPLOAD_CHUNK_FLOOR, 1 },
	{ "half below the floor: the floor", 300 * KIB, 0, IDP_UPLOAD_CHUNK_FLOOR, 1 },
	{ "at the floor: cannot", IDP_UPLOAD_CHUNK_FLOOR, 0, 0, 0 },
	{ "below the floor: cannot", 100 * KIB, 0, 0, 0 },
};

static void test_shrink_413(void)
{
	size_t i;

	for (i = 0; i < sizeof(shrink_rows) / sizeof(shrink_rows[0]); i++) {
		const struct shrink_row *r = &shrink_rows[i];
		int tell = -1;
		size_t next = idp_upload_shrink_413(r->sent, r->good, &tell);

		CHECK_ROW(next == r->next, r);
		CHECK_ROW(tell == r->tell, r);
	}
}

struct grow_row {
	const char *what;
	size_t chunk;           /* the request size now */
	size_t len;             /* the request that went through */
	int64_t ms;             /* and how long it took */
	size_t next;
};

static const struct grow_row grow_rows[] = {
	{ "1 s for 64 MiB: four times", 64 * MIB, 64 * MIB, 1000, 256 * MIB },
	{ "whole MiB", 64 * MIB, 64 * MIB, 3000, 85 * MIB },
	{ "IDP_CHUNK_SECONDS exactly: the same", 64 * MIB, 64 * MIB,
	  1000 * IDP_CHUNK_SECONDS, 64 * MIB },
	{ "slow: never shrinks", 64 * MIB, 64 * MIB, 60000, 64 * MIB },
	{ "a short request: no growth", 64 * MIB, 32 * MIB, 100, 64 * MIB },
	{ "no time at all: as large as can be", 64 * MIB, 64 * MIB, 0,
	  (size_t)(UINT64_MAX & ~((uint64_t)MIB - 1)) },
};

static void test_grow(void)
{
	size_t i;

	for (i = 0; i < sizeof(grow_rows) / sizeof(grow_rows[0]); i++) {
		const struct grow_row *r = &grow_rows[i];

		CHECK_ROW(idp_upload_grow(r->chunk, r->len, r->ms) == r->next, r);
	}
}

static const struct unit_test tests[] = {
	{ "take_ack", test_take_ack },
	{ "resume_at", test_resume_at },
	{ "after_failure", test_after_failure },
	{ "finish_stall", test_finish_stall },
	{ "after_put_failure", test_after_put_failure },
	{ "is_small", test_is_small },
	{ "post_digest", test_post_digest },
	{ "shrink_413", test_shrink_413 },
	{ "grow", test_grow },
	{ NULL, NULL }
};

IDP_SUITE(upload) { unit_add_suite("upload", tests); }
