/* A TLS connection to a running server, to see what it actually serves. */
#ifndef CERTCTL_PROBE_H
#define CERTCTL_PROBE_H

#include <openssl/x509.h>

#include "certctl/log.h"

/* Connect to HOSTPORT ("host:port", "[v6]:port") with SNI (none when SNI
 * is NULL: an IP-address certificate), asking for an OCSP staple; return
 * the served leaf and whether a staple came with it. The served chain is
 * not verified: the caller compares it. */
int cc_probe_tls(const char *hostport, const char *sni, int timeout, X509 **served,
    int *stapled, struct cc_err *err);

#endif
