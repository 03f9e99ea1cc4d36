/* fe_progress.h: draws the engine's push events the way `docker push` does,
 * on one stream (the front ends use stderr; stdout carries only the result):
 *
 *   The push refers to repository [gitea.cnoe.localtest.me:8443/giteaadmin/myapp]
 *   5f70bf18a086: Pushing [=====>                    ]  12.3MB/45.6MB
 *   a3ed95caeb02: Layer already exists
 *   dev: digest: sha256:<hex> size: 1234
 *
 * Modes: TTY redraws the blob lines in place with ANSI cursor moves; PLAIN
 * prints a line only when a blob changes state (no escapes, no bars); JSON
 * prints one object per line in the Docker Engine push-stream shape
 * ({"status","id","progressDetail":{"current","total"}} and a final
 * {"aux":{"Tag","Digest","Size"}}); quiet prints nothing. AUTO picks TTY
 * when the stream is a terminal, else PLAIN. Warnings from events go
 * through fe_warnf; debug events are printed only when verbose.
 *
 * Use: p = fe_progress_new(...); fe_progress_start(p, repo);
 *      [fe_progress_preparing(p, id)...]; push with
 *      po.on_event = fe_progress_on_event, po.event_ctx = p;
 *      fe_progress_finish(p, tag, digest, size); [fe_progress_summary()];
 *      fe_progress_free(p).
 * Events are expected one at a time (the engine serialises them). */
#ifndef IDP_FE_PROGRESS_H
#define IDP_FE_PROGRESS_H

#include <stdint.h>
#include <stdio.h>
#include "fe_opts.h"
#include "push.h"

struct fe_progress;

/* mode: enum fe_progress_mode; quiet overrides it. NULL on out of memory. */
struct fe_progress *fe_progress_new(int mode, int quiet, int verbose, FILE *out);
void fe_progress_free(struct fe_progress *p);

/* "The push refers to repository [<repository>]" */
void fe_progress_start(struct fe_progress *p, const char *repository);
/* A blob line in state "Preparing" (id: 12 hex or a digest). */
void fe_progress_preparing(struct fe_progress *p, const char *id);
/* idp_event_fn: ctx is the struct fe_progress. */
void fe_progress_on_event(void *ctx, const struct idp_event *ev);
/* "<tag>: digest: <digest> size: <size>" (tag NULL: the digest is used). */
void fe_progress_finish(struct fe_progress *p, const char *tag, const char *digest, size_t size);
/* Verbose summary: bytes read from the source (-1 unknown), uploaded,
 * skipped, elapsed time and throughput. Printed only when verbose. */
void fe_progress_summary(struct fe_progress *p, const struct idp_push_stats *st,
			 int64_t bytes_read);

/* "12.3MB" (decimal units like docker), into buf. */
const char *fe_human_size(int64_t n, char *buf, size_t len);

#endif
