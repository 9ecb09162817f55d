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

/* The source the session was opened for. */
const struct cc_source *cc_acme_source(const struct cc_acme *acme);

struct cc_acme_order {
	/* in */
	const char *replaces;   /* RFC 9773 certificate ID, or NULL */
	const char *profile;    /* ACME profile, or NULL: the CA's default */
	/* out, after a failure */
	int ca_failed;          /* the CA refused or failed (not a local problem) */
	int outage;             /* another CA may do: no answer, 5xx, 429, rateLimited */
	long retry_after;       /* the CA's Retry-After in seconds, or 0 */
};

/* What a session needs of the account: a new one made on first use (as
 * cc_acme_open), only an existing one (never made here), or none at all
 * (requests signed with another key, such as a revocation by the
 * certificate's own key). */
enum cc_acme_account { CC_ACME_REGISTER, CC_ACME_EXISTING, CC_ACME_NO_ACCOUNT };
int cc_acme_open_as(const struct cc_source *src, struct cc_store *store,
    enum cc_acme_account mode, struct cc_acme **out, struct cc_err *err);

/* Order a certificate for DOMAINS with CSR_PEM, answer the challenges,
 * and append the certificate chain (PEM, leaf first) to CHAIN. ORDER's
 * replaces names the certificate this one succeeds (sent only to a CA
 * that offers renewalInfo); its profile must be one the directory's
 * meta.profiles lists. Threads may issue through one session at once. */
int cc_acme_issue(struct cc_acme *acme, char *const *domains, size_t ndomains,
    const char *csr_pem, struct cc_acme_order *order, struct cc_buf *chain,
    struct cc_err *err);

/* After cc_acme_open failed in this thread: 1 when the CA failed or
 * refused (not a local problem such as the account key), with *OUTAGE 1
 * when it could not be reached or answered 5xx/429 (another CA may do),
 * and its Retry-After (seconds, 0: none) in *RETRY_AFTER. */
int cc_acme_open_failure(int *outage, long *retry_after);

#endif
