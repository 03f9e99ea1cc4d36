/* session_private.h: the session structure, shared by the files that make
 * up the registry client (session.c, registry.c, upload.c) and nobody else. */
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
	char *ca_bundle;            /* temp file joining system + extra CAs */
	struct idp_http_cfg hcfg;
	struct idp_auth *auth;
	char *base_url;
	char *registry;             /* host[:port] for messages */
	char *scopes;               /* "repository:<path>:pull,push" */
	size_t chunk;
	pthread_mutex_t mu;
	int nconns;
	struct idp_http *conns[SESSION_MAX_CONNS];
};

/* Fill err from a non-success response (class from status and body). */
int idp_session_status_error(struct idp_session *s, const struct idp_http_req *req,
			     const struct idp_http_resp *resp, struct idp_error *err);

/* DELETE an upload session; failures are ignored (it expires anyway). */
void idp_upload_cancel(struct idp_session *s, struct idp_http *h, const char *location);

#endif
