/* fuzz.h: what the libFuzzer targets in tests/fuzz/ share: splitting an
 * input into parts and lines, a private temp directory per process, small
 * file helpers, and the checks every target makes (an error comes with a
 * class and a message). Built into each target, with libFuzzer (make fuzz)
 * or with the replay driver replay.c (make check). */
#ifndef IDP_FUZZ_H
#define IDP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The separator line between the parts of a multi-part input. */
#define FZ_SEP "\n----\n"
#define FZ_MAX_PARTS 16

struct fz_part {
	char *s;        /* NUL-terminated copy, exactly len + 1 bytes */
	size_t len;
};

struct fz_parts {
	int n;
	struct fz_part p[FZ_MAX_PARTS];
};

/* Split data at sep (the last part takes the rest once FZ_MAX_PARTS are
 * reached). Always at least one (maybe empty) part. */
void fz_split(const uint8_t *data, size_t size, const char *sep, struct fz_parts *out);
void fz_parts_free(struct fz_parts *ps);
/* Part i's text, or def when there is no such part. */
const char *fz_part(const struct fz_parts *ps, int i, const char *def);

/* A malloc'd copy of d[0..n) with a NUL after it (exactly n + 1 bytes). */
char *fz_strndup(const void *d, size_t n);
/* A malloc'd copy of d[0..n) with NO terminator (exactly n bytes, at
 * least 1 allocated), so reading past n is caught. */
void *fz_memdup(const void *d, size_t n);

/* The process's private temp directory (created on first use, removed at
 * exit). Never NULL: a target that cannot get one traps. */
const char *fz_tmpdir(void);
/* "<tmpdir>/<rel>" into a static buffer per call slot (0..3). */
const char *fz_path(int slot, const char *rel);
/* Write a file (0600, replaced). Traps on failure. */
void fz_write(const char *path, const void *data, size_t n);
/* mkdir -p (0700). Traps on failure. */
void fz_mkdirs(const char *path);
/* Remove path and everything below it (missing is fine). */
void fz_rmtree(const char *path);

/* Crash (the fuzzer reports it) when cond holds. */
#define FZ_ASSERT(cond) do { if (!(cond)) __builtin_trap(); } while (0)
/* msg is already safe for a terminal: escaping it again changes nothing
 * (no control bytes, no bidi controls, only well-formed UTF-8). */
void fz_check_safe_text(const char *msg);
/* rc < 0 must come with a class and a message, safe for a terminal
 * (fz_check_safe_text). With FUZZ_VERBOSE set in
 * the environment, every result is printed (to see what a seed reaches). */
void fz_check_err(int rc, const struct idp_error *err);

#endif
