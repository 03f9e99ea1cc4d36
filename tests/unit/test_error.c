/* test_error.c: error classes map onto the promised exit codes. */
#include "config.h"
#include <string.h>
#include "unit.h"
#include "error.h"

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

static const struct unit_test tests[] = {
	{ "exit_codes", test_exit_codes },
	{ "set_prefix", test_set_prefix },
	{ NULL, NULL }
};

IDP_SUITE(error) { unit_add_suite("error", tests); }
