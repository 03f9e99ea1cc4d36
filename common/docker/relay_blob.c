/* relay_blob.c: the relay's blobs (relay_private.h). A blob the daemon
 * asks about (HEAD) or wants mounted is asked of the first target of
 * every registry through the engine's blob step (HEAD, mount), and
 * remembered once they all have it. An upload session the daemon opens
 * starts a thread of its own that opens the first registry's session at
 * once (idp_push_fanout_open: that round trip overlaps the daemon's own);
 * the bytes, as the daemon sends them (one streamed PATCH, or a PUT with
 * the whole body), go through a bounded ring to the engine's upload there
 * (idp_push_fanout_blob), which spools them, sends them in chunks and
 * retries as every upload does; the daemon's PUT is answered once the
 * bytes are in. A PUT with the bytes names their digest up front: the
 * upload sends it and the registry checks it (not hashed here, as docker
 * push leaves it to the registry); bytes that came in PATCHes are hashed
 * as they go and checked against the PUT's digest when the push ends
 * (the registry checks them too). An upload the daemon gives up (DELETE, a broken
 * request) is not a failure: the daemon sends the blob again.
 * Handed over: where the daemon can send a blob into the registry as well
 * as we can (one target; a loopback registry over plain HTTP that has
 * asked for no credentials, with no request size or rate limit to keep),
 * the session opened at the registry is the daemon's answer to its POST
 * (an absolute Location: the daemon follows it, as it follows any
 * registry's), and the bytes go there straight, copied by nobody else;
 * the daemon's progress report stands for the upload's events. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <json-c/json.h>
#include "util/jsonutil.h"
#include "relay_private.h"
#include "banned.h"

void relay_known_add(struct idp_relay *r, const char *digest, int64_t size)
{
	int i;

	pthread_mutex_lock(&r->mu);
	for (i = 0; i < r->nknown && strcmp(r->known[i].digest, digest) != 0; i++)
		;
	if (i < r->nknown && r->known[i].size < 0) {
		r->known[i].size = size;   /* mounted first, its size learnt since */
	} else if (i == r->nknown && i < RELAY_MAX_BLOBS) {
		snprintf(r->known[i].digest, sizeof(r->known[i].digest), "%s", digest);
		r->known[i].size = size;
		r->nknown++;
	}
	pthread_mutex_unlock(&r->mu);
}

void relay_quiet_add(struct idp_relay *r, const char *digest)
{
	pthread_mutex_lock(&r->mu);
	if (r->nquiet < (int)(sizeof(r->quiet) / sizeof(r->quiet[0])))
		snprintf(r->quiet[r->nquiet++], sizeof(r->quiet[0]), "%s", digest);
	pthread_mutex_unlock(&r->mu);
}

static int is_quiet(struct idp_relay *r, const char *digest)
{
	int i, q = 0;

	pthread_mutex_lock(&r->mu);
	for (i = 0; digest && i < r->nquiet; i++)
		q |= strcmp(r->quiet[i], digest) == 0;
	pthread_mutex_unlock(&r->mu);
	return q;
}

/* Whether the blob is known (the targets have it, or it came in full):
 * 1 with its size (-1: not learnt yet), else 0. */
static int known_blob(struct idp_relay *r, const char *digest, int64_t *size)
{
	int i, found = 0;

	pthread_mutex_lock(&r->mu);
	for (i = 0; !found && i < r->nknown; i++)
		if ((found = strcmp(r->known[i].digest, digest) == 0))
			*size = r->known[i].size;
	pthread_mutex_unlock(&r->mu);
	return found;
}

/* The size of a known blob, or -1. */
static int64_t known_size(struct idp_relay *r, const char *digest)
{
	int64_t size = -1;

	return known_blob(r, digest, &size) ? size : -1;
}

/* ---- connections: a set per thread at a time, kept for the next ---- */

static struct relay_conns *conns_take(struct idp_relay *r, struct relay_conns *c,
				      struct idp_error *err)
{
	pthread_mutex_lock(&r->mu);
	if (r->nidle) {
		*c = r->idle[--r->nidle];
		pthread_mutex_unlock(&r->mu);
		return c;
	}
	pthread_mutex_unlock(&r->mu);
	if (!(c->h = calloc((size_t)r->to.n, sizeof(*c->h)))) {
		idp_error_set(err, IDP_EGENERAL, "out of memory");
		return NULL;
	}
	if (idp_push_fanout_conns(r->fan, c->h, err) < 0) {   /* the session owns them */
		free(c->h);
		return NULL;
	}
	return c;
}

static void conns_give(struct idp_relay *r, struct relay_conns *c)
{
	pthread_mutex_lock(&r->mu);
	if (r->nidle < RELAY_MAX_CONNSETS) {
		r->idle[r->nidle++] = *c;
		c->h = NULL;
	}
	pthread_mutex_unlock(&r->mu);
	free(c->h);
}

int relay_blob_present(struct idp_relay *r, const char *digest, const char *mount_from,
		       int quiet, int64_t *size, struct idp_error *err)
{
	struct idp_fanout_blob fb;
	struct relay_conns c;
	int rc;

	if ((*size = known_size(r, digest)) >= 0)
		return 1;
	if (!conns_take(r, &c, err))
		return -1;
	memset(&fb, 0, sizeof(fb));
	fb.id = digest;
	fb.digest = digest;
	fb.size = -1;
	fb.quiet = quiet;
	fb.absent = 1;   /* a mount comes after the daemon's HEAD was told no */
	rc = idp_push_fanout_probe(r->fan, c.h, &fb, mount_from, err);
	conns_give(r, &c);
	if (rc == 1 && fb.got_size < 0 && !mount_from)
		rc = 0;   /* a size is part of a HEAD's answer (not of a mount's) */
	if (rc == 1) {
		relay_known_add(r, digest, fb.got_size);
		*size = fb.got_size;
	}
	return rc;
}

/* ---- upload sessions handed over ---- */

/* Whether sessions are handed over (still): once not, never again in
 * this push. */
static int handing_over(struct idp_relay *r)
{
	int on;

	pthread_mutex_lock(&r->mu);
	on = r->o.hand_over && r->to.n == 1 && !r->no_hand_over && !r->failed;
	pthread_mutex_unlock(&r->mu);
	if (on && !idp_session_shareable_uploads(r->to.t[0].s, NULL)) {
		idp_relay_hand_over_no_more(r);
		on = 0;
	}
	return on;
}

int relay_hand_over(struct idp_relay *r, char *loc, size_t n)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct relay_conns c;
	char *session = NULL;
	int ok;

	if (!handing_over(r) || !conns_take(r, &c, &err))
		return 0;
	/* asked again: the POST may have been challenged; the session must be
	 * on the registry itself (the daemon is sent nowhere else) */
	ok = idp_push_fanout_open(r->fan, c.h, &session, &err) == 0 &&
	     idp_session_shareable_uploads(r->to.t[0].s, session) && strlen(session) < n;
	if (ok) {
		snprintf(loc, n, "%s", session);
		relay_debugf(r, "relay: upload session handed over: the daemon sends the blob "
			     "to %s itself", idp_session_ref(r->to.t[0].s)->domain);
	} else
		idp_push_fanout_cancel(r->fan, c.h, session);
	conns_give(r, &c);
	free(session);
	pthread_mutex_lock(&r->mu);
	if (ok)
		r->nhanded++;
	else
		r->no_hand_over = 1;
	pthread_mutex_unlock(&r->mu);
	if (!ok)
		relay_debugf(r, "relay: uploads come through the relay: %s",
			     err.msg[0] ? err.msg : "the registry is not one the daemon "
			     "can send them to as we do");
	return ok;
}

int idp_relay_handed(struct idp_relay *r)
{
	int n;

	pthread_mutex_lock(&r->mu);
	n = r->nhanded;
	pthread_mutex_unlock(&r->mu);
	return n;
}

void idp_relay_hand_over_no_more(struct idp_relay *r)
{
	pthread_mutex_lock(&r->mu);
	r->no_hand_over = 1;
	pthread_mutex_unlock(&r->mu);
}

/* The entry of a layer the daemon reports sending, when it is not one of
 * the relay's own sessions (whose upload reports itself): added if new
 * while sessions are handed over (after that, only those it had go on);
 * -1 when it is the relay's, or there is no room. Under r->mu. */
static int daemon_layer(struct idp_relay *r, const char *id)
{
	int i;

	for (i = 0; i < r->nsessions; i++)
		if (strcmp(r->sessions[i]->show, id) == 0)
			return -1;
	for (i = 0; i < r->nlayers; i++)
		if (strcmp(r->layers[i].id, id) == 0)
			return i;
	if (!r->nhanded || r->no_hand_over || r->nlayers == RELAY_MAX_HANDED ||
	    strlen(id) >= sizeof(r->layers[0].id))
		return -1;
	snprintf(r->layers[i].id, sizeof(r->layers[i].id), "%s", id);
	r->layers[i].total = -1;
	r->layers[i].pushed = 0;
	return r->nlayers++;
}

void idp_relay_daemon_progress(struct idp_relay *r, const char *id, int64_t current,
			       int64_t total, int pushed)
{
	char shown[16];
	int i, report = 0;

	pthread_mutex_lock(&r->mu);
	if ((i = daemon_layer(r, id)) >= 0 && !r->layers[i].pushed) {
		if (total > 0)
			r->layers[i].total = total;
		total = r->layers[i].total;
		r->layers[i].pushed = pushed;
		snprintf(shown, sizeof(shown), "%s", r->layers[i].id);
		report = 1;
	}
	pthread_mutex_unlock(&r->mu);
	if (report)
		idp_push_fanout_handed(r->fan, shown, current, total, pushed);
}

/* The blobs of the manifests (config and layers of each image manifest):
 * what the other targets of a registry mount. */
static int blobs_of(struct idp_image *img, struct idp_error *err)
{
	int i, k, rc = 0;

	for (i = 0; rc == 0 && i < img->nmanifests; i++) {
		json_object *o = idp_json_parse((const char *)img->manifests[i].data,
						img->manifests[i].len, IDP_CAP_MANIFEST);
		json_object *cfg = idp_json_obj(o, "config"), *layers = idp_json_array(o, "layers");
		int n = layers ? (int)json_object_array_length(layers) : 0;

		for (k = -1; rc == 0 && k < n; k++) {
			json_object *d = k < 0 ? cfg : json_object_array_get_idx(layers, k);
			const char *digest = idp_json_str(d, "digest");
			struct idp_image_blob *b;

			if (!digest)
				continue;
			if (!(b = idp_image_add_blob(img, digest, idp_json_int(d, "size", -1),
						     idp_json_str(d, "mediaType"), err)))
				rc = -1;
			else
				b->quiet |= k < 0;
		}
		json_object_put(o);
	}
	return rc;
}

/* The daemon's push stopped once the image was whole (idp_relay_whole),
 * before it reported every layer it sent (it reports every 100 ms and at
 * its end): a layer the targets neither had nor got through the relay
 * was sent by the daemon itself, and is there now: reported pushed. */
static void whole_layers(struct idp_relay *r, const struct idp_image *img)
{
	char id[16];
	int64_t size;
	int k;

	if (!idp_relay_whole(r))
		return;
	for (k = 0; k < img->nblobs; k++) {
		if (img->blobs[k].quiet || known_blob(r, img->blobs[k].digest, &size))
			continue;
		snprintf(id, sizeof(id), "%.12s", idp_digest_hex(img->blobs[k].digest));
		idp_relay_daemon_progress(r, id, img->blobs[k].size, img->blobs[k].size, 1);
	}
}

int relay_image_blobs(struct idp_relay *r, struct idp_image *img, struct idp_error *err)
{
	int i, k;

	if (blobs_of(img, err) < 0)
		return -1;
	whole_layers(r, img);
	for (i = 0; i < r->nlayers; i++)
		for (k = 0; r->layers[i].pushed && k < img->nblobs; k++)
			if (strncmp(idp_digest_hex(img->blobs[k].digest), r->layers[i].id,
				    strlen(r->layers[i].id)) == 0) {
				idp_push_fanout_handed_in(r->fan, img->blobs[k].size);
				break;
			}
	return 0;
}

/* ---- upload sessions ---- */

static void *upload_main(void *arg);

/* The upload of us starts: a thread that opens the registries' session
 * at once and takes the bytes from the ring as they come. */
static int upload_start(struct relay_session *us)
{
	struct idp_error err = IDP_ERROR_INIT;

	if (idp_ring_new(RELAY_RING, &us->ring, &err) < 0)
		return -1;
	if (pthread_create(&us->th, NULL, upload_main, us) != 0)
		return -1;
	us->started = 1;
	return 0;
}

static void session_free(struct relay_session *us)
{
	idp_ring_free(us->ring);
	pthread_cond_destroy(&us->begin_cv);
	free(us);
}

struct relay_session *relay_session_new(struct idp_relay *r)
{
	struct relay_session *us = calloc(1, sizeof(*us));
	unsigned char rnd[RELAY_ID_LEN / 2];
	int i, in = 0;

	if (!us || getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		free(us);
		return NULL;
	}
	for (i = 0; i < (int)sizeof(rnd); i++)
		snprintf(us->id + 2 * i, 3, "%02x", rnd[i]);
	us->relay = r;
	pthread_cond_init(&us->begin_cv, NULL);
	pthread_mutex_lock(&r->mu);
	if (r->nsessions < RELAY_MAX_SESSIONS && !r->failed) {
		r->sessions[r->nsessions++] = us;
		in = 1;
	}
	pthread_mutex_unlock(&r->mu);
	if (!in) {
		session_free(us);
		return NULL;
	}
	if (upload_start(us) < 0) {
		relay_session_drop(us);   /* the relay frees it */
		return NULL;
	}
	return us;
}

struct relay_session *relay_session_take(struct idp_relay *r, const char *id)
{
	struct relay_session *us = NULL;
	int i;

	pthread_mutex_lock(&r->mu);
	for (i = 0; i < r->nsessions; i++)
		if (strcmp(r->sessions[i]->id, id) == 0)
			us = r->sessions[i];
	if (us && (us->busy || us->ended || us->dropped))
		us = NULL;
	if (us)
		us->busy = 1;
	pthread_mutex_unlock(&r->mu);
	return us;
}

void relay_session_release(struct idp_relay *r, struct relay_session *us)
{
	pthread_mutex_lock(&r->mu);
	us->busy = 0;
	pthread_mutex_unlock(&r->mu);
}

/* What the first bytes say the upload is (digest: the PUT's, with size
 * its length; else neither known), told to the upload thread. */
static void session_begin(struct relay_session *us, const char *digest, int64_t size)
{
	struct idp_relay *r = us->relay;
	int quiet = is_quiet(r, digest);

	pthread_mutex_lock(&r->mu);
	if (!us->begun) {
		if (digest)
			snprintf(us->claimed, sizeof(us->claimed), "%s", digest);
		snprintf(us->show, sizeof(us->show), "%.12s",
			 digest ? idp_digest_hex(digest) : us->id);
		us->fb.id = us->show;
		/* the daemon asked already: no HEAD. A PUT names its digest: the
		 * registry checks the bytes against it (not hashed here); a PATCH
		 * says nothing: hashed as it goes, checked after the join */
		us->fb.digest = digest ? us->claimed : NULL;
		us->fb.absent = 1;
		us->fb.unhashed = digest != NULL;
		us->fb.size = digest ? size : -1;
		us->fb.quiet = quiet;
		us->begun = 1;
		pthread_cond_broadcast(&us->begin_cv);
	}
	pthread_mutex_unlock(&r->mu);
}

/* Wait for the first bytes: 1 once they came, 0 when the session ended
 * without any. */
static int session_wait_begin(struct relay_session *us)
{
	struct idp_relay *r = us->relay;
	int begun;

	pthread_mutex_lock(&r->mu);
	while (!us->begun && !us->dropped)
		pthread_cond_wait(&us->begin_cv, &r->mu);
	begun = us->begun;
	pthread_mutex_unlock(&r->mu);
	return begun;
}

/* The upload thread: the registries' session opened (when that fails,
 * the upload opens its own and says why it cannot), then the ring's
 * bytes into every registry. */
static void *upload_main(void *arg)
{
	struct relay_session *us = arg;
	struct idp_relay *r = us->relay;
	struct idp_error ignored = IDP_ERROR_INIT;
	struct idp_blob_reader rd;
	struct relay_conns c;
	char *session = NULL;
	int begun;

	idp_ring_reader(us->ring, &rd);
	us->fb.r = &rd;
	us->rc = -1;
	if (!conns_take(r, &c, &us->err)) {
		idp_blob_reader_close(&rd);   /* a writer still waiting stops */
		relay_fail(r, &us->err);
		return NULL;
	}
	if (idp_push_fanout_open(r->fan, c.h, &session, &ignored) < 0)
		session = NULL;
	if ((begun = session_wait_begin(us))) {
		us->fb.session = session;
		us->rc = idp_push_fanout_blob(r->fan, c.h, &us->fb, &us->err);
	} else {
		idp_push_fanout_cancel(r->fan, c.h, session);
	}
	conns_give(r, &c);
	free(session);
	idp_blob_reader_close(&rd);
	if (us->rc < 0 && begun && !idp_ring_failed(us->ring))
		relay_fail(r, &us->err);
	return NULL;
}

int relay_session_write(struct relay_session *us, const char *digest, int64_t length,
			const void *data, size_t n)
{
	/* begun is written only by the session's holder (relay_session_take
	 * hands it over under the lock): read here without it */
	if (!us->begun)
		session_begin(us, digest, length);
	if (idp_ring_write(us->ring, data, n) < 0)
		return -1;
	us->received += (int64_t)n;
	return 0;
}

int relay_session_end(struct relay_session *us, const char *digest)
{
	struct idp_relay *r = us->relay;

	session_begin(us, digest, 0);   /* an empty blob */
	if (!us->claimed[0])
		snprintf(us->claimed, sizeof(us->claimed), "%s", digest);
	idp_ring_close(us->ring);
	pthread_mutex_lock(&r->mu);
	us->ended = 1;
	pthread_mutex_unlock(&r->mu);
	relay_known_add(r, digest, us->received);
	return 0;
}

/* us stops taking bytes: its upload fails with why (or, when none came,
 * gives its session up). */
static void session_stop(struct relay_session *us, const char *why)
{
	struct idp_relay *r = us->relay;

	pthread_mutex_lock(&r->mu);
	us->dropped = 1;
	pthread_cond_broadcast(&us->begin_cv);
	pthread_mutex_unlock(&r->mu);
	if (us->ring)
		idp_ring_fail(us->ring, why);
}

void relay_session_drop(struct relay_session *us)
{
	session_stop(us, "the docker daemon gave the upload up");
}

/* After the join: an upload whose bytes are not the digest its PUT named. */
static int check_digest(const struct relay_session *us, struct idp_error *err)
{
	if (!us->ring || !us->ended || us->rc < 0 || strcmp(us->fb.got, us->claimed) == 0)
		return 0;
	return idp_error_set(err, IDP_EGENERAL,
			     "the docker daemon uploaded %s as %s: nothing was tagged",
			     us->fb.got, us->claimed);
}

int relay_sessions_join(struct idp_relay *r, int abandon, struct idp_error *err)
{
	int i, g, rc = 0;

	for (i = 0; i < r->nsessions; i++)
		if (abandon || !r->sessions[i]->ended)
			session_stop(r->sessions[i], "the push ended before the upload");
	for (g = 0; abandon && g < r->to.n; g++)
		idp_session_set_abort(r->to.t[g].s, 1);
	for (i = 0; i < r->nsessions; i++)
		if (r->sessions[i]->started) {
			pthread_join(r->sessions[i]->th, NULL);
			r->sessions[i]->started = 0;
		}
	for (g = 0; abandon && g < r->to.n; g++)
		idp_session_set_abort(r->to.t[g].s, 0);
	if (idp_relay_failed(r, err))
		return -1;
	for (i = 0; rc == 0 && !abandon && i < r->nsessions; i++)
		rc = check_digest(r->sessions[i], err);
	return rc;
}

void relay_sessions_free(struct idp_relay *r)
{
	int i;

	for (i = 0; i < r->nsessions; i++)
		session_free(r->sessions[i]);
	r->nsessions = 0;
	for (i = 0; i < r->nidle; i++)
		free(r->idle[i].h);
	r->nidle = 0;
}
