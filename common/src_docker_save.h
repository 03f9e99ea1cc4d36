/* src_docker_save.h: extensions of the streaming docker-save source
 * (src_docker_save.c; the main protocol is at the end of source.h) for a
 * caller that already knows some layers are in the registry (the plugin's
 * push cache):
 *
 *   while ((rc = idp_save_next(st, &blob, &reader, err)) == 1) {
 *           if (layer known to exist as digest/size with diffID D)
 *                   idp_save_blob_skip(st, D, digest, size, err);   no compression
 *           else    ... upload, idp_save_blob_done(...) as usual
 *           idp_save_last_diffid(st)   -> the diffID just computed (raw layers)
 *   }
 *
 * A raw layer's compressor starts only on the first read of its reader, so a
 * skipped layer is read through (hashed for its diffID) but never compressed. */
#ifndef IDP_SRC_DOCKER_SAVE_H
#define IDP_SRC_DOCKER_SAVE_H

#include <stdint.h>
#include "error.h"
#include "source.h"

/* The current layer is already in the registry as digest/size. A raw
 * layer is read to its end (sha256 only) and its diffID must equal
 * `diffid` (when non-NULL), else the push fails: the caller's knowledge was
 * wrong and the layer's bytes are gone. The reader must not have been read. */
int idp_save_blob_skip(struct idp_save_stream *st, const char *diffid, const char *digest, int64_t size,
		       struct idp_error *err);

/* The diffID computed for the layer finished last (raw layers), or "". */
const char *idp_save_last_diffid(const struct idp_save_stream *st);

#endif
