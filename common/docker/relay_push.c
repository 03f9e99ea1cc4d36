/* relay_push.c: a push through the docker daemon and the loopback relay
 * (relay.h, idp_relay_push). The relay starts on its port for the first
 * target's registry; the image (by ID) gets a temporary tag
 * 127.0.0.1:PORT/<repository>:idppush-<random> that names nothing yet
 * (Engine API POST /images/{id}/tag); the daemon pushes it (POST
 * /images/{name}/push, X-Registry-Auth: the relay's credentials of this
 * run), its progress read for errors and the digest it pushed; the tag
 * (and the digest reference the push left) is removed on every way out,
 * even after a cancel. The daemon's push answered from the targets, the
 * uploads are waited for, then the manifests it sent are put into every
 * target (their blobs mounted into the other targets of each registry),
 * the top one under each tag: nothing is tagged unless everything is
 * there. A daemon that never reached the relay (its push failed, or it
 * was silent for IDP_RELAY_SILENCE_MS) makes it return 1: nothing was
 * pushed, another way may be taken. */
#include "config.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <gnutls/gnutls.h>
#include <json-c/json.h>
#include "util/buf.h"
#include "util/jsonutil.h"
#include "relay.h"
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

/* An Engine API answer: its status, and the daemon's message when it is
 * not a success. */
struct api_answer {
	long status;
	char msg[IDP_ERRMSG_MAX];
};

/* method path (cleanup: even after a cancel), its answer in ans. 0, or
 * -1 with err. */
static int api(struct idp_docker_api *a, const char *method, const char *path, int cleanup,
	       struct api_answer *ans, struct idp_error *err)
{
	struct idp_docker_call c = { .method = method, .path = path, .cleanup = cleanup };
	struct idp_http_resp resp;
	int rc = idp_docker_api_call(a, &c, &resp, err);

	ans->status = resp.status;
	ans->msg[0] = '\0';
	if (rc == 0 && (resp.status < 200 || resp.status >= 300))
		idp_docker_api_message(&resp, ans->msg, sizeof(ans->msg));
	idp_http_resp_release(&resp);
	return rc;
}

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

/* A temporary tag on the image: "idppush-" and 64 random bits, so that
 * it names nothing of the user's (a tag already there would be moved,
 * and later removed). 0, or -1. */
static int tag_image(struct idp_docker_api *a, const char *id, const char *name, char *tag,
		     size_t n, struct idp_error *err)
{
	unsigned char rnd[8];
	char path[700];
	struct api_answer ans;
	int i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return idp_error_set(err, IDP_EGENERAL, "no random bytes for a tag");
	snprintf(tag, n, "idppush-");
	for (i = 0; i < (int)sizeof(rnd); i++)
		snprintf(tag + strlen(tag), n - strlen(tag), "%02x", rnd[i]);
	snprintf(path, sizeof(path), "/images/%s/tag?repo=%s&tag=%s", id, name, tag);
	if (api(a, "POST", path, 0, &ans, err) < 0)
		return -1;
	if (ans.status != 201 && ans.status != 200)
		return idp_error_set(err, IDP_EGENERAL, "docker could not tag %s as %s:%s: %s", id,
				     name, tag, ans.msg);
	return 0;
}

/* Remove ref (name:tag, or name@digest the push left), even after a
 * cancel; a failure is for -v only. */
static void untag(struct idp_relay_push *p, const char *name, char sep, const char *ref)
{
	struct idp_error err = IDP_ERROR_INIT;
	char path[700], line[IDP_ERRMSG_MAX + 100];
	struct api_answer ans = { .status = 0 };

	snprintf(path, sizeof(path), "/images/%s%c%s?noprune=1", name, sep, ref);
	if ((api(p->api, "DELETE", path, 1, &ans, &err) < 0 || ans.status >= 300) &&
	    sep == ':' && p->debug) {
		snprintf(line, sizeof(line), "relay: could not remove %.300s:%.40s (%.600s)", name,
			 ref, err.msg[0] ? err.msg : ans.msg[0] ? ans.msg : "refused");
		p->debug(p->debug_ctx, line);
	}
}

/* ---- after the daemon's push ---- */

/* The manifests into every target: the first target of each registry has
 * the blobs (they came through the relay), the others mount them. */
static int put_manifests(const struct idp_push_targets *to, struct idp_image *img,
			 const char *pushed, struct idp_error *err)
{
	const char *top = img->manifests[img->nmanifests - 1].digest;
	int i;

	if (pushed[0] && strcmp(pushed, top) != 0)
		return idp_error_set(err, IDP_EGENERAL,
				     "the docker daemon pushed %s but its last manifest is %s",
				     pushed, top);
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

static int relay_port(const struct idp_relay_push *p)
{
	const char *e = getenv("IDPPUSH_RELAY_PORT");
	long v = e ? strtol(e, NULL, 10) : 0;

	return v > 0 && v < 65536 ? (int)v : p->port;
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

/* The temporary name the daemon pushes: set (tagged) or not. */
struct relay_name {
	char name[400];
	char tag[40];
	int tagged;
};

/* The daemon's push through r (*asked: it was asked to push) of the image
 * tagged as rn; the tag stays (relay_untag). 1: the daemon would not tag
 * the image (p->why_not says why; nothing happened). */
static int push_through(struct idp_relay_push *p, struct idp_relay *r, struct progress *pg,
			struct relay_name *rn, int *asked, struct idp_error *err)
{
	const char *repo = idp_session_ref(p->to->t[0].s)->path;

	snprintf(rn->name, sizeof(rn->name), "127.0.0.1:%d/%s", idp_relay_port(r), repo);
	if (tag_image(p->api, p->image_id, rn->name, rn->tag, sizeof(rn->tag), err) < 0) {
		if ((p->api->stop.cancel && *p->api->stop.cancel) ||
		    idp_stop_check(&p->api->stop) != IDP_STOP_NONE)
			return -1;
		/* a daemon that will not tag (an API that is not docker's): another way */
		snprintf(p->why_not, sizeof(p->why_not), "%s", err->msg);
		idp_error_clear(err);
		return 1;
	}
	rn->tagged = 1;
	idp_relay_arm(r);
	*asked = 1;
	if (daemon_push(p->api, r, rn->name, rn->tag, pg, err) == 0)
		return 0;
	if (!again_through_relay(p, r, pg, err))
		return -1;
	return daemon_push(p->api, r, rn->name, rn->tag, pg, err);
}

/* The temporary tag and the digest reference the push left, removed:
 * on a thread of their own once the daemon's push is over (the daemon
 * writes its metadata for each: tens of ms on the containerd store),
 * while the uploads end and the manifests go up; relay_untag_wait joins
 * it. Only that thread uses the Engine API meanwhile. */
struct relay_untag {
	pthread_t th;
	int started;                   /* th runs */
	struct idp_relay_push *p;
	const struct relay_name *rn;   /* the tag */
	const char *digest;            /* the digest reference, or "" */
};

static void *untag_main(void *arg)
{
	struct relay_untag *u = arg;

	untag(u->p, u->rn->name, ':', u->rn->tag);
	if (u->digest[0])
		untag(u->p, u->rn->name, '@', u->digest);
	return NULL;
}

static void relay_untag_start(struct relay_untag *u)
{
	if (!u->rn->tagged)
		return;
	if (pthread_create(&u->th, NULL, untag_main, u) == 0)
		u->started = 1;
	else
		untag_main(u);   /* no thread: at once */
}

static void relay_untag_wait(struct relay_untag *u)
{
	if (u->started)
		pthread_join(u->th, NULL);
	u->started = 0;
}

int idp_relay_push(struct idp_relay_push *p, struct idp_image *img, struct idp_error *err)
{
	struct idp_relay_opts o = { .to = p->to, .repo = idp_session_ref(p->to->t[0].s)->path,
				    .port = relay_port(p), .abort = &p->api->stop,
				    .hand_over = p->hand_over,
				    .debug = p->debug, .debug_ctx = p->debug_ctx };
	struct relay_name rn = { .tagged = 0 };
	struct relay_untag ut = { .started = 0, .p = p, .rn = &rn };
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
		rc = put_manifests(p->to, img, pg.digest, err);
	relay_untag_wait(&ut);
	idp_relay_free(r);
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
