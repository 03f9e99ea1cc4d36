/* test_retry.c: backoff with jitter, retryable statuses, Retry-After
 * (seconds and IMF-fixdate) and duration parsing. */
#include "config.h"
#include <limits.h>
#include <string.h>
#include "unit.h"
#include "registry/retry.h"

#define NOW ((time_t)784111777)   /* Sun, 06 Nov 1994 08:49:37 GMT */

static void test_backoff_default(void)
{
	struct idp_retry_policy p = IDP_RETRY_DEFAULT;

	/* rnd 0 gives d/2, rnd close to 1 gives almost d */
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 1, 0.0, -1), 500);
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 1, 0.5, -1), 750);
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 1, 0.999999, -1), 999);
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 2, 0.0, -1), 1000);
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 3, 0.0, -1), 2000);
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 4, 0.5, -1), 6000);
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 5, 0.0, -1), 8000);
	/* capped at 30 s */
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 6, 0.0, -1), 15000);
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 6, 0.99999999, -1), 29999);
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 100, 0.0, -1), 15000);
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, INT_MAX, 0.0, -1), 15000);
	/* NULL policy means the defaults */
	CU_ASSERT_EQUAL(idp_retry_delay_ms(NULL, 3, 0.0, -1), 2000);
}

static void test_backoff_deterministic(void)
{
	struct idp_retry_policy p = { 10, 1000, 2.0, 30000 };
	int a;
	double r;

	for (a = 1; a <= 12; a++)
		for (r = 0.0; r < 1.0; r += 0.125) {
			long d = idp_retry_delay_ms(&p, a, r, -1);
			long full = a > 5 ? 30000 : 1000L << (a - 1);
			CU_ASSERT_EQUAL(d, idp_retry_delay_ms(&p, a, r, -1));
			CU_ASSERT_TRUE(d >= full / 2 && d <= full);
		}
}

static void test_backoff_odd_policies(void)
{
	struct idp_retry_policy p = { 5, 1000, 2.0, 30000 };

	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 0, 0.0, -1), 500);   /* attempt < 1 */
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, -3, 0.0, -1), 500);
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 1, -1.0, -1), 500);  /* rnd clamped */
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 1, 7.0, -1), 1000);
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 1, 0.0 / 0.0, -1), 500);
	p.factor = 0.5;    /* never shrinks */
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 4, 0.0, -1), 500);
	p.factor = 1.0;
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, INT_MAX, 0.0, -1), 500);
	p.factor = 10.0;
	p.initial_ms = 0;
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 3, 0.5, -1), 0);
	p.initial_ms = 100000;   /* initial above the cap */
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 1, 0.0, -1), 15000);
	p.factor = 1e308;
	p.initial_ms = 1000;
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 3, 0.0, -1), 15000);
}

static void test_retry_after_delay(void)
{
	struct idp_retry_policy p = IDP_RETRY_DEFAULT;

	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 1, 0.0, 0), 500);
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 1, 0.0, 5000), 5000);
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 5, 0.0, 5000), 8000);
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 1, 0.0, 300000), 300000);
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 1, 0.0, 3600000), 300000);
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 1, 0.0, LONG_MAX), 300000);
	p.cap_ms = 3600000;
	CU_ASSERT_EQUAL(idp_retry_delay_ms(&p, 30, 0.0, 0), 300000);
}

static void test_statuses(void)
{
	static const long yes[] = { 408, 429, 500, 502, 503, 504, 599 };
	static const long no[] = { 0,   200, 201, 202, 301, 400, 401,
				   403, 404, 409, 413, 416, 501, 600 };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		CU_ASSERT_TRUE(idp_retry_status_retryable(yes[i]));
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		CU_ASSERT_FALSE(idp_retry_status_retryable(no[i]));
}

static void test_retry_after_seconds(void)
{
	CU_ASSERT_EQUAL(idp_retry_after_parse("0", NOW), 0);
	CU_ASSERT_EQUAL(idp_retry_after_parse("5", NOW), 5000);
	CU_ASSERT_EQUAL(idp_retry_after_parse("120", NOW), 120000);
	CU_ASSERT_EQUAL(idp_retry_after_parse("  7 \r\n", NOW), 7000);
	CU_ASSERT_EQUAL(idp_retry_after_parse("007", NOW), 7000);
	CU_ASSERT_TRUE(idp_retry_after_parse("99999999999999999999999999", NOW) > 0);
	CU_ASSERT_EQUAL(idp_retry_after_parse("-5", NOW), -1);
	CU_ASSERT_EQUAL(idp_retry_after_parse("+5", NOW), -1);
	CU_ASSERT_EQUAL(idp_retry_after_parse("5s", NOW), -1);
	CU_ASSERT_EQUAL(idp_retry_after_parse("1.5", NOW), -1);
	CU_ASSERT_EQUAL(idp_retry_after_parse("5 5", NOW), -1);
	CU_ASSERT_EQUAL(idp_retry_after_parse("", NOW), -1);
	CU_ASSERT_EQUAL(idp_retry_after_parse("   ", NOW), -1);
	CU_ASSERT_EQUAL(idp_retry_after_parse(NULL, NOW), -1);
}

static void test_retry_after_date(void)
{
	CU_ASSERT_EQUAL(idp_retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", NOW), 0);
	CU_ASSERT_EQUAL(idp_retry_after_parse("Sun, 06 Nov 1994 08:50:07 GMT", NOW), 30000);
	CU_ASSERT_EQUAL(idp_retry_after_parse("Mon, 07 Nov 1994 08:49:37 GMT", NOW), 86400000);
	CU_ASSERT_EQUAL(idp_retry_after_parse(" Sun, 06 Nov 1994 09:49:37 GMT\r\n", NOW), 3600000);
	/* in the past: no wait */
	CU_ASSERT_EQUAL(idp_retry_after_parse("Sat, 05 Nov 1994 08:49:37 GMT", NOW), 0);
	CU_ASSERT_EQUAL(idp_retry_after_parse("Thu, 01 Jan 1970 00:00:00 GMT", NOW), 0);
	/* year boundary and leap day */
	CU_ASSERT_EQUAL(idp_retry_after_parse("Thu, 29 Feb 2024 00:00:10 GMT", 1709164800), 10000);
	CU_ASSERT_EQUAL(idp_retry_after_parse("Mon, 01 Jan 2024 00:00:01 GMT", 1704067199), 2000);
}

static void test_retry_after_bad_dates(void)
{
	static const char *const bad[] = {
		"Sun, 06 Nov 1994 08:49:37 UTC",
		"Sun, 06 Nov 1994 08:49:37",
		"Sunday, 06-Nov-94 08:49:37 GMT",
		"Sun Nov  6 08:49:37 1994",
		"sun, 06 nov 1994 08:49:37 GMT",
		"Sun, 6 Nov 1994 08:49:37 GMT",
		"Sun, 06 Foo 1994 08:49:37 GMT",
		"Sun, 32 Nov 1994 08:49:37 GMT",
		"Sun, 00 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 24:49:37 GMT",
		"Sun, 06 Nov 1994 08:60:37 GMT",
		"Sun, 06 Nov 1994 08:49:61 GMT",
		"Sun, 06 Nov 94 08:49:37 GMT",
		"Sun,06 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 08:49:37 GMTX",
		"soon",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(idp_retry_after_parse(bad[i], NOW), -1);
}

static void test_duration_ok(void)
{
	CU_ASSERT_EQUAL(idp_duration_parse_ms("300"), 300000);
	CU_ASSERT_EQUAL(idp_duration_parse_ms("300s"), 300000);
	CU_ASSERT_EQUAL(idp_duration_parse_ms("5m"), 300000);
	CU_ASSERT_EQUAL(idp_duration_parse_ms("1h30m"), 5400000);
	CU_ASSERT_EQUAL(idp_duration_parse_ms("1h30m15s"), 5415000);
	CU_ASSERT_EQUAL(idp_duration_parse_ms("1500ms"), 1500);
	CU_ASSERT_EQUAL(idp_duration_parse_ms("1m500ms"), 60500);
	CU_ASSERT_EQUAL(idp_duration_parse_ms("2.5s"), 2500);
	CU_ASSERT_EQUAL(idp_duration_parse_ms("1.5h"), 5400000);
	CU_ASSERT_EQUAL(idp_duration_parse_ms(".5s"), 500);
	CU_ASSERT_EQUAL(idp_duration_parse_ms("2.5"), 2500);
	CU_ASSERT_EQUAL(idp_duration_parse_ms("0.0001s"), 0);
	CU_ASSERT_EQUAL(idp_duration_parse_ms("1.0000000001s"), 1000);
	CU_ASSERT_EQUAL(idp_duration_parse_ms("0"), 0);
	CU_ASSERT_EQUAL(idp_duration_parse_ms("0s"), 0);
	CU_ASSERT_EQUAL(idp_duration_parse_ms(" 5m\n"), 300000);
	CU_ASSERT_EQUAL(idp_duration_parse_ms("8784h"), 8784L * 3600000L); /* 366 days: the most */
}

static void test_duration_bad(void)
{
	static const char *const bad[] = {
		"",
		" ",
		"-5m",
		"8784h1ms",
		"2562047788015h",
		"9223372036854775s",
		"+5m",
		"-1",
		"5x",
		"m",
		"5 m",
		"5m 3s",
		"1h30",
		"5mm",
		"5M",
		"1..5s",
		".s",
		".",
		"5.s5",
		"1e3",
		"0x10",
		"five",
		"5m-3s",
		"ms",
		"99999999999999999999",
		"9223372036854775807s",
		"2562047788016h",
		"9223372036854775807ms1ms",
		"1111111111111111111111111111111111111111111111111111111111111111111s",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(idp_duration_parse_ms(bad[i]), -1);
	CU_ASSERT_EQUAL(idp_duration_parse_ms(NULL), -1);
}

static const struct unit_test tests[] = {
	{ "backoff_default", test_backoff_default },
	{ "backoff_deterministic", test_backoff_deterministic },
	{ "backoff_odd_policies", test_backoff_odd_policies },
	{ "retry_after_delay", test_retry_after_delay },
	{ "statuses", test_statuses },
	{ "retry_after_seconds", test_retry_after_seconds },
	{ "retry_after_date", test_retry_after_date },
	{ "retry_after_bad_dates", test_retry_after_bad_dates },
	{ "duration_ok", test_duration_ok },
	{ "duration_bad", test_duration_bad },
	{ NULL, NULL }
};

IDP_SUITE(retry) { unit_add_suite("retry", tests); }
