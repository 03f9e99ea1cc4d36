/* unit_main.c: runs every CUnit suite listed in the generated suites.h.
 * `unit SUITE...` runs only the named suites. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <CUnit/Basic.h>
#include "unit.h"

#undef IDP_SUITE
#define IDP_SUITE(n) void unit_suite_##n(void);
#include "suites.h"
#undef IDP_SUITE

static int unit_argc;
static char **unit_argv;

static int suite_wanted(const char *name)
{
	int i;
	if (unit_argc <= 1)
		return 1;
	for (i = 1; i < unit_argc; i++)
		if (strcmp(unit_argv[i], name) == 0)
			return 1;
	return 0;
}

void unit_add_suite(const char *name, const struct unit_test *tests)
{
	CU_pSuite s;
	if (!suite_wanted(name))
		return;
	s = CU_add_suite(name, NULL, NULL);
	if (!s) {
		fprintf(stderr, "cannot add suite %s\n", name);
		exit(2);
	}
	for (; tests->name; tests++)
		CU_add_test(s, tests->name, tests->fn);
}

const char *unit_data_path(const char *rel)
{
	static char path[4096];
	const char *top = getenv("top_srcdir");
	snprintf(path, sizeof(path), "%s/tests/data/%s", top ? top : ".", rel);
	return path;
}

char *unit_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	char *p = malloc(4096);
	if (!p)
		return NULL;
	snprintf(p, 4096, "%s/idp-unit-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(p)) {
		free(p);
		return NULL;
	}
	return p;
}

int unit_write_file(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t n = strlen(content);
	ssize_t w;
	if (fd < 0)
		return -1;
	w = write(fd, content, n);
	close(fd);
	return w == (ssize_t)n ? 0 : -1;
}

int unit_gunzip(const void *z, size_t zlen, unsigned char *out, size_t cap, size_t *n)
{
	z_stream s;
	size_t in_off = 0;
	int rc;

	*n = 0;
	while (in_off < zlen) {
		memset(&s, 0, sizeof(s));
		if (inflateInit2(&s, 15 + 16) != Z_OK)
			return -1;
		s.next_in = (unsigned char *)z + in_off;
		s.avail_in = (uInt)(zlen - in_off);
		s.next_out = out + *n;
		s.avail_out = (uInt)(cap - *n);
		rc = inflate(&s, Z_FINISH);
		in_off = zlen - s.avail_in;
		*n = cap - s.avail_out;
		inflateEnd(&s);
		if (rc != Z_STREAM_END)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned failures;

	unit_argc = argc;
	unit_argv = argv;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
#define IDP_SUITE(n) unit_suite_##n();
#include "suites.h"
#undef IDP_SUITE
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	if (CU_get_number_of_tests_run() == 0) {
		fprintf(stderr, "no unit test ran\n");
		failures = 1;
	}
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
