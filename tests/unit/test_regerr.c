/* test_regerr.c: registry error bodies -> idp_error: classes, hints,
 * retryability, and bodies that are HTML, garbage, truncated or huge. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "util/buf.h"
#include "registry/regerr.h"

#define WHAT "uploading blob sha256:abcd to localhost:5000/x"

static void run(struct idp_error *e, long status, const char *body)
{
	idp_error_clear(e);
	CU_ASSERT_EQUAL(idp_regerr_from_response(e, WHAT, status, body, body ? strlen(body) : 0),
			-1);
	CU_ASSERT_EQUAL(e->http_status, status);
	/* the status first, what we were doing at the end */
	CU_ASSERT_EQUAL(strncmp(e->msg, "HTTP ", 5), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e->msg, " (" WHAT ")"));
}

static int has(const struct idp_error *e, const char *needle)
{
	return strstr(e->msg, needle) != NULL;
}

static void test_unauthorized(void)
{
	struct idp_error e;

	run(&e, 401,
	    "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\","
	    "\"detail\":[{\"Type\":\"repository\",\"Name\":\"x\",\"Action\":\"push\"}]}]}");
	CU_ASSERT_EQUAL(e.cls, IDP_EAUTH);
	CU_ASSERT_FALSE(e.retryable);
	CU_ASSERT_TRUE(has(&e, "HTTP 401: UNAUTHORIZED: authentication required"));
	CU_ASSERT_TRUE(has(&e, "check the username and password"));
	CU_ASSERT_FALSE(has(&e, "Action"));
	run(&e, 401, NULL);
	CU_ASSERT_EQUAL(e.cls, IDP_EAUTH);
}

static void test_denied(void)
{
	struct idp_error e;

	run(&e, 403,
	    "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the resource is "
	    "denied\"}]}");
	CU_ASSERT_EQUAL(e.cls, IDP_EAUTH);
	CU_ASSERT_TRUE(has(&e, "DENIED: requested access"));
	CU_ASSERT_TRUE(has(&e, "denied: the account is not allowed"));
	run(&e, 403, "");
	CU_ASSERT_EQUAL(e.cls, IDP_EAUTH);
	CU_ASSERT_STRING_EQUAL(
		e.msg,
		"HTTP 403: denied: the account is not allowed to push to this repository (" WHAT
		")");
	/* DENIED under another status is still a permission problem */
	run(&e, 400, "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"\"}]}");
	CU_ASSERT_EQUAL(e.cls, IDP_EAUTH);
}

static void test_name_unknown(void)
{
	struct idp_error e;

	run(&e, 404,
	    "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"repository name not known to "
	    "registry\"}]}");
	CU_ASSERT_EQUAL(e.cls, IDP_EREJECTED);
	CU_ASSERT_FALSE(e.retryable);
	CU_ASSERT_TRUE(has(&e, "NAME_UNKNOWN"));
	CU_ASSERT_TRUE(has(&e, "existing user or organization"));
	run(&e, 404, "{\"errors\":[{\"code\":\"NAME_INVALID\",\"message\":\"x\"}]}");
	CU_ASSERT_TRUE(has(&e, "existing user or organization"));
	/* other 404s get no owner hint */
	run(&e, 404,
	    "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\",\"message\":\"blob unknown to registry\"}]}");
	CU_ASSERT_EQUAL(e.cls, IDP_EREJECTED);
	CU_ASSERT_FALSE(has(&e, "organization"));
	run(&e, 404, "404 page not found\n");
	CU_ASSERT_TRUE(has(&e, "HTTP 404: \"404 page not found\""));
}

static void test_retryable(void)
{
	static const long yes[] = { 408, 429, 500, 502, 503, 504 };
	struct idp_error e;
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		run(&e, yes[i], NULL);
		CU_ASSERT_EQUAL(e.cls, IDP_EREJECTED);
		CU_ASSERT_TRUE(e.retryable);
		CU_ASSERT_EQUAL(e.retry_after_ms, -1);
	}
	run(&e, 400, "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"slow down\"}]}");
	CU_ASSERT_TRUE(e.retryable);
	run(&e, 400,
	    "{\"errors\":[{\"code\":\"MANIFEST_INVALID\",\"message\":\"manifest invalid\"}]}");
	CU_ASSERT_EQUAL(e.cls, IDP_EREJECTED);
	CU_ASSERT_FALSE(e.retryable);
	run(&e, 416, NULL);
	CU_ASSERT_FALSE(e.retryable);
}

static void test_too_large(void)
{
	struct idp_error e;

	run(&e, 413, "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n"
		     "<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n"
		     "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n");
	CU_ASSERT_EQUAL(e.cls, IDP_EREJECTED);
	CU_ASSERT_FALSE(e.retryable);
	CU_ASSERT_TRUE(has(&e, "\"413 Request Entity Too Large\" (html page)"));
	CU_ASSERT_TRUE(has(&e, "proxy"));
	CU_ASSERT_TRUE(has(&e, "--chunk-size"));
	CU_ASSERT_FALSE(has(&e, "<"));
}

static void test_html_and_garbage(void)
{
	struct idp_error e;
	const char bin[] = "\x01\x02\x1b[31mred\x00more\x7f\xff";

	run(&e, 502, "  \n<!DOCTYPE html><html><body><h1>Bad gateway</h1></body></html>");
	CU_ASSERT_TRUE(has(&e, "HTTP 502: (html page)"));
	CU_ASSERT_FALSE(has(&e, "<"));
	CU_ASSERT_TRUE(e.retryable);

	run(&e, 502, "<HTML><TITLE>\n  Oops\x1b[2J</TITLE>");
	CU_ASSERT_TRUE(has(&e, "\"Oops?[2J\" (html page)"));

	idp_error_clear(&e);
	idp_regerr_from_response(&e, WHAT, 500, bin, sizeof(bin) - 1);
	CU_ASSERT_PTR_NULL(strchr(e.msg, '\x1b'));
	CU_ASSERT_TRUE(has(&e, "HTTP 500: \"???[31mred?more??\""));

	run(&e, 500, "first line\nsecond line");
	CU_ASSERT_TRUE(has(&e, "\"first line\""));
	CU_ASSERT_FALSE(has(&e, "second"));

	run(&e, 500, "   \r\n\t ");
	CU_ASSERT_STRING_EQUAL(e.msg, "HTTP 500 (" WHAT ")");
}

/* nginx in front of a registry that wants a client certificate */
static void test_client_cert(void)
{
	struct idp_error e;

	run(&e, 400, "<html>\r\n<head><title>400 No required SSL certificate was sent</title>"
		     "</head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>");
	CU_ASSERT_EQUAL(e.cls, IDP_ENETWORK);
	CU_ASSERT_TRUE(has(&e, "\"400 No required SSL certificate was sent\" (html page)"));
	CU_ASSERT_TRUE(has(&e, "TLS client certificate"));
	run(&e, 400, "<html><head><title>400 The SSL certificate error</title></head>");
	CU_ASSERT_TRUE(has(&e, "TLS client certificate"));
	run(&e, 400, "<html><head><title>400 Bad Request</title></head>");
	CU_ASSERT_EQUAL(e.cls, IDP_EREJECTED);
	CU_ASSERT_FALSE(has(&e, "client certificate"));
}

static void test_json_shapes(void)
{
	struct idp_error e;

	/* truncated JSON is summarised, not parsed */
	run(&e, 400, "{\"errors\":[{\"code\":\"BLOB_UPLOAD_INVALID\",\"mess");
	CU_ASSERT_EQUAL(e.cls, IDP_EREJECTED);
	CU_ASSERT_TRUE(has(&e, "\"{\"errors\""));
	/* other JSON */
	run(&e, 400, "{\"message\":\"bad\"}");
	CU_ASSERT_TRUE(has(&e, "{\"message\":\"bad\"}"));
	run(&e, 400, "{\"errors\":[]}");
	CU_ASSERT_TRUE(has(&e, "{\"errors\":[]}"));
	run(&e, 400, "{\"errors\":\"nope\"}");
	CU_ASSERT_EQUAL(e.cls, IDP_EREJECTED);
	/* odd entries */
	run(&e, 400, "{\"errors\":[42,{\"message\":\"no code\"},{\"code\":7}]}");
	CU_ASSERT_TRUE(has(&e, ": UNKNOWN; UNKNOWN: no code; UNKNOWN"));
	/* detail used when message is empty */
	run(&e, 400, "{\"errors\":[{\"code\":\"BLOB_UPLOAD_INVALID\",\"message\":\"\","
		     "\"detail\":\"Stream uploads after first write are not allowed\"}]}");
	CU_ASSERT_TRUE(has(&e, "BLOB_UPLOAD_INVALID: Stream uploads after first write"));
}

static void test_many_errors(void)
{
	struct idp_error e;

	run(&e, 400,
	    "{\"errors\":[{\"code\":\"A\",\"message\":\"1\"},{\"code\":\"B\",\"message\":\"2\"},"
	    "{\"code\":\"C\",\"message\":\"3\"},{\"code\":\"D\",\"message\":\"4\"},"
	    "{\"code\":\"E\",\"message\":\"5\"}]}");
	CU_ASSERT_TRUE(has(&e, "HTTP 400: A: 1; B: 2; C: 3 (and 2 more)"));
	CU_ASSERT_FALSE(has(&e, "D: 4"));
}

static void test_huge_bodies(void)
{
	size_t n = IDP_CAP_JSON_SMALL * 2;
	char *big = malloc(n + 1);
	struct idp_error e;
	char code[32];

	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 'x', n);
	big[n] = '\0';
	idp_error_clear(&e);
	idp_regerr_from_response(&e, WHAT, 500, big, n);
	CU_ASSERT_TRUE(strlen(e.msg) < 400);
	CU_ASSERT_TRUE(has(&e, "xxx...\""));

	/* a valid error body padded past the cap is not parsed */
	memset(big, ' ', n);
	memcpy(big, "{\"errors\":[{\"code\":\"DENIED\"}]}", 30);
	CU_ASSERT_EQUAL(idp_regerr_first_code(big, n, code, sizeof(code)), -1);
	CU_ASSERT_STRING_EQUAL(code, "");
	CU_ASSERT_EQUAL(idp_regerr_first_code(big, 30, code, sizeof(code)), 0);
	CU_ASSERT_STRING_EQUAL(code, "DENIED");

	/* a long message is cut, the total stays within the error buffer */
	memset(big, 'm', n);
	memcpy(big, "{\"errors\":[{\"code\":\"X\",\"message\":\"", 34);
	memcpy(big + 100000, "\"}]}", 5);
	idp_error_clear(&e);
	idp_regerr_from_response(&e, WHAT, 400, big, 100004);
	CU_ASSERT_TRUE(has(&e, "X: mmm"));
	CU_ASSERT_TRUE(strlen(e.msg) < 400);
	free(big);
}

static void test_long_what(void)
{
	char what[2000];
	struct idp_error e = IDP_ERROR_INIT;

	memset(what, 'w', sizeof(what) - 1);
	what[sizeof(what) - 1] = '\0';
	idp_regerr_from_response(&e, what, 401, NULL, 0);
	CU_ASSERT_EQUAL(e.cls, IDP_EAUTH);
	CU_ASSERT_EQUAL(strlen(e.msg), IDP_ERRMSG_MAX - 1);
	CU_ASSERT_EQUAL(idp_regerr_from_response(NULL, "x", 500, "y", 1), -1);
}

/* idp_regerr_first_code on a NUL-terminated body */
static int first_code(const char *body, char *out, size_t n)
{
	return idp_regerr_first_code(body, body ? strlen(body) : 0, out, n);
}

static void test_first_code(void)
{
	char code[32];
	char tiny[4];

	CU_ASSERT_EQUAL(
		first_code("{\"errors\":[{\"code\":\"BLOB_UPLOAD_INVALID\"}]}", code, sizeof(code)),
		0);
	CU_ASSERT_STRING_EQUAL(code, "BLOB_UPLOAD_INVALID");
	CU_ASSERT_EQUAL(first_code("{\"errors\":[{\"message\":\"m\"},{\"code\":\"NAME_UNKNOWN\"}]}",
				   code, sizeof(code)), 0);
	CU_ASSERT_STRING_EQUAL(code, "NAME_UNKNOWN");
	CU_ASSERT_EQUAL(first_code("{\"errors\":[{\"code\":\"DENIED\"}]}", tiny, sizeof(tiny)), 0);
	CU_ASSERT_STRING_EQUAL(tiny, "DEN");
	CU_ASSERT_EQUAL(first_code("{\"errors\":[]}", code, sizeof(code)), -1);
	CU_ASSERT_STRING_EQUAL(code, "");
	CU_ASSERT_EQUAL(first_code("<html>", code, sizeof(code)), -1);
	CU_ASSERT_EQUAL(first_code("{\"errors\":[{\"code\":\"DEN", code, sizeof(code)), -1);
	CU_ASSERT_EQUAL(first_code(NULL, code, sizeof(code)), -1);
	CU_ASSERT_EQUAL(first_code("{\"errors\":[{\"code\":\"DENIED\"}]}", NULL, 0), 0);
}

static const struct unit_test tests[] = {
	{ "unauthorized", test_unauthorized },
	{ "denied", test_denied },
	{ "name_unknown", test_name_unknown },
	{ "retryable", test_retryable },
	{ "too_large", test_too_large },
	{ "html_and_garbage", test_html_and_garbage },
	{ "client_cert", test_client_cert },
	{ "json_shapes", test_json_shapes },
	{ "many_errors", test_many_errors },
	{ "huge_bodies", test_huge_bodies },
	{ "long_what", test_long_what },
	{ "first_code", test_first_code },
	{ NULL, NULL }
};

IDP_SUITE(regerr) { unit_add_suite("regerr", tests); }
