/* push.h: the push engine a front end drives. It joins an image source
 * (sources/source.h) to the registry client (registry.h): every blob goes
 * through one step, "already there (HEAD) -> mount (when a source
 * repository is known) -> upload -> count -> report", then the manifests
 * are put children first and the top one under the tag. Random-access
 * images push several blobs at once; streams push each blob as it
 * arrives. It reports through an event callback and never prints. */
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
	IDP_EV_DEBUG           /* text (HTTP trace, secrets redacted) */
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

/* Push img to every target: each blob from src, several at a time (the
 * first failure stops the others and is returned; open upload sessions
 * are deleted), mounted into the other targets of its registry (uploaded
 * from src if the registry will not mount); then, once every blob is in
 * place, the manifests, children first, the last one under each target's
 * tag. src NULL: nothing can be uploaded (the blobs must be there or
 * mountable). Targets with blobs_done get only the manifests. */
int idp_push_image_to(const struct idp_push_targets *to, struct idp_source *src,
		      const struct idp_image *img, struct idp_error *err);

/* Put img's manifests into every target, in order. */
int idp_push_manifests_to(const struct idp_push_targets *to, const struct idp_image *img,
			  struct idp_error *err);

/* ---- streams ---- */

/* What a front end knows of a stream blob before it is read (its cache). */
struct idp_stream_known {
	const char *display_id;    /* show this instead of the stream's id, or NULL */
	int present;               /* in the repository already as digest/size: not uploaded */
	const char *digest;
	int64_t size;
	const char *expect;        /* its uncompressed digest must be this (or NULL) */
};

struct idp_stream_hooks {
	/* Before each blob; k is zeroed. NULL: nothing is known. */
	void (*known)(void *ctx, const struct idp_stream_blob *b, struct idp_stream_known *k);
	/* After a blob was uploaded (b as the stream gave it), with the
	 * uncompressed digest the stream computed ("" when stored) and the
	 * pushed digest. */
	void (*pushed)(void *ctx, const struct idp_stream_blob *b, const char *diffid,
		       const char *digest);
	/* After the whole stream was read and checked, before any manifest
	 * is put: -1 (with err) stops the push, so nothing is tagged. */
	int (*complete)(void *ctx, struct idp_error *err);
	void *ctx;
};

/* Push a stream to the targets, the stream read once: each blob goes to
 * the first target of every registry as it arrives (the bytes kept in a
 * spool file for the next registry; skipped when the hooks say it is
 * present, with one registry), then what the finished image has that the
 * stream did not hand over (its config), then the blobs are mounted into
 * the other targets of each registry and the manifests put. img gets the
 * image (release it); nothing is tagged unless the whole stream was read
 * and checked. hooks may be NULL. */
int idp_push_stream_to(const struct idp_push_targets *to, struct idp_stream *st,
		       const struct idp_stream_hooks *hooks, struct idp_image *img,
		       struct idp_error *err);

/* Emit an event through o (no locking: for single-threaded steps). */
void idp_push_emit(const struct idp_push_opts *o, const struct idp_event *ev);

#endif
