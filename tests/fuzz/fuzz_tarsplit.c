/* fuzz_tarsplit.c: libFuzzer target for common/sources/tarsplit.c. An
 * input starting with 'z' is the rest taken as the gzip'd file itself;
 * any other input is JSON lines, gzip'd here so the line parser is
 * reached. Every entry must keep the promises of tarsplit.h: a file with
 * bytes has a name that is relative and does not climb, sizes are in
 * range, a segment fits in a line; an error has a class and a message. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "sources/blobsrc.h"
#include "sources/tarsplit.h"
#include "fuzz.h"

/* data gzip'd into a malloc'd buffer (*n its length). */
static unsigned char *gzip_of(const uint8_t *data, size_t size, size_t *n)
{
	z_stream zs;
	size_t cap = size + size / 8 + 256;
	unsigned char *out = malloc(cap);

	memset(&zs, 0, sizeof(zs));
	FZ_ASSERT(out && deflateInit2(&zs, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK);
	zs.next_in = (unsigned char *)data;
	zs.avail_in = (uInt)size;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	FZ_ASSERT(deflate(&zs, Z_FINISH) == Z_STREAM_END);
	*n = cap - zs.avail_out;
	deflateEnd(&zs);
	return out;
}

/* No component of name is "..", and it is not absolute (a model of the
 * rule, written apart from tarsplit.c's). */
static int stays_below(const char *name)
{
	const char *p = name, *q;

	if (name[0] == '/')
		return 0;
	for (; *p; p = *q ? q + 1 : q) {
		q = strchr(p, '/');
		if (!q)
			q = p + strlen(p);
		if (q - p == 2 && p[0] == '.' && p[1] == '.')
			return 0;
	}
	return 1;
}

static void check_entry(const struct idp_ts_entry *e)
{
	if (e->type == IDP_TS_SEGMENT) {
		FZ_ASSERT(e->len <= IDP_TARSPLIT_LINE_MAX);
		return;
	}
	FZ_ASSERT(e->type == IDP_TS_FILE && e->name);
	FZ_ASSERT(e->size >= 0 && e->size <= IDP_TARSPLIT_FILE_MAX);
	FZ_ASSERT(strlen(e->name) <= IDP_TARSPLIT_NAME_MAX);
	if (e->size > 0)
		FZ_ASSERT(idp_tarsplit_name_ok(e->name, strlen(e->name)) && stays_below(e->name));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_blob_reader r;
	struct idp_tarsplit *ts = NULL;
	struct idp_ts_entry e;
	unsigned char *gz;
	size_t n;
	int rc;

	if (size > 0 && data[0] == 'z') {
		gz = fz_memdup(data + 1, size - 1);
		n = size - 1;
	} else {
		gz = gzip_of(data, size, &n);
	}
	FZ_ASSERT(idp_blob_reader_mem(gz, n, &r, &err) == 0);
	FZ_ASSERT(idp_tarsplit_new(r, &ts, &err) == 0);
	while ((rc = idp_tarsplit_next(ts, &e, &err)) == 1)
		check_entry(&e);
	fz_check_err(rc, &err);
	idp_tarsplit_free(ts);
	idp_blob_reader_close(&r);
	free(gz);
	return 0;
}
