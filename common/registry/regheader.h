/* regheader.h: the values of registry response headers a push relies on,
 * parsed strictly (they come from outside): Range ("0-<last byte>"),
 * byte counts (Content-Length, OCI-Chunk-Min-Length, OCI-Chunk-Max-Length).
 * Nothing here overflows, whatever the text. */
#ifndef IDP_REGHEADER_H
#define IDP_REGHEADER_H

#include <stdint.h>
#include "util/buf.h"

/* An upload's Range header, "0-<end>" or "bytes=0-<end>" (inclusive end):
 * the bytes the registry holds, end + 1. "0--1" (an empty upload, as Gitea
 * 1.24.0 says it) is 0. -1 when absent, malformed, not starting at 0, or
 * past IDP_SIZE_MAX_BELIEVED. */
int64_t idp_range_held(const char *range);

/* A non-negative decimal byte count, at most `max`; -1 when absent,
 * malformed or larger. */
int64_t idp_header_count(const char *value, int64_t max);

#endif
