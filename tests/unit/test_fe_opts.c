/* test_fe_opts.c: the front ends' option table: parsing forms, environment
 * fallbacks, bad values, generated help, config -> engine options, and a
 * docs/opts/<long>.md for every row. Defines the unit binary's fe_progname. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include "unit.h"
#include "frontend/fe_msg.h"
#include "frontend/fe_opts.h"

const char fe_progname[] = "unit";

static const struct fe_option all_opts[] = {
	FE_OPTS_ENGINE, FE_OPT_LIST("platform", platforms, "OS/ARCH[/VARIANT]", IDP_MAX_PLATFORMS),
	FE_OPTS_BUILD, FE_OPTS_CONTAINERD, FE_OPT_END
};
static const struct fe_cmd cmd = {
	.name = "idppush-test",
	.usage = "[OPTIONS] IMAGE [TARGET]",
	.summary = "test command",
	.opts = all_opts,
	.min_args = 1,
	.max_args = 2,
};

static void clear_env(void)
{
	unsetenv("IDPBUILDER_REGISTRY_URL");
	unsetenv("IDPBUILDER_REGISTRY_INSECURE");
	unsetenv("IDPBUILDER_PUSH_TIMEOUT");
	unsetenv("IDPBUILDER_PUSH_RETRY_ATTEMPTS");
}

/* Parse a NULL-terminated list; stderr noise from usage errors is expected. */
static int parse(struct fe_config *cfg, const char *const *args)
{
	char *argv[32];
	int n = 0;

	while (args[n] && n < 31) {
		argv[n] = (char *)args[n];
		n++;
	}
	argv[n] = NULL;
	return fe_parse(&cmd, n, argv, cfg);
}

/* The length of the longest line of s. */
static size_t longest_line(const char *s)
{
	size_t max = 0, n;

	while (*s) {
		n = strcspn(s, "\n");
		if (n > max)
			max = n;
		s += n + (s[n] == '\n');
	}
	return max;
}

/* Runs of spaces and newlines become one space (undo the wrapping). */
static void squeeze_spaces(char *s)
{
	char *w = s;
	int space = 0;

	for (; *s; s++) {
		if (*s == ' ' || *s == '\n') {
			space = 1;
			continue;
		}
		if (space)
			*w++ = ' ';
		space = 0;
		*w++ = *s;
	}
	*w = '\0';
}

static void test_forms(void)
{
	static const char *const a[] = { "--registry=localhost:5000",
					 "--owner",
					 "me",
					 "-qv",
					 "-ubob",
					 "-pbobpw",
					 "--jobs",
					 "8",
					 "img:1",
					 "--platform",
					 "linux/arm64",
					 "--platform=linux/amd64",
					 "--",
					 "-target",
					 NULL };
	struct fe_config c;

	clear_env();
	CU_ASSERT_EQUAL_FATAL(parse(&c, a), FE_PARSE_OK);
	CU_ASSERT_STRING_EQUAL(c.registry, "localhost:5000");
	CU_ASSERT_STRING_EQUAL(c.owner, "me");
	CU_ASSERT_STRING_EQUAL(c.username, "bob");
	CU_ASSERT(c.quiet && c.verbose == 1);
	CU_ASSERT_EQUAL(c.jobs, 8);
	CU_ASSERT_EQUAL(c.nplatforms, 2);
	CU_ASSERT_STRING_EQUAL(c.platforms[1], "linux/amd64");
	CU_ASSERT_EQUAL(c.nargs, 2);
	CU_ASSERT_STRING_EQUAL(c.args[0], "img:1");
	CU_ASSERT_STRING_EQUAL(c.args[1], "-target");
	CU_ASSERT_EQUAL(c.timeout_ms, 0);   /* no overall limit, as docker push */
	CU_ASSERT_EQUAL(c.deadline_ms, 0);
	CU_ASSERT_EQUAL(c.retries, 4);
	fe_config_release(&c);
}

static void test_choices(void)
{
	static const char *const a[] = { "--format",
					 "oci",
					 "--progress=json",
					 "--compression",
					 "gzip",
					 "--compression-level",
					 "9",
					 "--timeout",
					 "90s",
					 "-n",
					 "k8s.io",
					 "x",
					 NULL };
	struct fe_config c;

	clear_env();
	CU_ASSERT_EQUAL_FATAL(parse(&c, a), FE_PARSE_OK);
	CU_ASSERT_EQUAL(c.format, IDP_FMT_OCI);
	CU_ASSERT_EQUAL(c.progress, FE_PROGRESS_JSON);
	CU_ASSERT_EQUAL(c.compression_level, 9);
	CU_ASSERT_EQUAL(c.timeout_ms, 90000);
	CU_ASSERT_STRING_EQUAL(c.ns, "k8s.io");
	fe_config_release(&c);
}

static void test_env(void)
{
	static const char *const a[] = { "img", NULL };
	static const char *const b[] = { "--registry", "flag:1", "--timeout", "1m",
					 "--retries",  "2",      "img",       NULL };
	struct fe_config c;

	clear_env();
	setenv("IDPBUILDER_REGISTRY_URL", "https://env.example:8443/", 1);
	setenv("IDPBUILDER_REGISTRY_INSECURE", "true", 1);
	setenv("IDPBUILDER_PUSH_TIMEOUT", "30s", 1);
	setenv("IDPBUILDER_PUSH_RETRY_ATTEMPTS", "10", 1);
	CU_ASSERT_EQUAL_FATAL(parse(&c, a), FE_PARSE_OK);
	CU_ASSERT_STRING_EQUAL(c.registry, "https://env.example:8443/");
	CU_ASSERT_EQUAL(c.insecure, 1);
	CU_ASSERT_EQUAL(c.timeout_ms, 30000);
	CU_ASSERT_EQUAL(c.retries, 9);
	fe_config_release(&c);
	/* flags win over the environment */
	CU_ASSERT_EQUAL_FATAL(parse(&c, b), FE_PARSE_OK);
	CU_ASSERT_STRING_EQUAL(c.registry, "flag:1");
	CU_ASSERT_EQUAL(c.timeout_ms, 60000);
	CU_ASSERT_EQUAL(c.retries, 2);
	fe_config_release(&c);
	setenv("IDPBUILDER_PUSH_TIMEOUT", "soon", 1);
	CU_ASSERT_EQUAL(parse(&c, a), FE_PARSE_USAGE);
	fe_config_release(&c);
	clear_env();
	setenv("IDPBUILDER_REGISTRY_INSECURE", "maybe", 1);
	CU_ASSERT_EQUAL(parse(&c, a), FE_PARSE_USAGE);
	fe_config_release(&c);
	clear_env();
}

static void expect_usage(const char *const *a)
{
	struct fe_config c;
	CU_ASSERT_EQUAL(parse(&c, a), FE_PARSE_USAGE);
	fe_config_release(&c);
}

static void test_bad_values(void)
{
	static const char *const none[] = { NULL };
	static const char *const many[] = { "a", "b", "c", NULL };
	static const char *const jobs[] = { "--jobs", "0", "a", NULL };
	static const char *const jobs2[] = { "--jobs", "4x", "a", NULL };
	static const char *const tmo[] = { "--timeout", "forever", "a", NULL };
	static const char *const comp[] = { "--compression", "xz", "a", NULL };
	static const char *const level[] = { "--compression-level", "12", "a", NULL };
	static const char *const unk[] = { "--bogus", "a", NULL };
	static const char *const unk2[] = { "-Z", "a", NULL };
	static const char *const noval[] = { "a", "--registry", NULL };
	static const char *const flagval[] = { "--insecure=yes", "a", NULL };
	static const char *const plat[] = { "--platform", "linux", "a", NULL };
	static const char *const pw[] = { "-p", "x", "--password-stdin", "a", NULL };

	clear_env();
	expect_usage(none);
	expect_usage(many);
	expect_usage(jobs);
	expect_usage(jobs2);
	expect_usage(tmo);
	expect_usage(comp);
	expect_usage(level);
	expect_usage(unk);
	expect_usage(unk2);
	expect_usage(noval);
	expect_usage(flagval);
	expect_usage(plat);
	expect_usage(pw);
}

static void test_help_version(void)
{
	static const char *const h[] = { "img", "-h", NULL };
	static const char *const v[] = { "--version", NULL };
	struct fe_config c;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	const struct fe_option *o;

	CU_ASSERT_EQUAL(parse(&c, h), FE_PARSE_HELP);
	fe_config_release(&c);
	CU_ASSERT_EQUAL(parse(&c, v), FE_PARSE_VERSION);
	fe_config_release(&c);
	f = open_memstream(&text, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fe_help(&cmd, f);
	fclose(f);
	CU_ASSERT(longest_line(text) <= 80);
	squeeze_spaces(text);
	for (o = all_opts; o->long_name; o++) {
		char want[64];
		snprintf(want, sizeof(want), "--%s", o->long_name);
		CU_ASSERT_PTR_NOT_NULL(strstr(text, want));
		CU_ASSERT_PTR_NOT_NULL(strstr(text, fe_opt_doc(o->long_name)->help));
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "Exit codes:"));
	free(text);
}

static void test_session_opts(void)
{
	static const char *const a[] = { "--ca-cert", "ca.pem", "--plain-http", "-u", "u", "-pw",
					 "--retries", "0",      "--hosts-dir",  "/h", "img",
					 NULL };
	volatile sig_atomic_t flag = 0;
	struct idp_session_opts so;
	struct fe_config c;

	clear_env();
	CU_ASSERT_EQUAL_FATAL(parse(&c, a), FE_PARSE_OK);
	fe_session_opts(&c, &flag, &so);
	CU_ASSERT_STRING_EQUAL(so.tls.ca_file, "ca.pem");
	CU_ASSERT_EQUAL(so.tls.plain_http, 1);
	CU_ASSERT_STRING_EQUAL(so.tls.hosts_dir, "/h");
	CU_ASSERT_STRING_EQUAL(so.creds.username, "u");
	CU_ASSERT_EQUAL(so.retry.attempts, 1);
	CU_ASSERT_EQUAL(so.timeout_ms, 0);
	CU_ASSERT(so.cancel == &flag);
	CU_ASSERT_PTR_NULL(so.debug);
	CU_ASSERT_PTR_NULL(so.info);
	fe_config_release(&c);
}

/* 1 when a timeout past the deadline of the command line args says text. */
static int timeout_hint_says(const char *const *args, const char *text)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct fe_config c;
	int says = 0;

	if (parse(&c, args) == FE_PARSE_OK) {
		c.deadline_ms = 1;
		idp_error_set(&err, IDP_ETIMEOUT, "t");
		fe_timeout_hint(&c, &err);
		says = strstr(err.msg, text) != NULL;
	}
	fe_config_release(&c);
	return says;
}

/* A push that ran out of time says which limit and how to raise it; other
 * errors, and a timeout before the deadline, are left alone. */
static void test_timeout_hint(void)
{
	static const char *const opt[] = { "--timeout", "5m", "img", NULL };
	static const char *const big[] = { "--timeout", "1h30m", "img", NULL };
	static const char *const env[] = { "img", NULL };
	struct idp_error err = IDP_ERROR_INIT;
	struct fe_config c;

	clear_env();
	CU_ASSERT_EQUAL_FATAL(parse(&c, opt), FE_PARSE_OK);
	CU_ASSERT(c.deadline_ms > 0 && !c.timeout_from_env);
	idp_error_set(&err, IDP_ETIMEOUT, "the overall time limit ran out (PUT x)");
	fe_timeout_hint(&c, &err);   /* the deadline has not come */
	CU_ASSERT_STRING_EQUAL(err.msg, "the overall time limit ran out (PUT x)");
	c.deadline_ms = 1;
	fe_timeout_hint(&c, &err);
	CU_ASSERT_STRING_EQUAL(err.msg, "the overall time limit ran out (PUT x); that is --timeout "
			       "5m: raise it (e.g. --timeout 30m), or --timeout 0 for none");
	idp_error_set(&err, IDP_ENETWORK, "refused");
	fe_timeout_hint(&c, &err);
	CU_ASSERT_STRING_EQUAL(err.msg, "refused");
	fe_config_release(&c);
	CU_ASSERT(timeout_hint_says(big, "--timeout 1h30m: raise it (e.g. --timeout 3h)"));
	setenv("IDPBUILDER_PUSH_TIMEOUT", "90", 1);
	CU_ASSERT(timeout_hint_says(env, "that is IDPBUILDER_PUSH_TIMEOUT=1m30s: raise it"));
	clear_env();
}

/* 1 when the --help of c, unwrapped, contains text. */
static int help_says(const struct fe_cmd *c, const char *text)
{
	char *help = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&help, &len);
	int found;

	if (!f)
		return 0;
	fe_help(c, f);
	fclose(f);
	squeeze_spaces(help);
	found = strstr(help, text) != NULL;
	free(help);
	return found;
}

/* --platform as often as the front end's row allows; --help says
 * "repeatable" only where it is. */
static void test_platform_count(void)
{
	static const struct fe_option one_opts[] = {
		FE_OPTS_ENGINE, FE_OPT_LIST("platform", platforms, "OS/ARCH[/VARIANT]", 1),
		FE_OPT_END
	};
	static const struct fe_cmd one = { .name = "one-platform", .usage = "IMAGE",
					   .summary = "s", .opts = one_opts, .min_args = 1,
					   .max_args = 2 };
	char *argv[] = { "--platform", "linux/amd64", "--platform=linux/arm64", "img", NULL };
	struct fe_config c;

	clear_env();
	CU_ASSERT_EQUAL(fe_parse(&one, 4, argv, &c), FE_PARSE_USAGE);
	fe_config_release(&c);
	CU_ASSERT_EQUAL(fe_parse(&one, 2, argv + 2, &c), FE_PARSE_OK);
	CU_ASSERT_EQUAL(c.nplatforms, 1);
	fe_config_release(&c);
	CU_ASSERT_EQUAL(fe_parse(&cmd, 4, argv, &c), FE_PARSE_OK);
	CU_ASSERT_EQUAL(c.nplatforms, 2);
	fe_config_release(&c);
	CU_ASSERT(help_says(&one, "Platform to push (default the host's)"));
	CU_ASSERT(help_says(&cmd, "Platform to push; repeatable (default the host's)"));
}

/* -u without a password, stdin not a terminal: a usage error (a
 * terminal would be asked; t_progress_tty.sh). */
static void test_user_without_password(void)
{
	static const char *const a[] = { "-u", "bob", "img", NULL };
	struct fe_config c;
	int in = dup(0), null = open("/dev/null", O_RDONLY);

	clear_env();
	CU_ASSERT_FATAL(in >= 0 && null >= 0);
	CU_ASSERT_FATAL(dup2(null, 0) == 0);
	CU_ASSERT_EQUAL(parse(&c, a), FE_PARSE_USAGE);
	CU_ASSERT_PTR_NULL(c.password);
	fe_config_release(&c);
	dup2(in, 0);
	close(in);
	close(null);
}

/* -v: the notes (info); -vv, -v -v, --verbose -v: the trace (debug) too. */
static void test_verbose_levels(void)
{
	static const struct {
		const char *a[4];
		int level;
	} cases[] = {
		{ { "img", NULL }, 0 },
		{ { "-v", "img", NULL }, 1 },
		{ { "-qvv", "img", NULL }, 2 },
		{ { "--verbose", "img", "-v", NULL }, 2 },
	};
	static const char *const bad[] = { "--verbose=2", "img", NULL };
	struct idp_session_opts so;
	struct fe_config c;
	size_t i;

	clear_env();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(parse(&c, cases[i].a), FE_PARSE_OK);
		fe_session_opts(&c, NULL, &so);
		CU_ASSERT_EQUAL(c.verbose, cases[i].level);
		CU_ASSERT_EQUAL(so.info != NULL, cases[i].level >= 1);
		CU_ASSERT_EQUAL(so.debug != NULL, cases[i].level >= 2);
		fe_config_release(&c);
	}
	CU_ASSERT_EQUAL(parse(&c, bad), FE_PARSE_USAGE);
	fe_config_release(&c);
}

/* --progress json makes every message JSON, from the first one: the
 * command line is read for it before anything else (not -q; an option's
 * value is not an option). */
static void test_msg_format(void)
{
	static const struct {
		const char *a[6];
		int json;
	} cases[] = {
		{ { "--progress", "json", "img", NULL }, 1 },
		{ { "--bogus", "--progress=json", "img", NULL }, 1 },
		{ { "--jobs", "0", "--progress", "json", "img", NULL }, 1 },
		{ { "-vqv", "--progress", "json", "img", NULL }, 0 },
		{ { "--progress", "json", "--quiet", "img", NULL }, 0 },
		{ { "--progress", "json", "--progress", "plain", "img", NULL }, 0 },
		{ { "-u", "--progress", "json", NULL }, 0 },
		{ { "--owner", "--progress=json", "img", NULL }, 0 },
		{ { "img", "--", "--progress", "json", NULL }, 0 },
		{ { "-vu", "x", "--progress", "json", "img", NULL }, 1 },
	};
	struct fe_config c;
	size_t i;

	clear_env();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse(&c, cases[i].a);
		if ((fe_msg_format() == FE_MSG_JSON) != cases[i].json)
			fprintf(stderr, "msg format case %zu\n", i);
		CU_ASSERT_EQUAL(fe_msg_format() == FE_MSG_JSON, cases[i].json);
		fe_config_release(&c);
	}
	fe_msg_set_format(FE_MSG_PLAIN);
}

/* Every row has docs/opts/<long>.md, whose short name and argument agree
 * with the row: the docs are the one source of option text. */
static void test_docs_agree(void)
{
	const struct fe_option *o;
	const struct fe_opt_doc *d;
	char sh[2];

	for (o = all_opts; o->long_name; o++) {
		d = fe_opt_doc(o->long_name);
		if (!d) {
			fprintf(stderr, "no docs/opts/%s.md\n", o->long_name);
			CU_FAIL("an option has no docs/opts file");
			continue;
		}
		sh[0] = o->short_name;
		sh[1] = '\0';
		CU_ASSERT_STRING_EQUAL(d->short_name ? d->short_name : "", sh);
		CU_ASSERT_STRING_EQUAL(d->argname ? d->argname : "", o->argname ? o->argname : "");
		CU_ASSERT_PTR_NOT_NULL(d->help);
		CU_ASSERT_PTR_NOT_NULL(d->category);
	}
}

#define SHA_1 "1111111111111111111111111111111111111111111111111111111111111111"

static void test_dest_ref(void)
{
	static const char *const a[] = { "--registry", "localhost:5000", "x", NULL };
	struct fe_config c;
	struct idp_ref r;
	struct idp_error err = IDP_ERROR_INIT;
	char *s;

	clear_env();
	CU_ASSERT_EQUAL_FATAL(parse(&c, a), FE_PARSE_OK);
	CU_ASSERT_EQUAL_FATAL(fe_dest_ref(&c, "docker.io/library/myapp:dev", NULL, &r, &err), 0);
	s = idp_ref_string(&r);
	CU_ASSERT_STRING_EQUAL(s, "localhost:5000/giteaadmin/myapp:dev");
	free(s);
	idp_ref_release(&r);
	/* by digest: no tag to push under, unless TARGET says one */
	CU_ASSERT_EQUAL(fe_dest_ref(&c, "myapp@sha256:" SHA_1, NULL, &r, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "is a digest reference"));
	CU_ASSERT_EQUAL(fe_dest_ref(&c, "myapp:dev@sha256:" SHA_1, NULL, &r, &err), -1);
	CU_ASSERT_EQUAL(fe_refuse_untagged("myapp:dev@sha256:" SHA_1, NULL), 1);
	CU_ASSERT_EQUAL(fe_refuse_untagged("myapp:dev@sha256:" SHA_1, "x:1"), 0);
	CU_ASSERT_EQUAL(fe_refuse_untagged("myapp:dev", NULL), 0);
	CU_ASSERT_EQUAL_FATAL(fe_dest_ref(&c, "myapp@sha256:" SHA_1, "x:1", &r, &err), 0);
	s = idp_ref_string(&r);
	CU_ASSERT_STRING_EQUAL(s, "localhost:5000/giteaadmin/x:1");
	free(s);
	idp_ref_release(&r);
	fe_config_release(&c);
}

/* expect_dest IMAGE TARGET: the destination is want, or (want NULL) an
 * error containing needle. */
static void expect_dest(const struct fe_config *c, const char *image, const char *target,
			const char *want, const char *needle)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_ref r;
	char *s;

	if (!want) {
		CU_ASSERT_EQUAL(fe_dest_ref(c, image, target, &r, &err), -1);
		CU_ASSERT_EQUAL(err.cls, IDP_EGENERAL);
		if (!strstr(err.msg, needle))
			fprintf(stderr, "%s %s: %s\n", image, target, err.msg);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, needle));
		return;
	}
	CU_ASSERT_EQUAL_FATAL(fe_dest_ref(c, image, target, &r, &err), 0);
	s = idp_ref_string(&r);
	CU_ASSERT_STRING_EQUAL(s, want);
	free(s);
	idp_ref_release(&r);
}

/* A TARGET without a tag takes IMAGE's; a TARGET by digest or a registry
 * address alone is refused. */
static void test_dest_target(void)
{
	static const char *const a[] = { "--registry", "localhost:5000", "x", NULL };
	struct fe_config c;

	clear_env();
	CU_ASSERT_EQUAL_FATAL(parse(&c, a), FE_PARSE_OK);
	expect_dest(&c, "myapp:dev", "r.example/team/app", "r.example/team/app:dev", NULL);
	expect_dest(&c, "docker.io/library/myapp:dev", "other",
		    "localhost:5000/giteaadmin/other:dev", NULL);
	expect_dest(&c, "myapp:dev", "r.example/team/app:1", "r.example/team/app:1", NULL);
	expect_dest(&c, "myapp", "r.example/team/app", "r.example/team/app:latest", NULL);
	expect_dest(&c, "myapp@sha256:" SHA_1, "r.example/a", "r.example/a:latest", NULL);
	expect_dest(&c, "sha256:" SHA_1, "r.example/a", "r.example/a:latest", NULL);
	expect_dest(&c, "myapp:dev", "myapp:5000", "localhost:5000/giteaadmin/myapp:5000", NULL);
	expect_dest(&c, "myapp:dev", "r.example/a@sha256:" SHA_1, NULL,
		    "cannot push to a digest reference: TARGET 'r.example/a@sha256:");
	expect_dest(&c, "myapp:dev", "r.example/a:1@sha256:" SHA_1, NULL, "digest reference");
	expect_dest(&c, "myapp:dev", "127.0.0.1:5001", NULL,
		    "TARGET '127.0.0.1:5001' is a registry, not a repository: did you mean "
		    "127.0.0.1:5001/giteaadmin/myapp:dev?");
	expect_dest(&c, "myapp", "localhost:5001", NULL,
		    "did you mean localhost:5001/giteaadmin/myapp:latest?");
	expect_dest(&c, "myapp@sha256:" SHA_1, "localhost:5001", NULL,
		    "give localhost:5001/OWNER/NAME:TAG");
	fe_config_release(&c);
}

IDP_SUITE(fe_opts)
{
	static const struct unit_test tests[] = {
		{ "long, short, bundled and positional forms", test_forms },
		{ "choices and durations", test_choices },
		{ "environment fallbacks", test_env },
		{ "bad values are usage errors", test_bad_values },
		{ "help is generated from the table", test_help_version },
		{ "config to session options", test_session_opts },
		{ "-v notes, -vv the trace", test_verbose_levels },
		{ "-u without a password, no terminal", test_user_without_password },
		{ "--platform as often as the row allows", test_platform_count },
		{ "which time limit ran out, how to raise it", test_timeout_hint },
		{ "--progress json: JSON messages from the first", test_msg_format },
		{ "docs/opts agree with every row", test_docs_agree },
		{ "destination from the image name", test_dest_ref },
		{ "TARGET: the image's tag, no digest, no registry alone", test_dest_target },
		{ NULL, NULL }
	};
	unit_add_suite("fe_opts", tests);
}
