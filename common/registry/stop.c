/* stop.c: the one check of cancel, abort and deadline (stop.h). */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include "util/clock.h"
#include "stop.h"
#include "banned.h"

enum idp_stop_why idp_stop_check(const struct idp_stop *st)
{
	if (!st)
		return IDP_STOP_NONE;
	if ((st->cancel && __atomic_load_n(st->cancel, __ATOMIC_RELAXED)) ||
	    __atomic_load_n(&st->abort, __ATOMIC_RELAXED))
		return IDP_STOP_CANCEL;
	if (st->deadline_ms && idp_now_ms() > st->deadline_ms)
		return IDP_STOP_DEADLINE;
	return IDP_STOP_NONE;
}

void idp_stop_set_abort(struct idp_stop *st, int on)
{
	__atomic_store_n(&st->abort, on != 0, __ATOMIC_RELAXED);
}

int idp_stop_error(enum idp_stop_why why, struct idp_error *err, const char *during_fmt, ...)
{
	char during[IDP_ERRMSG_MAX];
	va_list ap;

	if (why != IDP_STOP_DEADLINE)
		return idp_error_set(err, IDP_ECANCELED, "interrupted");
	va_start(ap, during_fmt);
	vsnprintf(during, sizeof(during), during_fmt, ap);
	va_end(ap);
	return idp_error_set(err, IDP_ETIMEOUT, "the overall time limit ran out%s", during);
}
