/* nearest.c: keeping the names closest to a wanted one (nearest.h). */
#include "config.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "nearest.h"
#include "banned.h"

void idp_nearest_init(struct idp_nearest *nb, const char *want)
{
	memset(nb, 0, sizeof(*nb));
	nb->want = want;
}

static size_t smallest(size_t a, size_t b, size_t c)
{
	if (b < a)
		a = b;
	return c < a ? c : a;
}

/* Levenshtein distance with one row; SIZE_MAX when either is too long. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, diag, above;
	size_t row[IDP_NEAREST_NAME + 1];

	if (la > IDP_NEAREST_NAME || lb > IDP_NEAREST_NAME)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			above = row[j];
			row[j] = a[i - 1] == b[j - 1] ? diag
						      : 1 + smallest(diag, above, row[j - 1]);
			diag = above;
		}
	}
	return row[lb];
}

void idp_nearest_add(struct idp_nearest *nb, const char *name)
{
	size_t s = strstr(name, nb->want) ? 0 : distance(name, nb->want);
	int at = nb->n < IDP_NEAREST_MAX ? nb->n : IDP_NEAREST_MAX - 1;

	if (nb->n == IDP_NEAREST_MAX && s >= nb->score[at])
		return;
	for (; at > 0 && nb->score[at - 1] > s; at--) {
		nb->score[at] = nb->score[at - 1];
		memcpy(nb->name[at], nb->name[at - 1], IDP_NEAREST_NAME);
	}
	nb->score[at] = s;
	snprintf(nb->name[at], IDP_NEAREST_NAME, "%s", name);
	if (nb->n < IDP_NEAREST_MAX)
		nb->n++;
}

const char *idp_nearest_list(const struct idp_nearest *nb, char *buf, size_t len)
{
	size_t o = 0;
	int i;

	if (len)
		buf[0] = '\0';
	for (i = 0; i < nb->n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", nb->name[i]);
	return buf;
}
