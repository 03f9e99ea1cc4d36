/* fuzz_challenge.c: libFuzzer target for common/registry/challenge.c and the
 * request building of common/registry/token.c. Each input line is one
 * WWW-Authenticate header value, appended to one idp_challenges. What was
 * parsed must respect the documented bounds (lowercase schemes and names,
 * at most IDP_CHALLENGES_MAX challenges of IDP_CHALLENGE_MAX_PARAMS
 * parameters); then the Bearer challenge's realm, service and scope (as a
 * registry sends them) build a token GET URL and a refresh POST form, as
 * auth.c does. */
#include "config.h"
#include <string.h>
#include "util/buf.h"
#include "registry/challenge.h"
#include "registry/token.h"
#include "fuzz.h"

#define MAX_HEADERS 6

static void check_lower(const char *s)
{
	FZ_ASSERT(s != NULL);
	for (; *s; s++)
		FZ_ASSERT(!(*s >= 'A' && *s <= 'Z'));
}

static void check_bounds(const struct idp_challenges *cs)
{
	int i, j;

	FZ_ASSERT(cs->n >= 0 && cs->n <= IDP_CHALLENGES_MAX);
	for (i = 0; i < cs->n; i++) {
		const struct idp_challenge *c = &cs->c[i];
		check_lower(c->scheme);
		FZ_ASSERT(c->nparams >= 0 && c->nparams <= IDP_CHALLENGE_MAX_PARAMS);
		for (j = 0; j < c->nparams; j++) {
			check_lower(c->params[j].name);
			FZ_ASSERT(c->params[j].value != NULL);
		}
	}
}

static void build_requests(const struct idp_challenge *c)
{
	const char *realm = idp_challenge_param(c, "realm");
	const char *service = idp_challenge_param(c, "service");
	const char *scope = idp_challenge_param(c, "scope");
	const char *scopes[2] = { scope ? scope : "repository:a/b:pull,push", "x:y:pull" };
	struct idp_buf url = IDP_BUF_INIT, form = IDP_BUF_INIT, sc = IDP_BUF_INIT;

	if (!realm)
		return;
	if (idp_buf_adds(&url, realm) == 0) {
		(void)idp_token_build_get_url(&url, realm, service, scopes, 2, "user");
		(void)idp_token_build_get_url(&url, realm, service, scopes, 0, NULL);
	}
	(void)idp_token_build_post_form(&form, "refresh", service, scopes, 2);
	(void)idp_token_scope(&sc, scope ? scope : "", 1);
	FZ_ASSERT(strlen(url.buf) == url.len && strlen(form.buf) == form.len);
	idp_buf_release(&url);
	idp_buf_release(&form);
	idp_buf_release(&sc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_challenges cs;
	const struct idp_challenge *c;
	struct fz_parts lines;
	int i, rc;

	memset(&cs, 0, sizeof(cs));
	fz_split(data, size, "\n", &lines);
	for (i = 0; i < lines.n && i < MAX_HEADERS; i++) {
		idp_error_clear(&err);
		rc = idp_challenges_parse(lines.p[i].s, &cs, &err);
		fz_check_err(rc, &err);
		check_bounds(&cs);
	}
	if ((c = idp_challenges_find(&cs, "Bearer")))
		build_requests(c);
	(void)idp_challenges_find(&cs, "basic");
	idp_challenges_release(&cs);
	fz_parts_free(&lines);
	return 0;
}
