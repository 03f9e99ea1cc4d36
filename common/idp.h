/* idp.h: the engine's API in one include, for front ends and tools.
 *
 *   error.h     one error type; its class is the exit code
 *   buf.h, digest.h  bounded buffers, sha256 digests
 *   file.h      bounded reads, atomic file replacement
 *   ref.h       parse the destination (idpbuilder defaults)
 *   http.h      process-wide setup (idp_http_global_init), the clock
 *   registry.h  open a session: credentials, TLS, scheme, auth
 *   sources/    resolve a local image (source.h: OCI layout, containerd
 *               store) or stream one (src_docker_save.h, or dockerd's
 *               layer store: src_docker_store.h)
 *   push.h      push it: blobs, then manifests children first
 *   manifest.h  build manifests and indexes
 *   run.h       run a helper program, bounded
 *   jsonutil.h  bounded JSON parsing with json-c
 */
#ifndef IDP_H
#define IDP_H

#include "util/buf.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/file.h"
#include "registry/http.h"
#include "util/jsonutil.h"
#include "util/manifest.h"
#include "util/platform.h"
#include "push/push.h"
#include "util/ref.h"
#include "registry/registry.h"
#include "util/run.h"
#include "sources/source.h"
#include "sources/src_docker_save.h"
#include "sources/src_docker_store.h"

#endif
