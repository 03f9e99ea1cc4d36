/* test_fe_progress.c: what each progress mode writes for the same events:
 * plain lines only on state changes and never an escape code, TTY redraws
 * in place, JSON one parseable object per line, quiet nothing. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "unit.h"
#include "frontend/fe_progress.h"

#define D "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"

/* Drive one push through a renderer writing to memory; return the text. */
static char *render_all(int mode, int quiet)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct fe_progress *p = fe_progress_new(mode, quiet, 0, f);
	struct idp_event ev = { IDP_EV_WAITING, "5f70bf18a086", D, 0, 3000000, NULL };
	int64_t done;

	fe_progress_start(p, "gitea.cnoe.localtest.me:8443/giteaadmin/myapp");
	fe_progress_on_event(p, &ev);
	ev.kind = IDP_EV_PUSHING;
	for (done = 0; done <= 3000000; done += 1000000) {
		ev.done = done;
		fe_progress_on_event(p, &ev);
	}
	ev.kind = IDP_EV_PUSHED;
	fe_progress_on_event(p, &ev);
	fe_progress_finish(p, "dev", D, 1234);
	fe_progress_free(p);
	fclose(f);
	return text;
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
	char *t = render_all(FE_PROGRESS_PLAIN, 0);

	CU_ASSERT_PTR_NOT_NULL(strstr(
		t,
		"The push refers to repository [gitea.cnoe.localtest.me:8443/giteaadmin/myapp]\n"));
	CU_ASSERT_EQUAL(count(t, "5f70bf18a086: Pushing\n"), 1); /* once, not per progress event */
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "5f70bf18a086: Pushed\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "dev: digest: " D " size: 1234\n"));
	CU_ASSERT_PTR_NULL(strchr(t, '\033'));
	free(t);
}

static void test_tty(void)
{
	char *t = render_all(FE_PROGRESS_TTY, 0);

	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\033[1A"));                 /* redraws in place */
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "3MB/3MB"));                 /* sizes on the bar */
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "[=================================================="));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "Pushed"));
	free(t);
}

static void test_json(void)
{
	char *t = render_all(FE_PROGRESS_JSON, 0), *line, *save = NULL;
	int lines = 0, aux = 0;

	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_object *o = json_tokener_parse(line), *a, *v;
		CU_ASSERT_PTR_NOT_NULL_FATAL(o);
		if (json_object_object_get_ex(o, "aux", &a)) {
			aux++;
			CU_ASSERT_TRUE(json_object_object_get_ex(a, "Digest", &v));
			CU_ASSERT_STRING_EQUAL(json_object_get_string(v), D);
		}
		json_object_put(o);
		lines++;
	}
	CU_ASSERT_TRUE(lines >= 5);
	CU_ASSERT_EQUAL(aux, 1);
	free(t);
}

static void test_quiet(void)
{
	char *t = render_all(FE_PROGRESS_TTY, 1);
	CU_ASSERT_STRING_EQUAL(t, "");
	free(t);
}

static void test_human_size(void)
{
	char b[16];
	CU_ASSERT_STRING_EQUAL(fe_human_size(0, b, sizeof(b)), "0B");
	CU_ASSERT_STRING_EQUAL(fe_human_size(12345678, b, sizeof(b)), "12.3MB");
	CU_ASSERT_STRING_EQUAL(fe_human_size(999, b, sizeof(b)), "999B");
}

static const struct unit_test tests[] = {
	{ "plain", test_plain },
	{ "tty", test_tty },
	{ "json", test_json },
	{ "quiet", test_quiet },
	{ "human_size", test_human_size },
	{ NULL, NULL }
};

IDP_SUITE(fe_progress) { unit_add_suite("fe_progress", tests); }
