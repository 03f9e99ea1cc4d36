/* fe_msg.h: how the front ends (docker-idppush, idppush-containerd) talk to
 * the user on stderr, in git's message style: lowercase, no final period,
 * the thing that failed first, subjects in quotes:
 *     docker-idppush: error: image 'myapp:dev' not found locally
 *     docker-idppush: warning: --password is visible to other users ...
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

extern const char fe_progname[];

/* "<prog>: warning: <msg>\n" */
void fe_warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "<prog>: error: <msg>\n"; returns -1 so `return fe_errorf(...)` works. */
int fe_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
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
