/*
 * The identifiers a certificate may be asked for (config `domains`):
 * DNS names, wildcards and IP addresses (RFC 8738).
 */
#ifndef CERTCTL_DOMAIN_H
#define CERTCTL_DOMAIN_H

#include <stddef.h>

#include "certctl/log.h"

/* The longest identifier: a DNS name of 253 characters. */
#define CC_DOMAIN_MAX 253

enum cc_domain_kind { CC_DOMAIN_DNS, CC_DOMAIN_WILDCARD, CC_DOMAIN_IP };

/*
 * Check TEXT and write its normal form to OUT (OUTLEN at least
 * CC_DOMAIN_MAX + 1): a DNS name of LDH labels of 1 to 63 characters, 253
 * at most, lowercased, without a trailing dot, whose last label is not
 * all digits; "*." and such a name (a wildcard: '*' only as the whole
 * leftmost label); or an IPv4 or IPv6 address in its canonical text
 * (RFC 5952). Returns the kind, or -1 with ERR saying why (without
 * naming TEXT, which the caller quotes).
 */
int cc_domain_normalize(const char *text, char *out, size_t outlen, struct cc_err *err);

#endif
