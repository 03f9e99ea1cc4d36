/* fe_push.h: the push flow both front ends share (fe_push.c), in two
 * calls around the front end's own steps, which run in order:
 *
 *   struct fe_push run;
 *   if ((rc = fe_push_open(&run, &job, &err)) == 0)
 *           rc = the front end's push into run.to (idp_push_image_to, ...);
 *   run.notice = ...;                          (what the source said, or NULL)
 *   return fe_push_finish(&run, rc, &err);     (the exit code)
 *
 * fe_push_open starts the progress output, checks --digest-file and opens
 * a session per destination; fe_push_finish keeps the CA (--install-ca),
 * closes the sessions, prints the results and writes --digest-file, or
 * reports the error, and maps it to the exit code. */
#ifndef IDP_FE_PUSH_H
#define IDP_FE_PUSH_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "fe_opts.h"
#include "docker/pushcache.h"
#include "push/push.h"
#include "registry/ratelimit.h"
#include "util/error.h"
#include "util/ref.h"

/* What to push where. */
struct fe_push_job {
	const struct fe_config *cfg;
	const struct idp_ref *dests;   /* where to push: one or more (FE_MAX_TARGETS) */
	int ndests;
	volatile sig_atomic_t *cancel;
	/* the chunk size to start with when --chunk-size is not given (what the
	 * registry was found to take), 0 = the engine's default; per dest, or NULL */
	const size_t *chunk_size_hint;
};

/* One run, from fe_push_open to fe_push_finish (not to be copied: `to`
 * points into it). */
struct fe_push {
	/* for the front end's steps: the targets (sessions open, results
	 * zeroed) and the options that report to the progress output */
	struct idp_push_targets to;
	/* set by the front end before fe_push_finish */
	const char *notice;            /* what the user should be told (reduced index...) */
	int64_t bytes_read;            /* bytes the source read (-v summary), -1 unknown */
	/* fe_push.c's */
	const struct fe_push_job *job;
	struct fe_progress *progress;
	int opened;                    /* errors go through the progress output */
	struct idp_push_opts po;
	struct idp_push_target t[FE_MAX_TARGETS];
	char *names[FE_MAX_TARGETS];   /* host/path:tag, for the result lines */
	int limited;
	struct idp_ratelimit rate;     /* --limit-rate: one rate for every upload */
};

/* Start a run: the progress output (per --progress/-q, on stderr), the
 * "The push refers to repository" lines, --digest-file checked, a session
 * per destination (its warnings and trace through the progress output).
 * 0, or -1 with err; call fe_push_finish either way. Call
 * idp_http_global_init() before. */
int fe_push_open(struct fe_push *run, const struct fe_push_job *job, struct idp_error *err);

/* End a run whose steps returned rc (0, or -1 with err):
 *  - after a push, the CA kept when asked (--install-ca; a failure warns),
 *    then the sessions closed;
 *  - on success, unless -q, the notice, then per destination the digest
 *    and summary lines (JSON: the result event) on stderr; --digest-file
 *    written; stdout gets one line "TARGET@sha256:<hex>" per destination,
 *    TARGET being the full reference host/path:tag (also with -q, where
 *    they are the ONLY output);
 *  - on failure one line "<prog>: error: <message>" on stderr (JSON: the
 *    error event instead); when cancelled, "interrupted: nothing was
 *    tagged".
 * Returns the exit code (idp_errclass_exit_code; 130 when cancelled). */
int fe_push_finish(struct fe_push *run, int rc, struct idp_error *err);

/* The push cache of a front end, loaded into c (release it): the path to
 * write it back to (free it), or NULL when there is none or it is
 * someone else's (not used, not written: a -v note says so). */
char *fe_pushcache_open(const struct fe_config *cfg, struct idp_pushcache *c);

#endif
