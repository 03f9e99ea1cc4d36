/* test_regheader.c: Range and byte-count header values (regheader.h): the
 * accepted forms, the bounds (no overflow whatever the text), and the
 * inputs fuzzing found. */
#include "config.h"
#include <stdint.h>
#include "unit.h"
#include "registry/regheader.h"

static void test_range(void)
{
	CU_ASSERT_EQUAL(idp_range_held("0-0"), 1);
	CU_ASSERT_EQUAL(idp_range_held("0-1023"), 1024);
	CU_ASSERT_EQUAL(idp_range_held("bytes=0-99"), 100);
	CU_ASSERT_EQUAL(idp_range_held(" 0-99 "), 100);
	CU_ASSERT_EQUAL(idp_range_held("0--1"), 0);
	CU_ASSERT_EQUAL(idp_range_held("0-1125899906842622"), IDP_SIZE_MAX_BELIEVED - 1);
	CU_ASSERT_EQUAL(idp_range_held("0-1125899906842623"), IDP_SIZE_MAX_BELIEVED);
	CU_ASSERT_EQUAL(idp_range_held("0-1125899906842624"), -1);
	CU_ASSERT_EQUAL(idp_range_held("0-9223372036854775807"), -1);
	CU_ASSERT_EQUAL(idp_range_held("0-99999999999999999999999"), -1);
	CU_ASSERT_EQUAL(idp_range_held("1-5"), -1);
	CU_ASSERT_EQUAL(idp_range_held("0-"), -1);
	CU_ASSERT_EQUAL(idp_range_held("0-+5"), -1);
	CU_ASSERT_EQUAL(idp_range_held("0-12x"), -1);
	CU_ASSERT_EQUAL(idp_range_held("abc"), -1);
	CU_ASSERT_EQUAL(idp_range_held(""), -1);
	CU_ASSERT_EQUAL(idp_range_held(NULL), -1);
}

static void test_count(void)
{
	CU_ASSERT_EQUAL(idp_header_count("512", 1024), 512);
	CU_ASSERT_EQUAL(idp_header_count("0", 1024), 0);
	CU_ASSERT_EQUAL(idp_header_count("\t42 ", 1024), 42);
	CU_ASSERT_EQUAL(idp_header_count("1024", 1024), 1024);
	CU_ASSERT_EQUAL(idp_header_count("1025", 1024), -1);
	CU_ASSERT_EQUAL(idp_header_count("99999999999999999999", INT64_MAX), -1);
	CU_ASSERT_EQUAL(idp_header_count("9223372036854775807", INT64_MAX), INT64_MAX);
	CU_ASSERT_EQUAL(idp_header_count("-5", 1024), -1);
	CU_ASSERT_EQUAL(idp_header_count("12a", 1024), -1);
	CU_ASSERT_EQUAL(idp_header_count("", 1024), -1);
	CU_ASSERT_EQUAL(idp_header_count(NULL, 1024), -1);
}

/* Found by fuzzing: with a maximum below 10, a digit larger than the
 * maximum got through (the bound check divided a negative number). */
static void test_count_small_max(void)
{
	CU_ASSERT_EQUAL(idp_header_count("5", -1), -1);
	CU_ASSERT_EQUAL(idp_header_count("0", -1), -1);
	CU_ASSERT_EQUAL(idp_header_count("7", 5), -1);
	CU_ASSERT_EQUAL(idp_header_count("5", 5), 5);
	CU_ASSERT_EQUAL(idp_header_count("1", 0), -1);
	CU_ASSERT_EQUAL(idp_header_count("0", 0), 0);
	CU_ASSERT_EQUAL(idp_header_count("10", 9), -1);
	CU_ASSERT_EQUAL(idp_header_count("9", 9), 9);
}

static const struct unit_test tests[] = {
	{ "range", test_range },
	{ "count", test_count },
	{ "count_small_max", test_count_small_max },
	{ NULL, NULL }
};

IDP_SUITE(regheader) { unit_add_suite("regheader", tests); }
