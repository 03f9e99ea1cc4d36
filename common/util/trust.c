/* trust.c: whose a socket is, directories only root or one user can
 * change, opening beneath a directory without following links (trust.h). */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#ifdef __has_include
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define HAVE_OPENAT2_H 1
#endif
#endif
#include "trust.h"
#include "banned.h"

#define NAME_MAX_PART 255

int idp_socket_peer(const char *path, uid_t *uid, pid_t *pid)
{
	struct sockaddr_un a;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd, e;

	if (strlen(path) >= sizeof(a.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	*uid = cred.uid;
	*pid = cred.pid;
	return 0;
}

int idp_process_started(pid_t pid, uint64_t *ticks)
{
	char path[64], buf[1024], *p;
	unsigned long long v;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* the command name (field 2) may hold spaces and ')': skip past the last */
	if (!(p = strrchr(buf, ')')))
		return -1;
	for (field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &v) != 1)
		return -1;
	*ticks = (uint64_t)v;
	return 0;
}

int idp_trusted_dir_stat(const struct stat *st, uid_t owner)
{
	if (!S_ISDIR(st->st_mode) || (st->st_uid != 0 && st->st_uid != owner))
		return 0;
	if (!(st->st_mode & (S_IWGRP | S_IWOTH)))
		return 1;
	return (st->st_mode & S_ISVTX) && st->st_uid == 0;
}

/* dirfd's child directory part, without following a link; created with
 * mode when missing and mode is not 0. */
static int child(int dirfd, const char *part, mode_t mode)
{
	int fd = openat(dirfd, part, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0 || errno != ENOENT || !mode)
		return fd;
	if (mkdirat(dirfd, part, mode) < 0 && errno != EEXIST)
		return -1;
	return openat(dirfd, part, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* One checked step of the walk: dirfd's child `part` (NULL: "/"). */
static int step(int dirfd, const char *part, uid_t owner, mode_t mode, const char *path,
		struct idp_error *err)
{
	struct stat st;
	int fd = part ? child(dirfd, part, mode) : open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return idp_error_set(err, IDP_EGENERAL, "cannot open '%s' without following "
				     "links (at '%s'): %s", path, part ? part : "/",
				     strerror(errno));
	if (fstat(fd, &st) < 0 || !idp_trusted_dir_stat(&st, owner)) {
		close(fd);
		return idp_error_set(err, IDP_EGENERAL,
				     "'%s' can be changed by someone other than root or uid %u "
				     "(at '%s': owner %u, mode %04o)", path, (unsigned)owner,
				     part ? part : "/", (unsigned)st.st_uid,
				     (unsigned)(st.st_mode & 07777));
	}
	return fd;
}

static int trusted_walk(const char *path, uid_t owner, mode_t mode, struct idp_error *err)
{
	char part[NAME_MAX_PART + 1];
	const char *p = path, *end;
	int fd, next;
	size_t n;

	if (path[0] != '/')
		return idp_error_set(err, IDP_EGENERAL, "'%s' is not an absolute path", path);
	if ((fd = step(-1, NULL, owner, mode, path, err)) < 0)
		return -1;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		end = strchr(p, '/');
		n = end ? (size_t)(end - p) : strlen(p);
		if (n > NAME_MAX_PART || (n == 2 && memcmp(p, "..", 2) == 0)) {
			close(fd);
			return idp_error_set(err, IDP_EGENERAL, "'%s': a name too long or '..'",
					     path);
		}
		memcpy(part, p, n);
		part[n] = '\0';
		p += n;
		if (strcmp(part, ".") == 0)
			continue;
		next = step(fd, part, owner, mode, path, err);
		close(fd);
		if ((fd = next) < 0)
			return -1;
	}
	return fd;
}

int idp_trusted_dir_open(const char *path, uid_t owner, struct idp_error *err)
{
	return trusted_walk(path, owner, 0, err);
}

int idp_trusted_dir_make(const char *path, uid_t owner, mode_t mode, struct idp_error *err)
{
	return trusted_walk(path, owner, mode, err);
}

/* Without openat2: one directory at a time, none of them a link. */
static int open_walk(int dirfd, const char *rel, int flags)
{
	char part[NAME_MAX_PART + 1];
	const char *p = rel, *slash;
	int fd = dirfd, next, e;
	size_t n;

	if (rel[0] == '/') {
		errno = EXDEV;
		return -1;
	}
	while ((slash = strchr(p, '/'))) {
		n = (size_t)(slash - p);
		if (n > NAME_MAX_PART || (n == 2 && memcmp(p, "..", 2) == 0)) {
			errno = n > NAME_MAX_PART ? ENAMETOOLONG : EXDEV;
			next = -1;
		} else if (n == 0 || (n == 1 && p[0] == '.')) {
			p = slash + 1;
			continue;
		} else {
			memcpy(part, p, n);
			part[n] = '\0';
			next = openat(fd, part, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		e = errno;
		if (fd != dirfd)
			close(fd);
		if ((fd = next) < 0) {
			errno = e;
			return -1;
		}
		p = slash + 1;
	}
	if (strcmp(p, "..") == 0) {
		next = -1;
		errno = EXDEV;
	} else {
		next = openat(fd, *p ? p : ".", flags);
	}
	e = errno;
	if (fd != dirfd)
		close(fd);
	errno = e;
	return next;
}

/* With O_PATH | O_NOFOLLOW a link at the end is opened itself: refuse it. */
static int no_link(int fd, int flags)
{
	struct stat st;

	if (fd < 0 || !(flags & O_PATH))
		return fd;
	if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode)) {
		close(fd);
		errno = ELOOP;
		return -1;
	}
	return fd;
}

static int open_beneath(int dirfd, const char *rel, int flags)
{
#if defined(HAVE_OPENAT2_H) && defined(SYS_openat2)
	{
		struct open_how how;
		long fd;

		memset(&how, 0, sizeof(how));
		how.flags = (unsigned long long)flags;
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
		fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
			return (int)fd;
	}
#endif
	return open_walk(dirfd, rel, flags);
}

int idp_open_beneath(int dirfd, const char *rel, int flags)
{
	flags |= O_CLOEXEC | O_NOFOLLOW;
	return no_link(open_beneath(dirfd, rel, flags), flags);
}

int idp_reopen_path_fd(int pfd, int flags)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	return open(proc, flags | O_CLOEXEC | O_NOCTTY);
}

int idp_open_file_beneath(int dirfd, const char *rel, struct stat *st)
{
	struct stat again;
	int pfd = idp_open_beneath(dirfd, rel, O_PATH), fd;

	if (pfd < 0)
		return -1;
	if (fstat(pfd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(pfd);
		errno = EINVAL;
		return -1;
	}
	fd = idp_reopen_path_fd(pfd, O_RDONLY);
	close(pfd);
	if (fd >= 0)
		return fd;
	/* no /proc: open it again, non-blocking, and make sure it is the same file */
	if ((fd = idp_open_beneath(dirfd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY)) < 0)
		return -1;
	if (fstat(fd, &again) < 0 || again.st_dev != st->st_dev || again.st_ino != st->st_ino) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}
