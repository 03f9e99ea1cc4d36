/* retry.c: the retry policy's arithmetic: exponential backoff with jitter,
 * which HTTP statuses are worth another try, Retry-After values
 * (delta-seconds or IMF-fixdate), and user-given durations ("1h30m"). */
#include "config.h"
#include <limits.h>
#include <string.h>
#include "retry.h"
#include "banned.h"

#define RETRY_AFTER_MAX_MS (5L * 60 * 1000)   /* never wait longer than this */
#define DURATION_MAX 64                      /* longest duration text */
#define MS_SATURATED ((LONG_MAX / 1000) * 1000)

long idp_retry_delay_ms(const struct idp_retry_policy *p, int attempt, double rnd,
			long retry_after_ms)
{
	static const struct idp_retry_policy def = IDP_RETRY_DEFAULT;
	double d, cap, factor;
	int i;

	if (!p)
		p = &def;
	d = p->initial_ms > 0 ? (double)p->initial_ms : 0.0;
	cap = p->cap_ms > 0 ? (double)p->cap_ms : (double)RETRY_AFTER_MAX_MS;
	factor = p->factor >= 1.0 ? p->factor : 1.0;   /* also catches NaN */
	/* d = initial * factor^(attempt-1), stopping once the cap is reached */
	for (i = 1; i < attempt && d < cap && factor > 1.0; i++)
		d *= factor;
	if (!(d <= cap))
		d = cap;
	if (!(rnd >= 0.0))
		rnd = 0.0;
	if (rnd > 1.0)
		rnd = 1.0;
	d = d / 2.0 + rnd * (d / 2.0);
	if (retry_after_ms >= 0) {
		if ((double)retry_after_ms > d)
			d = (double)retry_after_ms;
		if (d > (double)RETRY_AFTER_MAX_MS)
			d = (double)RETRY_AFTER_MAX_MS;
	}
	return (long)d;
}

int idp_retry_status_retryable(long status)
{
	return status == 408 || status == 429 || (status >= 500 && status <= 599 && status != 501);
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Read exactly n digits at *p into *v. */
static int digits(const char **p, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!is_digit((unsigned char)(*p)[i]))
			return -1;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return 0;
}

/* Match one of `names` (3 letters each) at *p: its index, or -1. */
static int name_index(const char **p, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (strncmp(*p, names[i], 3) == 0) {
			*p += 3;
			return i;
		}
	return -1;
}

static int lit(const char **p, const char *s)
{
	size_t n = strlen(s);

	if (strncmp(*p, s, n) != 0)
		return -1;
	*p += n;
	return 0;
}

/* IMF-fixdate (RFC 9110 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT". */
static int parse_imf_fixdate(const char *s, size_t n, time_t *out)
{
	static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	const char *p = s;
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (n != 29 || name_index(&p, days, 7) < 0 || lit(&p, ", ") ||
	    digits(&p, 2, &tm.tm_mday) || lit(&p, " ") ||
	    (tm.tm_mon = name_index(&p, months, 12)) < 0 || lit(&p, " ") ||
	    digits(&p, 4, &tm.tm_year) || lit(&p, " ") || digits(&p, 2, &tm.tm_hour) ||
	    lit(&p, ":") || digits(&p, 2, &tm.tm_min) || lit(&p, ":") ||
	    digits(&p, 2, &tm.tm_sec) || lit(&p, " GMT"))
		return -1;
	if (tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	*out = timegm(&tm);
	return *out == (time_t)-1 ? -1 : 0;
}

static int is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trim blanks (a header value may still carry its CRLF): *s and *n
 * describe what is left. */
static void trim(const char **s, size_t *n)
{
	while (is_blank((unsigned char)**s))
		(*s)++;
	*n = strlen(*s);
	while (*n && is_blank((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

static long seconds_to_ms(long long secs)
{
	if (secs <= 0)
		return 0;
	return secs > MS_SATURATED / 1000 ? MS_SATURATED : (long)(secs * 1000);
}

long idp_retry_after_parse(const char *value, time_t now)
{
	long long secs = 0;
	time_t t;
	size_t i, n;

	if (!value)
		return -1;
	trim(&value, &n);
	if (n == 0)
		return -1;
	if (is_digit((unsigned char)value[0])) {
		for (i = 0; i < n; i++) {
			if (!is_digit((unsigned char)value[i]))
				return -1;
			if (secs <= LLONG_MAX / 10 - 10)
				secs = secs * 10 + (value[i] - '0');
			else
				secs = LLONG_MAX / 10;   /* saturate */
		}
		return seconds_to_ms(secs);
	}
	if (parse_imf_fixdate(value, n, &t) < 0)
		return -1;
	return t > now ? seconds_to_ms((long long)t - (long long)now) : 0;
}

/* Unit at *p (advancing past it): its length in ms, 0 when none. */
static long long unit_ms(const char **p)
{
	if ((*p)[0] == 'm' && (*p)[1] == 's') {
		*p += 2;
		return 1;
	}
	switch (**p) {
	case 'h': (*p)++; return 3600000;
	case 'm': (*p)++; return 60000;
	case 's': (*p)++; return 1000;
	}
	return 0;
}

/* "<digits>[.<digits>]" at *p times unit (ms); -1 on syntax or overflow. */
static long long term_ms(const char **p, int bare)
{
	long long ip = 0, frac = 0, den = 1, unit, r;
	const char *s = *p;

	for (; is_digit((unsigned char)**p); (*p)++)
		if (__builtin_mul_overflow(ip, 10, &ip) ||
		    __builtin_add_overflow(ip, **p - '0', &ip))
			return -1;
	if (**p == '.')
		for ((*p)++; is_digit((unsigned char)**p); (*p)++)
			if (den < 1000000000LL) {
				frac = frac * 10 + (**p - '0');
				den *= 10;
			}
	if (*p == s || (*p == s + 1 && *s == '.'))
		return -1;
	unit = unit_ms(p);
	if (unit == 0 && !(bare && **p == '\0'))
		return -1;
	if (unit == 0)
		unit = 1000;     /* a lone number means seconds */
	if (__builtin_mul_overflow(ip, unit, &r) ||
	    __builtin_add_overflow(r, frac * unit / den, &r))
		return -1;
	return r;
}

long idp_duration_parse_ms(const char *s)
{
	char buf[DURATION_MAX + 1];
	long long total = 0, t;
	const char *p;
	size_t n;

	if (!s)
		return -1;
	trim(&s, &n);
	if (n == 0 || n > DURATION_MAX)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	for (p = buf; *p;) {
		t = term_ms(&p, p == buf);
		if (t < 0 || __builtin_add_overflow(total, t, &total) ||
		    total > IDP_DURATION_MAX_MS)
			return -1;
	}
	return (long)total;
}
