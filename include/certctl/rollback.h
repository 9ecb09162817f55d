/*
 * certctl rollback: make an earlier kept generation of a name live again,
 * verified first as an install is (DESIGN.md section 4), recorded in
 * .state/NAME.json so that a later download does not undo it.
 */
#ifndef CERTCTL_ROLLBACK_H
#define CERTCTL_ROLLBACK_H

#include <time.h>

#include <openssl/x509.h>

#include "certctl/install.h"
#include "certctl/store.h"

struct cc_rollback {
	unsigned from;          /* the live generation */
	unsigned to;            /* the generation to make live */
	time_t not_after;       /* of the certificate of TO */
	char serial[128];
};

/*
 * Choose the generation of NAME to make live: TO, or with TO 0 the newest
 * kept generation before the live one whose set differs from it. Returns
 * 1 when it is another generation than the live one, 0 when TO is already
 * live, -1 (ERR) when there is no live set or no such generation.
 */
int cc_rollback_pick(struct cc_store *store, const char *name, unsigned to,
    struct cc_rollback *rb, struct cc_err *err);

/*
 * Verify generation RB->to of NAME as an install would verify it (OPTS;
 * its dry_run, force and fetch are ignored): every file of the set
 * present and readable, key files no looser than key_mode, the key
 * matching cert.pem, fullchain.pem and combined.pem consistent with
 * cert.pem and chain.pem, the certificate valid now, the chain verifying
 * to a trusted root with no expired certificate on the way. Fills the
 * certificate's expiry and serial in RB.
 */
int cc_rollback_verify(struct cc_store *store, const char *name,
    const struct cc_install_opts *opts, struct cc_rollback *rb, struct cc_err *err);

/*
 * Record the rollback in .state/NAME.json ("rollback": from, to, at, and
 * the SHA-256 of the certificate rolled back from) and make RB->to live.
 * Returns as cc_store_make_live: 0, -1 nothing changed, 1 live with a
 * warning in ERR.
 */
int cc_rollback_apply(struct cc_store *store, const char *name, const struct cc_rollback *rb,
    time_t now, struct cc_err *err);

/* 1 when NAME's live generation is the one its last rollback made live. */
int cc_rollback_in_effect(struct cc_store *store, const char *name);

/* 1 when CERTS hold the certificate NAME's rollback in effect rolled back from. */
int cc_rollback_from_offered(struct cc_store *store, const char *name, STACK_OF(X509) *certs);

#endif
