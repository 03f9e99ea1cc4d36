/* pcompress.c: a ring of block slots, a few worker threads compressing
 * them, the output taken back in submission order (pcompress.h). */
#include "config.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pcompress.h"
#include "banned.h"

enum slot_state { S_FREE, S_FILLING, S_QUEUED, S_BUSY, S_DONE };

struct slot {
	enum slot_state state;
	unsigned char *in;
	size_t in_len;
	unsigned char *out;
	size_t out_len;
	int failed;
	struct idp_error err;
};

struct idp_pcompress {
	struct idp_codec codec;
	int nthreads, nslots;
	pthread_t threads[IDP_PCOMPRESS_MAX_THREADS];
	pthread_mutex_t mu;
	pthread_cond_t work;       /* a slot was queued, or stop */
	pthread_cond_t changed;    /* a slot finished */
	struct slot *slots;
	unsigned head;             /* oldest submitted, next to take back */
	unsigned tail;             /* next to fill */
	unsigned next_work;        /* next queued slot a worker takes */
	int stop;
};

int idp_pcompress_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > IDP_PCOMPRESS_MAX_THREADS ? IDP_PCOMPRESS_MAX_THREADS : (int)n;
}

/* The next queued slot for a worker (locked), or NULL when stopping. */
static struct slot *wait_work(struct idp_pcompress *pc)
{
	struct slot *s;

	for (;;) {
		if (pc->stop)
			return NULL;
		s = &pc->slots[pc->next_work % (unsigned)pc->nslots];
		if (s->state == S_QUEUED) {
			pc->next_work++;
			s->state = S_BUSY;
			return s;
		}
		pthread_cond_wait(&pc->work, &pc->mu);
	}
}

static void *worker(void *arg)
{
	struct idp_pcompress *pc = arg;
	struct idp_block_compressor *bc = NULL;
	struct idp_error berr = IDP_ERROR_INIT;
	struct slot *s;
	ssize_t n;
	int ok = idp_block_compressor_new(&pc->codec, &bc, &berr) == 0;

	pthread_mutex_lock(&pc->mu);
	while ((s = wait_work(pc))) {
		pthread_mutex_unlock(&pc->mu);
		idp_error_clear(&s->err);
		n = ok ? idp_block_compress(bc,
					    &(struct idp_block){ s->in, s->in_len, s->out,
								 idp_block_bound(s->in_len) },
					    &s->err)
		       : -1;
		if (!ok)
			s->err = berr;
		pthread_mutex_lock(&pc->mu);
		s->failed = n < 0;
		s->out_len = n < 0 ? 0 : (size_t)n;
		s->state = S_DONE;
		pthread_cond_broadcast(&pc->changed);
	}
	pthread_mutex_unlock(&pc->mu);
	idp_block_compressor_free(bc);
	return NULL;
}

static int alloc_slots(struct idp_pcompress *pc, struct idp_error *err)
{
	int i;

	if (!(pc->slots = calloc((size_t)pc->nslots, sizeof(*pc->slots))))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	for (i = 0; i < pc->nslots; i++) {
		pc->slots[i].in = malloc(IDP_COMPRESS_BLOCK);
		pc->slots[i].out = malloc(idp_block_bound(IDP_COMPRESS_BLOCK));
		if (!pc->slots[i].in || !pc->slots[i].out)
			return idp_error_set(err, IDP_EGENERAL, "out of memory for compression");
	}
	return 0;
}

int idp_pcompress_new(const struct idp_codec *c, int threads, int spare,
		      struct idp_pcompress **out, struct idp_error *err)
{
	struct idp_pcompress *pc = calloc(1, sizeof(*pc));
	int i;

	*out = NULL;
	if (!pc)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	pc->codec = *c;
	pc->nthreads = threads > 0 && threads <= IDP_PCOMPRESS_MAX_THREADS ? threads
									    : idp_pcompress_cpus();
	pc->nslots = pc->nthreads + (spare > 0 ? spare : 2);
	pthread_mutex_init(&pc->mu, NULL);
	pthread_cond_init(&pc->work, NULL);
	pthread_cond_init(&pc->changed, NULL);
	if (alloc_slots(pc, err) < 0) {
		pc->nthreads = 0;
		idp_pcompress_free(pc);
		return -1;
	}
	for (i = 0; i < pc->nthreads; i++)
		if (pthread_create(&pc->threads[i], NULL, worker, pc) != 0)
			break;
	if (i == 0) {
		pc->nthreads = 0;
		idp_pcompress_free(pc);
		return idp_error_set(err, IDP_EGENERAL, "cannot start compression threads");
	}
	pc->nthreads = i;
	*out = pc;
	return 0;
}

void idp_pcompress_free(struct idp_pcompress *pc)
{
	int i;

	if (!pc)
		return;
	pthread_mutex_lock(&pc->mu);
	pc->stop = 1;
	pthread_cond_broadcast(&pc->work);
	pthread_mutex_unlock(&pc->mu);
	for (i = 0; i < pc->nthreads; i++)
		pthread_join(pc->threads[i], NULL);
	for (i = 0; pc->slots && i < pc->nslots; i++) {
		free(pc->slots[i].in);
		free(pc->slots[i].out);
	}
	free(pc->slots);
	pthread_mutex_destroy(&pc->mu);
	pthread_cond_destroy(&pc->work);
	pthread_cond_destroy(&pc->changed);
	free(pc);
}

int idp_pcompress_pending(const struct idp_pcompress *pc)
{
	return (int)(pc->tail - pc->head);
}

int idp_pcompress_full(const struct idp_pcompress *pc)
{
	return idp_pcompress_pending(pc) >= pc->nslots;
}

unsigned char *idp_pcompress_input(struct idp_pcompress *pc, size_t *cap)
{
	struct slot *s = &pc->slots[pc->tail % (unsigned)pc->nslots];

	if (idp_pcompress_full(pc))
		return NULL;   /* the caller takes a block back first */
	pthread_mutex_lock(&pc->mu);   /* workers look at every slot's state */
	s->state = S_FILLING;
	pthread_mutex_unlock(&pc->mu);
	*cap = IDP_COMPRESS_BLOCK;
	return s->in;
}

void idp_pcompress_submit(struct idp_pcompress *pc, size_t len)
{
	struct slot *s = &pc->slots[pc->tail % (unsigned)pc->nslots];

	pthread_mutex_lock(&pc->mu);
	s->in_len = len;
	s->state = S_QUEUED;
	pc->tail++;
	pthread_cond_signal(&pc->work);
	pthread_mutex_unlock(&pc->mu);
}

int idp_pcompress_take(struct idp_pcompress *pc, const unsigned char **out, size_t *len,
		       struct idp_error *err)
{
	struct slot *s = &pc->slots[pc->head % (unsigned)pc->nslots];

	if (!idp_pcompress_pending(pc))
		return idp_error_set(err, IDP_EGENERAL, "internal: no compressed block pending");
	pthread_mutex_lock(&pc->mu);
	while (s->state != S_DONE)
		pthread_cond_wait(&pc->changed, &pc->mu);
	pthread_mutex_unlock(&pc->mu);
	if (s->failed) {
		*err = s->err;
		return -1;
	}
	*out = s->out;
	*len = s->out_len;
	return 0;
}

void idp_pcompress_done(struct idp_pcompress *pc)
{
	struct slot *s = &pc->slots[pc->head % (unsigned)pc->nslots];

	pthread_mutex_lock(&pc->mu);
	s->state = S_FREE;
	pc->head++;
	pthread_mutex_unlock(&pc->mu);
}

size_t idp_pcompress_taken_in(const struct idp_pcompress *pc)
{
	return pc->slots[pc->head % (unsigned)pc->nslots].in_len;
}
