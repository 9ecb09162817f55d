/* Unit tests for src/ari.c: renewalInfo answers (RFC 9773). The
 * certificate ID is checked against openssl in tests/cli/ari.bats. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "certctl/ari.h"

static int parse(const char *body, const char *retry, struct cc_ari *ari)
{
	struct cc_err err;

	return cc_ari_parse(body, strlen(body), retry, ari, &err);
}

static void test_window(void **unused)
{
	struct cc_ari ari;

	(void)unused;
	assert_int_equal(parse("{\"suggestedWindow\": {\"start\": \"2026-01-01T00:00:00Z\", "
	    "\"end\": \"2026-01-02T00:00:00Z\"}}", "7200", &ari), 0);
	assert_int_equal(ari.start, 1767225600);
	assert_int_equal(ari.end, 1767225600 + 86400);
	assert_int_equal(ari.retry_after, 7200);
}

static void test_fraction_and_offsets(void **unused)
{
	struct cc_ari ari;

	(void)unused;
	/* 02:00+02:00 is midnight UTC; 18:30-05:30 is midnight UTC a day later. */
	assert_int_equal(parse("{\"suggestedWindow\": {\"start\": \"2026-01-01T02:00:00.5+02:00\", "
	    "\"end\": \"2026-01-01t18:30:00-05:30\"}}", NULL, &ari), 0);
	assert_int_equal(ari.start, 1767225600);
	assert_int_equal(ari.end, 1767225600 + 86400);
}

static void test_retry_after(void **unused)
{
	const char *body = "{\"suggestedWindow\": {\"start\": \"2026-01-01T00:00:00Z\", "
	    "\"end\": \"2026-01-03T00:00:00Z\"}}";
	struct cc_ari ari;

	(void)unused;
	assert_int_equal(parse(body, NULL, &ari), 0);
	assert_int_equal(ari.retry_after, CC_ARI_RETRY_DEFAULT);
	assert_int_equal(parse(body, "1", &ari), 0);
	assert_int_equal(ari.retry_after, CC_ARI_RETRY_MIN);
	assert_int_equal(parse(body, "9999999", &ari), 0);
	assert_int_equal(ari.retry_after, CC_ARI_RETRY_MAX);
	/* An HTTP-date is understood: this one is past, so now (the minimum). */
	assert_int_equal(parse(body, "Wed, 21 Oct 2015 07:28:00 GMT", &ari), 0);
	assert_int_equal(ari.retry_after, CC_ARI_RETRY_MIN);
	assert_int_equal(parse(body, "Wed, 21 Oct 2099 07:28:00 GMT", &ari), 0);
	assert_int_equal(ari.retry_after, CC_ARI_RETRY_MAX);
	assert_int_equal(parse(body, "soon", &ari), 0);
	assert_int_equal(ari.retry_after, CC_ARI_RETRY_DEFAULT);
}

static void test_refused(void **unused)
{
	static const char *const bad[] = {
		"",
		"not json",
		"[]",
		"{}",
		"{\"suggestedWindow\": \"soon\"}",
		"{\"suggestedWindow\": {\"start\": \"2026-01-01T00:00:00Z\"}}",
		"{\"suggestedWindow\": {\"start\": \"2026-01-01\", \"end\": \"2026-01-02\"}}",
		"{\"suggestedWindow\": {\"start\": \"2026-01-01T00:00:00\", "
		    "\"end\": \"2026-01-02T00:00:00\"}}",
		"{\"suggestedWindow\": {\"start\": \"2026-13-01T00:00:00Z\", "
		    "\"end\": \"2026-14-02T00:00:00Z\"}}",
		"{\"suggestedWindow\": {\"start\": \"2026-01-01T00:00:00Zjunk\", "
		    "\"end\": \"2026-01-02T00:00:00Z\"}}",
		/* ends before it starts, or is empty */
		"{\"suggestedWindow\": {\"start\": \"2026-01-02T00:00:00Z\", "
		    "\"end\": \"2026-01-01T00:00:00Z\"}}",
		"{\"suggestedWindow\": {\"start\": \"2026-01-01T00:00:00Z\", "
		    "\"end\": \"2026-01-01T00:00:00Z\"}}",
		"{\"suggestedWindow\": {\"start\": 1767225600, \"end\": 1767312000}}",
	};
	struct cc_ari ari;

	(void)unused;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], NULL, &ari) != -1)
			fail_msg("accepted: %s", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_fraction_and_offsets),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests_name("ari", tests, NULL, NULL);
}
