/* fuzz_creds.c: libFuzzer target for common/registry/creds.c's parsing: the
 * DOCKER_AUTH_CONFIG variable, docker's config.json (auths, credHelpers,
 * credsStore) and a credential helper's answer. Parts (separated by
 * FZ_SEP lines):
 *   0: lines: host[:port] to resolve (empty: localhost:5000), explicit
 *      username, password, token, then IDPBUILDER_REGISTRY_USERNAME,
 *      _PASSWORD, _TOKEN values (absent or empty: unset);
 *   1: DOCKER_AUTH_CONFIG (empty: unset);
 *   2: $DOCKER_CONFIG/config.json (no such part: no file);
 *   3: the helper docker-credential-fz: first line its exit status, the
 *      rest its stdout.
 * Everything the resolver reads is set here: HOME and DOCKER_CONFIG point
 * into the private temp dir and PATH holds only that helper, so nothing of
 * the machine's own configuration is read or run. Besides the error checks:
 * a password or token given on the command line or in the environment
 * never shows in an error message (creds.h promises that). */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "registry/creds.h"
#include "fuzz.h"

static const char *const env_names[3] = {
	"IDPBUILDER_REGISTRY_USERNAME", "IDPBUILDER_REGISTRY_PASSWORD", "IDPBUILDER_REGISTRY_TOKEN"
};

static void setup_env(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	fz_mkdirs(fz_path(0, "home"));
	fz_mkdirs(fz_path(0, "docker"));
	fz_mkdirs(fz_path(0, "bin"));
	setenv("HOME", fz_path(0, "home"), 1);
	setenv("DOCKER_CONFIG", fz_path(0, "docker"), 1);
	setenv("PATH", fz_path(0, "bin"), 1);
}

/* The helper prints part 3 after its first line and exits with the status
 * that line gives. */
static void write_helper(const char *answer)
{
	const char *nl = strchr(answer, '\n');
	char script[8192];
	int status = atoi(answer) & 0xff;

	fz_write(fz_path(1, "helper.out"), nl ? nl + 1 : "", nl ? strlen(nl + 1) : 0);
	snprintf(script, sizeof(script), "#!/bin/sh\n/bin/cat '%s'\nexit %d\n",
		 fz_path(1, "helper.out"), status);
	fz_write(fz_path(2, "bin/docker-credential-fz"), script, strlen(script));
	FZ_ASSERT(chmod(fz_path(2, "bin/docker-credential-fz"), 0700) == 0);
}

static const char *line(const struct fz_parts *ls, int i)
{
	const char *s = fz_part(ls, i, NULL);
	return s && *s ? s : NULL;
}

/* A secret of 6 or more characters must not be quoted in msg. */
static void check_secret(const char *secret, const char *msg)
{
	if (secret && strlen(secret) >= 6)
		FZ_ASSERT(strstr(msg, secret) == NULL);
}

static void resolve(const struct fz_parts *ls)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_creds_opts o;
	struct idp_creds c;
	const char *host = line(ls, 0) ? line(ls, 0) : "localhost:5000";
	int rc, i;

	memset(&o, 0, sizeof(o));
	o.username = line(ls, 1);
	o.password = line(ls, 2);
	o.token = line(ls, 3);
	for (i = 0; i < 3; i++)
		if (line(ls, 4 + i))
			setenv(env_names[i], line(ls, 4 + i), 1);
		else
			unsetenv(env_names[i]);
	rc = idp_creds_resolve(&o, host, &c, &err);
	fz_check_err(rc, &err);
	check_secret(o.password, err.msg);
	check_secret(o.token, err.msg);
	check_secret(line(ls, 5), err.msg);
	check_secret(line(ls, 6), err.msg);
	if (rc == 0) {
		FZ_ASSERT(c.origin != NULL);
		FZ_ASSERT(c.source != IDP_CREDS_NONE || (!c.username && !c.password));
	}
	idp_creds_release(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_parts parts, lines;
	const char *p0;

	setup_env();
	fz_split(data, size, FZ_SEP, &parts);
	p0 = parts.p[0].s;
	fz_split((const uint8_t *)p0, parts.p[0].len, "\n", &lines);
	if (parts.n > 1 && parts.p[1].s[0])
		setenv("DOCKER_AUTH_CONFIG", parts.p[1].s, 1);
	else
		unsetenv("DOCKER_AUTH_CONFIG");
	if (parts.n > 2)
		fz_write(fz_path(0, "docker/config.json"), parts.p[2].s, parts.p[2].len);
	else
		unlink(fz_path(0, "docker/config.json"));
	write_helper(fz_part(&parts, 3, "1\ncredentials not found"));
	resolve(&lines);
	fz_parts_free(&lines);
	fz_parts_free(&parts);
	return 0;
}
