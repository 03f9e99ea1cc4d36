/* fuzz_token.c: libFuzzer target for common/registry/token.c's response parsing.
 * The input is a token endpoint's body, handed over WITHOUT a terminating
 * NUL (as its length says), parsed at a fixed clock; a parsed token must
 * be non-empty with a positive lifetime, and idp_token_expired must cope
 * with any issued_at / expires_in it was given, at any clock. */
#include "config.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "registry/token.h"
#include "fuzz.h"

#define NOW ((time_t)1700000000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_token t;
	char *body = fz_memdup(data, size);
	int rc;

	memset(&t, 0, sizeof(t));
	rc = idp_token_parse(body, size, NOW, &t, &err);
	fz_check_err(rc, &err);
	if (rc == 0) {
		FZ_ASSERT(t.token && t.token[0]);
		FZ_ASSERT(t.expires_in >= 1);
		(void)idp_token_expired(&t, NOW);
		(void)idp_token_expired(&t, t.issued_at);
		(void)idp_token_expired(&t, 0);
		(void)idp_token_expired(&t, (time_t)INT_MAX * 4);
	}
	idp_token_release(&t);
	free(body);
	return 0;
}
