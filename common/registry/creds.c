/* creds.c: resolving registry credentials the way docker users already
 * configured them (explicit, IDPBUILDER_REGISTRY_* env, DOCKER_AUTH_CONFIG,
 * config.json with credential helpers). Secrets never reach an error
 * message, and buffers that held them are wiped before they are freed. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <json-c/json.h>
#include "util/jsonutil.h"
#include "util/buf.h"
#include "creds.h"
#include "util/run.h"
#include "banned.h"

#define HELPER_PREFIX "docker-credential-"
#define HELPER_NAME_MAX 64
#define HELPER_ERR_CAP 4096
#define HELPER_LINE_MAX 200
#define JSON_DEPTH 32
#define DOCKER_HUB_SERVER "https://index.docker.io/v1/"
/* A helper that could not be started, whichever way that showed (spawn
 * said ENOENT, or the child exited 127 saying nothing) */
#define NOT_FOUND "credential helper %s: not found on PATH"

/* ---- small helpers ---- */

static void wipe_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static void wipe_buf(struct idp_buf *b)
{
	if (b->alloc)
		explicit_bzero(b->buf, b->alloc);
	idp_buf_release(b);
}

static int set_str(char **dst, const char *s, struct idp_error *err)
{
	if (!s)
		return 0;
	*dst = strdup(s);
	if (!*dst)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	return 0;
}

static int set_origin(struct idp_creds *c, const char *what, const char *name,
		      struct idp_error *err)
{
	struct idp_buf b = IDP_BUF_INIT;

	if (idp_buf_addf(&b, "%s%s", what, name) < 0)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	c->origin = idp_buf_detach(&b, NULL);
	return 1;
}

static int nonempty(const char *s)
{
	return s && *s;
}

/* Docker Hub's credentials live under its legacy v1 URL. */
static const char *server_key(const char *hostport)
{
	if (!strcasecmp(hostport, "docker.io") ||
	    !strcasecmp(hostport, "index.docker.io") ||
	    !strcasecmp(hostport, "registry-1.docker.io"))
		return DOCKER_HUB_SERVER;
	return hostport;
}

/* Does a config key ("host:port", "https://host:port/v1/") name hostport? */
static int key_matches(const char *key, const char *hostport)
{
	const char *h = strstr(key, "://");
	size_t n;

	h = h ? h + 3 : key;
	n = strcspn(h, "/");
	return n == strlen(hostport) && !strncasecmp(h, hostport, n);
}

/* Parse a whole JSON text; NULL when malformed or trailing garbage. */
static struct json_object *parse_json(const char *s, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
	struct json_object *o;
	size_t off;

	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, s, (int)len);
	off = json_tokener_get_parse_end(tok);
	if (o && json_tokener_get_error(tok) == json_tokener_success) {
		while (off < len && strchr(" \t\r\n", s[off]))
			off++;
		if (off != len) {
			json_object_put(o);
			o = NULL;
		}
	} else if (o) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* ---- explicit and environment ---- */

/* Validate one user/password/token triple and fill out; 0 when all empty. */
static int from_triple(const char *user, const char *pass, const char *token,
		       enum idp_creds_source src, const char *what,
		       struct idp_creds *out, struct idp_error *err)
{
	if (!nonempty(user) && !nonempty(pass) && !nonempty(token))
		return 0;
	/* a username with a token: the token is the password (a Gitea token is) */
	if (nonempty(token) && nonempty(pass))
		return idp_error_set(err, IDP_EAUTH,
			"%s: a token cannot be combined with a password", what);
	if (nonempty(user) && !nonempty(pass) && !nonempty(token))
		return idp_error_set(err, IDP_EAUTH,
			"%s: username given without a password", what);
	if (nonempty(pass) && !nonempty(user))
		return idp_error_set(err, IDP_EAUTH,
			"%s: password given without a username", what);
	out->source = src;
	if (set_str(&out->origin, what, err) < 0 ||
	    (nonempty(token) && set_str(&out->registry_token, token, err) < 0) ||
	    (nonempty(user) && set_str(&out->username, user, err) < 0) ||
	    (nonempty(pass) && set_str(&out->password, pass, err) < 0))
		return -1;
	return 1;
}

static int from_env(struct idp_creds *out, struct idp_error *err)
{
	return from_triple(getenv("IDPBUILDER_REGISTRY_USERNAME"),
			   getenv("IDPBUILDER_REGISTRY_PASSWORD"),
			   getenv("IDPBUILDER_REGISTRY_TOKEN"), IDP_CREDS_ENV,
			   "IDPBUILDER_REGISTRY_* variables", out, err);
}

/* ---- auths entries ---- */

/* Decode base64 "user:pass" into out->username/password. */
static int decode_auth(const char *b64, struct idp_creds *out)
{
	gnutls_datum_t in = { (unsigned char *)b64, (unsigned)strlen(b64) };
	gnutls_datum_t dec = { NULL, 0 };
	char *colon;
	int rc = -1;

	if (gnutls_base64_decode2(&in, &dec) < 0)
		return -1;
	colon = memchr(dec.data, ':', dec.size);
	if (colon && colon != (char *)dec.data && !memchr(dec.data, '\0', dec.size)) {
		out->username = strndup((char *)dec.data, (size_t)(colon - (char *)dec.data));
		out->password =
			strndup(colon + 1, dec.size - (size_t)(colon + 1 - (char *)dec.data));
		rc = out->username && out->password ? 0 : -1;
	}
	explicit_bzero(dec.data, dec.size);
	gnutls_free(dec.data);
	return rc;
}

/* Fill out from one auths entry; 1 found, 0 empty entry, -1 error. */
static int from_auth_entry(struct json_object *e, const char *key,
			   const char *where, struct idp_creds *out,
			   struct idp_error *err)
{
	const char *auth = idp_json_str(e, "auth");
	const char *idt = idp_json_str(e, "identitytoken");
	const char *rt = idp_json_str(e, "registrytoken");

	if (nonempty(auth) && decode_auth(auth, out) < 0)
		return idp_error_set(err, IDP_EGENERAL,
			"%s: auths entry \"%s\": \"auth\" is not base64 of user:password",
			where, key);
	if (!nonempty(auth) && nonempty(idp_json_str(e, "username")) &&
	    nonempty(idp_json_str(e, "password")) &&
	    (set_str(&out->username, idp_json_str(e, "username"), err) < 0 ||
	     set_str(&out->password, idp_json_str(e, "password"), err) < 0))
		return -1;
	if ((nonempty(idt) && set_str(&out->identity_token, idt, err) < 0) ||
	    (nonempty(rt) && set_str(&out->registry_token, rt, err) < 0))
		return -1;
	if (!out->password && !out->identity_token && !out->registry_token)
		return 0;
	return 1;
}

/* Find hostport in an "auths" object: exact key first, then URL keys. */
static struct json_object *find_auth(struct json_object *auths,
				     const char *hostport, const char **key)
{
	const char *server = server_key(hostport);
	struct json_object *v;

	if (json_object_object_get_ex(auths, server, &v) &&
	    json_object_is_type(v, json_type_object)) {
		*key = server;
		return v;
	}
	json_object_object_foreach(auths, k, val) {
		if (json_object_is_type(val, json_type_object) &&
		    (key_matches(k, hostport) || key_matches(k, server))) {
			*key = k;
			return val;
		}
	}
	return NULL;
}

static int from_auths(struct json_object *root, const char *hostport,
		      enum idp_creds_source src, const char *where,
		      struct idp_creds *out, struct idp_error *err)
{
	struct json_object *auths = idp_json_obj(root, "auths");
	struct json_object *e;
	const char *key = NULL;
	int r;

	if (!auths || !(e = find_auth(auths, hostport, &key)))
		return 0;
	r = from_auth_entry(e, key, where, out, err);
	if (r <= 0) {
		idp_creds_release(out);
		return r;
	}
	out->source = src;
	return set_str(&out->origin, where, err) < 0 ? -1 : 1;
}

static int from_auth_config_env(const char *hostport, struct idp_creds *out,
				 struct idp_error *err)
{
	const char *s = getenv("DOCKER_AUTH_CONFIG");
	struct json_object *root;
	int r;

	if (!nonempty(s))
		return 0;
	root = strlen(s) <= IDP_CAP_CONFIG ? parse_json(s, strlen(s)) : NULL;
	if (!root || !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return idp_error_set(err, IDP_EGENERAL,
			"DOCKER_AUTH_CONFIG: not a JSON object");
	}
	r = from_auths(root, hostport, IDP_CREDS_DOCKER_AUTH_CONFIG,
		       "DOCKER_AUTH_CONFIG", out, err);
	json_object_put(root);
	return r;
}

/* ---- credential helpers ---- */

static int helper_name_ok(const char *h)
{
	size_t n = strlen(h);

	if (n == 0 || n > HELPER_NAME_MAX)
		return 0;
	return strspn(h, "abcdefghijklmnopqrstuvwxyz"
		      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* First line of s, printable characters only, bounded. */
static void first_line(const char *s, char *dst, size_t cap)
{
	size_t i = 0;

	while (*s == '\n' || *s == '\r' || *s == ' ')
		s++;
	for (; *s && *s != '\n' && *s != '\r' && i + 1 < cap; s++)
		dst[i++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	dst[i] = '\0';
}

static int helper_failed(const struct idp_run_result *r, const char *prog, struct idp_error *err)
{
	char line[HELPER_LINE_MAX];

	if (r->status > 128)
		return idp_error_set(err, IDP_EAUTH, "credential helper %s: killed by signal %d",
				     prog, r->status - 128);
	if (r->status == 127 && !r->err.len && !r->out.len)
		return idp_error_set(err, IDP_EAUTH, NOT_FOUND, prog);
	first_line(r->err.len ? r->err.buf : r->out.buf, line, sizeof(line));
	return idp_error_set(err, IDP_EAUTH, "credential helper %s: exited with status %d%s%s",
			     prog, r->status, *line ? ": " : "", line);
}

/* Interpret the helper's JSON answer; 1 found, 0 not found, -1 error. */
static int helper_parse(const struct idp_buf *b, const char *prog,
			struct idp_creds *out, struct idp_error *err)
{
	struct json_object *o = parse_json(b->buf, b->len);
	const char *user, *secret;
	int r = 1;

	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return idp_error_set(err, IDP_EAUTH,
			"credential helper %s: output is not the expected JSON object", prog);
	}
	user = idp_json_str(o, "Username");
	secret = idp_json_str(o, "Secret");
	if (!nonempty(secret))
		r = 0;
	else if (user && !strcmp(user, "<token>"))
		r = set_str(&out->identity_token, secret, err) < 0 ? -1 : 1;
	else if (set_str(&out->password, secret, err) < 0 ||
		 (nonempty(user) && set_str(&out->username, user, err) < 0))
		r = -1;
	json_object_put(o);
	return r;
}

static int helper_result(const struct idp_run_result *r, const char *prog,
			 struct idp_creds *out, struct idp_error *err)
{
	int found;

	if (r->truncated)
		return idp_error_set(err, IDP_EAUTH,
			"credential helper %s: output larger than %u bytes",
			prog, IDP_CAP_JSON_SMALL);
	if (r->status != 0) {
		if (r->status < 128 && (strstr(r->out.buf, "credentials not found") ||
					strstr(r->err.buf, "credentials not found")))
			return 0;
		return helper_failed(r, prog, err);
	}
	found = helper_parse(&r->out, prog, out, err);
	if (found <= 0)
		return found;
	out->source = IDP_CREDS_HELPER;
	return set_origin(out, "credential helper ", prog, err) < 0 ? -1 : 1;
}

/* Run the helper: 1 found, 0 not found, -1 error; *not_run set when it
 * could not be started at all (not on PATH, not executable, a bad name). */
static int run_helper(const char *helper, const char *server, const struct idp_creds_opts *opts,
		      struct idp_creds *out, int *not_run, struct idp_error *err)
{
	char prog[sizeof(HELPER_PREFIX) + HELPER_NAME_MAX];
	const char *argv[] = { prog, "get", NULL };
	struct idp_run_opts ro;
	struct idp_run_result r;
	int found;

	memset(out, 0, sizeof(*out));
	*not_run = 1;
	if (!server || !*server)
		return idp_error_set(err, IDP_EAUTH, "credential helper: no server given");
	if (!helper || !helper_name_ok(helper))
		return idp_error_set(err, IDP_EAUTH,
			"invalid credential helper name \"%.64s\"", helper ? helper : "");
	snprintf(prog, sizeof(prog), HELPER_PREFIX "%s", helper);
	memset(&ro, 0, sizeof(ro));
	ro.argv = argv;
	ro.input = server;
	ro.input_len = strlen(server);
	ro.out_cap = IDP_CAP_JSON_SMALL;
	ro.err_cap = HELPER_ERR_CAP;
	ro.deadline_ms = opts && opts->stop ? opts->stop->deadline_ms : 0;
	ro.cancel = opts && opts->stop ? opts->stop->cancel : NULL;
	ro.what = prog;
	if (idp_run(&ro, &r, err) < 0) {
		idp_run_result_release(&r);
		if (err->cls == IDP_ENOTFOUND)
			return idp_error_set(err, IDP_EAUTH, NOT_FOUND, prog);
		if (err->cls == IDP_EGENERAL)
			err->cls = IDP_EAUTH;
		else
			*not_run = 0;   /* stopped: canceled or out of time */
		return idp_error_prefix(err, "credential helper");
	}
	*not_run = r.status == 127 && !r.err.len && !r.out.len;
	found = helper_result(&r, prog, out, err);
	if (found <= 0)
		idp_creds_release(out);
	idp_run_result_release(&r);
	return found;
}

int idp_creds_from_helper(const char *helper, const char *server, const struct idp_creds_opts *opts,
			  struct idp_creds *out, struct idp_error *err)
{
	int not_run;

	return run_helper(helper, server, opts, out, &not_run, err);
}

/* ---- config.json ---- */

char *idp_docker_config_path(const char *dir)
{
	const char *home = getenv("HOME");
	struct idp_buf b = IDP_BUF_INIT;

	if (!nonempty(dir))
		dir = getenv("DOCKER_CONFIG");
	if (nonempty(dir))
		idp_buf_addf(&b, "%s/config.json", dir);
	else if (nonempty(home))
		idp_buf_addf(&b, "%s/.docker/config.json", home);
	else
		return NULL;
	return b.len ? idp_buf_detach(&b, NULL) : NULL;
}

/* Read and parse path; *root NULL when the file does not exist. */
static int load_config(const char *path, struct json_object **root,
		       struct idp_error *err)
{
	struct idp_buf b;
	int e;

	*root = NULL;
	idp_buf_init(&b, IDP_CAP_CONFIG);
	if (idp_buf_read_file(&b, path) < 0) {
		e = errno;
		wipe_buf(&b);
		if (e == ENOENT || e == ENOTDIR)
			return 0;
		return idp_error_set(err, IDP_EGENERAL, "cannot read %s: %s", path,
			e == EFBIG ? "file too large" : strerror(e));
	}
	*root = parse_json(b.buf, b.len);
	wipe_buf(&b);
	if (!*root || !json_object_is_type(*root, json_type_object)) {
		json_object_put(*root);
		*root = NULL;
		return idp_error_set(err, IDP_EGENERAL,
			"%s: malformed JSON (expected an object)", path);
	}
	return 0;
}

/* A helper that failed gives nothing: the lookup goes on without it (as
 * docker's does), and what happened is kept in *skip for -v, a warning,
 * and the message should the registry want credentials. A stop (cancel,
 * out of time) is not skipped. */
static int skip_helper(const char *key, const char *path, int not_run, struct idp_creds_skip *skip,
		       struct idp_error *err)
{
	struct idp_buf b = IDP_BUF_INIT;

	if (err->cls != IDP_EAUTH)
		return -1;
	if (!skip->what) {   /* the first one is the story */
		if (idp_buf_addf(&b, "%s (%s in %s)", err->msg, key, path) < 0)
			return idp_error_set(err, IDP_EGENERAL, "out of memory");
		skip->what = idp_buf_detach(&b, NULL);
		skip->not_run = not_run;
	}
	idp_error_clear(err);
	return 0;
}

/* One lookup in config.json: what it was asked with, the file, where the
 * credentials and the helpers that failed go. */
struct config_lookup {
	const struct idp_creds_opts *opts;
	const char *path;
	struct idp_creds *out;
	struct idp_creds_skip *skip;
};

/* One helper of config.json (named under key): 1 found, 0 not found (or
 * skipped), -1 error. */
static int config_helper(const struct config_lookup *l, const char *helper, const char *key,
			 const char *server, struct idp_error *err)
{
	int not_run, r = run_helper(helper, server, l->opts, l->out, &not_run, err);

	return r < 0 ? skip_helper(key, l->path, not_run, l->skip, err) : r;
}

/* credHelpers[host], then credsStore: 1 found, 0 not found, -1 error. */
static int from_config_helpers(const struct config_lookup *l, struct json_object *root,
			       const char *hostport, struct idp_error *err)
{
	const char *server = server_key(hostport);
	const char *helper = idp_json_str(idp_json_obj(root, "credHelpers"), hostport);
	int r;

	if (!helper && server != hostport)
		helper = idp_json_str(idp_json_obj(root, "credHelpers"), server);
	if (nonempty(helper)) {
		r = config_helper(l, helper, "credHelpers", server, err);
		if (r != 0)
			return r;
	}
	helper = idp_json_str(root, "credsStore");
	if (!nonempty(helper))
		return 0;
	return config_helper(l, helper, "credsStore", server, err);
}

static int from_config_file(const struct idp_creds_opts *opts, const char *hostport,
			    struct idp_creds *out, struct idp_creds_skip *skip,
			    struct idp_error *err)
{
	char *path = idp_docker_config_path(opts ? opts->docker_config_dir : NULL);
	struct config_lookup l = { .opts = opts, .path = path, .out = out, .skip = skip };
	struct json_object *root = NULL;
	int r = 0;

	if (!path)
		return 0;
	if (load_config(path, &root, err) < 0)
		r = -1;
	else if (root) {
		r = from_config_helpers(&l, root, hostport, err);
		if (r == 0)
			r = from_auths(root, hostport, IDP_CREDS_CONFIG_FILE,
				       path, out, err);
	}
	json_object_put(root);
	free(path);
	return r;
}

/* ---- public ---- */

int idp_creds_resolve(const struct idp_creds_opts *opts, const char *hostport,
		      struct idp_creds *out, struct idp_error *err)
{
	struct idp_creds_skip skip = { NULL, 0 };
	int r;

	memset(out, 0, sizeof(*out));
	if (!hostport || !*hostport)
		return idp_error_set(err, IDP_EGENERAL, "no registry host given");
	r = opts ? from_triple(opts->username, opts->password, opts->token,
			       IDP_CREDS_EXPLICIT, "command line", out, err) : 0;
	if (r == 0 && !(opts && opts->ignore_env))
		r = from_env(out, err);
	if (r == 0)
		r = from_auth_config_env(hostport, out, err);
	if (r == 0)
		r = from_config_file(opts, hostport, out, &skip, err);
	if (r == 0) {
		out->source = IDP_CREDS_NONE;
		r = set_str(&out->origin, "anonymous", err);
	}
	if (r < 0) {
		free(skip.what);
		idp_creds_release(out);
		return -1;
	}
	out->skipped = skip;
	return 0;
}

void idp_creds_release(struct idp_creds *c)
{
	if (!c)
		return;
	wipe_free(c->username);
	wipe_free(c->password);
	wipe_free(c->identity_token);
	wipe_free(c->registry_token);
	free(c->origin);
	free(c->skipped.what);
	memset(c, 0, sizeof(*c));
}
