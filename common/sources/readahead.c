/* readahead.c: the pipe-draining thread and its ring buffer (readahead.h). */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "readahead.h"
#include "banned.h"

#define POLL_MS 200

struct idp_readahead {
	int fd;
	volatile sig_atomic_t *cancel;
	unsigned char *ring;
	size_t cap;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	size_t head, len;       /* the bytes held: ring[head .. head+len) mod cap */
	int ended, failed, stop;
	int err_no;
};

static int canceled(const struct idp_readahead *ra)
{
	return ra->cancel && *ra->cancel;
}

/* Under mu: wait for free space; 0 when told to stop. */
static int wait_space(struct idp_readahead *ra)
{
	while (ra->len == ra->cap && !ra->stop)
		pthread_cond_wait(&ra->cv, &ra->mu);
	return !ra->stop;
}

/* Read once into the free space at the tail: > 0, 0 at the end, -1. */
static ssize_t read_some(struct idp_readahead *ra, size_t tail, size_t room)
{
	struct pollfd p = { ra->fd, POLLIN, 0 };
	ssize_t n;

	for (;;) {
		if (canceled(ra) || __atomic_load_n(&ra->stop, __ATOMIC_RELAXED)) {
			errno = ECANCELED;
			return -1;
		}
		n = poll(&p, 1, POLL_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			continue;
		n = read(ra->fd, ra->ring + tail, room);
		if (n >= 0 || errno != EINTR)
			return n;
	}
}

static void *drain(void *arg)
{
	struct idp_readahead *ra = arg;
	size_t tail, room;
	ssize_t n;

	pthread_mutex_lock(&ra->mu);
	while (wait_space(ra)) {
		tail = (ra->head + ra->len) % ra->cap;
		room = tail >= ra->head && ra->len < ra->cap ? ra->cap - tail : ra->head - tail;
		pthread_mutex_unlock(&ra->mu);
		n = read_some(ra, tail, room);   /* only this thread writes the free space */
		pthread_mutex_lock(&ra->mu);
		if (n > 0)
			ra->len += (size_t)n;
		else if (n == 0)
			ra->ended = 1;
		else {
			ra->failed = 1;
			ra->err_no = errno;
		}
		pthread_cond_broadcast(&ra->cv);
		if (n <= 0)
			break;
	}
	pthread_mutex_unlock(&ra->mu);
	return NULL;
}

int idp_readahead_start(int fd, size_t cap, volatile sig_atomic_t *cancel,
			struct idp_readahead **out, struct idp_error *err)
{
	struct idp_readahead *ra = calloc(1, sizeof(*ra));

	*out = NULL;
	if (!ra || !(ra->ring = malloc(cap))) {
		free(ra);
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	/* our own descriptor: whoever owns fd may close it while we stop */
	if ((ra->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		free(ra->ring);
		free(ra);
		return idp_error_set(err, IDP_EGENERAL, "cannot read the pipe: %s",
				     strerror(errno));
	}
	ra->cap = cap;
	ra->cancel = cancel;
	pthread_mutex_init(&ra->mu, NULL);
	pthread_cond_init(&ra->cv, NULL);
	if (pthread_create(&ra->th, NULL, drain, ra) != 0) {
		pthread_cond_destroy(&ra->cv);
		pthread_mutex_destroy(&ra->mu);
		close(ra->fd);
		free(ra->ring);
		free(ra);
		return idp_error_set(err, IDP_EGENERAL, "cannot start a thread");
	}
	*out = ra;
	return 0;
}

ssize_t idp_readahead_read(struct idp_readahead *ra, void *buf, size_t n, struct idp_error *err)
{
	size_t take;

	pthread_mutex_lock(&ra->mu);
	while (!ra->len && !ra->ended && !ra->failed)
		pthread_cond_wait(&ra->cv, &ra->mu);
	take = ra->len < n ? ra->len : n;
	if (take > ra->cap - ra->head)
		take = ra->cap - ra->head;
	if (take) {   /* the held bytes are ours to read while mu keeps the writer off them */
		memcpy(buf, ra->ring + ra->head, take);
		ra->head = (ra->head + take) % ra->cap;
		ra->len -= take;
		pthread_cond_broadcast(&ra->cv);
	}
	pthread_mutex_unlock(&ra->mu);
	if (take || !ra->failed)
		return (ssize_t)take;
	if (ra->err_no == ECANCELED)
		return idp_error_set(err, IDP_ECANCELED, "interrupted");
	return idp_error_set(err, IDP_EGENERAL, "reading the docker save stream: %s",
			     strerror(ra->err_no));
}

void idp_readahead_stop(struct idp_readahead *ra)
{
	if (!ra)
		return;
	pthread_mutex_lock(&ra->mu);
	__atomic_store_n(&ra->stop, 1, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&ra->cv);
	pthread_mutex_unlock(&ra->mu);
	pthread_join(ra->th, NULL);
	close(ra->fd);
	pthread_cond_destroy(&ra->cv);
	pthread_mutex_destroy(&ra->mu);
	free(ra->ring);
	free(ra);
}
