/*
 * An ACME client (RFC 8555): directory, nonces, account, orders,
 * authorizations, finalization and certificate download.
 */
#ifndef CERTCTL_ACME_H
#define CERTCTL_ACME_H

#include <stddef.h>

#include "certctl/buf.h"
#include "certctl/challenge.h"
#include "certctl/config.h"
#include "certctl/store.h"

struct cc_acme;

/* Fetch the directory and make sure an account exists (creating its key
 * under CERTDIR/.acme/SOURCE/ and the account itself on first use). */
int cc_acme_open(const struct cc_source *src, struct cc_store *store, struct cc_acme **out,
    struct cc_err *err);
void cc_acme_close(struct cc_acme *acme);

/* What a session needs of the account: a new one made on first use (as
 * cc_acme_open), only an existing one (never made here), or none at all
 * (requests signed with another key, such as a revocation by the
 * certificate's own key). */
enum cc_acme_account { CC_ACME_REGISTER, CC_ACME_EXISTING, CC_ACME_NO_ACCOUNT };
int cc_acme_open_as(const struct cc_source *src, struct cc_store *store,
    enum cc_acme_account mode, struct cc_acme **out, struct cc_err *err);

/* Order a certificate for DOMAINS with CSR_PEM, answer the challenges,
 * and append the certificate chain (PEM, leaf first) to CHAIN. REPLACES
 * (RFC 9773 certificate ID, or NULL) names the certificate this one
 * succeeds; sent only to a CA that offers renewalInfo. Threads may issue
 * through one session at once. */
int cc_acme_issue(struct cc_acme *acme, char *const *domains, size_t ndomains,
    const char *csr_pem, const char *replaces, struct cc_buf *chain, struct cc_err *err);

#endif
