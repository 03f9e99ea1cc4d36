/* digest.c: sha256 through GnuTLS (no hand-written hashing). */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include "digest.h"
#include "banned.h"

struct idp_sha256 {
	gnutls_hash_hd_t hd;
};

struct idp_sha256 *idp_sha256_new(void)
{
	struct idp_sha256 *h = calloc(1, sizeof(*h));
	if (h && gnutls_hash_init(&h->hd, GNUTLS_DIG_SHA256) < 0) {
		free(h);
		return NULL;
	}
	return h;
}

void idp_sha256_update(struct idp_sha256 *h, const void *data, size_t n)
{
	if (n)
		gnutls_hash(h->hd, data, n);
}

static void to_digest(const unsigned char raw[32], char out[IDP_DIGEST_MAX])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	memcpy(out, "sha256:", 7);
	for (i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[raw[i] >> 4];
		out[8 + 2 * i] = hex[raw[i] & 15];
	}
	out[71] = '\0';
}

void idp_sha256_final(struct idp_sha256 *h, char out[IDP_DIGEST_MAX])
{
	unsigned char raw[32];
	gnutls_hash_output(h->hd, raw);   /* also resets the context */
	to_digest(raw, out);
}

void idp_sha256_free(struct idp_sha256 *h)
{
	if (!h)
		return;
	gnutls_hash_deinit(h->hd, NULL);
	free(h);
}

void idp_sha256_digest(const void *data, size_t n, char out[IDP_DIGEST_MAX])
{
	unsigned char raw[32];
	gnutls_hash_fast(GNUTLS_DIG_SHA256, data, n, raw);
	to_digest(raw, out);
}

int idp_digest_valid(const char *s)
{
	size_t i;
	if (!s || strncmp(s, "sha256:", 7) != 0 || strlen(s) != 71)
		return 0;
	for (i = 7; i < 71; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

const char *idp_digest_hex(const char *digest)
{
	const char *c = strchr(digest, ':');
	return c ? c + 1 : digest;
}
