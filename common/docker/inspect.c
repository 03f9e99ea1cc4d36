/* inspect.c: what docker-idppush's push knows of the image before it
 * starts: nothing yet when the early relay tag is being made (the push
 * takes the image ID the tag named, and inspects only if its way needs
 * more), else docker image inspect, honouring --platform. `docker save --platform`
 * needs API 1.48 and `docker image inspect --platform` API 1.49 (both the
 * daemon's and the CLI's: idp_docker_api takes the lower). With an older
 * API the only platform docker can save is the image's own, so a request
 * for it pushes normally and any other fails before docker save runs. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sources/src_docker_save.h"
#include "docker_push.h"
#include "banned.h"

#define API_SAVE_PLATFORM 1048      /* docker save --platform */
#define API_INSPECT_PLATFORM 1049   /* docker image inspect --platform */

struct platform {
	char os[32], arch[32], variant[32];
};

/* Normalised "os/arch[/variant]" of s into p and out. */
static int normalise(const char *s, struct platform *p, char out[IDP_DOCKER_PLATFORM_MAX],
		     struct idp_error *err)
{
	if (idp_platform_parse(s, p->os, p->arch, p->variant, err) < 0)
		return -1;
	snprintf(out, IDP_DOCKER_PLATFORM_MAX, "%s/%s%s%s", p->os, p->arch,
		 p->variant[0] ? "/" : "", p->variant);
	return 0;
}

/* Is the image (inspect's "os/arch[/variant]") the wanted platform? A
 * request without a variant matches any variant of its arch. */
static int same_platform(const struct platform *want, const char *have)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct platform h;

	if (!have || idp_platform_parse(have, h.os, h.arch, h.variant, &err) < 0)
		return 0;
	return strcmp(want->os, h.os) == 0 && strcmp(want->arch, h.arch) == 0 &&
	       (!want->variant[0] || strcmp(want->variant, h.variant) == 0);
}

/* inspect described another platform: its diffIDs do not apply */
static int forget_layers(struct idp_docker_image *info, const char *want, struct idp_error *err)
{
	int i;

	for (i = 0; i < info->ndiffids; i++)
		free(info->diffids[i]);
	info->ndiffids = 0;
	free(info->platform);
	if (!(info->platform = strdup(want)))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	return 0;
}

static void old_api(const char *image, const char *want, int api,
		    const struct idp_docker_image *info, struct idp_error *err)
{
	idp_error_set(
		err, IDP_EGENERAL,
		"--platform %s: image '%s' is %s and docker API %d.%d cannot save another platform "
		"(needs 1.48, docker 28 or newer)",
		want, image, info->platform ? info->platform : "of an unknown platform", api / 1000,
		api % 1000);
}

int idp_docker_platform_inspect(const struct idp_docker *d, const char *image,
				const char *requested, struct idp_docker_image *info,
				struct idp_error *err)
{
	char want[IDP_DOCKER_PLATFORM_MAX];
	struct platform w;
	int api;

	if (!requested)
		return idp_docker_inspect(d, image, NULL, info, err);
	if (normalise(requested, &w, want, err) < 0 || idp_docker_api(d, &api, err) < 0)
		return -1;
	if (api >= API_INSPECT_PLATFORM) {
		if (idp_docker_inspect(d, image, want, info, err) < 0)
			return -1;
		snprintf(info->save_platform, sizeof(info->save_platform), "%s", want);
		return 0;
	}
	if (idp_docker_inspect(d, image, NULL, info, err) < 0)
		return -1;
	if (api >= API_SAVE_PLATFORM)
		snprintf(info->save_platform, sizeof(info->save_platform), "%s", want);
	if (same_platform(&w, info->platform))
		return 0;
	if (api >= API_SAVE_PLATFORM && forget_layers(info, want, err) == 0)
		return 0;
	if (api < API_SAVE_PLATFORM)
		old_api(image, want, api, info, err);
	idp_docker_image_release(info);
	return -1;
}

int idp_docker_image_for_push(const struct idp_docker *d, const char *image,
			      const char *platform, struct idp_relay_tag *early,
			      struct idp_docker_image *info, struct idp_error *err)
{
	memset(info, 0, sizeof(*info));
	if (!early)
		return idp_docker_platform_inspect(d, image, platform, info, err);
	info->id_only = 1;   /* and no id yet: the push takes the tag's */
	return 0;
}
