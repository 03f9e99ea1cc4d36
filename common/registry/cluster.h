/* cluster.h: what idpbuilder's cluster holds for its Gitea registry, so a
 * push to it needs no setup: the admin credentials and the CA, fetched
 * with the tools an idpbuilder user has, through run.h (no shell, a fixed
 * argv, bounded in time, output capped and parsed with json-c):
 *   credentials  `idpbuilder get secrets -p gitea -o json` (an array whose
 *                gitea-credential entry has username and password), else
 *                `kubectl get secret -n gitea gitea-credential -o json`
 *                (base64 data.username / data.password);
 *   CA           `kubectl get secret -n default idpbuilder-cert -o json`
 *                (base64 data["ca.crt"]).
 * Nothing fetched is printed; the password is wiped when released. */
#ifndef IDP_CLUSTER_H
#define IDP_CLUSTER_H

#include <stdint.h>
#include "util/buf.h"
#include "creds.h"
#include "stop.h"
#include "util/error.h"

/* The commands that get them by hand (for messages). */
#define IDP_CLUSTER_PASSWORD_HINT \
	"idpbuilder get secrets -p gitea -o json (or kubectl get secret -n gitea " \
	"gitea-credential -o jsonpath='{.data.password}' | base64 -d)"
#define IDP_CLUSTER_CA_HINT \
	"kubectl get secret -n default idpbuilder-cert -o jsonpath='{.data.ca\\.crt}' | " \
	"base64 -d > ca.crt, then --ca-cert ca.crt"

/* The Gitea admin credentials: 1 (out filled, origin says which command),
 * 0 when no tool could give them (err->msg says why, for a hint), -1 on
 * a timeout or cancel. */
int idp_cluster_credentials(const struct idp_stop *stop, struct idp_creds *out,
			    struct idp_error *err);

/* idpbuilder's CA certificate (PEM) into pem: 1, 0 (err->msg says why), -1. */
int idp_cluster_ca(const struct idp_stop *stop, struct idp_buf *pem, struct idp_error *err);

#endif
