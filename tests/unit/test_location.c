/* test_location.c: a registry's Location header resolved against the
 * request URL (idp_http_resolve): relative and absolute forms, and what a
 * hostile registry must not get through (other protocols, a user); and
 * how messages name a request (idp_http_request_name). */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "registry/http.h"

#define BASE "https://reg.example:5000/v2/a/b/blobs/uploads/"

static void expect(const char *loc, const char *want)
{
	char *got = idp_http_resolve(BASE, loc);

	if (want) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(got);
		CU_ASSERT_STRING_EQUAL(got, want);
	} else {
		CU_ASSERT_PTR_NULL(got);
	}
	free(got);
}

static void test_forms(void)
{
	expect("/v2/a/b/blobs/uploads/u1?_state=x",
	       "https://reg.example:5000/v2/a/b/blobs/uploads/u1?_state=x");
	expect("u2", "https://reg.example:5000/v2/a/b/blobs/uploads/u2");
	expect("https://cdn.example/up/3", "https://cdn.example/up/3");
	expect("http://reg.example:5000/up", "http://reg.example:5000/up");
	expect("HTTPS://reg.example/x", "https://reg.example/x");
}

static void test_refused(void)
{
	expect("file:///etc/passwd", NULL);
	expect("ftp://reg.example/up", NULL);
	expect("gopher://reg.example/up", NULL);
	expect("https://user@reg.example/up", NULL);
	expect("https://user:pw@evil.example/up", NULL);
	expect("https://:pw@evil.example/up", NULL);
	expect("", "https://reg.example:5000/v2/a/b/blobs/uploads/");
}

static void name_is(const char *method, const char *url, const char *want)
{
	char got[IDP_SHORT_URL_MAX];

	idp_http_request_name(method, url, got, sizeof(got));
	CU_ASSERT_STRING_EQUAL(got, want);
}

/* Messages name a request with its host and repository whole, its upload
 * id and digest short, its query gone. */
static void test_request_name(void)
{
	name_is("GET", "https://gitea.cnoe.localtest.me:8443/v2/",
		"GET https://gitea.cnoe.localtest.me:8443/v2/");
	name_is("POST", "https://registry.example.com/v2/my-team-name/my-application-service/"
		"blobs/uploads/",
		"POST https://registry.example.com/v2/my-team-name/my-application-service/"
		"blobs/uploads/");
	name_is("PATCH", "http://127.0.0.1:5000/v2/a/b/blobs/uploads/"
		"57cab652-e8b2-4c1a-9d0e-1f2a3b4c5d6e?_state=abc",
		"PATCH http://127.0.0.1:5000/v2/a/b/blobs/uploads/57cab652-e8b...?...");
	name_is("HEAD", "https://r.example/v2/a/b/blobs/sha256:"
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"HEAD https://r.example/v2/a/b/blobs/sha256:0123456789ab...");
	name_is("PUT", "https://r.example/v2/a/b/manifests/v1.2.3-a-long-tag-name",
		"PUT https://r.example/v2/a/b/manifests/v1.2.3-a-long-tag-name");
}

static const struct unit_test tests[] = {
	{ "forms", test_forms },
	{ "refused", test_refused },
	{ "request_name", test_request_name },
	{ NULL, NULL }
};

IDP_SUITE(location) { unit_add_suite("location", tests); }
