/* auth.c: Basic and Bearer-token authentication against a registry, driven
 * by its WWW-Authenticate challenges; one shared, locked token cache. */
#include "config.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include "auth.h"
#include "challenge.h"
#include "util/ref.h"
#include "regerr.h"
#include "token.h"
#include "banned.h"

#define AUTH_MAX_TOKENS 8
#define AUTH_MAX_SCOPES 8

enum auth_scheme { SCHEME_UNKNOWN, SCHEME_BASIC, SCHEME_BEARER };

struct cached_token {
	char *scopes;
	struct idp_token tok;
	int anonymous;             /* fetched without a secret: it may only read */
};

struct idp_auth {
	pthread_mutex_t mu;
	struct idp_creds creds;
	int plain_remote;
	int allow_insecure;
	int registry_https;        /* the registry is reached over HTTPS */
	const char *hint;          /* where credentials can be had, for "no credentials" */
	char *registry;            /* its base URL, for messages */
	enum auth_scheme scheme;
	char *realm;
	char *service;
	int raw_token;             /* registry_token refused by the endpoint: send as is */
	idp_auth_late_fn late;     /* credentials when challenged without any */
	void *late_ctx;
	int late_asked;
	int late_not_yet;          /* it said it has none yet: late_why says so */
	struct idp_error late_why;
	int ntokens;
	struct cached_token tokens[AUTH_MAX_TOKENS];
};

struct idp_auth *idp_auth_new(struct idp_creds *creds, int plain_http_remote,
			      int allow_insecure_auth)
{
	struct idp_auth *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	pthread_mutex_init(&a->mu, NULL);
	a->creds = *creds;
	memset(creds, 0, sizeof(*creds));
	a->plain_remote = plain_http_remote;
	a->allow_insecure = allow_insecure_auth;
	return a;
}

void idp_auth_set_late(struct idp_auth *a, idp_auth_late_fn get, void *ctx)
{
	a->late = get;
	a->late_ctx = ctx;
}

/* Under mu, at a challenge: the late credentials, once, when there are none. */
static void ask_late(struct idp_auth *a)
{
	struct idp_creds c;
	int rc;

	if (a->creds.source != IDP_CREDS_NONE || !a->late || a->late_asked)
		return;
	a->late_asked = 1;
	memset(&c, 0, sizeof(c));
	a->late_why = (struct idp_error)IDP_ERROR_INIT;
	rc = a->late(a->late_ctx, &c, &a->late_why);
	a->late_not_yet = rc == IDP_AUTH_LATE_NOT_YET;
	if (rc != 1)
		return;
	idp_creds_release(&a->creds);
	a->creds = c;
}

static void drop_token(struct idp_auth *a, int i)
{
	free(a->tokens[i].scopes);
	idp_token_release(&a->tokens[i].tok);
	a->tokens[i] = a->tokens[--a->ntokens];
}

void idp_auth_free(struct idp_auth *a)
{
	if (!a)
		return;
	while (a->ntokens)
		drop_token(a, 0);
	idp_creds_release(&a->creds);
	free(a->realm);
	free(a->registry);
	free(a->service);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

int idp_auth_unchallenged(struct idp_auth *a)
{
	int none;

	pthread_mutex_lock(&a->mu);
	none = a->scheme == SCHEME_UNKNOWN;
	pthread_mutex_unlock(&a->mu);
	return none;
}

const char *idp_auth_origin(const struct idp_auth *a)
{
	if (a->creds.source == IDP_CREDS_NONE)
		return "no credentials";
	return a->creds.origin ? a->creds.origin : "given credentials";
}

/* What Basic sends: the username and password, or a registry token as
 * the password (a Gitea token works so), under the username if there is
 * one. 1 when there is such a pair. */
static int basic_pair(const struct idp_auth *a, const char **user, const char **pass)
{
	const struct idp_creds *c = &a->creds;

	*user = c->username;
	*pass = c->password ? c->password : c->registry_token;
	if (!c->password && c->registry_token && !*user)
		*user = "idppush";
	return *user && *pass;
}

static int has_password(const struct idp_auth *a)
{
	const char *u, *p;
	return basic_pair(a, &u, &p);
}

static char *basic_value(const char *user, const char *pass)
{
	gnutls_datum_t in, out = { NULL, 0 };
	size_t n = strlen(user) + strlen(pass) + 2;
	char *plain = malloc(n), *v = NULL;

	if (!plain)
		return NULL;
	snprintf(plain, n, "%s:%s", user, pass);
	in.data = (unsigned char *)plain;
	in.size = (unsigned)strlen(plain);
	if (gnutls_base64_encode2(&in, &out) == 0) {
		size_t vn = out.size + 7;
		if ((v = malloc(vn)))
			snprintf(v, vn, "Basic %.*s", (int)out.size, (char *)out.data);
		gnutls_free(out.data);
	}
	explicit_bzero(plain, n);
	free(plain);
	return v;
}

static char *bearer_value(const char *tok)
{
	size_t n = strlen(tok) + 8;
	char *v = malloc(n);
	if (v)
		snprintf(v, n, "Bearer %s", tok);
	return v;
}

void idp_auth_set_hint(struct idp_auth *a, const char *hint)
{
	a->hint = hint;
}

void idp_auth_set_registry(struct idp_auth *a, const char *base_url)
{
	pthread_mutex_lock(&a->mu);
	free(a->registry);
	a->registry = base_url ? strdup(base_url) : NULL;
	a->registry_https = base_url && strncmp(base_url, "https:", 6) == 0;
	pthread_mutex_unlock(&a->mu);
}

static int has_secret(const struct idp_auth *a)
{
	const struct idp_creds *c = &a->creds;
	return c->password || c->identity_token || c->registry_token;
}

/* A realm that would get credentials in clear text: plain HTTP, and
 * either not loopback or asked for by an HTTPS registry (a downgrade).
 * The plain-HTTP registry itself (Gitea's realm is on its own origin) is
 * as insecure as sending it Basic credentials. */
static int realm_insecure(const struct idp_auth *a)
{
	struct idp_origin o;

	if (idp_http_origin(a->realm, &o) < 0 || strcmp(o.scheme, "http") != 0)
		return 0;
	if (a->registry && idp_http_same_origin(a->realm, a->registry))
		return a->plain_remote;
	return a->registry_https || !idp_host_is_loopback(o.host);
}

static int insecure_refused(const struct idp_auth *a, const char *url, struct idp_error *err)
{
	return idp_error_set(
		err, IDP_EAUTH,
		"refusing to send credentials over plain HTTP to %s; use HTTPS, or allow it "
		"explicitly (--allow-insecure-auth)",
		url);
}

static struct cached_token *find_token(struct idp_auth *a, const char *scopes)
{
	int i;
	time_t now = time(NULL);

	for (i = 0; i < a->ntokens; i++) {
		if (strcmp(a->tokens[i].scopes, scopes) != 0)
			continue;
		if (idp_token_expired(&a->tokens[i].tok, now)) {
			drop_token(a, i);
			return NULL;
		}
		return &a->tokens[i];
	}
	return NULL;
}

static int split_scopes(char *copy, const char **out)
{
	int n = 0;
	char *save = NULL, *t;
	for (t = strtok_r(copy, " ", &save); t && n < AUTH_MAX_SCOPES;
	     t = strtok_r(NULL, " ", &save))
		out[n++] = t;
	return n;
}

/* What one token request asks: the flow ("GET", with Basic user:secret
 * when both are given; or "POST", a refresh-token form carrying secret)
 * and the scopes. */
struct token_ask {
	const char *method;
	const char *user;
	const char *secret;
	const char *scopes;
};

/* One exchange with the token endpoint: 0 with resp filled (any status),
 * -1 with err when the request cannot be built or gets no answer. */
static int token_exchange(struct idp_auth *a, struct idp_http *h, const struct token_ask *q,
			  struct idp_http_resp *resp, struct idp_error *err)
{
	static const char *const ctype[] = { "Content-Type: application/x-www-form-urlencoded",
					     NULL };
	int post = strcmp(q->method, "POST") == 0;
	struct idp_http_req req = { .method = q->method };
	const char *list[AUTH_MAX_SCOPES];
	char *copy = strdup(q->scopes), *basic = NULL;
	struct idp_buf url, form;
	int n, built, rc;

	if (!copy)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	idp_url_init(&url);
	idp_buf_init(&form, IDP_CAP_URL);   /* a form is a URL's query */
	n = split_scopes(copy, list);
	if (post)
		built = idp_token_build_post_form(&form, q->secret, a->service, list, n) == 0;
	else
		built = idp_token_build_get_url(&url, a->realm, a->service, list, n,
						q->user) == 0 &&
			(!q->user || !q->secret || (basic = basic_value(q->user, q->secret)));
	if (!built) {
		rc = idp_error_set(err, IDP_EGENERAL, "cannot build the token request");
	} else {
		req.url = post ? a->realm : url.buf;
		req.body = post ? form.buf : NULL;
		req.body_len = post ? form.len : 0;
		req.has_body = post;
		req.headers = post ? ctype : NULL;
		req.authorization = basic;
		rc = idp_http_do(h, &req, resp, err);
		if (rc < 0)
			idp_error_prefix(err, "fetching a token from %s", a->realm);
	}
	if (basic) {
		explicit_bzero(basic, strlen(basic));
		free(basic);
	}
	free(copy);
	idp_buf_release(&url);
	idp_buf_release(&form);
	return rc;
}

static int store_token(struct idp_auth *a, const char *scopes, const struct idp_http_resp *resp,
		       struct idp_error *err)
{
	struct cached_token *c;

	if (a->ntokens == AUTH_MAX_TOKENS)
		drop_token(a, 0);
	c = &a->tokens[a->ntokens];
	memset(c, 0, sizeof(*c));
	if (idp_token_parse(resp->body.buf, resp->body.len, time(NULL), &c->tok, err) < 0)
		return idp_error_prefix(err, "token from %s", a->realm);
	if (!(c->scopes = strdup(scopes))) {
		idp_token_release(&c->tok);
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	c->anonymous = !has_secret(a);
	a->ntokens++;
	return 0;
}

static int token_refused(struct idp_auth *a, const struct idp_http_resp *resp,
			 struct idp_error *err)
{
	if (resp->status == 401 || resp->status == 403)
		return idp_error_set(err, IDP_EAUTH,
				     "the token service %s refused the credentials (%s%s%s): check "
				     "the username and "
				     "password",
				     a->realm, idp_auth_origin(a),
				     a->creds.username ? ", user " : "",
				     a->creds.username ? a->creds.username : "");
	idp_regerr_from_response(err, "fetching a token", resp->status, resp->body.buf,
				 resp->body.len);
	return -1;
}

/* Fetch a token for `scopes` into the cache, choosing the flow from the
 * credentials we have. Locked by the caller. */
static int fetch_token(struct idp_auth *a, struct idp_http *h, const char *scopes,
		       struct idp_error *err)
{
	struct idp_http_resp resp;
	const struct idp_creds *c = &a->creds;
	const char *user = c->username, *secret = c->password;
	struct token_ask get;
	int rc;

	if (has_secret(a) && realm_insecure(a) && !a->allow_insecure)
		return insecure_refused(a, a->realm, err);
	idp_http_resp_init(&resp);
	if (c->identity_token) {
		struct token_ask post = { "POST", NULL, c->identity_token, scopes };

		rc = token_exchange(a, h, &post, &resp, err);
		if (rc < 0 || (resp.status != 404 && resp.status != 405))
			goto done;
		/* Gitea answers the POST flow with 404 on purpose: fall back to GET. */
		secret = c->identity_token;
		if (!user)
			user = "<token>";
	} else if (c->registry_token) {
		user = user ? user : "idppush";
		secret = c->registry_token;
	}
	get = (struct token_ask){ "GET", user, secret, scopes };
	rc = token_exchange(a, h, &get, &resp, err);
	if (rc == 0 && resp.status == 401 && c->registry_token && !c->username) {
		a->raw_token = 1;   /* not a password the endpoint knows: a bearer token itself */
		goto out;
	}
done:
	if (rc == 0)
		rc = resp.status == 200 ? store_token(a, scopes, &resp, err)
					: token_refused(a, &resp, err);
out:
	idp_http_resp_release(&resp);
	return rc;
}

int idp_auth_header(struct idp_auth *a, struct idp_http *h, const char *scopes,
		    char **out, struct idp_error *err)
{
	const char *user, *pass;
	struct cached_token *t;
	int rc = 0;

	*out = NULL;
	pthread_mutex_lock(&a->mu);
	if (a->scheme == SCHEME_BASIC && basic_pair(a, &user, &pass)) {
		if (!(*out = basic_value(user, pass)))
			rc = idp_error_set(err, IDP_EGENERAL, "out of memory");
	} else if (a->scheme == SCHEME_BEARER && a->raw_token) {
		*out = bearer_value(a->creds.registry_token);
	} else if (a->scheme == SCHEME_BEARER) {
		t = find_token(a, scopes);
		if (!t && fetch_token(a, h, scopes, err) < 0)
			rc = -1;
		else if (a->raw_token)
			*out = bearer_value(a->creds.registry_token);
		else if ((t = find_token(a, scopes)))
			*out = bearer_value(t->tok.token);
	}
	pthread_mutex_unlock(&a->mu);
	return rc;
}

static int no_credentials(struct idp_auth *a, const char *registry, struct idp_error *err)
{
	const char *hint = a->hint ? a->hint : "";

	if (a->late_not_yet)
		return idp_error_set(err, IDP_EAUTH, "%s requires authentication and %s", registry,
				     a->late_why.msg);
	if (a->creds.skipped.what)   /* a stale or broken helper: it was the place */
		return idp_error_set(
			err, IDP_EAUTH,
			"%s requires authentication and no credentials were found: %s; install "
			"or fix the helper (or remove it from that file and run 'docker login "
			"%s'), or pass -u USER --password-stdin%s%s",
			registry, a->creds.skipped.what, registry, *hint ? "; " : "", hint);
	return idp_error_set(
		err, IDP_EAUTH,
		"%s requires authentication and no credentials were found: pass -u USER "
		"--password-stdin, set IDPBUILDER_REGISTRY_USERNAME/IDPBUILDER_REGISTRY_PASSWORD, "
		"or run 'docker login %s'%s%s",
		registry, registry, *hint ? "; " : "", hint);
}

static int learn_bearer(struct idp_auth *a, const struct idp_challenge *c, const char *registry,
			struct idp_error *err)
{
	const char *realm = idp_challenge_param(c, "realm");
	const char *service = idp_challenge_param(c, "service");

	if (!realm || !*realm)
		return idp_error_set(err, IDP_EAUTH, "%s sent a Bearer challenge without a realm",
				     registry);
	if (!a->realm || strcmp(a->realm, realm) != 0) {
		free(a->realm);
		a->realm = strdup(realm);
	}
	free(a->service);
	a->service = service ? strdup(service) : NULL;
	a->scheme = SCHEME_BEARER;
	return a->realm ? 0 : idp_error_set(err, IDP_EGENERAL, "out of memory");
}

/* The cached token `sent` ("Bearer <token>") for scopes: its index, or -1. */
static int sent_token(const struct idp_auth *a, const char *scopes, const char *sent)
{
	int i;

	if (!sent || strncmp(sent, "Bearer ", 7) != 0)
		return -1;
	for (i = 0; i < a->ntokens; i++)
		if (strcmp(a->tokens[i].scopes, scopes) == 0 &&
		    strcmp(sent + 7, a->tokens[i].tok.token) == 0)
			return i;
	return -1;
}

static void forget_sent_token(struct idp_auth *a, const char *scopes, const char *sent)
{
	int i = sent_token(a, scopes, sent);

	if (i >= 0)
		drop_token(a, i);
}

static int on_bearer(struct idp_auth *a, const struct idp_challenge *c, struct idp_http *h,
		     const char *scopes, const char *sent, const char *registry,
		     struct idp_error *err)
{
	if (learn_bearer(a, c, registry, err) < 0)
		return -1;
	/* a token made from credentials is one: not over plain HTTP either */
	if (has_secret(a) && a->plain_remote && !a->allow_insecure)
		return insecure_refused(a, registry, err);
	if (sent && strncmp(sent, "Bearer ", 7) == 0) {
		if (a->raw_token)
			return idp_error_set(err, IDP_EAUTH, "%s refused the registry token (%s)",
					     registry, idp_auth_origin(a));
		forget_sent_token(a, scopes, sent);
	}
	if (find_token(a, scopes))
		return 0;   /* another connection refreshed it meanwhile */
	return fetch_token(a, h, scopes, err);
}

static int refused_basic(const struct idp_auth *a, const char *registry, struct idp_error *err)
{
	return idp_error_set(err, IDP_EAUTH,
			     "%s refused the credentials for user %s (%s): check the username "
			     "and password",
			     registry, a->creds.username ? a->creds.username : "idppush",
			     idp_auth_origin(a));
}

/* A write answered with a Basic challenge although the registry gave us a
 * token for our credentials (Gitea: Basic realm="Gitea Package API", its
 * reqPackageAccess): they are right, and not allowed to write there. */
static int no_write_permission(const struct idp_auth *a, const char *scopes, const char *registry,
			       struct idp_error *err)
{
	const char *repo = strncmp(scopes, "repository:", 11) == 0 ? scopes + 11 : "";
	int owner_len = (int)strcspn(repo, "/: ");
	const char *user = a->creds.username ? a->creds.username : "idppush";

	return idp_error_set(err, IDP_EAUTH,
			     "%s accepted the credentials of user %s (%s) but refused a write: "
			     "they lack package write permission on owner '%.*s'; push under an "
			     "owner that user may write to, or use that owner's credentials",
			     registry, user, idp_auth_origin(a), owner_len, repo);
}

static int on_basic(struct idp_auth *a, const char *scopes, const char *sent,
		    const char *registry, struct idp_error *err)
{
	int t = sent_token(a, scopes, sent);
	int bearer = sent && strncmp(sent, "Bearer ", 7) == 0;

	if (bearer && has_secret(a) && !a->raw_token && !(t >= 0 && a->tokens[t].anonymous))
		return no_write_permission(a, scopes, registry, err);
	if (!has_password(a))
		return no_credentials(a, registry, err);
	if (sent && strncmp(sent, "Basic ", 6) == 0)
		return refused_basic(a, registry, err);
	if (a->plain_remote && !a->allow_insecure)
		return insecure_refused(a, registry, err);
	a->scheme = SCHEME_BASIC;
	return 0;
}

/* A 401 with no challenge at all (Gitea's answer to an expired or unknown
 * token, and to a wrong password): a token we sent is dropped and a new
 * one fetched from the realm we know (the caller tries once more);
 * refused Basic credentials are wrong. */
static int on_no_challenge(struct idp_auth *a, struct idp_http *h, const char *scopes,
			   const char *sent, const char *registry, struct idp_error *err)
{
	if (sent && strncmp(sent, "Basic ", 6) == 0)
		return refused_basic(a, registry, err);
	if (!sent || a->scheme != SCHEME_BEARER || !a->realm || a->raw_token)
		return idp_error_set(err, IDP_EAUTH,
				     "%s answered 401 without a WWW-Authenticate challenge (%s)",
				     registry, idp_auth_origin(a));
	forget_sent_token(a, scopes, sent);
	if (find_token(a, scopes))
		return 0;   /* another connection refreshed it meanwhile */
	return fetch_token(a, h, scopes, err);
}

int idp_auth_challenged(struct idp_auth *a, struct idp_http *h, const struct idp_http_resp *resp,
			const char *scopes, const char *sent, const char *registry,
			struct idp_error *err)
{
	struct idp_challenges ch;
	const struct idp_challenge *c;
	int i, rc = -1;

	memset(&ch, 0, sizeof(ch));
	for (i = 0; i < resp->nchallenges; i++)
		if (idp_challenges_parse(resp->www_authenticate[i], &ch, err) < 0)
			goto out;
	pthread_mutex_lock(&a->mu);
	ask_late(a);
	if ((c = idp_challenges_find(&ch, "bearer")))
		rc = on_bearer(a, c, h, scopes, sent, registry, err);
	else if (idp_challenges_find(&ch, "basic"))
		rc = on_basic(a, scopes, sent, registry, err);
	else if (ch.n == 0)
		rc = on_no_challenge(a, h, scopes, sent, registry, err);
	else
		rc = idp_error_set(err, IDP_EAUTH,
				   "%s answered 401 without a usable WWW-Authenticate challenge",
				   registry);
	pthread_mutex_unlock(&a->mu);
out:
	idp_challenges_release(&ch);
	return rc;
}
