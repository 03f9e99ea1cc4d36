/* engine_api.c: docker's Engine API, asked directly when the daemon is a
 * local unix socket, so that `docker image inspect` (a Go program start)
 * becomes one request. The daemon is found the way the docker CLI finds
 * it: -H/--host, else DOCKER_HOST, else the context (--context,
 * DOCKER_CONTEXT, config.json's currentContext), default
 * unix:///var/run/docker.sock. Anything else (TLS flags, tcp:// or ssh://,
 * a context other than "default", a socket that is not there,
 * IDPPUSH_NO_API set) leaves the CLI in charge, as before. Requests go
 * through the engine's HTTP handle (http.h) with the version-less paths
 * the CLI itself starts with. GET /info is asked once per run. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include "registry/creds.h"
#include "util/file.h"
#include "util/jsonutil.h"
#include "docker.h"
#include "banned.h"

#define DEFAULT_SOCKET "/var/run/docker.sock"
#define INFO_CAP (4u << 20)

static void no_api(struct idp_docker_api *a, const char *why)
{
	a->sock[0] = '\0';
	snprintf(a->why, sizeof(a->why), "%s", why);
}

/* A non-default context in config.json (or one that cannot be read). */
static int config_context(const char *config_dir, char *why, size_t n)
{
	char *path = idp_docker_config_path(config_dir);
	struct idp_buf b;
	json_object *root;
	const char *ctx;
	int rc = 0;

	if (!path)
		return 0;
	idp_buf_init(&b, IDP_CAP_CONFIG);
	rc = idp_file_read(path, 0, &b);
	if (rc == 1) {
		rc = 0;
	} else if (rc < 0 || !(root = idp_json_parse(b.buf, b.len, IDP_CAP_CONFIG))) {
		snprintf(why, n, "cannot read %s", path);
		rc = 1;
	} else {
		ctx = idp_json_str(root, "currentContext");
		if ((rc = ctx && *ctx && strcmp(ctx, "default") != 0))
			snprintf(why, n, "context '%.40s' (config.json)", ctx);
		json_object_put(root);
	}
	idp_buf_release(&b);
	free(path);
	return rc;
}

/* The host the CLI would use, or NULL when a context decides it. */
static const char *pick_host(const struct idp_docker *d, const char *config_dir, char *why,
			     size_t n)
{
	const char *env_host = getenv("DOCKER_HOST"), *env_ctx = getenv("DOCKER_CONTEXT");

	if (d->context && strcmp(d->context, "default") != 0) {
		snprintf(why, n, "context '%.40s' (--context)", d->context);
		return NULL;
	}
	if (d->nhosts)
		return d->host;
	if (env_host && *env_host)
		return env_host;
	if (env_ctx && *env_ctx && strcmp(env_ctx, "default") != 0) {
		snprintf(why, n, "context '%.40s' (DOCKER_CONTEXT)", env_ctx);
		return NULL;
	}
	if (!d->context && config_context(config_dir, why, n))
		return NULL;
	return "unix://" DEFAULT_SOCKET;
}

void idp_docker_api_resolve(struct idp_docker_api *a, const struct idp_docker *d,
			    const char *config_dir)
{
	const char *host, *no = getenv("IDPPUSH_NO_API");
	char why[sizeof(a->why)] = "";
	struct stat st;

	memset(a, 0, sizeof(*a));
	a->stop.deadline_ms = d->deadline_ms;
	a->stop.cancel = d->cancel;
	a->cfg.stop = &a->stop;
	a->cfg.connect_timeout_ms = 5000;
	if (no && *no && strcmp(no, "0") != 0)
		return no_api(a, "IDPPUSH_NO_API is set");
	if (d->tls || getenv("DOCKER_TLS_VERIFY") || d->nhosts > 1)
		return no_api(a, "TLS or several hosts given");
	if (!(host = pick_host(d, config_dir, why, sizeof(why))))
		return no_api(a, why);
	if (strncmp(host, "unix:///", 8) != 0 || strlen(host + 7) >= sizeof(a->sock))
		return no_api(a, "the daemon is not a local unix socket");
	if (stat(host + 7, &st) < 0 || !S_ISSOCK(st.st_mode))
		return no_api(a, "no unix socket there");
	snprintf(a->sock, sizeof(a->sock), "%s", host + 7);
	a->cfg.unix_socket = a->sock;
}

int idp_docker_api_usable(const struct idp_docker_api *a)
{
	return a && a->sock[0] && !a->broken;
}

static void forget_info(struct idp_docker_api *a)
{
	if (a->info)
		idp_docker_daemon_release(a->info);
	free(a->info);
	a->info = NULL;
	a->info_asked = 0;
}

/* dm (its strings taken over: released on failure too) as a's GET /info
 * answer. 0, or -1 out of memory. */
static int keep_info(struct idp_docker_api *a, struct idp_docker_daemon *dm)
{
	struct idp_docker_daemon *k = malloc(sizeof(*k));

	if (!k) {
		idp_docker_daemon_release(dm);
		return -1;
	}
	forget_info(a);
	*k = *dm;
	a->info = k;
	return 0;
}

void idp_docker_api_clone(const struct idp_docker_api *a, struct idp_docker_api *out)
{
	memset(out, 0, sizeof(*out));   /* not a->stop.abort: other threads set it */
	memcpy(out->sock, a->sock, sizeof(out->sock));
	memcpy(out->why, a->why, sizeof(out->why));
	out->stop.cancel = a->stop.cancel;
	out->stop.deadline_ms = a->stop.deadline_ms;
	out->cfg = a->cfg;
	out->cfg.stop = &out->stop;
	out->cfg.unix_socket = out->sock;
	out->broken = a->broken;
}

void idp_docker_api_release(struct idp_docker_api *a)
{
	idp_http_free(a->h);
	a->h = NULL;
	forget_info(a);
}

int idp_docker_api_call(struct idp_docker_api *a, const struct idp_docker_call *c,
			struct idp_http_resp *resp, struct idp_error *err)
{
	size_t cap = c->cap ? c->cap : IDP_CAP_JSON_SMALL;
	struct idp_http_req q;
	char url[1024];

	idp_http_resp_init(resp);
	if (!idp_docker_api_usable(a))
		return idp_error_set(err, IDP_EGENERAL, "no docker API socket");
	if (!a->h && !(a->h = idp_http_new(&a->cfg)))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	if ((size_t)snprintf(url, sizeof(url), "http://localhost%s", c->path) >= sizeof(url))
		return idp_error_set(err, IDP_EGENERAL, "docker API path too long");
	memset(&q, 0, sizeof(q));
	q.method = c->method ? c->method : "GET";
	q.url = url;
	q.headers = c->headers;
	q.has_body = strcmp(q.method, "POST") == 0;
	q.max_response = cap;
	q.on_data = c->on_data;
	q.data_ctx = c->data_ctx;
	q.cleanup = c->cleanup;
	q.stall_timeout_ms = c->stall_ms;
	if (idp_http_do(a->h, &q, resp, err) < 0) {
		if (err->cls != IDP_ECANCELED && err->cls != IDP_ETIMEOUT)
			a->broken = 1;
		return -1;
	}
	if (resp->body.len >= cap) {
		a->broken = 1;
		return idp_error_set(err, IDP_EGENERAL, "docker API: %s answered too much",
				     c->path);
	}
	return 0;
}


int idp_docker_api_get(struct idp_docker_api *a, const char *path, size_t cap,
		       struct idp_http_resp *resp, struct idp_error *err)
{
	struct idp_docker_call c = { .path = path, .cap = cap };

	return idp_docker_api_call(a, &c, resp, err);
}

/* The daemon's message of an error answer ({"message": ...}), or a
 * fallback naming the status. */
const char *idp_docker_api_message(const struct idp_http_resp *resp, char *buf, size_t n)
{
	json_object *o = idp_json_parse(resp->body.buf, resp->body.len, IDP_CAP_JSON_SMALL);
	const char *m = idp_json_str(o, "message");

	if (m)
		snprintf(buf, n, "%s", m);
	else
		snprintf(buf, n, "HTTP status %ld", resp->status);
	json_object_put(o);
	return buf;
}

static int driver_status_snapshotter(json_object *info)
{
	json_object *status = idp_json_array(info, "DriverStatus");
	size_t i, n = status ? json_object_array_length(status) : 0;

	for (i = 0; i < n; i++) {
		json_object *kv = json_object_array_get_idx(status, i);
		const char *k = json_object_get_string(json_object_array_get_idx(kv, 0));
		const char *v = json_object_get_string(json_object_array_get_idx(kv, 1));
		if (k && v && strcmp(k, "driver-type") == 0 && strstr(v, "snapshotter"))
			return 1;
	}
	return 0;
}

/* "Containerd": {"Address": ..., "Namespaces": {"Containers": ...}} (API
 * 1.46 and later): the containerd the daemon keeps its images in. -1 out
 * of memory. */
static int containerd_info(json_object *info, struct idp_docker_daemon *out)
{
	json_object *c = idp_json_obj(info, "Containerd");
	const char *addr = idp_json_str(c, "Address");
	const char *ns = idp_json_str(idp_json_obj(c, "Namespaces"), "Containers");

	if (addr && *addr && !(out->ctd_address = strdup(addr)))
		return -1;
	if (ns && *ns && !(out->ctd_namespace = strdup(ns)))
		return -1;
	return 0;
}

/* GET /info, asked, its answer parsed into out. 0, or -1 with err. */
static int ask_info(struct idp_docker_api *a, struct idp_docker_daemon *out,
		    struct idp_error *err)
{
	struct idp_http_resp resp;
	json_object *o = NULL;
	const char *root, *driver;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	idp_http_resp_init(&resp);
	if (idp_docker_api_get(a, "/info", INFO_CAP, &resp, err) < 0)
		goto out;
	if (resp.status == 200)
		o = idp_json_parse(resp.body.buf, resp.body.len, INFO_CAP);
	if (!o ||
	    !(root = idp_json_str(o, "DockerRootDir")) || !(driver = idp_json_str(o, "Driver"))) {
		idp_error_set(err, IDP_EGENERAL, "docker API: GET /info gave no DockerRootDir");
		goto out;
	}
	out->root = strdup(root);
	out->driver = strdup(driver);
	out->snapshotter = driver_status_snapshotter(o);
	if (containerd_info(o, out) < 0 || !out->root || !out->driver) {
		idp_docker_daemon_release(out);
		idp_error_set(err, IDP_EGENERAL, "out of memory");
		goto out;
	}
	rc = 0;
out:
	json_object_put(o);
	idp_http_resp_release(&resp);
	return rc;
}

int idp_docker_api_info(struct idp_docker_api *a, struct idp_docker_daemon *out,
			struct idp_error *err)
{
	struct idp_docker_daemon dm;

	memset(out, 0, sizeof(*out));
	if (!a->info) {   /* asked once per run; again after a failure */
		if (ask_info(a, &dm, err) < 0)
			return -1;
		if (keep_info(a, &dm) < 0)
			return idp_error_set(err, IDP_EGENERAL, "out of memory");
		a->info_asked = 1;
	}
	if (idp_docker_daemon_copy(out, a->info) < 0)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	return 0;
}

static char *dup_or_null(const char *s, int *failed)
{
	char *d = s ? strdup(s) : NULL;

	*failed |= s && !d;
	return d;
}

int idp_docker_daemon_copy(struct idp_docker_daemon *dst, const struct idp_docker_daemon *src)
{
	int failed = 0;

	memset(dst, 0, sizeof(*dst));
	dst->snapshotter = src->snapshotter;
	dst->root = dup_or_null(src->root, &failed);
	dst->driver = dup_or_null(src->driver, &failed);
	dst->ctd_address = dup_or_null(src->ctd_address, &failed);
	dst->ctd_namespace = dup_or_null(src->ctd_namespace, &failed);
	if (failed)
		idp_docker_daemon_release(dst);
	return failed ? -1 : 0;
}

int idp_docker_api_know(struct idp_docker_api *a, const struct idp_docker_daemon *dm)
{
	struct idp_docker_daemon copy;

	if (idp_docker_daemon_copy(&copy, dm) < 0)
		return -1;
	if (keep_info(a, &copy) < 0)
		return -1;
	a->info_asked = 0;
	return 0;
}

void idp_docker_daemon_release(struct idp_docker_daemon *dm)
{
	free(dm->root);
	free(dm->driver);
	free(dm->ctd_address);
	free(dm->ctd_namespace);
	memset(dm, 0, sizeof(*dm));
}
