/* idp.h: the engine's API in one include, for front ends.
 *
 *   ref.h       parse the destination (idpbuilder defaults)
 *   registry.h  open a session: credentials, TLS, scheme, auth
 *   source.h    resolve a local image into blobs + manifests
 *   push.h      push it: blobs in parallel, manifests children first
 *   manifest.h  build manifests/indexes (streaming sources)
 *   error.h     one error type; its class is the exit code
 */
#ifndef IDP_H
#define IDP_H

#include "error.h"
#include "ref.h"
#include "registry.h"
#include "sources/source.h"
#include "push.h"
#include "manifest.h"

#endif
