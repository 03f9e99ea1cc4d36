/* test_nearest.c: the names closest to a wanted one (util/nearest.h). */
#include "config.h"
#include <string.h>
#include "unit.h"
#include "util/nearest.h"

static const char *closest(const char *want, const char *const *names, char *buf, size_t len)
{
	struct idp_nearest nb;
	int i;

	idp_nearest_init(&nb, want);
	for (i = 0; names[i]; i++)
		idp_nearest_add(&nb, names[i]);
	return idp_nearest_list(&nb, buf, len);
}

static void test_order(void)
{
	static const char *const tags[] = { "zzz:9", "web:v2", "myapp:dev", "myapp:1.0", NULL };
	static const char *const typo[] = { "other:1", "myapp:dev", "myap:devel", "m:d", NULL };
	static const char *const none[] = { NULL };
	char buf[256];

	/* containing the wanted name is closest, the first seen first */
	CU_ASSERT_STRING_EQUAL(closest("myapp", tags, buf, sizeof(buf)),
			       "myapp:dev, myapp:1.0, zzz:9");
	CU_ASSERT_STRING_EQUAL(closest("myap:dev", typo, buf, sizeof(buf)),
			       "myap:devel, myapp:dev, m:d");
	CU_ASSERT_STRING_EQUAL(closest("x", none, buf, sizeof(buf)), "");
	/* a short buffer is cut, still a string */
	CU_ASSERT_STRING_EQUAL(closest("myapp", tags, buf, 12), "myapp:dev, ");
}

static void test_long_names(void)
{
	static char big[3000];
	const char *names[] = { big, "myapp:dev", NULL };
	char buf[4096];

	memset(big, 'a', sizeof(big) - 1);
	closest("myapp:de", names, buf, sizeof(buf));
	CU_ASSERT_EQUAL(strncmp(buf, "myapp:dev, aaaa", 15), 0);
	CU_ASSERT(strlen(buf) < 11 + 1024);
}

static const struct unit_test tests[] = {
	{ "order", test_order },
	{ "long_names", test_long_names },
	{ NULL, NULL }
};

IDP_SUITE(nearest) { unit_add_suite("nearest", tests); }
