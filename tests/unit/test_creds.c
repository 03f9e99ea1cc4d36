/* test_creds.c: credential resolution order, docker config.json parsing and
 * the credential helper protocol (a fake docker-credential-test on PATH).
 * Every test saves and restores the environment it touches. */
#include "config.h"
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "util/buf.h"
#include "registry/creds.h"

#define HP "gitea.cnoe.localtest.me:8443"
/* base64("giteaAdmin:s3cr3t:x"): the password itself holds a colon */
#define AUTH_B64 "Z2l0ZWFBZG1pbjpzM2NyM3Q6eA=="

static const char *const env_names[] = {
	"HOME", "PATH", "DOCKER_CONFIG", "DOCKER_AUTH_CONFIG", "HELPER_LOG",
	"IDPBUILDER_REGISTRY_USERNAME", "IDPBUILDER_REGISTRY_PASSWORD",
	"IDPBUILDER_REGISTRY_TOKEN", NULL
};

#define NENV (sizeof(env_names) / sizeof(env_names[0]))

/* One test's world: a temp dir as HOME and DOCKER_CONFIG, a clean env. */
struct fixture {
	char *dir;
	char *saved[NENV];
	char cfg[4096];      /* dir/config.json */
	struct idp_creds_opts opts;
	struct idp_creds c;
	struct idp_error err;
};

static const char helper_script[] =
	"#!/bin/sh\n"
	"[ \"$1\" = get ] || { echo \"usage: $0 get\" >&2; exit 3; }\n"
	"cat > \"$HELPER_LOG\"\n"
	"server=$(cat \"$HELPER_LOG\")\n"
	"case \"$server\" in\n"
	"found.example|https://index.docker.io/v1/)\n"
	"  printf '{\"ServerURL\":\"%s\",\"Username\":\"alice\",\"Secret\":\"pw-123\"}' "
	"\"$server\";;\n"
	"token.example) printf '{\"Username\":\"<token>\",\"Secret\":\"idtok\"}\\n';;\n"
	"missing.example) echo 'credentials not found in native keychain'; exit 1;;\n"
	"garbage.example) echo 'pw-123 this is not json';;\n"
	"fail.example) echo 'gpg: decryption failed: No secret key' >&2;"
	" echo 'second line pw-123' >&2; exit 2;;\n"
	"stdoutfail.example) echo 'only on stdout'; exit 4;;\n"
	"killed.example) kill -9 $$;;\n"
	"big.example) head -c 1100000 /dev/zero | tr '\\0' a;;\n"
	"empty.example) printf '{\"ServerURL\":\"x\",\"Username\":\"\",\"Secret\":\"\"}';;\n"
	"*) echo 'credentials not found in native keychain' >&2; exit 1;;\n"
	"esac\n";

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

static void fx_init(struct fixture *fx)
{
	char path[8192];
	size_t i;

	memset(fx, 0, sizeof(*fx));
	for (i = 0; env_names[i]; i++) {
		const char *v = getenv(env_names[i]);
		fx->saved[i] = v ? strdup(v) : NULL;
		if (strcmp(env_names[i], "PATH"))
			unsetenv(env_names[i]);
	}
	fx->dir = unit_tmpdir();
	CU_ASSERT_PTR_NOT_NULL_FATAL(fx->dir);
	setenv("HOME", fx->dir, 1);
	snprintf(fx->cfg, sizeof(fx->cfg), "%s/config.json", fx->dir);
	fx->opts.docker_config_dir = fx->dir;
	snprintf(path, sizeof(path), "%s/helper.log", fx->dir);
	setenv("HELPER_LOG", path, 1);
	idp_error_clear(&fx->err);
}

static void fx_done(struct fixture *fx)
{
	size_t i;

	idp_creds_release(&fx->c);
	for (i = 0; env_names[i]; i++) {
		if (fx->saved[i])
			setenv(env_names[i], fx->saved[i], 1);
		else
			unsetenv(env_names[i]);
		free(fx->saved[i]);
	}
	nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(fx->dir);
}

/* Put the fake docker-credential-test first on PATH. */
static void fx_helper(struct fixture *fx)
{
	char bin[4096], path[8192];
	const char *old = getenv("PATH");

	snprintf(bin, sizeof(bin), "%s/bin/docker-credential-test", fx->dir);
	snprintf(path, sizeof(path), "%s/bin", fx->dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(path, 0700), 0);
	CU_ASSERT_EQUAL_FATAL(unit_write_file(bin, helper_script), 0);
	CU_ASSERT_EQUAL_FATAL(chmod(bin, 0700), 0);
	snprintf(path, sizeof(path), "%s/bin:%s", fx->dir, old ? old : "/usr/bin:/bin");
	setenv("PATH", path, 1);
}

static int resolve(struct fixture *fx, const char *hostport)
{
	idp_creds_release(&fx->c);
	idp_error_clear(&fx->err);
	return idp_creds_resolve(&fx->opts, hostport, &fx->c, &fx->err);
}

static void write_config(struct fixture *fx, const char *json)
{
	CU_ASSERT_EQUAL(unit_write_file(fx->cfg, json), 0);
}

/* ---- explicit and env ---- */

static void test_anonymous(void)
{
	struct fixture fx;

	fx_init(&fx);
	CU_ASSERT_EQUAL(resolve(&fx, HP), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_NONE);
	CU_ASSERT_PTR_NULL(fx.c.username);
	CU_ASSERT_PTR_NULL(fx.c.password);
	CU_ASSERT_PTR_NULL(fx.c.registry_token);
	CU_ASSERT_PTR_NULL(fx.c.identity_token);
	CU_ASSERT_EQUAL(resolve(&fx, ""), -1);
	fx_done(&fx);
}

static void test_explicit(void)
{
	struct fixture fx;

	fx_init(&fx);
	setenv("IDPBUILDER_REGISTRY_USERNAME", "envuser", 1);
	setenv("IDPBUILDER_REGISTRY_PASSWORD", "envpass", 1);
	fx.opts.username = "giteaAdmin";
	fx.opts.password = "pw";
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, HP), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_EXPLICIT);
	CU_ASSERT_STRING_EQUAL(fx.c.username, "giteaAdmin");
	CU_ASSERT_STRING_EQUAL(fx.c.password, "pw");
	CU_ASSERT_PTR_NOT_NULL(fx.c.origin);

	fx.opts.username = fx.opts.password = NULL;
	fx.opts.token = "tok-1";
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, HP), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_EXPLICIT);
	CU_ASSERT_STRING_EQUAL(fx.c.registry_token, "tok-1");
	CU_ASSERT_PTR_NULL(fx.c.username);
	fx_done(&fx);
}

static void test_explicit_conflicts(void)
{
	struct fixture fx;

	fx_init(&fx);
	fx.opts.username = "u";
	fx.opts.password = "hunter2-secret";
	fx.opts.token = "tok-secret";
	CU_ASSERT_EQUAL(resolve(&fx, HP), -1);
	CU_ASSERT_EQUAL(fx.err.cls, IDP_EAUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.err.msg, "token"));
	CU_ASSERT_PTR_NULL(strstr(fx.err.msg, "hunter2"));
	CU_ASSERT_PTR_NULL(strstr(fx.err.msg, "tok-secret"));
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_NONE);
	CU_ASSERT_PTR_NULL(fx.c.password);

	fx.opts.token = NULL;
	fx.opts.password = NULL;
	CU_ASSERT_EQUAL(resolve(&fx, HP), -1);
	CU_ASSERT_EQUAL(fx.err.cls, IDP_EAUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.err.msg, "username given without a password"));

	fx.opts.username = NULL;
	fx.opts.password = "hunter2-secret";
	CU_ASSERT_EQUAL(resolve(&fx, HP), -1);
	CU_ASSERT_EQUAL(fx.err.cls, IDP_EAUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.err.msg, "password given without a username"));
	CU_ASSERT_PTR_NULL(strstr(fx.err.msg, "hunter2"));
	fx_done(&fx);
}

static void test_env(void)
{
	struct fixture fx;

	fx_init(&fx);
	setenv("IDPBUILDER_REGISTRY_USERNAME", "envuser", 1);
	setenv("IDPBUILDER_REGISTRY_PASSWORD", "envpass", 1);
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, HP), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_ENV);
	CU_ASSERT_STRING_EQUAL(fx.c.username, "envuser");
	CU_ASSERT_STRING_EQUAL(fx.c.password, "envpass");

	setenv("IDPBUILDER_REGISTRY_TOKEN", "envtok-secret", 1);
	CU_ASSERT_EQUAL(resolve(&fx, HP), -1);
	CU_ASSERT_EQUAL(fx.err.cls, IDP_EAUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.err.msg, "IDPBUILDER_REGISTRY"));
	CU_ASSERT_PTR_NULL(strstr(fx.err.msg, "envpass"));
	CU_ASSERT_PTR_NULL(strstr(fx.err.msg, "envtok"));

	/* a username with a token: the token is the password (a Gitea token) */
	unsetenv("IDPBUILDER_REGISTRY_PASSWORD");
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, HP), 0);
	CU_ASSERT_STRING_EQUAL(fx.c.username, "envuser");
	CU_ASSERT_STRING_EQUAL(fx.c.registry_token, "envtok-secret");

	unsetenv("IDPBUILDER_REGISTRY_USERNAME");
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, HP), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_ENV);
	CU_ASSERT_STRING_EQUAL(fx.c.registry_token, "envtok-secret");

	/* empty values count as unset */
	setenv("IDPBUILDER_REGISTRY_TOKEN", "", 1);
	CU_ASSERT_EQUAL(resolve(&fx, HP), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_NONE);

	setenv("IDPBUILDER_REGISTRY_USERNAME", "only-user", 1);
	CU_ASSERT_EQUAL(resolve(&fx, HP), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.err.msg, "without a password"));

	fx.opts.ignore_env = 1;
	CU_ASSERT_EQUAL(resolve(&fx, HP), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_NONE);
	fx_done(&fx);
}

/* ---- DOCKER_AUTH_CONFIG and config.json ---- */

static void test_docker_auth_config(void)
{
	struct fixture fx;

	fx_init(&fx);
	write_config(&fx, "{\"auths\":{\"" HP "\":{\"auth\":\"YWxpY2U6cHc=\"}}}");
	setenv("DOCKER_AUTH_CONFIG", "{\"auths\":{\"" HP "\":{\"auth\":\"" AUTH_B64 "\"}}}", 1);
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, HP), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_DOCKER_AUTH_CONFIG);
	CU_ASSERT_STRING_EQUAL(fx.c.username, "giteaAdmin");
	CU_ASSERT_STRING_EQUAL(fx.c.password, "s3cr3t:x");

	/* no entry for this host: on to config.json */
	setenv("DOCKER_AUTH_CONFIG", "{\"auths\":{\"other:1\":{\"auth\":\"" AUTH_B64 "\"}}}", 1);
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, HP), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_CONFIG_FILE);
	CU_ASSERT_STRING_EQUAL(fx.c.username, "alice");

	setenv("DOCKER_AUTH_CONFIG", "{\"auths\": ", 1);
	CU_ASSERT_EQUAL(resolve(&fx, HP), -1);
	CU_ASSERT_EQUAL(fx.err.cls, IDP_EGENERAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.err.msg, "DOCKER_AUTH_CONFIG"));
	setenv("DOCKER_AUTH_CONFIG", "[1] trailing", 1);
	CU_ASSERT_EQUAL(resolve(&fx, HP), -1);
	fx_done(&fx);
}

static void test_config_auths(void)
{
	struct fixture fx;

	fx_init(&fx);
	write_config(&fx,
		"{\"auths\":{\n"
		"  \"other.example\": {\"auth\": \"YWxpY2U6cHc=\"},\n"
		"  \"" HP "\": {\"auth\": \"" AUTH_B64 "\"}\n"
		"}}");
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, HP), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_CONFIG_FILE);
	CU_ASSERT_STRING_EQUAL(fx.c.username, "giteaAdmin");
	CU_ASSERT_STRING_EQUAL(fx.c.password, "s3cr3t:x");
	CU_ASSERT_STRING_EQUAL(fx.c.origin, fx.cfg);
	/* host names compare case-insensitively */
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, "GITEA.cnoe.localtest.me:8443"), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_CONFIG_FILE);
	/* a different port is a different registry */
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, "gitea.cnoe.localtest.me"), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_NONE);
	fx_done(&fx);
}

static void test_config_url_keys(void)
{
	struct fixture fx;

	fx_init(&fx);
	write_config(&fx,
		"{\"auths\":{\n"
		"  \"https://gitea.example/\": {\"auth\": \"YWxpY2U6cHc=\"},\n"
		"  \"https://" HP "/v1/\": {\"auth\": \"" AUTH_B64 "\"},\n"
		"  \"https://index.docker.io/v1/\": {\"auth\": \"YWxpY2U6cHc=\"}\n"
		"}}");
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, HP), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_CONFIG_FILE);
	CU_ASSERT_STRING_EQUAL(fx.c.username, "giteaAdmin");
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, "gitea.example"), 0);
	CU_ASSERT_STRING_EQUAL(fx.c.username, "alice");
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, "gitea.example:443"), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_NONE);
	/* Docker Hub lives under its legacy URL */
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, "docker.io"), 0);
	CU_ASSERT_STRING_EQUAL(fx.c.username, "alice");
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, "registry-1.docker.io"), 0);
	CU_ASSERT_STRING_EQUAL(fx.c.username, "alice");
	fx_done(&fx);
}

static void test_config_tokens(void)
{
	struct fixture fx;

	fx_init(&fx);
	write_config(&fx,
		"{\"auths\":{\n"
		"  \"id.example\": {\"auth\": \"YWxpY2U6cHc=\", \"identitytoken\": \"idt-1\"},\n"
		"  \"rt.example\": {\"registrytoken\": \"rt-1\"},\n"
		"  \"up.example\": {\"username\": \"bob\", \"password\": \"pw2\"},\n"
		"  \"empty.example\": {},\n"
		"  \"blank.example\": {\"auth\": \"\"},\n"
		"  \"odd.example\": \"not an object\"\n"
		"}}");
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, "id.example"), 0);
	CU_ASSERT_STRING_EQUAL(fx.c.identity_token, "idt-1");
	CU_ASSERT_STRING_EQUAL(fx.c.username, "alice");
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, "rt.example"), 0);
	CU_ASSERT_STRING_EQUAL(fx.c.registry_token, "rt-1");
	CU_ASSERT_PTR_NULL(fx.c.username);
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, "up.example"), 0);
	CU_ASSERT_STRING_EQUAL(fx.c.username, "bob");
	CU_ASSERT_STRING_EQUAL(fx.c.password, "pw2");
	CU_ASSERT_EQUAL(resolve(&fx, "empty.example"), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_NONE);
	CU_ASSERT_EQUAL(resolve(&fx, "blank.example"), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_NONE);
	CU_ASSERT_EQUAL(resolve(&fx, "odd.example"), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_NONE);
	fx_done(&fx);
}

static void test_config_errors(void)
{
	struct fixture fx;

	fx_init(&fx);
	/* "bm9jb2xvbg==" is base64("nocolon") */
	write_config(&fx, "{\"auths\":{\"a.example\":{\"auth\":\"bm9jb2xvbg==\"},"
			  "\"b.example\":{\"auth\":\"!!not-base64-s3cr3t!!\"}}}");
	CU_ASSERT_EQUAL(resolve(&fx, "a.example"), -1);
	CU_ASSERT_EQUAL(fx.err.cls, IDP_EGENERAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.err.msg, fx.cfg));
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.err.msg, "a.example"));
	CU_ASSERT_PTR_NULL(strstr(fx.err.msg, "bm9jb2xvbg"));
	CU_ASSERT_PTR_NULL(fx.c.username);
	CU_ASSERT_EQUAL(resolve(&fx, "b.example"), -1);
	CU_ASSERT_PTR_NULL(strstr(fx.err.msg, "s3cr3t"));

	write_config(&fx, "{\"auths\":{\"" HP "\":{\"auth\":\"" AUTH_B64 "\"}},");
	CU_ASSERT_EQUAL(resolve(&fx, HP), -1);
	CU_ASSERT_EQUAL(fx.err.cls, IDP_EGENERAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.err.msg, fx.cfg));
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.err.msg, "malformed"));
	CU_ASSERT_PTR_NULL(strstr(fx.err.msg, AUTH_B64));

	write_config(&fx, "[]");
	CU_ASSERT_EQUAL(resolve(&fx, HP), -1);

	/* unreadable: config.json is a directory */
	unlink(fx.cfg);
	CU_ASSERT_EQUAL(mkdir(fx.cfg, 0700), 0);
	CU_ASSERT_EQUAL(resolve(&fx, HP), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.err.msg, "cannot read"));
	rmdir(fx.cfg);
	fx_done(&fx);
}

/* opts->docker_config_dir, then $DOCKER_CONFIG, then ~/.docker. */
static void test_config_location(void)
{
	struct fixture fx;
	char path[8192];

	fx_init(&fx);
	fx.opts.docker_config_dir = NULL;
	snprintf(path, sizeof(path), "%s/.docker", fx.dir);
	CU_ASSERT_EQUAL(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/.docker/config.json", fx.dir);
	CU_ASSERT_EQUAL(unit_write_file(path,
		"{\"auths\":{\"" HP "\":{\"auth\":\"YWxpY2U6cHc=\"}}}"), 0);
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, HP), 0);
	CU_ASSERT_STRING_EQUAL(fx.c.username, "alice");
	CU_ASSERT_STRING_EQUAL(fx.c.origin, path);

	write_config(&fx, "{\"auths\":{\"" HP "\":{\"auth\":\"" AUTH_B64 "\"}}}");
	setenv("DOCKER_CONFIG", fx.dir, 1);
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, HP), 0);
	CU_ASSERT_STRING_EQUAL(fx.c.username, "giteaAdmin");

	snprintf(path, sizeof(path), "%s/.docker", fx.dir);
	fx.opts.docker_config_dir = path;
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, HP), 0);
	CU_ASSERT_STRING_EQUAL(fx.c.username, "alice");

	fx.opts.docker_config_dir = "/nonexistent/dir";
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, HP), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_NONE);
	fx_done(&fx);
}

/* ---- credential helpers ---- */

static char *read_log(struct fixture *fx)
{
	struct idp_buf b;

	idp_buf_init(&b, 4096);
	if (idp_buf_read_file(&b, getenv("HELPER_LOG")) < 0) {
		idp_buf_release(&b);
		return NULL;
	}
	return idp_buf_detach(&b, NULL);
}

static void test_helper_found(void)
{
	struct fixture fx;
	char *log;

	fx_init(&fx);
	fx_helper(&fx);
	CU_ASSERT_EQUAL_FATAL(idp_creds_from_helper("test", "found.example", NULL, &fx.c, &fx.err),
			      1);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_HELPER);
	CU_ASSERT_STRING_EQUAL(fx.c.username, "alice");
	CU_ASSERT_STRING_EQUAL(fx.c.password, "pw-123");
	CU_ASSERT_PTR_NULL(fx.c.identity_token);
	CU_ASSERT_STRING_EQUAL(fx.c.origin, "credential helper docker-credential-test");
	/* the helper got exactly the server, no newline */
	log = read_log(&fx);
	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	CU_ASSERT_STRING_EQUAL(log, "found.example");
	free(log);
	idp_creds_release(&fx.c);

	CU_ASSERT_EQUAL_FATAL(idp_creds_from_helper("test", "token.example", NULL, &fx.c, &fx.err),
			      1);
	CU_ASSERT_STRING_EQUAL(fx.c.identity_token, "idtok");
	CU_ASSERT_PTR_NULL(fx.c.username);
	CU_ASSERT_PTR_NULL(fx.c.password);
	fx_done(&fx);
}

static void test_helper_not_found(void)
{
	struct fixture fx;

	fx_init(&fx);
	fx_helper(&fx);
	CU_ASSERT_EQUAL(idp_creds_from_helper("test", "missing.example", NULL, &fx.c, &fx.err), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_NONE);
	CU_ASSERT_EQUAL(idp_creds_from_helper("test", "unknown.example", NULL, &fx.c, &fx.err), 0);
	CU_ASSERT_EQUAL(idp_creds_from_helper("test", "empty.example", NULL, &fx.c, &fx.err), 0);
	CU_ASSERT_PTR_NULL(fx.c.password);
	fx_done(&fx);
}

static void test_helper_failures(void)
{
	struct fixture fx;

	fx_init(&fx);
	fx_helper(&fx);
	CU_ASSERT_EQUAL(idp_creds_from_helper("test", "garbage.example", NULL, &fx.c, &fx.err), -1);
	CU_ASSERT_EQUAL(fx.err.cls, IDP_EAUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.err.msg, "docker-credential-test"));
	CU_ASSERT_PTR_NULL(strstr(fx.err.msg, "pw-123"));

	CU_ASSERT_EQUAL(idp_creds_from_helper("test", "fail.example", NULL, &fx.c, &fx.err), -1);
	CU_ASSERT_EQUAL(fx.err.cls, IDP_EAUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.err.msg, "docker-credential-test"));
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.err.msg, "status 2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.err.msg, "gpg: decryption failed"));
	CU_ASSERT_PTR_NULL(strstr(fx.err.msg, "pw-123"));

	CU_ASSERT_EQUAL(idp_creds_from_helper("test", "stdoutfail.example", NULL, &fx.c, &fx.err),
			-1);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.err.msg, "status 4: only on stdout"));

	CU_ASSERT_EQUAL(idp_creds_from_helper("test", "killed.example", NULL, &fx.c, &fx.err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.err.msg, "signal 9"));

	CU_ASSERT_EQUAL(idp_creds_from_helper("test", "big.example", NULL, &fx.c, &fx.err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.err.msg, "larger than"));

	CU_ASSERT_EQUAL(idp_creds_from_helper("absent-xyz", "found.example", NULL, &fx.c, &fx.err),
			-1);
	CU_ASSERT_EQUAL(fx.err.cls, IDP_EAUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.err.msg, "docker-credential-absent-xyz"));
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.err.msg, "PATH"));

	CU_ASSERT_EQUAL(idp_creds_from_helper("../bin/sh", "x", NULL, &fx.c, &fx.err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.err.msg, "invalid credential helper name"));
	CU_ASSERT_EQUAL(idp_creds_from_helper("", "x", NULL, &fx.c, &fx.err), -1);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_NONE);
	fx_done(&fx);
}

/* host resolves anonymously past a helper that failed (not_run: could
 * not be started), whose story has both texts. */
static void assert_skipped(struct fixture *fx, const char *host, int not_run, const char *text1,
			   const char *text2)
{
	CU_ASSERT_EQUAL_FATAL(resolve(fx, host), 0);
	CU_ASSERT_EQUAL(fx->c.source, IDP_CREDS_NONE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fx->c.skipped.what);
	CU_ASSERT_EQUAL(fx->c.skipped.not_run, not_run);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx->c.skipped.what, text1));
	CU_ASSERT_PTR_NOT_NULL(strstr(fx->c.skipped.what, text2));
}

/* config.json: credHelpers[host], then credsStore, then auths. */
static void test_helper_order(void)
{
	struct fixture fx;
	char *log;

	fx_init(&fx);
	fx_helper(&fx);
	write_config(&fx,
		"{\"credHelpers\":{\"found.example\":\"test\",\"fail.example\":\"test\","
		"\"missing.example\":\"test\"},\n"
		" \"auths\":{\"missing.example\":{\"auth\":\"YWxpY2U6cHc=\"}}}");
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, "found.example"), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_HELPER);
	CU_ASSERT_STRING_EQUAL(fx.c.password, "pw-123");
	/* a helper that runs and fails is gone past, kept for the messages */
	assert_skipped(&fx, "fail.example", 0, "exited with status 2: gpg: ", "(credHelpers in ");
	CU_ASSERT_PTR_NULL(strstr(fx.c.skipped.what, "pw-123"));
	/* helper says not found: the auths entry is used */
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, "missing.example"), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_CONFIG_FILE);
	CU_ASSERT_STRING_EQUAL(fx.c.username, "alice");

	/* a stale credsStore (Docker Desktop's, once gone): anonymous, then
	 * auths; said to be not runnable */
	write_config(&fx, "{\"credsStore\":\"absent-xyz\",\n"
		     " \"auths\":{\"missing.example\":{\"auth\":\"YWxpY2U6cHc=\"}}}");
	assert_skipped(&fx, "other.example", 1, "docker-credential-absent-xyz: not found on PATH",
		       "(credsStore in ");
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, "missing.example"), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_CONFIG_FILE);
	CU_ASSERT_STRING_EQUAL(fx.c.username, "alice");
	CU_ASSERT_PTR_NOT_NULL(fx.c.skipped.what);

	write_config(&fx, "{\"credsStore\":\"test\",\"credHelpers\":{\"x\":\"absent-xyz\"}}");
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, "token.example"), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_HELPER);
	CU_ASSERT_STRING_EQUAL(fx.c.identity_token, "idtok");
	CU_ASSERT_EQUAL(resolve(&fx, "missing.example"), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_NONE);
	/* Docker Hub: the helper is asked for the legacy URL */
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, "docker.io"), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_HELPER);
	log = read_log(&fx);
	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	CU_ASSERT_STRING_EQUAL(log, "https://index.docker.io/v1/");
	free(log);

	/* explicit and env credentials never run a helper */
	fx.opts.username = "u";
	fx.opts.password = "p";
	unlink(getenv("HELPER_LOG"));
	CU_ASSERT_EQUAL_FATAL(resolve(&fx, "found.example"), 0);
	CU_ASSERT_EQUAL(fx.c.source, IDP_CREDS_EXPLICIT);
	CU_ASSERT_EQUAL(access(getenv("HELPER_LOG"), F_OK), -1);
	fx_done(&fx);
}

static const struct unit_test tests[] = {
	{ "anonymous", test_anonymous },
	{ "explicit", test_explicit },
	{ "explicit_conflicts", test_explicit_conflicts },
	{ "env", test_env },
	{ "docker_auth_config", test_docker_auth_config },
	{ "config_auths", test_config_auths },
	{ "config_url_keys", test_config_url_keys },
	{ "config_tokens", test_config_tokens },
	{ "config_errors", test_config_errors },
	{ "config_location", test_config_location },
	{ "helper_found", test_helper_found },
	{ "helper_not_found", test_helper_not_found },
	{ "helper_failures", test_helper_failures },
	{ "helper_order", test_helper_order },
	{ NULL, NULL }
};

IDP_SUITE(creds) { unit_add_suite("creds", tests); }
