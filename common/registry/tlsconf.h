/* tlsconf.h: deciding how to talk to a registry host: scheme, CA files,
 * client certificate, verification, following what docker and containerd
 * users already configured:
 *  - an explicit CA file (--ca-cert) and insecure switch (--insecure);
 *  - docker certs.d: /etc/docker/certs.d/<host:port>/ and the rootless/user
 *    dirs ($XDG_CONFIG_HOME/docker/certs.d, ~/.config/docker/certs.d,
 *    ~/.docker/certs.d): every *.crt is a CA, X.cert + X.key a client pair
 *    (a missing partner is an error);
 *  - containerd hosts dir (default /etc/containerd/certs.d): lookup
 *    <dir>/<host>_<port>_ , <dir>/<host:port>, <dir>/_default; hosts.toml's
 *    push-capable host (or `server`) gives ca/client/skip_verify; without a
 *    hosts.toml the dir's *.crt / *.cert+*.key are used docker-style;
 *  - plain HTTP only when asked for (--plain-http) or, for loopback
 *    registries, after HTTPS fails (decided by the HTTP layer).
 */
#ifndef IDP_TLSCONF_H
#define IDP_TLSCONF_H

#include "util/error.h"

#define IDP_TLS_MAX_CAS 16

struct idp_tls_opts {
	const char *ca_file;        /* --ca-cert, may be NULL */
	int insecure;               /* --insecure: skip verification */
	int plain_http;             /* --plain-http */
	const char *hosts_dir;      /* containerd certs.d; NULL = /etc/containerd/certs.d */
	const char *docker_certs_dir; /* NULL = /etc/docker/certs.d (+ user dirs) */
	int no_system_dirs;         /* tests: only the dirs given above */
};

struct idp_tls {
	int plain_http;             /* 1: use http:// */
	int skip_verify;            /* 1: no peer/host verification */
	int ncas;
	char *ca_files[IDP_TLS_MAX_CAS];  /* extra CA PEM files (beside the system store) */
	char *client_cert;          /* PEM, may be NULL */
	char *client_key;
	char *origin; /* what configured it, for messages: "/etc/docker/certs.d/h:p" */
};

/* Resolve for "host[:port]". Errors (IDP_EGENERAL): a client .cert without
 * its .key (or the reverse), an unreadable or malformed hosts.toml, a CA
 * file given but missing. */
int idp_tls_resolve(const struct idp_tls_opts *opts, const char *hostport,
		    struct idp_tls *out, struct idp_error *err);
void idp_tls_release(struct idp_tls *t);

#endif
