/* test_regheader.c: Range and byte-count headers from a registry are
 * parsed strictly, without overflow, whatever the text. */
#include "config.h"
#include <stdint.h>
#include "unit.h"
#include "regheader.h"

static void test_range(void)
{
	CU_ASSERT_EQUAL(idp_range_held("0-0"), 1);
	CU_ASSERT_EQUAL(idp_range_held("0-99"), 100);
	CU_ASSERT_EQUAL(idp_range_held("bytes=0-99"), 100);
	CU_ASSERT_EQUAL(idp_range_held(" 0-9 "), 10);
	CU_ASSERT_EQUAL(idp_range_held("0--1"), 0);
	CU_ASSERT_EQUAL(idp_range_held("5-9"), -1);
	CU_ASSERT_EQUAL(idp_range_held("0-"), -1);
	CU_ASSERT_EQUAL(idp_range_held("0-1x"), -1);
	CU_ASSERT_EQUAL(idp_range_held("abc"), -1);
	CU_ASSERT_EQUAL(idp_range_held(""), -1);
	CU_ASSERT_EQUAL(idp_range_held(NULL), -1);
	CU_ASSERT_EQUAL(idp_range_held("0-9223372036854775807"), -1);
	CU_ASSERT_EQUAL(idp_range_held("0-99999999999999999999999"), -1);
	CU_ASSERT_EQUAL(idp_range_held("0-1125899906842622"), IDP_SIZE_MAX_BELIEVED - 1);
	CU_ASSERT_EQUAL(idp_range_held("0-1125899906842623"), IDP_SIZE_MAX_BELIEVED);
	CU_ASSERT_EQUAL(idp_range_held("0-1125899906842624"), -1);
}

static void test_count(void)
{
	CU_ASSERT_EQUAL(idp_header_count("123", 1000), 123);
	CU_ASSERT_EQUAL(idp_header_count("0", 1000), 0);
	CU_ASSERT_EQUAL(idp_header_count("1001", 1000), -1);
	CU_ASSERT_EQUAL(idp_header_count("-1", 1000), -1);
	CU_ASSERT_EQUAL(idp_header_count("12a", 1000), -1);
	CU_ASSERT_EQUAL(idp_header_count("", 1000), -1);
	CU_ASSERT_EQUAL(idp_header_count(NULL, 1000), -1);
	CU_ASSERT_EQUAL(idp_header_count("99999999999999999999999", INT64_MAX), -1);
	CU_ASSERT_EQUAL(idp_header_count("9223372036854775807", INT64_MAX), INT64_MAX);
}

static const struct unit_test tests[] = {
	{ "range", test_range },
	{ "count", test_count },
	{ NULL, NULL }
};

IDP_SUITE(regheader) { unit_add_suite("regheader", tests); }
