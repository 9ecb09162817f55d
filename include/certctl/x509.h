/*
 * The certificate model: reading certificates and keys in whatever shape
 * operators have them, the facts that decisions are made on, key/cert
 * matching, chain ordering and chain verification.
 */
#ifndef CERTCTL_X509_H
#define CERTCTL_X509_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "certctl/buf.h"
#include "certctl/log.h"

/*
 * Every certificate in BUF: PEM blocks in any order with anything between
 * them (CRLF too), or one DER certificate, or DER certificates back to
 * back. A PEM block that is cut short or does not decode is an error, so
 * is a buffer with no certificate at all.
 */
int cc_certs_parse(const void *buf, size_t len, STACK_OF(X509) **out, struct cc_err *err);

/* 1 when the certificate blocks of the PEM text BUF are exactly LEAF
 * followed by CHAIN (compared as DER, without decoding certificates);
 * 0 when they differ or do not decode. Other blocks (keys) are skipped. */
int cc_bundle_equals(const void *buf, size_t len, X509 *leaf, STACK_OF(X509) *chain);

/*
 * A memo of parsed bundles, keyed by their bytes, shared by threads:
 * a certdir with thousands of names has a handful of distinct chain.pem
 * files, and decoding a certificate costs far more than comparing bytes.
 */
struct cc_cert_cache;
struct cc_cert_cache *cc_cert_cache_new(void);
void cc_cert_cache_free(struct cc_cert_cache *cache);
/* As cc_certs_parse; CACHE may be NULL. */
int cc_certs_parse_cached(struct cc_cert_cache *cache, const void *buf, size_t len,
    STACK_OF(X509) **out, struct cc_err *err);

/* A private key in PEM (PKCS#8 or traditional, encrypted with PASSWORD)
 * or DER. PASSWORD may be NULL. */
int cc_key_parse(const void *buf, size_t len, const char *password, EVP_PKEY **out,
    struct cc_err *err);

/* A PKCS#12 file: its key and its certificates (leaf first when known). */
int cc_pkcs12_parse(const void *buf, size_t len, const char *password, EVP_PKEY **key,
    STACK_OF(X509) **certs, struct cc_err *err);

/* 1 when the certificate's public key is KEY's public key. */
int cc_key_matches(X509 *cert, EVP_PKEY *key);

/* 0 when KEY's public half is the one its private half makes (a key
 * read from a file carries both, and nothing else ties them together);
 * cheap: a few bignum operations for RSA, one point multiplication for EC. */
int cc_key_consistent(EVP_PKEY *key, struct cc_err *err);

/* "EC P-256", "RSA 2048", "ED25519"; bits is the security-relevant size. */
void cc_key_describe(EVP_PKEY *key, char *buf, size_t len, int *bits);

/* Hex SHA-256 of the DER SubjectPublicKeyInfo (lowercase, 64 chars + NUL). */
int cc_key_spki_sha256(EVP_PKEY *key, char out[65]);

struct cc_cert_facts {
	char subject[256];      /* the CN, else the whole subject */
	char issuer[256];       /* the issuer's CN, else the whole issuer */
	char serial[128];       /* colon-separated hex */
	char sha256[96];        /* fingerprint, colon-separated hex */
	time_t not_before;
	time_t not_after;
	char **sans;            /* DNS and IP SANs (addresses in canonical text) */
	unsigned char *san_ip;  /* per SAN: 1 an iPAddress, 0 a dNSName */
	size_t nsans;
	int bad_sans;           /* malformed DNS/IP SANs (a NUL inside, a bad
	                         * length): counted, never in sans */
	char key[32];           /* "EC P-256", "RSA 2048", "ED25519" */
	int key_bits;
	char signature[64];     /* signature algorithm, OpenSSL's short name */
	int weak_signature;     /* MD5 or SHA-1 */
	char *ocsp_url;         /* first AIA OCSP URL, or NULL */
	char *ca_issuers_url;   /* first AIA caIssuers URL, or NULL */
	char *crl_url;          /* first CRL distribution point URL, or NULL */
	int must_staple;        /* TLS feature status_request */
	int is_ca;
	int self_signed;
};

int cc_cert_facts(X509 *cert, struct cc_cert_facts *facts, struct cc_err *err);
void cc_cert_facts_free(struct cc_cert_facts *facts);

/* 1 when DOMAIN (a name, *.wildcard or IP address) is covered by the
 * cert's SANs: a name by a dNSName, an address by an iPAddress SAN. */
int cc_cert_covers(X509 *cert, const char *domain);
int cc_facts_cover(const struct cc_cert_facts *facts, const char *domain);

/*
 * Pick the leaf of a bundle: the cert matching KEY when KEY is given,
 * else the one that issued no other cert in the bundle and is not a CA.
 * Returns a borrowed pointer or NULL.
 */
X509 *cc_bundle_leaf(STACK_OF(X509) *bundle, EVP_PKEY *key);

struct cc_chain_order {
	STACK_OF(X509) *chain;  /* issuer of the leaf first, then its issuer...; no root */
	int had_root;           /* a self-signed cert was in the pool (dropped) */
	int out_of_order;       /* the pool was not already leaf-issuer-... */
	int strays;             /* certs in the pool that are not on the path */
};

/* Order POOL (which may contain the leaf itself, roots, strays) into the
 * leaf's issuer path. The result owns references to its certs. */
int cc_chain_order(X509 *leaf, STACK_OF(X509) *pool, struct cc_chain_order *out,
    struct cc_err *err);
void cc_chain_order_free(struct cc_chain_order *order);

/* Trust anchors: a PEM file, or the system store when FILE is NULL. */
struct cc_trust;
int cc_trust_load(const char *file, struct cc_trust **out, struct cc_err *err);
void cc_trust_free(struct cc_trust *trust);

/*
 * Verify, at the current time, that LEAF chains through CHAIN (untrusted
 * certs, any order) to a trust anchor, for TLS server use. Every issuer on
 * the path must be valid now; the leaf's own dates are not checked here
 * (callers judge them with a clock-skew allowance, and check must not say
 * "chain broken" for an expired leaf). The verified path (leaf first,
 * anchor last) is returned in *path when non-NULL. On failure err carries
 * OpenSSL's reason.
 */
int cc_chain_verify(struct cc_trust *trust, X509 *leaf, STACK_OF(X509) *chain,
    STACK_OF(X509) **path, struct cc_err *err);

/*
 * The chain to install for LEAF, out of POOL (which may hold the leaf,
 * roots, strays, expired copies): the issuers of the path OpenSSL
 * verified, leaf's issuer first, without the leaf and the trust anchor.
 * Issuers are tried cross-signed before self-signed, valid now before not,
 * longest-lived first. *chain owns its references.
 */
int cc_chain_build(struct cc_trust *trust, X509 *leaf, STACK_OF(X509) *pool,
    STACK_OF(X509) **chain, struct cc_err *err);

/* Append the PEM text of CERT. */
int cc_cert_to_pem(X509 *cert, struct cc_buf *out);

/* "2027-02-20" */
void cc_format_date(time_t t, char *buf, size_t len);

#endif
