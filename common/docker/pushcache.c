/* pushcache.c: the push cache (pushcache.h): a small JSON file under the
 * XDG cache directory, used only when nobody else can change it, read
 * tolerantly (bounded, entries validated one by one), written by merge +
 * temp file + rename. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include "util/file.h"
#include "util/jsonutil.h"
#include "util/trust.h"
#include "registry/registry.h"
#include "pushcache.h"
#include "banned.h"

#define CACHE_NAME "idppush/push-cache.json"
#define CACHE_FILE "push-cache.json"
#define LOCK_FILE "push-cache.lock"
/* ten pushes ending at once on a busy machine each hold it for a while */
#define LOCK_WAIT_MS 60000

char *idp_pushcache_path(void)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char buf[4096];

	if (x && x[0] == '/')
		snprintf(buf, sizeof(buf), "%s/%s", x, CACHE_NAME);
	else if (home && home[0] == '/')
		snprintf(buf, sizeof(buf), "%s/.cache/%s", home, CACHE_NAME);
	else
		return NULL;
	return strdup(buf);
}

static int same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* The ":PORT" (or "") after a loopback name, or NULL for another host. */
static const char *loopback_port(const char *hostport)
{
	static const char *const names[] = { "localhost", "127.0.0.1", "[::1]", NULL };
	size_t n;
	int i;

	for (i = 0; hostport && names[i]; i++) {
		n = strlen(names[i]);
		if (strncmp(hostport, names[i], n) == 0 && (!hostport[n] || hostport[n] == ':'))
			return hostport + n;
	}
	return NULL;
}

/* One registry: the same host[:port], or localhost, 127.0.0.1 and [::1]
 * with the same port (kind's localhost:5001 is 127.0.0.1:5001). */
static int same_registry(const char *a, const char *b)
{
	const char *pa = loopback_port(a), *pb = loopback_port(b);

	return same(a, b) || (pa && pb && strcmp(pa, pb) == 0);
}

static void blob_free(struct idp_pushcache_blob *b)
{
	free(b->registry);
	free(b->repository);
	free(b->diffid);
	free(b->digest);
	free(b->media_type);
	free(b->producer);
	memset(b, 0, sizeof(*b));
}

void idp_pushcache_release(struct idp_pushcache *c)
{
	int i;

	for (i = 0; i < c->nblobs; i++)
		blob_free(&c->blobs[i]);
	for (i = 0; i < c->nv1; i++) {
		free(c->v1[i].v1id);
		free(c->v1[i].diffid);
	}
	for (i = 0; i < c->nchunks; i++)
		free(c->chunks[i].registry);
	for (i = 0; i < c->ndaemons; i++) {
		free(c->daemons[i].socket);
		idp_docker_daemon_release(&c->daemons[i].info);
	}
	free(c->blobs);
	free(c->v1);
	free(c->chunks);
	memset(c, 0, sizeof(*c));
}

int64_t idp_pushcache_chunk(const struct idp_pushcache *c, const char *registry)
{
	int i;

	for (i = 0; i < c->nchunks; i++)
		if (same_registry(c->chunks[i].registry, registry))
			return c->chunks[i].size;
	return 0;
}

int idp_pushcache_set_chunk(struct idp_pushcache *c, const char *registry, int64_t size,
			    struct idp_error *err)
{
	struct idp_pushcache_chunk *n;
	int i;

	for (i = 0; i < c->nchunks; i++)
		if (same_registry(c->chunks[i].registry, registry)) {
			c->chunks[i].size = size;
			return 0;
		}
	if (c->nchunks >= IDP_PUSHCACHE_MAX)
		return 0;
	if (!(n = realloc(c->chunks, sizeof(*n) * (size_t)(c->nchunks + 1))))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	c->chunks = n;
	if (!(n[c->nchunks].registry = strdup(registry)))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	n[c->nchunks++].size = size;
	return 0;
}

const struct idp_docker_daemon *idp_pushcache_daemon(const struct idp_pushcache *c,
						     const struct idp_pushcache_daemon *d)
{
	int i;

	for (i = 0; i < c->ndaemons; i++)
		if (same(c->daemons[i].socket, d->socket) && c->daemons[i].pid == d->pid &&
		    c->daemons[i].started == d->started)
			return &c->daemons[i].info;
	return NULL;
}

int idp_pushcache_set_daemon(struct idp_pushcache *c, const struct idp_pushcache_daemon *d,
			     struct idp_error *err)
{
	struct idp_pushcache_daemon *n;
	int i;

	for (i = 0; i < c->ndaemons; i++)
		if (same(c->daemons[i].socket, d->socket))
			break;
	if (i == c->ndaemons && i == IDP_PUSHCACHE_DAEMONS)
		i = 0;   /* the oldest goes */
	if (i < c->ndaemons) {
		free(c->daemons[i].socket);
		idp_docker_daemon_release(&c->daemons[i].info);
		memmove(&c->daemons[i], &c->daemons[i + 1],
			sizeof(*n) * (size_t)(c->ndaemons - i - 1));
		c->ndaemons--;
	}
	n = &c->daemons[c->ndaemons];
	memset(n, 0, sizeof(*n));
	n->pid = d->pid;
	n->started = d->started;
	if (!(n->socket = strdup(d->socket)) || idp_docker_daemon_copy(&n->info, &d->info) < 0) {
		free(n->socket);
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	c->ndaemons++;
	return 0;
}

/* ---- lookups and updates ---- */

const struct idp_pushcache_blob *idp_pushcache_find(const struct idp_pushcache *c,
						    const struct idp_pushcache_query *q)
{
	int i;

	for (i = c->nblobs - 1; i >= 0; i--) {
		const struct idp_pushcache_blob *b = &c->blobs[i];
		int mine = same(b->repository, q->repository);
		if (!same_registry(b->registry, q->registry) || !same(b->diffid, q->diffid))
			continue;
		if (((q->flags & IDP_PUSHCACHE_SAME_REPO) && !mine) ||
		    ((q->flags & IDP_PUSHCACHE_OTHER_REPO) && mine))
			continue;
		if (q->producer && !same(b->producer, q->producer))
			continue;
		return b;
	}
	return NULL;
}

const char *idp_pushcache_v1_diffid(const struct idp_pushcache *c, const char *v1id)
{
	int i;

	for (i = c->nv1 - 1; i >= 0; i--)
		if (same(c->v1[i].v1id, v1id))
			return c->v1[i].diffid;
	return NULL;
}

static void drop_blob(struct idp_pushcache *c, int i)
{
	blob_free(&c->blobs[i]);
	memmove(&c->blobs[i], &c->blobs[i + 1], sizeof(*c->blobs) * (size_t)(c->nblobs - i - 1));
	c->nblobs--;
}

static void drop_v1(struct idp_pushcache *c, int i)
{
	free(c->v1[i].v1id);
	free(c->v1[i].diffid);
	memmove(&c->v1[i], &c->v1[i + 1], sizeof(*c->v1) * (size_t)(c->nv1 - i - 1));
	c->nv1--;
}

int idp_pushcache_add(struct idp_pushcache *c, const struct idp_pushcache_blob *b,
		      struct idp_error *err)
{
	struct idp_pushcache_blob *nb, n = { 0 };
	int i;

	for (i = c->nblobs - 1; i >= 0; i--)
		if (same_registry(c->blobs[i].registry, b->registry) &&
		    same(c->blobs[i].repository, b->repository) &&
		    same(c->blobs[i].diffid, b->diffid) && same(c->blobs[i].producer, b->producer))
			drop_blob(c, i);
	while (c->nblobs >= IDP_PUSHCACHE_MAX)
		drop_blob(c, 0);
	n.registry = strdup(b->registry);
	n.repository = strdup(b->repository);
	n.diffid = strdup(b->diffid);
	n.digest = strdup(b->digest);
	n.media_type = strdup(b->media_type);
	n.producer = strdup(b->producer);
	n.size = b->size;
	nb = realloc(c->blobs, sizeof(*nb) * (size_t)(c->nblobs + 1));
	if (!nb || !n.registry || !n.repository || !n.diffid || !n.digest || !n.media_type ||
	    !n.producer) {
		blob_free(&n);
		if (nb)
			c->blobs = nb;
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	c->blobs = nb;
	c->blobs[c->nblobs++] = n;
	return 0;
}

int idp_pushcache_add_v1(struct idp_pushcache *c, const char *v1id, const char *diffid,
			 struct idp_error *err)
{
	struct idp_pushcache_v1 *nv, n;
	int i;

	for (i = c->nv1 - 1; i >= 0; i--)
		if (same(c->v1[i].v1id, v1id))
			drop_v1(c, i);
	while (c->nv1 >= IDP_PUSHCACHE_MAX)
		drop_v1(c, 0);
	n.v1id = strdup(v1id);
	n.diffid = strdup(diffid);
	nv = realloc(c->v1, sizeof(*nv) * (size_t)(c->nv1 + 1));
	if (!nv || !n.v1id || !n.diffid) {
		free(n.v1id);
		free(n.diffid);
		if (nv)
			c->v1 = nv;
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	c->v1 = nv;
	c->v1[c->nv1++] = n;
	return 0;
}

/* ---- blobs pushed as stored ---- */

/* Record img's blobs (those of known size) as in registry/repository. */
static int note_stored(struct idp_pushcache *c, const char *registry, const char *repository,
		       const struct idp_image *img, struct idp_error *err)
{
	struct idp_pushcache_blob b = { .registry = (char *)registry,
					.repository = (char *)repository,
					.producer = IDP_PUSHCACHE_STORED };
	int i;

	for (i = 0; i < img->nblobs; i++) {
		const struct idp_image_blob *ib = &img->blobs[i];

		if (ib->size < 0)
			continue;
		b.diffid = b.digest = (char *)ib->digest;
		b.size = ib->size;
		b.media_type = ib->media_type ? ib->media_type : "application/octet-stream";
		if (idp_pushcache_add(c, &b, err) < 0)
			return -1;
	}
	return 0;
}

int idp_pushcache_mount_stored(const struct idp_pushcache *c, const char *registry,
			       const char *repository, struct idp_image *img,
			       struct idp_error *err)
{
	struct idp_pushcache_query q = { .registry = registry, .repository = repository,
					 .producer = IDP_PUSHCACHE_STORED,
					 .flags = IDP_PUSHCACHE_OTHER_REPO };
	const struct idp_pushcache_blob *found;
	int i;

	for (i = 0; i < img->nblobs; i++) {
		struct idp_image_blob *ib = &img->blobs[i];

		q.diffid = ib->digest;
		if (ib->mount_from || !(found = idp_pushcache_find(c, &q)))
			continue;
		if (!(ib->mount_from = strdup(found->repository)))
			return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	return 0;
}

void idp_pushcache_commit_stored(const char *path, struct idp_pushcache *news,
				 const struct idp_push_targets *to, const struct idp_image *img)
{
	struct idp_error err = IDP_ERROR_INIT;
	char msg[IDP_ERRMSG_MAX + 40];
	int i, rc = 0;

	if (!path)
		return;
	for (i = 0; i < to->n && rc == 0; i++) {
		const struct idp_ref *r = idp_session_ref(to->t[i].s);
		rc = note_stored(news, r->domain, r->path, img, &err);
	}
	if (rc == 0)
		rc = idp_pushcache_commit(path, news, &err);
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "cannot update the push cache: %s", err.msg);
		idp_push_emit(to->o, &(struct idp_event){ .kind = IDP_EV_WARNING, .text = msg });
	}
}

int idp_pushcache_stored_in(const struct idp_pushcache *c, const char *registry,
			    const char *repository)
{
	int i;

	for (i = 0; i < c->nblobs; i++)
		if (same(c->blobs[i].producer, IDP_PUSHCACHE_STORED) &&
		    same(c->blobs[i].registry, registry) &&
		    same(c->blobs[i].repository, repository))
			return 1;
	return 0;
}

int idp_pushcache_stored_known(const struct idp_pushcache *c, const char *registry,
			       const char *repository, struct idp_stream_known **out,
			       struct idp_error *err)
{
	struct idp_stream_known *k = calloc(c->nblobs > 0 ? (size_t)c->nblobs : 1, sizeof(*k));
	int i, n = 0;

	*out = NULL;
	if (!k)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	for (i = c->nblobs - 1; i >= 0; i--) {   /* newest first: the first match wins */
		const struct idp_pushcache_blob *b = &c->blobs[i];

		if (same(b->producer, IDP_PUSHCACHE_STORED) && same(b->registry, registry) &&
		    !same(b->repository, repository))
			k[n++] = (struct idp_stream_known){ .by_digest = b->digest,
							    .mount_from = b->repository };
	}
	*out = k;
	return n;
}

/* ---- reading ---- */

static int is_hex64(const char *s)
{
	return s && strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* One "blobs" element; 1 taken, 0 invalid (skipped), -1 out of memory. */
static int take_blob(struct idp_pushcache *c, json_object *o)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_pushcache_blob b;
	json_object *sz;

	b.registry = (char *)idp_json_str(o, "registry");
	b.repository = (char *)idp_json_str(o, "repository");
	b.diffid = (char *)idp_json_str(o, "diffid");
	b.digest = (char *)idp_json_str(o, "digest");
	b.media_type = (char *)idp_json_str(o, "mediaType");
	b.producer = (char *)idp_json_str(o, "producer");
	if (!idp_hostport_valid(b.registry) || !idp_repository_valid(b.repository) ||
	    !b.media_type || !b.producer || !b.diffid ||
	    !idp_digest_valid(b.diffid) || !b.digest || !idp_digest_valid(b.digest) ||
	    !json_object_object_get_ex(o, "size", &sz) || !json_object_is_type(sz, json_type_int) ||
	    (b.size = json_object_get_int64(sz)) < 0)
		return 0;
	return idp_pushcache_add(c, &b, &err) < 0 ? -1 : 1;
}

static int take_v1(struct idp_pushcache *c, json_object *o)
{
	struct idp_error err = IDP_ERROR_INIT;
	const char *v1id = idp_json_str(o, "v1id"), *diffid = idp_json_str(o, "diffid");

	if (!is_hex64(v1id) || !diffid || !idp_digest_valid(diffid))
		return 0;
	return idp_pushcache_add_v1(c, v1id, diffid, &err) < 0 ? -1 : 1;
}

static int take_chunk(struct idp_pushcache *c, json_object *o)
{
	struct idp_error err = IDP_ERROR_INIT;
	const char *reg = idp_json_str(o, "registry");
	int64_t size = idp_json_int(o, "size", -1);

	if (!idp_hostport_valid(reg) || size < IDP_CHUNK_MIN || size > IDP_CHUNK_DEFAULT)
		return 0;
	return idp_pushcache_set_chunk(c, reg, size, &err) < 0 ? -1 : 1;
}

/* One "daemons" element: an absolute socket path and store root. */
static int take_daemon(struct idp_pushcache *c, json_object *o)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_pushcache_daemon d;
	int64_t started = idp_json_int(o, "started", -1);

	memset(&d, 0, sizeof(d));
	d.socket = (char *)idp_json_str(o, "socket");
	d.pid = idp_json_int(o, "pid", -1);
	d.info.root = (char *)idp_json_str(o, "root");
	d.info.driver = (char *)idp_json_str(o, "driver");
	d.info.snapshotter = idp_json_int(o, "snapshotter", 0) != 0;
	d.info.ctd_address = (char *)idp_json_str(o, "containerdAddress");
	d.info.ctd_namespace = (char *)idp_json_str(o, "containerdNamespace");
	if (!d.socket || d.socket[0] != '/' || d.pid <= 0 || started < 0 || !d.info.root ||
	    d.info.root[0] != '/' || !d.info.driver || !d.info.driver[0])
		return 0;
	d.started = (uint64_t)started;
	return idp_pushcache_set_daemon(c, &d, &err) < 0 ? -1 : 1;
}

/* Every valid element of root[key]; the number of invalid ones. */
static int take_all(struct idp_pushcache *c, json_object *root, const char *key,
		    int (*take)(struct idp_pushcache *, json_object *))
{
	json_object *arr;
	size_t i, n;
	int bad = 0, rc;

	if (!json_object_object_get_ex(root, key, &arr))
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return 1;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		rc = json_object_is_type(o, json_type_object) ? take(c, o) : 0;
		if (rc < 0)
			break;
		bad += rc == 0;
	}
	return bad;
}

/* The cache's directory (path's), opened as one only we can change:
 * every directory on the way opened without following a link and owned by
 * root or us, none writable by others, missing ones made (0700), the last
 * one ours and not writable by group or others. An O_PATH descriptor, or
 * -1 with why. */
static int cache_dir(const char *path, char *why, size_t n)
{
	struct idp_error err = IDP_ERROR_INIT;
	char dir[4096], *slash;
	uid_t me = geteuid();
	struct stat st;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')))
		*slash = '\0';
	if ((fd = idp_trusted_dir_make(dir, me, 0700, &err)) < 0) {
		snprintf(why, n, "%s", err.msg);
		return -1;
	}
	if (fstat(fd, &st) < 0 || st.st_uid != me || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(why, n, "'%.900s' is not ours alone (owner %u, mode %04o)", dir,
			 (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	return fd;
}

/* The cache file in dirfd into b: 0, 1 absent, -1 with why; UNTRUSTED
 * (why said) when it is not ours alone. */
#define UNTRUSTED 2

static int read_cache(int dirfd, const char *path, struct idp_buf *b, char *why, size_t n)
{
	struct stat st;
	int fd = idp_open_file_beneath(dirfd, CACHE_FILE, &st), rc;

	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd >= 0 && (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))) {
		snprintf(why, n, "'%s' is not ours alone (owner %u, mode %04o)", path,
			 (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		close(fd);
		return UNTRUSTED;
	}
	rc = fd < 0 ? -1 : idp_file_read_fd(fd, b);
	if (rc < 0)
		snprintf(why, n, "%s", errno == EFBIG ? "larger than the cache may be" :
			 errno == EINVAL ? "not a regular file" : strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

/* c from the cache in dirfd. 0, or UNTRUSTED (c empty, why in warning). */
static int load(struct idp_pushcache *c, int dirfd, const char *path, char *warning, size_t n)
{
	struct idp_buf b;
	json_object *root = NULL, *ver;
	char why[300] = "";
	int rc, bad = 0;

	memset(c, 0, sizeof(*c));
	idp_buf_init(&b, IDP_PUSHCACHE_FILE_CAP);
	if ((rc = read_cache(dirfd, path, &b, why, sizeof(why))) == UNTRUSTED) {
		if (warning)
			snprintf(warning, n, "ignoring the push cache: %s", why);
		idp_buf_release(&b);
		return UNTRUSTED;
	}
	if (rc == 0 && b.len > 0) {
		root = json_tokener_parse(b.buf);
		if (!root || !json_object_is_type(root, json_type_object) ||
		    !json_object_object_get_ex(root, "version", &ver) ||
		    json_object_get_int(ver) != 1) {
			snprintf(why, sizeof(why), "not a version 1 push cache");
			rc = -1;
		}
	}
	if (rc == 0 && root) {
		bad = take_all(c, root, "blobs", take_blob);
		bad += take_all(c, root, "v1ids", take_v1);
		bad += take_all(c, root, "chunks", take_chunk);
		bad += take_all(c, root, "daemons", take_daemon);
	}
	if (rc < 0 && warning)
		snprintf(warning, n, "ignoring the push cache '%s': %s", path, why);
	else if (bad && warning)
		snprintf(warning, n, "push cache '%s': ignoring %d damaged entries", path, bad);
	json_object_put(root);
	idp_buf_release(&b);
	return 0;
}

int idp_pushcache_load(struct idp_pushcache *c, const char *path, char *warning, size_t n)
{
	char why[IDP_ERRMSG_MAX];
	int dirfd, rc;

	if (warning && n)
		warning[0] = '\0';
	memset(c, 0, sizeof(*c));
	if (!path)
		return 0;
	if ((dirfd = cache_dir(path, why, sizeof(why))) < 0) {
		if (warning)
			snprintf(warning, n, "ignoring the push cache: %s", why);
		return 1;
	}
	rc = load(c, dirfd, path, warning, n);
	close(dirfd);
	return rc == UNTRUSTED;
}

/* ---- writing ---- */

static void add_str(json_object *o, const char *key, const char *v)
{
	if (v)
		json_object_object_add(o, key, json_object_new_string(v));
}

static json_object *daemons_json(const struct idp_pushcache *c)
{
	json_object *arr = json_object_new_array();
	int i;

	for (i = 0; i < c->ndaemons; i++) {
		const struct idp_pushcache_daemon *d = &c->daemons[i];
		json_object *o = json_object_new_object();
		add_str(o, "socket", d->socket);
		json_object_object_add(o, "pid", json_object_new_int64(d->pid));
		json_object_object_add(o, "started", json_object_new_int64((int64_t)d->started));
		add_str(o, "root", d->info.root);
		add_str(o, "driver", d->info.driver);
		json_object_object_add(o, "snapshotter", json_object_new_int(d->info.snapshotter));
		add_str(o, "containerdAddress", d->info.ctd_address);
		add_str(o, "containerdNamespace", d->info.ctd_namespace);
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *to_json(const struct idp_pushcache *c)
{
	json_object *root = json_object_new_object(), *blobs = json_object_new_array(),
		    *v1 = json_object_new_array(), *chunks = json_object_new_array();
	int i;

	for (i = 0; i < c->nblobs; i++) {
		const struct idp_pushcache_blob *b = &c->blobs[i];
		json_object *o = json_object_new_object();
		json_object_object_add(o, "registry", json_object_new_string(b->registry));
		json_object_object_add(o, "repository", json_object_new_string(b->repository));
		json_object_object_add(o, "diffid", json_object_new_string(b->diffid));
		json_object_object_add(o, "digest", json_object_new_string(b->digest));
		json_object_object_add(o, "size", json_object_new_int64(b->size));
		json_object_object_add(o, "mediaType", json_object_new_string(b->media_type));
		json_object_object_add(o, "producer", json_object_new_string(b->producer));
		json_object_array_add(blobs, o);
	}
	for (i = 0; i < c->nv1; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "v1id", json_object_new_string(c->v1[i].v1id));
		json_object_object_add(o, "diffid", json_object_new_string(c->v1[i].diffid));
		json_object_array_add(v1, o);
	}
	for (i = 0; i < c->nchunks; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "registry",
				       json_object_new_string(c->chunks[i].registry));
		json_object_object_add(o, "size", json_object_new_int64(c->chunks[i].size));
		json_object_array_add(chunks, o);
	}
	json_object_object_add(root, "version", json_object_new_int(1));
	json_object_object_add(root, "blobs", blobs);
	json_object_object_add(root, "v1ids", v1);
	json_object_object_add(root, "chunks", chunks);
	json_object_object_add(root, "daemons", daemons_json(c));
	return root;
}

/* Write c to path through a temp file in the same directory + rename. */
static int replace_file(const char *path, const struct idp_pushcache *c, struct idp_error *err)
{
	json_object *root = to_json(c);
	const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
	int rc = idp_file_replace(path, text, strlen(text), 0600, err);

	json_object_put(root);
	return rc;
}

/* The cache's lock (push-cache.lock next to it in dirfd, flock), so that
 * concurrent pushes merge one after the other and no entry is lost. Waits
 * at most LOCK_WAIT_MS; -1 with err when it cannot be had. */
static int lock_cache(int dirfd, const char *path, struct idp_error *err)
{
	struct timespec slice = { 0, 20 * 1000000L };
	int64_t start;
	int fd;

	if ((fd = openat(dirfd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return idp_error_set(err, IDP_EGENERAL, "cannot open the lock next to '%s': %s",
				     path, strerror(errno));
	for (start = idp_now_ms(); flock(fd, LOCK_EX | LOCK_NB) < 0;) {
		if (errno != EWOULDBLOCK || idp_now_ms() - start >= LOCK_WAIT_MS) {
			close(fd);
			return idp_error_set(err, IDP_EGENERAL,
					     "cannot lock the push cache '%s': %s", path,
					     errno == EWOULDBLOCK ? "held by another push"
								  : strerror(errno));
		}
		nanosleep(&slice, NULL);
	}
	return fd;
}

/* Merge news into the cache as it is now and write it (the lock held). */
static int merge(int dirfd, const char *path, const struct idp_pushcache *news,
		 struct idp_error *err)
{
	struct idp_pushcache now;
	char why[IDP_ERRMSG_MAX];
	int i, rc = 0;

	if (load(&now, dirfd, path, why, sizeof(why)) == UNTRUSTED)
		return idp_error_set(err, IDP_EGENERAL, "%s", why);
	for (i = 0; i < news->nblobs && rc == 0; i++)
		rc = idp_pushcache_add(&now, &news->blobs[i], err);
	for (i = 0; i < news->nv1 && rc == 0; i++)
		rc = idp_pushcache_add_v1(&now, news->v1[i].v1id, news->v1[i].diffid, err);
	for (i = 0; i < news->nchunks && rc == 0; i++)
		rc = idp_pushcache_set_chunk(&now, news->chunks[i].registry, news->chunks[i].size,
					     err);
	for (i = 0; i < news->ndaemons && rc == 0; i++)
		rc = idp_pushcache_set_daemon(&now, &news->daemons[i], err);
	if (rc == 0)   /* the directory is ours alone: its path names what dirfd is */
		rc = replace_file(path, &now, err);
	idp_pushcache_release(&now);
	return rc;
}

int idp_pushcache_commit(const char *path, const struct idp_pushcache *news, struct idp_error *err)
{
	char why[IDP_ERRMSG_MAX];
	int dirfd, lock, rc;

	if ((dirfd = cache_dir(path, why, sizeof(why))) < 0)
		return idp_error_set(err, IDP_EGENERAL, "%s", why);
	if ((lock = lock_cache(dirfd, path, err)) < 0) {
		close(dirfd);
		return -1;
	}
	rc = merge(dirfd, path, news, err);
	close(lock);   /* releases the flock */
	close(dirfd);
	return rc;
}
