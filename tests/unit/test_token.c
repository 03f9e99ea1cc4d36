/* test_token.c: token responses (token/access_token, expires_in, issued_at,
 * refresh_token), the lifetime of a JWT without expires_in (Gitea's),
 * expiry, and building the GET URL / POST form / scopes. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "registry/token.h"

#define NOW ((time_t)1700000000)   /* 2023-11-14T22:13:20Z */

static int parse(const char *body, struct idp_token *t, struct idp_error *e)
{
	return idp_token_parse(body, body ? strlen(body) : 0, NOW, t, e);
}

static void test_token_field(void)
{
	struct idp_token t;
	struct idp_error e = IDP_ERROR_INIT;

	CU_ASSERT_EQUAL_FATAL(parse("{\"token\":\"abc.def\"}", &t, &e), 0);
	CU_ASSERT_STRING_EQUAL(t.token, "abc.def");
	CU_ASSERT_PTR_NULL(t.refresh_token);
	CU_ASSERT_EQUAL(t.expires_in, 60);
	CU_ASSERT_EQUAL(t.issued_at, NOW);
	idp_token_release(&t);
	idp_token_release(&t);

	/* token wins over access_token; access_token alone is enough */
	CU_ASSERT_EQUAL_FATAL(parse("{\"access_token\":\"b\",\"token\":\"a\"}", &t, &e), 0);
	CU_ASSERT_STRING_EQUAL(t.token, "a");
	idp_token_release(&t);
	CU_ASSERT_EQUAL_FATAL(parse("{\"access_token\":\"b\"}", &t, &e), 0);
	CU_ASSERT_STRING_EQUAL(t.token, "b");
	idp_token_release(&t);
	CU_ASSERT_EQUAL_FATAL(parse("{\"token\":\"\",\"access_token\":\"b\"}", &t, &e), 0);
	CU_ASSERT_STRING_EQUAL(t.token, "b");
	idp_token_release(&t);
}

static void test_full_response(void)
{
	struct idp_token t;
	struct idp_error e = IDP_ERROR_INIT;

	CU_ASSERT_EQUAL_FATAL(parse(
		"{\"token\":\"t1\",\"access_token\":\"t1\",\"expires_in\":300,"
		"\"issued_at\":\"2023-11-14T22:00:00.123456789Z\",\"refresh_token\":\"r1\"}",
		&t, &e), 0);
	CU_ASSERT_STRING_EQUAL(t.token, "t1");
	CU_ASSERT_STRING_EQUAL(t.refresh_token, "r1");
	CU_ASSERT_EQUAL(t.expires_in, 300);
	CU_ASSERT_EQUAL(t.issued_at, NOW - 800);
	idp_token_release(&t);
	CU_ASSERT_PTR_NULL(t.token);
}

static void test_expires_in(void)
{
	static const struct { const char *json; long want; } cases[] = {
		{ "{\"token\":\"x\",\"expires_in\":0}", 60 },
		{ "{\"token\":\"x\",\"expires_in\":-5}", 60 },
		{ "{\"token\":\"x\",\"expires_in\":\"3600\"}", 60 },
		{ "{\"token\":\"x\",\"expires_in\":null}", 60 },
		{ "{\"token\":\"x\",\"expires_in\":1}", 1 },
		{ "{\"token\":\"x\",\"expires_in\":86400}", 86400 },
		{ "{\"token\":\"x\",\"expires_in\":900.7}", 900 },
		{ "{\"token\":\"x\",\"expires_in\":99999999999999}", 366L * 24 * 3600 },
		{ "{\"token\":\"x\",\"expires_in\":1e30}", 366L * 24 * 3600 },
		{ "{\"token\":\"x\",\"expires_in\":-1e30}", 60 },
		{ "{\"token\":\"x\",\"expires_in\":0.5}", 60 },
	};
	struct idp_token t;
	struct idp_error e = IDP_ERROR_INIT;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(parse(cases[i].json, &t, &e), 0);
		CU_ASSERT_EQUAL(t.expires_in, cases[i].want);
		idp_token_release(&t);
	}
}

static void expect_issued(const char *iss, time_t want)
{
	char body[256];
	struct idp_token t;
	struct idp_error e = IDP_ERROR_INIT;

	snprintf(body, sizeof(body), "{\"token\":\"x\",\"issued_at\":\"%s\"}", iss);
	CU_ASSERT_EQUAL_FATAL(parse(body, &t, &e), 0);
	CU_ASSERT_EQUAL(t.issued_at, want);
	idp_token_release(&t);
}

static void test_issued_at(void)
{
	expect_issued("2023-11-14T22:13:20Z", NOW);
	expect_issued("2023-11-14t22:13:20z", NOW);
	expect_issued("2023-11-14T22:13:20.5Z", NOW);
	expect_issued("2023-11-15T00:13:20+02:00", NOW);
	expect_issued("2023-11-14T17:43:20.000-04:30", NOW);
	expect_issued("1970-01-01T00:00:00Z", 0);
	expect_issued("2024-02-29T00:00:00Z", 1709164800);
	/* unparsable: fall back to now */
	expect_issued("", NOW);
	expect_issued("2023-11-14", NOW);
	expect_issued("2023-11-14T22:13:20", NOW);
	expect_issued("2023-11-14T22:13:20.Z", NOW);
	expect_issued("2023-13-14T22:13:20Z", NOW);
	expect_issued("2023-11-14T24:13:20Z", NOW);
	expect_issued("2023-11-14T22:13:20+2:00", NOW);
	expect_issued("2023-11-14T22:13:20Zjunk", NOW);
	expect_issued("yesterday", NOW);
}

static void expect_bad(const char *body, size_t len, const char *needle)
{
	struct idp_token t;
	struct idp_error e = IDP_ERROR_INIT;

	CU_ASSERT_EQUAL(idp_token_parse(body, len, NOW, &t, &e), -1);
	CU_ASSERT_EQUAL(e.cls, IDP_EAUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, needle));
	CU_ASSERT_PTR_NULL(t.token);
	CU_ASSERT_PTR_NULL(t.refresh_token);
}

static void test_bad_responses(void)
{
	const char *trunc = "{\"token\":\"abc\",\"expires_in\":3";
	char *big;

	expect_bad("", 0, "not a JSON object");
	expect_bad(NULL, 0, "not a JSON object");
	expect_bad("<html>nope</html>", 17, "not a JSON object");
	expect_bad("[\"token\"]", 9, "not a JSON object");
	expect_bad("\"token\"", 7, "not a JSON object");
	expect_bad(trunc, strlen(trunc), "not a JSON object");
	/* the length bounds what is read, even when more follows */
	expect_bad("{\"token\":\"abc\"}", 10, "not a JSON object");
	expect_bad("{}", 2, "no \"token\"");
	expect_bad("{\"token\":\"\"}", 12, "no \"token\"");
	expect_bad("{\"token\":42}", 12, "no \"token\"");
	expect_bad("{\"token\":\"a b\"}", 15, "invalid token");
	expect_bad("{\"token\":\"a\\r\\nX-Evil: 1\"}", 26, "invalid token");
	expect_bad("{\"token\":\"ok\",\"refresh_token\":\"r\\n\"}", 36, "invalid token");

	big = malloc(IDP_CAP_JSON_SMALL + 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, ' ', IDP_CAP_JSON_SMALL + 1);
	memcpy(big, "{\"token\":\"x\"}", 13);
	big[IDP_CAP_JSON_SMALL + 1] = '\0';
	expect_bad(big, IDP_CAP_JSON_SMALL + 1, "too large");
	free(big);
}

static void test_expired(void)
{
	struct idp_token t;

	memset(&t, 0, sizeof(t));
	CU_ASSERT_TRUE(idp_token_expired(NULL, NOW));
	CU_ASSERT_TRUE(idp_token_expired(&t, NOW));
	t.token = (char *)"x";
	t.issued_at = NOW;
	t.expires_in = 60;    /* margin 6 s */
	CU_ASSERT_FALSE(idp_token_expired(&t, NOW));
	CU_ASSERT_FALSE(idp_token_expired(&t, NOW + 53));
	CU_ASSERT_TRUE(idp_token_expired(&t, NOW + 54));
	CU_ASSERT_TRUE(idp_token_expired(&t, NOW + 1000));
	t.expires_in = 30;    /* margin at least 5 s */
	CU_ASSERT_FALSE(idp_token_expired(&t, NOW + 24));
	CU_ASSERT_TRUE(idp_token_expired(&t, NOW + 25));
	t.expires_in = 86400; /* margin 8640 s */
	CU_ASSERT_FALSE(idp_token_expired(&t, NOW + 77759));
	CU_ASSERT_TRUE(idp_token_expired(&t, NOW + 77760));
	t.expires_in = 0;     /* treated as 60 */
	CU_ASSERT_FALSE(idp_token_expired(&t, NOW + 10));
	t.expires_in = 5;     /* short-lived: usable for its first half, not expired at once */
	CU_ASSERT_FALSE(idp_token_expired(&t, NOW));
	CU_ASSERT_FALSE(idp_token_expired(&t, NOW + 2));
	CU_ASSERT_TRUE(idp_token_expired(&t, NOW + 3));
	t.expires_in = 1;
	CU_ASSERT_FALSE(idp_token_expired(&t, NOW));
}

static void test_get_url(void)
{
	struct idp_buf u;
	const char *scopes[] = { "repository:giteaadmin/app:pull,push", "repository:o/base:pull" };

	idp_buf_init(&u, 0);
	CU_ASSERT_EQUAL(idp_token_build_get_url(&u, "https://h:8443/v2/token", "container_registry",
						scopes, 2, "giteaAdmin"), 0);
	CU_ASSERT_STRING_EQUAL(u.buf, "https://h:8443/v2/token?service=container_registry"
			       "&scope=repository%3Agiteaadmin%2Fapp%3Apull%2Cpush"
			       "&scope=repository%3Ao%2Fbase%3Apull&account=giteaAdmin");
	idp_buf_release(&u);

	/* realm with a query; unreserved characters kept, others encoded */
	CU_ASSERT_EQUAL(idp_token_build_get_url(&u, "https://a/t?x=1", "s p&c=é~._-",
						NULL, 0, NULL), 0);
	CU_ASSERT_STRING_EQUAL(u.buf, "https://a/t?x=1&service=s%20p%26c%3D%C3%A9~._-");
	idp_buf_release(&u);

	CU_ASSERT_EQUAL(idp_token_build_get_url(&u, "https://a/t?", NULL, scopes + 1, 1, ""), 0);
	CU_ASSERT_STRING_EQUAL(u.buf, "https://a/t?scope=repository%3Ao%2Fbase%3Apull");
	idp_buf_release(&u);

	/* url already holding the realm */
	idp_buf_adds(&u, "https://b/token");
	CU_ASSERT_EQUAL(idp_token_build_get_url(&u, "https://b/token", "r", NULL, 0, NULL), 0);
	CU_ASSERT_STRING_EQUAL(u.buf, "https://b/token?service=r");
	idp_buf_release(&u);

	CU_ASSERT_EQUAL(idp_token_build_get_url(&u, NULL, "r", NULL, 0, NULL), -1);
	CU_ASSERT_EQUAL(idp_token_build_get_url(&u, "", "r", NULL, 0, NULL), -1);
	CU_ASSERT_EQUAL(u.len, 0);
}

static void test_get_url_cap(void)
{
	struct idp_buf u;
	const char *scopes[] = { "repository:a/b:pull,push" };

	/* over the cap: the buffer keeps what it had */
	idp_buf_init(&u, 40);
	CU_ASSERT_EQUAL(idp_token_build_get_url(&u, "https://h/token", "registry",
						scopes, 1, NULL), -1);
	CU_ASSERT_EQUAL(u.len, 0);
	CU_ASSERT_STRING_EQUAL(u.buf, "");
	idp_buf_release(&u);
}

static void test_post_form(void)
{
	struct idp_buf f;
	const char *scopes[] = { "repository:a/b:pull,push", NULL, "repository:c:pull" };

	idp_buf_init(&f, 0);
	CU_ASSERT_EQUAL(idp_token_build_post_form(&f, "r+t/=", "registry", scopes, 3), 0);
	CU_ASSERT_STRING_EQUAL(f.buf, "grant_type=refresh_token&refresh_token=r%2Bt%2F%3D"
			       "&service=registry"
			       "&scope=repository%3Aa%2Fb%3Apull%2Cpush%20repository%3Ac%3Apull"
			       "&client_id=idppush");
	idp_buf_release(&f);

	CU_ASSERT_EQUAL(idp_token_build_post_form(&f, "rt", NULL, NULL, 0), 0);
	CU_ASSERT_STRING_EQUAL(f.buf,
			       "grant_type=refresh_token&refresh_token=rt&client_id=idppush");
	idp_buf_release(&f);

	CU_ASSERT_EQUAL(idp_token_build_post_form(&f, "", "s", NULL, 0), -1);
	CU_ASSERT_EQUAL(idp_token_build_post_form(&f, NULL, "s", NULL, 0), -1);
	CU_ASSERT_EQUAL(f.len, 0);

	idp_buf_init(&f, 50);
	CU_ASSERT_EQUAL(idp_token_build_post_form(&f, "rt", "registry", scopes, 1), -1);
	CU_ASSERT_EQUAL(f.len, 0);
	idp_buf_release(&f);
}

static void test_scope(void)
{
	struct idp_buf s;

	idp_buf_init(&s, 0);
	CU_ASSERT_EQUAL(idp_token_scope(&s, "giteaadmin/app", 1), 0);
	CU_ASSERT_STRING_EQUAL(s.buf, "repository:giteaadmin/app:pull,push");
	idp_buf_reset(&s);
	CU_ASSERT_EQUAL(idp_token_scope(&s, "o/base", 0), 0);
	CU_ASSERT_STRING_EQUAL(s.buf, "repository:o/base:pull");
	idp_buf_reset(&s);
	CU_ASSERT_EQUAL(idp_token_scope(&s, "", 1), -1);
	CU_ASSERT_EQUAL(idp_token_scope(&s, NULL, 1), -1);
	CU_ASSERT_EQUAL(idp_token_scope(&s, "a:b", 1), -1);
	CU_ASSERT_STRING_EQUAL(s.buf, "");
	idp_buf_release(&s);
}

/* Found by the token fuzz target under UBSan: a double expires_in out of
 * the range of an integer was converted anyway (undefined behaviour); it
 * is clamped like an integer one, and values below 1 get the default. */
static void test_expires_in_huge_double(void)
{
	struct idp_token t;
	struct idp_error e = IDP_ERROR_INIT;

	CU_ASSERT_EQUAL_FATAL(parse("{\"token\":\"t\",\"expires_in\":1e300}", &t, &e), 0);
	CU_ASSERT_EQUAL(t.expires_in, 366L * 24 * 3600);
	idp_token_release(&t);
	CU_ASSERT_EQUAL_FATAL(parse("{\"token\":\"t\",\"expires_in\":-1e300}", &t, &e), 0);
	CU_ASSERT_EQUAL(t.expires_in, 60);
	idp_token_release(&t);
	CU_ASSERT_EQUAL_FATAL(parse("{\"token\":\"t\",\"expires_in\":0.5}", &t, &e), 0);
	CU_ASSERT_EQUAL(t.expires_in, 60);
	idp_token_release(&t);
	CU_ASSERT_EQUAL_FATAL(parse("{\"token\":\"t\",\"expires_in\":90.9}", &t, &e), 0);
	CU_ASSERT_EQUAL(t.expires_in, 90);
	idp_token_release(&t);
}

/* Gitea sends {"token": JWT} only: the lifetime is the JWT's exp, when
 * the token is a JWT with one after issued_at; else the default. */
#define JWT_HEAD "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
static void test_jwt_lifetime(void)
{
	static const struct {
		const char *body;
		long want;
	} cases[] = {
		/* Gitea's claims: exp a day on, nbf, UserID, Scope */
		{ "{\"token\":\"" JWT_HEAD "eyJleHAiOjE3MDAwODY0MDAsIm5iZiI6MTcwMDAwMDAwMCwi"
		  "VXNlcklEIjoxLCJTY29wZSI6IiJ9.sig\"}", 86400 },
		{ "{\"token\":\"" JWT_HEAD "eyJleHAiOjE3MDAwMDAwMDN9.sig\"}", 3 },
		/* base64url's - and _ */
		{ "{\"token\":\"" JWT_HEAD "eyJleHAiOjE3MDAwMDA2MDAsInMiOiI_Pz4-fn4ifQ.s\"}", 600 },
		/* expires_in wins */
		{ "{\"token\":\"" JWT_HEAD "eyJleHAiOjE3MDAwMDAwMDN9.s\",\"expires_in\":300}",
		  300 },
		/* exp in the past (another clock), none, not a number, not an object */
		{ "{\"token\":\"" JWT_HEAD "eyJleHAiOjE2OTk5OTk5OTB9.s\"}", 60 },
		{ "{\"token\":\"" JWT_HEAD "eyJuYmYiOjE3MDAwMDAwMDB9.s\"}", 60 },
		{ "{\"token\":\"" JWT_HEAD "eyJleHAiOiJzb29uIn0.s\"}", 60 },
		{ "{\"token\":\"" JWT_HEAD "WzFd.s\"}", 60 },
		/* clamped like expires_in */
		{ "{\"token\":\"" JWT_HEAD "eyJleHAiOjExNjk5OTk5OTk5fQ.s\"}", 366L * 24 * 3600 },
		/* not JWTs: two parts, four parts, junk base64, an opaque token */
		{ "{\"token\":\"" JWT_HEAD "eyJleHAiOjE3MDAwMDAwMDN9\"}", 60 },
		{ "{\"token\":\"" JWT_HEAD "eyJleHAiOjE3MDAwMDAwMDN9.s.t\"}", 60 },
		{ "{\"token\":\"a.!!!!.c\"}", 60 },
		{ "{\"token\":\"a..c\"}", 60 },
		{ "{\"token\":\"opaque\"}", 60 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct idp_token t;
		struct idp_error e = IDP_ERROR_INIT;

		CU_ASSERT_EQUAL_FATAL(parse(cases[i].body, &t, &e), 0);
		CU_ASSERT_EQUAL(t.expires_in, cases[i].want);
		idp_token_release(&t);
	}
}

static const struct unit_test tests[] = {
	{ "token_field", test_token_field },
	{ "full_response", test_full_response },
	{ "expires_in", test_expires_in },
	{ "expires_in_huge_double", test_expires_in_huge_double },
	{ "jwt_lifetime", test_jwt_lifetime },
	{ "issued_at", test_issued_at },
	{ "bad_responses", test_bad_responses },
	{ "expired", test_expired },
	{ "get_url", test_get_url },
	{ "get_url_cap", test_get_url_cap },
	{ "post_form", test_post_form },
	{ "scope", test_scope },
	{ NULL, NULL }
};

IDP_SUITE(token) { unit_add_suite("token", tests); }
