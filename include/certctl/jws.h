/* JSON Web Signatures for ACME (RFC 7515, RFC 8555 section 6.2). */
#ifndef CERTCTL_JWS_H
#define CERTCTL_JWS_H

#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "certctl/buf.h"
#include "certctl/log.h"

/* base64url without padding, appended to OUT. */
int cc_b64url(const void *data, size_t len, struct cc_buf *out);
/* Decode base64url (padding optional) into OUT. */
int cc_b64url_decode(const char *text, struct cc_buf *out);

/* The public JWK of KEY (EC P-256/P-384 or RSA), members in RFC 7638 order. */
json_t *cc_jwk(EVP_PKEY *key);
/* base64url SHA-256 thumbprint of the JWK (RFC 7638). */
int cc_jwk_thumbprint(EVP_PKEY *key, struct cc_buf *out);

/*
 * A flattened JWS: protected header {alg, nonce, url, kid | jwk}, payload
 * (NULL: empty, for POST-as-GET). With KID NULL the JWK is embedded;
 * with NONCE NULL the header has none (the inner JWS of a key change).
 */
int cc_jws_sign(EVP_PKEY *key, const char *kid, const char *nonce, const char *url,
    const json_t *payload, struct cc_buf *out, struct cc_err *err);

/* The external account binding object (HS256 over the account JWK). */
json_t *cc_jws_eab(EVP_PKEY *account_key, const char *kid, const char *hmac_b64url,
    const char *url, struct cc_err *err);

#endif
