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
#include "fe_msg.h"
#include "fe_progress.h"
#include "fe_push.h"
#include "banned.h"

int fe_report_error(const struct idp_error *err)
{
	fe_errorf("%s", err->msg[0] ? err->msg : idp_errclass_str(err->cls));
	return idp_errclass_exit_code(err->cls == IDP_OK ? IDP_EGENERAL : err->cls);
}

/* Where --digest-file goes. A regular file (or none yet) is replaced
 * atomically; a stream the user points at (/dev/stdout as a pipe or a
 * terminal, a FIFO, a process substitution) is written into; a symlink to
 * a regular file is refused, so a symlink planted at the path can never
 * make us overwrite the file it points at. Checked before the push. */
enum digest_target { DT_REPLACE, DT_STREAM };

static int digest_target(const char *path, enum digest_target *t, struct idp_error *err)
{
	struct stat l, st;

	if (lstat(path, &l) < 0 || S_ISREG(l.st_mode)) {
		*t = DT_REPLACE;
		return 0;
	}
	if (stat(path, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISSOCK(st.st_mode))) {
		*t = DT_STREAM;
		return 0;
	}
	return idp_error_set(err, IDP_EGENERAL,
			     "--digest-file '%s' is %s: refusing to write through it (give a plain "
			     "file path)",
			     path, S_ISLNK(l.st_mode) ? "a symbolic link" : "not a file");
}

static int write_digest_file(const char *path, const char *digest, struct idp_error *err)
{
	enum digest_target t;
	char line[IDP_DIGEST_MAX + 2];
	int fd, rc = 0;

	snprintf(line, sizeof(line), "%s\n", digest);
	if (digest_target(path, &t, err) < 0)
		return -1;
	if (t == DT_REPLACE) {
		if (idp_file_replace(path, line, strlen(line), 0644, err) < 0)
			return idp_error_prefix(err, "--digest-file");
		return 0;
	}
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0 ||
	    write(fd, line, strlen(line)) != (ssize_t)strlen(line))
		rc = idp_error_set(err, IDP_EGENERAL, "cannot write --digest-file '%s': %s", path,
				   strerror(errno));
	if (fd >= 0)
		close(fd);
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
	enum digest_target dt;
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
	if (job->cfg->digest_file && digest_target(job->cfg->digest_file, &dt, err) < 0)
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
		return fe_report_error(err);
	if (r->job->cancel && *r->job->cancel && err->cls != IDP_ECANCELED)
		idp_error_set(err, IDP_ECANCELED, "interrupted: nothing was tagged");
	code = idp_errclass_exit_code(err->cls == IDP_OK ? IDP_EGENERAL : err->cls);
	if (!fe_progress_error(r->progress, err->msg[0] ? err->msg : idp_errclass_str(err->cls),
			       code))
		code = fe_report_error(err);
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
