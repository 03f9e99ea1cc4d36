/* http.h: one HTTP connection handle over libcurl. A handle is used by one
 * thread at a time and reused for every request, so keep-alive connections
 * and TLS sessions carry over. It knows nothing of registries: it sends a
 * request, captures status, the headers the registry protocol needs and a
 * bounded body, and maps transport failures (and a stop, stop.h) onto
 * idp_error classes. Also the one URL builder (idp_url_*). */
#ifndef IDP_HTTP_H
#define IDP_HTTP_H

#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>
#include "util/buf.h"
#include "util/clock.h"
#include "util/error.h"
#include "stop.h"
#include "tlsconf.h"

struct idp_ratelimit;

#define IDP_HTTP_MAX_CHALLENGE_HEADERS 4

/* Shared, read-only configuration for every handle of a session (or of the
 * docker API): what changes per request is in idp_http_req. */
struct idp_http_cfg {
	const struct idp_tls *tls;
	const char *ca_bundle;          /* combined PEM bundle, NULL = system default */
	long connect_timeout_ms;        /* 0 = 30 s */
	long stall_timeout_ms;          /* no progress for this long aborts; 0 = 60 s */
	const struct idp_stop *stop;    /* cancel, abort, deadline; NULL = never stops */
	struct idp_ratelimit *limit;    /* request bodies share this rate, NULL = unlimited */
	void (*debug)(void *ctx, const char *line); /* NULL = no debug; Authorization is redacted */
	void *debug_ctx;
	const char *unix_socket;        /* connect here, not to the URL's host (docker's API) */
};

/* Progress, as a count of bytes so far: the one callback type from HTTP
 * (a request body going out) up to whoever shows an upload's progress.
 * Called often: keep it cheap. */
typedef void (*idp_progress_fn)(void *ctx, int64_t bytes);

struct idp_http_req {
	const char *method;             /* GET HEAD POST PUT PATCH DELETE */
	const char *url;
	const char *const *headers;     /* "Name: value", NULL-terminated, may be NULL */
	const char *authorization;      /* "Basic ..."/"Bearer ..." value, or NULL */
	/* body: either memory ... */
	const void *body;
	size_t body_len;
	/* ... or exactly body_len bytes pulled from a reader through `pull`,
	 * which the caller supplies (it hashes and buffers as it needs): the
	 * bytes written to buf, or -1 with err set (idp_http_do returns it). */
	ssize_t (*pull)(void *ctx, void *buf, size_t n, struct idp_error *err);
	void *pull_ctx;
	/* with pull: the length is not known, the body is sent chunked (HTTP/1.1
	 * Transfer-Encoding) until pull returns 0; body_len is ignored */
	int streamed;
	int has_body;                   /* send Content-Length even when 0 */
	int cleanup;                    /* ignore the stop state; 5 s limit */
	/* stopped with its body partly sent, send the rest (at full speed) and
	 * read the answer, for a few seconds at most, rather than cut it: a
	 * blob upload's request, so that its session stays one the registry
	 * can name and delete (distribution keeps the bytes of a request cut
	 * short under an upload state that then names none) */
	int finish_on_stop;
	long connect_timeout_ms;        /* this request's, instead of the configuration's; */
	long stall_timeout_ms;          /* 0 = the configuration's */
	size_t max_response;            /* body cap, 0 = IDP_CAP_JSON_SMALL */
	/* or the body handed over as it arrives (none kept in resp->body): a
	 * stream of unbounded length, such as docker's push progress */
	void (*on_data)(void *ctx, const char *data, size_t n);
	void *data_ctx;
	idp_progress_fn on_sent;        /* as the body goes out: sent_base + its bytes sent */
	void *sent_ctx;
	int64_t sent_base;              /* where the body starts in what on_sent counts */
};

struct idp_http_resp {
	long status;
	struct idp_buf body;
	char *location;
	char *docker_content_digest;
	char *range;
	char *retry_after;
	char *chunk_min_length;         /* OCI-Chunk-Min-Length */
	char *chunk_max_length;         /* OCI-Chunk-Max-Length (a de facto extension) */
	char *content_type;
	int64_t content_length;         /* -1 when absent */
	int nchallenges;
	char *www_authenticate[IDP_HTTP_MAX_CHALLENGE_HEADERS];
};

struct idp_http;

struct idp_http *idp_http_new(const struct idp_http_cfg *cfg);
void idp_http_free(struct idp_http *h);

void idp_http_resp_init(struct idp_http_resp *r);
void idp_http_resp_release(struct idp_http_resp *r);

/* Send the request. resp (idp_http_resp_init) is emptied first, so one
 * serves every attempt of a request. Returns 0 when an HTTP response
 * arrived (any status), -1 on transport failure with err classed
 * (network/timeout/cancel/TLS, retryable set for transient ones) and
 * naming `what` is up to the caller. */
int idp_http_do(struct idp_http *h, const struct idp_http_req *req,
		struct idp_http_resp *resp, struct idp_error *err);

/* The one URL builder. Every URL is built in an idp_buf of cap
 * IDP_CAP_URL (ours, a Location the registry sent, a token realm with
 * its query): idp_url_init, then idp_url_addf as often as needed. */
#define IDP_CAP_URL (16u << 10)
void idp_url_init(struct idp_buf *u);
/* Append to the URL in u: 0, or -1 with err (too long, out of memory). */
int idp_url_addf(struct idp_buf *u, struct idp_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int idp_url_addvf(struct idp_buf *u, struct idp_error *err, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* What goes before the next query parameter of the URL in u: "?" when it
 * has no query, "" when it ends in '?' or '&', else "&". */
const char *idp_url_query_sep(const struct idp_buf *u);

/* "PATCH http://h:5000/v2/owner/name/blobs/uploads/57cab652e8b2...?..."
 * for messages: the query dropped, upload ids and digests cut short, the
 * host and the repository's names whole. */
#define IDP_SHORT_URL_MAX 320
void idp_http_request_name(const char *method, const char *url, char *out, size_t n);

/* Resolve a (possibly relative) Location against the request URL; NULL
 * unless the result is an http(s) URL without user or password. */
char *idp_http_resolve(const char *base, const char *location);

/* Where a URL points: scheme and host lowercased, the port filled in. */
struct idp_origin {
	char scheme[8];
	char host[256];
	long port;
};

/* 0, or -1 when url is not an absolute URL. */
int idp_http_origin(const char *url, struct idp_origin *o);
/* Same scheme, host and port: where credentials may go. */
int idp_http_same_origin(const char *a, const char *b);

/* Process-wide libcurl/GnuTLS setup; call once from main before threads. */
int idp_http_global_init(struct idp_error *err);
void idp_http_global_cleanup(void);

#endif
