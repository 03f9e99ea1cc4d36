/* tlsconf.c: deciding CA files, client certificate, verification and
 * scheme for one registry host from --ca-cert/--insecure/--plain-http,
 * docker's certs.d directories and containerd's hosts dirs. Directory
 * entries are read in byte order so the result never depends on readdir. */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/buf.h"
#include "hoststoml.h"
#include "tlsconf.h"
#include "banned.h"

#define DOCKER_CERTS_DIR "/etc/docker/certs.d"
#define CONTAINERD_HOSTS_DIR "/etc/containerd/certs.d"
#define MAX_DOCKER_DIRS 4
#define MAX_DIR_ENTRIES 256

/* Collects what was found plus the list of origins. */
struct tls_build {
	struct idp_tls *t;
	struct idp_buf origin;
	struct idp_error *err;
};

/* ---- small helpers ---- */

static char *join(const char *a, const char *b)
{
	struct idp_buf buf = IDP_BUF_INIT;

	if (idp_buf_addf(&buf, "%s/%s", a, b) < 0)
		return NULL;
	return idp_buf_detach(&buf, NULL);
}

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && !strcmp(s + n - m, suffix);
}

static int oom(struct tls_build *b)
{
	return idp_error_set(b->err, IDP_EGENERAL, "out of memory");
}

static int add_origin(struct tls_build *b, const char *what)
{
	if (idp_buf_addf(&b->origin, "%s%s", b->origin.len ? ", " : "", what) < 0)
		return oom(b);
	return 0;
}

/* A file named by configuration must be readable. */
static int check_file(struct tls_build *b, const char *path, const char *what,
		      const char *origin)
{
	if (access(path, R_OK) < 0)
		return idp_error_set(b->err, IDP_EGENERAL, "%s %s (from %s): %s",
			what, path, origin, strerror(errno));
	if (!is_file(path))
		return idp_error_set(b->err, IDP_EGENERAL,
			"%s %s (from %s): not a regular file", what, path, origin);
	return 0;
}

static int add_ca(struct tls_build *b, const char *path, const char *origin)
{
	struct idp_tls *t = b->t;
	int i;

	if (check_file(b, path, "ca file", origin) < 0)
		return -1;
	for (i = 0; i < t->ncas; i++)
		if (!strcmp(t->ca_files[i], path))
			return 0;
	if (t->ncas == IDP_TLS_MAX_CAS)
		return idp_error_set(b->err, IDP_EGENERAL,
			"%s: more than %d ca files", origin, IDP_TLS_MAX_CAS);
	if (!(t->ca_files[t->ncas] = strdup(path)))
		return oom(b);
	t->ncas++;
	return 0;
}

/* The first client pair found wins; later ones are ignored. */
static int set_client(struct tls_build *b, const char *cert, const char *key,
		      const char *origin)
{
	if (b->t->client_cert)
		return 0;
	if (check_file(b, cert, "client certificate", origin) < 0 ||
	    check_file(b, key, "client key", origin) < 0)
		return -1;
	b->t->client_cert = strdup(cert);
	b->t->client_key = strdup(key);
	if (!b->t->client_cert || !b->t->client_key)
		return oom(b);
	return 0;
}

/* ---- docker-style directories ---- */

static int cert_name(const struct dirent *d)
{
	return ends_with(d->d_name, ".crt") || ends_with(d->d_name, ".cert") ||
	       ends_with(d->d_name, ".key");
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* "dir/X.key" for "X.cert" (or the reverse), in a fresh string. */
static char *partner(const char *dir, const char *name, const char *from,
		     const char *to)
{
	struct idp_buf buf = IDP_BUF_INIT;
	int stem = (int)(strlen(name) - strlen(from));

	if (idp_buf_addf(&buf, "%s/%.*s%s", dir, stem, name, to) < 0)
		return NULL;
	return idp_buf_detach(&buf, NULL);
}

/* One entry of a certs dir: a CA, half of a client pair, or nothing. */
static int docker_entry(struct tls_build *b, const char *dir, const char *name)
{
	char *path = join(dir, name), *other = NULL;
	int r = 0;

	if (!path)
		return oom(b);
	if (!is_file(path))
		goto out;
	if (ends_with(name, ".crt")) {
		r = add_ca(b, path, dir);
		goto out;
	}
	other = ends_with(name, ".cert") ? partner(dir, name, ".cert", ".key")
					 : partner(dir, name, ".key", ".cert");
	if (!other)
		r = oom(b);
	else if (!is_file(other))
		r = idp_error_set(b->err, IDP_EGENERAL,
			"%s: missing %s %s for %s %s (ca certificates must end in .crt)",
			dir, ends_with(name, ".cert") ? "key" : "client certificate",
			other, ends_with(name, ".cert") ? "client certificate" : "key", path);
	else if (ends_with(name, ".cert"))
		r = set_client(b, path, other, dir);
out:
	free(other);
	free(path);
	return r;
}

/* Use every *.crt, *.cert + *.key in dir; 1 when the dir exists. */
static int docker_dir(struct tls_build *b, const char *dir)
{
	struct dirent **ents = NULL;
	int n, i, r = 0;

	if (!is_dir(dir))
		return 0;
	n = scandir(dir, &ents, cert_name, by_name);
	if (n < 0)
		return idp_error_set(b->err, IDP_EGENERAL, "cannot read %s: %s",
				     dir, strerror(errno));
	if (n > MAX_DIR_ENTRIES)
		r = idp_error_set(b->err, IDP_EGENERAL,
			"%s: more than %d certificate files", dir, MAX_DIR_ENTRIES);
	for (i = 0; i < n; i++) {
		if (r == 0)
			r = docker_entry(b, dir, ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	if (r == 0 && n > 0)
		r = add_origin(b, dir);
	return r < 0 ? -1 : 1;
}

/* The docker certs.d roots, most specific configuration first. */
static int docker_roots(const struct idp_tls_opts *o, char **roots)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int n = 0, i, j;

	if (o->docker_certs_dir || !o->no_system_dirs)
		roots[n++] = strdup(o->docker_certs_dir ? o->docker_certs_dir
					 : DOCKER_CERTS_DIR);
	if (!o->no_system_dirs) {
		if (xdg && *xdg)
			roots[n++] = join(xdg, "docker/certs.d");
		if (home && *home) {
			roots[n++] = join(home, ".config/docker/certs.d");
			roots[n++] = join(home, ".docker/certs.d");
		}
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (roots[i] && roots[j] && !strcmp(roots[i], roots[j])) {
				free(roots[i]);
				roots[i] = NULL;
				break;
			}
	return n;
}

static int docker_all(struct tls_build *b, const struct idp_tls_opts *o,
		      const char *hostport)
{
	char *roots[MAX_DOCKER_DIRS] = { NULL };
	int n = docker_roots(o, roots), i, r = 0;
	char *d;

	for (i = 0; i < n; i++) {
		if (!roots[i] || r < 0)
			continue;
		if (!(d = join(roots[i], hostport)))
			r = oom(b);
		else if (docker_dir(b, d) < 0)
			r = -1;
		free(d);
	}
	for (i = 0; i < n; i++)
		free(roots[i]);
	return r;
}

/* ---- containerd hosts dirs ---- */

/* <dir>/<host>_<port>_, <dir>/<host:port>, <dir>/_default: first existing. */
static char *hosts_dir_for(const char *dir, const char *hostport)
{
	const char *colon = strrchr(hostport, ':');
	struct idp_buf buf = IDP_BUF_INIT;
	char *p;

	if (colon && colon[1] && !strchr(colon, ']') &&
	    strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
		if (idp_buf_addf(&buf, "%s/%.*s_%s_", dir, (int)(colon - hostport),
				 hostport, colon + 1) < 0)
			return NULL;
		p = idp_buf_detach(&buf, NULL);
		if (!p || is_dir(p))
			return p;
		free(p);
	}
	if (!(p = join(dir, hostport)) || is_dir(p))
		return p;
	free(p);
	if (!(p = join(dir, "_default")) || is_dir(p))
		return p;
	free(p);
	return NULL;
}

static const struct idp_hosts_entry *push_entry(const struct idp_hosts_file *f)
{
	int i;

	for (i = 0; i < f->nhosts; i++)
		if (f->hosts[i].caps & IDP_HOST_CAP_PUSH)
			return &f->hosts[i];
	return &f->server;
}

static int apply_entry(struct tls_build *b, const struct idp_hosts_entry *e,
		       const char *origin)
{
	int i;

	for (i = 0; i < e->ncas; i++)
		if (add_ca(b, e->ca[i], origin) < 0)
			return -1;
	if (e->nclients > 0 &&
	    set_client(b, e->client_cert[0],
		       e->client_key[0] ? e->client_key[0] : e->client_cert[0],
		       origin) < 0)
		return -1;
	if (e->skip_verify == 1)
		b->t->skip_verify = 1;
	if (e->url && !strncmp(e->url, "http://", 7))
		b->t->plain_http = 1;
	return add_origin(b, origin);
}

static int hosts_toml(struct tls_build *b, const char *dir, const char *path)
{
	struct idp_buf text;
	struct idp_hosts_file f;
	int r;

	idp_buf_init(&text, IDP_CAP_CONFIG);
	if (idp_buf_read_file(&text, path) < 0) {
		r = idp_error_set(b->err, IDP_EGENERAL, "cannot read %s: %s", path,
			errno == EFBIG ? "file too large" : strerror(errno));
		idp_buf_release(&text);
		return r;
	}
	r = idp_hosts_parse(text.buf, dir, path, &f, b->err);
	idp_buf_release(&text);
	if (r < 0)
		return -1;
	r = apply_entry(b, push_entry(&f), path);
	idp_hosts_release(&f);
	return r;
}

static int containerd(struct tls_build *b, const struct idp_tls_opts *o,
		      const char *hostport)
{
	const char *root = o->hosts_dir;
	char *dir, *toml;
	int r;

	if (!root && o->no_system_dirs)
		return 0;
	if (!(dir = hosts_dir_for(root ? root : CONTAINERD_HOSTS_DIR, hostport)))
		return 0;
	if (!(toml = join(dir, "hosts.toml")))
		r = oom(b);
	else if (access(toml, F_OK) == 0)
		r = hosts_toml(b, dir, toml);
	else
		r = docker_dir(b, dir) < 0 ? -1 : 0;
	free(toml);
	free(dir);
	return r;
}

/* ---- public ---- */

static int explicit_opts(struct tls_build *b, const struct idp_tls_opts *o)
{
	if (o->ca_file && (add_ca(b, o->ca_file, "--ca-cert") < 0 ||
			   add_origin(b, "--ca-cert") < 0))
		return -1;
	if (o->insecure && add_origin(b, "--insecure") < 0)
		return -1;
	if (o->plain_http && add_origin(b, "--plain-http") < 0)
		return -1;
	b->t->skip_verify = o->insecure ? 1 : 0;
	b->t->plain_http = o->plain_http ? 1 : 0;
	return 0;
}

int idp_tls_resolve(const struct idp_tls_opts *opts, const char *hostport,
		    struct idp_tls *out, struct idp_error *err)
{
	static const struct idp_tls_opts none;
	struct tls_build b;

	memset(out, 0, sizeof(*out));
	if (!opts)
		opts = &none;
	if (!hostport || !*hostport || *hostport == '.' || strchr(hostport, '/'))
		return idp_error_set(err, IDP_EGENERAL,
			"invalid registry host \"%.200s\"", hostport ? hostport : "");
	b.t = out;
	b.err = err;
	idp_buf_init(&b.origin, 4096);
	if (explicit_opts(&b, opts) < 0 || docker_all(&b, opts, hostport) < 0 ||
	    containerd(&b, opts, hostport) < 0 ||
	    (!b.origin.len && add_origin(&b, "system defaults") < 0)) {
		idp_buf_release(&b.origin);
		idp_tls_release(out);
		return -1;
	}
	out->origin = idp_buf_detach(&b.origin, NULL);
	if (!out->origin) {
		idp_tls_release(out);
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	return 0;
}

void idp_tls_release(struct idp_tls *t)
{
	int i;

	if (!t)
		return;
	for (i = 0; i < t->ncas; i++)
		free(t->ca_files[i]);
	free(t->client_cert);
	free(t->client_key);
	free(t->origin);
	memset(t, 0, sizeof(*t));
}
