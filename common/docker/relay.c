/* relay.c: the loopback relay's server (relay.h): a registry on
 * 127.0.0.1 for one docker daemon's push, built on libmicrohttpd with a
 * thread per connection (an upload's handler may wait while its ring is
 * full: that is the daemon's back-pressure). Connections come through an
 * acceptor of our own: dockerd 26's push tries TLS first and falls back
 * to plain HTTP only when the answer starts with "HTTP/", so a TLS hello
 * is answered so at once, and everything else handed to libmicrohttpd.
 * Every request needs this run's Basic credentials (random, given to the
 * daemon only). Routes: GET /v2/; HEAD /v2/<repo>/blobs/<digest> (what
 * the targets have, relay_blob.c); POST /v2/<repo>/blobs/uploads/ (a
 * mount asked of the targets, else the registry's session handed over,
 * else a session of the relay); PATCH, PUT ?digest=, GET
 * and DELETE on a session; PUT /v2/<repo>/manifests/<ref> (kept, bounded,
 * answered with its sha256; put into the targets only after the push),
 * HEAD/GET of one by digest. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "util/buf.h"
#include "relay_private.h"
#include "banned.h"

#define RELAY_PORT_BASE 16384          /* below Linux's ephemeral ports */
#define RELAY_PORT_SPAN 16384
#define RELAY_PORT_TRIES 8
#define RELAY_MANIFEST_MAX (4u << 20)  /* one manifest */
#define RELAY_MANIFESTS_MAX (10u << 20) /* all of them */
#define RELAY_MAX_MANIFESTS 64
#define RELAY_PENDING 32               /* connections whose first byte is awaited */
#define RELAY_HELLO_MS 5000            /* for that first byte */
#define RELAY_TICK_MS 100

/* ---- state shared with relay_blob.c ---- */

void relay_debugf(struct idp_relay *r, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!r->o.debug)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	r->o.debug(r->o.debug_ctx, line);
}

void relay_fail(struct idp_relay *r, const struct idp_error *err)
{
	pthread_mutex_lock(&r->mu);
	if (!r->failed) {
		r->failed = 1;
		r->first_err = *err;
	}
	pthread_mutex_unlock(&r->mu);
	if (r->o.abort)
		idp_stop_set_abort(r->o.abort, 1);
}

int idp_relay_whole(struct idp_relay *r)
{
	int w;

	pthread_mutex_lock(&r->mu);
	w = r->whole;
	pthread_mutex_unlock(&r->mu);
	return w;
}

int idp_relay_failed(struct idp_relay *r, struct idp_error *err)
{
	int f;

	pthread_mutex_lock(&r->mu);
	if ((f = r->failed))
		*err = r->first_err;
	pthread_mutex_unlock(&r->mu);
	return f;
}

/* ---- responses ---- */

/* One request of the daemon, from its headers to its answer. */
enum route { ROUTE_BAD, ROUTE_PING, ROUTE_BLOB, ROUTE_UPLOADS, ROUTE_UPLOAD, ROUTE_MANIFEST };

struct relay_req {
	enum route route;
	const char *ref;               /* in the URL: a digest, a session id, a tag */
	const char *digest;            /* ?digest= */
	int64_t length;                /* Content-Length, -1 */
	struct relay_session *us;
	struct idp_buf body;           /* a manifest */
	int broken;                    /* its bytes could not be taken */
	char url[256];
};

static struct MHD_Response *response(const char *body)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		body ? strlen(body) : 0, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);

	if (resp)
		MHD_add_response_header(resp, "Docker-Distribution-API-Version", "registry/2.0");
	return resp;
}

static enum MHD_Result send_resp(struct MHD_Connection *c, unsigned status,
				 struct MHD_Response *resp)
{
	enum MHD_Result rc;

	if (!resp)
		return MHD_NO;
	rc = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* A registry error answer: {"errors":[{"code":...,"message":...}]}. */
static enum MHD_Result answer_error(struct idp_relay *r, struct MHD_Connection *c,
				   const struct relay_req *q, unsigned status, const char *code,
				   const char *msg)
{
	char body[IDP_ERRMSG_MAX + 128], safe[IDP_ERRMSG_MAX];
	size_t i;

	snprintf(safe, sizeof(safe), "%s", msg);
	for (i = 0; safe[i]; i++)   /* a message in a JSON string */
		if (safe[i] == '"' || safe[i] == '\\' || (unsigned char)safe[i] < 0x20)
			safe[i] = ' ';
	snprintf(body, sizeof(body), "{\"errors\":[{\"code\":\"%s\",\"message\":\"%s\"}]}", code,
		 safe);
	relay_debugf(r, "relay: %s -> %u %s", q ? q->url : "?", status, code);
	return send_resp(c, status, response(body));
}

/* A response without a body whose Content-Length is size (HEAD): a
 * callback response of that size, never read. */
static ssize_t no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls; (void)pos; (void)buf; (void)max;
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

static struct MHD_Response *head_response(int64_t size)
{
	struct MHD_Response *resp = MHD_create_response_from_callback((uint64_t)size, 4096,
								     no_body, NULL, NULL);

	if (resp)
		MHD_add_response_header(resp, "Docker-Distribution-API-Version", "registry/2.0");
	return resp;
}

/* Headers of an answer: name, value, ..., NULL. */
#define HDRS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NO_HDRS ((const char *const[]){ NULL })

/* An answer with headers h. */
static enum MHD_Result answer(struct idp_relay *r, struct MHD_Connection *c,
			      const struct relay_req *q, unsigned status,
			      struct MHD_Response *resp, const char *const *h)
{
	if (!resp)
		return MHD_NO;
	for (; h[0] && h[1]; h += 2)
		MHD_add_response_header(resp, h[0], h[1]);
	relay_debugf(r, "relay: %s -> %u", q->url, status);
	return send_resp(c, status, resp);
}

/* ---- routes ---- */

/* "/v2/<repo>/<what>/<ref>": the route, ref pointing into url. */
static enum route route_of(const struct idp_relay *r, const char *url, const char **ref)
{
	static const struct { const char *part; enum route route; } parts[] = {
		{ "/blobs/uploads/", ROUTE_UPLOADS },
		{ "/blobs/", ROUTE_BLOB },
		{ "/manifests/", ROUTE_MANIFEST },
	};
	size_t n = strlen(r->o.repo), i;
	const char *rest;

	*ref = "";
	if (strcmp(url, "/v2/") == 0 || strcmp(url, "/v2") == 0)
		return ROUTE_PING;
	if (strncmp(url, "/v2/", 4) != 0 || strncmp(url + 4, r->o.repo, n) != 0)
		return ROUTE_BAD;
	rest = url + 4 + n;
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (strncmp(rest, parts[i].part, strlen(parts[i].part)) == 0) {
			*ref = rest + strlen(parts[i].part);
			if (parts[i].route == ROUTE_UPLOADS && **ref)
				return strchr(*ref, '/') ? ROUTE_BAD : ROUTE_UPLOAD;
			return strchr(*ref, '/') ? ROUTE_BAD : parts[i].route;
		}
	return ROUTE_BAD;
}

/* a == b, in a time that does not tell where they differ */
static int same_secret(const char *a, const char *b)
{
	size_t na = strlen(a), n = strlen(b), i;
	unsigned char d = na != n;

	for (i = 0; i < n; i++)
		d |= (unsigned char)((i < na ? a[i] : 0) ^ b[i]);
	return d == 0;
}

static int authorized(const struct idp_relay *r, struct MHD_Connection *c)
{
	char *pass = NULL, *user = MHD_basic_auth_get_username_password(c, &pass);
	int ok = user && pass && same_secret(user, r->user) && same_secret(pass, r->pass);

	MHD_free(user);
	MHD_free(pass);
	return ok;
}

static enum MHD_Result deny(struct MHD_Connection *c)
{
	struct MHD_Response *resp = response("{\"errors\":[{\"code\":\"UNAUTHORIZED\","
					     "\"message\":\"authentication required\"}]}");
	enum MHD_Result rc;

	if (!resp)
		return MHD_NO;
	rc = MHD_queue_basic_auth_fail_response(c, "idppush-relay", resp);
	MHD_destroy_response(resp);
	return rc;
}

static const char *arg(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* A location on the relay: /v2/<repo>/<what><ref>. */
static void location(const struct idp_relay *r, char *out, size_t n, const char *what,
		     const char *ref)
{
	snprintf(out, n, "/v2/%s/%s%s", r->o.repo, what, ref);
}

static enum MHD_Result blob_head(struct idp_relay *r, struct MHD_Connection *c,
				 const struct relay_req *q, int get)
{
	struct idp_error err = IDP_ERROR_INIT;
	const char *accept = header(c, "Accept");
	int64_t size;
	int rc;

	if (!idp_digest_valid(q->ref) || get)
		return answer_error(r, c, q, 404, "BLOB_UNKNOWN", "blob unknown to the relay");
	rc = relay_blob_present(r, q->ref, NULL, accept && strstr(accept, "config"), &size, &err);
	if (rc == 0 && accept && strstr(accept, "config"))
		relay_quiet_add(r, q->ref);   /* its upload shows no line either */
	if (rc < 0) {
		relay_fail(r, &err);
		return answer_error(r, c, q, 500, "UNKNOWN", err.msg);
	}
	if (rc == 0)
		return answer_error(r, c, q, 404, "BLOB_UNKNOWN", "blob unknown to registry");
	return answer(r, c, q, 200, head_response(size),
		      HDRS("Docker-Content-Digest", q->ref, "Content-Type",
			   "application/octet-stream"));
}

/* POST: a mount the targets take, else the registry's own session handed
 * over (its absolute URL), else a new upload session of the relay. */
static enum MHD_Result uploads_post(struct idp_relay *r, struct MHD_Connection *c,
				    const struct relay_req *q)
{
	struct idp_error err = IDP_ERROR_INIT;
	const char *mount = arg(c, "mount"), *from = arg(c, "from");
	struct relay_session *us;
	char loc[512];
	int64_t size;
	int rc = 0;

	if (mount && idp_digest_valid(mount) && from &&
	    (rc = relay_blob_present(r, mount, from, 0, &size, &err)) == 1) {
		location(r, loc, sizeof(loc), "blobs/", mount);
		return answer(r, c, q, 201, response(NULL),
			      HDRS("Location", loc, "Docker-Content-Digest", mount));
	}
	if (rc < 0) {
		relay_fail(r, &err);
		return answer_error(r, c, q, 500, "UNKNOWN", err.msg);
	}
	if (relay_hand_over(r, loc, sizeof(loc)) == 1)
		return answer(r, c, q, 202, response(NULL),
			      HDRS("Location", loc, "Range", "0-0"));
	if (!(us = relay_session_new(r)))
		return answer_error(r, c, q, 503, "UNAVAILABLE", "no more upload sessions");
	location(r, loc, sizeof(loc), "blobs/uploads/", us->id);
	return answer(r, c, q, 202, response(NULL),
		      HDRS("Location", loc, "Range", "0-0", "Docker-Upload-UUID", us->id));
}

/* The end of a request on a session (its bytes taken). */
static enum MHD_Result upload_end(struct idp_relay *r, struct MHD_Connection *c,
				  struct relay_req *q, const char *method)
{
	struct relay_session *us = q->us;
	char loc[512], range[64];

	snprintf(range, sizeof(range), "0-%" PRId64, us->received > 0 ? us->received - 1 : 0);
	/* the session is free before the answer: the daemon's next request on
	 * it may come at once, on another connection */
	q->us = NULL;
	if (strcmp(method, "PUT") == 0 && relay_session_end(us, q->digest) < 0) {
		relay_session_release(r, us);
		return answer_error(r, c, q, 500, "UNKNOWN", "cannot start the upload");
	}
	if (strcmp(method, "DELETE") == 0)
		relay_session_drop(us);
	relay_session_release(r, us);
	if (strcmp(method, "DELETE") == 0)
		return answer(r, c, q, 204, response(NULL), NO_HDRS);
	if (strcmp(method, "PUT") == 0) {
		location(r, loc, sizeof(loc), "blobs/", q->digest);
		return answer(r, c, q, 201, response(NULL),
			      HDRS("Location", loc, "Docker-Content-Digest", q->digest));
	}
	location(r, loc, sizeof(loc), "blobs/uploads/", us->id);
	return answer(r, c, q, strcmp(method, "GET") == 0 ? 204 : 202, response(NULL),
		      HDRS("Location", loc, "Range", range, "Docker-Upload-UUID", us->id));
}

/* A session request's headers: the session, and what may come. */
static enum MHD_Result upload_begin(struct idp_relay *r, struct MHD_Connection *c,
				    struct relay_req *q, const char *method)
{
	const char *cr = header(c, "Content-Range");
	long long from;

	if (strcmp(method, "PUT") == 0 && (!q->digest || !idp_digest_valid(q->digest)))
		return answer_error(r, c, q, 400, "DIGEST_INVALID", "no valid ?digest=");
	if (!(q->us = relay_session_take(r, q->ref)))
		return answer_error(r, c, q, 404, "BLOB_UPLOAD_UNKNOWN", "no such upload");
	if (cr && strcmp(method, "PATCH") == 0 &&
	    (sscanf(cr, "%lld-", &from) != 1 || from != (long long)q->us->received))
		return answer_error(r, c, q, 416, "BLOB_UPLOAD_INVALID", "not the next bytes");
	return MHD_YES;
}

/* ---- manifests ---- */

static enum MHD_Result manifest_put(struct idp_relay *r, struct MHD_Connection *c,
				    struct relay_req *q)
{
	struct idp_error err = IDP_ERROR_INIT;
	const char *type = header(c, "Content-Type");
	char digest[IDP_DIGEST_MAX], loc[512];
	struct idp_manifest_in m;
	int rc;

	idp_sha256_digest(q->body.buf, q->body.len, digest);
	if (q->broken || !type || !*type || q->body.len == 0)
		return answer_error(r, c, q, 400, "MANIFEST_INVALID", "no manifest, or too large");
	if (idp_digest_valid(q->ref) && strcmp(q->ref, digest) != 0)
		return answer_error(r, c, q, 400, "DIGEST_INVALID", "the bytes are another digest");
	m = (struct idp_manifest_in){ .digest = digest, .media_type = type,
				      .data = q->body.buf, .len = q->body.len };
	pthread_mutex_lock(&r->mu);
	rc = -1;
	if (r->got.nmanifests < RELAY_MAX_MANIFESTS &&
	    r->manifest_bytes + q->body.len <= RELAY_MANIFESTS_MAX &&
	    (rc = idp_image_add_manifest(&r->got, &m, &err)) == 0)
		r->manifest_bytes += q->body.len;
	pthread_mutex_unlock(&r->mu);
	if (rc < 0)
		return answer_error(r, c, q, 400, "MANIFEST_INVALID", "too many manifests");
	relay_ahead_add(r);
	location(r, loc, sizeof(loc), "manifests/", digest);
	return answer(r, c, q, 201, response(NULL),
		      HDRS("Location", loc, "Docker-Content-Digest", digest));
}

/* HEAD or GET of a manifest the daemon put in this run (by digest). */
static enum MHD_Result manifest_get(struct idp_relay *r, struct MHD_Connection *c,
				    const struct relay_req *q, int head)
{
	struct MHD_Response *resp = NULL;
	char type[200] = "";
	int i;

	pthread_mutex_lock(&r->mu);
	for (i = 0; i < r->got.nmanifests; i++) {
		const struct idp_image_manifest *m = &r->got.manifests[i];
		if (strcmp(m->digest, q->ref) != 0)
			continue;
		snprintf(type, sizeof(type), "%s", m->media_type);
		resp = head ? head_response((int64_t)m->len)
			    : MHD_create_response_from_buffer(m->len, m->data,
							      MHD_RESPMEM_MUST_COPY);
	}
	pthread_mutex_unlock(&r->mu);
	if (!type[0])
		return answer_error(r, c, q, 404, "MANIFEST_UNKNOWN", "manifest unknown");
	return answer(r, c, q, 200, resp,
		      HDRS("Docker-Content-Digest", q->ref, "Content-Type", type));
}

/* ---- the handler ---- */

/* The request's headers are in: MHD_YES for its body and then the
 * answer, unless an answer is queued already. */
static enum MHD_Result begin(struct idp_relay *r, struct MHD_Connection *c, struct relay_req *q,
			     const char *url, const char *method)
{
	const char *len = header(c, "Content-Length");

	snprintf(q->url, sizeof(q->url), "%s %.200s", method, url);
	q->route = route_of(r, url, &q->ref);
	q->digest = arg(c, "digest");
	q->length = len ? strtoll(len, NULL, 10) : -1;
	idp_buf_init(&q->body, RELAY_MANIFEST_MAX);
	pthread_mutex_lock(&r->mu);
	if (r->failed)   /* the push is lost: the daemon stops at once */
		q->route = ROUTE_BAD;
	pthread_mutex_unlock(&r->mu);
	if (!authorized(r, c))
		return deny(c);
	if (q->route == ROUTE_BAD)
		return answer_error(r, c, q, 404, "NAME_UNKNOWN", "not served by this relay");
	if (q->route == ROUTE_UPLOAD)
		return upload_begin(r, c, q, method);
	return MHD_YES;
}

static enum MHD_Result body(struct relay_req *q, const char *method, const char *data,
			    size_t n)
{
	if (q->route == ROUTE_UPLOAD && q->us && strcmp(method, "GET") != 0) {
		if (relay_session_write(q->us, strcmp(method, "PUT") == 0 ? q->digest : NULL,
					q->length, data, n) < 0) {
			q->broken = 1;
			return MHD_NO;   /* the upload is gone: the daemon sees its request fail */
		}
	} else if (q->route == ROUTE_MANIFEST && !q->broken && idp_buf_add(&q->body, data, n) < 0) {
		q->broken = 1;
	}
	return MHD_YES;
}

static enum MHD_Result end(struct idp_relay *r, struct MHD_Connection *c, struct relay_req *q,
			   const char *method)
{
	int head = strcmp(method, "HEAD") == 0, get = strcmp(method, "GET") == 0;

	switch (q->route) {
	case ROUTE_PING:
		return answer(r, c, q, 200, response("{}"),
			      HDRS("Content-Type", "application/json"));
	case ROUTE_BLOB:
		if (head || get)
			return blob_head(r, c, q, get);
		break;
	case ROUTE_UPLOADS:
		if (strcmp(method, "POST") == 0 && !*q->ref)
			return uploads_post(r, c, q);
		break;
	case ROUTE_UPLOAD:
		return upload_end(r, c, q, method);
	case ROUTE_MANIFEST:
		if (strcmp(method, "PUT") == 0)
			return manifest_put(r, c, q);
		if (head || get)
			return manifest_get(r, c, q, head);
		break;
	case ROUTE_BAD:
		break;
	}
	return answer_error(r, c, q, 405, "UNSUPPORTED", "not supported by this relay");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *size, void **ctx)
{
	struct idp_relay *r = cls;
	struct relay_req *q = *ctx;
	enum MHD_Result rc;

	(void)version;
	if (!q) {
		if (!(q = calloc(1, sizeof(*q))))
			return MHD_NO;
		*ctx = q;
		return begin(r, c, q, url, method);
	}
	if (*size) {
		rc = body(q, method, data, *size);
		*size = 0;
		return rc;
	}
	return end(r, c, q, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **ctx,
			 enum MHD_RequestTerminationCode toe)
{
	struct idp_relay *r = cls;
	struct relay_req *q = *ctx;

	(void)c;
	if (!q)
		return;
	if (q->us) {
		if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK || q->broken)
			relay_session_drop(q->us);
		relay_session_release(r, q->us);
	}
	idp_buf_release(&q->body);
	free(q);
	*ctx = NULL;
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
	struct idp_relay *r = cls;
	char line[400];

	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	relay_debugf(r, "relay: libmicrohttpd: %s", line);
}

/* ---- the acceptor ---- */

/* A connection whose first byte is awaited. */
struct pending {
	int fd;
	int64_t until;
	struct sockaddr_in addr;
};

static const char tls_answer[] =
	"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/* p's first byte is there: a TLS hello is answered and closed, anything
 * else goes to libmicrohttpd. */
static void first_byte(struct idp_relay *r, struct pending *p)
{
	unsigned char b;
	ssize_t n = recv(p->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n == 1 && b == 0x16) {
		(void)send(p->fd, tls_answer, sizeof(tls_answer) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(p->fd);
	} else if (n == 1) {
		MHD_add_connection(r->mhd, p->fd, (struct sockaddr *)&p->addr, sizeof(p->addr));
	} else {
		close(p->fd);
	}
	p->fd = -1;
}

/* Nothing from the daemon since the relay was armed: it cannot reach us. */
static void check_silence(struct idp_relay *r, int64_t now)
{
	int silent;

	pthread_mutex_lock(&r->mu);
	silent = r->armed_ms && !r->connections && !r->silent &&
		 now - r->armed_ms >= IDP_RELAY_SILENCE_MS;
	if (silent)
		r->silent = 1;
	pthread_mutex_unlock(&r->mu);
	if (silent && r->o.abort)
		idp_stop_set_abort(r->o.abort, 1);
}

static void accept_one(struct idp_relay *r, struct pending *pend, int64_t now)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = accept4(r->lfd, (struct sockaddr *)&a, &len, SOCK_CLOEXEC), i;

	if (fd < 0)
		return;
	pthread_mutex_lock(&r->mu);
	r->connections++;
	pthread_mutex_unlock(&r->mu);
	for (i = 0; i < RELAY_PENDING && pend[i].fd >= 0; i++)
		;
	if (i == RELAY_PENDING) {
		close(fd);
		return;
	}
	pend[i] = (struct pending){ fd, now + RELAY_HELLO_MS, a };
}

static void drop_pending(struct pending *p)
{
	close(p->fd);
	p->fd = -1;
}

static void *accept_main(void *arg)
{
	struct idp_relay *r = arg;
	struct pending pend[RELAY_PENDING];
	struct pollfd pf[RELAY_PENDING + 2];
	int i, n, at[RELAY_PENDING];
	int64_t now;

	for (i = 0; i < RELAY_PENDING; i++)
		pend[i].fd = -1;
	for (;;) {
		pf[0] = (struct pollfd){ r->wake[0], POLLIN, 0 };
		pf[1] = (struct pollfd){ r->lfd, POLLIN, 0 };
		for (i = 0, n = 2; i < RELAY_PENDING; i++)
			if (pend[i].fd >= 0) {
				at[n - 2] = i;
				pf[n++] = (struct pollfd){ pend[i].fd, POLLIN, 0 };
			}
		if (poll(pf, (nfds_t)n, RELAY_TICK_MS) < 0 && errno != EINTR)
			break;
		if (pf[0].revents)
			break;
		now = idp_now_ms();
		for (i = 2; i < n; i++)
			if (pf[i].revents)
				first_byte(r, &pend[at[i - 2]]);
			else if (now > pend[at[i - 2]].until)
				drop_pending(&pend[at[i - 2]]);
		if (pf[1].revents)
			accept_one(r, pend, now);
		check_silence(r, now);
	}
	for (i = 0; i < RELAY_PENDING; i++)
		if (pend[i].fd >= 0)
			drop_pending(&pend[i]);
	return NULL;
}

/* ---- start and stop ---- */

/* FNV-1a of a registry's domain: the relay's port for it, the same every
 * run (attempt 0; the next ones when it is taken). */
static int derived_port(const char *s, int attempt)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return RELAY_PORT_BASE + (int)((h + (uint32_t)attempt * 7919u) % RELAY_PORT_SPAN);
}

/* IDPPUSH_RELAY_PORT: the one port to listen on; 0 when not set. */
static int env_port(void)
{
	const char *e = getenv("IDPPUSH_RELAY_PORT");
	long v = e ? strtol(e, NULL, 10) : 0;

	return v > 0 && v < 65536 ? (int)v : 0;
}

int idp_relay_port_for(const char *domain)
{
	int e = env_port();

	return e ? e : derived_port(domain, 0);
}

static int listen_on(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The listening socket: the port asked for (or IDPPUSH_RELAY_PORT), else
 * the derived ones, else any. */
static int open_listener(struct idp_relay *r, struct idp_error *err)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int i, want = r->o.port ? r->o.port : env_port();

	r->lfd = -1;
	if (want)
		r->lfd = listen_on(want);
	for (i = 0; !want && r->lfd < 0 && i < RELAY_PORT_TRIES; i++)
		r->lfd = listen_on(derived_port(idp_session_ref(r->to.t[0].s)->domain, i));
	if (r->lfd < 0 && !want)
		r->lfd = listen_on(0);
	if (r->lfd < 0)
		return idp_error_set(err, IDP_EGENERAL, "the relay cannot listen on 127.0.0.1: %s",
				     strerror(errno));
	if (getsockname(r->lfd, (struct sockaddr *)&a, &len) < 0)
		return idp_error_set(err, IDP_EGENERAL, "getsockname: %s", strerror(errno));
	r->port = ntohs(a.sin_port);
	return 0;
}

static int random_hex(char *out, size_t n)
{
	unsigned char b[32];
	size_t i;

	if (n / 2 > sizeof(b) || getrandom(b, n / 2, 0) != (ssize_t)(n / 2))
		return -1;
	for (i = 0; i < n / 2; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

/* Events from several threads and targets reach the caller one at a time. */
static void serialised_event(void *ctx, const struct idp_event *ev)
{
	struct idp_relay *r = ctx;

	pthread_mutex_lock(&r->emit_mu);
	idp_push_emit(r->o.to->o, ev);
	pthread_mutex_unlock(&r->emit_mu);
}

static int start_threads(struct idp_relay *r, struct idp_error *err)
{
	r->mhd = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC | MHD_USE_ERROR_LOG,
		0, NULL, NULL, on_request, r, MHD_OPTION_EXTERNAL_LOGGER, on_log, r,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, r, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)64, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)300,
		/* headers and a read buffer; libmicrohttpd zeroes a connection's
		 * pool after every request: 1 MiB cost a rebuild 5 ms of CPU */
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128u << 10), MHD_OPTION_END);
	if (!r->mhd)
		return idp_error_set(err, IDP_EGENERAL, "cannot start the relay's HTTP server");
	if (pipe2(r->wake, O_CLOEXEC) < 0)
		return idp_error_set(err, IDP_EGENERAL, "pipe: %s", strerror(errno));
	if (pthread_create(&r->acceptor, NULL, accept_main, r) != 0)
		return idp_error_set(err, IDP_EGENERAL, "cannot start a thread");
	r->acceptor_started = 1;
	return 0;
}

struct idp_relay *idp_relay_start(const struct idp_relay_opts *o, struct idp_error *err)
{
	struct idp_relay *r = calloc(1, sizeof(*r));

	if (!r) {
		idp_error_set(err, IDP_EGENERAL, "out of memory");
		return NULL;
	}
	r->o = *o;
	r->lfd = r->wake[0] = r->wake[1] = -1;
	r->to = *o->to;
	r->po = *o->to->o;
	r->po.on_event = serialised_event;
	r->po.event_ctx = r;
	r->to.o = &r->po;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->ahead_cv, NULL);
	pthread_mutex_init(&r->emit_mu, NULL);
	if (random_hex(r->user, 32) < 0 || random_hex(r->pass, 32) < 0) {
		idp_error_set(err, IDP_EGENERAL, "no random bytes for the relay's credentials");
	} else if ((r->fan = idp_push_fanout_new(&r->to, err)) && open_listener(r, err) == 0 &&
		   start_threads(r, err) == 0) {
		relay_debugf(r, "relay: listening on 127.0.0.1:%d for %s", r->port, o->repo);
		return r;
	}
	idp_relay_free(r);
	return NULL;
}

int idp_relay_port(const struct idp_relay *r)
{
	return r->port;
}

const char *idp_relay_user(const struct idp_relay *r)
{
	return r->user;
}

const char *idp_relay_password(const struct idp_relay *r)
{
	return r->pass;
}

void idp_relay_arm(struct idp_relay *r)
{
	pthread_mutex_lock(&r->mu);
	r->armed_ms = idp_now_ms();
	pthread_mutex_unlock(&r->mu);
}

int idp_relay_connections(struct idp_relay *r, int *silent)
{
	int n;

	pthread_mutex_lock(&r->mu);
	n = r->connections;
	*silent = r->silent;
	pthread_mutex_unlock(&r->mu);
	return n;
}

/* No more connections, none served: the acceptor and libmicrohttpd stop
 * (a handler waiting on a full ring is let go first). */
static void stop_serving(struct idp_relay *r)
{
	int i;

	if (r->acceptor_started) {
		(void)!write(r->wake[1], "x", 1);
		pthread_join(r->acceptor, NULL);
		r->acceptor_started = 0;
	}
	pthread_mutex_lock(&r->mu);
	for (i = 0; i < r->nsessions; i++)
		if (r->sessions[i]->ring && !r->sessions[i]->ended)
			idp_ring_fail(r->sessions[i]->ring, "the relay stopped");
	pthread_mutex_unlock(&r->mu);
	if (r->mhd)
		MHD_stop_daemon(r->mhd);
	r->mhd = NULL;
}

int idp_relay_finish(struct idp_relay *r, struct idp_image *img, struct idp_error *err)
{
	stop_serving(r);
	relay_ahead_join(r, 1);
	if (relay_sessions_join(r, 0, err) < 0)
		return -1;
	*img = r->got;
	memset(&r->got, 0, sizeof(r->got));
	if (img->nmanifests == 0)
		return idp_error_set(err, IDP_EGENERAL, "the docker daemon put no manifest");
	if (relay_image_blobs(r, img, err) < 0)
		return -1;
	/* the targets know what was uploaded: manifests go up without a HEAD */
	idp_push_fanout_report(r->fan);
	return 0;
}

void idp_relay_free(struct idp_relay *r)
{
	struct idp_error err = IDP_ERROR_INIT;

	if (!r)
		return;
	stop_serving(r);
	relay_ahead_join(r, 0);
	relay_sessions_join(r, 1, &err);
	relay_sessions_free(r);
	idp_push_fanout_free(r->fan);
	if (r->lfd >= 0)
		close(r->lfd);
	if (r->wake[0] >= 0) {
		close(r->wake[0]);
		close(r->wake[1]);
	}
	idp_image_release(&r->got);
	pthread_mutex_destroy(&r->emit_mu);
	pthread_cond_destroy(&r->ahead_cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}
