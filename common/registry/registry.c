/* registry.c: what the registry client's files share, and the small
 * operations: the session's accessors and abort switch, its URLs, its
 * warnings and notes (session_warnf/session_infof), the retry sleep,
 * the one request helper (idp_reg_call: credentials, re-authentication,
 * retries, the accepted statuses, the registry's error, in words for
 * Gitea's unknown owner and refused names), and blob HEAD, GET (a small
 * one, its digest checked), manifest GET, mount, manifest HEAD and PUT,
 * and the DELETE of an upload. Opening a session is in session.c,
 * chunked blob uploads in upload.c. */
#include "config.h"
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "auth.h"
#include "regerr.h"
#include "registry.h"
#include "util/ref.h"

#include "session_private.h"
#include "banned.h"

const struct idp_ref *idp_session_ref(const struct idp_session *s) { return &s->ref; }

const char *idp_session_cluster_ca(const struct idp_session *s, size_t *len)
{
	*len = s->cluster_ca.len;
	return s->cluster_ca.len ? s->cluster_ca.buf : NULL;
}

size_t idp_session_chunk_size(struct idp_session *s)
{
	size_t max = __atomic_load_n(&s->chunk, __ATOMIC_RELAXED);
	return max < s->chunk_start ? max : s->chunk_start;
}

int idp_session_shareable_uploads(struct idp_session *s, const char *url)
{
	return !s->opts.chunk_size && !s->opts.limit &&
	       __atomic_load_n(&s->chunk, __ATOMIC_RELAXED) == IDP_CHUNK_GROWN_MAX &&
	       strncmp(s->base_url.buf, "http://", 7) == 0 &&
	       idp_host_is_loopback(s->ref.domain) && idp_auth_unchallenged(s->auth) &&
	       (!url || idp_http_same_origin(s->base_url.buf, url));
}

struct idp_http *idp_session_conn(struct idp_session *s)
{
	struct idp_http *h = NULL;

	pthread_mutex_lock(&s->mu);
	if (s->nconns < SESSION_MAX_CONNS && (h = idp_http_new(&s->hcfg)))
		s->conns[s->nconns++] = h;
	pthread_mutex_unlock(&s->mu);
	return h;
}

void idp_session_set_abort(struct idp_session *s, int on)
{
	idp_stop_set_abort(&s->stop, on);
}

int idp_session_url(const struct idp_session *s, struct idp_buf *u, struct idp_error *err,
		    const char *fmt, ...)
{
	va_list ap;
	int rc;

	if (idp_url_addf(u, err, "%s", s->base_url.buf) < 0)
		return -1;
	va_start(ap, fmt);
	rc = idp_url_addvf(u, err, fmt, ap);
	va_end(ap);
	return rc;
}

#define SAY_MAX (IDP_ERRMSG_MAX + 256)   /* an error message and what is done about it */

static void say(void (*fn)(void *ctx, const char *msg), void *ctx, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void say(void (*fn)(void *ctx, const char *msg), void *ctx, const char *fmt, va_list ap)
{
	char msg[SAY_MAX];

	if (!fn)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	fn(ctx, msg);
}

void session_warnf(const struct idp_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(s->opts.warn, s->opts.warn_ctx, fmt, ap);
	va_end(ap);
}

void session_infof(const struct idp_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(s->opts.info, s->opts.warn_ctx, fmt, ap);
	va_end(ap);
}

int idp_session_sleep(struct idp_session *s, long ms, struct idp_error *err)
{
	int64_t until = idp_now_ms() + ms;
	enum idp_stop_why why;
	struct timespec ts;

	while (idp_now_ms() < until) {
		if ((why = idp_stop_check(&s->stop)) != IDP_STOP_NONE)
			return idp_stop_error(why, err, " while waiting to retry");
		ts.tv_sec = 0;
		ts.tv_nsec = 50 * 1000000L;
		nanosleep(&ts, NULL);
	}
	return 0;
}

static double jitter(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)(ts.tv_nsec % 1000000) / 1e6;
}

/* Wait before attempt `attempt` + 1, telling the user why. */
static int backoff(struct idp_session *s, int attempt, const struct idp_error *why,
		   struct idp_error *err)
{
	long ms = idp_retry_delay_ms(&s->opts.retry, attempt, jitter(), why->retry_after_ms);

	session_warnf(s, "%s; retrying in %.1f s (attempt %d of %d)", why->msg,
		      (double)ms / 1000.0, attempt + 1, s->opts.retry.attempts);
	return idp_session_sleep(s, ms, err);
}

/* 1 when url is under the session's repository (/v2/<path>/...). */
static int in_repository(const struct idp_session *s, const char *url)
{
	size_t b = s->base_url.len, p = strlen(s->ref.path);

	return strncmp(url, s->base_url.buf, b) == 0 && strncmp(url + b, "/v2/", 4) == 0 &&
	       strncmp(url + b + 4, s->ref.path, p) == 0 && url[b + 4 + p] == '/';
}

/* Gitea's answers that need words of ours: an owner that does not exist
 * (a plain-text 404 "Not found." to a request under the repository, where
 * a registry would send an error code), and a name it refuses
 * (NAME_INVALID, or a bare 400 to a HEAD: which of its rules, stricter
 * than docker's). */
static void gitea_words(const struct idp_session *s, const struct idp_http_req *req,
			const struct idp_http_resp *resp, const char *what, struct idp_error *err)
{
	const char *image = strchr(s->ref.path, '/');
	int owner_len = image ? (int)(image - s->ref.path) : (int)strlen(s->ref.path);
	char code[64], why[400], msg[460];
	int coded = idp_regerr_first_code(resp->body.buf, resp->body.len, code, sizeof(code)) == 0;

	if (resp->status == 404 && !coded && in_repository(s, req->url)) {
		idp_error_set(err, IDP_EREJECTED,
			      "owner '%.*s' does not exist on this registry; %s (HTTP 404 to %s)",
			      owner_len, s->ref.path,
			      s->idpbuilder ? "idpbuilder's images go under " IDP_DEFAULT_OWNER "/"
					    : "on Gitea, a name's first component is a user or an "
					      "organization",
			      what);
	} else if ((coded ? strcmp(code, "NAME_INVALID") == 0 : resp->status == 400) && image &&
		   idp_ref_gitea_image_rule(image + 1, why, sizeof(why)) < 0) {
		snprintf(msg, sizeof(msg), "; the registry refuses the image name %s", why);
		idp_error_suffix(err, msg);
	}
}

/* Fill err from a response that does not answer (class from status and body). */
static int status_error(struct idp_session *s, const struct idp_http_req *req,
			const struct idp_http_resp *resp, struct idp_error *err)
{
	char what[IDP_SHORT_URL_MAX + 16];

	idp_http_request_name(req->method, req->url, what, sizeof(what));
	idp_regerr_from_response(err, what, resp->status, resp->body.buf, resp->body.len);
	gitea_words(s, req, resp, what, err);
	err->http_status = (int)resp->status;
	if (resp->retry_after)
		err->retry_after_ms = idp_retry_after_parse(resp->retry_after, time(NULL));
	if (resp->status == 401 && s->auth)
		idp_error_prefix(err, "authentication failed (%s)", idp_auth_origin(s->auth));
	return -1;
}

/* The request, authenticated and retried: 0 when a response arrived (any
 * status), -1 with err. */
static int reg_request(struct idp_session *s, struct idp_http *h, struct idp_reg_call *c,
		       struct idp_http_resp *resp, struct idp_error *err)
{
	struct idp_http_req *req = &c->req;
	const char *scopes = c->scopes ? c->scopes : s->scopes;
	char *authz = NULL;
	/* credentials go to the registry's own scheme, host and port only */
	int own = idp_http_same_origin(req->url, s->base_url.buf);
	int retry = !c->once, attempt = 1, challenged = 0, refused = 0, rc;
	struct idp_error why;

	for (;;) {
		if (authz)
			explicit_bzero(authz, strlen(authz));
		free(authz);
		authz = NULL;
		if (own && idp_auth_header(s->auth, h, scopes, &authz, err) < 0)
			return -1;
		req->authorization = authz;
		rc = idp_http_do(h, req, resp, err);
		req->authorization = NULL;
		/* One challenge to an anonymous request (learn the scheme), and
		 * one refusal of what we sent (an expired token): then give up. */
		if (rc == 0 && resp->status == 401 && own && !(authz ? refused++ : challenged++)) {
			rc = idp_auth_challenged(s->auth, h, resp, scopes, authz, s->registry, err);
			if (rc < 0)
				break;
			if (req->pull) {  /* body consumed: the caller resends */
				idp_error_set(err, IDP_EAUTH, "re-authenticated");
				err->retryable = 1;
				rc = -1;
				break;
			}
			continue;
		}
		if (rc == 0 && !(retry && idp_retry_status_retryable(resp->status)))
			break;
		if (rc == 0)
			status_error(s, req, resp, &why);
		else
			why = *err;
		if (!retry || !why.retryable || (why.refused && c->refused_final) ||
		    attempt >= s->opts.retry.attempts) {
			*err = why;
			rc = -1;
			break;
		}
		if ((rc = backoff(s, attempt, &why, err)) < 0)
			break;
		attempt++;
	}
	if (authz)
		explicit_bzero(authz, strlen(authz));
	free(authz);
	return rc;
}

static int status_ok(const struct idp_reg_call *c, long status)
{
	size_t i;

	for (i = 0; i < sizeof(c->ok) / sizeof(c->ok[0]) && c->ok[i]; i++)
		if (c->ok[i] == status)
			return 1;
	return i == 0;
}

int idp_reg_call(struct idp_session *s, struct idp_http *h, struct idp_reg_call *c,
		 struct idp_http_resp *resp, struct idp_error *err)
{
	if (reg_request(s, h, c, resp, err) < 0)
		return -1;
	if (!status_ok(c, resp->status))
		return status_error(s, &c->req, resp, err);
	return 0;
}

/* c (its method, body bound and headers set) to /v2/<name>/<kind>/<ref>
 * of the session's repository (kind "blobs" or "manifests"): 200 or 404
 * in resp (the caller's), else -1 with err. */
static int repo_call(struct idp_session *s, struct idp_http *h, struct idp_reg_call *c,
		     const char *kind, const char *ref, struct idp_http_resp *resp,
		     struct idp_error *err)
{
	struct idp_buf url;
	int rc = -1;

	c->ok[0] = 200;
	c->ok[1] = 404;
	idp_url_init(&url);
	if (idp_session_url(s, &url, err, "/v2/%s/%s/%s", s->ref.path, kind, ref) == 0) {
		c->req.url = url.buf;
		rc = idp_reg_call(s, h, c, resp, err);
	}
	idp_buf_release(&url);
	return rc;
}

/* HEAD or GET (its body at most cap) of a blob: as repo_call. */
static int blob_call(struct idp_session *s, struct idp_http *h, const char *method,
		     const char *digest, size_t cap, struct idp_http_resp *resp,
		     struct idp_error *err)
{
	struct idp_reg_call c = { .req = { .method = method, .max_response = cap } };

	return repo_call(s, h, &c, "blobs", digest, resp, err);
}

/* A 200's body into out when it hashes to digest: 1; else -1 with err. */
static int take_checked(const struct idp_http_resp *resp, const char *what, const char *digest,
			struct idp_buf *out, struct idp_error *err)
{
	char got[IDP_DIGEST_MAX];

	idp_sha256_digest(resp->body.buf, resp->body.len, got);
	if (strcmp(got, digest) != 0)
		return idp_error_set(err, IDP_EREJECTED, "%s %s: the registry sent bytes that "
				     "hash to %s", what, digest, got);
	if (idp_buf_add(out, resp->body.buf, resp->body.len) < 0)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	return 1;
}

int idp_blob_exists(struct idp_session *s, struct idp_http *h, const char *digest,
		    int64_t *size, struct idp_error *err)
{
	struct idp_http_resp resp;
	int rc;

	idp_http_resp_init(&resp);
	rc = blob_call(s, h, "HEAD", digest, 0, &resp, err);
	if (rc == 0 && resp.status == 200) {
		rc = 1;
		if (size)
			*size = resp.content_length;
	}
	idp_http_resp_release(&resp);
	return rc;
}

int idp_blob_get(struct idp_session *s, struct idp_http *h, const char *digest, size_t cap,
		 struct idp_buf *out, struct idp_error *err)
{
	struct idp_http_resp resp;
	int rc;

	idp_http_resp_init(&resp);
	rc = blob_call(s, h, "GET", digest, cap, &resp, err);
	if (rc == 0 && resp.status == 200)
		rc = take_checked(&resp, "blob", digest, out, err);
	idp_http_resp_release(&resp);
	return rc;
}

int idp_manifest_get(struct idp_session *s, struct idp_http *h, const char *digest,
		     struct idp_buf *out, struct idp_error *err)
{
	static const char *const accept[] = {
		"Accept: application/vnd.docker.distribution.manifest.v2+json, "
		"application/vnd.docker.distribution.manifest.list.v2+json, "
		"application/vnd.oci.image.manifest.v1+json, "
		"application/vnd.oci.image.index.v1+json",
		NULL
	};
	struct idp_reg_call c = { .req = { .method = "GET", .max_response = IDP_CAP_MANIFEST,
					   .headers = accept } };
	struct idp_http_resp resp;
	int rc;

	idp_http_resp_init(&resp);
	rc = repo_call(s, h, &c, "manifests", digest, &resp, err);
	if (rc == 0 && resp.status == 200)
		rc = take_checked(&resp, "manifest", digest, out, err);
	idp_http_resp_release(&resp);
	return rc;
}

/* DELETE an upload session; failures are ignored (it expires anyway). */
void idp_blob_upload_cancel(struct idp_session *s, struct idp_http *h, const char *location)
{
	/* cleanup: runs even while cancelling, briefly */
	struct idp_reg_call c = { .req = { .method = "DELETE", .url = location, .cleanup = 1 },
				  .once = 1 };
	struct idp_http_resp resp;
	struct idp_error ignored = IDP_ERROR_INIT;

	idp_http_resp_init(&resp);
	idp_reg_call(s, h, &c, &resp, &ignored);
	idp_http_resp_release(&resp);
}

int idp_blob_mount(struct idp_session *s, struct idp_http *h, const char *digest,
		   const char *from, char **session, struct idp_error *err)
{
	struct idp_reg_call c = { .req = { .method = "POST", .has_body = 1 } };
	struct idp_http_resp resp;
	struct idp_buf url, scopes;
	char *loc;
	int rc = -1;

	if (session)
		*session = NULL;
	idp_url_init(&url);
	idp_buf_init(&scopes, 4096);
	idp_http_resp_init(&resp);
	if (idp_session_url(s, &url, err, "/v2/%s/blobs/uploads/?mount=%s&from=%s", s->ref.path,
			    digest, from) < 0)
		goto out;
	if (idp_buf_addf(&scopes, "%s repository:%s:pull", s->scopes, from) < 0) {
		idp_error_set(err, IDP_EGENERAL, "mount source name too long");
		goto out;
	}
	c.req.url = url.buf;
	c.scopes = scopes.buf;
	if (idp_reg_call(s, h, &c, &resp, err) < 0)   /* any status: a refused mount is no error */
		goto out;
	rc = resp.status == 201;
	if (resp.status == 202 && resp.location &&
	    (loc = idp_http_resolve(url.buf, resp.location))) {
		if (session) {
			*session = loc;   /* the upload goes there */
		} else {
			idp_blob_upload_cancel(s, h, loc);
			free(loc);
		}
	} else if (resp.status != 201 && resp.status != 202) {
		rc = 0;   /* a refused mount is not fatal: upload instead */
	}
out:
	idp_http_resp_release(&resp);
	idp_buf_release(&url);
	idp_buf_release(&scopes);
	return rc;
}

static int check_manifest_digest(const struct idp_http_resp *resp, const char *ours,
				 const char *where, struct idp_error *err)
{
	if (resp->docker_content_digest && *resp->docker_content_digest &&
	    strcmp(resp->docker_content_digest, ours) != 0)
		return idp_error_set(
			err, IDP_EREJECTED,
			"%s: the registry stored digest %s but the manifest sent has digest %s",
			where, resp->docker_content_digest, ours);
	return 0;
}

int idp_manifest_head(struct idp_session *s, struct idp_http *h, const char *reference,
		      const char *accept, char digest[IDP_DIGEST_MAX], int64_t *size)
{
	char hdr[512];
	const char *hdrs[] = { hdr, NULL };
	struct idp_reg_call c = { .req = { .method = "HEAD", .headers = hdrs }, .ok = { 200 } };
	struct idp_http_resp resp;
	struct idp_error ignored = IDP_ERROR_INIT;
	struct idp_buf url;
	int rc;

	digest[0] = '\0';
	*size = -1;
	idp_url_init(&url);
	if (idp_session_url(s, &url, &ignored, "/v2/%s/manifests/%s", s->ref.path, reference) < 0)
		return 0;
	snprintf(hdr, sizeof(hdr), "Accept: %s", accept);
	idp_http_resp_init(&resp);
	c.req.url = url.buf;
	rc = idp_reg_call(s, h, &c, &resp, &ignored) == 0 && resp.docker_content_digest &&
	     idp_digest_valid(resp.docker_content_digest);
	if (rc) {
		snprintf(digest, IDP_DIGEST_MAX, "%s", resp.docker_content_digest);
		*size = resp.content_length;
	}
	idp_http_resp_release(&resp);
	idp_buf_release(&url);
	return rc;
}

int idp_manifest_present(struct idp_session *s, struct idp_http *h, const char *reference,
			 const char *media_type, const char *digest)
{
	char got[IDP_DIGEST_MAX];
	int64_t size;

	return idp_manifest_head(s, h, reference, media_type, got, &size) == 1 &&
	       strcmp(got, digest) == 0;
}

int idp_manifest_put(struct idp_session *s, struct idp_http *h, const char *reference,
		     const struct idp_manifest_doc *doc, char digest_out[IDP_DIGEST_MAX],
		     struct idp_error *err)
{
	char ctype[256];
	const char *hdrs[] = { ctype, NULL };
	struct idp_reg_call c = {
		.req = { .method = "PUT", .headers = hdrs, .body = doc->data,
			 .body_len = doc->len, .has_body = 1 },
		.ok = { 201, 200 },
	};
	struct idp_http_resp resp;
	struct idp_buf url;
	int rc;

	idp_url_init(&url);
	if (idp_session_url(s, &url, err, "/v2/%s/manifests/%s", s->ref.path, reference) < 0)
		return -1;
	idp_sha256_digest(doc->data, doc->len, digest_out);
	snprintf(ctype, sizeof(ctype), "Content-Type: %s", doc->media_type);
	idp_http_resp_init(&resp);
	c.req.url = url.buf;
	rc = idp_reg_call(s, h, &c, &resp, err);
	if (rc == 0)
		rc = check_manifest_digest(&resp, digest_out, url.buf, err);
	idp_http_resp_release(&resp);
	idp_buf_release(&url);
	return rc;
}
