/* tarsplit.h: a reader of tar-split files, the `tar-split.json.gz` dockerd
 * keeps beside every layer of its layer store (graph drivers): a gzip
 * stream of JSON lines, one per piece of the layer's tar, in order:
 *   {"type":2,"payload":"<base64>"}   raw bytes of the tar: headers,
 *                                     padding, the end-of-archive blocks
 *   {"type":1,"name":"usr/bin/x","size":N,"payload":"<crc64>"}
 *                                     the N bytes of a file, read from the
 *                                     layer's directory ("name_raw", base64,
 *                                     replaces "name" when not UTF-8)
 * The tar is the type 2 bytes and the files' bytes concatenated; its
 * sha256 is the layer's diffID (that is how dockerd itself exports a
 * layer). Everything is bounded: a line (so a segment) IDP_TARSPLIT_LINE_MAX,
 * a name IDP_TARSPLIT_NAME_MAX, a file IDP_TARSPLIT_FILE_MAX, the entries
 * IDP_TARSPLIT_MAX_ENTRIES. The name of a file with bytes to read must be
 * relative and must not climb (no "..", no NUL); the gzip stream must end
 * cleanly, with nothing after it. Any violation is an IDP_EGENERAL error. */
#ifndef IDP_TARSPLIT_H
#define IDP_TARSPLIT_H

#include <stddef.h>
#include <stdint.h>
#include "util/blobreader.h"
#include "util/error.h"

#define IDP_TARSPLIT_LINE_MAX ((size_t)1 << 20)
#define IDP_TARSPLIT_NAME_MAX 4096
#define IDP_TARSPLIT_FILE_MAX ((int64_t)1 << 40)
#define IDP_TARSPLIT_MAX_ENTRIES ((int64_t)1 << 24)

enum idp_ts_type { IDP_TS_FILE = 1, IDP_TS_SEGMENT = 2 };

struct idp_ts_entry {
	enum idp_ts_type type;
	const char *name;          /* IDP_TS_FILE: its path in the layer */
	int64_t size;              /* IDP_TS_FILE: its bytes in the tar */
	const unsigned char *data; /* IDP_TS_SEGMENT: the raw bytes */
	size_t len;
};

struct idp_tarsplit;

/* A reader over in (the gzip'd file; not closed by it). */
int idp_tarsplit_new(struct idp_blob_reader in, struct idp_tarsplit **out, struct idp_error *err);
void idp_tarsplit_free(struct idp_tarsplit *ts);
/* The next entry (valid until the next call): 1, 0 at the end, -1 with
 * err. */
int idp_tarsplit_next(struct idp_tarsplit *ts, struct idp_ts_entry *e, struct idp_error *err);

/* Whether a file name is one to open below a directory: relative, no
 * ".." component, no NUL in its len bytes, not empty once "." and empty
 * components are dropped. */
int idp_tarsplit_name_ok(const char *name, size_t len);

/* Strict base64 (standard alphabet, padded, no white space) of in[0..n)
 * into out (at least n / 4 * 3 bytes): the decoded length, or -1. */
ssize_t idp_base64_decode(const char *in, size_t n, unsigned char *out);

#endif
