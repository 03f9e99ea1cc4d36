/* fuzz_fe_opts.c: libFuzzer target for the front ends' option parser
 * (common/frontend/fe_opts.c), with every shared row (engine, build,
 * containerd). Each input line is one argv element, except lines
 * "@NAME=VALUE", which set one of the environment variables fe_parse
 * reads (all four are unset before each input). stdin is a pipe holding a
 * password, for --password-stdin. A parse that succeeds must give values
 * within their documented ranges; its config then goes through
 * fe_session_opts and fe_dest_ref, as a front end's would. */
#include "config.h"
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "frontend/fe_opts.h"
#include "fuzz.h"

const char fe_progname[] = "fuzz_fe_opts";

#define MAX_ARGS 64

static const struct fe_option opts[] = {
	FE_OPTS_ENGINE, FE_OPT_LIST("platform", platforms, "OS/ARCH[/VARIANT]", IDP_MAX_PLATFORMS),
	FE_OPTS_BUILD, FE_OPTS_CONTAINERD, FE_OPT_END
};
static const struct fe_cmd cmd = {
	"idppush-fuzz", "[OPTIONS] IMAGE [TARGET]", "fuzzing", opts, 1, 2, NULL
};
static const char *const env_names[] = {
	"IDPBUILDER_REGISTRY_URL", "IDPBUILDER_REGISTRY_INSECURE", "IDPBUILDER_PUSH_TIMEOUT",
	"IDPBUILDER_PUSH_RETRY_ATTEMPTS", NULL
};

static void set_env(const char *line)
{
	const char *eq = strchr(line, '=');
	size_t n = eq ? (size_t)(eq - line) : 0;
	int i;

	for (i = 0; eq && env_names[i]; i++)
		if (strlen(env_names[i]) == n && strncmp(env_names[i], line, n) == 0)
			setenv(env_names[i], eq + 1, 1);
}

static void stdin_password(void)
{
	int p[2];

	FZ_ASSERT(pipe(p) == 0);
	FZ_ASSERT(write(p[1], "s3cret\n", 7) == 7);
	close(p[1]);
	FZ_ASSERT(dup2(p[0], 0) == 0);
	close(p[0]);
}

static void check_config(const struct fe_config *cfg)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_session_opts so;
	struct idp_ref dest;
	int rc;

	FZ_ASSERT(cfg->nargs >= cmd.min_args && cfg->nargs <= cmd.max_args);
	FZ_ASSERT(cfg->jobs >= 1 && cfg->jobs <= 16);
	FZ_ASSERT(cfg->retries >= 0 && cfg->retries <= 100);
	FZ_ASSERT(cfg->timeout_ms >= 0 && cfg->chunk_size >= 0);
	FZ_ASSERT(cfg->nplatforms >= 0 && cfg->nplatforms <= IDP_MAX_PLATFORMS);
	fe_session_opts(cfg, NULL, &so);
	rc = fe_dest_ref(cfg, cfg->args[0], cfg->nargs > 1 ? cfg->args[1] : NULL, &dest, &err);
	fz_check_err(rc, &err);
	if (rc == 0)
		idp_ref_release(&dest);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_parts lines;
	struct fe_config cfg;
	char *argv[MAX_ARGS + 1];
	int i, argc = 0, rc;

	for (i = 0; env_names[i]; i++)
		unsetenv(env_names[i]);
	fz_split(data, size, "\n", &lines);
	for (i = 0; i < lines.n; i++) {
		if (lines.p[i].s[0] == '@')
			set_env(lines.p[i].s + 1);
		else if (argc < MAX_ARGS)
			argv[argc++] = lines.p[i].s;
	}
	argv[argc] = NULL;
	stdin_password();
	rc = fe_parse(&cmd, argc, argv, &cfg);
	FZ_ASSERT(rc == FE_PARSE_OK || rc == FE_PARSE_HELP || rc == FE_PARSE_VERSION ||
		  rc == FE_PARSE_USAGE);
	if (rc == FE_PARSE_OK)
		check_config(&cfg);
	fe_config_release(&cfg);
	fz_parts_free(&lines);
	return 0;
}
