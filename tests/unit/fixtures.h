/*
 * A small in-process test PKI for the unit tests (OpenSSL 3 EVP API only).
 *
 * Keys and certificates are made in memory; every function returns NULL or
 * -1 on failure (the tests assert on that), never exits. Ownership: the
 * caller frees what a function returns (EVP_PKEY_free, X509_free, free()).
 *
 *   EVP_PKEY *ca_key = fx_key_ec();
 *   X509 *ca = fx_cert(ca_key, &(struct fx_cert_opts){ .cn = "Test Root", .ca = 1 });
 *   EVP_PKEY *key = fx_key_ec();
 *   X509 *leaf = fx_cert(key, &(struct fx_cert_opts){ .cn = "www.example.com",
 *       .issuer = ca, .issuer_key = ca_key,
 *       .sans = (const char *[]){ "www.example.com", NULL } });
 */
#ifndef CERTCTL_TEST_FIXTURES_H
#define CERTCTL_TEST_FIXTURES_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "certctl/buf.h"

#define FX_DAY 86400L

/* EC P-256, RSA of BITS bits, Ed25519. */
EVP_PKEY *fx_key_ec(void);
EVP_PKEY *fx_key_rsa(int bits);
EVP_PKEY *fx_key_ed25519(void);

struct fx_cert_opts {
	const char *cn;             /* subject CN (required) */
	X509 *issuer;               /* NULL: self-signed with the cert's own key */
	EVP_PKEY *issuer_key;       /* the issuer's key; required with issuer */
	long not_before;            /* seconds from now (negative: in the past) */
	long not_after;             /* seconds from now; 0 means 90 days */
	int ca;                     /* basicConstraints CA:TRUE + keyCertSign */
	const char *const *sans;    /* NULL-terminated; "name" is DNS:name, an entry
	                             * with a ':' ("IP:192.0.2.1") is used as given */
	int must_staple;            /* TLS feature status_request */
	const char *digest;         /* "SHA256" (default), "SHA1", ...; ignored
	                             * for Ed25519 signers */
	const char *ocsp_url;       /* AIA OCSP, or NULL */
	const char *ca_issuers_url; /* AIA caIssuers, or NULL */
	const char *crl_url;        /* CRL distribution point, or NULL */
	unsigned long serial;       /* 0: random 63-bit serial */
};

/* A v3 certificate for KEY's public key. Leaves (ca == 0) get CA:FALSE,
 * digitalSignature and serverAuth; every cert gets a SKI, issued ones an AKI. */
X509 *fx_cert(EVP_PKEY *key, const struct fx_cert_opts *opts);

/* Append encodings to OUT. */
int fx_cert_pem(X509 *cert, struct cc_buf *out);
int fx_cert_der(X509 *cert, struct cc_buf *out);

enum fx_key_format {
	FX_KEY_PKCS8_PEM,       /* "PRIVATE KEY"; "ENCRYPTED PRIVATE KEY" with a password */
	FX_KEY_TRAD_PEM,        /* "RSA PRIVATE KEY" / "EC PRIVATE KEY" (not Ed25519) */
	FX_KEY_PKCS8_DER,       /* PrivateKeyInfo; EncryptedPrivateKeyInfo with a password */
	FX_KEY_TRAD_DER,        /* RSAPrivateKey / ECPrivateKey (PKCS#8 for Ed25519) */
};
/* PASSWORD (AES-256-CBC) may be NULL; it is honoured for the PKCS#8 formats. */
int fx_key_write(EVP_PKEY *key, enum fx_key_format format, const char *password,
    struct cc_buf *out);

/* A PKCS#7 SignedData "certs-only" bundle of CERTS (what .p7b/.p7c files hold). */
int fx_pkcs7(STACK_OF(X509) *certs, int pem, struct cc_buf *out);

/* Write DATA to a new file under $TMPDIR (or /tmp); returns the malloc'd path.
 * The caller unlink()s and free()s it. */
char *fx_temp_file(const void *data, size_t len);

/* A new stack holding references to the NULL-terminated certs given. */
STACK_OF(X509) *fx_stack(X509 *first, ...);

#endif
