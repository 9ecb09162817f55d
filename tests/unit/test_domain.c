/*
 * Unit tests for the identifiers a certificate may be asked for
 * (src/domain.c, issue 16): DNS names, wildcards, IP addresses, and the
 * class of strings that are none of them.
 */
#include <stddef.h>
#include <string.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "certctl/domain.h"

#define L63 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk"

static void good(void **state)
{
	static const struct { const char *text, *norm; int kind; } cases[] = {
		{ "www.example.com", "www.example.com", CC_DOMAIN_DNS },
		{ "WWW.Example.COM", "www.example.com", CC_DOMAIN_DNS },
		{ "localhost", "localhost", CC_DOMAIN_DNS },
		{ "xn--bcher-kva.example", "xn--bcher-kva.example", CC_DOMAIN_DNS },
		{ "a-b.c0.example", "a-b.c0.example", CC_DOMAIN_DNS },
		{ "0.example", "0.example", CC_DOMAIN_DNS },
		{ L63 ".example", L63 ".example", CC_DOMAIN_DNS },
		{ "*.example.com", "*.example.com", CC_DOMAIN_WILDCARD },
		{ "*.EXAMPLE.com", "*.example.com", CC_DOMAIN_WILDCARD },
		{ "192.0.2.1", "192.0.2.1", CC_DOMAIN_IP },
		{ "2001:db8::1", "2001:db8::1", CC_DOMAIN_IP },
		{ "2001:DB8:0:0:0:0:0:1", "2001:db8::1", CC_DOMAIN_IP },
		{ "1::2:3:4:5:6:7", "1:0:2:3:4:5:6:7", CC_DOMAIN_IP },
		{ "::ffff:192.0.2.1", "::ffff:192.0.2.1", CC_DOMAIN_IP },
	};
	char out[CC_DOMAIN_MAX + 1];
	struct cc_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cc_domain_normalize(cases[i].text, out, sizeof(out), &err) != cases[i].kind)
			fail_msg("'%s' refused or misread", cases[i].text);
		assert_string_equal(out, cases[i].norm);
	}
}

static void bad(void **state)
{
	static const struct { const char *text, *why; } cases[] = {
		{ "", "empty" },
		{ "www.example.com.", "trailing dot" },
		{ "www/example.com", "'/'" },
		{ "www.example.com;rm", "';'" },
		{ "www example.com", "letters, digits" },
		{ "www_x.example.com", "'_'" },
		{ "b\xc3\xbc" "cher.example", "punycode" },
		{ "www..example.com", "empty label" },
		{ ".example.com", "empty label" },
		{ "-www.example.com", "'-'" },
		{ "www-.example.com", "'-'" },
		{ L63 "l.example", "63" },
		{ "*", "leftmost" },
		{ "*example.com", "leftmost" },
		{ "w*.example.com", "leftmost" },
		{ "www.*.example.com", "leftmost" },
		{ "*.*.example.com", "leftmost" },
		{ "*.", "trailing dot" },
		{ "*.192.0.2.1", "wildcard" },
		{ "*.2001:db8::1", "wildcard" },
		{ "192.0.2", "all-digit" },
		{ "192.0.2.1.5", "all-digit" },
		{ "192.0.2.256", "all-digit" },
		{ "0x7f.0.0.1", "all-digit" },
		{ "[2001:db8::1]", "'['" },
		{ "fe80::1%eth0", "':'" },
		{ "2001:db8::1::2", "':'" },
		{ "www.example.com:443", "':'" },
		{ "http://www.example.com", "':'" },
		{ "www.example.com\n", "letters, digits" },
		{ "@", "'@'" },
	};
	char out[CC_DOMAIN_MAX + 1], long_name[300];
	struct cc_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err.msg[0] = '\0';
		if (cc_domain_normalize(cases[i].text, out, sizeof(out), &err) != -1)
			fail_msg("'%s' accepted", cases[i].text);
		if (strstr(err.msg, cases[i].why) == NULL)
			fail_msg("'%s': \"%s\" does not say \"%s\"", cases[i].text, err.msg,
			    cases[i].why);
	}
	/* 254 characters in labels of 63 or fewer: too long as a whole. */
	memset(long_name, 'a', 254);
	for (size_t i = 50; i < 254; i += 51)
		long_name[i] = '.';
	long_name[254] = '\0';
	assert_int_equal(cc_domain_normalize(long_name, out, sizeof(out), &err), -1);
	assert_non_null(strstr(err.msg, "253"));
	long_name[253] = '\0';
	assert_int_equal(cc_domain_normalize(long_name, out, sizeof(out), &err), CC_DOMAIN_DNS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good),
		cmocka_unit_test(bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
