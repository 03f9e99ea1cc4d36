/* ratelimit.c: the session's upload token bucket (ratelimit.h). */
#include "config.h"
#include <time.h>
#include "util/clock.h"
#include "ratelimit.h"
#include "banned.h"

#define WAIT_STEP_MS 100

void idp_ratelimit_init(struct idp_ratelimit *rl, int64_t bytes_per_second)
{
	pthread_mutex_init(&rl->mu, NULL);
	rl->rate = bytes_per_second > 0 ? bytes_per_second : 1;
	rl->burst = rl->rate / 10 > 0 ? rl->rate / 10 : 1;
	rl->tokens = rl->burst;
	rl->last_ms = idp_now_ms();
}

void idp_ratelimit_destroy(struct idp_ratelimit *rl)
{
	pthread_mutex_destroy(&rl->mu);
}

/* Under mu: add what the elapsed time earned, up to the burst. */
static void refill(struct idp_ratelimit *rl, int64_t now)
{
	int64_t earned;

	if (now <= rl->last_ms)
		return;
	earned = (now - rl->last_ms) * rl->rate / 1000;
	if (earned <= 0)
		return;   /* keep last_ms: the fraction accrues */
	rl->tokens = rl->tokens + earned > rl->burst ? rl->burst : rl->tokens + earned;
	rl->last_ms = now;
}

/* Under mu: grant up to want, or 0 with *wait_ms set. */
static size_t grant(struct idp_ratelimit *rl, size_t want, int64_t *wait_ms)
{
	int64_t need = (int64_t)want < rl->burst ? (int64_t)want : rl->burst;

	refill(rl, idp_now_ms());
	if (rl->tokens >= need || rl->tokens * 2 >= rl->burst) {
		if ((int64_t)want > rl->tokens)
			want = (size_t)rl->tokens;
		rl->tokens -= (int64_t)want;
		return want;
	}
	*wait_ms = (need - rl->tokens) * 1000 / rl->rate + 1;
	return 0;
}

size_t idp_ratelimit_take(struct idp_ratelimit *rl, size_t want, const struct idp_stop *stop)
{
	struct timespec ts;
	int64_t wait_ms = 0;
	size_t n;

	if (!want)
		return 0;
	for (;;) {
		if (idp_stop_check(stop) != IDP_STOP_NONE)
			return want;
		pthread_mutex_lock(&rl->mu);
		n = grant(rl, want, &wait_ms);
		pthread_mutex_unlock(&rl->mu);
		if (n)
			return n;
		if (wait_ms > WAIT_STEP_MS)
			wait_ms = WAIT_STEP_MS;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)wait_ms * 1000000L;
		nanosleep(&ts, NULL);
	}
}
