/* relay_tag.c: the temporary name the daemon pushes through the relay,
 * 127.0.0.1:PORT/<repository>:idppush-<64 random bits> (relay.h). Made
 * through the Engine API (POST /images/{image}/tag): early, by the image's
 * name, on a thread with a connection of its own (idp_relay_tag_early: the
 * push is likely to take the relay; the daemon takes ~13 ms to tag on the
 * containerd image store), the image ID it named then read from the
 * daemon's tag event (GET /events over the tag's own span: answered at
 * once from its log), which spares the push the inspect (another 8 ms of
 * the daemon's); else by the image ID once the relay is up. Removed, with the digest
 * reference the daemon's push leaves, on every way out (even after a
 * cancel), each DELETE on a thread and connection of its own. For
 * relay_push.c and the front end. */
#include "config.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include "util/digest.h"
#include "util/jsonutil.h"
#include "relay_private.h"
#include "banned.h"

struct idp_relay_tag {
	struct idp_docker_api api;     /* a connection of its own */
	char *image;                   /* what is tagged: the user's name for it */
	struct relay_name rn;
	pthread_t th;
	int started;                   /* th runs (or ran: not joined yet) */
	int taken;                     /* a relay push owns the name now (it removes it) */
	struct idp_error err;          /* why the tag was not made */
	char id[IDP_DIGEST_MAX];       /* the image ID it named (its tag event), or "" */
	void (*debug)(void *ctx, const char *line);
	void *debug_ctx;
};

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

/* The tag is "idppush-" and 64 random bits, so that it names nothing of
 * the user's (a tag already there would be moved, and later removed). */
int relay_tag_image(struct idp_docker_api *a, const char *image, struct relay_name *rn,
		    struct idp_error *err)
{
	unsigned char rnd[8];
	char path[700];
	struct api_answer ans;
	int i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return idp_error_set(err, IDP_EGENERAL, "no random bytes for a tag");
	snprintf(rn->tag, sizeof(rn->tag), "idppush-");
	for (i = 0; i < (int)sizeof(rnd); i++)
		snprintf(rn->tag + strlen(rn->tag), sizeof(rn->tag) - strlen(rn->tag), "%02x",
			 rnd[i]);
	snprintf(path, sizeof(path), "/images/%s/tag?repo=%s&tag=%s", image, rn->name, rn->tag);
	if (api(a, "POST", path, 0, &ans, err) < 0) {
		rn->maybe = 1;
		return -1;
	}
	if (ans.status != 201 && ans.status != 200)
		return idp_error_set(err, IDP_EGENERAL, "docker could not tag %s as %s:%s: %s",
				     image, rn->name, rn->tag, ans.msg);
	rn->tagged = 1;
	return 0;
}

/* Remove name<sep>ref (name:tag, or name@digest the push left), even
 * after a cancel; a failure is for -v only. */
static void untag(struct idp_docker_api *a, const char *name, char sep, const char *ref,
		  void (*debug)(void *ctx, const char *line), void *debug_ctx)
{
	struct idp_error err = IDP_ERROR_INIT;
	char path[700], line[IDP_ERRMSG_MAX + 100];
	struct api_answer ans = { .status = 0 };

	snprintf(path, sizeof(path), "/images/%s%c%s?noprune=1", name, sep, ref);
	if ((api(a, "DELETE", path, 1, &ans, &err) < 0 || ans.status >= 300) && sep == ':' &&
	    debug) {
		snprintf(line, sizeof(line), "relay: could not remove %.300s:%.40s (%.600s)", name,
			 ref, err.msg[0] ? err.msg : ans.msg[0] ? ans.msg : "refused");
		debug(debug_ctx, line);
	}
}

/* ---- early, by the image's name ---- */

#define EVENTS_CAP (256u << 10)   /* the daemon keeps its last 256 events */
#define TAG_EVENTS "%7B%22type%22%3A%5B%22image%22%5D%2C%22event%22%3A%5B%22tag%22%5D%7D"

/* One line of GET /events: when it is the tag event of name:tag, its
 * image ID into id (n bytes). */
static int is_our_event(const char *line, size_t len, const struct relay_name *rn, char *id,
			size_t n)
{
	json_object *o = idp_json_parse(line, len, EVENTS_CAP);
	json_object *actor = idp_json_obj(o, "Actor");
	const char *name = idp_json_str(idp_json_obj(actor, "Attributes"), "name");
	const char *image = idp_json_str(actor, "ID");
	size_t nl = strlen(rn->name);
	int ours = name && image && idp_digest_valid(image) && strncmp(name, rn->name, nl) == 0 &&
		   name[nl] == ':' && strcmp(name + nl + 1, rn->tag) == 0;

	if (ours)
		snprintf(id, n, "%s", image);
	json_object_put(o);
	return ours;
}

/* The image ID rn's tag named, from the daemon's tag event logged between
 * since and until (both given: answered from its log, no waiting; the
 * name is random, so a wider span is harmless). 0 with id, or -1. */
static int tagged_id(struct idp_docker_api *a, const struct relay_name *rn,
		     const struct timespec *since, const struct timespec *until, char *id,
		     size_t n)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_http_resp resp;
	const char *p, *end, *nl;
	char path[200];
	int found = 0;

	snprintf(path, sizeof(path), "/events?since=%lld.%09ld&until=%lld.%09ld&filters=%s",
		 (long long)since->tv_sec - 1, since->tv_nsec, (long long)until->tv_sec,
		 until->tv_nsec, TAG_EVENTS);
	if (idp_docker_api_get(a, path, EVENTS_CAP, &resp, &err) == 0 && resp.status == 200) {
		end = resp.body.buf + resp.body.len;
		for (p = resp.body.buf; !found && p < end; p = nl + 1) {
			if (!(nl = memchr(p, '\n', (size_t)(end - p))))
				nl = end;
			found = is_our_event(p, (size_t)(nl - p), rn, id, n);
		}
	}
	idp_http_resp_release(&resp);
	return found ? 0 : -1;
}

static void *early_main(void *arg)
{
	struct idp_relay_tag *t = arg;
	struct timespec since, until;

	clock_gettime(CLOCK_REALTIME, &since);
	if (relay_tag_image(&t->api, t->image, &t->rn, &t->err) == 0) {
		clock_gettime(CLOCK_REALTIME, &until);
		tagged_id(&t->api, &t->rn, &since, &until, t->id, sizeof(t->id));
	}
	return NULL;
}

struct idp_relay_tag *idp_relay_tag_early(const struct idp_docker_api *a, const char *image,
					  const char *domain, const char *repo,
					  void (*debug)(void *ctx, const char *line),
					  void *debug_ctx)
{
	struct idp_relay_tag *t = calloc(1, sizeof(*t));

	if (!t || !(t->image = strdup(image))) {
		free(t);
		return NULL;
	}
	idp_docker_api_clone(a, &t->api);
	t->debug = debug;
	t->debug_ctx = debug_ctx;
	snprintf(t->rn.name, sizeof(t->rn.name), "127.0.0.1:%d/%s", idp_relay_port_for(domain),
		 repo);
	if (pthread_create(&t->th, NULL, early_main, t) != 0) {
		idp_docker_api_release(&t->api);
		free(t->image);
		free(t);
		return NULL;
	}
	t->started = 1;
	return t;
}

static void early_join(struct idp_relay_tag *t)
{
	if (t->started)
		pthread_join(t->th, NULL);
	t->started = 0;
}

const char *idp_relay_tag_image_id(struct idp_relay_tag *t)
{
	if (!t)
		return NULL;
	early_join(t);
	return t->rn.tagged && t->id[0] ? t->id : NULL;
}

int relay_tag_take(struct idp_relay_tag *t, const char *name, struct relay_name *rn,
		   struct idp_error *why)
{
	if (!t)
		return 0;
	early_join(t);
	if (!t->rn.tagged || t->taken) {
		idp_error_set(why, IDP_EGENERAL, "%s", t->taken ? "taken" : t->err.msg);
		return 0;
	}
	if (strcmp(t->rn.name, name) != 0) {
		idp_error_set(why, IDP_EGENERAL, "it names %s, not the relay's %s", t->rn.name,
			      name);
		return 0;
	}
	*rn = t->rn;
	rn->by_name = 1;
	t->taken = 1;
	return 1;
}

void idp_relay_tag_free(struct idp_relay_tag *t)
{
	if (!t)
		return;
	early_join(t);
	if ((t->rn.tagged || t->rn.maybe) && !t->taken)
		untag(&t->api, t->rn.name, ':', t->rn.tag, t->debug, t->debug_ctx);
	idp_docker_api_release(&t->api);
	free(t->image);
	free(t);
}

/* ---- removed once the daemon's push is over ---- */

static void *untag_main(void *arg)
{
	struct relay_untag_job *j = arg;

	untag(&j->api, j->name, j->sep, j->ref, j->u->debug, j->u->debug_ctx);
	return NULL;
}

static void job_start(struct relay_untag *u, struct relay_untag_job *j, char sep,
		      const char *ref)
{
	j->u = u;
	j->name = u->rn->name;
	j->sep = sep;
	j->ref = ref;
	idp_docker_api_clone(u->api, &j->api);
	if (pthread_create(&j->th, NULL, untag_main, j) == 0)
		j->started = 1;
	else
		untag_main(j);   /* no thread: at once */
}

void relay_untag_start(struct relay_untag *u)
{
	if (!u->rn->tagged && !u->rn->maybe)
		return;
	job_start(u, &u->jobs[0], ':', u->rn->tag);
	if (u->digest[0])
		job_start(u, &u->jobs[1], '@', u->digest);
	u->started = 1;
}

void relay_untag_wait(struct relay_untag *u)
{
	int i;

	if (!u->started)
		return;
	for (i = 0; i < 2; i++) {
		if (u->jobs[i].started)
			pthread_join(u->jobs[i].th, NULL);
		if (u->jobs[i].u)
			idp_docker_api_release(&u->jobs[i].api);
		memset(&u->jobs[i], 0, sizeof(u->jobs[i]));
	}
	u->started = 0;
}
