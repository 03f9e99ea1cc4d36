/* plug.h: the pieces of docker-idppush (the docker CLI plugin):
 *   plug_main.c   argv (docker global flags, metadata, help), the flow
 *   plug_complete.c  docker's completion protocol (__complete)
 *   plug_docker.c running the docker CLI: image inspect, docker save, version,
 *                 image ls (inspect through the Engine API when it can)
 *   plug_api.c    docker's Engine API over a local unix socket
 *   plug_platform.c --platform: what the daemon's API allows (docker version)
 *   plug_push.c   the push: the cache first, else docker's layer store
 *                 (idp_stream_docker_store) when it can be read, else docker
 *                 save into the engine's docker-save stream (idp_push_stream)
 *   plug_reuse.c  what the push cache says is in the registry already:
 *                 probed before docker save, the manifest without it
 *   plug_cache.c  the push cache file (plug_cache.h)
 *   plug_socket.c DOCKER_CLI_PLUGIN_SOCKET watcher (EOF = cancel) */
#ifndef IDP_PLUG_H
#define IDP_PLUG_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include "idp.h"
#include "frontend/fe_opts.h"
#include "plug_cache.h"

#define PLUG_NAME "idppush"      /* the command: `docker idppush` */
#define PLUG_MAX_GLOBALS 32

struct plug_api;

/* How to run docker: the CLI that started us (or `docker` on PATH) plus the
 * global flags that came before the plugin name; every run is bounded by
 * the push's deadline and cancel flag. When the daemon is a local unix
 * socket, api asks it directly (plug_api.c). */
struct plug_docker {
	const char *cli;
	int nglobals;
	const char *globals[PLUG_MAX_GLOBALS];
	const char *host;               /* the last -H/--host, or NULL */
	int nhosts;
	const char *context;            /* -c/--context, or NULL */
	int tls;                        /* a --tls* flag was given */
	int64_t deadline_ms;            /* idp_now_ms() clock, 0 = none */
	volatile sig_atomic_t *cancel;
	struct plug_api *api;           /* NULL: the CLI only */
};

/* docker's Engine API over a local unix socket (plug_api.c). */
struct plug_api {
	char sock[108];                 /* the daemon's socket; "" = use the docker CLI */
	char why[160];                  /* why not, for -v */
	struct idp_http_cfg cfg;
	struct idp_http *h;
	int broken;                     /* a request did not get through: the CLI from then on */
};

/* Find the daemon as the docker CLI would (-H, DOCKER_HOST, --context,
 * DOCKER_CONTEXT, config.json's currentContext; config_dir: --config):
 * a unix socket that is there, unless IDPPUSH_NO_API is set, TLS flags are
 * given or a context other than "default" is in effect. */
void plug_api_resolve(struct plug_api *a, const struct plug_docker *d, const char *config_dir);
int plug_api_usable(const struct plug_api *a);
void plug_api_release(struct plug_api *a);
/* GET path ("/images/NAME/json") of the daemon, the body bounded by cap:
 * 0 with resp (any status; release it), -1 when it did not get through
 * (then a->broken, except on cancel or timeout) or answered too much. */
int plug_api_get(struct plug_api *a, const char *path, size_t cap, struct idp_http_resp *resp,
		 struct idp_error *err);
/* The daemon's message in an error answer, else one naming the status. */
const char *plug_api_message(const struct idp_http_resp *resp, char *buf, size_t n);

/* What GET /info says of the daemon's image store. */
struct plug_daemon {
	char *root;                     /* DockerRootDir */
	char *driver;                   /* Driver */
	int snapshotter;                /* the containerd image store, not a graph driver */
};
int plug_api_info(struct plug_api *a, struct plug_daemon *out, struct idp_error *err);
void plug_daemon_release(struct plug_daemon *dm);

#define PLUG_MAX_ARGV (PLUG_MAX_GLOBALS + 8)

/* What `docker image inspect` said. */
struct plug_image {
	char *id;                  /* "sha256:..." */
	int ndiffids;
	char **diffids;            /* RootFS.Layers */
	char *platform;            /* "os/arch[/variant]" */
};

void plug_image_release(struct plug_image *img);

/* docker image inspect [--platform P] IMAGE. Not found: IDP_ENOTFOUND. */
int plug_docker_inspect(const struct plug_docker *d, const char *image, const char *platform,
			struct plug_image *out, struct idp_error *err);

/* The docker API version the CLI and the daemon both speak (`docker
 * version`), as MAJOR * 1000 + MINOR (1.48 -> 1048). */
int plug_docker_api(const struct plug_docker *d, int *api, struct idp_error *err);

/* A running `docker save IMAGE`: its stdout on fd. */
struct plug_save {
	int fd;
	const char *argv[PLUG_MAX_ARGV];
	struct idp_run_opts opts;
	struct idp_child child;
};

/* `docker image ls --format {{.Repository}}:{{.Tag}}`: 0 with its lines in
 * r->out, or -1 with err. r is initialised either way: release it. */
int plug_docker_image_names(const struct plug_docker *d, struct idp_run_result *r,
			    struct idp_error *err);

/* docker save [--platform P] IMAGE */
int plug_docker_save_start(const struct plug_docker *d, const char *image, const char *platform,
			   struct plug_save *sv, struct idp_error *err);
/* Kill (when kill_it) and reap; -1 with docker's message when it failed. */
int plug_docker_save_end(struct plug_save *sv, int kill_it, struct idp_error *err);

/* The streaming push (fe_stream_push_fn). ctx: struct plug_push. */
struct plug_push {
	const struct fe_config *cfg;
	const struct plug_docker *docker;
	const char *image;
	const struct plug_image *info;
	volatile sig_atomic_t *cancel;
	int64_t bytes_read;
	const char *platform;      /* passed to docker save --platform, or NULL */
	char *notice;              /* owned: what the stream said the user should know, or NULL */
	struct idp_codec codec;    /* how raw layers are compressed */
	const char *cache_path;    /* the push cache file, or NULL (none) */
	const struct plug_cache *cache;   /* as loaded before the push */
	size_t chunk_start;        /* the chunk size the session started with */
};

#define PLUG_PLATFORM_MAX 100

/* docker image inspect for the push, honouring --platform (`requested`,
 * NULL: none). Daemon API >= 1.48: *save_platform gets the normalised
 * platform for docker save; the inspect is per platform from API 1.49,
 * else its diffIDs are dropped (the config's rootfs.diff_ids still
 * check the stream) unless it is already that platform. Older API:
 * the image must be that platform (save_platform ""), else IDP_EGENERAL. */
int plug_platform_inspect(const struct plug_docker *d, const char *image, const char *requested,
			  struct plug_image *info, char save_platform[PLUG_PLATFORM_MAX],
			  struct idp_error *err);

/* What is known to be in the destination repository before docker save. */
enum plug_have { PLUG_HAVE_NO, PLUG_HAVE_EXISTS, PLUG_HAVE_MOUNTED };

struct plug_blob_state {
	int have;                  /* enum plug_have */
	char digest[IDP_DIGEST_MAX];
	int64_t size;
	int zstd;                  /* a zstd layer (OCI media type) */
};

struct plug_reuse {
	const struct plug_push *pp;
	const char *registry;      /* destination host[:port] */
	const char *repository;    /* destination repository path */
	const char *cache_path;    /* NULL: no cache */
	const struct plug_cache *cache;   /* as loaded (the caller's) */
	struct plug_cache news;    /* learnt by this push, committed after success */
	struct plug_blob_state *layers;    /* one per inspect diffID */
	struct plug_blob_state config;
	char want[IDP_CODEC_NAME_MAX];   /* the producer (plug_cache.h) of this image's blobs */
	int saved_stored;          /* docker save gave already-compressed layers */
};

/* Load the cache for the session's destination. -1 only out of memory. */
int plug_reuse_init(struct plug_reuse *ru, const struct plug_push *pp, const struct idp_session *s,
		    struct idp_error *err);
void plug_reuse_release(struct plug_reuse *ru);
/* Probe what the cache knows (the engine HEADs or mounts it, reporting
 * "Layer already exists" / "Mounted from"). 1 when every layer and the
 * config are present, 0 not, -1 error. */
int plug_reuse_check(struct plug_reuse *ru, struct idp_session *s, const struct idp_push_opts *po,
		     struct idp_push_stats *stats, struct idp_error *err);
/* The image (config + layers + manifest) from the states, no docker save. */
int plug_reuse_image(const struct plug_reuse *ru, struct idp_image *img, struct idp_error *err);
/* The state of a layer with this diffID, or NULL. */
struct plug_blob_state *plug_reuse_layer(const struct plug_reuse *ru, const char *diffid);
/* The diffID (inspect's string) a save-stream blob is, when known, or NULL:
 * its display id when it is a diffID, the cache's v1 id map (legacy
 * shape), or a stored layer's digest known from the cache. */
const char *plug_reuse_diffid(const struct plug_reuse *ru, const char *display_id,
			      const char *digest);
/* Remember a legacy v1 directory id's diffID (after the layer was read). */
void plug_reuse_note_v1(struct plug_reuse *ru, const char *v1id, const char *diffid);
/* After a successful push (saved: docker save ran): record the top
 * manifest's blobs for each of the n targets and write the cache (a
 * failure is a warning event through po, so that it reaches the progress
 * output). */
void plug_reuse_commit(struct plug_reuse *ru, const struct idp_push_opts *po,
		       const struct idp_image *img, int saved, const struct idp_push_target *t,
		       int n);

/* Answer `docker-idppush __complete [idppush] ARGS... TOCOMPLETE` (argv:
 * the words after "__complete") on stdout, cobra's way, for the option
 * table opts; local image names are asked of docker through d. Returns
 * 0 (the exit code). */
int plug_complete(const struct fe_option *opts, const struct plug_docker *d, int argc,
		  char **argv);

int plug_push_stream(void *ctx, struct idp_push_target *t, int n, const struct idp_push_opts *po,
		     struct idp_error *err);

/* Watch DOCKER_CLI_PLUGIN_SOCKET (when set) from a detached thread; EOF
 * sets *cancel. Returns 0 (also when unset), -1 when it cannot connect
 * (a warning; the push goes on). */
int plug_socket_watch(const char *name, volatile sig_atomic_t *cancel);

#endif
