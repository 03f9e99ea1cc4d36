/* fe_opts.c: the table-driven option parser shared by the front ends, its
 * environment fallbacks, the generated --help, and the config -> engine
 * options mapping. The push flow itself (fe_push) is in fe_push.c. */
#include "config.h"
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "util/buf.h"
#include "util/clock.h"
#include "fe_askpass.h"
#include "fe_msg.h"
#include "fe_opts.h"
#include "frontend/fe_opts_doc.h"
#include "registry/retry.h"
#include "banned.h"

const char *const fe_compression_names[] = { "gzip", "zstd", NULL };
const char *const fe_format_names[] = { "docker", "oci", NULL };
const char *const fe_progress_names[] = { "auto", "tty", "plain", "json", NULL };

#define UNSET (-1)
#define DEFAULT_JOBS 4
#define DEFAULT_RETRIES 4
#define DEFAULT_TIMEOUT_MS 0L   /* none: docker push has none; dead links stall */
#define HINT_TIMEOUT_MS (30L * 60 * 1000)
#define PASSWORD_MAX 4096

void fe_config_init(struct fe_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->jobs = UNSET;
	cfg->retries = UNSET;
	cfg->timeout_ms = UNSET;
	cfg->compression = FE_COMP_GZIP;
	cfg->format = IDP_FMT_DOCKER;
	cfg->progress = FE_PROGRESS_AUTO;
}

void fe_config_release(struct fe_config *cfg)
{
	if (cfg->password_buf) {
		explicit_bzero(cfg->password_buf, strlen(cfg->password_buf));
		free(cfg->password_buf);
	}
	cfg->password_buf = NULL;
	cfg->password = NULL;
}

static void print_usage_line(const struct fe_cmd *cmd, FILE *out)
{
	fprintf(out, "Usage:  %s %s\n", cmd->name, cmd->usage);
}

int fe_usage_error(const struct fe_cmd *cmd, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	fe_error_exit(1, "%s", reason);
	if (fe_msg_format() == FE_MSG_JSON)
		return 1;   /* the error event is the one line */
	print_usage_line(cmd, stderr);
	fprintf(stderr, "Run '%s --help' for more information\n", cmd->name);
	return 1;
}

static const struct fe_opt_doc opt_docs[] = { FE_OPT_DOCS };

/* The --help groups, in order. */
static const char *const help_groups[] = {
	"Destination", "Credentials", "TLS", "Image", "Transfer", "Output", "General", NULL
};

#define HELP_COLS 80
#define HELP_LEFT 30

const struct fe_opt_doc *fe_opt_doc(const char *long_name)
{
	const struct fe_opt_doc *d;

	for (d = opt_docs; d->long_name; d++)
		if (strcmp(d->long_name, long_name) == 0)
			return d;
	return NULL;
}

/* Write text from column `col` on, wrapped at HELP_COLS, continuation
 * lines indented to `indent`. */
static void wrap(FILE *out, const char *text, int col, int indent)
{
	const char *p = text, *sp;
	int n;

	while (*p) {
		for (sp = p; *sp && *sp != ' '; sp++)
			;
		n = (int)(sp - p);
		if (col > indent && col + 1 + n > HELP_COLS) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', out);
			col++;
		}
		fprintf(out, "%.*s", n, p);
		col += n;
		p = *sp ? sp + 1 : sp;
	}
	fputc('\n', out);
}

/* The help line with its default and environment variable; "repeatable"
 * for an option this front end takes more than once. */
static void help_text(const struct fe_option *o, const struct fe_opt_doc *d, char *text,
		      size_t n)
{
	const char *rep = o->type == FE_ARG_LIST && o->hi > 1 ? "; repeatable" : "";

	if (!d)
		snprintf(text, n, "(undocumented)");
	else if (d->default_value && d->env)
		snprintf(text, n, "%s%s (default %s, env %s)", d->help, rep, d->default_value,
			 d->env);
	else if (d->default_value)
		snprintf(text, n, "%s%s (default %s)", d->help, rep, d->default_value);
	else if (d->env)
		snprintf(text, n, "%s%s (env %s)", d->help, rep, d->env);
	else
		snprintf(text, n, "%s%s", d->help, rep);
}

/* "  -u, --username NAME" padded to a column, then the text, wrapped. */
static void help_row(const struct fe_option *o, FILE *out)
{
	char text[512];
	int col;

	if (o->short_name)
		col = fprintf(out, "  -%c, --%s", o->short_name, o->long_name);
	else
		col = fprintf(out, "      --%s", o->long_name);
	if (o->argname)
		col += fprintf(out, " %s", o->argname);
	if (col > HELP_LEFT) {
		fprintf(out, "\n");
		col = 0;
	}
	fprintf(out, "%*s", HELP_LEFT + 2 - col, "");
	help_text(o, fe_opt_doc(o->long_name), text, sizeof(text));
	wrap(out, text, HELP_LEFT + 2, HELP_LEFT + 2);
}

static const char *group_of(const struct fe_option *o)
{
	const struct fe_opt_doc *d = fe_opt_doc(o->long_name);
	return d ? d->category : "General";
}

static void help_group(const struct fe_cmd *cmd, const char *group, FILE *out)
{
	const struct fe_option *o;
	int shown = 0;

	for (o = cmd->opts; o->long_name; o++) {
		if (strcmp(group_of(o), group) != 0)
			continue;
		if (!shown++)
			fprintf(out, "\n%s:\n", group);
		help_row(o, out);
	}
}

void fe_help(const struct fe_cmd *cmd, FILE *out)
{
	int i;

	fprintf(out, "\n");
	print_usage_line(cmd, out);
	fprintf(out, "\n%s\n", cmd->summary);
	for (i = 0; help_groups[i]; i++)
		help_group(cmd, help_groups[i], out);
	if (cmd->examples)
		fprintf(out, "\nExamples:\n%s", cmd->examples);
	fprintf(out,
		"\nExit codes:\n"
		"  0 pushed               1 usage error, bad input  2 authentication failed\n"
		"  3 network or TLS       4 image not found         5 registry refused the push\n"
		"  6 timeout              130 interrupted\n");
}

int fe_parse_exit(const struct fe_cmd *cmd, int rc)
{
	switch (rc) {
	case FE_PARSE_HELP:
		fe_help(cmd, stdout);
		return 0;
	case FE_PARSE_VERSION:
		printf("%s version %s\n", cmd->name, IDP_VERSION);
		return 0;
	case FE_PARSE_USAGE:
		return 1;
	}
	return 0;
}

int fe_opt_is_flag(const struct fe_option *o)
{
	return o->type == FE_ARG_NONE || o->type == FE_ARG_COUNT;
}

static const struct fe_option *find_long(const struct fe_option *opts, const char *name, size_t len)
{
	for (; opts->long_name; opts++)
		if (strlen(opts->long_name) == len && strncmp(opts->long_name, name, len) == 0)
			return opts;
	return NULL;
}

static const struct fe_option *find_short(const struct fe_option *opts, char c)
{
	for (; opts->long_name; opts++)
		if (opts->short_name && opts->short_name == c)
			return opts;
	return NULL;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int choice_index(const char *const *choices, const char *s)
{
	int i;
	for (i = 0; choices[i]; i++)
		if (strcmp(choices[i], s) == 0)
			return i;
	return -1;
}

/* "65536", "512k", "8m", "1g" (binary units, any case) -> bytes; -1 when
 * invalid or over 1 GiB (no request should be larger: idpbuilder's proxy
 * limit). */
static long parse_size(const char *s)
{
	static const char units[] = "kmg";
	const char *u;
	char *end;
	unsigned long long v;
	int shift = 0;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (*end) {
		if (end[1] || !(u = strchr(units, end[0] | 0x20)))
			return -1;
		shift = 10 * (int)(u - units + 1);
	}
	if (v > ((1ULL << 30) >> shift))
		return -1;
	return (long)(v << shift);
}

/* Store one value into its target. Returns 0 or a usage error (1). */
static int apply(const struct fe_cmd *cmd, const struct fe_option *o, const char *val,
		 struct fe_config *cfg)
{
	char *base = (char *)cfg + o->target;
	int i;
	long ms;

	switch (o->type) {
	case FE_ARG_NONE:
		*(int *)base = 1;
		return 0;
	case FE_ARG_COUNT:
		++*(int *)base;
		return 0;
	case FE_ARG_STRING:
		*(const char **)base = val;
		return 0;
	case FE_ARG_INT:
		if (parse_int(val, o->lo, o->hi, (int *)base) < 0)
			return fe_usage_error(
				cmd, "invalid value '%s' for --%s: expected a number from %d to %d",
				val, o->long_name, o->lo, o->hi);
		return 0;
	case FE_ARG_DURATION:
		if ((ms = idp_duration_parse_ms(val)) < 0)
			return fe_usage_error(cmd,
					      "invalid duration '%s' for --%s: expected e.g. 90s, "
					      "5m, 1h30m (at most 366 days)",
					      val, o->long_name);
		*(long *)base = ms;
		return 0;
	case FE_ARG_CHOICE:
		if ((i = choice_index(o->choices, val)) < 0)
			return fe_usage_error(cmd, "invalid value '%s' for --%s: expected %s", val,
					      o->long_name, o->argname);
		*(int *)base = i;
		return 0;
	case FE_ARG_SIZE:
		if ((ms = parse_size(val)) < 0)
			return fe_usage_error(
				cmd,
				"invalid size '%s' for --%s: expected bytes or e.g. 512k, 8m, 1g",
				val, o->long_name);
		*(long *)base = ms;
		return 0;
	case FE_ARG_LIST:
		if (o->hi == 1 && cfg->nplatforms >= 1)
			return fe_usage_error(cmd, "--%s given more than once: %s takes one",
					      o->long_name, cmd->name);
		if (cfg->nplatforms >= o->hi || cfg->nplatforms >= IDP_MAX_PLATFORMS)
			return fe_usage_error(cmd, "too many --%s values (at most %d)",
					      o->long_name, o->hi);
		cfg->platforms[cfg->nplatforms++] = val;
		return 0;
	}
	return 0;
}

/* "--name[=value]"; *i advances past a separate value. */
static int parse_long(const struct fe_cmd *cmd, int argc, char **argv, int *i,
		      struct fe_config *cfg)
{
	const char *name = argv[*i] + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct fe_option *o = find_long(cmd->opts, name, len);

	if (!o)
		return fe_usage_error(cmd, "unknown option '--%.*s'", (int)len, name);
	if (fe_opt_is_flag(o)) {
		if (eq)
			return fe_usage_error(cmd, "option '--%s' takes no value", o->long_name);
		return apply(cmd, o, NULL, cfg);
	}
	if (eq)
		return apply(cmd, o, eq + 1, cfg);
	if (*i + 1 >= argc)
		return fe_usage_error(cmd, "option '--%s' needs a value (%s)", o->long_name,
				      o->argname);
	return apply(cmd, o, argv[++*i], cfg);
}

/* "-qv", "-uNAME", "-u NAME". */
static int parse_short(const struct fe_cmd *cmd, int argc, char **argv, int *i,
		       struct fe_config *cfg)
{
	const char *p;
	const struct fe_option *o;
	int rc;

	for (p = argv[*i] + 1; *p; p++) {
		if (!(o = find_short(cmd->opts, *p)))
			return fe_usage_error(cmd, "unknown option '-%c'", *p);
		if (fe_opt_is_flag(o)) {
			if ((rc = apply(cmd, o, NULL, cfg)) != 0)
				return rc;
			continue;
		}
		if (p[1])
			return apply(cmd, o, p + 1, cfg);
		if (*i + 1 >= argc)
			return fe_usage_error(cmd, "option '-%c' needs a value (%s)", *p,
					      o->argname);
		return apply(cmd, o, argv[++*i], cfg);
	}
	return 0;
}

static int add_arg(const struct fe_cmd *cmd, const char *a, struct fe_config *cfg)
{
	if (cfg->nargs >= cmd->max_args || cfg->nargs >= FE_MAX_ARGS)
		return fe_usage_error(cmd, "too many arguments: unexpected '%s'", a);
	cfg->args[cfg->nargs++] = a;
	return 0;
}

static int parse_argv(const struct fe_cmd *cmd, int argc, char **argv, struct fe_config *cfg)
{
	int i, rc = 0, dashdash = 0;

	for (i = 0; i < argc && rc == 0; i++) {
		const char *a = argv[i];
		if (dashdash || a[0] != '-' || a[1] == '\0')
			rc = add_arg(cmd, a, cfg);
		else if (strcmp(a, "--") == 0)
			dashdash = 1;
		else if (a[1] == '-')
			rc = parse_long(cmd, argc, argv, &i, cfg);
		else
			rc = parse_short(cmd, argc, argv, &i, cfg);
	}
	return rc;
}

/* "1", "true", "yes", "on" -> 1; "0", "false", "no", "off", "" -> 0; else -1. */
static int parse_bool(const char *s)
{
	static const char *const yes[] = { "1", "true", "yes", "on", NULL };
	static const char *const no[] = { "0", "false", "no", "off", "", NULL };
	int i;

	for (i = 0; yes[i]; i++)
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
	for (i = 0; no[i]; i++)
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	return -1;
}

static int apply_env(const struct fe_cmd *cmd, struct fe_config *cfg)
{
	const char *v;
	int b;

	if (!cfg->registry && (v = getenv("IDPBUILDER_REGISTRY_URL")) && *v)
		cfg->registry = v;
	if ((v = getenv("IDPBUILDER_REGISTRY_INSECURE")) && !cfg->insecure) {
		if ((b = parse_bool(v)) < 0)
			return fe_usage_error(
				cmd,
				"invalid IDPBUILDER_REGISTRY_INSECURE '%s': expected true or false",
				v);
		cfg->insecure = b;
	}
	if (cfg->timeout_ms == UNSET && (v = getenv("IDPBUILDER_PUSH_TIMEOUT")) && *v) {
		cfg->timeout_from_env = 1;
		if ((cfg->timeout_ms = idp_duration_parse_ms(v)) < 0)
			return fe_usage_error(
				cmd, "invalid IDPBUILDER_PUSH_TIMEOUT '%s': expected e.g. 90s, 5m",
				v);
	}
	if (cfg->retries == UNSET && (v = getenv("IDPBUILDER_PUSH_RETRY_ATTEMPTS")) && *v) {
		if (parse_int(v, 1, 101, &b) < 0)
			return fe_usage_error(
				cmd,
				"invalid IDPBUILDER_PUSH_RETRY_ATTEMPTS '%s': expected 1 to 101",
				v);
		cfg->retries = b - 1;
	}
	return 0;
}

static int read_password_stdin(const struct fe_cmd *cmd, struct fe_config *cfg)
{
	struct idp_buf b;
	char chunk[256];
	ssize_t n;

	idp_buf_init(&b, PASSWORD_MAX);
	while ((n = read(0, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || idp_buf_add(&b, chunk, (size_t)n) < 0) {
			idp_buf_release(&b);
			return fe_usage_error(cmd, "cannot read the password from stdin%s",
					      n < 0 ? "" : ": longer than 4096 bytes");
		}
	}
	while (b.len && (b.buf[b.len - 1] == '\n' || b.buf[b.len - 1] == '\r'))
		b.buf[--b.len] = '\0';
	if (!b.len) {
		idp_buf_release(&b);
		return fe_usage_error(cmd, "--password-stdin: stdin gave an empty password");
	}
	cfg->password_buf = idp_buf_detach(&b, NULL);
	cfg->password = cfg->password_buf;
	return 0;
}

/* -u without a password: asked for on the terminal (stdin is one), as
 * docker login does; else a usage error naming --password-stdin. */
static int ask_password(const struct fe_cmd *cmd, struct fe_config *cfg)
{
	char prompt[300], user[200];
	const char *why;
	char *buf;
	int n;

	if (!isatty(0))
		return fe_usage_error(cmd,
				      "-u %s needs a password: give it on stdin with "
				      "--password-stdin (a terminal is asked for it)",
				      cfg->username);
	if (!(buf = malloc(PASSWORD_MAX + 1)))
		return fe_usage_error(cmd, "out of memory");
	idp_text_escape(user, sizeof(user), cfg->username);
	snprintf(prompt, sizeof(prompt), "Password for %s: ", user);
	n = fe_askpass(prompt, buf, PASSWORD_MAX + 1);
	why = errno == EMSGSIZE ? "longer than 4096 bytes" : strerror(errno);
	if (n <= 0) {
		explicit_bzero(buf, PASSWORD_MAX + 1);
		free(buf);
	}
	if (n == 0)
		return fe_usage_error(cmd, "-u %s: the password is empty", cfg->username);
	if (n < 0)
		return fe_usage_error(cmd, "cannot read the password from the terminal: %s", why);
	cfg->password_buf = buf;
	cfg->password = buf;
	return 0;
}

static int check_values(const struct fe_cmd *cmd, struct fe_config *cfg)
{
	struct idp_error err = IDP_ERROR_INIT;
	char os[32], arch[32], variant[32];
	int i;

	if (cfg->nargs < cmd->min_args)
		return fe_usage_error(cmd, "%s",
				      cfg->nargs ? "not enough arguments" : "no image given");
	if (cfg->password_stdin && cfg->password)
		return fe_usage_error(cmd,
				      "--password and --password-stdin are mutually exclusive");
	if ((cfg->password_stdin || cfg->password) && !cfg->username)
		return fe_usage_error(cmd, "%s needs -u USER",
				      cfg->password ? "--password" : "--password-stdin");
	if (cfg->compression == FE_COMP_GZIP && cfg->compression_level > 9)
		return fe_usage_error(cmd,
				      "invalid --compression-level %d for gzip: expected 1 to 9",
				      cfg->compression_level);
#ifndef HAVE_ZSTD
	if (cfg->compression == FE_COMP_ZSTD)
		return fe_usage_error(cmd, "--compression zstd: this build has no zstd support");
#endif
	for (i = 0; i < cfg->nplatforms; i++)
		if (idp_platform_parse(cfg->platforms[i], os, arch, variant, &err) < 0)
			return fe_usage_error(cmd, "%s", err.msg);
	if (cfg->registry && !cfg->registry[0])
		return fe_usage_error(cmd, "--registry: empty value");
	return 0;
}

static void apply_defaults(struct fe_config *cfg)
{
	if (cfg->jobs == UNSET)
		cfg->jobs = DEFAULT_JOBS;
	if (cfg->retries == UNSET)
		cfg->retries = DEFAULT_RETRIES;
	if (cfg->timeout_ms == UNSET)
		cfg->timeout_ms = DEFAULT_TIMEOUT_MS;
	cfg->deadline_ms = cfg->timeout_ms > 0 ? idp_now_ms() + cfg->timeout_ms : 0;
}

/* The command line as --progress and -q leave it, read before anything
 * is parsed, so that a usage error anywhere on it is a JSON line with
 * --progress json. */
struct msg_scan {
	int json, quiet;
};

/* Note what option o with value v (NULL for a flag) says. */
static void scan_note(const struct fe_option *o, const char *v, struct msg_scan *ms)
{
	if (o && o->target == FE_TARGET(quiet))
		ms->quiet = 1;
	if (o && v && o->target == FE_TARGET(progress))
		ms->json = strcmp(v, "json") == 0;
}

/* The option word argv[*i] (its value skipped with it); unknown options
 * are taken for flags. */
static void scan_word(const struct fe_cmd *cmd, int argc, char **argv, int *i,
		      struct msg_scan *ms)
{
	const char *a = argv[*i], *eq = strchr(a, '='), *p;
	const char *next = *i + 1 < argc ? argv[*i + 1] : NULL;
	const struct fe_option *o;

	if (a[1] == '-') {
		o = find_long(cmd->opts, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
		if (o && !fe_opt_is_flag(o) && !eq && next)
			++*i;
		scan_note(o, !o || fe_opt_is_flag(o) ? NULL : eq ? eq + 1 : next, ms);
		return;
	}
	for (p = a + 1; *p; p++) {
		o = find_short(cmd->opts, *p);
		if (o && !fe_opt_is_flag(o)) {
			if (!p[1] && next)
				++*i;
			scan_note(o, p[1] ? p + 1 : next, ms);
			return;
		}
		scan_note(o, NULL, ms);
	}
}

static enum fe_msg_format msg_format(const struct fe_cmd *cmd, int argc, char **argv)
{
	struct msg_scan ms = { 0, 0 };
	int i;

	for (i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (argv[i][0] == '-' && argv[i][1])
			scan_word(cmd, argc, argv, &i, &ms);
	return ms.json && !ms.quiet ? FE_MSG_JSON : FE_MSG_PLAIN;
}

int fe_parse(const struct fe_cmd *cmd, int argc, char **argv, struct fe_config *cfg)
{
	fe_config_init(cfg);
	fe_msg_set_format(msg_format(cmd, argc, argv));
	if (parse_argv(cmd, argc, argv, cfg) != 0)
		return FE_PARSE_USAGE;
	if (cfg->help)
		return FE_PARSE_HELP;
	if (cfg->version)
		return FE_PARSE_VERSION;
	if (apply_env(cmd, cfg) != 0 || check_values(cmd, cfg) != 0)
		return FE_PARSE_USAGE;
	apply_defaults(cfg);
	if (cfg->password) {
		cfg->password_on_cmdline = 1;
		fe_warnf("--password is visible to other users of this machine; use "
			 "--password-stdin");
	}
	if (cfg->password_stdin && read_password_stdin(cmd, cfg) != 0)
		return FE_PARSE_USAGE;
	if (cfg->username && !cfg->password && ask_password(cmd, cfg) != 0)
		return FE_PARSE_USAGE;
	return FE_PARSE_OK;
}

void fe_session_opts(const struct fe_config *cfg, volatile sig_atomic_t *cancel,
		     struct idp_session_opts *so)
{
	const struct idp_retry_policy def = IDP_RETRY_DEFAULT;

	memset(so, 0, sizeof(*so));
	so->tls.ca_file = cfg->ca_cert;
	so->tls.insecure = cfg->insecure;
	so->tls.plain_http = cfg->plain_http;
	so->tls.hosts_dir = cfg->hosts_dir;
	so->creds.username = cfg->username;
	so->creds.password = cfg->password;
	so->creds.docker_config_dir = cfg->docker_config;
	so->retry = def;
	so->retry.attempts = cfg->retries + 1;
	so->timeout_ms = cfg->timeout_ms;
	so->chunk_size = (size_t)cfg->chunk_size;
	so->allow_insecure_auth = cfg->allow_insecure_auth;
	so->cancel = cancel;
	so->warn = fe_warn_sink;
	so->idpbuilder_registry = cfg->registry;
	if (cfg->verbose >= 1)
		so->info = fe_info_sink;
	if (cfg->verbose >= 2)
		so->debug = fe_debug_sink;
}

/* ms as --timeout takes it: "1h30m", "5m", "1m30s", "2s", "1500ms". */
static void duration_text(long ms, char *buf, size_t len)
{
	long s = ms / 1000;
	size_t o = 0;

	if (ms % 1000) {
		snprintf(buf, len, "%ldms", ms);
		return;
	}
	buf[0] = '\0';
	if (s >= 3600 && o < len)
		o += (size_t)snprintf(buf + o, len - o, "%ldh", s / 3600);
	if (s % 3600 >= 60 && o < len)
		o += (size_t)snprintf(buf + o, len - o, "%ldm", s % 3600 / 60);
	if ((s % 60 || !s) && o < len)
		snprintf(buf + o, len - o, "%lds", s % 60);
}

void fe_timeout_hint(const struct fe_config *cfg, struct idp_error *err)
{
	char now[32], more[32], hint[160];

	if (err->cls != IDP_ETIMEOUT || !cfg->deadline_ms || idp_now_ms() < cfg->deadline_ms)
		return;
	duration_text(cfg->timeout_ms, now, sizeof(now));
	duration_text(cfg->timeout_ms < HINT_TIMEOUT_MS ? HINT_TIMEOUT_MS : 2 * cfg->timeout_ms,
		      more, sizeof(more));
	snprintf(hint, sizeof(hint),
		 "; that is %s%s: raise it (e.g. --timeout %s), or --timeout 0 for none",
		 cfg->timeout_from_env ? "IDPBUILDER_PUSH_TIMEOUT=" : "--timeout ", now, more);
	idp_error_suffix(err, hint);
}

void fe_ref_defaults(const struct fe_config *cfg, struct idp_ref_defaults *d)
{
	d->registry = cfg->registry;
	d->owner = cfg->owner;
	d->tag = NULL;
}

/* "docker.io/library/myapp:dev" -> "myapp:dev". */
static char *local_name_tail(const char *image)
{
	const char *slash = strrchr(image, '/');

	return strdup(slash ? slash + 1 : image);
}

#define UNTAGGED_MSG "'%s' is a digest reference: there is no tag to push it under; give TARGET"

int fe_refuse_untagged(const char *image, const char *target)
{
	if (target || !strchr(image, '@'))
		return 0;
	fe_errorf(UNTAGGED_MSG, image);
	return 1;
}

/* The destination without TARGET: IMAGE's name and tag under the
 * registry and owner. */
static int derived_ref(const struct fe_config *cfg, const char *image, struct idp_ref *out,
		       struct idp_error *err)
{
	struct idp_ref_defaults d;
	char *name;
	int rc;

	fe_ref_defaults(cfg, &d);
	if (strchr(image, '@'))
		return idp_error_set(err, IDP_EGENERAL, UNTAGGED_MSG, image);
	if (!(name = local_name_tail(image)))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	rc = idp_ref_parse(name, &d, out, err);
	if (rc < 0)
		idp_error_prefix(err, "cannot derive the destination from '%s' (give TARGET)",
				 image);
	free(name);
	return rc;
}

/* TARGET: a reference under the registry and owner, with IMAGE's tag
 * when it has none (derived: IMAGE's destination without TARGET, or NULL
 * when IMAGE has none: by digest, an image ID). Not a registry address
 * alone, not by digest. */
static int target_ref(const struct fe_config *cfg, const struct idp_ref *derived,
		      const char *target, struct idp_ref *out, struct idp_error *err)
{
	struct idp_ref_defaults d;

	fe_ref_defaults(cfg, &d);
	if (idp_ref_is_registry_only(target) && derived)
		return idp_error_set(err, IDP_EGENERAL,
				     "TARGET '%s' is a registry, not a repository: did you mean "
				     "%s/%s:%s?", target, target, derived->path, derived->tag);
	if (idp_ref_is_registry_only(target))
		return idp_error_set(err, IDP_EGENERAL,
				     "TARGET '%s' is a registry, not a repository: give "
				     "%s/OWNER/NAME:TAG", target, target);
	d.tag = derived ? derived->tag : NULL;
	if (idp_ref_parse(target, &d, out, err) < 0)
		return -1;
	if (!out->digest)
		return 0;
	idp_ref_release(out);
	return idp_error_set(err, IDP_EGENERAL,
			     "cannot push to a digest reference: TARGET '%s' (give NAME[:TAG]; "
			     "the registry names the manifest by its digest itself)", target);
}

int fe_dest_ref(const struct fe_config *cfg, const char *image, const char *target,
		struct idp_ref *out, struct idp_error *err)
{
	struct idp_error ignored = IDP_ERROR_INIT;
	struct idp_ref derived;
	int derivable, rc;

	if (!target)
		return derived_ref(cfg, image, out, err);
	memset(&derived, 0, sizeof(derived));
	/* an image ID ("sha256:...") is no name:tag */
	derivable = strncmp(image, "sha256:", 7) != 0 &&
		    derived_ref(cfg, image, &derived, &ignored) == 0;
	rc = target_ref(cfg, derivable ? &derived : NULL, target, out, err);
	idp_ref_release(&derived);
	return rc;
}

int fe_dest_refs(const struct fe_config *cfg, const char *image, const char *const *targets,
		 int ntargets, struct idp_ref out[FE_MAX_TARGETS], struct idp_error *err)
{
	int i, n = ntargets > 0 ? ntargets : 1;

	if (n > FE_MAX_TARGETS)
		return idp_error_set(err, IDP_EGENERAL, "at most %d TARGETs", FE_MAX_TARGETS);
	memset(out, 0, sizeof(*out) * (size_t)n);
	for (i = 0; i < n; i++) {
		if (fe_dest_ref(cfg, image, ntargets ? targets[i] : NULL, &out[i], err) < 0) {
			fe_dest_refs_release(out, i);
			return -1;
		}
	}
	return n;
}

void fe_dest_refs_release(struct idp_ref *refs, int n)
{
	int i;

	for (i = 0; i < n; i++)
		idp_ref_release(&refs[i]);
}
