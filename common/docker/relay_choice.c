/* relay_choice.c: the plugin's way when it cannot read the daemon's store
 * (a member of the socket's group, or the containerd image store): the
 * daemon pushes the image itself, as docker push would (its compression,
 * its digest), to the loopback relay the plugin serves, which answers it
 * from the targets through the engine (common/docker/relay.h). Not for
 * --platform, a daemon that is not a local unix socket or that runs in
 * another network namespace (rootless dockerd), nor with IDPPUSH_NO_STORE
 * or IDPPUSH_NO_RELAY set (IDPPUSH_NO_HANDOVER: no upload session of the
 * registry is handed over to the daemon, every byte comes through); a
 * daemon that cannot reach 127.0.0.1 of this host is told apart: then
 * docker save, as before. For docker_push.c (docker_push_relay). */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "docker/relay.h"
#include "docker_push_private.h"
#include "banned.h"

static int set(const char *env)
{
	const char *v = getenv(env);

	return v && *v && strcmp(v, "0") != 0;
}

/* Whether the relay cannot serve a push of any image (platform:
 * --platform, or NULL) through api: 1 with why, else 0. */
static int relay_off(const char *platform, const struct idp_docker_api *api, char *why,
		     size_t n)
{
	const char *no = set("IDPPUSH_NO_RELAY") ? "IDPPUSH_NO_RELAY is set"
			 : set("IDPPUSH_NO_STORE") ? "IDPPUSH_NO_STORE is set"
			 : platform ? "--platform given"
			 : NULL;

	if (no)
		snprintf(why, n, "%s", no);
	else if (!idp_docker_api_usable(api))
		snprintf(why, n, "the daemon is not a local unix socket (%s)",
			 api ? api->why : "no Engine API");
	else
		return 0;
	return 1;
}

/* Whether the relay may serve this push; else why not. */
static int relay_usable(const struct idp_docker_push_opts *o, pid_t daemon, char *why, size_t n)
{
	if (relay_off(o->save_platform, o->docker->api, why, n))
		return 0;
	if (!idp_digest_valid(o->inspect->id)) {
		snprintf(why, n, "no image ID");
		return 0;
	}
	return idp_relay_reachable(daemon, why, n);
}

struct idp_relay_tag *idp_docker_relay_tag_early(const struct idp_docker *d, const char *image,
						 const struct idp_ref *dest,
						 const char *platform,
						 const struct idp_pushcache *cache,
						 void (*debug)(void *ctx, const char *line),
						 void *debug_ctx)
{
	char why[IDP_ERRMSG_MAX];
	uid_t uid;

	if (geteuid() == 0 || relay_off(platform, d->api, why, sizeof(why)) || !cache ||
	    !idp_pushcache_stored_in(cache, dest->domain, dest->path) ||
	    !idp_docker_daemon_uid(d->api, &uid, why, sizeof(why)) || uid != 0)
		return NULL;
	return idp_relay_tag_early(d->api, image, dest->domain, dest->path, debug, debug_ctx);
}

int docker_push_relay(const struct idp_docker_push_opts *o, const struct idp_push_targets *to,
		      pid_t daemon, struct idp_reuse *ru, struct idp_image *img,
		      struct idp_error *err)
{
	struct idp_relay_push rp = { .api = o->docker->api, .image_id = o->inspect->id,
				     .early = o->early, .to = to,
				     .hand_over = !set("IDPPUSH_NO_HANDOVER"),
				     .debug = o->debug, .debug_ctx = o->debug_ctx };
	char why[IDP_ERRMSG_MAX];
	int rc;

	if (!relay_usable(o, daemon, why, sizeof(why))) {
		docker_push_infof(o, "no loopback relay: %s", why);
		return 1;
	}
	if ((rc = idp_relay_push(&rp, img, err)) == 0)
		idp_reuse_note_daemon(ru);
	if (rc == 0 && rp.handed)
		docker_push_infof(o, "path: pushed by the docker daemon through the relay on "
				  "127.0.0.1:%d, %d upload(s) sent by the daemon straight to %s",
				  rp.used_port, rp.handed, idp_session_ref(to->t[0].s)->domain);
	else if (rc == 0)
		docker_push_infof(o, "path: pushed by the docker daemon through the relay on "
				  "127.0.0.1:%d", rp.used_port);
	else if (rc == 1)
		docker_push_infof(o, "the docker daemon did not reach the relay on "
				  "127.0.0.1:%d: %s", rp.used_port, rp.why_not);
	return rc;
}
