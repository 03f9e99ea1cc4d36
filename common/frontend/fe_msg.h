/* fe_msg.h: how the front ends (docker-idppush, idppush-containerd) talk to
 * the user on stderr, in git's message style: lowercase, no final period,
 * the thing that failed first, subjects in quotes:
 *     docker-idppush: error: image 'myapp:dev' not found locally
 *     docker-idppush: warning: --password is visible to other users ...
 * With --progress json (and not -q) every message is a JSON event line
 * instead (docs/progress-json.md): {"event":"warning","message":...},
 * "info", "debug", and the error event with its exit code.
 *
 * THE PROGRAM NAME: every front end (and the unit-test binary) defines
 *     const char fe_progname[] = "docker-idppush";
 * exactly once; it is constant, so there is no mutable global here.
 *
 * Engine code never calls these (it returns struct idp_error); only front
 * ends print, and they exit only by returning from main. */
#ifndef IDP_FE_MSG_H
#define IDP_FE_MSG_H

#include <stdarg.h>
#include "util/error.h"

extern const char fe_progname[];

/* How messages are written. fe_parse sets it from the command line before
 * it prints anything (FE_MSG_PLAIN until then); nothing else does. */
enum fe_msg_format { FE_MSG_PLAIN, FE_MSG_JSON };
void fe_msg_set_format(enum fe_msg_format f);
enum fe_msg_format fe_msg_format(void);

/* "<prog>: warning: <msg>\n" */
void fe_warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "<prog>: error: <msg>\n" (JSON: the error event, exit code exit_code);
 * returns exit_code. */
int fe_error_exit(int exit_code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* fe_error_exit(1, ...) returning -1, so `return fe_errorf(...)` works. */
int fe_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An engine error as one line: fe_error_exit with its class's exit code
 * (idp_errclass_exit_code); returns that code. */
int fe_error_report(const struct idp_error *err);
/* "<prog>: <msg>\n" with no severity word (informational, verbose mode). */
void fe_infof(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Sinks with the engine's callback shape (struct idp_session_opts.debug /
 * .warn): ctx is unused and may be NULL. The debug sink prints
 * "<prog>: debug: <line>"; the warn sink is fe_warnf("%s", msg). */
void fe_debug_sink(void *ctx, const char *line);
void fe_warn_sink(void *ctx, const char *msg);
/* fe_infof("%s", msg): what was found where, with -v. */
void fe_info_sink(void *ctx, const char *msg);

#endif
