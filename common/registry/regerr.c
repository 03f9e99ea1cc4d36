/* regerr.c: registry error responses -> idp_error. Parses the
 * {"errors":[{"code","message","detail"}]} body with json-c (bounded), and
 * summarises anything else (HTML from a proxy, garbage) without echoing it
 * raw; picks the class and a hint from the HTTP status and the codes. */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "util/jsonutil.h"
#include "util/buf.h"
#include "regerr.h"
#include "banned.h"

#define SUMMARY_MAX 200   /* chars of a non-JSON body we show */
#define CODE_MAX 64       /* chars of an error code we show */
#define SHOW_ERRORS 3     /* errors listed in the message */
#define HTML_SCAN 4096    /* bytes searched for an HTML <title> */

/* A message being built: appends truncate silently at the end. */
struct msg {
	char s[IDP_ERRMSG_MAX];
	size_t n;
};

static void msg_addf(struct msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void msg_addf(struct msg *m, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (m->n >= sizeof(m->s) - 1)
		return;
	va_start(ap, fmt);
	r = vsnprintf(m->s + m->n, sizeof(m->s) - m->n, fmt, ap);
	va_end(ap);
	if (r > 0)
		m->n += (size_t)r < sizeof(m->s) - m->n ? (size_t)r : sizeof(m->s) - m->n - 1;
}

/* Append at most max bytes of s[0..n): printable ASCII kept, whitespace
 * controls become ' ', anything else '?'. */
static void msg_add_clean(struct msg *m, const char *s, size_t n, size_t max)
{
	size_t i;

	for (i = 0; i < n && i < max && m->n < sizeof(m->s) - 1; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\t' || c == '\r' || c == '\n')
			c = ' ';
		else if (c < 0x20 || c >= 0x7f)
			c = '?';
		m->s[m->n++] = (char)c;
	}
	m->s[m->n] = '\0';
	if (n > max)
		msg_addf(m, "...");
}

/* The "errors" array of a parsed body, or NULL. */
static struct json_object *errors_array(struct json_object *o)
{
	struct json_object *a;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "errors", &a) || !json_object_is_type(a, json_type_array))
		return NULL;
	return json_object_array_length(a) ? a : NULL;
}

/* String member of an error entry, "" when absent. */
static const char *entry_str(struct json_object *e, const char *key)
{
	struct json_object *v;

	if (!json_object_is_type(e, json_type_object) || !json_object_object_get_ex(e, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

/* 1 when some entry carries this code. */
static int has_code(struct json_object *errs, const char *code)
{
	size_t i, n = errs ? json_object_array_length(errs) : 0;

	for (i = 0; i < n; i++)
		if (strcmp(entry_str(json_object_array_get_idx(errs, i), "code"), code) == 0)
			return 1;
	return 0;
}

/* "CODE: message; CODE: message (and N more)" */
static void add_errors(struct msg *m, struct json_object *errs)
{
	size_t i, n = json_object_array_length(errs);

	for (i = 0; i < n && i < SHOW_ERRORS; i++) {
		struct json_object *e = json_object_array_get_idx(errs, i);
		const char *code = entry_str(e, "code"), *text = entry_str(e, "message");

		if (!*text)
			text = entry_str(e, "detail");
		msg_addf(m, "%s", i ? "; " : ": ");
		msg_add_clean(m, *code ? code : "UNKNOWN", strlen(*code ? code : "UNKNOWN"),
			      CODE_MAX);
		if (*text) {
			msg_addf(m, ": ");
			msg_add_clean(m, text, strlen(text), SUMMARY_MAX);
		}
	}
	if (n > SHOW_ERRORS)
		msg_addf(m, " (and %zu more)", n - SHOW_ERRORS);
}

/* An HTML page: show its <title>, never the markup. */
static void add_html(struct msg *m, const char *body, size_t len)
{
	char scan[HTML_SCAN + 1];
	size_t i, n = len < HTML_SCAN ? len : HTML_SCAN;
	char *t, *end;

	for (i = 0; i < n; i++)
		scan[i] = body[i] ? body[i] : ' ';
	scan[n] = '\0';
	t = strcasestr(scan, "<title>");
	end = t ? strcasestr(t, "</title>") : NULL;
	if (!t || !end || end == t + 7) {
		msg_addf(m, ": (html page)");
		return;
	}
	t += 7;
	while (t < end && (*t == ' ' || *t == '\n' || *t == '\r' || *t == '\t'))
		t++;
	msg_addf(m, ": \"");
	msg_add_clean(m, t, (size_t)(end - t), SUMMARY_MAX);
	msg_addf(m, "\" (html page)");
}

/* Anything that is not a registry error body. */
static void add_summary(struct msg *m, const char *body, size_t len)
{
	size_t i = 0, eol;

	while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
		i++;
	if (i == len)
		return;
	if (body[i] == '<') {
		add_html(m, body + i, len - i);
		return;
	}
	for (eol = i; eol < len && eol - i <= SUMMARY_MAX; eol++)
		if (body[eol] == '\n' || body[eol] == '\r')
			break;
	msg_addf(m, ": \"");
	msg_add_clean(m, body + i, eol - i, SUMMARY_MAX);
	msg_addf(m, "\"");
}

/* Class, retryability and a hint for the user. */
static enum idp_errclass classify(long status, struct json_object *errs,
				  const char **hint, int *retryable)
{
	*hint = NULL;
	*retryable = status == 408 || status == 429 || (status >= 500 && status <= 599) ||
		     has_code(errs, "TOOMANYREQUESTS");
	if (status == 401 || (has_code(errs, "UNAUTHORIZED") && status != 403)) {
		*hint = "authentication required: check the username and password or token, "
			"or log in with docker login";
		return IDP_EAUTH;
	}
	if (status == 403 || has_code(errs, "DENIED")) {
		*hint = "denied: the account is not allowed to push to this repository";
		return IDP_EAUTH;
	}
	if (status == 404 && (has_code(errs, "NAME_UNKNOWN") || has_code(errs, "NAME_INVALID")))
		*hint = "the repository or its owner does not exist: on Gitea the first path "
			"segment must be an existing user or organization (e.g. "
			"giteaadmin/<image>)";
	else if (status == 413)
		*hint = "request body too large for a proxy in front of the registry "
			"(idpbuilder's ingress allows 1024m): use a smaller --chunk-size, e.g. "
			"--chunk-size 8m";
	return IDP_EREJECTED;
}

/* nginx (and ingress-nginx) answer a missing or refused client
 * certificate with a 400 page titled "No required SSL certificate was
 * sent" or "The SSL certificate error". */
static int wants_client_cert(const char *body, size_t len)
{
	size_t n = len < HTML_SCAN ? len : HTML_SCAN;

	return body && (memmem(body, n, "No required SSL certificate", 27) ||
			memmem(body, n, "The SSL certificate error", 25));
}

int idp_regerr_from_response(struct idp_error *err, const char *what, long status,
			     const char *body, size_t len)
{
	struct json_object *o = body ? idp_json_parse(body, len, IDP_CAP_JSON_SMALL) : NULL;
	struct json_object *errs = errors_array(o);
	struct msg m = { "", 0 };
	enum idp_errclass cls;
	const char *hint;
	int retryable;

	msg_addf(&m, "HTTP %ld", status);
	if (errs)
		add_errors(&m, errs);
	else if (body)
		add_summary(&m, body, len);
	cls = classify(status, errs, &hint, &retryable);
	if (status == 400 && !errs && wants_client_cert(body, len)) {
		cls = IDP_ENETWORK;
		hint = "the server wants a TLS client certificate: put client.cert and "
		       "client.key in ~/.docker/certs.d/<host:port>/ (or a hosts.toml "
		       "'client' entry, --hosts-dir)";
	}
	if (hint)
		msg_addf(&m, ": %s", hint);
	if (what && *what)
		msg_addf(&m, " (%s)", what);
	json_object_put(o);
	idp_error_set(err, cls, "%s", m.s);
	if (err) {
		err->retryable = retryable;
		err->http_status = (int)status;
	}
	return -1;
}

int idp_regerr_first_code(const char *body, size_t len, char *out, size_t n)
{
	struct json_object *o = idp_json_parse(body, len, IDP_CAP_JSON_SMALL);
	struct json_object *errs = errors_array(o);
	size_t i, count = errs ? json_object_array_length(errs) : 0;
	int r = -1;

	if (n)
		out[0] = '\0';
	for (i = 0; i < count && r < 0; i++) {
		const char *code = entry_str(json_object_array_get_idx(errs, i), "code");
		if (*code) {
			if (n)
				snprintf(out, n, "%s", code);
			r = 0;
		}
	}
	json_object_put(o);
	return r;
}
