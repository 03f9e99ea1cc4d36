/* error.c: setting, clearing, prefixing and naming engine errors, and
 * escaping the outside text they carry. */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include "error.h"
#include "banned.h"

void idp_error_clear(struct idp_error *e)
{
	if (e)
		*e = (struct idp_error)IDP_ERROR_INIT;
}

/* The length (2..4) of the well-formed UTF-8 sequence at p, with its code
 * point in *cp; 0 when p does not start one (overlong, surrogate, past
 * U+10FFFF, cut short). */
static int utf8_seq(const unsigned char *p, unsigned *cp)
{
	static const unsigned min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	int len = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc0 ? 2 : 0;
	int i;

	if (!len || p[0] >= 0xf8)
		return 0;
	*cp = p[0] & (0x7fu >> len);
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (p[i] & 0x3fu);
	}
	if (*cp < min[len] || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return len;
}

/* Code points a terminal must not get raw: C1 controls, and the bidi
 * embeddings, overrides and isolates that reorder what follows them. */
static int unsafe_code_point(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* "\xNN" for a byte or C1 control, "\uNNNN" for others; 0 if no room. */
static size_t put_escape(char *dst, size_t room, unsigned v)
{
	static const char hex[] = "0123456789abcdef";
	size_t w = v > 0xff ? 6 : 4, i;

	if (w >= room)
		return 0;
	dst[0] = '\\';
	dst[1] = v > 0xff ? 'u' : 'x';
	for (i = 2; i < w; i++)
		dst[i] = hex[(v >> (4 * (w - 1 - i))) & 15];
	return w;
}

size_t idp_text_escape(char *dst, size_t n, const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t o = 0, w;
	unsigned cp;
	int len;

	if (!n)
		return 0;
	while (*p && o + 1 < n) {
		if (*p >= 0x20 && *p < 0x7f) {
			dst[o++] = (char)*p++;
			continue;
		}
		len = *p >= 0x80 ? utf8_seq(p, &cp) : 0;
		if (len && !unsafe_code_point(cp)) {
			if (o + (size_t)len >= n)
				break;
			memcpy(dst + o, p, (size_t)len);
			w = (size_t)len;
		} else {
			w = put_escape(dst + o, n - o, len ? cp : *p);
			if (!w)
				break;
		}
		o += w;
		p += len ? len : 1;
	}
	dst[o] = '\0';
	return o;
}

int idp_error_setv(struct idp_error *e, enum idp_errclass cls, const char *fmt, va_list ap)
{
	char raw[IDP_ERRMSG_MAX];

	if (!e)
		return -1;
	vsnprintf(raw, sizeof(raw), fmt, ap);   /* first: the arguments may be e->msg */
	idp_error_clear(e);
	e->cls = cls;
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
