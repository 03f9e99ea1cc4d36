/* fe_opts.h: command-line options for the front ends, table-driven (curl's
 * aliases[] / git's parse-options): each front end has ONE const table of
 * struct fe_option rows, built from the shared engine rows below plus its
 * own rows, and parsing follows from it. What an option means (its help
 * line, group, default, environment variable) is written once, in
 * docs/opts/<long>.md; --help and the man pages are generated from there.
 *
 * A front end looks like this:
 *
 *   const char fe_progname[] = "idppush-containerd";     (see fe_msg.h)
 *   static const struct fe_option opts[] = {
 *           FE_OPTS_ENGINE,
 *           FE_OPT_LIST("platform", platforms, "OS/ARCH[/VARIANT]", IDP_MAX_PLATFORMS),
 *           FE_OPTS_CONTAINERD,
 *           FE_OPT_END
 *   };
 *   static const struct fe_cmd cmd = {
 *           "idppush-containerd", "[OPTIONS] IMAGE [TARGET]",
 *           "Push an image from containerd to an OCI registry", opts, 1, 2 };
 *
 *   struct fe_config cfg;
 *   int rc = fe_parse(&cmd, argc - 1, argv + 1, &cfg);   // argv AFTER the
 *   if (rc != FE_PARSE_OK)                              // program name
 *           return fe_parse_exit(&cmd, rc);   // --help/--version/usage
 *   ... cfg.args[0] is IMAGE, cfg.args[1] TARGET or NULL ...
 *   ... the push: fe_push_open, the front end's steps, fe_push_finish
 *       (fe_push.h) ...
 *   fe_config_release(&cfg);
 *
 * fe_parse() also applies the environment fallbacks (IDPBUILDER_REGISTRY_URL,
 * IDPBUILDER_REGISTRY_INSECURE, IDPBUILDER_PUSH_TIMEOUT (default none),
 * IDPBUILDER_PUSH_RETRY_ATTEMPTS), validates every value, checks the number
 * of positional arguments and reads --password-stdin (or, for -u without
 * a password, asks for it on the terminal: fe_askpass.h). It never
 * touches the network. Credentials env vars are the engine's business (creds.c). */
#ifndef IDP_FE_OPTS_H
#define IDP_FE_OPTS_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include "util/manifest.h"
#include "util/ref.h"
#include "registry/registry.h"
#include "sources/source.h"

enum fe_argtype {
	FE_ARG_NONE,      /* flag: int target set to 1 */
	FE_ARG_COUNT,     /* flag: int target counts how often it was given (-vv is 2) */
	FE_ARG_STRING,    /* const char * target (points into argv) */
	FE_ARG_INT,       /* int target, range [lo, hi] */
	FE_ARG_DURATION,  /* long target in ms ("30s", "5m", "1500ms", "300") */
	FE_ARG_CHOICE,    /* int target = index into choices[] */
	FE_ARG_LIST,      /* string repeatable up to hi times: the platforms list */
	FE_ARG_SIZE       /* long target in bytes ("65536", "512k", "64m", "1g") */
};

/* Where a value goes: a member of struct fe_config. */
#define FE_TARGET(member) offsetof(struct fe_config, member)

struct fe_option {
	char short_name;             /* 0 = none */
	const char *long_name;       /* without "--"; also the docs/opts/<long>.md name */
	enum fe_argtype type;
	size_t target;               /* FE_TARGET(member) */
	const char *argname;         /* "HOST[:PORT]" for --help; NULL for flags */
	const char *const *choices;  /* FE_ARG_CHOICE: NULL-terminated */
	int lo, hi;                  /* FE_ARG_INT range; FE_ARG_LIST: hi = most values */
};

/* Rows by kind (git's parse-options OPT_* macros): short letter (0 for
 * none), long name, the fe_config member, then what the kind needs. The
 * help text, group, default and environment variable of each option are
 * in docs/opts/<long>.md, the one source of option text (fe_opt_doc). */
#define FE_OPT_FLAG(s, l, m) \
	{ .short_name = (s), .long_name = (l), .type = FE_ARG_NONE, .target = FE_TARGET(m) }
#define FE_OPT_COUNT(s, l, m) \
	{ .short_name = (s), .long_name = (l), .type = FE_ARG_COUNT, .target = FE_TARGET(m) }
#define FE_OPT_STRING(s, l, m, arg) \
	{ .short_name = (s), .long_name = (l), .type = FE_ARG_STRING, .target = FE_TARGET(m), \
	  .argname = (arg) }
#define FE_OPT_INT(l, m, arg, min, max) \
	{ .long_name = (l), .type = FE_ARG_INT, .target = FE_TARGET(m), .argname = (arg), \
	  .lo = (min), .hi = (max) }
#define FE_OPT_DURATION(l, m, arg) \
	{ .long_name = (l), .type = FE_ARG_DURATION, .target = FE_TARGET(m), .argname = (arg) }
#define FE_OPT_SIZE(l, m, arg) \
	{ .long_name = (l), .type = FE_ARG_SIZE, .target = FE_TARGET(m), .argname = (arg) }
#define FE_OPT_CHOICE(l, m, arg, names) \
	{ .long_name = (l), .type = FE_ARG_CHOICE, .target = FE_TARGET(m), .argname = (arg), \
	  .choices = (names) }
#define FE_OPT_LIST(l, m, arg, max) \
	{ .long_name = (l), .type = FE_ARG_LIST, .target = FE_TARGET(m), .argname = (arg), \
	  .hi = (max) }
#define FE_OPT_END { .long_name = NULL }

/* 1 when o takes no value (FE_ARG_NONE, FE_ARG_COUNT). */
int fe_opt_is_flag(const struct fe_option *o);

/* An option's text, generated from docs/opts/<long>.md. */
struct fe_opt_doc {
	const char *long_name, *short_name, *argname;
	const char *help;            /* one line, no final period */
	const char *category;        /* the --help group: "Destination", "TLS"... */
	const char *default_value;   /* NULL: none worth saying */
	const char *env;             /* environment variable, or NULL */
};

/* The docs of --long_name, or NULL (the unit tests check there is one
 * for every row, and that short name and argument agree). */
const struct fe_opt_doc *fe_opt_doc(const char *long_name);

enum fe_compression { FE_COMP_GZIP, FE_COMP_ZSTD };
enum fe_progress_mode { FE_PROGRESS_AUTO, FE_PROGRESS_TTY, FE_PROGRESS_PLAIN, FE_PROGRESS_JSON };

extern const char *const fe_compression_names[];  /* "gzip", "zstd" */
extern const char *const fe_format_names[];       /* "docker", "oci" (= enum idp_manifest_format) */
extern const char *const fe_progress_names[];     /* "auto", "tty", "plain", "json" */

#define FE_MAX_ARGS 4

/* The parsed command line. Strings point into argv (or the environment)
 * unless noted; fe_config_release() frees what is owned. Numeric members
 * are final after fe_parse (defaults and env applied). */
struct fe_config {
	/* engine options (FE_OPTS_ENGINE) */
	const char *registry;        /* host[:port] (scheme accepted); NULL = idpbuilder default */
	const char *owner;           /* NULL = "giteaadmin"; "" = no owner segment */
	const char *username;
	const char *password;        /* from -p, or password_buf from --password-stdin */
	int password_stdin;
	int insecure;
	int plain_http;
	const char *ca_cert;
	int install_ca;              /* keep the CA in ~/.docker/certs.d after the push */
	int jobs;                    /* blobs in flight, default 4 */
	int retries;                 /* retries after the first try (attempts = retries + 1) */
	long timeout_ms;             /* overall deadline, default 0 = none */
	int timeout_from_env;        /* timeout_ms is IDPBUILDER_PUSH_TIMEOUT's */
	int64_t deadline_ms;         /* idp_now_ms() + timeout_ms at fe_parse; 0 = none */
	long chunk_size;             /* upload chunk in bytes, 0 = the engine's default */
	long limit_rate;             /* upload bytes per second, all uploads together; 0 none */
	int allow_insecure_auth;     /* credentials over plain HTTP to a remote host */
	int compression;             /* enum fe_compression */
	int compression_level;       /* 0 = the library default */
	int format;                  /* enum idp_manifest_format */
	int nplatforms;
	const char *platforms[IDP_MAX_PLATFORMS];
	int quiet;
	int progress;                /* enum fe_progress_mode */
	const char *digest_file;
	int verbose;                 /* -v 1: what was decided and why; -vv 2: the HTTP trace too */
	int version;
	int help;
	/* containerd adapter (FE_OPTS_CONTAINERD) */
	const char *root;            /* containerd root, NULL = /var/lib/containerd */
	const char *ns;              /* namespace, NULL = "default" */
	int all_platforms;
	const char *hosts_dir;       /* containerd certs.d (also used for TLS) */
	const char *oci_layout;      /* read an OCI layout directory instead */
	int partial_index;
	int keep_attestations;
	/* set by the front end, not by an option row */
	const char *docker_config;   /* docker's --config dir (credentials), NULL = env/default */
	/* positional arguments, in order */
	int nargs;
	const char *args[FE_MAX_ARGS];
	/* owned */
	char *password_buf;          /* --password-stdin contents */
	int password_on_cmdline;     /* -p was used (warned about) */
};

/* One front end: its name, usage line, summary, table, how many
 * positional arguments it takes, and the examples --help ends with. */
struct fe_cmd {
	const char *name;            /* "docker idppush", "idppush-containerd" */
	const char *usage;           /* "[OPTIONS] IMAGE [TARGET]" */
	const char *summary;
	const struct fe_option *opts;    /* ends with FE_OPT_END */
	int min_args, max_args;
	const char *examples;        /* lines "  command   # what it does\n", or NULL */
};

/* fe_parse() results (negative: stop and call fe_parse_exit()). */
enum fe_parse_result {
	FE_PARSE_OK = 0,
	FE_PARSE_HELP = -1,          /* -h/--help given: print help, exit 0 */
	FE_PARSE_VERSION = -2,       /* --version: print version, exit 0 */
	FE_PARSE_USAGE = -3          /* the reason + usage were printed; exit 1 */
};

/* Parse args[0..argc) (the program name NOT included). Long options as
 * "--name value" or "--name=value", short as "-u value", "-uvalue" or
 * bundled flags "-qv"; "--" ends the options; positionals may come
 * anywhere. First of all it sets fe_msg's format: JSON when --progress
 * json (and not -q) is anywhere on the command line. On a usage error
 * prints "<prog>: error: <reason>" and the usage line to stderr (JSON:
 * the error event) and returns FE_PARSE_USAGE. cfg is initialised by
 * this call (release it whatever the result). */
int fe_parse(const struct fe_cmd *cmd, int argc, char **argv, struct fe_config *cfg);
/* Print what fe_parse asked for (help on stdout, version) and return the
 * exit code: 0 for HELP/VERSION, 1 for USAGE. */
int fe_parse_exit(const struct fe_cmd *cmd, int rc);
/* Write the generated --help text. */
void fe_help(const struct fe_cmd *cmd, FILE *out);
/* "<prog>: error: <reason>\nUsage: <name> <usage>\n..." (JSON: the error
 * event, exit code 1) and return 1. */
int fe_usage_error(const struct fe_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void fe_config_init(struct fe_config *cfg);
void fe_config_release(struct fe_config *cfg);

/* The config as engine options. so->cancel is set to `cancel`; warnings,
 * info (-v) and the trace (-vv) go to fe_msg's sinks. Strings in *so point
 * into cfg, which must outlive it. */
void fe_session_opts(const struct fe_config *cfg, volatile sig_atomic_t *cancel,
		     struct idp_session_opts *so);
/* An IMAGE by digest without TARGET would be pushed under a made-up tag:
 * refused, as `docker push` refuses a digest reference. Prints one line
 * ("<prog>: error: 'x@sha256:...' is a digest reference: ...; give
 * TARGET") and returns 1 (the exit code); 0 when fine. */
int fe_refuse_untagged(const char *image, const char *target);
/* A push that ran out of time (err IDP_ETIMEOUT, cfg's deadline past):
 * err gets "; that is --timeout 5m: raise it (e.g. --timeout 30m), or
 * --timeout 0 for none" (or IDPBUILDER_PUSH_TIMEOUT=5m). Other errors
 * are left alone. */
void fe_timeout_hint(const struct fe_config *cfg, struct idp_error *err);
/* Reference defaults (registry/owner) for idp_ref_parse. */
void fe_ref_defaults(const struct fe_config *cfg, struct idp_ref_defaults *d);
/* The destination: TARGET when given, else IMAGE's name and tag moved to
 * the registry + owner (a "docker.io/library/x" or "host/ns/x" source keeps
 * only its last path component); an IMAGE by digest ("x@sha256:...",
 * "x:tag@sha256:...") has no tag to push under and needs TARGET.
 * A TARGET without a tag takes IMAGE's ("latest" when IMAGE has none: by
 * digest, an image ID); a TARGET by digest, or one that is only a
 * registry address ("127.0.0.1:5001": "did you mean
 * 127.0.0.1:5001/giteaadmin/myapp:dev?"), is refused. Returns 0 or -1
 * with err (IDP_EGENERAL: a usage error). */
int fe_dest_ref(const struct fe_config *cfg, const char *image, const char *target,
		struct idp_ref *out, struct idp_error *err);
#define FE_MAX_TARGETS 16
/* The destinations of IMAGE: each of targets[0..ntargets) (fe_dest_ref),
 * or the derived one when there are none. Returns how many (1..
 * FE_MAX_TARGETS) or -1 with err; release with fe_dest_refs_release. */
int fe_dest_refs(const struct fe_config *cfg, const char *image, const char *const *targets,
		 int ntargets, struct idp_ref out[FE_MAX_TARGETS], struct idp_error *err);
void fe_dest_refs_release(struct idp_ref *refs, int n);

/* ---- the shared rows ---- */

#define FE_OPTS_ENGINE \
	FE_OPT_STRING(0, "registry", registry, "HOST[:PORT]"), \
	FE_OPT_STRING(0, "owner", owner, "NAME"), \
	FE_OPT_STRING('u', "username", username, "NAME"), \
	FE_OPT_STRING('p', "password", password, "PASSWORD"), \
	FE_OPT_FLAG(0, "password-stdin", password_stdin), \
	FE_OPT_STRING(0, "ca-cert", ca_cert, "FILE"), \
	FE_OPT_FLAG(0, "install-ca", install_ca), \
	FE_OPT_FLAG(0, "insecure", insecure), \
	FE_OPT_FLAG(0, "plain-http", plain_http), \
	FE_OPT_FLAG(0, "allow-insecure-auth", allow_insecure_auth), \
	FE_OPT_INT("jobs", jobs, "N", 1, 16), \
	FE_OPT_INT("retries", retries, "N", 0, 100), \
	FE_OPT_DURATION("timeout", timeout_ms, "DURATION"), \
	FE_OPT_SIZE("chunk-size", chunk_size, "SIZE"), \
	FE_OPT_SIZE("limit-rate", limit_rate, "RATE"), \
	FE_OPT_FLAG('q', "quiet", quiet), \
	FE_OPT_CHOICE("progress", progress, "auto|tty|plain|json", fe_progress_names), \
	FE_OPT_STRING(0, "digest-file", digest_file, "FILE"), \
	FE_OPT_COUNT('v', "verbose", verbose), \
	FE_OPT_FLAG(0, "version", version), \
	FE_OPT_FLAG('h', "help", help)

/* --platform is a row of each front end's own, for how many it takes:
 *	FE_OPT_LIST("platform", platforms, "OS/ARCH[/VARIANT]", 1)
 * (at most IDP_MAX_PLATFORMS). */

/* Rows for front ends that build layers and manifests (the plugin). */
#define FE_OPTS_BUILD \
	FE_OPT_CHOICE("compression", compression, "gzip|zstd", fe_compression_names), \
	FE_OPT_INT("compression-level", compression_level, "N", 1, 19), \
	FE_OPT_CHOICE("format", format, "docker|oci", fe_format_names)

/* Rows only the containerd adapter has. */
#define FE_OPTS_CONTAINERD \
	FE_OPT_STRING(0, "root", root, "DIR"), \
	FE_OPT_STRING('n', "namespace", ns, "NAME"), \
	FE_OPT_FLAG(0, "all-platforms", all_platforms), \
	FE_OPT_STRING(0, "hosts-dir", hosts_dir, "DIR"), \
	FE_OPT_STRING(0, "oci-layout", oci_layout, "DIR"), \
	FE_OPT_FLAG(0, "partial-index", partial_index), \
	FE_OPT_FLAG(0, "keep-attestations", keep_attestations)

#endif
