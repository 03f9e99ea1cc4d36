/* fe_progress.h: draws the engine's push events the way `docker push` does,
 * on one stream (the front ends use stderr; stdout carries only the result):
 *
 *   The push refers to repository [gitea.cnoe.localtest.me:8443/giteaadmin/myapp]
 *   5f70bf18a086: Pushing  [=====>                    ]  12.3MB/45.6MB
 *   a3ed95caeb02: Layer already exists
 *   dev: digest: sha256:<hex> size: 1234
 *   pushed 1 layer (45.6MB) in 3.1s (14.7MB/s), 1 existed (2.1MB skipped)
 *
 * Modes:
 *  - TTY: one line per blob, redrawn in place (ANSI cursor moves): at most
 *    10 progress frames a second, a state change at once; lines never
 *    wider than the terminal; messages (warnings, -v) go above the lines.
 *  - PLAIN: a line when a blob changes state, and for a long upload an
 *    "x of y" line at most every 10 s; no escapes, no bars.
 *  - JSON: one object per line, docs/progress-json.md (the Docker Engine
 *    push-stream shape, {"status","id","progressDetail":{"current",
 *    "total"}} and {"aux":{"Tag","Digest","Size"}}, with an "event"
 *    member and a final result event); progress at most twice a second
 *    per blob, never the same event twice.
 *  - quiet: nothing. AUTO picks TTY when the stream is a terminal (and
 *    TERM is not "dumb"), else PLAIN.
 * The summary line ends every non-quiet push (JSON: in the result event).
 *
 * Use: p = fe_progress_new(...); fe_progress_start(p, repo);
 *      [fe_progress_preparing(p, id)...]; push with
 *      po.on_event = fe_progress_on_event, po.event_ctx = p, and the
 *      session's warn/info/debug sinks below with ctx p;
 *      fe_progress_finish(p, &result) or fe_progress_error(p, ...);
 *      fe_progress_free(p).
 * Every call may come from any thread (one lock serialises the output). */
#ifndef IDP_FE_PROGRESS_H
#define IDP_FE_PROGRESS_H

#include <stdint.h>
#include <stdio.h>
#include "fe_opts.h"
#include "push/push.h"

struct fe_progress;

/* mode: enum fe_progress_mode; quiet overrides it; verbose: -v's level (1
 * notes, 2 the trace too). NULL on out of memory. */
struct fe_progress *fe_progress_new(int mode, int quiet, int verbose, FILE *out);
void fe_progress_free(struct fe_progress *p);

/* Tests: the clock (ms) instead of idp_now_ms, a terminal size instead of
 * asking the stream's (rows 0: no limit). */
void fe_progress_set_clock(struct fe_progress *p, int64_t (*now)(void *ctx), void *ctx);
void fe_progress_set_size(struct fe_progress *p, int cols, int rows);

/* "The push refers to repository [<repository>]" */
void fe_progress_start(struct fe_progress *p, const char *repository);
/* A blob line in state "Preparing" (id: 12 hex or a digest). */
void fe_progress_preparing(struct fe_progress *p, const char *id);
/* idp_event_fn: ctx is the struct fe_progress. */
void fe_progress_on_event(void *ctx, const struct idp_event *ev);

/* Messages during the push, with the engine's sink shape (ctx: the
 * struct fe_progress): "<prog>: warning: <msg>", "<prog>: <msg>" (info,
 * the session calls it with -v), "<prog>: debug: <line>" (with -vv). */
void fe_progress_warn_sink(void *ctx, const char *msg);
void fe_progress_info_sink(void *ctx, const char *msg);
void fe_progress_debug_sink(void *ctx, const char *line);

struct fe_progress_result {
	const char *target;        /* the destination reference, host/path:tag */
	const char *tag;           /* NULL: pushed by digest */
	const char *digest;        /* of the top manifest */
	size_t size;               /* its bytes */
	const struct idp_push_stats *stats;
	int64_t bytes_read;        /* from the source (docker save), -1 unknown */
};

/* The end of a push: "<tag>: digest: <digest> size: <size>" and the
 * summary line, or JSON's digest and result events. */
void fe_progress_finish(struct fe_progress *p, const struct fe_progress_result *r);
/* A failed push in JSON mode: the error event (the last line), and 1;
 * other modes print nothing and return 0 (the caller prints the error). */
int fe_progress_error(struct fe_progress *p, const char *msg, int exit_code);

/* JSON lines outside a push's progress output (fe_msg.c, --progress
 * json): {"event":kind,"message":msg} ("warning", "info", "debug"), and
 * the error event with its exit code. msg is escaped already. */
void fe_json_write_message(FILE *out, const char *kind, const char *msg);
void fe_json_write_error(FILE *out, const char *msg, int exit_code);

/* "pushed 3 layers (352MB) in 19.2s (18.4MB/s), 1 existed, 1 mounted
 * (12MB skipped)" into buf. */
const char *fe_progress_summary(char *buf, size_t len, const struct idp_push_stats *st,
				int64_t elapsed_ms);

/* "12.3MB" (decimal units like docker), into buf. */
const char *fe_human_size(int64_t n, char *buf, size_t len);

#endif
