/* fe_progress_json.c: --progress json, one object per line through json-c,
 * in the schema docs/progress-json.md describes (the Docker Engine
 * push-stream members, plus "event" and the result and error events). */
#include "config.h"
#include <string.h>
#include <json-c/json.h>
#include "fe_progress_private.h"
#include "banned.h"

#define JSON_EVERY_MS 500   /* progress events per blob at most this often */

/* One line on out, and o freed. */
static void emit_to(FILE *out, json_object *o)
{
	fprintf(out, "%s\n",
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(out);
	json_object_put(o);
}

static void emit(struct fe_progress *p, json_object *o)
{
	emit_to(p->out, o);
}

static json_object *event(const char *kind)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "event", json_object_new_string(kind));
	return o;
}

static void add_str(json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, json_object_new_string(v));
}

static void add_int(json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

void fe_json_start(struct fe_progress *p, const char *repository, const char *status)
{
	json_object *o = event("start");

	add_str(o, "status", status);
	add_str(o, "repository", repository);
	emit(p, o);
}

static const char *state_name(enum fe_state st)
{
	static const char *const names[] = { "", "preparing", "waiting", "pushing",
					     "exists", "mounted", "pushed" };
	return names[st];
}

static void add_detail(json_object *o, const struct fe_line *l)
{
	json_object *d = json_object_new_object();

	add_int(d, "current", l->done);
	if (l->total >= 0)
		add_int(d, "total", l->total);
	json_object_object_add(o, "progressDetail", d);
}

/* {"event":"blob"|"progress","status","id","digest",...} for line l. */
static json_object *line_object(const struct fe_line *l, const char *kind)
{
	char st[FE_STATUS_MAX];
	json_object *o = event(kind);

	add_str(o, "status", fe_state_status(l, st, sizeof(st)));
	add_str(o, "id", l->id);
	if (l->digest[0])
		add_str(o, "digest", l->digest);
	return o;
}

static void blob_event(struct fe_progress *p, struct fe_line *l)
{
	json_object *o = line_object(l, "blob");

	add_str(o, "state", state_name(l->st));
	if (l->st == FE_ST_PUSHING)
		add_detail(o, l);
	if (l->st == FE_ST_MOUNTED)
		add_str(o, "from", l->from);
	if (l->st >= FE_ST_EXISTS && l->size >= 0)
		add_int(o, "size", l->size);
	emit(p, o);
}

void fe_json_line(struct fe_progress *p, struct fe_line *l, int changed)
{
	int64_t now = fe_progress_now(p);
	json_object *o;

	if (changed) {
		blob_event(p, l);
	} else {
		if (now - l->said_ms < JSON_EVERY_MS || l->done <= l->said_done)
			return;
		o = line_object(l, "progress");
		add_detail(o, l);
		emit(p, o);
	}
	l->said_ms = now;
	l->said_done = l->done;
}

void fe_json_write_message(FILE *out, const char *kind, const char *msg)
{
	json_object *o = event(kind);

	add_str(o, "message", msg);
	emit_to(out, o);
}


static json_object *summary(const struct fe_progress_result *r, int64_t elapsed_ms)
{
	const struct idp_push_stats *st = r->stats;
	json_object *s = json_object_new_object();

	add_int(s, "layersPushed", st->blobs_pushed);
	add_int(s, "layersExisted", st->blobs_existed);
	add_int(s, "layersMounted", st->blobs_mounted);
	add_int(s, "bytesUploaded", st->bytes_uploaded);
	add_int(s, "bytesSkipped", st->bytes_skipped);
	if (r->bytes_read >= 0)
		add_int(s, "bytesRead", r->bytes_read);
	add_int(s, "elapsedMs", elapsed_ms);
	add_int(s, "bytesPerSecond",
		elapsed_ms > 0 ? (int64_t)((double)st->bytes_uploaded * 1000.0 / (double)elapsed_ms)
			       : 0);
	return s;
}

void fe_json_finish(struct fe_progress *p, const struct fe_progress_result *r,
		    const char *status, int64_t elapsed_ms)
{
	char ref[1024];
	json_object *o = event("digest"), *aux;

	add_str(o, "status", status);
	emit(p, o);
	o = event("result");
	aux = json_object_new_object();
	add_str(aux, "Tag", r->tag ? r->tag : "");
	add_str(aux, "Digest", r->digest);
	add_int(aux, "Size", (int64_t)r->size);
	json_object_object_add(o, "aux", aux);
	snprintf(ref, sizeof(ref), "%s@%s", r->target ? r->target : "", r->digest);
	add_str(o, "target", r->target ? r->target : "");
	add_str(o, "reference", ref);
	json_object_object_add(o, "summary", summary(r, elapsed_ms));
	emit(p, o);
}

void fe_json_write_error(FILE *out, const char *msg, int exit_code)
{
	json_object *o = event("error"), *d = json_object_new_object();

	add_str(d, "message", msg);
	json_object_object_add(o, "errorDetail", d);
	add_str(o, "error", msg);
	add_int(o, "exitCode", exit_code);
	emit_to(out, o);
}

