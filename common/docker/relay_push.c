/* relay_push.c: a push through the docker daemon and the loopback relay
 * (relay.h, idp_relay_push). The relay starts on its port for the first
 * target's registry; the image has a temporary name
 * 127.0.0.1:PORT/<repository>:idppush-<random> (relay_tag.c: the one made
 * by its name before the push when it names this port, else one made now
 * by its ID); the daemon pushes it (POST /images/{name}/push,
 * X-Registry-Auth: the relay's credentials of this run), its progress
 * read for errors and the digest it pushed; the name (and the digest
 * reference the push left) is removed on every way out, even after a
 * cancel. The daemon's push answered from the targets, the uploads are
 * waited for, then the manifests it sent are put into every target
 * (their blobs mounted into the other targets of each registry), the top
 * one under each tag (unless relay_ahead.c did already): nothing is
 * tagged unless everything is there, and it is the image asked for. When
 * relay_ahead.c put the image's own manifest under the tag, the image is
 * whole and the daemon's push call is stopped there (idp_relay_whole:
 * what it had left is its own bookkeeping). A
 * daemon that never reached the relay (its push failed, or it was silent
 * for IDP_RELAY_SILENCE_MS) makes it return 1: nothing was pushed,
 * another way may be taken. */
#include "config.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <json-c/json.h>
#include "util/buf.h"
#include "util/jsonutil.h"
#include "relay_private.h"
#include "banned.h"

#define LINE_MAX_BYTES (64u << 10)     /* a progress line of the daemon */
#define PUSH_STALL_MS (10 * 60 * 1000) /* the daemon's push may be quiet this long */

/* The daemon's push progress, read line by line as it comes. */
struct progress {
	struct idp_relay *relay;       /* told of the layers the daemon sends */
	struct idp_stop *stop;         /* the push call's: set to stop it */
	int retrying;                  /* the daemon retries a handed-over upload */
	struct idp_buf line;
	int skipping;                  /* a line too long: dropped up to its end */
	char error[IDP_ERRMSG_MAX];    /* the first error it reported */
	char digest[IDP_DIGEST_MAX];   /* aux.Digest: what it pushed */
};

/* A line about a layer ("Pushing" with its bytes, "Pushed"), to the
 * relay. "Retrying in N seconds" (dockerd 20.10 retries a failed upload
 * 5 times, 5 to 25 s apart) of a daemon that was handed sessions stops
 * its push at once: it is done again through the relay. */
static void layer_line(struct progress *pg, json_object *o)
{
	const char *status = idp_json_str(o, "status"), *id = idp_json_str(o, "id");
	json_object *detail = idp_json_obj(o, "progressDetail");
	int pushed = status && strcmp(status, "Pushed") == 0;

	if (id && status && strncmp(status, "Retrying in ", 12) == 0 &&
	    idp_relay_handed(pg->relay) && !pg->retrying) {
		pg->retrying = 1;
		snprintf(pg->error, sizeof(pg->error), "layer %.16s: %.100s", id, status);
		idp_stop_set_abort(pg->stop, 1);
	}
	if (!id || !status || (!pushed && strcmp(status, "Pushing") != 0))
		return;
	idp_relay_daemon_progress(pg->relay, id, idp_json_int(detail, "current", 0),
				  idp_json_int(detail, "total", -1), pushed);
}

static void progress_line(struct progress *pg, const char *s, size_t n)
{
	json_object *o = idp_json_parse(s, n, LINE_MAX_BYTES), *aux;
	const char *e = idp_json_str(o, "error"), *d;

	if (!e)
		e = idp_json_str(o, "message");   /* an answer other than 200 */
	if (e && !pg->error[0])
		snprintf(pg->error, sizeof(pg->error), "%s", e);
	if ((aux = idp_json_obj(o, "aux")) && (d = idp_json_str(aux, "Digest")) &&
	    idp_digest_valid(d))
		snprintf(pg->digest, sizeof(pg->digest), "%s", d);
	layer_line(pg, o);
	json_object_put(o);
}

static void on_progress(void *ctx, const char *data, size_t n)
{
	struct progress *pg = ctx;
	const char *nl;
	size_t k;

	while (n) {
		nl = memchr(data, '\n', n);
		k = nl ? (size_t)(nl - data) : n;
		if (!pg->skipping && idp_buf_add(&pg->line, data, k) < 0)
			pg->skipping = 1;
		if (nl) {
			if (!pg->skipping)
				progress_line(pg, pg->line.buf, pg->line.len);
			pg->line.len = 0;
			pg->skipping = 0;
			k++;
		}
		data += k;
		n -= k;
	}
}

/* ---- the Engine API ---- */

/* X-Registry-Auth: base64url of {"username","password","serveraddress"}. */
static char *auth_header(const struct idp_relay *r, const char *server)
{
	char json[256], *out = NULL, *p;
	gnutls_datum_t in, enc = { NULL, 0 };

	snprintf(json, sizeof(json), "{\"username\":\"%s\",\"password\":\"%s\","
		 "\"serveraddress\":\"%s\"}", idp_relay_user(r), idp_relay_password(r), server);
	in.data = (unsigned char *)json;
	in.size = (unsigned)strlen(json);
	if (gnutls_base64_encode2(&in, &enc) < 0)
		return NULL;
	if (asprintf(&out, "X-Registry-Auth: %.*s", (int)enc.size, (const char *)enc.data) < 0)
		out = NULL;
	gnutls_free(enc.data);
	for (p = out ? out + 17 : NULL; p && *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	return out;
}

/* The daemon pushes name:tag; its progress into pg. 0, or -1 with err. */
static int daemon_push(struct idp_docker_api *a, const struct idp_relay *r, const char *name,
		       const char *tag, struct progress *pg, struct idp_error *err)
{
	char path[600], server[64], *auth;
	const char *hdrs[2] = { NULL, NULL };
	struct idp_docker_call c = { .method = "POST", .path = path, .headers = hdrs,
				     .on_data = on_progress, .data_ctx = pg,
				     .stall_ms = PUSH_STALL_MS };
	struct idp_http_resp resp;
	int rc;

	snprintf(server, sizeof(server), "127.0.0.1:%d", idp_relay_port(r));
	snprintf(path, sizeof(path), "/images/%s/push?tag=%s", name, tag);
	if (!(hdrs[0] = auth = auth_header(r, server)))
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	rc = idp_docker_api_call(a, &c, &resp, err);
	free(auth);
	if (rc == 0 && resp.status != 200 && !pg->error[0])
		snprintf(pg->error, sizeof(pg->error), "HTTP status %ld", resp.status);
	idp_http_resp_release(&resp);
	if (rc == 0 && pg->error[0])
		rc = idp_error_set(err, IDP_EREJECTED, "the docker daemon's push: %s", pg->error);
	return rc;
}

/* ---- after the daemon's push ---- */

/* Whether img is the image id names: its top manifest (the containerd
 * image store's ID), or the config that one names (the classic store's). */
static int is_image(const struct idp_image *img, const char *id)
{
	const struct idp_image_manifest *top = &img->manifests[img->nmanifests - 1];
	json_object *o;
	const char *config;
	int same;

	if (strcmp(top->digest, id) == 0)
		return 1;
	o = idp_json_parse((const char *)top->data, top->len, top->len + 1);
	config = idp_json_str(idp_json_obj(o, "config"), "digest");
	same = config && strcmp(config, id) == 0;
	json_object_put(o);
	return same;
}

/* The manifests into every target: the first target of each registry has
 * the blobs (they came through the relay), the others mount them. The
 * daemon pushed what it said (pushed), and, when the name it pushed was
 * made from the image's name, the image inspected (id): else nothing is
 * tagged. */
static int put_manifests(const struct idp_push_targets *to, struct idp_image *img,
			 const char *pushed, const struct relay_name *rn, const char *id,
			 struct idp_error *err)
{
	const char *top = img->manifests[img->nmanifests - 1].digest;
	int i;

	if (pushed[0] && strcmp(pushed, top) != 0)
		return idp_error_set(err, IDP_EGENERAL,
				     "the docker daemon pushed %s but its last manifest is %s",
				     pushed, top);
	if (rn->by_name && !is_image(img, id))
		return idp_error_set(err, IDP_EGENERAL, "the image changed while it was pushed "
				     "(the daemon pushed %s, not image %.19s): nothing was tagged",
				     top, id);
	for (i = 0; i < to->n; i++)
		to->t[i].blobs_done = idp_push_first_of_registry(to, i);
	return idp_push_image_to(to, NULL, img, err);
}

/* Whether the push failed because the daemon never reached the relay:
 * 1 with why (take another way), else 0. */
static int unreachable(struct idp_relay_push *p, struct idp_relay *r,
		       const struct idp_error *err)
{
	int silent;

	if (idp_relay_connections(r, &silent) > 0 ||
	    (p->api->stop.cancel && *p->api->stop.cancel) ||
	    idp_stop_check(&p->api->stop) == IDP_STOP_DEADLINE)
		return 0;
	if (silent)
		snprintf(p->why_not, sizeof(p->why_not),
			 "the docker daemon sent nothing to 127.0.0.1:%d in %d s",
			 idp_relay_port(r), IDP_RELAY_SILENCE_MS / 1000);
	else
		snprintf(p->why_not, sizeof(p->why_not), "%s", err->msg);
	return 1;
}

/* The daemon's push failed after it was handed upload sessions of its
 * own (a registry that took our requests but not its: a proxy's body
 * limit...): 1 when it is to push again with every byte through the relay
 * (err cleared, pg reset), which does everything an upload of the engine
 * does; else 0. */
static int again_through_relay(struct idp_relay_push *p, struct idp_relay *r,
			       struct progress *pg, struct idp_error *err)
{
	struct idp_error failed = IDP_ERROR_INIT;

	if (!idp_relay_handed(r) || idp_relay_failed(r, &failed) ||
	    (p->api->stop.cancel && *p->api->stop.cancel))
		return 0;
	if (pg->retrying)
		idp_stop_set_abort(&p->api->stop, 0);   /* stopped by layer_line, not over */
	if (idp_stop_check(&p->api->stop) != IDP_STOP_NONE)
		return 0;
	if (p->debug) {
		char line[IDP_ERRMSG_MAX + 100];

		snprintf(line, sizeof(line), "relay: the daemon's push failed (%s): again, "
			 "every byte through the relay", pg->retrying ? pg->error : err->msg);
		p->debug(p->debug_ctx, line);
	}
	idp_relay_hand_over_no_more(r);
	idp_error_clear(err);
	pg->error[0] = '\0';
	pg->digest[0] = '\0';
	pg->line.len = 0;
	pg->skipping = 0;
	pg->retrying = 0;
	return 1;
}

/* The image's temporary name for the relay r: the one made early when it
 * names r's port, else one made now by the image ID. 1: the daemon would
 * not tag the image (p->why_not says why; nothing happened). */
static int name_image(struct idp_relay_push *p, struct idp_relay *r, struct relay_name *rn,
		      struct idp_error *err)
{
	struct idp_error why = IDP_ERROR_INIT;
	char name[sizeof(rn->name)];

	snprintf(name, sizeof(name), "127.0.0.1:%d/%s", idp_relay_port(r),
		 idp_session_ref(p->to->t[0].s)->path);
	if (relay_tag_take(p->early, name, rn, &why)) {
		relay_debugf(r, "relay: %s:%s, tagged by the image's name before the push",
			     rn->name, rn->tag);
		return 0;
	}
	if (p->early)
		relay_debugf(r, "relay: the early tag is not used (%s): tagging %s", why.msg,
			     p->image_id);
	snprintf(rn->name, sizeof(rn->name), "%s", name);
	if (relay_tag_image(p->api, p->image_id, rn, err) == 0)
		return 0;
	if ((p->api->stop.cancel && *p->api->stop.cancel) ||
	    idp_stop_check(&p->api->stop) != IDP_STOP_NONE)
		return -1;
	/* a daemon that will not tag (an API that is not docker's): another way */
	snprintf(p->why_not, sizeof(p->why_not), "%s", err->msg);
	idp_error_clear(err);
	return 1;
}

/* The daemon's push through r (*asked: it was asked to push) of the image
 * named as rn; the name stays (relay_untag). 1: the daemon would not tag
 * the image (nothing happened). */
static int push_through(struct idp_relay_push *p, struct idp_relay *r, struct progress *pg,
			struct relay_name *rn, int *asked, struct idp_error *err)
{
	int rc = name_image(p, r, rn, err);

	if (rc != 0)
		return rc;
	idp_relay_arm(r);
	*asked = 1;
	if (daemon_push(p->api, r, rn->name, rn->tag, pg, err) == 0)
		return 0;
	if (!again_through_relay(p, r, pg, err))
		return -1;
	return daemon_push(p->api, r, rn->name, rn->tag, pg, err);
}

int idp_relay_push(struct idp_relay_push *p, struct idp_image *img, struct idp_error *err)
{
	struct idp_relay_opts o = { .to = p->to, .repo = idp_session_ref(p->to->t[0].s)->path,
				    .port = p->port, .abort = &p->api->stop,
				    .hand_over = p->hand_over, .image_id = p->image_id,
				    .debug = p->debug, .debug_ctx = p->debug_ctx };
	struct relay_name rn = { .tagged = 0 };
	struct relay_untag ut = { .api = p->api, .rn = &rn, .debug = p->debug,
				  .debug_ctx = p->debug_ctx };
	struct progress pg;
	struct idp_relay *r;
	int rc, asked = 0;

	memset(img, 0, sizeof(*img));
	memset(&pg, 0, sizeof(pg));
	idp_buf_init(&pg.line, LINE_MAX_BYTES);
	if (!(r = idp_relay_start(&o, err))) {
		idp_buf_release(&pg.line);
		return -1;
	}
	p->used_port = idp_relay_port(r);
	pg.relay = r;
	pg.stop = &p->api->stop;
	rc = push_through(p, r, &pg, &rn, &asked, err);
	if (rc < 0 && idp_relay_whole(r)) {
		relay_debugf(r, "relay: the image is whole under the tag: the daemon's push "
			     "stopped there");
		idp_error_clear(err);
		rc = 0;
	}
	p->handed = idp_relay_handed(r);
	idp_stop_set_abort(&p->api->stop, 0);
	ut.digest = pg.digest;
	relay_untag_start(&ut);   /* the daemon's push is over */
	if (rc == 1)
		;   /* not asked to push: nothing happened */
	else if (rc < 0 && idp_relay_failed(r, err))
		rc = -1;
	else if (rc < 0 && asked && unreachable(p, r, err))
		rc = 1;
	if (rc == 0)
		rc = idp_relay_finish(r, img, err);
	idp_stop_set_abort(&p->api->stop, 0);   /* a late failure of an upload */
	/* the manifests first: what is left to do for the daemon waits */
	if (rc == 0)
		rc = put_manifests(p->to, img, pg.digest, &rn, p->image_id, err);
	idp_relay_free(r);   /* its connections closed while the names go */
	relay_untag_wait(&ut);
	idp_buf_release(&pg.line);
	return rc;
}

int idp_relay_reachable(pid_t daemon, char *why, size_t n)
{
	char mine[80], theirs[80], path[64];
	ssize_t k;

	if (daemon <= 0)
		return 1;   /* cannot tell: the relay finds out */
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)daemon);
	if ((k = readlink(path, theirs, sizeof(theirs) - 1)) <= 0)
		return 1;
	theirs[k] = '\0';
	if ((k = readlink("/proc/self/ns/net", mine, sizeof(mine) - 1)) <= 0)
		return 1;
	mine[k] = '\0';
	if (strcmp(mine, theirs) == 0)
		return 1;
	snprintf(why, n, "the daemon (pid %d) runs in another network namespace: its "
		 "127.0.0.1 is not ours (rootless dockerd?)", (int)daemon);
	return 0;
}
