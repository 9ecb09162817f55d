/* Shared inside the x509 model: the trust store (chain, ocsp) and text search. */
#ifndef CERTCTL_X509_INTERNAL_H
#define CERTCTL_X509_INTERNAL_H

#include <stddef.h>

#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "certctl/log.h"

struct cc_trust {
	X509_STORE *store;
};

/* The first occurrence of needle in hay (not NUL-terminated), or NULL. */
const char *cc_find_bytes(const char *hay, size_t haylen, const char *needle);

/* Refuse a PKCS#12 whose MAC or visible encryptions ask for more
 * iterations than is sensible, before any of them is computed. */
int cc_pkcs12_bounds(const PKCS12 *p12, struct cc_err *err);

#endif
