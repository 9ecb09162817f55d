/* Output of `check`: text for people, JSON, Nagios and Prometheus for machines. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "certctl/report.h"

int cc_format_parse(const char *text, enum cc_format *out)
{
	static const char *const names[] = { "text", "json", "nagios", "prometheus" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(text, names[i]) == 0) {
			*out = (enum cc_format)i;
			return 0;
		}
	return -1;
}

static int worst_first(const void *a, const void *b)
{
	const struct cc_health *x = a, *y = b;

	if (x->status != y->status)
		return x->status > y->status ? -1 : 1;
	return strcmp(x->name, y->name);
}

enum cc_severity cc_report_worst(const struct cc_health *list, size_t n)
{
	enum cc_severity worst = CC_OK;

	for (size_t i = 0; i < n; i++)
		if (list[i].status > worst)
			worst = list[i].status;
	return worst;
}

/* The finding that decided the status, or NULL when all is well. */
static const struct cc_finding *headline(const struct cc_health *h)
{
	/* An OK finding is a note for -v, never the headline. */
	for (size_t i = 0; h->status != CC_OK && i < h->nfindings; i++)
		if (h->findings[i].severity == h->status)
			return &h->findings[i];
	return NULL;
}

static long days_left(const struct cc_health *h, time_t now)
{
	return (long)(h->facts.not_after - now) / 86400;
}

static int render_text(struct cc_health *list, size_t n, int verbose, time_t now,
    struct cc_buf *out)
{
	size_t width = 4;
	char date[32];
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		if (strlen(list[i].name) > width)
			width = strlen(list[i].name);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct cc_health *h = &list[i];
		const struct cc_finding *top = headline(h);

		cc_format_date(h->facts.not_after, date, sizeof(date));
		if (top != NULL)
			rc = cc_buf_printf(out, "%-8s  %-*s  %s%s\n", cc_severity_name(h->status),
			    (int)width, h->name, top->text, h->nfindings > 1 && !verbose ?
			    " (and more: -v)" : "");
		else
			rc = cc_buf_printf(out, "%-8s  %-*s  expires %s (in %ld days)\n",
			    cc_severity_name(h->status), (int)width, h->name, date,
			    days_left(h, now));
		if (!verbose)
			continue;
		if (h->has_cert)
			rc |= cc_buf_printf(out, "          serial %s, %s key, issued by '%s', "
			    "expires %s, generation %u\n", h->facts.serial, h->facts.key,
			    h->facts.issuer, date, h->generation);
		if (h->source[0])
			rc |= cc_buf_printf(out, "          from source '%s'%s%s%s\n", h->source,
			    h->profile[0] ? ", profile '" : "", h->profile,
			    h->profile[0] ? "'" : "");
		for (size_t j = 0; j < h->nfindings; j++)
			rc |= cc_buf_printf(out, "          - %s: %s\n",
			    cc_severity_name(h->findings[j].severity), h->findings[j].text);
	}
	return rc;
}

static json_t *iso_time(time_t t)
{
	char text[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(text);
}

static json_t *health_json(const struct cc_health *h, time_t now)
{
	json_t *o = json_object(), *findings = json_array(), *sans = json_array();

	json_object_set_new(o, "name", json_string(h->name));
	json_object_set_new(o, "status", json_string(cc_severity_name(h->status)));
	if (h->has_cert) {
		json_object_set_new(o, "generation", json_integer(h->generation));
		json_object_set_new(o, "subject", json_string(h->facts.subject));
		json_object_set_new(o, "issuer", json_string(h->facts.issuer));
		json_object_set_new(o, "serial", json_string(h->facts.serial));
		json_object_set_new(o, "sha256", json_string(h->facts.sha256));
		json_object_set_new(o, "not_before", iso_time(h->facts.not_before));
		json_object_set_new(o, "not_after", iso_time(h->facts.not_after));
		json_object_set_new(o, "days_left", json_integer(days_left(h, now)));
		json_object_set_new(o, "key", json_string(h->facts.key));
		json_object_set_new(o, "signature", json_string(h->facts.signature));
		json_object_set_new(o, "must_staple", json_boolean(h->facts.must_staple));
		json_object_set_new(o, "ocsp_url", h->facts.ocsp_url ?
		    json_string(h->facts.ocsp_url) : json_null());
		json_object_set_new(o, "staple", json_boolean(h->staple_present));
		json_object_set_new(o, "source", h->source[0] ? json_string(h->source) :
		    json_null());
		json_object_set_new(o, "profile", h->profile[0] ? json_string(h->profile) :
		    json_null());
		for (size_t i = 0; i < h->facts.nsans; i++)
			json_array_append_new(sans, json_string(h->facts.sans[i]));
	}
	json_object_set_new(o, "sans", sans);
	for (size_t i = 0; i < h->nfindings; i++) {
		json_t *f = json_object();
		json_object_set_new(f, "severity", json_string(cc_severity_name(
		    h->findings[i].severity)));
		json_object_set_new(f, "message", json_string(h->findings[i].text));
		json_array_append_new(findings, f);
	}
	json_object_set_new(o, "findings", findings);
	return o;
}

static int render_json(struct cc_health *list, size_t n, time_t now, struct cc_buf *out)
{
	json_t *doc = json_object(), *names = json_array();
	char *text;
	int rc;

	json_object_set_new(doc, "status", json_string(cc_severity_name(
	    cc_report_worst(list, n))));
	json_object_set_new(doc, "checked_at", iso_time(now));
	for (size_t i = 0; i < n; i++)
		json_array_append_new(names, health_json(&list[i], now));
	json_object_set_new(doc, "names", names);
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (text == NULL)
		return -1;
	rc = cc_buf_printf(out, "%s\n", text);
	free(text);
	return rc;
}

/* One status line with perfdata, as monitoring plugins print. */
static int render_nagios(struct cc_health *list, size_t n, time_t now, struct cc_buf *out)
{
	size_t count[4] = { 0 };
	int rc, shown = 0;

	for (size_t i = 0; i < n; i++)
		count[list[i].status]++;
	rc = cc_buf_printf(out, "CERTCTL %s - %zu critical, %zu warning, %zu ok",
	    cc_severity_name(cc_report_worst(list, n)), count[CC_CRITICAL], count[CC_WARNING],
	    count[CC_OK]);
	for (size_t i = 0; i < n && shown < 5; i++) {
		const struct cc_finding *top = headline(&list[i]);
		if (top == NULL)
			continue;
		rc |= cc_buf_printf(out, "%s %s: %s", shown ? ";" : ":", list[i].name, top->text);
		shown++;
	}
	rc |= cc_buf_printf(out, " |");
	for (size_t i = 0; i < n; i++)
		if (list[i].has_cert)
			rc |= cc_buf_printf(out, " 'days_%s'=%ld;;;", list[i].name,
			    days_left(&list[i], now));
	return rc | cc_buf_printf(out, "\n");
}

/* The text exposition format, for node_exporter's textfile collector. */
static int render_prometheus(struct cc_health *list, size_t n, time_t now,
    struct cc_buf *out)
{
	int rc;

	rc = cc_buf_printf(out, "# HELP certctl_cert_not_after_seconds Expiry of the live "
	    "certificate (Unix time).\n# TYPE certctl_cert_not_after_seconds gauge\n");
	for (size_t i = 0; i < n; i++)
		if (list[i].has_cert)
			rc |= cc_buf_printf(out, "certctl_cert_not_after_seconds{name=\"%s\"} %lld\n",
			    list[i].name, (long long)list[i].facts.not_after);
	rc |= cc_buf_printf(out, "# HELP certctl_cert_status Worst finding: 0 OK, 1 WARNING, "
	    "2 CRITICAL.\n# TYPE certctl_cert_status gauge\n");
	for (size_t i = 0; i < n; i++)
		rc |= cc_buf_printf(out, "certctl_cert_status{name=\"%s\"} %d\n", list[i].name,
		    (int)list[i].status);
	rc |= cc_buf_printf(out, "# HELP certctl_cert_findings Findings per severity.\n"
	    "# TYPE certctl_cert_findings gauge\n");
	for (size_t i = 0; i < n; i++) {
		size_t w = 0, c = 0;
		for (size_t j = 0; j < list[i].nfindings; j++) {
			w += list[i].findings[j].severity == CC_WARNING;
			c += list[i].findings[j].severity == CC_CRITICAL;
		}
		rc |= cc_buf_printf(out, "certctl_cert_findings{name=\"%s\",severity=\"warning\"} "
		    "%zu\ncertctl_cert_findings{name=\"%s\",severity=\"critical\"} %zu\n",
		    list[i].name, w, list[i].name, c);
	}
	rc |= cc_buf_printf(out, "# HELP certctl_check_timestamp_seconds When the check ran.\n"
	    "# TYPE certctl_check_timestamp_seconds gauge\n"
	    "certctl_check_timestamp_seconds %lld\n", (long long)now);
	return rc;
}

int cc_report_check(enum cc_format format, struct cc_health *list, size_t n, int verbose,
    time_t now, struct cc_buf *out)
{
	if (n > 1)
		qsort(list, n, sizeof(*list), worst_first);
	switch (format) {
	case CC_FORMAT_JSON:
		return render_json(list, n, now, out);
	case CC_FORMAT_NAGIOS:
		return render_nagios(list, n, now, out);
	case CC_FORMAT_PROMETHEUS:
		return render_prometheus(list, n, now, out);
	default:
		return render_text(list, n, verbose, now, out);
	}
}
