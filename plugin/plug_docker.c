/* plug_docker.c: asking the docker CLI about the image. Runs the CLI that
 * started the plugin (DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND, else `docker`
 * on PATH) with the user's global flags (--context, -H, TLS...), so the
 * daemon is resolved exactly as the user's own docker commands resolve it. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <json-c/json.h>
#include "jsonutil.h"
#include "buf.h"
#include "plug.h"
#include "banned.h"

extern char **environ;

#define INSPECT_CAP (4u << 20)
#define STDERR_CAP (16u << 10)
#define MAX_ARGV (PLUG_MAX_GLOBALS + 8)

void plug_image_release(struct plug_image *img)
{
	int i;
	for (i = 0; i < img->ndiffids; i++)
		free(img->diffids[i]);
	free(img->diffids);
	free(img->id);
	free(img->platform);
	memset(img, 0, sizeof(*img));
}

static void build_argv(const struct plug_docker *d, const char *const *tail, char **argv)
{
	int n = 0, i;

	argv[n++] = (char *)d->cli;
	for (i = 0; i < d->nglobals; i++)
		argv[n++] = (char *)d->globals[i];
	for (i = 0; tail[i] && n < MAX_ARGV - 1; i++)
		argv[n++] = (char *)tail[i];
	argv[n] = NULL;
}

/* Read what is available on fd into b (beyond the cap: dropped). 0 at EOF. */
static int drain(int fd, struct idp_buf *b, int *overflow)
{
	char chunk[8192];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (n > 0 && idp_buf_add(b, chunk, (size_t)n) < 0)
		*overflow = 1;
	return n > 0;
}

/* Run docker with tail args; capture stdout/stderr (bounded). Returns the
 * exit status (0-255), or -1 with err when it could not run. */
static int run_capture(const struct plug_docker *d, const char *const *tail, struct idp_buf *out,
		       struct idp_buf *errb, struct idp_error *err)
{
	char *argv[MAX_ARGV];
	int po[2], pe[2], st, overflow = 0, open_o = 1, open_e = 1;
	posix_spawn_file_actions_t fa;
	pid_t pid;

	build_argv(d, tail, argv);
	if (pipe2(po, O_CLOEXEC) < 0)
		return idp_error_set(err, IDP_EGENERAL, "pipe: %s", strerror(errno));
	if (pipe2(pe, O_CLOEXEC) < 0) {
		close(po[0]);
		close(po[1]);
		return idp_error_set(err, IDP_EGENERAL, "pipe: %s", strerror(errno));
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	st = posix_spawnp(&pid, d->cli, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(po[1]);
	close(pe[1]);
	if (st != 0) {
		close(po[0]);
		close(pe[0]);
		return idp_error_set(err, IDP_EGENERAL, "cannot run '%s': %s", d->cli, strerror(st));
	}
	while (open_o || open_e) {
		struct pollfd p[2] = { { open_o ? po[0] : -1, POLLIN, 0 }, { open_e ? pe[0] : -1, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (open_o && p[0].revents)
			open_o = drain(po[0], out, &overflow);
		if (open_e && p[1].revents)
			open_e = drain(pe[0], errb, &overflow);
	}
	close(po[0]);
	close(pe[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (overflow && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return idp_error_set(err, IDP_EGENERAL, "'%s %s' printed too much", d->cli, tail[0]);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* First line of docker's stderr, without "Error: " noise. */
static const char *first_line(struct idp_buf *b)
{
	char *nl = strchr(b->buf, '\n');
	if (nl)
		*nl = '\0';
	return b->buf[0] ? b->buf : "no message";
}

static char *str_member(json_object *o, const char *k)
{
	const char *v = idp_json_str(o, k);
	return v ? strdup(v) : NULL;
}

static char *platform_of(json_object *img)
{
	char *os = str_member(img, "Os"), *arch = str_member(img, "Architecture"), *var = str_member(img, "Variant");
	char buf[128], *r = NULL;

	if (os && arch) {
		snprintf(buf, sizeof(buf), "%s/%s%s%s", os, arch, var && *var ? "/" : "", var && *var ? var : "");
		r = strdup(buf);
	}
	free(os);
	free(arch);
	free(var);
	return r;
}

static int parse_inspect(const char *json, const char *image, struct plug_image *out, struct idp_error *err)
{
	json_object *arr = json_tokener_parse(json), *img, *rootfs, *layers;
	size_t i, n;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!arr || !json_object_is_type(arr, json_type_array) || json_object_array_length(arr) < 1)
		goto bad;
	img = json_object_array_get_idx(arr, 0);
	if (!(out->id = str_member(img, "Id")) || !json_object_object_get_ex(img, "RootFS", &rootfs) ||
	    !json_object_object_get_ex(rootfs, "Layers", &layers) || !json_object_is_type(layers, json_type_array))
		goto bad;
	n = json_object_array_length(layers);
	if (n > IDP_SAVE_MAX_LAYERS || !(out->diffids = calloc(n ? n : 1, sizeof(char *))))
		goto bad;
	for (i = 0; i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(layers, i));
		if (!s || !idp_digest_valid(s) || !(out->diffids[i] = strdup(s)))
			goto bad;
		out->ndiffids++;
	}
	out->platform = platform_of(img);
	rc = 0;
	goto out;
bad:
	idp_error_set(err, IDP_EGENERAL, "cannot understand 'docker image inspect %s' output", image);
	plug_image_release(out);
out:
	json_object_put(arr);
	return rc;
}

int plug_docker_inspect(const struct plug_docker *d, const char *image, const char *platform,
			struct plug_image *out, struct idp_error *err)
{
	const char *plain[] = { "image", "inspect", image, NULL };
	const char *with_platform[] = { "image", "inspect", "--platform", platform, image, NULL };
	const char *const *tail = platform ? with_platform : plain;
	struct idp_buf o, e;
	int st, rc = -1;

	idp_buf_init(&o, INSPECT_CAP);
	idp_buf_init(&e, STDERR_CAP);
	st = run_capture(d, tail, &o, &e, err);
	if (st == 0)
		rc = parse_inspect(o.buf, image, out, err);
	else if (st > 0 && (strstr(e.buf, "No such image") || strstr(e.buf, "No such object")))
		idp_error_set(err, IDP_ENOTFOUND, "image '%s' not found locally (docker image ls lists the images)", image);
	else if (st > 0)
		idp_error_set(err, IDP_EGENERAL, "docker image inspect '%s' failed: %s", image, first_line(&e));
	idp_buf_release(&o);
	idp_buf_release(&e);
	return rc;
}

/* "1.48" -> 1048; -1 when it is not MAJOR.MINOR. */
static int parse_api(const char *s)
{
	char *end;
	long maj = strtol(s, &end, 10), min;

	if (end == s || *end != '.' || maj < 0 || maj > 99)
		return -1;
	s = end + 1;
	min = strtol(s, &end, 10);
	if (end == s || min < 0 || min > 999)
		return -1;
	return (int)(maj * 1000 + min);
}

int plug_docker_api(const struct plug_docker *d, int *api, struct idp_error *err)
{
	const char *tail[] = { "version", "--format", "{{.Server.APIVersion}} {{.Client.APIVersion}}", NULL };
	char server[32] = "", client[32] = "";
	struct idp_buf o, e;
	int st, sv = -1, cv = -1;

	idp_buf_init(&o, STDERR_CAP);
	idp_buf_init(&e, STDERR_CAP);
	st = run_capture(d, tail, &o, &e, err);
	if (st == 0 && sscanf(o.buf, "%31s %31s", server, client) == 2) {
		sv = parse_api(server);
		cv = parse_api(client);
	}
	if (st > 0)
		idp_error_set(err, IDP_EGENERAL, "--platform: cannot get the docker daemon's API version: %s",
			      first_line(&e));
	else if (st == 0 && (sv < 0 || cv < 0))
		idp_error_set(err, IDP_EGENERAL, "--platform: cannot understand 'docker version' output '%.40s'", o.buf);
	idp_buf_release(&o);
	idp_buf_release(&e);
	if (sv < 0 || cv < 0)
		return -1;
	*api = sv < cv ? sv : cv;   /* what the CLI and the daemon both speak */
	return 0;
}

int plug_docker_save_start(const struct plug_docker *d, const char *image, const char *platform,
			   struct plug_save *sv, struct idp_error *err)
{
	const char *plain[] = { "save", image, NULL };
	const char *with_platform[] = { "save", "--platform", platform, image, NULL };
	const char *const *tail = platform ? with_platform : plain;
	char *argv[MAX_ARGV];
	posix_spawn_file_actions_t fa;
	FILE *tmp = tmpfile();
	int p[2], st;

	memset(sv, 0, sizeof(*sv));
	sv->fd = sv->errfd = -1;
	if (!tmp)
		return idp_error_set(err, IDP_EGENERAL, "cannot create a temporary file: %s", strerror(errno));
	sv->errfd = dup(fileno(tmp));
	fclose(tmp);
	if (sv->errfd < 0 || pipe2(p, O_CLOEXEC) < 0) {
		if (sv->errfd >= 0)
			close(sv->errfd);
		return idp_error_set(err, IDP_EGENERAL, "pipe: %s", strerror(errno));
	}
	build_argv(d, tail, argv);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, sv->errfd, 2);
	st = posix_spawnp(&sv->pid, d->cli, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (st != 0) {
		close(p[0]);
		close(sv->errfd);
		return idp_error_set(err, IDP_EGENERAL, "cannot run '%s save': %s", d->cli, strerror(st));
	}
	sv->fd = p[0];
	return 0;
}

int plug_docker_save_end(struct plug_save *sv, int kill_it, struct idp_error *err)
{
	char msg[512];
	ssize_t n;
	int st = 0;

	if (sv->fd >= 0)
		close(sv->fd);   /* a writer still going gets EPIPE */
	sv->fd = -1;
	if (sv->pid > 0) {
		if (kill_it)
			kill(sv->pid, SIGTERM);
		while (waitpid(sv->pid, &st, 0) < 0 && errno == EINTR)
			;
		sv->pid = 0;
	}
	n = sv->errfd >= 0 ? pread(sv->errfd, msg, sizeof(msg) - 1, 0) : 0;
	if (sv->errfd >= 0)
		close(sv->errfd);
	sv->errfd = -1;
	msg[n > 0 ? n : 0] = '\0';
	if (strchr(msg, '\n'))
		*strchr(msg, '\n') = '\0';
	/* death by a signal: ours (kill, or the pipe we closed early) */
	if (kill_it || !WIFEXITED(st) || WEXITSTATUS(st) == 0)
		return 0;
	return idp_error_set(err, IDP_EGENERAL, "docker save failed: %s", msg[0] ? msg : "no message");
}
