/* OCSP responses (RFC 6960) as staples: reading and verifying them. */
#ifndef CERTCTL_OCSP_H
#define CERTCTL_OCSP_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "certctl/buf.h"
#include "certctl/http.h"
#include "certctl/log.h"
#include "certctl/x509.h"

#define CC_OCSP_SKEW 300 /* seconds of clock skew allowed on thisUpdate */

enum cc_ocsp_status { CC_OCSP_GOOD, CC_OCSP_REVOKED, CC_OCSP_UNKNOWN };

struct cc_staple_info {
	enum cc_ocsp_status status;
	time_t this_update;
	time_t next_update;    /* 0 when the response has none */
	time_t revoked_at;
};

/*
 * Verify a DER OCSP response for LEAF (issued by ISSUER): successful,
 * signed by the issuer or its delegated responder, about LEAF, and inside
 * its validity window at NOW. A revoked or unknown status is reported in
 * out->status with a return of 0; any other problem returns -1.
 */
int cc_ocsp_response_verify(const void *der, size_t len, X509 *leaf, X509 *issuer,
    struct cc_trust *trust, time_t now, struct cc_staple_info *out, struct cc_err *err);

const char *cc_ocsp_status_name(enum cc_ocsp_status status);

/*
 * Ask the responder at URL about LEAF (RFC 5019 profile: SHA-1 CertID;
 * GET when the request fits in 255 bytes of base64, else POST). With
 * NONCE a nonce is sent and must come back. The raw response is appended
 * to DER; verify it with cc_ocsp_response_verify.
 */
int cc_ocsp_fetch(const char *url, X509 *leaf, X509 *issuer, int nonce,
    const struct cc_http_opts *http, struct cc_buf *der, struct cc_err *err);

#endif
