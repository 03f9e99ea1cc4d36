/* src_containerd.c: image source reading a containerd root directly:
 * metadata from io.containerd.metadata.v1.bolt/meta.db (read-only bbolt
 * reader, no flock, never written), blobs from
 * io.containerd.content.v1.content/blobs/sha256/<hex>, both opened beneath
 * the root, never through a link, and only when the root and the
 * directories above it can be changed by nobody but root and us. No
 * daemon is contacted, so this works whether containerd runs or not. A blob counts
 * as present only when the namespace references it in meta.db AND its file
 * exists. Blobs are pushed exactly as stored; distribution-source labels
 * give cross-repository mount candidates on the destination registry. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bbolt.h"
#include "util/buf.h"
#include "util/nearest.h"
#include "util/trust.h"
#include "blobsrc.h"
#include "imgwalk.h"
#include "source.h"
#include "banned.h"

#define CTD_DEFAULT_ROOT "/var/lib/containerd"
#define CTD_META "io.containerd.metadata.v1.bolt/meta.db"
#define CTD_BLOBS "io.containerd.content.v1.content/blobs/sha256"
#define CTD_SRC_LABEL "containerd.io/distribution.source."
#define CTD_NAME_MAX 1024
#define CTD_ATTEMPTS 3

struct ctd {
	char *root;
	char *ns;
	int root_fd;                       /* O_PATH, root trusted (open_root) */
	int blobs_fd;                      /* O_PATH, CTD_BLOBS beneath it; -1: none */
	char blobs[4096];                  /* <root>/CTD_BLOBS, for messages */
	struct idp_bolt *db;               /* open only while resolving */
	struct idp_bolt_bucket content;    /* v1/<ns>/content/blob */
	int has_content;
};

/* The resolved image target. */
struct ctd_target {
	char digest[IDP_DIGEST_MAX];
	char media_type[256];
	int64_t size;
	char name[CTD_NAME_MAX];
};


/* ---- where containerd stores live ---- */

/* Append the well-known roots that exist (other than `root`) to b. */
static void known_roots(const char *root, struct idp_buf *b)
{
	const char *home = getenv("HOME"), *xdg = getenv("XDG_DATA_HOME");
	char rootless[4096];
	const char *paths[4],
		*names[4] = { "containerd", "rootless nerdctl", "k3s", "Docker's containerd" };
	struct stat st;
	int i;

	if (xdg && *xdg)
		snprintf(rootless, sizeof(rootless), "%s/containerd", xdg);
	else
		snprintf(rootless, sizeof(rootless), "%s/.local/share/containerd",
			 home ? home : "");
	paths[0] = CTD_DEFAULT_ROOT;
	paths[1] = rootless;
	paths[2] = "/var/lib/rancher/k3s/agent/containerd";
	paths[3] = "/var/lib/docker/containerd/daemon";
	for (i = 0; i < 4; i++) {
		if (strcmp(paths[i], root) == 0 || stat(paths[i], &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		idp_buf_addf(b, "%s--root %s (%s)", b->len ? ", " : "", paths[i], names[i]);
	}
}

static int root_error(const char *root, const char *path, int errnum, struct idp_error *err)
{
	struct idp_buf b;
	int rc;

	idp_buf_init(&b, 8192);
	known_roots(root, &b);
	if (errnum == EACCES || errnum == EPERM)
		rc = idp_error_set(err, IDP_EGENERAL,
				   "permission denied reading '%s': containerd's root is readable "
				   "by root only "
				   "(run with sudo, or point --root at a store you own)%s%s",
				   path, b.len ? "; stores found: " : "", b.buf);
	else
		rc = idp_error_set(err, errnum == ENOENT ? IDP_ENOTFOUND : IDP_EGENERAL,
				   "no containerd store at '%s' (%s)%s%s", root, strerror(errnum),
				   b.len ? "; stores found: "
					 : "; none of the well-known roots exists",
				   b.buf);
	idp_buf_release(&b);
	return rc;
}

/* The root, opened once: it and every directory above it may be changed
 * only by root or us (util/trust.h; its links resolved first, so a
 * symlinked /var/lib is fine), else it is refused: a store another user
 * controls could point root at files it may not read. Everything else is
 * opened beneath it, never through a link. */
static int open_root(struct ctd *c, struct idp_error *err)
{
	char real[PATH_MAX];
	struct stat st;

	if (stat(c->root, &st) < 0)
		return root_error(c->root, c->root, errno, err);
	if (!realpath(c->root, real))
		return root_error(c->root, c->root, errno, err);
	if ((c->root_fd = idp_trusted_dir_open(real, geteuid(), err)) < 0)
		return idp_error_prefix(err, "not reading the containerd store at '%s' (run as the "
					"user who owns it)", c->root);
	c->blobs_fd = idp_open_beneath(c->root_fd, CTD_BLOBS, O_PATH | O_DIRECTORY);
	if (c->blobs_fd >= 0 || errno == ENOENT)
		return 0;
	if (errno == EACCES || errno == EPERM)
		return root_error(c->root, c->blobs, errno, err);
	return idp_error_set(err, IDP_EGENERAL, "cannot open '%s' without following links: %s",
			     c->blobs, strerror(errno));
}

/* meta.db, beneath the root. */
static int open_meta(struct ctd *c, struct idp_error *err)
{
	char path[4096];
	struct stat st;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", c->root, CTD_META) >= sizeof(path))
		return idp_error_set(err, IDP_EGENERAL, "containerd root path too long");
	if ((fd = idp_open_file_beneath(c->root_fd, CTD_META, &st)) < 0)
		return root_error(c->root, path, errno, err);
	return idp_bolt_open_fd(fd, path, &c->db, err);
}

/* ---- namespace and image lookup ---- */

struct names_ctx {
	struct idp_buf *out;
	struct idp_nearest *near;   /* NULL: only the list */
};

static int names_cb(void *ctx, const unsigned char *k, size_t kl, const unsigned char *v, size_t vl,
		    int is_bucket)
{
	struct names_ctx *n = ctx;
	char name[CTD_NAME_MAX];

	(void)v;
	(void)vl;
	if (!is_bucket || kl >= sizeof(name) || memchr(k, '\0', kl))
		return 0;
	memcpy(name, k, kl);
	name[kl] = '\0';
	if (n->out)
		idp_buf_addf(n->out, "%s%s", n->out->len ? ", " : "", name);
	if (n->near)
		idp_nearest_add(n->near, name);
	return 0;
}

static int ns_missing(struct ctd *c, struct idp_error *err)
{
	const char *v1[1] = { "v1" };
	struct idp_bolt_bucket b;
	struct idp_buf list;
	struct names_ctx n = { &list, NULL };
	int rc;

	idp_buf_init(&list, 8192);
	if (idp_bolt_bucket_path(c->db, v1, 1, &b, err) == 1)
		idp_bolt_each(c->db, &b, names_cb, &n, err);
	rc = idp_error_set(err, IDP_ENOTFOUND,
			   "namespace '%s' does not exist in '%s' (namespaces: %s)", c->ns, c->root,
			   list.len ? list.buf : "none");
	idp_buf_release(&list);
	return rc;
}

static int image_missing(struct ctd *c, const struct idp_bolt_bucket *images, const char *spec,
			 struct idp_error *err)
{
	struct idp_nearest near;
	struct names_ctx n = { NULL, &near };
	char list[512];

	idp_nearest_init(&near, spec);
	if (images && idp_bolt_each(c->db, images, names_cb, &n, err) < 0)
		return -1;
	return idp_error_set(err, IDP_ENOTFOUND, "no image '%s' in namespace '%s' of '%s'%s%s",
			     spec, c->ns, c->root, near.n ? "; closest: " : " (it holds no images)",
			     idp_nearest_list(&near, list, sizeof(list)));
}

/* Names to try for what the user typed: as is, then as docker would
 * normalise it (docker.io/library/x:latest). */
static int name_candidates(const char *spec, char out[4][CTD_NAME_MAX])
{
	const char *slash = strchr(spec, '/'), *last = strrchr(spec, '/');
	int domain = slash && (memchr(spec, '.', (size_t)(slash - spec)) ||
			       memchr(spec, ':', (size_t)(slash - spec)) ||
			       strncmp(spec, "localhost/", 10) == 0);
	int tagged = strchr(last ? last : spec, ':') || strchr(spec, '@');
	const char *pre = domain ? "" : slash ? "docker.io/" : "docker.io/library/";
	int n = 0;

	snprintf(out[n++], CTD_NAME_MAX, "%s", spec);
	if (!tagged)
		snprintf(out[n++], CTD_NAME_MAX, "%s:latest", spec);
	if (*pre) {
		snprintf(out[n++], CTD_NAME_MAX, "%s%s", pre, spec);
		if (!tagged)
			snprintf(out[n++], CTD_NAME_MAX, "%s%s:latest", pre, spec);
	}
	return n;
}

static int get_str(struct ctd *c, const struct idp_bolt_bucket *b, const char *key, char *dst,
		   size_t n, struct idp_error *err)
{
	const unsigned char *v;
	size_t vl;
	int r = idp_bolt_get(c->db, b, key, strlen(key), &v, &vl, err);

	if (r <= 0)
		return r < 0 ? -1 : idp_error_set(err, IDP_EGENERAL, "image target has no %s", key);
	if (vl >= n || memchr(v, '\0', vl))
		return idp_error_set(err, IDP_EGENERAL, "image target %s is malformed", key);
	memcpy(dst, v, vl);
	dst[vl] = '\0';
	return 0;
}

/* Read <image>/target into t. */
static int read_target(struct ctd *c, const struct idp_bolt_bucket *img, struct ctd_target *t,
		       struct idp_error *err)
{
	struct idp_bolt_bucket tb;
	const unsigned char *v;
	size_t vl;
	int r = idp_bolt_bucket(c->db, img, "target", 6, &tb, err);

	if (r <= 0)
		return r < 0 ? -1
			     : idp_error_set(err, IDP_EGENERAL,
					     "image '%s' has no target in meta.db", t->name);
	if (get_str(c, &tb, "digest", t->digest, sizeof(t->digest), err) < 0 ||
	    get_str(c, &tb, "mediatype", t->media_type, sizeof(t->media_type), err) < 0)
		return idp_error_prefix(err, "image '%s'", t->name);
	if (!idp_digest_valid(t->digest))
		return idp_error_set(err, IDP_EGENERAL,
				     "image '%s': unsupported target digest '%.80s'", t->name,
				     t->digest);
	t->size = -1;
	if ((r = idp_bolt_get(c->db, &tb, "size", 4, &v, &vl, err)) < 0)
		return -1;
	if (r == 1 && idp_bolt_varint(v, vl, &t->size) == 0)
		return idp_error_set(err, IDP_EGENERAL, "image '%s': bad size in meta.db", t->name);
	return 0;
}

struct by_digest {
	struct ctd *c;
	struct idp_bolt_bucket images;
	const char *digest;
	struct ctd_target *t;
	struct idp_error *err;
};

/* Iteration callback: stop (1) at the first image whose target is digest. */
static int digest_cb(void *ctx, const unsigned char *k, size_t kl, const unsigned char *v,
		     size_t vl, int is_bucket)
{
	struct by_digest *d = ctx;
	struct idp_bolt_bucket img;

	(void)v;
	(void)vl;
	if (!is_bucket || kl >= CTD_NAME_MAX || memchr(k, '\0', kl))
		return 0;
	memcpy(d->t->name, k, kl);
	d->t->name[kl] = '\0';
	if (idp_bolt_bucket(d->c->db, &d->images, d->t->name, kl, &img, d->err) != 1)
		return -1;
	if (read_target(d->c, &img, d->t, d->err) < 0)
		return 0;   /* a malformed image does not hide the others */
	return strcmp(d->t->digest, d->digest) == 0 ? 1 : 0;
}

/* "sha256:..." names an image target, or any manifest in the namespace. */
static int find_by_digest(struct ctd *c, const struct idp_bolt_bucket *images, const char *spec,
			  struct ctd_target *t, struct idp_error *err)
{
	/* cppcheck-suppress ctuuninitvar ; t is only kept here, for digest_cb to fill */
	struct by_digest d = { c, *images, spec, t, err };
	struct idp_bolt_bucket b;
	int r = images->root || images->inline_page
			? idp_bolt_each(c->db, images, digest_cb, &d, err)
			: 0;

	if (r < 0)
		return -1;
	if (r == 1)
		return 0;
	if (c->has_content &&
	    idp_bolt_bucket(c->db, &c->content, spec, strlen(spec), &b, err) == 1) {
		snprintf(t->digest, sizeof(t->digest), "%s", spec);
		t->media_type[0] = '\0';
		t->size = -1;
		snprintf(t->name, sizeof(t->name), "%s", spec);
		return 0;
	}
	return idp_error_set(err, IDP_ENOTFOUND,
			     "no image or manifest %s in namespace '%s' of '%s'", spec, c->ns,
			     c->root);
}

static int find_image(struct ctd *c, const char *spec, struct ctd_target *t, struct idp_error *err)
{
	const char *ipath[3] = { "v1", c->ns, "images" },
		   *cpath[4] = { "v1", c->ns, "content", "blob" };
	struct idp_bolt_bucket images = { 0, NULL, 0 }, img;
	char cand[4][CTD_NAME_MAX];
	int i, n, r;

	if ((r = idp_bolt_bucket_path(c->db, ipath, 2, &img, err)) <= 0)
		return r < 0 ? -1 : ns_missing(c, err);
	if ((r = idp_bolt_bucket_path(c->db, ipath, 3, &images, err)) < 0 ||
	    (c->has_content = idp_bolt_bucket_path(c->db, cpath, 4, &c->content, err)) < 0)
		return -1;
	if (idp_digest_valid(spec))
		return find_by_digest(c, &images, spec, t, err);
	if (r == 0)
		return image_missing(c, NULL, spec, err);
	n = name_candidates(spec, cand);
	for (i = 0; i < n; i++) {
		if ((r = idp_bolt_bucket(c->db, &images, cand[i], strlen(cand[i]), &img, err)) < 0)
			return -1;
		if (r == 1) {
			snprintf(t->name, sizeof(t->name), "%s", cand[i]);
			return read_target(c, &img, t, err);
		}
	}
	return image_missing(c, &images, spec, err);
}

/* ---- blobs ---- */

/* The namespace references digest (v1/<ns>/content/blob/<digest>). */
static int ns_has_blob(struct ctd *c, const char *digest, struct idp_bolt_bucket *out,
		       struct idp_error *err)
{
	if (!c->has_content)
		return 0;
	return idp_bolt_bucket(c->db, &c->content, digest, strlen(digest), out, err);
}

static int ctd_has(void *ctx, const char *digest, struct idp_error *err)
{
	struct ctd *c = ctx;
	struct idp_bolt_bucket b;
	int r = ns_has_blob(c, digest, &b, err);

	if (r <= 0 || c->blobs_fd < 0)
		return r < 0 ? -1 : 0;
	return idp_cas_has_at(c->blobs_fd, c->blobs, digest, err);
}

static int ctd_read(void *ctx, const char *digest, struct idp_buf *out, struct idp_error *err)
{
	struct ctd *c = ctx;
	int r = ctd_has(c, digest, err);

	if (r <= 0)
		return r < 0 ? -1
			     : idp_error_set(err, IDP_ENOTFOUND, "blob %s is not in namespace '%s'",
					     digest, c->ns);
	return idp_cas_read_at(c->blobs_fd, c->blobs, digest, out, err);
}

/* Length of the shared leading path components of two repositories. */
static size_t shared_prefix(const char *a, size_t alen, const char *b)
{
	size_t i, last = 0;

	for (i = 0; i < alen && b[i] && a[i] == b[i]; i++)
		if (a[i] == '/')
			last = i + 1;
	if (i == alen && (b[i] == '/' || b[i] == '\0'))
		last = i;
	return last;
}

/* The distribution-source label of a registry: keyed by its host name
 * without the port, as containerd writes it (url.Hostname(): "[::1]:5000"
 * is "::1"). */
static void label_key(const char *host, char *out, size_t n)
{
	const char *colon = strchr(host, ':'), *close;
	size_t len = strlen(host);

	if (host[0] == '[') {   /* [v6]:port */
		close = strchr(host, ']');
		host++;
		len = close ? (size_t)(close - host) : len - 1;
	} else if (colon && colon == strrchr(host, ':')) {   /* name:port */
		len = (size_t)(colon - host);
	}
	snprintf(out, n, "%s%.*s", CTD_SRC_LABEL, (int)len, host);
}

/* Pick, from the blob's distribution-source label for the destination
 * host ("repo1,repo2,..."), the repository sharing the longest path prefix
 * with the destination repository, never the destination itself (as ctr
 * does). */
static int mount_candidate(struct ctd *c, struct idp_image_blob *ib,
			   const struct idp_source_opts *o, struct idp_error *err)
{
	struct idp_bolt_bucket b, labels;
	const unsigned char *v;
	const char *best = NULL, *repo, *dest = o->dest_repo ? o->dest_repo : "";
	char key[512];
	size_t vl, n, off, best_len = 0, best_score = 0, score;
	int r;

	if (ns_has_blob(c, ib->digest, &b, err) != 1 ||
	    idp_bolt_bucket(c->db, &b, "labels", 6, &labels, err) != 1)
		return 0;
	label_key(o->dest_host, key, sizeof(key));
	if ((r = idp_bolt_get(c->db, &labels, key, strlen(key), &v, &vl, err)) == 0) {
		/* older writers kept the port */
		snprintf(key, sizeof(key), "%s%s", CTD_SRC_LABEL, o->dest_host);
		r = idp_bolt_get(c->db, &labels, key, strlen(key), &v, &vl, err);
	}
	if (r <= 0)
		return r;
	for (off = 0; off < vl; off += n + 1) {
		repo = (const char *)v + off;
		for (n = 0; off + n < vl && v[off + n] != ',' && v[off + n] != '\0'; n++)
			;
		if (n == 0 || n > 255 || (strlen(dest) == n && strncmp(repo, dest, n) == 0))
			continue;
		score = shared_prefix(repo, n, dest);
		if (!best || score > best_score) {
			best = repo;
			best_len = n;
			best_score = score;
		}
	}
	if (!best)
		return 0;
	free(ib->mount_from);
	if (!(ib->mount_from = strndup(best, best_len)))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	return 0;
}

static int set_mounts(struct ctd *c, const struct idp_source_opts *o, struct idp_image *img,
		      struct idp_error *err)
{
	int i;
	if (!o || !o->dest_host)
		return 0;
	for (i = 0; i < img->nblobs; i++)
		if (mount_candidate(c, &img->blobs[i], o, err) < 0)
			return -1;
	return 0;
}

#define RESOLVE_AGAIN -2   /* resolve failed after meta.db opened: maybe a concurrent commit */

/* One attempt: open meta.db, find the image, walk it. 0, or -1 with err,
 * or RESOLVE_AGAIN with err (worth another attempt). */
static int resolve(struct ctd *c, const char *spec, const struct idp_source_opts *o,
		   struct idp_image *img, struct idp_error *err)
{
	struct idp_blobstore bs = { ctd_read, ctd_has, c };
	struct ctd_target t;
	struct idp_walk_top top;
	char what[CTD_NAME_MAX + 32];
	int rc;

	if (open_meta(c, err) < 0)
		return -1;
	rc = find_image(c, spec, &t, err);
	if (rc == 0) {
		snprintf(what, sizeof(what), "image '%s'", t.name);
		top.digest = t.digest;
		top.media_type = t.media_type[0] ? t.media_type : NULL;
		top.size = t.size;
		top.what = what;
		rc = idp_imgwalk(&bs, &top, o, img, err);
	}
	if (rc == 0)
		rc = set_mounts(c, o, img, err);
	if (rc < 0) {
		idp_image_release(img);
		rc = err && err->cls == IDP_EGENERAL ? RESOLVE_AGAIN : -1;
	}
	idp_bolt_close(c->db);
	c->db = NULL;
	c->has_content = 0;
	return rc;
}

static int ctd_open(struct idp_source *src, const char *spec, const struct idp_source_opts *o,
		    struct idp_image *img, struct idp_error *err)
{
	struct ctd *c = calloc(1, sizeof(*c));
	int attempt, rc = -1;

	if (!c)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	src->priv = c;
	c->root_fd = c->blobs_fd = -1;
	c->root = strdup(o && o->root ? o->root : CTD_DEFAULT_ROOT);
	c->ns = strdup(o && o->ns ? o->ns : "default");
	if (!c->root || !c->ns)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	snprintf(c->blobs, sizeof(c->blobs), "%s/%s", c->root, CTD_BLOBS);
	if (open_root(c, err) < 0)
		return -1;
	/* meta.db may change under us (containerd commits while we read):
	 * a reader error is retried on a fresh open; missing things are not. */
	for (attempt = 0; attempt < CTD_ATTEMPTS; attempt++) {
		rc = resolve(c, spec, o, img, err);
		if (rc != RESOLVE_AGAIN || attempt + 1 == CTD_ATTEMPTS)
			break;
		usleep(50000);
	}
	return rc < 0 ? -1 : 0;
}

static int ctd_open_blob(struct idp_source *src, const struct idp_image_blob *b,
			 struct idp_blob_reader *out, struct idp_error *err)
{
	const struct ctd *c = src->priv;

	if (c->blobs_fd < 0)
		return idp_error_set(err, IDP_ENOTFOUND, "blob %s: no '%s'", b->digest, c->blobs);
	return idp_blob_reader_cas_at(c->blobs_fd, c->blobs, b->digest, out, err);
}

static void ctd_close(struct idp_source *src)
{
	struct ctd *c = src->priv;
	if (c) {
		idp_bolt_close(c->db);
		if (c->root_fd >= 0)
			close(c->root_fd);
		if (c->blobs_fd >= 0)
			close(c->blobs_fd);
		free(c->root);
		free(c->ns);
		free(c);
	}
	src->priv = NULL;
}

const struct idp_source_ops idp_source_containerd = {
	.name = "containerd",
	.open = ctd_open,
	.open_blob = ctd_open_blob,
	.close = ctd_close,
};
