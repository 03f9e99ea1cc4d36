/* nearest.h: the few names closest to one that was not found, for the
 * "closest: myapp:dev, myapp:1.0" of a not-found message. A name that
 * contains the wanted one is closest of all (myapp -> myapp:dev); the
 * others go by edit distance; among equals, the first seen first. */
#ifndef IDP_NEAREST_H
#define IDP_NEAREST_H

#include <stddef.h>

#define IDP_NEAREST_MAX 3        /* names kept */
#define IDP_NEAREST_NAME 1024    /* longest name compared (longer: farthest) */

struct idp_nearest {
	const char *want;
	int n;
	size_t score[IDP_NEAREST_MAX];
	char name[IDP_NEAREST_MAX][IDP_NEAREST_NAME];
};

void idp_nearest_init(struct idp_nearest *nb, const char *want);
/* Consider name (any length; a longer one is kept truncated). */
void idp_nearest_add(struct idp_nearest *nb, const char *name);
/* The names kept, closest first, as "a, b, c" in buf ("" when none). */
const char *idp_nearest_list(const struct idp_nearest *nb, char *buf, size_t len);

#endif
