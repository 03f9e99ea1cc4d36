/* session_private.h: the session structure and what the files making up
 * the registry client (session.c, registry.c, upload.c) share: the
 * request helper, URLs, warnings, the retry sleep. Nobody else includes
 * it. */
#ifndef IDP_SESSION_PRIVATE_H
#define IDP_SESSION_PRIVATE_H

#include <pthread.h>
#include "registry.h"

#define SESSION_MAX_CONNS 64

struct idp_auth;

struct idp_session {
	struct idp_session_opts opts;
	struct idp_ref ref;
	struct idp_tls tls;
	char *ca_bundle;            /* "/proc/self/fd/N": system + extra CAs, unnamed */
	int ca_fd;                  /* that N, while ca_bundle is set */
	struct idp_buf cluster_ca;  /* idpbuilder's CA from its cluster, when fetched */
	struct idp_stop stop;       /* cancel, abort, deadline: every transfer and sleep */
	struct idp_http_cfg hcfg;   /* read-only once the session is open */
	struct idp_auth *auth;
	struct idp_buf base_url;    /* "https://host:port" (idp_url_init) */
	char *registry;             /* host[:port] for messages */
	int idpbuilder;             /* it is idpbuilder's registry (idp_registry_is_idpbuilder) */
	int local_idpbuilder;       /* ... and its name resolves to loopback only */
	char *scopes;               /* "repository:<path>:pull,push" */
	size_t chunk;               /* largest request body (413s and the registry lower it) */
	size_t chunk_start;         /* an upload's first request body, at most chunk */
	int no_post_digest;         /* the registry did not take a blob in its POST ?digest=:
	                             * small blobs go in POST + PUT (atomic) */
	pthread_mutex_t mu;
	int nconns;
	struct idp_http *conns[SESSION_MAX_CONNS];
};

/* One request of the registry protocol: what to send and what counts as
 * an answer. */
struct idp_reg_call {
	struct idp_http_req req;
	const char *scopes;         /* the token scopes it needs; NULL = the session's */
	int once;                   /* no retries (a body that cannot be sent again, a probe) */
	int refused_final;          /* a refused connection is not retried (nothing listens
	                             * on a loopback registry's port: no transient fault) */
	long ok[4];                 /* the statuses that answer, 0-terminated; none: any */
};

/* The one request helper: credentials (a challenge to an anonymous
 * request, and one refusal of a sent token, are answered by
 * re-authenticating), retries of transient failures unless c->once, then
 * the status: 0 when it is one of c->ok (any, when c->ok is empty), else
 * -1 with the registry's error (class from status and body). resp is the
 * caller's (idp_http_resp_init/idp_http_resp_release). */
int idp_reg_call(struct idp_session *s, struct idp_http *h, struct idp_reg_call *c,
		 struct idp_http_resp *resp, struct idp_error *err);

/* u (idp_url_init) += the session's base URL and the formatted path:
 * idp_session_url(s, &u, err, "/v2/%s/blobs/%s", s->ref.path, digest).
 * 0, or -1 with err. */
int idp_session_url(const struct idp_session *s, struct idp_buf *u, struct idp_error *err,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A warning, or a note for -v (opts.warn / opts.info), formatted as
 * printf does (curl's failf/infof); nothing when the front end gave no
 * callback. */
void session_warnf(const struct idp_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void session_infof(const struct idp_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Sleep ms, returning early with the stop state's error (canceled, aborted,
 * out of time). */
int idp_session_sleep(struct idp_session *s, long ms, struct idp_error *err);

#endif
