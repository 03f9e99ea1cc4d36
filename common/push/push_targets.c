/* push_targets.c: pushing one image to several destinations
 * (idp_push_image_to): the blobs go once to each registry, into its first
 * target, and are mounted into its other targets; the manifests are put
 * when every blob is in place. Streams do the same in push_stream.c. */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include "push_private.h"
#include "banned.h"

int push_primary(const struct idp_push_target *t, int i)
{
	const char *reg = idp_session_ref(t[i].s)->domain;
	int j;

	for (j = 0; j < i; j++)
		if (strcmp(idp_session_ref(t[j].s)->domain, reg) == 0)
			return j;
	return i;
}

int push_target_error(const struct idp_push_target *t, int n, int i, struct idp_error *err)
{
	const struct idp_ref *r = idp_session_ref(t[i].s);
	char what[600];

	if (n < 2)
		return -1;
	snprintf(what, sizeof(what), " (target %s/%s%s%s)", r->domain, r->path,
		 t[i].tag ? ":" : "", t[i].tag ? t[i].tag : "");
	return idp_error_suffix(err, what);
}

int idp_push_manifests_to(struct idp_push_target *t, int n, const struct idp_push_opts *o,
			  const struct idp_image *img, struct idp_error *err)
{
	int i;

	for (i = 0; i < n; i++)
		if (idp_push_manifests(t[i].s, o, img, t[i].tag, &t[i].res, err) < 0)
			return push_target_error(t, n, i, err);
	return 0;
}

int idp_push_image_to(struct idp_push_target *t, int n, const struct idp_push_opts *o,
		      struct idp_source *src, const struct idp_image *img, struct idp_error *err)
{
	const char *from;
	int i, p;

	for (i = 0; i < n; i++) {
		if (t[i].blobs_done)
			continue;
		p = push_primary(t, i);
		from = p != i ? idp_session_ref(t[p].s)->path : NULL;
		if (push_blobs_into(t[i].s, o, src, img, from, &t[i].res.stats, err) < 0)
			return push_target_error(t, n, i, err);
	}
	return idp_push_manifests_to(t, n, o, img, err);
}
