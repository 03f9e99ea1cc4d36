/* ring.c: the bounded ring of bytes between two threads (ring.h). */
#include "config.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ring.h"
#include "banned.h"

struct idp_ring {
	unsigned char *buf;
	size_t cap;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	size_t head, len;       /* the bytes held: buf[head .. head+len) mod cap */
	int closed, failed, left;
	char why[160];
};

int idp_ring_new(size_t cap, struct idp_ring **out, struct idp_error *err)
{
	struct idp_ring *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r || !cap || !(r->buf = malloc(cap))) {
		free(r);
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	r->cap = cap;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	*out = r;
	return 0;
}

void idp_ring_free(struct idp_ring *r)
{
	if (!r)
		return;
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r->buf);
	free(r);
}

int idp_ring_write(struct idp_ring *r, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t tail, room;
	int rc = 0;

	pthread_mutex_lock(&r->mu);
	while (n && rc == 0) {
		while (r->len == r->cap && !r->left && !r->failed)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->left || r->failed || r->closed) {
			rc = -1;
			break;
		}
		tail = (r->head + r->len) % r->cap;
		room = tail >= r->head ? r->cap - tail : r->head - tail;
		if (room > r->cap - r->len)
			room = r->cap - r->len;
		if (room > n)
			room = n;
		memcpy(r->buf + tail, p, room);
		r->len += room;
		p += room;
		n -= room;
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

/* Set *flag (closed, failed or left) and wake both sides. */
static void mark(struct idp_ring *r, int *flag, const char *why)
{
	pthread_mutex_lock(&r->mu);
	*flag = 1;
	if (why && !r->why[0])
		snprintf(r->why, sizeof(r->why), "%s", why);
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

void idp_ring_close(struct idp_ring *r)
{
	mark(r, &r->closed, NULL);
}

void idp_ring_fail(struct idp_ring *r, const char *why)
{
	mark(r, &r->failed, why);
}

void idp_ring_leave(struct idp_ring *r)
{
	mark(r, &r->left, NULL);
}

int idp_ring_failed(struct idp_ring *r)
{
	int f;

	pthread_mutex_lock(&r->mu);
	f = r->failed;
	pthread_mutex_unlock(&r->mu);
	return f;
}

ssize_t idp_ring_read(struct idp_ring *r, void *buf, size_t n, struct idp_error *err)
{
	size_t take;

	pthread_mutex_lock(&r->mu);
	while (!r->len && !r->closed && !r->failed)
		pthread_cond_wait(&r->cv, &r->mu);
	if (r->failed) {
		pthread_mutex_unlock(&r->mu);
		return idp_error_set(err, IDP_EGENERAL, "%s", r->why[0] ? r->why : "broken");
	}
	take = r->len < n ? r->len : n;
	if (take > r->cap - r->head)
		take = r->cap - r->head;
	memcpy(buf, r->buf + r->head, take);
	r->head = (r->head + take) % r->cap;
	r->len -= take;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return (ssize_t)take;
}

static ssize_t reader_read(void *ctx, void *buf, size_t n, struct idp_error *err)
{
	return idp_ring_read(ctx, buf, n, err);
}

static void reader_close(void *ctx)
{
	idp_ring_leave(ctx);
}

static const struct idp_blob_reader_ops ring_reader_ops = {
	.read = reader_read,
	.seek = NULL,
	.close = reader_close,
};

void idp_ring_reader(struct idp_ring *r, struct idp_blob_reader *out)
{
	out->ops = &ring_reader_ops;
	out->ctx = r;
}
