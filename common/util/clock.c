/* clock.c: idp_now_ms, CLOCK_MONOTONIC in milliseconds. */
#include "config.h"
#include <time.h>
#include "clock.h"
#include "banned.h"

int64_t idp_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
