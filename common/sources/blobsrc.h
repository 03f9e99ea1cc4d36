/* blobsrc.h: the stock blob readers (blobreader.h) the sources use: an
 * open file, a blob of a content-addressed directory (an OCI layout's
 * blobs/sha256, containerd's content store) and a memory block. */
#ifndef IDP_BLOBSRC_H
#define IDP_BLOBSRC_H

#include <stdint.h>
#include <sys/types.h>
#include "util/blobreader.h"
#include "util/buf.h"
#include "util/error.h"

/* A regular file already open (fd, now the reader's, closed even on
 * error); name for messages. */
int idp_blob_reader_fd(int fd, const char *name, struct idp_blob_reader *out,
		       struct idp_error *err);

/* A content-addressed directory (an OCI layout's blobs/sha256,
 * containerd's content store) holds each blob as <hex of digest>, a
 * regular file: never a link, so nothing is read from outside it. The
 * _at forms take the directory as a descriptor (dirfd, an O_PATH one
 * will do; dir names it in messages), the others by its path. */
/* Whether it holds digest: 1, 0 (absent, or not a regular file), -1. */
int idp_cas_has_at(int dirfd, const char *dir, const char *digest, struct idp_error *err);
int idp_cas_has(const char *dir, const char *digest, struct idp_error *err);
/* The whole blob into out (bounded by its cap); missing: IDP_ENOTFOUND. */
int idp_cas_read_at(int dirfd, const char *dir, const char *digest, struct idp_buf *out,
		    struct idp_error *err);
int idp_cas_read(const char *dir, const char *digest, struct idp_buf *out, struct idp_error *err);
/* A reader over the blob (opened now); missing: IDP_ENOTFOUND. */
int idp_blob_reader_cas_at(int dirfd, const char *dir, const char *digest,
			   struct idp_blob_reader *out, struct idp_error *err);
int idp_blob_reader_cas(const char *dir, const char *digest, struct idp_blob_reader *out,
			struct idp_error *err);
/* A memory block, not copied: must outlive the reader. */
int idp_blob_reader_mem(const void *data, size_t len, struct idp_blob_reader *out,
			struct idp_error *err);

#endif
