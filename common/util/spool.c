/* spool.c: an append-only, re-readable temporary file (spool.h). */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "file.h"
#include "spool.h"
#include "banned.h"

struct idp_spool {
	int fd;
	int64_t len;
};

int idp_spool_new(struct idp_spool **out, struct idp_error *err)
{
	const char *tmp = getenv("TMPDIR");
	const char *dir = tmp && *tmp ? tmp : "/tmp";
	struct idp_spool *s = calloc(1, sizeof(*s));

	if (!s)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	if ((s->fd = idp_file_unnamed(dir)) < 0) {
		int e = errno;
		free(s);
		return idp_error_set(err, IDP_EGENERAL, "cannot create a spool file in %s: %s", dir,
				     strerror(e));
	}
	*out = s;
	return 0;
}

void idp_spool_free(struct idp_spool *s)
{
	if (!s)
		return;
	close(s->fd);
	free(s);
}

int64_t idp_spool_len(const struct idp_spool *s)
{
	return __atomic_load_n(&s->len, __ATOMIC_ACQUIRE);
}

int idp_spool_append(struct idp_spool *s, const void *data, size_t n, struct idp_error *err)
{
	const char *p = data;
	int64_t len = s->len;   /* only the appender writes it */
	ssize_t w;

	while (n > 0) {
		w = pwrite(s->fd, p, n, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return idp_error_set(err, IDP_EGENERAL, "cannot write the spool file: %s",
					     w < 0 ? strerror(errno) : "no space");
		p += w;
		n -= (size_t)w;
		len += w;
		/* readers see the length only once the bytes are in the file */
		__atomic_store_n(&s->len, len, __ATOMIC_RELEASE);
	}
	return 0;
}

ssize_t idp_spool_pread(struct idp_spool *s, void *buf, size_t n, int64_t off,
			struct idp_error *err)
{
	int64_t len = idp_spool_len(s);
	ssize_t r;

	if (off < 0 || off >= len)
		return idp_error_set(err, IDP_EGENERAL, "internal: spool read at %lld of %lld",
				     (long long)off, (long long)len);
	if ((int64_t)n > len - off)
		n = (size_t)(len - off);
	do
		r = pread(s->fd, buf, n, off);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return idp_error_set(err, IDP_EGENERAL, "cannot read the spool file: %s",
				     r < 0 ? strerror(errno) : "short read");
	return r;
}

/* ---- a reader over the spool ---- */

struct spool_reader {
	struct idp_spool *s;
	int64_t off;
};

static ssize_t sr_read(void *ctx, void *buf, size_t n, struct idp_error *err)
{
	struct spool_reader *r = ctx;
	ssize_t got;

	if (r->off >= idp_spool_len(r->s) || !n)
		return 0;
	if ((got = idp_spool_pread(r->s, buf, n, r->off, err)) > 0)
		r->off += got;
	return got;
}

static int sr_seek(void *ctx, int64_t off, struct idp_error *err)
{
	struct spool_reader *r = ctx;

	if (off < 0 || off > idp_spool_len(r->s))
		return idp_error_set(err, IDP_EGENERAL, "internal: spool seek to %lld of %lld",
				     (long long)off, (long long)idp_spool_len(r->s));
	r->off = off;
	return 0;
}

static const struct idp_blob_reader_ops spool_reader_ops = {
	.read = sr_read,
	.seek = sr_seek,
	.close = free,
};

int idp_spool_reader(struct idp_spool *s, struct idp_blob_reader *out, struct idp_error *err)
{
	struct spool_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	r->s = s;
	out->ops = &spool_reader_ops;
	out->ctx = r;
	return 0;
}
