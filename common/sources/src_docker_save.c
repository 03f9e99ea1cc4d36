/* src_docker_save.c: the streaming source over a `docker save` tar read
 * once through libarchive (archive_read_open on the pipe): raw layers
 * compressed as they stream (compress.h), already-compressed layers passed
 * through, JSON files kept (bounded) for the manifest at the end. The
 * shapes and checks are described in src_docker_save.h. */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>
#include <json-c/json.h>
#include "util/buf.h"
#include "compress.h"
#include "util/jsonutil.h"
#include "util/manifest.h"
#include "blobsrc.h"
#include "imgwalk.h"
#include "source.h"
#include "src_docker_save.h"
#include "readahead.h"
#include "zlayer.h"
#include "banned.h"

#define IN_BLOCK (64u << 10)
#define PEEK_MAX 512
#define MAX_LINK_HOPS 8

enum kind { K_RAW, K_GZIP, K_ZSTD };

struct entry {                 /* a layer (or a link to one) met in the stream */
	char *path;
	char *link;                /* symlink/hardlink target path, or NULL */
	enum kind kind;
	int done;
	int unlisted;              /* a raw blob docker image inspect does not list: not pushed */
	int as_is;                 /* pushed as stored, even uncompressed (IDP_SAVE_STORED) */
	char display[72];
	char diffid[IDP_DIGEST_MAX];   /* raw layers: computed */
	char digest[IDP_DIGEST_MAX];   /* what went up (or is known) */
	int64_t size;
};

struct jfile {                 /* a JSON file kept for the end */
	char *path;
	char digest[IDP_DIGEST_MAX];
	struct idp_buf data;
};

struct cur {                   /* the layer being read */
	struct entry *e;
	unsigned char peek[PEEK_MAX];
	size_t peek_len, peek_off;
	unsigned char in[IN_BLOCK];   /* stored layers and skipped ones pass through here */
	size_t in_len, in_off;
	int in_eof, out_done, compress;
	int64_t consumed;          /* entry bytes read */
	int64_t delivered;         /* entry bytes behind the output layer_read returned */
	struct idp_sha256 *raw;    /* diffID */
	struct idp_zlayer z;       /* raw layers: compressed on the first read */
};

struct idp_save_stream {
	struct idp_save_opts o;
	struct idp_readahead *ra;  /* the pipe */
	struct archive *a;
	unsigned char rbuf[IN_BLOCK];
	size_t rlen;               /* bytes in rbuf from the last read */
	int64_t fed;               /* bytes handed to libarchive */
	int nentries;
	struct entry *entries;
	int njson;
	struct jfile *json;
	size_t json_total;
	struct cur cur;            /* the layer next handed over */
	int mode;                  /* enum idp_save_mode: DETECT until the stream told */
	int ended;
	struct jfile *config;
};

/* ---- input: the pipe (drained by readahead.h), counted, cancellable ---- */

static ssize_t feed(struct archive *a, void *ctx, const void **buf)
{
	struct idp_save_stream *ss = ctx;
	struct idp_error err = IDP_ERROR_INIT;
	ssize_t n = idp_readahead_read(ss->ra, ss->rbuf, sizeof(ss->rbuf), &err);

	if (n < 0) {
		archive_set_error(a, err.cls == IDP_ECANCELED ? ECANCELED : EIO, "%s", err.msg);
		return -1;
	}
	ss->rlen = (size_t)n;
	ss->fed += n;
	if (ss->o.bytes_read)
		*ss->o.bytes_read += n;
	*buf = ss->rbuf;
	return n;
}

static int stream_error(struct idp_save_stream *ss, const char *what, struct idp_error *err)
{
	if (ss->o.cancel && *ss->o.cancel)
		return idp_error_set(err, IDP_ECANCELED, "interrupted");
	return idp_error_set(err, IDP_EGENERAL, "broken docker save stream (%s): %s", what,
			     archive_error_string(ss->a) ? archive_error_string(ss->a)
							 : "unknown error");
}

static void save_close(void *ctx);

static int save_open(int fd, const struct idp_save_opts *o, struct idp_save_stream **out,
		     struct idp_error *err)
{
	struct idp_save_stream *ss = calloc(1, sizeof(*ss));

	if (!ss)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	ss->o = *o;
	ss->mode = o->stored;
	if (idp_readahead_start(fd, IDP_READAHEAD_CAP, o->cancel, &ss->ra, err) < 0) {
		free(ss);
		return -1;
	}
	if (!(ss->a = archive_read_new())) {
		save_close(ss);
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	archive_read_support_format_tar(ss->a);
	if (archive_read_open(ss->a, ss, NULL, feed, NULL) != ARCHIVE_OK) {
		stream_error(ss, "opening", err);
		save_close(ss);
		return -1;
	}
	*out = ss;
	return 0;
}

/* A raw layer this stream compresses (not one pushed as stored). */
static int compresses(const struct entry *e)
{
	return e->kind == K_RAW && !e->as_is;
}

/* ---- the current layer's reader ---- */

static void cur_release(struct cur *c)
{
	idp_sha256_free(c->raw);
	idp_zlayer_release(&c->z);
	memset(c, 0, sizeof(*c));
}

/* Next input bytes of the entry into c->in. 0 ok (possibly at EOF), -1 err. */
static int fill_in(struct idp_save_stream *ss, struct idp_error *err)
{
	struct cur *c = &ss->cur;
	la_ssize_t n;

	c->in_off = 0;
	if (c->peek_off < c->peek_len) {
		c->in_len = c->peek_len - c->peek_off;
		memcpy(c->in, c->peek + c->peek_off, c->in_len);
		c->peek_off = c->peek_len;
	} else {
		n = archive_read_data(ss->a, c->in, sizeof(c->in));
		if (n < 0)
			return stream_error(ss, "layer data", err);
		c->in_len = (size_t)n;
		c->in_eof = n == 0;
	}
	if (c->raw)
		idp_sha256_update(c->raw, c->in, c->in_len);
	c->consumed += (int64_t)c->in_len;
	return 0;
}

/* Up to cap bytes of the entry into dst (the peeked bytes first), hashed
 * and counted; *len < cap only at the end of the entry (idp_zlayer_fill_fn). */
static int read_block(void *ctx, unsigned char *dst, size_t cap, size_t *len,
		      struct idp_error *err)
{
	struct idp_save_stream *ss = ctx;
	struct cur *c = &ss->cur;
	size_t take;
	la_ssize_t n = 1;

	*len = 0;
	if (c->peek_off < c->peek_len) {
		take = c->peek_len - c->peek_off < cap ? c->peek_len - c->peek_off : cap;
		memcpy(dst, c->peek + c->peek_off, take);
		c->peek_off += take;
		*len = take;
	}
	while (*len < cap && (n = archive_read_data(ss->a, dst + *len, cap - *len)) > 0)
		*len += (size_t)n;
	if (n < 0)
		return stream_error(ss, "layer data", err);
	c->in_eof = *len < cap;
	idp_sha256_update(c->raw, dst, *len);
	c->consumed += (int64_t)*len;
	return 0;
}

/* A stored layer, as it is. */
static ssize_t passthrough_read(struct idp_save_stream *ss, void *buf, size_t n,
				struct idp_error *err)
{
	struct cur *c = &ss->cur;
	size_t got;

	if (c->in_off == c->in_len && !c->in_eof && fill_in(ss, err) < 0)
		return -1;
	got = c->in_len - c->in_off < n ? c->in_len - c->in_off : n;
	memcpy(buf, c->in + c->in_off, got);
	c->in_off += got;
	c->delivered += (int64_t)got;
	c->out_done = c->in_eof && c->in_off == c->in_len;
	return (ssize_t)got;
}

static ssize_t layer_read(void *ctx, void *buf, size_t n, struct idp_error *err)
{
	struct idp_save_stream *ss = ctx;
	struct cur *c = &ss->cur;
	ssize_t got;

	if (ss->o.cancel && *ss->o.cancel)
		return idp_error_set(err, IDP_ECANCELED, "interrupted");
	if (c->out_done)
		return 0;
	if (!c->compress)
		return passthrough_read(ss, buf, n, err);
	if ((got = idp_zlayer_read(&c->z, buf, n, err)) == 0)
		c->out_done = 1;
	c->delivered = c->z.delivered;
	return got;
}

static void layer_close(void *ctx)
{
	(void)ctx;   /* the state belongs to the stream */
}

static const struct idp_blob_reader_ops layer_ops = {
	.read = layer_read,
	.close = layer_close,
};

/* A raw layer: hash it from the first byte; compress only once read. */
static int start_raw(struct idp_save_stream *ss, struct idp_error *err)
{
	struct cur *c = &ss->cur;
	struct idp_zlayer_opts zo = { .codec = &ss->o.codec,
				      .threads = ss->o.threads,
				      .fill = read_block,
				      .ctx = ss,
				      .cancel = ss->o.cancel };

	c->compress = 1;
	idp_zlayer_init(&c->z, &zo);
	if (!(c->raw = idp_sha256_new()))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	return 0;
}

/* ---- entries and JSON files ---- */

static struct entry *add_entry(struct idp_save_stream *ss, const char *path, const char *link,
			       struct idp_error *err)
{
	struct entry *e;

	if (ss->nentries >= IDP_SAVE_MAX_LAYERS * 2) {
		idp_error_set(err, IDP_EGENERAL, "docker save stream has too many layers");
		return NULL;
	}
	if (!(e = realloc(ss->entries, sizeof(*e) * (size_t)(ss->nentries + 1)))) {
		idp_error_set(err, IDP_EGENERAL, "out of memory");
		return NULL;
	}
	ss->entries = e;
	e = &ss->entries[ss->nentries];
	memset(e, 0, sizeof(*e));
	e->size = -1;
	e->path = strdup(path);
	e->link = link ? strdup(link) : NULL;
	if (!e->path || (link && !e->link)) {
		free(e->path);
		free(e->link);
		idp_error_set(err, IDP_EGENERAL, "out of memory");
		return NULL;
	}
	ss->nentries++;
	return e;
}

static struct entry *find_entry(struct idp_save_stream *ss, const char *path)
{
	int i;
	for (i = 0; i < ss->nentries; i++)
		if (strcmp(ss->entries[i].path, path) == 0)
			return &ss->entries[i];
	return NULL;
}

/* The kept JSON file with this path (or, by_digest, this digest); NULL
 * also for a NULL key (a JSON member that is not a string). */
static struct jfile *find_json(struct idp_save_stream *ss, const char *key, int by_digest)
{
	int i;
	for (i = 0; key && i < ss->njson; i++)
		if (strcmp(by_digest ? ss->json[i].digest : ss->json[i].path, key) == 0)
			return &ss->json[i];
	return NULL;
}

/* Keep a JSON file of size bytes whose first ones were already read
 * (peeked into ss->cur). */
static int keep_json(struct idp_save_stream *ss, const char *path, int64_t size,
		     struct idp_error *err)
{
	const struct cur *c = &ss->cur;
	struct jfile *j;
	char chunk[8192];
	la_ssize_t n;

	if (size < 0 || (uint64_t)size > IDP_SAVE_JSON_CAP - ss->json_total)
		return idp_error_set(err, IDP_EGENERAL,
				     "docker save stream: JSON file '%s' is too large", path);
	if (!(j = realloc(ss->json, sizeof(*j) * (size_t)(ss->njson + 1))))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	ss->json = j;
	j = &ss->json[ss->njson];
	idp_buf_init(&j->data, (size_t)size + 1);
	if (!(j->path = strdup(path)) || idp_buf_add(&j->data, c->peek, c->peek_len) < 0) {
		free(j->path);
		idp_buf_release(&j->data);
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	ss->njson++;
	while ((n = archive_read_data(ss->a, chunk, sizeof(chunk))) > 0)
		if (idp_buf_add(&j->data, chunk, (size_t)n) < 0)
			return idp_error_set(err, IDP_EGENERAL,
					     "docker save stream: '%s' longer than its header says",
					     path);
	if (n < 0)
		return stream_error(ss, path, err);
	ss->json_total += j->data.len;
	idp_sha256_digest(j->data.buf, j->data.len, j->digest);
	return 0;
}

static int is_hex64(const char *s, size_t n)
{
	size_t i;
	if (n != 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int listed_diffid(const struct idp_save_opts *o, const char *hex)
{
	int i;
	for (i = 0; i < o->ndiffids; i++)
		if (strncmp(o->diffids[i], "sha256:", 7) == 0 &&
		    strcmp(o->diffids[i] + 7, hex) == 0)
			return 1;
	return 0;
}

enum role { R_SKIP, R_JSON, R_LAYER, R_MAYBE, R_BAD_ID };

/* What a path can be, from its name alone; *id gets the display id. */
static enum role classify_path(const struct idp_save_opts *o, const char *p, char id[72])
{
	const char *slash = strchr(p, '/');
	size_t n = strlen(p);

	if (strncmp(p, "blobs/sha256/", 13) == 0 && is_hex64(p + 13, n - 13)) {
		snprintf(id, 72, "%s", p + 13);
		return listed_diffid(o, p + 13) ? R_LAYER : R_MAYBE;
	}
	if (!slash && n > 5 && strcmp(p + n - 5, ".json") == 0)
		return strcmp(p, "repositories") == 0 ? R_SKIP : R_JSON;
	if (!slash && n == 68 && strcmp(p + 64, ".tar") == 0 && is_hex64(p, 64)) {
		snprintf(id, 72, "%.64s", p);
		return R_LAYER;
	}
	if (slash && strcmp(slash, "/layer.tar") == 0) {   /* a v1 id: 64 hex */
		if (!is_hex64(p, (size_t)(slash - p)))
			return R_BAD_ID;
		snprintf(id, 72, "%.64s", p);
		return R_LAYER;
	}
	return R_SKIP;
}

static enum kind sniff(const unsigned char *b, size_t n)
{
	if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		return K_GZIP;
	if (n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
		return K_ZSTD;
	return K_RAW;
}

static int looks_json(const unsigned char *b, size_t n)
{
	size_t i;
	for (i = 0; i < n && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t'); i++)
		;
	return i < n && (b[i] == '{' || b[i] == '[');
}

static int read_peek(struct idp_save_stream *ss, unsigned char *buf, size_t *len,
		     struct idp_error *err)
{
	la_ssize_t n;

	*len = 0;
	while (*len < PEEK_MAX) {
		n = archive_read_data(ss->a, buf + *len, PEEK_MAX - *len);
		if (n < 0)
			return stream_error(ss, "reading an entry", err);
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	return 0;
}

/* Set up ss->cur for the layer entry e, whose first bytes are in peek. */
static int start_layer(struct idp_save_stream *ss, struct entry *e, struct idp_stream_blob *b,
		       struct idp_blob_reader *r, struct idp_error *err)
{
	struct cur *c = &ss->cur;

	e->kind = sniff(c->peek, c->peek_len);
	c->e = e;
	if (compresses(e) && start_raw(ss, err) < 0)
		return -1;
	if (!compresses(e) && strncmp(e->path, "blobs/sha256/", 13) == 0)
		snprintf(e->digest, sizeof(e->digest), "sha256:%s", e->path + 13);
	memset(b, 0, sizeof(*b));
	b->display_id = e->display;
	b->digest = e->digest[0] ? e->digest : NULL;
	b->size = e->digest[0] ? e->size : -1;
	b->raw_size = e->size;
	b->compressed = !compresses(e);
	b->consumed = &c->delivered;
	r->ops = &layer_ops;
	r->ctx = ss;
	return 1;
}

/* IDP_SAVE_DETECT: what a layer entry (its first bytes peeked) tells of
 * the store: only docker's containerd image store keeps compressed
 * layers; an uncompressed one (or a legacy path) before anything else
 * told means the classic store. */
static void detect_layer(struct idp_save_stream *ss, const char *path)
{
	if (ss->mode != IDP_SAVE_DETECT)
		return;
	if (strncmp(path, "blobs/sha256/", 13) == 0 &&
	    sniff(ss->cur.peek, ss->cur.peek_len) != K_RAW)
		ss->mode = IDP_SAVE_STORED;
	else
		ss->mode = IDP_SAVE_CONVERT;
}

/* IDP_SAVE_DETECT: the blob the image ID names, when j is it: a manifest
 * or an index (docker's containerd image store), else a config (the
 * classic store, whose image ID is its config's digest). */
static void detect_json(struct idp_save_stream *ss, const struct jfile *j)
{
	json_object *o;

	if (ss->mode != IDP_SAVE_DETECT || !ss->o.image_id || strcmp(j->digest, ss->o.image_id))
		return;
	o = json_tokener_parse(j->data.buf);
	ss->mode = idp_json_array(o, "manifests") || idp_json_array(o, "layers")
			   ? IDP_SAVE_STORED
			   : IDP_SAVE_CONVERT;
	json_object_put(o);
}

/* A JSON file (its first bytes peeked): kept for the end. */
static int take_json(struct idp_save_stream *ss, const char *path, int64_t size,
		     struct idp_error *err)
{
	if (keep_json(ss, path, size, err) < 0)
		return -1;
	detect_json(ss, &ss->json[ss->njson - 1]);
	return 0;
}

/* IDP_SAVE_STORED: a blob that is not JSON goes up as it is. */
static int take_stored(struct idp_save_stream *ss, const char *path, int64_t size,
		       struct idp_stream_blob *b, struct idp_blob_reader *r, struct idp_error *err)
{
	struct entry *e;

	if (strncmp(path, "blobs/sha256/", 13) != 0)
		return 0;   /* the classic shapes' files, which this store does not write */
	if (!(e = add_entry(ss, path, NULL, err)))
		return -1;
	snprintf(e->display, sizeof(e->display), "%s", path + 13);
	e->size = size;
	e->as_is = 1;
	return start_layer(ss, e, b, r, err);
}

/* Whether the entry (its first bytes peeked) is a JSON file to keep: one
 * of the layout's, or a blob that looks like JSON and is no layer docker
 * image inspect listed (the containerd store: any blob that looks so). */
static int json_entry(const struct idp_save_stream *ss, enum role role, const char *path)
{
	if (role == R_JSON)
		return 1;
	if (!looks_json(ss->cur.peek, ss->cur.peek_len))
		return 0;
	return role == R_MAYBE ||
	       (role == R_LAYER && ss->mode != IDP_SAVE_CONVERT && strncmp(path, "blobs/", 6) == 0);
}

/* One regular entry: 1 it is a layer to push (b/r set), 0 handled, -1 error. */
static int take_entry(struct idp_save_stream *ss, struct archive_entry *ae,
		      struct idp_stream_blob *b, struct idp_blob_reader *r, struct idp_error *err)
{
	const char *path = archive_entry_pathname(ae);
	char id[72] = "";
	enum role role = classify_path(&ss->o, path, id);
	struct cur *c = &ss->cur;
	struct entry *e;

	if (role == R_SKIP)
		return 0;
	if (role == R_BAD_ID)
		return idp_error_set(err, IDP_EGENERAL,
				     "docker save stream: layer '%s' is not in a directory named "
				     "by a v1 layer id (64 hex digits)", path);
	cur_release(c);
	if (read_peek(ss, c->peek, &c->peek_len, err) < 0)
		return -1;
	if (json_entry(ss, role, path))
		return take_json(ss, path, archive_entry_size(ae), err);
	detect_layer(ss, path);
	if (ss->mode == IDP_SAVE_STORED)
		return take_stored(ss, path, archive_entry_size(ae), b, r, err);
	if (role == R_MAYBE && sniff(c->peek, c->peek_len) == K_RAW && ss->o.ndiffids > 0) {
		/* not a layer of the image; remembered in case manifest.json names it */
		if (!(e = add_entry(ss, path, NULL, err)))
			return -1;
		e->unlisted = 1;
		return 0;
	}
	if (!(e = add_entry(ss, path, NULL, err)))
		return -1;
	snprintf(e->display, sizeof(e->display), "%s", id);
	e->size = archive_entry_size(ae);
	return start_layer(ss, e, b, r, err);
}

/* After the end-of-archive marker only zero bytes may follow. */
static int check_tail(struct idp_save_stream *ss, struct idp_error *err)
{
	int64_t used = archive_filter_bytes(ss->a, 0), left = ss->fed - used;
	size_t i;
	ssize_t n;

	if (left > 0 && (size_t)left <= ss->rlen)
		for (i = ss->rlen - (size_t)left; i < ss->rlen; i++)
			if (ss->rbuf[i])
				goto garbage;
	while ((n = idp_readahead_read(ss->ra, ss->rbuf, sizeof(ss->rbuf), err)) != 0) {
		if (n < 0)
			return -1;
		for (i = 0; i < (size_t)n; i++)
			if (ss->rbuf[i])
				goto garbage;
	}
	return 0;
garbage:
	return idp_error_set(err, IDP_EGENERAL,
			     "docker save stream has data after the end of the archive (an error "
			     "from the daemon?)");
}

static int save_next(void *ctx, struct idp_stream_blob *b, struct idp_blob_reader *r,
		     struct idp_error *err)
{
	struct idp_save_stream *ss = ctx;
	struct archive_entry *ae;
	const char *link;
	int rc;

	while (!ss->ended) {
		rc = archive_read_next_header(ss->a, &ae);
		if (rc == ARCHIVE_EOF) {
			ss->ended = 1;
			return check_tail(ss, err) < 0 ? -1 : 0;
		}
		if (rc != ARCHIVE_OK)
			return stream_error(ss, "tar header", err);
		link = archive_entry_symlink(ae);
		if (!link)
			link = archive_entry_hardlink(ae);
		if (link)
			rc = add_entry(ss, archive_entry_pathname(ae), link, err) ? 0 : -1;
		else if (archive_entry_filetype(ae) == AE_IFREG)
			rc = take_entry(ss, ae, b, r, err);
		else
			rc = 0;
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int save_done(void *ctx, const char *digest, int64_t size, char diffid[IDP_DIGEST_MAX],
		     struct idp_error *err)
{
	struct idp_save_stream *ss = ctx;
	struct cur *c = &ss->cur;
	struct entry *e = c->e;

	if (compresses(e)) {
		if (!c->out_done)
			return idp_error_set(err, IDP_EGENERAL,
					     "internal: layer '%s' was not read to its end",
					     e->path);
		idp_sha256_final(c->raw, e->diffid);
		if (ss->o.ndiffids > 0 && !listed_diffid(&ss->o, idp_digest_hex(e->diffid)))
			return idp_error_set(err, IDP_EGENERAL,
					     "layer '%s' in the docker save stream has diffID %s, "
					     "which the image does not list",
					     e->path, e->diffid);
	}
	snprintf(e->digest, sizeof(e->digest), "%s", digest);
	e->size = size;
	e->done = 1;
	snprintf(diffid, IDP_DIGEST_MAX, "%s", e->diffid);
	cur_release(c);
	return 0;
}

static int save_skip(void *ctx, const char *diffid, const char *digest, int64_t size,
		     struct idp_error *err)
{
	struct idp_save_stream *ss = ctx;
	struct cur *c = &ss->cur;
	struct entry *e = c->e;
	char computed[IDP_DIGEST_MAX];

	if (compresses(e)) {
		if (c->z.started || c->consumed > 0)
			return idp_error_set(err, IDP_EGENERAL,
					     "internal: layer '%s' was partly read", e->path);
		while (!c->in_eof) {
			if (ss->o.cancel && *ss->o.cancel)
				return idp_error_set(err, IDP_ECANCELED, "interrupted");
			if (fill_in(ss, err) < 0)
				return -1;
		}
		c->out_done = 1;
	}
	if (save_done(ss, digest, size, computed, err) < 0)
		return -1;
	if (compresses(e) && diffid && strcmp(e->diffid, diffid) != 0)
		return idp_error_set(
			err, IDP_EGENERAL,
			"layer '%s' has diffID %s, not %s as expected (a stale push cache?); "
			"it was not pushed",
			e->path, e->diffid, diffid);
	return 0;
}

/* ---- the end: manifest.json -> image ---- */

/* "a/b/../c/layer.tar" style resolution of a link target, relative to the
 * link's directory, into out. */
static void resolve_link(const char *from, const char *target, char *out, size_t len)
{
	char tmp[1024], *parts[64], *p, *save = NULL;
	int n = 0, i;
	const char *slash = strrchr(from, '/');

	if (target[0] == '/')
		snprintf(tmp, sizeof(tmp), "%s", target + 1);
	else
		snprintf(tmp, sizeof(tmp), "%.*s%s%s", slash ? (int)(slash - from) : 0, from,
			 slash ? "/" : "", target);
	for (p = strtok_r(tmp, "/", &save); p && n < 64; p = strtok_r(NULL, "/", &save)) {
		if (strcmp(p, "..") == 0)
			n = n > 0 ? n - 1 : 0;
		else if (strcmp(p, ".") != 0)
			parts[n++] = p;
	}
	out[0] = '\0';
	for (i = 0; i < n; i++)
		/* cppcheck-suppress uninitvar ; the loop above set parts[0..n) */
		snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? "/" : "", parts[i]);
}

/* A pushed layer entry for path (following links), or NULL. */
static struct entry *layer_at(struct idp_save_stream *ss, const char *path)
{
	char cur[1024], next[1024];
	struct entry *e;
	int hops;

	snprintf(cur, sizeof(cur), "%s", path);
	for (hops = 0; hops < MAX_LINK_HOPS; hops++) {
		if (!(e = find_entry(ss, cur)))
			return NULL;
		if (!e->link)
			return e->done ? e : NULL;
		resolve_link(cur, e->link, next, sizeof(next));
		if (!find_entry(ss, next)) /* hardlinks name the target from the root */
			snprintf(next, sizeof(next), "%s", e->link);
		snprintf(cur, sizeof(cur), "%s", next);
	}
	return NULL;
}

static json_object *parse_json(const struct jfile *j, const char *what, struct idp_error *err)
{
	json_object *o = json_tokener_parse(j->data.buf);

	if (!o)
		idp_error_set(err, IDP_EGENERAL, "docker save stream: %s '%s' is not valid JSON",
			      what, j->path);
	return o;
}

/* The manifest.json entry for our image. */
static json_object *pick_manifest(struct idp_save_stream *ss, json_object *arr,
				  struct idp_error *err)
{
	size_t i, n;
	json_object *m, *c;
	struct jfile *cfg;

	if (!json_object_is_type(arr, json_type_array) || !(n = json_object_array_length(arr))) {
		idp_error_set(err, IDP_EGENERAL,
			      "docker save stream: manifest.json lists no image");
		return NULL;
	}
	for (i = 0; i < n && ss->o.image_id; i++) {
		m = json_object_array_get_idx(arr, i);
		if (json_object_object_get_ex(m, "Config", &c) &&
		    (cfg = find_json(ss, json_object_get_string(c), 0)) &&
		    strcmp(cfg->digest, ss->o.image_id) == 0)
			return m;
	}
	return json_object_array_get_idx(arr, 0);
}

struct layer_list {
	int n;
	int raw_zstd;              /* raw layers went up zstd-compressed */
	struct entry *e[IDP_SAVE_MAX_LAYERS];
	const char *diffid[IDP_SAVE_MAX_LAYERS];
};

static int check_config(struct idp_save_stream *ss, struct jfile *cfg, json_object *conf,
			struct layer_list *ll, struct idp_error *err)
{
	json_object *rootfs, *ids;
	int i, n;

	if (ss->o.image_id && strcmp(cfg->digest, ss->o.image_id) != 0 &&
	    !find_json(ss, ss->o.image_id, 1))
		return idp_error_set(err, IDP_EGENERAL,
				     "docker save stream: config %s is not image %s", cfg->digest,
				     ss->o.image_id);
	if (!json_object_object_get_ex(conf, "rootfs", &rootfs) ||
	    !json_object_object_get_ex(rootfs, "diff_ids", &ids) ||
	    !json_object_is_type(ids, json_type_array))
		return idp_error_set(err, IDP_EGENERAL,
				     "docker save stream: the image config has no rootfs.diff_ids");
	n = (int)json_object_array_length(ids);
	if (n != ll->n)
		return idp_error_set(
			err, IDP_EGENERAL,
			"docker save stream: %d layers in manifest.json, %d diffIDs in the config",
			ll->n, n);
	if (ss->o.ndiffids > 0 && ss->o.ndiffids != n)
		return idp_error_set(err, IDP_EGENERAL,
				     "docker save stream: %d layers, docker image inspect said %d",
				     n, ss->o.ndiffids);
	for (i = 0; i < n; i++) {
		const char *d = json_object_get_string(json_object_array_get_idx(ids, i));
		ll->diffid[i] = d;
		if (ss->o.ndiffids > 0 && strcmp(d ? d : "", ss->o.diffids[i]) != 0)
			return idp_error_set(err, IDP_EGENERAL,
					     "docker save stream: layer %d has diffID %s, docker "
					     "image inspect said %s",
					     i + 1, d ? d : "?", ss->o.diffids[i]);
		if (ll->e[i]->kind == K_RAW && strcmp(ll->e[i]->diffid, d ? d : "") != 0)
			return idp_error_set(err, IDP_EGENERAL,
					     "layer %d ('%s') has diffID %s but the config says %s",
					     i + 1, ll->e[i]->path, ll->e[i]->diffid, d ? d : "?");
	}
	return 0;
}

static int collect_layers(struct idp_save_stream *ss, json_object *m, struct layer_list *ll,
			  struct idp_error *err)
{
	json_object *layers;
	size_t i, n;

	if (!json_object_object_get_ex(m, "Layers", &layers) ||
	    !json_object_is_type(layers, json_type_array))
		return idp_error_set(err, IDP_EGENERAL,
				     "docker save stream: manifest.json has no Layers");
	n = json_object_array_length(layers);
	if (n > IDP_SAVE_MAX_LAYERS)
		return idp_error_set(err, IDP_EGENERAL, "docker save stream: too many layers (%zu)",
				     n);
	for (i = 0; i < n; i++) {
		const char *p = json_object_get_string(json_object_array_get_idx(layers, i));
		struct entry *u = p ? find_entry(ss, p) : NULL;
		if (u && u->unlisted)
			return idp_error_set(
				err, IDP_EGENERAL,
				"docker save stream: layer %zu ('%s') is not a layer docker image "
				"inspect listed "
				"(diffID mismatch: did the image change while saving?)",
				i + 1, p);
		if (!p || !(ll->e[i] = layer_at(ss, p)))
			return idp_error_set(
				err, IDP_EGENERAL,
				"docker save stream: layer '%s' is missing from the stream",
				p ? p : "?");
	}
	ll->n = (int)n;
	return 0;
}

/* "os/arch[/variant]" of the config, or NULL when os or architecture is
 * not a string. */
static char *config_platform(json_object *conf)
{
	const char *os = idp_json_str(conf, "os"), *arch = idp_json_str(conf, "architecture");
	const char *var = idp_json_str(conf, "variant");
	char buf[100];

	if (!os || !arch)
		return NULL;
	snprintf(buf, sizeof(buf), "%s/%s%s%s", os, arch, var && *var ? "/" : "",
		 var && *var ? var : "");
	return strdup(buf);
}

/* Layer i of the image (idp_single_image.layer). */
static void layer_of(const void *ctx, int i, struct idp_layer *out)
{
	const struct layer_list *ll = ctx;
	const struct entry *e = ll->e[i];

	out->digest = e->digest;
	out->size = e->size;
	out->zstd = e->kind == K_ZSTD || (e->kind == K_RAW && ll->raw_zstd);
}

/* The image: the config, the layers of ll, the manifest. */
static int build_image(struct idp_save_stream *ss, struct layer_list *ll, const char *platform,
		       struct idp_image *img, struct idp_error *err)
{
	struct idp_single_image si = {
		.format = ss->o.format,
		.config_digest = ss->config->digest,
		.config_size = (int64_t)ss->config->data.len,
		.platform = platform,
		.nlayers = ll->n,
		.layer = layer_of,
		.ctx = ll,
	};

	ll->raw_zstd = ss->o.codec.alg == IDP_COMPRESS_ZSTD;
	return idp_image_add_single(img, &si, err);
}

/* ---- containerd store: index.json naming an image index ---- */

static int is_index_type(json_object *desc)
{
	json_object *mt;
	const char *s;

	if (!json_object_object_get_ex(desc, "mediaType", &mt) || !(s = json_object_get_string(mt)))
		return 0;
	return strcmp(s, "application/vnd.oci.image.index.v1+json") == 0 ||
	       strcmp(s, "application/vnd.docker.distribution.manifest.list.v2+json") == 0;
}

/* A platform image of an index (not an attestation manifest); its
 * platform's "os" must be a string. */
static int is_platform_image(json_object *desc)
{
	json_object *ann, *t, *plat;
	const char *os;

	if (json_object_object_get_ex(desc, "annotations", &ann) &&
	    json_object_object_get_ex(ann, "vnd.docker.reference.type", &t))
		return 0;
	if (!json_object_object_get_ex(desc, "platform", &plat) ||
	    !(os = idp_json_str(plat, "os")))
		return 0;
	return strcmp(os, "unknown") != 0;
}

/* The image index index.json names (kept as a JSON blob), or NULL. */
static json_object *top_index(struct idp_save_stream *ss, const char **digest)
{
	struct jfile *ij = find_json(ss, "index.json", 0), *blob;
	json_object *root = ij ? json_tokener_parse(ij->data.buf) : NULL, *ms, *d, *dg, *idx = NULL;
	size_t i, n;

	if (root && json_object_object_get_ex(root, "manifests", &ms) &&
	    json_object_is_type(ms, json_type_array)) {
		n = json_object_array_length(ms);
		for (i = 0; i < n && !idx; i++) {
			d = json_object_array_get_idx(ms, i);
			if (is_index_type(d) && json_object_object_get_ex(d, "digest", &dg) &&
			    (blob = find_json(ss, json_object_get_string(dg), 1))) {
				*digest = blob->digest;
				idx = json_tokener_parse(blob->data.buf);
			}
		}
	}
	json_object_put(root);
	return idx;
}

/* Platforms the index lists (n) and how many of them are in the stream. */
static void count_platforms(struct idp_save_stream *ss, json_object *idx, int *n, int *present)
{
	json_object *ms, *d, *dg;
	size_t i, len;

	*n = *present = 0;
	if (!json_object_object_get_ex(idx, "manifests", &ms) ||
	    !json_object_is_type(ms, json_type_array))
		return;
	len = json_object_array_length(ms);
	for (i = 0; i < len; i++) {
		d = json_object_array_get_idx(ms, i);
		if (!is_platform_image(d))
			continue;
		(*n)++;
		if (json_object_object_get_ex(d, "digest", &dg) &&
		    find_json(ss, json_object_get_string(dg), 1))
			(*present)++;
	}
}

/* img->notice when the image is an index of several platforms: only the
 * one in manifest.json is pushed. */
static void index_notice(struct idp_save_stream *ss, const char *platform, struct idp_image *img)
{
	const char *digest = NULL;
	json_object *idx = top_index(ss, &digest);
	int n, present, rc;

	if (!idx)
		return;
	count_platforms(ss, idx, &n, &present);
	json_object_put(idx);
	if (n < 2 || img->notice)
		return;
	if (present <= 1)
		rc = asprintf(&img->notice,
			      "image index %s lists %d platforms; pushing %s only "
			      "(the others are not in docker's store)",
			      digest, n, platform ? platform : "one");
	else
		rc = asprintf(&img->notice,
			      "image index %s lists %d platforms; pushing %s only "
			      "(one platform per push: choose it with --platform)",
			      digest, n, platform ? platform : "one");
	if (rc < 0)
		img->notice = NULL;
}

/* ---- as stored: index.json's descriptor resolved over the stream ---- */

static int stored_read(void *ctx, const char *digest, struct idp_buf *out, struct idp_error *err)
{
	const struct jfile *j = find_json(ctx, digest, 1);

	if (!j)
		return idp_error_set(err, IDP_ENOTFOUND, "blob %s is not in the docker save stream",
				     digest);
	if (idp_buf_add(out, j->data.buf, j->data.len) < 0)
		return idp_error_set(err, IDP_EGENERAL, "blob %s is larger than a manifest may be",
				     digest);
	return 0;
}

static int stored_has(void *ctx, const char *digest, struct idp_error *err)
{
	struct idp_save_stream *ss = ctx;
	int i;

	(void)err;
	if (find_json(ss, digest, 1))
		return 1;
	for (i = 0; i < ss->nentries; i++)
		if (ss->entries[i].done && strcmp(ss->entries[i].digest, digest) == 0)
			return 1;
	return 0;
}

/* The descriptor of index.json naming the image ID (without one: the
 * first), resolved over the stream's blobs as the store keeps it. */
static int finish_stored(struct idp_save_stream *ss, struct idp_image *img, struct idp_error *err)
{
	struct jfile *ij = find_json(ss, "index.json", 0);
	json_object *root = ij ? json_tokener_parse(ij->data.buf) : NULL, *ms, *d = NULL;
	struct idp_blobstore bs = { stored_read, stored_has, ss };
	struct idp_source_opts so = { .stored = 1, .nplatforms = ss->o.platform ? 1 : 0,
				      .platforms = { ss->o.platform } };
	struct idp_walk_top top = { .what = "docker save stream" };
	size_t i, n;
	int rc = -1;

	ms = idp_json_array(root, "manifests");
	n = ms ? json_object_array_length(ms) : 0;
	for (i = 0; i < n && !d; i++) {
		d = json_object_array_get_idx(ms, i);
		top.digest = idp_json_str(d, "digest");
		if (ss->o.image_id && (!top.digest || strcmp(top.digest, ss->o.image_id) != 0))
			d = NULL;
	}
	if (!d || !top.digest) {
		idp_error_set(err, IDP_EGENERAL, "docker save stream: index.json %s%s",
			      ss->o.image_id ? "does not name image " : "names no image",
			      ss->o.image_id ? ss->o.image_id : "");
	} else {
		top.media_type = idp_json_str(d, "mediaType");
		top.size = idp_json_int(d, "size", -1);
		rc = idp_imgwalk(&bs, &top, &so, img, err);
	}
	json_object_put(root);
	return rc;
}

static int save_finish(void *ctx, struct idp_image *img, struct idp_error *err)
{
	struct idp_save_stream *ss = ctx;
	struct jfile *mj = find_json(ss, "manifest.json", 0);
	json_object *arr = NULL, *m, *c, *conf = NULL;
	struct layer_list *ll = NULL;
	char *plat = NULL;
	int rc = -1;

	if (!ss->ended)
		return idp_error_set(err, IDP_EGENERAL, "internal: docker save stream not ended");
	if (ss->mode == IDP_SAVE_DETECT)   /* nothing told: not the containerd store */
		ss->mode = IDP_SAVE_CONVERT;
	if (ss->o.went_stored)
		*ss->o.went_stored = ss->mode == IDP_SAVE_STORED;
	if (ss->mode == IDP_SAVE_STORED)
		return finish_stored(ss, img, err);
	if (!mj)
		return idp_error_set(err, IDP_EGENERAL,
				     "docker save stream ended without manifest.json (truncated?)");
	if (!(arr = parse_json(mj, "manifest", err)) || !(m = pick_manifest(ss, arr, err)))
		goto out;
	if (!json_object_object_get_ex(m, "Config", &c) ||
	    !(ss->config = find_json(ss, json_object_get_string(c), 0))) {
		idp_error_set(err, IDP_EGENERAL, "docker save stream: the image config is missing");
		goto out;
	}
	if (!(conf = parse_json(ss->config, "config", err)))
		goto out;
	if (!(ll = calloc(1, sizeof(*ll)))) {
		idp_error_set(err, IDP_EGENERAL, "out of memory");
		goto out;
	}
	plat = config_platform(conf);
	if (collect_layers(ss, m, ll, err) == 0 && check_config(ss, ss->config, conf, ll, err) == 0)
		rc = build_image(ss, ll, plat, img, err);
	if (rc == 0)
		index_notice(ss, plat, img);
out:
	free(plat);
	free(ll);
	json_object_put(conf);
	json_object_put(arr);
	return rc;
}

static int save_open_blob(void *ctx, const struct idp_image_blob *b, struct idp_blob_reader *r,
			  struct idp_error *err)
{
	const struct jfile *j = find_json(ctx, b->digest, 1);

	if (!j)
		return idp_error_set(err, IDP_EGENERAL,
				     "internal: blob %s is no JSON blob of the stream", b->digest);
	return idp_blob_reader_mem(j->data.buf, j->data.len, r, err);
}

static void save_close(void *ctx)
{
	struct idp_save_stream *ss = ctx;
	int i;

	if (!ss)
		return;
	cur_release(&ss->cur);
	if (ss->a)
		archive_read_free(ss->a);
	idp_readahead_stop(ss->ra);
	for (i = 0; i < ss->nentries; i++) {
		free(ss->entries[i].path);
		free(ss->entries[i].link);
	}
	for (i = 0; i < ss->njson; i++) {
		free(ss->json[i].path);
		idp_buf_release(&ss->json[i].data);
	}
	free(ss->entries);
	free(ss->json);
	free(ss);
}

static const struct idp_stream_ops docker_save_ops = {
	.name = "docker-save",
	.next = save_next,
	.done = save_done,
	.skip = save_skip,
	.finish = save_finish,
	.open_blob = save_open_blob,
	.close = save_close,
};

int idp_stream_docker_save(int fd, const struct idp_save_opts *o, struct idp_stream *out,
			   struct idp_error *err)
{
	struct idp_save_stream *ss = NULL;

	if (save_open(fd, o, &ss, err) < 0)
		return -1;
	out->ops = &docker_save_ops;
	out->priv = ss;
	return 0;
}
