/* src_docker_store.c: the streaming source over dockerd's layer store
 * (src_docker_store.h): the config from imagedb, each layer's tar put
 * back together from its tar-split (tarsplit.h) and its files, hashed
 * against the diffID and compressed as it is read (zlayer.h). Each layer
 * read has a cursor of its own, so several can be read at once, in any
 * order (take); next() takes them in order. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>
#include "blobsrc.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/jsonutil.h"
#include "util/trust.h"
#include "src_docker_save.h"
#include "src_docker_store.h"
#include "tarsplit.h"
#include "zlayer.h"
#include "banned.h"

#define CONFIG_CAP (16u << 20)
#define SMALL_CAP 256u
#define CACHE_ID_MAX 128

struct layer {
	char diffid[IDP_DIGEST_MAX];
	char chain[IDP_DIGEST_MAX];
	char *ldb;                 /* its layerdb directory, beneath the root */
	char *dir;                 /* its files' directory, beneath the root */
	int dup_of;                /* an earlier layer with the same diffID, or -1 */
	struct cur *cur;           /* while it is taken */
	int done;
	char digest[IDP_DIGEST_MAX];
	int64_t size;
};

struct cur {                   /* a layer being read */
	struct store *s;
	struct layer *l;
	int started;               /* its tar-split and directory are open */
	struct idp_blob_reader tsr;
	struct idp_tarsplit *ts;
	int dirfd, fd;             /* the layer's directory; the file being copied */
	int64_t file_left;
	char fname[IDP_TARSPLIT_NAME_MAX + 1];
	const unsigned char *seg;  /* segment bytes not copied yet */
	size_t seg_left;
	int ts_end, verified;
	struct idp_sha256 *raw;
	struct idp_zlayer z;
	int64_t consumed;          /* tar bytes read */
	int64_t delivered;         /* tar bytes behind the output layer_read returned */
};

struct store {
	struct idp_store_opts o;
	int n;
	struct layer *layers;
	int nplan;                 /* the layers handed over: each diffID once */
	int *plan;                 /* their indexes in layers */
	const char **ids;          /* their display ids */
	int next;                  /* next(): the next of the plan to hand over */
	int seq;                   /* next(): the one it handed over */
	struct idp_buf config;
};

/* ---- errors ---- */

static int store_error(struct store *s, struct idp_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The store itself failed (layers are read on several threads). */
static void store_failed(struct store *s)
{
	if (s->o.store_failed)
		__atomic_store_n(s->o.store_failed, 1, __ATOMIC_RELAXED);
}

static int store_error(struct store *s, struct idp_error *err, const char *fmt, ...)
{
	char msg[IDP_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	store_failed(s);
	return idp_error_set(err, IDP_EGENERAL, "docker's layer store: %s", msg);
}

/* An error of the store's own (a tar-split's, a reader's), about layer l. */
static int store_prefix(struct store *s, const struct layer *l, struct idp_error *err)
{
	store_failed(s);
	return idp_error_prefix(err, "docker's layer store: layer %.19s", l->diffid);
}

static int canceled(const struct store *s, struct idp_error *err)
{
	if (s->o.cancel && *s->o.cancel)
		return idp_error_set(err, IDP_ECANCELED, "interrupted");
	return 0;
}

int idp_store_driver_ok(const char *driver)
{
	return driver && (strcmp(driver, "overlay2") == 0 || strcmp(driver, "vfs") == 0 ||
			  strcmp(driver, "fuse-overlayfs") == 0);
}

/* ---- small files of the store ---- */

static char *path_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *path_of(const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&p, fmt, ap);
	va_end(ap);
	return rc < 0 ? NULL : p;
}

/* A file of the store (rel, beneath the root: no symbolic link on the
 * way, a regular file) into b, bounded by its cap. */
static int read_small(struct store *s, const char *rel, struct idp_buf *b, struct idp_error *err)
{
	struct stat st;
	int fd = idp_open_file_beneath(s->o.root_fd, rel, &st), rc;

	if (fd < 0 && errno == ENOENT)
		return store_error(s, err, "'%s/%s' is missing", s->o.root, rel);
	rc = fd < 0 ? -1 : idp_file_read_fd(fd, b);
	if (rc < 0)
		rc = store_error(s, err, "cannot read '%s/%s': %s", s->o.root, rel,
				 strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

static int cache_id_ok(const char *id)
{
	size_t n = strlen(id);

	return n > 0 && n <= CACHE_ID_MAX && strspn(id, "abcdefghijklmnopqrstuvwxyz"
					       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n &&
	       strcmp(id, ".") != 0 && strcmp(id, "..") != 0;
}

/* The directory a layer's files are in, by the driver's layout. */
static char *layer_dir(const struct store *s, const char *cache_id)
{
	if (strcmp(s->o.driver, "vfs") == 0)
		return path_of("vfs/dir/%s", cache_id);
	return path_of("%s/%s/diff", s->o.driver, cache_id);
}

/* ---- opening: the config and the layerdb entries ---- */

static int read_config(struct store *s, struct idp_error *err)
{
	char *p = path_of("image/%s/imagedb/content/sha256/%s", s->o.driver,
			  idp_digest_hex(s->o.image_id));
	char got[IDP_DIGEST_MAX];
	int rc;

	if (!p)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	idp_buf_init(&s->config, CONFIG_CAP);
	rc = read_small(s, p, &s->config, err);
	if (rc == 0) {
		idp_sha256_digest(s->config.buf, s->config.len, got);
		if (strcmp(got, s->o.image_id) != 0)
			rc = store_error(s, err, "'%s/%s' hashes to %s, not %s", s->o.root, p,
					 got, s->o.image_id);
	}
	free(p);
	return rc;
}

/* The config's rootfs.diff_ids into the layers (they must be the ones
 * the daemon listed). */
static int config_layers(struct store *s, struct idp_error *err)
{
	json_object *root = idp_json_parse(s->config.buf, s->config.len, CONFIG_CAP);
	json_object *ids = idp_json_array(idp_json_obj(root, "rootfs"), "diff_ids");
	int i, rc = -1;

	if (!ids) {
		store_error(s, err, "the config of %s has no rootfs.diff_ids", s->o.image_id);
		goto out;
	}
	s->n = (int)json_object_array_length(ids);
	if (s->n > IDP_SAVE_MAX_LAYERS || (s->o.ndiffids != s->n)) {
		store_error(s, err, "the config of %s lists %d layers, the daemon %d",
			    s->o.image_id, s->n, s->o.ndiffids);
		goto out;
	}
	if (!(s->layers = calloc(s->n > 0 ? (size_t)s->n : 1, sizeof(*s->layers)))) {
		idp_error_set(err, IDP_EGENERAL, "out of memory");
		goto out;
	}
	for (i = 0; i < s->n; i++) {
		const char *d = json_object_get_string(json_object_array_get_idx(ids, i));
		if (!d || !idp_digest_valid(d) || strcmp(d, s->o.diffids[i]) != 0) {
			store_error(s, err, "layer %d of the config is %s, the daemon said %s",
				    i + 1, d ? d : "?", s->o.diffids[i]);
			goto out;
		}
		snprintf(s->layers[i].diffid, IDP_DIGEST_MAX, "%s", d);
	}
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

static void chain_id(const struct layer *prev, struct layer *l)
{
	char buf[2 * IDP_DIGEST_MAX + 2];

	if (!prev) {
		snprintf(l->chain, IDP_DIGEST_MAX, "%s", l->diffid);
		return;
	}
	snprintf(buf, sizeof(buf), "%s %s", prev->chain, l->diffid);
	idp_sha256_digest(buf, strlen(buf), l->chain);
}

/* A layerdb file's content (diff, cache-id), whole. */
static int ldb_file(struct store *s, const struct layer *l, const char *name, char *out,
		    struct idp_error *err)
{
	char *p = path_of("%s/%s", l->ldb, name);
	struct idp_buf b;
	int rc;

	if (!p)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	idp_buf_init(&b, SMALL_CAP - 1);
	if ((rc = read_small(s, p, &b, err)) == 0) {
		memcpy(out, b.buf, b.len);
		out[b.len] = '\0';
		if (strlen(out) != b.len)
			rc = store_error(s, err, "'%s/%s' holds a NUL byte", s->o.root, p);
	}
	idp_buf_release(&b);
	free(p);
	return rc;
}

static int open_layer(struct store *s, int i, struct idp_error *err)
{
	struct layer *l = &s->layers[i];
	char diff[SMALL_CAP], cache_id[SMALL_CAP];
	int j;

	l->dup_of = -1;
	for (j = 0; j < i && l->dup_of < 0; j++)
		if (strcmp(s->layers[j].diffid, l->diffid) == 0)
			l->dup_of = j;
	chain_id(i ? &s->layers[i - 1] : NULL, l);
	if (!(l->ldb = path_of("image/%s/layerdb/sha256/%s", s->o.driver,
			       idp_digest_hex(l->chain))))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	if (ldb_file(s, l, "diff", diff, err) < 0 || ldb_file(s, l, "cache-id", cache_id, err) < 0)
		return -1;
	if (strcmp(diff, l->diffid) != 0)
		return store_error(s, err, "'%s/%s/diff' is not %s", s->o.root, l->ldb, l->diffid);
	if (!cache_id_ok(cache_id))
		return store_error(s, err, "'%s/%s/cache-id' is not a directory id", s->o.root,
				   l->ldb);
	if (!(l->dir = layer_dir(s, cache_id)))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	return 0;
}

/* ---- a layer's tar ---- */

static void cur_free(struct cur *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	if (c->dirfd >= 0)
		close(c->dirfd);
	idp_tarsplit_free(c->ts);
	idp_blob_reader_close(&c->tsr);
	idp_sha256_free(c->raw);
	idp_zlayer_release(&c->z);
	free(c);
}

/* The layer's tar-split, opened for reading. */
static int open_tarsplit(struct store *s, const struct layer *l, struct idp_blob_reader *r,
			 struct idp_tarsplit **ts, struct idp_error *err)
{
	char *p = path_of("%s/tar-split.json.gz", l->ldb);
	struct stat st;
	int fd, rc;

	if (!p)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	if ((fd = idp_open_file_beneath(s->o.root_fd, p, &st)) < 0)
		rc = store_error(s, err, "cannot open '%s/%s': %s", s->o.root, p, strerror(errno));
	else if ((rc = idp_blob_reader_fd(fd, p, r, err)) < 0)
		store_prefix(s, l, err);
	else if ((rc = idp_tarsplit_new(*r, ts, err)) < 0)
		idp_blob_reader_close(r);
	free(p);
	return rc;
}

/* The layer's directory, beneath the root. */
static int open_layer_dir(struct store *s, const struct layer *l, struct idp_error *err)
{
	int fd = idp_open_beneath(s->o.root_fd, l->dir, O_PATH | O_DIRECTORY);

	if (fd < 0)
		return store_error(s, err, "cannot open '%s/%s' without following links: %s",
				   s->o.root, l->dir, strerror(errno));
	return fd;
}

/* A file of the layer (a name tarsplit.c checked: relative, no ".."),
 * beneath its directory, never through a symlink: a regular file of
 * exactly size bytes. Opened for reading (*fd) when fd is not NULL, else
 * only found (O_PATH) and checked. */
static int layer_file(struct store *s, const struct layer *l, int dirfd, const char *name,
		      int64_t size, int *fd, struct idp_error *err)
{
	struct stat st;
	int f = fd ? idp_open_file_beneath(dirfd, name, &st)
		   : idp_open_beneath(dirfd, name, O_PATH);

	if (f < 0)
		return store_error(s, err, "layer %.19s: cannot open '%s': %s", l->diffid, name,
				   errno == EINVAL ? "not a regular file" : strerror(errno));
	if ((!fd && fstat(f, &st) < 0) || !S_ISREG(st.st_mode) || st.st_size != size) {
		close(f);
		return store_error(s, err, "layer %.19s: '%s' is not the file its tar had "
				   "(changed on disk?)", l->diffid, name);
	}
	if (fd)
		*fd = f;
	else
		close(f);
	return 0;
}

static int open_file(struct store *s, struct cur *c, int64_t size, struct idp_error *err)
{
	if (layer_file(s, c->l, c->dirfd, c->fname, size, &c->fd, err) < 0)
		return -1;
	c->file_left = size;
	return 0;
}

/* Before the layer is handed over: the size of its tar, and every file
 * its tar-split names found beneath the layer's directory, a regular file
 * of the size the tar-split says, so that a layer whose tar-split names a
 * file outside its directory (or through a link) fails before a byte of
 * it is sent. */
#define BAD_FILE -2   /* check_layer: a file failed (its error said so), not the tar-split */

static int check_layer(struct store *s, const struct layer *l, int64_t *size,
		       struct idp_error *err)
{
	struct idp_blob_reader r = { NULL, NULL };
	struct idp_tarsplit *ts = NULL;
	struct idp_ts_entry e;
	int dirfd, rc;

	*size = 0;
	if ((dirfd = open_layer_dir(s, l, err)) < 0)
		return -1;
	if (open_tarsplit(s, l, &r, &ts, err) < 0) {
		close(dirfd);
		return -1;
	}
	while ((rc = idp_tarsplit_next(ts, &e, err)) == 1) {
		*size += e.type == IDP_TS_SEGMENT ? (int64_t)e.len : e.size;
		if (e.type == IDP_TS_FILE && e.size > 0 &&
		    layer_file(s, l, dirfd, e.name, e.size, NULL, err) < 0) {
			rc = BAD_FILE;
			break;
		}
	}
	if (rc == -1)
		store_prefix(s, l, err);
	idp_tarsplit_free(ts);
	idp_blob_reader_close(&r);
	close(dirfd);
	return rc < 0 ? -1 : 0;
}

/* The next tar-split entry into the cursor; 0, -1. */
static int next_entry(struct store *s, struct cur *c, struct idp_error *err)
{
	struct idp_ts_entry e;
	int rc = idp_tarsplit_next(c->ts, &e, err);

	if (rc < 0)
		return store_prefix(s, c->l, err);
	if (rc == 0) {
		c->ts_end = 1;
		return 0;
	}
	if (e.type == IDP_TS_SEGMENT) {
		c->seg = e.data;
		c->seg_left = e.len;
		return 0;
	}
	if (e.size == 0)
		return 0;
	snprintf(c->fname, sizeof(c->fname), "%s", e.name);
	return open_file(s, c, e.size, err);
}

/* Up to want bytes of c's current file into dst: how many, or -1. */
static ssize_t copy_file(struct store *s, struct cur *c, unsigned char *dst, size_t want,
			 struct idp_error *err)
{
	ssize_t n;

	if ((int64_t)want > c->file_left)
		want = (size_t)c->file_left;
	do
		n = read(c->fd, dst, want);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return store_error(s, err, "layer %.19s: reading '%s': %s", c->l->diffid, c->fname,
				   n < 0 ? strerror(errno) : "shorter than its tar had");
	if ((c->file_left -= n) == 0) {
		close(c->fd);
		c->fd = -1;
	}
	return n;
}

/* The whole tar was read: it must hash to the diffID. */
static int verify(struct store *s, struct cur *c, struct idp_error *err)
{
	char got[IDP_DIGEST_MAX];

	idp_sha256_final(c->raw, got);
	if (strcmp(got, c->l->diffid) != 0)
		return store_error(s, err, "layer %s put back together hashes to %s (changed on "
				   "disk?)", c->l->diffid, got);
	c->verified = 1;
	return 0;
}

/* idp_zlayer_fill_fn: the tar's next bytes. */
static int fill(void *ctx, unsigned char *dst, size_t cap, size_t *len, struct idp_error *err)
{
	struct cur *c = ctx;
	struct store *s = c->s;
	size_t take;
	ssize_t got;

	*len = 0;
	while (*len < cap && !c->ts_end) {
		if (c->seg_left) {
			take = c->seg_left < cap - *len ? c->seg_left : cap - *len;
			memcpy(dst + *len, c->seg, take);
			c->seg += take;
			c->seg_left -= take;
			*len += take;
		} else if (c->fd >= 0) {
			if ((got = copy_file(s, c, dst + *len, cap - *len, err)) < 0)
				return -1;
			*len += (size_t)got;
		} else if (canceled(s, err) < 0 || next_entry(s, c, err) < 0) {
			return -1;
		}
	}
	idp_sha256_update(c->raw, dst, *len);
	c->consumed += (int64_t)*len;
	if (s->o.bytes_read)
		__atomic_fetch_add(s->o.bytes_read, (int64_t)*len, __ATOMIC_RELAXED);
	return c->ts_end ? verify(s, c, err) : 0;
}

static int start_reading(struct store *s, struct cur *c, struct idp_error *err)
{
	c->started = 1;
	if (!(c->raw = idp_sha256_new()))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	if ((c->dirfd = open_layer_dir(s, c->l, err)) < 0)
		return -1;
	return open_tarsplit(s, c->l, &c->tsr, &c->ts, err);
}

static ssize_t layer_read(void *ctx, void *buf, size_t n, struct idp_error *err)
{
	struct cur *c = ctx;
	struct store *s = c->s;
	ssize_t got;

	if (canceled(s, err) < 0)
		return -1;
	if (!c->started && start_reading(s, c, err) < 0)
		return -1;
	got = idp_zlayer_read(&c->z, buf, n, err);
	c->delivered = c->z.delivered;
	return got;
}

static void layer_close(void *ctx)
{
	(void)ctx;   /* the cursor is the stream's, freed by done_at or skip_at */
}

static const struct idp_blob_reader_ops layer_ops = {
	.read = layer_read,
	.close = layer_close,
};

/* ---- the stream ---- */

/* The threads compressing one layer when at_once are read together: a
 * share of the CPUs each, rounded up, at least 2 (a layer left alone at
 * the end is not starved; the memory stays that of a few more blocks),
 * or the compressor's own default (0) for one at a time. */
static int layer_threads(const struct store *s, int at_once)
{
	int all = s->o.threads > 0 ? s->o.threads : idp_pcompress_cpus();
	int share = (all + at_once - 1) / (at_once > 0 ? at_once : 1);

	if (at_once <= 1)
		return s->o.threads;
	return share > 2 ? share : 2;
}

/* Layers compressed at once: as many as the CPUs, at least 2. Each holds
 * its compression's blocks (4 MiB in, its output out, one per thread and
 * one spare when it shares the CPUs): on 2 CPUs the plugin's peak went
 * from 118 MiB with four layers at once (two spare blocks each) to 56 MiB
 * with two, in the same time. */
static int store_max_at_once(void *ctx)
{
	const struct store *s = ctx;
	int cpus = s->o.threads > 0 ? s->o.threads : idp_pcompress_cpus();

	return cpus > 2 ? cpus : 2;
}

static int store_take(void *ctx, int i, int at_once, struct idp_stream_blob *b,
		      struct idp_blob_reader *r, struct idp_error *err)
{
	struct store *s = ctx;
	struct layer *l;
	struct cur *c;
	int64_t raw = -1;

	if (i < 0 || i >= s->nplan || s->layers[s->plan[i]].cur)
		return idp_error_set(err, IDP_EGENERAL, "internal: layer %d taken twice", i);
	l = &s->layers[s->plan[i]];
	if (!(s->o.known && s->o.known[s->plan[i]]) && check_layer(s, l, &raw, err) < 0)
		return -1;
	if (!(c = calloc(1, sizeof(*c))))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	c->s = s;
	c->l = l;
	c->fd = c->dirfd = -1;
	idp_zlayer_init(&c->z, &(struct idp_zlayer_opts){ .codec = &s->o.codec,
							   .threads = layer_threads(s, at_once),
							   .spare = at_once > 1 ? 1 : 0,
							   .fill = fill,
							   .ctx = c,
							   .cancel = s->o.cancel });
	l->cur = c;
	memset(b, 0, sizeof(*b));
	b->display_id = s->ids[i];
	b->size = -1;
	b->raw_size = raw;
	b->consumed = &c->delivered;
	r->ops = &layer_ops;
	r->ctx = c;
	return 1;
}

static int store_next(void *ctx, struct idp_stream_blob *b, struct idp_blob_reader *r,
		      struct idp_error *err)
{
	struct store *s = ctx;

	if (s->next == s->nplan)
		return 0;
	s->seq = s->next++;
	return store_take(s, s->seq, 1, b, r, err);
}

static int store_plan(void *ctx, const char *const **ids)
{
	const struct store *s = ctx;

	*ids = s->ids;
	return s->nplan;
}

/* Blob i of the plan went up (or was there) as digest/size. */
static void finish_layer(struct layer *l, const char *digest, int64_t size)
{
	snprintf(l->digest, sizeof(l->digest), "%s", digest);
	l->size = size;
	l->done = 1;
	cur_free(l->cur);
	l->cur = NULL;
}

/* The layer of plan entry i, which was taken; NULL with err else. */
static struct layer *taken(struct store *s, int i, struct idp_error *err)
{
	if (i < 0 || i >= s->nplan || !s->layers[s->plan[i]].cur) {
		idp_error_set(err, IDP_EGENERAL, "internal: layer %d was not taken", i);
		return NULL;
	}
	return &s->layers[s->plan[i]];
}

static int store_done_at(void *ctx, int i, const char *digest, int64_t size,
			 char diffid[IDP_DIGEST_MAX], struct idp_error *err)
{
	struct layer *l = taken(ctx, i, err);

	if (!l)
		return -1;
	if (!l->cur->z.out_done || !l->cur->verified)
		return idp_error_set(err, IDP_EGENERAL, "internal: layer %s was not read through",
				     l->diffid);
	snprintf(diffid, IDP_DIGEST_MAX, "%s", l->diffid);
	finish_layer(l, digest, size);
	return 0;
}

static int store_skip_at(void *ctx, int i, const char *expect, const char *digest, int64_t size,
			 struct idp_error *err)
{
	struct layer *l = taken(ctx, i, err);

	if (!l)
		return -1;
	if (l->cur->z.started || l->cur->started)
		return idp_error_set(err, IDP_EGENERAL, "internal: layer %s was partly read",
				     l->diffid);
	if (expect && strcmp(expect, l->diffid) != 0)
		return idp_error_set(err, IDP_EGENERAL, "layer %s is not %s as expected",
				     l->diffid, expect);
	finish_layer(l, digest, size);
	return 0;
}

static int store_done(void *ctx, const char *digest, int64_t size, char diffid[IDP_DIGEST_MAX],
		      struct idp_error *err)
{
	const struct store *s = ctx;
	return store_done_at(ctx, s->seq, digest, size, diffid, err);
}

static int store_skip(void *ctx, const char *expect, const char *digest, int64_t size,
		      struct idp_error *err)
{
	const struct store *s = ctx;
	return store_skip_at(ctx, s->seq, expect, digest, size, err);
}

/* Layer i of the image (idp_single_image.layer): a repeated diffID is
 * the blob of its first layer. */
static void layer_of(const void *ctx, int i, struct idp_layer *out)
{
	const struct store *s = ctx;
	const struct layer *l = &s->layers[i];

	if (l->dup_of >= 0)
		l = &s->layers[l->dup_of];
	out->digest = l->digest;
	out->size = l->size;
	out->zstd = s->o.codec.alg == IDP_COMPRESS_ZSTD;
}

static int store_finish(void *ctx, struct idp_image *img, struct idp_error *err)
{
	struct store *s = ctx;
	struct idp_single_image si = {
		.format = s->o.format,
		.config_digest = s->o.image_id,
		.config_size = (int64_t)s->config.len,
		.platform = s->o.platform,
		.nlayers = s->n,
		.layer = layer_of,
		.ctx = s,
	};
	int i;

	for (i = 0; i < s->n; i++) {
		const struct layer *l = &s->layers[i];
		if (!s->layers[l->dup_of >= 0 ? l->dup_of : i].done)
			return idp_error_set(err, IDP_EGENERAL, "internal: layer %s was not pushed",
					     l->diffid);
	}
	return idp_image_add_single(img, &si, err);
}

static int store_open_blob(void *ctx, const struct idp_image_blob *b, struct idp_blob_reader *r,
			   struct idp_error *err)
{
	struct store *s = ctx;

	if (strcmp(b->digest, s->o.image_id) != 0)
		return idp_error_set(err, IDP_EGENERAL, "internal: blob %s is not the image config",
				     b->digest);
	return idp_blob_reader_mem(s->config.buf, s->config.len, r, err);
}

static void store_close(void *ctx)
{
	struct store *s = ctx;
	int i;

	if (!s)
		return;
	for (i = 0; s->layers && i < s->n; i++) {
		cur_free(s->layers[i].cur);
		free(s->layers[i].ldb);
		free(s->layers[i].dir);
	}
	free(s->layers);
	free(s->plan);
	free(s->ids);
	idp_buf_release(&s->config);
	free(s);
}

static const struct idp_stream_ops docker_store_ops = {
	.name = "docker-store",
	.next = store_next,
	.done = store_done,
	.skip = store_skip,
	.finish = store_finish,
	.open_blob = store_open_blob,
	.close = store_close,
	.plan = store_plan,
	.take = store_take,
	.done_at = store_done_at,
	.skip_at = store_skip_at,
	.max_at_once = store_max_at_once,
};

static int store_open(struct store *s, struct idp_error *err)
{
	int i;

	if (!s->o.root || s->o.root[0] != '/' || s->o.root_fd < 0 ||
	    !idp_store_driver_ok(s->o.driver))
		return store_error(s, err, "storage driver '%s' at '%s' is not one it reads",
				   s->o.driver ? s->o.driver : "?", s->o.root ? s->o.root : "?");
	if (!s->o.image_id || !idp_digest_valid(s->o.image_id))
		return store_error(s, err, "image ID '%s' is not a config digest",
				   s->o.image_id ? s->o.image_id : "?");
	if (read_config(s, err) < 0 || config_layers(s, err) < 0)
		return -1;
	if (!(s->plan = calloc((size_t)s->n + 1, sizeof(*s->plan))) ||
	    !(s->ids = calloc((size_t)s->n + 1, sizeof(*s->ids))))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	for (i = 0; i < s->n; i++) {
		if (open_layer(s, i, err) < 0)
			return -1;
		if (s->layers[i].dup_of >= 0)
			continue;   /* a repeated diffID: its first layer's blob */
		s->plan[s->nplan] = i;
		s->ids[s->nplan++] = idp_digest_hex(s->layers[i].diffid);
	}
	return 0;
}

int idp_stream_docker_store(const struct idp_store_opts *o, struct idp_stream *out,
			    struct idp_error *err)
{
	struct store *s = calloc(1, sizeof(*s));

	if (!s)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	s->o = *o;
	if (store_open(s, err) < 0) {
		store_close(s);
		return -1;
	}
	out->ops = &docker_store_ops;
	out->priv = s;
	return 0;
}
