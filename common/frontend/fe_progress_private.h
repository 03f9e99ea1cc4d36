/* fe_progress_private.h: the renderer's state, shared by fe_progress.c
 * (TTY, plain, the summary) and fe_progress_json.c (JSON events). Nobody
 * else includes it. */
#ifndef IDP_FE_PROGRESS_PRIVATE_H
#define IDP_FE_PROGRESS_PRIVATE_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include "fe_progress.h"

#define FE_ID_LEN 12
/* an id as shown: FE_ID_LEN bytes escaped (idp_text_escape: at most 4 a byte) */
#define FE_ID_SHOWN (FE_ID_LEN * 4 + 1)
#define FE_STATUS_MAX 160

enum fe_render { FE_R_QUIET, FE_R_TTY, FE_R_PLAIN, FE_R_JSON };

/* The states of a blob line, in the order they can come. */
enum fe_state { FE_ST_NONE, FE_ST_PREPARING, FE_ST_WAITING, FE_ST_PUSHING, FE_ST_EXISTS,
		FE_ST_MOUNTED, FE_ST_PUSHED };

struct fe_line {
	char id[FE_ID_SHOWN];      /* escaped, as every id from outside is */
	char digest[IDP_DIGEST_MAX];
	enum fe_state st;
	char from[FE_STATUS_MAX - 16];   /* mounted from this repository */
	int64_t done, total;       /* pushing: bytes, total -1 unknown */
	int64_t size;              /* exists/mounted/pushed: bytes, -1 unknown */
	int dirty;                 /* TTY: to redraw */
	int64_t said_ms;           /* plain, JSON: when it was last written about */
	int64_t said_done;         /* plain, JSON: done then */
};

struct fe_progress {
	enum fe_render r;
	int verbose;
	FILE *out;
	pthread_mutex_t mu;
	int n, alloc;
	struct fe_line *lines;
	int64_t started_ms;
	int64_t frame_ms;          /* TTY: the last progress frame */
	int cols, rows;            /* fe_progress_set_size; 0: ask the terminal */
	int64_t (*now)(void *ctx);
	void *now_ctx;
};

int64_t fe_progress_now(struct fe_progress *p);
/* "Pushing", "Layer already exists", "Mounted from <repo>", ... */
const char *fe_state_status(const struct fe_line *l, char *buf, size_t len);

/* JSON (fe_progress_json.c); called with the lock held. */
void fe_json_start(struct fe_progress *p, const char *repository, const char *status);
/* A line changed state (changed) or moved. */
void fe_json_line(struct fe_progress *p, struct fe_line *l, int changed);
void fe_json_finish(struct fe_progress *p, const struct fe_progress_result *r,
		    const char *status, int64_t elapsed_ms);

#endif
