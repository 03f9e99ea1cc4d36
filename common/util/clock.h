/* clock.h: the engine's one clock, milliseconds on a monotonic clock:
 * deadlines, stall and retry timing, progress pacing. */
#ifndef IDP_CLOCK_H
#define IDP_CLOCK_H

#include <stdint.h>

/* Milliseconds on a monotonic clock. */
int64_t idp_now_ms(void);

#endif
