/* ref.c: parsing and normalising docker/OCI image references
 * ("[host[:port]/]path[:tag][@digest]"), with idpbuilder's defaults for
 * references that name no registry, loopback detection for hosts, which
 * hosts are idpbuilder's registry (and localtest.me names), and Gitea's
 * stricter rule for image names. */
#include "config.h"
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "buf.h"
#include "digest.h"
#include "ref.h"
#include "banned.h"

#define REF_INPUT_MAX 1024   /* longest reference string we look at */
#define REF_NAME_MAX 255     /* docker's NameTotalLengthMax */
#define REF_TAG_MAX 128
#define REF_HOST_MAX 253

/* ASCII classes, whatever the locale. */
static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_upper(int c)
{
	return c >= 'A' && c <= 'Z';
}

static int is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || is_upper(c) || is_digit(c);
}

static int to_lower(int c)
{
	return is_upper(c) ? c - 'A' + 'a' : c;
}

static int is_lower_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Length of the separator at s per [._]|__|[-]+, 0 when none. */
static size_t separator_len(const char *s, size_t n)
{
	size_t i = 0;

	if (n >= 2 && s[0] == '_' && s[1] == '_')
		return 2;
	if (n >= 1 && (s[0] == '.' || s[0] == '_'))
		return 1;
	while (i < n && s[i] == '-')
		i++;
	return i;
}

/* 1 when s[0..n) matches [a-z0-9]+((?:[._]|__|[-]+)[a-z0-9]+)* */
static int component_valid(const char *s, size_t n)
{
	size_t i = 0, sep;

	for (;;) {
		if (i >= n || !is_lower_alnum((unsigned char)s[i]))
			return 0;
		while (i < n && is_lower_alnum((unsigned char)s[i]))
			i++;
		if (i == n)
			return 1;
		sep = separator_len(s + i, n - i);
		if (sep == 0)
			return 0;
		i += sep;
	}
}

static int has_upper(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (is_upper((unsigned char)s[i]))
			return 1;
	return 0;
}

/* Check every '/'-separated component of path[0..n). */
static int path_check(const char *path, size_t n, const char *ref, struct idp_error *err)
{
	size_t start = 0, end;

	if (n == 0)
		return idp_error_set(err, IDP_EGENERAL,
				     "invalid reference \"%s\": missing repository name", ref);
	while (start <= n) {
		end = start;
		while (end < n && path[end] != '/')
			end++;
		if (end == start)
			return idp_error_set(err, IDP_EGENERAL,
					     "invalid reference \"%s\": empty path component", ref);
		if (has_upper(path + start, end - start))
			return idp_error_set(err, IDP_EGENERAL,
					     "invalid reference \"%s\": repository name \"%.*s\" "
					     "must be lowercase",
					     ref, (int)(end - start), path + start);
		if (!component_valid(path + start, end - start))
			return idp_error_set(err, IDP_EGENERAL,
					     "invalid reference \"%s\": invalid repository name "
					     "component \"%.*s\" "
					     "(use lowercase letters, digits and single '.', '_', "
					     "'__' or '-' separators)",
					     ref, (int)(end - start), path + start);
		start = end + 1;
	}
	return 0;
}

static int tag_valid(const char *t)
{
	size_t i, n = strlen(t);

	if (n == 0 || n > REF_TAG_MAX)
		return 0;
	if (!is_alnum((unsigned char)t[0]) && t[0] != '_')
		return 0;
	for (i = 1; i < n; i++)
		if (!is_alnum((unsigned char)t[i]) && t[i] != '_' && t[i] != '.' && t[i] != '-')
			return 0;
	return 1;
}

static int port_valid(const char *p, size_t n)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return 0;
	for (i = 0; i < n; i++) {
		if (!is_digit((unsigned char)p[i]))
			return 0;
		v = v * 10 + (p[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* Hostname: labels of [A-Za-z0-9-], not starting/ending with '-'. */
static int hostname_valid(const char *h, size_t n)
{
	size_t i, label = 0;

	if (n == 0 || n > REF_HOST_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if (h[i] == '.') {
			if (label == 0 || h[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!is_alnum((unsigned char)h[i]) && h[i] != '-')
			return 0;
		if (h[i] == '-' && label == 0)
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && h[n - 1] != '-';
}

/* Validate "host[:port]" or "[v6]:port" in s[0..n). Returns the length of
 * the host part (brackets included), or 0 when invalid. */
static size_t hostport_split(const char *s, size_t n)
{
	char v6[INET6_ADDRSTRLEN + 1];
	struct in6_addr a6;
	const char *colon;
	size_t hl;

	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close || (size_t)(close - s) - 1 >= sizeof(v6) || close == s + 1)
			return 0;
		hl = (size_t)(close - s) - 1;
		memcpy(v6, s + 1, hl);
		v6[hl] = '\0';
		if (inet_pton(AF_INET6, v6, &a6) != 1)
			return 0;
		hl += 2;
	} else {
		colon = memchr(s, ':', n);
		hl = colon ? (size_t)(colon - s) : n;
		if (!hostname_valid(s, hl))
			return 0;
	}
	if (hl == n)
		return hl;
	if (s[hl] != ':' || !port_valid(s + hl + 1, n - hl - 1))
		return 0;
	return hl;
}

/* Copy "host[:port]" with the host lowercased (the port is digits). */
static char *hostport_dup_lower(const char *s, size_t n)
{
	char *r = strndup(s, n);
	size_t i;

	if (!r)
		return NULL;
	for (i = 0; i < n; i++)
		r[i] = (char)to_lower((unsigned char)r[i]);
	return r;
}

static const char *skip_scheme(const char *s)
{
	if (strncasecmp(s, "https://", 8) == 0)
		return s + 8;
	if (strncasecmp(s, "http://", 7) == 0)
		return s + 7;
	return s;
}

/* Set err and return NULL, for the pointer-returning functions. */
static char *fail_null(struct idp_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static char *fail_null(struct idp_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	idp_error_setv(err, IDP_EGENERAL, fmt, ap);
	va_end(ap);
	return NULL;
}

char *idp_registry_host_normalize(const char *registry, struct idp_error *err)
{
	const char *h;
	size_t n;
	char *r;

	if (!registry || !*registry)
		return fail_null(err, "empty registry");
	if (strlen(registry) > REF_INPUT_MAX)
		return fail_null(err, "registry value too long");
	h = skip_scheme(registry);
	n = strlen(h);
	while (n > 0 && h[n - 1] == '/')
		n--;
	if (memchr(h, '/', n))
		return fail_null(err, "invalid registry \"%s\": give only host[:port] "
				 "(the registry API is always at /v2/ of the host)", registry);
	if (n == 0 || !hostport_split(h, n))
		return fail_null(err, "invalid registry \"%s\": expected host[:port]", registry);
	r = hostport_dup_lower(h, n);
	if (!r)
		idp_error_set(err, IDP_EGENERAL, "out of memory");
	return r;
}

int idp_repository_valid(const char *path)
{
	struct idp_error ignored = IDP_ERROR_INIT;
	size_t n = path ? strlen(path) : 0;

	return n > 0 && n <= REF_NAME_MAX && path_check(path, n, path, &ignored) == 0;
}

int idp_hostport_valid(const char *hostport)
{
	size_t n = hostport ? strlen(hostport) : 0;

	return n > 0 && hostport_split(hostport, n) != 0 && !has_upper(hostport, n);
}

int idp_ref_is_registry_only(const char *s)
{
	struct in_addr a4;
	char host[REF_HOST_MAX + 1];
	size_t n = strlen(s), hl;

	if (n > REF_INPUT_MAX || strchr(s, '/') || !(hl = hostport_split(s, n)))
		return 0;
	if (s[0] == '[' || (hl == 9 && strncasecmp(s, "localhost", 9) == 0))
		return 1;
	if (hl >= sizeof(host))
		return 0;
	memcpy(host, s, hl);
	host[hl] = '\0';
	return inet_pton(AF_INET, host, &a4) == 1 || (hl < n && strchr(host, '.'));
}

/* docker's rule: the first component is a host when it has '.' or ':' or
 * is "localhost". */
static int looks_like_host(const char *s, size_t n)
{
	if (memchr(s, '.', n) || memchr(s, ':', n))
		return 1;
	return n == 9 && strncasecmp(s, "localhost", 9) == 0;
}

/* Split off "@digest" and ":tag" from the end of name (modified in place). */
static int split_tag_digest(char *name, const char *ref, struct idp_ref *out,
			    struct idp_error *err)
{
	char *at = strchr(name, '@'), *colon, *slash;

	if (at) {
		*at = '\0';
		if (!idp_digest_valid(at + 1))
			return idp_error_set(err, IDP_EGENERAL,
					     "invalid reference \"%s\": invalid digest \"%s\" "
					     "(expected sha256: and 64 lowercase hex digits)",
					     ref, at + 1);
		if (!(out->digest = strdup(at + 1)))
			return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	colon = strrchr(name, ':');
	slash = strrchr(name, '/');
	if (colon && (!slash || colon > slash)) {
		*colon = '\0';
		if (!tag_valid(colon + 1))
			return idp_error_set(
				err, IDP_EGENERAL,
				"invalid reference \"%s\": invalid tag \"%s\" "
				"(use [A-Za-z0-9_][A-Za-z0-9._-], at most 128 characters)",
				ref, colon + 1);
		if (!(out->tag = strdup(colon + 1)))
			return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	return 0;
}

/* Registry and owner to use for a reference without a host. */
static int apply_defaults(const struct idp_ref_defaults *d, char **domain, char **owner,
			  struct idp_error *err)
{
	const char *reg = d && d->registry ? d->registry : IDP_DEFAULT_REGISTRY;
	const char *own = d && d->owner ? d->owner : IDP_DEFAULT_OWNER;
	size_t i;

	*domain = idp_registry_host_normalize(reg, err);
	if (!*domain)
		return -1;
	/* Gitea owners are case-insensitive and must be lowercase in paths. */
	*owner = strdup(own);
	if (!*owner)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	for (i = 0; (*owner)[i]; i++)
		(*owner)[i] = (char)to_lower((unsigned char)(*owner)[i]);
	if (**owner && !component_valid(*owner, strlen(*owner)))
		return idp_error_set(err, IDP_EGENERAL, "invalid default owner \"%s\"", own);
	return 0;
}

/* Fill out->domain and out->path from name (tag/digest already removed). */
static int split_domain_path(const char *name, const char *ref,
			     const struct idp_ref_defaults *defaults,
			     struct idp_ref *out, struct idp_error *err)
{
	const char *slash = strchr(name, '/');
	char *owner = NULL;
	int r = -1;

	if (slash && looks_like_host(name, (size_t)(slash - name))) {
		if (!hostport_split(name, (size_t)(slash - name)))
			return idp_error_set(
				err, IDP_EGENERAL,
				"invalid reference \"%s\": invalid registry host \"%.*s\"", ref,
				(int)(slash - name), name);
		out->domain = hostport_dup_lower(name, (size_t)(slash - name));
		out->path = strdup(slash + 1);
		if (!out->domain || !out->path)
			return idp_error_set(err, IDP_EGENERAL, "out of memory");
		return path_check(out->path, strlen(out->path), ref, err);
	}
	if (path_check(name, strlen(name), ref, err) < 0)
		return -1;
	if (apply_defaults(defaults, &out->domain, &owner, err) < 0)
		goto done;
	if (!slash && *owner) {
		struct idp_buf b = IDP_BUF_INIT;
		if (idp_buf_addf(&b, "%s/%s", owner, name) < 0) {
			idp_error_set(err, IDP_EGENERAL, "out of memory");
			goto done;
		}
		out->path = idp_buf_detach(&b, NULL);
	} else {
		out->path = strdup(name);
	}
	r = out->path ? 0 : idp_error_set(err, IDP_EGENERAL, "out of memory");
done:
	free(owner);
	return r;
}

/* A reference with neither tag nor digest gets the defaults' tag, or
 * "latest". */
static int default_tag(const struct idp_ref_defaults *d, struct idp_ref *out,
		       struct idp_error *err)
{
	const char *tag = d && d->tag ? d->tag : "latest";

	if (out->tag || out->digest)
		return 0;
	if (!tag_valid(tag))
		return idp_error_set(err, IDP_EGENERAL, "invalid default tag \"%s\"", tag);
	if (!(out->tag = strdup(tag)))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	return 0;
}

static int ref_parse(const char *s, const struct idp_ref_defaults *defaults,
		     struct idp_ref *out, struct idp_error *err)
{
	char *name = strdup(s);
	int r = -1;

	if (!name)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	if (split_tag_digest(name, s, out, err) < 0 ||
	    split_domain_path(name, s, defaults, out, err) < 0)
		goto done;
	if (strlen(out->domain) + 1 + strlen(out->path) > REF_NAME_MAX) {
		idp_error_set(err, IDP_EGENERAL,
			      "invalid reference \"%s\": repository name longer than %d characters",
			      s, REF_NAME_MAX);
		goto done;
	}
	r = default_tag(defaults, out, err);
done:
	free(name);
	return r;
}

int idp_ref_parse(const char *s, const struct idp_ref_defaults *defaults,
		  struct idp_ref *out, struct idp_error *err)
{
	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return idp_error_set(err, IDP_EGENERAL, "invalid reference \"\": empty image name");
	if (strlen(s) > REF_INPUT_MAX)
		return idp_error_set(err, IDP_EGENERAL,
				     "invalid reference: longer than %d characters", REF_INPUT_MAX);
	if (ref_parse(s, defaults, out, err) < 0) {
		idp_ref_release(out);
		return -1;
	}
	return 0;
}

void idp_ref_release(struct idp_ref *r)
{
	if (!r)
		return;
	free(r->domain);
	free(r->path);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

char *idp_ref_string(const struct idp_ref *r)
{
	struct idp_buf b = IDP_BUF_INIT;
	int rc = idp_buf_addf(&b, "%s/%s", r->domain, r->path);

	if (rc == 0 && r->tag)
		rc = idp_buf_addf(&b, ":%s", r->tag);
	if (rc == 0 && r->digest)
		rc = idp_buf_addf(&b, "@%s", r->digest);
	if (rc < 0) {
		idp_buf_release(&b);
		return NULL;
	}
	return idp_buf_detach(&b, NULL);
}

char *idp_ref_repository(const struct idp_ref *r)
{
	struct idp_buf b = IDP_BUF_INIT;

	if (idp_buf_addf(&b, "%s/%s", r->domain, r->path) < 0) {
		idp_buf_release(&b);
		return NULL;
	}
	return idp_buf_detach(&b, NULL);
}

/* Host part of "host[:port]", "[v6]:port" or a bare "v6" into out. */
static int host_part(const char *hp, char *out, size_t n)
{
	const char *end;
	size_t l;

	if (hp[0] == '[') {
		end = strchr(hp, ']');
		if (!end)
			return -1;
		hp++;
	} else {
		end = strchr(hp, ':');
		if (end && strchr(end + 1, ':'))
			end = NULL;          /* bare IPv6 address */
		if (!end)
			end = hp + strlen(hp);
	}
	l = (size_t)(end - hp);
	if (l == 0 || l >= n)
		return -1;
	memcpy(out, hp, l);
	out[l] = '\0';
	return 0;
}

int idp_host_is_loopback(const char *hostport)
{
	char host[REF_HOST_MAX + 1];
	struct in_addr a4;
	struct in6_addr a6;

	if (!hostport || host_part(hostport, host, sizeof(host)) < 0)
		return 0;
	if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return 0;
}

static int addr_is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;

	if (sa->sa_family == AF_INET)
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
		       (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && s6->sin6_addr.s6_addr[12] == 127);
	return 0;
}

int idp_host_resolves_loopback(const char *hostport)
{
	char host[REF_HOST_MAX + 1];
	struct addrinfo hints, *res = NULL, *a;
	int all;

	if (idp_host_is_loopback(hostport))
		return 1;
	if (!hostport || host_part(hostport, host, sizeof(host)) < 0)
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return 0;
	all = res != NULL;
	for (a = res; a && all; a = a->ai_next)
		all = addr_is_loopback(a->ai_addr);
	freeaddrinfo(res);
	return all;
}

int idp_registry_is_idpbuilder(const char *hostport, const char *configured)
{
	char host[REF_HOST_MAX + 1];
	char *ib = idp_registry_host_normalize(configured ? configured : IDP_DEFAULT_REGISTRY,
						NULL);
	int yes = ib && hostport && strcasecmp(hostport, ib) == 0;

	free(ib);
	if (yes || !hostport || host_part(hostport, host, sizeof(host)) < 0)
		return yes;
	return strcasecmp(host, IDP_IDPBUILDER_DOMAIN) == 0 ||
	       strcasecmp(host, "gitea." IDP_IDPBUILDER_DOMAIN) == 0;
}

int idp_host_is_localtest(const char *hostport)
{
	static const char zone[] = "localtest.me";
	char host[REF_HOST_MAX + 1];
	size_t n, z = sizeof(zone) - 1;

	if (!hostport || host_part(hostport, host, sizeof(host)) < 0)
		return 0;
	n = strlen(host);
	if (n && host[n - 1] == '.')
		host[--n] = '\0';
	return (n == z || (n > z && host[n - z - 1] == '.')) &&
	       strcasecmp(host + n - z, zone) == 0;
}

/* Where image first breaks Gitea's rule, what it wants there in *what;
 * NULL when it follows it. */
static const char *gitea_rule_break(const char *image, const char **what)
{
	const char *p;
	int sep;

	*what = "a name";
	if (!*image)
		return image;
	for (p = image; *p; p++) {
		sep = *p == '.' || *p == '_' || *p == '-' || *p == '/';
		if (!sep && !is_lower_alnum((unsigned char)*p)) {
			*what = "only lowercase letters, digits, '.', '_', '-' and '/'";
			return p;
		}
		if (sep && (p == image || !is_lower_alnum((unsigned char)p[-1]))) {
			*what = "a single '.', '_', '-' or '/' between letters or digits";
			return p;
		}
		if (sep && !p[1]) {
			*what = "a letter or digit at the end";
			return p;
		}
	}
	return NULL;
}

int idp_ref_gitea_image_rule(const char *image, char *why, size_t n)
{
	const char *what, *at = gitea_rule_break(image, &what);

	if (!at)
		return 0;
	snprintf(why, n, "'%s' at '%.8s': Gitea wants %s (components of lowercase letters "
		 "and digits with single '.', '_' or '-' between them)", image, at, what);
	return -1;
}
