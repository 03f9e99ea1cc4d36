/* test_fe_progress.c: what each progress mode writes for the same events,
 * on a clock the test moves: plain lines only on state changes (and an
 * "x of y" line at most every 10 s), never an escape code; TTY redraws
 * in place, at most 10 progress frames a second, never a full bar before
 * the blob is pushed, lines within the terminal's width, messages above
 * the lines; JSON one parseable object per line with the documented
 * members, rate-limited, no event twice, the result event last; the
 * summary line; quiet nothing. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "unit.h"
#include "frontend/fe_progress.h"

#define D "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
#define D2 "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"
#define TOTAL 3000000
#define REPO "gitea.cnoe.localtest.me:8443/giteaadmin/myapp"

struct clock {
	int64_t ms;
};

static int64_t clock_now(void *ctx)
{
	return ((struct clock *)ctx)->ms;
}

struct run {
	char *text;
	size_t len;
	FILE *f;
	struct fe_progress *p;
	struct clock c;
};

static void run_open(struct run *r, int mode, int quiet, int verbose)
{
	memset(r, 0, sizeof(*r));
	r->f = open_memstream(&r->text, &r->len);
	r->p = fe_progress_new(mode, quiet, verbose, r->f);
	r->c.ms = 1000000;
	fe_progress_set_clock(r->p, clock_now, &r->c);
	fe_progress_set_size(r->p, 200, 0);
}

static char *run_close(struct run *r)
{
	fe_progress_free(r->p);
	fclose(r->f);
	return r->text;
}

static void ev(struct run *r, enum idp_event_kind k, const char *id, const char *digest,
	       int64_t done, int64_t total)
{
	struct idp_event e = { k, id, digest, done, total, NULL };
	fe_progress_on_event(r->p, &e);
}

static const struct idp_push_stats STATS = { 45600000, 2100000, 1, 1, 0 };

static void finish(struct run *r)
{
	struct fe_progress_result res = { REPO ":dev", "dev", D, 1234, &STATS, -1 };
	fe_progress_finish(r->p, &res);
}

/* One blob through waiting, pushing (a step every `step_ms` for `secs`
 * seconds, the last event at done == total) and pushed. */
static char *render(int mode, int quiet, int step_ms, int secs)
{
	struct run r;
	int64_t t, steps = (int64_t)secs * 1000 / step_ms;

	run_open(&r, mode, quiet, 0);
	fe_progress_start(r.p, REPO);
	ev(&r, IDP_EV_WAITING, "5f70bf18a086", D, 0, TOTAL);
	ev(&r, IDP_EV_PUSHING, "5f70bf18a086", D, 0, TOTAL);
	for (t = 1; t <= steps; t++) {
		r.c.ms += step_ms;
		ev(&r, IDP_EV_PUSHING, "5f70bf18a086", D, TOTAL * t / steps, TOTAL);
	}
	r.c.ms += 5;
	ev(&r, IDP_EV_PUSHED, "5f70bf18a086", D, TOTAL, TOTAL);
	ev(&r, IDP_EV_EXISTS, "a3ed95caeb02", D2, 2100000, 2100000);
	r.c.ms += 2000;
	finish(&r);
	return run_close(&r);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

static void test_plain(void)
{
	char *t = render(FE_PROGRESS_PLAIN, 0, 100, 3);

	CU_ASSERT_PTR_NOT_NULL(strstr(t, "The push refers to repository [" REPO "]\n"));
	CU_ASSERT_EQUAL(count(t, "5f70bf18a086: Waiting\n"), 1);
	CU_ASSERT_EQUAL(count(t, "5f70bf18a086: Pushing"), 1);   /* 3 s: no "x of y" line */
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "5f70bf18a086: Pushed\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "a3ed95caeb02: Layer already exists\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "dev: digest: " D " size: 1234\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "pushed 1 layer (45.6MB) in "));
	CU_ASSERT_PTR_NULL(strchr(t, '\033'));
	free(t);
}

/* A 35 s upload, an event every 50 ms: three "x of y" lines, 10 s apart. */
static void test_plain_sparse(void)
{
	char *t = render(FE_PROGRESS_PLAIN, 0, 50, 35), *a, *b;
	int lines = count(t, "\n");

	CU_ASSERT_EQUAL(count(t, "5f70bf18a086: Pushing "), 3);
	a = strstr(t, "5f70bf18a086: Pushing 857kB of 3MB (28%)\n");
	b = strstr(t, "5f70bf18a086: Pushing 1.71MB of 3MB (57%)\n");
	CU_ASSERT_PTR_NOT_NULL(a);
	CU_ASSERT_PTR_NOT_NULL(b);
	CU_ASSERT_TRUE(lines <= 10);
	CU_ASSERT_PTR_NULL(strchr(t, '\033'));
	free(t);
}

/* The last text drawn on a TTY for a line id, as a fresh string. */
static char *last_draw(const char *t, const char *id)
{
	const char *p = t, *q = NULL, *end;
	char key[64];

	snprintf(key, sizeof(key), "\033[2K%s: ", id);
	while ((p = strstr(p, key)))
		q = p++;
	if (!q)
		return strdup("");
	q += 4;
	end = q + strcspn(q, "\033\n");
	return strndup(q, (size_t)(end - q));
}

static void test_tty(void)
{
	char *t = render(FE_PROGRESS_TTY, 0, 100, 3), *last;

	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\033[1A"));   /* redraws in place */
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "1.5MB/3MB"));
	/* at done == total, still pushing: no full bar */
	CU_ASSERT_PTR_NOT_NULL(
		strstr(t, "[=================================================>]  3MB/3MB"));
	CU_ASSERT_PTR_NULL(strstr(t, "[==================================================]"));
	last = last_draw(t, "5f70bf18a086");
	CU_ASSERT_STRING_EQUAL(last, "5f70bf18a086: Pushed");
	free(last);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "dev: digest: " D " size: 1234\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "pushed 1 layer (45.6MB) in 5.0s (9.11MB/s), "
					 "1 existed (2.1MB skipped)\n"));
	free(t);
}

/* Events every 10 ms for 2 s: at most 10 frames a second (+ state changes). */
static void test_tty_rate(void)
{
	char *t = render(FE_PROGRESS_TTY, 0, 10, 2);
	int frames = count(t, "\033[2K5f70bf18a086: Pushing");

	CU_ASSERT_TRUE(frames >= 15);
	CU_ASSERT_TRUE(frames <= 22);
	free(t);
}

/* Several blobs in flight: each line is redrawn in its own row. */
static void test_tty_several(void)
{
	struct run r;
	char *t;

	run_open(&r, FE_PROGRESS_TTY, 0, 0);
	ev(&r, IDP_EV_PUSHING, "aaaaaaaaaaaa", NULL, 0, 1000);
	ev(&r, IDP_EV_PUSHING, "bbbbbbbbbbbb", NULL, 0, 1000);
	r.c.ms += 200;
	ev(&r, IDP_EV_PUSHING, "aaaaaaaaaaaa", NULL, 500, 1000);
	r.c.ms += 200;
	ev(&r, IDP_EV_PUSHING, "bbbbbbbbbbbb", NULL, 250, 1000);
	t = run_close(&r);
	CU_ASSERT_EQUAL(count(t, "\n"), 2);   /* one row per blob, no scrolling */
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\033[2A\r\033[2Kaaaaaaaaaaaa: Pushing  [=========="));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\033[1A\r\033[2Kbbbbbbbbbbbb: Pushing  [====="));
	free(t);
}

/* 80 columns: the bar shrinks, no line reaches the last column. */
static void test_tty_width(void)
{
	struct run r;
	char *t, *line, *save = NULL;

	run_open(&r, FE_PROGRESS_TTY, 0, 0);
	fe_progress_set_size(r.p, 80, 24);
	ev(&r, IDP_EV_PUSHING, "5f70bf18a086", D, 0, 345600000);
	r.c.ms += 200;
	ev(&r, IDP_EV_PUSHING, "5f70bf18a086", D, 123400000, 345600000);
	t = run_close(&r);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "123MB/346MB"));
	for (line = strtok_r(t, "\n\r", &save); line; line = strtok_r(NULL, "\n\r", &save)) {
		char *text = strstr(line, "\033[2K");
		text = text ? text + 4 : line;
		CU_ASSERT_TRUE(strcspn(text, "\033") < 80);
	}
	free(t);
}

/* A warning while lines are drawn goes above them; the lines follow. */
static void test_tty_message(void)
{
	struct run r;
	char *t, *w, *l;

	run_open(&r, FE_PROGRESS_TTY, 0, 0);
	ev(&r, IDP_EV_PUSHING, "aaaaaaaaaaaa", NULL, 0, 1000);
	ev(&r, IDP_EV_WAITING, "bbbbbbbbbbbb", NULL, 0, 1000);
	fe_progress_warn_sink(r.p, "resuming the upload");
	t = run_close(&r);
	w = strstr(t, "\033[2A\r\033[J");
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	CU_ASSERT_PTR_NOT_NULL(strstr(w, ": warning: resuming the upload\n"
					 "\033[2Kaaaaaaaaaaaa: Pushing  [>"));
	l = strstr(w, "\033[2Kbbbbbbbbbbbb: Waiting\n");
	CU_ASSERT_PTR_NOT_NULL(l);
	free(t);
}

static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;
	json_object_object_get_ex(o, key, &v);
	return v;
}

static const char *str(json_object *o, const char *key)
{
	json_object *v = member(o, key);
	return v ? json_object_get_string(v) : "";
}

static int64_t num(json_object *o, const char *key)
{
	json_object *v = member(o, key);
	return v ? json_object_get_int64(v) : -12345;
}

/* A progress event: current growing, below total. */
static void check_json_progress(json_object *o, int64_t *last_cur)
{
	json_object *d = member(o, "progressDetail");

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_TRUE(num(d, "current") > *last_cur);
	CU_ASSERT_TRUE(num(d, "current") < num(d, "total"));
	CU_ASSERT_STRING_EQUAL(str(o, "id"), "5f70bf18a086");
	CU_ASSERT_STRING_EQUAL(str(o, "status"), "Pushing");
	*last_cur = num(d, "current");
}

static void check_json_result(json_object *o)
{
	json_object *aux = member(o, "aux"), *s = member(o, "summary");

	CU_ASSERT_PTR_NOT_NULL_FATAL(aux);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(str(aux, "Tag"), "dev");
	CU_ASSERT_STRING_EQUAL(str(aux, "Digest"), D);
	CU_ASSERT_EQUAL(num(aux, "Size"), 1234);
	CU_ASSERT_STRING_EQUAL(str(o, "reference"), REPO ":dev@" D);
	CU_ASSERT_EQUAL(num(s, "layersPushed"), 1);
	CU_ASSERT_EQUAL(num(s, "layersExisted"), 1);
	CU_ASSERT_EQUAL(num(s, "layersMounted"), 0);
	CU_ASSERT_EQUAL(num(s, "bytesUploaded"), 45600000);
	CU_ASSERT_EQUAL(num(s, "bytesSkipped"), 2100000);
	CU_ASSERT_EQUAL(num(s, "elapsedMs"), 10000 + 5 + 2000);
	CU_ASSERT_EQUAL(num(s, "bytesPerSecond"), 45600000LL * 1000 / 12005);
}

static void test_json(void)
{
	char *t = render(FE_PROGRESS_JSON, 0, 20, 10), *line, *save = NULL, *prev = NULL;
	int n = 0, progress = 0, results = 0, blobs = 0;
	int64_t last_cur = -1;
	const char *kind;
	char last[32] = "";

	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
		json_object *o = json_tokener_parse(line);

		CU_ASSERT_PTR_NOT_NULL_FATAL(o);
		kind = str(o, "event");
		if (n == 0)
			CU_ASSERT_STRING_EQUAL(kind, "start");
		if (prev)
			CU_ASSERT_STRING_NOT_EQUAL(prev, line);
		if (!strcmp(kind, "progress")) {
			check_json_progress(o, &last_cur);
			progress++;
		} else if (!strcmp(kind, "blob")) {
			CU_ASSERT_TRUE(strlen(str(o, "state")) > 0);
			blobs++;
		} else if (!strcmp(kind, "result")) {
			check_json_result(o);
			results++;
		}
		snprintf(last, sizeof(last), "%s", kind);
		json_object_put(o);
		prev = line;
	}
	CU_ASSERT_STRING_EQUAL(last, "result");   /* the last line */
	CU_ASSERT_EQUAL(results, 1);
	CU_ASSERT_EQUAL(blobs, 4);   /* waiting, pushing, pushed, exists */
	/* 10 s of events every 20 ms: one progress event per 500 ms */
	CU_ASSERT_TRUE(progress >= 18 && progress <= 20);
	free(t);
}

/* The state events carry what docker's stream has, and more. */
static void test_json_members(void)
{
	struct run r;
	struct idp_event e = { IDP_EV_MOUNTED, "5f70bf18a086", D, 3000, 3000, "giteaadmin/base" };
	char *t;

	run_open(&r, FE_PROGRESS_JSON, 0, 0);
	fe_progress_on_event(r.p, &e);
	fe_progress_on_event(r.p, &e);   /* the same again: nothing */
	ev(&r, IDP_EV_PUSHING, "a3ed95caeb02", D2, 0, 10);
	fe_progress_warn_sink(r.p, "slow\033[2J");
	CU_ASSERT_EQUAL(fe_progress_error(r.p, "pushing blob a3ed95caeb02: refused", 5), 1);
	t = run_close(&r);
	CU_ASSERT_PTR_NOT_NULL(strstr(
		t, "{\"event\":\"blob\",\"status\":\"Mounted from giteaadmin/base\",\"id\":"
		   "\"5f70bf18a086\",\"digest\":\"" D "\",\"state\":\"mounted\",\"from\":"
		   "\"giteaadmin/base\",\"size\":3000}\n"));
	CU_ASSERT_EQUAL(count(t, "Mounted from"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(
		t, "{\"event\":\"blob\",\"status\":\"Pushing\",\"id\":\"a3ed95caeb02\",\"digest\":"
		   "\"" D2 "\",\"state\":\"pushing\",\"progressDetail\":{\"current\":0,"
		   "\"total\":10}}\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(t, "{\"event\":\"warning\",\"message\":\"slow\\\\x1b[2J\"}\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(
		t, "{\"event\":\"error\",\"errorDetail\":{\"message\":\"pushing blob "
		   "a3ed95caeb02: refused\"},\"error\":\"pushing blob a3ed95caeb02: refused\","
		   "\"exitCode\":5}\n"));
	free(t);
}

static void test_quiet(void)
{
	struct run r;
	char *t = render(FE_PROGRESS_TTY, 1, 100, 1);

	CU_ASSERT_STRING_EQUAL(t, "");
	free(t);
	run_open(&r, FE_PROGRESS_JSON, 1, 0);
	CU_ASSERT_EQUAL(fe_progress_error(r.p, "boom", 1), 0);
	t = run_close(&r);
	CU_ASSERT_STRING_EQUAL(t, "");
	free(t);
}

static void test_summary(void)
{
	const struct idp_push_stats a = { 352600000, 12000000, 3, 1, 1 };
	const struct idp_push_stats b = { 0, 30100000, 0, 4, 0 };
	const struct idp_push_stats c = { 1000, 0, 1, 0, 0 };
	char buf[256];

	CU_ASSERT_STRING_EQUAL(fe_progress_summary(buf, sizeof(buf), &a, 19200),
			       "pushed 3 layers (353MB) in 19.2s (18.4MB/s), 1 existed, 1 mounted "
			       "(12MB skipped)");
	CU_ASSERT_STRING_EQUAL(fe_progress_summary(buf, sizeof(buf), &b, 300),
			       "pushed 0 layers (0B) in 0.3s, 4 existed (30.1MB skipped)");
	CU_ASSERT_STRING_EQUAL(fe_progress_summary(buf, sizeof(buf), &c, 0),
			       "pushed 1 layer (1kB) in 0.0s");
}

/* A trace line and the end of a push at -v level `verbose`: the output. */
static char *verbose_output(int verbose)
{
	struct run r;
	struct fe_progress_result res = { REPO ":dev", "dev", D, 1234, &STATS, 50000000 };

	run_open(&r, FE_PROGRESS_PLAIN, 0, verbose);
	fe_progress_debug_sink(r.p, "> GET /v2/");
	fe_progress_finish(r.p, &res);
	return run_close(&r);
}

/* -vv: the trace; -v: the bytes read, no trace; neither: nothing. */
static void test_verbose(void)
{
	char *t = verbose_output(2);

	CU_ASSERT_PTR_NOT_NULL(strstr(t, ": debug: > GET /v2/\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "(2.1MB skipped); read 50MB from the source\n"));
	free(t);
	t = verbose_output(1);
	CU_ASSERT_PTR_NULL(strstr(t, "debug"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "(2.1MB skipped); read 50MB from the source\n"));
	free(t);
	t = verbose_output(0);
	CU_ASSERT_PTR_NULL(strstr(t, "debug"));
	CU_ASSERT_PTR_NULL(strstr(t, "read 50MB"));
	free(t);
}

static void test_human_size(void)
{
	char b[16];
	CU_ASSERT_STRING_EQUAL(fe_human_size(0, b, sizeof(b)), "0B");
	CU_ASSERT_STRING_EQUAL(fe_human_size(12345678, b, sizeof(b)), "12.3MB");
	CU_ASSERT_STRING_EQUAL(fe_human_size(999, b, sizeof(b)), "999B");
}

/* An id from outside (a docker save stream names its layers) is escaped
 * like registry text in every mode: no ESC, no BEL reaches the output. */
static void test_id_escaped(void)
{
	static const int modes[] = { FE_PROGRESS_PLAIN, FE_PROGRESS_TTY, FE_PROGRESS_JSON };
	struct run r;
	size_t i;
	char *t;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		run_open(&r, modes[i], 0, 0);
		ev(&r, IDP_EV_PUSHING, "\033]0;pwned\007", NULL, 0, TOTAL);
		ev(&r, IDP_EV_PUSHED, "\033]0;pwned\007", NULL, TOTAL, TOTAL);
		t = run_close(&r);
		CU_ASSERT_PTR_NULL(strstr(t, "\033]"));
		CU_ASSERT_PTR_NULL(strchr(t, '\007'));
		CU_ASSERT_PTR_NOT_NULL(strstr(t, "\\x1b]0;pwned"));
		free(t);
	}
}

static const struct unit_test tests[] = {
	{ "plain", test_plain },
	{ "plain_sparse", test_plain_sparse },
	{ "tty", test_tty },
	{ "tty_rate", test_tty_rate },
	{ "tty_several", test_tty_several },
	{ "tty_width", test_tty_width },
	{ "tty_message", test_tty_message },
	{ "json", test_json },
	{ "json_members", test_json_members },
	{ "quiet", test_quiet },
	{ "summary", test_summary },
	{ "verbose", test_verbose },
	{ "human_size", test_human_size },
	{ "id_escaped", test_id_escaped },
	{ NULL, NULL }
};

IDP_SUITE(fe_progress) { unit_add_suite("fe_progress", tests); }
