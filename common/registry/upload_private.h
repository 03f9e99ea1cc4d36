/* upload_private.h: the decisions of a chunked upload (upload.c) as
 * functions of their inputs alone, so that tests/unit/test_upload.c can
 * try each from a table: what a PATCH's Range means, where a resumed
 * upload goes on, what follows a failed PATCH, how long the finishing
 * PUT may stall and what follows its failure, which blobs go in one
 * request and what a POST ?digest= answer means, how a request shrinks
 * after a 413 and how a file's requests grow. upload.c and its unit
 * test include it, nobody else. */
#ifndef IDP_UPLOAD_PRIVATE_H
#define IDP_UPLOAD_PRIVATE_H

#include <stddef.h>
#include <stdint.h>
#include "util/error.h"

#define IDP_UPLOAD_CHUNK_FLOOR ((size_t)256 << 10)   /* 413s halve a request down to this */

/* What a PATCH's Range (NULL: none, taken as all of it) says the registry
 * holds, the chunk sent ending at chunk_end, *acked before it: 0 with
 * *acked = chunk_end when the chunk is complete. Anything else is a
 * failed attempt that resuming may fix, -1 with a retryable IDP_EREJECTED
 * err: a Range that is not 0-N, one past what was sent or going
 * backwards (*acked unchanged), one short of chunk_end (*acked moves up
 * to it). So a registry can neither point the upload outside what was
 * sent nor keep it going for ever. */
int idp_upload_take_ack(int64_t *acked, const char *range, int64_t chunk_end,
			struct idp_error *err);

/* Where a resumed upload goes on, from the Range of its status (NULL:
 * none, 0). `confirmed` is the offset the last PATCH reply confirmed and
 * `sent` the end of what this session was sent. Gitea up to 1.24.0
 * answers a status GET with one past the end ("0-<n>" for n bytes, "0-0"
 * while empty; distribution's "0-0" is empty or one byte): a status of
 * exactly confirmed + 1 or sent + 1 is taken as confirmed or sent (a
 * byte too few is sent again; a byte skipped would corrupt the blob).
 * -1 with IDP_EREJECTED err when the Range is malformed or past `sent`:
 * never believed beyond what was sent. */
int64_t idp_upload_resume_at(const char *range, int64_t confirmed, int64_t sent,
			     struct idp_error *err);

/* At most this many times a blob starts again in a new session after a
 * 416 (the registry and the resumed offset disagree). */
#define IDP_UPLOAD_MAX_RESTARTS 2

enum idp_upload_next {
	IDP_UPLOAD_FAIL,        /* give up: err says why */
	IDP_UPLOAD_RESUME,      /* wait, ask where the upload stands (GET) and go on */
	IDP_UPLOAD_RESUME_NOW,  /* the same without waiting: a new token was fetched */
	IDP_UPLOAD_RESTART,     /* start the blob again in a new session, now */
};

/* A PATCH failed with HTTP status (0: no answer), err retryable or not;
 * reauthed: it was refused for its token and a new one was fetched;
 * resynced: the upload was resumed from a status GET since the last PATCH
 * that went through; restarts: times it started again after a 416. A 416
 * after a resync means the status misled us: restart, at most
 * IDP_UPLOAD_MAX_RESTARTS times. */
enum idp_upload_next idp_upload_after_failure(int status, int retryable, int reauthed,
					      int resynced, int restarts);

/* The finishing PUT's stall allowance (no byte either way for this long
 * aborts it), from the session's (0: 60 s): the registry may copy the
 * whole blob before it answers (Gitea does), at 16 MiB/s or more: twice
 * the session's, plus a second per 16 MiB, at most an hour. */
long idp_upload_finish_stall_ms(long stall_ms, int64_t size);

/* The finishing PUT failed with HTTP status (0: no answer), err retryable
 * or not, after `failed` earlier failed PUTs, and a HEAD found no blob:
 * IDP_UPLOAD_RESUME (wait, PUT again) or IDP_UPLOAD_FAIL. A PUT after a
 * failed one that finds the upload gone (404) fails: Gitea drops the
 * upload only once it holds the blob, which the HEAD did not find. */
enum idp_upload_next idp_upload_after_put_failure(int status, int retryable, int failed);

/* A blob up to this size goes up in one request (upload.c's small path). */
#define IDP_UPLOAD_SMALL_MAX ((int64_t)1 << 20)

/* 1 when a blob of `size` bytes (-1: unknown), read from a reader that
 * can seek (else a stream), goes up in one request: its size known, at
 * most IDP_UPLOAD_SMALL_MAX and no larger than a request may be (chunk). */
int idp_upload_is_small(int64_t size, int seekable, size_t chunk);

enum idp_post_digest {
	IDP_POST_TAKEN,      /* 201: the blob went in with it */
	IDP_POST_SESSION,    /* 202: a session opened instead (distribution ignores the
	                      * body): PUT ?digest= with the body into it */
	IDP_POST_REFUSED,    /* the registry refuses that form: POST + PUT from now on */
	IDP_POST_FAILED,     /* a failure the other form would meet too (err says it) */
};

/* What the answer (HTTP status, 0: none) to a POST ?digest= carrying a
 * blob means: a 4xx other than 401, 403, 404 and 429 is a refusal of the
 * form; no answer, those and 5xx are failures. */
enum idp_post_digest idp_upload_post_digest(long status);

/* A proxy (or the registry) refused a request of `sent` bytes (413), and
 * `good` is the largest that went through (0: none): the largest request
 * from now on, half of sent down to IDP_UPLOAD_CHUNK_FLOOR, or 0 when it
 * is at the floor already. A request that grew past `good` goes back to
 * it, and *tell is 0 (nothing to warn about); otherwise *tell is 1. */
size_t idp_upload_shrink_413(size_t sent, size_t good, int *tell);

/* A file's request of len bytes went through in ms: the next one is
 * sized to take about IDP_CHUNK_SECONDS at this rate (whole MiB), when
 * that is more than chunk and the request was a whole one (len >= chunk);
 * else chunk. Every PATCH costs a registry a flush to disk: on a fast
 * link they grow, on a slow one they stay a few seconds long. */
size_t idp_upload_grow(size_t chunk, size_t len, int64_t ms);

#endif
