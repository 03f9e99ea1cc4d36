/* fe_askpass.h: asking for the password on the terminal when -u is given
 * without one, as `docker login` does: the prompt and the answer on the
 * controlling terminal (/dev/tty), nothing echoed while it is typed. */
#ifndef IDP_FE_ASKPASS_H
#define IDP_FE_ASKPASS_H

#include <stddef.h>

/* Write prompt on the terminal and read one line with echo off, into
 * buf[0..len) (the newline removed). The terminal's settings and the
 * signal dispositions are restored on every way out: the answer, end of
 * input, an error, and a signal: SIGINT, SIGTERM, SIGHUP, SIGQUIT are
 * re-raised once the terminal is back as it was (so they do what they
 * would have done: usually end the program); after SIGTSTP, SIGTTIN or
 * SIGTTOU the program stops, and when it is continued the prompt comes
 * again. Returns the length, or -1 with errno: ENOTTY (no terminal),
 * EINTR (a signal that did not end the program), EMSGSIZE (longer than
 * len - 1), ENODATA (end of input before a newline). buf is wiped on
 * failure. */
int fe_askpass(const char *prompt, char *buf, size_t len);

#endif
