/* tarsplit.c: reading dockerd's tar-split.json.gz (tarsplit.h): zlib
 * inflates the reader's bytes into a bounded line buffer, each line is
 * parsed with json-c and checked, segments are base64-decoded into a
 * buffer of the reader's own. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <json-c/json.h>
#include "tarsplit.h"
#include "banned.h"

#define IN_CHUNK (64u << 10)
#if JSON_C_VERSION_NUM >= (15 << 8)
#define PARSE_END(tok) json_tokener_get_parse_end(tok)
#else
#define PARSE_END(tok) ((size_t)(tok)->char_offset)
#endif
#define BUF_CAP (IDP_TARSPLIT_LINE_MAX + IN_CHUNK)

struct idp_tarsplit {
	struct idp_blob_reader in;
	z_stream zs;
	int zinit, zend, in_eof;
	unsigned char ibuf[IN_CHUNK];
	char *buf;                 /* inflated bytes: [off, len) not consumed yet */
	size_t off, len;
	json_tokener *tok;
	json_object *cur;          /* the line last parsed */
	unsigned char *data;       /* its decoded payload */
	char name[IDP_TARSPLIT_NAME_MAX + 1];
	int64_t nentries;
};

static int bad(struct idp_error *err, const char *what)
{
	return idp_error_set(err, IDP_EGENERAL, "tar-split: %s", what);
}

int idp_tarsplit_new(struct idp_blob_reader in, struct idp_tarsplit **out, struct idp_error *err)
{
	struct idp_tarsplit *ts = calloc(1, sizeof(*ts));

	if (!ts || !(ts->buf = malloc(BUF_CAP)) || !(ts->data = malloc(IDP_TARSPLIT_LINE_MAX)) ||
	    !(ts->tok = json_tokener_new())) {
		idp_tarsplit_free(ts);
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	ts->in = in;
	if (inflateInit2(&ts->zs, 15 + 16) != Z_OK) {   /* gzip wrapper only */
		idp_tarsplit_free(ts);
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	ts->zinit = 1;
	*out = ts;
	return 0;
}

void idp_tarsplit_free(struct idp_tarsplit *ts)
{
	if (!ts)
		return;
	if (ts->zinit)
		inflateEnd(&ts->zs);
	if (ts->tok)
		json_tokener_free(ts->tok);
	json_object_put(ts->cur);
	free(ts->buf);
	free(ts->data);
	free(ts);
}

/* ---- base64 and names ---- */

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

ssize_t idp_base64_decode(const char *in, size_t n, unsigned char *out)
{
	size_t i, o = 0;
	int v[4], k, pad = 0;

	if (n % 4)
		return -1;
	for (i = 0; i < n; i += 4) {
		for (k = 0; k < 4; k++) {
			v[k] = b64_value((unsigned char)in[i + k]);
			if (v[k] < 0 && in[i + k] == '=' && i + 4 == n && k >= 2)
				pad++;
			else if (v[k] < 0 || pad)
				return -1;
		}
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (pad < 1)
			out[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	return (ssize_t)o;
}

int idp_tarsplit_name_ok(const char *name, size_t len)
{
	size_t i = 0, j;
	int parts = 0;

	if (len == 0 || len > IDP_TARSPLIT_NAME_MAX || name[0] == '/' || memchr(name, 0, len))
		return 0;
	while (i < len) {
		for (j = i; j < len && name[j] != '/'; j++)
			;
		if (j - i == 2 && name[i] == '.' && name[i + 1] == '.')
			return 0;
		if (j - i > 0 && !(j - i == 1 && name[i] == '.'))
			parts++;
		i = j + 1;
	}
	return parts > 0;
}

/* ---- lines out of the gzip stream ---- */

/* Nothing may follow the gzip stream. */
static int check_trailer(struct idp_tarsplit *ts, struct idp_error *err)
{
	ssize_t n;

	if (ts->zs.avail_in)
		return bad(err, "data after the gzip stream");
	while (!ts->in_eof) {
		if ((n = ts->in.ops->read(ts->in.ctx, ts->ibuf, sizeof(ts->ibuf), err)) < 0)
			return -1;
		if (n > 0)
			return bad(err, "data after the gzip stream");
		ts->in_eof = 1;
	}
	return 0;
}

/* More inflated bytes at buf[len..): 0 (ts->zend at the end), -1. */
static int inflate_more(struct idp_tarsplit *ts, struct idp_error *err)
{
	size_t before = ts->len;
	ssize_t n;
	int rc;

	while (ts->len == before && !ts->zend) {
		if (!ts->zs.avail_in && !ts->in_eof) {
			if ((n = ts->in.ops->read(ts->in.ctx, ts->ibuf, sizeof(ts->ibuf), err)) < 0)
				return -1;
			ts->in_eof = n == 0;
			ts->zs.next_in = ts->ibuf;
			ts->zs.avail_in = (uInt)n;
		}
		ts->zs.next_out = (unsigned char *)ts->buf + ts->len;
		ts->zs.avail_out = (uInt)(BUF_CAP - ts->len);
		rc = inflate(&ts->zs, Z_NO_FLUSH);
		ts->len = BUF_CAP - ts->zs.avail_out;
		if (rc == Z_STREAM_END) {
			ts->zend = 1;
			return check_trailer(ts, err);
		}
		if (rc == Z_BUF_ERROR && ts->in_eof && !ts->zs.avail_in)
			return bad(err, "truncated gzip stream");
		if (rc != Z_OK && rc != Z_BUF_ERROR)
			return bad(err, "damaged gzip stream");
	}
	return 0;
}

/* The next line (without its newline) into line and n: 1, 0 at the end, -1. */
static int next_line(struct idp_tarsplit *ts, char **line, size_t *n, struct idp_error *err)
{
	char *nl;

	for (;;) {
		nl = memchr(ts->buf + ts->off, '\n', ts->len - ts->off);
		if (nl || (ts->zend && ts->off < ts->len)) {
			*line = ts->buf + ts->off;
			*n = nl ? (size_t)(nl - *line) : ts->len - ts->off;
			ts->off += *n + (nl != NULL);
			if (*n > IDP_TARSPLIT_LINE_MAX)
				return bad(err, "line too long");
			return 1;
		}
		if (ts->zend)
			return 0;
		memmove(ts->buf, ts->buf + ts->off, ts->len - ts->off);
		ts->len -= ts->off;
		ts->off = 0;
		if (ts->len > IDP_TARSPLIT_LINE_MAX)
			return bad(err, "line too long");
		if (inflate_more(ts, err) < 0)
			return -1;
	}
}

/* ---- entries ---- */

/* A base64 member (absent or null: no bytes) into ts->data. */
static int decode_member(struct idp_tarsplit *ts, const char *key, size_t *len,
			 struct idp_error *err)
{
	json_object *v;
	ssize_t n;

	*len = 0;
	if (!json_object_object_get_ex(ts->cur, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return bad(err, "a payload that is not a string");
	n = idp_base64_decode(json_object_get_string(v), (size_t)json_object_get_string_len(v),
			      ts->data);
	if (n < 0)
		return bad(err, "bad base64");
	*len = (size_t)n;
	return 0;
}

static int file_name(struct idp_tarsplit *ts, struct idp_ts_entry *e, struct idp_error *err)
{
	json_object *v;
	const char *s = "";
	size_t n = 0;

	if (json_object_object_get_ex(ts->cur, "name_raw", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_string) ||
		    (size_t)json_object_get_string_len(v) > IDP_TARSPLIT_NAME_MAX / 3 * 4)
			return bad(err, "a bad raw name");
		if (decode_member(ts, "name_raw", &n, err) < 0)
			return -1;
		s = (const char *)ts->data;
	} else if (json_object_object_get_ex(ts->cur, "name", &v) &&
		   json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		n = (size_t)json_object_get_string_len(v);
	}
	if (n > IDP_TARSPLIT_NAME_MAX || (e->size > 0 && !idp_tarsplit_name_ok(s, n)))
		return bad(err, "a file name that is empty, absolute, climbs out or is too long");
	memcpy(ts->name, s, n);
	ts->name[n] = '\0';
	e->name = ts->name;
	return 0;
}

static int file_entry(struct idp_tarsplit *ts, struct idp_ts_entry *e, struct idp_error *err)
{
	json_object *v;

	e->size = 0;
	if (json_object_object_get_ex(ts->cur, "size", &v)) {
		if (!json_object_is_type(v, json_type_int))
			return bad(err, "a file size that is not a number");
		e->size = json_object_get_int64(v);
		if (e->size < 0 || e->size > IDP_TARSPLIT_FILE_MAX)
			return bad(err, "a file size out of range");
	}
	return file_name(ts, e, err);
}

static int parse_line(struct idp_tarsplit *ts, const char *line, size_t n, struct idp_ts_entry *e,
		      struct idp_error *err)
{
	json_object *t;
	int64_t type;

	json_object_put(ts->cur);
	json_tokener_reset(ts->tok);
	ts->cur = json_tokener_parse_ex(ts->tok, line, (int)n);
	if (!ts->cur || json_tokener_get_error(ts->tok) != json_tokener_success ||
	    PARSE_END(ts->tok) != n || !json_object_is_type(ts->cur, json_type_object))
		return bad(err, "a line that is not a JSON object");
	if (!json_object_object_get_ex(ts->cur, "type", &t) ||
	    !json_object_is_type(t, json_type_int))
		return bad(err, "an entry without a type");
	memset(e, 0, sizeof(*e));
	type = json_object_get_int64(t);
	if (type == IDP_TS_SEGMENT) {
		e->type = IDP_TS_SEGMENT;
		e->data = ts->data;
		return decode_member(ts, "payload", &e->len, err);
	}
	if (type != IDP_TS_FILE)
		return bad(err, "an entry of an unknown type");
	e->type = IDP_TS_FILE;
	return file_entry(ts, e, err);
}

int idp_tarsplit_next(struct idp_tarsplit *ts, struct idp_ts_entry *e, struct idp_error *err)
{
	char *line;
	size_t n;
	int rc;

	do {
		if ((rc = next_line(ts, &line, &n, err)) <= 0)
			return rc;
	} while (n == 0);
	if (++ts->nentries > IDP_TARSPLIT_MAX_ENTRIES)
		return bad(err, "too many entries");
	return parse_line(ts, line, n, e, err) < 0 ? -1 : 1;
}
