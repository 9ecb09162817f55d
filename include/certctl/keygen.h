/* New private keys and CSRs (OpenSSL 3 EVP only). */
#ifndef CERTCTL_KEYGEN_H
#define CERTCTL_KEYGEN_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "certctl/buf.h"
#include "certctl/config.h"
#include "certctl/log.h"

/* Parse "rsa", "ec", "ed25519" (and check bits / curve ranges). */
int cc_key_spec_parse(const char *type, int bits, const char *curve, struct cc_key_spec *out,
    struct cc_err *err);

/* The spec of an existing key: same algorithm and size (RSA below 2048
 * bits grows to 2048); -1 when certctl cannot make a key of its kind. */
int cc_key_spec_of(EVP_PKEY *key, struct cc_key_spec *out);

/* 0 when KEY is of a kind certctl can make again (RSA 2048-16384, EC
 * P-256/P-384, Ed25519), so that a rekey keeps it; else -1 and why. */
int cc_key_supported(EVP_PKEY *key, struct cc_err *err);

/* cc_key_supported and cc_key_consistent: what every key certctl installs,
 * downloads a certificate for or makes must pass. */
int cc_key_usable(EVP_PKEY *key, struct cc_err *err);

/* "EC P-256", "RSA 3072", "ED25519" */
void cc_key_spec_describe(const struct cc_key_spec *spec, char *buf, size_t len);

int cc_keygen(const struct cc_key_spec *spec, EVP_PKEY **out, struct cc_err *err);

/* A SAN entry for DOMAIN: an iPAddress when it parses as an address,
 * else a dNSName; NULL when out of memory. */
GENERAL_NAME *cc_san_name(const char *domain);

/* PKCS#8 PEM of KEY appended to OUT. */
int cc_key_to_pem(EVP_PKEY *key, struct cc_buf *out, struct cc_err *err);

/* A CSR for DOMAINS (every one a SAN; CN the first DNS name of at most
 * 64 characters, none when there is no such name), signed by KEY with
 * SHA-256 (Ed25519: pure), as PEM appended to OUT. */
int cc_csr_make(EVP_PKEY *key, char *const *domains, size_t ndomains, struct cc_buf *out,
    struct cc_err *err);

#endif
