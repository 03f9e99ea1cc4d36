/* fe_msg.c: warnings, errors, notes and debug lines for the front ends,
 * all on stderr: lines prefixed with the front end's constant fe_progname,
 * with any control characters escaped, or JSON events (--progress json).
 * The one static, `format`: messages are printed from everywhere without
 * a context to carry it, so fe_parse sets it once, from the command line,
 * before any other message and before any thread starts; from then on it
 * is only read. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fe_msg.h"
#include "fe_progress.h"
#include "banned.h"

static enum fe_msg_format format = FE_MSG_PLAIN;

void fe_msg_set_format(enum fe_msg_format f)
{
	format = f;
}

enum fe_msg_format fe_msg_format(void)
{
	return format;
}

/* One message of kind ("warning", "error", "info", "debug"), escaped;
 * exit_code for the JSON error event. */
static void report(const char *kind, int exit_code, const char *msg)
{
	/* One fprintf per line, but stderr is unbuffered: build the line first
	 * so concurrent writers (progress) never interleave inside it. */
	char line[2048];

	/* what reaches the terminal has no control characters (error.h) */
	idp_text_escape(line, sizeof(line), msg);
	if (format == FE_MSG_JSON && exit_code >= 0)
		fe_json_write_error(stderr, line, exit_code);
	else if (format == FE_MSG_JSON)
		fe_json_write_message(stderr, kind, line);
	else if (strcmp(kind, "info") == 0)
		fprintf(stderr, "%s: %s\n", fe_progname, line);
	else
		fprintf(stderr, "%s: %s: %s\n", fe_progname, kind, line);
}

static void vreport(const char *kind, int exit_code, const char *fmt, va_list ap)
{
	char raw[2048];
	int n = vsnprintf(raw, sizeof(raw), fmt, ap);

	report(kind, exit_code, n < 0 ? "" : raw);
}

void fe_warnf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("warning", -1, fmt, ap);
	va_end(ap);
}

int fe_error_exit(int exit_code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("error", exit_code, fmt, ap);
	va_end(ap);
	return exit_code;
}

int fe_errorf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("error", 1, fmt, ap);
	va_end(ap);
	return -1;
}

int fe_error_report(const struct idp_error *err)
{
	return fe_error_exit(idp_errclass_exit_code(err->cls == IDP_OK ? IDP_EGENERAL : err->cls),
			     "%s", err->msg[0] ? err->msg : idp_errclass_str(err->cls));
}

void fe_infof(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("info", -1, fmt, ap);
	va_end(ap);
}

void fe_debug_sink(void *ctx, const char *line)
{
	(void)ctx;
	report("debug", -1, line);   /* the trace shows registry headers: escaped */
}

void fe_info_sink(void *ctx, const char *msg)
{
	(void)ctx;
	report("info", -1, msg);
}

void fe_warn_sink(void *ctx, const char *msg)
{
	(void)ctx;
	report("warning", -1, msg);
}
