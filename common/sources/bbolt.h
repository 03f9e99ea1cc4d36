/* bbolt.h: a read-only reader for bbolt database files (containerd's
 * meta.db). Reads with pread, takes no lock, writes nothing, and validates
 * every page it touches (id, flags, bounds, overflow) so that any input,
 * including a file being rewritten under us, yields an error, never a crash
 * or a loop. */
#ifndef IDP_BBOLT_H
#define IDP_BBOLT_H

#include <stddef.h>
#include <stdint.h>
#include "util/error.h"

struct idp_bolt;          /* an open file + chosen meta page */

/* A bucket handle: where its root is (page id or an inline page copy). */
struct idp_bolt_bucket {
	uint64_t root;            /* 0 = inline */
	const unsigned char *inline_page;  /* points into owned storage of the reader */
	size_t inline_len;
};

int idp_bolt_open(const char *path, struct idp_bolt **out, struct idp_error *err);
/* The same over a file already open (fd, now the reader's, closed even on
 * error); name for messages. */
int idp_bolt_open_fd(int fd, const char *name, struct idp_bolt **out, struct idp_error *err);
/* Open an in-memory image (for tests and the fuzz target); data is copied. */
int idp_bolt_open_mem(const void *data, size_t len, struct idp_bolt **out, struct idp_error *err);
void idp_bolt_close(struct idp_bolt *db);

/* The root bucket. */
void idp_bolt_root(struct idp_bolt *db, struct idp_bolt_bucket *out);

/* Look up a nested bucket by name inside `parent`. 1 found, 0 absent, -1 error. */
int idp_bolt_bucket(struct idp_bolt *db, const struct idp_bolt_bucket *parent, const char *name,
		    size_t namelen, struct idp_bolt_bucket *out, struct idp_error *err);
/* Follow a path of bucket names, e.g. {"v1","default","images"}. */
int idp_bolt_bucket_path(struct idp_bolt *db, const char *const *names, int n,
			 struct idp_bolt_bucket *out, struct idp_error *err);

/* Get a plain value. On 1 (found), *val and *vlen point into reader-owned
 * memory valid until the next call on db (this reader keeps them valid
 * until idp_bolt_close). 0 absent (or it is a bucket), -1 error. */
int idp_bolt_get(struct idp_bolt *db, const struct idp_bolt_bucket *b, const char *key, size_t klen,
		 const unsigned char **val, size_t *vlen, struct idp_error *err);

/* Iterate all keys of a bucket in order. cb gets key, value (NULL for a
 * sub-bucket) and is_bucket; returning non-zero stops (that value is
 * returned). Bounded depth and page count: cycles are errors. cb may call
 * other functions on db (e.g. open the sub-bucket and iterate it). */
typedef int (*idp_bolt_each_fn)(void *ctx, const unsigned char *key, size_t klen,
				const unsigned char *val, size_t vlen, int is_bucket);
int idp_bolt_each(struct idp_bolt *db, const struct idp_bolt_bucket *b,
		  idp_bolt_each_fn cb, void *ctx, struct idp_error *err);

/* Go's binary.Varint (zig-zag signed varint). Returns bytes used, 0 on error. */
size_t idp_bolt_varint(const unsigned char *p, size_t n, int64_t *out);

#endif
