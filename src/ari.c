/* ACME Renewal Information (RFC 9773): certificate IDs and windows. */
#define _DEFAULT_SOURCE /* timegm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/x509v3.h>

#include "certctl/ari.h"
#include "certctl/http.h"
#include "certctl/jws.h"
#include "certctl/renewal.h"

int cc_ari_cert_id(X509 *cert, struct cc_buf *out, struct cc_err *err)
{
	const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id(cert);
	const unsigned char *p;
	unsigned char *der = NULL;
	struct cc_buf serial = { 0 };
	long len;
	int derlen, tag, cls, rc = -1;

	if (akid == NULL)
		return cc_err_set(err, "the certificate has no authority key identifier");
	/* The serial's content octets: its DER encoding without tag and length. */
	derlen = i2d_ASN1_INTEGER(X509_get0_serialNumber(cert), &der);
	p = der;
	if (derlen <= 0 || (ASN1_get_object(&p, &len, &tag, &cls, derlen) & 0x80) ||
	    len <= 0) {
		cc_err_openssl(err, "cannot encode the serial number");
		goto out;
	}
	if (cc_b64url(ASN1_STRING_get0_data(akid), (size_t)ASN1_STRING_length(akid), out) == -1 ||
	    cc_buf_append(out, ".", 1) == -1 || cc_b64url(p, (size_t)len, &serial) == -1 ||
	    cc_buf_append(out, serial.data, serial.len) == -1) {
		cc_err_set(err, "out of memory");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_free(der);
	cc_buf_free(&serial);
	return rc;
}

/* RFC 3339 "2026-11-25T10:00:00Z", with optional fraction and offset. */
static int parse_rfc3339(const char *text, time_t *out)
{
	struct tm tm = { 0 };
	int n = 0, oh = 0, om = 0;
	const char *p;
	char sign;

	if (text == NULL || sscanf(text, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n == 0)
		return -1;
	p = text + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	sign = *p;
	if (sign == 'Z' || sign == 'z') {
		p++;
	} else if ((sign == '+' || sign == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2 &&
	    strlen(p) == 6) {
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0' || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60 || oh > 23 || om > 59)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = timegm(&tm) - (sign == '-' ? -1 : sign == '+' ? 1 : 0) * (oh * 3600 + om * 60);
	return 0;
}

int cc_ari_parse(const void *body, size_t len, const char *retry_after, struct cc_ari *ari,
    struct cc_err *err)
{
	json_t *doc = json_loadb(body, len, 0, NULL);
	json_t *window = json_object_get(doc, "suggestedWindow");
	long retry;
	int rc = -1;

	if (!json_is_object(window)) {
		cc_err_set(err, "renewalInfo answer has no suggestedWindow");
		goto out;
	}
	if (parse_rfc3339(json_string_value(json_object_get(window, "start")), &ari->start) == -1 ||
	    parse_rfc3339(json_string_value(json_object_get(window, "end")), &ari->end) == -1) {
		cc_err_set(err, "renewalInfo window has no valid RFC 3339 start and end");
		goto out;
	}
	if (ari->end <= ari->start) {
		cc_err_set(err, "renewalInfo window ends before it starts");
		goto out;
	}
	/* Retry-After as seconds or an HTTP-date; absent or garbage gets
	 * the default. */
	if (cc_retry_after(retry_after, time(NULL), &retry) == -1)
		retry = CC_ARI_RETRY_DEFAULT;
	ari->retry_after = retry < CC_ARI_RETRY_MIN ? CC_ARI_RETRY_MIN :
	    retry > CC_ARI_RETRY_MAX ? CC_ARI_RETRY_MAX : retry;
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

int cc_ari_fetch(const struct cc_source *src, const char *base, const char *cert_id,
    struct cc_ari *ari, struct cc_err *err)
{
	struct cc_http_opts http = { .ca_file = src->ca_file,
		.connect_timeout = src->connect_timeout ? src->connect_timeout : 10,
		.total_timeout = src->total_timeout ? src->total_timeout : 60,
		.max_body = 64 * 1024 };
	struct cc_http_response resp;
	char url[2048], retry[64];
	int rc;

	if ((size_t)snprintf(url, sizeof(url), "%s%s%s", base,
	    base[0] && base[strlen(base) - 1] == '/' ? "" : "/", cert_id) >= sizeof(url))
		return cc_err_set(err, "renewalInfo URL too long");
	if (cc_http_get(url, &http, &resp, err) == -1)
		return cc_err_prefix(err, "renewalInfo '%s'", url);
	if (resp.status != 200)
		rc = cc_err_set(err, "renewalInfo '%s' answered HTTP %ld", url, resp.status);
	else
		rc = cc_ari_parse(resp.body.data, resp.body.len,
		    cc_http_header(&resp, "retry-after", 0, retry, sizeof(retry)), ari, err);
	if (rc == -1 && resp.status == 200)
		cc_err_prefix(err, "'%s'", url);
	cc_http_response_free(&resp);
	return rc;
}
