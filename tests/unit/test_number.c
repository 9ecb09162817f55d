/*
 * Unit tests for the number grammar of options and config values
 * (src/number.c, issue 16): one table per parser over the whole class of
 * lenient input that strtol and strtod would take.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "certctl/number.h"

/* What every parser refuses, whatever its range. */
static const char *const malformed[] = {
	"", " ", "nan", "NaN", "inf", "-inf", "infinity", "0x10", "0X1A", "1e3", "1E3",
	"1e400", "-0", "+0", "-1", "+5", " 5", "5 ", "\t5", "5\n", "05", "00", "010",
	"5s5", "5abc", "abc", "1,5", "1_000", "0b1", "١", ".5", "5.", "1..2", "1.2.3", "%", "--5", "5-",
};

static void whole(void **state)
{
	static const struct { const char *text; long lo, hi, want; int ok; } cases[] = {
		{ "0", 0, 10, 0, 1 }, { "7", 0, 10, 7, 1 }, { "10", 0, 10, 10, 1 },
		{ "11", 0, 10, 0, 0 }, { "1", 2, 10, 0, 0 }, { "64", 1, 64, 64, 1 },
		{ "9223372036854775807", 0, 9223372036854775807L, 9223372036854775807L, 1 },
		{ "9223372036854775808", 0, 9223372036854775807L, 0, 0 },
		{ "86401", 0, 86400, 0, 0 }, { "1.5", 0, 10, 0, 0 },
		{ "99999999999999999999999999", 0, 9223372036854775807L, 0, 0 },
		{ "184467440737095516160", 0, 9223372036854775807L, 0, 0 },
	};
	long v;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = -42;
		if (cc_number_whole(cases[i].text, cases[i].lo, cases[i].hi, &v) != (cases[i].ok ? 0 : -1))
			fail_msg("whole '%s': wrong verdict", cases[i].text);
		assert_int_equal(v, cases[i].ok ? cases[i].want : -42);
	}
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
		if (cc_number_whole(malformed[i], 0, 9223372036854775807L, &v) != -1)
			fail_msg("whole accepted '%s'", malformed[i]);
	assert_int_equal(cc_number_whole(NULL, 0, 10, &v), -1);
}

static void decimal(void **state)
{
	static const struct { const char *text; double lo, hi, want; int ok; } cases[] = {
		{ "0", 0, 100, 0, 1 }, { "0.5", 0, 100, 0.5, 1 }, { "42.8", 0, 100, 42.8, 1 },
		{ "100", 0, 100, 100, 1 }, { "100.0001", 0, 100, 0, 0 }, { "86400", 0, 86400, 86400, 1 },
		{ "86400.5", 0, 86400, 0, 0 }, { "0.05", 0, 1, 0.05, 1 }, { "3", 5, 9, 0, 0 },
		{ "0000000000000000000000000000000000000000000000000000000000000001", 0, 9, 0, 0 },
		{ "99999999999999999999999999", 0, 86400, 0, 0 },
		/* More digits than any double holds: refused, not rounded to inf. */
		{ "9999999999999999999999999999999999999999999999999999999999999999999", 0, 1e300,
		  0, 0 },
	};
	double v;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = -42;
		if (cc_number_decimal(cases[i].text, cases[i].lo, cases[i].hi, &v) !=
		    (cases[i].ok ? 0 : -1))
			fail_msg("decimal '%s': wrong verdict", cases[i].text);
		assert_true(v == (cases[i].ok ? cases[i].want : -42));
	}
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
		if (cc_number_decimal(malformed[i], 0, HUGE_VAL, &v) != -1)
			fail_msg("decimal accepted '%s'", malformed[i]);
	assert_int_equal(cc_number_decimal(NULL, 0, 10, &v), -1);
}

static void percent(void **state)
{
	static const char *const bad[] = { "33", "33 %", " 33%", "33%%", "%33", "nan%",
		"inf%", "-5%", "0x10%", "1e1%", "101%", "033%", "33.%", "" };
	double v = 0;

	(void)state;
	assert_int_equal(cc_number_percent("33%", 0, 100, &v), 0);
	assert_true(v == 33);
	assert_int_equal(cc_number_percent("42.8%", 0, 100, &v), 0);
	assert_true(v == 42.8);
	assert_int_equal(cc_number_percent("0%", 0, 100, &v), 0);
	assert_int_equal(cc_number_percent("100%", 0, 100, &v), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cc_number_percent(bad[i], 0, 100, &v) != -1)
			fail_msg("percent accepted '%s'", bad[i]);
	assert_int_equal(cc_number_percent(NULL, 0, 100, &v), -1);
}

static void duration(void **state)
{
	static const struct { const char *text; long want; } good[] = {
		{ "0s", 0 }, { "45s", 45 }, { "90m", 5400 }, { "12h", 43200 }, { "30d", 2592000 },
		{ "2w", 1209600 }, { "100000d", 8640000000L },
	};
	static const char *const bad[] = { "30", "d", "30x", "30D", "30dd", " 30d", "30d ",
		"-1d", "+1d", "030d", "1.5d", "0x10d", "nand", "infd", "1e3s", "100001d",
		"14286w", "99999999999999999999d", "30 d", "" };
	long v;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = -1;
		if (cc_number_duration(good[i].text, 0, 100000L * 86400, &v) != 0)
			fail_msg("duration refused '%s'", good[i].text);
		assert_int_equal(v, good[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cc_number_duration(bad[i], 0, 100000L * 86400, &v) != -1)
			fail_msg("duration accepted '%s'", bad[i]);
	assert_int_equal(cc_number_duration("0s", 1, 3600, &v), -1);
	assert_int_equal(cc_number_duration("61m", 1, 3600, &v), -1);
	assert_int_equal(cc_number_duration("1h", 1, 3600, &v), 0);
	assert_int_equal(cc_number_duration(NULL, 0, 10, &v), -1);
}

static void mode(void **state)
{
	static const struct { const char *text; unsigned want; } good[] = {
		{ "0600", 0600 }, { "600", 0600 }, { "0640", 0640 }, { "0", 0 }, { "0777", 0777 },
		{ "777", 0777 }, { "07", 07 },
	};
	static const char *const bad[] = { "", "0800", "0o600", "0x180", "1777", "04755",
		"00600", "-0600", "+600", " 0600", "0600 ", "6OO", "0600.0", "384", "nan", "8" };
	unsigned v;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 01000;
		if (cc_number_mode(good[i].text, &v) != 0)
			fail_msg("mode refused '%s'", good[i].text);
		assert_int_equal(v, good[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cc_number_mode(bad[i], &v) != -1)
			fail_msg("mode accepted '%s'", bad[i]);
	assert_int_equal(cc_number_mode(NULL, &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(whole),
		cmocka_unit_test(decimal),
		cmocka_unit_test(percent),
		cmocka_unit_test(duration),
		cmocka_unit_test(mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
