/* file.h: small file operations done one careful way: read a regular
 * file bounded (optionally refusing symlinks), create the directories
 * leading to a file, a temporary file without a name, and replace a file
 * atomically (a temp file in the
 * same directory, then rename), so readers never see a torn file and a
 * symlink planted at the path is replaced, never written through. */
#ifndef IDP_FILE_H
#define IDP_FILE_H

#include <stddef.h>
#include <sys/types.h>
#include "buf.h"
#include "error.h"

#define IDP_FILE_NOFOLLOW 1      /* a symlink at path is refused */

/* Read the regular file at path into b (bounded by b's cap). 0 ok,
 * 1 absent, -1 with errno set (EFBIG past the cap, EINVAL not a regular
 * file, ELOOP a symlink with IDP_FILE_NOFOLLOW). */
int idp_file_read(const char *path, int flags, struct idp_buf *b);
/* The same from an open descriptor (not closed): 0, or -1 with errno. */
int idp_file_read_fd(int fd, struct idp_buf *b);

/* Create the directories leading to path; those created get `mode`. */
int idp_file_mkdirs(const char *path, mode_t mode, struct idp_error *err);

/* A temporary file in dir that has no name, so nobody can open it or put
 * another file in its place (O_TMPFILE; else mkostemp, then unlinked at
 * once): read and write it through the descriptor (O_CLOEXEC), or hand it
 * on as /proc/self/fd/N. -1 with errno. */
int idp_file_unnamed(const char *dir);

/* Replace path with data: temp file `path.XXXXXX` with `mode`, rename. */
int idp_file_replace(const char *path, const void *data, size_t len, mode_t mode,
		     struct idp_error *err);

#endif
