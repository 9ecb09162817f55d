/*
 * Asking the CA whether a certificate is revoked, for `check --revocation`:
 * its OCSP responder when the certificate names one, else (or when the
 * responder cannot be reached) its CRL distribution point. Each CRL is
 * fetched once per run however many certificates it covers.
 */
#ifndef CERTCTL_REVOCATION_H
#define CERTCTL_REVOCATION_H

#include <time.h>

#include <openssl/x509.h>

#include "certctl/log.h"
#include "certctl/ocsp.h"
#include "certctl/x509.h"

enum cc_revocation_source { CC_REVOCATION_NONE, CC_REVOCATION_OCSP, CC_REVOCATION_CRL };

struct cc_revocation_answer {
	enum cc_revocation_source source;       /* NONE: the cert names neither */
	enum cc_ocsp_status status;
	time_t revoked_at;
};

/* One run's queries; safe to share between threads. */
struct cc_revocation;

/* TIMEOUT: seconds per request. NULL when out of memory. */
struct cc_revocation *cc_revocation_new(long timeout);
void cc_revocation_free(struct cc_revocation *rev);

/*
 * Ask about LEAF, issued by ISSUER (facts F of the leaf give the URLs).
 * A revoked or unknown status is an answer (0); a responder or CRL that
 * cannot be reached, parsed or trusted is an error (-1).
 */
int cc_revocation_query(struct cc_revocation *rev, X509 *leaf, X509 *issuer,
    const struct cc_cert_facts *f, struct cc_trust *trust, time_t now,
    struct cc_revocation_answer *out, struct cc_err *err);

const char *cc_revocation_source_name(enum cc_revocation_source source);

#endif
