/* unit.h: shared bits of the CUnit unit tests. Each tests/unit/test_<module>.c
 * ends with a line starting `IDP_SUITE(<module>)` followed by a body that
 * calls unit_add_suite(); suites.h is generated from those lines. */
#ifndef IDP_UNIT_H
#define IDP_UNIT_H

#include <stddef.h>
#include <CUnit/CUnit.h>

struct unit_test {
	const char *name;
	CU_TestFunc fn;
};

#define IDP_SUITE(name) void unit_suite_##name(void); void unit_suite_##name(void)

/* Register a suite of tests (array ends with {NULL, NULL}). */
void unit_add_suite(const char *name, const struct unit_test *tests);

/* Path of a fixture under tests/data (uses $top_srcdir, else "."); static buffer. */
const char *unit_data_path(const char *rel);

/* A fresh private temp dir (mkdtemp under $TMPDIR); static buffer per call site
 * is not kept: the caller copies it. Removed by the test itself. */
char *unit_tmpdir(void);

/* Write a file (creating it 0600); returns 0/-1. */
int unit_write_file(const char *path, const char *content);

/* Decompress every gzip member of z[0..zlen) into out[0..cap), as
 * `gzip -d` does; *n gets the length. 0, or -1 when it is not gzip or
 * does not fit. */
int unit_gunzip(const void *z, size_t zlen, unsigned char *out, size_t cap, size_t *n);

#endif
