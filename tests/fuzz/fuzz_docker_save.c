/* fuzz_docker_save.c: libFuzzer target for the docker save stream reader
 * (common/sources/src_docker_save.c). The first input byte holds options,
 * the rest is the tar stream, served from a memfd as if it were the
 * `docker save` pipe:
 *   bit 0 OCI format, bit 1 zstd (when built with it), bit 2 skip every
 *   second layer instead of reading it (as when the registry has it),
 *   bit 3 docker image inspect lists one diffID (the empty layer's),
 *   bits 4-5 the compression level (0 = default).
 * Layers are read to their end (digest and size computed here, as the
 * engine would) and marked done; then the stream is finished, the config
 * read through open_blob and the stream closed. Everything is bounded:
 * inputs over MAX_INPUT are ignored, at most MAX_BLOBS layers are taken. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "util/blobreader.h"
#include "util/digest.h"
#include "sources/compress.h"
#include "sources/src_docker_save.h"
#include "fuzz.h"

#define MAX_INPUT (4u << 20)
#define MAX_BLOBS 64
#define EMPTY_SHA "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ZERO_SHA "sha256:0000000000000000000000000000000000000000000000000000000000000000"

static const char *const empty_diffid[1] = { EMPTY_SHA };

static int memfd_of(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-docker-save", MFD_CLOEXEC);

	FZ_ASSERT(fd >= 0);
	FZ_ASSERT(write(fd, data, size) == (ssize_t)size);
	FZ_ASSERT(lseek(fd, 0, SEEK_SET) == 0);
	return fd;
}

/* Read r to its end as an upload would: 0 with digest/size, or -1. */
static int drain(struct idp_blob_reader *r, char digest[IDP_DIGEST_MAX], int64_t *size,
		 struct idp_error *err)
{
	struct idp_sha256 *h = idp_sha256_new();
	unsigned char buf[16384];
	ssize_t n;

	FZ_ASSERT(h != NULL);
	*size = 0;
	while ((n = r->ops->read(r->ctx, buf, sizeof(buf), err)) > 0) {
		idp_sha256_update(h, buf, (size_t)n);
		*size += n;
	}
	idp_sha256_final(h, digest);
	idp_sha256_free(h);
	fz_check_err((int)n, err);
	return n < 0 ? -1 : 0;
}

static int one_blob(const struct idp_stream *s, int k, int skip_some, struct idp_stream_blob *b,
		    struct idp_blob_reader *r, struct idp_error *err)
{
	char digest[IDP_DIGEST_MAX], diffid[IDP_DIGEST_MAX];
	int64_t size;
	int rc;

	if (skip_some && k % 2 == 1) {
		rc = s->ops->skip(s->priv, k % 4 == 1 ? NULL : ZERO_SHA,
				  b->digest ? b->digest : ZERO_SHA, b->size >= 0 ? b->size : 0,
				  err);
	} else if ((rc = drain(r, digest, &size, err)) == 0) {
		FZ_ASSERT(b->size < 0 || !b->compressed || b->size == size);
		rc = s->ops->done(s->priv, digest, size, diffid, err);
	}
	fz_check_err(rc, err);
	idp_blob_reader_close(r);
	return rc;
}

static void read_config(const struct idp_stream *s, const struct idp_image *img)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_blob_reader r;
	char digest[IDP_DIGEST_MAX];
	int64_t size;
	int rc;

	FZ_ASSERT(img->nblobs >= 1 && img->nmanifests == 1);
	idp_sha256_digest(img->manifests[0].data, img->manifests[0].len, digest);
	FZ_ASSERT(strcmp(digest, img->manifests[0].digest) == 0);
	memset(&r, 0, sizeof(r));
	rc = s->ops->open_blob(s->priv, &img->blobs[0], &r, &err);
	fz_check_err(rc, &err);
	FZ_ASSERT(rc == 0);
	FZ_ASSERT(drain(&r, digest, &size, &err) == 0);
	FZ_ASSERT(strcmp(digest, img->blobs[0].digest) == 0 && size == img->blobs[0].size);
	idp_blob_reader_close(&r);
}

static void run(const struct idp_stream *s, int skip_some)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_stream_blob b;
	struct idp_blob_reader r;
	struct idp_image img;
	int rc, k = 0;

	memset(&r, 0, sizeof(r));
	while ((rc = s->ops->next(s->priv, &b, &r, &err)) == 1 && k < MAX_BLOBS)
		if (one_blob(s, k++, skip_some, &b, &r, &err) < 0)
			return;
	fz_check_err(rc, &err);
	if (rc != 0)
		return;
	memset(&img, 0, sizeof(img));
	rc = s->ops->finish(s->priv, &img, &err);
	fz_check_err(rc, &err);
	if (rc == 0)
		read_config(s, &img);
	idp_image_release(&img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static volatile sig_atomic_t cancel;
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_save_opts o;
	struct idp_stream s;
	int64_t bytes = 0;
	enum idp_compression alg;
	int fd, rc;

	if (size < 1 || size > MAX_INPUT)
		return 0;
	memset(&o, 0, sizeof(o));
	o.format = data[0] & 1;
	alg = IDP_COMPRESS_GZIP;
#ifdef HAVE_ZSTD
	if ((data[0] >> 1) & 1)
		alg = IDP_COMPRESS_ZSTD;
#endif
	if (idp_codec_choose(alg, (data[0] >> 4) & 3, &o.codec, &err) != 0) {
		idp_error_clear(&err);
		return 0;
	}
	o.threads = 1;
	if (data[0] & 8) {
		o.ndiffids = 1;
		o.diffids = empty_diffid;
	}
	o.cancel = &cancel;
	o.bytes_read = &bytes;
	fd = memfd_of(data + 1, size - 1);
	rc = idp_stream_docker_save(fd, &o, &s, &err);
	fz_check_err(rc, &err);
	if (rc == 0) {
		run(&s, (data[0] >> 2) & 1);
		s.ops->close(s.priv);
		FZ_ASSERT(bytes >= 0 && bytes <= (int64_t)size);
	}
	close(fd);
	return 0;
}
