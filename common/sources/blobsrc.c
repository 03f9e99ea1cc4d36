/* blobsrc.c: the stock blob readers: a file, a blob of a content-addressed
 * directory (opened beneath it, never through a link), a memory block. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "blobsrc.h"
#include "util/digest.h"
#include "util/file.h"
#include "util/trust.h"
#include "banned.h"

struct file_reader {
	int fd;
	int64_t off;
	char *path;
};

static ssize_t file_read(void *ctx, void *buf, size_t n, struct idp_error *err)
{
	struct file_reader *f = ctx;
	ssize_t r;

	do
		r = pread(f->fd, buf, n, f->off);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return idp_error_set(err, IDP_EGENERAL, "reading '%s': %s", f->path,
				     strerror(errno));
	f->off += r;
	return r;
}

static int file_seek(void *ctx, int64_t off, struct idp_error *err)
{
	struct file_reader *f = ctx;
	(void)err;
	f->off = off;
	return 0;
}

static void file_close(void *ctx)
{
	struct file_reader *f = ctx;
	close(f->fd);
	free(f->path);
	free(f);
}

static const struct idp_blob_reader_ops file_ops = {
	.read = file_read,
	.seek = file_seek,
	.close = file_close,
};

/* Why a blob file cannot be used, for messages. */
static const char *why_not(int e)
{
	if (e == ELOOP)
		return "a symbolic link (blobs must be regular files in the store)";
	if (e == EINVAL)
		return "not a regular file";
	if (e == EFBIG)
		return "larger than a manifest may be";
	return strerror(e);
}

int idp_blob_reader_fd(int fd, const char *name, struct idp_blob_reader *out,
		       struct idp_error *err)
{
	struct file_reader *f = calloc(1, sizeof(*f));

	if (!f || !(f->path = strdup(name))) {
		free(f);
		close(fd);
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	f->fd = fd;
	out->ops = &file_ops;
	out->ctx = f;
	return 0;
}

/* The blob's name in its directory: the digest's hex (no '/', no ".."). */
static int cas_name(const char *digest, const char **hex, struct idp_error *err)
{
	if (!idp_digest_valid(digest))
		return idp_error_set(err, IDP_EGENERAL, "bad blob digest '%.80s'", digest);
	*hex = idp_digest_hex(digest);
	return 0;
}

/* The blob opened for reading beneath dirfd (a regular file, no link). */
static int cas_open(int dirfd, const char *dir, const char *digest, const char *what,
		    struct idp_error *err)
{
	const char *hex = NULL;
	struct stat st;
	int fd, e;

	if (cas_name(digest, &hex, err) < 0)
		return -1;
	if ((fd = idp_open_file_beneath(dirfd, hex, &st)) >= 0)
		return fd;
	e = errno;
	return idp_error_set(err, e == ENOENT ? IDP_ENOTFOUND : IDP_EGENERAL,
			     "cannot %s '%s/%s': %s", what, dir, hex,
			     e == ENOENT ? "no such file" : why_not(e));
}

int idp_cas_has_at(int dirfd, const char *dir, const char *digest, struct idp_error *err)
{
	const char *hex = NULL;
	struct stat st;
	int fd, rc;

	if (cas_name(digest, &hex, err) < 0)
		return -1;
	if ((fd = idp_open_beneath(dirfd, hex, O_PATH)) < 0 && (errno == ENOENT || errno == ELOOP))
		return 0;
	if (fd < 0)
		return idp_error_set(err, IDP_EGENERAL, "cannot stat '%s/%s': %s", dir, hex,
				     strerror(errno));
	rc = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	close(fd);
	return rc;
}

int idp_cas_read_at(int dirfd, const char *dir, const char *digest, struct idp_buf *out,
		    struct idp_error *err)
{
	int fd = cas_open(dirfd, dir, digest, "read blob", err), rc, e;

	if (fd < 0)
		return -1;
	rc = idp_file_read_fd(fd, out);
	e = errno;
	close(fd);
	if (rc < 0)
		return idp_error_set(err, IDP_EGENERAL, "cannot read blob '%s/%s': %s", dir,
				     idp_digest_hex(digest), why_not(e));
	return 0;
}

int idp_blob_reader_cas_at(int dirfd, const char *dir, const char *digest,
			   struct idp_blob_reader *out, struct idp_error *err)
{
	char name[4200];
	int fd = cas_open(dirfd, dir, digest, "open blob", err);

	if (fd < 0)
		return -1;
	snprintf(name, sizeof(name), "%s/%s", dir, idp_digest_hex(digest));
	return idp_blob_reader_fd(fd, name, out, err);
}

/* dir opened (O_PATH) for the _at forms; -1 with err (a missing
 * directory: IDP_ENOTFOUND). */
static int cas_dir(const char *dir, const char *digest, struct idp_error *err)
{
	int d = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (d < 0)
		idp_error_set(err, errno == ENOENT ? IDP_ENOTFOUND : IDP_EGENERAL,
			      "cannot open blob %.80s in '%s': %s", digest, dir, strerror(errno));
	return d;
}

int idp_cas_has(const char *dir, const char *digest, struct idp_error *err)
{
	int d = cas_dir(dir, digest, err), rc;

	if (d < 0 && err->cls == IDP_ENOTFOUND) {
		idp_error_clear(err);
		return 0;
	}
	rc = d < 0 ? -1 : idp_cas_has_at(d, dir, digest, err);
	if (d >= 0)
		close(d);
	return rc;
}

int idp_cas_read(const char *dir, const char *digest, struct idp_buf *out, struct idp_error *err)
{
	int d = cas_dir(dir, digest, err);
	int rc = d < 0 ? -1 : idp_cas_read_at(d, dir, digest, out, err);

	if (d >= 0)
		close(d);
	return rc;
}

int idp_blob_reader_cas(const char *dir, const char *digest, struct idp_blob_reader *out,
			struct idp_error *err)
{
	int d = cas_dir(dir, digest, err);
	int rc = d < 0 ? -1 : idp_blob_reader_cas_at(d, dir, digest, out, err);

	if (d >= 0)
		close(d);
	return rc;
}

struct mem_reader {
	const unsigned char *data;
	size_t len, off;
};

static ssize_t mem_read(void *ctx, void *buf, size_t n, struct idp_error *err)
{
	struct mem_reader *m = ctx;
	(void)err;
	if (n > m->len - m->off)
		n = m->len - m->off;
	memcpy(buf, m->data + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

static int mem_seek(void *ctx, int64_t off, struct idp_error *err)
{
	struct mem_reader *m = ctx;
	if (off < 0 || (uint64_t)off > m->len)
		return idp_error_set(err, IDP_EGENERAL, "seek past the end of a memory blob");
	m->off = (size_t)off;
	return 0;
}

static const struct idp_blob_reader_ops mem_ops = {
	.read = mem_read,
	.seek = mem_seek,
	.close = free,
};

int idp_blob_reader_mem(const void *data, size_t len, struct idp_blob_reader *out,
			struct idp_error *err)
{
	struct mem_reader *m = calloc(1, sizeof(*m));
	if (!m)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	m->data = data;
	m->len = len;
	out->ops = &mem_ops;
	out->ctx = m;
	return 0;
}
