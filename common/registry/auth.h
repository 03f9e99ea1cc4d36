/* auth.h: registry authentication for one session: learns the scheme from
 * WWW-Authenticate challenges, sends Basic credentials or fetches Bearer
 * tokens (GET with Basic, or the POST refresh-token flow falling back to GET
 * when the endpoint answers 404/405 as Gitea does), caches tokens per scope
 * set, and re-authenticates once when a token is refused mid-push.
 * Shared by every connection of a session (internally locked). */
#ifndef IDP_AUTH_H
#define IDP_AUTH_H

#include "creds.h"
#include "util/error.h"
#include "http.h"

struct idp_auth;

/* Takes ownership of *creds (it is zeroed). plain_http_remote: the registry
 * is reached over plain HTTP and is not loopback; Basic credentials are
 * then refused unless allow_insecure_auth. */
struct idp_auth *idp_auth_new(struct idp_creds *creds, int plain_http_remote,
			      int allow_insecure_auth);
void idp_auth_free(struct idp_auth *a);

/* Credentials asked for only when the registry wants some and none were
 * given (idpbuilder's cluster: a child process, not worth running for a
 * registry that lets anyone push): get fills *out and returns 1, or 0, or
 * IDP_AUTH_LATE_NOT_YET when the place holds none yet (why says so: the
 * refusal then says that instead of where credentials can be had).
 * Called at most once, at the first challenge. */
#define IDP_AUTH_LATE_NOT_YET 2
typedef int (*idp_auth_late_fn)(void *ctx, struct idp_creds *out, struct idp_error *why);
void idp_auth_set_late(struct idp_auth *a, idp_auth_late_fn get, void *ctx);

/* Where credentials can be had, added to "no credentials" (a constant). */
void idp_auth_set_hint(struct idp_auth *a, const char *hint);

/* The registry's base URL ("https://host:port"), once the scheme is
 * chosen: credentials never go to a plain-HTTP token realm when the
 * registry is HTTPS, nor to a remote one. */
void idp_auth_set_registry(struct idp_auth *a, const char *base_url);

/* The Authorization value to send for a request needing `scopes` (a
 * space-separated scope set, e.g. "repository:a/b:pull,push"), or NULL
 * (anonymous / not yet challenged). *out is allocated. */
int idp_auth_header(struct idp_auth *a, struct idp_http *h, const char *scopes,
		    char **out, struct idp_error *err);

/* A request got 401 with these challenges while sending `sent` (the value
 * used, or NULL). Learns the challenge, drops a refused token, and fetches
 * a new one. Returns 0 when the caller should retry once, -1 with
 * IDP_EAUTH when there is nothing more to try. */
int idp_auth_challenged(struct idp_auth *a, struct idp_http *h, const struct idp_http_resp *resp,
			const char *scopes, const char *sent, const char *registry,
			struct idp_error *err);

/* 1 while the registry has asked for no credentials (no challenge so
 * far: every request went without), else 0. */
int idp_auth_unchallenged(struct idp_auth *a);

/* Where the credentials came from (for messages), never the secret. */
const char *idp_auth_origin(const struct idp_auth *a);

#endif
