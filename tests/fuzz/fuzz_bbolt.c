/* fuzz_bbolt.c: libFuzzer target for common/sources/bbolt.c. Opens the input as a
 * bbolt image, walks every bucket recursively with idp_bolt_each (touching
 * every key and value byte), and does a few gets and bucket paths. Any error
 * must come with a message. Built like every target here (`make fuzz`,
 * `make fuzz-run FUZZ=bbolt`; `make check` replays tests/fuzz/corpus/bbolt).
 * The unit tests write their hand-built databases as more seeds:
 *
 *   mkdir -p B/seeds && IDP_BBOLT_SEEDS=B/seeds B/tests/unit/unit bbolt
 *   cp /var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db B/seeds/  # optional
 *   B/tests/fuzz/bin/fuzz_bbolt -max_total_time=120 B/work B/seeds
 */
#include "config.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "sources/bbolt.h"

#define MAX_NEST 12        /* bucket nesting we follow */
#define BUDGET 20000       /* callbacks per input */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct walk {
	struct idp_bolt *db;
	struct idp_bolt_bucket b;
	int depth;
	long *budget;
	unsigned *sink;
	struct idp_error *err;
};

static void must_have_msg(int r, const struct idp_error *err)
{
	if (r == -1 && err->msg[0] == '\0')
		__builtin_trap();
}

static void touch(const unsigned char *p, size_t n, unsigned *sink)
{
	size_t i;

	for (i = 0; i < n; i++)
		*sink += p[i];
}

static int walk_cb(void *ctx, const unsigned char *k, size_t kl, const unsigned char *v, size_t vl,
		   int is_bucket);

static void walk_value(struct walk *w, const unsigned char *k, size_t kl, const unsigned char *v,
		       size_t vl)
{
	const unsigned char *gv;
	size_t gl;
	int64_t x;

	touch(v, vl, w->sink);
	*w->sink += (unsigned)idp_bolt_varint(v, vl, &x);
	if (idp_bolt_get(w->db, &w->b, (const char *)k, kl, &gv, &gl, w->err) == 1)
		touch(gv, gl, w->sink);
}

static int walk_bucket(struct walk *w, const unsigned char *k, size_t kl)
{
	struct walk sub = *w;
	int r;

	if (w->depth >= MAX_NEST)
		return 0;
	idp_error_clear(w->err);
	r = idp_bolt_bucket(w->db, &w->b, (const char *)k, kl, &sub.b, w->err);
	must_have_msg(r, w->err);
	if (r != 1)
		return 0;
	sub.depth++;
	idp_error_clear(w->err);
	r = idp_bolt_each(w->db, &sub.b, walk_cb, &sub, w->err);
	must_have_msg(r, w->err);
	return r == 1 ? 1 : 0;     /* 1: budget spent, stop everything */
}

static int walk_cb(void *ctx, const unsigned char *k, size_t kl, const unsigned char *v, size_t vl,
		   int is_bucket)
{
	struct walk *w = ctx;

	if (--*w->budget < 0)
		return 1;
	touch(k, kl, w->sink);
	if (!is_bucket) {
		walk_value(w, k, kl, v, vl);
		return 0;
	}
	if (v != NULL || vl != 0)
		__builtin_trap();
	return walk_bucket(w, k, kl);
}

static void some_gets(struct idp_bolt *db, unsigned *sink, struct idp_error *err)
{
	static const char *const path[5] = { "v1", "default", "images", "content", "blob" };
	struct idp_bolt_bucket b;
	const unsigned char *v;
	size_t vl;
	int r, n;

	for (n = 1; n <= 3; n++) {
		idp_error_clear(err);
		r = idp_bolt_bucket_path(db, path, n, &b, err);
		must_have_msg(r, err);
	}
	idp_bolt_root(db, &b);
	idp_error_clear(err);
	r = idp_bolt_get(db, &b, "a", 1, &v, &vl, err);
	must_have_msg(r, err);
	if (r == 1)
		touch(v, vl, sink);
	if (idp_bolt_bucket_path(db, path, 1, &b, err) == 1) {
		idp_error_clear(err);
		r = idp_bolt_get(db, &b, "version", 7, &v, &vl, err);
		must_have_msg(r, err);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_bolt *db = NULL;
	long budget = BUDGET;
	unsigned sink = 0;
	struct walk w;
	int r;

	r = idp_bolt_open_mem(data, size, &db, &err);
	must_have_msg(r, &err);
	if (r < 0)
		return 0;
	w = (struct walk){ db, { 0, NULL, 0 }, 0, &budget, &sink, &err };
	idp_bolt_root(db, &w.b);
	idp_error_clear(&err);
	r = idp_bolt_each(db, &w.b, walk_cb, &w, &err);
	must_have_msg(r, &err);
	some_gets(db, &sink, &err);
	idp_bolt_close(db);
	return (int)(sink & 0);
}
