/* ctd_push.c: the push straight from docker's containerd image store
 * (GET /info: driver-type io.containerd.snapshotter.v1), for docker_push.c
 * (docker_push_ctd). The store is containerd's content store, in the
 * namespace the daemon names (moby by default) of the first root
 * (docker/ctdstore.c) that holds the image and may be read
 * (idp_docker_store_trusted: the daemon runs as root or as us, nobody
 * else can change the store); it is read through the trusted directory's
 * descriptor, never by its path again. The image is what the image ID
 * names, as stored (imgwalk's "stored" selection, the engine's one
 * containerd source): the index with every manifest, attestations
 * included, blobs byte for byte, so the pushed digest is the image ID
 * and docker push's. Blobs mount from another repository of the
 * registry as docker does (containerd's distribution-source labels),
 * else from where the push cache saw them. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "docker_push_private.h"
#include "banned.h"

/* The store being read: the source, and the trusted root it reads through. */
struct ctd_store {
	struct idp_source src;
	int dirfd;
	char root[4096];                /* as found, for messages */
	char how[IDP_CTD_HOW_MAX];
	char via[64];                   /* /proc/self/fd/<dirfd>: what the source opens */
};

static void store_close(struct ctd_store *st)
{
	if (st->src.priv)
		st->src.ops->close(&st->src);
	st->src.priv = NULL;
	if (st->dirfd >= 0)
		close(st->dirfd);
	st->dirfd = -1;
}

/* msg with the descriptor path the source was given put back as the root. */
static void root_message(const struct ctd_store *st, const char *msg, char *out, size_t n)
{
	const char *at = strstr(msg, st->via);
	int len = at ? snprintf(out, n, "%.*s%s%s", (int)(at - msg), msg, st->root,
				at + strlen(st->via))
		     : -1;

	if (len < 0 || (size_t)len >= n)
		snprintf(out, n, "%s", msg);
}

static void source_opts(const struct idp_docker_push_opts *o, const struct idp_push_targets *to,
			const char *root, const char *ns, struct idp_source_opts *so)
{
	const struct idp_ref *dest = idp_session_ref(to->t[0].s);

	memset(so, 0, sizeof(*so));
	so->root = root;
	so->ns = ns;
	so->stored = 1;
	so->nplatforms = o->platform ? 1 : 0;
	so->platforms[0] = o->platform;
	so->dest_host = dest->domain;
	so->dest_repo = dest->path;
}

/* The image from root when it may be read and holds it: 1 (st open, img
 * filled), else 0 with why. */
static int open_root(const struct idp_docker_push_opts *o, const struct idp_push_targets *to,
		     const char *ns, struct ctd_store *st, struct idp_image *img, char *why,
		     size_t n)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_source_opts so;

	if (!idp_docker_store_trusted(o->docker->api, st->root, &st->dirfd, why, n))
		return 0;
	snprintf(st->via, sizeof(st->via), "/proc/self/fd/%d", st->dirfd);
	source_opts(o, to, st->via, ns, &so);
	if (st->src.ops->open(&st->src, o->inspect->id, &so, img, &err) == 0)
		return 1;
	root_message(st, err.msg, why, n);
	idp_image_release(img);
	memset(img, 0, sizeof(*img));
	store_close(st);
	return 0;
}

/* The first candidate root that serves: 1, else 0 with every root's
 * reason in why. */
static int find_store(const struct idp_docker_push_opts *o, const struct idp_push_targets *to,
		      const struct idp_docker_daemon *dm, struct ctd_store *st,
		      struct idp_image *img, char *why, size_t n)
{
	const char *ns = idp_docker_ctd_namespace(dm);
	struct idp_ctd_roots roots;
	char one[IDP_ERRMSG_MAX];
	size_t used = 0;
	int i;

	idp_docker_ctd_roots(o->docker->api, dm, &roots);
	why[0] = '\0';
	for (i = 0; i < roots.n; i++) {
		snprintf(st->root, sizeof(st->root), "%s", roots.root[i]);
		snprintf(st->how, sizeof(st->how), "%s", roots.how[i]);
		if (open_root(o, to, ns, st, img, one, sizeof(one)))
			return 1;
		if (used < n)
			used += (size_t)snprintf(why + used, n - used, "%s%s (%s): %s",
						 i ? "; " : "", roots.root[i], roots.how[i], one);
	}
	if (!roots.n)
		snprintf(why, n, "no containerd root to look in");
	return 0;
}

int docker_push_ctd(const struct idp_docker_push_opts *o, const struct idp_push_targets *to,
		    const struct idp_docker_daemon *dm, struct idp_image *img, char *why, size_t n,
		    struct idp_error *err)
{
	const char *no = getenv("IDPPUSH_NO_STORE");
	const struct idp_ref *dest = idp_session_ref(to->t[0].s);
	struct ctd_store st = { .src = { &idp_source_containerd, NULL }, .dirfd = -1 };
	int rc;

	if (no && *no && strcmp(no, "0") != 0) {
		snprintf(why, n, "IDPPUSH_NO_STORE is set");
		return 0;
	}
	if (!find_store(o, to, dm, &st, img, why, n))
		return 0;
	docker_push_infof(o, "path: docker's containerd image store (%s, namespace %s; %s), as "
			  "stored", st.root, idp_docker_ctd_namespace(dm), st.how);
	rc = idp_pushcache_mount_stored(o->cache, dest->domain, dest->path, img, err);
	if (rc == 0)
		rc = idp_push_image_to(to, &st.src, img, err);
	store_close(&st);
	return rc < 0 ? -1 : 1;
}
