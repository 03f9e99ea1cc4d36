/* test_auth.c: the authentication policy that needs no network: how Basic
 * challenges are answered, when credentials are refused over plain HTTP,
 * what is said when there are none, when a write is refused to valid
 * credentials (Gitea's Basic realm after a token), and a 401 with no
 * challenge at all (Gitea's answer to a wrong password or a dead token). */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "registry/auth.h"

static struct idp_auth *auth_with(const char *user, const char *pass, int plain_remote, int allow)
{
	struct idp_creds c;

	memset(&c, 0, sizeof(c));
	if (user) {
		c.source = IDP_CREDS_EXPLICIT;
		c.username = strdup(user);
		c.password = strdup(pass);
	}
	return idp_auth_new(&c, plain_remote, allow);
}

static void challenge(struct idp_http_resp *r, const char *value)
{
	idp_http_resp_init(r);
	r->status = 401;
	r->www_authenticate[0] = strdup(value);
	r->nchallenges = 1;
}

static void test_basic_answered(void)
{
	struct idp_auth *a = auth_with("alice", "s3cret", 0, 0);
	struct idp_http_resp r;
	struct idp_error e = IDP_ERROR_INIT;
	char *hdr = NULL;

	challenge(&r, "Basic realm=\"registry\"");
	CU_ASSERT_EQUAL(idp_auth_header(a, NULL, "repository:x:pull,push", &hdr, &e), 0);
	CU_ASSERT_PTR_NULL(hdr);   /* nothing sent before the registry asks */
	CU_ASSERT_EQUAL(idp_auth_challenged(a, NULL, &r, "repository:x:pull,push", NULL, "h:1", &e),
			0);
	CU_ASSERT_EQUAL(idp_auth_header(a, NULL, "repository:x:pull,push", &hdr, &e), 0);
	CU_ASSERT_STRING_EQUAL(hdr, "Basic YWxpY2U6czNjcmV0");
	/* the same header refused again: wrong credentials, said without the secret */
	CU_ASSERT_EQUAL(idp_auth_challenged(a, NULL, &r, "repository:x:pull,push", hdr, "h:1", &e),
			-1);
	CU_ASSERT_EQUAL(e.cls, IDP_EAUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "alice"));
	CU_ASSERT_PTR_NULL(strstr(e.msg, "s3cret"));
	CU_ASSERT_PTR_NULL(strstr(e.msg, "YWxpY2U6czNjcmV0"));
	free(hdr);
	idp_http_resp_release(&r);
	idp_auth_free(a);
}

static void test_no_credentials(void)
{
	struct idp_auth *a = auth_with(NULL, NULL, 0, 0);
	struct idp_http_resp r;
	struct idp_error e = IDP_ERROR_INIT;

	challenge(&r, "Basic realm=\"registry\"");
	CU_ASSERT_EQUAL(idp_auth_challenged(a, NULL, &r, "s", NULL, "gitea.example:8443", &e), -1);
	CU_ASSERT_EQUAL(e.cls, IDP_EAUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "docker login gitea.example:8443"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "--password-stdin"));
	idp_http_resp_release(&r);
	idp_auth_free(a);
}

static void test_plain_http_remote_refused(void)
{
	struct idp_auth *a = auth_with("alice", "s3cret", 1, 0);
	struct idp_auth *b = auth_with("alice", "s3cret", 1, 1);
	struct idp_http_resp r;
	struct idp_error e = IDP_ERROR_INIT;
	char *hdr = NULL;

	challenge(&r, "Basic realm=\"registry\"");
	CU_ASSERT_EQUAL(idp_auth_challenged(a, NULL, &r, "s", NULL, "reg.example", &e), -1);
	CU_ASSERT_EQUAL(e.cls, IDP_EAUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "plain HTTP"));
	/* explicitly allowed: sent */
	CU_ASSERT_EQUAL(idp_auth_challenged(b, NULL, &r, "s", NULL, "reg.example", &e), 0);
	CU_ASSERT_EQUAL(idp_auth_header(b, NULL, "s", &hdr, &e), 0);
	CU_ASSERT_PTR_NOT_NULL(hdr);
	free(hdr);
	idp_http_resp_release(&r);
	idp_auth_free(a);
	idp_auth_free(b);
}

static void test_unusable_challenges(void)
{
	struct idp_auth *a = auth_with("alice", "s3cret", 0, 0);
	struct idp_http_resp r;
	struct idp_error e = IDP_ERROR_INIT;

	challenge(&r, "Bearer service=\"x\"");
	CU_ASSERT_EQUAL(idp_auth_challenged(a, NULL, &r, "s", NULL, "h", &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "without a realm"));
	free(r.www_authenticate[0]);
	r.www_authenticate[0] = strdup("Negotiate");
	CU_ASSERT_EQUAL(idp_auth_challenged(a, NULL, &r, "s", NULL, "h", &e), -1);
	CU_ASSERT_EQUAL(e.cls, IDP_EAUTH);
	idp_http_resp_release(&r);
	idp_auth_free(a);
}

/* A Bearer token made from credentials is a credential: refused over plain
 * HTTP to a remote registry, like Basic. */
static void test_bearer_plain_remote_refused(void)
{
	struct idp_auth *a = auth_with("alice", "s3cret", 1, 0);
	struct idp_http_resp r;
	struct idp_error e = IDP_ERROR_INIT;

	challenge(&r, "Bearer realm=\"https://auth.example/token\",service=\"reg\"");
	CU_ASSERT_EQUAL(idp_auth_challenged(a, NULL, &r, "s", NULL, "reg.example", &e), -1);
	CU_ASSERT_EQUAL(e.cls, IDP_EAUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "plain HTTP"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "--allow-insecure-auth"));
	idp_http_resp_release(&r);
	idp_auth_free(a);
}

/* An HTTPS registry naming a plain-HTTP token realm (even on loopback),
 * or any registry naming a remote plain-HTTP realm: the credentials are
 * refused before anything is sent. */
static void test_http_realm_refused(void)
{
	static const char *const realms[][2] = {
		{ "https://reg.example", "Bearer realm=\"http://127.0.0.1:1/token\"" },
		{ "http://127.0.0.1:5000", "Bearer realm=\"http://auth.example/token\"" },
	};
	struct idp_http_resp r;
	struct idp_error e = IDP_ERROR_INIT;
	size_t i;

	for (i = 0; i < sizeof(realms) / sizeof(realms[0]); i++) {
		struct idp_auth *a = auth_with("alice", "s3cret", 0, 0);
		idp_auth_set_registry(a, realms[i][0]);
		challenge(&r, realms[i][1]);
		CU_ASSERT_EQUAL(idp_auth_challenged(a, NULL, &r, "s", NULL, "reg", &e), -1);
		CU_ASSERT_EQUAL(e.cls, IDP_EAUTH);
		CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "plain HTTP"));
		idp_http_resp_release(&r);
		idp_auth_free(a);
	}
}

/* Gitea refuses a write by a user without package write permission on
 * the owner with Basic realm="Gitea Package API", although the token
 * (made from the credentials) is fine: no password to check. */
static void test_write_refused_to_token(void)
{
	struct idp_auth *a = auth_with("viewer", "s3cret", 0, 0);
	struct idp_auth *anon = auth_with(NULL, NULL, 0, 0);
	struct idp_http_resp r;
	struct idp_error e = IDP_ERROR_INIT;
	const char *scopes = "repository:giteaadmin/app:pull,push";

	challenge(&r, "Basic realm=\"Gitea Package API\"");
	CU_ASSERT_EQUAL(idp_auth_challenged(a, NULL, &r, scopes, "Bearer tok", "h:1", &e), -1);
	CU_ASSERT_EQUAL(e.cls, IDP_EAUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "package write permission on owner 'giteaadmin'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "user viewer"));
	CU_ASSERT_PTR_NULL(strstr(e.msg, "password"));
	CU_ASSERT_PTR_NULL(strstr(e.msg, "s3cret"));
	/* an anonymous token's write: no credentials, said so */
	CU_ASSERT_EQUAL(idp_auth_challenged(anon, NULL, &r, scopes, "Bearer tok", "h:1", &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "no credentials were found"));
	idp_http_resp_release(&r);
	idp_auth_free(a);
	idp_auth_free(anon);
}

/* 401 with no WWW-Authenticate: refused Basic credentials are wrong; a
 * request with nothing (or a token of no known realm) says what came. */
static void test_no_challenge(void)
{
	struct idp_auth *a = auth_with("alice", "s3cret", 0, 0);
	struct idp_http_resp r;
	struct idp_error e = IDP_ERROR_INIT;

	idp_http_resp_init(&r);
	r.status = 401;
	CU_ASSERT_EQUAL(idp_auth_challenged(a, NULL, &r, "s", "Basic YWxpY2U6czNjcmV0", "h:1", &e),
			-1);
	CU_ASSERT_EQUAL(e.cls, IDP_EAUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "check the username and password"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "alice"));
	CU_ASSERT_EQUAL(idp_auth_challenged(a, NULL, &r, "s", NULL, "h:1", &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "without a WWW-Authenticate challenge"));
	CU_ASSERT_EQUAL(idp_auth_challenged(a, NULL, &r, "s", "Bearer t", "h:1", &e), -1);
	CU_ASSERT_EQUAL(e.cls, IDP_EAUTH);
	idp_http_resp_release(&r);
	idp_auth_free(a);
}

static const struct unit_test tests[] = {
	{ "bearer_plain_remote_refused", test_bearer_plain_remote_refused },
	{ "http_realm_refused", test_http_realm_refused },
	{ "basic_answered", test_basic_answered },
	{ "no_credentials", test_no_credentials },
	{ "plain_http_remote_refused", test_plain_http_remote_refused },
	{ "unusable_challenges", test_unusable_challenges },
	{ "write_refused_to_token", test_write_refused_to_token },
	{ "no_challenge", test_no_challenge },
	{ NULL, NULL }
};

IDP_SUITE(auth) { unit_add_suite("auth", tests); }
