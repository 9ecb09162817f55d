/*
 * What acme.c shares with the other ACME modules (revoke.c, account.c):
 * signed requests with any key, the session's directory and account.
 * Internal to src/.
 */
#ifndef CERTCTL_ACME_INTERNAL_H
#define CERTCTL_ACME_INTERNAL_H

#include <jansson.h>
#include <openssl/evp.h>

#include "certctl/acme.h"
#include "certctl/http.h"

/*
 * POST PAYLOAD (NULL: POST-as-GET) to URL as a JWS signed by KEY, with
 * KID (an account URL) or, when KID is NULL, KEY's JWK in the header. A
 * JSON answer lands in *BODY; an answer of HTTP 400 or more is an error
 * made by acme_problem ("acme: TYPE: DETAIL (HTTP N)"), *RESP freed.
 */
int acme_post_as(struct cc_acme *a, EVP_PKEY *key, const char *url, const json_t *payload,
    const char *kid, struct cc_http_response *resp, json_t **body, struct cc_err *err);

/* 1 when ERR is the CA's problem document of TYPE ("alreadyRevoked"). */
int acme_err_is(const struct cc_err *err, const char *type);

const char *acme_dir_url(struct cc_acme *a, const char *name);
json_t *acme_directory(struct cc_acme *a);
const struct cc_source *acme_source(struct cc_acme *a);
EVP_PKEY *acme_key(struct cc_acme *a);
/* The account URL, NULL in a session opened with CC_ACME_NO_ACCOUNT. */
const char *acme_kid(struct cc_acme *a);
/* Make KEY (owned from now on) the session's account key. */
int acme_replace_key(struct cc_acme *a, EVP_PKEY *key);

/* The URL of KEY's account (newAccount with onlyReturnExisting) in
 * *URL (malloc'd); the CA's accountDoesNotExist is an error. */
int acme_find_account(struct cc_acme *a, EVP_PKEY *key, char **url, struct cc_err *err);

/*
 * Finish or forget a key rollover that was cut short (account.c): when
 * .acme/SOURCE/account.key.new exists, the CA is asked whether it knows
 * that key; if so it becomes account.key (the session's key too), if not
 * it is removed. Returns 1 when it became the key, 0 when there was none
 * or it was removed, -1 when the CA cannot say (or on errors).
 */
int acme_settle_rollover(struct cc_acme *a, struct cc_store *store, struct cc_err *err);

#endif
