/* progmap.h: where an upload stands in its source's bytes. A stream blob
 * is read (and spooled) ahead of what is sent, up to a chunk, and its
 * source bytes (a raw layer, compressed as it is read) are not its upload
 * bytes; progress must follow what was sent, in source bytes. Samples
 * (upload bytes read so far, source bytes behind them), taken as the
 * spool fills, map any upload offset sent back to the source bytes it
 * carries, by linear interpolation. Bounded: when the samples are full,
 * every other one is dropped (the map gets coarser, never larger). */
#ifndef IDP_PROGMAP_H
#define IDP_PROGMAP_H

#include <stdint.h>

#define IDP_PROGMAP_MAX 256

struct idp_progmap {
	int n;
	int64_t up[IDP_PROGMAP_MAX];    /* increasing upload offsets */
	int64_t src[IDP_PROGMAP_MAX];   /* source bytes behind each, not decreasing */
};

/* One sample: (0, 0). */
void idp_progmap_init(struct idp_progmap *m);
/* up bytes of the upload carry src source bytes (ignored unless up grows). */
void idp_progmap_add(struct idp_progmap *m, int64_t up, int64_t src);
/* The source bytes behind upload offset up. Samples below the last one
 * at or under up are forgotten (offsets sent are not asked for again,
 * but for a resend, which then gets the lowest value still known). */
int64_t idp_progmap_at(struct idp_progmap *m, int64_t up);

#endif
