/* creds.h: where credentials for a registry come from, in this order:
 *  1. explicit username/password (or identity token) from the front end;
 *  2. env IDPBUILDER_REGISTRY_USERNAME / _PASSWORD / _TOKEN (token together
 *     with username/password is an error);
 *  3. DOCKER_AUTH_CONFIG (JSON {"auths":{...}});
 *  4. docker config.json ($DOCKER_CONFIG/config.json, else
 *     ~/.docker/config.json): credHelpers[host], then credsStore (both via
 *     `docker-credential-<name> get`; one that cannot be run or fails is
 *     gone past, see idp_creds_resolve), then auths (auth / identitytoken /
 *     registrytoken; keys may be URLs, matched by host[:port]);
 *  5. anonymous; for idpbuilder's registry the session asks its cluster
 *     (cluster.h) when the registry wants credentials (auth.h's late
 *     credentials).
 * Secrets are never put into error messages. */
#ifndef IDP_CREDS_H
#define IDP_CREDS_H

#include <stdint.h>
#include "util/error.h"
#include "stop.h"

enum idp_creds_source {
	IDP_CREDS_NONE = 0,      /* anonymous */
	IDP_CREDS_EXPLICIT,
	IDP_CREDS_ENV,
	IDP_CREDS_DOCKER_AUTH_CONFIG,
	IDP_CREDS_HELPER,
	IDP_CREDS_CONFIG_FILE,
	IDP_CREDS_CLUSTER        /* idpbuilder's cluster (cluster.h) */
};

/* A credential helper of config.json that failed, and was gone past (the
 * lookup went on as if it had no credentials, as docker's does). */
struct idp_creds_skip {
	char *what;            /* the helper's failure and where it is named, or NULL */
	int not_run;           /* it could not be started (not on PATH...): stale, say
	                        * it under -v only; else it ran and failed: a warning */
};

struct idp_creds {
	enum idp_creds_source source;
	char *username;        /* Basic / token-endpoint user, may be NULL */
	char *password;        /* may be NULL */
	char *identity_token;  /* refresh token for the POST flow (docker
	                        * "identitytoken", helper Username "<token>"), may be NULL */
	char *registry_token;  /* a bearer token to send as is ("registrytoken",
	                        * IDPBUILDER_REGISTRY_TOKEN), may be NULL */
	char *origin;          /* human description, e.g. "credential helper
	                        * docker-credential-pass", "/root/.docker/config.json" */
	struct idp_creds_skip skipped;   /* a helper gone past, whatever was found */
};

struct idp_creds_opts {
	const char *username;     /* explicit; NULL when not given */
	const char *password;     /* explicit (from -p or --password-stdin) */
	const char *token;        /* explicit --token */
	/* overrides $DOCKER_CONFIG (plugin --config); NULL = env/default */
	const char *docker_config_dir;
	int ignore_env;           /* tests: skip the IDPBUILDER_* variables */
	/* credential helpers are stopped past its deadline or when its cancel
	 * flag is set; NULL: never */
	const struct idp_stop *stop;
};

/* Resolve credentials for registry host "host[:port]". Anonymous is not an
 * error (source NONE). Errors: IDP_EAUTH for conflicting sources (token +
 * username/password, username without password), IDP_EGENERAL for
 * unreadable or malformed config JSON (message names the file, never its
 * secrets). A config.json helper that cannot be run or fails is gone past
 * (out->skipped says which and why; the lookup goes on to the next helper,
 * then auths, then anonymous), so a stale credsStore never stops a push
 * that needs no credentials; the session reports it if the registry wants
 * some. A stop (cancel, out of time) while a helper runs is an error.
 * Caller owns *out (idp_creds_release). */
int idp_creds_resolve(const struct idp_creds_opts *opts, const char *hostport,
		      struct idp_creds *out, struct idp_error *err);
void idp_creds_release(struct idp_creds *c);

/* docker's config.json: dir/config.json (dir: the plugin's --config),
 * else $DOCKER_CONFIG/config.json, else ~/.docker/config.json; NULL when
 * there is no HOME either. The caller frees it. */
char *idp_docker_config_path(const char *dir);

/* Run `docker-credential-<helper> get` for server (searched on PATH), with
 * server written to stdin (no newline), bounded output, parse
 * {"ServerURL","Username","Secret"}; Username "<token>" -> identity_token.
 * Bounded by opts' stop state (opts may be NULL).
 * Returns 1 found, 0 not found, -1 error. */
int idp_creds_from_helper(const char *helper, const char *server, const struct idp_creds_opts *opts,
			  struct idp_creds *out, struct idp_error *err);

#endif
