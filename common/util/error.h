/* error.h: the engine's one error type. A class (which maps 1:1 onto the
 * exit codes users were promised) plus a message that says what failed,
 * where, and what to do. Engine code never prints or exits; it fills one of
 * these and returns -1. */
#ifndef IDP_ERROR_H
#define IDP_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/* Values are the documented exit codes. */
enum idp_errclass {
	IDP_OK = 0,
	IDP_EGENERAL = 1,   /* bad input, usage, local I/O, corrupt image */
	IDP_EAUTH = 2,      /* credentials missing/refused, token flow failed */
	IDP_ENETWORK = 3,   /* connect/DNS/TLS failures, registry unreachable */
	IDP_ENOTFOUND = 4,  /* the local image (or one of its blobs) is missing */
	IDP_EREJECTED = 5,  /* the registry answered and refused (4xx/5xx) */
	IDP_ETIMEOUT = 6,   /* a timeout or the overall deadline */
	IDP_ECANCELED = 130 /* interrupted by a signal or the docker CLI */
};

#define IDP_ERRMSG_MAX 1024

struct idp_error {
	enum idp_errclass cls;
	int retryable;          /* transient: the retry policy may try again */
	long retry_after_ms;    /* from Retry-After, -1 when not given */
	int http_status;        /* last HTTP status involved, 0 if none */
	int tls_failure;        /* the TLS handshake failed (not a plain HTTP error) */
	int untrusted;          /* ... on the server's certificate: it speaks TLS, with a
	                         * certificate no CA we trust vouches for */
	int unresolved;         /* the host name does not resolve */
	int refused;            /* the connection was refused (nothing listening) */
	char msg[IDP_ERRMSG_MAX];
};

/* The empty error (no failure): the one definition, which
 * idp_error_clear and idp_error_set start from. */
#define IDP_ERROR_INIT { .cls = IDP_OK, .retry_after_ms = -1 }

/* e = IDP_ERROR_INIT (e may be NULL). */
void idp_error_clear(struct idp_error *e);

/* Set class and message; returns -1 so `return idp_error_set(...)` works.
 * e may be NULL (the error is then dropped). */
int idp_error_set(struct idp_error *e, enum idp_errclass cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int idp_error_setv(struct idp_error *e, enum idp_errclass cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Put context in front of an existing message: "pushing layer X: <old>".
 * Keeps class and retry hints; returns -1. */
int idp_error_prefix(struct idp_error *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Copy src into dst[0..n) with control characters (C0, DEL, C1) and
 * bytes that are not UTF-8 written as "\xNN", and bidi controls as
 * "\uNNNN", so text from outside (a registry's headers, a file name)
 * cannot drive or reorder the terminal; other UTF-8 is kept. Every error
 * message goes through it. Returns the length written. */
size_t idp_text_escape(char *dst, size_t n, const char *src);

/* Append text to the message (what to do about it); returns -1. */
int idp_error_suffix(struct idp_error *e, const char *text);

/* Short name of a class ("authentication", "network", ...). */
const char *idp_errclass_str(enum idp_errclass cls);

/* Exit code for a class (the enum values themselves; kept as a function so
 * front ends never rely on the numbering by accident). */
int idp_errclass_exit_code(enum idp_errclass cls);

#endif
