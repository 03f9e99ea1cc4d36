/* buf.h: the one growable byte buffer (git's strbuf invariants plus a curl
 * dynbuf-style size cap). `buf` is never NULL and always NUL-terminated;
 * appending past `cap` fails instead of growing, which bounds everything we
 * read from outside (manifests, tokens, error bodies, config files). */
#ifndef IDP_BUF_H
#define IDP_BUF_H

#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>

struct idp_buf {
	char *buf;
	size_t len;
	size_t alloc;
	size_t cap;     /* maximum len; 0 = IDP_BUF_DEFAULT_CAP */
};

/* Named caps for what we read from outside. */
#define IDP_CAP_MANIFEST   (10u << 20)  /* Gitea's limit; spec wants >= 4 MB */
#define IDP_CAP_JSON_SMALL (1u << 20)   /* tokens, error bodies, helper output */
#define IDP_CAP_CONFIG     (4u << 20)   /* config.json, hosts.toml */
/* Largest blob offset or size believed (1 PiB): anything past it is
 * treated as invalid, so sums and offsets never overflow. */
#define IDP_SIZE_MAX_BELIEVED ((int64_t)1 << 50)
#define IDP_BUF_DEFAULT_CAP (64u << 20)

#define IDP_BUF_INIT { idp_buf_empty, 0, 0, 0 }
extern char idp_buf_empty[];

void idp_buf_init(struct idp_buf *b, size_t cap);
/* Free the memory and return to the initial (empty) state, keeping cap. */
void idp_buf_release(struct idp_buf *b);
void idp_buf_reset(struct idp_buf *b);
/* Hand the NUL-terminated contents to the caller (who frees them). */
char *idp_buf_detach(struct idp_buf *b, size_t *len);

/* All return 0, or -1 when the cap would be exceeded (contents unchanged)
 * or memory ran out. */
int idp_buf_add(struct idp_buf *b, const void *data, size_t n);
int idp_buf_adds(struct idp_buf *b, const char *s);
int idp_buf_addf(struct idp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int idp_buf_addvf(struct idp_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Read a whole file into b (bounded by b's cap). Returns 0, or -1 with errno
 * set (EFBIG when over the cap). */
int idp_buf_read_file(struct idp_buf *b, const char *path);

#endif
