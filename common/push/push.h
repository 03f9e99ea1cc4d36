/* push.h: the push engine a front end drives. It joins an image source
 * (sources/source.h) to the registry client (registry.h): every blob goes
 * through one step, "already there (HEAD) -> mount (when a source
 * repository is known) -> upload -> count -> report", then the manifests
 * are put children first and the top one under the tag. A push goes to
 * one or more targets (struct idp_push_targets): the blobs once to each
 * registry, mounted into its other repositories. Random-access images
 * push several blobs at once (idp_push_image_to); streams push each blob
 * as it arrives, in two phases the caller runs in order
 * (idp_stream_push_*). It reports through an event callback and never
 * prints. */
#ifndef IDP_PUSH_H
#define IDP_PUSH_H

#include <signal.h>
#include <stdint.h>
#include "registry/registry.h"
#include "sources/source.h"

enum idp_event_kind {
	IDP_EV_WAITING,        /* blob queued */
	IDP_EV_PUSHING,        /* bytes done/total (total -1 when unknown): see below */
	IDP_EV_EXISTS,         /* blob already in the repository */
	IDP_EV_MOUNTED,        /* mounted from `text` */
	IDP_EV_PUSHED,         /* blob uploaded */
	IDP_EV_MANIFEST,       /* manifest put: digest, total = size, text = reference */
	IDP_EV_WARNING,        /* text */
	IDP_EV_DEBUG,          /* text (HTTP trace, secrets redacted) */
	IDP_EV_PREPARING       /* a blob to come, known up front (a stream's plan) */
};

/* IDP_EV_PUSHING comes once with done 0 when the upload starts, then as
 * bytes are sent, at most every 50 ms per blob and only when done grew;
 * done < total until the blob is committed (IDP_EV_PUSHED). For a stream
 * blob done/total count the source's bytes (a raw layer's, as docker push
 * counts them), done being those behind the bytes sent so far. */
struct idp_event {
	enum idp_event_kind kind;
	const char *id;        /* display id of the blob (12 hex), or NULL */
	const char *digest;
	int64_t done;
	int64_t total;
	const char *text;
};

typedef void (*idp_event_fn)(void *ctx, const struct idp_event *ev);

struct idp_push_opts {
	int jobs;                  /* blobs in flight, default 4 */
	idp_event_fn on_event;     /* called serialised (never concurrently) */
	void *event_ctx;
};

/* What happened to a blob. */
enum idp_blob_outcome { IDP_BLOB_PENDING, IDP_BLOB_EXISTED, IDP_BLOB_MOUNTED, IDP_BLOB_PUSHED };

/* Bytes count every blob; the blob counts leave out those without a
 * progress line (quiet: a config), so they are the layers docker shows. */
struct idp_push_stats {
	int64_t bytes_uploaded;
	int64_t bytes_skipped;     /* existed or mounted */
	int blobs_pushed, blobs_existed, blobs_mounted;
};

/* to += from */
void idp_push_stats_add(struct idp_push_stats *to, const struct idp_push_stats *from);

/* What a push leaves: the top manifest and the counts. */
struct idp_push_result {
	char digest[IDP_DIGEST_MAX];
	size_t size;
	struct idp_push_stats stats;
};

/* ---- destinations ---- */

/* One destination of a push: its session (bound to the repository) and
 * the tag; res gets the result. */
struct idp_push_target {
	struct idp_session *s;
	const char *tag;           /* NULL = by digest */
	int blobs_done;            /* the blobs are known to be there: only the manifests */
	struct idp_push_result res;
};

/* Where a push goes and how it reports: n targets (1 or more), each blob
 * uploaded to the first target of each registry and mounted into that
 * registry's other targets; with several targets an error names the one
 * it concerns. */
struct idp_push_targets {
	struct idp_push_target *t;
	int n;
	const struct idp_push_opts *o;
};

/* Only look: each blob of img that is already in t's repository, or can
 * be mounted from its mount_from, gets IDP_BLOB_EXISTED / IDP_BLOB_MOUNTED
 * in have[i] (else IDP_BLOB_PENDING), its event, and its count in
 * t->res.stats; a blob of unknown size (-1) learns it from the registry.
 * Nothing is uploaded. Returns how many are present, or -1. */
int idp_push_probe(struct idp_push_target *t, const struct idp_push_opts *o, struct idp_image *img,
		   enum idp_blob_outcome *have, struct idp_error *err);

/* Nothing changed: when t->tag (NULL = by digest) already names img's top
 * manifest, the whole image is there (a registry takes a manifest only
 * once it has what it references): each blob is reported as existing,
 * the manifests as put, t->res filled, and 1 returned, after one HEAD.
 * 0 when it does not (or the HEAD fails): nothing reported, push as usual. */
int idp_push_if_present(struct idp_push_target *t, const struct idp_push_opts *o,
			const struct idp_image *img);

/* Nothing changed, for a store whose image ID is the digest a push of it
 * puts (docker's containerd image store): when t->tag already names
 * `digest` (one HEAD, any manifest type), the manifest is reported as put,
 * t->res filled, and 1 returned; 0 when it does not (or the HEAD fails). */
int idp_push_if_named(struct idp_push_target *t, const struct idp_push_opts *o,
		      const char *digest);

/* Push img to every target: each blob from src, several at a time (the
 * first failure stops the others and is returned; open upload sessions
 * are deleted), mounted into the other targets of its registry (uploaded
 * from src if the registry will not mount); then, once every blob is in
 * place, the manifests, children first, the last one under each target's
 * tag. src NULL: nothing can be uploaded (the blobs must be there or
 * mountable). Targets with blobs_done get only the manifests. */
int idp_push_image_to(const struct idp_push_targets *to, struct idp_source *src,
		      const struct idp_image *img, struct idp_error *err);

/* Whether target i is the first of its registry in `to` (blobs are
 * uploaded there, mounted into the others). */
int idp_push_first_of_registry(const struct idp_push_targets *to, int i);

/* Put manifest m into t by its digest (under_tag: under t's tag, when it
 * has one), ahead of the rest of its image, on h (a connection of the
 * caller's thread): 0, or -1 with err. Once every target has it,
 * m->present (m->tagged) spares it the later put. */
int idp_push_manifest_ahead(struct idp_push_target *t, struct idp_http *h,
			    const struct idp_image_manifest *m, int under_tag,
			    struct idp_error *err);

/* Put img's manifests into every target, in order (those present
 * already only under a tag, for the top one). */
int idp_push_manifests_to(const struct idp_push_targets *to, const struct idp_image *img,
			  struct idp_error *err);

/* ---- streams ----
 * A stream (sources/source.h) is pushed in two phases, so that its
 * caller can act between them (the plugin reaps `docker save` once the
 * stream has ended, before anything is tagged):
 *
 *   push = idp_stream_push_open(&to, &stream, known, nknown, err);
 *   idp_stream_push_blobs(push, &img, err)   phase 1: the stream's blobs,
 *                                            then the image it describes
 *   ... the caller's step ...
 *   idp_stream_push_rest(push, &img, err)    phase 2: the image's other
 *                                            blobs (its config), mounts
 *                                            into the other targets, the
 *                                            manifests
 *   idp_stream_push_close(push);             then close the stream
 *
 * The stream is read once: each blob goes to the first target of every
 * registry as it arrives (the bytes kept in a spool file for the next
 * registry), then is mounted into the other targets of its registry. A
 * stream that can be read in any order (source.h's plan and take) is
 * read o->jobs blobs at a time, each announced up front (PREPARING, then
 * WAITING beyond the jobs).
 * Nothing is tagged unless the whole stream was read and checked. */

/* What a front end knows of a stream's blobs before the stream starts
 * (its cache). A blob the stream hands over is the first entry with its
 * digest (a blob the stream has stored), else the first with its display
 * id; none: nothing is known. */
struct idp_stream_known {
	const char *by_digest;     /* this entry's key: a digest, or NULL */
	const char *by_id;         /* or a display id, or NULL */
	/* progress shows this for a blob the stream compresses (a raw
	 * layer: docker push names it by its diffID), or NULL */
	const char *display_id;
	/* in the repository already as digest/size: not uploaded (with one
	 * registry; with several every registry gets the same bytes) */
	int present;
	const char *digest;
	int64_t size;
	const char *expect;        /* a raw layer's uncompressed digest must be this, or NULL */
	/* not present: a repository of the first target's registry that has
	 * it (a blob the stream hands over as stored), to mount it from, or
	 * NULL */
	const char *mount_from;
};

/* A blob the stream handed over, as phase 1 left it. */
struct idp_stream_taken {
	char display_id[IDP_DIGEST_MAX];   /* the stream's id for it ("" none) */
	int compressed;            /* the stream had it compressed: pushed as stored */
	int uploaded;              /* read and uploaded (else skipped: the registry had it) */
	char diffid[IDP_DIGEST_MAX];   /* uploaded: the uncompressed digest the stream
					* computed ("" when it computed none) */
	char digest[IDP_DIGEST_MAX];   /* what the registry has */
};

struct idp_stream_push;

/* A push of stream into the targets, known[0..nknown) what the caller
 * knows of its blobs (both must outlive the push). NULL with err. */
struct idp_stream_push *idp_stream_push_open(const struct idp_push_targets *to,
					     struct idp_stream *stream,
					     const struct idp_stream_known *known, int nknown,
					     struct idp_error *err);
/* Phase 1: each blob as the stream hands it over, skipped when `known`
 * says the registry has it (with one registry), else through the same
 * step as every blob; then the stream checks itself and img gets the
 * image (release it). */
int idp_stream_push_blobs(struct idp_stream_push *push, struct idp_image *img,
			  struct idp_error *err);
/* The blobs phase 1 took from the stream, in order: *n of them. */
const struct idp_stream_taken *idp_stream_push_taken(const struct idp_stream_push *push, int *n);
/* Phase 2, after phase 1 succeeded: what img has that the stream did not
 * hand over (its config, byte for byte), then the blobs mounted into the
 * other targets of each registry, then every target's manifests. */
int idp_stream_push_rest(struct idp_stream_push *push, const struct idp_image *img,
			 struct idp_error *err);
/* The counts into each target's res.stats; push freed (NULL: nothing). */
void idp_stream_push_close(struct idp_stream_push *push);

/* ---- one blob, read once, into every registry ----
 * What a stream push does with each of its blobs, for callers whose blobs
 * come from elsewhere (the plugin's loopback relay: what the docker daemon
 * uploads to it): the blob into the first target of every registry of the
 * push through the same step as every blob (HEAD when its digest is known
 * -> upload), the bytes kept in a spool after the first registry for the
 * next one. Several threads may push blobs at once, each with connections
 * of its own (idp_push_fanout_conns); events are serialised per target
 * only, so with several targets the caller serialises its on_event. The
 * other targets of each registry and the manifests are the caller's
 * (idp_push_image_to with no source mounts them). */
struct idp_push_fanout;

/* For the targets `to` (they and to->o must outlive it); NULL with err. */
struct idp_push_fanout *idp_push_fanout_new(const struct idp_push_targets *to,
					    struct idp_error *err);
/* What the blobs did so far (pushed, mounted, found) into the targets'
 * results (res.stats). */
void idp_push_fanout_report(struct idp_push_fanout *f);
/* The counts into each target's res.stats; f freed (NULL: nothing). */
void idp_push_fanout_free(struct idp_push_fanout *f);
/* conns[0..to->n): a new connection of each first target of a registry
 * (NULL for the others), for one thread. 0, or -1 with err. */
int idp_push_fanout_conns(const struct idp_push_fanout *f, struct idp_http **conns,
			  struct idp_error *err);

/* One blob. */
struct idp_fanout_blob {
	const char *id;            /* what progress shows */
	const char *digest;        /* NULL: unknown, hashed as it is read */
	int64_t size;              /* -1: unknown */
	struct idp_blob_reader *r; /* the bytes, read once (the caller closes it) */
	int quiet;                 /* no progress line (a config) */
	int absent;                /* just asked (told no): a probe mounts without a HEAD,
				    * an upload goes into the first registry without one */
	const int64_t *consumed;   /* a stream's source bytes behind what r gave, or NULL */
	int64_t raw_total;         /* and their total */
	/* a repository of the first target's registry that may have it (a
	 * mount is tried there before the upload), or NULL */
	const char *mount_from;
	/* an upload session open at the first registry (idp_push_fanout_open)
	 * for the upload, or NULL */
	const char *session;
	/* with digest and absent: not hashed here (the registry checks the
	 * digest when it takes the bytes) */
	int unhashed;
	/* results */
	int read;                  /* r was read (else every registry had it) */
	char got[IDP_DIGEST_MAX];  /* what the registries have */
	int64_t got_size;
};

/* fb into the first target of every registry: 0 (fb's results set), or
 * -1 with err naming the target when there are several. */
int idp_push_fanout_blob(struct idp_push_fanout *f, struct idp_http *const *conns,
			 struct idp_fanout_blob *fb, struct idp_error *err);
/* An upload session opened at the first registry ahead of a blob's
 * bytes, for fb->session: 0 with *session (the caller's), or -1 with
 * err. idp_push_fanout_cancel gives up one that was not used. */
int idp_push_fanout_open(struct idp_push_fanout *f, struct idp_http *const *conns,
			 char **session, struct idp_error *err);
void idp_push_fanout_cancel(struct idp_push_fanout *f, struct idp_http *const *conns,
			    const char *session);
/* A session idp_push_fanout_open opened may be handed to somebody who
 * sends the blob into the first registry itself (a docker daemon, when
 * idp_session_shareable_uploads says it can): what it reports of the
 * blob (id as progress shows it, done of total bytes; pushed: it is in)
 * is shown as an upload of the fanout's own, and a blob that is in is
 * counted as one (size bytes: idp_push_fanout_handed_in). */
void idp_push_fanout_handed(struct idp_push_fanout *f, const char *id, int64_t done,
			    int64_t total, int pushed);
void idp_push_fanout_handed_in(struct idp_push_fanout *f, int64_t size);
/* Only look: whether every registry has fb->digest (HEAD), or takes it
 * mounted from mount_from (a repository on each, or NULL): 1 (the size
 * in fb->got_size), 0 when one lacks it, -1 with err. Reported as the
 * step reports a blob it found. */
int idp_push_fanout_probe(struct idp_push_fanout *f, struct idp_http *const *conns,
			  struct idp_fanout_blob *fb, const char *mount_from,
			  struct idp_error *err);

/* Emit an event through o (no locking: for single-threaded steps). */
void idp_push_emit(const struct idp_push_opts *o, const struct idp_event *ev);

#endif
