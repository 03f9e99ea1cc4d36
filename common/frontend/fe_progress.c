/* fe_progress.c: docker-push-style rendering of engine events (TTY redraw,
 * plain state-change lines, JSON lines via json-c). */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "fe_msg.h"
#include "fe_progress.h"
#include "http.h"
#include "banned.h"

#define ID_LEN 12
#define STATUS_MAX 128
#define BAR_WIDTH 50

enum render { R_QUIET, R_TTY, R_PLAIN, R_JSON };

struct pline {
	char id[ID_LEN + 8];
	char state[STATUS_MAX];  /* last state, to print plain lines once */
	int64_t json_last;       /* bytes at the last JSON progress line */
};

struct fe_progress {
	enum render r;
	int verbose;
	FILE *out;
	int n, alloc;
	struct pline *lines;
	int64_t started_ms;
};

struct fe_progress *fe_progress_new(int mode, int quiet, int verbose, FILE *out)
{
	struct fe_progress *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->out = out;
	p->verbose = verbose;
	p->started_ms = idp_now_ms();
	if (quiet)
		p->r = R_QUIET;
	else if (mode == FE_PROGRESS_JSON)
		p->r = R_JSON;
	else if (mode == FE_PROGRESS_TTY || (mode == FE_PROGRESS_AUTO && isatty(fileno(out))))
		p->r = R_TTY;
	else
		p->r = R_PLAIN;
	return p;
}

void fe_progress_free(struct fe_progress *p)
{
	if (!p)
		return;
	free(p->lines);
	free(p);
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

static void short_id(const char *id, char out[ID_LEN + 1])
{
	if (!id)
		id = "";
	if (strncmp(id, "sha256:", 7) == 0)
		id += 7;
	snprintf(out, ID_LEN + 1, "%s", id);
}

static void emit_json(struct fe_progress *p, json_object *o)
{
	fprintf(p->out, "%s\n",
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(p->out);
	json_object_put(o);
}

static void json_status(struct fe_progress *p, const char *status, const char *id,
			const char *digest, int64_t cur, int64_t total)
{
	json_object *o = json_object_new_object(), *d;

	json_object_object_add(o, "status", json_object_new_string(status));
	if (id)
		json_object_object_add(o, "id", json_object_new_string(id));
	if (digest)
		json_object_object_add(o, "digest", json_object_new_string(digest));
	if (cur >= 0) {
		d = json_object_new_object();
		json_object_object_add(d, "current", json_object_new_int64(cur));
		if (total >= 0)
			json_object_object_add(d, "total", json_object_new_int64(total));
		json_object_object_add(o, "progressDetail", d);
	}
	emit_json(p, o);
}

void fe_progress_start(struct fe_progress *p, const char *repository)
{
	char msg[600];

	snprintf(msg, sizeof(msg), "The push refers to repository [%s]", repository);
	if (p->r == R_JSON)
		json_status(p, msg, NULL, NULL, -1, -1);
	else if (p->r != R_QUIET)
		fprintf(p->out, "%s\n", msg);
}

static struct pline *find_line(struct fe_progress *p, const char *id, int *index)
{
	struct pline *l;
	int i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->lines[i].id, id) == 0) {
			*index = i;
			return &p->lines[i];
		}
	if (p->n == p->alloc) {
		int na = p->alloc ? p->alloc * 2 : 16;
		if (!(l = realloc(p->lines, sizeof(*l) * (size_t)na)))
			return NULL;
		p->lines = l;
		p->alloc = na;
	}
	l = &p->lines[p->n];
	memset(l, 0, sizeof(*l));
	snprintf(l->id, sizeof(l->id), "%s", id);
	l->json_last = -1;
	*index = p->n++;
	if (p->r == R_TTY)   /* a new line at the bottom: the cursor stays under it */
		fprintf(p->out, "%s: \n", l->id);
	return l;
}

static void bar(char *out, size_t len, int64_t done, int64_t total)
{
	char a[16], b[16], fill[BAR_WIDTH + 1];
	int w = total > 0 ? (int)(done * BAR_WIDTH / total) : 0, i;

	if (w > BAR_WIDTH)
		w = BAR_WIDTH;
	for (i = 0; i < BAR_WIDTH; i++)
		fill[i] = i < w ? '=' : (i == w ? '>' : ' ');
	fill[BAR_WIDTH] = '\0';
	fe_human_size(done, a, sizeof(a));
	if (total > 0)
		snprintf(out, len, "[%s]  %s/%s", fill, a, fe_human_size(total, b, sizeof(b)));
	else
		snprintf(out, len, "%s", a);
}

/* Rewrite line idx in place: up, clear, text, back down. */
static void tty_draw(struct fe_progress *p, int idx, const char *text)
{
	int up = p->n - idx;

	fprintf(p->out, "\033[%dA\r\033[2K%s: %s\033[%dB\r", up, p->lines[idx].id, text, up);
	fflush(p->out);
}

static void render(struct fe_progress *p, const char *id, const char *digest, const char *state,
		   int64_t done, int64_t total)
{
	char sid[ID_LEN + 1], text[STATUS_MAX + 64], detail[STATUS_MAX];
	struct pline *l;
	int idx, changed;

	short_id(id ? id : digest, sid);
	if (p->r == R_QUIET || !(l = find_line(p, sid, &idx)))
		return;
	changed = strcmp(l->state, state) != 0;
	snprintf(l->state, sizeof(l->state), "%s", state);
	if (p->r == R_PLAIN) {
		if (changed)
			fprintf(p->out, "%s: %s\n", sid, state);
		return;
	}
	if (p->r == R_JSON) {
		int64_t step = total > 0 ? total / 100 : (1 << 20);
		if (changed || done == total || done - l->json_last >= step || done < 0) {
			l->json_last = done;
			json_status(p, state, sid, digest,
				    strcmp(state, "Pushing") == 0 ? done : -1, total);
		}
		return;
	}
	if (strcmp(state, "Pushing") == 0) {
		bar(detail, sizeof(detail), done, total);
		snprintf(text, sizeof(text), "%-8s %s", state, detail);
	} else {
		snprintf(text, sizeof(text), "%s", state);
	}
	tty_draw(p, idx, text);
}

void fe_progress_preparing(struct fe_progress *p, const char *id)
{
	render(p, id, NULL, "Preparing", -1, -1);
}

static void on_mounted(struct fe_progress *p, const struct idp_event *ev)
{
	char state[STATUS_MAX];

	snprintf(state, sizeof(state), "Mounted from %s", ev->text ? ev->text : "?");
	render(p, ev->id, ev->digest, state, -1, -1);
}

void fe_progress_on_event(void *ctx, const struct idp_event *ev)
{
	struct fe_progress *p = ctx;

	switch (ev->kind) {
	case IDP_EV_WAITING: render(p, ev->id, ev->digest, "Waiting", -1, -1); break;
	case IDP_EV_PUSHING: render(p, ev->id, ev->digest, "Pushing", ev->done, ev->total); break;
	case IDP_EV_EXISTS: render(p, ev->id, ev->digest, "Layer already exists", -1, -1); break;
	case IDP_EV_MOUNTED: on_mounted(p, ev); break;
	case IDP_EV_PUSHED: render(p, ev->id, ev->digest, "Pushed", -1, -1); break;
	case IDP_EV_MANIFEST: break;   /* the top one is reported by fe_progress_finish */
	case IDP_EV_WARNING: fe_warnf("%s", ev->text ? ev->text : ""); break;
	case IDP_EV_DEBUG:
		if (p->verbose)
			fe_debug_sink(NULL, ev->text ? ev->text : "");
		break;
	}
}

void fe_progress_finish(struct fe_progress *p, const char *tag, const char *digest, size_t size)
{
	json_object *o, *aux;
	char msg[256];

	if (p->r == R_QUIET)
		return;
	snprintf(msg, sizeof(msg), "%s: digest: %s size: %zu", tag ? tag : digest, digest, size);
	if (p->r != R_JSON) {
		fprintf(p->out, "%s\n", msg);
		return;
	}
	json_status(p, msg, NULL, NULL, -1, -1);
	o = json_object_new_object();
	aux = json_object_new_object();
	json_object_object_add(aux, "Tag", json_object_new_string(tag ? tag : ""));
	json_object_object_add(aux, "Digest", json_object_new_string(digest));
	json_object_object_add(aux, "Size", json_object_new_int64((int64_t)size));
	json_object_object_add(o, "aux", aux);
	emit_json(p, o);
}

void fe_progress_summary(struct fe_progress *p, const struct idp_push_stats *st, int64_t bytes_read)
{
	char r[16], u[16], s[16], t[16];
	double secs = (double)(idp_now_ms() - p->started_ms) / 1000.0;
	int64_t moved = st->bytes_uploaded;

	if (!p->verbose)
		return;
	if (bytes_read < 0)   /* random-access sources read exactly what they upload */
		bytes_read = st->bytes_uploaded;
	fe_infof("read %s, uploaded %s (%d blobs), skipped %s (%d existed, %d mounted) in %.1fs, "
		 "%s/s",
		 fe_human_size(bytes_read, r, sizeof(r)),
		 fe_human_size(st->bytes_uploaded, u, sizeof(u)), st->blobs_pushed,
		 fe_human_size(st->bytes_skipped, s, sizeof(s)), st->blobs_existed,
		 st->blobs_mounted, secs,
		 fe_human_size(secs > 0 ? (int64_t)((double)moved / secs) : moved, t, sizeof(t)));
}
