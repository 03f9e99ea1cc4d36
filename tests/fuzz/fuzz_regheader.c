/* fuzz_regheader.c: libFuzzer target for common/registry/regheader.c. Input lines:
 * a Range value, a byte count (absent: the Range line again) and the
 * count's maximum (decimal; absent: IDP_SIZE_MAX_BELIEVED). Range and
 * count are checked against a simple model of the rules in regheader.h
 * (spaces/tabs around the value, plain decimal digits, bounds). */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "registry/regheader.h"
#include "fuzz.h"

/* The model: optional spaces/tabs, digits, optional spaces/tabs; the value
 * when it is at most max, else -1. */
static int64_t model_count(const char *s, int64_t max)
{
	unsigned __int128 v = 0;
	const char *p = s;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > (unsigned __int128)1 << 64)
			v = (unsigned __int128)1 << 64;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p || max < 0 || v > (unsigned __int128)max)
		return -1;
	return (int64_t)v;
}

static int only_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '\0';
}

static int64_t model_range(const char *s)
{
	const char *p = s;
	int64_t end;

	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, "bytes=", 6) == 0)
		p += 6;
	if (p[0] != '0' || p[1] != '-')
		return -1;
	p += 2;
	if (p[0] == '-' && p[1] == '1' && only_blanks(p + 2))
		return 0;   /* "0--1" */
	if (*p == ' ' || *p == '\t')
		return -1;
	end = model_count(p, IDP_SIZE_MAX_BELIEVED - 1);
	return end < 0 ? -1 : end + 1;
}

static int64_t parse_max(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	return end == s ? IDP_SIZE_MAX_BELIEVED : (int64_t)v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_parts lines;
	const char *count;
	int64_t max, got;

	fz_split(data, size, "\n", &lines);
	got = idp_range_held(lines.p[0].s);
	FZ_ASSERT(got == model_range(lines.p[0].s));
	FZ_ASSERT(got >= -1 && got <= IDP_SIZE_MAX_BELIEVED);
	count = fz_part(&lines, 1, lines.p[0].s);
	max = parse_max(fz_part(&lines, 2, ""));
	got = idp_header_count(count, max);
	FZ_ASSERT(got == model_count(count, max));
	FZ_ASSERT(idp_range_held(NULL) == -1 && idp_header_count(NULL, max) == -1);
	fz_parts_free(&lines);
	return 0;
}
