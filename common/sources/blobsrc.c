/* blobsrc.c: the two stock blob readers: a file and a memory block. */
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

/* A regular file, not a directory, device or FIFO. */
static int regular(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

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

int idp_blob_reader_file(const char *path, struct idp_blob_reader *out, struct idp_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK), e;

	if (fd < 0 || !regular(fd)) {
		e = fd < 0 ? errno : EINVAL;
		if (fd >= 0)
			close(fd);
		return idp_error_set(err, e == ENOENT ? IDP_ENOTFOUND : IDP_EGENERAL,
				     "cannot open blob '%s': %s", path, why_not(e));
	}
	return idp_blob_reader_fd(fd, path, out, err);
}

int idp_cas_path(const char *dir, const char *digest, char *out, size_t n)
{
	if (!idp_digest_valid(digest))
		return -1;
	return (size_t)snprintf(out, n, "%s/%s", dir, idp_digest_hex(digest)) < n ? 0 : -1;
}

int idp_cas_has(const char *dir, const char *digest, struct idp_error *err)
{
	char path[4096];
	struct stat st;

	if (idp_cas_path(dir, digest, path, sizeof(path)) < 0)
		return idp_error_set(err, IDP_EGENERAL, "bad blob digest '%.80s'", digest);
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0
				       : idp_error_set(err, IDP_EGENERAL, "cannot stat '%s': %s",
						       path, strerror(errno));
	return S_ISREG(st.st_mode);
}

int idp_cas_read(const char *dir, const char *digest, struct idp_buf *out, struct idp_error *err)
{
	char path[4096];
	int r;

	if (idp_cas_path(dir, digest, path, sizeof(path)) < 0)
		return idp_error_set(err, IDP_EGENERAL, "bad blob digest '%.80s'", digest);
	if ((r = idp_file_read(path, IDP_FILE_NOFOLLOW, out)) == 0)
		return 0;
	return idp_error_set(err, r > 0 ? IDP_ENOTFOUND : IDP_EGENERAL, "cannot read blob '%s': %s",
			     path, r > 0 ? "no such file" : why_not(errno));
}

int idp_blob_reader_cas(const char *dir, const char *digest, struct idp_blob_reader *out,
			struct idp_error *err)
{
	char path[4096];

	if (idp_cas_path(dir, digest, path, sizeof(path)) < 0)
		return idp_error_set(err, IDP_EGENERAL, "bad blob digest '%.80s' or path too long",
				     digest);
	return idp_blob_reader_file(path, out, err);
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
