/* fe_push.c: the push flow both front ends share (fe_push.h), around the
 * front end's own steps: fe_push_open (the progress output, --digest-file
 * checked, a session per destination) and fe_push_finish (--install-ca,
 * the result lines, --digest-file, error -> exit code). */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/file.h"
#include "util/trust.h"
#include "fe_msg.h"
#include "fe_progress.h"
#include "fe_push.h"
#include "banned.h"

/* Where --digest-file goes. A regular file (or none yet) is replaced
 * atomically (a temp file beside it, renamed over it: a symlink planted at
 * the path is replaced, never written through); a stream the user points
 * at (/dev/stdout as a pipe or a terminal, a FIFO, a process substitution)
 * is written into. A symbolic link is followed only in a directory that
 * only root or we can change (/dev/stdout, /dev/fd/N): elsewhere it is
 * refused. Checked before the push and again when the digest is written;
 * the check and the open go through one descriptor of the directory, and
 * the stream opened is the one checked: found with O_PATH (without
 * following a link unless it was one: an O_PATH open has no effect of its
 * own), compared with the check (device, inode, type), only then opened
 * for writing through /proc/self/fd. A path swapped between the check
 * and the open is refused, never written through. */
enum digest_target { DT_REPLACE, DT_STREAM };

struct digest_path {
	int dirfd;                 /* the directory it is in (O_PATH) */
	char base[256];            /* its name there */
	enum digest_target t;
	struct stat st;            /* DT_STREAM: what it is */
	int link;                  /* DT_STREAM: the path is a link to it */
};

static int is_stream(const struct stat *st)
{
	return S_ISFIFO(st->st_mode) || S_ISCHR(st->st_mode) || S_ISSOCK(st->st_mode);
}

static int refuse(const char *path, const char *what, struct idp_error *err)
{
	return idp_error_set(err, IDP_EGENERAL,
			     "--digest-file '%s' is %s: refusing to write through it (give a plain "
			     "file path)", path, what);
}

/* Its directory opened, its name in it. */
static int digest_dir(const char *path, struct digest_path *d, struct idp_error *err)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if ((size_t)snprintf(d->base, sizeof(d->base), "%s", slash ? slash + 1 : path) >=
	    sizeof(d->base) || !d->base[0] || strcmp(d->base, ".") == 0 ||
	    strcmp(d->base, "..") == 0)
		return refuse(path, "not a file name", err);
	if ((d->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return idp_error_set(err, IDP_EGENERAL, "--digest-file '%s': cannot open '%s': %s",
				     path, dir, strerror(errno));
	return 0;
}

/* What path is now (d filled; close d->dirfd). */
static int digest_target(const char *path, struct digest_path *d, struct idp_error *err)
{
	struct stat l, dst;

	memset(d, 0, sizeof(*d));
	d->dirfd = -1;
	if (digest_dir(path, d, err) < 0)
		return -1;
	d->t = DT_REPLACE;
	if (fstatat(d->dirfd, d->base, &l, AT_SYMLINK_NOFOLLOW) < 0 || S_ISREG(l.st_mode))
		return 0;
	d->t = DT_STREAM;
	d->link = S_ISLNK(l.st_mode);
	if (d->link && (fstat(d->dirfd, &dst) < 0 || !idp_trusted_dir_stat(&dst, geteuid())))
		return refuse(path, "a symbolic link in a directory others can change", err);
	if (fstatat(d->dirfd, d->base, &d->st, 0) == 0 && is_stream(&d->st))
		return 0;
	return refuse(path, d->link ? "a symbolic link" : "not a file", err);
}

/* The stream d checked, opened for writing; -1 with errno (EXDEV: it is
 * no longer what was checked). */
static int open_stream(const struct digest_path *d)
{
	struct stat got;
	int pfd = openat(d->dirfd, d->base, O_PATH | O_CLOEXEC | (d->link ? 0 : O_NOFOLLOW));
	int fd, e;

	if (pfd < 0)
		return -1;
	if (fstat(pfd, &got) < 0 || !is_stream(&got) || got.st_dev != d->st.st_dev ||
	    got.st_ino != d->st.st_ino) {
		close(pfd);
		errno = EXDEV;
		return -1;
	}
	fd = idp_reopen_path_fd(pfd, O_WRONLY);
	e = errno;
	close(pfd);
	errno = e;
	return fd;
}

static int write_stream(const char *path, const struct digest_path *d, const char *line,
			struct idp_error *err)
{
	int fd = open_stream(d), rc = 0;

	if (fd < 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line))
		rc = idp_error_set(err, IDP_EGENERAL, "cannot write --digest-file '%s': %s", path,
				   errno == EXDEV ? "it changed since it was checked"
						  : strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

static int write_digest_file(const char *path, const char *digest, struct idp_error *err)
{
	struct digest_path d;
	char line[IDP_DIGEST_MAX + 2];
	int rc;

	snprintf(line, sizeof(line), "%s\n", digest);
	rc = digest_target(path, &d, err);
	if (rc == 0 && d.t == DT_REPLACE &&
	    (rc = idp_file_replace(path, line, strlen(line), 0644, err)) < 0)
		idp_error_prefix(err, "--digest-file");
	else if (rc == 0 && d.t == DT_STREAM)
		rc = write_stream(path, &d, line, err);
	if (d.dirfd >= 0)
		close(d.dirfd);
	return rc;
}

/* Whether d can be written: a stream or an existing file by us (one we
 * may not write is not replaced behind our back either), a new file or
 * the replacement's temporary file in its directory. */
static int digest_writable(const char *path, const struct digest_path *d, struct idp_error *err)
{
	int exists = d->t == DT_STREAM ||
		     faccessat(d->dirfd, d->base, F_OK, AT_SYMLINK_NOFOLLOW) == 0;

	if (exists && faccessat(d->dirfd, d->base, W_OK, AT_EACCESS) < 0)
		return idp_error_set(err, IDP_EGENERAL, "cannot write --digest-file '%s': %s",
				     path, strerror(errno));
	if (d->t == DT_REPLACE && faccessat(d->dirfd, ".", W_OK | X_OK, AT_EACCESS) < 0)
		return idp_error_set(err, IDP_EGENERAL, "cannot write --digest-file '%s': its "
				     "directory: %s", path, strerror(errno));
	return 0;
}

/* Checked before the push (before any request): refused now rather than
 * after the tag was pushed. */
static int check_digest_file(const char *path, struct idp_error *err)
{
	struct digest_path d;
	int rc = digest_target(path, &d, err);

	if (rc == 0)
		rc = digest_writable(path, &d, err);
	if (d.dirfd >= 0)
		close(d.dirfd);
	return rc;
}

/* --install-ca: the CA the push trusted, into ~/.docker/certs.d/HOST/ca.crt. */
static int install_ca(const struct fe_config *cfg, struct fe_progress *p, struct idp_session *s,
		      const char *host, struct idp_error *err)
{
	char msg[4200];
	const char *home = getenv("HOME");
	struct idp_buf file = IDP_BUF_INIT;
	const char *pem;
	char path[4096];
	size_t len;
	int rc = 0;

	if (!(pem = idp_session_cluster_ca(s, &len)) && cfg->ca_cert) {
		idp_buf_init(&file, IDP_CAP_CONFIG);
		if (idp_file_read(cfg->ca_cert, 0, &file) != 0)
			rc = idp_error_set(err, IDP_EGENERAL, "--install-ca: cannot read '%s'",
					   cfg->ca_cert);
		pem = file.buf;
		len = file.len;
	}
	if (rc == 0 && !pem) {
		fe_progress_warn_sink(p, "--install-ca: no CA to install (the registry's "
				      "certificate was trusted already)");
	} else if (rc == 0 && (!home || *home != '/')) {
		rc = idp_error_set(err, IDP_EGENERAL, "--install-ca: HOME is not set");
	} else if (rc == 0) {
		snprintf(path, sizeof(path), "%s/.docker/certs.d/%s/ca.crt", home, host);
		rc = idp_file_mkdirs(path, 0755, err) < 0 || idp_file_replace(path, pem, len, 0644,
									      err) < 0 ? -1 : 0;
		snprintf(msg, sizeof(msg), "installed the CA for %s in %s", host, path);
		if (rc == 0 && !cfg->quiet)
			fe_progress_info_sink(p, msg);
	}
	idp_buf_release(&file);
	return rc;
}

static void name_target(const struct fe_push *r, int i, struct idp_error *err)
{
	char what[600];

	if (r->to.n > 1) {
		snprintf(what, sizeof(what), " (target %s)", r->names[i]);
		idp_error_suffix(err, what);
	}
}

/* Target i's session options: its messages go through the progress
 * output (above the bars, or as JSON events). */
static void session_opts(struct fe_push *r, int i, struct idp_session_opts *so)
{
	const struct fe_push_job *job = r->job;

	fe_session_opts(job->cfg, job->cancel, so);
	if (!so->chunk_size && job->chunk_size_hint)
		so->chunk_size = job->chunk_size_hint[i];
	so->limit = r->limited ? &r->rate : NULL;
	so->warn = fe_progress_warn_sink;
	so->warn_ctx = r->progress;
	if (so->info)
		so->info = fe_progress_info_sink;
	if (so->debug) {
		so->debug = fe_progress_debug_sink;
		so->debug_ctx = r->progress;
	}
}

static int open_targets(struct fe_push *r, struct idp_error *err)
{
	const struct fe_push_job *job = r->job;
	struct idp_session_opts so;
	int i;

	for (i = 0; i < r->to.n; i++) {
		session_opts(r, i, &so);
		if (idp_session_open(&so, &job->dests[i], &r->t[i].s, err) < 0) {
			name_target(r, i, err);
			return -1;
		}
		r->t[i].tag = job->dests[i].tag;
	}
	return 0;
}

/* After a push: the CA kept when asked (a failure only warns). */
static void install_cas(const struct fe_push *r)
{
	struct idp_error err = IDP_ERROR_INIT;
	char msg[IDP_ERRMSG_MAX + 64];
	int i;

	for (i = 0; r->job->cfg->install_ca && i < r->to.n; i++) {
		if (install_ca(r->job->cfg, r->progress, r->t[i].s, r->job->dests[i].domain,
			       &err) == 0)
			continue;
		snprintf(msg, sizeof(msg), "the push succeeded, the CA was not installed: %s",
			 err.msg);
		fe_progress_warn_sink(r->progress, msg);
	}
}

/* After the push: the notice, --digest-file, per target the digest and
 * summary lines (or the result event), then TARGET@DIGEST on stdout. */
static int report(const struct fe_push *r, struct idp_error *err)
{
	const struct fe_config *cfg = r->job->cfg;
	struct fe_progress_result res;
	int i;

	if (r->notice && !cfg->quiet)
		fe_progress_info_sink(r->progress, r->notice);
	if (cfg->digest_file && write_digest_file(cfg->digest_file, r->t[0].res.digest, err) < 0)
		return -1;
	for (i = 0; i < r->to.n; i++) {
		res.target = r->names[i];
		res.tag = r->t[i].tag;
		res.digest = r->t[i].res.digest;
		res.size = r->t[i].res.size;
		res.stats = &r->t[i].res.stats;
		res.bytes_read = i == 0 ? r->bytes_read : -1;
		fe_progress_finish(r->progress, &res);
	}
	for (i = 0; i < r->to.n; i++)
		printf("%s@%s\n", r->names[i], r->t[i].res.digest);
	fflush(stdout);
	return 0;
}

/* The progress output and the result names; -1 only out of memory. */
static int start_output(struct fe_push *r, struct idp_error *err)
{
	const struct fe_config *cfg = r->job->cfg;
	int i, oom;

	r->progress = fe_progress_new(cfg->progress, cfg->quiet, cfg->verbose, stderr);
	oom = !r->progress;
	for (i = 0; i < r->to.n; i++)
		oom |= !(r->names[i] = idp_ref_string(&r->job->dests[i]));
	if (oom)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	r->po = (struct idp_push_opts){ .jobs = cfg->jobs,
					.on_event = fe_progress_on_event,
					.event_ctx = r->progress };
	r->opened = 1;
	return 0;
}

int fe_push_open(struct fe_push *r, const struct fe_push_job *job, struct idp_error *err)
{
	char *repo;
	int i;

	memset(r, 0, sizeof(*r));
	r->job = job;
	r->bytes_read = -1;
	r->to.t = r->t;
	r->to.n = job->ndests < FE_MAX_TARGETS ? job->ndests : FE_MAX_TARGETS;
	r->to.o = &r->po;
	if ((r->limited = job->cfg->limit_rate > 0))
		idp_ratelimit_init(&r->rate, job->cfg->limit_rate);
	if (start_output(r, err) < 0)
		return -1;
	if (job->cfg->digest_file && check_digest_file(job->cfg->digest_file, err) < 0)
		return -1;
	for (i = 0; i < r->to.n; i++) {
		if (!(repo = idp_ref_repository(&job->dests[i])))
			return idp_error_set(err, IDP_EGENERAL, "out of memory");
		fe_progress_start(r->progress, repo);
		free(repo);
	}
	return open_targets(r, err);
}

/* A failed run: the error (JSON: the error event) and its exit code. */
static int failed(const struct fe_push *r, struct idp_error *err)
{
	int code;

	if (!r->opened)
		return fe_error_report(err);
	if (r->job->cancel && *r->job->cancel && err->cls != IDP_ECANCELED)
		idp_error_set(err, IDP_ECANCELED, "interrupted: nothing was tagged");
	code = idp_errclass_exit_code(err->cls == IDP_OK ? IDP_EGENERAL : err->cls);
	if (!fe_progress_error(r->progress, err->msg[0] ? err->msg : idp_errclass_str(err->cls),
			       code))
		code = fe_error_report(err);
	return code;
}

int fe_push_finish(struct fe_push *r, int rc, struct idp_error *err)
{
	int i, code = 0;

	if (rc == 0)
		install_cas(r);
	for (i = 0; i < r->to.n; i++)
		idp_session_close(r->t[i].s);
	if (rc < 0 || report(r, err) < 0)
		code = failed(r, err);
	fe_progress_free(r->progress);
	for (i = 0; i < r->to.n; i++)
		free(r->names[i]);
	if (r->limited)
		idp_ratelimit_destroy(&r->rate);
	return code;
}

char *fe_pushcache_open(const struct fe_config *cfg, struct idp_pushcache *c)
{
	char *path = idp_pushcache_path(), warning[512];

	if (idp_pushcache_load(c, path, warning, sizeof(warning)) == 1) {
		if (cfg->verbose)   /* someone else's: not used, not written */
			fe_infof("%s", warning);
		free(path);
		return NULL;
	}
	if (warning[0])
		fe_warnf("%s", warning);
	return path;
}
