/* regheader.c: strict parsing of Range and byte-count headers
 * (regheader.h). */
#include "config.h"
#include <string.h>
#include "regheader.h"
#include "banned.h"

/* Decimal digits at *p, at most max; advances *p. -1 when none or too big
 * (a negative max allows nothing). */
static int64_t digits(const char **p, int64_t max)
{
	int64_t v = 0;
	const char *s = *p;
	int d;

	if (*s < '0' || *s > '9' || max < 0)
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		d = *s - '0';
		if (d > max || v > (max - d) / 10)   /* max - d >= 0: the division floors */
			return -1;
		v = v * 10 + d;
	}
	*p = s;
	return v;
}

static const char *skip_spaces(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

int64_t idp_range_held(const char *range)
{
	const char *p;
	int64_t end;

	if (!range)
		return -1;
	p = skip_spaces(range);
	if (strncmp(p, "bytes=", 6) == 0)
		p += 6;
	if (p[0] != '0' || p[1] != '-')
		return -1;
	p += 2;
	if (p[0] == '-' && p[1] == '1' && !*skip_spaces(p + 2))
		return 0;   /* "0--1": nothing held */
	if ((end = digits(&p, IDP_SIZE_MAX_BELIEVED - 1)) < 0 || *skip_spaces(p))
		return -1;
	return end + 1;
}

int64_t idp_header_count(const char *value, int64_t max)
{
	const char *p;
	int64_t v;

	if (!value)
		return -1;
	p = skip_spaces(value);
	if ((v = digits(&p, max)) < 0 || *skip_spaces(p))
		return -1;
	return v;
}
