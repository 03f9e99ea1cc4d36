/* plug_complete.c: docker's completion protocol for docker-idppush. The
 * docker CLI (23 and newer) completes `docker idppush ...` by running the
 * plugin as
 *     docker-idppush __complete idppush ARGS... TOCOMPLETE
 * and copying its stdout to the shell, in cobra's format: one candidate a
 * line ("--name<TAB>help" for options), then ":DIRECTIVE" (cobra's
 * ShellCompDirective: 0 default, i.e. the shell completes file names;
 * 4 no file names; 16 directories only). The bash completion of the
 * docker CLI before that (Debian 12's docker.io 20.10) runs instead
 *     docker-idppush __completeNoDesc ARGS... TOCOMPLETE
 * (cobra's variant without the help texts) with the words as bash split
 * them, so "--progress=pl" comes as "--progress" "=" "pl"; it drops the
 * directive line and falls back to file names when nothing is printed.
 * What is completed:
 *   "--pre", "-"            option names (flags given already left out)
 *   after --progress etc.   the option's choices (also "--progress=pl")
 *   after --ca-cert FILE    file names; after a DIR option, directories
 *   the first argument      local image names, from the docker CLI's
 *                           `image ls` (bounded in time, <none> skipped)
 * Everything is read from the option table; nothing is printed on
 * stderr, and the exit code is 0 whatever happens. */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "frontend/fe_opts.h"
#include "plug.h"
#include "banned.h"

enum { DIRECTIVE_DEFAULT = 0, DIRECTIVE_NO_FILE = 4, DIRECTIVE_DIRS = 16 };

#define IMAGES_TIMEOUT_MS 5000
#define MAX_ROWS 64

/* What the words before the one being completed leave it as. */
struct comp_state {
	const struct fe_option *value_of;  /* it is this option's value */
	int npositional;                   /* positional arguments before it */
	int dashdash;                      /* after "--": no more options */
	unsigned char used[MAX_ROWS];      /* options given, by table row */
};

static const struct fe_option *find_long(const struct fe_option *opts, const char *name,
					 size_t len)
{
	for (; opts->long_name; opts++)
		if (strlen(opts->long_name) == len && strncmp(opts->long_name, name, len) == 0)
			return opts;
	return NULL;
}

static const struct fe_option *find_short(const struct fe_option *opts, char c)
{
	for (; opts->long_name; opts++)
		if (opts->short_name == c)
			return opts;
	return NULL;
}

static void mark_used(const struct fe_option *opts, const struct fe_option *o,
		      struct comp_state *cs)
{
	if (o && o - opts < MAX_ROWS)
		cs->used[o - opts] = 1;
}

/* One option word at words[*i]; a value in the next word is skipped, or
 * is the word being completed when there is none. */
static void scan_option(const struct fe_option *opts, int n, char **words, int *i,
			struct comp_state *cs)
{
	const char *w = words[*i], *eq, *p;
	const struct fe_option *o;

	if (w[1] == '-') {
		eq = strchr(w + 2, '=');
		o = find_long(opts, w + 2, eq ? (size_t)(eq - w - 2) : strlen(w + 2));
		mark_used(opts, o, cs);
		if (!o || fe_opt_is_flag(o) || eq)
			return;
	} else {
		for (p = w + 1, o = NULL; *p; p++) {
			o = find_short(opts, *p);
			mark_used(opts, o, cs);
			if (!o || !fe_opt_is_flag(o))
				break;
		}
		if (!o || fe_opt_is_flag(o) || p[1])
			return;
	}
	if (*i + 1 < n)
		++*i;
	else
		cs->value_of = o;
}

static void scan(const struct fe_option *opts, int n, char **words, struct comp_state *cs)
{
	int i;

	memset(cs, 0, sizeof(*cs));
	for (i = 0; i < n; i++) {
		const char *w = words[i];
		if (cs->dashdash || w[0] != '-' || w[1] == '\0')
			cs->npositional++;
		else if (strcmp(w, "--") == 0)
			cs->dashdash = 1;
		else
			scan_option(opts, n, words, &i, cs);
	}
}

static int has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The value of o: its choices, file or directory names, or nothing. */
static int complete_value(const struct fe_option *o, const char *prefix)
{
	int i;

	if (o->choices) {
		for (i = 0; o->choices[i]; i++)
			if (has_prefix(o->choices[i], prefix))
				printf("%s\n", o->choices[i]);
		return DIRECTIVE_NO_FILE;
	}
	if (o->argname && strcmp(o->argname, "FILE") == 0)
		return DIRECTIVE_DEFAULT;
	if (o->argname && strcmp(o->argname, "DIR") == 0)
		return DIRECTIVE_DIRS;
	return DIRECTIVE_NO_FILE;
}

/* One option name, with its help line when descriptions are asked for. */
static void name_line(const char *name, const struct fe_option *o, int descriptions)
{
	const struct fe_opt_doc *doc = fe_opt_doc(o->long_name);

	if (descriptions)
		printf("%s\t%s\n", name, doc ? doc->help : "");
	else
		printf("%s\n", name);
}

/* Option names matching prefix; short names too when the prefix is a
 * lone "-" (as cobra does). */
static int complete_names(const struct fe_option *opts, const struct comp_state *cs,
			  const char *prefix, int descriptions)
{
	const struct fe_option *o;
	char name[64];

	for (o = opts; o->long_name; o++) {
		if (o - opts < MAX_ROWS && cs->used[o - opts] && o->type != FE_ARG_LIST &&
		    o->type != FE_ARG_COUNT)
			continue;
		snprintf(name, sizeof(name), "--%s", o->long_name);
		if (has_prefix(name, prefix))
			name_line(name, o, descriptions);
		snprintf(name, sizeof(name), "-%c", o->short_name);
		if (o->short_name && strcmp(prefix, "-") == 0)
			name_line(name, o, descriptions);
	}
	return DIRECTIVE_NO_FILE;
}

/* The docker CLI to ask: docker sets DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND
 * to the plugin itself when it runs it for completion, so that one is
 * never used; `docker` on PATH is. */
static const char *docker_cli(const char *cli)
{
	const char *base = strrchr(cli, '/');
	struct stat a, b;

	base = base ? base + 1 : cli;
	if (has_prefix(base, "docker-"))
		return "docker";
	if (stat(cli, &a) == 0 && stat("/proc/self/exe", &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino)
		return "docker";
	return cli;
}

/* Local image names matching prefix, one a line; images without a name
 * or tag (<none>) left out. Nothing when docker cannot say. */
static int complete_images(const struct idp_docker *d, const char *prefix)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_run_result r;
	struct idp_docker ask = *d;
	char *line, *next;

	ask.cli = docker_cli(d->cli);
	ask.deadline_ms = idp_now_ms() + IMAGES_TIMEOUT_MS;
	ask.cancel = NULL;
	if (idp_docker_image_names(&ask, &r, &err) == 0) {
		for (line = r.out.buf; line && *line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			if (*line && !strstr(line, "<none>") && has_prefix(line, prefix))
				printf("%s\n", line);
		}
	}
	idp_run_result_release(&r);
	return DIRECTIVE_NO_FILE;
}

static int complete(const struct fe_option *opts, const struct idp_docker *d, int n,
		    char **words, const char *cur, int descriptions)
{
	struct comp_state cs;
	const struct fe_option *o;
	const char *eq = strchr(cur, '=');

	scan(opts, n, words, &cs);
	if (cs.value_of)
		return complete_value(cs.value_of, cur);
	if (!cs.dashdash && has_prefix(cur, "--") && eq) {
		o = find_long(opts, cur + 2, (size_t)(eq - cur - 2));
		return o && !fe_opt_is_flag(o) ? complete_value(o, eq + 1) : DIRECTIVE_NO_FILE;
	}
	if (!cs.dashdash && cur[0] == '-')
		return complete_names(opts, &cs, cur, descriptions);
	if (cs.npositional == 0)
		return complete_images(d, cur);
	return DIRECTIVE_NO_FILE;
}

/* bash's word split undone: "--name" "=" "value" is "--name=value", a
 * last "--name" "=" is "--name=". In place; returns the new count. */
static int join_equals(int argc, char **argv, char *joined, size_t room)
{
	int i, o = 0;
	size_t used = 0, len;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "=") == 0 && o > 0 && has_prefix(argv[o - 1], "--") &&
		    !strchr(argv[o - 1], '=')) {
			len = (size_t)snprintf(joined + used, room - used, "%s=%s", argv[o - 1],
					       i + 1 < argc ? argv[i + 1] : "");
			if (len >= room - used)
				return argc;   /* too long to join: as it came */
			argv[o - 1] = joined + used;
			used += len + 1;
			i += i + 1 < argc;
			continue;
		}
		argv[o++] = argv[i];
	}
	return o;
}

int plug_complete(const struct fe_option *opts, const struct idp_docker *d, int argc,
		  char **argv, int descriptions)
{
	int directive = DIRECTIVE_NO_FILE;
	char joined[4096];

	if (argc > 0 && strcmp(argv[0], PLUG_NAME) == 0) {
		argc--;
		argv++;
	}
	if (!descriptions)
		argc = join_equals(argc, argv, joined, sizeof(joined));
	if (argc > 0)
		directive = complete(opts, d, argc - 1, argv, argv[argc - 1], descriptions);
	printf(":%d\n", directive);
	fflush(stdout);
	return 0;
}
