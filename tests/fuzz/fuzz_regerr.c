/* fuzz_regerr.c: libFuzzer target for common/registry/regerr.c. The first two
 * bytes choose the HTTP status (100..599), the rest is the error body,
 * handed over WITHOUT a terminating NUL. The message must be one clean
 * line (no control characters: bodies are never echoed raw), the class
 * set, and idp_regerr_first_code must fill what it is given. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "registry/regerr.h"
#include "fuzz.h"

static void check_clean(const struct idp_error *err)
{
	const char *s;

	FZ_ASSERT(err->cls != IDP_OK && err->msg[0]);
	for (s = err->msg; *s; s++)
		FZ_ASSERT((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct idp_error err = IDP_ERROR_INIT;
	long status;
	char *body, code[16], big[128];

	if (size < 2)
		return 0;
	status = 100 + ((long)data[0] << 8 | data[1]) % 500;
	body = fz_memdup(data + 2, size - 2);
	FZ_ASSERT(idp_regerr_from_response(&err, "uploading blob x to h/r", status, body,
					   size - 2) == -1);
	check_clean(&err);
	FZ_ASSERT(err.http_status == status);
	idp_error_clear(&err);
	FZ_ASSERT(idp_regerr_from_response(&err, "", status, NULL, 0) == -1);
	check_clean(&err);
	if (idp_regerr_first_code(body, size - 2, code, sizeof(code)) == 0)
		FZ_ASSERT(code[0] && strlen(code) < sizeof(code));
	else
		FZ_ASSERT(code[0] == '\0');
	(void)idp_regerr_first_code(body, size - 2, big, sizeof(big));
	(void)idp_regerr_first_code(body, size - 2, code, 0);
	free(body);
	return 0;
}
