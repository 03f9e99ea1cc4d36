/* test_location.c: a registry's Location header resolved against the
 * request URL (idp_http_resolve): relative and absolute forms, and what a
 * hostile registry must not get through (other protocols, a user). */
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

static const struct unit_test tests[] = {
	{ "forms", test_forms },
	{ "refused", test_refused },
	{ NULL, NULL }
};

IDP_SUITE(location) { unit_add_suite("location", tests); }
