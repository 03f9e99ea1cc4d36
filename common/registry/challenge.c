/* challenge.c: a small RFC 7235 parser for WWW-Authenticate header values:
 *   challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param = token BWS "=" BWS ( token / quoted-string )
 * Several challenges may share one header, separated by commas; a comma
 * followed by `token =` continues the current challenge's parameters. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "util/buf.h"
#include "challenge.h"
#include "banned.h"

#define HEADER_MAX 8192   /* longest header value we accept */
#define QUOTE_MAX 100     /* how much of the header an error message shows */

struct cparser {
	const char *header;
	const char *p;
	struct idp_challenges *out;
	struct idp_error *err;
};

/* ASCII only, whatever the locale. */
static int is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int to_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int is_tchar(int c)
{
	return is_alnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int is_t68char(int c)
{
	return is_alnum(c) || (c && strchr("-._~+/", c));
}

static int is_ows(int c)
{
	return c == ' ' || c == '\t';
}

static size_t token_len(const char *p)
{
	size_t n = 0;

	while (p[n] && is_tchar((unsigned char)p[n]))
		n++;
	return n;
}

static void skip_ows(struct cparser *ps)
{
	while (is_ows((unsigned char)*ps->p))
		ps->p++;
}

/* Skip OWS and empty list elements (",  ,"). */
static void skip_separators(struct cparser *ps)
{
	while (*ps->p == ',' || is_ows((unsigned char)*ps->p))
		ps->p++;
}

/* Error naming the problem and quoting (a sanitised start of) the header. */
static int fail(struct cparser *ps, const char *what)
{
	char q[QUOTE_MAX + 4];
	size_t i, n = strlen(ps->header);

	for (i = 0; i < n && i < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)ps->header[i];
		q[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	q[i] = '\0';
	if (n > QUOTE_MAX)
		memcpy(q + i, "...", 4);
	return idp_error_set(ps->err, IDP_EAUTH,
			     "malformed WWW-Authenticate header \"%s\": %s", q, what);
}

static char *dup_lower(const char *p, size_t n)
{
	char *r = strndup(p, n);
	size_t i;

	for (i = 0; r && i < n; i++)
		r[i] = (char)to_lower((unsigned char)r[i]);
	return r;
}

/* quoted-string at ps->p (the opening quote) -> unescaped *value. */
static int parse_quoted(struct cparser *ps, char **value)
{
	struct idp_buf b;
	const char *p = ps->p + 1;
	unsigned char c;

	idp_buf_init(&b, HEADER_MAX);
	for (; *p != '"'; p++) {
		c = (unsigned char)*p;
		if (c == '\\') {
			c = (unsigned char)*++p;
			if (c == '\0')
				break;
		}
		if (c == '\0' || (c < 0x20 && c != '\t') || c == 0x7f)
			break;
		if (idp_buf_add(&b, p, 1) < 0)
			break;
	}
	if (*p != '"') {
		idp_buf_release(&b);
		return fail(ps, *p ? "invalid character in quoted string"
				   : "unterminated quoted string");
	}
	ps->p = p + 1;
	*value = idp_buf_detach(&b, NULL);
	return *value ? 0 : fail(ps, "out of memory");
}

/* Value of an auth-param: token or quoted-string. */
static int parse_value(struct cparser *ps, char **value)
{
	size_t n;

	if (*ps->p == '"')
		return parse_quoted(ps, value);
	n = token_len(ps->p);
	if (n == 0)
		return fail(ps, "missing parameter value");
	*value = strndup(ps->p, n);
	ps->p += n;
	return *value ? 0 : fail(ps, "out of memory");
}

/* One `name = value` into c. */
static int parse_param(struct cparser *ps, struct idp_challenge *c)
{
	struct idp_challenge_param *pp;
	size_t n = token_len(ps->p);
	char *name;

	if (n == 0)
		return fail(ps, "expected a parameter name");
	if (c->nparams >= IDP_CHALLENGE_MAX_PARAMS)
		return fail(ps, "too many parameters");
	if (!(name = dup_lower(ps->p, n)))
		return fail(ps, "out of memory");
	if (idp_challenge_param(c, name)) {
		free(name);
		return fail(ps, "duplicate parameter");
	}
	pp = &c->params[c->nparams++];
	pp->name = name;
	ps->p += n;
	skip_ows(ps);
	if (*ps->p != '=')
		return fail(ps, "expected '=' after a parameter name");
	ps->p++;
	skip_ows(ps);
	return parse_value(ps, &pp->value);
}

/* 1 when p starts `token BWS =`: a parameter, not a new challenge. */
static int next_is_param(const char *p)
{
	size_t n = token_len(p);

	if (n == 0)
		return 0;
	p += n;
	while (is_ows((unsigned char)*p))
		p++;
	return *p == '=';
}

static int parse_params(struct cparser *ps, struct idp_challenge *c)
{
	for (;;) {
		if (parse_param(ps, c) < 0)
			return -1;
		skip_ows(ps);
		if (!*ps->p)
			return 0;
		if (*ps->p != ',')
			return fail(ps, "expected ',' after a parameter");
		skip_separators(ps);
		if (!*ps->p || !next_is_param(ps->p))
			return 0;    /* end, or the next challenge */
	}
}

/* token68 followed by the end of the element: 1 (stored), 0 (not one), -1. */
static int try_token68(struct cparser *ps, struct idp_challenge *c)
{
	const char *p = ps->p, *end;

	while (is_t68char((unsigned char)*p))
		p++;
	if (p == ps->p)
		return 0;
	while (*p == '=')
		p++;
	end = p;
	while (is_ows((unsigned char)*p))
		p++;
	if (*p && *p != ',')
		return 0;
	if (!(c->token68 = strndup(ps->p, (size_t)(end - ps->p))))
		return fail(ps, "out of memory");
	ps->p = p;
	return 1;
}

static int parse_challenge(struct cparser *ps)
{
	struct idp_challenge *c;
	size_t n = token_len(ps->p);
	int r;

	if (n == 0)
		return fail(ps, "expected an authentication scheme");
	if (ps->out->n >= IDP_CHALLENGES_MAX)
		return fail(ps, "too many challenges");
	c = &ps->out->c[ps->out->n++];
	memset(c, 0, sizeof(*c));
	if (!(c->scheme = dup_lower(ps->p, n)))
		return fail(ps, "out of memory");
	ps->p += n;
	if (*ps->p && *ps->p != ',' && !is_ows((unsigned char)*ps->p))
		return fail(ps, "expected a space after the scheme");
	skip_ows(ps);
	if (!*ps->p || *ps->p == ',')
		return 0;
	r = try_token68(ps, c);
	if (r != 0)
		return r < 0 ? -1 : 0;
	return parse_params(ps, c);
}

static void challenge_free(struct idp_challenge *c)
{
	int i;

	free(c->scheme);
	for (i = 0; i < c->nparams; i++) {
		free(c->params[i].name);
		free(c->params[i].value);
	}
	free(c->token68);
	memset(c, 0, sizeof(*c));
}

/* Drop what this call added: out keeps the challenges of earlier headers. */
static void rollback(struct idp_challenges *out, int n0)
{
	while (out->n > n0)
		challenge_free(&out->c[--out->n]);
}

int idp_challenges_parse(const char *header, struct idp_challenges *out, struct idp_error *err)
{
	struct cparser ps = { header ? header : "", NULL, out, err };
	int n0 = out->n;

	if (strlen(ps.header) > HEADER_MAX)
		return idp_error_set(err, IDP_EAUTH,
				     "malformed WWW-Authenticate header: longer than %d bytes",
				     HEADER_MAX);
	ps.p = ps.header;
	skip_separators(&ps);
	if (!*ps.p)
		return fail(&ps, "no challenge");
	while (*ps.p) {
		if (parse_challenge(&ps) < 0) {
			rollback(out, n0);
			return -1;
		}
		skip_separators(&ps);
	}
	return 0;
}

void idp_challenges_release(struct idp_challenges *c)
{
	if (c)
		rollback(c, 0);
}

const struct idp_challenge *idp_challenges_find(const struct idp_challenges *c, const char *scheme)
{
	int i;

	for (i = 0; c && scheme && i < c->n; i++)
		if (strcasecmp(c->c[i].scheme, scheme) == 0)
			return &c->c[i];
	return NULL;
}

const char *idp_challenge_param(const struct idp_challenge *c, const char *name)
{
	int i;

	for (i = 0; c && name && i < c->nparams; i++)
		if (c->params[i].name && strcasecmp(c->params[i].name, name) == 0)
			return c->params[i].value;
	return NULL;
}
