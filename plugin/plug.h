/* plug.h: the pieces of docker-idppush (the docker CLI plugin):
 *   plug_launch.c docker-idppush itself: answers the metadata question,
 *                 runs idppush-plugin (the rest) for everything else
 *   plug_main.c   idppush-plugin: argv (docker global flags, metadata,
 *                 help), the push's options from fe_config, the push cache
 *                 loaded, then fe_push_open, idp_docker_push (the engine's
 *                 docker/docker_push.h: which path a push takes, and
 *                 running it), fe_push_finish
 *   plug_complete.c  docker's completion protocol (__complete)
 *   plug_socket.c DOCKER_CLI_PLUGIN_SOCKET watcher (EOF = cancel)
 * over what the library knows of docker (common/docker/: the daemon through
 * its CLI or Engine API, inspect, save, the push cache, the push). */
#ifndef IDP_PLUG_H
#define IDP_PLUG_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include "idp.h"
#include "frontend/fe_opts.h"
#include "docker/docker.h"
#include "docker/docker_push.h"

#define PLUG_NAME "idppush"      /* the command: `docker idppush` */

/* Answer `docker-idppush __complete [idppush] ARGS... TOCOMPLETE` (argv:
 * the words after "__complete") on stdout, cobra's way, for the option
 * table opts; local image names are asked of docker through d. Without
 * descriptions: `__completeNoDesc` (the bash completion of docker 20.10),
 * option names without their help, bash's "--name" "=" "value" words
 * joined. Returns 0 (the exit code). */
int plug_complete(const struct fe_option *opts, const struct idp_docker *d, int argc,
		  char **argv, int descriptions);

/* Watch DOCKER_CLI_PLUGIN_SOCKET (when set) from a detached thread; EOF
 * sets *cancel. Returns 0 (also when unset), -1 when it cannot connect
 * (a warning; the push goes on). */
int plug_socket_watch(const char *name, volatile sig_atomic_t *cancel);

#endif
