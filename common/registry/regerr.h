/* regerr.h: turning a registry's error response into an idp_error: parse the
 * {"errors":[{"code","message","detail"}]} body (bounded, tolerant of junk)
 * and choose the class from the HTTP status and the codes. */
#ifndef IDP_REGERR_H
#define IDP_REGERR_H

#include <stddef.h>
#include "util/error.h"

/* Fill err from an HTTP error response.
 *  what:   what we were doing, e.g. "uploading blob sha256:abcd... to localhost:5000/x"
 *  status: HTTP status; body/len: response body (may be NULL/0, any bytes)
 * Class: 401 -> IDP_EAUTH (message says to check credentials / log in),
 *        403 or DENIED -> IDP_EAUTH (permission: "denied"),
 *        404 NAME_UNKNOWN/NAME_INVALID -> IDP_EREJECTED (repository / owner
 *             does not exist — for Gitea the first path segment must be an
 *             existing user or org: say so),
 *        408/429/5xx -> IDP_EREJECTED with retryable = 1,
 *        413 -> IDP_EREJECTED with a message about a proxy body limit,
 *        other 4xx -> IDP_EREJECTED.
 * The message names the status, each error's code and message, then `what`
 * (first 3), never raw HTML: a non-JSON body is summarised by its first
 * line, cut to 200 chars, control characters replaced.
 * retry_after_ms is left for the caller. Always returns -1. */
int idp_regerr_from_response(struct idp_error *err, const char *what, long status,
			     const char *body, size_t len);

/* First error code in the body ("BLOB_UPLOAD_INVALID"...) into out (size n),
 * "" when none. Returns 0 when found. */
int idp_regerr_first_code(const char *body, size_t len, char *out, size_t n);

#endif
