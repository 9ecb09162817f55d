/* Unit tests for src/report.c: the four `check` output formats. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <jansson.h>

#include "certctl/health.h"
#include "certctl/report.h"

#define DAY 86400L
#define NOW ((time_t)1767225600)        /* 2026-01-01T00:00:00Z */

#define assert_contains(hay, needle) do { \
	const char *hay_ = (hay), *needle_ = (needle); \
	if (hay_ == NULL || strstr(hay_, needle_) == NULL) \
		fail_msg("\"%s\" does not contain \"%s\"", hay_ ? hay_ : "(null)", needle_); \
} while (0)

#define assert_not_contains(hay, needle) do { \
	const char *hay_ = (hay), *needle_ = (needle); \
	if (strstr(hay_, needle_) != NULL) \
		fail_msg("\"%s\" contains \"%s\"", hay_, needle_); \
} while (0)

/* ------------------------------------------------------------ building health by hand */

static void add_finding(struct cc_health *h, enum cc_severity sev, const char *text)
{
	struct cc_finding *grown = realloc(h->findings, (h->nfindings + 1) * sizeof(*grown));

	assert_non_null(grown);
	h->findings = grown;
	assert_non_null(grown[h->nfindings].text = strdup(text));
	grown[h->nfindings++].severity = sev;
	if (sev > h->status)
		h->status = sev;
}

/* A name whose leaf expires NOT_AFTER; sans are NAME and www.NAME. */
static void with_cert(struct cc_health *h, time_t not_after, unsigned generation)
{
	char www[sizeof(h->name) + 4];

	h->has_cert = 1;
	h->generation = generation;
	snprintf(h->facts.subject, sizeof(h->facts.subject), "%s", h->name);
	snprintf(h->facts.issuer, sizeof(h->facts.issuer), "Test CA");
	snprintf(h->facts.serial, sizeof(h->facts.serial), "01:02");
	snprintf(h->facts.sha256, sizeof(h->facts.sha256), "aa:bb:cc");
	snprintf(h->facts.key, sizeof(h->facts.key), "EC P-256");
	h->facts.key_bits = 256;
	snprintf(h->facts.signature, sizeof(h->facts.signature), "ecdsa-with-SHA256");
	h->facts.not_before = NOW - 10 * DAY;
	h->facts.not_after = not_after;
	snprintf(www, sizeof(www), "www.%s", h->name);
	assert_non_null(h->facts.sans = calloc(2, sizeof(char *)));
	assert_non_null(h->facts.sans[0] = strdup(h->name));
	assert_non_null(h->facts.sans[1] = strdup(www));
	h->facts.nsans = 2;
}

static void named(struct cc_health *h, const char *name)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->status = CC_OK;
}

/*
 * The usual three, given in an order that is not worst first:
 *   alpha.example    OK        expires in 60 days
 *   charlie.example  WARNING   expires in 20 days
 *   bravo.example    CRITICAL  key mismatch (+ a warning)
 */
static struct cc_health *three(void)
{
	struct cc_health *list = calloc(3, sizeof(*list));

	assert_non_null(list);
	named(&list[0], "alpha.example");
	with_cert(&list[0], NOW + 60 * DAY, 3);
	list[0].facts.must_staple = 1;
	assert_non_null(list[0].facts.ocsp_url = strdup("http://ocsp.example.test/"));
	list[0].staple_present = 1;

	named(&list[1], "charlie.example");
	with_cert(&list[1], NOW + 20 * DAY + 7200, 1);
	add_finding(&list[1], CC_WARNING, "expires in 20 days (2026-01-21)");

	named(&list[2], "bravo.example");
	with_cert(&list[2], NOW + 5 * DAY + 3600, 2);
	add_finding(&list[2], CC_WARNING, "chain out of order");
	add_finding(&list[2], CC_CRITICAL, "key does not match cert");
	return list;
}

static void free_list(struct cc_health *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cc_health_free(&list[i]);
	free(list);
}

static char *render(enum cc_format format, struct cc_health *list, size_t n, int verbose)
{
	struct cc_buf out = { 0 };

	assert_int_equal(cc_report_check(format, list, n, verbose, NOW, &out), 0);
	assert_non_null(out.data);
	assert_int_equal(strlen(out.data), out.len);
	return out.data;
}

/* ------------------------------------------------------------ text */

static void test_text(void **state)
{
	struct cc_health *list = three();
	char *text = render(CC_FORMAT_TEXT, list, 3, 0);

	assert_string_equal(text,
	    "CRITICAL  bravo.example    key does not match cert (and more: -v)\n"
	    "WARNING   charlie.example  expires in 20 days (2026-01-21)\n"
	    "OK        alpha.example    expires 2026-03-02 (in 60 days)\n");
	/* Sorted in place. */
	assert_string_equal(list[0].name, "bravo.example");
	assert_string_equal(list[1].name, "charlie.example");
	assert_string_equal(list[2].name, "alpha.example");
	free(text);
	free_list(list, 3);
}

static void test_text_verbose(void **state)
{
	struct cc_health *list = three();
	char *text = render(CC_FORMAT_TEXT, list, 3, 1);

	assert_string_equal(text,
	    "CRITICAL  bravo.example    key does not match cert\n"
	    "          serial 01:02, EC P-256 key, issued by 'Test CA', expires 2026-01-06, "
	    "generation 2\n"
	    "          - WARNING: chain out of order\n"
	    "          - CRITICAL: key does not match cert\n"
	    "WARNING   charlie.example  expires in 20 days (2026-01-21)\n"
	    "          serial 01:02, EC P-256 key, issued by 'Test CA', expires 2026-01-21, "
	    "generation 1\n"
	    "          - WARNING: expires in 20 days (2026-01-21)\n"
	    "OK        alpha.example    expires 2026-03-02 (in 60 days)\n"
	    "          serial 01:02, EC P-256 key, issued by 'Test CA', expires 2026-03-02, "
	    "generation 3\n");
	free(text);
	free_list(list, 3);
}

/* Equal status: by name; a short name is padded to the 4-column minimum. */
static void test_text_ties_and_no_cert(void **state)
{
	struct cc_health *list = calloc(3, sizeof(*list));
	const char *want;
	char *text;

	assert_non_null(list);
	named(&list[0], "zulu");
	with_cert(&list[0], NOW + 10 * DAY, 1);
	add_finding(&list[0], CC_WARNING, "expires in 10 days");
	named(&list[1], "ab");
	add_finding(&list[1], CC_CRITICAL, "fullchain.pem is missing");
	named(&list[2], "echo");
	with_cert(&list[2], NOW + 15 * DAY, 1);
	add_finding(&list[2], CC_WARNING, "expires in 15 days");
	text = render(CC_FORMAT_TEXT, list, 3, 0);
	assert_string_equal(text,
	    "CRITICAL  ab    fullchain.pem is missing\n"
	    "WARNING   echo  expires in 15 days\n"
	    "WARNING   zulu  expires in 10 days\n");
	free(text);
	/* No facts line for a name without a cert. */
	text = render(CC_FORMAT_TEXT, list, 3, 1);
	want = "CRITICAL  ab    fullchain.pem is missing\n"
	    "          - CRITICAL: fullchain.pem is missing\n"
	    "WARNING   echo  expires in 15 days\n"
	    "          serial ";
	if (strncmp(text, want, strlen(want)) != 0)
		fail_msg("got:\n%s", text);
	free(text);
	free_list(list, 3);
}

/* ------------------------------------------------------------ JSON */

static const char *str_at(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		fail_msg("\"%s\" is not a string", key);
	return json_string_value(v);
}

static void test_json(void **state)
{
	struct cc_health *list = three();
	char *text = render(CC_FORMAT_JSON, list, 3, 0);
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr), *names, *n, *findings, *f, *sans;

	if (doc == NULL)
		fail_msg("not JSON (%s at line %d): %s", jerr.text, jerr.line, text);
	assert_true(json_is_object(doc));
	assert_string_equal(str_at(doc, "status"), "CRITICAL");
	assert_string_equal(str_at(doc, "checked_at"), "2026-01-01T00:00:00Z");
	names = json_object_get(doc, "names");
	assert_true(json_is_array(names));
	assert_int_equal(json_array_size(names), 3);

	/* Worst first. */
	n = json_array_get(names, 0);
	assert_string_equal(str_at(n, "name"), "bravo.example");
	assert_string_equal(str_at(n, "status"), "CRITICAL");
	findings = json_object_get(n, "findings");
	assert_true(json_is_array(findings));
	assert_int_equal(json_array_size(findings), 2);
	f = json_array_get(findings, 0);
	assert_string_equal(str_at(f, "severity"), "WARNING");
	assert_string_equal(str_at(f, "message"), "chain out of order");
	f = json_array_get(findings, 1);
	assert_string_equal(str_at(f, "severity"), "CRITICAL");
	assert_string_equal(str_at(f, "message"), "key does not match cert");
	assert_string_equal(str_at(n, "not_after"), "2026-01-06T01:00:00Z");
	assert_int_equal(json_integer_value(json_object_get(n, "days_left")), 5);
	assert_true(json_is_null(json_object_get(n, "ocsp_url")));

	n = json_array_get(names, 1);
	assert_string_equal(str_at(n, "name"), "charlie.example");
	assert_string_equal(str_at(n, "status"), "WARNING");
	assert_int_equal(json_integer_value(json_object_get(n, "days_left")), 20);

	n = json_array_get(names, 2);
	assert_string_equal(str_at(n, "name"), "alpha.example");
	assert_string_equal(str_at(n, "status"), "OK");
	assert_int_equal(json_array_size(json_object_get(n, "findings")), 0);
	assert_true(json_is_array(json_object_get(n, "findings")));
	assert_string_equal(str_at(n, "subject"), "alpha.example");
	assert_string_equal(str_at(n, "issuer"), "Test CA");
	assert_string_equal(str_at(n, "serial"), "01:02");
	assert_string_equal(str_at(n, "sha256"), "aa:bb:cc");
	assert_string_equal(str_at(n, "key"), "EC P-256");
	assert_string_equal(str_at(n, "signature"), "ecdsa-with-SHA256");
	assert_string_equal(str_at(n, "not_before"), "2025-12-22T00:00:00Z");
	assert_string_equal(str_at(n, "not_after"), "2026-03-02T00:00:00Z");
	assert_int_equal(json_integer_value(json_object_get(n, "days_left")), 60);
	assert_int_equal(json_integer_value(json_object_get(n, "generation")), 3);
	assert_true(json_is_true(json_object_get(n, "must_staple")));
	assert_true(json_is_true(json_object_get(n, "staple")));
	assert_string_equal(str_at(n, "ocsp_url"), "http://ocsp.example.test/");
	sans = json_object_get(n, "sans");
	assert_int_equal(json_array_size(sans), 2);
	assert_string_equal(json_string_value(json_array_get(sans, 0)), "alpha.example");
	assert_string_equal(json_string_value(json_array_get(sans, 1)), "www.alpha.example");

	json_decref(doc);
	free(text);
	free_list(list, 3);
}

static void test_json_no_cert_and_empty(void **state)
{
	struct cc_health *list = calloc(1, sizeof(*list));
	char *text;
	json_t *doc, *n;

	assert_non_null(list);
	named(&list[0], "gone.example");
	add_finding(&list[0], CC_CRITICAL, "cert.pem is missing");
	text = render(CC_FORMAT_JSON, list, 1, 0);
	assert_non_null(doc = json_loads(text, 0, NULL));
	assert_string_equal(str_at(doc, "status"), "CRITICAL");
	n = json_array_get(json_object_get(doc, "names"), 0);
	assert_string_equal(str_at(n, "name"), "gone.example");
	assert_null(json_object_get(n, "not_after"));
	assert_null(json_object_get(n, "days_left"));
	assert_int_equal(json_array_size(json_object_get(n, "sans")), 0);
	assert_string_equal(str_at(json_array_get(json_object_get(n, "findings"), 0), "message"),
	    "cert.pem is missing");
	json_decref(doc);
	free(text);

	/* Nothing configured: a valid, OK document. */
	text = render(CC_FORMAT_JSON, NULL, 0, 0);
	assert_non_null(doc = json_loads(text, 0, NULL));
	assert_string_equal(str_at(doc, "status"), "OK");
	assert_int_equal(json_array_size(json_object_get(doc, "names")), 0);
	assert_true(json_is_array(json_object_get(doc, "names")));
	json_decref(doc);
	free(text);
	free_list(list, 1);
}

/* ------------------------------------------------------------ Nagios */

static void test_nagios(void **state)
{
	struct cc_health *list = three();
	char *text = render(CC_FORMAT_NAGIOS, list, 3, 0);

	assert_true(strncmp(text, "CERTCTL CRITICAL - 1 critical, 1 warning, 1 ok", 46) == 0);
	/* One line: status, the headline findings worst first, then perfdata. */
	assert_string_equal(text,
	    "CERTCTL CRITICAL - 1 critical, 1 warning, 1 ok: bravo.example: key does not match "
	    "cert; charlie.example: expires in 20 days (2026-01-21) | "
	    "'days_bravo.example'=5;;; 'days_charlie.example'=20;;; 'days_alpha.example'=60;;;\n");
	assert_int_equal(strchr(text, '\n') - text + 1, (long)strlen(text));
	free(text);
	free_list(list, 3);
}

static void test_nagios_ok_and_warning(void **state)
{
	struct cc_health *list = three();
	char *text;

	/* Only alpha (OK): sorting puts it first when rendering just one. */
	text = render(CC_FORMAT_NAGIOS, &list[0], 1, 0);
	assert_string_equal(text, "CERTCTL OK - 0 critical, 0 warning, 1 ok | "
	    "'days_alpha.example'=60;;;\n");
	free(text);
	/* alpha and charlie. */
	text = render(CC_FORMAT_NAGIOS, list, 2, 0);
	assert_string_equal(text, "CERTCTL WARNING - 0 critical, 1 warning, 1 ok: "
	    "charlie.example: expires in 20 days (2026-01-21) | "
	    "'days_charlie.example'=20;;; 'days_alpha.example'=60;;;\n");
	free(text);
	free_list(list, 3);
}

/* ------------------------------------------------------------ Prometheus */

/* Every line is a comment or "metric{labels} integer". */
static void check_exposition_syntax(const char *text)
{
	char *copy = strdup(text), *save = NULL;

	assert_non_null(copy);
	assert_true(text[strlen(text) - 1] == '\n');
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = NULL, *end;

		if (strncmp(line, "# HELP certctl_", 15) == 0 ||
		    strncmp(line, "# TYPE certctl_", 15) == 0)
			continue;
		if (strncmp(line, "certctl_", 8) != 0 || (sp = strrchr(line, ' ')) == NULL)
			fail_msg("not an exposition line: \"%s\"", line);
		strtoll(sp + 1, &end, 10);
		if (end == sp + 1 || *end != '\0')
			fail_msg("value is not an integer: \"%s\"", line);
	}
	free(copy);
}

static void test_prometheus(void **state)
{
	struct cc_health *list = three();
	char *text = render(CC_FORMAT_PROMETHEUS, list, 3, 0), line[256];

	check_exposition_syntax(text);
	assert_contains(text, "# TYPE certctl_cert_status gauge\n");
	assert_contains(text, "\ncertctl_cert_status{name=\"bravo.example\"} 2\n");
	assert_contains(text, "\ncertctl_cert_status{name=\"charlie.example\"} 1\n");
	assert_contains(text, "\ncertctl_cert_status{name=\"alpha.example\"} 0\n");
	assert_contains(text, "# TYPE certctl_cert_not_after_seconds gauge\n");
	snprintf(line, sizeof(line), "\ncertctl_cert_not_after_seconds{name=\"alpha.example\"} %lld\n",
	    (long long)(NOW + 60 * DAY));
	assert_contains(text, line);
	snprintf(line, sizeof(line), "\ncertctl_cert_not_after_seconds{name=\"bravo.example\"} %lld\n",
	    (long long)(NOW + 5 * DAY + 3600));
	assert_contains(text, line);
	assert_contains(text, "\ncertctl_cert_findings{name=\"bravo.example\",severity=\"warning\"} 1\n");
	assert_contains(text, "\ncertctl_cert_findings{name=\"bravo.example\",severity=\"critical\"} 1\n");
	assert_contains(text, "\ncertctl_cert_findings{name=\"alpha.example\",severity=\"critical\"} 0\n");
	assert_contains(text, "# TYPE certctl_check_timestamp_seconds gauge\n"
	    "certctl_check_timestamp_seconds 1767225600\n");
	free(text);
	free_list(list, 3);
}

static void test_prometheus_no_cert(void **state)
{
	struct cc_health *list = calloc(1, sizeof(*list));
	char *text;

	assert_non_null(list);
	named(&list[0], "gone.example");
	add_finding(&list[0], CC_CRITICAL, "cert.pem is missing");
	text = render(CC_FORMAT_PROMETHEUS, list, 1, 0);
	check_exposition_syntax(text);
	assert_contains(text, "\ncertctl_cert_status{name=\"gone.example\"} 2\n");
	/* No expiry for a name without a cert (not a bogus 0). */
	assert_not_contains(text, "certctl_cert_not_after_seconds{");
	free(text);
	/* The Nagios perfdata leaves it out too. */
	text = render(CC_FORMAT_NAGIOS, list, 1, 0);
	assert_string_equal(text, "CERTCTL CRITICAL - 1 critical, 0 warning, 0 ok: "
	    "gone.example: cert.pem is missing |\n");
	free(text);
	free_list(list, 1);
}

/* ------------------------------------------------------------ helpers */

static void test_worst(void **state)
{
	struct cc_health *list = three();

	assert_int_equal(cc_report_worst(list, 0), CC_OK);
	assert_int_equal(cc_report_worst(list, 1), CC_OK);              /* alpha */
	assert_int_equal(cc_report_worst(list, 2), CC_WARNING);         /* + charlie */
	assert_int_equal(cc_report_worst(list, 3), CC_CRITICAL);        /* + bravo */
	assert_int_equal(cc_report_worst(&list[1], 1), CC_WARNING);
	assert_int_equal(cc_report_worst(&list[2], 1), CC_CRITICAL);
	/* Does not reorder. */
	assert_string_equal(list[0].name, "alpha.example");
	free_list(list, 3);
}

static void test_format_parse(void **state)
{
	static const char *const bad[] = { "", "txt", "xml", "jsonx", "nagio", "prom",
		"text ", " json", "csv" };
	enum cc_format f;

	f = CC_FORMAT_PROMETHEUS;
	assert_int_equal(cc_format_parse("text", &f), 0);
	assert_int_equal(f, CC_FORMAT_TEXT);
	assert_int_equal(cc_format_parse("json", &f), 0);
	assert_int_equal(f, CC_FORMAT_JSON);
	assert_int_equal(cc_format_parse("nagios", &f), 0);
	assert_int_equal(f, CC_FORMAT_NAGIOS);
	assert_int_equal(cc_format_parse("prometheus", &f), 0);
	assert_int_equal(f, CC_FORMAT_PROMETHEUS);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = CC_FORMAT_NAGIOS;
		if (cc_format_parse(bad[i], &f) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(f, CC_FORMAT_NAGIOS);  /* untouched */
	}
}

int main(void)
{
	const char *skip = getenv("CERTCTL_TEST_SKIP");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_text_verbose),
		cmocka_unit_test(test_text_ties_and_no_cert),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_no_cert_and_empty),
		cmocka_unit_test(test_nagios),
		cmocka_unit_test(test_nagios_ok_and_warning),
		cmocka_unit_test(test_prometheus),
		cmocka_unit_test(test_prometheus_no_cert),
		cmocka_unit_test(test_worst),
		cmocka_unit_test(test_format_parse),
	};

	if (skip != NULL && *skip != '\0')
		cmocka_set_skip_filter(skip);
	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
