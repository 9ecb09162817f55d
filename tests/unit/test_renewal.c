/* Unit tests for src/renewal.c: when a certificate is renewed, how long a
 * failing name waits, and what a CA's Retry-After means. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "certctl/renewal.h"

#define DAY 86400L
#define HOUR 3600L

/* Whether a certificate of LIFETIME with LEFT remaining is due. */
static int due(long lifetime, long left, const struct cc_lifetime_share *rb)
{
	return left <= cc_renew_margin(lifetime, rb);
}

static void test_default_margin(void **unused)
{
	const struct cc_lifetime_share unset = { 0 };

	(void)unused;
	/* 90 days: at a third of the lifetime left, 30 days. */
	assert_int_equal(cc_renew_margin(90 * DAY, &unset), 30 * DAY);
	assert_false(due(90 * DAY, 30 * DAY + 1, &unset));
	assert_true(due(90 * DAY, 30 * DAY, &unset));
	/* 10 days is not short: a third. */
	assert_int_equal(cc_renew_margin(10 * DAY, &unset), 10 * DAY / 3);
	/* 6 days (Let's Encrypt's shortlived): at half, 3 days left. */
	assert_int_equal(cc_renew_margin(6 * DAY, &unset), 3 * DAY);
	assert_false(due(6 * DAY, 3 * DAY + 1, &unset));
	assert_true(due(6 * DAY, 3 * DAY, &unset));
	/* Run twice a day, a 6-day certificate is renewed with days to spare. */
	assert_true(cc_renew_margin(6 * DAY, &unset) - 12 * HOUR > 2 * DAY);
	assert_int_equal(cc_renew_margin(0, &unset), 0);
}

static void test_configured_margin(void **unused)
{
	const struct cc_lifetime_share pct = { .percent = 25 }, fixed = { .seconds = 30 * DAY };

	(void)unused;
	assert_int_equal(cc_renew_margin(100 * DAY, &pct), 25 * DAY);
	assert_int_equal(cc_renew_margin(6 * DAY, &pct), 6 * DAY / 4);
	assert_int_equal(cc_renew_margin(90 * DAY, &fixed), 30 * DAY);
	/* A fixed time is taken as given, even beyond the lifetime. */
	assert_int_equal(cc_renew_margin(6 * DAY, &fixed), 30 * DAY);
}

static void test_backoff(void **unused)
{
	(void)unused;
	assert_int_equal(cc_backoff_delay(1, 0), HOUR);
	assert_int_equal(cc_backoff_delay(2, 0), 2 * HOUR);
	assert_int_equal(cc_backoff_delay(3, 0), 4 * HOUR);
	assert_int_equal(cc_backoff_delay(5, 0), 16 * HOUR);
	assert_int_equal(cc_backoff_delay(6, 0), DAY);
	assert_int_equal(cc_backoff_delay(1000000, 0), DAY);
	/* The CA's Retry-After wins when longer, up to a week. */
	assert_int_equal(cc_backoff_delay(1, 3 * HOUR), 3 * HOUR);
	assert_int_equal(cc_backoff_delay(3, 60), 4 * HOUR);
	assert_int_equal(cc_backoff_delay(1, 30 * DAY), 7 * DAY);
}

static void test_retry_after(void **unused)
{
	const time_t now = 1445412480; /* Wed, 21 Oct 2015 07:28:00 GMT */
	long s = -1;

	(void)unused;
	assert_int_equal(cc_retry_after("120", now, &s), 0);
	assert_int_equal(s, 120);
	assert_int_equal(cc_retry_after("0", now, &s), 0);
	assert_int_equal(s, 0);
	assert_int_equal(cc_retry_after("007", now, &s), 0);
	assert_int_equal(s, 7);
	assert_int_equal(cc_retry_after("99999999999999999999999", now, &s), 0);
	assert_int_equal(s, CC_RETRY_AFTER_MAX);
	/* The three HTTP-date forms, an hour from now. */
	assert_int_equal(cc_retry_after("Wed, 21 Oct 2015 08:28:00 GMT", now, &s), 0);
	assert_int_equal(s, HOUR);
	s = -1;
	assert_int_equal(cc_retry_after("Wednesday, 21-Oct-15 08:28:00 GMT", now, &s), 0);
	assert_int_equal(s, HOUR);
	s = -1;
	assert_int_equal(cc_retry_after("Wed Oct 21 08:28:00 2015", now, &s), 0);
	assert_int_equal(s, HOUR);
	/* In the past: now. */
	assert_int_equal(cc_retry_after("Tue, 20 Oct 2015 07:28:00 GMT", now, &s), 0);
	assert_int_equal(s, 0);
	/* Malformed: refused, *S untouched. */
	s = 42;
	assert_int_equal(cc_retry_after(NULL, now, &s), -1);
	assert_int_equal(cc_retry_after("", now, &s), -1);
	assert_int_equal(cc_retry_after(" 120", now, &s), -1);
	assert_int_equal(cc_retry_after("-5", now, &s), -1);
	assert_int_equal(cc_retry_after("1e3", now, &s), -1);
	assert_int_equal(cc_retry_after("0x10", now, &s), -1);
	assert_int_equal(cc_retry_after("Wed, 21 Oct 2015 08:28:00 GMT trailing", now, &s), -1);
	assert_int_equal(cc_retry_after("tomorrow", now, &s), -1);
	assert_int_equal(s, 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_margin),
		cmocka_unit_test(test_configured_margin),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_retry_after),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
