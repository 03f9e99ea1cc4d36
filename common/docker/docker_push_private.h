/* docker/docker_push_private.h: the pieces of idp_docker_push
 * (docker_push.h) that live in files of their own, for docker_push.c. */
#ifndef IDP_DOCKER_PUSH_PRIVATE_H
#define IDP_DOCKER_PUSH_PRIVATE_H

#include <stddef.h>
#include "docker_push.h"

/* A -v line through o->info (nothing when it is NULL). */
void docker_push_infof(const struct idp_docker_push_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The daemon pushes the image through the loopback relay into the
 * targets (relay_choice.c; img: what went up; the cache told it came from
 * the daemon): 0, 1 when the relay cannot serve (nothing was pushed:
 * docker save), -1 with err. */
int docker_push_relay(const struct idp_docker_push_opts *o, const struct idp_push_targets *to,
		      struct idp_reuse *ru, struct idp_image *img, struct idp_error *err);

/* Push from docker's containerd image store itself (ctd_push.c): the
 * image the image ID names, as stored, from the first candidate root
 * (idp_docker_ctd_roots) that may be read and holds it. 1 pushed (img
 * describes it: release it), 0 when the store cannot serve (why says
 * why: the caller takes another way), -1 with err. */
int docker_push_ctd(const struct idp_docker_push_opts *o, const struct idp_push_targets *to,
		    const struct idp_docker_daemon *dm, struct idp_image *img, char *why, size_t n,
		    struct idp_error *err);

#endif
