/* token.c: the pure parts of the registry token protocol: parsing a token
 * endpoint's JSON answer (json-c), its lifetime (expires_in, else a JWT's
 * exp claim, as Gitea sends none), deciding when a token is stale, and
 * building the GET query / POST form with libcurl's percent-encoding. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include "util/jsonutil.h"
#include "http.h"
#include "token.h"
#include "banned.h"

#define TOKEN_DEFAULT_EXPIRES 60
#define TOKEN_MAX_EXPIRES (366L * 24 * 3600)  /* clamp absurd lifetimes */
#define TOKEN_PARAM_MAX 16384                 /* longest value we encode */
#define JWT_CLAIMS_MAX 4096                   /* longest JWT claims part we decode */

/* Non-empty string member, or NULL. */
static const char *json_str(struct json_object *o, const char *key)
{
	const char *s = idp_json_str(o, key);
	return s && *s ? s : NULL;
}

/* A token goes into an HTTP header: printable ASCII, no spaces. */
static int token_chars_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static long parse_expires(struct json_object *o)
{
	struct json_object *v;
	int64_t n;
	double d;

	if (!json_object_object_get_ex(o, "expires_in", &v))
		return TOKEN_DEFAULT_EXPIRES;
	if (json_object_is_type(v, json_type_int)) {
		n = json_object_get_int64(v);
	} else if (json_object_is_type(v, json_type_double)) {
		d = json_object_get_double(v);   /* converted only when in range */
		if (!(d >= 1))
			return TOKEN_DEFAULT_EXPIRES;   /* also NaN */
		n = d > TOKEN_MAX_EXPIRES ? TOKEN_MAX_EXPIRES : (int64_t)d;
	} else {
		return TOKEN_DEFAULT_EXPIRES;
	}
	if (n < 1)
		return TOKEN_DEFAULT_EXPIRES;
	return n > TOKEN_MAX_EXPIRES ? TOKEN_MAX_EXPIRES : (long)n;
}

/* A JWT's claims (its second, base64url part) as a JSON object, or NULL
 * when the token is not a JWT. */
static struct json_object *jwt_claims(const char *tok)
{
	const char *p = strchr(tok, '.'), *q = p ? strchr(p + 1, '.') : NULL;
	size_t n = q ? (size_t)(q - p - 1) : 0, i;
	char b64[JWT_CLAIMS_MAX + 4];
	gnutls_datum_t in, out = { NULL, 0 };
	struct json_object *o = NULL;

	if (!n || n > JWT_CLAIMS_MAX || strchr(q + 1, '.'))
		return NULL;
	for (i = 0; i < n; i++)   /* base64url -> base64, padded */
		b64[i] = p[1 + i] == '-' ? '+' : p[1 + i] == '_' ? '/' : p[1 + i];
	while (i % 4)
		b64[i++] = '=';
	in.data = (unsigned char *)b64;
	in.size = (unsigned)i;
	if (gnutls_base64_decode2(&in, &out) < 0)
		return NULL;
	o = idp_json_parse((const char *)out.data, out.size, JWT_CLAIMS_MAX);
	gnutls_free(out.data);
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

/* Without expires_in: the seconds from issued to the JWT's exp claim, or
 * TOKEN_DEFAULT_EXPIRES when the token is no JWT, has no exp, or one that
 * is not after issued (another clock). */
static long jwt_lifetime(const char *tok, time_t issued)
{
	struct json_object *claims = jwt_claims(tok), *exp;
	int64_t left = 0;

	if (claims && json_object_object_get_ex(claims, "exp", &exp) &&
	    json_object_is_type(exp, json_type_int))
		left = json_object_get_int64(exp) - (int64_t)issued;
	json_object_put(claims);
	if (left < 1)
		return TOKEN_DEFAULT_EXPIRES;
	return left > TOKEN_MAX_EXPIRES ? TOKEN_MAX_EXPIRES : (long)left;
}

/* Read exactly n digits at *p into *v. */
static int digits(const char **p, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return 0;
}

/* Expect character c (or, when alt != 0, alt) at *p. */
static int expect(const char **p, char c, char alt)
{
	if (**p != c && (!alt || **p != alt))
		return -1;
	(*p)++;
	return 0;
}

/* "Z", "+hh:mm" or "-hh:mm" -> seconds east of UTC. */
static int parse_zone(const char *p, long *off)
{
	int sign, h, m;

	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		*off = 0;
		return 0;
	}
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	if (digits(&p, 2, &h) || expect(&p, ':', 0) || digits(&p, 2, &m) || *p)
		return -1;
	if (h > 23 || m > 59)
		return -1;
	*off = sign * (h * 3600L + m * 60L);
	return 0;
}

/* RFC 3339 "2024-01-02T03:04:05[.123456789](Z|+hh:mm)" -> time_t. */
static int parse_rfc3339(const char *s, time_t *out)
{
	struct tm tm;
	const char *p = s;
	long off;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (digits(&p, 4, &tm.tm_year) || expect(&p, '-', 0) || digits(&p, 2, &tm.tm_mon) ||
	    expect(&p, '-', 0) || digits(&p, 2, &tm.tm_mday) || expect(&p, 'T', 't') ||
	    digits(&p, 2, &tm.tm_hour) || expect(&p, ':', 0) || digits(&p, 2, &tm.tm_min) ||
	    expect(&p, ':', 0) || digits(&p, 2, &tm.tm_sec))
		return -1;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return -1;
		for (p++; *p >= '0' && *p <= '9'; p++)
			;     /* sub-second precision is irrelevant here */
	}
	if (parse_zone(p, &off) < 0)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = t - off;
	return 0;
}

static int token_fill(struct json_object *o, time_t now, struct idp_token *out,
		      struct idp_error *err)
{
	const char *tok = json_str(o, "token"), *rt = json_str(o, "refresh_token");
	const char *iss = json_str(o, "issued_at");

	if (!tok)
		tok = json_str(o, "access_token");
	if (!tok)
		return idp_error_set(err, IDP_EAUTH,
				     "token response has no \"token\" or \"access_token\"");
	if (!token_chars_ok(tok) || (rt && !token_chars_ok(rt)))
		return idp_error_set(err, IDP_EAUTH, "token response holds an invalid token");
	out->token = strdup(tok);
	if (rt)
		out->refresh_token = strdup(rt);
	if (!out->token || (rt && !out->refresh_token))
		return idp_error_set(err, IDP_EAUTH, "reading token response: out of memory");
	if (!iss || parse_rfc3339(iss, &out->issued_at) < 0)
		out->issued_at = now;
	if (json_object_object_get_ex(o, "expires_in", NULL))
		out->expires_in = parse_expires(o);
	else
		out->expires_in = jwt_lifetime(out->token, out->issued_at);
	return 0;
}

int idp_token_parse(const char *body, size_t len, time_t now,
		    struct idp_token *out, struct idp_error *err)
{
	struct json_object *o;
	int r;

	memset(out, 0, sizeof(*out));
	if (len > IDP_CAP_JSON_SMALL)
		return idp_error_set(err, IDP_EAUTH, "token response too large (%zu bytes)", len);
	o = idp_json_parse(body, len, IDP_CAP_JSON_SMALL);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return idp_error_set(err, IDP_EAUTH, "token response is not a JSON object");
	}
	r = token_fill(o, now, out, err);
	json_object_put(o);
	if (r < 0)
		idp_token_release(out);
	return r;
}

void idp_token_release(struct idp_token *t)
{
	if (!t)
		return;
	if (t->token)
		explicit_bzero(t->token, strlen(t->token));
	if (t->refresh_token)
		explicit_bzero(t->refresh_token, strlen(t->refresh_token));
	free(t->token);
	free(t->refresh_token);
	memset(t, 0, sizeof(*t));
}

int idp_token_expired(const struct idp_token *t, time_t now)
{
	long life, margin;

	if (!t || !t->token)
		return 1;
	life = t->expires_in >= 1 ? t->expires_in : TOKEN_DEFAULT_EXPIRES;
	/* renew a tenth early (at least 5 s), but a short-lived token must
	 * still be usable: never more than half its life early */
	margin = life / 10 < 5 ? 5 : life / 10;
	if (margin > life / 2)
		margin = life / 2;
	return now >= t->issued_at + (time_t)(life - margin);
}

/* Append "<sep>name=<percent-encoded value>" and switch sep to "&". */
static int add_param(struct idp_buf *b, const char **sep, const char *name, const char *value)
{
	size_t n = strlen(value);
	char *enc;
	int r;

	if (n > TOKEN_PARAM_MAX)
		return -1;
	enc = curl_easy_escape(NULL, value, (int)n);
	if (!enc)
		return -1;
	r = idp_buf_addf(b, "%s%s=%s", *sep, name, enc);
	curl_free(enc);
	*sep = "&";
	return r;
}

/* Undo a failed build: b gets its old contents back. */
static int restore(struct idp_buf *b, size_t len0)
{
	if (b->alloc) {
		b->len = len0;
		b->buf[len0] = '\0';
	}
	return -1;
}

static int add_scopes(struct idp_buf *b, const char **sep, const char *const *scopes, int n)
{
	int i;

	for (i = 0; scopes && i < n; i++)
		if (scopes[i] && *scopes[i] && add_param(b, sep, "scope", scopes[i]) < 0)
			return -1;
	return 0;
}

/* url may be empty (realm is then written first) or already hold the realm. */
int idp_token_build_get_url(struct idp_buf *url, const char *realm, const char *service,
			    const char *const *scopes, int nscopes, const char *account)
{
	size_t len0 = url->len;
	const char *sep;

	if (url->len == 0 && (!realm || !*realm || idp_buf_adds(url, realm) < 0))
		return restore(url, len0);
	sep = idp_url_query_sep(url);
	if (service && *service && add_param(url, &sep, "service", service) < 0)
		return restore(url, len0);
	if (add_scopes(url, &sep, scopes, nscopes) < 0)
		return restore(url, len0);
	if (account && *account && add_param(url, &sep, "account", account) < 0)
		return restore(url, len0);
	return 0;
}

/* OAuth2 (RFC 6749 3.3): several scopes go space-separated in one field. */
static int join_scopes(struct idp_buf *out, const char *const *scopes, int n)
{
	int i;

	for (i = 0; scopes && i < n; i++) {
		if (!scopes[i] || !*scopes[i])
			continue;
		if ((out->len && idp_buf_adds(out, " ") < 0) || idp_buf_adds(out, scopes[i]) < 0)
			return -1;
	}
	return 0;
}

int idp_token_build_post_form(struct idp_buf *form, const char *refresh_token,
			      const char *service, const char *const *scopes, int nscopes)
{
	struct idp_buf scope;
	size_t len0 = form->len;
	const char *sep = len0 ? "&" : "";
	int r = -1;

	idp_buf_init(&scope, TOKEN_PARAM_MAX);
	if (!refresh_token || !*refresh_token || join_scopes(&scope, scopes, nscopes) < 0)
		goto done;
	if (add_param(form, &sep, "grant_type", "refresh_token") < 0 ||
	    add_param(form, &sep, "refresh_token", refresh_token) < 0 ||
	    (service && *service && add_param(form, &sep, "service", service) < 0) ||
	    (scope.len && add_param(form, &sep, "scope", scope.buf) < 0) ||
	    add_param(form, &sep, "client_id", "idppush") < 0)
		goto done;
	r = 0;
done:
	idp_buf_release(&scope);
	return r < 0 ? restore(form, len0) : 0;
}

int idp_token_scope(struct idp_buf *out, const char *repository, int push)
{
	size_t len0 = out->len;

	if (!repository || !*repository || strchr(repository, ':') ||
	    idp_buf_addf(out, "repository:%s:%s", repository, push ? "pull,push" : "pull") < 0)
		return restore(out, len0);
	return 0;
}
