/* stop.h: when work stops, in one place: the user's cancel (a signal
 * handler's flag), the engine's abort (another transfer of the session
 * failed) and the overall deadline. A session holds one (a docker API
 * handle another); HTTP transfers (curl's progress callback), the rate
 * limit's waits and the retry sleeps all ask idp_stop_check. The abort
 * flag is read and written atomically: any thread may set it while the
 * others' transfers read it. */
#ifndef IDP_STOP_H
#define IDP_STOP_H

#include <signal.h>
#include <stdint.h>
#include "util/error.h"

struct idp_stop {
	volatile sig_atomic_t *cancel;  /* non-zero cancels at once; NULL = none */
	int abort;                      /* only through idp_stop_set_abort/idp_stop_check */
	int64_t deadline_ms;            /* absolute, idp_now_ms() clock; 0 = none */
};

enum idp_stop_why {
	IDP_STOP_NONE = 0,
	IDP_STOP_CANCEL,                /* canceled or aborted */
	IDP_STOP_DEADLINE               /* the overall time limit ran out */
};

/* Why to stop now, or IDP_STOP_NONE; st may be NULL (never stops). */
enum idp_stop_why idp_stop_check(const struct idp_stop *st);

/* Set (non-zero) or clear the abort flag, from any thread. */
void idp_stop_set_abort(struct idp_stop *st, int on);

/* The error for why (not IDP_STOP_NONE): IDP_ECANCELED "interrupted", or
 * IDP_ETIMEOUT "the overall time limit ran out" followed by the formatted
 * text saying during what (" (%s)", " while waiting to retry"). Returns -1. */
int idp_stop_error(enum idp_stop_why why, struct idp_error *err, const char *during_fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
