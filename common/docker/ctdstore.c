/* ctdstore.c: where a daemon on docker's containerd image store keeps its
 * images (docker.h, idp_docker_ctd_roots): the namespace GET /info names
 * (moby by default) and the containerd roots worth trying, most likely
 * first. GET /info names the containerd it talks to from API 1.46 on
 * (Containerd.Address); before that its command line does: the process
 * serving the Engine API socket (SO_PEERCRED) runs with `--containerd
 * ADDR`, else it uses the system's containerd socket when there is one.
 * The containerd listening at ADDR (its socket's inode in /proc/net/unix,
 * found among the descriptors of the processes named containerd) runs
 * with `--root DIR`, or a `--config FILE` whose top-level `root = "DIR"`
 * says where, else the default. Then come the places a daemon's
 * containerd lives by convention. /proc tells this only to root (or to
 * the user a rootless daemon runs as); whoever finds nothing falls back
 * to the conventions. Nothing here decides whether a root may be read:
 * that is idp_docker_store_trusted. */
#include "config.h"
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "util/buf.h"
#include "util/file.h"
#include "util/trust.h"
#include "docker.h"
#include "banned.h"

#define CTD_SYSTEM_ROOT "/var/lib/containerd"
#define CTD_SYSTEM_SOCK "/run/containerd/containerd.sock"
#define CTD_SYSTEM_CONFIG "/etc/containerd/config.toml"
#define CMDLINE_CAP (256u << 10)
#define NET_UNIX_CAP (16u << 20)
#define CONFIG_CAP (1u << 20)

const char *idp_docker_ctd_namespace(const struct idp_docker_daemon *dm)
{
	return dm->ctd_namespace ? dm->ctd_namespace : "moby";
}

/* Read /proc/<pid>/<what> into b (capped). 0 or -1. */
static int proc_read(pid_t pid, const char *what, struct idp_buf *b, size_t cap)
{
	char path[64];

	idp_buf_init(b, cap);
	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, what);
	return idp_file_read(path, 0, b) == 0 ? 0 : -1;
}

/* The value of option `name` ("root": --root, -root, -c...) in a
 * NUL-separated command line: "--name V" or "--name=V". */
static const char *cmdline_opt(const struct idp_buf *cmd, const char *name)
{
	const char *p = cmd->buf, *end = cmd->buf + cmd->len, *a;
	size_t n = strlen(name);

	for (; p && p < end; p += strlen(p) + 1) {
		if (p[0] != '-')
			continue;
		a = p[1] == '-' ? p + 2 : p + 1;
		if (strncmp(a, name, n) != 0)
			continue;
		if (a[n] == '=')
			return a + n + 1;
		if (a[n] == '\0' && p + strlen(p) + 1 < end)
			return p + strlen(p) + 1;
	}
	return NULL;
}

/* path as process pid sees it: relative ones are below its working
 * directory (/proc/<pid>/cwd). */
static void proc_path(pid_t pid, const char *path, char *out, size_t n)
{
	int len = path[0] == '/' ? snprintf(out, n, "%s", path)
				 : snprintf(out, n, "/proc/%ld/cwd/%s", (long)pid, path);

	if (len < 0 || (size_t)len >= n)
		out[0] = '\0';   /* too long: not a candidate */
}

/* The containerd address the daemon serving the API socket was started
 * with, else the system's socket (dockerd uses it when it is there). */
static void daemon_ctd_address(const struct idp_docker_api *a, char *out, size_t n)
{
	struct idp_buf cmd;
	const char *v;
	uid_t uid;
	pid_t pid;

	snprintf(out, n, "%s", CTD_SYSTEM_SOCK);
	if (!idp_docker_api_usable(a) || idp_socket_peer(a->sock, &uid, &pid) < 0 || pid <= 0)
		return;
	if (proc_read(pid, "cmdline", &cmd, CMDLINE_CAP) == 0 &&
	    (v = cmdline_opt(&cmd, "containerd")) && *v)
		proc_path(pid, strncmp(v, "unix://", 7) == 0 ? v + 7 : v, out, n);
	idp_buf_release(&cmd);
}

/* Whether a line of /proc/net/unix ("Num RefCount Protocol Flags Type St
 * Inode Path") is a socket listening (__SO_ACCEPTCON) at path; its inode. */
static unsigned long listening_at(const char *line, const char *path)
{
	unsigned long flags, inode;
	char p[4096];

	if (sscanf(line, "%*s %*s %*s %lx %*s %*s %lu %4095s", &flags, &inode, p) != 3 ||
	    !(flags & 0x10000) || strcmp(p, path) != 0)
		return 0;
	return inode;
}

/* The inode of the unix socket listening at path, or 0. */
static unsigned long socket_inode(const char *path)
{
	struct idp_buf b;
	char *line, *save = NULL;
	unsigned long inode = 0;

	idp_buf_init(&b, NET_UNIX_CAP);
	if (idp_file_read("/proc/net/unix", 0, &b) == 0 && b.buf)
		for (line = strtok_r(b.buf, "\n", &save); line && !inode;
		     line = strtok_r(NULL, "\n", &save))
			inode = listening_at(line, path);
	idp_buf_release(&b);
	return inode;
}

/* fn(ctx, name) for each numeric name in dir, until one returns non-zero:
 * that value, else 0. */
static long each_numbered(const char *dir, long (*fn)(void *ctx, const char *name), void *ctx)
{
	struct dirent *de;
	long found = 0;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	/* cppcheck-suppress readdirCalled ; d is this call's own (readdir_r is deprecated) */
	while (!found && (de = readdir(d)))
		if (isdigit((unsigned char)de->d_name[0]))
			found = fn(ctx, de->d_name);
	closedir(d);
	return found;
}

/* What to look for among a process's descriptors. */
struct fd_search {
	char dir[64];              /* /proc/<pid>/fd */
	char want[64];             /* socket:[<inode>] */
};

/* 1 when descriptor `name` is the socket wanted. */
static long is_socket(void *ctx, const char *name)
{
	const struct fd_search *fs = ctx;
	char link[96], got[64];
	ssize_t n;

	snprintf(link, sizeof(link), "%s/%.20s", fs->dir, name);
	n = readlink(link, got, sizeof(got) - 1);
	return n > 0 && (size_t)n == strlen(fs->want) && memcmp(got, fs->want, (size_t)n) == 0;
}

/* Process `name` (a pid) when it is named containerd and holds socket
 * *inode among its descriptors, else 0. */
static long containerd_holding(void *ctx, const char *name)
{
	const unsigned long *inode = ctx;
	pid_t pid = (pid_t)strtol(name, NULL, 10);
	struct fd_search fs;
	struct idp_buf comm;
	int named;

	named = proc_read(pid, "comm", &comm, 64) == 0 && comm.buf &&
		strcmp(comm.buf, "containerd\n") == 0;
	idp_buf_release(&comm);
	if (!named)
		return 0;
	snprintf(fs.dir, sizeof(fs.dir), "/proc/%ld/fd", (long)pid);
	snprintf(fs.want, sizeof(fs.want), "socket:[%lu]", *inode);
	return each_numbered(fs.dir, is_socket, &fs) ? pid : 0;
}

/* The process named containerd that listens on the socket with this
 * inode, or 0. */
static pid_t containerd_pid(unsigned long inode)
{
	return (pid_t)each_numbered("/proc", containerd_holding, &inode);
}

/* The top-level `root = "DIR"` of a containerd config file, into out. */
static int config_root(const char *file, char *out, size_t n)
{
	struct idp_buf b;
	char *line, *save = NULL, *q, *e;
	int found = 0;

	idp_buf_init(&b, CONFIG_CAP);
	if (idp_file_read(file, 0, &b) == 0 && b.buf)
		for (line = strtok_r(b.buf, "\n", &save); line && !found && line[0] != '[';
		     line = strtok_r(NULL, "\n", &save)) {
			line += strspn(line, " \t");
			if (strncmp(line, "root", 4) != 0 ||
			    line[4 + strspn(line + 4, " \t")] != '=')
				continue;
			if ((q = strchr(line, '"')) && (e = strchr(q + 1, '"')) && e > q + 1) {
				snprintf(out, n, "%.*s", (int)(e - q - 1), q + 1);
				found = 1;
			}
		}
	idp_buf_release(&b);
	return found;
}

/* The root of containerd process pid: --root, else its config's root,
 * else the default. */
static void containerd_root(pid_t pid, char *out, size_t n)
{
	struct idp_buf cmd;
	char file[4096], root[4096];
	const char *v;

	snprintf(out, n, "%s", CTD_SYSTEM_ROOT);
	if (proc_read(pid, "cmdline", &cmd, CMDLINE_CAP) < 0) {
		idp_buf_release(&cmd);
		return;
	}
	if ((v = cmdline_opt(&cmd, "root")) && *v) {
		proc_path(pid, v, out, n);
	} else {
		if (!(v = cmdline_opt(&cmd, "config")) && !(v = cmdline_opt(&cmd, "c")))
			v = CTD_SYSTEM_CONFIG;
		proc_path(pid, v, file, sizeof(file));
		if (config_root(file, root, sizeof(root)))
			proc_path(pid, root, out, n);
	}
	idp_buf_release(&cmd);
}

static void add_root(struct idp_ctd_roots *r, const char *root, const char *how)
{
	int i;

	if (r->n >= IDP_CTD_MAX_ROOTS || !root[0])
		return;
	for (i = 0; i < r->n; i++)
		if (strcmp(r->root[i], root) == 0)
			return;
	snprintf(r->root[r->n], sizeof(r->root[r->n]), "%s", root);
	snprintf(r->how[r->n], sizeof(r->how[r->n]), "%s", how);
	r->n++;
}

/* Whether we may read the descriptors of the daemon's processes: as
 * root, or as the user the daemon runs as. */
static int proc_readable(const struct idp_docker_api *a)
{
	char why[IDP_ERRMSG_MAX];
	uid_t uid;

	if (geteuid() == 0)
		return 1;
	return idp_docker_daemon_uid(a, &uid, why, sizeof(why)) && uid == geteuid();
}

void idp_docker_ctd_roots(const struct idp_docker_api *a, const struct idp_docker_daemon *dm,
			  struct idp_ctd_roots *out)
{
	const char *env = getenv("IDPPUSH_CONTAINERD_ROOT");
	char addr[4096], root[4096], how[IDP_CTD_HOW_MAX];
	unsigned long inode;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	if (env && *env) {
		add_root(out, env, "IDPPUSH_CONTAINERD_ROOT");
		return;
	}
	if (dm->ctd_address)
		snprintf(addr, sizeof(addr), "%s", dm->ctd_address);
	else
		daemon_ctd_address(a, addr, sizeof(addr));
	/* only root, or the user a rootless daemon runs as, may read the
	 * descriptors of the containerd (else scanning /proc costs ~20 ms for
	 * nothing) */
	if (proc_readable(a) && (inode = socket_inode(addr)) && (pid = containerd_pid(inode))) {
		containerd_root(pid, root, sizeof(root));
		if ((size_t)snprintf(how, sizeof(how), "the containerd at %s", addr) >= sizeof(how))
			snprintf(how, sizeof(how), "the containerd the daemon talks to");
		add_root(out, root, how);
	}
	if (dm->root && (size_t)snprintf(root, sizeof(root), "%s/containerd/daemon", dm->root) <
				sizeof(root))
		add_root(out, root, "dockerd's own containerd");
	add_root(out, CTD_SYSTEM_ROOT, "the system's containerd");
}
