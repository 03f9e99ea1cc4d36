/* fuzz_location.c: libFuzzer target for common/registry/http.c's idp_http_resolve:
 * the input (up to its first NUL) is a Location header, resolved against
 * fixed upload URLs as the engine does with a registry's answer. A result
 * must be an absolute http(s) URL with no user in it. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "registry/http.h"
#include "fuzz.h"

static const char *const bases[] = {
	"https://registry.example:5000/v2/owner/name/blobs/uploads/",
	"http://127.0.0.1:5000/v2/a/b/blobs/uploads/1234?_state=x",
	"https://[::1]:8443/v2/a/b/blobs/uploads/",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *loc = fz_strndup(data, size), *url;
	size_t i;

	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		url = idp_http_resolve(bases[i], loc);
		FZ_ASSERT(!url || strncmp(url, "http://", 7) == 0 ||
			  strncmp(url, "https://", 8) == 0);
		FZ_ASSERT(!url || !strchr(url, '@') || strchr(url, '@') > strchr(url + 8, '/'));
		free(url);
	}
	free(loc);
	return 0;
}
