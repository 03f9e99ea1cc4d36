/* file.c: bounded reads, directory creation, unnamed temporary files and
 * atomic replacement of files (file.h). */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "file.h"
#include "banned.h"

int idp_file_read_fd(int fd, struct idp_buf *b)
{
	struct stat sb;
	char chunk[16384];
	ssize_t n;

	if (fstat(fd, &sb) < 0)
		return -1;
	if (!S_ISREG(sb.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	if ((size_t)sb.st_size > b->cap) {
		errno = EFBIG;
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (idp_buf_add(b, chunk, (size_t)n) < 0) {
			errno = EFBIG;
			return -1;
		}
	}
	return 0;
}

int idp_file_read(const char *path, int flags, struct idp_buf *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
				    (flags & IDP_FILE_NOFOLLOW ? O_NOFOLLOW : 0));
	int rc, e;

	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	rc = idp_file_read_fd(fd, b);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

int idp_file_mkdirs(const char *path, mode_t mode, struct idp_error *err)
{
	char dir[4096], *p, c;

	if ((size_t)snprintf(dir, sizeof(dir), "%s", path) >= sizeof(dir))
		return idp_error_set(err, IDP_EGENERAL, "path too long: '%.100s...'", path);
	if (!(p = strrchr(dir, '/')) || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1;; p++) {
		if (*p && *p != '/')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(dir, mode) < 0 && errno != EEXIST)
			return idp_error_set(err, IDP_EGENERAL, "cannot create '%s': %s", dir,
					     strerror(errno));
		if (!(*p = c))
			return 0;
	}
}

int idp_file_unnamed(const char *dir)
{
	char path[4096];
	int fd;

#ifdef O_TMPFILE
	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) >= 0)
		return fd;
#endif
	if ((size_t)snprintf(path, sizeof(path), "%s/idppush-tmp-XXXXXX", dir) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkostemp(path, O_CLOEXEC)) >= 0)
		unlink(path);
	return fd;
}

static int write_all(int fd, const char *s, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int idp_file_replace(const char *path, const void *data, size_t len, mode_t mode,
		     struct idp_error *err)
{
	char tmp[4200];
	int fd, bad;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp))
		return idp_error_set(err, IDP_EGENERAL, "path too long: '%.100s...'", path);
	if ((fd = mkstemp(tmp)) < 0)
		return idp_error_set(err, IDP_EGENERAL, "cannot create a file next to '%s': %s",
				     path, strerror(errno));
	bad = fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0;
	if (close(fd) < 0 || bad || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return idp_error_set(err, IDP_EGENERAL, "cannot write '%s': %s", path, strerror(e));
	}
	return 0;
}
