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

int idp_push_first_of_registry(const struct idp_push_targets *to, int i)
{
	return push_primary(to->t, i) == i;
}

int push_target_error(const struct idp_push_targets *to, int i, struct idp_error *err)
{
	const struct idp_ref *r = idp_session_ref(to->t[i].s);
	char what[600];

	if (to->n < 2)
		return -1;
	snprintf(what, sizeof(what), " (target %s/%s%s%s)", r->domain, r->path,
		 to->t[i].tag ? ":" : "", to->t[i].tag ? to->t[i].tag : "");
	return idp_error_suffix(err, what);
}

int idp_push_manifests_to(const struct idp_push_targets *to, const struct idp_image *img,
			  struct idp_error *err)
{
	int i;

	for (i = 0; i < to->n; i++)
		if (push_manifests(&to->t[i], to->o, img, err) < 0)
			return push_target_error(to, i, err);
	return 0;
}

int idp_push_image_to(const struct idp_push_targets *to, struct idp_source *src,
		      const struct idp_image *img, struct idp_error *err)
{
	int i;

	for (i = 0; i < to->n; i++)
		if (!to->t[i].blobs_done && push_blobs_into(to, i, src, img, err) < 0)
			return -1;
	return idp_push_manifests_to(to, img, err);
}
