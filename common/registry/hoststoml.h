/* hoststoml.h: the subset of TOML used by containerd's certs.d hosts.toml:
 * top-level `server`, `ca`, `client`, `skip_verify`, and [host."URL"]
 * tables with capabilities, ca (string or array), client (string, array of
 * strings, or array of [cert, key] pairs), skip_verify, override_path and a
 * [host."URL".header] sub-table (ignored). Comments, basic and literal
 * strings, booleans, arrays (nested one level). Anything else: an error
 * with the line number. */
#ifndef IDP_HOSTSTOML_H
#define IDP_HOSTSTOML_H

#include "util/error.h"

#define IDP_HOSTS_MAX 16
#define IDP_HOSTS_MAX_FILES 8

enum idp_host_cap {
	IDP_HOST_CAP_PULL = 1 << 0,
	IDP_HOST_CAP_RESOLVE = 1 << 1,
	IDP_HOST_CAP_PUSH = 1 << 2
};

struct idp_hosts_entry {
	char *url;                 /* "https://h:p" as written (scheme added if missing) */
	unsigned caps;             /* enum idp_host_cap; default all three */
	int ncas;
	char *ca[IDP_HOSTS_MAX_FILES];          /* resolved against the dir */
	int nclients;
	char *client_cert[IDP_HOSTS_MAX_FILES]; /* resolved against the dir */
	char *client_key[IDP_HOSTS_MAX_FILES];  /* NULL when not given */
	int skip_verify;           /* -1 unset, 0, 1 */
	int override_path;
};

struct idp_hosts_file {
	/* top-level `server` + top-level keys; url NULL when absent */
	struct idp_hosts_entry server;
	int nhosts;
	struct idp_hosts_entry hosts[IDP_HOSTS_MAX];
};

/* Parse text of a hosts.toml. `dir` resolves relative ca/client paths.
 * `name` (the file path) is used in error messages. */
int idp_hosts_parse(const char *text, const char *dir, const char *name,
		    struct idp_hosts_file *out, struct idp_error *err);
void idp_hosts_release(struct idp_hosts_file *f);

#endif
