/* fuzz_ref.c: libFuzzer target for common/util/ref.c. Input lines: the
 * reference; optionally the default registry and the default owner (a
 * present but empty owner line means "no owner"). A parsed reference must
 * be complete (domain, path, a tag or a digest), print back to a string
 * that parses to the same reference, and release cleanly. The default
 * registry is also fed to idp_registry_host_normalize. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "util/ref.h"
#include "fuzz.h"

static int names_a_host(const char *domain)
{
	return strchr(domain, '.') || strchr(domain, ':') || strcmp(domain, "localhost") == 0;
}

static void check_parsed(const struct idp_ref *r, const struct idp_ref_defaults *d)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_ref again;
	char *s = idp_ref_string(r), *repo = idp_ref_repository(r), *s2;
	int rc;

	FZ_ASSERT(r->domain && r->path && (r->tag || r->digest));
	FZ_ASSERT(s && repo);
	(void)idp_host_is_loopback(r->domain);
	if (names_a_host(r->domain)) {
		rc = idp_ref_parse(s, d, &again, &err);
		FZ_ASSERT(rc == 0);
		s2 = idp_ref_string(&again);
		FZ_ASSERT(s2 && strcmp(s, s2) == 0);
		free(s2);
		idp_ref_release(&again);
	}
	free(s);
	free(repo);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_ref_defaults d = { NULL, NULL, NULL };
	struct fz_parts lines;
	struct idp_ref r;
	char *host;
	int rc;

	fz_split(data, size, "\n", &lines);
	if (lines.n > 1)
		d.registry = lines.p[1].s[0] ? lines.p[1].s : NULL;
	if (lines.n > 2)
		d.owner = lines.p[2].s;
	if (lines.n > 3)
		d.tag = lines.p[3].s;
	(void)idp_ref_is_registry_only(lines.p[0].s);
	rc = idp_ref_parse(lines.p[0].s, lines.n > 1 ? &d : NULL, &r, &err);
	fz_check_err(rc, &err);
	if (rc == 0) {
		check_parsed(&r, lines.n > 1 ? &d : NULL);
		idp_ref_release(&r);
	}
	if (lines.n > 1) {
		idp_error_clear(&err);
		host = idp_registry_host_normalize(lines.p[1].s, &err);
		fz_check_err(host ? 0 : -1, &err);
		if (host)
			(void)idp_host_is_loopback(host);
		free(host);
	}
	fz_parts_free(&lines);
	return 0;
}
