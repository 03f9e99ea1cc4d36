/* bbolt.c: a read-only bbolt reader (see bbolt.h). Pages are read with
 * pread (or copied from an in-memory image), validated once (id, flags,
 * overflow, element bounds) and kept in a per-handle cache until close, so
 * every pointer handed out stays valid while the handle is open. The cache
 * may hold at most the file's size: valid pages never overlap. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bbolt.h"
#include "banned.h"

#define BOLT_MAGIC 0xED0CDAEDu
#define BOLT_VERSION 2u
#define PAGE_HDR 16u
#define ELEM_SIZE 16u
#define META_SIZE 64u              /* magic .. checksum */
#define META_SUMMED 56u            /* bytes covered by the checksum */
#define FLAG_BRANCH 0x01u
#define FLAG_LEAF 0x02u
#define FLAG_META 0x04u
#define LEAF_BUCKET 0x01u          /* leaf element flag: a sub-bucket */
#define BUCKET_HDR 16u             /* {root u64, sequence u64} */
#define MAX_DEPTH 64               /* tree height limit: cycles end here */
#define MIN_PAGE 1024u
#define MAX_PAGE 65536u

/* A validated page (or inline page image). */
struct page {
	uint64_t id;
	const unsigned char *p;
	size_t span;
	unsigned flags;
	unsigned count;
};

struct cache_ent {
	uint64_t id;               /* 0 = empty slot (pages 0/1 are metas) */
	unsigned char *data;
	size_t span;
};

struct idp_bolt {
	int fd;                    /* -1 for an in-memory image */
	unsigned char *mem;        /* the image copy (in-memory mode) */
	uint64_t size;             /* file size at open */
	uint32_t psize;
	uint64_t pgid;             /* high-water mark from the meta */
	uint64_t root;
	uint64_t txid;
	uint64_t max_visits;       /* per-operation page visits */
	struct cache_ent *cache;
	size_t cache_cap, cache_len;
	uint64_t cache_bytes;
	const char *name;
	char namebuf[256];
};

/* ---- little-endian loads (unaligned-safe) ---- */

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static uint64_t fnv1a64(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static int corrupt(struct idp_bolt *db, struct idp_error *err, const char *what, uint64_t id)
{
	return idp_error_set(err, IDP_EGENERAL,
			     "%s: page %llu: %s (file corrupt, or rewritten while reading: retry)",
			     db->name, (unsigned long long)id, what);
}

/* ---- raw reads ---- */

static int read_at(struct idp_bolt *db, uint64_t off, void *buf, size_t n, struct idp_error *err)
{
	unsigned char *d = buf;
	ssize_t r;

	if (off > db->size || n > db->size - off)
		return idp_error_set(err, IDP_EGENERAL,
				     "%s: read of %zu bytes at %llu is past the end (%llu bytes)",
				     db->name, n, (unsigned long long)off,
				     (unsigned long long)db->size);
	if (db->fd < 0) {
		memcpy(d, db->mem + off, n);
		return 0;
	}
	while (n > 0) {
		r = pread(db->fd, d, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return idp_error_set(err, IDP_EGENERAL, "%s: read: %s", db->name,
					     strerror(errno));
		if (r == 0)
			return idp_error_set(err, IDP_EGENERAL, "%s: file truncated while reading",
					     db->name);
		d += r;
		off += (uint64_t)r;
		n -= (size_t)r;
	}
	return 0;
}

/* ---- meta selection ---- */

struct meta {
	uint32_t psize;
	uint64_t root, pgid, txid;
};

static int psize_ok(uint32_t ps)
{
	return ps >= MIN_PAGE && ps <= MAX_PAGE && (ps & (ps - 1)) == 0;
}

/* Validate the meta page `id` at `off`; 1 valid (fills m), 0 not, -1 I/O error. */
static int meta_at(struct idp_bolt *db, uint64_t off, uint64_t id, struct meta *m,
		   struct idp_error *err)
{
	unsigned char b[PAGE_HDR + META_SIZE];
	const unsigned char *mp = b + PAGE_HDR;

	if (off > db->size || db->size - off < sizeof(b))
		return 0;
	if (read_at(db, off, b, sizeof(b), err) < 0)
		return -1;
	if (le64(b) != id || le16(b + 8) != FLAG_META)
		return 0;
	if (le32(mp) != BOLT_MAGIC || le32(mp + 4) != BOLT_VERSION)
		return 0;
	if (fnv1a64(mp, META_SUMMED) != le64(mp + META_SUMMED))
		return 0;
	m->psize = le32(mp + 8);
	m->root = le64(mp + 16);
	m->pgid = le64(mp + 40);
	m->txid = le64(mp + 48);
	return psize_ok(m->psize) && (uint64_t)m->psize * id == off;
}

/* meta0, else meta1 probed at 1024<<i; then the higher txid of the two. */
static int choose_meta(struct idp_bolt *db, struct idp_error *err)
{
	struct meta m0, m1, *best = NULL;
	int v0, v1 = 0, i;

	v0 = meta_at(db, 0, 0, &m0, err);
	if (v0 < 0)
		return -1;
	if (v0) {
		best = &m0;
		v1 = meta_at(db, m0.psize, 1, &m1, err);
	} else {
		for (i = 0; !v1 && (MIN_PAGE << i) <= MAX_PAGE; i++)
			v1 = meta_at(db, MIN_PAGE << i, 1, &m1, err);
	}
	if (v1 < 0)
		return -1;
	if (v1 && (!best || (m1.txid > m0.txid && m1.psize == m0.psize)))
		best = &m1;
	if (!best)
		return idp_error_set(
			err, IDP_EGENERAL,
			"%s: no valid meta page in %llu bytes (not a bbolt file, or corrupt)",
			db->name, (unsigned long long)db->size);
	db->psize = best->psize;
	db->root = best->root;
	db->pgid = best->pgid;
	db->txid = best->txid;
	db->max_visits = db->size / db->psize + 1;
	if (db->pgid < db->max_visits)
		db->max_visits = db->pgid;
	return 0;
}

/* ---- page validation ---- */

/* Check count and every element's key/value range against the span. */
static int check_elems(struct idp_bolt *db, const struct page *pg, struct idp_error *err)
{
	uint64_t end, off;
	unsigned i;

	if (pg->span < PAGE_HDR || (uint64_t)pg->count * ELEM_SIZE > pg->span - PAGE_HDR)
		return corrupt(db, err, "element count does not fit the page", pg->id);
	if (pg->flags == FLAG_BRANCH && pg->count == 0)
		return corrupt(db, err, "empty branch page", pg->id);
	for (i = 0; i < pg->count; i++) {
		const unsigned char *e = pg->p + PAGE_HDR + (size_t)i * ELEM_SIZE;
		off = PAGE_HDR + (uint64_t)i * ELEM_SIZE;
		if (pg->flags == FLAG_BRANCH)
			end = off + le32(e) + le32(e + 4);
		else
			end = off + le32(e + 4) + le32(e + 8) + le32(e + 12);
		if (end > pg->span)
			return corrupt(db, err, "element extends past the page", pg->id);
	}
	return 0;
}

static int check_flags(struct idp_bolt *db, unsigned flags, uint64_t id, struct idp_error *err)
{
	if (flags != FLAG_BRANCH && flags != FLAG_LEAF)
		return corrupt(db, err, "not a branch or leaf page", id);
	return 0;
}

/* Header checks for page `id` read into hdr; sets *span. */
static int check_header(struct idp_bolt *db, uint64_t id, const unsigned char *hdr, size_t *span,
			struct idp_error *err)
{
	uint64_t ovf = le32(hdr + 12);

	if (le64(hdr) != id)
		return corrupt(db, err, "id field does not match its position", id);
	if (check_flags(db, le16(hdr + 8), id, err) < 0)
		return -1;
	if (ovf >= db->pgid - id || (id + ovf + 1) > db->size / db->psize)
		return corrupt(db, err, "overflow runs past the end of the file", id);
	*span = (size_t)((ovf + 1) * db->psize);
	return 0;
}

/* ---- the page cache (open addressing on the page id) ---- */

static struct cache_ent *cache_slot(struct cache_ent *tab, size_t cap, uint64_t id)
{
	size_t i = (size_t)((id * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);

	while (tab[i].id != 0 && tab[i].id != id)
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

static int cache_grow(struct idp_bolt *db)
{
	size_t ncap = db->cache_cap ? db->cache_cap * 2 : 64, i;
	struct cache_ent *n = calloc(ncap, sizeof(*n));

	if (!n)
		return -1;
	for (i = 0; i < db->cache_cap; i++)
		if (db->cache[i].id != 0)
			*cache_slot(n, ncap, db->cache[i].id) = db->cache[i];
	free(db->cache);
	db->cache = n;
	db->cache_cap = ncap;
	return 0;
}

static int cache_put(struct idp_bolt *db, uint64_t id, unsigned char *data, size_t span,
		     struct idp_error *err)
{
	if ((db->cache_len + 1) * 2 > db->cache_cap && cache_grow(db) < 0)
		return idp_error_set(err, IDP_EGENERAL, "%s: out of memory", db->name);
	*cache_slot(db->cache, db->cache_cap, id) = (struct cache_ent){ id, data, span };
	db->cache_len++;
	db->cache_bytes += span;
	return 0;
}

/* Read, validate and cache page `id`. */
static int page_fetch(struct idp_bolt *db, uint64_t id, struct cache_ent *out,
		      struct idp_error *err)
{
	unsigned char hdr[PAGE_HDR], *data;
	size_t span = 0;
	struct page pg;

	if (read_at(db, id * db->psize, hdr, sizeof(hdr), err) < 0 ||
	    check_header(db, id, hdr, &span, err) < 0)
		return -1;
	if (span > db->size - db->cache_bytes)
		return corrupt(db, err, "pages overlap", id);
	data = malloc(span);
	if (!data)
		return idp_error_set(err, IDP_EGENERAL, "%s: out of memory", db->name);
	pg = (struct page){ id, data, span, le16(hdr + 8), le16(hdr + 10) };
	if (read_at(db, id * db->psize, data, span, err) < 0)
		goto fail;
	if (memcmp(data, hdr, PAGE_HDR) != 0) {
		corrupt(db, err, "header changed while reading", id);
		goto fail;
	}
	if (check_elems(db, &pg, err) < 0 || cache_put(db, id, data, span, err) < 0)
		goto fail;
	*out = (struct cache_ent){ id, data, span };
	return 0;
fail:
	free(data);
	return -1;
}

/* A branch or leaf page by id, from the cache or the file. */
static int page_load(struct idp_bolt *db, uint64_t id, struct page *pg, struct idp_error *err)
{
	struct cache_ent ent = { 0, NULL, 0 }, *c = NULL;

	if (id < 2 || id >= db->pgid)
		return corrupt(db, err, "page id out of range", id);
	if (id >= db->size / db->psize)
		return corrupt(db, err, "page is past the end of the file", id);
	if (db->cache_cap)
		c = cache_slot(db->cache, db->cache_cap, id);
	if (c && c->id == id)
		ent = *c;
	else if (page_fetch(db, id, &ent, err) < 0)
		return -1;
	*pg = (struct page){ id, ent.data, ent.span, le16(ent.data + 8), le16(ent.data + 10) };
	return 0;
}

/* The root page of a bucket: an inline image or a page of the file. */
static int bucket_page(struct idp_bolt *db, const struct idp_bolt_bucket *b, struct page *pg,
		       struct idp_error *err)
{
	if (b->root != 0)
		return page_load(db, b->root, pg, err);
	if (!b->inline_page || b->inline_len < PAGE_HDR)
		return corrupt(db, err, "inline bucket too short", 0);
	*pg = (struct page){ 0, b->inline_page, b->inline_len, le16(b->inline_page + 8),
			     le16(b->inline_page + 10) };
	if (le64(pg->p) != 0 || le32(pg->p + 12) != 0 || pg->flags != FLAG_LEAF)
		return corrupt(db, err, "inline bucket is not a plain leaf page", 0);
	return check_elems(db, pg, err);
}

/* ---- elements (valid after check_elems) ---- */

static const unsigned char *elem(const struct page *pg, unsigned i)
{
	return pg->p + PAGE_HDR + (size_t)i * ELEM_SIZE;
}

static void elem_key(const struct page *pg, unsigned i, const unsigned char **k, size_t *klen)
{
	const unsigned char *e = elem(pg, i);

	if (pg->flags == FLAG_BRANCH) {
		*k = e + le32(e);
		*klen = le32(e + 4);
	} else {
		*k = e + le32(e + 4);
		*klen = le32(e + 8);
	}
}

static int keycmp(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* First element whose key >= target (count if none). */
static unsigned lower_bound(const struct page *pg, const unsigned char *key, size_t klen)
{
	unsigned lo = 0, hi = pg->count, mid;
	const unsigned char *k;
	size_t kl;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		elem_key(pg, mid, &k, &kl);
		if (keycmp(k, kl, key, klen) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Branch: the last element whose key <= target (element 0 if none, as bbolt). */
static unsigned branch_index(const struct page *pg, const unsigned char *key, size_t klen)
{
	unsigned i = lower_bound(pg, key, klen);
	const unsigned char *k;
	size_t kl;

	if (i < pg->count) {
		elem_key(pg, i, &k, &kl);
		if (keycmp(k, kl, key, klen) == 0)
			return i;
	}
	return i > 0 ? i - 1 : 0;
}

/* ---- search ---- */

struct hit {
	uint32_t flags;
	const unsigned char *val;
	size_t vlen;
};

/* 1 found (h filled), 0 absent, -1 error. */
static int bucket_find(struct idp_bolt *db, const struct idp_bolt_bucket *b,
		       const unsigned char *key, size_t klen, struct hit *h, struct idp_error *err)
{
	struct page pg;
	const unsigned char *e, *k;
	size_t kl;
	unsigned i;
	int depth;

	if (bucket_page(db, b, &pg, err) < 0)
		return -1;
	for (depth = 0; pg.flags == FLAG_BRANCH; depth++) {
		if (depth >= MAX_DEPTH)
			return corrupt(db, err, "tree too deep (a cycle?)", pg.id);
		e = elem(&pg, branch_index(&pg, key, klen));
		if (page_load(db, le64(e + 8), &pg, err) < 0)
			return -1;
	}
	i = lower_bound(&pg, key, klen);
	if (i >= pg.count)
		return 0;
	elem_key(&pg, i, &k, &kl);
	if (keycmp(k, kl, key, klen) != 0)
		return 0;
	e = elem(&pg, i);
	*h = (struct hit){ le32(e), k + kl, le32(e + 12) };
	return 1;
}

/* ---- public API ---- */

static int bolt_new(const char *name, struct idp_bolt **out, struct idp_error *err)
{
	struct idp_bolt *db = calloc(1, sizeof(*db));

	*out = NULL;
	if (!db)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	db->fd = -1;
	snprintf(db->namebuf, sizeof(db->namebuf), "%s", name);
	db->name = db->namebuf;
	*out = db;
	return 0;
}

static int bolt_finish_open(struct idp_bolt *db, struct idp_bolt **out, struct idp_error *err)
{
	if (choose_meta(db, err) < 0) {
		idp_bolt_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

int idp_bolt_open_fd(int fd, const char *name, struct idp_bolt **out, struct idp_error *err)
{
	struct idp_bolt *db;
	struct stat st;

	if (bolt_new(name, &db, err) < 0) {
		close(fd);
		return -1;
	}
	db->fd = fd;
	if (fstat(db->fd, &st) < 0) {
		idp_error_set(err, IDP_EGENERAL, "%s: %s", name, strerror(errno));
		idp_bolt_close(db);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		idp_error_set(err, IDP_EGENERAL, "%s: not a regular file", name);
		idp_bolt_close(db);
		return -1;
	}
	db->size = (uint64_t)st.st_size;
	return bolt_finish_open(db, out, err);
}

int idp_bolt_open(const char *path, struct idp_bolt **out, struct idp_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	*out = NULL;
	if (fd < 0)
		return idp_error_set(err, errno == ENOENT ? IDP_ENOTFOUND : IDP_EGENERAL, "%s: %s",
				     path, strerror(errno));
	return idp_bolt_open_fd(fd, path, out, err);
}

int idp_bolt_open_mem(const void *data, size_t len, struct idp_bolt **out, struct idp_error *err)
{
	struct idp_bolt *db;

	if (bolt_new("<memory>", &db, err) < 0)
		return -1;
	*out = NULL;
	db->mem = malloc(len ? len : 1);
	if (!db->mem) {
		idp_bolt_close(db);
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	if (len)
		memcpy(db->mem, data, len);
	db->size = len;
	return bolt_finish_open(db, out, err);
}

void idp_bolt_close(struct idp_bolt *db)
{
	size_t i;

	if (!db)
		return;
	for (i = 0; i < db->cache_cap; i++)
		free(db->cache[i].data);
	free(db->cache);
	if (db->fd >= 0)
		close(db->fd);
	free(db->mem);
	free(db);
}

void idp_bolt_root(struct idp_bolt *db, struct idp_bolt_bucket *out)
{
	*out = (struct idp_bolt_bucket){ db->root, NULL, 0 };
}

int idp_bolt_bucket(struct idp_bolt *db, const struct idp_bolt_bucket *parent, const char *name,
		    size_t namelen, struct idp_bolt_bucket *out, struct idp_error *err)
{
	struct hit h;
	int r = bucket_find(db, parent, (const unsigned char *)name, namelen, &h, err);

	if (r <= 0 || !(h.flags & LEAF_BUCKET))
		return r < 0 ? -1 : 0;
	if (h.vlen < BUCKET_HDR)
		return idp_error_set(err, IDP_EGENERAL, "%s: bucket \"%.*s\": value too short",
				     db->name, (int)(namelen > 64 ? 64 : namelen), name);
	*out = (struct idp_bolt_bucket){ le64(h.val), NULL, 0 };
	if (out->root == 0) {
		out->inline_page = h.val + BUCKET_HDR;
		out->inline_len = h.vlen - BUCKET_HDR;
	}
	return 1;
}

int idp_bolt_bucket_path(struct idp_bolt *db, const char *const *names, int n,
			 struct idp_bolt_bucket *out, struct idp_error *err)
{
	struct idp_bolt_bucket cur;
	int i, r;

	idp_bolt_root(db, &cur);
	for (i = 0; i < n; i++) {
		r = idp_bolt_bucket(db, &cur, names[i], strlen(names[i]), &cur, err);
		if (r <= 0)
			return r;
	}
	*out = cur;
	return 1;
}

int idp_bolt_get(struct idp_bolt *db, const struct idp_bolt_bucket *b, const char *key, size_t klen,
		 const unsigned char **val, size_t *vlen, struct idp_error *err)
{
	struct hit h;
	int r = bucket_find(db, b, (const unsigned char *)key, klen, &h, err);

	if (r <= 0 || (h.flags & LEAF_BUCKET))
		return r < 0 ? -1 : 0;
	*val = h.val;
	*vlen = h.vlen;
	return 1;
}

/* ---- iteration ---- */

struct walk {
	struct idp_bolt *db;
	idp_bolt_each_fn cb;
	void *ctx;
	uint64_t visits;
	struct idp_error *err;
};

static int walk_leaf(struct walk *w, const struct page *pg)
{
	const unsigned char *e, *k;
	size_t kl;
	unsigned i;
	int r, isb;

	for (i = 0; i < pg->count; i++) {
		e = elem(pg, i);
		elem_key(pg, i, &k, &kl);
		isb = (le32(e) & LEAF_BUCKET) != 0;
		r = w->cb(w->ctx, k, kl, isb ? NULL : k + kl, isb ? 0 : le32(e + 12), isb);
		if (r != 0)
			return r;
	}
	return 0;
}

static int walk_page(struct walk *w, const struct page *pg, int depth)
{
	struct page child;
	unsigned i;
	int r;

	if (pg->flags == FLAG_LEAF)
		return walk_leaf(w, pg);
	if (depth >= MAX_DEPTH)
		return corrupt(w->db, w->err, "tree too deep (a cycle?)", pg->id);
	for (i = 0; i < pg->count; i++) {
		if (++w->visits > w->db->max_visits)
			return corrupt(w->db, w->err,
				       "more pages visited than the file holds (a cycle?)", pg->id);
		if (page_load(w->db, le64(elem(pg, i) + 8), &child, w->err) < 0)
			return -1;
		r = walk_page(w, &child, depth + 1);
		if (r != 0)
			return r;
	}
	return 0;
}

int idp_bolt_each(struct idp_bolt *db, const struct idp_bolt_bucket *b,
		  idp_bolt_each_fn cb, void *ctx, struct idp_error *err)
{
	struct walk w = { db, cb, ctx, 0, err };
	struct page pg;

	if (bucket_page(db, b, &pg, err) < 0)
		return -1;
	return walk_page(&w, &pg, 0);
}

size_t idp_bolt_varint(const unsigned char *p, size_t n, int64_t *out)
{
	uint64_t ux = 0;
	unsigned shift = 0;
	size_t i;

	for (i = 0; i < n && i < 10; i++, shift += 7) {
		if (p[i] < 0x80) {
			if (i == 9 && p[i] > 1)
				return 0;      /* overflows 64 bits */
			ux |= (uint64_t)p[i] << shift;
			*out = (int64_t)(ux >> 1);
			if (ux & 1)
				*out = ~*out;
			return i + 1;
		}
		ux |= (uint64_t)(p[i] & 0x7f) << shift;
	}
	return 0;
}
