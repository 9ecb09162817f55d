/*
 * The ACME account of a source: `certctl account show` (its URL, for a
 * CAA accounturi of RFC 8657, and its key's thumbprint) and `certctl
 * account rollover` (a new account key, RFC 8555 section 7.3.5). The key
 * is CERTDIR/.acme/SOURCE/account.key; after a rollover the old one is
 * kept as account.key.old, and account.key.new exists only while a
 * rollover is under way (or was cut short: the next session settles it).
 */
#ifndef CERTCTL_ACCOUNT_H
#define CERTCTL_ACCOUNT_H

#include <stddef.h>

#include "certctl/config.h"
#include "certctl/log.h"
#include "certctl/store.h"

struct cc_account_info {
	char *url;              /* the account URL (the JWS kid, CAA accounturi) */
	char thumbprint[64];    /* base64url SHA-256 of the key's JWK (RFC 7638) */
	char key[32];           /* "EC P-256", "RSA 3072" */
	char status[32];        /* the CA's word: "valid", "deactivated", "revoked" */
	char **contact;
	size_t ncontact;
	char *caa_identity;     /* the CA's first meta.caaIdentities, or NULL */
};

/* The existing account of SRC (never made here). */
int cc_account_show(struct cc_store *store, const struct cc_source *src,
    struct cc_account_info *info, struct cc_err *err);

/* Replace SRC's account key by a new one of its kind; INFO describes the
 * account after the change. The certdir must be open for writing. */
int cc_account_rollover(struct cc_store *store, const struct cc_source *src,
    struct cc_account_info *info, struct cc_err *err);

void cc_account_info_free(struct cc_account_info *info);

#endif
