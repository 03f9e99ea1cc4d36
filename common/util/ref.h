/* ref.h: docker/OCI image references: parsing, normalisation, and the
 * idpbuilder defaults (a bare `myapp:dev` goes to
 * gitea.cnoe.localtest.me:8443/giteaadmin/myapp:dev). */
#ifndef IDP_REF_H
#define IDP_REF_H

#include "error.h"

#define IDP_DEFAULT_REGISTRY "gitea.cnoe.localtest.me:8443"
#define IDP_DEFAULT_OWNER "giteaadmin"
/* idpbuilder's domain: its registry is gitea.<it> or, with
 * --use-path-routing, <it> itself, on idpbuilder's port (8443 unless
 * --port says otherwise), HTTPS or (--protocol http) plain HTTP. */
#define IDP_IDPBUILDER_DOMAIN "cnoe.localtest.me"

struct idp_ref {
	char *domain;   /* "host[:port]", lowercase host; never NULL after parse */
	char *path;     /* "owner/name[/more]" (repository), never NULL */
	char *tag;      /* NULL when absent (see idp_ref_parse's default) */
	char *digest;   /* "sha256:..." or NULL */
};

/* Where a reference without a registry host goes. NULL members mean the
 * idpbuilder defaults above; owner "" means "do not add an owner". */
struct idp_ref_defaults {
	/* host[:port]; an "https://"/"http://" prefix and trailing "/" are accepted and dropped */
	const char *registry;
	const char *owner;
	const char *tag;   /* what a reference with neither tag nor digest gets; NULL: latest */
};

/* Parse `s` (e.g. "myapp:dev", "localhost:5000/a/b@sha256:...",
 * "gitea.cnoe.localtest.me:8443/giteaadmin/x").
 * Rules (docker's reference grammar):
 *  - the first path component is a registry host when it contains '.' or
 *    ':' or is "localhost" (case-insensitive host; stored lowercase); then the
 *    reference is used as is (no owner added);
 *  - otherwise the reference goes to defaults->registry, and when the path
 *    has a single component the owner is prefixed ("myapp" ->
 *    "giteaadmin/myapp"; with owner "" nothing is added);
 *  - path components: [a-z0-9]+([._]|__|[-]+)[a-z0-9]+)* ; uppercase is an
 *    error that says to use lowercase; total name length <= 255;
 *  - tag: [A-Za-z0-9_][A-Za-z0-9._-]{0,127};
 *  - digest: "sha256:" + 64 lowercase hex;
 *  - a reference with neither tag nor digest gets defaults->tag, or
 *    "latest" when there is none.
 * Errors are IDP_EGENERAL with a precise message naming the offending part.
 * Returns 0 or -1. On success the caller owns *out (idp_ref_release). */
int idp_ref_parse(const char *s, const struct idp_ref_defaults *defaults,
		  struct idp_ref *out, struct idp_error *err);

/* 1 when s is a registry address and nothing else: no '/', and
 * "localhost[:port]", an IP address (with or without a port), or a host
 * name with a dot and a port ("registry.example.com:5000"). Parsed as a
 * reference it would be a repository under the default registry
 * ("127.0.0.1:5001" -> giteaadmin/127.0.0.1:5001), which is never what
 * was meant. */
int idp_ref_is_registry_only(const char *s);

/* Registry host from a user-given registry value ("https://h:p/", "h:p"):
 * returns a newly allocated "host[:port]" (lowercased host) or NULL with err. */
char *idp_registry_host_normalize(const char *registry, struct idp_error *err);

/* Whether s is a repository path as a parsed reference holds it (its
 * path: lowercase components, at most 255 bytes), for names read back
 * from a file. */
int idp_repository_valid(const char *path);
/* Whether s is "host[:port]" as a parsed reference holds it (its domain,
 * lowercase). */
int idp_hostport_valid(const char *hostport);

void idp_ref_release(struct idp_ref *r);

/* "domain/path:tag" (or "@digest" when no tag), newly allocated. */
char *idp_ref_string(const struct idp_ref *r);
/* "domain/path" */
char *idp_ref_repository(const struct idp_ref *r);

/* 1 when the host part of "host[:port]" is loopback: localhost, 127.0.0.0/8,
 * ::1 / [::1]. */
int idp_host_is_loopback(const char *hostport);
/* 1 when every address the host part of "host[:port]" resolves to (or the
 * literal address) is loopback: the registry is on this machine. 0 when
 * it does not resolve or any address is elsewhere. */
int idp_host_resolves_loopback(const char *hostport);

/* 1 when "host[:port]" is idpbuilder's registry: `configured` (as
 * --registry gives it, host[:port] or a URL; NULL: IDP_DEFAULT_REGISTRY),
 * or idpbuilder's own names (gitea.cnoe.localtest.me, cnoe.localtest.me)
 * on any port. */
int idp_registry_is_idpbuilder(const char *hostport, const char *configured);

/* 1 when the host of "host[:port]" is localtest.me or a name under it:
 * names that reach 127.0.0.1 through public DNS only. */
int idp_host_is_localtest(const char *hostport);

/* Gitea's rule for an image name (a repository path after its owner):
 * components of lowercase letters and digits with single '.', '_' or '-'
 * between them, joined by '/' (stricter than docker's, which allows "__"
 * and "--"). 0 when `image` follows it; else -1 with why (size n) saying
 * where it does not. */
int idp_ref_gitea_image_rule(const char *image, char *why, size_t n);

#endif
