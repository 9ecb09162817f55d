/*
 * tls-alpn-01 (RFC 8737) for the challenge listener of challenge.c: the
 * certificates to present and the TLS handshake on an accepted
 * connection. Internal to src/.
 */
#ifndef CERTCTL_ALPN_H
#define CERTCTL_ALPN_H

#include "certctl/log.h"

struct cc_alpn;

int cc_alpn_new(struct cc_alpn **out, struct cc_err *err);
void cc_alpn_free(struct cc_alpn *alpn);

/* Present a certificate for IDENTIFIER (a DNS name or an address, whose
 * SNI is then its reverse-DNS name) proving KEYAUTH; thread-safe. */
int cc_alpn_set(struct cc_alpn *alpn, const char *identifier, const char *keyauth,
    struct cc_err *err);
void cc_alpn_clear(struct cc_alpn *alpn, const char *identifier);

/* One TLS handshake on FD, refused unless it asks for ALPN acme-tls/1 and
 * a name being validated; FD stays open. */
void cc_alpn_serve(struct cc_alpn *alpn, int fd);

#endif
