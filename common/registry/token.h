/* token.h: the registry token protocol's pure parts: building the token
 * request (GET query / POST form) and parsing the token response. The HTTP
 * exchange itself is in auth.c. */
#ifndef IDP_TOKEN_H
#define IDP_TOKEN_H

#include <time.h>
#include "util/error.h"
#include "util/buf.h"

struct idp_token {
	char *token;          /* "token" or, when absent, "access_token" */
	char *refresh_token;  /* may be NULL */
	long expires_in;      /* seconds; when missing, a JWT's exp - issued_at; else 60 */
	time_t issued_at;     /* parsed RFC 3339 "issued_at", else `now` given */
};

/* Parse a token endpoint response body. `now` is used when issued_at is
 * absent or unparsable. Empty/missing token -> -1 (IDP_EAUTH). */
int idp_token_parse(const char *body, size_t len, time_t now,
		    struct idp_token *out, struct idp_error *err);
void idp_token_release(struct idp_token *t);

/* 1 when the token should be considered expired at `now` (with a safety
 * margin of 10% of its lifetime, at least 5 s). */
int idp_token_expired(const struct idp_token *t, time_t now);

/* Append the URL-encoded query for a GET token request to `url` (which holds
 * the realm and may already have a '?'): service, each scope (repeated
 * `scope=`), and account when non-NULL. Returns 0/-1. */
int idp_token_build_get_url(struct idp_buf *url, const char *realm, const char *service,
			    const char *const *scopes, int nscopes, const char *account);

/* Form body for the POST refresh-token flow:
 * grant_type=refresh_token&refresh_token=..&service=..&scope=..&client_id=idppush */
int idp_token_build_post_form(struct idp_buf *form, const char *refresh_token,
			      const char *service, const char *const *scopes, int nscopes);

/* Scope string "repository:<name>:pull,push" or ":pull" into out. */
int idp_token_scope(struct idp_buf *out, const char *repository, int push);

#endif
