/* test_bbolt.c: the bbolt reader on tiny databases built here byte by byte
 * (two metas, a branch root, leaves, an overflow page, a sub-bucket, an
 * inline bucket) and on corrupt variants of them, each of which must fail
 * with a clear message and never crash or loop. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "unit.h"
#include "sources/bbolt.h"

/* ---- a test-only builder ---- */

#define NPAGES 11
#define BIGLEN 1500     /* value of "z": needs page 6's overflow page */

struct ent {
	uint32_t flags;     /* 1 = sub-bucket */
	const char *k;
	const void *v;
	size_t vlen;
};

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}
static void put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}
static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static void put_hdr(unsigned char *pg, uint64_t id, uint16_t flags, uint16_t count, uint32_t ovf)
{
	put64(pg, id);
	put16(pg + 8, flags);
	put16(pg + 10, count);
	put32(pg + 12, ovf);
}

static uint64_t fnv(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ull;
	}
	return h;
}

static void put_meta(unsigned char *db, uint32_t ps, unsigned which, uint64_t root, uint64_t txid)
{
	unsigned char *pg = db + (size_t)which * ps, *m = pg + 16;

	put_hdr(pg, which, 0x04, 0, 0);
	put32(m, 0xED0CDAEDu);
	put32(m + 4, 2);
	put32(m + 8, ps);
	put32(m + 12, 0);
	put64(m + 16, root);
	put64(m + 24, 0);
	put64(m + 32, 2);            /* freelist page */
	put64(m + 40, NPAGES);       /* pgid */
	put64(m + 48, txid);
	put64(m + 56, fnv(m, 56));
}

/* A leaf page image; returns the bytes used. */
static size_t put_leaf(unsigned char *pg, uint64_t id, uint32_t ovf, const struct ent *e,
		       unsigned n)
{
	size_t data = 16 + 16 * (size_t)n, off, kl;
	unsigned i;

	put_hdr(pg, id, 0x02, (uint16_t)n, ovf);
	for (i = 0; i < n; i++) {
		off = 16 + 16 * (size_t)i;
		kl = strlen(e[i].k);
		put32(pg + off, e[i].flags);
		put32(pg + off + 4, (uint32_t)(data - off));
		put32(pg + off + 8, (uint32_t)kl);
		put32(pg + off + 12, (uint32_t)e[i].vlen);
		memcpy(pg + data, e[i].k, kl);
		memcpy(pg + data + kl, e[i].v, e[i].vlen);
		data += kl + e[i].vlen;
	}
	return data;
}

static void put_branch(unsigned char *pg, uint64_t id, const char *const *keys,
		       const uint64_t *kids, unsigned n)
{
	size_t data = 16 + 16 * (size_t)n, off, kl;
	unsigned i;

	put_hdr(pg, id, 0x01, (uint16_t)n, 0);
	for (i = 0; i < n; i++) {
		off = 16 + 16 * (size_t)i;
		kl = strlen(keys[i]);
		put32(pg + off, (uint32_t)(data - off));
		put32(pg + off + 4, (uint32_t)kl);
		put64(pg + off + 8, kids[i]);
		memcpy(pg + data, keys[i], kl);
		data += kl;
	}
}

/* A bucket value {root, sequence} (+ an inline leaf when root is 0). */
static size_t bucket_val(unsigned char *v, uint64_t root, const struct ent *e, unsigned n)
{
	memset(v, 0, 16);
	put64(v, root);
	return root ? 16 : 16 + put_leaf(v + 16, 0, 0, e, n);
}

/* Pages: 0,1 metas (meta1 newer, root 4; meta0 older, root 3); 2 freelist;
 * 3 old root leaf; 4 branch root {"a"->5, "m"->6}; 5 leaf {a, b->8, c inline};
 * 6+7 leaf with overflow {m, v1->9, z=BIGLEN bytes}; 8 leaf {k1, k2};
 * 9 leaf {default->10}; 10 leaf {images inline {n1}, version}. */
static unsigned char *build_db(uint32_t ps, size_t *len)
{
	unsigned char *db = calloc(NPAGES, ps), vb[16], vc[128], vv[16], vd[16], vi[128],
		      big[BIGLEN];
	static const char *const bkeys[2] = { "a", "m" };
	static const uint64_t bkids[2] = { 5, 6 };
	const struct ent in_c[2] = { { 0, "x", "1", 1 }, { 0, "y", "22", 2 } };
	const struct ent in_i[1] = { { 0, "n1", "img", 3 } };
	const struct ent old[1] = { { 0, "old", "yes", 3 } };
	const struct ent l8[2] = { { 0, "k1", "v-one", 5 }, { 0, "k2", "v-two", 5 } };
	struct ent l5[3] = { { 0, "a", "apple", 5 }, { 1, "b", vb, 0 }, { 1, "c", vc, 0 } };
	struct ent l6[3] = { { 0, "m", "melon", 5 }, { 1, "v1", vv, 0 }, { 0, "z", big, BIGLEN } };
	struct ent l9[1] = { { 1, "default", vd, 0 } };
	struct ent l10[2] = { { 1, "images", vi, 0 }, { 0, "version", "\x06", 1 } };

	memset(big, 'Z', sizeof(big));
	l5[1].vlen = bucket_val(vb, 8, NULL, 0);
	l5[2].vlen = bucket_val(vc, 0, in_c, 2);
	l6[1].vlen = bucket_val(vv, 9, NULL, 0);
	l9[0].vlen = bucket_val(vd, 10, NULL, 0);
	l10[0].vlen = bucket_val(vi, 0, in_i, 1);
	put_meta(db, ps, 0, 3, 1);
	put_meta(db, ps, 1, 4, 2);
	put_hdr(db + 2 * ps, 2, 0x10, 0, 0);
	put_leaf(db + 3 * ps, 3, 0, old, 1);
	put_branch(db + 4 * ps, 4, bkeys, bkids, 2);
	put_leaf(db + 5 * ps, 5, 0, l5, 3);
	put_leaf(db + 6 * ps, 6, 1, l6, 3);
	put_leaf(db + 8 * ps, 8, 0, l8, 2);
	put_leaf(db + 9 * ps, 9, 0, l9, 1);
	put_leaf(db + 10 * ps, 10, 0, l10, 2);
	*len = (size_t)NPAGES * ps;
	return db;
}

#define PS 1024u
#define PG(db, id) ((db) + (size_t)(id) * PS)

/* ---- helpers ---- */

static int get_str(struct idp_bolt *db, const struct idp_bolt_bucket *b, const char *k, char *out,
		   size_t outsz, struct idp_error *err)
{
	const unsigned char *v;
	size_t vl;
	int r = idp_bolt_get(db, b, k, strlen(k), &v, &vl, err);

	out[0] = '\0';
	if (r == 1)
		snprintf(out, outsz, "%.*s", (int)vl, (const char *)v);
	return r;
}

struct collect {
	char keys[256];
	int n, stop_at;
};

static int collect_cb(void *ctx, const unsigned char *k, size_t kl, const unsigned char *v,
		      size_t vl, int is_bucket)
{
	struct collect *c = ctx;
	size_t len = strlen(c->keys);

	snprintf(c->keys + len, sizeof(c->keys) - len, "%s%.*s%s", len ? "," : "", (int)kl,
		 (const char *)k, is_bucket ? "/" : "");
	CU_ASSERT_EQUAL(is_bucket, v == NULL);
	if (++c->n == c->stop_at)
		return 42;
	return 0;
}

/* Open a mutated image expecting success; returns db or NULL (asserts). */
static struct idp_bolt *open_ok(const unsigned char *img, size_t len)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_bolt *db = NULL;

	CU_ASSERT_EQUAL(idp_bolt_open_mem(img, len, &db, &err), 0);
	if (!db)
		fprintf(stderr, "open: %s\n", err.msg);
	return db;
}

/* Expect `get key` in bucket `bname` (NULL: the root) to fail with `msg`. */
static void expect_fail_in(const unsigned char *img, size_t len, const char *bname, const char *key,
			   const char *msg)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_bolt_bucket b;
	struct idp_bolt *db = open_ok(img, len);
	const unsigned char *v;
	size_t vl;

	if (!db)
		return;
	idp_bolt_root(db, &b);
	if (bname)
		CU_ASSERT_EQUAL_FATAL(idp_bolt_bucket(db, &b, bname, strlen(bname), &b, &err), 1);
	CU_ASSERT_EQUAL(idp_bolt_get(db, &b, key, strlen(key), &v, &vl, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, msg));
	if (!strstr(err.msg, msg))
		fprintf(stderr, "got \"%s\", wanted \"%s\"\n", err.msg, msg);
	idp_bolt_close(db);
}

static void expect_get_fails(const unsigned char *img, size_t len, const char *key, const char *msg)
{
	expect_fail_in(img, len, NULL, key, msg);
}

static void expect_open_fails(const unsigned char *img, size_t len, const char *msg)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_bolt *db = (struct idp_bolt *)1;

	CU_ASSERT_EQUAL(idp_bolt_open_mem(img, len, &db, &err), -1);
	CU_ASSERT_PTR_NULL(db);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, msg));
}

static void path_absent(struct idp_bolt *db)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_bolt_bucket b;
	static const char *const p1[2] = { "v1", "nope" };
	static const char *const p2[2] = { "a", "x" };

	CU_ASSERT_EQUAL(idp_bolt_bucket_path(db, p1, 2, &b, &err), 0);
	CU_ASSERT_EQUAL(idp_bolt_bucket_path(db, p2, 2, &b, &err), 0);
	CU_ASSERT_EQUAL(idp_bolt_bucket_path(db, p1, 0, &b, &err), 1);  /* the root */
	CU_ASSERT_EQUAL(b.root, 4);
}

/* Every read the good database supports, on an open handle. */
static void check_good(struct idp_bolt *db)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_bolt_bucket root, b, c;
	static const char *const path[3] = { "v1", "default", "images" };
	struct collect col = { "", 0, 0 };
	const unsigned char *v;
	char s[2048];
	size_t vl;
	int64_t ver;

	idp_bolt_root(db, &root);
	CU_ASSERT_EQUAL(get_str(db, &root, "a", s, sizeof(s), &err), 1);
	CU_ASSERT_STRING_EQUAL(s, "apple");
	CU_ASSERT_EQUAL(get_str(db, &root, "m", s, sizeof(s), &err), 1);
	CU_ASSERT_STRING_EQUAL(s, "melon");
	CU_ASSERT_EQUAL(idp_bolt_get(db, &root, "z", 1, &v, &vl, &err), 1);
	CU_ASSERT_EQUAL(vl, BIGLEN);
	CU_ASSERT(vl == BIGLEN && v[0] == 'Z' && v[BIGLEN - 1] == 'Z');
	CU_ASSERT_EQUAL(get_str(db, &root, "0", s, sizeof(s), &err), 0);   /* before all */
	CU_ASSERT_EQUAL(get_str(db, &root, "ab", s, sizeof(s), &err), 0);
	CU_ASSERT_EQUAL(get_str(db, &root, "zz", s, sizeof(s), &err), 0);  /* after all */
	CU_ASSERT_EQUAL(get_str(db, &root, "b", s, sizeof(s), &err), 0);   /* a bucket */
	CU_ASSERT_EQUAL(idp_bolt_bucket(db, &root, "a", 1, &b, &err), 0);  /* a value */
	CU_ASSERT_EQUAL(idp_bolt_bucket(db, &root, "b", 1, &b, &err), 1);
	CU_ASSERT_EQUAL(b.root, 8);
	CU_ASSERT_EQUAL(get_str(db, &b, "k2", s, sizeof(s), &err), 1);
	CU_ASSERT_STRING_EQUAL(s, "v-two");
	CU_ASSERT_EQUAL(idp_bolt_bucket(db, &root, "c", 1, &c, &err), 1);
	CU_ASSERT(c.root == 0 && c.inline_page != NULL);
	CU_ASSERT_EQUAL(get_str(db, &c, "y", s, sizeof(s), &err), 1);
	CU_ASSERT_STRING_EQUAL(s, "22");
	CU_ASSERT_EQUAL(idp_bolt_bucket_path(db, path, 3, &b, &err), 1);
	CU_ASSERT_EQUAL(get_str(db, &b, "n1", s, sizeof(s), &err), 1);
	CU_ASSERT_STRING_EQUAL(s, "img");
	CU_ASSERT_EQUAL(idp_bolt_bucket_path(db, path, 2, &b, &err), 1);
	CU_ASSERT_EQUAL(idp_bolt_get(db, &b, "version", 7, &v, &vl, &err), 1);
	CU_ASSERT(idp_bolt_varint(v, vl, &ver) == 1 && ver == 3);
	path_absent(db);
	CU_ASSERT_EQUAL(idp_bolt_each(db, &root, collect_cb, &col, &err), 0);
	CU_ASSERT_STRING_EQUAL(col.keys, "a,b/,c/,m,v1/,z");
	CU_ASSERT_STRING_EQUAL(err.msg, "");
}

/* ---- good databases ---- */

/* With IDP_BBOLT_SEEDS=DIR, keep a copy of an image as a fuzz seed. */
static void save_seed(const unsigned char *img, size_t len, const char *name)
{
	const char *dir = getenv("IDP_BBOLT_SEEDS");
	char path[4096];
	FILE *f;

	if (!dir || !*dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(img, 1, len, f), len);
	CU_ASSERT_EQUAL(fclose(f), 0);
}

static void test_good_mem(void)
{
	size_t len;
	unsigned char *img = build_db(PS, &len);
	struct idp_bolt *db = open_ok(img, len);

	if (db)
		check_good(db);
	idp_bolt_close(db);
	save_seed(img, len, "handmade-1k.db");
	free(img);
}

static void test_good_file_4k(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_bolt *db = NULL;
	size_t len;
	unsigned char *img = build_db(4096, &len);
	char *dir = unit_tmpdir(), path[4200];
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	snprintf(path, sizeof(path), "%s/meta.db", dir);
	f = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(img, 1, len, f), len);
	CU_ASSERT_EQUAL(fclose(f), 0);
	CU_ASSERT_EQUAL(idp_bolt_open(path, &db, &err), 0);
	if (db)
		check_good(db);
	idp_bolt_close(db);
	save_seed(img, len, "handmade-4k.db");
	unlink(path);
	rmdir(dir);
	free(dir);
	free(img);
}

static void test_open_missing(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_bolt *db = NULL;

	CU_ASSERT_EQUAL(idp_bolt_open("/nonexistent/meta.db", &db, &err), -1);
	CU_ASSERT_PTR_NULL(db);
	CU_ASSERT_EQUAL(err.cls, IDP_ENOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/nonexistent/meta.db"));
	CU_ASSERT_EQUAL(idp_bolt_open("/", &db, &err), -1);
	CU_ASSERT_PTR_NULL(db);
}

static void test_each_stops_and_inline(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_bolt_bucket root, c;
	struct collect col = { "", 0, 2 };
	size_t len;
	unsigned char *img = build_db(PS, &len);
	struct idp_bolt *db = open_ok(img, len);

	if (db) {
		idp_bolt_root(db, &root);
		CU_ASSERT_EQUAL(idp_bolt_each(db, &root, collect_cb, &col, &err), 42);
		CU_ASSERT_STRING_EQUAL(col.keys, "a,b/");
		CU_ASSERT_EQUAL(idp_bolt_bucket(db, &root, "c", 1, &c, &err), 1);
		col = (struct collect){ "", 0, 0 };
		CU_ASSERT_EQUAL(idp_bolt_each(db, &c, collect_cb, &col, &err), 0);
		CU_ASSERT_STRING_EQUAL(col.keys, "x,y");
	}
	idp_bolt_close(db);
	free(img);
}

static void test_varint(void)
{
	int64_t v = 0;

	CU_ASSERT(idp_bolt_varint((const unsigned char *)"\xa4\x06", 2, &v) == 2 && v == 402);
	CU_ASSERT(idp_bolt_varint((const unsigned char *)"\x01", 1, &v) == 1 && v == -1);
	CU_ASSERT(idp_bolt_varint((const unsigned char *)"\x00", 1, &v) == 1 && v == 0);
	CU_ASSERT(idp_bolt_varint((const unsigned char *)"\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01",
				  10, &v) == 10 &&
		  v == INT64_MAX);
	CU_ASSERT(idp_bolt_varint((const unsigned char *)"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
				  10, &v) == 10 &&
		  v == INT64_MIN);
	CU_ASSERT_EQUAL(
		idp_bolt_varint((const unsigned char *)"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02",
				10, &v),
		0);
	CU_ASSERT_EQUAL(
		idp_bolt_varint(
			(const unsigned char *)"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11,
			&v),
		0);
	CU_ASSERT_EQUAL(idp_bolt_varint((const unsigned char *)"\xa4", 1, &v), 0);
	CU_ASSERT_EQUAL(idp_bolt_varint(NULL, 0, &v), 0);
}

/* ---- meta selection ---- */

static void check_root_page(const unsigned char *img, size_t len, uint64_t want)
{
	struct idp_bolt_bucket root;
	struct idp_bolt *db = open_ok(img, len);

	if (!db)
		return;
	idp_bolt_root(db, &root);
	CU_ASSERT_EQUAL(root.root, want);
	idp_bolt_close(db);
}

static void test_meta_choice(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_bolt_bucket root;
	size_t len;
	unsigned char *img = build_db(PS, &len);
	struct idp_bolt *db;
	char s[16];

	PG(img, 1)[16 + 56] ^= 1;               /* meta1 (newer) checksum bad */
	db = open_ok(img, len);
	if (db) {                                /* -> meta0's root, page 3 */
		idp_bolt_root(db, &root);
		CU_ASSERT_EQUAL(root.root, 3);
		CU_ASSERT_EQUAL(get_str(db, &root, "old", s, sizeof(s), &err), 1);
		idp_bolt_close(db);
	}
	PG(img, 1)[16 + 56] ^= 1;
	put64(PG(img, 0) + 16 + 48, 5);          /* meta0 newer, but checksum bad */
	check_root_page(img, len, 4);
	put64(PG(img, 0) + 16 + 56, fnv(PG(img, 0) + 16, 56));
	check_root_page(img, len, 3);            /* now valid: the higher txid */
	free(img);
}

static void test_meta0_bad_probes_meta1(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_bolt_bucket root;
	size_t len;
	unsigned char *img = build_db(16384, &len);
	struct idp_bolt *db;
	char s[16];

	memset(img, 0, 80);                      /* meta0 gone entirely */
	db = open_ok(img, len);
	if (db) {
		idp_bolt_root(db, &root);
		CU_ASSERT_EQUAL(get_str(db, &root, "m", s, sizeof(s), &err), 1);
		idp_bolt_close(db);
	}
	free(img);
}

static void test_bad_metas(void)
{
	size_t len;
	unsigned char *img = build_db(PS, &len);

	expect_open_fails(img, 0, "no valid meta page");
	expect_open_fails(NULL, 0, "no valid meta page");
	expect_open_fails(img, 50, "no valid meta page");
	img[16] ^= 0xff;                         /* magic */
	PG(img, 1)[16] ^= 0xff;
	expect_open_fails(img, len, "no valid meta page");
	free(img);
	img = build_db(PS, &len);
	PG(img, 0)[16 + 4] = 3;                  /* version; meta1 page size wrong */
	put32(PG(img, 1) + 16 + 8, 3000);
	put64(PG(img, 1) + 16 + 56, fnv(PG(img, 1) + 16, 56));
	expect_open_fails(img, len, "no valid meta page");
	free(img);
	img = build_db(PS, &len);
	PG(img, 0)[8] = 0x02;                    /* meta0 page flags; meta1 id */
	PG(img, 1)[0] = 7;
	expect_open_fails(img, len, "no valid meta page");
	free(img);
}

/* ---- corrupt pages ---- */

static void test_page_id_mismatch(void)
{
	size_t len;
	unsigned char *img = build_db(PS, &len);

	put64(PG(img, 5), 99);
	expect_get_fails(img, len, "a", "page 5: id field does not match");
	free(img);
}

static void test_bad_flags(void)
{
	size_t len;
	unsigned char *img = build_db(PS, &len);

	put16(PG(img, 8) + 8, 0x03);
	expect_fail_in(img, len, "b", "k1", "page 8: not a branch or leaf page");
	free(img);
	img = build_db(PS, &len);
	put64(PG(img, 4) + 16 + 8, 2);           /* branch -> freelist page */
	expect_get_fails(img, len, "a", "page 2: not a branch or leaf page");
	put64(PG(img, 4) + 16 + 8, 1);           /* -> a meta page */
	expect_get_fails(img, len, "a", "page 1: page id out of range");
	put64(PG(img, 4) + 16 + 8, NPAGES);      /* -> beyond pgid */
	expect_get_fails(img, len, "a", "page id out of range");
	put64(PG(img, 4) + 16 + 8, UINT64_MAX);
	expect_get_fails(img, len, "a", "page id out of range");
	free(img);
}

static void test_elements_out_of_bounds(void)
{
	size_t len;
	unsigned char *img = build_db(PS, &len);

	put32(PG(img, 8) + 16 + 4, 5000);        /* k1's pos */
	expect_fail_in(img, len, "b", "k1", "page 8: element extends past the page");
	free(img);
	img = build_db(PS, &len);
	put32(PG(img, 5) + 16 + 12, 0xfffffff0u); /* a's vsize */
	expect_get_fails(img, len, "a", "page 5: element extends past the page");
	put32(PG(img, 5) + 16 + 12, 5);
	put16(PG(img, 5) + 10, 100);              /* count */
	expect_get_fails(img, len, "a", "page 5: element count does not fit");
	free(img);
	img = build_db(PS, &len);
	put32(PG(img, 4) + 16 + 16 + 4, 2000);   /* branch key size */
	expect_get_fails(img, len, "a", "page 4: element extends past the page");
	put32(PG(img, 4) + 16 + 16 + 4, 1);
	put16(PG(img, 4) + 10, 0);                /* empty branch */
	expect_get_fails(img, len, "a", "page 4: empty branch page");
	free(img);
}

static void test_overflow_past_eof(void)
{
	size_t len;
	unsigned char *img = build_db(PS, &len);

	put32(PG(img, 6) + 12, 100);
	expect_get_fails(img, len, "m", "page 6: overflow runs past the end");
	put32(PG(img, 6) + 12, 0xffffffffu);
	expect_get_fails(img, len, "m", "page 6: overflow runs past the end");
	free(img);
}

/* Walking the whole tree from the root must fail with msg in the error. */
static void expect_each_fails(const unsigned char *img, size_t len, const char *msg)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_bolt_bucket root;
	struct collect col = { "", 0, 0 };
	struct idp_bolt *db = open_ok(img, len);

	if (!db)
		return;
	idp_bolt_root(db, &root);
	CU_ASSERT_EQUAL(idp_bolt_each(db, &root, collect_cb, &col, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, msg));
	idp_bolt_close(db);
}

static void test_cycle(void)
{
	size_t len;
	unsigned char *img = build_db(PS, &len);

	put64(PG(img, 4) + 16 + 16 + 8, 4);      /* "m" -> the branch itself */
	expect_get_fails(img, len, "m", "page 4: tree too deep");
	expect_each_fails(img, len, "page 4:");
	put64(PG(img, 4) + 16 + 8, 4);           /* both children: itself */
	expect_each_fails(img, len, "(a cycle?)");
	free(img);
}

static void test_overlapping_pages(void)
{
	size_t len;
	unsigned char *img = build_db(PS, &len);

	put32(PG(img, 3) + 12, 7);               /* old leaf claims pages 3..10 */
	put32(PG(img, 5) + 12, 5);               /* leaf "a" claims 5..10 */
	put64(PG(img, 4) + 16 + 8, 3);
	put64(PG(img, 4) + 16 + 16 + 8, 5);
	expect_each_fails(img, len, "page 5: pages overlap");
	free(img);
}

static void test_truncated(void)
{
	size_t len;
	unsigned char *img = build_db(PS, &len);

	expect_get_fails(img, 6 * PS + 100, "m", "page 6: page is past the end");
	expect_get_fails(img, 7 * PS, "m", "page 6: overflow runs past the end");
	expect_get_fails(img, PS + 80, "a", "page 4: page is past the end");
	free(img);
}

static void test_bad_buckets(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_bolt_bucket root, b;
	size_t len;
	unsigned char *img = build_db(PS, &len);
	unsigned char *c = PG(img, 5) + 16 + 48 + 1 + 5 + 1 + 16 + 1;   /* c's value */
	struct idp_bolt *db;

	put16(c + 16 + 8, 0x01);                 /* inline page flagged branch */
	db = open_ok(img, len);
	if (db) {
		idp_bolt_root(db, &root);
		CU_ASSERT_EQUAL(idp_bolt_bucket(db, &root, "c", 1, &b, &err), 1);
		CU_ASSERT_EQUAL(idp_bolt_get(db, &b, "x", 1, &(const unsigned char *){ NULL },
					     &(size_t){ 0 }, &err), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "inline bucket is not a plain leaf"));
		put16(c + 16 + 8, 0x02);
		put16(c + 16 + 10, 3);            /* count past the inline image */
		idp_bolt_close(db);
	}
	db = open_ok(img, len);
	if (db) {
		idp_bolt_root(db, &root);
		CU_ASSERT_EQUAL(idp_bolt_bucket(db, &root, "c", 1, &b, &err), 1);
		CU_ASSERT_EQUAL(
			idp_bolt_each(db, &b, collect_cb, &(struct collect){ "", 0, 0 }, &err), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "element count does not fit"));
		idp_bolt_close(db);
	}
	free(img);
}

static void test_short_bucket_value(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_bolt_bucket root, b;
	size_t len;
	unsigned char *img = build_db(PS, &len);
	struct idp_bolt *db;

	put32(PG(img, 5) + 16 + 16 + 12, 8);     /* b's vsize */
	db = open_ok(img, len);
	if (db) {
		idp_bolt_root(db, &root);
		CU_ASSERT_EQUAL(idp_bolt_bucket(db, &root, "b", 1, &b, &err), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "value too short"));
		idp_bolt_close(db);
	}
	free(img);
}

static const struct unit_test tests[] = {
	{ "good_mem", test_good_mem },
	{ "good_file_4k", test_good_file_4k },
	{ "open_missing", test_open_missing },
	{ "each_stops_and_inline", test_each_stops_and_inline },
	{ "varint", test_varint },
	{ "meta_choice", test_meta_choice },
	{ "meta0_bad_probes_meta1", test_meta0_bad_probes_meta1 },
	{ "bad_metas", test_bad_metas },
	{ "page_id_mismatch", test_page_id_mismatch },
	{ "bad_flags", test_bad_flags },
	{ "elements_out_of_bounds", test_elements_out_of_bounds },
	{ "overflow_past_eof", test_overflow_past_eof },
	{ "cycle", test_cycle },
	{ "overlapping_pages", test_overlapping_pages },
	{ "truncated", test_truncated },
	{ "bad_buckets", test_bad_buckets },
	{ "short_bucket_value", test_short_bucket_value },
	{ NULL, NULL }
};

IDP_SUITE(bbolt) { unit_add_suite("bbolt", tests); }
