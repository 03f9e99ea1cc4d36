/* test_buf.c: the bounded buffer keeps its invariants and its cap. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "util/buf.h"

static void test_add_and_detach(void)
{
	struct idp_buf b;
	char *s;
	size_t n;

	idp_buf_init(&b, 0);
	CU_ASSERT_STRING_EQUAL(b.buf, "");
	CU_ASSERT_EQUAL(idp_buf_adds(&b, "abc"), 0);
	CU_ASSERT_EQUAL(idp_buf_addf(&b, "-%d-", 42), 0);
	CU_ASSERT_STRING_EQUAL(b.buf, "abc-42-");
	s = idp_buf_detach(&b, &n);
	CU_ASSERT_EQUAL(n, 7);
	CU_ASSERT_STRING_EQUAL(s, "abc-42-");
	CU_ASSERT_STRING_EQUAL(b.buf, "");
	free(s);
	idp_buf_release(&b);
}

static void test_cap(void)
{
	struct idp_buf b;

	idp_buf_init(&b, 8);
	CU_ASSERT_EQUAL(idp_buf_adds(&b, "12345678"), 0);
	CU_ASSERT_EQUAL(idp_buf_adds(&b, "9"), -1);
	CU_ASSERT_EQUAL(b.len, 8);
	CU_ASSERT_STRING_EQUAL(b.buf, "12345678");
	idp_buf_reset(&b);
	CU_ASSERT_EQUAL(idp_buf_addf(&b, "%s", "too long for it"), -1);
	CU_ASSERT_EQUAL(b.len, 0);
	idp_buf_release(&b);
}

static const struct unit_test tests[] = {
	{ "add_and_detach", test_add_and_detach },
	{ "cap", test_cap },
	{ NULL, NULL }
};

IDP_SUITE(buf) { unit_add_suite("buf", tests); }
