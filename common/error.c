/* error.c: setting, prefixing and naming engine errors. */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include "error.h"
#include "banned.h"

void idp_error_clear(struct idp_error *e)
{
	if (!e)
		return;
	e->cls = IDP_OK;
	e->retryable = 0;
	e->retry_after_ms = -1;
	e->http_status = 0;
	e->tls_failure = 0;
	e->unresolved = 0;
	e->refused = 0;
	e->msg[0] = '\0';
}

/* The code point of a Unicode bidirectional embedding, override or
 * isolate control (U+202A..202E, U+2066..2069) at p in UTF-8, else 0:
 * they reorder what a terminal shows after them. */
static unsigned bidi_control(const unsigned char *p)
{
	if (p[0] != 0xe2)
		return 0;
	if (p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae)
		return 0x202au + (p[2] - 0xaau);
	if (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
		return 0x2066u + (p[2] - 0xa6u);
	return 0;
}

size_t idp_text_escape(char *dst, size_t n, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)src;
	size_t o = 0;
	unsigned c, u;
	int ctl;

	if (!n)
		return 0;
	for (; *p && o + 1 < n; p++) {
		c = *p;
		ctl = c < 0x20 || c == 0x7f;
		if (c == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {   /* a C1 control in UTF-8 */
			c = *++p;
			ctl = 1;
		}
		if ((u = bidi_control(p)) != 0) {
			if (o + 7 > n)
				break;
			dst[o++] = '\\';
			dst[o++] = 'u';
			dst[o++] = hex[(u >> 12) & 15];
			dst[o++] = hex[(u >> 8) & 15];
			dst[o++] = hex[(u >> 4) & 15];
			dst[o++] = hex[u & 15];
			p += 2;
			continue;
		}
		if (!ctl) {
			dst[o++] = (char)c;
			continue;
		}
		if (o + 5 > n)
			break;
		dst[o++] = '\\';
		dst[o++] = 'x';
		dst[o++] = hex[c >> 4];
		dst[o++] = hex[c & 15];
	}
	dst[o] = '\0';
	return o;
}

int idp_error_setv(struct idp_error *e, enum idp_errclass cls, const char *fmt, va_list ap)
{
	char raw[IDP_ERRMSG_MAX];

	if (!e)
		return -1;
	e->cls = cls;
	e->retryable = 0;
	e->retry_after_ms = -1;
	e->http_status = 0;
	e->tls_failure = 0;
	e->unresolved = 0;
	e->refused = 0;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	idp_text_escape(e->msg, sizeof(e->msg), raw);
	return -1;
}

int idp_error_set(struct idp_error *e, enum idp_errclass cls, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	idp_error_setv(e, cls, fmt, ap);
	va_end(ap);
	return -1;
}

int idp_error_prefix(struct idp_error *e, const char *fmt, ...)
{
	char raw[IDP_ERRMSG_MAX], head[IDP_ERRMSG_MAX], old[IDP_ERRMSG_MAX];
	size_t hl, ol;
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	idp_text_escape(head, sizeof(head), raw);
	memcpy(old, e->msg, sizeof(old));
	hl = strlen(head);
	if (hl > IDP_ERRMSG_MAX - 3)
		hl = IDP_ERRMSG_MAX - 3;
	ol = strlen(old);
	if (ol > IDP_ERRMSG_MAX - 3 - hl)
		ol = IDP_ERRMSG_MAX - 3 - hl;
	memcpy(e->msg, head, hl);
	memcpy(e->msg + hl, ": ", 2);
	memcpy(e->msg + hl + 2, old, ol);
	e->msg[hl + 2 + ol] = '\0';
	return -1;
}

int idp_error_suffix(struct idp_error *e, const char *text)
{
	size_t n;

	if (!e)
		return -1;
	n = strlen(e->msg);
	idp_text_escape(e->msg + n, sizeof(e->msg) - n, text);
	return -1;
}

const char *idp_errclass_str(enum idp_errclass cls)
{
	switch (cls) {
	case IDP_OK: return "ok";
	case IDP_EGENERAL: return "error";
	case IDP_EAUTH: return "authentication";
	case IDP_ENETWORK: return "network";
	case IDP_ENOTFOUND: return "not found";
	case IDP_EREJECTED: return "registry rejected";
	case IDP_ETIMEOUT: return "timeout";
	case IDP_ECANCELED: return "interrupted";
	}
	return "unknown";
}

int idp_errclass_exit_code(enum idp_errclass cls)
{
	return (int)cls;
}
