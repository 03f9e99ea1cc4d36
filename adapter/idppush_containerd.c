/* idppush_containerd.c: idppush-containerd, push an image straight from a
 * containerd content store (or an OCI layout directory) to OCI registries:
 *   idppush-containerd [OPTIONS] IMAGE [TARGET...]
 *   idppush-containerd [OPTIONS] --oci-layout DIR[:REF] [TARGET...]
 * No daemon is contacted: the store's files are read (read-only, no lock).
 * TARGET defaults to IMAGE's name and tag under the idpbuilder registry and
 * owner. Exit codes are the engine's error classes (error.h). */
#include "config.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "frontend/fe_memory.h"
#include "frontend/fe_msg.h"
#include "frontend/fe_opts.h"
#include "frontend/fe_push.h"
#include "frontend/fe_signal.h"
#include "docker/pushcache.h"
#include "idp.h"
#include "banned.h"

const char fe_progname[] = "idppush-containerd";

static const struct fe_option opts[] = {
	FE_OPTS_ENGINE,
	FE_OPT_LIST("platform", platforms, "OS/ARCH[/VARIANT]", IDP_MAX_PLATFORMS),
	FE_OPTS_CONTAINERD,
	FE_OPT_END
};

static const struct fe_cmd cmd = {
	.name = "idppush-containerd",
	.usage = "[OPTIONS] IMAGE [TARGET...]\n"
		 "        idppush-containerd [OPTIONS] --oci-layout DIR[:REF] [TARGET...]",
	.summary = "Push an image from containerd's content store (or an OCI layout) to an OCI\n"
		   "registry, blobs as stored: the pushed digest is the local one. TARGET\n"
		   "defaults to REGISTRY/OWNER/NAME:TAG from IMAGE; a TARGET without a tag\n"
		   "takes IMAGE's, one without a registry goes to --registry.",
	.opts = opts,
	.min_args = 0,
	.max_args = 1 + FE_MAX_TARGETS,
	.examples = "  sudo idppush-containerd myapp:dev\n"
		    "      nerdctl's image to gitea.cnoe.localtest.me:8443/giteaadmin/myapp:dev\n"
		    "  sudo idppush-containerd --root /var/lib/rancher/k3s/agent/containerd \\\n"
		    "      -n k8s.io docker.io/library/myapp:dev\n"
		    "      from k3s's store\n"
		    "  idppush-containerd --oci-layout ./out myapp:dev\n"
		    "      an OCI layout directory (buildctl --output type=oci,tar=false)\n"
		    "  idppush-containerd myapp:dev myapp:dev myapp:latest\n"
		    "      two tags in one run (the blobs go up once)\n",
};

/* What to read and where to push it, from the parsed command line. */
struct job_spec {
	const char *spec;          /* containerd image, or DIR[:REF] */
	const char *const *targets; /* ntargets of them; none: derived */
	int ntargets;
	char derived[512];         /* name used to derive the destination */
};

/* "DIR[:REF]" -> "<basename of DIR>:<REF or latest>" for the default target. */
static void layout_name(const char *spec, char *out, size_t n)
{
	const char *colon = strrchr(spec, ':'), *end, *base;

	if (colon && strchr(colon, '/'))
		colon = NULL;
	end = colon ? colon : spec + strlen(spec);
	while (end > spec && end[-1] == '/')
		end--;
	for (base = end; base > spec && base[-1] != '/'; base--)
		;
	snprintf(out, n, "%.*s:%s", (int)(end - base), base,
		 colon && colon[1] ? colon + 1 : "latest");
}

static int check_args(const struct fe_config *cfg, struct job_spec *js)
{
	int i;
	char os[32], arch[32], var[32];
	struct idp_error err = IDP_ERROR_INIT;

	if (cfg->oci_layout) {
		if (cfg->nargs > FE_MAX_TARGETS)
			return fe_usage_error(&cmd, "at most %d TARGETs", FE_MAX_TARGETS);
		js->spec = cfg->oci_layout;
		js->targets = (const char *const *)cfg->args;
		js->ntargets = cfg->nargs;
		layout_name(js->spec, js->derived, sizeof(js->derived));
	} else {
		if (cfg->nargs < 1)
			return fe_usage_error(&cmd, "IMAGE is required (or --oci-layout DIR)");
		js->spec = cfg->args[0];
		js->targets = (const char *const *)cfg->args + 1;
		js->ntargets = cfg->nargs - 1;
		snprintf(js->derived, sizeof(js->derived), "%s", js->spec);
		if (!js->ntargets && idp_digest_valid(js->spec))
			return fe_usage_error(&cmd, "IMAGE '%s' is a digest: give TARGET",
					      js->spec);
		if (fe_refuse_untagged(js->spec, js->ntargets ? js->targets[0] : NULL))
			return 1;
	}
	for (i = 0; i < cfg->nplatforms; i++)
		if (idp_platform_parse(cfg->platforms[i], os, arch, var, &err) < 0)
			return fe_usage_error(&cmd, "%s", err.msg);
	if (cfg->all_platforms && cfg->nplatforms)
		return fe_usage_error(&cmd, "--all-platforms and --platform exclude each other");
	return 0;
}

static void source_opts(const struct fe_config *cfg, const struct idp_ref *dest,
			struct idp_source_opts *so)
{
	const char *env_ns = getenv("CONTAINERD_NAMESPACE");
	int i;

	memset(so, 0, sizeof(*so));
	so->root = cfg->root;
	so->ns = cfg->ns ? cfg->ns : env_ns && *env_ns ? env_ns : NULL;
	so->nplatforms = cfg->nplatforms;
	for (i = 0; i < cfg->nplatforms && i < IDP_MAX_PLATFORMS; i++)
		so->platforms[i] = cfg->platforms[i];
	so->all_platforms = cfg->all_platforms;
	so->allow_partial = cfg->partial_index;
	so->keep_attestations = cfg->keep_attestations;
	so->dest_host = dest->domain;
	so->dest_repo = dest->path;
}

/* The image into every destination: blobs the push cache (cache_path)
 * saw in another repository of the registry mounted from there (when
 * the store's own labels name none), then recorded there. */
static int push_image(const struct fe_config *cfg, const struct idp_ref *dests, int n,
		      volatile sig_atomic_t *cancel, struct idp_source *src, struct idp_image *img)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_pushcache cache, news;
	struct fe_push_job job = { .cfg = cfg, .dests = dests, .ndests = n, .cancel = cancel };
	struct fe_push fp;
	char *path = fe_pushcache_open(cfg, &cache);
	int rc;

	memset(&news, 0, sizeof(news));
	if ((rc = fe_push_open(&fp, &job, &err)) == 0 &&
	    (rc = idp_pushcache_mount_stored(&cache, dests[0].domain, dests[0].path, img, &err)) ==
		    0 &&
	    (rc = idp_push_image_to(&fp.to, src, img, &err)) == 0 && path)
		idp_pushcache_commit_stored(path, &news, &fp.to, img);
	fp.notice = img->notice;
	if (rc < 0)
		fe_timeout_hint(cfg, &err);
	rc = fe_push_finish(&fp, rc, &err);
	idp_pushcache_release(&news);
	idp_pushcache_release(&cache);
	free(path);
	return rc;
}

/* Resolve the image, then push it: the run opened, the image pushed to
 * every destination, the run finished. */
static int run(const struct fe_config *cfg, const struct job_spec *js,
	       volatile sig_atomic_t *cancel)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_source src = { cfg->oci_layout ? &idp_source_oci_layout : &idp_source_containerd,
				  NULL };
	struct idp_source_opts so;
	struct idp_image img;
	struct idp_ref dests[FE_MAX_TARGETS];
	int n, rc;

	memset(&img, 0, sizeof(img));
	if ((n = fe_dest_refs(cfg, js->derived, js->targets, js->ntargets, dests, &err)) < 0)
		return fe_error_report(&err);
	source_opts(cfg, &dests[0], &so);
	if (src.ops->open(&src, js->spec, &so, &img, &err) < 0) {
		fe_timeout_hint(cfg, &err);
		rc = fe_error_report(&err);
	} else {
		rc = push_image(cfg, dests, n, cancel, &src, &img);
	}
	if (src.priv)
		src.ops->close(&src);
	idp_image_release(&img);
	fe_dest_refs_release(dests, n);
	return rc;
}

/* The signal handlers and libcurl set up, then the push. */
static int start(const struct fe_config *cfg, const struct job_spec *js,
		 volatile sig_atomic_t *canceled)
{
	struct idp_error err = IDP_ERROR_INIT;
	int rc;

	if (fe_signal_install(canceled) < 0) {
		idp_error_set(&err, IDP_EGENERAL, "cannot install the signal handlers: %s",
			      strerror(errno));
		return fe_error_report(&err);
	}
	if (idp_http_global_init(&err) < 0)
		return fe_error_report(&err);
	rc = run(cfg, js, canceled);
	idp_http_global_cleanup();
	return rc;
}

int main(int argc, char **argv)
{
	volatile sig_atomic_t canceled = 0;
	struct fe_config cfg;
	struct job_spec js;
	int rc;

	fe_memory_setup();
	rc = fe_parse(&cmd, argc - 1, argv + 1, &cfg);
	memset(&js, 0, sizeof(js));
	if (rc != FE_PARSE_OK)
		rc = fe_parse_exit(&cmd, rc);
	else if (check_args(&cfg, &js) != 0)
		rc = 1;
	else
		rc = start(&cfg, &js, &canceled);
	fe_config_release(&cfg);
	return rc;
}
