/* plug_main.c: idppush-plugin, the docker CLI plugin (`docker idppush`)
 * that docker-idppush (plug_launch.c) runs: finds its arguments behind
 * docker's global flags, answers the plugin protocol (metadata, help,
 * __complete), loads the push cache, then asks docker about the image
 * (when the push is likely to take the loopback relay, its temporary tag
 * made first, by the image's name, tells the image ID:
 * idp_docker_relay_tag_early, idp_docker_image_for_push) and pushes it: the shared
 * flow opens the run (fe_push_open), the engine pushes the docker image
 * (idp_docker_push, docker/docker_push.h), the shared flow reports
 * (fe_push_finish). Also works run directly. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plug_metadata.h"
#include "frontend/fe_memory.h"
#include "frontend/fe_msg.h"
#include "frontend/fe_opts.h"
#include "frontend/fe_push.h"
#include "frontend/fe_signal.h"
#include "docker/relay.h"
#include "plug.h"
#include "banned.h"

const char fe_progname[] = "docker-idppush";

#define PLUGIN_NAME PLUG_NAME

/* one platform: docker save exports one */
static const struct fe_option plug_options[] = {
	FE_OPTS_ENGINE,
	FE_OPT_LIST("platform", platforms, "OS/ARCH[/VARIANT]", 1),
	FE_OPTS_BUILD,
	FE_OPT_END
};

#define PLUG_SUMMARY \
	"Push a local image to idpbuilder's Gitea registry (or any OCI registry).\n" \
	"TARGET defaults to REGISTRY/OWNER/NAME:TAG from IMAGE; a TARGET without a tag\n" \
	"takes IMAGE's, one without a registry goes to --registry. With several\n" \
	"TARGETs the image is read once and pushed to each."
#define PLUG_EXAMPLES(cmd) \
	"  " cmd " myapp:dev\n" \
	"      push to gitea.cnoe.localtest.me:8443/giteaadmin/myapp:dev\n" \
	"  " cmd " myapp:dev registry.example.com/team/myapp:1.2\n" \
	"      push anywhere else\n" \
	"  " cmd " myapp:dev myapp:dev myapp:latest\n" \
	"      two tags in one run (the layers go up once)\n" \
	"  ref=$(" cmd " -q --digest-file out/digest myapp:dev)\n" \
	"      in a script: stdout is TARGET@DIGEST only\n"

static const struct fe_cmd plug_cmd_docker = {
	.name = "docker " PLUGIN_NAME,
	.usage = "[OPTIONS] IMAGE [TARGET...]",
	.summary = PLUG_SUMMARY,
	.opts = plug_options,
	.min_args = 1,
	.max_args = 1 + FE_MAX_TARGETS,
	.examples = PLUG_EXAMPLES("docker idppush"),
};
static const struct fe_cmd plug_cmd_direct = {
	.name = "docker-idppush",
	.usage = "[OPTIONS] IMAGE [TARGET...]",
	.summary = PLUG_SUMMARY,
	.opts = plug_options,
	.min_args = 1,
	.max_args = 1 + FE_MAX_TARGETS,
	.examples = PLUG_EXAMPLES("docker-idppush"),
};

/* docker's global flags: name, short letter, takes a value. */
struct global_flag {
	const char *name;
	char short_name;
	int has_value;
};

static const struct global_flag global_flags[] = {
	{ "config", 0, 1 }, { "context", 'c', 1 }, { "debug", 'D', 0 }, { "host", 'H', 1 },
	{ "log-level", 'l', 1 }, { "tls", 0, 0 }, { "tlsverify", 0, 0 }, { "tlscacert", 0, 1 },
	{ "tlscert", 0, 1 }, { "tlskey", 0, 1 }, { NULL, 0, 0 }
};

/* The global flag `a` is, or NULL; *inline_value set for --x=v / -xV. */
static const struct global_flag *match_global(const char *a, const char **inline_value)
{
	const struct global_flag *g;
	size_t n;

	*inline_value = NULL;
	for (g = global_flags; g->name; g++) {
		n = strlen(g->name);
		if (a[0] == '-' && a[1] == '-' && strncmp(a + 2, g->name, n) == 0 &&
		    (a[2 + n] == '\0' || a[2 + n] == '=')) {
			if (a[2 + n] == '=')
				*inline_value = a + 3 + n;
			return g;
		}
		if (g->short_name && a[0] == '-' && a[1] == g->short_name) {
			if (a[2])
				*inline_value = a[2] == '=' ? a + 3 : a + 2;
			return g;
		}
	}
	return NULL;
}

/* Keep a global flag for running docker; 0, or -1 when there are more
 * than the plugin keeps. */
static int keep_global(struct idp_docker *d, const char *arg)
{
	if (d->nglobals >= IDP_DOCKER_MAX_GLOBALS)
		return -1;
	d->globals[d->nglobals++] = arg;
	return 0;
}

/* What a global flag says about where the daemon is (docker/engine_api.c). */
static void note_global(struct idp_docker *d, const struct global_flag *g, const char *v)
{
	if (strcmp(g->name, "host") == 0) {
		d->host = v;
		d->nhosts++;
	} else if (strcmp(g->name, "context") == 0) {
		d->context = v;
	} else if (strncmp(g->name, "tls", 3) == 0) {
		d->tls = 1;
	}
}

/* Skip docker's global flags up to the plugin name; keep them for running
 * docker, note --config. Returns the index of the first plugin argument,
 * or -1 when there are too many of them. */
static int split_argv(int argc, char **argv, struct idp_docker *d, const char **config_dir)
{
	const struct global_flag *g;
	const char *v;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], PLUGIN_NAME) == 0)
			return i + 1;
		if (!(g = match_global(argv[i], &v)))
			return 1; /* run directly: everything is ours */
		if (keep_global(d, argv[i]) < 0)
			return -1;
		if (g->has_value && !v && i + 1 < argc && keep_global(d, v = argv[++i]) < 0)
			return -1;
		if (strcmp(g->name, "config") == 0)
			*config_dir = v;
		note_global(d, g, v);
	}
	return argc;
}

static int cmd_metadata(void)
{
	fputs(PLUG_METADATA_JSON, stdout);
	return 0;
}

/* Image IDs have no name to derive a destination from. */
static int is_image_id(const char *s)
{
	size_t n;
	if (strncmp(s, "sha256:", 7) == 0)
		return 1;
	n = strspn(s, "0123456789abcdef");
	return n >= 12 && n == strlen(s) && n <= 64;
}

/* -v: the request size uploads start with, and where it came from. */
static void say_chunk(size_t size, const char *from)
{
	int mib = size % (1u << 20) == 0;

	fe_infof("uploads start with %zu %s requests (%s)", size >> (mib ? 20 : 10),
		 mib ? "MiB" : "KiB", from);
}

/* The push, in order: the run opened (the chunk size the push cache
 * learnt for each registry is where its session starts), the image
 * pushed (idp_docker_push), the run finished. */
static int push_job(const struct fe_config *cfg, struct idp_docker_push_opts *o,
		    const struct idp_ref *dests, int n)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_docker_push_result res = { NULL, 0 };
	struct fe_push_job job;
	struct fe_push run;
	size_t hints[FE_MAX_TARGETS] = { 0 };
	int i, rc;

	for (i = 0; i < n; i++)
		hints[i] = (size_t)idp_pushcache_chunk(o->cache, dests[i].domain);
	job = (struct fe_push_job){ .cfg = cfg,
				    .dests = dests,
				    .ndests = n,
				    .cancel = o->cancel,
				    .chunk_size_hint = hints };
	o->chunk_given = cfg->chunk_size != 0;
	o->chunk_start = cfg->chunk_size ? (size_t)cfg->chunk_size
			 : hints[0]      ? hints[0]
					 : IDP_CHUNK_DEFAULT;
	if (cfg->verbose)
		say_chunk(o->chunk_start,
			  cfg->chunk_size ? "--chunk-size"
			  : hints[0]      ? "what the registry took before, from the push cache"
					  : "the default");
	if ((rc = fe_push_open(&run, &job, &err)) == 0)
		rc = idp_docker_push(o, &run.to, &res, &err);
	run.notice = res.notice;
	run.bytes_read = res.bytes_read;
	if (rc < 0)
		fe_timeout_hint(cfg, &err);
	rc = fe_push_finish(&run, rc, &err);
	free(res.notice);
	return rc;
}

/* What the engine's push needs that the command line and docker said
 * (the push cache is push_job's). */
static void push_opts(const struct fe_config *cfg, const struct idp_docker *d, const char *image,
		      const struct idp_docker_image *info, volatile sig_atomic_t *canceled,
		      struct idp_docker_push_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->docker = d;
	o->image = image;
	o->inspect = info;
	o->save_platform = info->save_platform[0] ? info->save_platform : NULL;
	o->platform = cfg->nplatforms ? cfg->platforms[0] : NULL;
	o->format = cfg->format;
	o->cancel = canceled;
	if (cfg->verbose) {
		o->info = fe_info_sink;
		o->debug = fe_debug_sink;
	}
}

static int push_main(const struct fe_cmd *cmd, const struct fe_config *cfg,
		     const struct idp_docker *d, volatile sig_atomic_t *canceled)
{
	const char *image = cfg->args[0];
	const char *const *targets = (const char *const *)cfg->args + 1;
	const char *platform = cfg->nplatforms ? cfg->platforms[0] : NULL;
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_relay_tag *early;
	struct idp_pushcache cache;
	char *cache_path;
	struct idp_docker_image info;
	struct idp_docker_push_opts o;
	struct idp_ref dests[FE_MAX_TARGETS];
	int n, rc;

	if (image[0] == '-')
		return fe_usage_error(cmd, "invalid image '%s'", image);
	if (cfg->nargs < 2 && is_image_id(image))
		return fe_usage_error(cmd, "'%s' is an image ID: give TARGET too", image);
	if (fe_refuse_untagged(image, cfg->nargs > 1 ? targets[0] : NULL))
		return 1;
	if ((n = fe_dest_refs(cfg, image, targets, cfg->nargs - 1, dests, &err)) < 0)
		return fe_usage_error(cmd, "%s", err.msg);
	cache_path = fe_pushcache_open(cfg, &cache);
	early = idp_docker_relay_tag_early(d, image, &dests[0], platform, &cache,
					   cfg->verbose ? fe_debug_sink : NULL, NULL);
	if (idp_docker_image_for_push(d, image, platform, early, &info, &err) < 0) {
		idp_relay_tag_free(early);
		idp_pushcache_release(&cache);
		free(cache_path);
		fe_dest_refs_release(dests, n);
		fe_timeout_hint(cfg, &err);
		return fe_error_report(&err);
	}
	push_opts(cfg, d, image, &info, canceled, &o);
	o.early = early;
	o.cache_path = cache_path;
	o.cache = &cache;
	if (idp_codec_choose(cfg->compression == FE_COMP_ZSTD ? IDP_COMPRESS_ZSTD
							      : IDP_COMPRESS_GZIP,
			     cfg->compression_level, &o.codec, &err) < 0)
		rc = fe_error_report(&err);
	else
		rc = push_job(cfg, &o, dests, n);
	idp_relay_tag_free(early);
	idp_pushcache_release(&cache);
	free(cache_path);
	idp_docker_image_release(&info);
	fe_dest_refs_release(dests, n);
	return rc;
}

/* The push, with libcurl set up and the Engine API found (or not). */
static int with_api(const struct fe_cmd *cmd, const struct fe_config *cfg, struct idp_docker *d,
		    volatile sig_atomic_t *canceled, const char *config_dir)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_docker_api api;
	int rc;

	if (idp_http_global_init(&err) < 0)
		return fe_error_report(&err);
	idp_docker_api_resolve(&api, d, config_dir);
	d->api = &api;
	if (cfg->verbose && api.sock[0])
		fe_infof("docker daemon: Engine API at unix://%s", api.sock);
	else if (cfg->verbose)
		fe_infof("docker daemon: through the docker CLI: %s", api.why);
	rc = push_main(cmd, cfg, d, canceled);
	idp_docker_api_release(&api);
	d->api = NULL;
	idp_http_global_cleanup();
	return rc;
}

static int run(const struct fe_cmd *cmd, int argc, char **argv, struct idp_docker *d,
	       const char *config_dir)
{
	volatile sig_atomic_t canceled = 0;
	struct fe_config cfg;
	int rc = fe_parse(cmd, argc, argv, &cfg);

	if (rc != FE_PARSE_OK) {
		rc = fe_parse_exit(cmd, rc);
		fe_config_release(&cfg);
		return rc;
	}
	cfg.docker_config = config_dir;
	if (cfg.verbose)
		d->info = fe_info_sink;
	d->deadline_ms = cfg.deadline_ms;
	/* cppcheck-suppress autoVariables ; d is not used after run returns (main returns) */
	d->cancel = &canceled;
	fe_signal_install(&canceled);
	if (plug_socket_watch(getenv("DOCKER_CLI_PLUGIN_SOCKET"), &canceled) < 0 && cfg.verbose)
		fe_warnf("cannot watch DOCKER_CLI_PLUGIN_SOCKET: cancelling through the docker CLI "
			 "will not work");
	rc = with_api(cmd, &cfg, d, &canceled, config_dir);
	fe_config_release(&cfg);
	return rc;
}

int main(int argc, char **argv)
{
	struct idp_docker d;
	const char *config_dir = NULL, *cli = getenv("DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND");
	const struct fe_cmd *cmd = cli ? &plug_cmd_docker : &plug_cmd_direct;
	int first;

	if (argc > 1 && strcmp(argv[1], "docker-cli-plugin-metadata") == 0)
		return cmd_metadata();
	fe_memory_setup();
	memset(&d, 0, sizeof(d));
	d.cli = cli && *cli ? cli : "docker";
	if ((first = split_argv(argc, argv, &d, &config_dir)) < 0)
		return fe_usage_error(cmd, "too many docker global flags before '%s' (at most %d)",
				      PLUGIN_NAME, IDP_DOCKER_MAX_GLOBALS);
	if (first < argc && (strcmp(argv[first], "__complete") == 0 ||
			     strcmp(argv[first], "__completeNoDesc") == 0))
		return plug_complete(plug_options, &d, argc - first - 1, argv + first + 1,
				     strcmp(argv[first], "__complete") == 0);
	if (first < argc && strcmp(argv[first], "help") == 0) {
		fe_help(cmd, stdout);
		return 0;
	}
	if (first == 1 && argc > 2 && strcmp(argv[1], "help") == 0 &&
	    strcmp(argv[2], PLUGIN_NAME) == 0) {
		fe_help(cmd, stdout);
		return 0;
	}
	return run(cmd, argc - first, argv + first, &d, config_dir);
}
