/* fe_askpass.c: reading a password from the terminal with echo off
 * (fe_askpass.h), in the way of OpenBSD's readpassphrase: the terminal
 * is opened, its settings saved, echo turned off, and handlers installed
 * for the signals that would otherwise leave it without echo; whatever
 * ends the read, the settings and the old dispositions are restored
 * before anything else happens.
 * The one static, `caught`: a signal handler receives no context; it is
 * written only by the handler, between fe_askpass's install and restore,
 * and read by fe_askpass after the read returns. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "fe_askpass.h"
#include "banned.h"

static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
	caught = sig;
}

/* The signals that must not leave the terminal without echo. */
static const int watched[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU };
#define NWATCHED (sizeof(watched) / sizeof(watched[0]))

static void catch_signals(struct sigaction old[NWATCHED])
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: the read returns EINTR and the loop sees `caught` */
	for (i = 0; i < NWATCHED; i++)
		sigaction(watched[i], &sa, &old[i]);
}

static void restore_signals(const struct sigaction old[NWATCHED])
{
	size_t i;

	for (i = 0; i < NWATCHED; i++)
		sigaction(watched[i], &old[i], NULL);
}

/* One line from fd into buf; its length, or -1 with errno. Stops at a
 * caught signal (EINTR). */
static int read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;
	char c;

	for (;;) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR && !caught)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			errno = ENODATA;
			return -1;
		}
		if (c == '\n' || c == '\r')
			break;
		if (n + 1 >= len) {
			errno = EMSGSIZE;
			return -1;
		}
		buf[n++] = c;
	}
	buf[n] = '\0';
	return (int)n;
}

/* One try: the prompt, the line, the terminal restored. *sig gets the
 * signal caught during it (0: none). */
static int ask_once(int fd, const char *prompt, char *buf, size_t len, int *sig)
{
	struct sigaction old[NWATCHED];
	struct termios saved, quiet;
	int n, e, echo_off = 0;

	caught = 0;
	catch_signals(old);
	if (tcgetattr(fd, &saved) == 0) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		echo_off = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	if (!echo_off) {
		n = -1;   /* a password is never read with echo on */
		e = errno;
	} else {
		n = write(fd, prompt, strlen(prompt)) < 0 ? -1 : read_line(fd, buf, len);
		e = errno;
		(void)!write(fd, "\n", 1);   /* the newline echo did not show */
		/* not again and again if we are in the background (SIGTTOU) */
		while (tcsetattr(fd, TCSAFLUSH, &saved) < 0 && errno == EINTR &&
		       caught != SIGTTOU)
			;
	}
	restore_signals(old);
	*sig = caught;
	errno = e;
	return n;
}

int fe_askpass(const char *prompt, char *buf, size_t len)
{
	int fd, n, sig, e;

	if (len == 0 || (fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) < 0) {
		errno = ENOTTY;
		return -1;
	}
	for (;;) {
		n = ask_once(fd, prompt, buf, len, &sig);
		e = errno;
		if (n < 0 || sig)
			explicit_bzero(buf, len);
		if (sig)
			kill(getpid(), sig);   /* with the terminal as it was */
		if (sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU)
			break;
	}
	close(fd);
	if (sig && n >= 0) {
		n = -1;
		e = EINTR;
	}
	errno = e;
	return n;
}
