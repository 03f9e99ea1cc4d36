/* fe_signal.h: Ctrl-C and SIGTERM for the front ends. main() owns the
 * cancel flag:
 *     static volatile sig_atomic_t canceled;    (or a local in main)
 *     fe_signal_install(&canceled);
 *     so.cancel = &canceled;                    (engine stops transfers)
 * The first SIGINT/SIGTERM sets *flag = 1 and the push unwinds (upload
 * sessions DELETEd, nothing tagged, exit 130). A second signal exits at
 * once with status 130 (the docker CLI SIGKILLs after its third).
 * SIGPIPE is ignored so a closed pipe is an EPIPE error, not a death. */
#ifndef IDP_FE_SIGNAL_H
#define IDP_FE_SIGNAL_H

#include <signal.h>

/* Install the handlers. Returns 0, -1 (errno) if sigaction failed. */
int fe_signal_install(volatile sig_atomic_t *flag);

#endif
