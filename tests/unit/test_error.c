/* test_error.c: error classes map onto the promised exit codes. */
#include "config.h"
#include <string.h>
#include "unit.h"
#include "util/error.h"

static void test_exit_codes(void)
{
	CU_ASSERT_EQUAL(idp_errclass_exit_code(IDP_OK), 0);
	CU_ASSERT_EQUAL(idp_errclass_exit_code(IDP_EGENERAL), 1);
	CU_ASSERT_EQUAL(idp_errclass_exit_code(IDP_EAUTH), 2);
	CU_ASSERT_EQUAL(idp_errclass_exit_code(IDP_ENETWORK), 3);
	CU_ASSERT_EQUAL(idp_errclass_exit_code(IDP_ENOTFOUND), 4);
	CU_ASSERT_EQUAL(idp_errclass_exit_code(IDP_EREJECTED), 5);
	CU_ASSERT_EQUAL(idp_errclass_exit_code(IDP_ETIMEOUT), 6);
	CU_ASSERT_EQUAL(idp_errclass_exit_code(IDP_ECANCELED), 130);
}

static void test_set_prefix(void)
{
	struct idp_error e = IDP_ERROR_INIT;

	CU_ASSERT_EQUAL(idp_error_set(&e, IDP_EAUTH, "login to %s failed", "h:1"), -1);
	CU_ASSERT_EQUAL(e.cls, IDP_EAUTH);
	idp_error_prefix(&e, "pushing %s", "x");
	CU_ASSERT_STRING_EQUAL(e.msg, "pushing x: login to h:1 failed");
	CU_ASSERT_EQUAL(e.cls, IDP_EAUTH);
	CU_ASSERT_STRING_EQUAL(idp_errclass_str(IDP_ENETWORK), "network");
	idp_error_clear(&e);
	CU_ASSERT_EQUAL(e.cls, IDP_OK);
	CU_ASSERT_EQUAL(idp_error_set(NULL, IDP_EGENERAL, "dropped"), -1);
}

/* Bytes from outside never drive the terminal: C0 controls, DEL and C1
 * (as UTF-8), bidi controls and bytes that are not UTF-8 are escaped;
 * other UTF-8 is kept, never cut in the middle. */
static void test_escape(void)
{
	struct idp_error e = IDP_ERROR_INIT;
	char out[64];

	idp_text_escape(out, sizeof(out), "a\x1b[31mb\x07" "c\x7f\xc2\x9b" "d\xc3\xa9");
	CU_ASSERT_STRING_EQUAL(out, "a\\x1b[31mb\\x07c\\x7f\\x9b" "d\xc3\xa9");
	idp_text_escape(out, sizeof(out), "x\xe2\x80\xaey\xe2\x81\xa9z\xe2\x80\x94");
	CU_ASSERT_STRING_EQUAL(out, "x\\u202ey\\u2069z\xe2\x80\x94");
	idp_text_escape(out, sizeof(out),
			"a\x9b" "b\xff" "c\xc3" "d\xe2\x80" "e\xc0\xaf" "f\xed\xa0\x80");
	CU_ASSERT_STRING_EQUAL(out, "a\\x9bb\\xffc\\xc3d\\xe2\\x80e\\xc0\\xaff\\xed\\xa0\\x80");
	idp_text_escape(out, sizeof(out), "\xf0\x9f\x90\xb3 \xe4\xb8\xad");
	CU_ASSERT_STRING_EQUAL(out, "\xf0\x9f\x90\xb3 \xe4\xb8\xad");
	idp_text_escape(out, 4, "ab\xc3\xa9");
	CU_ASSERT_STRING_EQUAL(out, "ab");
	idp_text_escape(out, 8, "\x1b\x1b\x1b");
	CU_ASSERT_STRING_EQUAL(out, "\\x1b");
	idp_error_set(&e, IDP_EREJECTED, "digest %s", "sha256:\x1b]0;pwned\x07");
	CU_ASSERT_STRING_EQUAL(e.msg, "digest sha256:\\x1b]0;pwned\\x07");
	idp_error_prefix(&e, "tag %s", "v\n1");
	CU_ASSERT_STRING_EQUAL(e.msg, "tag v\\x0a1: digest sha256:\\x1b]0;pwned\\x07");
}

static const struct unit_test tests[] = {
	{ "escape", test_escape },
	{ "exit_codes", test_exit_codes },
	{ "set_prefix", test_set_prefix },
	{ NULL, NULL }
};

IDP_SUITE(error) { unit_add_suite("error", tests); }
