/* retry.h: retry policy: exponential backoff with jitter and what is worth
 * retrying. Defaults: 5 attempts, 1 s initial delay, x2, 30 s cap. */
#ifndef IDP_RETRY_H
#define IDP_RETRY_H

#include <time.h>

struct idp_retry_policy {
	int attempts;         /* total tries, >= 1 */
	long initial_ms;
	double factor;
	long cap_ms;
};

#define IDP_RETRY_DEFAULT { 5, 1000, 2.0, 30000 }

/* Delay before try number `attempt` (1 = the first retry, after the first
 * failure). Full jitter within [d/2, d] where d = min(cap, initial*factor^(attempt-1)).
 * `rnd` is a uniform random number in [0,1). If retry_after_ms >= 0 the
 * result is max(that, computed) but never more than 5 minutes. */
long idp_retry_delay_ms(const struct idp_retry_policy *p, int attempt, double rnd,
			long retry_after_ms);

/* 1 when an HTTP status is worth retrying: 408, 429, 5xx (not 501). */
int idp_retry_status_retryable(long status);

/* Parse a Retry-After value: delta-seconds or an HTTP-date (IMF-fixdate,
 * relative to `now`). Returns milliseconds >= 0, or -1 when unparsable. */
long idp_retry_after_parse(const char *value, time_t now);

/* The longest duration accepted (366 days): deadlines computed from it
 * can never overflow. */
#define IDP_DURATION_MAX_MS (366LL * 24 * 3600 * 1000)

/* Parse a duration like "300", "300s", "5m", "1h30m", "1500ms" into ms;
 * -1 when invalid or longer than IDP_DURATION_MAX_MS. (Used for --timeout
 * and IDPBUILDER_PUSH_TIMEOUT.) */
long idp_duration_parse_ms(const char *s);

#endif
