/* src_docker_store.h: the streaming source over dockerd's own layer store
 * (src_docker_store.c), for a daemon that keeps images with a graph
 * driver (overlay2, fuse-overlayfs, vfs) and a store this process can
 * read. What it reads, under the daemon's data root (DockerRootDir):
 *   image/<driver>/imagedb/content/sha256/<image id>   the config, exact
 *       bytes (their sha256 must be the image ID)
 *   image/<driver>/layerdb/sha256/<chainID>/diff       the layer's diffID
 *   .../cache-id                                       its directory's id
 *   .../tar-split.json.gz                              its tar (tarsplit.h)
 *   <driver>/<cache-id>/diff/ (vfs: vfs/dir/<cache-id>/)  its files
 * chainID[0] = diffID[0], chainID[i] = sha256(chainID[i-1] + " " +
 * diffID[i]). Every path is opened beneath the root's descriptor, none
 * through a symbolic link (util/trust.h), files found with O_PATH and
 * opened only when they are regular files. Only a store the caller may
 * trust is read: one whose daemon runs as root or as us, its directories
 * changed by nobody else (idp_docker_store_trusted). Each layer's tar is
 * put back together from the tar-split and the files (opened beneath the
 * layer's directory), hashed, and compressed with the codec and blocks a
 * docker-save push uses (zlayer.h): the same bytes, so the same digests.
 * Before a layer is handed over, every file its tar-split names is found
 * there as a regular file of the size it says: a tar-split naming a file
 * outside the layer's directory fails before a byte is sent. A tar whose
 * sha256 is not the diffID fails before its upload is committed.
 *
 * It implements struct idp_stream_ops (source.h): next() hands over the
 * layers in order (a repeated diffID once), and plan()/take() the same
 * layers in any order, several at once on the engine's threads (each with
 * a cursor of its own, its compressor a share of the CPUs); each is
 * compressed only once read, so a layer the registry has costs nothing
 * but its skip(); the
 * config comes from open_blob(); the finished image is the one a
 * docker-save push of the same image builds (config as blobs[0], the
 * layers, one manifest). When the store itself fails (unreadable, not
 * what the daemon said, changed on disk) *store_failed is set: the caller
 * may fall back to docker save. */
#ifndef IDP_SRC_DOCKER_STORE_H
#define IDP_SRC_DOCKER_STORE_H

#include <signal.h>
#include <stdint.h>
#include "compress.h"
#include "util/error.h"
#include "source.h"

struct idp_store_opts {
	const char *root;          /* the daemon's DockerRootDir, for messages */
	/* an O_PATH descriptor of root (idp_docker_store_trusted, docker.h):
	 * everything is opened beneath it, never through a symbolic link */
	int root_fd;
	const char *driver;        /* its storage driver */
	int format;                /* enum idp_manifest_format (manifest.h) */
	struct idp_codec codec;    /* how layers are compressed */
	int threads;               /* compression threads, 0 = one per CPU */
	const char *image_id;      /* "sha256:..." = the config digest */
	int ndiffids;              /* `docker image inspect` RootFS.Layers */
	const char *const *diffids;
	const char *platform;      /* "os/arch[/variant]" for messages, or NULL */
	/* NULL, or one flag per diffID: 1 = the caller will skip this layer,
	 * so next() neither measures its tar (raw_size -1) nor checks its
	 * files (each is still opened beneath its directory if it is read) */
	const unsigned char *known;
	volatile sig_atomic_t *cancel;
	int64_t *bytes_read;       /* counts tar bytes read, may be NULL */
	int *store_failed;         /* set to 1 when the store failed, may be NULL */
};

/* Whether the source can read a store of this driver. */
int idp_store_driver_ok(const char *driver);

/* A stream over the store (o's strings must outlive it). Checks the
 * config and every layer's layerdb entry now. Close it with
 * out->ops->close(out->priv). */
int idp_stream_docker_store(const struct idp_store_opts *o, struct idp_stream *out,
			    struct idp_error *err);

#endif
