/* test_challenge.c: WWW-Authenticate parsing (RFC 7235): several challenges,
 * quoted strings, token68, whitespace, case, and malformed headers. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "registry/challenge.h"

static void test_bearer(void)
{
	struct idp_challenges c;
	struct idp_error e = IDP_ERROR_INIT;
	const struct idp_challenge *b;

	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL_FATAL(idp_challenges_parse(
		"Bearer realm=\"https://h/token\",service=\"registry\","
		"scope=\"repository:a/b:pull,push\"", &c, &e), 0);
	CU_ASSERT_EQUAL(c.n, 1);
	b = idp_challenges_find(&c, "bearer");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_STRING_EQUAL(b->scheme, "bearer");
	CU_ASSERT_EQUAL(b->nparams, 3);
	CU_ASSERT_STRING_EQUAL(idp_challenge_param(b, "realm"), "https://h/token");
	CU_ASSERT_STRING_EQUAL(idp_challenge_param(b, "service"), "registry");
	CU_ASSERT_STRING_EQUAL(idp_challenge_param(b, "scope"), "repository:a/b:pull,push");
	CU_ASSERT_PTR_NULL(idp_challenge_param(b, "error"));
	CU_ASSERT_PTR_NULL(b->token68);
	idp_challenges_release(&c);
	CU_ASSERT_EQUAL(c.n, 0);
}

static void test_gitea(void)
{
	struct idp_challenges c;
	struct idp_error e = IDP_ERROR_INIT;
	const struct idp_challenge *b;

	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL_FATAL(idp_challenges_parse(
		"Bearer realm=\"https://gitea.cnoe.localtest.me:8443/v2/token\","
		"service=\"container_registry\",scope=\"*\"", &c, &e), 0);
	b = idp_challenges_find(&c, "Bearer");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_STRING_EQUAL(idp_challenge_param(b, "REALM"),
			       "https://gitea.cnoe.localtest.me:8443/v2/token");
	CU_ASSERT_STRING_EQUAL(idp_challenge_param(b, "scope"), "*");
	idp_challenges_release(&c);
}

static void test_several(void)
{
	struct idp_challenges c;
	struct idp_error e = IDP_ERROR_INIT;
	const struct idp_challenge *x;

	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL_FATAL(idp_challenges_parse("Basic realm=\"x\", Bearer realm=\"y\"", &c, &e),
			      0);
	CU_ASSERT_EQUAL(c.n, 2);
	x = idp_challenges_find(&c, "BASIC");
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_STRING_EQUAL(idp_challenge_param(x, "realm"), "x");
	x = idp_challenges_find(&c, "bearer");
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_STRING_EQUAL(idp_challenge_param(x, "realm"), "y");
	CU_ASSERT_PTR_NULL(idp_challenges_find(&c, "digest"));
	CU_ASSERT_PTR_NULL(idp_challenges_find(NULL, "basic"));

	/* a second header appends */
	CU_ASSERT_EQUAL_FATAL(idp_challenges_parse("Negotiate", &c, &e), 0);
	CU_ASSERT_EQUAL(c.n, 3);
	CU_ASSERT_STRING_EQUAL(c.c[2].scheme, "negotiate");
	CU_ASSERT_EQUAL(c.c[2].nparams, 0);
	idp_challenges_release(&c);
}

static void test_rfc_example(void)
{
	struct idp_challenges c;
	struct idp_error e = IDP_ERROR_INIT;

	/* RFC 7235 section 4.1's example, with empty list elements added */
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL_FATAL(idp_challenges_parse(
		" , Newauth realm=\"apps\", type=1, "
		"title=\"Login to \\\"apps\\\"\", , Basic realm=\"simple\" ,", &c, &e), 0);
	CU_ASSERT_EQUAL_FATAL(c.n, 2);
	CU_ASSERT_STRING_EQUAL(c.c[0].scheme, "newauth");
	CU_ASSERT_EQUAL(c.c[0].nparams, 3);
	CU_ASSERT_STRING_EQUAL(idp_challenge_param(&c.c[0], "type"), "1");
	CU_ASSERT_STRING_EQUAL(idp_challenge_param(&c.c[0], "title"), "Login to \"apps\"");
	CU_ASSERT_STRING_EQUAL(idp_challenge_param(&c.c[1], "realm"), "simple");
	idp_challenges_release(&c);
}

static void test_escapes_and_spaces(void)
{
	struct idp_challenges c;
	struct idp_error e = IDP_ERROR_INIT;
	const struct idp_challenge *b;

	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL_FATAL(idp_challenges_parse(
		"BEARER   Realm = \"a\\\\b\\q, c\"\t,\tService=tok.en ,scope=\"\"", &c, &e), 0);
	b = idp_challenges_find(&c, "bearer");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_STRING_EQUAL(b->params[0].name, "realm");
	CU_ASSERT_STRING_EQUAL(idp_challenge_param(b, "realm"), "a\\bq, c");
	CU_ASSERT_STRING_EQUAL(idp_challenge_param(b, "service"), "tok.en");
	CU_ASSERT_STRING_EQUAL(idp_challenge_param(b, "scope"), "");
	idp_challenges_release(&c);
}

static void test_token68(void)
{
	struct idp_challenges c;
	struct idp_error e = IDP_ERROR_INIT;

	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL_FATAL(
		idp_challenges_parse("Basic dXNlcjpwYXNz==, Bearer realm=\"r\"", &c, &e), 0);
	CU_ASSERT_EQUAL_FATAL(c.n, 2);
	CU_ASSERT_STRING_EQUAL(c.c[0].scheme, "basic");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.c[0].token68);
	CU_ASSERT_STRING_EQUAL(c.c[0].token68, "dXNlcjpwYXNz==");
	CU_ASSERT_EQUAL(c.c[0].nparams, 0);
	CU_ASSERT_STRING_EQUAL(idp_challenge_param(&c.c[1], "realm"), "r");
	idp_challenges_release(&c);

	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL_FATAL(idp_challenges_parse("Custom a/b+c~d.e-f_g  ", &c, &e), 0);
	CU_ASSERT_STRING_EQUAL(c.c[0].token68, "a/b+c~d.e-f_g");
	idp_challenges_release(&c);

	/* "name=" alone is a token68, not a parameter without a value */
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL_FATAL(idp_challenges_parse("Bearer realm=", &c, &e), 0);
	CU_ASSERT_STRING_EQUAL(c.c[0].token68, "realm=");
	CU_ASSERT_EQUAL(c.c[0].nparams, 0);
	idp_challenges_release(&c);
}

/* Parsing must fail with IDP_EAUTH, quote the header, and leave out as it was. */
static void expect_bad(const char *h, const char *needle)
{
	struct idp_challenges c;
	struct idp_error e = IDP_ERROR_INIT;

	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL_FATAL(idp_challenges_parse("Basic realm=\"keep\"", &c, &e), 0);
	CU_ASSERT_EQUAL(idp_challenges_parse(h, &c, &e), -1);
	CU_ASSERT_EQUAL(e.cls, IDP_EAUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "WWW-Authenticate"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, needle));
	CU_ASSERT_EQUAL(c.n, 1);
	CU_ASSERT_STRING_EQUAL(idp_challenge_param(&c.c[0], "realm"), "keep");
	idp_challenges_release(&c);
}

static void test_malformed(void)
{
	expect_bad("", "no challenge");
	expect_bad(" , ,", "no challenge");
	expect_bad(NULL, "no challenge");
	expect_bad("Bearer realm=\"unterminated", "unterminated quoted string");
	expect_bad("Bearer realm=\"a\\", "unterminated quoted string");
	expect_bad("Bearer realm=\"a\rb\"", "invalid character");
	expect_bad("Bearer realm=\"x\" service=\"y\"", "expected ','");
	expect_bad("Bearer realm=x y", "expected ','");
	expect_bad("Bearer a=b, realm=,", "missing parameter value");
	expect_bad("Bearer a=b, realm=", "missing parameter value");
	expect_bad("Bearer realm=\"x\", realm=\"y\"", "duplicate parameter");
	expect_bad("Bearer realm=\"x\", REALM=\"y\"", "duplicate parameter");
	expect_bad("Bearer=x", "expected a space after the scheme");
	expect_bad("Basic, realm=x", "expected a space after the scheme");
	expect_bad("\"Bearer\" realm=x", "expected an authentication scheme");
	expect_bad("Bearer @realm=x", "expected a parameter name");
	expect_bad("Bearer realm \"x\"", "expected '='");
	expect_bad("Bearer realm=\"x\"\x01", "expected ','");
}

static void test_malformed_quoting(void)
{
	struct idp_challenges c;
	struct idp_error e = IDP_ERROR_INIT;
	char h[400];

	/* long header: the message quotes only the start, control chars replaced */
	memset(&c, 0, sizeof(c));
	memset(h, 'a', sizeof(h) - 1);
	h[sizeof(h) - 1] = '\0';
	memcpy(h, "Bearer\n x=\"", 11);
	CU_ASSERT_EQUAL(idp_challenges_parse(h, &c, &e), -1);
	CU_ASSERT_PTR_NULL(strchr(e.msg, '\n'));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "Bearer? x="));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "...\""));
	CU_ASSERT_TRUE(strlen(e.msg) < 250);
	CU_ASSERT_EQUAL(c.n, 0);
}

static void test_limits(void)
{
	struct idp_challenges c;
	struct idp_error e = IDP_ERROR_INIT;
	char h[1024], *big;
	size_t n = 0;
	int i;

	/* exactly IDP_CHALLENGE_MAX_PARAMS is fine, one more is not */
	memset(&c, 0, sizeof(c));
	n = (size_t)snprintf(h, sizeof(h), "Bearer p0=v");
	for (i = 1; i < IDP_CHALLENGE_MAX_PARAMS; i++)
		n += (size_t)snprintf(h + n, sizeof(h) - n, ",p%d=v", i);
	CU_ASSERT_EQUAL(idp_challenges_parse(h, &c, &e), 0);
	CU_ASSERT_EQUAL(c.c[0].nparams, IDP_CHALLENGE_MAX_PARAMS);
	idp_challenges_release(&c);
	snprintf(h + n, sizeof(h) - n, ",px=v");
	CU_ASSERT_EQUAL(idp_challenges_parse(h, &c, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "too many parameters"));
	CU_ASSERT_EQUAL(c.n, 0);

	/* too many challenges */
	n = 0;
	for (i = 0; i <= IDP_CHALLENGES_MAX; i++)
		n += (size_t)snprintf(h + n, sizeof(h) - n, "S%d r=1, ", i);
	CU_ASSERT_EQUAL(idp_challenges_parse(h, &c, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "too many challenges"));
	CU_ASSERT_EQUAL(c.n, 0);

	/* huge header */
	big = malloc(100000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 'a', 99999);
	big[99999] = '\0';
	memcpy(big, "Bearer realm=\"", 14);
	CU_ASSERT_EQUAL(idp_challenges_parse(big, &c, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "longer than"));
	CU_ASSERT_EQUAL(c.n, 0);
	free(big);
	idp_challenges_release(NULL);
}

static void test_empty_scheme_only(void)
{
	struct idp_challenges c;
	struct idp_error e = IDP_ERROR_INIT;

	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL_FATAL(idp_challenges_parse("Bearer, Basic", &c, &e), 0);
	CU_ASSERT_EQUAL(c.n, 2);
	CU_ASSERT_EQUAL(c.c[0].nparams, 0);
	CU_ASSERT_PTR_NULL(idp_challenge_param(&c.c[0], "realm"));
	CU_ASSERT_PTR_NULL(idp_challenge_param(NULL, "realm"));
	idp_challenges_release(&c);
}

static const struct unit_test tests[] = {
	{ "bearer", test_bearer },
	{ "gitea", test_gitea },
	{ "several", test_several },
	{ "rfc_example", test_rfc_example },
	{ "escapes_and_spaces", test_escapes_and_spaces },
	{ "token68", test_token68 },
	{ "malformed", test_malformed },
	{ "malformed_quoting", test_malformed_quoting },
	{ "limits", test_limits },
	{ "scheme_only", test_empty_scheme_only },
	{ NULL, NULL }
};

IDP_SUITE(challenge) { unit_add_suite("challenge", tests); }
