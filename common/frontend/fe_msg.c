/* fe_msg.c: warnings, errors and debug lines for the front ends, all on
 * stderr, prefixed with the front end's constant fe_progname, with any
 * control characters escaped. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include "util/error.h"
#include "fe_msg.h"
#include "banned.h"

static void vreport(const char *level, const char *fmt, va_list ap)
{
	/* One fprintf per part, but stderr is unbuffered: build the line first
	 * so concurrent writers (progress) never interleave inside it. */
	char raw[2048], line[2048];
	int n = vsnprintf(raw, sizeof(raw), fmt, ap);

	/* what reaches the terminal has no control characters (error.h) */
	idp_text_escape(line, sizeof(line), n < 0 ? "" : raw);
	if (level)
		fprintf(stderr, "%s: %s: %s\n", fe_progname, level, line);
	else
		fprintf(stderr, "%s: %s\n", fe_progname, line);
}

void fe_warnf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("warning", fmt, ap);
	va_end(ap);
}

int fe_errorf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("error", fmt, ap);
	va_end(ap);
	return -1;
}

void fe_infof(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(NULL, fmt, ap);
	va_end(ap);
}

void fe_debug_sink(void *ctx, const char *line)
{
	char safe[2048];

	(void)ctx;
	idp_text_escape(safe, sizeof(safe), line);   /* the trace shows registry headers */
	fprintf(stderr, "%s: debug: %s\n", fe_progname, safe);
}

void fe_info_sink(void *ctx, const char *msg)
{
	(void)ctx;
	fe_infof("%s", msg);
}

void fe_warn_sink(void *ctx, const char *msg)
{
	(void)ctx;
	fe_warnf("%s", msg);
}
