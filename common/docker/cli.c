/* cli.c: asking the docker CLI about the image (and, for
 * completion, which images there are). Runs the CLI that
 * started the plugin (DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND, else `docker`
 * on PATH) with the user's global flags (--context, -H, TLS...), so the
 * daemon is resolved exactly as the user's own docker commands resolve it.
 * When the daemon is a local unix socket (docker/engine_api.c), the inspect is one
 * GET /images/NAME/json instead; whatever that cannot answer (the request
 * did not get through, an error other than "no such image") goes to the
 * CLI as before, so the messages stay docker's own. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "util/clock.h"
#include "util/jsonutil.h"
#include "util/nearest.h"
#include "sources/src_docker_save.h"
#include "docker.h"
#include "banned.h"

#define INSPECT_CAP (4u << 20)
#define STDERR_CAP (16u << 10)

void idp_docker_image_release(struct idp_docker_image *img)
{
	int i;
	for (i = 0; i < img->ndiffids; i++)
		free(img->diffids[i]);
	free(img->diffids);
	free(img->id);
	free(img->platform);
	memset(img, 0, sizeof(*img));
}

static void build_argv(const struct idp_docker *d, const char *const *tail, const char **argv)
{
	int n = 0, i;

	argv[n++] = d->cli;
	for (i = 0; i < d->nglobals; i++)
		argv[n++] = d->globals[i];
	for (i = 0; tail[i] && n < IDP_DOCKER_MAX_ARGV - 1; i++)
		argv[n++] = tail[i];
	argv[n] = NULL;
}

static void run_opts(const struct idp_docker *d, const char **argv, const char *what,
		     size_t out_cap, struct idp_run_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->argv = argv;
	o->out_cap = out_cap;
	o->err_cap = STDERR_CAP;
	o->deadline_ms = d->deadline_ms;
	o->cancel = d->cancel;
	o->what = what;
}

/* A docker command whose output is captured. */
struct docker_cmd {
	const char *const *tail;   /* the arguments after the global flags */
	const char *what;          /* for messages: "docker image inspect" */
	size_t out_cap;            /* stdout is bounded by this */
};

/* First line of docker's stderr, without "Error: " noise. */
static const char *first_line(struct idp_buf *b)
{
	char *nl = strchr(b->buf, '\n');
	if (nl)
		*nl = '\0';
	return b->buf[0] ? b->buf : "no message";
}

/* -v: "ran docker image inspect: exit 0 (0.1 s)" or how it failed. */
static void tell_run(const struct idp_docker *d, const struct docker_cmd *cmd, int rc,
		     struct idp_run_result *r, const struct idp_error *err, int64_t ms)
{
	char msg[512];

	if (!d->info)
		return;
	if (rc < 0)
		snprintf(msg, sizeof(msg), "ran %s: %.400s", cmd->what, err->msg);
	else if (r->status == 0)
		snprintf(msg, sizeof(msg), "ran %s: exit 0 (%.1f s)", cmd->what, (double)ms / 1000);
	else
		snprintf(msg, sizeof(msg), "ran %s: exit %d: %.300s", cmd->what, r->status,
			 first_line(&r->err));
	d->info(d->info_ctx, msg);
}

/* Run cmd, capturing its output (bounded). Returns the exit status
 * (0-255), or -1 with err when it could not run, timed out or was
 * cancelled. */
static int run_capture(const struct idp_docker *d, const struct docker_cmd *cmd,
		       struct idp_run_result *r, struct idp_error *err)
{
	const char *argv[IDP_DOCKER_MAX_ARGV];
	struct idp_run_opts o;
	int64_t t0 = idp_now_ms();
	int rc;

	build_argv(d, cmd->tail, argv);
	run_opts(d, argv, cmd->what, cmd->out_cap, &o);
	rc = idp_run(&o, r, err);
	tell_run(d, cmd, rc, r, err, idp_now_ms() - t0);
	if (rc < 0)
		return -1;
	if (r->truncated && r->status == 0)
		return idp_error_set(err, IDP_EGENERAL, "'%s' printed too much", cmd->what);
	return r->status;
}

static char *str_member(json_object *o, const char *k)
{
	const char *v = idp_json_str(o, k);
	return v ? strdup(v) : NULL;
}

static char *platform_of(json_object *img)
{
	char *os = str_member(img, "Os"), *arch = str_member(img, "Architecture"),
	     *var = str_member(img, "Variant");
	char buf[128], *r = NULL;

	if (os && arch) {
		snprintf(buf, sizeof(buf), "%s/%s%s%s", os, arch, var && *var ? "/" : "",
			 var && *var ? var : "");
		r = strdup(buf);
	}
	free(os);
	free(arch);
	free(var);
	return r;
}

/* One image object of the inspect (the CLI's array holds one, the API
 * answers it alone). 0, or -1 (out released). */
static int parse_image(json_object *img, struct idp_docker_image *out)
{
	json_object *rootfs, *layers;
	size_t i, n;

	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(img, json_type_object) || !(out->id = str_member(img, "Id")) ||
	    !json_object_object_get_ex(img, "RootFS", &rootfs) ||
	    !json_object_object_get_ex(rootfs, "Layers", &layers) ||
	    !json_object_is_type(layers, json_type_array))
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
	return 0;
bad:
	idp_docker_image_release(out);
	return -1;
}

static int parse_inspect(const char *json, const char *image, struct idp_docker_image *out,
			 struct idp_error *err)
{
	json_object *arr = json_tokener_parse(json);
	int rc = -1;

	if (arr && json_object_is_type(arr, json_type_array) && json_object_array_length(arr) >= 1)
		rc = parse_image(json_object_array_get_idx(arr, 0), out);
	else
		memset(out, 0, sizeof(*out));
	if (rc < 0)
		idp_error_set(err, IDP_EGENERAL,
			      "cannot understand 'docker image inspect %s' output", image);
	json_object_put(arr);
	return rc;
}

/* A name that goes into an API path as it is: reference characters
 * only, no empty or dot segment (curl would resolve "..") */
static int path_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 512 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz" "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789._:/@-") == n &&
	       s[0] != '/' && s[0] != '.' && !strstr(s, "//") && !strstr(s, "/.") &&
	       !strstr(s, "..");
}

/* A name with no tag, digest or ID, which docker looks up as NAME:latest. */
static int untagged(const char *image)
{
	const char *last = strrchr(image, '/');
	size_t hex = strspn(image, "0123456789abcdef");

	return !strchr(last ? last : image, ':') && !strchr(image, '@') &&
	       !(hex >= 12 && !image[hex]);
}

/* The local names closest to image, from docker image ls, into nb; 0, or
 * -1 when docker cannot list them. */
static int nearest_names(const struct idp_docker *d, const char *image, struct idp_nearest *nb)
{
	struct idp_error e = IDP_ERROR_INIT;
	struct idp_run_result r;
	char *line, *next;
	int rc;

	idp_nearest_init(nb, image);
	if ((rc = idp_docker_image_names(d, &r, &e)) == 0) {
		for (line = r.out.buf; line && *line; line = next) {
			if ((next = strchr(line, '\n')))
				*next++ = '\0';
			if (*line && !strstr(line, "<none>"))
				idp_nearest_add(nb, line);
		}
	}
	idp_run_result_release(&r);
	return rc;
}

/* "image 'myapp' not found locally (looked for myapp:latest); closest:
 * myapp:dev, myapp:1.0" (the local names closest to it). */
static int not_found(const struct idp_docker *d, const char *image, struct idp_error *err)
{
	struct idp_nearest nb;
	char list[IDP_ERRMSG_MAX / 2], looked[300] = "";
	int listed = nearest_names(d, image, &nb) == 0;

	if (untagged(image))
		snprintf(looked, sizeof(looked), " (looked for %.200s:latest)", image);
	idp_nearest_list(&nb, list, sizeof(list));
	return idp_error_set(err, IDP_ENOTFOUND, "image '%s' not found locally%s%s%s", image,
			     looked,
			     !listed ? " (docker image ls lists the images)"
			     : nb.n  ? "; closest: "
				     : "; docker has no images",
			     list);
}

/* GET /images/NAME/json: 0 with out, -1 with err (not found, cancelled,
 * an answer that makes no sense), 1 not answered (ask the CLI). */
static int api_inspect(const struct idp_docker *d, const char *image, struct idp_docker_image *out,
		       struct idp_error *err)
{
	struct idp_error e = IDP_ERROR_INIT;
	struct idp_http_resp resp;
	json_object *o;
	char path[600];
	int rc = 1;

	if (!idp_docker_api_usable(d->api) || !path_name_ok(image))
		return 1;
	snprintf(path, sizeof(path), "/images/%s/json", image);
	if (idp_docker_api_get(d->api, path, INSPECT_CAP, &resp, &e) < 0) {
		if (e.cls == IDP_ECANCELED || e.cls == IDP_ETIMEOUT)
			rc = idp_error_set(err, e.cls, "%s", e.msg);
	} else if (resp.status == 404) {
		rc = not_found(d, image, err);
	} else if (resp.status == 200) {
		o = idp_json_parse(resp.body.buf, resp.body.len, INSPECT_CAP);
		if ((rc = o ? parse_image(o, out) : -1) < 0)
			idp_error_set(err, IDP_EGENERAL,
				      "cannot understand docker's inspect of '%s'", image);
		json_object_put(o);
	}
	idp_http_resp_release(&resp);
	return rc;
}

int idp_docker_inspect(const struct idp_docker *d, const char *image, const char *platform,
		       struct idp_docker_image *out, struct idp_error *err)
{
	const char *plain[] = { "image", "inspect", image, NULL };
	const char *with_platform[] = { "image", "inspect", "--platform", platform, image, NULL };
	const char *const *tail = platform ? with_platform : plain;
	struct idp_run_result r;
	int status, rc = -1;

	if (!platform && (rc = api_inspect(d, image, out, err)) <= 0)
		return rc;
	rc = -1;
	status = run_capture(d, &(struct docker_cmd){ tail, "docker image inspect", INSPECT_CAP },
			     &r, err);
	if (status == 0)
		rc = parse_inspect(r.out.buf, image, out, err);
	else if (status > 0 &&
		 (strstr(r.err.buf, "No such image") || strstr(r.err.buf, "No such object")))
		not_found(d, image, err);
	else if (status > 0)
		idp_error_set(err, IDP_EGENERAL, "docker image inspect '%s' failed: %s", image,
			      first_line(&r.err));
	idp_run_result_release(&r);
	return rc;
}

int idp_docker_image_names(const struct idp_docker *d, struct idp_run_result *r,
			   struct idp_error *err)
{
	const char *tail[] = { "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", NULL };
	const struct docker_cmd cmd = { tail, "docker image ls", INSPECT_CAP };
	int status = run_capture(d, &cmd, r, err);

	if (status > 0)
		idp_error_set(err, IDP_EGENERAL, "docker image ls failed: %s", first_line(&r->err));
	return status == 0 ? 0 : -1;
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

int idp_docker_api(const struct idp_docker *d, int *api, struct idp_error *err)
{
	const char *tail[] = { "version", "--format",
			       "{{.Server.APIVersion}} {{.Client.APIVersion}}", NULL };
	char server[32] = "", client[32] = "";
	struct idp_run_result r;
	int status, sv = -1, cv = -1;

	status = run_capture(d, &(struct docker_cmd){ tail, "docker version", STDERR_CAP }, &r,
			     err);
	if (status == 0 && sscanf(r.out.buf, "%31s %31s", server, client) == 2) {
		sv = parse_api(server);
		cv = parse_api(client);
	}
	if (status > 0)
		idp_error_set(err, IDP_EGENERAL,
			      "--platform: cannot get the docker daemon's API version: %s",
			      first_line(&r.err));
	else if (status == 0 && (sv < 0 || cv < 0))
		idp_error_set(err, IDP_EGENERAL,
			      "--platform: cannot understand 'docker version' output '%.40s'",
			      r.out.buf);
	idp_run_result_release(&r);
	if (sv < 0 || cv < 0)
		return -1;
	*api = sv < cv ? sv : cv;   /* what the CLI and the daemon both speak */
	return 0;
}

int idp_docker_save_start(const struct idp_docker *d, const char *image, const char *platform,
			  struct idp_docker_save *sv, struct idp_error *err)
{
	const char *plain[] = { "save", image, NULL };
	const char *with_platform[] = { "save", "--platform", platform, image, NULL };

	memset(sv, 0, sizeof(*sv));
	build_argv(d, platform ? with_platform : plain, sv->argv);
	run_opts(d, sv->argv, "docker save", 0, &sv->opts);
	if (idp_child_start(&sv->opts, &sv->child, err) < 0)
		return -1;
	sv->fd = sv->child.out;
	return 0;
}

int idp_docker_save_end(struct idp_docker_save *sv, int kill_it, struct idp_error *err)
{
	char msg[512];
	int status = 0;

	sv->fd = -1;
	if (idp_child_finish(&sv->child, kill_it, &status, msg, sizeof(msg), err) < 0)
		return -1;
	/* death by a signal: ours (kill, or the pipe we closed early) */
	if (kill_it || status == 0 || status > 128)
		return 0;
	return idp_error_set(err, IDP_EGENERAL, "docker save failed: %s",
			     msg[0] ? msg : "no message");
}
