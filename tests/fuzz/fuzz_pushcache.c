/* fuzz_pushcache.c: libFuzzer target for the plugin's push-cache reader
 * (common/docker/pushcache.c). The input is written as a cache file in the
 * private temp dir and loaded; every entry kept must be valid, findable by
 * its own keys (a daemon's run too), and survive a commit to a fresh file
 * and a reload unchanged in number. */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "util/digest.h"
#include "docker/pushcache.h"
#include "fuzz.h"

const char fe_progname[] = "fuzz_pushcache";

static void check_entries(const struct idp_pushcache *c)
{
	int i;

	FZ_ASSERT(c->nblobs >= 0 && c->nblobs <= IDP_PUSHCACHE_MAX);
	FZ_ASSERT(c->nv1 >= 0 && c->nv1 <= IDP_PUSHCACHE_MAX);
	for (i = 0; i < c->nblobs; i++) {
		const struct idp_pushcache_blob *b = &c->blobs[i];
		struct idp_pushcache_query same = { b->registry, b->repository, b->diffid,
						    b->producer, IDP_PUSHCACHE_SAME_REPO };
		struct idp_pushcache_query other = { b->registry, "other/repo", b->diffid, NULL,
						     IDP_PUSHCACHE_OTHER_REPO };

		FZ_ASSERT(idp_digest_valid(b->diffid) && idp_digest_valid(b->digest));
		FZ_ASSERT(b->size >= 0 && b->registry && b->repository && b->media_type &&
			  b->producer);
		FZ_ASSERT(idp_pushcache_find(c, &same) != NULL);
		(void)idp_pushcache_find(c, &other);
	}
	for (i = 0; i < c->nv1; i++)
		FZ_ASSERT(idp_pushcache_v1_diffid(c, c->v1[i].v1id) != NULL);
	FZ_ASSERT(c->ndaemons >= 0 && c->ndaemons <= IDP_PUSHCACHE_DAEMONS);
	for (i = 0; i < c->ndaemons; i++) {
		const struct idp_pushcache_daemon *d = &c->daemons[i];

		FZ_ASSERT(d->socket && d->socket[0] == '/' && d->pid > 0);
		FZ_ASSERT(d->info.root && d->info.root[0] == '/' && d->info.driver);
		FZ_ASSERT(idp_pushcache_daemon(c, d) == &d->info);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_pushcache c, again;
	char warning[512];
	const char *out = fz_path(1, "out/push-cache.json");
	int rc;

	fz_write(fz_path(0, "push-cache.json"), data, size);
	idp_pushcache_load(&c, fz_path(0, "push-cache.json"), warning, sizeof(warning));
	check_entries(&c);
	unlink(out);
	rc = idp_pushcache_commit(out, &c, &err);
	fz_check_err(rc, &err);
	FZ_ASSERT(rc == 0);
	idp_pushcache_load(&again, out, warning, sizeof(warning));
	FZ_ASSERT(again.nblobs == c.nblobs && again.nv1 == c.nv1 &&
		  again.ndaemons == c.ndaemons);
	idp_pushcache_release(&again);
	idp_pushcache_release(&c);
	return 0;
}
