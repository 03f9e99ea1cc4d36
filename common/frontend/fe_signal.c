/* fe_signal.c: SIGINT/SIGTERM set the cancel flag that main owns.
 * The one unavoidable static: a signal handler receives no context, so the
 * address of main's flag is kept in `cancel_flag` (written once, before the
 * handlers are installed; read only by the handler). */
#include "config.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "fe_signal.h"
#include "banned.h"

static volatile sig_atomic_t *cancel_flag;

/* The flag is read by every thread (atomically, stop.c): stored so too;
 * errno is the interrupted code's. */
static void on_cancel_signal(int sig)
{
	int saved = errno;

	(void)sig;
	if (__atomic_load_n(cancel_flag, __ATOMIC_RELAXED))
		_exit(130);   /* second signal: the user really means it */
	__atomic_store_n(cancel_flag, 1, __ATOMIC_RELAXED);
	errno = saved;
}

int fe_signal_install(volatile sig_atomic_t *flag)
{
	struct sigaction sa;

	cancel_flag = flag;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_cancel_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a blocking read returns EINTR and sees the flag */
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return -1;
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}
