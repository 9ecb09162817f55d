/* OCSP responses: verification of a response for one certificate. */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>

#include "certctl/ocsp.h"
#include "x509_internal.h"

static time_t gen_time(const ASN1_GENERALIZEDTIME *t)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

const char *cc_ocsp_status_name(enum cc_ocsp_status status)
{
	return status == CC_OCSP_GOOD ? "good" : status == CC_OCSP_REVOKED ? "REVOKED" :
	    "UNKNOWN";
}

int cc_ocsp_response_verify(const void *der, size_t len, X509 *leaf, X509 *issuer,
    struct cc_trust *trust, time_t now, struct cc_staple_info *out, struct cc_err *err)
{
	const unsigned char *p = der;
	ASN1_GENERALIZEDTIME *thisupd = NULL, *nextupd = NULL, *revtime = NULL;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *basic = NULL;
	OCSP_CERTID *id = NULL;
	STACK_OF(X509) *signers = NULL;
	int status, reason, rc = -1;

	memset(out, 0, sizeof(*out));
	if ((resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len)) == NULL) {
		cc_err_openssl(err, "not an OCSP response");
		goto out;
	}
	status = OCSP_response_status(resp);
	if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		cc_err_set(err, "OCSP response status is '%s'", OCSP_response_status_str(status));
		goto out;
	}
	if ((basic = OCSP_response_get1_basic(resp)) == NULL) {
		cc_err_openssl(err, "OCSP response is not a basic response");
		goto out;
	}
	/* The issuer may sign itself; a delegated responder must chain to it
	 * and carry id-kp-OCSPSigning, which OCSP_basic_verify checks. */
	if ((signers = sk_X509_new_null()) == NULL || !sk_X509_push(signers, issuer)) {
		cc_err_set(err, "out of memory");
		goto out;
	}
	if (OCSP_basic_verify(basic, signers, trust->store, OCSP_TRUSTOTHER) != 1) {
		cc_err_openssl(err, "OCSP response signature does not verify");
		goto out;
	}
	if ((id = OCSP_cert_to_id(EVP_sha1(), leaf, issuer)) == NULL) {
		cc_err_openssl(err, "cannot make an OCSP CertID");
		goto out;
	}
	if (!OCSP_resp_find_status(basic, id, &status, &reason, &revtime, &thisupd, &nextupd)) {
		OCSP_CERTID_free(id);
		if ((id = OCSP_cert_to_id(EVP_sha256(), leaf, issuer)) == NULL ||
		    !OCSP_resp_find_status(basic, id, &status, &reason, &revtime, &thisupd,
		    &nextupd)) {
			cc_err_set(err, "OCSP response is not about this certificate");
			goto out;
		}
	}
	out->this_update = gen_time(thisupd);
	out->next_update = gen_time(nextupd);
	out->revoked_at = gen_time(revtime);
	out->status = status == V_OCSP_CERTSTATUS_GOOD ? CC_OCSP_GOOD :
	    status == V_OCSP_CERTSTATUS_REVOKED ? CC_OCSP_REVOKED : CC_OCSP_UNKNOWN;
	if (out->this_update > now + CC_OCSP_SKEW) {
		cc_err_set(err, "OCSP response thisUpdate is in the future");
		goto out;
	}
	if (out->next_update == 0) {
		cc_err_set(err, "OCSP response has no nextUpdate");
		goto out;
	}
	if (out->next_update <= now) {
		cc_err_set(err, "OCSP response expired (nextUpdate has passed)");
		goto out;
	}
	rc = 0;
out:
	sk_X509_free(signers);
	OCSP_CERTID_free(id);
	OCSP_BASICRESP_free(basic);
	OCSP_RESPONSE_free(resp);
	ERR_clear_error();
	return rc;
}

#define GET_MAX 255 /* RFC 5019: GET when the encoded request fits */

/* URL + "/" + percent-encoded base64 of the request (RFC 6960 A.1). */
static char *get_url(const char *url, const unsigned char *der, int len)
{
	char *b64, *out, *o;
	size_t n = 4 * (((size_t)len + 2) / 3) + 1;
	int enc;

	if ((b64 = malloc(n)) == NULL)
		return NULL;
	enc = EVP_EncodeBlock((unsigned char *)b64, der, len);
	if (enc < 0 || enc > GET_MAX || (out = malloc(strlen(url) + 3 * (size_t)enc + 2)) == NULL) {
		free(b64);
		return NULL;
	}
	o = out + sprintf(out, "%s%s", url, url[strlen(url) - 1] == '/' ? "" : "/");
	for (int i = 0; i < enc; i++)
		o += strchr("+/=", b64[i]) ? sprintf(o, "%%%02X", (unsigned char)b64[i]) :
		    sprintf(o, "%c", b64[i]);
	free(b64);
	return out;
}

static int check_nonce(const struct cc_buf *der, OCSP_REQUEST *req, struct cc_err *err)
{
	const unsigned char *p = (const unsigned char *)der->data;
	OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)der->len);
	OCSP_BASICRESP *basic = resp ? OCSP_response_get1_basic(resp) : NULL;
	int ok = basic != NULL && OCSP_check_nonce(req, basic) == 1;

	OCSP_BASICRESP_free(basic);
	OCSP_RESPONSE_free(resp);
	ERR_clear_error();
	return ok ? 0 : cc_err_set(err, "OCSP response does not carry our nonce");
}

int cc_ocsp_fetch(const char *url, X509 *leaf, X509 *issuer, int nonce,
    const struct cc_http_opts *http, struct cc_buf *der, struct cc_err *err)
{
	struct cc_http_response resp = { 0 };
	OCSP_REQUEST *req = NULL;
	OCSP_CERTID *id = NULL;
	unsigned char *reqder = NULL;
	char *get = NULL;
	int len, rc = -1;

	if ((req = OCSP_REQUEST_new()) == NULL ||
	    (id = OCSP_cert_to_id(EVP_sha1(), leaf, issuer)) == NULL ||
	    OCSP_request_add0_id(req, id) == NULL) {
		OCSP_CERTID_free(id);
		cc_err_openssl(err, "cannot make an OCSP request");
		goto out;
	}
	if (nonce && !OCSP_request_add1_nonce(req, NULL, -1)) {
		cc_err_openssl(err, "cannot add a nonce");
		goto out;
	}
	if ((len = i2d_OCSP_REQUEST(req, &reqder)) <= 0) {
		cc_err_openssl(err, "cannot encode the OCSP request");
		goto out;
	}
	if ((get = get_url(url, reqder, len)) != NULL)
		rc = cc_http_get(get, http, &resp, err);
	else
		rc = cc_http_post(url, "application/ocsp-request", reqder, (size_t)len, http,
		    &resp, err);
	if (rc == -1) {
		cc_err_prefix(err, "OCSP responder '%s'", url);
		goto out;
	}
	rc = -1;
	if (resp.status != 200) {
		cc_err_set(err, "OCSP responder '%s' answered HTTP %ld", url, resp.status);
		goto out;
	}
	if (cc_buf_append(der, resp.body.data, resp.body.len) == -1) {
		cc_err_set(err, "out of memory");
		goto out;
	}
	if (nonce && check_nonce(der, req, err) == -1)
		goto out;
	rc = 0;
out:
	cc_http_response_free(&resp);
	free(get);
	OPENSSL_free(reqder);
	OCSP_REQUEST_free(req);
	ERR_clear_error();
	return rc;
}
