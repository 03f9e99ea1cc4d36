/* blobsrc.h: how the engine reads a blob: a small reader interface that
 * sources implement (a file in a content store, bytes being compressed out
 * of a tar stream, a memory block). The engine never knows where bytes come
 * from; a reader that can seek lets an interrupted upload resume anywhere,
 * one that cannot is resumed from the engine's copy of the current chunk. */
#ifndef IDP_BLOBSRC_H
#define IDP_BLOBSRC_H

#include <stdint.h>
#include <sys/types.h>
#include "error.h"

struct idp_blob_reader_ops {
	/* Read up to n bytes: >0 bytes read, 0 at end, -1 error (err set). */
	ssize_t (*read)(void *ctx, void *buf, size_t n, struct idp_error *err);
	/* Position the next read at absolute offset off; NULL if not seekable. */
	int (*seek)(void *ctx, int64_t off, struct idp_error *err);
	void (*close)(void *ctx);
};

struct idp_blob_reader {
	const struct idp_blob_reader_ops *ops;
	void *ctx;
};

/* A file (opened now, read with pread). Missing file -> IDP_ENOTFOUND. */
int idp_blob_reader_file(const char *path, struct idp_blob_reader *out, struct idp_error *err);
/* Path of a blob in a content-addressed directory: dir/<hex>. 0, or -1
 * for a bad digest or a path that does not fit in n. */
int idp_cas_path(const char *dir, const char *digest, char *out, size_t n);
/* A blob of a content-addressed directory (an OCI layout's blobs/sha256,
 * containerd's content store): dir/<hex of digest>. */
int idp_blob_reader_cas(const char *dir, const char *digest, struct idp_blob_reader *out,
			struct idp_error *err);
/* A memory block, not copied: must outlive the reader. */
int idp_blob_reader_mem(const void *data, size_t len, struct idp_blob_reader *out, struct idp_error *err);

void idp_blob_reader_close(struct idp_blob_reader *r);

#endif
