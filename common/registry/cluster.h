/* cluster.h: what idpbuilder's cluster holds for its Gitea registry, so a
 * push to it needs no setup: the admin credentials and the CA, fetched
 * with the tools an idpbuilder user has, through run.h (no shell, a fixed
 * argv, bounded in time, output capped and parsed with json-c):
 *   credentials  `idpbuilder get secrets -p gitea -o json`: an array whose
 *                gitea-credential entry has username and password, at its
 *                top level (idpbuilder >= 0.9) or under "data" (0.8.1);
 *                `[]` while the secret does not exist yet. Else `kubectl
 *                get secret -n gitea gitea-credential -o json` (base64
 *                data.username / data.password). idpbuilder reads
 *                ~/.kube/config or --kubeconfig only, kubectl honours
 *                $KUBECONFIG: with $KUBECONFIG set, kubectl is asked first,
 *                and idpbuilder only with --kubeconfig (when it names one
 *                file), so both read the cluster the user means;
 *   CA           `kubectl get secret -n default idpbuilder-cert -o json`
 *                (base64 data["ca.crt"]), else the ingress's TLS secret
 *                `-n ingress-nginx idpbuilder-cert` (data["tls.crt"]: the
 *                same self-signed certificate).
 * Nothing fetched is printed; the password is wiped when released. */
#ifndef IDP_CLUSTER_H
#define IDP_CLUSTER_H

#include <stdint.h>
#include <time.h>
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

/* idp_cluster_credentials's answer when the cluster has no Gitea
 * credential yet (idpbuilder printed [], kubectl found no secret). */
#define IDP_CLUSTER_NOT_YET 2

/* How the cluster is asked: within stop's limits (NULL: none but the
 * tools' own); each command run, and its one-line outcome, goes to note
 * (-v) when it is not NULL. */
struct idp_cluster_ask {
	const struct idp_stop *stop;
	void (*note)(void *ctx, const char *line);
	void *note_ctx;
};

/* The Gitea admin credentials: 1 (out filled, origin says which command),
 * IDP_CLUSTER_NOT_YET or 0 when no tool could give them (err->msg says
 * why), -1 on a timeout or cancel. */
int idp_cluster_credentials(const struct idp_cluster_ask *ask, struct idp_creds *out,
			    struct idp_error *err);

/* What `idpbuilder get secrets -p gitea -o json` printed (any version):
 * 1 with out filled, IDP_CLUSTER_NOT_YET for [], 0 otherwise (err->msg
 * says why). */
int idp_cluster_parse_secrets(const char *json, size_t len, struct idp_creds *out,
			      struct idp_error *err);

/* idpbuilder's CA certificate (PEM) into pem: 1, 0 (err->msg says why), -1. */
int idp_cluster_ca(const struct idp_cluster_ask *ask, struct idp_buf *pem, struct idp_error *err);

/* The first certificate of pem: 1 when it expired before now (its end,
 * as YYYY-MM-DD, in when), 0 when it did not, -1 when there is none. */
int idp_cluster_ca_expired(const char *pem, size_t len, time_t now, char *when, size_t n);

#endif
