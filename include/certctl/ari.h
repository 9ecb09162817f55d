/*
 * ACME Renewal Information (RFC 9773): the CA's suggested renewal window
 * for a certificate, asked for at the pace the CA sets with Retry-After.
 */
#ifndef CERTCTL_ARI_H
#define CERTCTL_ARI_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "certctl/buf.h"
#include "certctl/config.h"
#include "certctl/log.h"

#define CC_ARI_RETRY_DEFAULT (6 * 3600)
#define CC_ARI_RETRY_MIN 3600
#define CC_ARI_RETRY_MAX 86400

struct cc_ari {
	time_t start;           /* renew at a random time in [start, end) */
	time_t end;
	long retry_after;       /* seconds until the next question, clamped */
};

/* The certificate's ARI identifier: base64url(AKI keyIdentifier) "."
 * base64url(serial number octets). */
int cc_ari_cert_id(X509 *cert, struct cc_buf *out, struct cc_err *err);

/* Parse a renewalInfo answer (JSON) and its Retry-After header (NULL
 * when absent). */
int cc_ari_parse(const void *body, size_t len, const char *retry_after, struct cc_ari *ari,
    struct cc_err *err);

/* GET BASE/CERT_ID with SRC's trust and timeouts. */
int cc_ari_fetch(const struct cc_source *src, const char *base, const char *cert_id,
    struct cc_ari *ari, struct cc_err *err);

#endif
