/* test_progmap.c: upload offsets mapped back to source bytes: linear
 * between samples, never past the last sample (so never "done" before
 * the source is), bounded however many samples come, resends. */
#include "config.h"
#include "unit.h"
#include "push/progmap.h"

/* A raw layer compressed 4:1, spooled 64 KiB of upload at a time. */
static void fill(struct idp_progmap *m, int64_t from, int64_t to)
{
	int64_t up;
	for (up = from + 65536; up <= to; up += 65536)
		idp_progmap_add(m, up, up * 4);
}

static void test_interpolate(void)
{
	struct idp_progmap m;

	idp_progmap_init(&m);
	CU_ASSERT_EQUAL(idp_progmap_at(&m, 0), 0);
	idp_progmap_add(&m, 1000, 4000);
	idp_progmap_add(&m, 2000, 5000);
	CU_ASSERT_EQUAL(idp_progmap_at(&m, 500), 2000);
	CU_ASSERT_EQUAL(idp_progmap_at(&m, 1000), 4000);
	CU_ASSERT_EQUAL(idp_progmap_at(&m, 1500), 4500);
	/* past the last sample: what is known, not a guess */
	CU_ASSERT_EQUAL(idp_progmap_at(&m, 9999), 5000);
	/* offsets that do not grow, and source bytes going back, are ignored */
	idp_progmap_add(&m, 2000, 9000);
	idp_progmap_add(&m, 3000, 100);
	CU_ASSERT_EQUAL(idp_progmap_at(&m, 3000), 5000);
}

/* A whole 64 MiB chunk read ahead of the send: bounded, still accurate. */
static void test_bounded(void)
{
	struct idp_progmap m;
	int64_t chunk = (int64_t)64 << 20, at;

	idp_progmap_init(&m);
	fill(&m, 0, chunk);
	CU_ASSERT_TRUE(m.n <= IDP_PROGMAP_MAX);
	at = idp_progmap_at(&m, chunk / 3);
	CU_ASSERT_TRUE(at >= chunk / 3 * 4 - 4 * 65536 * 4 && at <= chunk / 3 * 4);
	CU_ASSERT_EQUAL(idp_progmap_at(&m, chunk), chunk * 4);
	/* the next chunk */
	fill(&m, chunk, 2 * chunk);
	CU_ASSERT_TRUE(m.n <= IDP_PROGMAP_MAX);
	CU_ASSERT_EQUAL(idp_progmap_at(&m, chunk + chunk / 2), (chunk + chunk / 2) * 4);
}

/* A chunk sent again from its start: the lowest value still known. */
static void test_resend(void)
{
	struct idp_progmap m;

	idp_progmap_init(&m);
	fill(&m, 0, 1 << 20);
	CU_ASSERT_EQUAL(idp_progmap_at(&m, 1 << 19), (1 << 19) * 4);
	CU_ASSERT_EQUAL(idp_progmap_at(&m, 0), (1 << 19) * 4);
	CU_ASSERT_EQUAL(idp_progmap_at(&m, (1 << 19) + 65536), ((1 << 19) + 65536) * 4);
}

static const struct unit_test tests[] = {
	{ "interpolate", test_interpolate },
	{ "bounded", test_bounded },
	{ "resend", test_resend },
	{ NULL, NULL }
};

IDP_SUITE(progmap) { unit_add_suite("progmap", tests); }
