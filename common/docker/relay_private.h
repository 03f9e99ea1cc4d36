/* docker/relay_private.h: what relay.c (the server), relay_blob.c
 * (blobs: the targets, upload sessions), relay_ahead.c, relay_tag.c (the
 * temporary name) and relay_push.c (the flow) share. Nobody else includes
 * it. */
#ifndef IDP_DOCKER_RELAY_PRIVATE_H
#define IDP_DOCKER_RELAY_PRIVATE_H

#include <pthread.h>
#include "util/ring.h"
#include "relay.h"

#define RELAY_MAX_SESSIONS 512
#define RELAY_MAX_BLOBS 4096
#define RELAY_MAX_CONNSETS 16          /* idle connection sets kept */
#define RELAY_RING (4u << 20)          /* bytes between the daemon and an upload */
#define RELAY_ID_LEN 32                /* hex of an upload session's id */
#define RELAY_MAX_HANDED 512           /* layers the daemon sends itself */

/* An upload session the daemon opened (POST .../blobs/uploads/). */
struct relay_session {
	struct idp_relay *relay;
	char id[RELAY_ID_LEN + 1];
	char claimed[IDP_DIGEST_MAX];  /* the digest its PUT named ("" until then) */
	int64_t received;              /* bytes the daemon sent */
	int busy;                      /* a request of the daemon is on it */
	int ended;                     /* PUT answered: the bytes are all there */
	int dropped;                   /* the daemon gave it up (DELETE, a broken request) */
	int begun;                     /* its first bytes came: fb says what they are */
	pthread_cond_t begin_cv;       /* begun or dropped (under the relay's mu) */
	struct idp_ring *ring;         /* the bytes, to the upload thread */
	pthread_t th;
	int started;                   /* th runs */
	/* the upload's, read after th is joined */
	int rc;
	struct idp_error err;
	struct idp_fanout_blob fb;
	char show[16];                 /* progress id */
};

/* A set of connections, one per first target of a registry, for one thread. */
struct relay_conns {
	struct idp_http **h;
};

struct idp_relay {
	struct idp_relay_opts o;
	struct idp_push_targets to;    /* o.to with events serialised (on_event) */
	struct idp_push_opts po;
	struct idp_push_fanout *fan;
	pthread_mutex_t emit_mu;
	char user[33], pass[33];
	int port;
	int lfd;                       /* the listening socket */
	int wake[2];                   /* tells the acceptor to stop */
	pthread_t acceptor;
	int acceptor_started;
	void *mhd;                     /* struct MHD_Daemon */
	pthread_mutex_t mu;
	/* under mu */
	int64_t armed_ms;              /* idp_relay_arm's time, 0: not armed */
	int connections;
	int silent;
	int failed;
	struct idp_error first_err;
	int nsessions;
	struct relay_session *sessions[RELAY_MAX_SESSIONS];
	int nquiet;                    /* configs the daemon asked about: no progress line */
	char quiet[16][IDP_DIGEST_MAX];
	int nknown;                    /* blobs the targets have, or that came in full */
	struct { char digest[IDP_DIGEST_MAX]; int64_t size; } known[RELAY_MAX_BLOBS];
	int no_hand_over;              /* sessions are not handed over (any more) */
	int nhanded;                   /* upload sessions handed over to the daemon */
	int nlayers;                   /* the layers the daemon reported sending */
	struct { char id[16]; int64_t total; int pushed; } layers[RELAY_MAX_HANDED];
	struct idp_image got;          /* the manifests the daemon put, in order */
	/* manifests put ahead (relay_ahead.c) */
	int ahead_off;                 /* not (any more): the rest go up at the end */
	int ahead_stop;                /* the push is over */
	int ahead_started;             /* ahead_th runs */
	int nahead;                    /* got.manifests[0, nahead) are in the registry */
	int ahead_tagged;              /* got.manifests[ahead_tagged - 1] is under the tag */
	int whole;                     /* that one is the image: the daemon's push stopped */
	pthread_t ahead_th;
	pthread_cond_t ahead_cv;
	size_t manifest_bytes;
	int nidle;
	struct relay_conns idle[RELAY_MAX_CONNSETS];
};

/* Record the relay's first failure (the daemon's push is stopped). */
void relay_fail(struct idp_relay *r, const struct idp_error *err);
/* A line of -v trace. */
void relay_debugf(struct idp_relay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- relay_ahead.c ---- */

/* The daemon put a manifest (into got): put into the registry by its
 * digest at once, in order, while every blob went there without an
 * upload of the relay's own; the image's own (opts.image_id) under the
 * target's tag. */
void relay_ahead_add(struct idp_relay *r);
/* No more: the thread joined (drain: after it put every manifest received,
 * the daemon's push having succeeded; else at once), the manifests it
 * put marked present (tagged) in got. */
void relay_ahead_join(struct idp_relay *r, int drain);

/* ---- relay_blob.c ---- */

/* Whether every registry has digest: 1 with *size, 0 not, -1 with err.
 * mount_from: a repository to mount it from first, or NULL; quiet: no
 * progress line (a config). */
int relay_blob_present(struct idp_relay *r, const char *digest, const char *mount_from,
		       int quiet, int64_t *size, struct idp_error *err);
/* A new upload session, its upload started: the registries' session is
 * opened while the daemon's bytes are on their way (NULL: too many, or
 * out of memory). */
struct relay_session *relay_session_new(struct idp_relay *r);
/* The blobs of img (the manifests the daemon put) added to it, and the
 * layers the daemon sent itself counted, at their sizes there. 0, or -1
 * with err. */
int relay_image_blobs(struct idp_relay *r, struct idp_image *img, struct idp_error *err);
/* An upload session of the registry for the daemon to send the blob into
 * itself (opts.hand_over, one target, idp_session_shareable_uploads:
 * checked before it is opened, and after with its URL): 1 with its URL in
 * loc, 0 when the blob is to come through the relay (so are the next
 * ones then: decided once). */
int relay_hand_over(struct idp_relay *r, char *loc, size_t n);
/* The session with this id, marked busy; NULL when none (or busy). */
struct relay_session *relay_session_take(struct idp_relay *r, const char *id);
void relay_session_release(struct idp_relay *r, struct relay_session *us);
/* Bytes of the daemon into us (the first say what the upload is; digest:
 * the PUT's when that is the first request with bytes, else NULL;
 * length: the request's Content-Length, or -1): 0, or -1 when the upload
 * is gone (the connection is dropped). */
int relay_session_write(struct relay_session *us, const char *digest, int64_t length,
			const void *data, size_t n);
/* The PUT ended: the bytes are complete under digest. 0, or -1. */
int relay_session_end(struct relay_session *us, const char *digest);
/* The daemon gave it up (DELETE, a broken request). */
void relay_session_drop(struct relay_session *us);
/* Wait for every upload (abandon: break those still receiving first);
 * the first failure, or a blob whose digest is not the one its PUT
 * named: -1 with err. */
int relay_sessions_join(struct idp_relay *r, int abandon, struct idp_error *err);
void relay_sessions_free(struct idp_relay *r);
/* The daemon asked about digest as a config: its upload shows no line. */
void relay_quiet_add(struct idp_relay *r, const char *digest);
/* The digest is known to be in every registry (size bytes). */
void relay_known_add(struct idp_relay *r, const char *digest, int64_t size);

/* ---- relay_tag.c ---- */

/* The temporary name the daemon pushes: made (tagged) or not. */
struct relay_name {
	char name[400];                /* 127.0.0.1:PORT/<repository> */
	char tag[40];                  /* idppush-<16 hex> */
	int tagged;
	int maybe;                     /* asked, no answer (a cancel, a timeout): it may be
					* there, so it is removed all the same */
	int by_name;                   /* tagged by the image's name, not its ID: what the
					* daemon pushed is to be checked */
};

/* Tag image (a name or an ID) rn->name:<a new temporary tag>. 0, or -1
 * (rn->maybe: the daemon gave no answer). */
int relay_tag_image(struct idp_docker_api *a, const char *image, struct relay_name *rn,
		    struct idp_error *err);
/* The early tag (idp_relay_tag_early, NULL: none) waited for and taken
 * over into rn when it named name: 1 (the caller removes it then), else 0
 * with why. */
int relay_tag_take(struct idp_relay_tag *t, const char *name, struct relay_name *rn,
		   struct idp_error *why);

/* The temporary tag and the digest reference the push left, removed once
 * the daemon's push is over (the daemon writes its metadata for each),
 * each on a thread and connection of its own, while the uploads end and
 * the manifests go up; relay_untag_wait joins them. */
struct relay_untag_job {
	struct relay_untag *u;
	struct idp_docker_api api;
	const char *name;
	char sep;                      /* ':' a tag, '@' a digest */
	const char *ref;
	pthread_t th;
	int started;
};

struct relay_untag {
	const struct idp_docker_api *api;   /* the daemon's (cloned per job) */
	const struct relay_name *rn;        /* the tag */
	const char *digest;                 /* the digest reference, or "" */
	void (*debug)(void *ctx, const char *line);
	void *debug_ctx;
	struct relay_untag_job jobs[2];
	int started;
};

void relay_untag_start(struct relay_untag *u);
void relay_untag_wait(struct relay_untag *u);

#endif
