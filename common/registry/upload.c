/* upload.c: chunked blob upload (POST, PATCH with Content-Range, PUT
 * ?digest=), hashing on the fly, verifying a known digest before the blob
 * is committed, and resuming a broken transfer from the offset the registry
 * reports. Readers that can seek (and know their size) are sent straight
 * from the source; others (streams) go through a spool file (spool.h),
 * filled on a thread of its own (spoolfill.h) while chunks go out, so any
 * chunk can be sent again and a lost session restarted from byte 0. The
 * first request of a stream whose size is not known yet (a layer being
 * compressed) is streamed (chunked, no Content-Range, at most a chunk):
 * its bytes leave as they are compressed, as docker sends a layer; Gitea
 * takes that form only as a session's first write, so later requests
 * carry Content-Range and wait for their bytes.
 * Chunks shrink when a proxy refuses their size (413) and never exceed the
 * registry's OCI-Chunk-Max-Length; those of a file grow while the link is
 * fast, unless the caller fixed their size. A resync trusts a status no
 * further than what was sent (and knows Gitea's one-past-the-end); a 416
 * after it starts the blob again. The finishing PUT may take long (the
 * registry copies the blob); when it fails, a HEAD says whether the blob
 * is there. A small blob of a file goes in one request (POST ?digest=
 * with the body, else a PUT with it); a refused mount's session is used,
 * as is one opened ahead of the bytes (idp_blob_upload_open).
 * The decisions are functions of their inputs (upload_private.h); the
 * caller's progress callbacks go to HTTP (bytes sent) and to the spool
 * filler (bytes read) as given. A caller that gives the digest may leave
 * its check to the registry (unhashed: PUT ?digest= is checked there). */
#include "config.h"
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "regerr.h"
#include "regheader.h"
#include "util/spool.h"
#include "util/spoolfill.h"
#include "session_private.h"
#include "upload_private.h"
#include "banned.h"

/* A streamed request takes the bytes spooled, up to this much at a time. */
#define STREAM_PULL ((size_t)256 << 10)

struct upload {
	struct idp_session *s;
	struct idp_http *h;
	struct idp_blob_reader *r;
	const char *want_digest;     /* NULL when unknown */
	int64_t size;                /* expected, -1 unknown */
	const struct idp_upload_args *a;   /* on_sent and on_read */
	char *location;              /* current upload URL */
	struct idp_sha256 *hash;
	int64_t hashed;              /* bytes [0, hashed) are in the hash */
	int64_t acked;               /* bytes the registry has */
	int64_t confirmed;           /* what the last PATCH reply said it has */
	int64_t sent_hi;             /* the end of the bytes this session was sent */
	int64_t rpos;                /* direct mode: next reader position */
	struct idp_spool *spool;     /* spool mode (streams); NULL: direct from the reader */
	struct idp_spoolfill *fill;  /* spool mode: reads the source into the spool */
	int64_t req_start;           /* the PATCH being sent: first byte, length, pulled */
	size_t req_len;              /* (a streamed request's: the most it may take) */
	size_t send_off;
	int written;                 /* a request with bytes went to the session */
	int streaming;               /* the request being sent is streamed (streams()) */
	size_t chunk;
	size_t good;                 /* the largest request body that went through */
	int resumed;
	int resynced;                /* resumed from a status GET since the last good PATCH */
	int restarts;                /* new sessions after a 416 */
};

static int set_location(struct upload *u, const char *base, const char *loc, struct idp_error *err)
{
	char *abs;
	if (!loc || !*loc)
		return idp_error_set(err, IDP_EREJECTED,
				     "the registry sent no Location for the upload");
	if (!(abs = idp_http_resolve(base, loc)))
		return idp_error_set(err, IDP_EREJECTED,
				     "the registry sent a bad upload Location '%.200s'", loc);
	if (strncmp(u->s->base_url.buf, "https:", 6) == 0 && strncmp(abs, "https:", 6) != 0) {
		free(abs);
		return idp_error_set(
			err, IDP_EREJECTED,
			"the registry sent an upload Location over plain HTTP ('%.120s'): "
			"refusing to send the blob in clear text",
			loc);
	}
	free(u->location);
	u->location = abs;
	return 0;
}

static void hash_span(struct upload *u, int64_t pos, const unsigned char *p, size_t n)
{
	int64_t end = pos + (int64_t)n;
	if (!u->hash || end <= u->hashed || pos > u->hashed)
		return;
	idp_sha256_update(u->hash, p + (u->hashed - pos), (size_t)(end - u->hashed));
	u->hashed = end;
}

/* Direct mode: pull straight from the (seekable) reader. */
static ssize_t pull_direct(void *ctx, void *buf, size_t n, struct idp_error *err)
{
	struct upload *u = ctx;
	ssize_t r;

	if (n > u->req_len - u->send_off)
		n = u->req_len - u->send_off;
	if (!n)
		return 0;
	r = u->r->ops->read(u->r->ctx, buf, n, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return idp_error_set(err, IDP_EGENERAL, "blob ended early at byte %" PRId64,
				     u->rpos);
	hash_span(u, u->rpos, buf, (size_t)r);
	u->rpos += r;
	u->send_off += (size_t)r;
	if (u->rpos > u->sent_hi)
		u->sent_hi = u->rpos;
	return r;
}

/* Spool mode: (re)send from the spool file; a request of a blob whose
 * size is known, or a streamed one, may start before its bytes are
 * spooled (send_all): wait for them as they are sent. A streamed request
 * ends where the stream does. */
static ssize_t pull_spool(void *ctx, void *buf, size_t n, struct idp_error *err)
{
	struct upload *u = ctx;
	int64_t pos = u->req_start + (int64_t)u->send_off, have;
	ssize_t r;

	if (n > u->req_len - u->send_off)
		n = u->req_len - u->send_off;
	if (u->streaming && n > STREAM_PULL)
		n = STREAM_PULL;   /* what is there goes out, not a full buffer */
	if (!n)
		return 0;
	if (u->fill && (u->size >= 0 || u->streaming)) {
		if ((have = idp_spoolfill_wait(u->fill, pos + (int64_t)n, err)) < 0)
			return -1;
		if (have <= pos && u->streaming)
			return 0;
		if (have <= pos)
			return idp_error_set(err, IDP_EGENERAL, "blob ended early at byte %" PRId64
					     " of %" PRId64, have, u->size);
		if ((int64_t)n > have - pos)
			n = (size_t)(have - pos);
	}
	r = idp_spool_pread(u->spool, buf, n, pos, err);
	if (r > 0)
		u->send_off += (size_t)r;
	if (u->req_start + (int64_t)u->send_off > u->sent_hi)
		u->sent_hi = u->req_start + (int64_t)u->send_off;
	return r;
}

/* Whether the next request is streamed: the first write to the session
 * of a stream whose size is not known yet (a layer being compressed)
 * goes without Content-Length or Content-Range, its bytes sent as they
 * are read, as docker sends a layer; Gitea takes that only as a session's
 * first write, so every later request is a Content-Range one. */
static int streams(const struct upload *u)
{
	return u->size < 0 && u->fill && !u->written;
}

/* The largest request body now: ours, or less when a proxy or the
 * registry said so for any upload of the session. */
static size_t chunk_now(struct upload *u)
{
	size_t shared = __atomic_load_n(&u->s->chunk, __ATOMIC_RELAXED);
	return shared < u->chunk ? shared : u->chunk;
}

/* Lower the session's chunk size (every upload of the session follows). */
static void limit_chunk(struct upload *u, size_t max)
{
	size_t cur = __atomic_load_n(&u->s->chunk, __ATOMIC_RELAXED);

	while (max < cur &&
	       !__atomic_compare_exchange_n(&u->s->chunk, &cur, max, 0, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
	if (max < u->chunk)
		u->chunk = max;
}

/* A new session's answer (202): its Location, and the request sizes the
 * registry asks for (OCI-Chunk-Min-Length, OCI-Chunk-Max-Length). */
static int take_session(struct upload *u, const char *url, const struct idp_http_resp *resp,
			struct idp_error *err)
{
	int64_t min = idp_header_count(resp->chunk_min_length, (int64_t)1 << 30);
	int64_t max = idp_header_count(resp->chunk_max_length, (int64_t)1 << 30);

	if (min > (int64_t)u->chunk)
		u->chunk = (size_t)min;
	if (max > 0 && max < (int64_t)chunk_now(u))
		limit_chunk(u, (size_t)max);
	return set_location(u, url, resp->location, err);
}

static int start_upload(struct upload *u, struct idp_error *err)
{
	struct idp_reg_call c = { .req = { .method = "POST", .has_body = 1 }, .ok = { 202 } };
	struct idp_http_resp resp;
	struct idp_buf url;
	int rc;

	idp_url_init(&url);
	if (idp_session_url(u->s, &url, err, "/v2/%s/blobs/uploads/", u->s->ref.path) < 0)
		return -1;
	idp_http_resp_init(&resp);
	c.req.url = url.buf;
	rc = idp_reg_call(u->s, u->h, &c, &resp, err);
	if (rc == 0)
		rc = take_session(u, url.buf, &resp, err);
	if (rc == 0)
		u->written = 0;
	idp_http_resp_release(&resp);
	idp_buf_release(&url);
	return rc;
}

/* After a failure: ask where the upload stands and continue from there. */
static int resync(struct upload *u, struct idp_error *err)
{
	/* no retries of its own: a transient failure is the next attempt of
	 * the chunk (resume), with the one warning of that step */
	struct idp_reg_call c = { .req = { .method = "GET", .url = u->location },
				  .once = 1, .ok = { 204, 200 } };
	struct idp_http_resp resp;
	int64_t have;
	int rc;

	idp_http_resp_init(&resp);
	rc = idp_reg_call(u->s, u->h, &c, &resp, err);
	if (rc == 0 && resp.location)
		rc = set_location(u, u->location, resp.location, err);
	if (rc < 0)
		idp_error_prefix(err, "cannot resume the upload");
	have = rc == 0 ? idp_upload_resume_at(resp.range, u->confirmed, u->sent_hi, err) : -1;
	idp_http_resp_release(&resp);
	if (have < 0)
		return -1;
	u->acked = have;
	u->resumed++;
	u->resynced = 1;
	if (!u->spool && u->r->ops->seek(u->r->ctx, have, err) < 0)
		return -1;
	u->rpos = have;
	return 0;
}

/* The registry lost the session (distribution drops it when a PATCH was
 * cut after part of its body was written): start a new upload from byte 0
 * (from the spool, or the reader seeks back). Hashing is unaffected:
 * bytes below the high-water mark are not hashed twice. */
static int restart(struct upload *u, struct idp_error *err)
{
	struct idp_error why = *err;

	if (!u->spool && u->r->ops->seek(u->r->ctx, 0, err) < 0)
		return -1;
	if (u->location)
		idp_blob_upload_cancel(u->s, u->h, u->location);
	u->acked = u->confirmed = u->sent_hi = 0;
	u->rpos = 0;
	u->resumed++;
	u->resynced = 0;
	session_warnf(u->s, "%s; starting the upload again", why.msg);
	return start_upload(u, err);
}

int idp_blob_upload_open(struct idp_session *s, struct idp_http *h, char **session,
			 struct idp_error *err)
{
	struct upload u = { .s = s, .h = h, .chunk = idp_session_chunk_size(s) };

	*session = NULL;
	if (start_upload(&u, err) < 0) {
		free(u.location);
		return -1;
	}
	*session = u.location;
	return 0;
}

/* A failed chunk that resuming may fix (resync through GET). */
static int bad_ack(struct idp_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int bad_ack(struct idp_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	idp_error_setv(err, IDP_EREJECTED, fmt, ap);
	va_end(ap);
	err->retryable = 1;
	return -1;
}

int idp_upload_take_ack(int64_t *acked, const char *range, int64_t chunk_end,
			struct idp_error *err)
{
	int64_t held = range ? idp_range_held(range) : chunk_end;

	if (held < 0)
		return bad_ack(err, "the registry answered a PATCH with a Range that is not 0-N "
				    "('%.40s', after bytes up to %" PRId64 ")", range, chunk_end);
	if (held > chunk_end)
		return bad_ack(err, "the registry acknowledged more bytes than were sent "
				    "(%" PRId64 " of %" PRId64 ")", held, chunk_end);
	if (held < *acked)
		return bad_ack(err, "the registry's acknowledged offset went backwards "
				    "(from %" PRId64 " to %" PRId64 ")", *acked, held);
	*acked = held;
	if (held < chunk_end)
		return bad_ack(err, "the registry kept fewer bytes than were sent "
				    "(%" PRId64 " of %" PRId64 ")", held, chunk_end);
	return 0;
}

int64_t idp_upload_resume_at(const char *range, int64_t confirmed, int64_t sent,
			     struct idp_error *err)
{
	int64_t have = range ? idp_range_held(range) : 0;

	if (have == confirmed + 1 || have == sent + 1)
		have--;   /* Gitea <= 1.24.0: one past the end ("0-0": empty, or one byte) */
	if (have < 0 || have > sent)
		return idp_error_set(err, IDP_EREJECTED,
				     "cannot resume the upload: the registry reports %" PRId64
				     " bytes of the %" PRId64 " sent",
				     have, sent);
	return have;
}

enum idp_upload_next idp_upload_after_failure(int status, int retryable, int reauthed,
					      int resynced, int restarts)
{
	if (status == 416 && resynced)
		return restarts < IDP_UPLOAD_MAX_RESTARTS ? IDP_UPLOAD_RESTART : IDP_UPLOAD_FAIL;
	if (!retryable)
		return IDP_UPLOAD_FAIL;
	return reauthed ? IDP_UPLOAD_RESUME_NOW : IDP_UPLOAD_RESUME;
}

size_t idp_upload_grow(size_t chunk, size_t len, int64_t ms)
{
	uint64_t want;

	if (len < chunk)
		return chunk;
	want = ms > 0 ? (uint64_t)len * 1000u * IDP_CHUNK_SECONDS / (uint64_t)ms : UINT64_MAX;
	want &= ~(((uint64_t)1 << 20) - 1);
	if (want <= chunk)
		return chunk;
	return want > SIZE_MAX ? SIZE_MAX : (size_t)want;
}

static int send_chunk_once(struct upload *u, int64_t chunk_end, struct idp_error *err)
{
	char range[96];
	const char *hdrs[] = { range, "Content-Type: application/octet-stream", NULL };
	int streamed = streams(u);
	struct idp_reg_call c = {
		.req = { .method = "PATCH", .url = u->location, .headers = hdrs, .has_body = 1,
			 .finish_on_stop = 1, .pull = u->spool ? pull_spool : pull_direct,
			 .pull_ctx = u,
			 .on_sent = u->a->on_sent, .sent_ctx = u->a->progress_ctx,
			 .sent_base = u->acked },
		.once = 1,   /* a failed chunk is resumed (send_chunk), not sent again */
		.ok = { 202, 204 },
	};
	struct idp_http_resp resp;
	size_t len = (size_t)(chunk_end - u->acked);
	int64_t t0 = idp_now_ms();
	int rc;

	if (len > chunk_now(u))
		len = chunk_now(u);
	snprintf(range, sizeof(range), "Content-Range: %" PRId64 "-%" PRId64, u->acked,
		 u->acked + (int64_t)len - 1);
	u->req_start = u->acked;
	u->req_len = len;
	u->send_off = 0;
	u->streaming = streamed;
	u->written = 1;
	idp_http_resp_init(&resp);
	c.req.body_len = len;
	c.req.streamed = streamed;
	if (streamed)
		c.req.headers = hdrs + 1;   /* no Content-Range */
	/* a failed read of the source comes back as err, as the reader said it */
	rc = idp_reg_call(u->s, u->h, &c, &resp, err);
	u->streaming = 0;
	if (rc == 0 && streamed)
		len = u->send_off;   /* what it turned out to be */
	if (rc == 0)
		rc = set_location(u, u->location, resp.location, err);
	if (rc == 0) {
		rc = idp_upload_take_ack(&u->acked, resp.range, u->req_start + (int64_t)len, err);
		u->confirmed = u->acked;
		u->resynced = 0;
	}
	idp_http_resp_release(&resp);
	if (rc == 0 && len > u->good)
		u->good = len;
	/* a file's blob or a stream of known size, no chunk size given
	 * (other streams keep theirs: a request waits until its bytes are
	 * compressed) */
	if (rc == 0 && (!u->spool || u->size >= 0) && !u->s->opts.chunk_size)
		u->chunk = idp_upload_grow(u->chunk, len, idp_now_ms() - t0);
	return rc;
}

size_t idp_upload_shrink_413(size_t sent, size_t good, int *tell)
{
	*tell = 0;
	if (good && sent > good)   /* a grown request: back to what went through */
		return good;
	if (sent <= IDP_UPLOAD_CHUNK_FLOOR)
		return 0;
	*tell = 1;
	return sent / 2 < IDP_UPLOAD_CHUNK_FLOOR ? IDP_UPLOAD_CHUNK_FLOOR : sent / 2;
}

/* After a 413: the smaller size for this and every later request of the
 * session (idp_upload_shrink_413). 1 when it shrank, 0 when it cannot. */
static int shrink_after_413(struct upload *u)
{
	int tell;
	size_t next = idp_upload_shrink_413(u->req_len, u->good, &tell);

	if (!next)
		return 0;
	limit_chunk(u, next);
	if (tell)
		session_warnf(u->s, "the registry (or a proxy in front of it) refused a %zu-byte "
			      "request (HTTP 413): sending at most %zu bytes per request",
			      u->req_len, next);
	return 1;
}

/* Wait before the next attempt of a chunk, after err: the one warning
 * of this recovery step, with the one count of attempts. */
static int pause_to_resume(struct upload *u, int *attempt, struct idp_error *err)
{
	long ms = idp_retry_delay_ms(&u->s->opts.retry, *attempt, 0.5, err->retry_after_ms);

	(*attempt)++;
	session_warnf(u->s, "%s; resuming the upload in %.1f s (attempt %d of %d)", err->msg,
		      (double)ms / 1000.0, *attempt, u->s->opts.retry.attempts);
	return idp_session_sleep(u->s, ms, err);
}

/* Ask where the upload stands and go on from there. The status GET that
 * fails for a transient reason (the registry still down) is waited for
 * and asked again as the chunk's next attempt; one that says the session
 * is gone (or cannot be believed) starts the blob again. */
static int resume(struct upload *u, int *attempt, struct idp_error *err)
{
	while (resync(u, err) < 0) {
		if (!err->retryable || err->http_status == 404)
			return restart(u, err);
		if (*attempt >= u->s->opts.retry.attempts || pause_to_resume(u, attempt, err) < 0)
			return -1;
	}
	return 0;
}

/* Where the current chunk of a stream of unknown size ends: where the
 * caller said, but for a request that is not streamed no further than
 * the stream goes (a streamed one that stopped at its end, or failed,
 * leaves the rest to Content-Range requests). -1 with the source's err. */
static int64_t chunk_stop(struct upload *u, int64_t chunk_end, struct idp_error *err)
{
	int64_t have;

	if (u->size >= 0 || streams(u))
		return chunk_end;
	if ((have = idp_spoolfill_wait(u->fill, chunk_end, err)) < 0)
		return -1;
	return have < chunk_end ? have : chunk_end;
}

/* Send what remains of the current chunk, resuming on transient failures. */
static int send_chunk(struct upload *u, int64_t chunk_end, struct idp_error *err)
{
	enum idp_upload_next next;
	int attempt = 1;

	while ((chunk_end = chunk_stop(u, chunk_end, err)) > u->acked) {
		if (send_chunk_once(u, chunk_end, err) == 0)
			continue;
		next = idp_upload_after_failure(err->http_status, err->retryable,
						err->cls == IDP_EAUTH, u->resynced, u->restarts);
		if (err->http_status == 413 && shrink_after_413(u)) {
			/* not an attempt: the same bytes go again, in smaller requests */
		} else if (next == IDP_UPLOAD_RESTART) {
			u->restarts++;
			if (restart(u, err) < 0)
				return -1;
			continue;
		} else if (next == IDP_UPLOAD_FAIL || attempt >= u->s->opts.retry.attempts) {
			return -1;
		} else if (next == IDP_UPLOAD_RESUME_NOW) {
			attempt++;   /* bounded all the same */
		} else if (pause_to_resume(u, &attempt, err) < 0) {
			return -1;
		}
		if (resume(u, &attempt, err) < 0)
			return -1;
	}
	return chunk_end < 0 ? -1 : 0;
}

static int send_all(struct upload *u, struct idp_error *err)
{
	int64_t end, have;

	for (;;) {
		end = u->acked + (int64_t)chunk_now(u);
		if (u->size >= 0) {
			/* the request's bytes are pulled as they are spooled */
			if (end > u->size)
				end = u->size;
		} else if ((have = idp_spoolfill_wait(u->fill, streams(u) ? u->acked + 1 : end,
						      err)) < 0) {
			return -1;
		} else if (end > have && !streams(u)) {
			end = have;
		} else if (have <= u->acked) {
			end = have;   /* a stream that ended, or an empty one */
		}
		if (end <= u->acked)
			return 0;
		if (send_chunk(u, end, err) < 0)
			return -1;
	}
}

long idp_upload_finish_stall_ms(long stall_ms, int64_t size)
{
	int64_t ms = 2 * (int64_t)(stall_ms > 0 ? stall_ms : 60000) + (size >> 24) * 1000;

	return ms > 3600000 ? 3600000 : (long)ms;
}

enum idp_upload_next idp_upload_after_put_failure(int status, int retryable, int failed)
{
	if (status == 404 && failed)
		return IDP_UPLOAD_FAIL;
	return retryable ? IDP_UPLOAD_RESUME : IDP_UPLOAD_FAIL;
}

/* One finishing PUT of url (with the small path's body, else none),
 * with the long stall allowance. */
static int put_once(struct upload *u, const char *url, const struct idp_buf *body,
		    struct idp_error *err)
{
	struct idp_reg_call c = {
		.req = { .method = "PUT", .url = url, .has_body = 1, .finish_on_stop = 1,
			 .body = body ? body->buf : NULL, .body_len = body ? body->len : 0,
			 .on_sent = body ? u->a->on_sent : NULL, .sent_ctx = u->a->progress_ctx },
		.once = 1,   /* put_finish() retries, after a HEAD */
		.ok = { 201, 204 },
	};
	struct idp_http_resp resp;
	int rc;

	c.req.stall_timeout_ms = idp_upload_finish_stall_ms(u->s->opts.stall_timeout_ms, u->acked);
	idp_http_resp_init(&resp);
	rc = idp_reg_call(u->s, u->h, &c, &resp, err);
	idp_http_resp_release(&resp);
	return rc;
}

/* After a request that should have stored the blob failed: 1 when the
 * registry has it all the same (the proxy in front gave up waiting, or
 * the answer was lost), with the size sent; 0 when not (or unknown). */
static int landed_anyway(struct upload *u, const char *digest, const struct idp_error *why)
{
	struct idp_error ignored = IDP_ERROR_INIT;
	int64_t size = -1;

	if (idp_blob_exists(u->s, u->h, digest, &size, &ignored) != 1 ||
	    (size >= 0 && size != u->acked))
		return 0;
	session_infof(u->s, "blob %s: the registry has it although its answer failed (%s)",
		      digest, why->msg);
	return 1;
}

/* The finishing PUT; when it fails, HEAD the blob before trying again or
 * giving up: a registry that copies the blob before it answers can outlive
 * the proxy in front (504) and still store it. */
static int put_finish(struct upload *u, const char *url, const char *digest,
		      const struct idp_buf *body, struct idp_error *err)
{
	int failed = 0;
	long ms;

	while (put_once(u, url, body, err) < 0) {
		if (landed_anyway(u, digest, err))
			return 0;
		if (idp_upload_after_put_failure(err->http_status, err->retryable, failed) ==
			    IDP_UPLOAD_FAIL ||
		    ++failed >= u->s->opts.retry.attempts)
			return -1;
		ms = idp_retry_delay_ms(&u->s->opts.retry, failed, 0.5, err->retry_after_ms);
		session_warnf(u->s, "%s; the registry does not have the blob: sending the PUT "
			      "again in %.1f s (attempt %d of %d)", err->msg, (double)ms / 1000.0,
			      failed + 1, u->s->opts.retry.attempts);
		if (idp_session_sleep(u->s, ms, err) < 0)
			return -1;
	}
	return 0;
}

/* PUT <location>?digest=D (with body, or none), HEADing the blob when it
 * fails. */
static int put_digest(struct upload *u, const char *digest, const struct idp_buf *body,
		      struct idp_error *err)
{
	struct idp_buf url;
	int rc = -1;

	idp_url_init(&url);
	if (idp_url_addf(&url, err, "%s", u->location) == 0 &&
	    idp_url_addf(&url, err, "%sdigest=%s", idp_url_query_sep(&url), digest) == 0)
		rc = put_finish(u, url.buf, digest, body, err);
	idp_buf_release(&url);
	return rc;
}

/* A hash of the bytes as they are read; none when the caller trusts the
 * registry's check of the digest it gives. */
static int new_hash(struct upload *u, struct idp_error *err)
{
	idp_sha256_free(u->hash);
	u->hash = NULL;
	if (u->a->unhashed && u->want_digest)
		return 0;
	if (!(u->hash = idp_sha256_new()))
		return idp_error_set(err, IDP_EGENERAL, "cannot start sha256");
	return 0;
}

/* The digest and size of what was read, checked against those expected
 * (the registry checks the digest of bytes not hashed here). */
static int check_read(struct upload *u, struct idp_upload_result *res, struct idp_error *err)
{
	if (u->hash)
		idp_sha256_final(u->hash, res->digest);
	else
		snprintf(res->digest, sizeof(res->digest), "%s", u->want_digest);
	res->size = u->acked;
	if (u->size >= 0 && u->acked != u->size)
		return idp_error_set(
			err, IDP_EGENERAL, "blob %s: expected %" PRId64 " bytes, read %" PRId64,
			u->want_digest ? u->want_digest : res->digest, u->size, u->acked);
	if (u->want_digest && strcmp(u->want_digest, res->digest) != 0)
		return idp_error_set(
			err, IDP_EGENERAL,
			"blob %s is corrupt: its content has digest %s; nothing was committed",
			u->want_digest, res->digest);
	return 0;
}

static int finish(struct upload *u, struct idp_upload_result *res, struct idp_error *err)
{
	if (check_read(u, res, err) < 0)
		return -1;
	return put_digest(u, res->digest, NULL, err);
}

/* ---- the small path: a blob in one request ---- */

int idp_upload_is_small(int64_t size, int seekable, size_t chunk)
{
	return seekable && size >= 0 && size <= IDP_UPLOAD_SMALL_MAX && (uint64_t)size <= chunk;
}

enum idp_post_digest idp_upload_post_digest(long status)
{
	if (status == 201)
		return IDP_POST_TAKEN;
	if (status == 202)
		return IDP_POST_SESSION;
	if (status >= 400 && status < 500 && status != 401 && status != 403 && status != 404 &&
	    status != 429)
		return IDP_POST_REFUSED;
	return IDP_POST_FAILED;
}

/* The whole blob into body, hashed and checked. */
static int read_small(struct upload *u, struct idp_buf *body, struct idp_upload_result *res,
		      struct idp_error *err)
{
	char tmp[16384];
	size_t want;
	ssize_t r;

	while (body->len < (size_t)u->size) {
		want = (size_t)u->size - body->len;
		r = u->r->ops->read(u->r->ctx, tmp, want < sizeof(tmp) ? want : sizeof(tmp), err);
		if (r < 0)
			return -1;
		if (r == 0)
			return idp_error_set(err, IDP_EGENERAL, "blob ended early at byte %zu",
					     body->len);
		if (idp_buf_add(body, tmp, (size_t)r) < 0)
			return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	if (u->hash)
		idp_sha256_update(u->hash, body->buf, body->len);
	u->hashed = u->acked = u->sent_hi = (int64_t)body->len;
	return check_read(u, res, err);
}

/* POST ?digest=D with the blob: 1 when it went in, 0 when a PUT with the
 * body goes next (into u->location, the session the POST opened, or a
 * new one), -1 with err. */
static int post_digest(struct upload *u, const struct idp_buf *body, const char *digest,
		       struct idp_error *err)
{
	const char *hdrs[] = { "Content-Type: application/octet-stream", NULL };
	struct idp_reg_call c = {
		.req = { .method = "POST", .headers = hdrs, .body = body->buf,
			 .body_len = body->len, .has_body = 1, .finish_on_stop = 1,
			 .on_sent = u->a->on_sent, .sent_ctx = u->a->progress_ctx },
		.ok = { 201, 202 },
	};
	struct idp_http_resp resp;
	struct idp_buf url;
	enum idp_post_digest what;
	int rc;

	idp_url_init(&url);
	if (idp_session_url(u->s, &url, err, "/v2/%s/blobs/uploads/?digest=%s", u->s->ref.path,
			    digest) < 0)
		return -1;
	idp_http_resp_init(&resp);
	c.req.url = url.buf;
	rc = idp_reg_call(u->s, u->h, &c, &resp, err);
	what = idp_upload_post_digest(rc == 0 ? resp.status : err->http_status);
	if (what == IDP_POST_SESSION)
		rc = take_session(u, url.buf, &resp, err);
	idp_http_resp_release(&resp);
	idp_buf_release(&url);
	if (what == IDP_POST_SESSION || what == IDP_POST_REFUSED)
		__atomic_store_n(&u->s->no_post_digest, 1, __ATOMIC_RELAXED);
	if (what == IDP_POST_TAKEN)
		return 1;
	if (what == IDP_POST_FAILED)   /* a lost answer may hide a stored blob */
		return err->retryable && landed_anyway(u, digest, err) ? 1 : -1;
	return rc < 0 && what == IDP_POST_SESSION ? -1 : 0;
}

#define SMALL_IN_CHUNKS 2   /* send_small: the session wants smaller requests */

/* A small blob in one request: POST ?digest= with the body, or (into the
 * session given, or one that POST opened, or a new one) PUT ?digest= with
 * it; SMALL_IN_CHUNKS when that session's requests must be smaller than
 * the blob (OCI-Chunk-Max-Length): the caller sends it in chunks. */
static int send_small(struct upload *u, struct idp_upload_result *res, struct idp_error *err)
{
	struct idp_buf body;
	int rc;

	idp_buf_init(&body, (size_t)IDP_UPLOAD_SMALL_MAX);
	rc = read_small(u, &body, res, err);
	if (rc == 0 && !u->location && !__atomic_load_n(&u->s->no_post_digest, __ATOMIC_RELAXED))
		rc = post_digest(u, &body, res->digest, err);
	if (rc == 0 && !u->location)
		rc = start_upload(u, err);
	if (rc == 0 && body.len > chunk_now(u))
		rc = SMALL_IN_CHUNKS;
	if (rc == 0)
		rc = put_digest(u, res->digest, &body, err);
	idp_buf_release(&body);
	return rc < 0 ? -1 : rc == SMALL_IN_CHUNKS ? rc : 0;
}

/* Back to the start of the blob for the chunked path, in the session
 * open: the reader at 0, a new hash, nothing sent. */
static int rewind_for_chunks(struct upload *u, struct idp_upload_result *res,
			     struct idp_error *err)
{
	memset(res, 0, sizeof(*res));
	u->hashed = u->acked = u->confirmed = u->sent_hi = u->rpos = 0;
	if (new_hash(u, err) < 0)
		return -1;
	return u->r->ops->seek(u->r->ctx, 0, err);
}


/* The chunked path: from a spool (streams) or the reader, into the session
 * open or a new one. */
static int send_chunked(struct upload *u, struct idp_upload_result *res, struct idp_error *err)
{
	const struct idp_upload_args *a = u->a;
	int rc = 0;

	if ((!u->r->ops->seek || u->size < 0) && (rc = idp_spool_new(&u->spool, err)) == 0)
		rc = idp_spoolfill_start(u->spool, u->r, u->hash, a->on_read, a->progress_ctx,
					 &u->fill, err);
	if (rc == 0 && !u->location)
		rc = start_upload(u, err);
	if (rc == 0)
		rc = send_all(u, err);
	idp_spoolfill_stop(u->fill);   /* the hash is ours again */
	if (rc == 0)
		rc = finish(u, res, err);
	return rc;
}

int idp_blob_upload(struct idp_session *s, struct idp_http *h, const struct idp_upload_args *a,
		    struct idp_upload_result *res, struct idp_error *err)
{
	struct upload u = {
		.s = s, .h = h, .r = a->reader, .want_digest = a->digest, .size = a->size,
		.a = a,
		.chunk = idp_session_chunk_size(s),
	};
	int rc = 0, small;

	memset(res, 0, sizeof(*res));   /* all output */
	if (new_hash(&u, err) < 0)
		return -1;
	if (a->session)
		rc = set_location(&u, a->session, a->session, err);
	small = idp_upload_is_small(u.size, u.r->ops->seek != NULL, chunk_now(&u));
	/* a stream of known size (a blob pushed as stored) starts with one
	 * request for all of it where nothing set a size: its bytes are sent
	 * as they are spooled (send_all), and a 413 halves it as for any */
	if (!u.r->ops->seek && !s->opts.chunk_size && u.size > (int64_t)u.chunk)
		u.chunk = u.size < (int64_t)IDP_CHUNK_GROWN_MAX ? (size_t)u.size
								: IDP_CHUNK_GROWN_MAX;
	if (rc == 0 && small && (rc = send_small(&u, res, err)) == SMALL_IN_CHUNKS) {
		small = 0;
		rc = rewind_for_chunks(&u, res, err);
	}
	if (rc == 0 && !small)
		rc = send_chunked(&u, res, err);
	if (rc < 0 && u.location)
		idp_blob_upload_cancel(s, h, u.location);
	res->resumed = u.resumed;
	if (rc == 0 && a->keep_spool)
		res->spool = u.spool;
	else
		idp_spool_free(u.spool);
	free(u.location);
	idp_sha256_free(u.hash);
	return rc;
}
