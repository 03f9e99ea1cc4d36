/* hoststoml.c: a small recursive-descent parser for the TOML subset that
 * containerd's certs.d hosts.toml uses. It knows tables, key = value,
 * basic and literal strings, booleans, integers and arrays (nested once);
 * anything else is an error naming the file and line. Values are never
 * echoed in messages (header tables may hold secrets). */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/buf.h"
#include "hoststoml.h"
#include "banned.h"

#define TOML_ARRAY_MAX 64
#define TOML_KEY_SHOW 64
#define CAPS_ALL (IDP_HOST_CAP_PULL | IDP_HOST_CAP_RESOLVE | IDP_HOST_CAP_PUSH)

enum tv_type { TV_STR, TV_BOOL, TV_INT, TV_ARRAY };

struct tval {
	enum tv_type type;
	char *s;              /* TV_STR */
	int b;                /* TV_BOOL */
	int n;                /* TV_ARRAY: number of items */
	struct tval *items;   /* TV_ARRAY */
};

enum table_kind { T_TOP, T_HOST, T_IGNORED, T_HOSTROOT };

struct tparser {
	const char *p;
	int line;
	const char *name;
	const char *dir;
	struct idp_error *err;
	struct idp_hosts_file *out;
	enum table_kind kind;
	struct idp_hosts_entry *cur;
};

/* ---- errors and values ---- */

/* Keys, table names and capabilities are quoted from the file; the
 * error module escapes whatever control bytes they hold. */
__attribute__((format(printf, 2, 3)))
static int perr(struct tparser *tp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	idp_error_setv(tp->err, IDP_EGENERAL, fmt, ap);
	va_end(ap);
	return idp_error_prefix(tp->err, "%s:%d", tp->name, tp->line);
}

static int oom(struct tparser *tp)
{
	return perr(tp, "out of memory");
}

static void tval_free(struct tval *v)
{
	int i;

	if (v->type == TV_ARRAY) {
		for (i = 0; i < v->n; i++)
			tval_free(&v->items[i]);
		free(v->items);
	}
	free(v->s);
	memset(v, 0, sizeof(*v));
}

/* ---- lexing ---- */

static void skip_ws(struct tparser *tp)
{
	while (*tp->p == ' ' || *tp->p == '\t')
		tp->p++;
}

static void skip_comment(struct tparser *tp)
{
	if (*tp->p == '#')
		tp->p += strcspn(tp->p, "\n");
}

/* Whitespace, comments and newlines (inside arrays, between statements). */
static void skip_blank(struct tparser *tp)
{
	for (;;) {
		skip_ws(tp);
		skip_comment(tp);
		if (*tp->p == '\r' && tp->p[1] == '\n')
			tp->p++;
		if (*tp->p != '\n')
			return;
		tp->p++;
		tp->line++;
	}
}

/* After a statement only a comment and the end of the line may follow. */
static int end_of_line(struct tparser *tp)
{
	skip_ws(tp);
	skip_comment(tp);
	if (*tp->p == '\r' && tp->p[1] == '\n')
		tp->p++;
	if (*tp->p == '\0')
		return 0;
	if (*tp->p != '\n')
		return perr(tp, "unexpected text after value");
	return 0;
}

static int is_bare(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int put_utf8(struct idp_buf *b, unsigned long cp)
{
	char u[4];
	size_t n;

	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0)
		return -1;
	if (cp < 0x80)
		u[0] = (char)cp, n = 1;
	else if (cp < 0x800)
		u[0] = (char)(0xC0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
	else if (cp < 0x10000)
		u[0] = (char)(0xE0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
		u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
	else
		u[0] = (char)(0xF0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
	return idp_buf_add(b, u, n);
}

/* One escape after the backslash of a basic string. */
static int parse_escape(struct tparser *tp, struct idp_buf *b)
{
	static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
	const char *e = *tp->p ? strchr(from, *tp->p) : NULL;
	unsigned long cp = 0;
	int i, n;

	if (e) {
		tp->p++;
		return idp_buf_add(b, &to[e - from], 1) < 0 ? oom(tp) : 0;
	}
	if (*tp->p != 'u' && *tp->p != 'U')
		return perr(tp, "invalid escape in string");
	n = *tp->p == 'u' ? 4 : 8;
	tp->p++;
	for (i = 0; i < n; i++, tp->p++) {
		const char *hex = "0123456789abcdef0123456789ABCDEF";
		const char *h = *tp->p ? strchr(hex, *tp->p) : NULL;
		if (!h)
			return perr(tp, "invalid unicode escape in string");
		cp = cp * 16 + (unsigned long)((h - hex) % 16);
	}
	if (put_utf8(b, cp) < 0)
		return perr(tp, "invalid unicode escape in string");
	return 0;
}

/* A basic ("...") or literal ('...') single-line string. */
static int parse_string(struct tparser *tp, char **out)
{
	char q = *tp->p;
	struct idp_buf b = IDP_BUF_INIT;

	if (tp->p[1] == q && tp->p[2] == q) {
		return perr(tp, "multi-line strings are not supported");
	}
	for (tp->p++; *tp->p != q; ) {
		unsigned char c = (unsigned char)*tp->p;
		if (c == '\0' || c == '\n' || c == '\r') {
			idp_buf_release(&b);
			return perr(tp, "unterminated string");
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			idp_buf_release(&b);
			return perr(tp, "control character in string");
		}
		if (c == '\\' && q == '"') {
			tp->p++;
			if (parse_escape(tp, &b) < 0) {
				idp_buf_release(&b);
				return -1;
			}
			continue;
		}
		if (idp_buf_add(&b, tp->p++, 1) < 0) {
			idp_buf_release(&b);
			return oom(tp);
		}
	}
	tp->p++;
	*out = idp_buf_detach(&b, NULL);
	return *out ? 0 : oom(tp);
}

/* A bare or quoted key. */
static int parse_key(struct tparser *tp, char **out)
{
	const char *s = tp->p;

	if (*s == '"' || *s == '\'')
		return parse_string(tp, out);
	while (is_bare(*tp->p))
		tp->p++;
	if (tp->p == s)
		return perr(tp, "expected a key");
	*out = strndup(s, (size_t)(tp->p - s));
	return *out ? 0 : oom(tp);
}

/* ---- values ---- */

static int parse_value(struct tparser *tp, struct tval *v, int depth);

static int parse_array(struct tparser *tp, struct tval *v, int depth)
{
	v->type = TV_ARRAY;
	if (depth >= 2)
		return perr(tp, "arrays nested too deeply");
	tp->p++;
	for (;;) {
		skip_blank(tp);
		if (*tp->p == ']')
			break;
		if (v->n == TOML_ARRAY_MAX)
			return perr(tp, "array has more than %d items", TOML_ARRAY_MAX);
		if (!v->items && !(v->items = calloc(TOML_ARRAY_MAX, sizeof(*v->items))))
			return oom(tp);
		v->n++;    /* counted first so tval_free releases a partial item */
		if (parse_value(tp, &v->items[v->n - 1], depth + 1) < 0)
			return -1;
		skip_blank(tp);
		if (*tp->p == ',')
			tp->p++;
		else if (*tp->p != ']')
			return perr(tp, "expected ',' or ']' in array");
	}
	tp->p++;
	return 0;
}

static int parse_scalar(struct tparser *tp, struct tval *v)
{
	const char *s = tp->p;
	size_t n;

	if (!strncmp(s, "true", 4) && !is_bare(s[4])) {
		v->type = TV_BOOL, v->b = 1, tp->p += 4;
		return 0;
	}
	if (!strncmp(s, "false", 5) && !is_bare(s[5])) {
		v->type = TV_BOOL, v->b = 0, tp->p += 5;
		return 0;
	}
	n = (*s == '+' || *s == '-') ? 1 : 0;
	n += strspn(s + n, "0123456789_");
	if (n > 0 && s[n - 1] >= '0' && s[n - 1] <= '9' && !is_bare(s[n]) &&
	    s[n] != '.') {
		v->type = TV_INT, tp->p += n;
		return 0;
	}
	return perr(tp, "unsupported value (expected a string, boolean, integer or array)");
}

static int parse_value(struct tparser *tp, struct tval *v, int depth)
{
	memset(v, 0, sizeof(*v));
	if (*tp->p == '"' || *tp->p == '\'') {
		v->type = TV_STR;
		return parse_string(tp, &v->s);
	}
	if (*tp->p == '[')
		return parse_array(tp, v, depth);
	return parse_scalar(tp, v);
}

/* ---- applying values to an entry ---- */

static char *resolve_path(const char *dir, const char *p)
{
	struct idp_buf b = IDP_BUF_INIT;

	if (!dir || !*dir || p[0] == '/')
		return strdup(p);
	if (idp_buf_addf(&b, "%s%s%s", dir,
			 dir[strlen(dir) - 1] == '/' ? "" : "/", p) < 0)
		return NULL;
	return idp_buf_detach(&b, NULL);
}

static int want_type(struct tparser *tp, const char *key, const struct tval *v,
		     enum tv_type t, const char *what)
{
	if (v->type == t)
		return 0;
	return perr(tp, "'%.*s' must be %s", TOML_KEY_SHOW, key, what);
}

static int add_ca(struct tparser *tp, const struct tval *v)
{
	struct idp_hosts_entry *e = tp->cur;

	if (v->type != TV_STR || !*v->s)
		return perr(tp, "'ca' must be a path or an array of paths");
	if (e->ncas == IDP_HOSTS_MAX_FILES)
		return perr(tp, "more than %d ca files", IDP_HOSTS_MAX_FILES);
	if (!(e->ca[e->ncas] = resolve_path(tp->dir, v->s)))
		return oom(tp);
	e->ncas++;
	return 0;
}

static int set_ca(struct tparser *tp, const struct tval *v)
{
	int i;

	if (v->type != TV_ARRAY)
		return add_ca(tp, v);
	for (i = 0; i < v->n; i++)
		if (add_ca(tp, &v->items[i]) < 0)
			return -1;
	return 0;
}

/* One client entry: "cert" or ["cert"] or ["cert", "key"]. */
static int add_client(struct tparser *tp, const struct tval *v)
{
	struct idp_hosts_entry *e = tp->cur;
	const struct tval *cert = v, *key = NULL;
	int i = e->nclients;

	if (v->type == TV_ARRAY) {
		if (v->n < 1 || v->n > 2)
			return perr(tp, "'client' pair must be [cert, key]");
		cert = &v->items[0];
		key = v->n == 2 ? &v->items[1] : NULL;
	}
	if (cert->type != TV_STR || !*cert->s || (key && (key->type != TV_STR || !*key->s)))
		return perr(tp, "'client' must hold paths or [cert, key] pairs");
	if (i == IDP_HOSTS_MAX_FILES)
		return perr(tp, "more than %d client certificates", IDP_HOSTS_MAX_FILES);
	e->client_cert[i] = resolve_path(tp->dir, cert->s);
	e->client_key[i] = key ? resolve_path(tp->dir, key->s) : NULL;
	e->nclients++;
	if (!e->client_cert[i] || (key && !e->client_key[i]))
		return oom(tp);
	return 0;
}

static int set_client(struct tparser *tp, const struct tval *v)
{
	int i;

	if (v->type == TV_STR)
		return add_client(tp, v);
	if (v->type != TV_ARRAY)
		return perr(tp, "'client' must hold paths or [cert, key] pairs");
	for (i = 0; i < v->n; i++)
		if (add_client(tp, &v->items[i]) < 0)
			return -1;
	return 0;
}

static int set_caps(struct tparser *tp, const struct tval *v)
{
	static const char *names[] = { "pull", "resolve", "push" };
	unsigned caps = 0;
	int i, j;

	if (want_type(tp, "capabilities", v, TV_ARRAY, "an array of strings") < 0)
		return -1;
	for (i = 0; i < v->n; i++) {
		if (v->items[i].type != TV_STR)
			return perr(tp, "'capabilities' must be an array of strings");
		for (j = 0; j < 3 && strcmp(v->items[i].s, names[j]); j++)
			;
		if (j == 3)
			return perr(tp, "unknown capability \"%.32s\"", v->items[i].s);
		caps |= 1u << j;
	}
	tp->cur->caps = caps;
	return 0;
}

static char *with_scheme(const char *url)
{
	struct idp_buf b = IDP_BUF_INIT;

	if (strstr(url, "://"))
		return strdup(url);
	if (idp_buf_addf(&b, "https://%s", url) < 0)
		return NULL;
	return idp_buf_detach(&b, NULL);
}

static int set_server(struct tparser *tp, const struct tval *v)
{
	if (want_type(tp, "server", v, TV_STR, "a string") < 0)
		return -1;
	if (!*v->s)
		return perr(tp, "'server' is empty");
	free(tp->cur->url);
	tp->cur->url = with_scheme(v->s);
	return tp->cur->url ? 0 : oom(tp);
}

static int apply(struct tparser *tp, const char *key, const struct tval *v)
{
	if (tp->kind == T_IGNORED)
		return 0;
	if (tp->kind == T_HOSTROOT)
		return perr(tp, "key '%.*s' directly in [host] (expected [host.\"URL\"])",
			    TOML_KEY_SHOW, key);
	if (!strcmp(key, "server"))
		return tp->kind == T_TOP ? set_server(tp, v) :
			perr(tp, "'server' is only valid at the top level");
	if (!strcmp(key, "ca"))
		return set_ca(tp, v);
	if (!strcmp(key, "client"))
		return set_client(tp, v);
	if (!strcmp(key, "capabilities"))
		return set_caps(tp, v);
	if (!strcmp(key, "skip_verify")) {
		if (want_type(tp, key, v, TV_BOOL, "true or false") < 0)
			return -1;
		tp->cur->skip_verify = v->b;
		return 0;
	}
	if (!strcmp(key, "override_path")) {
		if (want_type(tp, key, v, TV_BOOL, "true or false") < 0)
			return -1;
		tp->cur->override_path = v->b;
		return 0;
	}
	return 0;   /* other keys (e.g. dial_timeout) are valid TOML we do not use */
}

/* ---- statements ---- */

static void entry_init(struct idp_hosts_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->caps = CAPS_ALL;
	e->skip_verify = -1;
}

static int open_host(struct tparser *tp, const char *url)
{
	struct idp_hosts_file *f = tp->out;
	struct idp_hosts_entry *e;
	char *u = with_scheme(url);
	int i;

	if (!u)
		return oom(tp);
	for (i = 0; i < f->nhosts; i++)
		if (!strcmp(f->hosts[i].url, u)) {
			free(u);
			return perr(tp, "duplicate table [host.\"%.200s\"]", url);
		}
	if (f->nhosts == IDP_HOSTS_MAX) {
		free(u);
		return perr(tp, "more than %d hosts", IDP_HOSTS_MAX);
	}
	e = &f->hosts[f->nhosts++];
	entry_init(e);
	e->url = u;
	tp->cur = e;
	tp->kind = T_HOST;
	return 0;
}

/* Pick the table for a dotted header path (keys[0..n)). */
static int select_table(struct tparser *tp, char **keys, int n)
{
	if (!strcmp(keys[0], "header") && n == 1) {
		tp->kind = T_IGNORED;
		return 0;
	}
	if (strcmp(keys[0], "host"))
		return perr(tp, "unknown table [%.*s]", TOML_KEY_SHOW, keys[0]);
	if (n == 1) {
		tp->kind = T_HOSTROOT;
		return 0;
	}
	if (!*keys[1])
		return perr(tp, "empty host URL in table header");
	if (n == 2)
		return open_host(tp, keys[1]);
	if (n == 3 && !strcmp(keys[2], "header")) {
		tp->kind = T_IGNORED;
		return 0;
	}
	return perr(tp, "unknown table under [host.\"%.200s\"]", keys[1]);
}

static int parse_header_keys(struct tparser *tp, char **keys, int *n)
{
	for (;;) {
		skip_ws(tp);
		if (*n == 3)
			return perr(tp, "table name has too many parts");
		if (parse_key(tp, &keys[*n]) < 0)
			return -1;
		(*n)++;
		skip_ws(tp);
		if (*tp->p != '.')
			break;
		tp->p++;
	}
	if (*tp->p != ']')
		return perr(tp, "expected ']' after table name");
	tp->p++;
	return 0;
}

static int parse_table(struct tparser *tp)
{
	char *keys[3] = { NULL, NULL, NULL };
	int n = 0, r, i;

	tp->p++;
	if (*tp->p == '[')
		return perr(tp, "arrays of tables are not supported");
	r = parse_header_keys(tp, keys, &n);
	if (r == 0)
		r = select_table(tp, keys, n);
	for (i = 0; i < n; i++)
		free(keys[i]);
	return r < 0 ? -1 : end_of_line(tp);
}

static int parse_keyval(struct tparser *tp)
{
	struct tval v;
	char *key = NULL;
	int r;

	memset(&v, 0, sizeof(v));
	if (parse_key(tp, &key) < 0)
		return -1;
	skip_ws(tp);
	if (*tp->p == '.')
		r = perr(tp, "dotted keys are not supported ('%.*s')", TOML_KEY_SHOW, key);
	else if (*tp->p != '=')
		r = perr(tp, "expected '=' after '%.*s'", TOML_KEY_SHOW, key);
	else {
		tp->p++;
		skip_ws(tp);
		r = parse_value(tp, &v, 0);
		if (r == 0)
			r = end_of_line(tp);
		if (r == 0)
			r = apply(tp, key, &v);
	}
	tval_free(&v);
	free(key);
	return r;
}

static int parse_all(struct tparser *tp)
{
	for (;;) {
		skip_blank(tp);
		if (*tp->p == '\0')
			return 0;
		if ((*tp->p == '[' ? parse_table(tp) : parse_keyval(tp)) < 0)
			return -1;
	}
}

/* ---- public ---- */

int idp_hosts_parse(const char *text, const char *dir, const char *name,
		    struct idp_hosts_file *out, struct idp_error *err)
{
	struct tparser tp;

	memset(out, 0, sizeof(*out));
	entry_init(&out->server);
	memset(&tp, 0, sizeof(tp));
	tp.p = text;
	tp.line = 1;
	tp.name = name ? name : "hosts.toml";
	tp.dir = dir;
	tp.err = err;
	tp.out = out;
	tp.kind = T_TOP;
	tp.cur = &out->server;
	if (strlen(text) > IDP_CAP_CONFIG) {
		tp.line = 0;
		return idp_error_set(err, IDP_EGENERAL, "%s: file too large", tp.name);
	}
	if (parse_all(&tp) < 0) {
		idp_hosts_release(out);
		return -1;
	}
	return 0;
}

static void entry_release(struct idp_hosts_entry *e)
{
	int i;

	free(e->url);
	for (i = 0; i < e->ncas; i++)
		free(e->ca[i]);
	for (i = 0; i < e->nclients; i++) {
		free(e->client_cert[i]);
		free(e->client_key[i]);
	}
	entry_init(e);
}

void idp_hosts_release(struct idp_hosts_file *f)
{
	int i;

	if (!f)
		return;
	entry_release(&f->server);
	for (i = 0; i < f->nhosts; i++)
		entry_release(&f->hosts[i]);
	f->nhosts = 0;
}
