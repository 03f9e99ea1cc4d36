/* daemonrun.c: which run of the docker daemon a push talks to (the
 * process serving the Engine API's socket, SO_PEERCRED, and when it
 * started), found once per push; and the push cache's record of what
 * GET /info answered for that run, so that a later push to the same run
 * does not ask again (a restarted daemon is another run, asked anew). */
#include "config.h"
#include <string.h>
#include "util/trust.h"
#include "docker_push_private.h"
#include "banned.h"

void docker_daemon_run_find(const struct idp_docker_api *api, struct docker_daemon_run *run)
{
	memset(run, 0, sizeof(*run));
	if (!idp_docker_api_usable(api) || idp_socket_peer(api->sock, &run->uid, &run->pid) < 0)
		return;
	run->known = 1;
	run->started_known = idp_process_started(run->pid, &run->started) == 0;
}

/* The push cache's key of this run; NULL when it has none. */
static struct idp_pushcache_daemon *key(struct docker_daemon_run *run,
					 const struct idp_docker_api *api,
					 struct idp_pushcache_daemon *d)
{
	if (!run->known || !run->started_known)
		return NULL;
	memset(d, 0, sizeof(*d));
	d->socket = (char *)api->sock;
	d->pid = run->pid;
	d->started = run->started;
	return d;
}

int docker_daemon_run_recall(struct idp_docker_api *api, struct docker_daemon_run *run,
			     const struct idp_pushcache *cache)
{
	struct idp_pushcache_daemon d;
	const struct idp_docker_daemon *dm;

	if (!cache || !key(run, api, &d) || !(dm = idp_pushcache_daemon(cache, &d)))
		return 0;
	return idp_docker_api_know(api, dm) == 0;
}

int docker_daemon_run_note(struct idp_docker_api *api, struct docker_daemon_run *run,
			   struct idp_pushcache *news, struct idp_error *err)
{
	struct idp_pushcache_daemon d;

	if (!key(run, api, &d) || !api->info_asked)
		return 0;   /* not asked this run: nothing new */
	d.info = *api->info;   /* copied by the push cache */
	return idp_pushcache_set_daemon(news, &d, err);
}
