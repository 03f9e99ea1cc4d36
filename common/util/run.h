/* run.h: the one way idppush starts another program (a credential
 * helper, the docker CLI), in the spirit of git's run-command.h:
 *  - a fixed argv, looked up on PATH, never a shell;
 *  - the child starts with no blocked signals and default dispositions
 *    (whatever the caller ignores, e.g. SIGPIPE, the child does not);
 *  - stdin from a buffer (or empty), stdout and stderr captured with a
 *    size cap, or stdout handed to the caller as a pipe (idp_run_start);
 *  - waiting is bounded by a deadline and a cancel flag: when either
 *    fires, the child is killed and reaped, and the caller is told why.
 * Engine code: nothing here prints. */
#ifndef IDP_RUN_H
#define IDP_RUN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "buf.h"
#include "error.h"

#define IDP_RUN_INPUT_MAX (16u << 10)

struct idp_run_opts {
	const char *const *argv;        /* argv[0] is searched on PATH; NULL-terminated */
	const void *input; /* stdin contents (at most IDP_RUN_INPUT_MAX), NULL = empty */
	size_t input_len;
	size_t out_cap;                 /* stdout kept up to this many bytes (idp_run) */
	size_t err_cap;                 /* stderr kept up to this many bytes */
	int64_t deadline_ms;            /* absolute, idp_now_ms() clock; 0 = none */
	volatile sig_atomic_t *cancel;  /* non-zero: kill the child and stop */
	const char *what;               /* for messages, e.g. "docker image inspect" */
};

struct idp_run_result {
	struct idp_buf out;             /* stdout (NUL-terminated), at most out_cap */
	struct idp_buf err;             /* stderr, at most err_cap */
	int status;                     /* exit status 0-255, or 128 + signal number */
	int truncated; /* stdout or stderr went past its cap (the rest was dropped) */
};

/* Run to the end. 0 when it ran, whatever its exit status (r->status);
 * -1 with err when it could not be started (IDP_EGENERAL, or
 * IDP_ENOTFOUND when argv[0] is not on PATH), ran past the deadline
 * (IDP_ETIMEOUT: killed) or was cancelled (IDP_ECANCELED: killed).
 * r is initialised here; release it with idp_run_result_release (stdout
 * is wiped: it may hold a secret). */
int idp_run(const struct idp_run_opts *o, struct idp_run_result *r, struct idp_error *err);
void idp_run_result_release(struct idp_run_result *r);

/* A child whose stdout the caller reads from `out` (a pipe); its stderr
 * goes to an unlinked temp file, read back by idp_child_finish. */
struct idp_child {
	pid_t pid;
	int out;
	int errfile;
	const struct idp_run_opts *o;
};

int idp_child_start(const struct idp_run_opts *o, struct idp_child *c, struct idp_error *err);
/* Close stdout (a child still writing gets EPIPE), kill it when kill_it,
 * and reap it within the options' deadline (killed past it). *status as
 * in idp_run_result; msg gets the first line of its stderr. */
int idp_child_finish(struct idp_child *c, int kill_it, int *status, char *msg, size_t msglen,
		     struct idp_error *err);

#endif
