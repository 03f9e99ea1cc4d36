/* push.h: the push engine a front end drives: blobs several at a time
 * (HEAD to skip, mount when a source repository is known, upload
 * otherwise), then manifests children first and the top one under the tag.
 * It reports through an event callback and never prints. */
#ifndef IDP_PUSH_H
#define IDP_PUSH_H

#include <signal.h>
#include <stdint.h>
#include "registry.h"
#include "source.h"

enum idp_event_kind {
	IDP_EV_WAITING,        /* blob queued */
	IDP_EV_PUSHING,        /* bytes done/total (total -1 when unknown) */
	IDP_EV_EXISTS,         /* blob already in the repository */
	IDP_EV_MOUNTED,        /* mounted from `text` */
	IDP_EV_PUSHED,         /* blob uploaded */
	IDP_EV_MANIFEST,       /* manifest put: digest, total = size, text = reference */
	IDP_EV_WARNING,        /* text */
	IDP_EV_DEBUG           /* text (HTTP trace, secrets redacted) */
};

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

enum idp_blob_outcome { IDP_BLOB_PENDING, IDP_BLOB_EXISTED, IDP_BLOB_MOUNTED, IDP_BLOB_PUSHED };

struct idp_push_stats {
	int64_t bytes_uploaded;
	int64_t bytes_skipped;     /* existed or mounted */
	int blobs_pushed, blobs_existed, blobs_mounted;
};

/* Push every blob of img, several at a time; blobs are opened through src.
 * The first failure stops the others and is returned; open upload
 * sessions are deleted. */
int idp_push_blobs(struct idp_session *s, const struct idp_push_opts *o, struct idp_source *src,
		   const struct idp_image *img, struct idp_push_stats *stats, struct idp_error *err);

/* Put img's manifests in order; the last under `tag` (NULL = by digest).
 * digest_out/size_out: the top manifest. */
int idp_push_manifests(struct idp_session *s, const struct idp_push_opts *o, const struct idp_image *img,
		       const char *tag, char digest_out[IDP_DIGEST_MAX], size_t *size_out, struct idp_error *err);

/* Both, in order: what a front end calls. */
int idp_push_image(struct idp_session *s, const struct idp_push_opts *o, struct idp_source *src,
		   const struct idp_image *img, const char *tag, char digest_out[IDP_DIGEST_MAX],
		   size_t *size_out, struct idp_push_stats *stats, struct idp_error *err);

/* Emit an event through o (no locking: for single-threaded steps). */
void idp_push_emit(const struct idp_push_opts *o, const struct idp_event *ev);

#endif
