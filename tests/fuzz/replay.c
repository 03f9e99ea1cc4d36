/* replay.c: a main() for the fuzz targets without libFuzzer, so `make
 * check` runs every target over its seed corpus with the normal compiler
 * (and, in the sanitizer build, under ASan/UBSan). Each argument is a file
 * or a directory (its regular files, in name order, not recursive); each
 * file is read into a buffer of exactly its size and handed to
 * LLVMFuzzerTestOneInput once. A crash, a sanitizer report or a trap in a
 * target fails the run; otherwise it prints "replay: N inputs" and exits
 * 0 (1 when an argument cannot be read or nothing was run). */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "fuzz.h"

#define REPLAY_MAX_FILE (16u << 20)

/* libFuzzer calls it when a target defines it; so do we. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int read_all(const char *path, unsigned char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	struct stat st;
	size_t got;

	if (!f)
		return -1;
	if (fstat(fileno(f), &st) < 0 || st.st_size < 0 || (size_t)st.st_size > REPLAY_MAX_FILE ||
	    !(buf = malloc(st.st_size ? (size_t)st.st_size : 1))) {
		fclose(f);
		return -1;
	}
	got = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	if (got != (size_t)st.st_size) {
		free(buf);
		return -1;
	}
	*out = buf;
	*len = got;
	return 0;
}

static int run_file(const char *path)
{
	unsigned char *data;
	size_t len;

	if (read_all(path, &data, &len) < 0) {
		fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files of dir, sorted; *n of them. NULL on error. */
static char **list_dir(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	char **names = NULL, **grown, path[4096];
	size_t cap = 0;

	*n = 0;
	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_name[0] == '.' || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if (!(grown = realloc(names, cap * sizeof(*names))))
				break;
			names = grown;
		}
		if (!(names[*n] = strdup(path)))
			break;
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(names, *n, sizeof(*names), by_name);
	return names ? names : calloc(1, sizeof(*names));
}

static int run_dir(const char *dir, long *count)
{
	size_t i, n;
	char **names = list_dir(dir, &n);
	int rc = 0;

	if (!names) {
		fprintf(stderr, "replay: cannot list %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (rc == 0 && run_file(names[i]) < 0)
			rc = -1;
		else if (rc == 0)
			(*count)++;
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	struct stat st;
	long count = 0;
	int i, rc = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc && rc == 0; i++) {
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			rc = run_dir(argv[i], &count);
		} else if (run_file(argv[i]) == 0) {
			count++;
		} else {
			rc = -1;
		}
	}
	printf("replay: %ld inputs\n", count);
	return rc == 0 && count > 0 ? 0 : 1;
}
