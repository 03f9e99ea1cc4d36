/* blobsrc.h: the stock blob readers (blobreader.h) the sources use: a
 * file, a blob of a content-addressed directory (an OCI layout's
 * blobs/sha256, containerd's content store) and a memory block. */
#ifndef IDP_BLOBSRC_H
#define IDP_BLOBSRC_H

#include <stdint.h>
#include <sys/types.h>
#include "util/blobreader.h"
#include "util/buf.h"
#include "util/error.h"

/* A regular file (opened now, not through a symlink, read with pread).
 * Missing file -> IDP_ENOTFOUND. */
int idp_blob_reader_file(const char *path, struct idp_blob_reader *out, struct idp_error *err);
/* A regular file already open (fd, now the reader's, closed even on
 * error); name for messages. */
int idp_blob_reader_fd(int fd, const char *name, struct idp_blob_reader *out,
		       struct idp_error *err);
/* Path of a blob in a content-addressed directory: dir/<hex>. 0, or -1
 * for a bad digest or a path that does not fit in n. */
int idp_cas_path(const char *dir, const char *digest, char *out, size_t n);
/* Whether dir holds digest as a regular file: 1, 0 (absent, or not a
 * regular file: a symlink is never followed out of the store), -1. */
int idp_cas_has(const char *dir, const char *digest, struct idp_error *err);
/* The whole blob into out (bounded by its cap; no symlinks followed). */
int idp_cas_read(const char *dir, const char *digest, struct idp_buf *out, struct idp_error *err);
/* A blob of a content-addressed directory (an OCI layout's blobs/sha256,
 * containerd's content store): dir/<hex of digest>. */
int idp_blob_reader_cas(const char *dir, const char *digest, struct idp_blob_reader *out,
			struct idp_error *err);
/* A memory block, not copied: must outlive the reader. */
int idp_blob_reader_mem(const void *data, size_t len, struct idp_blob_reader *out,
			struct idp_error *err);

#endif
