/* trust.h: reading files that another user may control. Root reads a
 * daemon's store directly only when the daemon runs as root or as the
 * caller and nobody else can change the store: whose process serves a
 * unix socket (SO_PEERCRED); whether a directory and every directory
 * leading to it can be changed only by root or a given user; and opening
 * paths beneath such a directory without following a symbolic link
 * (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, else one component at a
 * time with O_NOFOLLOW), files by O_PATH first so that only a regular
 * file is ever opened for reading. */
#ifndef IDP_TRUST_H
#define IDP_TRUST_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "error.h"

/* The uid and pid of the process serving the unix socket at path. 0, or
 * -1 with errno set. */
int idp_socket_peer(const char *path, uid_t *uid, pid_t *pid);

/* When process pid started (clock ticks after boot, /proc/PID/stat): with
 * the pid, a name for one run of a daemon. 0, or -1 (no such process, or
 * /proc hides it). */
int idp_process_started(pid_t pid, uint64_t *ticks);

/* Open the directory `path` (absolute) one component at a time, none of
 * them a symbolic link or "..", each owned by root or `owner` and not
 * writable by group or others (a sticky directory owned by root, such as
 * /tmp, may be). Returns an O_PATH descriptor of the directory, to open
 * what is beneath it with idp_open_beneath; -1 with err (IDP_EGENERAL)
 * naming the component and why. */
int idp_trusted_dir_open(const char *path, uid_t owner, struct idp_error *err);

/* The same, creating the directories that are missing with mode (as the
 * caller, so owned by it: pass geteuid() as owner). */
int idp_trusted_dir_make(const char *path, uid_t owner, mode_t mode, struct idp_error *err);

/* Whether st (a directory) may be changed only by root or owner. */
int idp_trusted_dir_stat(const struct stat *st, uid_t owner);

/* Open rel beneath dirfd with flags (O_CLOEXEC and O_NOFOLLOW are added),
 * refusing symbolic links anywhere and any path that leaves dirfd. -1
 * with errno (ELOOP: a symbolic link, EXDEV: a path leaving dirfd). */
int idp_open_beneath(int dirfd, const char *rel, int flags);

/* Open what the O_PATH descriptor pfd found with flags (O_CLOEXEC and
 * O_NOCTTY added), through /proc/self/fd: that very inode, never a name
 * looked up again. -1 with errno (ENOENT when /proc is missing). */
int idp_reopen_path_fd(int pfd, int flags);

/* Open the regular file rel beneath dirfd for reading: found with O_PATH,
 * its type checked with fstat, only then opened, so a FIFO or a device is
 * never opened. st gets its status. -1 with errno (EINVAL: not a regular
 * file). */
int idp_open_file_beneath(int dirfd, const char *rel, struct stat *st);

#endif
