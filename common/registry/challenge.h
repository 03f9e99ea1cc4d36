/* challenge.h: parsing WWW-Authenticate headers (RFC 7235): several
 * challenges per header, auth-params as token or quoted-string with
 * backslash escapes, case-insensitive scheme and parameter names. */
#ifndef IDP_CHALLENGE_H
#define IDP_CHALLENGE_H

#include "util/error.h"

#define IDP_CHALLENGE_MAX_PARAMS 16

struct idp_challenge_param {
	char *name;     /* lowercased */
	char *value;    /* unescaped */
};

struct idp_challenge {
	char *scheme;   /* lowercased: "basic", "bearer", ... */
	int nparams;
	struct idp_challenge_param params[IDP_CHALLENGE_MAX_PARAMS];
	char *token68;  /* the token68 form ("Basic abc=="), else NULL */
};

#define IDP_CHALLENGES_MAX 8

struct idp_challenges {
	int n;
	struct idp_challenge c[IDP_CHALLENGES_MAX];
};

/* Parse one header value and APPEND its challenges to *out (a response can
 * carry several WWW-Authenticate headers). Malformed input -> -1 with
 * IDP_EAUTH and a message quoting the header; out keeps what was parsed
 * before. out must start zeroed. */
int idp_challenges_parse(const char *header, struct idp_challenges *out, struct idp_error *err);
void idp_challenges_release(struct idp_challenges *c);

/* Find the first challenge with this scheme (case-insensitive), or NULL. */
const struct idp_challenge *idp_challenges_find(const struct idp_challenges *c, const char *scheme);
/* Value of a parameter (case-insensitive name), or NULL. */
const char *idp_challenge_param(const struct idp_challenge *c, const char *name);

#endif
