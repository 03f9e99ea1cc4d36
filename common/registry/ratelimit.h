/* ratelimit.h: one upload rate for a whole session, shared by every
 * parallel upload (what curl's --limit-rate means, across transfers). A
 * token bucket: bytes are granted at `rate` per second with a burst of a
 * tenth of a second; a sender that finds it empty waits (in steps of at
 * most 100 ms, so a stop is seen). Thread-safe. */
#ifndef IDP_RATELIMIT_H
#define IDP_RATELIMIT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include "stop.h"

struct idp_ratelimit {
	pthread_mutex_t mu;
	int64_t rate;          /* bytes per second, > 0 */
	int64_t burst;         /* most bytes granted at once */
	int64_t tokens;
	int64_t last_ms;       /* when tokens were last refilled */
};

void idp_ratelimit_init(struct idp_ratelimit *rl, int64_t bytes_per_second);
void idp_ratelimit_destroy(struct idp_ratelimit *rl);

/* Wait until some bytes may be sent and return how many (1..want): all
 * of want when the bucket holds them. Returns want at once when stop
 * (may be NULL) says to stop: the transfer is about to end anyway. */
size_t idp_ratelimit_take(struct idp_ratelimit *rl, size_t want, const struct idp_stop *stop);

#endif
