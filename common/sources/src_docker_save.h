/* src_docker_save.h: the streaming source over a `docker save` tar
 * (src_docker_save.c), read once through libarchive from a pipe. It
 * implements struct idp_stream_ops (source.h); the engine's
 * idp_stream_push_* (push.h) drives it.
 *
 * Shapes understood: legacy (<v1id>/layer.tar, duplicates as symlinks,
 * skopeo's <diffid>.tar), an OCI layout inside (blobs/sha256/, the
 * per-layer v1 JSON blobs that nothing references are ignored), and
 * docker's containerd image store (gzip/zstd layers pushed as they are,
 * by their digest). Raw layers are compressed while they stream; a
 * skipped raw layer is read through (hashed for its diffID) but never
 * compressed: the compressor starts on the first read of its reader.
 *
 * Docker's containerd image store is pushed as it is stored
 * (IDP_SAVE_STORED): every blob that is not JSON goes up byte for byte
 * (uncompressed layers too) as it streams; JSON blobs (manifests,
 * indexes, configs, attestations) are kept, and at the end the
 * descriptor index.json names (the image ID) is resolved over them
 * (imgwalk, selection "stored"): the stored index with every manifest,
 * attestations included, so the pushed digest is the image ID, and the
 * JSON blobs go up in phase 2. Without the Engine API to ask which store
 * the daemon has (IDP_SAVE_DETECT), the stream tells: a compressed
 * layer, or the blob named by the image ID being a manifest or index
 * (not a config), means the containerd store; an uncompressed layer
 * before either means the classic one (converted). The checks against
 * docker image inspect's diffIDs and manifest.json are the classic
 * store's.
 *
 * Checks: the stream must end cleanly (a truncated tar, a damaged header
 * or a non-zero tail after the end-of-archive marker fail), a legacy
 * layer's directory must be a v1 id (64 hex: it is shown), every layer in
 * manifest.json must have been seen, each raw layer's sha256 must equal
 * the config's rootfs.diff_ids entry and the diffIDs `docker image
 * inspect` reported, the config's digest must be the image ID when that
 * ID is a config digest. Memory is bounded: one compression buffer, JSON
 * files kept up to IDP_SAVE_JSON_CAP in total; layer bytes are never
 * stored. The finished image has the config as blobs[0], then the layers
 * in order, and one manifest. */
#ifndef IDP_SRC_DOCKER_SAVE_H
#define IDP_SRC_DOCKER_SAVE_H

#include <signal.h>
#include <stdint.h>
#include "compress.h"
#include "util/error.h"
#include "source.h"

#define IDP_SAVE_JSON_CAP (64u << 20)
#define IDP_SAVE_MAX_LAYERS 1024

/* What the stream pushes (idp_save_opts.stored). */
enum idp_save_mode {
	IDP_SAVE_CONVERT,     /* one manifest built here (docker's classic store) */
	IDP_SAVE_STORED,      /* the OCI layout as stored (docker's containerd image store) */
	IDP_SAVE_DETECT       /* told by the stream (no Engine API to ask) */
};

struct idp_save_opts {
	int format;           /* enum idp_manifest_format (manifest.h) */
	struct idp_codec codec; /* how raw layers are compressed (idp_codec_choose) */
	int threads;          /* compression threads, 0 = one per CPU */
	const char *image_id; /* `docker image inspect` Id, may be NULL */
	int ndiffids;         /* inspect's RootFS.Layers, in order */
	const char *const *diffids;
	volatile sig_atomic_t *cancel;
	int64_t *bytes_read; /* counts tar bytes read, may be NULL */
	int stored;           /* enum idp_save_mode */
	const char *platform; /* IDP_SAVE_STORED: the one platform asked for, or NULL */
	int *went_stored;     /* out (may be NULL): 1 when the stream pushed as stored */
};

/* A stream over fd (the `docker save` pipe, not closed by the stream; a
 * thread drains it through a descriptor of its own until the stream is
 * closed: close the stream before waiting for docker save to end).
 * Close it with out->ops->close(out->priv). */
int idp_stream_docker_save(int fd, const struct idp_save_opts *o, struct idp_stream *out,
			   struct idp_error *err);

#endif
