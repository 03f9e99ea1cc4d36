/* registry.h: the registry client: a session bound to one destination
 * repository, and the distribution-spec operations a push needs. It knows
 * nothing about image sources: blobs come in through idp_blob_reader. */
#ifndef IDP_REGISTRY_H
#define IDP_REGISTRY_H

#include <signal.h>
#include <stdint.h>
#include "util/blobreader.h"
#include "creds.h"
#include "util/digest.h"
#include "util/error.h"
#include "http.h"
#include "util/ref.h"
#include "retry.h"
#include "tlsconf.h"

#define IDP_CHUNK_DEFAULT (64u << 20)   /* well under idpbuilder's 1 GiB proxy limit */
#define IDP_CHUNK_MIN (64u << 10)
/* Without chunk_size, the requests of a blob read from a file grow past
 * IDP_CHUNK_DEFAULT while the link is fast (each about IDP_CHUNK_SECONDS
 * long), up to this: half idpbuilder's proxy limit. */
#define IDP_CHUNK_GROWN_MAX (512u << 20)
#define IDP_CHUNK_SECONDS 4

struct idp_session_opts {
	struct idp_tls_opts tls;
	struct idp_creds_opts creds;
	int allow_insecure_auth;       /* Basic over plain HTTP to a remote host */
	struct idp_retry_policy retry;
	long connect_timeout_ms;
	long stall_timeout_ms;
	long timeout_ms;               /* overall deadline from session open; 0 none */
	size_t chunk_size;             /* 0 = IDP_CHUNK_DEFAULT, growing (IDP_CHUNK_GROWN_MAX) */
	struct idp_ratelimit *limit;   /* upload rate shared by every upload (and every
	                                * session given it); NULL = unlimited */
	volatile sig_atomic_t *cancel;
	void (*debug)(void *ctx, const char *line);
	void *debug_ctx;
	void (*warn)(void *ctx, const char *msg);   /* warnings (insecure mode...) */
	void *warn_ctx;
	void (*info)(void *ctx, const char *msg);   /* what was found where (-v), ctx warn_ctx */
	/* idpbuilder's registry (--registry, as given), for hints; NULL: the default */
	const char *idpbuilder_registry;
};

struct idp_session;

/* Resolve credentials and TLS for dest's registry, pick the scheme (plain
 * HTTP only when asked for, or for a loopback registry that does not speak
 * TLS), ping /v2/ and learn how it authenticates. */
int idp_session_open(const struct idp_session_opts *opts, const struct idp_ref *dest,
		     struct idp_session **out, struct idp_error *err);
void idp_session_close(struct idp_session *s);

const struct idp_ref *idp_session_ref(const struct idp_session *s);

/* The request body a new upload of the session starts with: the chunk size
 * asked for, lowered by the registry's OCI-Chunk-Max-Length or by 413s. */
size_t idp_session_chunk_size(struct idp_session *s);

/* Whether another client on this machine (the docker daemon) could send
 * the bytes of an upload session of s itself, as s would: plain HTTP to
 * a loopback address that has asked for no credentials so far, with no
 * request size to keep (none given, none learnt from a 413) and no rate
 * limit; and with url (the session, idp_blob_upload_open's), that it is
 * on the registry's own scheme, host and port (NULL: not asked). */
int idp_session_shareable_uploads(struct idp_session *s, const char *url);

/* A connection for one thread (curl easy handle). */
struct idp_http *idp_session_conn(struct idp_session *s);

/* 1 exists (size in *size if non-NULL), 0 absent, -1 error. */
int idp_blob_exists(struct idp_session *s, struct idp_http *h, const char *digest,
		    int64_t *size, struct idp_error *err);

/* GET a small blob (a config) of the session's repository into out, at
 * most cap bytes, its sha256 checked against digest: 1, 0 when the
 * registry does not have it, -1 with err (any other answer). */
int idp_blob_get(struct idp_session *s, struct idp_http *h, const char *digest, size_t cap,
		 struct idp_buf *out, struct idp_error *err);

/* GET the manifest or index `digest` of the session's repository into out
 * (at most IDP_CAP_MANIFEST bytes), its sha256 checked: 1, 0 when the
 * registry does not have it, -1 with err. */
int idp_manifest_get(struct idp_session *s, struct idp_http *h, const char *digest,
		     struct idp_buf *out, struct idp_error *err);

/* Try a cross-repo mount from `from` (a repository on the same registry).
 * 1 mounted, 0 not mounted, -1 error. The upload session a refused mount
 * opens (202) goes to *session (an absolute URL, the caller's: give it to
 * idp_blob_upload) when session is not NULL, else it is cancelled. */
int idp_blob_mount(struct idp_session *s, struct idp_http *h, const char *digest,
		   const char *from, char **session, struct idp_error *err);

/* Open an upload session (POST .../blobs/uploads/) ahead of its bytes:
 * 0 with *session (an absolute URL, the caller's: give it to
 * idp_blob_upload, or to idp_blob_upload_cancel), or -1 with err. */
int idp_blob_upload_open(struct idp_session *s, struct idp_http *h, char **session,
			 struct idp_error *err);
/* DELETE an upload session nobody will use (a cleanup: sent even while
 * cancelling, briefly); failures are ignored (it expires anyway). */
void idp_blob_upload_cancel(struct idp_session *s, struct idp_http *h, const char *session);

struct idp_spool;

/* What idp_blob_upload sends. */
struct idp_upload_args {
	struct idp_blob_reader *reader;
	const char *digest;            /* NULL: not known yet, hashed as it is sent */
	int64_t size;                  /* expected size, -1 unknown */
	/* Progress (either may be NULL), both with progress_ctx. on_sent: the
	 * bytes the registry has acknowledged plus those of the request in
	 * flight (back when a chunk is sent again), called by HTTP as they go
	 * out. on_read: the bytes taken from the reader so far (a stream is
	 * read and spooled ahead of what is sent), on the thread reading it,
	 * so possibly at the same time as on_sent. */
	idp_progress_fn on_sent;
	idp_progress_fn on_read;
	void *progress_ctx;
	int keep_spool;                /* keep the spool (a stream's bytes) for the caller */
	const char *session;           /* an upload session already open (a refused
	                                * mount's, idp_blob_upload_open's), used instead
	                                * of a new one; NULL: none */
	int unhashed;                  /* with digest: not hashed here, the registry's
	                                * check (PUT ?digest=) stands for ours */
};

struct idp_upload_result {
	char digest[IDP_DIGEST_MAX];
	int64_t size;
	int resumed;                   /* times a broken transfer was resumed */
	struct idp_spool *spool;       /* with keep_spool, after success: the blob's bytes
	                                * (idp_spool_free), NULL when none was needed */
};

/* Upload a blob through POST + PATCH chunks (Content-Range, bounded size,
 * following every Location; a stream of unknown size streams its first
 * one, without Content-Range) + PUT ?digest=. Without a digest the bytes
 * are hashed as they are sent; with one, the data is verified before the
 * final PUT and a mismatch aborts (the blob is never committed). Broken
 * connections are resumed from the registry's reported offset; on
 * failure the upload session is DELETEd. A small blob of known size read
 * from a file goes in one request: POST ?digest= with the body (Gitea
 * takes it whole), else (a registry that opens a session instead, as
 * distribution does, or refuses) POST and a PUT ?digest= with the body;
 * into a session already open, that PUT alone. res is filled in (all of
 * it). */
int idp_blob_upload(struct idp_session *s, struct idp_http *h, const struct idp_upload_args *a,
		    struct idp_upload_result *res, struct idp_error *err);

/* HEAD the manifest `reference` (tag or digest) names, asking for the
 * media types in `accept`: 1 with its digest (Docker-Content-Digest) and
 * size (-1 when not said), else 0 (not there, or the request failed). */
int idp_manifest_head(struct idp_session *s, struct idp_http *h, const char *reference,
		      const char *accept, char digest[IDP_DIGEST_MAX], int64_t *size);

/* 1 when `reference` (tag or digest) already names the manifest with this
 * digest in the repository (HEAD, Accept: media_type); 0 otherwise, a
 * failed request included: the caller then PUTs it as usual. */
int idp_manifest_present(struct idp_session *s, struct idp_http *h, const char *reference,
			 const char *media_type, const char *digest);

/* A manifest as a registry is sent it: its media type and bytes. */
struct idp_manifest_doc {
	const char *media_type;
	const void *data;
	size_t len;
};

/* PUT a manifest or index under `reference` (tag or digest) with Content-Type
 * doc's media type, and check the registry's Docker-Content-Digest against
 * our own sha256 of the bytes. The digest is written to digest_out. */
int idp_manifest_put(struct idp_session *s, struct idp_http *h, const char *reference,
		     const struct idp_manifest_doc *doc, char digest_out[IDP_DIGEST_MAX],
		     struct idp_error *err);

/* idpbuilder's CA (PEM) when the session fetched it from the cluster, else
 * NULL: the front end may keep it (--install-ca). */
const char *idp_session_cluster_ca(const struct idp_session *s, size_t *len);

/* From any thread: on (non-zero), every transfer and retry wait of the
 * session stops at once (another one failed); 0 clears it. */
void idp_session_set_abort(struct idp_session *s, int on);

#endif
