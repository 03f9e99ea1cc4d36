/* docker.h: asking the Docker daemon, as the docker CLI would reach it:
 *   cli.c         running the docker CLI: image inspect, docker save,
 *                 version, image ls (inspect through the Engine API when
 *                 it can)
 *   engine_api.c  docker's Engine API over a local unix socket
 *   inspect.c     --platform: what the daemon's API allows (docker version)
 *   storetrust.c  whether we may read the daemon's store directly
 *   ctdstore.c    where docker's containerd image store is
 * and pushcache.h: what was pushed where (pushcache.c) and what that says
 * for one push (reuse.c); relay.h: the loopback relay the daemon pushes
 * to; docker_push.h: a docker image's push, by the first path that serves
 * (docker_push.c, ctd_push.c, relay_choice.c). The front end (the plugin)
 * parses docker's global flags into struct idp_docker. */
#ifndef IDP_DOCKER_H
#define IDP_DOCKER_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include "util/error.h"
#include "registry/http.h"
#include "util/run.h"

#define IDP_DOCKER_MAX_GLOBALS 32

struct idp_docker_api;

/* How to run docker: the CLI that started us (or `docker` on PATH) plus the
 * global flags that came before the plugin name; every run is bounded by
 * the push's deadline and cancel flag. When the daemon is a local unix
 * socket, api asks it directly (docker/engine_api.c). */
struct idp_docker {
	const char *cli;
	int nglobals;
	const char *globals[IDP_DOCKER_MAX_GLOBALS];
	const char *host;               /* the last -H/--host, or NULL */
	int nhosts;
	const char *context;            /* -c/--context, or NULL */
	int tls;                        /* a --tls* flag was given */
	int64_t deadline_ms;            /* idp_now_ms() clock, 0 = none */
	volatile sig_atomic_t *cancel;
	struct idp_docker_api *api;           /* NULL: the CLI only */
	/* told each docker command run and how it ended (-v), or NULL */
	void (*info)(void *ctx, const char *msg);
	void *info_ctx;
};

/* docker's Engine API over a local unix socket (docker/engine_api.c). */
struct idp_docker_api {
	char sock[108];                 /* the daemon's socket; "" = use the docker CLI */
	char why[160];                  /* why not, for -v */
	struct idp_stop stop;           /* the docker job's cancel and deadline */
	struct idp_http_cfg cfg;
	struct idp_http *h;
	int broken;                     /* a request did not get through: the CLI from then on */
	struct idp_docker_daemon *info;   /* GET /info's answer, parsed: asked once
	                                   * (info_asked), or known (idp_docker_api_know);
	                                   * NULL: neither yet */
	int info_asked;                 /* it was asked in this run */
};

/* Find the daemon as the docker CLI would (-H, DOCKER_HOST, --context,
 * DOCKER_CONTEXT, config.json's currentContext; config_dir: --config):
 * a unix socket that is there, unless IDPPUSH_NO_API is set, TLS flags are
 * given or a context other than "default" is in effect. */
void idp_docker_api_resolve(struct idp_docker_api *a, const struct idp_docker *d,
			    const char *config_dir);
int idp_docker_api_usable(const struct idp_docker_api *a);
/* A handle of its own on a's daemon (for another thread): no connection
 * yet, nothing asked; release it. */
void idp_docker_api_clone(const struct idp_docker_api *a, struct idp_docker_api *out);
void idp_docker_api_release(struct idp_docker_api *a);
/* GET path ("/images/NAME/json") of the daemon, the body bounded by cap:
 * 0 with resp (any status; release it), -1 when it did not get through
 * (then a->broken, except on cancel or timeout) or answered too much. */
int idp_docker_api_get(struct idp_docker_api *a, const char *path, size_t cap,
		       struct idp_http_resp *resp, struct idp_error *err);
/* One request to the daemon's API. */
struct idp_docker_call {
	const char *method;             /* NULL: GET */
	const char *path;               /* "/images/NAME/push?tag=T" */
	const char *const *headers;     /* "Name: value", NULL-terminated, or NULL */
	size_t cap;                     /* the answer's bound; 0: IDP_CAP_JSON_SMALL */
	/* the answer handed over as it arrives instead (docker's progress) */
	void (*on_data)(void *ctx, const char *data, size_t n);
	void *data_ctx;
	int cleanup;                    /* even after cancel or the deadline (5 s at most) */
	long stall_ms;                  /* 0: the handle's stall timeout */
};
/* The request: as idp_docker_api_get, for any method. */
int idp_docker_api_call(struct idp_docker_api *a, const struct idp_docker_call *c,
			struct idp_http_resp *resp, struct idp_error *err);
/* The daemon's message in an error answer, else one naming the status. */
const char *idp_docker_api_message(const struct idp_http_resp *resp, char *buf, size_t n);

/* What GET /info says of the daemon's image store. */
struct idp_docker_daemon {
	char *root;                     /* DockerRootDir */
	char *driver;                   /* Driver */
	int snapshotter;                /* the containerd image store, not a graph driver */
	/* Containerd.Address and .Namespaces.Containers (API 1.46+), or NULL */
	char *ctd_address;
	char *ctd_namespace;
};
int idp_docker_api_info(struct idp_docker_api *a, struct idp_docker_daemon *out,
			struct idp_error *err);
void idp_docker_daemon_release(struct idp_docker_daemon *dm);
/* dst = a copy of src. 0, or -1 out of memory (dst released). */
int idp_docker_daemon_copy(struct idp_docker_daemon *dst, const struct idp_docker_daemon *src);
/* What GET /info answers is known (the push cache's record of this run of
 * the daemon): idp_docker_api_info gives it without asking. 0, or -1 out
 * of memory. */
int idp_docker_api_know(struct idp_docker_api *a, const struct idp_docker_daemon *dm);

/* docker's containerd image store (docker/ctdstore.c): the namespace
 * (Containerd.Namespaces.Containers, else "moby"), and the containerd
 * roots it may be in, most likely first: IDPPUSH_CONTAINERD_ROOT alone
 * when set; else the root of the containerd the daemon talks to
 * (Containerd.Address, else the daemon's --containerd, else the system's
 * socket; the process listening there, its --root or its config's root),
 * <DockerRootDir>/containerd/daemon (a containerd dockerd runs itself),
 * /var/lib/containerd. Which of them holds the image, and whether it may
 * be read, is for the caller to find out. */
#define IDP_CTD_MAX_ROOTS 4
#define IDP_CTD_HOW_MAX 300
struct idp_ctd_roots {
	int n;
	char root[IDP_CTD_MAX_ROOTS][4096];
	char how[IDP_CTD_MAX_ROOTS][IDP_CTD_HOW_MAX];   /* why it is a candidate, for -v */
};
const char *idp_docker_ctd_namespace(const struct idp_docker_daemon *dm);
void idp_docker_ctd_roots(const struct idp_docker_api *a, const struct idp_docker_daemon *dm,
			  struct idp_ctd_roots *out);

/* Who serves the API socket (docker/storetrust.c): 1 with *uid when the
 * daemon runs as root or as us, else 0 with why (for -v). */
int idp_docker_daemon_uid(const struct idp_docker_api *a, uid_t *uid, char *why, size_t n);
/* Whether we may read the daemon's store at `root` (its data root, or the
 * root of the containerd it keeps images in) directly: the daemon runs as
 * root or as us, and root and every directory above it can be changed
 * only by root or the daemon's uid, none of them a symbolic link. 1 with
 * *dirfd, an O_PATH descriptor of root to open what is beneath it with
 * idp_open_beneath (util/trust.h; close it), else 0 with why. */
int idp_docker_store_trusted(const struct idp_docker_api *a, const char *root, int *dirfd,
			     char *why, size_t n);
/* why[0..n) gets why a way to the daemon's images is not taken; returns 0
 * (not usable), so that `return idp_docker_why_not(why, n, ...)` works. */
int idp_docker_why_not(char *why, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define IDP_DOCKER_MAX_ARGV (IDP_DOCKER_MAX_GLOBALS + 8)

/* What `docker image inspect` said. */
#define IDP_DOCKER_PLATFORM_MAX 100

struct idp_docker_image {
	char *id;                  /* "sha256:..." */
	int ndiffids;
	char **diffids;            /* RootFS.Layers */
	char *platform;            /* "os/arch[/variant]" */
	/* idp_docker_platform_inspect: the platform to give docker save, or "" */
	char save_platform[IDP_DOCKER_PLATFORM_MAX];
	int id_only;               /* only id is known, if that (idp_docker_image_for_push) */
};

void idp_docker_image_release(struct idp_docker_image *img);

/* docker image inspect [--platform P] IMAGE. Not found: IDP_ENOTFOUND. */
int idp_docker_inspect(const struct idp_docker *d, const char *image, const char *platform,
		       struct idp_docker_image *out, struct idp_error *err);

/* The docker API version the CLI and the daemon both speak (`docker
 * version`), as MAJOR * 1000 + MINOR (1.48 -> 1048). */
int idp_docker_api(const struct idp_docker *d, int *api, struct idp_error *err);

/* A running `docker save IMAGE`: its stdout on fd. */
struct idp_docker_save {
	int fd;
	const char *argv[IDP_DOCKER_MAX_ARGV];
	struct idp_run_opts opts;
	struct idp_child child;
};

/* `docker image ls --format {{.Repository}}:{{.Tag}}`: 0 with its lines in
 * r->out, or -1 with err. r is initialised either way: release it. */
int idp_docker_image_names(const struct idp_docker *d, struct idp_run_result *r,
			   struct idp_error *err);

/* docker save [--platform P] IMAGE */
int idp_docker_save_start(const struct idp_docker *d, const char *image, const char *platform,
			  struct idp_docker_save *sv, struct idp_error *err);
/* Kill (when kill_it) and reap; -1 with docker's message when it failed. */
int idp_docker_save_end(struct idp_docker_save *sv, int kill_it, struct idp_error *err);

/* docker image inspect for the push, honouring --platform (`requested`,
 * NULL: none). Daemon API >= 1.48: info->save_platform gets the
 * normalised platform for docker save; the inspect is per platform from
 * API 1.49, else its diffIDs are dropped (the config's rootfs.diff_ids
 * still check the stream) unless it is already that platform. Older API:
 * the image must be that platform (save_platform ""), else IDP_EGENERAL. */
int idp_docker_platform_inspect(const struct idp_docker *d, const char *image,
				const char *requested, struct idp_docker_image *info,
				struct idp_error *err);

#endif
