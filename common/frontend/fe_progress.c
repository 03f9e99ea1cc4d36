/* fe_progress.c: docker-push-style rendering of engine events: lines
 * redrawn in place on a terminal (rate-limited frames), sparse plain lines
 * for logs, the summary line; JSON is in fe_progress_json.c. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "util/error.h"
#include "fe_msg.h"
#include "fe_progress_private.h"
#include "registry/http.h"
#include "banned.h"

#define BAR_MAX 50
#define BAR_MIN 10
#define FRAME_MS 100           /* TTY: at most 10 progress frames a second */
#define PLAIN_EVERY_MS 10000   /* plain: an "x of y" line at most this often per blob */
#define LINE_MAX 512

static int64_t default_now(void *ctx)
{
	(void)ctx;
	return idp_now_ms();
}

int64_t fe_progress_now(struct fe_progress *p)
{
	return p->now(p->now_ctx);
}

static enum fe_render pick(int mode, int quiet, FILE *out)
{
	const char *term = getenv("TERM");

	if (quiet)
		return FE_R_QUIET;
	if (mode == FE_PROGRESS_JSON)
		return FE_R_JSON;
	if (mode == FE_PROGRESS_TTY)
		return FE_R_TTY;
	if (mode == FE_PROGRESS_AUTO && isatty(fileno(out)) && !(term && !strcmp(term, "dumb")))
		return FE_R_TTY;
	return FE_R_PLAIN;
}

struct fe_progress *fe_progress_new(int mode, int quiet, int verbose, FILE *out)
{
	struct fe_progress *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	pthread_mutex_init(&p->mu, NULL);
	p->out = out;
	p->verbose = verbose;
	p->now = default_now;
	p->started_ms = fe_progress_now(p);
	p->r = pick(mode, quiet, out);
	return p;
}

void fe_progress_free(struct fe_progress *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->mu);
	free(p->lines);
	free(p);
}

void fe_progress_set_clock(struct fe_progress *p, int64_t (*now)(void *ctx), void *ctx)
{
	p->now = now;
	p->now_ctx = ctx;
	p->started_ms = fe_progress_now(p);
}

void fe_progress_set_size(struct fe_progress *p, int cols, int rows)
{
	p->cols = cols;
	p->rows = rows;
}

const char *fe_human_size(int64_t n, char *buf, size_t len)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1000.0 && u < 5) {
		v /= 1000.0;
		u++;
	}
	snprintf(buf, len, "%.3g%s", v, units[u]);
	return buf;
}

/* The id a line shows: its first FE_ID_LEN bytes (a digest's hex), escaped
 * like registry text (error.h): an id comes from outside (a docker save
 * stream names its layers) and must not drive the terminal. */
static void short_id(const char *id, char out[FE_ID_SHOWN])
{
	char raw[FE_ID_LEN + 1];

	if (!id)
		id = "";
	if (strncmp(id, "sha256:", 7) == 0)
		id += 7;
	snprintf(raw, sizeof(raw), "%s", id);
	idp_text_escape(out, FE_ID_SHOWN, raw);
}

const char *fe_state_status(const struct fe_line *l, char *buf, size_t len)
{
	static const char *const names[] = { "", "Preparing", "Waiting", "Pushing",
					     "Layer already exists", "Mounted from", "Pushed" };

	if (l->st == FE_ST_MOUNTED)
		snprintf(buf, len, "Mounted from %s", l->from);
	else
		snprintf(buf, len, "%s", names[l->st]);
	return buf;
}

/* ---- the terminal ---- */

/* The terminal's size (cols, rows; rows 0 = unknown). */
static void term_size(const struct fe_progress *p, int *cols, int *rows)
{
	struct winsize ws;

	*cols = p->cols;
	*rows = p->rows;
	if (p->cols > 0)
		return;
	*cols = 80;
	*rows = 0;
	if (ioctl(fileno(p->out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

/* "[=====>    ]  12.3MB/45.6MB", the bar only when width allows; never a
 * full bar (the blob is not done while it is pushing). */
static void bar(char *out, size_t len, int64_t done, int64_t total, int width)
{
	char a[16], b[16], fill[BAR_MAX + 1];
	int w, i;

	fe_human_size(done, a, sizeof(a));
	if (total <= 0) {
		snprintf(out, len, "%s", a);
		return;
	}
	fe_human_size(total, b, sizeof(b));
	if (width < BAR_MIN) {
		snprintf(out, len, "%s/%s", a, b);
		return;
	}
	w = (int)(done * width / total);
	if (w >= width)
		w = width - 1;
	for (i = 0; i < width; i++)
		fill[i] = i < w ? '=' : (i == w ? '>' : ' ');
	fill[width] = '\0';
	snprintf(out, len, "[%s]  %s/%s", fill, a, b);
}

/* The text of line l, at most cols - 1 columns (a wrapped line would
 * break the redraw). */
static void line_text(const struct fe_line *l, int cols, char *out, size_t len)
{
	char st[FE_STATUS_MAX], detail[128];
	/* "<id>: Pushing  [" ... "]  999MB/999MB" */
	int bw = cols - 1 - (FE_ID_LEN + 2) - 9 - 2 - 15;

	fe_state_status(l, st, sizeof(st));
	if (l->st == FE_ST_PUSHING) {
		bar(detail, sizeof(detail), l->done, l->total, bw > BAR_MAX ? BAR_MAX : bw);
		snprintf(out, len, "%s: %-8s %s", l->id, st, detail);
	} else {
		snprintf(out, len, "%s: %s", l->id, st);
	}
	if (cols > 1 && strlen(out) > (size_t)cols - 1)
		out[cols - 1] = '\0';
}

/* Rewrite line i in place: up, clear, text, back down. Lines scrolled
 * off the screen are left alone. */
static void tty_draw(struct fe_progress *p, int i, int cols, int rows)
{
	char text[LINE_MAX];
	int up = p->n - i;

	p->lines[i].dirty = 0;
	if (rows > 0 && up > rows - 1)
		return;
	line_text(&p->lines[i], cols, text, sizeof(text));
	fprintf(p->out, "\033[%dA\r\033[2K%s\033[%dB\r", up, text, up);
}

/* Redraw every line that changed, in one flush. */
static void tty_frame(struct fe_progress *p)
{
	int cols, rows, i;

	term_size(p, &cols, &rows);
	for (i = 0; i < p->n; i++)
		if (p->lines[i].dirty)
			tty_draw(p, i, cols, rows);
	fflush(p->out);
	p->frame_ms = fe_progress_now(p);
}

/* A message line above the blob lines: clear them, print it, draw them
 * again below it. */
static void tty_message(struct fe_progress *p, const char *text)
{
	char line[LINE_MAX];
	int cols, rows, first, i;

	term_size(p, &cols, &rows);
	first = rows > 0 && p->n > rows - 1 ? p->n - (rows - 1) : 0;
	if (p->n > first)
		fprintf(p->out, "\033[%dA\r\033[J", p->n - first);
	fprintf(p->out, "%s\n", text);
	for (i = first; i < p->n; i++) {
		line_text(&p->lines[i], cols, line, sizeof(line));
		fprintf(p->out, "\033[2K%s\n", line);
		p->lines[i].dirty = 0;
	}
	fflush(p->out);
}

/* ---- lines ---- */

static struct fe_line *find_line(struct fe_progress *p, const char *id)
{
	char sid[FE_ID_SHOWN];
	struct fe_line *l;
	int i;

	short_id(id, sid);
	for (i = 0; i < p->n; i++)
		if (strcmp(p->lines[i].id, sid) == 0)
			return &p->lines[i];
	if (p->n == p->alloc) {
		int na = p->alloc ? p->alloc * 2 : 16;
		if (!(l = realloc(p->lines, sizeof(*l) * (size_t)na)))
			return NULL;
		p->lines = l;
		p->alloc = na;
	}
	l = &p->lines[p->n++];
	memset(l, 0, sizeof(*l));
	snprintf(l->id, sizeof(l->id), "%s", sid);
	l->size = -1;
	if (p->r == FE_R_TTY)   /* a new row at the bottom: the cursor stays under it */
		fprintf(p->out, "%s:\n", l->id);
	return l;
}

static void plain_state(struct fe_progress *p, struct fe_line *l)
{
	char st[FE_STATUS_MAX];

	fprintf(p->out, "%s: %s\n", l->id, fe_state_status(l, st, sizeof(st)));
	fflush(p->out);
	l->said_ms = fe_progress_now(p);
	l->said_done = l->done;
}

/* A long upload: "<id>: Pushing 12.3MB of 45.6MB (27%)" every so often. */
static void plain_moved(struct fe_progress *p, struct fe_line *l)
{
	char a[16], b[16];
	int64_t now = fe_progress_now(p);

	if (now - l->said_ms < PLAIN_EVERY_MS || l->done <= l->said_done)
		return;
	fe_human_size(l->done, a, sizeof(a));
	if (l->total > 0)
		fprintf(p->out, "%s: Pushing %s of %s (%d%%)\n", l->id, a,
			fe_human_size(l->total, b, sizeof(b)), (int)(l->done * 100 / l->total));
	else
		fprintf(p->out, "%s: Pushing %s\n", l->id, a);
	fflush(p->out);
	l->said_ms = now;
	l->said_done = l->done;
}

/* Show line l after it changed state (changed) or moved. */
static void show(struct fe_progress *p, struct fe_line *l, int changed)
{
	switch (p->r) {
	case FE_R_QUIET: break;
	case FE_R_JSON: fe_json_line(p, l, changed); break;
	case FE_R_PLAIN:
		if (changed)
			plain_state(p, l);
		else
			plain_moved(p, l);
		break;
	case FE_R_TTY:
		l->dirty = 1;
		if (changed || fe_progress_now(p) - p->frame_ms >= FRAME_MS)
			tty_frame(p);
		break;
	}
}

/* Blob id (or digest) is now in state st. */
static void update(struct fe_progress *p, const struct idp_event *ev, enum fe_state st)
{
	const char *id = ev->id ? ev->id : ev->digest;
	struct fe_line *l;
	int64_t done;
	int changed;

	if (p->r == FE_R_QUIET || !id || !(l = find_line(p, id)))
		return;
	/* pushing, the blob is not done: below its total */
	done = ev->total > 0 && ev->done >= ev->total ? ev->total - 1 : ev->done < 0 ? 0 : ev->done;
	changed = l->st != st;
	if (!changed && (st != FE_ST_PUSHING || done <= l->done))
		return;   /* nothing new to show */
	l->st = st;
	if (ev->digest)
		idp_text_escape(l->digest, sizeof(l->digest), ev->digest);
	if (st == FE_ST_PUSHING) {
		l->done = done;
		l->total = ev->total;
	} else if (st >= FE_ST_EXISTS) {
		l->size = ev->total;
	}
	if (st == FE_ST_MOUNTED)
		idp_text_escape(l->from, sizeof(l->from), ev->text ? ev->text : "?");
	show(p, l, changed);
}

static void lock_update(struct fe_progress *p, const struct idp_event *ev, enum fe_state st)
{
	pthread_mutex_lock(&p->mu);
	update(p, ev, st);
	pthread_mutex_unlock(&p->mu);
}

void fe_progress_preparing(struct fe_progress *p, const char *id)
{
	struct idp_event ev = { IDP_EV_WAITING, id, NULL, -1, -1, NULL };
	lock_update(p, &ev, FE_ST_PREPARING);
}

/* ---- messages ---- */

/* One message line ("warning", "info", "debug"), escaped. */
static void message(struct fe_progress *p, const char *kind, const char *msg)
{
	char safe[2048], line[2200];

	idp_text_escape(safe, sizeof(safe), msg ? msg : "");
	pthread_mutex_lock(&p->mu);
	if (p->r == FE_R_JSON) {
		fe_json_write_message(p->out, kind, safe);
	} else {
		if (strcmp(kind, "info") == 0)
			snprintf(line, sizeof(line), "%s: %s", fe_progname, safe);
		else
			snprintf(line, sizeof(line), "%s: %s: %s", fe_progname, kind, safe);
		if (p->r == FE_R_TTY && p->n > 0) {
			tty_message(p, line);
		} else {
			fprintf(p->out, "%s\n", line);
			fflush(p->out);
		}
	}
	pthread_mutex_unlock(&p->mu);
}

void fe_progress_warn_sink(void *ctx, const char *msg)
{
	message(ctx, "warning", msg);
}

void fe_progress_info_sink(void *ctx, const char *msg)
{
	message(ctx, "info", msg);
}

void fe_progress_debug_sink(void *ctx, const char *line)
{
	struct fe_progress *p = ctx;
	if (p->verbose >= 2)
		message(p, "debug", line);
}

void fe_progress_on_event(void *ctx, const struct idp_event *ev)
{
	struct fe_progress *p = ctx;

	switch (ev->kind) {
	case IDP_EV_PREPARING: lock_update(p, ev, FE_ST_PREPARING); break;
	case IDP_EV_WAITING: lock_update(p, ev, FE_ST_WAITING); break;
	case IDP_EV_PUSHING: lock_update(p, ev, FE_ST_PUSHING); break;
	case IDP_EV_EXISTS: lock_update(p, ev, FE_ST_EXISTS); break;
	case IDP_EV_MOUNTED: lock_update(p, ev, FE_ST_MOUNTED); break;
	case IDP_EV_PUSHED: lock_update(p, ev, FE_ST_PUSHED); break;
	case IDP_EV_MANIFEST: break;   /* the top one is reported by fe_progress_finish */
	case IDP_EV_WARNING: fe_progress_warn_sink(p, ev->text); break;
	case IDP_EV_DEBUG: fe_progress_debug_sink(p, ev->text); break;
	}
}

/* ---- start and end ---- */

void fe_progress_start(struct fe_progress *p, const char *repository)
{
	char msg[600];

	snprintf(msg, sizeof(msg), "The push refers to repository [%s]", repository);
	pthread_mutex_lock(&p->mu);
	if (p->r == FE_R_JSON) {
		fe_json_start(p, repository, msg);
	} else if (p->r != FE_R_QUIET) {
		fprintf(p->out, "%s\n", msg);
		fflush(p->out);
	}
	pthread_mutex_unlock(&p->mu);
}

static void plural(char *buf, size_t len, int n, const char *what)
{
	snprintf(buf, len, "%d %s%s", n, what, n == 1 ? "" : "s");
}

const char *fe_progress_summary(char *buf, size_t len, const struct idp_push_stats *st,
				int64_t elapsed_ms)
{
	char up[16], rate[16], skip[16], n[32];
	double secs = (double)elapsed_ms / 1000.0;
	size_t o;

	plural(n, sizeof(n), st->blobs_pushed, "layer");
	fe_human_size(st->bytes_uploaded, up, sizeof(up));
	o = (size_t)snprintf(buf, len, "pushed %s (%s) in %.1fs", n, up, secs);
	if (st->bytes_uploaded > 0 && elapsed_ms > 0 && o < len)
		o += (size_t)snprintf(buf + o, len - o, " (%s/s)",
				      fe_human_size((int64_t)((double)st->bytes_uploaded / secs),
						    rate, sizeof(rate)));
	if (st->blobs_existed && o < len)
		o += (size_t)snprintf(buf + o, len - o, ", %d existed", st->blobs_existed);
	if (st->blobs_mounted && o < len)
		o += (size_t)snprintf(buf + o, len - o, ", %d mounted", st->blobs_mounted);
	if (st->bytes_skipped > 0 && o < len)
		snprintf(buf + o, len - o, " (%s skipped)",
			 fe_human_size(st->bytes_skipped, skip, sizeof(skip)));
	return buf;
}

static void human_finish(struct fe_progress *p, const struct fe_progress_result *r,
			 const char *status, int64_t elapsed_ms)
{
	char sum[256], rd[16];

	if (p->r == FE_R_TTY)
		tty_frame(p);   /* what a rate-limited frame left out */
	fprintf(p->out, "%s\n", status);
	fe_progress_summary(sum, sizeof(sum), r->stats, elapsed_ms);
	if (p->verbose && r->bytes_read >= 0)
		fprintf(p->out, "%s; read %s from the source\n", sum,
			fe_human_size(r->bytes_read, rd, sizeof(rd)));
	else
		fprintf(p->out, "%s\n", sum);
	fflush(p->out);
}

void fe_progress_finish(struct fe_progress *p, const struct fe_progress_result *r)
{
	char status[256];
	int64_t elapsed = fe_progress_now(p) - p->started_ms;

	snprintf(status, sizeof(status), "%s: digest: %s size: %zu", r->tag ? r->tag : r->digest,
		 r->digest, r->size);
	pthread_mutex_lock(&p->mu);
	if (p->r == FE_R_JSON)
		fe_json_finish(p, r, status, elapsed);
	else if (p->r != FE_R_QUIET)
		human_finish(p, r, status, elapsed);
	pthread_mutex_unlock(&p->mu);
}

int fe_progress_error(struct fe_progress *p, const char *msg, int exit_code)
{
	int json;

	pthread_mutex_lock(&p->mu);
	json = p->r == FE_R_JSON;
	if (json)
		fe_json_write_error(p->out, msg, exit_code);
	else if (p->r == FE_R_TTY && p->n > 0)
		tty_frame(p);   /* the lines as they stood, before the error line */
	pthread_mutex_unlock(&p->mu);
	return json;
}
