/* relay_ahead.c: the manifests the daemon puts, put into the registry by
 * their digest at once, on a thread of their own, while the daemon ends
 * its push (relay_private.h). Only while every blob went into the
 * registry without an upload of the relay's own (handed over, found or
 * mounted: then it is there before the daemon puts a manifest naming
 * it), into one target, and in the order the daemon put them (children
 * before the index). The image's own manifest (the digest that is the
 * image ID on the containerd image store: the daemon puts it last) goes
 * under the tag instead, as soon as it came and the registry took every
 * one before it: the image is whole there then, so the daemon's push call
 * is stopped (idp_relay_whole): neither its tag nor the end of the push
 * waits for the daemon's bookkeeping (15-20 ms on dockerd 26). No other
 * manifest is tagged before the daemon's push succeeded; then the thread
 * puts what it has not yet, and ends. A manifest put ahead is not put
 * again when the push ends. A failure here only stops it: the manifests
 * left go up at the end as usual. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "relay_private.h"
#include "banned.h"

/* Whether manifests go ahead now (under mu). */
static int going_ahead(const struct idp_relay *r)
{
	return !r->ahead_off && r->to.n == 1 && r->nhanded > 0 && !r->no_hand_over &&
	       r->nsessions == 0 && !r->failed;
}

/* The next manifest to put, copied (under mu): 1, or 0 when there is none
 * to put (yet). */
static int next_manifest(struct idp_relay *r, struct idp_image_manifest *m)
{
	const struct idp_image_manifest *g;

	if (r->nahead >= r->got.nmanifests || !going_ahead(r))
		return 0;
	g = &r->got.manifests[r->nahead];
	memset(m, 0, sizeof(*m));
	memcpy(m->digest, g->digest, sizeof(m->digest));
	m->len = g->len;
	if (!(m->media_type = strdup(g->media_type)) || !(m->data = malloc(g->len))) {
		free(m->media_type);
		r->ahead_off = 1;
		return 0;
	}
	memcpy(m->data, g->data, g->len);
	return 1;
}

static void *ahead_main(void *arg)
{
	struct idp_relay *r = arg;
	struct idp_http *h = idp_session_conn(r->to.t[0].s);
	struct idp_image_manifest m;
	struct idp_error err = IDP_ERROR_INIT;
	int rc, top;

	pthread_mutex_lock(&r->mu);
	while (h && !r->ahead_off) {
		if (!next_manifest(r, &m)) {
			if (r->ahead_stop)
				break;   /* all put */
			pthread_cond_wait(&r->ahead_cv, &r->mu);
			continue;
		}
		pthread_mutex_unlock(&r->mu);
		top = r->o.image_id && strcmp(m.digest, r->o.image_id) == 0;
		rc = idp_push_manifest_ahead(&r->to.t[0], h, &m, top, &err);
		if (rc == 0 && top)
			relay_debugf(r, "relay: %s is the image: under the tag at once", m.digest);
		free(m.media_type);
		free(m.data);
		pthread_mutex_lock(&r->mu);
		if (rc < 0) {
			r->ahead_off = 1;
		} else {
			r->nahead++;
			r->ahead_tagged = top ? r->nahead : r->ahead_tagged;
		}
		if (rc == 0 && top && r->o.abort) {   /* whole: the daemon need not finish */
			r->whole = 1;
			idp_stop_set_abort(r->o.abort, 1);
		}
	}
	pthread_mutex_unlock(&r->mu);
	if (err.msg[0])
		relay_debugf(r, "relay: manifests wait for the end of the push: %s", err.msg);
	return NULL;
}

void relay_ahead_add(struct idp_relay *r)
{
	int start;

	pthread_mutex_lock(&r->mu);
	start = going_ahead(r) && !r->ahead_started && !r->ahead_stop;
	if (start && pthread_create(&r->ahead_th, NULL, ahead_main, r) == 0)
		r->ahead_started = 1;
	else if (start)
		r->ahead_off = 1;
	pthread_cond_broadcast(&r->ahead_cv);
	pthread_mutex_unlock(&r->mu);
}

void relay_ahead_join(struct idp_relay *r, int drain)
{
	int i, started;

	pthread_mutex_lock(&r->mu);
	r->ahead_stop = 1;
	r->ahead_off |= !drain;
	started = r->ahead_started;
	r->ahead_started = 0;
	pthread_cond_broadcast(&r->ahead_cv);
	pthread_mutex_unlock(&r->mu);
	if (started)
		pthread_join(r->ahead_th, NULL);
	for (i = 0; i < r->nahead && i < r->got.nmanifests; i++)
		r->got.manifests[i].present = 1;
	if (r->ahead_tagged > 0 && r->ahead_tagged <= r->got.nmanifests)
		r->got.manifests[r->ahead_tagged - 1].tagged = 1;
}
