/* docker/docker_push_private.h: the pieces of idp_docker_push
 * (docker_push.h) that live in files of their own, for docker_push.c. */
#ifndef IDP_DOCKER_PUSH_PRIVATE_H
#define IDP_DOCKER_PUSH_PRIVATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "docker_push.h"
#include "pushcache.h"

/* A -v line through o->info (nothing when it is NULL). */
void docker_push_infof(const struct idp_docker_push_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The daemon (its process: daemon, <= 0 unknown) pushes the image through
 * the loopback relay into the targets (relay_choice.c; img: what went up;
 * the cache told it came from the daemon): 0, 1 when the relay cannot
 * serve (nothing was pushed: docker save), -1 with err. */
int docker_push_relay(const struct idp_docker_push_opts *o, const struct idp_push_targets *to,
		      pid_t daemon, struct idp_reuse *ru, struct idp_image *img,
		      struct idp_error *err);

/* Push from docker's containerd image store itself (ctd_push.c): the
 * image the image ID names, as stored, from the first candidate root
 * (idp_docker_ctd_roots) that may be read and holds it. 1 pushed (img
 * describes it: release it), 0 when the store cannot serve (why says
 * why: the caller takes another way), -1 with err. */
int docker_push_ctd(const struct idp_docker_push_opts *o, const struct idp_push_targets *to,
		    const struct idp_docker_daemon *dm, struct idp_image *img, char *why, size_t n,
		    struct idp_error *err);

/* The run of the daemon behind the Engine API's socket (daemonrun.c):
 * whose process serves it, and since when; found once per push. */
struct docker_daemon_run {
	int known;                 /* the socket's peer is known (uid, pid) */
	uid_t uid;
	pid_t pid;
	int started_known;         /* and when it started */
	uint64_t started;
};
void docker_daemon_run_find(const struct idp_docker_api *api, struct docker_daemon_run *run);
/* What the push cache says GET /info answered for this run, given to api
 * (idp_docker_api_know): 1, or 0 when it has nothing. */
int docker_daemon_run_recall(struct idp_docker_api *api, struct docker_daemon_run *run,
			     const struct idp_pushcache *cache);
/* After a push that asked GET /info: its answer into news for this run.
 * 0, or -1 out of memory. */
int docker_daemon_run_note(struct idp_docker_api *api, struct docker_daemon_run *run,
			   struct idp_pushcache *news, struct idp_error *err);

#endif
