/* spoolfill.c: the spool filler thread (spoolfill.h). */
#include "config.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "spoolfill.h"
#include "banned.h"

#define FILL_BLOCK (64u << 10)

struct idp_spoolfill {
	struct idp_spool *sp;
	struct idp_blob_reader *r;
	struct idp_sha256 *hash;
	idp_spoolfill_fn on_block;
	void *ctx;
	unsigned char *buf;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	int64_t len;        /* bytes spooled */
	int ended, failed, stop;
	struct idp_error err;
};

/* Record how the block went and wake the waiter. Returns 1 to go on. */
static int publish(struct idp_spoolfill *f, ssize_t got, const struct idp_error *err)
{
	int go_on;

	pthread_mutex_lock(&f->mu);
	if (got < 0) {
		f->failed = 1;
		f->err = *err;
	} else if (got == 0) {
		f->ended = 1;
	} else {
		f->len += got;
	}
	go_on = got > 0 && !f->stop;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	return go_on;
}

static void *fill(void *arg)
{
	struct idp_spoolfill *f = arg;
	struct idp_error err = IDP_ERROR_INIT;
	ssize_t got;

	do {
		got = f->r->ops->read(f->r->ctx, f->buf, FILL_BLOCK, &err);
		if (got > 0) {
			if (f->hash)
				idp_sha256_update(f->hash, f->buf, (size_t)got);
			if (idp_spool_append(f->sp, f->buf, (size_t)got, &err) < 0)
				got = -1;
		}
		if (got > 0 && f->on_block)
			f->on_block(f->ctx, idp_spool_len(f->sp));
	} while (publish(f, got, &err));
	return NULL;
}

int idp_spoolfill_start(struct idp_spool *sp, struct idp_blob_reader *r, struct idp_sha256 *hash,
			idp_spoolfill_fn on_block, void *ctx, struct idp_spoolfill **out,
			struct idp_error *err)
{
	struct idp_spoolfill *f = calloc(1, sizeof(*f));

	*out = NULL;
	if (!f || !(f->buf = malloc(FILL_BLOCK))) {
		free(f);
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	f->sp = sp;
	f->r = r;
	f->hash = hash;
	f->on_block = on_block;
	f->ctx = ctx;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	if (pthread_create(&f->th, NULL, fill, f) != 0) {
		pthread_cond_destroy(&f->cv);
		pthread_mutex_destroy(&f->mu);
		free(f->buf);
		free(f);
		return idp_error_set(err, IDP_EGENERAL, "cannot start a thread");
	}
	*out = f;
	return 0;
}

int64_t idp_spoolfill_wait(struct idp_spoolfill *f, int64_t want, struct idp_error *err)
{
	int64_t have;

	pthread_mutex_lock(&f->mu);
	while (f->len < want && !f->ended && !f->failed)
		pthread_cond_wait(&f->cv, &f->mu);
	have = f->len;
	if (f->failed && have < want) {
		*err = f->err;
		have = -1;
	}
	pthread_mutex_unlock(&f->mu);
	return have;
}

void idp_spoolfill_stop(struct idp_spoolfill *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->th, NULL);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f->buf);
	free(f);
}
