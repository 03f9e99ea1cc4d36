/* buf.c: bounded growable buffer. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "buf.h"
#include "banned.h"

/* What every empty buffer points at (git's strbuf_slopbuf): read only in
 * practice, so it is no shared mutable state. */
char idp_buf_empty[1];

void idp_buf_init(struct idp_buf *b, size_t cap)
{
	b->buf = idp_buf_empty;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap ? cap : IDP_BUF_DEFAULT_CAP;
}

void idp_buf_release(struct idp_buf *b)
{
	size_t cap = b->cap;
	if (b->alloc)
		free(b->buf);
	idp_buf_init(b, cap);
}

void idp_buf_reset(struct idp_buf *b)
{
	b->len = 0;
	if (b->alloc)   /* the shared empty buffer is never written */
		b->buf[0] = '\0';
}

char *idp_buf_detach(struct idp_buf *b, size_t *len)
{
	char *r;
	if (len)
		*len = b->len;
	r = b->alloc ? b->buf : strdup("");
	idp_buf_init(b, b->cap);
	return r;
}

static int buf_grow(struct idp_buf *b, size_t extra)
{
	size_t cap = b->cap ? b->cap : IDP_BUF_DEFAULT_CAP;
	size_t want, n;
	char *p;

	if (extra > cap || b->len > cap - extra) {
		errno = EFBIG;
		return -1;
	}
	want = b->len + extra + 1;
	if (want <= b->alloc)
		return 0;
	n = b->alloc ? b->alloc : 64;
	while (n < want)
		n = n > ((size_t)-1) / 2 ? want : n * 2;
	p = b->alloc ? realloc(b->buf, n) : malloc(n);
	if (!p)
		return -1;
	if (!b->alloc)
		p[0] = '\0';
	b->buf = p;
	b->alloc = n;
	return 0;
}

int idp_buf_add(struct idp_buf *b, const void *data, size_t n)
{
	if (buf_grow(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->buf + b->len, data, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return 0;
}

int idp_buf_adds(struct idp_buf *b, const char *s)
{
	return idp_buf_add(b, s, strlen(s));
}

int idp_buf_addvf(struct idp_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || buf_grow(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int idp_buf_addf(struct idp_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;
	va_start(ap, fmt);
	r = idp_buf_addvf(b, fmt, ap);
	va_end(ap);
	return r;
}

int idp_buf_read_file(struct idp_buf *b, const char *path)
{
	char tmp[16384];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	while ((n = read(fd, tmp, sizeof(tmp))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (idp_buf_add(b, tmp, (size_t)n) < 0)
			goto fail;
	}
	close(fd);
	return 0;
fail:
	n = errno;
	close(fd);
	errno = (int)n;
	return -1;
}
