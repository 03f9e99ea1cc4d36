/* http.c: request/response over a reused libcurl easy handle: timeouts
 * (the configuration's, or the request's own), the stop state checked
 * from curl's progress callback (which also reports the body bytes
 * sent), bodies from memory or pulled from a reader, bounded response
 * bodies, redacted debug output, the proxy environment honoured except for
 * loopback hosts; and URLs: the one builder, Location
 * resolution, origins. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <curl/curl.h>
#include "http.h"
#include "ratelimit.h"
#include "regheader.h"
#include "banned.h"

#define UNSENT_MAX (128 * 1024)   /* bytes a socket holds that are not sent yet */

struct idp_http {
	CURL *curl;
	const struct idp_http_cfg *cfg;
	char *noproxy;             /* CURLOPT_NOPROXY: loopback + the user's no_proxy */
	char errbuf[CURL_ERROR_SIZE];
};

/* Per-request state handed to the curl callbacks. */
struct xfer {
	struct idp_http *h;
	const struct idp_http_req *req;
	struct idp_http_resp *resp;
	struct idp_error pull_err;
	int pull_failed;
	int body_overflow;
	enum idp_stop_why stopped;      /* why the progress callback stopped the transfer */
	size_t mem_off;
	int64_t given;                  /* body bytes handed to curl */
	int64_t finish_by;              /* stopped with its body partly sent: until when it
	                                 * may go on (finish_on_stop), 0 = not stopped */
};

/* How long a request stopped with its body partly sent may take to send
 * the rest and read the answer (finish_on_stop). */
#define FINISH_MS 3000

int idp_http_global_init(struct idp_error *err)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return idp_error_set(err, IDP_EGENERAL, "cannot initialise libcurl");
	return 0;
}

void idp_http_global_cleanup(void)
{
	curl_global_cleanup();
}

/* Hosts never reached through a proxy: loopback names and addresses (a
 * registry or token service on this machine; docker's transport never
 * proxies them either), then what no_proxy / NO_PROXY list (libcurl reads
 * neither once CURLOPT_NOPROXY is set). "*" alone stays "*". */
#define LOOPBACK_NOPROXY "localhost,127.0.0.0/8,::1"

static char *noproxy_list(void)
{
	const char *user = getenv("no_proxy");
	char *s = NULL;

	if (!user || !*user)
		user = getenv("NO_PROXY");
	if (user && strcmp(user, "*") == 0)
		return strdup(user);
	if (asprintf(&s, "%s%s%s", LOOPBACK_NOPROXY, user && *user ? "," : "",
		     user ? user : "") < 0)
		return NULL;
	return s;
}

struct idp_http *idp_http_new(const struct idp_http_cfg *cfg)
{
	struct idp_http *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->curl = curl_easy_init();
	h->noproxy = noproxy_list();
	if (!h->curl || !h->noproxy) {
		idp_http_free(h);
		return NULL;
	}
	h->cfg = cfg;
	return h;
}

void idp_http_free(struct idp_http *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	free(h->noproxy);
	free(h);
}

void idp_http_resp_init(struct idp_http_resp *r)
{
	memset(r, 0, sizeof(*r));
	idp_buf_init(&r->body, IDP_CAP_JSON_SMALL);
	r->content_length = -1;
}

/* Forget the headers (not the body) of an earlier response: a status line
 * starts a new response (100 Continue, a redirect). */
static void resp_free_headers(struct idp_http_resp *r)
{
	int i;
	free(r->location);
	free(r->docker_content_digest);
	free(r->range);
	free(r->retry_after);
	free(r->chunk_min_length);
	free(r->chunk_max_length);
	free(r->content_type);
	for (i = 0; i < r->nchallenges; i++)
		free(r->www_authenticate[i]);
	r->location = r->docker_content_digest = r->range = NULL;
	r->retry_after = r->chunk_min_length = r->chunk_max_length = r->content_type = NULL;
	r->nchallenges = 0;
	r->content_length = -1;
}

void idp_http_resp_release(struct idp_http_resp *r)
{
	resp_free_headers(r);
	idp_buf_release(&r->body);
	r->status = 0;
}

static char *trim_dup(const char *v, size_t n)
{
	char *s;
	while (n && isspace((unsigned char)*v)) {
		v++;
		n--;
	}
	while (n && isspace((unsigned char)v[n - 1]))
		n--;
	s = malloc(n + 1);
	if (s) {
		memcpy(s, v, n);
		s[n] = '\0';
	}
	return s;
}

static void set_header(char **slot, const char *v, size_t n)
{
	free(*slot);
	*slot = trim_dup(v, n);
}

static void take_header(struct idp_http_resp *r, const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n);
	size_t klen, vlen;
	const char *v;

	if (!colon)
		return;
	klen = (size_t)(colon - line);
	v = colon + 1;
	vlen = n - klen - 1;
#define IS(name) (klen == sizeof(name) - 1 && strncasecmp(line, name, klen) == 0)
	if (IS("Location"))
		set_header(&r->location, v, vlen);
	else if (IS("Docker-Content-Digest"))
		set_header(&r->docker_content_digest, v, vlen);
	else if (IS("Range"))
		set_header(&r->range, v, vlen);
	else if (IS("Retry-After"))
		set_header(&r->retry_after, v, vlen);
	else if (IS("OCI-Chunk-Min-Length"))
		set_header(&r->chunk_min_length, v, vlen);
	else if (IS("OCI-Chunk-Max-Length"))
		set_header(&r->chunk_max_length, v, vlen);
	else if (IS("Content-Type"))
		set_header(&r->content_type, v, vlen);
	else if (IS("Content-Length")) {
		char *s = trim_dup(v, vlen);
		r->content_length = idp_header_count(s, IDP_SIZE_MAX_BELIEVED);
		free(s);
	} else if (IS("WWW-Authenticate") && r->nchallenges < IDP_HTTP_MAX_CHALLENGE_HEADERS) {
		r->www_authenticate[r->nchallenges] = trim_dup(v, vlen);
		if (r->www_authenticate[r->nchallenges])
			r->nchallenges++;
	}
#undef IS
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;

	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0)
		resp_free_headers(x->resp);
	else
		take_header(x->resp, data, n);
	return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;

	if (x->req->on_data) {
		x->req->on_data(x->req->data_ctx, data, n);
		return n;
	}
	/* Over the cap: keep what fits (enough for a message) and drop the rest. */
	if (!x->body_overflow && idp_buf_add(&x->resp->body, data, n) < 0)
		x->body_overflow = 1;
	return n;
}

/* Whether a request must stop now. A stop (cancel, abort, deadline)
 * cuts it, unless it is a cleanup, or finish_on_stop and its body is
 * partly sent: then it goes on for FINISH_MS at most (the rest of the
 * body at full speed, and the answer). */
static int must_stop(struct xfer *x)
{
	enum idp_stop_why why;

	if (x->req->cleanup || (why = idp_stop_check(x->h->cfg->stop)) == IDP_STOP_NONE)
		return 0;
	if (x->req->finish_on_stop && x->given > 0 && !x->finish_by)
		x->finish_by = idp_now_ms() + FINISH_MS;
	if (x->finish_by && idp_now_ms() < x->finish_by)
		return 0;
	x->stopped = why;
	return 1;
}

static size_t on_read(char *buf, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	const struct idp_http_req *q = x->req;
	size_t want = size * nmemb;
	ssize_t r;

	if (must_stop(x))
		return CURL_READFUNC_ABORT;
	if (x->h->cfg->limit && !q->cleanup)
		want = idp_ratelimit_take(x->h->cfg->limit, want, x->h->cfg->stop);
	if (q->pull) {
		r = q->pull(q->pull_ctx, buf, want, &x->pull_err);
		if (r < 0) {
			x->pull_failed = 1;
			return CURL_READFUNC_ABORT;
		}
		x->given += r;
		return (size_t)r;
	}
	if (want > q->body_len - x->mem_off)
		want = q->body_len - x->mem_off;
	memcpy(buf, (const char *)q->body + x->mem_off, want);
	x->mem_off += want;
	x->given += (int64_t)want;
	return want;
}

/* A write waits until the kernel has sent most of what it holds (unsent
 * bytes under UNSENT_MAX; the bytes in flight are not limited, so the
 * throughput is not): what an upload counts as sent is what went on the
 * wire, and it grows steadily, not a send buffer of megabytes at once. */
static int on_sockopt(void *ctx, curl_socket_t fd, curlsocktype purpose)
{
#ifdef TCP_NOTSENT_LOWAT
	int unsent = UNSENT_MAX;

	if (purpose == CURLSOCKTYPE_IPCXN)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &unsent, sizeof(unsent));
#else
	(void)fd;
	(void)purpose;
#endif
	(void)ctx;
	return CURL_SOCKOPT_OK;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct xfer *x = ud;
	(void)dltotal; (void)dlnow; (void)ultotal;

	if (must_stop(x))
		return 1;
	if (x->req->on_sent && !x->finish_by)
		x->req->on_sent(x->req->sent_ctx, x->req->sent_base + (int64_t)ulnow);
	return 0;
}

/* Offset of "authorization" (any case) in a debug line, or -1. curl also
 * echoes headers in its own text lines (HTTP/2's "h2h3 [authorization:
 * ...]"), so every line is searched, not only header lines. */
static int find_authorization(const char *p, size_t len)
{
	static const char word[] = "authorization";
	size_t i, n = sizeof(word) - 1;

	for (i = 0; i + n <= len && i < 480; i++)
		if (strncasecmp(p + i, word, n) == 0)
			return (int)i;
	return -1;
}

static const char *mark(curl_infotype type)
{
	return type == CURLINFO_HEADER_OUT ? ">" : type == CURLINFO_HEADER_IN ? "<" : "*";
}

/* Debug output with credentials removed: everything after "authorization". */
static int on_debug(CURL *c, curl_infotype type, char *data, size_t size, void *ud)
{
	struct xfer *x = ud;
	const struct idp_http_cfg *cfg = x->h->cfg;
	char line[512];
	size_t i = 0, start;
	int cut;
	(void)c;

	if (type != CURLINFO_TEXT && type != CURLINFO_HEADER_IN && type != CURLINFO_HEADER_OUT)
		return 0;
	while (i < size) {
		size_t len;
		start = i;
		while (i < size && data[i] != '\n')
			i++;
		len = i - start;
		i++;
		if (len && data[start + len - 1] == '\r')
			len--;
		if (!len)
			continue;
		if ((cut = find_authorization(data + start, len)) >= 0)
			snprintf(line, sizeof(line), "%s %.*sAuthorization: <redacted>", mark(type),
				 cut, data + start);
		else
			snprintf(line, sizeof(line), "%s %.*s", mark(type),
				 (int)(len > 480 ? 480 : len), data + start);
		cfg->debug(cfg->debug_ctx, line);
	}
	return 0;
}

/* Free a header list, wiping every value first (one holds the credentials). */
static void free_headers(struct curl_slist *l)
{
	struct curl_slist *t;

	for (t = l; t; t = t->next)
		explicit_bzero(t->data, strlen(t->data));
	curl_slist_free_all(l);
}

static struct curl_slist *build_headers(const struct idp_http_req *q, struct idp_error *err)
{
	struct curl_slist *l = NULL, *t;
	char auth[8192];
	const char *const *hp;

	/* No "Expect: 100-continue" round trip; registries answer at once. */
	if (!(t = curl_slist_append(l, "Expect:")))
		goto oom;
	l = t;
	for (hp = q->headers; hp && *hp; hp++) {
		if (!(t = curl_slist_append(l, *hp)))
			goto oom;
		l = t;
	}
	if (q->authorization) {
		if ((size_t)snprintf(auth, sizeof(auth), "Authorization: %s", q->authorization) >=
		    sizeof(auth)) {
			free_headers(l);
			idp_error_set(err, IDP_EAUTH, "authorization token too long");
			return NULL;
		}
		t = curl_slist_append(l, auth);
		explicit_bzero(auth, sizeof(auth));
		if (!t)
			goto oom;
		l = t;
	}
	return l;
oom:
	free_headers(l);
	idp_error_set(err, IDP_EGENERAL, "out of memory");
	return NULL;
}

static void set_tls(CURL *c, const struct idp_http_cfg *cfg)
{
	const struct idp_tls *tls = cfg->tls;

	if (cfg->ca_bundle)
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg->ca_bundle);
	if (!tls)
		return;
	if (tls->skip_verify) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (tls->client_cert) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, tls->client_cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, tls->client_key);
	}
}

static void set_method(CURL *c, const struct idp_http_req *q)
{
	if (strcmp(q->method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (q->has_body || q->body_len || q->pull) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
				 q->streamed ? (curl_off_t)-1 : (curl_off_t)q->body_len);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
	} else if (strcmp(q->method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
	}
}

static void setup(struct idp_http *h, struct xfer *x, struct curl_slist *hdrs)
{
	CURL *c = h->curl;
	const struct idp_http_cfg *cfg = h->cfg;
	const struct idp_http_req *q = x->req;
	long ct = q->connect_timeout_ms ? q->connect_timeout_ms : cfg->connect_timeout_ms;
	long stall = q->stall_timeout_ms ? q->stall_timeout_ms : cfg->stall_timeout_ms;

	if (!ct)
		ct = 30000;
	if (!stall)
		stall = 60000;

	curl_easy_reset(c);
	h->errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_URL, q->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "idppush/" IDP_VERSION);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOPROXY, h->noproxy);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ct);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (stall + 999) / 1000);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024);
	curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 2L * 1024 * 1024);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(c, CURLOPT_READDATA, x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(c, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
	if (cfg->debug) {
		curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
		curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug);
		curl_easy_setopt(c, CURLOPT_DEBUGDATA, x);
	}
	if (q->cleanup)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	if (cfg->unix_socket)
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, cfg->unix_socket);
	set_tls(c, cfg);
	set_method(c, q);
}

static int tls_failure(CURLcode rc)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_USE_SSL_FAILED:
		return 1;
	default:
		return 0;
	}
}

/* A TLS failure. curl's GnuTLS text ends naming the CA file it was given
 * ("CAfile: none" when it used the system's store, /proc/self/fd/N for a
 * bundle of ours): no help to a user, cut (the session says which CAs it
 * trusted). A certificate no CA vouches for gets where the CA goes: the
 * certs.d directories docker reads, yours and every user's. */
static int tls_error(const char *url, CURLcode rc, const char *detail, const char *what,
		     struct idp_error *err)
{
	const char *cut = strstr(detail, " CAfile:");
	int n = cut ? (int)(cut - detail) : (int)strlen(detail);
	struct idp_origin o;
	char hp[300] = "<host:port>";

	if (n && detail[n - 1] == '.')
		n--;
	if (idp_http_origin(url, &o) == 0)
		snprintf(hp, sizeof(hp), "%s%s%s:%ld", strchr(o.host, ':') ? "[" : "", o.host,
			 strchr(o.host, ':') ? "]" : "", o.port);
	if (rc != CURLE_PEER_FAILED_VERIFICATION && rc != CURLE_SSL_ISSUER_ERROR)
		idp_error_set(err, IDP_ENETWORK, "TLS failure: %.*s (%s)", n, detail, what);
	else
		idp_error_set(err, IDP_ENETWORK,
			      "TLS failure: %.*s (%s); if it uses a private CA, put the CA in "
			      "~/.docker/certs.d/%s/ca.crt (or /etc/docker/certs.d/%s/ca.crt, for "
			      "every user) or pass --ca-cert FILE; --insecure skips verification",
			      n, detail, what, hp, hp);
	err->tls_failure = 1;
	err->untrusted = rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_ISSUER_ERROR;
	return -1;
}

static int map_failure(struct idp_http *h, struct xfer *x, CURLcode rc, struct idp_error *err)
{
	const char *detail = h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc);
	char what[IDP_SHORT_URL_MAX + 16];

	if (x->pull_failed) {
		*err = x->pull_err;
		return -1;
	}
	idp_http_request_name(x->req->method, x->req->url, what, sizeof(what));
	if (x->stopped != IDP_STOP_NONE)
		return idp_stop_error(x->stopped, err, " (%s)", what);
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		idp_error_set(err, IDP_ETIMEOUT, "timed out: %s (%s)", detail, what);
		err->retryable = 1;
		return -1;
	}
	if (tls_failure(rc))
		return tls_error(x->req->url, rc, detail, what, err);
	idp_error_set(err, IDP_ENETWORK, "%s (%s)", detail, what);
	/* a name that does not resolve will not resolve in a second either */
	err->retryable = rc != CURLE_URL_MALFORMAT && rc != CURLE_UNSUPPORTED_PROTOCOL &&
			 rc != CURLE_OUT_OF_MEMORY && rc != CURLE_COULDNT_RESOLVE_HOST;
	err->unresolved = rc == CURLE_COULDNT_RESOLVE_HOST;
	err->refused = rc == CURLE_COULDNT_CONNECT;
	return -1;
}

void idp_url_init(struct idp_buf *u)
{
	idp_buf_init(u, IDP_CAP_URL);
}

int idp_url_addvf(struct idp_buf *u, struct idp_error *err, const char *fmt, va_list ap)
{
	errno = 0;
	if (idp_buf_addvf(u, fmt, ap) == 0)
		return 0;
	if (errno == EFBIG)
		return idp_error_set(err, IDP_EGENERAL, "a URL longer than %u bytes (%.80s...)",
				     IDP_CAP_URL, u->buf);
	return idp_error_set(err, IDP_EGENERAL, "out of memory");
}

int idp_url_addf(struct idp_buf *u, struct idp_error *err, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = idp_url_addvf(u, err, fmt, ap);
	va_end(ap);
	return rc;
}

const char *idp_url_query_sep(const struct idp_buf *u)
{
	if (!strchr(u->buf, '?'))
		return "?";
	if (u->len && (u->buf[u->len - 1] == '?' || u->buf[u->len - 1] == '&'))
		return "";
	return "&";
}

/* How much of one path segment a request's name shows: an upload id
 * (whatever follows "uploads/": a UUID, Gitea's or a registry's own) and
 * a digest keep their start, as docker shows short ids; the host and the
 * repository's names are kept whole (a message about an owner that does
 * not exist must show that owner). */
static int segment_shown(const char *seg, size_t len, int upload_id)
{
	static const char algo[] = "sha256:";

	if (len > 16 && upload_id)
		return 12;
	if (len > sizeof(algo) - 1 + 16 && strncmp(seg, algo, sizeof(algo) - 1) == 0)
		return (int)(sizeof(algo) - 1 + 12);
	return (int)len;
}

void idp_http_request_name(const char *method, const char *url, char *out, size_t n)
{
	const char *q = strchr(url, '?'), *seg, *end, *path = strstr(url, "://");
	size_t o = 0, len;
	int shown, after_uploads = 0;

	o += (size_t)snprintf(out, n, "%s ", method);
	end = q ? q : url + strlen(url);
	path = path ? path + 3 : url;   /* segments start after the scheme's "//" */
	for (seg = url; seg < end && o + 1 < n;) {
		const char *slash = memchr(seg, '/', (size_t)(end - seg));

		len = (size_t)((slash ? slash : end) - seg);
		shown = seg > path ? segment_shown(seg, len, after_uploads) : (int)len;
		o += (size_t)snprintf(out + o, n - o, "%.*s%s", shown, seg,
				      (size_t)shown < len ? "..." : "");
		after_uploads = seg > path && len == 7 && strncmp(seg, "uploads", 7) == 0;
		if (!slash || o + 1 >= n)
			break;
		o += (size_t)snprintf(out + o, n - o, "/");
		seg = slash + 1;
	}
	if (q && o + 1 < n)
		snprintf(out + o, n - o, "?...");
}

int idp_http_do(struct idp_http *h, const struct idp_http_req *req,
		struct idp_http_resp *resp, struct idp_error *err)
{
	struct xfer x = { .h = h, .req = req, .resp = resp, .pull_err = IDP_ERROR_INIT };
	struct curl_slist *hdrs;
	CURLcode rc;

	idp_http_resp_release(resp);
	if (must_stop(&x))   /* not even the headers: nothing the registry must forget */
		return map_failure(h, &x, CURLE_ABORTED_BY_CALLBACK, err);
	resp->body.cap = req->max_response ? req->max_response : IDP_CAP_JSON_SMALL;
	if (!(hdrs = build_headers(req, err)))
		return -1;
	setup(h, &x, hdrs);
	rc = curl_easy_perform(h->curl);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	free_headers(hdrs);
	if (rc != CURLE_OK)
		return map_failure(h, &x, rc, err);
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	return 0;
}

/* u is http(s) and names no user or password (a Location must not pick
 * what we authenticate as, nor point curl at another protocol). */
static int web_url(CURLU *u)
{
	char *v = NULL;
	int ok;

	if (curl_url_get(u, CURLUPART_SCHEME, &v, 0) != CURLUE_OK)
		return 0;
	ok = strcasecmp(v, "http") == 0 || strcasecmp(v, "https") == 0;
	curl_free(v);
	v = NULL;
	if (ok && curl_url_get(u, CURLUPART_USER, &v, 0) == CURLUE_OK)
		ok = 0;
	curl_free(v);
	v = NULL;
	if (ok && curl_url_get(u, CURLUPART_PASSWORD, &v, 0) == CURLUE_OK)
		ok = 0;
	curl_free(v);
	return ok;
}

char *idp_http_resolve(const char *base, const char *location)
{
	CURLU *u = curl_url();
	char *out = NULL, *res = NULL;

	if (!u)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK && web_url(u) &&
	    curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK) {
		res = strdup(out);
		curl_free(out);
	}
	curl_url_cleanup(u);
	return res;
}

/* One part of u into out (lowercased); 0, or -1 when absent or too long. */
static int url_part(CURLU *u, CURLUPart what, char *out, size_t n, unsigned flags)
{
	char *v = NULL;
	size_t i;
	int rc = -1;

	if (curl_url_get(u, what, &v, flags) == CURLUE_OK && strlen(v) < n) {
		for (i = 0; v[i]; i++)
			out[i] = (char)tolower((unsigned char)v[i]);
		out[i] = '\0';
		rc = 0;
	}
	curl_free(v);
	return rc;
}

int idp_http_origin(const char *url, struct idp_origin *o)
{
	CURLU *u = curl_url();
	char port[16];
	int rc = -1;

	memset(o, 0, sizeof(*o));
	if (!u)
		return -1;
	if (url && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    url_part(u, CURLUPART_SCHEME, o->scheme, sizeof(o->scheme), 0) == 0 &&
	    url_part(u, CURLUPART_HOST, o->host, sizeof(o->host), 0) == 0 &&
	    url_part(u, CURLUPART_PORT, port, sizeof(port), CURLU_DEFAULT_PORT) == 0) {
		o->port = strtol(port, NULL, 10);
		rc = 0;
	}
	curl_url_cleanup(u);
	return rc;
}

int idp_http_same_origin(const char *a, const char *b)
{
	struct idp_origin x, y;

	return idp_http_origin(a, &x) == 0 && idp_http_origin(b, &y) == 0 &&
	       strcmp(x.scheme, y.scheme) == 0 && strcmp(x.host, y.host) == 0 && x.port == y.port;
}
