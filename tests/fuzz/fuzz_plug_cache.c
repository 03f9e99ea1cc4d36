/* fuzz_plug_cache.c: libFuzzer target for the plugin's push-cache reader
 * (plugin/plug_cache.c). The input is written as a cache file in the
 * private temp dir and loaded; every entry kept must be valid, findable by
 * its own keys, and survive a commit to a fresh file and a reload
 * unchanged in number. */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "digest.h"
#include "plug_cache.h"
#include "fuzz.h"

const char fe_progname[] = "fuzz_plug_cache";

static void check_entries(const struct plug_cache *c)
{
	int i;

	FZ_ASSERT(c->nblobs >= 0 && c->nblobs <= PLUG_CACHE_MAX);
	FZ_ASSERT(c->nv1 >= 0 && c->nv1 <= PLUG_CACHE_MAX);
	for (i = 0; i < c->nblobs; i++) {
		const struct plug_cache_blob *b = &c->blobs[i];
		FZ_ASSERT(idp_digest_valid(b->diffid) && idp_digest_valid(b->digest));
		FZ_ASSERT(b->size >= 0 && b->registry && b->repository && b->media_type &&
			  b->producer);
		FZ_ASSERT(plug_cache_find(c, b->registry, b->repository, b->diffid, b->producer,
					  PLUG_CACHE_SAME_REPO) != NULL);
		(void)plug_cache_find(c, b->registry, "other/repo", b->diffid, NULL,
				      PLUG_CACHE_OTHER_REPO);
	}
	for (i = 0; i < c->nv1; i++)
		FZ_ASSERT(plug_cache_v1_diffid(c, c->v1[i].v1id) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct plug_cache c, again;
	const char *out = fz_path(1, "out/push-cache.json");
	int rc;

	fz_write(fz_path(0, "push-cache.json"), data, size);
	plug_cache_load(&c, fz_path(0, "push-cache.json"));
	check_entries(&c);
	unlink(out);
	rc = plug_cache_commit(out, &c, &err);
	fz_check_err(rc, &err);
	FZ_ASSERT(rc == 0);
	plug_cache_load(&again, out);
	FZ_ASSERT(again.nblobs == c.nblobs && again.nv1 == c.nv1);
	plug_cache_release(&again);
	plug_cache_release(&c);
	return 0;
}
