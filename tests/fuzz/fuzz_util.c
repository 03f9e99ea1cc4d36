/* fuzz_util.c: the helpers declared in fuzz.h, shared by every fuzz
 * target: input splitting, the private temp directory, file helpers and
 * the error checks. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fuzz.h"

void *fz_memdup(const void *d, size_t n)
{
	void *p = malloc(n ? n : 1);

	FZ_ASSERT(p != NULL);
	if (n)
		memcpy(p, d, n);
	return p;
}

char *fz_strndup(const void *d, size_t n)
{
	char *p = malloc(n + 1);

	FZ_ASSERT(p != NULL);
	if (n)
		memcpy(p, d, n);
	p[n] = '\0';
	return p;
}

void fz_split(const uint8_t *data, size_t size, const char *sep, struct fz_parts *out)
{
	size_t seplen = strlen(sep), off = 0, i;

	out->n = 0;
	for (i = 0; out->n < FZ_MAX_PARTS - 1 && i + seplen <= size; i++) {
		if (memcmp(data + i, sep, seplen) != 0)
			continue;
		out->p[out->n].s = fz_strndup(data + off, i - off);
		out->p[out->n].len = i - off;
		out->n++;
		off = i + seplen;
		i = off - 1;
	}
	out->p[out->n].s = fz_strndup(data + off, size - off);
	out->p[out->n].len = size - off;
	out->n++;
}

void fz_parts_free(struct fz_parts *ps)
{
	int i;

	for (i = 0; i < ps->n; i++)
		free(ps->p[i].s);
	ps->n = 0;
}

const char *fz_part(const struct fz_parts *ps, int i, const char *def)
{
	return i < ps->n ? ps->p[i].s : def;
}

static char fz_dir[4096];

static void fz_cleanup(void)
{
	if (fz_dir[0])
		fz_rmtree(fz_dir);
}

const char *fz_tmpdir(void)
{
	const char *t = getenv("TMPDIR");

	if (fz_dir[0])
		return fz_dir;
	snprintf(fz_dir, sizeof(fz_dir), "%s/idp-fuzz-XXXXXX", t && *t ? t : "/tmp");
	FZ_ASSERT(mkdtemp(fz_dir) != NULL);
	atexit(fz_cleanup);
	return fz_dir;
}

const char *fz_path(int slot, const char *rel)
{
	static char paths[4][4096];

	FZ_ASSERT(slot >= 0 && slot < 4);
	snprintf(paths[slot], sizeof(paths[slot]), "%s/%s", fz_tmpdir(), rel);
	return paths[slot];
}

void fz_write(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const char *p = data;
	ssize_t w;

	FZ_ASSERT(fd >= 0);
	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		FZ_ASSERT(w > 0);
		p += w;
		n -= (size_t)w;
	}
	FZ_ASSERT(close(fd) == 0);
}

void fz_mkdirs(const char *path)
{
	char tmp[4096], *s;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (s = tmp + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		FZ_ASSERT(mkdir(tmp, 0700) == 0 || errno == EEXIST);
		*s = '/';
	}
	FZ_ASSERT(mkdir(tmp, 0700) == 0 || errno == EEXIST);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void fz_rmtree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void fz_check_err(int rc, const struct idp_error *err)
{
	static int verbose = -1;

	if (verbose < 0)
		verbose = getenv("FUZZ_VERBOSE") != NULL;
	FZ_ASSERT(memchr(err->msg, '\0', sizeof(err->msg)) != NULL);
	if (verbose)
		fprintf(stderr, "fuzz: rc %d%s%s\n", rc, rc < 0 ? ": " : "",
			rc < 0 ? err->msg : "");
	if (rc >= 0)
		return;
	FZ_ASSERT(err->cls != IDP_OK);
	FZ_ASSERT(err->msg[0] != '\0');
	fz_check_safe_text(err->msg);
}

void fz_check_safe_text(const char *msg)
{
	char again[IDP_ERRMSG_MAX];

	idp_text_escape(again, sizeof(again), msg);
	FZ_ASSERT(strcmp(again, msg) == 0);
}
