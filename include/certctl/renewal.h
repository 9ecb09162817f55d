/*
 * When to renew and when to try again: the renewal margin of a
 * certificate's lifetime, the backoff after failed attempts, and the
 * Retry-After header of a CA (RFC 9110 section 10.2.3), parsed in this
 * one place.
 */
#ifndef CERTCTL_RENEWAL_H
#define CERTCTL_RENEWAL_H

#include <time.h>

#include "certctl/config.h"

#define CC_SHORT_LIFETIME (10 * 86400L)  /* below it, renew at half the lifetime */
#define CC_BACKOFF_FIRST 3600L            /* after the first failure */
#define CC_BACKOFF_MAX 86400L             /* the exponential steps stop here */
#define CC_RETRY_AFTER_MAX (7 * 86400L)   /* a CA's Retry-After is honoured up to this */

/*
 * How long before expiry a certificate of LIFETIME seconds is renewed
 * (due when no more than that is left). RB unset (both fields 0): a third
 * of the lifetime, half of it when the lifetime is under 10 days. A
 * percentage: that share. A fixed time: itself (one longer than the
 * lifetime renews at every run: the way to force renewals in tests).
 */
long cc_renew_margin(long lifetime, const struct cc_lifetime_share *rb);

/*
 * A Retry-After value: delta-seconds ("120") or an HTTP-date ("Wed, 21
 * Oct 2015 07:28:00 GMT", and the two obsolete forms), as seconds from
 * NOW (0 for a date in the past), at most CC_RETRY_AFTER_MAX. -1 when TEXT
 * is NULL or malformed.
 */
int cc_retry_after(const char *text, time_t now, long *seconds);

/*
 * The wait before the next attempt after FAILURES (>= 1) failures in a
 * row: 1 h, 2 h, 4 h, ... at most 24 h, and never less than the CA's
 * RETRY_AFTER (seconds, 0: none given).
 */
long cc_backoff_delay(long failures, long retry_after);

/* "2026-12-03 08:01 UTC": when a backoff ends, to the minute. */
void cc_format_minute(time_t t, char *buf, size_t len);

#endif
