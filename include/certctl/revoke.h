/*
 * `certctl revoke`: ask a name's ACME CA to revoke its live certificate
 * (RFC 8555 section 7.6), signed by the account key or by the
 * certificate's own key (for a key that leaked), and keep what was done
 * in .state/NAME.json as "revoked" {serial, generation, at, reason, by,
 * source}, where check (CRITICAL) and download (due) find it.
 */
#ifndef CERTCTL_REVOKE_H
#define CERTCTL_REVOKE_H

#include <time.h>

#include <jansson.h>

#include "certctl/config.h"
#include "certctl/log.h"
#include "certctl/store.h"

/* The RFC 5280 CRLReason code of "keyCompromise" etc., or -1. */
int cc_revoke_reason(const char *text);
const char *cc_revoke_reason_name(int code);

struct cc_revoke_opts {
	const struct cc_config *cfg;
	int reason;             /* a CRLReason code, -1: none sent */
	int by_cert_key;        /* sign with the certificate's key, not the account's */
	int dry_run;            /* find the certificate, contact no CA */
	time_t now;
};

struct cc_revoke_result {
	char serial[128];
	char source[128];
	int already;            /* the CA said it was revoked before (an error) */
};

/* NAME's ACME source, or NULL with a configuration error. */
const struct cc_source *cc_revoke_source(const struct cc_config *cfg, const char *name,
    struct cc_err *err);

/* Revoke NAME's live certificate. A configuration problem (no ACME
 * source) sets err->config. */
int cc_revoke(struct cc_store *store, const char *name, const struct cc_revoke_opts *opts,
    struct cc_revoke_result *res, struct cc_err *err);

/* 1 when STATE records the revocation of the certificate with SERIAL
 * (or, SERIAL NULL, of live generation GENERATION); *AT and *REASON
 * (borrowed) may be NULL. */
int cc_revoke_recorded(json_t *state, const char *serial, unsigned generation, time_t *at,
    const char **reason);

#endif
