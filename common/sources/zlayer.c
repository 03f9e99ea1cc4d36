/* zlayer.c: a raw layer compressed block by block on worker threads and
 * read back in order (zlayer.h); the sources that compress on the fly
 * (src_docker_save.c, src_docker_store.c) share it. */
#include "config.h"
#include <string.h>
#include "zlayer.h"
#include "banned.h"

void idp_zlayer_init(struct idp_zlayer *z, const struct idp_zlayer_opts *o)
{
	memset(z, 0, sizeof(*z));
	z->codec = *o->codec;
	z->threads = o->threads;
	z->spare = o->spare;
	z->fill = o->fill;
	z->ctx = o->ctx;
	z->cancel = o->cancel;
}

void idp_zlayer_release(struct idp_zlayer *z)
{
	idp_pcompress_free(z->pc);
	z->pc = NULL;
	z->holding = 0;
}

/* Keep the compression threads busy: fill and submit free blocks while
 * the layer lasts (an empty layer still makes one, empty, member). */
static int feed_blocks(struct idp_zlayer *z, struct idp_error *err)
{
	unsigned char *in;
	size_t cap, len;

	while (!z->in_eof && !idp_pcompress_full(z->pc)) {
		if (z->cancel && *z->cancel)
			return idp_error_set(err, IDP_ECANCELED, "interrupted");
		in = idp_pcompress_input(z->pc, &cap);
		if (z->fill(z->ctx, in, cap, &len, err) < 0)
			return -1;
		z->in_eof = len < cap;
		if (len || !z->blocks) {
			idp_pcompress_submit(z->pc, len);
			z->blocks++;
		}
	}
	return 0;
}

ssize_t idp_zlayer_read(struct idp_zlayer *z, void *buf, size_t n, struct idp_error *err)
{
	size_t got;

	if (z->cancel && *z->cancel)
		return idp_error_set(err, IDP_ECANCELED, "interrupted");
	if (!z->started) {
		z->started = 1;
		if (idp_pcompress_new(&z->codec, z->threads, z->spare, &z->pc, err) < 0)
			return -1;
	}
	while (!z->out_done) {
		if (z->holding && z->out_off < z->out_len) {
			got = z->out_len - z->out_off < n ? z->out_len - z->out_off : n;
			memcpy(buf, z->out + z->out_off, got);
			z->out_off += got;
			z->delivered = z->delivered_blocks +
				       (int64_t)((double)z->block_in * (double)z->out_off /
						 (double)z->out_len);
			return (ssize_t)got;
		}
		if (z->holding) {
			idp_pcompress_done(z->pc);
			z->holding = 0;
			z->delivered_blocks += (int64_t)z->block_in;
			z->delivered = z->delivered_blocks;
		}
		if (feed_blocks(z, err) < 0)
			return -1;
		if (!idp_pcompress_pending(z->pc)) {
			z->out_done = 1;
			break;
		}
		if (idp_pcompress_take(z->pc, &z->out, &z->out_len, err) < 0)
			return -1;
		z->block_in = idp_pcompress_taken_in(z->pc);
		z->out_off = 0;
		z->holding = 1;
	}
	return 0;
}
