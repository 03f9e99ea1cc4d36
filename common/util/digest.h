/* digest.h: sha256 digests ("sha256:<64 hex>") over GnuTLS's hash API. */
#ifndef IDP_DIGEST_H
#define IDP_DIGEST_H

#include <stddef.h>

#define IDP_DIGEST_MAX 72   /* "sha256:" + 64 hex + NUL, with room */

struct idp_sha256;   /* opaque streaming context */

struct idp_sha256 *idp_sha256_new(void);
void idp_sha256_update(struct idp_sha256 *h, const void *data, size_t n);
/* Write "sha256:<hex>" into out (IDP_DIGEST_MAX bytes) and reset h. */
void idp_sha256_final(struct idp_sha256 *h, char out[IDP_DIGEST_MAX]);
void idp_sha256_free(struct idp_sha256 *h);

/* One-shot digest of a memory block. */
void idp_sha256_digest(const void *data, size_t n, char out[IDP_DIGEST_MAX]);

/* 1 when s is "sha256:" followed by exactly 64 lowercase hex digits.
 * (Other algorithms are refused: every registry we target uses sha256.) */
int idp_digest_valid(const char *s);

/* The 64-hex part of a valid digest. */
const char *idp_digest_hex(const char *digest);

#endif
