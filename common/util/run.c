/* run.c: starting, feeding, capturing, bounding and reaping a child
 * program (run.h) with posix_spawn: no shell, signals reset in the child. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "run.h"
#include "banned.h"

extern char **environ;

#define SLICE_MS 100
#define FINISH_GRACE_MS 5000
#define STOP_GRACE_MS 1000

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static const char *what(const struct idp_run_opts *o)
{
	return o->what ? o->what : o->argv[0];
}

/* Why the wait must stop now: IDP_OK (it need not), ETIMEOUT or ECANCELED. */
static enum idp_errclass stop_reason(const struct idp_run_opts *o)
{
	if (o->cancel && *o->cancel)
		return IDP_ECANCELED;
	if (o->deadline_ms && idp_now_ms() >= o->deadline_ms)
		return IDP_ETIMEOUT;
	return IDP_OK;
}

static int stopped(const struct idp_run_opts *o, enum idp_errclass why, struct idp_error *err)
{
	if (why == IDP_ECANCELED)
		return idp_error_set(err, IDP_ECANCELED, "interrupted while waiting for %s",
				     what(o));
	return idp_error_set(err, IDP_ETIMEOUT,
			     "%s timed out (the time limit ran out); it was stopped", what(o));
}

/* No blocked signals and default dispositions in the child. */
static int child_attr(posix_spawnattr_t *at)
{
	static const int reset[] = {SIGINT,  SIGTERM, SIGPIPE, SIGQUIT, SIGHUP,
				    SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2};
	sigset_t none, dfl;
	size_t i;
	int e = posix_spawnattr_init(at);

	if (e)
		return e;
	sigemptyset(&none);
	sigemptyset(&dfl);
	for (i = 0; i < sizeof(reset) / sizeof(reset[0]); i++)
		sigaddset(&dfl, reset[i]);
	if ((e = posix_spawnattr_setsigmask(at, &none)) != 0 ||
	    (e = posix_spawnattr_setsigdefault(at, &dfl)) != 0 ||
	    (e = posix_spawnattr_setflags(at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) != 0)
		posix_spawnattr_destroy(at);
	return e;
}

/* Spawn with fds[0..2] as the child's stdin, stdout, stderr. */
static int spawn(const struct idp_run_opts *o, const int fds[3], pid_t *pid, struct idp_error *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int e, i;

	if ((e = posix_spawn_file_actions_init(&fa)) != 0)
		return idp_error_set(err, IDP_EGENERAL, "cannot run %s: %s", what(o), strerror(e));
	for (i = 0; i < 3 && !e; i++)
		e = posix_spawn_file_actions_adddup2(&fa, fds[i], i);
	if (!e && !(e = child_attr(&at))) {
		e = posix_spawnp(pid, o->argv[0], &fa, &at, (char *const *)o->argv, environ);
		posix_spawnattr_destroy(&at);
	}
	posix_spawn_file_actions_destroy(&fa);
	if (e == ENOENT)
		return idp_error_set(err, IDP_ENOTFOUND, "cannot run %s: '%s' not found on PATH",
				     what(o), o->argv[0]);
	if (e)
		return idp_error_set(err, IDP_EGENERAL, "cannot run %s: %s", what(o), strerror(e));
	return 0;
}

/* stdin: a socket (a child that does not read cannot SIGPIPE us), filled
 * with the input and closed; *child_end is what the child gets. */
static int make_input(const struct idp_run_opts *o, int *child_end, struct idp_error *err)
{
	const char *p = o->input;
	size_t off = 0;
	ssize_t w;
	int sp[2];

	if (o->input_len > IDP_RUN_INPUT_MAX)
		return idp_error_set(err, IDP_EGENERAL, "internal: input for %s too large",
				     what(o));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return idp_error_set(err, IDP_EGENERAL, "socketpair: %s", strerror(errno));
	while (off < o->input_len) {   /* fits in the socket buffer: never blocks */
		w = send(sp[0], p + off, o->input_len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(sp[0]);
	*child_end = sp[1];
	return 0;
}

/* Stop a child that must go: SIGTERM (a shell script may clean up), then
 * SIGKILL after a short grace; reaped either way. */
static void stop_child(pid_t pid, int *st)
{
	struct timespec slice = { 0, 20 * 1000000L };
	int64_t until = idp_now_ms() + STOP_GRACE_MS;
	pid_t r;

	kill(pid, SIGTERM);
	while ((r = waitpid(pid, st, WNOHANG)) == 0 && idp_now_ms() < until)
		nanosleep(&slice, NULL);
	if (r == pid)
		return;
	kill(pid, SIGKILL);
	while (waitpid(pid, st, 0) < 0 && errno == EINTR)
		;
}

/* Reap pid, waiting at most until the deadline (or cancel): then it is
 * stopped. 0, or -1 with err (timeout, cancel). */
static int reap(const struct idp_run_opts *o, pid_t pid, int *status, struct idp_error *err)
{
	struct timespec slice = { 0, 10 * 1000000L };
	enum idp_errclass why;
	int st = 0;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return idp_error_set(err, IDP_EGENERAL, "waiting for %s: %s", what(o),
					     strerror(errno));
		if ((why = stop_reason(o)) != IDP_OK) {
			stop_child(pid, &st);
			return stopped(o, why, err);
		}
		nanosleep(&slice, NULL);
	}
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}

/* Read what is there on *fd into b (past its cap: dropped, *over set);
 * closes *fd at EOF. */
static void drain(int *fd, struct idp_buf *b, int *over)
{
	char chunk[8192];
	size_t room;
	ssize_t n = read(*fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close_fd(fd);
		return;
	}
	room = b->cap > b->len ? b->cap - b->len : 0;
	if ((size_t)n > room)
		*over = 1;
	if (idp_buf_add(b, chunk, (size_t)n < room ? (size_t)n : room) < 0)
		*over = 1;
}

/* Collect stdout/stderr until both close; kill the child when it prints
 * too much or the wait must stop. */
static int collect(const struct idp_run_opts *o, pid_t pid, int *out, int *errfd,
		   struct idp_run_result *r, struct idp_error *err)
{
	enum idp_errclass why;

	while (*out >= 0 || *errfd >= 0) {
		struct pollfd p[2] = { { *out, POLLIN, 0 }, { *errfd, POLLIN, 0 } };
		if ((why = stop_reason(o)) != IDP_OK)
			return stopped(o, why, err);   /* reap() stops it */
		if (poll(p, 2, SLICE_MS) < 0 && errno != EINTR)
			return idp_error_set(err, IDP_EGENERAL, "waiting for %s: %s", what(o),
					     strerror(errno));
		if (p[0].revents)
			drain(out, &r->out, &r->truncated);
		if (p[1].revents)
			drain(errfd, &r->err, &r->truncated);
		if (r->truncated)
			kill(pid, SIGKILL);
	}
	return 0;
}

int idp_run(const struct idp_run_opts *o, struct idp_run_result *r, struct idp_error *err)
{
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, fds[3] = { -1, -1, -1 }, rc = -1, st;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	idp_buf_init(&r->out, o->out_cap);
	idp_buf_init(&r->err, o->err_cap);
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		idp_error_set(err, IDP_EGENERAL, "pipe: %s", strerror(errno));
		goto out;
	}
	if (make_input(o, &fds[0], err) < 0)
		goto out;
	fds[1] = po[1];
	fds[2] = pe[1];
	rc = spawn(o, fds, &pid, err);
	close_fd(&fds[0]);
	close_fd(&po[1]);
	close_fd(&pe[1]);
	if (rc == 0) {
		rc = collect(o, pid, &po[0], &pe[0], r, err);
		if (reap(o, pid, &st, rc < 0 ? NULL : err) == 0)
			r->status = st;
		else
			rc = -1;
	}
out:
	close_fd(&po[0]);
	close_fd(&po[1]);
	close_fd(&pe[0]);
	close_fd(&pe[1]);
	return rc;
}

void idp_run_result_release(struct idp_run_result *r)
{
	if (r->out.len)
		explicit_bzero(r->out.buf, r->out.len);
	idp_buf_release(&r->out);
	idp_buf_release(&r->err);
}

int idp_child_start(const struct idp_run_opts *o, struct idp_child *c, struct idp_error *err)
{
	FILE *tmp = tmpfile();
	int p[2] = { -1, -1 }, fds[3] = { -1, -1, -1 }, rc;

	memset(c, 0, sizeof(*c));
	c->out = c->errfile = -1;
	c->o = o;
	if (!tmp)
		return idp_error_set(err, IDP_EGENERAL, "cannot create a temporary file: %s",
				     strerror(errno));
	c->errfile = fcntl(fileno(tmp), F_DUPFD_CLOEXEC, 0);
	fclose(tmp);
	if (c->errfile < 0 || pipe2(p, O_CLOEXEC) < 0) {
		close_fd(&c->errfile);
		return idp_error_set(err, IDP_EGENERAL, "pipe: %s", strerror(errno));
	}
	if (make_input(o, &fds[0], err) < 0) {
		close_fd(&p[0]);
		close_fd(&p[1]);
		close_fd(&c->errfile);
		return -1;
	}
	fds[1] = p[1];
	fds[2] = c->errfile;
	rc = spawn(o, fds, &c->pid, err);
	close_fd(&fds[0]);
	close_fd(&p[1]);
	if (rc < 0) {
		close_fd(&p[0]);
		close_fd(&c->errfile);
		return -1;
	}
	c->out = p[0];
	return 0;
}

/* First line of the child's stderr file into msg. */
static void first_err_line(int fd, char *msg, size_t n)
{
	ssize_t got = n > 1 && fd >= 0 ? pread(fd, msg, n - 1, 0) : 0;
	char *nl;

	if (!n)
		return;
	msg[got > 0 ? got : 0] = '\0';
	if ((nl = strchr(msg, '\n')))
		*nl = '\0';
}

int idp_child_finish(struct idp_child *c, int kill_it, int *status, char *msg, size_t msglen,
		     struct idp_error *err)
{
	struct idp_run_opts bounded = *c->o;
	int rc = 0;

	*status = 0;
	close_fd(&c->out);
	if (c->pid > 0) {
		if (kill_it)
			kill(c->pid, SIGTERM);
		/* a cancel must not skip the reaping: give it a short grace instead */
		if (bounded.cancel && *bounded.cancel) {
			bounded.cancel = NULL;
			bounded.deadline_ms = idp_now_ms() + FINISH_GRACE_MS;
		}
		rc = reap(&bounded, c->pid, status, err);
		c->pid = 0;
	}
	first_err_line(c->errfile, msg, msglen);
	close_fd(&c->errfile);
	return rc;
}
